"""Password guessing is slowed down: after a few failed sign-ins a name is refused from that client
address for a while, even with the right password, and a success clears the count. A stranger's
failures do not lock out the real user (or a TAXII partner's feed) at its own address."""

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


def test_a_name_is_refused_from_an_address_after_repeated_failures_until_the_window_passes():
    clock = Clock()
    t = SignInThrottle(clock=clock)
    for _ in range(NAME_FAILURES - 1):
        assert t.attempt("Rita", "10.0.0.1") == 0
    assert t.wait_seconds("rita", "10.0.0.1") == 0, "typos are allowed"
    assert t.attempt("rita ", "10.0.0.1") == 0
    assert t.wait_seconds("RITA", "10.0.0.1") > 0, "the name is blocked from that address"
    assert t.wait_seconds("rita", "10.0.0.3") == 0, "the real user at her own address is not locked out"
    assert t.wait_seconds("rolf", "10.0.0.1") == 0, "other names from the same address still may"
    clock.now += WINDOW_SECONDS + 1
    assert t.wait_seconds("rita", "10.0.0.1") == 0


def test_an_ipv6_client_counts_as_its_64_network():
    t = SignInThrottle(clock=Clock())
    for i in range(NAME_FAILURES):
        t.attempt("rita", f"2001:db8:1:2::{i + 1:x}")  # a new address from the same /64 each time
    assert t.wait_seconds("rita", "2001:db8:1:2::ffff") > 0
    assert t.wait_seconds("rita", "2001:db8:1:3::1") == 0


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
    c = TestClient(app, follow_redirects=False, client=("203.0.113.9", 40000))
    for _ in range(NAME_FAILURES):
        assert _try(c, "guess").status_code == 401
    r = _try(c, PASSWORD)
    assert r.status_code == 429
    assert "Too many failed sign-ins" in r.text and int(r.headers["Retry-After"]) > 0
    assert "pw_session" not in r.cookies
    # the real user, from her usual address, is not locked out by the stranger's guesses
    rita = TestClient(app, follow_redirects=False, client=("198.51.100.7", 40000))
    assert _try(rita, PASSWORD).status_code == 303
    app.state.test_clock.now += WINDOW_SECONDS + 1
    assert _try(c, PASSWORD).status_code == 303


def test_taxii_partners_are_throttled_too(app):
    from plugwatch.share import partners

    with app.state.store.session() as s:
        _, secret = partners.add(s, "platform-b", "notify-only")
    c = TestClient(app, client=("203.0.113.9", 40000))
    accept = {"Accept": "application/taxii+json;version=2.1"}
    for _ in range(NAME_FAILURES):
        assert c.get("/taxii2/api/collections/", headers=accept, auth=("platform-b", "wrong")).status_code == 401
    r = c.get("/taxii2/api/collections/", headers=accept, auth=("platform-b", secret))
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0  # as the README promises
    # the partner's own feed, from its own address, keeps working (many requests, each authenticated)
    feed = TestClient(app, client=("198.51.100.20", 40000))
    for _ in range(3 * NAME_FAILURES):
        assert feed.get("/taxii2/api/collections/", headers=accept, auth=("platform-b", secret)).status_code == 200
    app.state.test_clock.now += WINDOW_SECONDS + 1
    assert c.get("/taxii2/api/collections/", headers=accept, auth=("platform-b", secret)).status_code == 200
