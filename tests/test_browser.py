"""The review pages in a real browser: Playwright driving Debian's Chromium against a live server.

A reviewer signs in, claims an item, acts on it with a click and another with a keyboard shortcut, and
sees the queue and its statistics update; images stay blurred until clicked; the same flow works with
JavaScript switched off. Runs on SQLite and PostgreSQL (`db_url`). Never downloads a browser: the
tests are skipped only when no Chromium is installed (set PLUGWATCH_CHROMIUM to use another binary).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.servers import free_port, serving

CHROMIUM = os.environ.get("PLUGWATCH_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "posts.jsonl"
PASSWORD = "correct horse battery"

pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"no Chromium at {CHROMIUM}")
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture
def live(db_url, detector):
    """A running service with the example posts ingested and a reviewer, on a free local port."""
    from plugwatch.service.ingest import ingest_paths
    from plugwatch.store import review, users
    from plugwatch.wiring import create_app

    port = free_port()
    # Attached images load only from configured media hosts: here the same server under another name.
    app = create_app(db_url, detector=detector, media_hosts="localhost")
    app.state.test_picture = f"http://localhost:{port}/static/no-such-picture.png"
    store = app.state.store
    with store.session() as s:
        users.add_user(s, "rita", "reviewer", PASSWORD)
    report = ingest_paths(store, detector, [str(EXAMPLES)])
    assert report.queued >= 5
    with store.session() as s:  # one post with a picture, to check it stays blurred
        review.ingest_records(s, [{
            "id": "x:pic", "platform": "x", "author": "x:pic_seller", "text": "new batch, pics in dm",
            "score": 0.2, "flagged": False, "kind": "request", "reasons": [], "identifiers": [],
            "media": [{"url": app.state.test_picture, "kind": "photo"}]}])
    with serving(app, port) as base:
        yield app, base


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _problems(page) -> list[str]:
    """Script errors and CSP violations seen by the page (a missing picture is expected, not a problem)."""
    seen: list[str] = []
    page.on("pageerror", lambda e: seen.append(f"pageerror: {e}"))
    page.on("console", lambda m: seen.append(m.text) if m.type == "error" and "404" not in m.text else None)
    return seen


def _sign_in(page, base: str) -> None:
    page.goto(base + "/")
    expect(page).to_have_url(base + "/login?next=%2F")
    page.fill("#name", "rita")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#queue")).to_be_visible()


def _pending(page) -> int:
    return int(page.locator('[data-stat="pending"]').inner_text())


def _decisions(app) -> list[tuple[str, str, str]]:
    from plugwatch.store.schema import Decision

    with app.state.store.session() as s:
        return [tuple(r) for r in s.execute(select(Decision.item_id, Decision.action, Decision.policy_reason)
                                            .order_by(Decision.id)).all()]


def test_reviewer_claims_and_acts_by_click_and_by_keyboard(live, browser):
    app, base = live
    page = browser.new_page()
    problems = _problems(page)
    _sign_in(page, base)
    before = _pending(page)
    assert before >= 5

    # Click: open the top item, claim it, remove it with a chosen policy reason.
    first = page.locator("#queue .row").first
    item_id = first.get_attribute("data-item-id")
    first.locator("a").click()
    panel = page.locator(f'#item-panel[data-current-item="{item_id}"]')
    expect(panel).to_be_visible()
    assert "/items/" in page.url  # htmx pushed the item's address
    expect(panel.locator("mark.hl").first).to_be_visible()  # evidence highlighted
    panel.get_by_role("button", name="Claim").click()
    expect(panel.locator("form.decide")).to_be_visible()
    expect(panel.locator("#policy_reason")).to_have_value("drug_sale")  # suggested from the verdict
    panel.locator("#policy_reason").select_option("counterfeit_pills")
    panel.get_by_role("button", name="Remove the item").click()
    expect(page.locator("#item-panel .flash.ok")).to_contain_text(f"{item_id}: removed")
    expect(page.locator(f'#queue [data-item-id="{item_id}"]')).to_have_count(0)
    expect(page.locator('[data-stat="pending"]')).to_have_text(str(before - 1))

    # Keyboard: n claims the next item; letters typed in the note do not act; a reason that does not fit
    # the action is refused in the page; d dismisses.
    page.locator("body").focus()
    page.keyboard.press("n")
    decide = page.locator("#item-panel form.decide")
    expect(decide).to_be_visible()
    second = page.locator("#item-panel").get_attribute("data-current-item")
    assert second and second != item_id
    page.locator("#note").click()
    page.keyboard.type("rd")
    expect(page.locator("#note")).to_have_value("rd")
    page.locator("#policy_reason").select_option("news_or_discussion")
    page.keyboard.press("Escape")  # leave the field: shortcuts are live again
    page.locator("body").focus()
    page.keyboard.press("r")
    expect(decide.locator(".reason-error")).to_contain_text("does not fit")
    assert _pending(page) == before - 1 and len(_decisions(app)) == 1
    expect(page.locator("#policy_reason")).to_be_focused()  # the refusal puts the reviewer on the reason
    page.keyboard.press("Escape")
    page.keyboard.press("d")
    expect(page.locator("#item-panel .flash.ok")).to_contain_text(f"{second}: dismissed")
    expect(page.locator(f'#queue [data-item-id="{second}"]')).to_have_count(0)
    expect(page.locator('[data-stat="pending"]')).to_have_text(str(before - 2))

    assert _decisions(app) == [(item_id, "remove", "counterfeit_pills"), (second, "dismiss", "news_or_discussion")]
    with app.state.store.session() as s:
        from plugwatch.store.schema import Decision

        assert s.scalar(select(Decision.note).where(Decision.item_id == second)) == "rd"
    assert problems == []


def test_navigation_help_and_blurred_images(live, browser):
    app, base = live
    page = browser.new_page()
    problems = _problems(page)
    _sign_in(page, base)
    rows = page.locator("#queue .row")
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class("row selected")
    expect(page.locator("#item-panel")).to_have_attribute("data-current-item", rows.nth(0).get_attribute("data-item-id"))
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class("row selected")
    expect(page.locator("#item-panel")).to_have_attribute("data-current-item", rows.nth(1).get_attribute("data-item-id"))
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class("row selected")
    page.keyboard.press("?")
    expect(page.locator("dialog#help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("dialog#help")).to_be_hidden()

    page.goto(base + "/items/x%3Apic")
    img = page.locator(".media img")
    blur = "el => getComputedStyle(el).filter"
    assert "blur" in img.evaluate(blur)
    assert img.get_attribute("src") is None, "not fetched before the reviewer asks"
    page.locator(".media label.blurred").click()
    assert img.get_attribute("src") == live[0].state.test_picture
    assert img.evaluate(blur) == "none"
    page.keyboard.press("i")  # i blurs every image again
    assert "blur" in img.evaluate(blur)
    assert problems == []


def test_the_core_flow_works_without_javascript(live, browser):
    app, base = live
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    _sign_in(page, base)
    before = _pending(page)
    page.get_by_role("button", name="Claim next").click()
    expect(page.locator("form.decide")).to_be_visible()
    item_id = page.locator("#item-panel").get_attribute("data-current-item")
    page.locator("#policy_reason").select_option("drug_sale")
    page.get_by_role("button", name="Warn the account").click()
    expect(page).to_have_url(base + "/")
    expect(page.locator(".flash.ok")).to_contain_text(f"{item_id}: account warned")
    expect(page.locator(f'#queue [data-item-id="{item_id}"]')).to_have_count(0)
    assert _pending(page) == before - 1
    assert _decisions(app) == [(item_id, "warn", "drug_sale")]
    context.close()
