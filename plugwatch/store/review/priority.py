"""Queue priority: an ordering key that ages without rewriting rows (see plugwatch.store.review)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from plugwatch.store.review.base import AGE_PER_DAY, EPOCH
from plugwatch.store.schema import (
    utcnow,
)


def _days(dt: datetime) -> float:
    return (dt - EPOCH).total_seconds() / 86400.0


def base_priority(score: float | None, followers: int | None, reach: int | None, kind: str | None) -> float:
    bonus = 2.0 if kind == "offer" else 1.0 if kind == "request" else 0.0
    return (10.0 * (score or 0.0) + 1.5 * math.log10(1 + max(followers or 0, 0))
            + math.log10(1 + max(reach or 0, 0)) + bonus)


def priority_key(base: float, queued_at: datetime) -> float:
    return round(base - AGE_PER_DAY * _days(queued_at), 6)


def priority_now(key: float, now: datetime | None = None) -> float:
    return round(key + AGE_PER_DAY * _days(now or utcnow()), 3)


def needs_review(rec: dict[str, Any]) -> bool:
    return bool(rec.get("flagged")) or rec.get("kind") == "request"


# User reports (plugwatch.store.reports): points for the independent reporters of an item, each weighed
# by their past accuracy, growing with the log of that sum so a crowd cannot bury everything else; a
# trusted flagger's report goes ahead of the queue (DSA Art. 22).
REPORT_POINTS = 3.0
TRUSTED_FLAGGER_POINTS = 50.0


def report_bonus(accuracies: list[float], trusted: bool) -> float:
    bonus = REPORT_POINTS * math.log2(1 + sum(accuracies)) if accuracies else 0.0
    return bonus + (TRUSTED_FLAGGER_POINTS if trusted else 0.0)
