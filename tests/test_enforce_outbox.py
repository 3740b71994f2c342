"""The transactional outbox: effects are written with the decision, delivered by the worker with
retries and backoff, dead-lettered, retried by a lead; dry run; the webhook back-end against a local
receiver that verifies the signature and applies each idempotency key once."""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager

import pytest
from enforce_helpers import decide_all, open_store, overturn, post, serving, write_config
from fastapi import FastAPI, Request, Response
from sqlalchemy import select

from plugwatch.enforce import config as site_config
from plugwatch.enforce.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from plugwatch.enforce.worker import Worker, backoff, retry
from plugwatch.errors import UserError
from plugwatch.store import review, users
from plugwatch.store.enforcement_tables import Notice, PlatformEffect
from plugwatch.store.schema import AuditEntry

SECRET = "whsec-test-3f9a1c77e0b24d"


class Receiver:
    """A platform's own back end: verifies the HMAC, applies each Idempotency-Key once, can fail."""

    def __init__(self, secret: str = SECRET):
        self.secret = secret
        self.requests: list[dict] = []
        self.applied: dict[str, dict] = {}
        self.fail_next = 0  # answer 500 to this many requests
        self.slow_next = 0  # sleep past the client's timeout on this many
        self.lock = threading.Lock()
        self.app = FastAPI()

        @self.app.post("/hook")
        async def hook(request: Request) -> Response:
            raw = await request.body()
            ts, sig = request.headers.get(TIMESTAMP_HEADER, ""), request.headers.get(SIGNATURE_HEADER, "")
            with self.lock:
                self.requests.append({"method": request.method, "path": request.url.path, "body": json.loads(raw),
                                      "key": request.headers.get("idempotency-key"), "signed": verify(self.secret, ts, raw, sig)})
                if self.fail_next:
                    self.fail_next -= 1
                    return Response(f"upstream broke (auth was {request.headers.get(SIGNATURE_HEADER)})", 500)
                slow = self.slow_next > 0
                self.slow_next -= 1 if slow else 0
            if slow:
                time.sleep(1.5)
            if not verify(self.secret, ts, raw, sig):
                return Response("bad signature", 401)
            key = request.headers["idempotency-key"]
            with self.lock:
                if key in self.applied:
                    return Response('{"duplicate": true}', 200, media_type="application/json")
                self.applied[key] = json.loads(raw)
            return Response('{"ok": true}', 200, media_type="application/json")


def webhook_config(url: str, shadow: bool = False, extra: str = "") -> str:
    return f"""
[backends.shop]
kind = "webhook"
platforms = ["x"]
url = "{url}/hook"
secret = {{ env = "PW_TEST_WEBHOOK_SECRET" }}
shadow = {str(shadow).lower()}
max_attempts = 3
timeout = 0.5
{extra}
"""


@contextmanager
def webhook_site(db_url, tmp_path, monkeypatch, records, action="remove", config=webhook_config):
    """A receiving platform, a site configuration pointing at it, and `records` decided as `action`:
    yields (receiver, store) while the platform is up."""
    receiver = Receiver()
    with serving(receiver.app) as url:
        write_config(tmp_path, config(url), monkeypatch)
        store = open_store(db_url)
        decide_all(store, records, action=action)
        yield receiver, store


@pytest.fixture
def secret_env(monkeypatch):
    monkeypatch.setenv("PW_TEST_WEBHOOK_SECRET", SECRET)


def effects(store) -> list[PlatformEffect]:
    with store.session() as s:
        return list(s.scalars(select(PlatformEffect).order_by(PlatformEffect.id)))


