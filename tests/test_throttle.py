"""Password guessing is slowed down: after a few failed sign-ins the name is refused for a while,
even with the right password, and a success clears the count."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from plugwatch.service.throttle import NAME_FAILURES, WINDOW_SECONDS, SignInThrottle
from plugwatch.store import users
from plugwatch.wiring import create_app

PASSWORD = "correct horse battery"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_name_is_refused_after_repeated_failures_until_the_window_passes():
    clock = Clock()
    t = SignInThrottle(clock=clock)
    for _ in range(NAME_FAILURES - 1):
        assert t.attempt("Rita", "10.0.0.1") == 0
    assert t.wait_seconds("rita", "10.0.0.1") == 0, "typos are allowed"
    assert t.attempt("rita ", "10.0.0.2") == 0
    assert t.wait_seconds("RITA", "10.0.0.3") > 0, "the name is blocked from any address"
    assert t.wait_seconds("rolf", "10.0.0.1") == 0, "other names from the same address still may"
    clock.now += WINDOW_SECONDS + 1
    assert t.wait_seconds("rita", "10.0.0.1") == 0


def test_an_address_guessing_many_names_is_refused():
    t = SignInThrottle(clock=Clock(), per_address=6)
    for i in range(6):
        t.attempt(f"user{i}", "10.9.9.9")
    assert t.wait_seconds("someone_new", "10.9.9.9") > 0
    assert t.wait_seconds("someone_new", "10.1.1.1") == 0


def test_success_clears_the_names_count():
    t = SignInThrottle(clock=Clock())
    for _ in range(NAME_FAILURES - 1):
        t.attempt("rita", "10.0.0.1")
    t.attempt("rita", "10.0.0.1")
    t.succeeded("rita", "10.0.0.1")  # the fifth was right
    assert t.attempt("rita", "10.0.0.1") == 0


def test_parallel_attempts_cannot_outrun_the_count():
    import threading

    t = SignInThrottle(clock=Clock())
    allowed = []
    threads = [threading.Thread(target=lambda: allowed.append(t.attempt("rita", "10.0.0.1") == 0))
               for _ in range(50)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(allowed) == NAME_FAILURES


def test_memory_stays_bounded_under_a_flood_of_names():
    clock = Clock()
    t = SignInThrottle(clock=clock, max_keys=1000)
    for i in range(5000):
        t.attempt(f"name{i}", f"10.0.{i // 250}.{i % 250}")
    assert len(t._attempts) <= 1000
    clock.now += WINDOW_SECONDS + 1
    t.attempt("late", None)
    assert len(t._attempts) == 1, "expired entries are swept"


@pytest.fixture
def app(db_url):
    app = create_app(db_url)
    with app.state.store.session() as s:
        users.add_user(s, "rita", "reviewer", PASSWORD)
    app.state.throttle = SignInThrottle(clock=(clock := Clock()))
    app.state.test_clock = clock
    yield app
    app.state.store.dispose()


def _try(c: TestClient, password: str):
    token = re.search(r'name="login_token" value="([^"]+)"', c.get("/login").text).group(1)
    return c.post("/login", data={"name": "rita", "password": password, "login_token": token, "next": "/"})


def test_sign_in_page_refuses_after_failures_even_the_right_password(app):
    c = TestClient(app, follow_redirects=False)
    for _ in range(NAME_FAILURES):
        assert _try(c, "guess").status_code == 401
    r = _try(c, PASSWORD)
    assert r.status_code == 429
    assert "Too many failed sign-ins" in r.text and int(r.headers["Retry-After"]) > 0
    assert "pw_session" not in r.cookies
    app.state.test_clock.now += WINDOW_SECONDS + 1
    assert _try(c, PASSWORD).status_code == 303


def test_taxii_partners_are_throttled_too(app):
    from plugwatch.share import partners

    with app.state.store.session() as s:
        _, secret = partners.add(s, "platform-b", "notify-only")
    c = TestClient(app)
    accept = {"Accept": "application/taxii+json;version=2.1"}
    for _ in range(NAME_FAILURES):
        assert c.get("/taxii2/api/collections/", headers=accept, auth=("platform-b", "wrong")).status_code == 401
    assert c.get("/taxii2/api/collections/", headers=accept, auth=("platform-b", secret)).status_code == 429
    app.state.test_clock.now += WINDOW_SECONDS + 1
    assert c.get("/taxii2/api/collections/", headers=accept, auth=("platform-b", secret)).status_code == 200
