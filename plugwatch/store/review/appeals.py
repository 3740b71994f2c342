"""Appeals: one open appeal per decided item, decided by another reviewer (another lead when only a
lead may take the action appealed, since only that role may uphold or overturn it, or when a policy
rule routed the item to the leads)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plugwatch.actions import ACTIONS, LEAD
from plugwatch.store import audit
from plugwatch.store.review.base import FINAL_ACTIONS, ReviewError
from plugwatch.store.review.claims import _task_for
from plugwatch.store.schema import (
    Appeal,
    Decision,
    ReviewTask,
    utcnow,
)


def file_appeal(session: Session, item_id: str, reason: str, filed_by: str, now: datetime | None = None) -> Appeal:
    """Reopen a decided item for a different reviewer than the one who decided it; the appeal of a
    lead's action (suspend, refer), or of any decision on an item routed to the leads, is queued for
    leads only."""
    now = now or utcnow()
    if not reason or not reason.strip():
        raise ReviewError("an appeal needs a reason", 422)
    task = _task_for(session, item_id)
    if task.state != "decided":
        raise ReviewError(f"item {item_id} has no final decision to appeal (it is {task.state})")
    # Reopening the task is the transition: only the appeal whose UPDATE found the task decided is
    # filed; a simultaneous one waits for it (PostgreSQL) and then finds the task appealed.
    res = session.execute(update(ReviewTask).where(ReviewTask.id == task.id, ReviewTask.state == "decided").values(
        state="appealed", open_state="appealed", required_role=None, reopened_at=now, decided_at=None,
        claimed_by=None, claimed_at=None, claimed_until=None).execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise ReviewError(f"item {item_id} has no final decision to appeal (it was appealed or reopened meanwhile)")
    # Read under the task's lock: the decision appealed is the one in force now.
    last = session.scalars(select(Decision).where(Decision.item_id == item_id, Decision.action.in_(FINAL_ACTIONS))
                           .order_by(Decision.id.desc()).limit(1)).first()
    if last is None:  # pragma: no cover - a decided task always has its decision
        raise ReviewError(f"item {item_id} has no decision to appeal")
    # Only a role that may take the appealed action may uphold or overturn it (decisions.decide): such
    # an appeal is the leads' from the start, so a reviewer never claims what they cannot decide. Any
    # other appeal needs the role the item was routed to: the rule that said a lead must see it still
    # holds, whoever decided and whatever they decided.
    spec = ACTIONS.get(last.action)
    required_role = LEAD if spec is not None and spec.needs_lead else task.routed_role
    session.execute(update(ReviewTask).where(ReviewTask.id == task.id)
                    .values(excluded_reviewer=last.reviewer_id, required_role=required_role)
                    .execution_options(synchronize_session=False))
    appeal = Appeal(item_id=item_id, decision_id=last.id, filed_by=filed_by, reason=reason.strip(), state="open",
                    created_at=now)
    session.add(appeal)
    session.flush()
    audit.append(session, filed_by, "appeal", f"item:{item_id}",
                 {"appeal": appeal.id, "decision": last.id, "action": last.action}, at=now)
    return appeal
