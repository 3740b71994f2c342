"""Queue statistics: pending, inbound, action rate, handling and waiting times."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from plugwatch.actions import ACTIONS
from plugwatch.store.review.base import FINAL_ACTIONS
from plugwatch.store.rules_tables import by_a_person
from plugwatch.store.schema import (
    Appeal,
    Decision,
    Item,
    ReviewTask,
    utcnow,
)


def queue_stats(session: Session, now: datetime | None = None, days: int = 30) -> dict[str, Any]:
    """pending: open tasks; inbound_24h: tasks queued in the last 24 h; action_rate: share of final
    decisions in the last `days` days that acted (anything but dismiss); median_handling_seconds:
    claim to decision; median_waiting_seconds: queue entry to decision (both a person's decisions only)."""
    now = now or utcnow()
    since = now - timedelta(days=days)
    pending = session.scalar(select(func.count()).select_from(ReviewTask).where(ReviewTask.state != "decided")) or 0
    # A claim that ran out counts as the open state it left (pending, escalated, appealed), not as claimed.
    state = case((and_(ReviewTask.state == "claimed", or_(ReviewTask.claimed_until.is_(None),
                                                          ReviewTask.claimed_until < now)), ReviewTask.open_state),
                 else_=ReviewTask.state)
    by_state = dict(session.execute(select(state, func.count()).group_by(state)).all())
    inbound = session.scalar(select(func.count()).select_from(ReviewTask).where(
        ReviewTask.created_at >= now - timedelta(hours=24))) or 0
    items_24h = session.scalar(select(func.count()).select_from(Item).where(
        Item.received_at >= now - timedelta(hours=24))) or 0
    rows = session.execute(select(Decision.action, Decision.handling_seconds, Decision.waiting_seconds,
                                  by_a_person()).where(
        Decision.created_at >= since, Decision.action.in_(FINAL_ACTIONS))).all()
    acted = sum(1 for a, _, _, _ in rows if ACTIONS[a].confirms)
    # Handling and waiting are people's: a policy rule's automatic action takes no time and would pull
    # both medians towards zero however long reviewers take.
    handling = [h for _, h, _, person in rows if h is not None and person]
    waiting = [w for _, _, w, person in rows if w is not None and person]
    actions = {a: 0 for a in ACTIONS}
    for a, n in session.execute(select(Decision.action, func.count()).where(Decision.created_at >= since)
                                .group_by(Decision.action)):
        actions[a] = n
    open_appeals = session.scalar(select(func.count()).select_from(Appeal).where(Appeal.state == "open")) or 0
    return {
        "pending": pending, "claimed": by_state.get("claimed", 0), "escalated": by_state.get("escalated", 0),
        "appealed": by_state.get("appealed", 0), "open_appeals": open_appeals,
        "inbound_24h": inbound, "items_24h": items_24h,
        "decisions": len(rows), "action_rate": round(acted / len(rows), 4) if rows else None,
        "median_handling_seconds": round(statistics.median(handling), 1) if handling else None,
        "median_waiting_seconds": round(statistics.median(waiting), 1) if waiting else None,
        "actions": actions, "window_days": days,
    }
