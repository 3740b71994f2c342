"""The JSON API on SQLite and PostgreSQL: roles, ingest, review flow, redaction per endpoint, CSRF."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from plugwatch.service import auth
from plugwatch.store import audit, users
from plugwatch.wiring import create_app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FORBIDDEN_FOR_REVIEWERS = ('"raw"', '"native_id"')


@pytest.fixture
def service(db_url, detector):
    app = create_app(db_url, detector=detector)
    tokens = {}
    with app.state.store.session() as s:
        for name, role in (("ann", "reviewer"), ("ben", "reviewer"), ("lea", "lead"), ("adm", "admin"),
                           ("law", "legal"), ("bot", "ingest")):
            tokens[name] = users.add_user(s, name, role)[1]
    with TestClient(app) as client:
        yield app, client, tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ingest_examples(client, token):
    with (EXAMPLES / "posts.jsonl").open("rb") as fh:
        r = client.post("/api/ingest", headers=bearer(token), files={"file": ("posts.jsonl", fh)})
    assert r.status_code == 200, r.text
    return r.json()


def test_health_and_authentication(service):
    _, client, tokens = service
    assert client.get("/healthz").json()["ok"] is True
    assert client.get("/api/queue").status_code == 401
    assert client.get("/api/queue", headers=bearer("not-a-token")).status_code == 401
    assert client.get("/api/queue", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/api/me", headers=bearer(tokens["law"])).json() == {"name": "law", "role": "legal"}
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize("who,method,path,allowed", [
    ("ann", "post", "/api/ingest", False), ("lea", "post", "/api/ingest", False), ("bot", "get", "/api/queue", False),
    ("law", "post", "/api/queue/claim", False), ("adm", "post", "/api/queue/claim", False),
    ("bot", "get", "/api/items/instagram:1002", False), ("ann", "get", "/api/export/decisions", False),
    ("bot", "get", "/api/stats", False), ("ann", "get", "/api/stats", True), ("law", "get", "/api/export/decisions", True),
    ("ann", "post", "/api/items/instagram:1002/appeal", False),
])
def test_every_route_checks_the_role(service, who, method, path, allowed):
    _, client, tokens = service
    r = getattr(client, method)(path, headers=bearer(tokens[who]), **({"json": {"reason": "x"}} if method == "post" else {}))
    assert (r.status_code != 403) == allowed, r.text


def test_ingest_formats_and_idempotence(service):
    _, client, tokens = service
    first = ingest_examples(client, tokens["bot"])
    assert first["read"] == first["stored"] == 20 and first["queued"] >= 5 and first["rejected"] == 0
    again = ingest_examples(client, tokens["adm"])
    assert again["stored"] == 0 and again["duplicates"] == 20 and again["queued"] == 0
    records = [json.loads(line) for line in (EXAMPLES / "x_search.jsonl").open()]
    r = client.post("/api/ingest", headers=bearer(tokens["bot"]), json=records)
    assert r.status_code == 200 and r.json()["stored"] == 6
    csv_body = (EXAMPLES / "forum_posts.csv").read_bytes()
    r = client.post("/api/ingest", headers={**bearer(tokens["bot"]), "Content-Type": "text/csv"}, content=csv_body)
    assert r.status_code == 200 and r.json()["stored"] > 0
    bad = [{"id": "g1", "text": "hello"}, {"no_text": True}, "not a record"]
    r = client.post("/api/ingest", headers=bearer(tokens["bot"]), json=bad)
    body = r.json()
    assert r.status_code == 200 and body["stored"] == 1 and body["rejected"] == 2
    assert [x["line"] for x in body["rejects"]] == [2, 3] and body["rejects"][0]["source"] == "request"
    r = client.post("/api/ingest", headers=bearer(tokens["bot"]), json=[{"nothing": 1}])
    assert r.status_code == 422 and r.json()["read"] == 0
    assert client.post("/api/ingest", headers=bearer(tokens["bot"]), json={"a": 1}).status_code == 422


def test_review_flow_and_redaction_per_endpoint(service):
    _, client, tokens = service
    ingest_examples(client, tokens["bot"])
    queue = client.get("/api/queue", headers=bearer(tokens["ann"]))
    assert queue.status_code == 200 and queue.json()
    assert not any(f in queue.text for f in FORBIDDEN_FOR_REVIEWERS)
    claimed = client.post("/api/queue/claim", headers=bearer(tokens["ann"]))
    assert claimed.status_code == 200
    view = claimed.json()
    item_id = view["item"]["id"]
    assert not any(f in claimed.text for f in FORBIDDEN_FOR_REVIEWERS)
    assert "item.raw" in view["redacted"] and view["reasons"]
    # Another reviewer cannot take or decide it.
    r = client.post("/api/queue/claim", headers=bearer(tokens["ben"]), json={"item_id": item_id})
    assert r.status_code == 409 and "claimed by ann" in r.json()["detail"]
    r = client.post(f"/api/items/{item_id}/decision", headers=bearer(tokens["ben"]),
                    json={"action": "remove", "policy_reason": "drug_sale"})
    assert r.status_code == 409
    r = client.post(f"/api/items/{item_id}/decision", headers=bearer(tokens["ann"]),
                    json={"action": "remove", "policy_reason": "drug_sale", "note": "menu with prices"})
    assert r.status_code == 200 and r.json()["action"] == "remove"
    for who in ("ann", "lea"):
        r = client.get(f"/api/items/{quote(item_id, safe='')}", headers=bearer(tokens[who]))
        assert r.status_code == 200 and not any(f in r.text for f in FORBIDDEN_FOR_REVIEWERS)
    full = client.get(f"/api/items/{item_id}", headers=bearer(tokens["law"])).json()
    assert full["item"]["raw"] and "native_id" in full["account"] and "redacted" not in full
    key = full["item"]["account_key"]
    acc = client.get(f"/api/accounts/{key}", headers=bearer(tokens["ann"]))
    assert acc.status_code == 200 and '"native_id"' not in acc.text and acc.json()["account"]["strikes"]["active"] == 1
    assert "native_id" in client.get(f"/api/accounts/{key}", headers=bearer(tokens["adm"])).json()["account"]
    # Appeal: filed by an admin, decided by a different reviewer.
    r = client.post(f"/api/items/{item_id}/appeal", headers=bearer(tokens["adm"]), json={"reason": "harm reduction"})
    assert r.status_code == 200
    assert client.post("/api/queue/claim", headers=bearer(tokens["ann"]), json={"item_id": item_id}).status_code == 403
    assert client.post("/api/queue/claim", headers=bearer(tokens["ben"]), json={"item_id": item_id}).status_code == 200
    r = client.post(f"/api/items/{item_id}/decision", headers=bearer(tokens["ben"]),
                    json={"action": "dismiss", "policy_reason": "harm_reduction"})
    assert r.status_code == 200 and r.json()["appeal_id"] is not None
    stats = client.get("/api/stats", headers=bearer(tokens["ann"])).json()
    assert stats["decisions"] == 2 and stats["open_appeals"] == 0
    export = client.get("/api/export/decisions", headers=bearer(tokens["law"]))
    assert export.status_code == 200 and len(export.text.strip().splitlines()) == 2
    app = service[0]
    with app.state.store.session() as s:
        assert audit.verify(s) is None
        actions = [e.action for e in s.query(audit.AuditEntry).order_by(audit.AuditEntry.seq)]
    mine = [a for a in actions if a in ("decision", "appeal", "export")]  # other stages audit their own steps
    assert mine == ["decision", "appeal", "decision", "export"]


def test_item_ids_with_slashes(service):
    _, client, tokens = service
    with (EXAMPLES / "bluesky_jetstream.jsonl").open("rb") as fh:
        client.post("/api/ingest", headers=bearer(tokens["bot"]), files={"file": ("b.jsonl", fh)})
    ids = [t["item_id"] for g in client.get("/api/queue", headers=bearer(tokens["ann"])).json() for t in g["tasks"]]
    at_uri = next(i for i in ids if "/" in i)
    r = client.post("/api/queue/claim", headers=bearer(tokens["ann"]), json={"item_id": at_uri})
    assert r.status_code == 200 and r.json()["item"]["id"] == at_uri
    r = client.post(f"/api/items/{quote(at_uri, safe=':')}/decision", headers=bearer(tokens["ann"]),
                    json={"action": "warn", "policy_reason": "drug_sale"})
    assert r.status_code == 200, r.text
    assert client.get(f"/api/items/{at_uri}", headers=bearer(tokens["ann"])).json()["decisions"][0]["action"] == "warn"


def _session_cookie(app, name: str) -> str:
    """A signed-in session for `name`, as the sign-in page would open it."""
    with app.state.store.session() as s:
        sid = users.open_session(s, users.get_user(s, name), auth.SESSION_SECONDS)
    return auth.cookie_value(app.state.secret, sid)


def test_cookie_sessions_need_csrf_on_unsafe_requests(service):
    app, client, tokens = service
    value = _session_cookie(app, "ann")
    client.cookies.set(auth.COOKIE, value)
    assert client.get("/api/me").json()["name"] == "ann"
    r = client.post("/api/queue/claim")
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = client.post("/api/queue/claim", headers={"X-CSRF-Token": "wrong"})
    assert r.status_code == 403
    good = auth.csrf_for(app.state.secret, value)
    assert client.post("/api/queue/claim", headers={"X-CSRF-Token": good}).status_code == 204  # empty queue
    # A token for another session does not pass, a forged cookie is no session, a machine cannot use cookies.
    other = auth.csrf_for(app.state.secret, _session_cookie(app, "ann"))
    assert client.post("/api/queue/claim", headers={"X-CSRF-Token": other}).status_code == 403
    client.cookies.set(auth.COOKIE, value[:-3] + "abc")
    assert client.get("/api/me").status_code == 401
    client.cookies.set(auth.COOKIE, _session_cookie(app, "bot"))
    assert client.get("/api/me").status_code == 401
    client.cookies.clear()
    # Token requests need no CSRF token.
    assert client.post("/api/queue/claim", headers=bearer(tokens["ann"])).status_code == 204


def test_authenticate_by_password_or_token(service):
    app, _, tokens = service
    with app.state.store.session() as s:
        users.set_password(s, "ann", "a long enough password")
        assert auth.authenticate(s, "ann", "a long enough password").name == "ann"
        assert auth.authenticate(s, "ann", tokens["ann"]).name == "ann"
        assert auth.authenticate(s, "ann", "wrong password") is None
        assert auth.authenticate(s, "nobody", "a long enough password") is None
        users.set_active(s, "ann", False)
        assert auth.authenticate(s, "ann", tokens["ann"]) is None


def test_policy_lists_the_reasons_each_action_accepts(service):
    _, client, tokens = service
    policy = client.get("/api/policy", headers=bearer(tokens["ann"])).json()
    fits = policy["action_reasons"]
    assert set(fits) == set(policy["actions"])
    assert fits["dismiss"] and not set(fits["dismiss"]) & set(fits["remove"])
    assert all(r in policy["policy_reasons"] for reasons in fits.values() for r in reasons)


def test_ingest_of_scan_output_keeps_the_ids(service, tmp_path):
    from typer.testing import CliRunner

    from plugwatch.cli import app as cli

    out = tmp_path / "scan.jsonl"
    result = CliRunner().invoke(cli, ["scan", str(EXAMPLES / "mastodon_timeline.json"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    _, client, tokens = service
    with (EXAMPLES / "mastodon_timeline.json").open("rb") as fh:
        first = client.post("/api/ingest", headers=bearer(tokens["bot"]), files={"file": ("timeline.json", fh)}).json()
    assert first["stored"] == 5
    r = client.post("/api/ingest", headers=bearer(tokens["bot"]), content=out.read_bytes())
    assert r.status_code == 200 and r.json()["stored"] == 0 and r.json()["duplicates"] == 5, r.text
    records = [json.loads(line) for line in out.open()]
    r = client.post("/api/ingest", headers=bearer(tokens["adm"]), json=records)
    assert r.status_code == 200 and r.json()["duplicates"] == 5
    item = client.get(f"/api/items/{quote(records[0]['id'], safe='')}", headers=bearer(tokens["adm"]))
    assert item.status_code == 200 and item.json()["item"]["account_key"] == records[0]["author"]


def test_a_reviewer_cannot_overturn_a_leads_suspension_on_appeal(service):
    _, client, tokens = service
    ingest_examples(client, tokens["bot"])
    item_id = client.post("/api/queue/claim", headers=bearer(tokens["lea"])).json()["item"]["id"]
    path = f"/api/items/{quote(item_id, safe='')}"
    r = client.post(f"{path}/decision", headers=bearer(tokens["lea"]), json={"action": "suspend", "policy_reason": "drug_sale"})
    assert r.status_code == 200, r.text
    assert client.post(f"{path}/appeal", headers=bearer(tokens["adm"]), json={"reason": "vitamins"}).status_code == 200
    # the appeal is the leads' from the start: a reviewer neither gets it from the queue nor claims it
    assert client.post("/api/queue/claim", headers=bearer(tokens["ann"])).json()["item"]["id"] != item_id
    r = client.post("/api/queue/claim", headers=bearer(tokens["ann"]), json={"item_id": item_id})
    assert r.status_code == 403 and "it needs a lead" in r.json()["detail"], r.text
    r = client.post(f"{path}/decision", headers=bearer(tokens["ann"]), json={"action": "warn", "policy_reason": "drug_sale"})
    assert r.status_code == 409 and "claim" in r.json()["detail"], r.text
    view = client.get(path, headers=bearer(tokens["lea"])).json()
    assert [d["action"] for d in view["decisions"]] == ["suspend"] and view["appeals"][0]["state"] == "open"


def test_full_record_reads_are_audited_redacted_ones_are_not(service):
    """Legal and admin get the record as received and platform ids: each such read is an audit entry.
    Reviewers' and leads' redacted reads are not (their claims and decisions are)."""
    app, client, tokens = service
    ingest_examples(client, tokens["bot"])
    item_id = client.post("/api/queue/claim", headers=bearer(tokens["ann"])).json()["item"]["id"]
    path = f"/api/items/{quote(item_id, safe='')}"
    key = client.get(path, headers=bearer(tokens["ann"])).json()["item"]["account_key"]
    client.get(path, headers=bearer(tokens["lea"]))
    client.get(f"/api/accounts/{key}", headers=bearer(tokens["lea"]))
    assert client.get(path, headers=bearer(tokens["law"])).json()["item"]["raw"]
    assert "native_id" in client.get(f"/api/accounts/{key}", headers=bearer(tokens["adm"])).json()["account"]
    assert client.get("/api/items/x:no-such-item", headers=bearer(tokens["law"])).status_code == 404
    with app.state.store.session() as s:
        assert audit.verify(s) is None
        reads = [(e.actor, e.action, e.subject, e.details) for e in s.query(audit.AuditEntry)
                 .order_by(audit.AuditEntry.seq) if e.action in ("item.view", "account.view")]
    assert reads == [("law", "item.view", f"item:{item_id}", {"via": "api"}),
                     ("adm", "account.view", f"account:{key}", {"via": "api"})]
