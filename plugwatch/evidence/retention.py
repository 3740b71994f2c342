"""Retention: delete the snapshots, items and accounts the policy no longer allows and replace reporters'
handles by pseudonyms; never what a legal hold covers.

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

Batches. A real run first lists everything it will change, as its dry run does (the same code, under
the holds lock), then works through the list BATCH rows at a time (`--batch`), one transaction each:
a batch takes the holds lock again, asks again whether each of its rows still goes (a hold, report,
decision or request may have come since the listing; such a row stays and is named in `skipped`),
deletes the rest with one audit entry each, and commits. So a first run on a large database holds no
long transaction, and an interrupted one keeps what its committed batches did, each with its audit
entries; the next run carries on. The run's summary entry (retention.run) comes last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from plugwatch.evidence.holds import held_account_keys, held_item_ids, held_snapshot_ids, lock_holds
from plugwatch.evidence.retention_expiry import (
    expired_accounts,
    expired_dismissed_items,
    expired_never_queued_items,
    expired_snapshots,
)
from plugwatch.evidence.retention_policy import FOREVER, Policy, load_policy, parse_policy
from plugwatch.evidence.retention_reporters import expired_reporters, forget_reporters
from plugwatch.evidence.snapshot import EvidenceError, delete_snapshots
from plugwatch.store import audit
from plugwatch.store.evidence_tables import LegalHold, Snapshot
from plugwatch.store.hooks import pseudonym_key
from plugwatch.store.schema import Account, AccountIdentifier, Identifier, Item, ItemIdentifier, utcnow

__all__ = ["BATCH", "FOREVER", "Policy", "RetentionResult", "load_policy", "parse_policy", "run_retention"]

BATCH = 500  # rows per transaction: a batch is one IN list, as in the chunked queries it goes through
CHANGED = "changed during the run"


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
    skipped: list[str] = field(default_factory=list)  # listed, then kept by a batch: "item ID (why)"
    dry_run: bool = False


def _snap_row(s: Snapshot, now: datetime) -> dict[str, Any]:
    return {"snapshot": s.id, "item": s.item_id, "account": s.account_key, "item_class": s.item_class,
            "created_at": s.created_at.isoformat(), "age_days": (now - s.created_at).days}


def _listing(session: Session, policy: Policy, now: datetime) -> tuple[RetentionResult, dict[str, str | None]]:
    """What the run changes, read before anything is changed; and the items' accounts."""
    result = RetentionResult()
    snaps = expired_snapshots(session, policy, now)
    held = held_snapshot_ids(session, snaps)
    dropping = {s.id for s in snaps if s.id not in held}
    dismissed = expired_dismissed_items(session, policy, now)
    never_queued = expired_never_queued_items(session, policy, now, dropping)
    on_hold = held_item_ids(session, dismissed + never_queued)
    result.items_on_hold = [i for i, _ in dismissed + never_queued if i in on_hold]
    result.deleted_items = [i for i, _ in dismissed if i not in on_hold]
    result.deleted_never_queued = [i for i, _ in never_queued if i not in on_hold]
    result.deleted_accounts = expired_accounts(session, policy, now,
                                               [r for r in dismissed + never_queued if r[0] not in on_hold], dropping)
    if policy.reporters_after_resolved is not FOREVER:
        result.pseudonymised_reporters = expired_reporters(session, policy.reporters_after_resolved, now)
    for s in snaps:
        row = _snap_row(s, now)
        if s.id in held:
            row["holds"] = _holds_on(session, s)
            result.kept_on_hold.append(row)
        else:
            result.deleted.append(row)
    return result, dict(dismissed + never_queued)


