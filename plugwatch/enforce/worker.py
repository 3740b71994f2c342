"""The outbox worker: takes due effects under a lease, sends each through its back-end, records the answer.

    claim  (one short transaction)  pending/failed and due, or `sending` whose lease ran out (a worker
                                    died mid-delivery): state=sending, locked_by=me, attempts+1.
                                    On PostgreSQL the rows are picked FOR UPDATE SKIP LOCKED, so
                                    several workers share the outbox without waiting on each other.
    send   (no transaction open)    with the effect's idempotency key.
    record (one short transaction)  only while the lease is still ours: delivered / logged, or failed
                                    with the next attempt after exponential backoff with jitter, or
                                    dead after max_attempts or a permanent refusal.

A worker killed between send and record leaves the row `sending`; when the lease runs out another
worker sends it again with the same key, and the back-end makes sure the platform applies it once.
Errors are stored and logged with every configured secret blanked out.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update

from plugwatch.enforce import backends as registry
from plugwatch.enforce.backends import DeliveryError, EffectRequest, Permanent, Transient
from plugwatch.enforce.config import LOG, SiteConfig
from plugwatch.enforce.outbox import DSA_BACKEND
from plugwatch.errors import UserError
from plugwatch.store import audit
from plugwatch.store.enforcement_tables import PlatformEffect
from plugwatch.store.review import ReviewError
from plugwatch.store.schema import utcnow

log = logging.getLogger("plugwatch.enforce.worker")
LEASE_SECONDS = 120
BACKOFF_BASE = 2.0  # seconds before the second attempt
BACKOFF_CAP = 3600.0
RETRYABLE = ("failed", "dead", "held")


def backoff(attempts: int, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP, rng=random.random) -> float:
    """Seconds before the next attempt after `attempts` failed ones: exponential, capped, with "equal
    jitter" (half fixed, half random) so workers that failed together do not retry together."""
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return delay / 2 + rng() * delay / 2


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[secret]")
    return text


