"""Two independent reviewers (a policy rule's `require_two_reviewers`): the first reviewer's decision is
an opinion, not final; the task goes back to the queue for a different reviewer. A second reviewer who
takes the same action makes the decision final (decisions.decide goes on as for any task, so strikes,
evidence, platform effects and notices follow once); one who disagrees sends the task to a lead, who
sees both opinions. A lead's decision on such a task is final at once.

Each step is a conditional UPDATE on the task checked by its row count, like every other transition.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plugwatch.actions import ACTIONS, LEAD
from plugwatch.store import audit
from plugwatch.store.review.base import ReviewError
from plugwatch.store.schema import ReviewOpinion, ReviewTask, User

_UNCLAIM = {"claimed_by": None, "claimed_at": None, "claimed_until": None}


def needs_opinion(task: ReviewTask, user: User, action: str) -> bool:
    """Whether `user` taking `action` on `task` is one of two reviewers' opinions rather than a decision:
    a two-reviewer task in its first review (not an appeal or escalation), a final action, not a lead."""
    return task.two_reviewers and task.open_state == "pending" and user.role != LEAD and ACTIONS[action].final


def first_opinion(session: Session, task: ReviewTask) -> ReviewOpinion | None:
    if task.first_opinion_by is None:
        return None
    return session.scalars(select(ReviewOpinion).where(ReviewOpinion.task_id == task.id,
                                                       ReviewOpinion.reviewer_id == task.first_opinion_by)
                           .order_by(ReviewOpinion.id.desc()).limit(1)).first()


def give_opinion(session: Session, user: User, task: ReviewTask, action: str, policy_reason: str, note: str,
                 now: datetime) -> tuple[ReviewOpinion | None, ReviewOpinion | None]:
    """(the opinion recorded, or None when this reviewer agrees with the first so the decision is final;
    the first opinion, when there is one)."""
    mine = (ReviewTask.id == task.id, ReviewTask.state == "claimed", ReviewTask.claimed_by == user.id)
    if task.first_opinion_by is None:
        # First opinion: back to the queue, this reviewer kept out of it.
        res = session.execute(update(ReviewTask).where(*mine, ReviewTask.first_opinion_by.is_(None)).values(
            state="pending", open_state="pending", first_opinion_by=user.id, excluded_reviewer=user.id, **_UNCLAIM)
            .execution_options(synchronize_session=False))
        if res.rowcount != 1:
            raise ReviewError(f"your claim on {task.item_id} was lost; claim it again")
        return _record(session, user, task, action, policy_reason, note, now, "first", None), None
    if task.first_opinion_by == user.id:
        raise ReviewError(f"you gave the first opinion on {task.item_id}: two reviewers are required, and the "
                          "second must be someone else", 403)
    first = first_opinion(session, task)
    if first is not None and first.action == action:
        return None, first
    # Disagreement: a lead decides, with both opinions in front of them.
    res = session.execute(update(ReviewTask).where(*mine, ReviewTask.first_opinion_by == task.first_opinion_by)
                          .values(state="escalated", open_state="escalated", required_role=LEAD, reopened_at=now,
                                  excluded_reviewer=None, **_UNCLAIM)
                          .execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise ReviewError(f"your claim on {task.item_id} was lost; claim it again")
    return _record(session, user, task, action, policy_reason, note, now, "second", first), first


def _record(session: Session, user: User, task: ReviewTask, action: str, policy_reason: str, note: str,
            now: datetime, stage: str, first: ReviewOpinion | None) -> ReviewOpinion:
    opinion = ReviewOpinion(item_id=task.item_id, task_id=task.id, reviewer_id=user.id, action=action,
                            policy_reason=policy_reason, note=note or "", created_at=now)
    session.add(opinion)
    session.flush()
    details = {"opinion": opinion.id, "stage": stage, "action": action, "policy_reason": policy_reason}
    if first is not None:
        details.update(first_opinion=first.id, outcome="disagreed: escalated to a lead")
    audit.append(session, user.name, "opinion", f"item:{task.item_id}", details, at=now)
    return opinion


def opinions_view(session: Session, task: ReviewTask, names: dict[int, str]) -> dict:
    """A two-reviewer task's opinions, in full (redaction.py hides who and what from reviewers)."""
    rows = session.scalars(select(ReviewOpinion).where(ReviewOpinion.task_id == task.id)
                           .order_by(ReviewOpinion.id)).all()
    return {"required": True, "count": len(rows), "first_given": task.first_opinion_by is not None,
            "opinions": [{"id": o.id, "reviewer": names.get(o.reviewer_id), "action": o.action,
                          "policy_reason": o.policy_reason, "note": o.note, "created_at": o.created_at.isoformat()}
                         for o in rows]}
