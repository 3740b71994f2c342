// plugwatch review pages: keyboard shortcuts, policy-reason check, evidence hover.
// Plain script, no framework. Every feature here has a no-JS fallback in the HTML (links, forms, the
// `required` policy reason, the link that opens an image).
(function () {
  "use strict";

  function typing(el) {
    if (!el) return false;
    const tag = el.tagName;
    if (tag === "INPUT") return !["checkbox", "radio", "button", "submit", "reset"].includes(el.type);
    return tag === "SELECT" || tag === "TEXTAREA" || el.isContentEditable;
  }

  function rows() { return Array.from(document.querySelectorAll(".row[data-item-id]")); }

  function selectedIndex(list) {
    const i = list.findIndex((r) => r.classList.contains("selected"));
    if (i >= 0) return i;
    const panel = document.querySelector("[data-current-item]");
    const cur = panel ? panel.getAttribute("data-current-item") : null;
    return list.findIndex((r) => r.getAttribute("data-item-id") === cur);
  }

  function select(row, open) {
    rows().forEach((r) => r.classList.remove("selected"));
    if (!row) return;
    row.classList.add("selected");
    const link = row.querySelector("a");
    if (link) { link.focus({ preventScroll: true }); row.scrollIntoView({ block: "nearest" }); }
    if (open && link) link.click();
  }

  function move(step) {
    const list = rows();
    if (!list.length) return;
    let i = selectedIndex(list);
    i = i < 0 ? 0 : Math.min(list.length - 1, Math.max(0, i + step));
    select(list[i], true);
  }

  function clickShortcut(key) {
    // Buttons and links declare their own key; the first visible, enabled one wins.
    const els = document.querySelectorAll('[data-shortcut="' + key + '"]');
    for (const el of els) {
      if (el.disabled || el.offsetParent === null) continue;
      el.click();
      return true;
    }
    return false;
  }

  function reasonOk(form, button) {
    const select = form.querySelector("select[name=policy_reason]");
    const msg = form.querySelector(".reason-error");
    if (!select || !button) return true;
    const opt = select.selectedOptions[0];
    const allowed = (button.getAttribute("data-groups") || "").split(" ").filter(Boolean);
    let problem = "";
    if (!select.value) problem = "Choose a policy reason first.";
    else if (allowed.length && opt && !allowed.includes(opt.getAttribute("data-group")))
      problem = "“" + opt.textContent.trim() + "” does not fit the action “" + button.value + "”.";
    if (msg) msg.textContent = problem;
    if (problem) { select.focus(); return false; }
    return true;
  }

  // Capture phase: runs before htmx sees the submit, so a bad reason stops both paths.
  document.addEventListener("submit", function (e) {
    const form = e.target;
    if (!form.matches || !form.matches("form.decide")) return;
    if (!reasonOk(form, e.submitter)) { e.preventDefault(); e.stopPropagation(); }
  }, true);

  // Images are fetched only once the reviewer chooses to see them.
  function load(box) {
    const img = box.checked && box.nextElementSibling ? box.nextElementSibling.querySelector("img[data-src]") : null;
    if (img && !img.getAttribute("src")) img.setAttribute("src", img.dataset.src);
  }

  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("input.reveal")) load(e.target);
  });

  function toggleImages() {
    const boxes = Array.from(document.querySelectorAll("input.reveal"));
    const show = boxes.some((b) => !b.checked);
    boxes.forEach((b) => { b.checked = show; load(b); });
  }

  function help() {
    const d = document.getElementById("help");
    if (!d) return;
    if (d.open) d.close(); else d.showModal();
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    if (typing(e.target)) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    const k = e.key;
    const dialog = document.getElementById("help");
    if (dialog && dialog.open && k !== "?") return;  // the help is modal: no actions behind it
    let done = true;
    if (k === "j") move(1);
    else if (k === "k") move(-1);
    else if (k === "?") help();
    else if (k === "i") toggleImages();
    else if (k === "p") {
      const sel = document.querySelector('[data-shortcut-focus="p"]');
      if (sel && sel.offsetParent !== null) sel.focus(); else done = false;
    }
    else if (k === "o" || k === "Enter") {
      const list = rows();
      const i = selectedIndex(list);
      if (i >= 0 && document.activeElement === document.body) select(list[i], true);
      else done = false;
    } else done = /^[a-z]$/.test(k) && clickShortcut(k);
    if (done) e.preventDefault();
  });

  document.addEventListener("click", function (e) {
    const link = e.target.closest && e.target.closest("[data-open-help]");
    if (link) { e.preventDefault(); help(); }
  });

  // Evidence: pointing at a highlighted word lights up its reasons, and the other way round.
  function light(refs, on) {
    refs.forEach((r) => {
      document.querySelectorAll('tr[data-ref="' + r + '"]').forEach((el) => el.classList.toggle("active", on));
      document.querySelectorAll("mark[data-reasons]").forEach((m) => {
        if (m.getAttribute("data-reasons").split(" ").includes(r)) m.classList.toggle("active", on);
      });
    });
  }
  function refsOf(el) {
    const m = el.closest && el.closest("mark[data-reasons], tr[data-ref]");
    if (!m) return [];
    return m.hasAttribute("data-ref") ? [m.getAttribute("data-ref")] : m.getAttribute("data-reasons").split(" ");
  }
  document.addEventListener("mouseover", (e) => light(refsOf(e.target), true));
  document.addEventListener("mouseout", (e) => light(refsOf(e.target), false));

  // After htmx swaps the item panel, keep the queue selection on the item shown.
  document.addEventListener("htmx:afterSettle", function () {
    const list = rows();
    const panel = document.querySelector("[data-current-item]");
    if (!panel) return;
    const cur = panel.getAttribute("data-current-item");
    list.forEach((r) => r.classList.toggle("selected", r.getAttribute("data-item-id") === cur));
  });
})();
