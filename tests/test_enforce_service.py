"""Effects on the item page and in the API: each effect's state, the platform's answer or the error,
retry by leads only, and delivery statistics per back-end."""

from __future__ import annotations

import re
from urllib.parse import quote

from enforce_helpers import post, write_config
from fastapi.testclient import TestClient

from plugwatch.enforce import config as site_config
from plugwatch.enforce.worker import Worker
from plugwatch.store import review, users
from plugwatch.wiring import create_app

PASSWORD = "correct horse battery"


def _site(db_url, tmp_path, monkeypatch, record=None):
    # Port 9 (discard) on loopback: nothing listens, so every delivery fails at once.
    write_config(tmp_path, '[backends.shop]\nkind = "webhook"\nurl = "http://127.0.0.1:9/hook"\nmax_attempts = 1\n'
                           '[backends.dry]\nkind = "dryrun"\n', monkeypatch)
    app = create_app(db_url)
    with app.state.store.session() as s:
        users.add_user(s, "lena", "lead", PASSWORD)
        users.add_user(s, "rita", "reviewer", PASSWORD)
        users.add_user(s, "adam", "admin", PASSWORD)
        review.ingest_records(s, [record or post(1)])
    return app


def _token(app, name: str) -> str:
    with app.state.store.session() as s:
        return users.reset_token(s, name)


def test_api_shows_effect_states_and_lets_leads_retry(db_url, tmp_path, monkeypatch):
    app = _site(db_url, tmp_path, monkeypatch)
    api = TestClient(app)
    lead = {"Authorization": f"Bearer {_token(app, 'lena')}"}
    reviewer = {"Authorization": f"Bearer {_token(app, 'rita')}"}
    assert api.post("/api/queue/claim", json={"item_id": "x:1"}, headers=lead).status_code == 200
    r = api.post("/api/items/x:1/decision", json={"action": "suspend", "policy_reason": "drug_sale"}, headers=lead)
    assert r.status_code == 200, r.text
    platform = api.get("/api/items/x:1", headers=reviewer).json()["platform"]
    assert [(e["backend"], e["state"]) for e in platform["effects"]] == [("shop", "pending"), ("dry", "pending")]
    assert "suspended your account" in platform["notices"][0]["text"]
    Worker(app.state.store, site_config.active()).drain()
    effects = {e["backend"]: e for e in api.get("/api/items/x:1", headers=reviewer).json()["platform"]["effects"]}
    assert effects["shop"]["state"] == "dead" and "ConnectError" in effects["shop"]["error"]
    assert effects["dry"]["state"] == "logged" and effects["dry"]["response"]["dry_run"] is True
    stats = api.get("/api/stats", headers=lead).json()["platforms"]
    assert stats["shop"]["states"]["dead"] == 1 and stats["shop"]["failure_rate"] == 1.0
    assert stats["dry"]["states"]["logged"] == 1
    shop = effects["shop"]["id"]
    assert api.post(f"/api/effects/{shop}/retry", headers=reviewer).status_code == 403
    r = api.post(f"/api/effects/{shop}/retry", headers=lead)
    assert r.status_code == 200 and r.json()["state"] == "pending" and r.json()["attempts"] == 0
    assert api.post(f"/api/effects/{effects['dry']['id']}/retry", headers=lead).status_code == 409
    assert api.post("/api/effects/999999/retry", headers=lead).status_code == 404
    app.state.store.dispose()


def _sign_in(app, name: str) -> TestClient:
    c = TestClient(app, follow_redirects=False)
    token = re.search(r'name="login_token" value="([^"]+)"', c.get("/login").text).group(1)
    assert c.post("/login", data={"name": name, "password": PASSWORD, "login_token": token, "next": "/"}).status_code == 303
    return c


def test_item_page_shows_effects_and_a_retry_button_for_leads_only(db_url, tmp_path, monkeypatch):
    app = _site(db_url, tmp_path, monkeypatch)
    with app.state.store.session() as s:
        lena = users.get_user(s, "lena")
        review.claim(s, lena, "x:1")
        review.decide(s, lena, "x:1", "remove", "drug_sale")
    Worker(app.state.store, site_config.active()).drain()
    path = f"/items/{quote('x:1', safe='')}"
    page = _sign_in(app, "rita").get(path).text
    assert "On the platform" in page and 'data-state="dead"' in page and 'data-state="logged"' in page
    assert "Retry</button>" not in page and "removed your post" in page
    lead = _sign_in(app, "lena")
    page = lead.get(path).text
    assert "Retry</button>" in page
    effect = re.search(r'data-effect="(\d+)" data-state="dead"', page).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = lead.post(f"{path}/effects/{effect}/retry", data={"csrf_token": csrf})
    assert r.status_code == 303
    assert f'data-effect="{effect}" data-state="pending"' in lead.get(path).text
    app.state.store.dispose()


