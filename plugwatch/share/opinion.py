"""Feedback to partners as STIX 2.1 opinion objects on their indicators.

After a partner's indicator matched an item, the reviewer's decision is the feedback: the item was
confirmed (remove, warn, suspend, refer) -> "agree"; dismissed -> "disagree". Opinions can also be
written by hand for one indicator.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugwatch.share import stix
from plugwatch.share.export import CONFIRMED_ACTIONS
from plugwatch.store.schema import Decision
from plugwatch.store.sharing_tables import Partner, ShareOpinion, WatchEntry, WatchMatch

OPINIONS = ("strongly-disagree", "disagree", "neutral", "agree", "strongly-agree")


def opinion_object(indicator_id: str, opinion: str, explanation: str, creator: str, now: datetime) -> dict[str, Any]:
    if opinion not in OPINIONS:
        raise ValueError(f"opinion is one of {', '.join(OPINIONS)}, got {opinion!r}")
    return {"type": "opinion", "spec_version": "2.1", "id": f"opinion--{uuid.uuid4()}", "created_by_ref": creator,
            "created": stix.stamp(now), "modified": stix.stamp(now), "opinion": opinion,
            "explanation": explanation, "object_refs": [indicator_id]}


def decided_feedback(session: Session, partner: Partner) -> list[tuple[str, str, str]]:
    """(indicator id, opinion, explanation) for the partner's matched indicators whose items were decided
    and not yet answered."""
    answered = set(session.scalars(select(ShareOpinion.indicator_id).where(
        ShareOpinion.direction == "out", ShareOpinion.partner_id == partner.id)))
    latest = (select(Decision.item_id, func.max(Decision.id).label("last_id"))
              .where(Decision.action != "escalate").group_by(Decision.item_id).subquery())
    rows = session.execute(
        select(WatchEntry.indicator_id, Decision.action, Decision.policy_reason)
        .join(WatchMatch, WatchMatch.entry_id == WatchEntry.id)
        .join(latest, latest.c.item_id == WatchMatch.item_id).join(Decision, Decision.id == latest.c.last_id)
        .where(WatchEntry.partner_id == partner.id).order_by(WatchEntry.indicator_id, Decision.id))
    verdicts: dict[str, list[str]] = {}
    for indicator_id, action, _policy in rows:
        verdicts.setdefault(indicator_id, []).append(action)
    out = []
    for indicator_id, actions in verdicts.items():
        if indicator_id in answered:
            continue
        confirmed = sum(a in CONFIRMED_ACTIONS for a in actions)
        dismissed = sum(a == "dismiss" for a in actions)
        if confirmed == dismissed:
            continue  # no clear answer yet
        opinion = "agree" if confirmed > dismissed else "disagree"
        out.append((indicator_id, opinion, f"matched {len(actions)} item(s) here: {confirmed} confirmed by a "
                                           f"reviewer, {dismissed} dismissed"))
    return out


def feedback_bundle(session: Session, partner: Partner, organisation: str,
                    answers: list[tuple[str, str, str]], now: datetime | None = None) -> dict[str, Any]:
    """A bundle of opinions (with our identity), logged as sent so the same answer is not sent twice."""
    now = now or datetime.now(UTC)
    ident = stix.identity(organisation, now)
    objects: list[dict[str, Any]] = [ident]
    for indicator_id, opinion, explanation in answers:
        obj = opinion_object(indicator_id, opinion, explanation, ident["id"], now)
        objects.append(obj)
        session.add(ShareOpinion(stix_id=obj["id"], direction="out", partner_id=partner.id, indicator_id=indicator_id,
                                 opinion=opinion, explanation=explanation, author=organisation, created_at=now,
                                 body=obj))
    session.flush()
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
