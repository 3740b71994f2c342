"""The review queue: ingest scored items, claim, decide, strike, appeal, and count.

Every function takes a Session first and leaves committing to the caller (`Store.session()`), so a
decision, its strike, its audit entry and whatever hooks add are one transaction.

Priority. A task's `priority` column is an ordering key, higher first:
    base = 10 * score + 1.5 * log10(1 + followers) + log10(1 + reach) + 2 (offer) / 1 (request to buy)
    key  = base - AGE_PER_DAY * days since EPOCH of entering the queue
so a task gains AGE_PER_DAY points for each day it waits, without rewriting any row: at any moment
ordering by the key is ordering by base + AGE_PER_DAY * days waited. `priority_now` shows the latter.

Claims. A claim is a lock with a timeout (`claimed_until`). Taking one is a single conditional UPDATE
(`... WHERE id = ? AND (claimed_until IS NULL OR claimed_until < now)`), checked by its row count, so
two reviewers never hold the same task; on PostgreSQL the candidate is first picked with
`FOR UPDATE SKIP LOCKED` so concurrent reviewers take different rows instead of queueing for one,
and on SQLite every transaction is BEGIN IMMEDIATE (see plugwatch.store).

Every other transition is a conditional UPDATE checked by its row count too: a decision needs the
caller's live claim, an appeal needs the task still decided (of simultaneous appeals one is filed),
and an appeal's outcome is written only while it is open. tests/test_transitions_concurrent.py races
each of them on SQLite and PostgreSQL.
"""

from __future__ import annotations

from plugwatch.store.review.appeals import file_appeal
from plugwatch.store.review.base import (
    AGE_PER_DAY,
    CHUNK,
    CLAIM_SECONDS,
    EPOCH,
    FINAL_ACTIONS,
    STRIKE_DAYS,
    SUSPEND_AFTER,
    ReviewError,
)
from plugwatch.store.review.claims import claim, claim_next, release
from plugwatch.store.review.decisions import active_strikes, decide
from plugwatch.store.review.ingest import IngestResult, ingest_records, known_ids, queue_records, regroup
from plugwatch.store.review.priority import base_priority, needs_review, priority_key, priority_now
from plugwatch.store.review.stats import queue_stats
from plugwatch.store.review.views import item_view, queue, reviewed_items

__all__ = [
    "AGE_PER_DAY",
    "CHUNK",
    "CLAIM_SECONDS",
    "EPOCH",
    "FINAL_ACTIONS",
    "IngestResult",
    "ReviewError",
    "STRIKE_DAYS",
    "SUSPEND_AFTER",
    "active_strikes",
    "base_priority",
    "claim",
    "claim_next",
    "decide",
    "file_appeal",
    "ingest_records",
    "item_view",
    "known_ids",
    "needs_review",
    "priority_key",
    "priority_now",
    "queue",
    "queue_records",
    "queue_stats",
    "regroup",
    "release",
    "reviewed_items",
]
