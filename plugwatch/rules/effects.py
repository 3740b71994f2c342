"""What active rules do once an ingested item's task exists: hold its evidence, take an automatic
action (as the disabled system user `rules`, through the same claim and decision as a reviewer, so
strikes, evidence, platform effects, notices and statements of reasons follow; each is marked
automated), and send that action to a back-end in dry run instead of to every back-end.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from plugwatch.evidence.holds import add_hold, item_held
from plugwatch.rules.model import Rule
from plugwatch.store import review, users
from plugwatch.store.enforcement_tables import PlatformEffect
from plugwatch.store.rules_tables import SYSTEM_USER, RuleMatch
from plugwatch.store.schema import Item, ReviewTask, User

log = logging.getLogger("plugwatch.rules")


def system_user(session: Session) -> User:
    """The user automatic actions are taken as: a reviewer that cannot sign in (disabled, no password,
    its token never shown)."""
    user = users.get_user(session, SYSTEM_USER)
    if user is None:
        user, _ = users.add_user(session, SYSTEM_USER, "reviewer", actor="rules", system=True)
        user.active = False
        session.flush()
    return user


def carry_out(session: Session, todo: list[tuple[str, Rule]]) -> None:
    # Holds first: they take the holds lock, which goes before other audit entries (store/locks.py).
    for item_id, rule in todo:
        if rule.action.hold_evidence:
            item = session.get(Item, item_id)
            if item is not None and not item_held(session, item_id, item.account_key):
                add_hold(session, "item", item_id, f"policy rule {rule.name} ({rule.short_version})",
                         actor=f"rule:{rule.name}")
    done: set[str] = set()
    for item_id, rule in todo:
        if rule.action.apply and item_id not in done:  # one automatic decision per item: the first rule's
            done.add(item_id)
            _apply(session, item_id, rule)


def _apply(session: Session, item_id: str, rule: Rule) -> None:
    task = session.scalars(select(ReviewTask).where(ReviewTask.item_id == item_id)).first()
    if task is None or task.state != "pending" or task.two_reviewers or task.required_role == "lead":
        # Another active rule asked for two people, or for a lead, to decide: no automatic action then (the
        # system user is a reviewer, whose claim on a lead's task would be refused and fail the ingest).
        return
    user = system_user(session)
    review.claim(session, user, item_id)
    decision = review.decide(session, user, item_id, rule.action.apply, rule.action.reason,
                             note=f"automatic: policy rule {rule.name} version {rule.short_version}")
    set_decision(session, item_id, rule.name, decision.id)
    if rule.action.dry_run:
        # Only the named back-end, and only logged: the rule is being tried out.
        session.execute(delete(PlatformEffect).where(PlatformEffect.decision_id == decision.id,
                                                     PlatformEffect.backend != rule.action.dry_run,
                                                     PlatformEffect.effect != "dsa_statement"))
        session.execute(update(PlatformEffect).where(PlatformEffect.decision_id == decision.id,
                                                     PlatformEffect.backend == rule.action.dry_run)
                        .values(shadow=True).execution_options(synchronize_session=False))


def set_decision(session: Session, item_id: str, rule: str, decision_id: int) -> None:
    """Tie the rule's active match on the item to the decision taken for it."""
    session.execute(update(RuleMatch).where(RuleMatch.item_id == item_id, RuleMatch.rule == rule,
                                            RuleMatch.mode == "active").values(decision_id=decision_id)
                    .execution_options(synchronize_session=False))
