"""Retention of reporters' identities: `reporters.key`, the `platform:handle` of someone who reported.

`[reporters] after_resolved` days after the last of a reporter's reports was resolved (its final
decision, `outcome_at`), the handle is replaced by a keyed pseudonym (HMAC-SHA256 with the
pseudonymisation key, plugwatch.privacy). The row, its reports and its track record stay: they weigh
the person's next report (plugwatch.store.reports), and the pseudonym recognises the person when they
report again (plugwatch.store.reports._recognise). Without a key the handle is removed outright
(`removed:ID`) and a later report starts a new record. A row whose pseudonym another row already has
(the person reported again where no key was set) is merged into that row.

Kept while a report of theirs is open (no final decision yet, or waiting for its item), was
resolved or flagged as retaliation against them within the period, a retaliation flag on one of
their reports waits for a lead, a legal hold covers them, an item or an account they reported, or
a snapshot of such an item, a disclosure request not yet exported or rejected names them or a
reported account or has a reported item in scope, or they are a trusted flagger (an organisation
designated under DSA Art. 22 under its public name, not a private person).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from plugwatch.evidence.holds import held_account_keys, held_item_ids, held_snapshot_ids
from plugwatch.store import audit
from plugwatch.store.evidence_tables import DisclosureRequest, Snapshot
from plugwatch.store.intake_tables import Reporter, RetaliationFlag, UserReport
from plugwatch.store.reports import reporter_pseudonym
from plugwatch.store.schema import ReviewTask

PENDING_REQUESTS = ("draft", "approved")


def expired_reporters(session: Session, days: int, now: datetime, only: list[int] | None = None) -> list[int]:
    """Ids of the reporters whose handle goes now (see the module's note), in id order. `only`: look at
    these reporters alone (a batch checked again before it is changed)."""
    cutoff = now - timedelta(days=days)
    theirs = UserReport.reporter_id == Reporter.id
    live = or_(UserReport.outcome.is_(None), UserReport.outcome_at.is_(None), UserReport.outcome_at >= cutoff)
    waiting = exists().where(ReviewTask.item_id == RetaliationFlag.item_id, ReviewTask.state != "decided")
    flagged = exists().where(RetaliationFlag.report_id == UserReport.id, theirs,
                             or_(RetaliationFlag.created_at >= cutoff, waiting))
    stmt = select(Reporter.id, Reporter.key).where(
        Reporter.pseudonymised_at.is_(None), Reporter.trusted_flagger.is_(False), Reporter.created_at < cutoff,
        ~exists().where(theirs, live), ~flagged)
    if only is not None:
        stmt = stmt.where(Reporter.id.in_(only))
    rows = list(session.execute(stmt.order_by(Reporter.id)))
    if not rows:
        return []
    named: dict[int, list[tuple[str | None, str | None]]] = {}  # reporter id: (item, account) of its reports
    ids = [r for r, _ in rows]
    for i in range(0, len(ids), 500):
        for rid, item, account in session.execute(select(UserReport.reporter_id, UserReport.item_id,
                                                         UserReport.account_key)
                                                  .where(UserReport.reporter_id.in_(ids[i:i + 500]))):
            named.setdefault(rid, []).append((item, account))
    accounts, items = _needed(session, [pair for pairs in named.values() for pair in pairs])
    return [rid for rid, key in rows
            if key.lower() not in accounts
            and not any(item in items or (account or "").lower() in accounts for item, account in named.get(rid, ()))]


def _needed(session: Session, reported: list[tuple[str | None, str | None]]) -> tuple[set[str], set[str]]:
    """The accounts (lower case) and items (of `reported`, (item, account) pairs) that a legal hold or a
    pending disclosure request covers: reporters of these are kept."""
    from plugwatch.evidence.requests import pending_scope_item_ids

    accounts = held_account_keys(session)
    for req in session.scalars(select(DisclosureRequest).where(DisclosureRequest.state.in_(PENDING_REQUESTS))):
        accounts.update(str(a).lower() for a in (req.scope or {}).get("accounts") or [])
    with_item = [(item, account) for item, account in reported if item]
    items = held_item_ids(session, with_item) | pending_scope_item_ids(session, PENDING_REQUESTS)
    held = sorted(held_snapshot_ids(session))
    for i in range(0, len(held), 500):
        items.update(session.scalars(select(Snapshot.item_id).where(Snapshot.id.in_(held[i:i + 500]))))
    return accounts, items


def forget_reporters(session: Session, ids: list[int], secret: bytes | None, reason: str, actor: str,
                     now: datetime) -> None:
    """Replace the handles of the reporters `ids` (by a pseudonym, or `removed:ID` without `secret`);
    one audit entry per reporter, naming it by number only, then one with the counts."""
    counts: Counter = Counter()
    entries = []
    for i in range(0, len(ids), 500):
        for who in list(session.scalars(select(Reporter).where(Reporter.id.in_(ids[i:i + 500])).order_by(Reporter.id))):
            outcome, details = forget_reporter(session, who, secret, now)
            counts[outcome] += 1
            action = "retention.remove_reporter" if outcome == "removed" else "retention.pseudonymise_reporter"
            entries.append((action, f"reporter:{who.id}", {"reason": reason, **details}))
    audit.append_many(session, actor, [*entries, ("retention.reporters", "retention", dict(counts))], at=now)


def forget_reporter(session: Session, who: Reporter, secret: bytes | None, now: datetime) -> tuple[str, dict]:
    """Replace `who`'s handle (by a pseudonym, or `removed:ID` without `secret`; merged into the row that
    already has the pseudonym). Returns what was done ("removed", "pseudonymised" or "merged") and the
    details for the audit entry. Not audited here: the caller does it."""
    details: dict = {}
    if secret is None:
        who.key, outcome = f"removed:{who.id}", "removed"
    else:
        pseudonym = reporter_pseudonym(who.key, secret)
        twin = session.scalars(select(Reporter).where(Reporter.key == pseudonym)).first()
        if twin is None:
            who.key, outcome = pseudonym, "pseudonymised"
        else:
            details["merged_into"] = _merge(session, who, twin)
            outcome = "merged"
    who.pseudonymised_at = now
    session.flush()  # the next row's twin is looked up by key
    return outcome, details


def reporter_needed(session: Session, who: Reporter) -> str | None:
    """Why `who`'s handle must stay whatever else says it may go (a deletion on request): a legal hold
    or a pending disclosure request covers them, an account or item they reported, or a snapshot of
    such an item; or they are a trusted flagger. None when nothing does."""
    if who.trusted_flagger:
        return "trusted flagger (an organisation under its public name)"
    reported = [(item, account) for item, account in session.execute(
        select(UserReport.item_id, UserReport.account_key).where(UserReport.reporter_id == who.id))]
    accounts, items = _needed(session, reported)
    if who.key.lower() in accounts or any(item in items or (account or "").lower() in accounts
                                           for item, account in reported):
        return "a legal hold or a pending disclosure request covers them or what they reported"
    return None


def _merge(session: Session, who: Reporter, twin: Reporter) -> int:
    """Move `who`'s reports and record to `twin` (the same person, pseudonymised earlier). The emptied
    row stays as `merged:ID` so its number, named in the audit trail, is never given to anyone else."""
    session.execute(update(UserReport).where(UserReport.reporter_id == who.id).values(reporter_id=twin.id)
                    .execution_options(synchronize_session=False))
    twin.reports, twin.resolved, twin.actioned = (twin.reports + who.reports, twin.resolved + who.resolved,
                                                  twin.actioned + who.actioned)
    twin.created_at = min(twin.created_at, who.created_at)
    who.key, who.reports, who.resolved, who.actioned = f"merged:{who.id}", 0, 0, 0
    return twin.id