def test_a_decision_and_its_effect_and_notice_commit_together_or_not_at_all(db_url, tmp_path, monkeypatch, secret_env):
    write_config(tmp_path, webhook_config("http://127.0.0.1:9"), monkeypatch)
    store = open_store(db_url)
    decide_all(store, [post(1)])
    rows = effects(store)
    assert [(r.backend, r.effect, r.operation, r.state) for r in rows] == [("shop", "remove_content", "remove_content", "pending")]
    assert rows[0].idempotency_key == f"plugwatch-{rows[0].decision_id}-shop-remove_content"
    with store.session() as s:
        notice = s.scalars(select(Notice)).one()
    assert "removed your post" in notice.text and "appeal" in notice.text.lower()
    # A hook failure after the effect is written rolls the decision back with it.
    with store.session() as s:
        review.ingest_records(s, [post(2)])
        lead = users.get_user(s, "lee")
        review.claim(s, lead, "x:2")
    monkeypatch.setattr("plugwatch.enforce.outbox._statement", lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError), store.session() as s:
        review.decide(s, users.get_user(s, "lee"), "x:2", "remove", "drug_sale")
    assert len(effects(store)) == 1
    store.dispose()


def test_items_of_platforms_a_backend_does_not_serve_and_dismissals_enqueue_nothing(db_url, tmp_path, monkeypatch, secret_env):
    write_config(tmp_path, webhook_config("http://127.0.0.1:9"), monkeypatch)
    store = open_store(db_url)
    decide_all(store, [post(1, platform="telegram")])
    decide_all(store, [post(2)], action="dismiss", reason="not_drugs")
    assert effects(store) == []
    store.dispose()


def test_webhook_delivery_is_signed_carries_the_decision_and_is_applied_once(db_url, tmp_path, monkeypatch, secret_env):
    with webhook_site(db_url, tmp_path, monkeypatch, [post(1), post(2)], "suspend") as (receiver, store):
        worker = Worker(store, site_config.active())
        assert worker.drain().get("delivered") == 2
        assert worker.drain() == {}  # nothing left
    assert [r.state for r in effects(store)] == ["delivered", "delivered"]
    first = receiver.requests[0]
    assert first["method"] == "POST" and first["path"] == "/hook" and first["signed"]
    body = first["body"]
    assert body["action"] == "suspend" and body["effect"] == "suspend_account" and body["policy_reason"] == "drug_sale"
    assert body["subject"]["kind"] == "account" and body["subject"]["account"]["native_id"] == "101"
    assert body["evidence"]["signals"] == ["names a drug"] and "suspended your account" in body["notice"]
    assert first["key"] == body["idempotency_key"] == effects(store)[0].idempotency_key
    assert len(receiver.applied) == 2
    store.dispose()


def test_failures_back_off_then_die_and_a_lead_retries_them(db_url, tmp_path, monkeypatch, secret_env):
    with webhook_site(db_url, tmp_path, monkeypatch, [post(1)]) as (receiver, store):
        worker = Worker(store, site_config.active(), backoff_base=0.01)
        receiver.fail_next = 1
        assert worker.run_once() == {"failed": 1}
        row = effects(store)[0]
        assert row.state == "failed" and row.attempts == 1 and "HTTP 500" in row.last_error
        assert SECRET not in row.last_error
        receiver.slow_next = 1  # a timeout counts as a failure too
        time.sleep(0.05)
        assert worker.run_once() == {"failed": 1}
        assert "Timeout" in effects(store)[0].last_error
        receiver.fail_next = 1
        time.sleep(0.1)
        assert worker.run_once() == {"dead": 1}  # max_attempts = 3
        assert worker.run_once() == {}  # dead letters are not picked up again
        with store.session() as s:
            retry(s, row.id, "lee")
        assert worker.run_once() == {"delivered": 1}
    assert len(receiver.applied) == 1
    with store.session() as s:
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "effect.retry")).one().details["was"] == "dead"
        with pytest.raises(review.ReviewError, match="delivered"):
            retry(s, row.id, "lee")
    store.dispose()


