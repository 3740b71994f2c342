"""Faults: the platform answers 500, answers too late, or the worker process is killed (SIGKILL) after
the platform applied an effect and before the worker recorded it. After recovery every decision's
effect was applied exactly once on the fake platform and none is lost. And no configured credential
appears in the database, the audit log, the worker's log or an error message."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from enforce_helpers import decide_all, open_store, post, serving, write_config
from fastapi import FastAPI, Request, Response
from sqlalchemy import select, text

from plugwatch.enforce.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from plugwatch.store.enforcement_tables import PlatformEffect
from plugwatch.store.tables import METADATA

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec-fault-5b0d8e61a4c2f7"
DECISIONS = 30


class FlakyPlatform:
    """Applies each Idempotency-Key once. Request 3 and 11 get a 500; request 7 is applied but
    answered after the client gave up; request 15 is applied and then held until the test has killed
    the worker waiting for it."""

    def __init__(self):
        self.n = 0
        self.applied: Counter = Counter()
        self.received: Counter = Counter()
        self.kill_now = threading.Event()
        self.lock = threading.Lock()
        self.app = FastAPI()

        @self.app.post("/hook")
        async def hook(request: Request) -> Response:
            raw = await request.body()
            if not verify(SECRET, request.headers[TIMESTAMP_HEADER], raw, request.headers[SIGNATURE_HEADER]):
                return Response("bad signature", 401)
            key = request.headers["idempotency-key"]
            with self.lock:
                self.n += 1
                n = self.n
                self.received[key] += 1
            if n in (3, 11):
                return Response(f"broken, auth header was {request.headers[SIGNATURE_HEADER]}", 500)
            with self.lock:
                first = key not in self.applied
                self.applied[key] += 1 if first else 0
            if n == 7:
                time.sleep(1.5)  # past the client's timeout: applied, but the worker sees a timeout
            if n == 15:
                self.kill_now.set()
                time.sleep(5)
            return Response(json.dumps({"applied": first}), 200, media_type="application/json")


def _worker(db: str, config: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PW_FAULT_SECRET": SECRET}
    return subprocess.Popen([sys.executable, "-m", "plugwatch.cli", "worker", "run", "--db", db, "--config", str(config),
                             "--poll", "0.1", "--batch", "5", *extra], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _states(store) -> Counter:
    with store.session() as s:
        return Counter(s.scalars(select(PlatformEffect.state)))


def test_killed_worker_500s_and_timeouts_still_apply_every_effect_exactly_once(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("PW_FAULT_SECRET", SECRET)
    platform = FlakyPlatform()
    with serving(platform.app) as url:
        config = write_config(tmp_path, f"""
[backends.shop]
kind = "webhook"
url = "{url}/hook"
secret = {{ env = "PW_FAULT_SECRET" }}
timeout = 0.5
max_attempts = 10
""", monkeypatch)
        store = open_store(db_url)
        decide_all(store, [post(i) for i in range(DECISIONS)], action="remove")
        first = _worker(db_url, config, "--lease", "2")
        assert platform.kill_now.wait(60), "the platform never saw its 15th request"
        first.send_signal(signal.SIGKILL)  # after the platform applied it, before the worker recorded it
        first.wait(10)
        logs = first.stderr.read()
        assert _states(store)["sending"] >= 1  # the killed worker's claim is left behind
        second = _worker(db_url, config, "--lease", "2")
        deadline = time.monotonic() + 90
        while _states(store)["delivered"] < DECISIONS and time.monotonic() < deadline:
            time.sleep(0.2)
        second.send_signal(signal.SIGTERM)
        second.wait(20)
        logs += second.stderr.read()
    assert _states(store) == {"delivered": DECISIONS}  # none lost
    with store.session() as s:
        keys = set(s.scalars(select(PlatformEffect.idempotency_key)))
        retried = s.scalar(select(text("count(*)")).select_from(PlatformEffect).where(PlatformEffect.attempts > 1))
    assert set(platform.applied) == keys and all(n == 1 for n in platform.applied.values())  # exactly once
    assert sum(platform.received.values()) > DECISIONS and retried >= 3  # the 500s, the timeout, the kill
    assert "effect" in logs and SECRET not in logs
    assert_no_secret(store, [SECRET])
    store.dispose()


def assert_no_secret(store, secrets: list[str]) -> None:
    """No row of any table, audit entries included, holds a configured secret."""
    with store.engine.connect() as conn:
        for table in METADATA.sorted_tables:
            for row in conn.execute(table.select()):
                dump = json.dumps([str(v) for v in row], ensure_ascii=False)
                for secret in secrets:
                    assert secret not in dump, f"a secret is stored in {table.name}"


def test_no_credential_reaches_the_database_the_audit_log_the_logs_or_an_error(db_url, tmp_path, monkeypatch, caplog):
    import logging

    from fake_platforms import FakeMastodon

    from plugwatch.enforce import config as site_config
    from plugwatch.enforce.worker import Worker, retry

    token = "mastodon-secret-token-e3b9d1a7"
    monkeypatch.setenv("PW_LEAK_TOKEN", token)
    monkeypatch.setenv("PW_LEAK_HOOK", SECRET)
    fake = FakeMastodon(token)
    with serving(fake.app) as url:
        write_config(tmp_path, f"""
[backends.social]
kind = "mastodon"
platforms = ["mastodon"]
url = "{url}"
token = {{ env = "PW_LEAK_TOKEN" }}
max_attempts = 2
[backends.hook]
kind = "webhook"
url = "http://127.0.0.1:9/hook"
secret = {{ env = "PW_LEAK_HOOK" }}
max_attempts = 1
""", monkeypatch)
        store = open_store(db_url)
        decide_all(store, [post(1, platform="mastodon", native="55", account_id="77")], action="suspend")
        fake.fail_next = 10  # Mastodon answers 500 with the Authorization header in the error body
        caplog.set_level(logging.INFO, logger="plugwatch")
        worker = Worker(store, site_config.active(), backoff_base=0.001)
        worker.drain()
        time.sleep(0.05)
        worker.drain()
        with store.session() as s:
            for row in s.scalars(select(PlatformEffect)):
                if row.state == "dead":
                    retry(s, row.id, "lee")  # an audit entry about the effect
        errors = []
        with store.session() as s:
            errors = [r.last_error for r in s.scalars(select(PlatformEffect))]
    assert "you sent Bearer [secret]" in caplog.text  # the platform echoed the credential: blanked out
    assert fake.requests and all(r["auth"] == f"Bearer {token}" for r in fake.requests)  # it was really sent
    for secret in (token, SECRET):
        assert all(secret not in (e or "") for e in errors)
        assert secret not in caplog.text
    assert_no_secret(store, [token, SECRET])
    store.dispose()
