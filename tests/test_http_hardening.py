"""Hardening of the HTTP service (issue 11): one permission table, bodies read after authentication
and under a cap, bad records rejected at the storage boundary, revocable sessions, a session key
outside the database, pseudonymous account keys for reviewers, filtered links and media, sign-in
throttling by name and address, and the secure-cookie setting."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from plugwatch.actions import PERMISSIONS
from plugwatch.store import users
from plugwatch.wiring import create_app

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
    for path in [*SERVICE.glob("*.py"), *SERVICE.parent.joinpath("store").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Tuple) and len(node.elts) > 1 and all(
                    isinstance(e, ast.Constant) and e.value in role_names for e in node.elts):
                pytest.fail(f"{path.name}:{node.lineno} has its own role tuple; use plugwatch.actions")


# -- bodies: authenticate first, then read under a cap ----------------------------------------------

@pytest.fixture
def small_app(tmp_path, monkeypatch):
    """A service on a SQLite file with one user per role and one TAXII partner (no detector needed)."""
    monkeypatch.setenv("PLUGWATCH_SESSION_KEY_FILE", str(tmp_path / "keys" / "session.key"))
    from plugwatch.share import partners

    app = create_app(f"sqlite:///{tmp_path / 'service.db'}", detector=object())
    with app.state.store.session() as s:
        app.state.tokens = {name: users.add_user(s, name, role)[1] for name, role in ROLES}
        app.state.partner_secret = partners.add(s, "platform-b", "notify-only")[1]
    yield app
    app.state.store.dispose()


MB = 2**20


def asgi_call(app, method: str, path: str, headers: dict[str, str], chunks: int, chunk_size: int = MB,
              query: str = "", prefix: bytes = b"") -> tuple[int, int, dict[str, str]]:
    """Send a streamed body of `chunks` chunks (the first starting with `prefix`) straight to the ASGI
    app; returns the status, how many chunks the app pulled, and the response headers."""
    import anyio

    state = {"reads": 0, "status": None, "headers": {}}

    async def receive():
        if state["reads"] >= chunks:
            await anyio.sleep(3600)  # the app asked for more than was sent: it is waiting to disconnect
        state["reads"] += 1
        body = (prefix if state["reads"] == 1 else b"") + b"x" * chunk_size
        return {"type": "http.request", "body": body, "more_body": state["reads"] < chunks}

    async def send(message):
        if message["type"] == "http.response.start":
            state["status"] = message["status"]
            state["headers"] = {k.decode().lower(): v.decode() for k, v in message["headers"]}

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in {"host": "testserver", **headers}.items()],
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}

    async def main():
        with anyio.fail_after(60):
            await app(scope, receive, send)

    anyio.run(main)
    return state["status"], state["reads"], state["headers"]


def test_taxii_post_checks_credentials_before_reading_the_body(small_app):
    path = "/taxii2/api/collections/from-platform-b/objects/"
    ctype = {"Content-Type": "application/taxii+json;version=2.1", "Accept": "application/taxii+json;version=2.1"}
    status, reads, _ = asgi_call(small_app, "POST", path, ctype, chunks=300)
    assert (status, reads) == (401, 0)
    import base64

    basic = "Basic " + base64.b64encode(f"platform-b:{small_app.state.partner_secret}".encode()).decode()
    status, reads, _ = asgi_call(small_app, "POST", path, {**ctype, "Authorization": basic}, chunks=300)
    assert status == 413 and reads <= 11  # 10 MB cap: stopped as soon as it was passed


def test_ingest_reads_no_body_before_the_token_and_caps_every_content_type(small_app, monkeypatch):
    from plugwatch.service import limits

    multipart = {"Content-Type": "multipart/form-data; boundary=xyz"}
    assert asgi_call(small_app, "POST", "/api/ingest", multipart, chunks=300)[:2] == (401, 0)
    assert asgi_call(small_app, "POST", "/api/ingest", {"Content-Type": "text/csv"}, chunks=300)[:2] == (401, 0)
    monkeypatch.setattr(limits, "ROUTE_LIMITS", ((("POST", limits.ROUTE_LIMITS[0][1], 3 * MB)),))
    token = {"Authorization": "Bearer " + small_app.state.tokens["bot"]}
    part = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="big.jsonl"\r\n\r\n'
    for ctype, prefix in (("multipart/form-data; boundary=xyz", part), ("text/csv", b""), ("application/json", b"")):
        status, reads, _ = asgi_call(small_app, "POST", "/api/ingest", {**token, "Content-Type": ctype}, chunks=300,
                                     prefix=prefix)
        assert status == 413 and reads <= 4, ctype
    # a declared length over the cap is refused before any of it is read
    status, reads, _ = asgi_call(small_app, "POST", "/api/ingest",
                                 {**token, "Content-Type": "text/csv", "Content-Length": str(300 * MB)}, chunks=300)
    assert (status, reads) == (413, 0)


def test_small_routes_cap_bodies_and_the_decision_page_checks_sign_in_first(small_app):
    status, reads, headers = asgi_call(small_app, "POST", "/items/x:1/decide",
                                       {"Content-Type": "multipart/form-data; boundary=xyz"}, chunks=300)
    assert status == 303 and headers["location"].startswith("/login") and reads == 0
    # any route: a body past the default cap stops being read
    status, reads, _ = asgi_call(small_app, "POST", "/login", {"Content-Type": "application/x-www-form-urlencoded"},
                                 chunks=300, chunk_size=64 * 1024)
    assert status == 413 and reads <= 5


def test_deep_json_and_huge_integers_are_client_errors(small_app):
    tokens = small_app.state.tokens
    deep = "[" * 1000 + "]" * 1000
    c = TestClient(small_app, raise_server_exceptions=False)
    r = c.post("/api/ingest", headers={**bearer(tokens["bot"]), "Content-Type": "application/json"}, content=deep)
    assert r.status_code == 422 and "nests deeper" in r.json()["detail"]
    r = c.post("/api/items/x:1/decision", headers={**bearer(tokens["ann"]), "Content-Type": "application/json"},
               content=deep)
    assert 400 <= r.status_code < 500
    twenty = "9" * 20
    for path in (f"/api/legal/requests/{twenty}", f"/api/legal/snapshots/{twenty}",
                 f"/api/export/decisions?limit={twenty}"):
        assert c.get(path, headers=bearer(tokens["law"])).status_code == 422, path
    assert c.post(f"/api/legal/holds/{twenty}/release", headers=bearer(tokens["law"])).status_code == 422
    assert c.get(f"/api/queue?limit={twenty}", headers=bearer(tokens["ann"])).status_code == 200
    r = c.get("/taxii2/api/collections/to-platform-b/objects/", params={"next": f"2024-01-01T00:00:00|{twenty}"},
              headers={"Accept": "application/taxii+json;version=2.1"}, auth=("platform-b", small_app.state.partner_secret))
    assert r.status_code == 400


def test_a_lone_surrogate_in_a_json_body_is_a_client_error_that_names_the_field(small_app):
    # The default 422 handler echoes the input back and failed to encode it: a 500 on every route.
    tokens = small_app.state.tokens
    c = TestClient(small_app, raise_server_exceptions=False)
    body = '{"action": "remove", "policy_reason": "drug_sale", "note": "\\ud800"}'
    r = c.post("/api/items/x:1/decision", headers={**bearer(tokens["ann"]), "Content-Type": "application/json"},
               content=body)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "note"]


# -- the storage boundary of ingest -----------------------------------------------------------------

def test_unstorable_records_are_rejected_with_line_and_reason_and_the_rest_is_stored(api):
    _, client, tokens = api
    body = "\n".join([
        '{"id": "g1", "text": "fresh bread today"}',
        '{"id": "n1", "text": "blues m30 \\u0000 tele @plug"}',  # NUL: the importer drops it (PostgreSQL cannot store it)
        '{"id": "g2", "text": "see you at the match"}',
        '{"id": "s1", "text": "lone \\ud800 surrogate"}',  # not valid Unicode: neither database can
        '{"id": "s2", "text": "fine text", "author": "bad\\udfff"}',
        '{"id": "' + "z" * 400 + '", "text": "id longer than its column"}',
        '{"id": "g3", "platform": "x", "text": "dm for the menu"}',
    ]).encode()
    r = client.post("/api/ingest", headers={**bearer(tokens["bot"]), "Content-Type": "application/x-ndjson"},
                    content=body)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["stored"], report["rejected"]) == (4, 3)
    reasons = {x["line"]: x["reason"] for x in report["rejects"]}
    r = client.get("/api/items/generic:n1", headers=bearer(tokens["law"]))
    assert r.status_code == 200 and "\x00" not in r.json()["item"]["text"]
    assert "surrogate" in reasons[4] and "surrogate" in reasons[5]
    assert "at most 300" in reasons[6]
    r = client.get("/api/items/x:g3", headers=bearer(tokens["law"]))
    assert r.status_code == 200 and r.json()["item"]["text"] == "dm for the menu"


def test_a_bare_cr_in_a_csv_header_is_no_server_error(api):
    _, client, tokens = api
    body = b"id,te\rxt,author\n1,hello there,bob\n2,more text,alice\n"
    r = client.post("/api/ingest", headers={**bearer(tokens["bot"]), "Content-Type": "text/csv"}, content=body)
    assert r.status_code in (200, 422), r.text
    report = r.json()
    assert report["stored"] + report["rejected"] >= 1
    assert all(x["reason"] for x in report["rejects"])


def test_a_batch_the_database_refuses_is_stored_record_by_record(api, monkeypatch):
    """Whatever slips past the checks: only the records the database refuses are lost."""
    from sqlalchemy.exc import DBAPIError

    from plugwatch.service import ingest as ingest_mod

    real = ingest_mod.ingest_records

    def refuse_poison(session, records, now=None):
        if any("poison" in rec["text"] for rec in records):
            raise DBAPIError("INSERT ...", {}, Exception("value too long for type character varying(300)"))
        return real(session, records, now)

    monkeypatch.setattr(ingest_mod, "ingest_records", refuse_poison)
    _, client, tokens = api
    records = [{"id": f"p{i}", "text": "poison pill" if i == 3 else f"ordinary post number {i}"} for i in range(6)]
    r = client.post("/api/ingest", headers=bearer(tokens["bot"]), json=records)
    report = r.json()
    assert r.status_code == 200 and report["stored"] == 5 and report["rejected"] == 1
    assert report["rejects"][0]["line"] == 4 and "database refused it: value too long" in report["rejects"][0]["reason"]


# -- sessions end when they should; the signing key is not in the database ---------------------------

PASSWORD = "correct horse battery"


def sign_in(app, name: str, password: str = PASSWORD) -> TestClient:
    import re

    c = TestClient(app, follow_redirects=False)
    token = re.search(r'name="login_token" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"name": name, "password": password, "login_token": token, "next": "/"})
    assert r.status_code == 303, r.text
    return c


def signed_in(app, cookie: str) -> bool:
    c = TestClient(app, follow_redirects=False)
    c.cookies.set("pw_session", cookie)
    return c.get("/api/me").status_code == 200


@pytest.fixture
def people(db_url, tmp_path, monkeypatch):
    monkeypatch.delenv("PLUGWATCH_SECRET", raising=False)
    monkeypatch.setenv("PLUGWATCH_SESSION_KEY_FILE", str(tmp_path / "keys" / "session.key"))
    app = create_app(db_url, detector=object())
    with app.state.store.session() as s:
        for name in ("rita", "rolf"):
            users.add_user(s, name, "reviewer", PASSWORD)
    yield app
    app.state.store.dispose()


def test_sign_out_ends_the_session_for_a_copied_cookie_too(people):
    import re

    c = sign_in(people, "rita")
    cookie = c.cookies["pw_session"]
    assert signed_in(people, cookie)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/").text).group(1)
    assert c.post("/logout", data={"csrf_token": csrf}).status_code == 303
    assert not signed_in(people, cookie), "a cookie copied before sign-out must not work after it"


@pytest.mark.parametrize("change", ["password", "token", "disable"])
def test_a_new_password_token_or_disabling_ends_every_session(people, change):
    first, second, other = sign_in(people, "rita"), sign_in(people, "rita"), sign_in(people, "rolf")
    with people.state.store.session() as s:
        if change == "password":
            users.set_password(s, "rita", "a brand new passphrase")
        elif change == "token":
            users.reset_token(s, "rita")
        else:
            users.set_active(s, "rita", False)
    assert not signed_in(people, first.cookies["pw_session"])
    assert not signed_in(people, second.cookies["pw_session"])
    assert signed_in(people, other.cookies["pw_session"]), "other people's sessions go on"


def test_the_session_key_is_a_private_file_made_once_and_never_in_the_database(people, tmp_path, db_url):
    import stat

    from plugwatch.store.schema import Setting

    key_file = tmp_path / "keys" / "session.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    before = key_file.read_bytes()
    assert people.state.secret == bytes.fromhex(before.decode().strip())
    with people.state.store.session() as s:
        assert s.query(Setting).filter(Setting.value.like("%" + before.decode().strip()[:16] + "%")).count() == 0
        assert s.get(Setting, "session_secret") is None
    cookie = sign_in(people, "rita").cookies["pw_session"]
    again = create_app(db_url, detector=object())  # a restart: same key, the session goes on
    try:
        assert key_file.read_bytes() == before and signed_in(again, cookie)
    finally:
        again.state.store.dispose()


def test_the_session_key_sits_beside_the_pseudonym_key(tmp_path, monkeypatch):
    from plugwatch.service import keys

    monkeypatch.delenv("PLUGWATCH_SECRET", raising=False)
    monkeypatch.delenv(keys.KEY_FILE_ENV, raising=False)
    monkeypatch.setenv("PLUGWATCH_PSEUDONYM_KEY_FILE", str(tmp_path / "secrets" / "pseudonym.key"))
    assert keys.session_key_path() == tmp_path / "secrets" / "session.key"
    key = keys.load_session_key()
    assert len(key) == 32 and (tmp_path / "secrets" / "session.key").exists()
    monkeypatch.delenv("PLUGWATCH_PSEUDONYM_KEY_FILE")
    monkeypatch.setenv("PLUGWATCH_KEY_DIR", str(tmp_path / "keys"))  # else: the key folder
    assert keys.session_key_path() == tmp_path / "keys" / "session.key"
    monkeypatch.delenv("PLUGWATCH_KEY_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert keys.session_key_path() == tmp_path / "config" / "plugwatch" / "session.key"
    (tmp_path / "bad.key").write_text("not hex")
    from plugwatch.errors import UserError

    with pytest.raises(UserError, match="bad.key"):
        keys.load_session_key(tmp_path / "bad.key")


def test_a_key_an_older_version_kept_in_the_database_is_deleted_and_not_used(db_url, tmp_path, monkeypatch):
    from plugwatch.store import make_engine, upgrade
    from plugwatch.store.schema import Setting
    from plugwatch.wiring import open_store

    monkeypatch.delenv("PLUGWATCH_SECRET", raising=False)
    monkeypatch.setenv("PLUGWATCH_SESSION_KEY_FILE", str(tmp_path / "session.key"))
    engine = make_engine(db_url)
    upgrade(engine, db_url, "0003_sharing")
    with engine.begin() as conn:
        conn.execute(Setting.__table__.insert().values(key="session_secret", value="old-key-anyone-could-read"))
    engine.dispose()
    store = open_store(db_url)
    with store.session() as s:
        assert s.get(Setting, "session_secret") is None
    store.dispose()
    app = create_app(db_url, detector=object())
    try:
        assert app.state.secret != b"old-key-anyone-could-read"
    finally:
        app.state.store.dispose()


@pytest.mark.parametrize("how", ["option", "env"])
def test_secure_cookies_can_be_forced_behind_a_tls_terminator(tmp_path, monkeypatch, how):
    monkeypatch.setenv("PLUGWATCH_SESSION_KEY_FILE", str(tmp_path / "session.key"))
    if how == "env":
        monkeypatch.setenv("PLUGWATCH_SECURE_COOKIES", "1")
    app = create_app(f"sqlite:///{tmp_path / 's.db'}", detector=object(),
                     **({"secure_cookies": True} if how == "option" else {}))
    with app.state.store.session() as s:
        users.add_user(s, "rita", "reviewer", PASSWORD)
    import re

    c = TestClient(app, follow_redirects=False)  # plain http://testserver, as from a TLS terminator
    page = c.get("/login")
    assert "secure" in page.headers["set-cookie"].lower()
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    # (the browser talks HTTPS to the terminator, so it sends the Secure cookie back; the client here must be told)
    r = c.post("/login", data={"name": "rita", "password": PASSWORD, "login_token": token, "next": "/"},
               headers={"Cookie": f"pw_login={page.cookies['pw_login']}"})
    session_cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("pw_session="))
    assert "secure" in session_cookie.lower()
    app.state.store.dispose()
    plain = create_app(f"sqlite:///{tmp_path / 's.db'}", detector=object(), secure_cookies=False)
    assert "secure" not in TestClient(plain).get("/login").headers["set-cookie"].lower()
    plain.state.store.dispose()


# -- reviewers see pseudonyms, not platform ids ------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_reviewers_see_a_stable_pseudonym_where_the_key_is_a_platform_id(api):
    import re
    from urllib.parse import quote

    app, client, tokens = api
    with (EXAMPLES / "telegram_result.json").open("rb") as fh:
        r = client.post("/api/ingest", headers=bearer(tokens["bot"]), files={"file": ("result.json", fh)})
    assert r.status_code == 200 and r.json()["queued"] >= 1, r.text
    platform_id = re.compile(r"user\d{6,}|6120044871|5233012987")
    queue = client.get("/api/queue", headers=bearer(tokens["ann"]))
    assert queue.status_code == 200 and queue.json() and not platform_id.search(queue.text), queue.text[:500]
    item_id = queue.json()[0]["tasks"][0]["item_id"]
    seen = client.get(f"/api/items/{quote(item_id, safe='')}", headers=bearer(tokens["ann"]))
    assert not platform_id.search(seen.text)
    key = seen.json()["item"]["account_key"]
    assert key.startswith("telegram:~") and seen.json()["account"]["key"] == key
    assert "platform ids in account keys (shown as pseudonyms)" in seen.json()["redacted"]
    again = client.get(f"/api/items/{quote(item_id, safe='')}", headers=bearer(tokens["lea"])).json()
    assert again["item"]["account_key"] == key, "stable: the same account, the same pseudonym"
    account = client.get(f"/api/accounts/{key}", headers=bearer(tokens["ann"]))
    assert account.status_code == 200 and account.json()["account"]["key"] == key
    assert not platform_id.search(account.text)
    # legal sees the real key, and a reviewer cannot look an account up by its platform id
    real = client.get(f"/api/items/{quote(item_id, safe='')}", headers=bearer(tokens["law"])).json()
    assert platform_id.search(real["item"]["account_key"])
    assert client.get(f"/api/accounts/{real['item']['account_key']}", headers=bearer(tokens["ann"])).status_code == 404
    assert client.get(f"/api/accounts/{real['item']['account_key']}", headers=bearer(tokens["law"])).status_code == 200
    assert client.get("/api/accounts/telegram:~notapseudonym", headers=bearer(tokens["ann"])).status_code == 404
    # the review pages too
    with app.state.store.session() as s:
        users.set_password(s, "ann", PASSWORD)
    page = sign_in(app, "ann")
    assert not platform_id.search(page.get("/").text)
    assert not platform_id.search(page.get(f"/items/{quote(item_id, safe='')}").text)


# -- links and media from posts -------------------------------------------------------------------

def _post_with_links(app, url: str, media: list[dict]) -> None:
    from plugwatch.store import review

    with app.state.store.session() as s:
        users.add_user(s, "rita", "reviewer", PASSWORD)
        review.ingest_records(s, [{
            "id": "x:l1", "platform": "x", "author": "x:linker", "text": "menu in the pics", "url": url,
            "score": 0.9, "flagged": True, "kind": "offer", "reasons": [], "identifiers": [], "media": media}])


MEDIA = [{"url": "/api/export/decisions", "kind": "photo"},
         {"url": "http://testserver/api/export/decisions?limit=5", "kind": "photo"},
         {"url": "data:image/png;base64,iVBORw0KGgo=", "kind": "photo"},
         {"url": "javascript:alert(1)", "kind": "photo"},
         {"url": "http://127.0.0.1:8000/api/export/decisions", "kind": "photo"},
         {"url": "https://cdn.example/menu.jpg", "kind": "photo"}]


@pytest.mark.parametrize("post_url", ["javascript:alert(document.cookie)", "data:text/html,<script>x</script>",
                                      "http://testserver/api/export/decisions", "//testserver/logout"])
def test_links_from_posts_are_web_links_to_other_hosts_only(tmp_path, monkeypatch, post_url):
    import re

    monkeypatch.setenv("PLUGWATCH_SESSION_KEY_FILE", str(tmp_path / "session.key"))
    monkeypatch.delenv("PLUGWATCH_MEDIA_HOSTS", raising=False)
    app = create_app(f"sqlite:///{tmp_path / 's.db'}", detector=object())
    _post_with_links(app, post_url, MEDIA)
    r = sign_in(app, "rita").get("/items/x%3Al1")
    hrefs = re.findall(r'href="([^"]*)"', r.text)
    assert not [h for h in hrefs if not h.startswith(("/", "#", "https://cdn.example/"))], hrefs
    assert not [h for h in hrefs if "export" in h or "logout" in h]
    # no media host configured: nothing is fetched, the one web image is offered as a link only
    assert "data-src=" not in r.text and "<img" not in r.text
    assert 'href="https://cdn.example/menu.jpg"' in r.text
    csp = r.headers["content-security-policy"]
    assert "img-src 'self' data:;" in csp and "https:" not in csp
    app.state.store.dispose()


def test_images_load_only_from_the_configured_media_hosts(tmp_path, monkeypatch):
    monkeypatch.setenv("PLUGWATCH_SESSION_KEY_FILE", str(tmp_path / "session.key"))
    monkeypatch.setenv("PLUGWATCH_MEDIA_HOSTS", "cdn.example, .twimg.example")
    app = create_app(f"sqlite:///{tmp_path / 's.db'}", detector=object())
    _post_with_links(app, "https://x.com/linker/status/1",
                     MEDIA + [{"url": "https://pbs.twimg.example/a.jpg", "kind": "photo"},
                              {"url": "https://evil.example/track.gif", "kind": "photo"}])
    r = sign_in(app, "rita").get("/items/x%3Al1")
    import re

    assert sorted(re.findall(r'data-src="([^"]*)"', r.text)) == ["https://cdn.example/menu.jpg",
                                                                 "https://pbs.twimg.example/a.jpg"]
    assert 'href="https://evil.example/track.gif"' in r.text and 'href="https://x.com/linker/status/1"' in r.text
    csp = r.headers["content-security-policy"]
    assert "https://cdn.example:*" in csp and "https://*.twimg.example:*" in csp and "evil" not in csp
    app.state.store.dispose()


# -- offline API docs and an icon -------------------------------------------------------------------

def test_api_docs_load_nothing_from_other_hosts(small_app):
    import re

    c = TestClient(small_app)
    page = c.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert refs and all(r.startswith("/") and not r.startswith("//") for r in refs), refs
    assert not re.search(r"https?://", page.text.replace("http://www.w3.org", "")), "no external host at all"
    for ref in refs + [small_app.openapi_url]:
        assert c.get(ref).status_code == 200, ref
    assert c.get("/redoc").status_code == 404  # ReDoc would load from a CDN: off
    icon = c.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    declared = re.search(r'<link rel="icon" href="([^"]+)"', c.get("/login").text).group(1)
    assert c.get(declared).status_code == 200


def test_taxii_collections_answer_to_the_names_the_readme_gives(small_app):
    from plugwatch.share import partners

    with small_app.state.store.session() as s:
        other_secret = partners.add(s, "platform-c", "notify-only")[1]
    accept = {"Accept": "application/taxii+json;version=2.1"}
    c = TestClient(small_app)
    b = ("platform-b", small_app.state.partner_secret)
    r = c.get("/taxii2/api/collections/to-platform-b/", headers=accept, auth=b)
    assert r.status_code == 200 and r.json()["alias"] == "to-platform-b" and r.json()["can_read"]
    assert c.get("/taxii2/api/collections/to-platform-b/objects/", headers=accept, auth=b).status_code == 200
    assert c.get("/taxii2/api/collections/to-platform-b/manifest/", headers=accept, auth=b).status_code == 200
    by_id = c.get(f"/taxii2/api/collections/{r.json()['id']}/", headers=accept, auth=b)
    assert by_id.json() == r.json()
    # another partner's collection stays invisible by name too
    r = c.get("/taxii2/api/collections/to-platform-b/", headers=accept, auth=("platform-c", other_secret))
    assert r.status_code == 404


# -- item page: bio identifiers, request scores, reach ---------------------------------------------

def test_bio_links_are_highlighted_and_listed_requests_are_labelled_and_reach_is_never_negative(tmp_path, monkeypatch):
    import re

    from plugwatch.store import review

    monkeypatch.setenv("PLUGWATCH_SESSION_KEY_FILE", str(tmp_path / "session.key"))
    app = create_app(f"sqlite:///{tmp_path / 's.db'}", detector=object())
    bio = "plug for the city. menu on t.me/icecold_shop"
    with app.state.store.session() as s:
        users.add_user(s, "rita", "reviewer", PASSWORD)
        review.ingest_records(s, [
            {"id": "x:b1", "platform": "x", "author": "x:icecold", "text": "restocked, dm", "score": 0.9,
             "flagged": True, "kind": "offer", "reasons": [], "identifiers": [], "reach": 12,
             "account": {"handle": "icecold", "bio": bio, "followers": 5}},
            {"id": "reddit:q1", "platform": "reddit", "author": "reddit:asker", "text": "where to get percs?",
             "score": 0.01, "flagged": False, "kind": "request", "reasons": [], "identifiers": [], "reach": -6,
             "account": {"handle": "asker"}},
        ])
    c = sign_in(app, "rita")
    page = c.get("/items/x%3Ab1").text
    bio_html = re.search(r"<dt>Bio</dt><dd[^>]*>(.*?)</dd>", page, re.S).group(1)
    assert re.search(r'<mark class="hl hl-identifier" title="telegram in the bio">t\.me/icecold_shop</mark>', bio_html)
    row = re.search(r"<tr data-bio-identifier>(.*?)</tr>", page, re.S).group(1)
    assert "telegram:icecold_shop" in row and "links accounts" in row
    queue = c.get("/").text
    request_row = queue[queue.index('data-item-id="reddit:q1"'):]
    assert re.search(r'<span class="score" title="asks to buy[^"]*">buy</span>', request_row)
    item = c.get("/items/reddit%3Aq1").text
    assert "reach -6" not in item and "offer score 0.01" in item
    app.state.store.dispose()


def test_ingest_stores_no_negative_reach(api):
    app, client, tokens = api
    with (EXAMPLES / "reddit_dump.ndjson").open("rb") as fh:
        assert client.post("/api/ingest", headers=bearer(tokens["bot"]), files={"file": ("r.ndjson", fh)}).status_code == 200
    from sqlalchemy import func, select

    from plugwatch.store.schema import Item

    with app.state.store.session() as s:
        assert s.scalar(select(func.min(Item.reach)).where(Item.platform == "reddit")) >= 0
