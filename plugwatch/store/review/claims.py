"""Claims: a reviewer's lock on a task, with a timeout, taken by a conditional UPDATE."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select, true, update
from sqlalchemy.orm import Session

from plugwatch.actions import ACTIONS, allowed
from plugwatch.store.intake_tables import RetaliationFlag
from plugwatch.store.review.base import CLAIM_SECONDS, ReviewError
from plugwatch.store.schema import (
    Appeal,
    Decision,
    Item,
    ReviewOpinion,
    ReviewTask,
    User,
    utcnow,
)


def _eligible(user: User, now: datetime):
    """Tasks this user may take now: open, not held by someone else's live claim, their role, not
    an appeal against their own decision."""
    if not allowed("queue.work", user.role):
        raise ReviewError(f"role {user.role} does not review items", 403)
    role_ok = true() if user.role == "lead" else ReviewTask.required_role.is_(None)
    return and_(ReviewTask.state != "decided",
                or_(ReviewTask.claimed_until.is_(None), ReviewTask.claimed_until < now,
                    ReviewTask.claimed_by == user.id),
                or_(ReviewTask.excluded_reviewer.is_(None), ReviewTask.excluded_reviewer != user.id),
                role_ok)


def _take(session: Session, user: User, task_id: int, now: datetime, ttl_seconds: int) -> bool:
    res = session.execute(
        update(ReviewTask).where(ReviewTask.id == task_id, _eligible(user, now)).values(
            state="claimed", claimed_by=user.id, claimed_at=now, claimed_until=now + timedelta(seconds=ttl_seconds))
        .execution_options(synchronize_session=False))
    return res.rowcount == 1


def claim_next(session: Session, user: User, ttl_seconds: int = CLAIM_SECONDS,
               now: datetime | None = None) -> ReviewTask | None:
    """Claim the most urgent task this user may take, preferring the group they worked on last (so
    one reviewer sees a seller's items together). None when the queue has nothing for them."""
    now = now or utcnow()
    held = session.scalars(select(ReviewTask).where(
        ReviewTask.state == "claimed", ReviewTask.claimed_by == user.id, ReviewTask.claimed_until >= now)
        .order_by(ReviewTask.priority.desc()).limit(1)).first()
    if held is not None:  # finish what you hold first: one live claim per reviewer
        return held
    last_group = session.scalars(select(ReviewTask.group_key).join(Decision, Decision.task_id == ReviewTask.id)
                                 .where(Decision.reviewer_id == user.id, Decision.created_at > now - timedelta(hours=1))
                                 .order_by(Decision.created_at.desc()).limit(1)).first()
    order = [ReviewTask.priority.desc(), ReviewTask.id]
    if last_group is not None:
        order.insert(0, case((ReviewTask.group_key == last_group, 0), else_=1))
    pick = select(ReviewTask.id).where(_eligible(user, now)).order_by(*order)
    postgres = session.get_bind().dialect.name == "postgresql"
    for _ in range(20):
        if postgres:
            task_id = session.scalars(pick.limit(1).with_for_update(skip_locked=True)).first()
            candidates = [task_id] if task_id is not None else []
        else:
            candidates = list(session.scalars(pick.limit(5)))
        if not candidates:
            return None
        for task_id in candidates:
            if _take(session, user, task_id, now, ttl_seconds):
                return _fresh(session, task_id)
    return None


def _fresh(session: Session, task_id: int) -> ReviewTask:
    return session.scalars(select(ReviewTask).where(ReviewTask.id == task_id)
                           .execution_options(populate_existing=True)).one()


def _task_for(session: Session, item_id: str) -> ReviewTask:
    task = session.scalars(select(ReviewTask).where(ReviewTask.item_id == item_id)
                           .execution_options(populate_existing=True)).one_or_none()
    if task is None:
        if session.get(Item, item_id) is None:
            raise ReviewError(f"no item {item_id}", 404)
        raise ReviewError(f"item {item_id} is not in the review queue (the detector did not flag it)", 409)
    return task


def claim(session: Session, user: User, item_id: str, ttl_seconds: int = CLAIM_SECONDS,
          now: datetime | None = None) -> ReviewTask:
    """Claim (or renew a claim on) one item's task."""
    now = now or utcnow()
    task = _task_for(session, item_id)
    if task.state == "decided":
        raise ReviewError(f"item {item_id} is already decided (file an appeal to reopen it)")
    if task.required_role and user.role != task.required_role and user.role != "lead":
        raise ReviewError(f"item {item_id} {lead_reason(session, task)}: it needs a {task.required_role}", 403)
    if task.excluded_reviewer == user.id and task.first_opinion_by == user.id and task.open_state == "pending":
        raise ReviewError(f"you gave the first opinion on {item_id}: two reviewers are required, and the second "
                          "must be someone else", 403)
    if task.excluded_reviewer == user.id:
        raise ReviewError(f"item {item_id} is an appeal against your own decision: another reviewer takes it", 403)
    if not _take(session, user, task.id, now, ttl_seconds):
        holder = session.get(User, task.claimed_by) if task.claimed_by else None
        until = f" until {task.claimed_until:%H:%M:%S} UTC" if task.claimed_until else ""
        raise ReviewError(f"item {item_id} is claimed by {holder.name if holder else 'another reviewer'}{until}")
    return _fresh(session, task.id)


def lead_reason(session: Session, task: ReviewTask) -> str:
    """Why only a lead may take `task` (one that has a required_role), from what it records: an appeal (of
    which decision), an escalation (a reviewer's, or intake's retaliation flag, store/reports.py), or the
    rule that routed it. Worded to follow "item X", for a refused claim and the item page."""
    by = f" by policy rule {task.routed_by}" if task.routed_by else ""
    if task.open_state == "appealed":
        action = session.scalar(select(Decision.action).join(Appeal, Appeal.decision_id == Decision.id)
                                .where(Appeal.item_id == task.item_id, Appeal.state == "open")
                                .order_by(Appeal.id.desc()).limit(1))
        if task.routed_role and not (action in ACTIONS and ACTIONS[action].needs_lead):
            return f"is an appeal on an item routed to the leads{by}"
        return "is an appeal of a lead's decision" + (f" ({action})" if action else "")
    if task.open_state == "escalated":
        if session.scalar(select(RetaliationFlag.id).where(RetaliationFlag.item_id == task.item_id).limit(1)):
            return "is flagged as possible retaliation against someone who reported its author"
        if task.two_reviewers and _disagreed(session, task):
            return "had two reviewers who disagreed"
        return "was escalated by a reviewer"
    return f"was routed to the leads{by or ' when it was queued'}"


def _disagreed(session: Session, task: ReviewTask) -> bool:
    """Whether a two-reviewer task is escalated because its two opinions differed (store/review/opinions.py:
    no decision, two opinions) rather than by someone's escalate decision since."""
    count, last = session.execute(select(func.count(ReviewOpinion.id), func.max(ReviewOpinion.created_at))
                                  .where(ReviewOpinion.task_id == task.id)).one()
    escalated = session.scalar(select(func.max(Decision.created_at)).where(Decision.task_id == task.id,
                                                                            Decision.action == "escalate"))
    return count >= 2 and (escalated is None or escalated < last)


def release(session: Session, user: User, item_id: str) -> ReviewTask:
    task = _task_for(session, item_id)
    res = session.execute(update(ReviewTask).where(
        ReviewTask.id == task.id, ReviewTask.state == "claimed", ReviewTask.claimed_by == user.id).values(
        state=ReviewTask.open_state, claimed_by=None, claimed_at=None, claimed_until=None)
        .execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise ReviewError(f"you do not hold a claim on {item_id}")
    return _fresh(session, task.id)
