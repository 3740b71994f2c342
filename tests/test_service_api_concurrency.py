"""Reviewers claiming at the same time through a real HTTP server never get the same item: eight
reviewers, each on its own connection and thread, work a queue of 60 items to the end. Simultaneous
appeals, and an approval racing a rejection of one disclosure request, give one success and clean
refusals (409 / 422), never a 500. (Every transition is raced without HTTP in
tests/test_transitions_concurrent.py.)"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from test_store import record

from plugwatch.store import review, users
from plugwatch.wiring import create_app
from tests.servers import serving

ITEMS = 60
REVIEWERS = [f"rev{i}" for i in range(8)]


@pytest.fixture
def server(db_url):
    app = create_app(db_url, detector=object())  # no scoring here: records arrive already scored
    with app.state.store.session() as s:
        review.ingest_records(s, [record(i, author=f"x:s{i % 7}") for i in range(ITEMS)])
        tokens = {name: users.add_user(s, name, "reviewer")[1] for name in REVIEWERS}
    with serving(app) as base:
        yield base, tokens, app


def at_once(base: str, calls: list[tuple[str, str, str, dict | None]]) -> list[httpx.Response]:
    """Each (token, method, path, json) on its own client and thread, released together."""
    start = threading.Barrier(len(calls))

    def send(call):
        token, method, path, body = call
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            start.wait()
            return client.request(method, path, json=body)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(send, calls))


def work_queue(base: str, token: str, who: str) -> list[tuple[str, str]]:
    """Claim and decide until the queue is empty; returns (reviewer, item) for each claim granted."""
    got = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        while True:
            r = client.post("/api/queue/claim")
            if r.status_code == 204:
                return got
            assert r.status_code == 200, r.text
            item = r.json()["item"]["id"]
            got.append((who, item))
            d = client.post(f"/api/items/{item}/decision", json={"action": "remove", "policy_reason": "drug_sale"})
            assert d.status_code == 200, d.text


def test_concurrent_reviewers_never_share_an_item(server):
    base, tokens, app = server
    start = threading.Barrier(len(REVIEWERS))

    def job(name):
        start.wait()  # all reviewers begin together
        return work_queue(base, tokens[name], name)

    with ThreadPoolExecutor(len(REVIEWERS)) as pool:
        results = list(pool.map(job, REVIEWERS))
    claims = [c for r in results for c in r]
    times = Counter(item for _, item in claims)
    shared = {item: n for item, n in times.items() if n > 1}
    assert not shared, f"items granted to more than one reviewer: {shared}"
    assert len(times) == ITEMS  # every item was worked
    busy = Counter(who for who, _ in claims)
    assert len(busy) >= 2  # several reviewers really worked in parallel
    with app.state.store.session() as s:
        stats = review.queue_stats(s)
    assert stats["pending"] == 0 and stats["decisions"] == ITEMS  # each item decided exactly once


def test_simultaneous_appeals_over_http_open_one(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("PLUGWATCH_KEY_DIR", str(tmp_path / "keys"))
    app = create_app(db_url, detector=object())
    with app.state.store.session() as s:
        review.ingest_records(s, [record(i) for i in range(5)])
        rev = users.add_user(s, "rev", "reviewer")[0]
        appealers = [users.add_user(s, f"lead{i}", "lead")[1] for i in range(3)] + \
                    [users.add_user(s, f"adm{i}", "admin")[1] for i in range(3)]
        for i in range(5):
            review.claim(s, rev, f"x:{i}")
            review.decide(s, rev, f"x:{i}", "remove", "drug_sale")
    with serving(app) as base:
        for i in range(5):
            answers = at_once(base, [(token, "POST", f"/api/items/x:{i}/appeal", {"reason": f"not mine {n}"})
                                     for n, token in enumerate(appealers)])
            codes = sorted(r.status_code for r in answers)
            assert codes == [200] + [409] * (len(appealers) - 1), [r.text for r in answers]
        with app.state.store.session() as s:
            assert review.queue_stats(s)["open_appeals"] == 5


def test_approve_racing_reject_over_http_gives_one_outcome(db_url, tmp_path, monkeypatch):
    from test_evidence_support import make_store, use_signing_key
    from test_evidence_support import record as legal_record

    from plugwatch.evidence import requests as rq

    use_signing_key(tmp_path / "keys", monkeypatch)
    make_store(db_url).dispose()  # users rev, lead1, ann and bob (legal), root
    app = create_app(db_url, detector=object())
    with app.state.store.session() as s:
        review.ingest_records(s, [legal_record(1)])
        tokens = {name: users.reset_token(s, name) for name in ("ann", "bob")}
        tokens["cara"] = users.add_user(s, "cara", "legal")[1]
    body = {"agency": "NCA", "legal_basis": "production order", "reference": "NCA-1",
            "accounts": ["telegram:shop_one"]}
    with serving(app) as base, httpx.Client(base_url=base, headers={"Authorization": f"Bearer {tokens['ann']}"}) as ann:
        for _ in range(5):
            rid = ann.post("/api/legal/requests", json=body).json()["id"]
            answers = at_once(base, [(tokens["bob"], "POST", f"/api/legal/requests/{rid}/approve", {"note": "ok"}),
                                     (tokens["cara"], "POST", f"/api/legal/requests/{rid}/reject", {"note": "no"})])
            assert sorted(r.status_code for r in answers) == [200, 422], [r.text for r in answers]
            won = next(r.json()["state"] for r in answers if r.status_code == 200)
            assert "not a draft" in next(r.text for r in answers if r.status_code == 422)
            export = ann.post(f"/api/legal/requests/{rid}/export")
            assert export.status_code == (200 if won == "approved" else 422)
            with app.state.store.session() as s:
                assert [e["action"] for e in rq.custody_of(s, int(rid))][:2] == ["created", won]