def test_serve_with_worker_delivers_in_process(tmp_path, monkeypatch):
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx
    from enforce_helpers import free_port

    from plugwatch.wiring import open_store

    db = f"sqlite:///{tmp_path / 'p.db'}"
    config = write_config(tmp_path, '[backends.dry]\nkind = "dryrun"\n', monkeypatch)
    store = open_store(db)
    with store.session() as s:
        users.add_user(s, "lena", "lead", PASSWORD)
        review.ingest_records(s, [post(1)])
        token = users.reset_token(s, "lena")
    store.dispose()
    port = free_port()
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, "-m", "plugwatch.cli", "serve", "--db", db, "--port", str(port),
                             "--config", str(config), "--worker"], env={**os.environ, "PYTHONPATH": str(root)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        httpx.post(f"{base}/api/queue/claim", json={"item_id": "x:1"}, headers=auth).raise_for_status()
        httpx.post(f"{base}/api/items/x:1/decision", json={"action": "remove", "policy_reason": "drug_sale"},
                   headers=auth).raise_for_status()
        state = None
        while time.monotonic() < deadline and state != "logged":
            time.sleep(0.2)
            state = httpx.get(f"{base}/api/items/x:1", headers=auth).json()["platform"]["effects"][0]["state"]
        assert state == "logged"
    finally:
        proc.terminate()
        proc.wait(20)


ACCOUNT_ID = "7700123456"  # the platform's own id of the account: for legal and admin only


def _site_with_account_ids_in_effects(db_url, tmp_path, monkeypatch):
    """A decided item whose effects carry the account's platform id three ways: a dry-run payload
    (`subject.account.native_id`), a platform's answer naming the account (`{"account": id}`, as
    Mastodon's unsuspend answers) and an error quoting it."""
    from sqlalchemy import select, update

    from plugwatch.store.enforcement_tables import PlatformEffect

    app = _site(db_url, tmp_path, monkeypatch, post(1, account_id=ACCOUNT_ID))
    with app.state.store.session() as s:
        lena = users.get_user(s, "lena")
        review.claim(s, lena, "x:1")
        review.decide(s, lena, "x:1", "suspend", "drug_sale")
    Worker(app.state.store, site_config.active()).drain()
    with app.state.store.session() as s:
        shop = s.scalars(select(PlatformEffect).where(PlatformEffect.backend == "shop")).one()
        s.execute(update(PlatformEffect).where(PlatformEffect.id == shop.id).values(
            state="dead", response={"account": ACCOUNT_ID, "suspended": False},
            last_error=f"MastodonNotFoundError: /api/v1/admin/accounts/{ACCOUNT_ID}/unsuspend: Record not found"))
    return app


def test_api_never_shows_platform_account_ids_in_effects_to_reviewers_and_leads(db_url, tmp_path, monkeypatch):
    app = _site_with_account_ids_in_effects(db_url, tmp_path, monkeypatch)
    api = TestClient(app)
    for name in ("rita", "lena"):
        r = api.get("/api/items/x:1", headers={"Authorization": f"Bearer {_token(app, name)}"})
        assert r.status_code == 200 and ACCOUNT_ID not in r.text, name
        view = r.json()
        assert "platform.account ids" in view["redacted"] and "account.native_id" in view["redacted"]
        effects = {e["backend"]: e for e in view["platform"]["effects"]}
        assert effects["dry"]["response"]["would_send"]["payload"]["subject"]["account"]["handle"] == "seller1"
        assert effects["shop"]["response"]["account"] == "[platform id]"
        assert "accounts/[platform id]/unsuspend" in effects["shop"]["error"]
    # A lead's retry answers with the effect: redacted too.
    lead = {"Authorization": f"Bearer {_token(app, 'lena')}"}
    shop = next(e["id"] for e in api.get("/api/items/x:1", headers=lead).json()["platform"]["effects"]
                if e["backend"] == "shop")
    r = api.post(f"/api/effects/{shop}/retry", headers=lead)
    assert r.status_code == 200 and ACCOUNT_ID not in r.text
    # Legal and admin read full records.
    r = api.get("/api/items/x:1", headers={"Authorization": f"Bearer {_token(app, 'adam')}"})
    assert ACCOUNT_ID in r.text and "platform.account ids" not in r.json().get("redacted", [])
    app.state.store.dispose()


def test_item_page_never_shows_platform_account_ids_in_effects_to_reviewers_and_leads(db_url, tmp_path, monkeypatch):
    app = _site_with_account_ids_in_effects(db_url, tmp_path, monkeypatch)
    path = f"/items/{quote('x:1', safe='')}"
    for name in ("rita", "lena"):
        page = _sign_in(app, name).get(path).text
        assert "On the platform" in page and ACCOUNT_ID not in page, name
        assert "platform.account ids" in page  # the page names what it left out
    assert ACCOUNT_ID in _sign_in(app, "adam").get(path).text
    app.state.store.dispose()
