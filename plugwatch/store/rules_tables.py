"""Tables of policy rules (plugwatch.rules): which rules matched which item, how each task was routed,
and the last state of every rule seen, so a load tells a change or a mode switch from a repeat.

Matches and routes point at their item, so erasing an item (store/erase.py) takes them along.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from plugwatch.store.schema import Base, utcnow


class RuleMatch(Base):
    """A rule whose condition held for an item: in which mode, at which version, and what it did (active)
    or would have done (shadow)."""

    __tablename__ = "rule_matches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[str] = mapped_column(String(64))  # sha256 of the rule file
    mode: Mapped[str] = mapped_column(String(10))  # active / shadow
    effects: Mapped[dict[str, Any]] = mapped_column(JSON)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), index=True)  # its automatic action
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class TaskRoute(Base):
    """Where the active rules sent an item's task: a named queue (team) and labels."""

    __tablename__ = "task_routes"

    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    queue: Mapped[str | None] = mapped_column(String(80), index=True)
    labels: Mapped[list[Any]] = mapped_column(JSON, default=list)


class RuleState(Base):
    """Each rule as last loaded into this database (a rule switched off or deleted keeps its row, mode off)."""

    __tablename__ = "rule_states"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(Text)  # the file as loaded: a broken folder falls back to these
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)


SYSTEM_USER = "rules"  # the disabled user policy rules take automatic actions as


def by_a_person():
    """A where-clause on Decision: taken by a person, not automatically by a policy rule. What reviewers
    decided (rule statistics, backtests, training and evaluation on decisions) must not count a rule's own
    actions, which would confirm the rule, and the detector it reads, by construction."""
    from sqlalchemy import select

    from plugwatch.store.schema import Decision, User

    return Decision.reviewer_id.not_in(select(User.id).where(User.name == SYSTEM_USER))


def is_automated(session, decision) -> bool:
    """Whether a decision was taken by a policy rule rather than a person."""
    from plugwatch.store.schema import User

    user = session.get(User, decision.reviewer_id)
    return user is not None and user.name == SYSTEM_USER


def rules_view(session, item_id: str) -> dict[str, Any]:
    """The policy rules that matched an item and where they routed it, for its page and API view."""
    from sqlalchemy import select

    matches = session.scalars(select(RuleMatch).where(RuleMatch.item_id == item_id).order_by(RuleMatch.id)).all()
    route = session.get(TaskRoute, item_id)
    return {"matched": [{"rule": m.rule, "version": m.version[:12], "mode": m.mode, "effects": m.effects,
                         "decision_id": m.decision_id} for m in matches],
            "queue": route.queue if route else None, "labels": list(route.labels or []) if route else []}


def routes_of(session, item_ids) -> dict[str, tuple[str | None, list]]:
    """item id -> (named queue, labels) for those of `item_ids` the rules routed."""
    from sqlalchemy import select

    ids = list(item_ids)
    out = {}
    for i in range(0, len(ids), 500):
        for item_id, queue, labels in session.execute(select(TaskRoute.item_id, TaskRoute.queue, TaskRoute.labels)
                                                      .where(TaskRoute.item_id.in_(ids[i:i + 500]))):
            out[item_id] = (queue, list(labels or []))
    return out
