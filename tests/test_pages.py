"""The review pages through FastAPI's TestClient: sign-in, CSRF, roles, the no-JS flow, htmx fragments,
evidence highlighting and escaping. Every test runs on SQLite and on PostgreSQL (`db_url`)."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from plugwatch.store import review, users
from plugwatch.store.schema import AuditEntry, Decision, ReviewTask
from plugwatch.wiring import create_app

PASSWORD = "correct horse battery"


def record(n: int, author: str, text: str, *, score: float = 0.97, kind: str | None = "offer", **extra) -> dict:
    rec = {
        "id": f"x:{n}", "platform": "x", "item_kind": "post", "author": f"x:{author}",
        "created_at": "2025-03-02T10:00:00Z", "text": text, "url": None, "reply_to": None,
        "identifiers": [], "score": score, "flagged": score >= 0.5, "kind": kind, "drugs": ["opioid"],
        "reasons": [], "account": {"handle": author, "display_name": author.title(), "bio": None, "followers": 10},
    }
    rec.update(extra)
    return rec


TEXT = "blues M30 $25 each, tele: @pill_plug"
RECORDS = [
    record(1, "pill_plug", TEXT, reasons=[
        {"signal": "drug_term", "meaning": "'blues' = fentanyl pill", "text": "blues", "span": [0, 5]},
        {"signal": "drug_term", "meaning": "'M30' = counterfeit oxycodone", "text": "M30", "span": [6, 9]},
        {"signal": "commerce", "meaning": "price", "text": "$25", "span": [10, 13]},
        {"signal": "identifier", "meaning": "Telegram contact", "text": "@pill_plug", "span": [26, 36]},
        {"signal": "drug_term", "meaning": "'plug' = dealer", "text": "plug", "span": [32, 36]},
        {"signal": "commerce", "meaning": "menu: 1 priced line"},
    ], identifiers=[{"type": "telegram", "value": "@pill_plug", "canonical": "telegram:pill_plug", "valid": True,
                     "span": [26, 36]}], raw={"user": {"email": "owner@mail.example"}}),
    record(2, "pill_plug", "restocked, same menu, dm", score=0.91),
    record(3, "other_guy", "who has percs near me??", score=0.4, kind="request"),
    record(4, "baker", "fresh bread today", score=0.01, kind=None),  # not flagged: not queued
]


@pytest.fixture
def site(db_url):
    app = create_app(db_url, media_hosts="cdn.example")
    store = app.state.store
    with store.session() as s:
        for name, role in (("rita", "reviewer"), ("rolf", "reviewer"), ("lena", "lead"), ("adam", "admin"),
                           ("lily", "legal")):
            users.add_user(s, name, role, PASSWORD)
        users.add_user(s, "feeder", "ingest")
        review.ingest_records(s, RECORDS)
    yield app
    store.dispose()


def client(app) -> TestClient:
    return TestClient(app, follow_redirects=False)


def sign_in(app, name: str) -> TestClient:
    c = client(app)
    page = c.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    r = c.post("/login", data={"name": name, "password": PASSWORD, "login_token": token, "next": "/"})
    assert r.status_code == 303, r.text
    return c


def csrf(c: TestClient) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', c.get("/").text).group(1)


def url(item_id: str, suffix: str = "") -> str:
    return f"/items/{quote(item_id, safe='')}{suffix}"


def task_state(app, item_id: str) -> str:
    with app.state.store.session() as s:
        return s.scalar(select(ReviewTask.state).where(ReviewTask.item_id == item_id))


def pending(c: TestClient) -> int:
    return int(re.search(r'data-stat="pending">(\d+)<', c.get("/fragments/stats").text).group(1))


def test_pages_need_sign_in_and_sign_in_works(site):
    c = client(site)
    r = c.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2F"
    r = c.get(url("x:1"))
    assert r.status_code == 303 and r.headers["location"] == "/login?next=" + quote(url("x:1"), safe="")
    assert c.get("/fragments/stats").status_code == 303
    # htmx polling with an expired session: the browser is sent to the sign-in page
    r = c.get("/fragments/stats", headers={"HX-Request": "true"})
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith("/login")

    page = c.get("/login?next=" + quote(url("x:1"), safe=""))
    assert page.status_code == 200 and 'name="password"' in page.text
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    form = {"name": "rita", "password": "wrong password!", "login_token": token, "next": url("x:1")}
    r = c.post("/login", data=form)
    assert r.status_code == 401 and "Wrong name or password" in r.text and "pw_session" not in r.cookies
    token = re.search(r'name="login_token" value="([^"]+)"', r.text).group(1)
    r = c.post("/login", data={**form, "password": PASSWORD, "login_token": token})
    assert r.status_code == 303 and r.headers["location"] == url("x:1")
    assert c.get(url("x:1")).status_code == 200
    r = c.get("/")
    assert r.status_code == 200 and "rita · reviewer" in r.text
    assert r.headers["cache-control"] == "no-store" and "script-src 'self'" in r.headers["content-security-policy"]

    r = c.post("/logout", data={"csrf_token": csrf(c)})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert c.get("/").status_code == 303


def test_sign_in_form_needs_its_own_token_and_refuses_machines_and_open_redirects(site):
    c = client(site)
    # A form posted from elsewhere has no sign-in cookie/token pair: login CSRF is refused.
    r = c.post("/login", data={"name": "rita", "password": PASSWORD, "login_token": "forged"})
    assert r.status_code == 403 and "pw_session" not in r.cookies
    page = c.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    r = c.post("/login", data={"name": "feeder", "password": "x" * 12, "login_token": token})
    assert r.status_code == 401  # a machine has no password
    token = re.search(r'name="login_token" value="([^"]+)"', r.text).group(1)
    r = c.post("/login", data={"name": "rita", "password": PASSWORD, "login_token": token, "next": "//evil.example/"})
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_unsafe_requests_without_csrf_token_are_refused(site):
    c = sign_in(site, "rita")
    r = c.post(url("x:1", "/claim"))
    assert r.status_code == 403 and "CSRF" in unescape(r.text)
    assert c.post(url("x:1", "/claim"), data={"csrf_token": "not-the-token"}).status_code == 403
    assert c.post("/queue/next", data={}).status_code == 403
    assert c.post("/logout").status_code == 403
    assert task_state(site, "x:1") == "pending"
    # the header form (what htmx sends) works like the form field
    r = c.post(url("x:1", "/claim"), headers={"X-CSRF-Token": csrf(c)})
    assert r.status_code == 303 and task_state(site, "x:1") == "claimed"
    # htmx would swap nothing on a 403: the refusal is shown in the item panel instead
    r = c.post(url("x:2", "/claim"), headers={"HX-Request": "true", "HX-Target": "item-panel"})
    assert r.status_code == 200 and r.headers["HX-Retarget"] == "#item-panel" and "CSRF" in r.text
    assert task_state(site, "x:2") == "pending"
    # one user's token is not another's
    other = sign_in(site, "rolf")
    assert other.post(url("x:2", "/claim"), data={"csrf_token": csrf(c)}).status_code == 403


def test_the_help_and_the_empty_panel_offer_only_what_the_role_can_do(site):
    """Legal's queue page said 'claim the next one (n)' and every page's key list offered all six
    actions, suspend and refer to reviewers too, who got nothing for pressing them."""
    def help_keys(page):
        dialog = re.search(r'<dialog id="help".*?</dialog>', page, re.S).group(0)
        return re.findall(r"<kbd>(\w)</kbd></td>", dialog)

    reviewer = sign_in(site, "rita").get("/").text
    assert help_keys(reviewer) == ["k", "n", "c", "u", "d", "r", "w", "e", "p", "i"]
    assert "claim the next one" in reviewer
    assert help_keys(sign_in(site, "lena").get("/").text) == ["k", "n", "c", "u", "d", "r", "w", "s", "l", "p", "i"]
    legal = sign_in(site, "lily").get("/").text
    assert help_keys(legal) == ["i"] and "claim the next one" not in legal and "/items/ID" in legal


def test_roles_decide_what_each_page_offers(site):
    admin = sign_in(site, "adam")
    page = admin.get("/")
    assert page.status_code == 200 and "does not work the review queue" in page.text
    assert 'data-stat="pending">3<' in page.text  # x:1, x:2 and the request x:3
    assert admin.post(url("x:1", "/claim"), data={"csrf_token": csrf(admin)}).status_code == 403
    assert admin.get("/appeals").status_code == 200
    item = admin.get(url("x:1"))
    assert item.status_code == 200 and 'name="action"' not in item.text and "Hidden for your role" not in item.text
    assert "owner@mail.example" in item.text  # admin and legal see the record as received

    legal = sign_in(site, "lily")
    assert legal.get("/fragments/stats").status_code == 403
    assert legal.get("/appeals").status_code == 403
    assert "owner@mail.example" in legal.get(url("x:1")).text

    with site.state.store.session() as s:  # the full records they saw are audited
        reads = [(e.actor, e.action, e.subject, e.details) for e in s.scalars(select(AuditEntry)
                 .where(AuditEntry.action == "item.view").order_by(AuditEntry.seq))]
    assert reads == [("adam", "item.view", "item:x:1", {"via": "pages"}),
                     ("lily", "item.view", "item:x:1", {"via": "pages"})]

    rita = sign_in(site, "rita")
    assert rita.get("/appeals").status_code == 403
    r = rita.post("/appeals", data={"csrf_token": csrf(rita), "item_id": "x:1", "reason": "please"})
    assert r.status_code == 403 and task_state(site, "x:1") == "pending"
    page = rita.get("/")
    assert all(f'data-item-id="x:{n}"' in page.text for n in (1, 2, 3)) and 'data-item-id="x:4"' not in page.text
    item = rita.get(url("x:1"))
    assert "Hidden for your role: item.raw" in item.text and "owner@mail.example" not in item.text
    assert rita.get(url("x:999")).status_code == 404
    with site.state.store.session() as s:  # a reviewer's redacted read is not a full-record read
        assert s.scalar(select(AuditEntry.seq).where(AuditEntry.actor == "rita", AuditEntry.action == "item.view")) is None


def test_reviewer_works_the_queue_with_plain_forms(site):
    c = sign_in(site, "rita")
    token = csrf(c)
    assert pending(c) == 3
    r = c.post("/queue/next", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == url("x:1")  # highest priority first
    item = c.get(url("x:1")).text
    assert 'class="decide"' in item and "You hold this item" in item
    # the verdict suggests a reason; reviewer actions only (suspend and refer are for leads)
    assert re.search(r'<option value="drug_sale" data-group="violation" selected>', item)
    actions = re.findall(r'name="action" value="(\w+)"', item)
    assert actions == ["dismiss", "remove", "warn", "escalate"]

    decide = url("x:1", "/decide")
    r = c.post(decide, data={"csrf_token": token, "action": "remove", "policy_reason": ""})
    assert r.status_code == 422 and "Choose the policy reason" in r.text
    r = c.post(decide, data={"csrf_token": token, "action": "dismiss", "policy_reason": "drug_sale"})
    assert r.status_code == 422 and "does not fit" in unescape(r.text)
    r = c.post(decide, data={"csrf_token": token, "action": "suspend", "policy_reason": "drug_sale"})
    assert r.status_code == 403 and "needs the role lead" in r.text
    assert task_state(site, "x:1") == "claimed"

    r = c.post(decide, data={"csrf_token": token, "action": "remove", "policy_reason": "drug_sale", "note": "menu"})
    assert r.status_code == 303 and r.headers["location"] == "/"
    page = c.get("/").text
    assert "x:1: removed (offers controlled substances for sale)." in page
    assert 'data-item-id="x:1"' not in page and pending(c) == 2
    assert "x:1: removed" not in c.get("/").text  # a flash shows once
    with site.state.store.session() as s:
        d = s.scalars(select(Decision)).one()
        assert (d.action, d.policy_reason, d.note) == ("remove", "drug_sale", "menu")
    decided = c.get(url("x:1")).text
    assert "1 active" in decided and "<td>drug_sale</td>" in decided and 'class="decide"' not in decided

    # the next claim prefers the same seller: x:2 of pill_plug
    r = c.post("/queue/next", data={"csrf_token": token})
    assert r.headers["location"] == url("x:2")
    r = c.post(url("x:2", "/release"), data={"csrf_token": token})
    assert r.status_code == 303 and task_state(site, "x:2") == "pending"


def test_claimed_item_is_locked_for_others(site):
    rita, rolf = sign_in(site, "rita"), sign_in(site, "rolf")
    assert rita.post(url("x:1", "/claim"), data={"csrf_token": csrf(rita)}).status_code == 303
    page = rolf.get(url("x:1")).text
    assert "Claimed by <strong>rita</strong>" in page and 'class="decide"' not in page
    r = rolf.post(url("x:1", "/claim"), data={"csrf_token": csrf(rolf)})
    assert r.status_code == 409 and "claimed by rita" in r.text
    r = rolf.post(url("x:1", "/decide"), data={"csrf_token": csrf(rolf), "action": "remove", "policy_reason": "drug_sale"})
    assert r.status_code == 409 and task_state(site, "x:1") == "claimed"


def test_htmx_gets_fragments_and_out_of_band_updates(site):
    c = sign_in(site, "rita")
    token = csrf(c)
    hx = {"HX-Request": "true", "HX-Target": "item-panel", "X-CSRF-Token": token}
    r = c.get(url("x:1"), headers=hx)
    assert r.status_code == 200 and r.text.lstrip().startswith('<section id="item-panel"') and "<html" not in r.text
    r = c.post(url("x:1", "/claim"), headers=hx)
    assert r.status_code == 200 and r.text.lstrip().startswith('<section id="item-panel"')
    assert 'class="decide"' in r.text
    assert '<div id="queue" hx-swap-oob="outerHTML">' in r.text and 'hx-swap-oob="outerHTML">' in r.text
    r = c.post(url("x:1", "/decide"), headers=hx, data={"action": "remove", "policy_reason": "drug_sale"})
    assert r.status_code == 200 and "x:1: removed" in r.text
    oob_queue = r.text[r.text.index('<div id="queue"'):]
    assert 'data-item-id="x:1"' not in oob_queue and 'data-item-id="x:2"' in oob_queue
    assert re.search(r'data-stat="pending">2<', r.text)
    # a refused step answers 200 with the reason in the panel, so htmx shows it
    r = c.post(url("x:2", "/decide"), headers=hx, data={"action": "remove", "policy_reason": "drug_sale"})
    assert r.status_code == 200 and "claim x:2 before deciding it" in r.text and 'class="flash error"' in r.text
    # claim-next answers with the panel and the URL to show
    r = c.post("/queue/next", headers=hx)
    assert r.headers["HX-Push-Url"] == url("x:2") and 'data-current-item="x:2"' in r.text
    # a page-wide partial for the stats poll
    r = c.get("/fragments/stats", headers={"HX-Request": "true"})
    assert r.text.startswith('<dl id="stats"') and 'hx-trigger="every 10s"' in r.text


def test_evidence_is_highlighted_and_everything_is_escaped(site):
    evil = '<script>alert("t")</script> <img src=x onerror=alert(1)> buy blues'
    start = evil.index("blues")
    rec = record(50, "evil", evil, reasons=[
        {"signal": "drug_term", "meaning": '"><script>alert("m")</script>', "text": "blues", "span": [start, start + 5]},
        {"signal": "bio:cue", "meaning": "shipping", "text": "discreet", "span": [-1, -1]},
    ], account={"handle": "evil", "display_name": "<b onmouseover=alert(2)>Evil</b>",
                "bio": "discreet <script>alert(3)</script>", "followers": 1},
        media=[{"url": "javascript:alert(4)", "kind": "photo"}, {"url": "https://cdn.example/p.jpg", "kind": "photo"},
               {"url": "https://cdn.example/v.mp4", "kind": "video"}])
    with site.state.store.session() as s:
        review.ingest_records(s, [rec])
    page = sign_in(site, "rita").get(url("x:50")).text
    assert "<script>alert" not in page and "<img src=x" not in page and "<b onmouseover" not in page
    assert "javascript:" not in page
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in page
    mark = re.search(r'<mark class="hl hl-drug_term" title="([^"]*)" data-reasons="0">blues</mark>', page)
    assert mark and unescape(mark.group(1)) == '"><script>alert("m")</script>'
    assert re.search(r'<mark class="hl hl-cue" title="shipping" data-reasons="1">discreet</mark>', page)  # in the bio
    # the one acceptable image is there, blurred by default behind a reveal toggle
    assert page.count('class="blurred"') == 1 and 'data-src="https://cdn.example/p.jpg"' in page
    assert ' src="https://cdn.example' not in page, "nothing is fetched from the platform until asked"
    assert "Attachments not shown: photo, video." in page and "v.mp4" not in page


def test_overlapping_evidence_on_a_real_item_page(site):
    page = sign_in(site, "rita").get(url("x:1")).text
    text = re.search(r'<div class="item-text"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", unescape(text)) == TEXT
    marks = re.findall(r'<mark [^>]*data-reasons="([\d ]+)">([^<]*)</mark>', text)
    assert marks == [("0", "blues"), ("1", "M30"), ("2", "$25"), ("3", "@pill_"), ("3 4", "plug")]
    assert "menu: 1 priced line" in page  # a reason without a span is listed, not highlighted
    assert "telegram:pill_plug" in page and "Pill_Plug" in page
    # the trafficking techniques behind the evidence: a Telegram contact routes the buyer off-platform
    tactics = re.search(r'<p class="tactics">(.*?)</p>', page, re.S).group(1)
    assert "PWT-004 Encrypted messenger contact" in tactics and "route-off-platform" in tactics


def test_escalation_and_appeal_reach_a_different_person(site):
    rita, lena = sign_in(site, "rita"), sign_in(site, "lena")
    t = csrf(rita)
    rita.post(url("x:1", "/claim"), data={"csrf_token": t})
    r = rita.post(url("x:1", "/decide"), data={"csrf_token": t, "action": "escalate", "policy_reason": "needs_lead"})
    assert r.status_code == 303 and task_state(site, "x:1") == "escalated"
    assert "needs lead" in lena.get("/").text
    assert 'data-item-id="x:1"' not in rita.get("/").text  # escalated: a reviewer no longer sees it

    tl = csrf(lena)
    assert lena.post(url("x:1", "/claim"), data={"csrf_token": tl}).status_code == 303
    item = lena.get(url("x:1")).text
    assert re.findall(r'name="action" value="(\w+)"', item) == ["dismiss", "remove", "warn", "suspend", "refer"]
    r = lena.post(url("x:1", "/decide"), data={"csrf_token": tl, "action": "suspend", "policy_reason": "drug_sale"})
    assert r.status_code == 303 and task_state(site, "x:1") == "decided"
    assert "Suspended" in lena.get(url("x:1")).text

    r = lena.post("/appeals", data={"csrf_token": tl, "item_id": "x:1", "reason": "it was a joke"})
    assert r.status_code == 303 and task_state(site, "x:1") == "appealed"
    appeals = lena.get("/appeals").text
    assert "it was a joke" in appeals and "suspend (drug_sale) by lena" in appeals
    assert "x:1 is back in the queue for a different lead." in appeals
    # the lead who decided may not take the appeal; nor a reviewer, who could neither uphold nor overturn
    # a suspension (a lead's action): it goes to another lead at once
    assert lena.post(url("x:1", "/claim"), data={"csrf_token": tl}).status_code == 403
    assert 'data-item-id="x:1"' not in rita.get("/").text
    r = rita.post(url("x:1", "/claim"), data={"csrf_token": t})
    assert r.status_code == 403 and "appeal of a lead&#39;s decision (suspend): it needs a lead" in r.text
    assert "This item is an appeal of a lead&#39;s decision (suspend): a lead decides this one." \
        in rita.get(url("x:1")).text
    with site.state.store.session() as s:
        users.add_user(s, "leon", "lead", PASSWORD)
    leon = sign_in(site, "leon")
    tn = csrf(leon)
    assert leon.post(url("x:1", "/claim"), data={"csrf_token": tn}).status_code == 303
    r = leon.post(url("x:1", "/decide"), data={"csrf_token": tn, "action": "dismiss", "policy_reason": "not_drugs"})
    assert r.status_code == 303
    assert "overturned" in lena.get("/appeals").text
    # an appeal on an undecided item is refused with the reason
    r = lena.post("/appeals", data={"csrf_token": tl, "item_id": "x:2", "reason": "x"})
    assert r.status_code == 409 and "no final decision" in r.text


def test_linked_accounts_leave_out_links_through_generic_identifiers(site):
    def ident(type_, canonical):
        return {"type": type_, "value": canonical, "canonical": canonical, "valid": True, "span": [-1, -1]}

    shortener = ident("domain", "t.co")
    contact = ident("telegram", "telegram:pill_plug")
    with site.state.store.session() as s:
        review.ingest_records(s, [
            record(60, "councillor", "vote on tuesday https://t.co/abc", score=0.0, kind=None, identifiers=[shortener]),
            record(61, "pill_plug_backup", "new acct, same plug", identifiers=[contact, shortener]),
            record(62, "pill_plug", "menu at https://t.co/xyz", identifiers=[shortener]),
        ])
    page = sign_in(site, "rita").get(url("x:62")).text
    linked = page[page.index("Linked accounts"):page.index("History")]
    assert "x:pill_plug_backup" in linked and "telegram:pill_plug" in linked
    assert "x:councillor" not in linked and "<span class=\"mono small\">t.co</span>" not in linked
    # the store leaves accounts sharing only generic links out of the network view altogether
    assert "sharing only generic links" not in linked
