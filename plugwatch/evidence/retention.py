"""Retention: delete snapshots and items older than the policy allows, never under a hold.

The policy is a TOML file (default plugwatch/data/retention.toml, which says why each number is
what it is): `[snapshots]` days by the class that froze them (the decision action, `disclosure`,
`hold`) with `default` for the rest; `[items] dismissed` days after a dismissal, `[items]
never_queued` days after an item nothing ever queued for review was received. "forever" keeps a
class. Deleting a snapshot keeps its chain link (digests only), so the chain still verifies.

An item never queued is one no detector flag, rule, report, retaliation flag or watch-list match
put in front of a reviewer (no review task). It is kept while a legal hold covers it, it has a
snapshot, a user report, retaliation flag, decision or appeal names it, it waits for its full
scoring (deferred), or a disclosure request waiting for approval has it in scope.

`[accounts] without_items`: days after an account was last seen (its last item or profile update
received) that its row (handle, display name, bio) and identifier links are kept once it has no item
left; deleted in the same run as its last item when that is long enough ago. Kept while a legal hold
names it, a snapshot this run does not delete names it, a strike, enforcement notice or user report
names it, it is suspended, or a disclosure request not yet exported or rejected names it (or, still
in draft, one of its identifiers). Identifiers no row uses any more go with it.

`[reporters] after_resolved`: days after a reporter's last report was resolved that their handle
(`reporters.key`) is kept; then it is replaced by a keyed pseudonym (plugwatch.evidence.
retention_reporters says what keeps it longer and what changes).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from plugwatch.evidence.holds import held_item_ids, held_snapshot_ids
from plugwatch.evidence.retention_reporters import expired_reporters, forget_reporters
from plugwatch.evidence.snapshot import EvidenceError, delete_snapshot
from plugwatch.store import audit
from plugwatch.store.evidence_tables import LegalHold, Snapshot
from plugwatch.store.hooks import pseudonym_key
from plugwatch.store.intake_tables import DeferredScore, RetaliationFlag, UserReport
from plugwatch.store.schema import (
    Account,
    AccountIdentifier,
    Appeal,
    Decision,
    Identifier,
    Item,
    ItemIdentifier,
    ReviewTask,
    Strike,
    utcnow,
)

FOREVER = None


@dataclass(frozen=True)
class Policy:
    snapshots: dict[str, int | None]
    default: int | None
    dismissed_items: int | None
    source: str = "built-in"
    never_queued_items: int | None = FOREVER
    accounts_without_items: int | None = FOREVER
    reporters_after_resolved: int | None = FOREVER

    def days_for(self, item_class: str) -> int | None:
        return self.snapshots.get(item_class, self.default)


def _days(value: Any, where: str) -> int | None:
    if isinstance(value, str) and value.strip().lower() == "forever":
        return FOREVER
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise EvidenceError(f"{where}: {value!r} is not a number of days (0 or more) or \"forever\"")
    return value


def parse_policy(text: str, source: str) -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise EvidenceError(f"{source}: not valid TOML ({e})") from None
    unknown = set(data) - {"snapshots", "items", "accounts", "reporters"}
    if unknown:
        raise EvidenceError(f"{source}: unknown section [{sorted(unknown)[0]}] (use [snapshots], [items], "
                            "[accounts] and [reporters])")
    snaps = data.get("snapshots", {})
    items = data.get("items", {})
    accounts = data.get("accounts", {})
    reporters = data.get("reporters", {})
    if not all(isinstance(x, dict) for x in (snaps, items, accounts, reporters)):
        raise EvidenceError(f"{source}: [snapshots], [items], [accounts] and [reporters] must be tables")
    classes = {k: _days(v, f"{source}: snapshots.{k}") for k, v in snaps.items() if k != "default"}
    default = _days(snaps["default"], f"{source}: snapshots.default") if "default" in snaps else FOREVER
    bad = set(items) - {"dismissed", "never_queued"}
    if bad:
        raise EvidenceError(f"{source}: unknown key items.{sorted(bad)[0]} (items.dismissed, items.never_queued)")
    dismissed = _days(items["dismissed"], f"{source}: items.dismissed") if "dismissed" in items else FOREVER
    never_queued = (_days(items["never_queued"], f"{source}: items.never_queued") if "never_queued" in items
                    else FOREVER)
    bad = set(accounts) - {"without_items"}
    if bad:
        raise EvidenceError(f"{source}: unknown key accounts.{sorted(bad)[0]} (accounts.without_items)")
    without_items = (_days(accounts["without_items"], f"{source}: accounts.without_items")
                     if "without_items" in accounts else FOREVER)
    bad = set(reporters) - {"after_resolved"}
    if bad:
        raise EvidenceError(f"{source}: unknown key reporters.{sorted(bad)[0]} (reporters.after_resolved)")
    after_resolved = (_days(reporters["after_resolved"], f"{source}: reporters.after_resolved")
                      if "after_resolved" in reporters else FOREVER)
    return Policy(classes, default, dismissed, source, never_queued, without_items, after_resolved)


def load_policy(path: str | Path | None = None) -> Policy:
    if path is None:
        text = resources.files("plugwatch.data").joinpath("retention.toml").read_text(encoding="utf-8")
        return parse_policy(text, "retention.toml (built-in)")
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise EvidenceError(f"{p}: cannot read the retention policy ({e.strerror})") from None
    except UnicodeDecodeError:
        raise EvidenceError(f"{p}: not UTF-8 text") from None
    return parse_policy(text, str(p))


@dataclass
class RetentionResult:
    deleted: list[dict[str, Any]] = field(default_factory=list)
    kept_on_hold: list[dict[str, Any]] = field(default_factory=list)
    deleted_items: list[str] = field(default_factory=list)  # dismissed
    deleted_never_queued: list[str] = field(default_factory=list)
    items_on_hold: list[str] = field(default_factory=list)  # dismissed or never queued, under a hold
    deleted_accounts: list[str] = field(default_factory=list)  # no item left and nothing names them
    pseudonymised_reporters: list[int] = field(default_factory=list)  # ids; their handles are never listed
    reporter_pseudonyms: bool = True  # False: no pseudonymisation key, the handles are removed instead
    dry_run: bool = False


def _snap_row(s: Snapshot, now: datetime) -> dict[str, Any]:
    return {"snapshot": s.id, "item": s.item_id, "account": s.account_key, "item_class": s.item_class,
            "created_at": s.created_at.isoformat(), "age_days": (now - s.created_at).days}


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


def expired_dismissed_items(session: Session, policy: Policy, now: datetime) -> list[Item]:
    if policy.dismissed_items is FOREVER:
        return []
    last = (select(Decision.item_id, func.max(Decision.id).label("last_id"))
            .where(Decision.action != "escalate").group_by(Decision.item_id).subquery())
    stmt = (select(Item).join(last, last.c.item_id == Item.id).join(Decision, Decision.id == last.c.last_id)
            .join(ReviewTask, ReviewTask.item_id == Item.id)
            .where(Decision.action == "dismiss", ReviewTask.state == "decided",
                   Decision.created_at < now - timedelta(days=policy.dismissed_items)))
    items = list(session.scalars(stmt.order_by(Item.id)))
    if not items:
        return []
    from plugwatch.evidence.requests import pending_scope_item_ids

    kept = pending_scope_item_ids(session)  # approval will freeze them: not deleted before it
    return [i for i in items if i.id not in kept]


def expired_never_queued_items(session: Session, policy: Policy, now: datetime,
                               dropping: frozenset[int] | set[int] = frozenset()) -> list[tuple[str, str | None]]:
    """(id, account key) of the items received more than `never_queued` days ago that were never
    queued for review and that nothing else keeps (see the module's note; holds are checked apart).
    `dropping`: ids of snapshots this run deletes, which no longer keep their item."""
    if policy.never_queued_items is FOREVER:
        return []
    from plugwatch.evidence.requests import pending_scope_item_ids

    def named_by(column) -> Any:
        return ~exists().where(column == Item.id)

    stmt = (select(Item.id, Item.account_key)
            .where(Item.received_at < now - timedelta(days=policy.never_queued_items),
                   named_by(ReviewTask.item_id), named_by(UserReport.item_id), named_by(RetaliationFlag.item_id),
                   named_by(Decision.item_id), named_by(Appeal.item_id), named_by(DeferredScore.item_id))
            .order_by(Item.id))
    rows = [(item_id, account) for item_id, account in session.execute(stmt)]
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
                     dropping: frozenset[int] | set[int] = frozenset()) -> list[str]:
    """Keys of the accounts that have no item once the `going` items ((id, account key) pairs this
    run deletes) are gone, were last seen more than `without_items` days ago and that nothing else
    keeps (see the module's note). `dropping`: ids of snapshots this run deletes."""
    if policy.accounts_without_items is FOREVER:
        return []
    from plugwatch.evidence.holds import held_account_keys
    from plugwatch.store.enforcement_tables import Notice
    from plugwatch.store.evidence_tables import DisclosureRequest

    cutoff = now - timedelta(days=policy.accounts_without_items)
    # accounts with no item now, and the authors of the items this run deletes whose every item goes
    candidates = set(session.scalars(select(Account.key).where(~exists().where(Item.account_key == Account.key))))
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


def _delete_accounts(session: Session, keys: list[str], reason: str, actor: str, now: datetime) -> None:
    """Delete the accounts with their identifier links and the identifiers nobody uses any more."""
    _delete(session, Account.__table__, "key", AccountIdentifier.account_key, keys, "account", reason, actor, now)


def _delete_items(session: Session, item_ids: list[str], reason: str, actor: str, now: datetime) -> None:
    """Delete the items with everything that points at them and the identifiers nobody uses any more."""
    _delete(session, Item.__table__, "id", ItemIdentifier.item_id, item_ids, "item", reason, actor, now)


def _delete(session: Session, table, key: str, link, ids: list[str], kind: str, reason: str, actor: str,
            now: datetime) -> None:
    """Delete rows of `table` (and what points at them), then the identifiers `link` tied only to them;
    one audit entry per row (retention.delete_KIND), then one with the rows per table (retention.KINDs)."""
    from plugwatch.store.erase import delete_rows, unreferenced

    idents: set[int] = set()
    for i in range(0, len(ids), 500):
        idents.update(session.scalars(select(link.table.c.identifier_id).where(link.in_(ids[i:i + 500]))))
    counts = delete_rows(session, table, key, ids)
    session.flush()
    orphans = unreferenced(session, Identifier.__table__, "id", idents)
    if orphans:
        delete_rows(session, Identifier.__table__, "id", orphans, counts)
    for one in ids:
        audit.append(session, actor, f"retention.delete_{kind}", f"{kind}:{one}", {"reason": reason}, at=now)
    audit.append(session, actor, f"retention.{kind}s", "retention", {"rows": dict(counts)}, at=now)


def run_retention(session: Session, policy: Policy, now: datetime | None = None, dry_run: bool = False,
                  actor: str = "retention") -> RetentionResult:
    from plugwatch.evidence.holds import lock_holds

    now = now or utcnow()
    result = RetentionResult(dry_run=dry_run)
    lock_holds(session)  # a hold added meanwhile waits for this run, or this run sees it
    snaps = expired_snapshots(session, policy, now)
    held = held_snapshot_ids(session, snaps)
    # Which items go is read before anything is deleted, so a dry run lists what a real run deletes.
    dismissed = [(i.id, i.account_key) for i in expired_dismissed_items(session, policy, now)]
    never_queued = expired_never_queued_items(session, policy, now, {s.id for s in snaps if s.id not in held})
    on_hold = held_item_ids(session, dismissed + never_queued)
    result.items_on_hold = [i for i, _ in dismissed + never_queued if i in on_hold]
    result.deleted_items = [i for i, _ in dismissed if i not in on_hold]
    result.deleted_never_queued = [i for i, _ in never_queued if i not in on_hold]
    result.deleted_accounts = expired_accounts(session, policy, now,
                                               [r for r in dismissed + never_queued if r[0] not in on_hold],
                                               {s.id for s in snaps if s.id not in held})
    if policy.reporters_after_resolved is not FOREVER:
        result.pseudonymised_reporters = expired_reporters(session, policy.reporters_after_resolved, now)
    secret = pseudonym_key(session) if result.pseudonymised_reporters else None
    result.reporter_pseudonyms = secret is not None or not result.pseudonymised_reporters
    for s in snaps:
        row = _snap_row(s, now)
        if s.id in held:
            row["holds"] = _holds_on(session, s)
            result.kept_on_hold.append(row)
            continue
        result.deleted.append(row)
        if not dry_run:
            delete_snapshot(session, s, actor, f"retention: {s.item_class} kept {policy.days_for(s.item_class)} days",
                            now=now)
    if not dry_run:
        if result.deleted_items:
            _delete_items(session, result.deleted_items, f"dismissed more than {policy.dismissed_items} days ago",
                          actor, now)
        if result.deleted_never_queued:
            _delete_items(session, result.deleted_never_queued,
                          f"never queued for review, received more than {policy.never_queued_items} days ago",
                          actor, now)
        if result.deleted_accounts:
            _delete_accounts(session, result.deleted_accounts,
                             f"no item left, last seen more than {policy.accounts_without_items} days ago",
                             actor, now)
        if result.pseudonymised_reporters:
            forget_reporters(session, result.pseudonymised_reporters, secret,
                             f"last report resolved more than {policy.reporters_after_resolved} days ago",
                             actor, now)
        audit.append(session, actor, "retention.run", "retention",
                     {"policy": policy.source, "snapshots_deleted": len(result.deleted),
                      "snapshots_kept_on_hold": len(result.kept_on_hold), "items_deleted": len(result.deleted_items),
                      "never_queued_items_deleted": len(result.deleted_never_queued),
                      "items_kept_on_hold": len(result.items_on_hold),
                      "accounts_deleted": len(result.deleted_accounts),
                      "reporters_pseudonymised": len(result.pseudonymised_reporters)}, at=now)
    return result


def _holds_on(session: Session, s: Snapshot) -> list[int]:
    return list(session.scalars(select(LegalHold.id).where(LegalHold.released_at.is_(None), or_(
        and_(LegalHold.target_type == "snapshot", LegalHold.target == str(s.id)),
        and_(LegalHold.target_type == "item", LegalHold.target == s.item_id),
        and_(LegalHold.target_type == "account", LegalHold.target == (s.account_key or ""))))))
