"""The legal API: every endpoint refuses reviewers and leads, works for legal (and admin where allowed)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_evidence_support import decide, ingest, make_store, record, use_signing_key

from plugwatch.evidence.package import verify_package
from plugwatch.store.schema import AuditEntry
from plugwatch.store.users import reset_token

REQUEST = {"agency": "DEA Boston", "legal_basis": "subpoena", "reference": "DEA-1",
           "accounts": ["telegram:shop_one"], "identifiers": ["wickr:shop_one_1"]}


@pytest.fixture
def env(db_url, tmp_path, monkeypatch):
    from plugwatch.wiring import create_app

    use_signing_key(tmp_path / "keys", monkeypatch)  # exports are signed: the server finds its key in the env
    store = make_store(db_url)
    ingest(store, [record(1, idents=[("wickr", "wickr:shop_one_1")]), record(2, author="telegram:other")])
    decide(store, "telegram:1", "remove")
    decide(store, "telegram:2", "remove")
    with store.session() as s:
        tokens = {name: reset_token(s, name) for name in ("rev", "lead1", "ann", "bob", "root")}
    store.dispose()
    app = create_app(db_url, detector=object())
    with TestClient(app) as client:
        yield client, tokens, app.state.store
    app.state.store.dispose()


def _h(tokens, who):
    return {"Authorization": f"Bearer {tokens[who]}"}


def _endpoints(rid: int, hold_id: int):
    return [
        ("GET", "/api/legal/requests", None),
        ("POST", "/api/legal/requests", REQUEST),
        ("GET", f"/api/legal/requests/{rid}", None),
        ("POST", f"/api/legal/requests/{rid}/approve", {"note": "ok"}),
        ("POST", f"/api/legal/requests/{rid}/reject", {"note": "no"}),
        ("POST", f"/api/legal/requests/{rid}/export", None),
        ("GET", "/api/legal/holds", None),
        ("POST", "/api/legal/holds", {"target_type": "item", "target": "telegram:1", "reason": "x"}),
        ("POST", f"/api/legal/holds/{hold_id}/release", None),
        ("GET", "/api/legal/subjects/telegram:shop_one", None),
        ("POST", "/api/legal/subjects/telegram:shop_one/delete", {"dry_run": True}),
        ("GET", "/api/legal/snapshots/1", None),
    ]


def test_reviewers_and_leads_get_403_on_every_legal_endpoint(env):
    client, tokens, _ = env
    rid = client.post("/api/legal/requests", json=REQUEST, headers=_h(tokens, "ann")).json()["id"]
    hold = client.post("/api/legal/holds", json={"target_type": "item", "target": "telegram:2", "reason": "case"},
                       headers=_h(tokens, "ann")).json()["id"]
    for who in ("rev", "lead1"):
        for method, path, body in _endpoints(int(rid), hold):
            res = client.request(method, path, json=body, headers=_h(tokens, who))
            assert res.status_code == 403, (who, method, path, res.status_code)
            assert "telegram:shop_one" not in res.text and "pressed bars" not in res.text
    for method, path, body in _endpoints(int(rid), hold):
        assert client.request(method, path, json=body).status_code == 401, path  # not signed in


def test_legal_users_can_use_every_endpoint(env):
    client, tokens, _ = env
    ann, bob = _h(tokens, "ann"), _h(tokens, "bob")
    created = client.post("/api/legal/requests", json={**REQUEST, "emergency": True,
                                                       "emergency_reason": "overdose"}, headers=ann)
    assert created.status_code == 201
    rid = created.json()["id"]
    assert created.json()["state"] == "draft" and created.json()["due_date"]
    assert client.get("/api/legal/requests", headers=ann).json()[0]["id"] == rid
    shown = client.get(f"/api/legal/requests/{rid}", headers=bob).json()
    assert [c["action"] for c in shown["custody"]] == ["created"] and shown["snapshots"][0]["item"] == "telegram:1"
    assert client.post(f"/api/legal/requests/{rid}/export", headers=bob).status_code == 422  # not approved yet
    assert client.post(f"/api/legal/requests/{rid}/approve", json={}, headers=ann).status_code == 403  # own request
    assert client.post(f"/api/legal/requests/{rid}/approve", json={}, headers=_h(tokens, "root")).status_code == 403
    assert client.post(f"/api/legal/requests/{rid}/approve", json={"note": "ok"}, headers=bob).json()["state"] == "approved"
    res = client.post(f"/api/legal/requests/{rid}/export", headers=_h(tokens, "root"))  # admin may export
    assert res.status_code == 200 and res.headers["content-type"] == "application/zip"
    report = verify_package(res.content)
    assert report.ok, report.problems
    assert res.headers["x-package-sha256"] == __import__("hashlib").sha256(res.content).hexdigest()
    html = zipfile.ZipFile(io.BytesIO(res.content)).read("summary.html").decode()
    assert "EMERGENCY" in html

    rid2 = client.post("/api/legal/requests", json=REQUEST, headers=bob).json()["id"]
    rejected = client.post(f"/api/legal/requests/{rid2}/reject", json={"note": "no legal basis"}, headers=ann)
    assert rejected.json()["state"] == "rejected"
    assert client.post(f"/api/legal/requests/{rid2}/export", headers=ann).status_code == 422

    hold = client.post("/api/legal/holds", json={"target_type": "snapshot", "target": "2", "reason": "case"},
                       headers=ann)
    assert hold.status_code == 201
    assert any(h["id"] == hold.json()["id"] for h in client.get("/api/legal/holds", headers=ann).json())
    assert client.post(f"/api/legal/holds/{hold.json()['id']}/release", headers=ann).status_code == 200
    assert client.post("/api/legal/holds", json={"target_type": "planet", "target": "x", "reason": "r"},
                       headers=ann).status_code == 422

    sar = client.get("/api/legal/subjects/telegram:shop_one", headers=ann).json()
    assert [i["id"] for i in sar["items"]] == ["telegram:1"]
    assert "DEA" not in json.dumps(sar) and "not_included" in sar  # requests and holds are never in a SAR
    assert client.get("/api/legal/subjects/telegram:nobody", headers=ann).status_code == 404
    snap = client.get("/api/legal/snapshots/1", headers=ann).json()
    assert "raw.json" in snap["files"] and snap["on_hold"] is True  # the request held the account
    dry = client.post("/api/legal/subjects/telegram:other/delete", json={"dry_run": True}, headers=ann).json()
    assert dry["dry_run"] is True and dry["deleted_snapshots"] == [2]


def test_every_legal_access_is_audited(env):
    client, tokens, store = env
    ann = _h(tokens, "ann")
    rid = client.post("/api/legal/requests", json=REQUEST, headers=ann).json()["id"]
    client.get(f"/api/legal/requests/{rid}", headers=ann)
    client.get("/api/legal/subjects/telegram:shop_one", headers=ann)
    client.get("/api/legal/snapshots/1", headers=ann)
    with store.session() as s:
        got = [(e.actor, e.action, e.subject) for e in s.scalars(select(AuditEntry).where(AuditEntry.actor == "ann"))]
    assert ("ann", "request.create", f"request:{rid}") in got
    assert ("ann", "request.view", f"request:{rid}") in got
    assert ("ann", "subject.export", "account:telegram:shop_one") in got
    assert ("ann", "evidence.view", "snapshot:1") in got


def test_export_of_evidence_that_fails_its_check_is_refused_with_422_and_audited(env):
    from plugwatch.store.evidence_tables import SnapshotFile

    client, tokens, store = env
    rid = client.post("/api/legal/requests", json=REQUEST, headers=_h(tokens, "ann")).json()["id"]
    assert client.post(f"/api/legal/requests/{rid}/approve", json={}, headers=_h(tokens, "bob")).status_code == 200
    with store.session() as s:
        f = s.get(SnapshotFile, (1, "item.json"))
        f.content = f.content + b" "
    res = client.post(f"/api/legal/requests/{rid}/export", headers=_h(tokens, "bob"))
    assert res.status_code == 422, res.text
    assert "snapshot 1/item.json" in res.json()["detail"] and "integrity" in res.json()["detail"]
    with store.session() as s:
        refused = s.scalars(select(AuditEntry).where(AuditEntry.action == "request.export_refused")).all()
        assert [(e.actor, e.subject) for e in refused] == [("bob", f"request:{rid}")]
        assert not s.scalars(select(AuditEntry).where(AuditEntry.action == "request.export")).all()


def test_export_without_a_signing_key_is_422_and_unknown_things_are_404(env, monkeypatch):
    """Errors map to statuses by type: "no evidence signing key ..." starts with "no " but is a 422
    (it used to be a 404 because the message was read), a request, hold or snapshot that does not
    exist is a 404."""
    from plugwatch.evidence.signing import KEY_ENV

    client, tokens, _ = env
    rid = client.post("/api/legal/requests", json=REQUEST, headers=_h(tokens, "ann")).json()["id"]
    assert client.post(f"/api/legal/requests/{rid}/approve", json={}, headers=_h(tokens, "bob")).status_code == 200
    bob = _h(tokens, "bob")
    assert client.post("/api/legal/requests/999/export", headers=bob).status_code == 404
    assert client.get("/api/legal/requests/999", headers=bob).status_code == 404
    assert client.post("/api/legal/holds/999/release", headers=bob).status_code == 404
    assert client.get("/api/legal/snapshots/999", headers=bob).status_code == 404
    assert client.post("/api/legal/holds", json={"target_type": "snapshot", "target": "999", "reason": "r"},
                       headers=bob).status_code == 404
    monkeypatch.delenv(KEY_ENV)
    res = client.post(f"/api/legal/requests/{rid}/export", headers=bob)
    assert res.status_code == 422, res.text
    assert "plugwatch evidence keygen" in res.json()["detail"]
    # what the service's operator does, not a command-line option the API user cannot give
    assert f"start `plugwatch serve` with {KEY_ENV}=KEYFILE" in res.json()["detail"]
    assert "--signing-key" not in res.json()["detail"]
