"""Reviewers claiming at the same time through a real HTTP server never get the same item: eight
reviewers, each on its own connection and thread, work a queue of 60 items to the end."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn
from test_store import record

from plugwatch.store import review, users
from plugwatch.wiring import create_app

ITEMS = 60
REVIEWERS = [f"rev{i}" for i in range(8)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(db_url):
    app = create_app(db_url, detector=object())  # no scoring here: records arrive already scored
    with app.state.store.session() as s:
        review.ingest_records(s, [record(i, author=f"x:s{i % 7}") for i in range(ITEMS)])
        tokens = {name: users.add_user(s, name, "reviewer")[1] for name in REVIEWERS}
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        if not thread.is_alive():
            pytest.fail("server did not start")
        threading.Event().wait(0.02)
    yield f"http://127.0.0.1:{port}", tokens, app
    srv.should_exit = True
    thread.join(10)
    app.state.store.dispose()


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
