"""Shared by the enforcement tests: local fake platforms served by uvicorn on a free port, decisions
made through the real review store, a site configuration written to a file."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from plugwatch import wiring
from plugwatch.enforce import config as site_config
from plugwatch.store import review, users


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(app, port: int | None = None):
    """Run the ASGI `app` on 127.0.0.1 in a thread; yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:  # pragma: no cover - the machine is stuck
            raise RuntimeError("fake platform did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def post(n: int, platform: str = "x", author: str | None = None, raw: dict | None = None, native: str | None = None,
         account_id: str | None = None) -> dict:
    author = author or f"{platform}:seller{n}"
    return {
        "id": f"{platform}:{native or n}", "platform": platform, "item_kind": "post", "author": author,
        "created_at": "2025-03-02T10:00:00+00:00", "text": f"selling mdma, wickr plug{n}", "url": None,
        "reply_to": None, "identifiers": [], "score": 0.93, "flagged": True, "kind": "offer", "drugs": ["mdma"],
        "reasons": [{"signal": "drug_terms", "meaning": "names a drug", "text": "mdma", "span": [8, 12]}],
        "account": {"handle": author.split(":", 1)[1], "native_id": account_id or f"10{n}", "display_name": "S",
                    "bio": None, "created_at": None, "followers": None},
        **({"raw": raw} if raw is not None else {}),
    }


def write_config(tmp_path: Path, text: str, monkeypatch) -> Path:
    """Write the site configuration and make it the active one for this test."""
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv(site_config.CONFIG_ENV, str(path))
    return path


def decide_all(store, records: list[dict], action: str = "remove", reason: str = "drug_sale",
               role: str = "lead") -> list[int]:
    """Ingest `records` and decide each as `action`; returns the decision ids."""
    with store.session() as s:
        review.ingest_records(s, records)
        if users.get_user(s, "lee") is None:
            users.add_user(s, "lee", role)
    ids = []
    for rec in records:
        with store.session() as s:
            lead = users.get_user(s, "lee")
            review.claim(s, lead, rec["id"])
            ids.append(review.decide(s, lead, rec["id"], action, reason).id)
    return ids


def overturn(store, item_id: str, action: str = "dismiss", reason: str = "not_drugs") -> int:
    """File an appeal on `item_id` and let a second lead decide it differently."""
    with store.session() as s:
        review.file_appeal(s, item_id, "I was selling vitamins", "lee")
        if users.get_user(s, "ann") is None:
            users.add_user(s, "ann", "lead")
    with store.session() as s:
        ann = users.get_user(s, "ann")
        review.claim(s, ann, item_id)
        return review.decide(s, ann, item_id, action, reason).id


def open_store(db_url: str):
    return wiring.open_store(db_url)


def crash_after_send(store):
    """A worker sends its first effect and dies before recording it; its lease then runs out, so the
    next worker sends the same effect again. Returns the effect's row as claimed."""
    from sqlalchemy import update

    from plugwatch.enforce.worker import Worker
    from plugwatch.store.enforcement_tables import PlatformEffect

    row = Worker(store, site_config.active()).claim()[0]
    Worker(store, site_config.active()).send(row)
    with store.session() as s:
        s.execute(update(PlatformEffect).values(locked_until=row.created_at))
    return row