def run_retention(session: Session, policy: Policy, now: datetime | None = None, dry_run: bool = False,
                  actor: str = "retention", batch: int | None = None) -> RetentionResult:
    """Apply the policy (see the module's note). A real run commits `session` after each batch of
    `batch` rows (default BATCH, 1 to 500); the summary entry is left for the caller to commit."""
    now = now or utcnow()
    size = batch or BATCH
    if not 1 <= size <= 500:
        raise EvidenceError(f"a batch is 1 to 500 rows, not {size}")
    lock_holds(session)  # a hold added meanwhile waits for the listing, or the listing sees it
    result, account_of = _listing(session, policy, now)
    result.dry_run = dry_run
    secret = pseudonym_key(session) if result.pseudonymised_reporters else None
    result.reporter_pseudonyms = secret is not None or not result.pseudonymised_reporters
    if dry_run:
        return result
    batches = _Batches(session, size, result)
    batches.snapshots(policy, actor, now)
    for attr, find, reason in (("deleted_items", expired_dismissed_items,
                             f"dismissed more than {policy.dismissed_items} days ago"),
                            ("deleted_never_queued", expired_never_queued_items,
                             f"never queued for review, received more than {policy.never_queued_items} days ago")):
        def still(chunk, find=find):
            return {i for i, _ in find(session, policy, now, only=chunk)}

        batches.items(attr, still, account_of, reason, actor, now)
    batches.run("account", result.deleted_accounts,
                lambda chunk: set(expired_accounts(session, policy, now, [], only=chunk)),
                lambda keys: _delete(session, Account.__table__, "key", AccountIdentifier.account_key, keys,
                                     "account", f"no item left, last seen more than "
                                     f"{policy.accounts_without_items} days ago", actor, now),
                lambda key: "legal hold" if key.lower() in held_account_keys(session) else CHANGED)
    days = policy.reporters_after_resolved
    batches.run("reporter", result.pseudonymised_reporters,
                lambda chunk: set(expired_reporters(session, days, now, only=chunk)),
                lambda ids: forget_reporters(session, ids, secret, f"last report resolved more than {days} days ago",
                                             actor, now))
    audit.append(session, actor, "retention.run", "retention",
                 {"policy": policy.source, "snapshots_deleted": len(result.deleted),
                  "snapshots_kept_on_hold": len(result.kept_on_hold), "items_deleted": len(result.deleted_items),
                  "never_queued_items_deleted": len(result.deleted_never_queued),
                  "items_kept_on_hold": len(result.items_on_hold),
                  "accounts_deleted": len(result.deleted_accounts),
                  "reporters_pseudonymised": len(result.pseudonymised_reporters),
                  "skipped": len(result.skipped), "batches": batches.count}, at=now)
    return result


class _Batches:
    """Works through the listed rows, one transaction per batch (see the module's note)."""

    def __init__(self, session: Session, size: int, result: RetentionResult):
        self.session, self.size, self.result, self.count = session, size, result, 0

    def run(self, kind: str, listed: list, still: Callable[[list], set], act: Callable[[list], None],
            why: Callable[[Any], str] = lambda _: CHANGED) -> None:
        """`listed` (a result list, left holding what was done): `still(chunk)` says, under the holds
        lock, which rows of a batch still go; `act(rows)` changes them with their audit entries."""
        done = []
        for i in range(0, len(listed), self.size):
            chunk = listed[i:i + self.size]
            lock_holds(self.session)
            ok = still(chunk)
            going = [x for x in chunk if x in ok]
            if going:
                act(going)
            self.session.commit()
            self.count += 1
            done += going
            self.result.skipped += [f"{kind} {x} ({why(x)})" for x in chunk if x not in ok]
        listed[:] = done

    def items(self, attr: str, still: Callable[[list], set], account_of: dict[str, str | None], reason: str,
              actor: str, now: datetime) -> None:
        held: set[str] = set()

        def unheld(chunk):
            held.update(held_item_ids(self.session, [(i, account_of[i]) for i in chunk]))
            return still(chunk) - held

        self.run("item", getattr(self.result, attr), unheld,
                 lambda ids: _delete(self.session, Item.__table__, "id", ItemIdentifier.item_id, ids, "item",
                                     reason, actor, now),
                 lambda i: "legal hold" if i in held else CHANGED)
        self.result.items_on_hold += sorted(held)

    def snapshots(self, policy: Policy, actor: str, now: datetime) -> None:
        rows = {row["snapshot"]: row for row in self.result.deleted}
        held: set[int] = set()

        def unheld(chunk):
            snaps = list(self.session.scalars(select(Snapshot).where(Snapshot.id.in_(chunk))))
            now_held = held_snapshot_ids(self.session, snaps)
            self.result.kept_on_hold += [{**rows[s.id], "holds": _holds_on(self.session, s)}
                                         for s in snaps if s.id in now_held]
            held.update(now_held)
            return {s.id for s in snaps} - held

        def delete(ids):
            snaps = [self.session.get(Snapshot, sid) for sid in ids]
            delete_snapshots(self.session, [(s, f"retention: {s.item_class} kept {policy.days_for(s.item_class)} days")
                                            for s in snaps], actor, now=now)

        listed = list(rows)
        self.run("snapshot", listed, unheld, delete, lambda sid: "legal hold" if sid in held else "already deleted")
        self.result.deleted = [rows[sid] for sid in listed]


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
    audit.append_many(session, actor, [(f"retention.delete_{kind}", f"{kind}:{one}", {"reason": reason})
                                       for one in ids] + [(f"retention.{kind}s", "retention", {"rows": dict(counts)})],
                      at=now)


def _holds_on(session: Session, s: Snapshot) -> list[int]:
    return list(session.scalars(select(LegalHold.id).where(LegalHold.released_at.is_(None), or_(
        and_(LegalHold.target_type == "snapshot", LegalHold.target == str(s.id)),
        and_(LegalHold.target_type == "item", LegalHold.target == s.item_id),
        and_(LegalHold.target_type == "account", LegalHold.target == (s.account_key or ""))))))
