"""Which snapshots, items and accounts the retention policy lets go (plugwatch.evidence.retention says
what keeps each). Each query takes `only`, a batch of at most 500 ids: a real run lists everything
first, as its dry run does, then asks again for each batch just before deleting it, since a hold,
report or request may have come meanwhile (the batches are separate transactions).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from plugwatch.evidence.retention_policy import FOREVER, Policy
from plugwatch.store.evidence_tables import Snapshot
from plugwatch.store.intake_tables import DeferredScore, RetaliationFlag, UserReport
from plugwatch.store.schema import (
    Account,
    AccountIdentifier,
    Appeal,
    Decision,
    Identifier,
    Item,
    ReviewTask,
    Strike,
)

Ids = frozenset[int] | set[int]


def expired_snapshots(session: Session, policy: Policy, now: datetime) -> list[Snapshot]:
    classes = set(session.scalars(select(Snapshot.item_class).distinct()))
    found: list[Snapshot] = []
    for cls in sorted(classes):
        days = policy.days_for(cls)
        if days is FOREVER:
            continue
        found += session.scalars(select(Snapshot).where(Snapshot.item_class == cls,
                                                        Snapshot.created_at < now - timedelta(days=days)))
    return sorted(found, key=lambda s: s.seq)


def expired_dismissed_items(session: Session, policy: Policy, now: datetime,
                            only: list[str] | None = None) -> list[tuple[str, str | None]]:
    """(id, account key) of the items whose last decision is a dismissal older than `dismissed` days."""
    if policy.dismissed_items is FOREVER:
        return []
    last = (select(Decision.item_id, func.max(Decision.id).label("last_id"))
            .where(Decision.action != "escalate").group_by(Decision.item_id).subquery())
    stmt = (select(Item.id, Item.account_key).join(last, last.c.item_id == Item.id)
            .join(Decision, Decision.id == last.c.last_id).join(ReviewTask, ReviewTask.item_id == Item.id)
            .where(Decision.action == "dismiss", ReviewTask.state == "decided",
                   Decision.created_at < now - timedelta(days=policy.dismissed_items)))
    if only is not None:
        stmt = stmt.where(Item.id.in_(only))
    items = [(item_id, account) for item_id, account in session.execute(stmt.order_by(Item.id))]
    if not items:
        return []
    from plugwatch.evidence.requests import pending_scope_item_ids

    kept = pending_scope_item_ids(session)  # approval will freeze them: not deleted before it
    return [i for i in items if i[0] not in kept]


def expired_never_queued_items(session: Session, policy: Policy, now: datetime, dropping: Ids = frozenset(),
                               only: list[str] | None = None) -> list[tuple[str, str | None]]:
    """(id, account key) of the items received more than `never_queued` days ago that were never
    queued for review and that nothing else keeps (holds are checked apart). `dropping`: ids of
    snapshots this run deletes, which no longer keep their item."""
    if policy.never_queued_items is FOREVER:
        return []
    from plugwatch.evidence.requests import pending_scope_item_ids

    def named_by(column) -> Any:
        return ~exists().where(column == Item.id)

    stmt = (select(Item.id, Item.account_key)
            .where(Item.received_at < now - timedelta(days=policy.never_queued_items),
                   named_by(ReviewTask.item_id), named_by(UserReport.item_id), named_by(RetaliationFlag.item_id),
                   named_by(Decision.item_id), named_by(Appeal.item_id), named_by(DeferredScore.item_id)))
    if only is not None:
        stmt = stmt.where(Item.id.in_(only))
    rows = [(item_id, account) for item_id, account in session.execute(stmt.order_by(Item.id))]
    if not rows:
        return []
    kept = pending_scope_item_ids(session)
    ids = [item_id for item_id, _ in rows]
    for i in range(0, len(ids), 500):  # in evidence: a snapshot of it that stays
        kept.update(item_id for item_id, snap_id in session.execute(
            select(Snapshot.item_id, Snapshot.id).where(Snapshot.item_id.in_(ids[i:i + 500])))
            if snap_id not in dropping)
    return [r for r in rows if r[0] not in kept]


def expired_accounts(session: Session, policy: Policy, now: datetime, going: list[tuple[str, str | None]],
                     dropping: Ids = frozenset(), only: list[str] | None = None) -> list[str]:
    """Keys of the accounts that have no item once the `going` items ((id, account key) pairs this
    run deletes) are gone, were last seen more than `without_items` days ago and that nothing else
    keeps. `dropping`: ids of snapshots this run deletes."""
    if policy.accounts_without_items is FOREVER:
        return []
    from plugwatch.evidence.holds import held_account_keys
    from plugwatch.store.enforcement_tables import Notice
    from plugwatch.store.evidence_tables import DisclosureRequest

    cutoff = now - timedelta(days=policy.accounts_without_items)
    # accounts with no item now, and the authors of the items this run deletes whose every item goes
    itemless = select(Account.key).where(~exists().where(Item.account_key == Account.key))
    candidates = set(session.scalars(itemless if only is None else itemless.where(Account.key.in_(only))))
    leaving: dict[str, int] = {}
    for _, account in going:
        if account:
            leaving[account] = leaving.get(account, 0) + 1
    authors = sorted(leaving)
    for i in range(0, len(authors), 500):
        for account, n in session.execute(select(Item.account_key, func.count()).where(
                Item.account_key.in_(authors[i:i + 500])).group_by(Item.account_key)):
            if n <= leaving[account]:
                candidates.add(account)
    if not candidates:
        return []
    kept = held_account_keys(session)
    for req in session.scalars(select(DisclosureRequest).where(DisclosureRequest.state.in_(("draft", "approved")))):
        scope = req.scope or {}
        kept.update(str(a).lower() for a in scope.get("accounts") or [])
        if req.state == "draft" and scope.get("identifiers"):
            pairs = [tuple(x.split("|", 1)) for x in scope["identifiers"]]
            named = or_(*[and_(Identifier.type == t, Identifier.canonical == c) for t, c in pairs])
            kept.update(session.scalars(select(AccountIdentifier.account_key).join(
                Identifier, Identifier.id == AccountIdentifier.identifier_id).where(named)))
    keys = sorted(k for k in candidates if k.lower() not in kept and k not in kept)
    out: list[str] = []
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        gone = set(session.scalars(select(Account.key).where(
            Account.key.in_(chunk), Account.last_seen < cutoff, Account.suspended_at.is_(None))))
        for column in (Strike.account_key, Notice.account_key, UserReport.account_key):
            gone -= set(session.scalars(select(column).where(column.in_(chunk))))
        gone -= {account for account, snap_id in session.execute(
            select(Snapshot.account_key, Snapshot.id).where(Snapshot.account_key.in_(chunk))) if snap_id not in dropping}
        out += sorted(gone)
    return out