def test_backoff_is_exponential_capped_and_jittered():
    assert backoff(1, 2, rng=lambda: 0) == 1 and backoff(1, 2, rng=lambda: 1) == 2
    assert backoff(4, 2, rng=lambda: 1) == 16 and backoff(30, 2, cap=3600, rng=lambda: 1) == 3600
    assert len({backoff(3) for _ in range(20)}) > 1


def test_shadow_mode_and_log_operations_record_without_sending(db_url, tmp_path, monkeypatch, secret_env):
    def config(url):
        return webhook_config(url, shadow=True) + f"""
[backends.dry]
kind = "dryrun"
[backends.partial]
kind = "webhook"
url = "{url}/hook"
[backends.partial.operations]
remove_content = "log"
"""

    with webhook_site(db_url, tmp_path, monkeypatch, [post(1)], config=config) as (receiver, store):
        assert Worker(store, site_config.active()).drain() == {"logged": 3}
    assert receiver.requests == []
    for row in effects(store):
        assert row.state == "logged" and row.response["dry_run"] is True
        assert row.response["would_send"]["payload"]["decision_id"] == row.decision_id
    store.dispose()


def test_an_overturned_appeal_reverses_what_was_sent_and_cancels_what_was_not(db_url, tmp_path, monkeypatch, secret_env):
    with webhook_site(db_url, tmp_path, monkeypatch, [post(1), post(2)], "suspend") as (receiver, store):
        worker = Worker(store, site_config.active())
        worker.run_once(batch=1)  # x:1's suspension reaches the platform, x:2's does not yet
        overturn(store, "x:1")
        overturn(store, "x:2")
        worker.drain()
    by_item = {}
    for row in effects(store):
        by_item.setdefault(row.item_id, []).append((row.effect, row.state))
    assert by_item["x:1"] == [("suspend_account", "delivered"), ("unsuspend_account", "delivered")]
    assert by_item["x:2"] == [("suspend_account", "cancelled")]
    unsuspend = [b for b in receiver.applied.values() if b["effect"] == "unsuspend_account"]
    assert len(unsuspend) == 1 and unsuspend[0]["reverses"]["effect"] == "suspend_account"
    with store.session() as s:
        assert s.scalars(select(Notice).where(Notice.kind == "reversed")).all()
    store.dispose()


def test_a_held_action_waits_for_a_lead(db_url, tmp_path, monkeypatch, secret_env):
    from dataclasses import replace

    from plugwatch import actions

    monkeypatch.setitem(actions.ACTIONS, "suspend", replace(actions.ACTIONS["suspend"], automatable=False))
    write_config(tmp_path, webhook_config("http://127.0.0.1:9"), monkeypatch)
    store = open_store(db_url)
    decide_all(store, [post(1)], action="suspend")
    assert [r.state for r in effects(store)] == ["held"]
    assert Worker(store, site_config.active()).run_once() == {}
    with store.session() as s:
        retry(s, effects(store)[0].id, "lee")
    assert effects(store)[0].state == "pending"
    store.dispose()


@pytest.mark.parametrize("text, message", [
    ('[backends.a]\nkind = "telex"', "kind: 'telex' is not one of"),
    ('[backends.a]\nkind = "webhook"\nurl = "https://x"\nsecret = "s3cr3t"', "never the secret itself"),
    ('[backends.a]\nkind = "webhook"\nurl = "https://x"\n[backends.a.operations]\nban = "x"', "ban: not an effect"),
    ('[backends.a]\nkind = "mastodon"\nurl = "https://x"\n[backends.a.operations]\nsuspend_account = "nuke"',
     "'nuke' is not a mastodon operation"),
    ('[dsa]\nterritorial_scope = ["US"]', "territorial_scope"),
    ("[backends.a\n", "not valid TOML"),
])
def test_a_bad_site_configuration_names_the_file_and_the_key(tmp_path, text, message):
    path = tmp_path / "site.toml"
    path.write_text(text)
    with pytest.raises(UserError, match=message) as e:
        site_config.load(path)
    assert str(path) in str(e.value)