def _scrub_value(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {k: _scrub_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_value(v, secrets) for v in value]
    return value


def _due(now: datetime):
    return or_(and_(PlatformEffect.state.in_(("pending", "failed")), PlatformEffect.next_attempt_at <= now),
               and_(PlatformEffect.state == "sending", PlatformEffect.locked_until < now))


class Worker:
    def __init__(self, store, config: SiteConfig, name: str | None = None, lease_seconds: int = LEASE_SECONDS,
                 backoff_base: float = BACKOFF_BASE):
        self.store = store
        self.config = config
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"
        self.lease = lease_seconds
        self.backoff_base = backoff_base
        self._backends: dict[str, Any] = {}
        self.secrets = config.secret_values()

    # -- claim, send, record ------------------------------------------------------------------------
    def claim(self, limit: int = 20, now: datetime | None = None) -> list[PlatformEffect]:
        now = now or utcnow()

        def work(s):
            query = select(PlatformEffect.id).where(_due(now)).order_by(PlatformEffect.id).limit(limit)
            if s.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list(s.scalars(query))
            if not ids:
                return []
            s.execute(update(PlatformEffect).where(PlatformEffect.id.in_(ids), _due(now)).values(
                state="sending", locked_by=self.name, locked_until=now + timedelta(seconds=self.lease),
                attempts=PlatformEffect.attempts + 1).execution_options(synchronize_session=False))
            return list(s.scalars(select(PlatformEffect).where(PlatformEffect.id.in_(ids),
                                                               PlatformEffect.locked_by == self.name)
                                  .order_by(PlatformEffect.id)))

        return self.store.transact(work)

    def _backend(self, name: str):
        if name not in self._backends:
            if name == DSA_BACKEND:
                self._backends[name] = registry.module_of("dsa").Backend(self.config.dsa)
            else:
                cfg = self.config.backends.get(name)
                if cfg is None:
                    raise Permanent(f"back-end {name!r} is no longer in the site configuration")
                self._backends[name] = registry.module_of(cfg.kind).Backend(cfg)
        return self._backends[name]

    def _max_attempts(self, name: str) -> int:
        if name == DSA_BACKEND:
            return self.config.dsa.max_attempts
        cfg = self.config.backends.get(name)
        return cfg.max_attempts if cfg else 1

    def send(self, row: PlatformEffect) -> tuple[str, dict[str, Any] | None, DeliveryError | None]:
        """(state, platform answer, error) for one claimed row; never raises."""
        request = EffectRequest(row.id, row.effect, row.operation, row.idempotency_key, row.payload, row.attempts)
        if row.shadow or row.operation == LOG:
            if row.shadow and row.operation != LOG:
                try:  # what live delivery would refuse is refused in a dry run too, so it shows before going live
                    check = getattr(self._backend(row.backend), "check", None)
                    if check is not None:
                        check(request)
                except (DeliveryError, UserError) as e:
                    return "failed", None, Permanent(f"dry run: {e}")
                except Exception as e:  # noqa: BLE001 - an odd subject or a missing client library: never raise
                    return "failed", None, Permanent(f"dry run: {type(e).__name__}: {e}")
            return "logged", {"dry_run": True, "would_send": {"operation": row.operation, "payload": row.payload}}, None
        try:
            answer = self._backend(row.backend).send(request)
        except DeliveryError as e:
            return "failed", None, e
        except UserError as e:  # a credential that cannot be read: fix the configuration, then retry
            return "failed", None, Permanent(str(e))
        except Exception as e:  # noqa: BLE001 - a client library's own error: retried, recorded without secrets
            return "failed", None, Transient(f"{type(e).__name__}: {e}")
        state = "logged" if isinstance(answer, dict) and answer.get("dry_run") else "delivered"
        return state, answer, None

    def _outcome(self, row: PlatformEffect, state: str, answer: dict[str, Any] | None, error: DeliveryError | None,
                 now: datetime) -> dict[str, Any]:
        values: dict[str, Any] = {"locked_by": None, "locked_until": None}
        if error is None:
            values.update(state=state, delivered_at=now, last_error=None,
                          response=_scrub_value(answer, self.secrets) if answer is not None else None)
        else:
            message = scrub(str(error), self.secrets)[:2000]
            dead = error.permanent or row.attempts >= self._max_attempts(row.backend)
            values.update(state="dead" if dead else "failed", last_error=message)
            if not dead:
                values["next_attempt_at"] = now + timedelta(seconds=backoff(row.attempts, self.backoff_base))
        return values

    def record(self, row: PlatformEffect, state: str, answer: dict[str, Any] | None, error: DeliveryError | None,
               now: datetime | None = None) -> str:
        return self.record_many([(row, state, answer, error)], now)[0]

    def record_many(self, results: list[tuple], now: datetime | None = None) -> list[str]:
        """Record sent effects in one transaction (one write lock for a whole batch), each only while
        its lease is still ours. Returns each one's final state, or `lost`."""
        now = now or utcnow()
        outcomes = [(row, self._outcome(row, state, answer, error, now)) for row, state, answer, error in results]

        def work(s):
            done = []
            for row, values in outcomes:
                res = s.execute(update(PlatformEffect).where(PlatformEffect.id == row.id,
                                                             PlatformEffect.locked_by == self.name,
                                                             PlatformEffect.state == "sending")
                                .values(**values).execution_options(synchronize_session=False))
                done.append(values["state"] if res.rowcount == 1 else "lost")
            return done

        states = self.store.transact(work)
        for (row, values), state in zip(outcomes, states, strict=True):
            if state == "lost":
                log.warning("effect %s: lease lost before recording (another worker took it over)", row.id)
            elif values.get("last_error"):
                log.warning("effect %s (%s %s -> %s) %s after attempt %s: %s", row.id, row.backend, row.effect,
                            row.operation, state, row.attempts, values["last_error"])
            else:
                log.info("effect %s (%s %s -> %s) %s", row.id, row.backend, row.effect, row.operation, state)
        return states

    def run_once(self, batch: int = 20) -> Counter:
        """Claim one batch and deliver it; returns how many ended in each state."""
        results = [(row, *self.send(row)) for row in self.claim(batch)]
        return Counter(self.record_many(results)) if results else Counter()

    def drain(self, batch: int = 20, limit: int | None = None) -> Counter:
        """Deliver until nothing is due (or `limit` deliveries)."""
        total: Counter = Counter()
        while limit is None or sum(total.values()) < limit:
            got = self.run_once(batch)
            if not got:
                break
            total += got
        return total

    def run(self, stop: threading.Event, poll: float = 1.0, batch: int = 20) -> None:
        """Deliver until `stop` is set, looking for due work every `poll` seconds when idle."""
        log.info("worker %s started", self.name)
        while not stop.is_set():
            try:
                got = self.run_once(batch)
            except Exception as e:  # noqa: BLE001 - a database hiccup must not end the worker
                log.error("worker %s: %s", self.name, scrub(f"{type(e).__name__}: {e}", self.secrets))
                got = Counter()
            if not got:
                stop.wait(poll)
        log.info("worker %s stopped", self.name)


def retry(session, effect_id: int, actor: str, now: datetime | None = None) -> PlatformEffect:
    """A lead sends a failed or dead effect again now, or releases a held one (audited)."""
    now = now or utcnow()
    row = session.get(PlatformEffect, effect_id)
    if row is None:
        raise ReviewError(f"no platform effect {effect_id}", 404)
    if row.state not in RETRYABLE:
        raise ReviewError(f"effect {effect_id} is {row.state}: only {', '.join(RETRYABLE)} effects can be retried")
    previous = row.state
    res = session.execute(update(PlatformEffect).where(PlatformEffect.id == effect_id,
                                                       PlatformEffect.state == previous)
                          .values(state="pending", next_attempt_at=now, attempts=0, locked_by=None,
                                  locked_until=None).execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise ReviewError(f"effect {effect_id} changed meanwhile; look again")
    audit.append(session, actor, "effect.retry", f"item:{row.item_id}",
                 {"effect": effect_id, "backend": row.backend, "was": previous}, at=now)
    session.refresh(row)
    return row
