"""Connector state kept in the store: checkpoints (where to resume), counters, rejected events, and the
items waiting for their full scoring (see plugwatch.intake)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from plugwatch.store.intake_tables import DeferredScore, IntakeCheckpoint, IntakeReject, UserReport
from plugwatch.store.reports import merge_into_queue
from plugwatch.store.review.base import _insert
from plugwatch.store.review.ingest import _upsert_accounts
from plugwatch.store.review.priority import needs_review
from plugwatch.store.schema import Item, ReviewTask, utcnow

COUNTERS = ("read", "stored", "duplicates", "profiles", "dropped", "rejected", "reports", "deferred", "reconnects")


def checkpoint(session: Session, source: str, kind: str) -> IntakeCheckpoint:
    """The connector's row, made on first use."""
    session.execute(_insert(session, IntakeCheckpoint.__table__).on_conflict_do_nothing(index_elements=["source"]),
                    [{"source": source, "kind": kind, **dict.fromkeys(COUNTERS, 0), "updated_at": utcnow()}])
    return session.scalars(select(IntakeCheckpoint).where(IntakeCheckpoint.source == source)
                           .execution_options(populate_existing=True)).one()


def cursor(session: Session, source: str) -> str | None:
    return session.scalar(select(IntakeCheckpoint.cursor).where(IntakeCheckpoint.source == source))


def advance(session: Session, source: str, kind: str, *, counts: dict[str, int], cursor: str | None = None,
            lag: float | None = None, last_event_at: datetime | None = None) -> IntakeCheckpoint:
    """Add `counts` to the connector's counters and move its cursor, in the caller's transaction (the
    one that stored the events, so the cursor never passes an event that was not stored)."""
    row = checkpoint(session, source, kind)
    for name, n in counts.items():
        if n:
            setattr(row, name, getattr(row, name) + n)
    if cursor is not None:
        row.cursor = cursor
    if lag is not None:
        row.lag_seconds = round(lag, 3)
        row.max_lag_seconds = round(max(lag, row.max_lag_seconds or 0.0), 3)
    if last_event_at is not None:
        row.last_event_at = last_event_at
    row.updated_at = utcnow()
    return row


def reject(session: Session, source: str, event_key: str | None, reason: str) -> None:
    session.add(IntakeReject(source=source, event_key=(event_key or None) and event_key[:300], reason=reason[:2000],
                             created_at=utcnow()))


def rejects(session: Session, source: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    q = select(IntakeReject).order_by(IntakeReject.id).limit(limit)
    if source:
        q = q.where(IntakeReject.source == source)
    return [{"source": r.source, "event": r.event_key, "reason": r.reason, "at": r.created_at.isoformat()}
            for r in session.scalars(q)]


def defer(session: Session, source: str, fmt: str, item_ids: list[str]) -> None:
    if item_ids:
        now = utcnow()
        session.execute(_insert(session, DeferredScore.__table__).on_conflict_do_nothing(index_elements=["item_id"]),
                        [{"item_id": i, "source": source, "format": fmt, "created_at": now} for i in item_ids])


def deferred_batch(session: Session, source: str | None, limit: int) -> list[DeferredScore]:
    q = select(DeferredScore).order_by(DeferredScore.id).limit(limit)
    if source:
        q = q.where(DeferredScore.source == source)
    return list(session.scalars(q))


def done_deferred(session: Session, ids: list[int]) -> None:
    if ids:
        session.execute(delete(DeferredScore).where(DeferredScore.id.in_(ids)))


def intake_stats(session: Session) -> dict[str, Any]:
    """Per connector: counters, cursor, lag (seconds behind the stream), items still waiting for full scoring."""
    waiting = dict(session.execute(select(DeferredScore.source, func.count()).group_by(DeferredScore.source)).all())
    out = {}
    for row in session.scalars(select(IntakeCheckpoint).order_by(IntakeCheckpoint.source)):
        out[row.source] = {"kind": row.kind, **{c: getattr(row, c) for c in COUNTERS},
                           "waiting_for_full_scoring": waiting.get(row.source, 0), "cursor": row.cursor,
                           "lag_seconds": row.lag_seconds, "max_lag_seconds": row.max_lag_seconds,
                           "last_event_at": row.last_event_at.isoformat() if row.last_event_at else None,
                           "updated_at": row.updated_at.isoformat()}
    return out


def update_profiles(session: Session, rows: list[dict[str, Any]]) -> None:
    """Profile updates from a stream: the accounts' display names and bios (what a record does not
    say keeps the stored value)."""
    _upsert_accounts(session, rows, utcnow())


def raw_records(session: Session, item_ids: list[str]) -> dict[str, Any]:
    if not item_ids:
        return {}
    return dict(session.execute(select(Item.id, Item.raw).where(Item.id.in_(item_ids))).all())


def rescored(session: Session, records: list[dict[str, Any]]) -> None:
    """Replace the cheap stage's verdict of stored items with the full detector's, and put them in the
    queue or take them out of it accordingly (a task someone claimed, decided or reported stays).
    A few statements per batch: most items change nothing but their score."""
    if not records:
        return
    now = utcnow()
    ids = [rec["id"] for rec in records]
    stored = dict(session.execute(select(Item.id, Item.record).where(Item.id.in_(ids))).all())
    records = [rec for rec in records if rec["id"] in stored]
    if not records:
        return
    session.execute(update(Item), [
        {"id": rec["id"], "score": rec.get("score"), "flagged": bool(rec.get("flagged")), "offer_kind": rec.get("kind"),
         "drugs": rec.get("drugs") or [], "reasons": rec.get("reasons") or [],
         "record": {**(stored[rec["id"]] or {}), **{k: v for k, v in rec.items() if k != "raw"}}} for rec in records])
    reported = set(session.scalars(select(UserReport.item_id).where(UserReport.item_id.in_(ids))))
    wanted = [rec["id"] for rec in records if needs_review(rec) or rec["id"] in reported]
    for item in session.scalars(select(Item).where(Item.id.in_(wanted))) if wanted else ():
        merge_into_queue(session, item, now)
    unwanted = [i for i in ids if i not in set(wanted)]
    if unwanted:
        # Only the cheap stage thought these needed review, and nobody has touched them since.
        session.execute(delete(ReviewTask).where(ReviewTask.item_id.in_(unwanted), ReviewTask.state == "pending",
                                                 ReviewTask.claimed_by.is_(None), ReviewTask.reopened_at.is_(None)))
