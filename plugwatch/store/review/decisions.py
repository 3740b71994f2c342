"""Decisions and strikes: the action table's meaning applied in the deciding transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from plugwatch.actions import ACTIONS, POLICY_REASONS, reason_fits
from plugwatch.detect.tactics import techniques_for_record
from plugwatch.store import audit
from plugwatch.store.hooks import hooks_of
from plugwatch.store.review.base import STRIKE_DAYS, ReviewError
from plugwatch.store.review.claims import _task_for, lead_reason
from plugwatch.store.review.opinions import give_opinion, needs_opinion
from plugwatch.store.schema import (
    Account,
    Appeal,
    Decision,
    Item,
    ReviewOpinion,
    ReviewTask,
    Strike,
    User,
    utcnow,
)


def decide(session: Session, user: User, item_id: str, action: str, policy_reason: str, note: str = "",
           now: datetime | None = None) -> Decision | ReviewOpinion:
    """Record a decision on an item the user has claimed; strikes, suspension, appeal outcome, audit
    entry and the store's `after_decision` hooks happen in the same transaction. On a task that needs
    two reviewers (opinions.py) a reviewer's first or dissenting decision is a ReviewOpinion instead,
    and none of that happens."""
    now = now or utcnow()
    if action not in ACTIONS:
        raise ReviewError(f"unknown action {action!r}: one of {', '.join(ACTIONS)}", 422)
    if policy_reason not in POLICY_REASONS:
        raise ReviewError(f"unknown policy reason {policy_reason!r}: one of {', '.join(POLICY_REASONS)}", 422)
    if not reason_fits(action, policy_reason):
        fitting = [c for c in POLICY_REASONS if reason_fits(action, c)]
        raise ReviewError(f"the policy reason {policy_reason!r} ({POLICY_REASONS[policy_reason]}) does not fit the "
                          f"action {action}: one of {', '.join(fitting)}", 422)
    if user.role not in ACTIONS[action].roles:
        raise ReviewError(f"{action} needs the role {' or '.join(ACTIONS[action].roles)}"
                          + ("; escalate it to a lead instead" if user.role == "reviewer" else ""), 403)
    task = _task_for(session, item_id)
    if task.state != "claimed" or task.claimed_by != user.id:
        raise ReviewError(f"claim {item_id} before deciding it (it is {task.state}"
                          + (", held by someone else" if task.claimed_by not in (None, user.id) else "") + ")")
    if task.required_role and user.role != task.required_role and user.role != "lead":
        # Checked again here, not only at the claim: a lead made a reviewer while holding a lead's task
        # could otherwise still decide it.
        raise ReviewError(f"item {item_id} {lead_reason(session, task)}: it needs a {task.required_role}", 403)
    first = None
    if needs_opinion(task, user, action):
        opinion, first = give_opinion(session, user, task, action, policy_reason, note, now)
        if opinion is not None:
            return opinion
    appeal = None
    if task.open_state == "appealed" or (task.open_state == "escalated" and task.excluded_reviewer is not None):
        appeal = session.scalars(select(Appeal).where(Appeal.item_id == item_id, Appeal.state == "open")
                                 .order_by(Appeal.id.desc()).limit(1)).first()
    final = ACTIONS[action].final
    appealed = session.get(Decision, appeal.decision_id) if appeal is not None and final else None
    if appealed is not None:
        # Overturning undoes the earlier action (a suspension is lifted on the platform too): only a
        # role that may take that action may overturn it. A reviewer escalates instead.
        needed = ACTIONS[appealed.action].roles if appealed.action in ACTIONS else ()
        if appealed.action != action and needed and user.role not in needed:
            raise ReviewError(f"overturning a {appealed.action} decision needs the role {' or '.join(needed)}, "
                              f"who may take it; escalate it to a lead instead", 403)
    values: dict[str, Any] = {"claimed_by": None, "claimed_at": None, "claimed_until": None}
    if final:
        values.update(state="decided", open_state="decided", decided_at=now)
    else:
        values.update(state="escalated", open_state="escalated", required_role="lead", reopened_at=now)
    # Conditional on still holding the claim: a claim that ran out and was taken by someone else loses.
    mine = [ReviewTask.id == task.id, ReviewTask.state == "claimed", ReviewTask.claimed_by == user.id]
    if first is not None:  # the second of two agreeing reviewers: still the same first opinion
        mine.append(ReviewTask.first_opinion_by == first.reviewer_id)
    res = session.execute(update(ReviewTask).where(*mine).values(**values)
        .execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise ReviewError(f"your claim on {item_id} was lost; claim it again")
    entered = task.reopened_at or task.created_at
    decision = Decision(item_id=item_id, task_id=task.id, reviewer_id=user.id, action=action,
                        policy_reason=policy_reason, note=note or "", created_at=now,
                        handling_seconds=(now - task.claimed_at).total_seconds() if task.claimed_at else None,
                        waiting_seconds=(now - entered).total_seconds(),
                        appeal_id=appeal.id if appeal is not None and final else None)
    session.add(decision)
    session.flush()
    item = session.get(Item, item_id)
    account = session.get(Account, item.account_key) if item and item.account_key else None
    details: dict[str, Any] = {"decision": decision.id, "action": action, "policy_reason": policy_reason}
    if item is not None and action != "dismiss":
        # The decision is recorded against the trafficking techniques the item shows (for reporting
        # and for the indicators shared later).
        details["tactics"] = techniques_for_record(item.record or {})
    if first is not None:
        details.update(first_opinion=first.id, two_reviewers="agreed")
    upheld = False
    if appeal is not None and final:
        same = appealed is not None and appealed.action == action
        upheld = same
        outcome = "upheld" if same else "overturned"
        res = session.execute(update(Appeal).where(Appeal.id == appeal.id, Appeal.state == "open").values(
            state=outcome, reviewer_id=user.id, decided_at=now).execution_options(synchronize_session=False))
        if res.rowcount != 1:  # pragma: no cover - the task's claim already admits one decision at a time
            raise ReviewError(f"the appeal on {item_id} was decided meanwhile")
        session.refresh(appeal)
        details.update(appeal=appeal.id, appeal_outcome=outcome)
        if not same and appealed is not None:
            _undo(session, appealed, account, now)
    if account is not None and ACTIONS[action].strike and not upheld:  # an upheld decision already struck
        session.add(Strike(account_key=account.key, decision_id=decision.id, created_at=now,
                           expires_at=now + timedelta(days=STRIKE_DAYS)))
    if account is not None and ACTIONS[action].suspends:
        account.suspended_at = now
    audit.append(session, user.name, "decision", f"item:{item_id}", details, at=now)
    session.flush()
    for hook in hooks_of(session).after_decision:
        hook(session, decision)
    return decision


def _undo(session: Session, original: Decision, account: Account | None, now: datetime) -> None:
    """An overturned decision: its strikes no longer count; a suspension it made is lifted."""
    session.execute(update(Strike).where(Strike.decision_id == original.id, Strike.revoked_at.is_(None))
                    .values(revoked_at=now).execution_options(synchronize_session=False))
    if ACTIONS[original.action].suspends and account is not None:
        account.suspended_at = None


def active_strikes(session: Session, account_key: str, now: datetime | None = None) -> int:
    now = now or utcnow()
    return session.scalar(select(func.count()).select_from(Strike).where(
        Strike.account_key == account_key, Strike.expires_at > now, Strike.revoked_at.is_(None))) or 0
