"""Hardening of the HTTP service (issue 11): one permission table, bodies read after authentication
and under a cap, bad records rejected at the storage boundary, revocable sessions, a session key
outside the database, pseudonymous account keys for reviewers, filtered links and media, sign-in
throttling by name and address, and the secure-cookie setting."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from plugwatch.service.app import create_app
from plugwatch.service.permissions import PERMISSIONS
from plugwatch.store import users

SERVICE = Path(__file__).resolve().parents[1] / "plugwatch" / "service"
ROLES = (("ann", "reviewer"), ("lea", "lead"), ("adm", "admin"), ("law", "legal"), ("bot", "ingest"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(db_url, detector, tmp_path, monkeypatch):
    monkeypatch.setenv("PLUGWATCH_SESSION_KEY_FILE", str(tmp_path / "keys" / "session.key"))
    app = create_app(db_url, detector=detector)
    with app.state.store.session() as s:
        tokens = {name: users.add_user(s, name, role)[1] for name, role in ROLES}
    with TestClient(app) as client:
        yield app, client, tokens
    app.state.store.dispose()


# -- one permission table -------------------------------------------------------------------------

def test_the_ingest_machine_may_not_file_appeals(api):
    _, client, tokens = api
    r = client.post("/api/items/x:1/appeal", headers=bearer(tokens["bot"]), json={"reason": "please"})
    assert r.status_code == 403, r.text
    r = client.post("/api/items/x:1/appeal", headers=bearer(tokens["lea"]), json={"reason": "please"})
    assert r.status_code == 404  # allowed to try: there is no item x:1


def test_api_and_pages_read_roles_from_the_one_table(api):
    _, client, tokens = api
    policy = client.get("/api/policy", headers=bearer(tokens["ann"])).json()
    assert policy["permissions"] == {op: list(roles) for op, roles in PERMISSIONS.items()}
    # No module of the service spells out a tuple of role names of its own.
    role_names = {"reviewer", "lead", "admin", "legal", "ingest"}
    for path in SERVICE.glob("*.py"):
        if path.name == "permissions.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Tuple) and len(node.elts) > 1 and all(
                    isinstance(e, ast.Constant) and e.value in role_names for e in node.elts):
                pytest.fail(f"{path.name}:{node.lineno} has its own role tuple; use plugwatch.service.permissions")
