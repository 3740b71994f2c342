"""Data-subject rights for one account: everything stored about it, and deleting it.

The export holds the account, its identifiers, items (as received and as scanned), review
decisions (who took them by role only, e.g. "reviewer" or "lead": staff are not named to the
subject, also not in the free text of notes and appeals; the audit trail keeps their names), strikes, appeals and the metadata of its evidence
snapshots, and, when the same
`platform:handle` reported others, the reports it filed (its own words, what it reported and the
outcome, as the platform may tell it) and its track record; never other reporters of its items. It leaves out disclosure
requests and legal holds about the account: telling someone that law enforcement asked for their
data can break a non-disclosure order and tip off an investigation (GDPR art. 23 lets the law
restrict access for this reason). Those stay visible to `legal` users in the request list.

Deletion removes the account, its items and everything hanging off them (review tasks, decisions,
strikes, appeals, identifier links, identifiers nobody else uses) and its snapshots, except what a
legal hold covers: items under hold are frozen into a snapshot (class `hold`) first, and held
snapshots stay. When the same `platform:handle` reported others, its reporter row loses the handle as
retention takes it (plugwatch.evidence.retention_reporters: a keyed pseudonym, or `removed:ID` without
the key); its reports stay (they are about other accounts), linked to the row, not to the handle. The
handle stays when a legal hold or a pending disclosure request covers it or what it reported, or it
is a trusted flagger's. The result says what was kept and why.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugwatch.evidence.holds import held_snapshot_ids, item_held, lock_holds
from plugwatch.evidence.retention_reporters import forget_reporter, reporter_needed
from plugwatch.evidence.snapshot import HOLD_CLASS, LEGAL_PROCESS_CLASSES, NotFound, delete_snapshots, freeze
from plugwatch.privacy import optional_key
from plugwatch.store import audit, schema
from plugwatch.store.evidence_tables import Snapshot
from plugwatch.store.hooks import pseudonym_key
from plugwatch.store.intake_tables import Reporter, UserReport
from plugwatch.store.reports import reporter_pseudonym
from plugwatch.store.schema import User, utcnow

SUBJECT_ROLES = ("legal", "admin")


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def _need(user: User, what: str) -> None:
    from plugwatch.evidence.requests import RequestDenied

    if user.role not in SUBJECT_ROLES:
        raise RequestDenied(f"{what} needs the role legal or admin; {user.name} is {user.role}")


def _staff_blanker(session: Session):
    """Replaces staff user names in free text (a decision's note, an appeal's reason) by `[staff]`: the
    export goes to the person they acted against, who is told roles, never names."""
    names = sorted((n for n in session.scalars(select(User.name)) if len(n) >= 3), key=len, reverse=True)
    if not names:
        return lambda text: text
    pattern = re.compile(r"(?<![\w-])@?(?:" + "|".join(map(re.escape, names)) + r")(?![\w-])", re.IGNORECASE)
    return lambda text: pattern.sub("[staff]", text) if text else text


def _account(session: Session, key: str, legal: bool = True) -> tuple[str, schema.Account | None]:
    """The account key as stored and its row; NotFound when nothing is stored about it. `legal=False`: snapshots
    frozen for legal process do not count (the subject's own export must not tell them apart)."""
    platform, sep, handle = key.strip().lower().partition(":")
    key = f"{platform}{sep}{handle.lstrip('@')}"  # "telegram:@shop" names the account "telegram:shop"
    acc = session.get(schema.Account, key)
    has_items = session.scalars(select(schema.Item.id).where(schema.Item.account_key == key).limit(1)).first()
    snaps = select(Snapshot.id).where(Snapshot.account_key == key)
    if not legal:
        snaps = snaps.where(Snapshot.item_class.not_in(LEGAL_PROCESS_CLASSES))
    has_snaps = session.scalars(snaps.limit(1)).first()
    reported = _reporter_row(session, key)
    if acc is None and has_items is None and has_snaps is None and reported is None:
        raise NotFound(f"nothing is stored about account {key!r} (write it as platform:handle)")
    return key, acc


def _items(session: Session, key: str) -> list[schema.Item]:
    return list(session.scalars(select(schema.Item).where(schema.Item.account_key == key).order_by(schema.Item.id)))


def _about_items(session: Session, table: type, item_ids: list[str]) -> list[Any]:
    """The rows of `table` (review tasks, decisions, appeals) about any of `item_ids`, in id order."""
    if not item_ids:
        return []
    return list(session.scalars(select(table).where(table.item_id.in_(item_ids)).order_by(table.id)))


def subject_export(session: Session, user: User, account_key: str, now: datetime | None = None) -> dict[str, Any]:
    _need(user, "a subject-access export")
    now = now or utcnow()
    key, acc = _account(session, account_key, legal=False)
    # Staff are named by role, never by name: the subject may be the suspected dealer they acted against.
    # Who it was stays in the audit trail (and in decision.json of the evidence snapshots).
    roles = {uid: role for uid, role in session.execute(select(User.id, User.role))}
    unnamed = _staff_blanker(session)
    items = _items(session, key)
    item_ids = [i.id for i in items]
    idents = session.execute(
        select(schema.Identifier.type, schema.Identifier.canonical, schema.Identifier.first_seen,
               schema.Identifier.last_seen)
        .join(schema.AccountIdentifier, schema.AccountIdentifier.identifier_id == schema.Identifier.id)
        .where(schema.AccountIdentifier.account_key == key)
        .order_by(schema.Identifier.type, schema.Identifier.canonical)).all()
    decisions = _about_items(session, schema.Decision, item_ids)
    out: dict[str, Any] = {
        "format": "plugwatch-subject-access/1",
        "account_key": key,
        "generated_at": now.isoformat(),
        "generated_by": user.role,
        "account": None if acc is None else {
            "key": acc.key, "platform": acc.platform, "handle": acc.handle, "native_id": acc.native_id,
            "display_name": acc.display_name, "bio": acc.bio, "followers": acc.followers,
            "created_at": _iso(acc.created_at), "first_seen": _iso(acc.first_seen), "last_seen": _iso(acc.last_seen),
            "network_id": acc.network_id, "suspended_at": _iso(acc.suspended_at)},
        "identifiers": [{"type": t, "canonical": c, "first_seen": _iso(f), "last_seen": _iso(last)}
                        for t, c, f, last in idents],
        "items": [{"id": i.id, "platform": i.platform, "kind": i.kind, "text": i.text, "url": i.url,
                   "created_at": _iso(i.created_at), "received_at": _iso(i.received_at), "score": i.score,
                   "flagged": i.flagged, "offer_kind": i.offer_kind, "drugs": i.drugs, "reasons": i.reasons,
                   "identifiers": i.identifiers, "record": i.record, "raw": i.raw} for i in items],
        "review_tasks": [{"item_id": t.item_id, "state": t.state, "created_at": _iso(t.created_at),
                          "decided_at": _iso(t.decided_at)}
                         for t in _about_items(session, schema.ReviewTask, item_ids)],
        "decisions": [{"id": d.id, "item_id": d.item_id, "action": d.action, "policy_reason": d.policy_reason,
                       "note": unnamed(d.note), "reviewer": roles.get(d.reviewer_id), "created_at": _iso(d.created_at)}
                      for d in decisions],
        "strikes": [{"decision_id": s.decision_id, "created_at": _iso(s.created_at), "expires_at": _iso(s.expires_at),
                     "revoked_at": _iso(s.revoked_at)}
                    for s in session.scalars(select(schema.Strike).where(schema.Strike.account_key == key)
                                             .order_by(schema.Strike.id))],
        "appeals": [{"id": a.id, "item_id": a.item_id, "decision_id": a.decision_id, "reason": unnamed(a.reason),
                     "state": a.state, "created_at": _iso(a.created_at), "decided_at": _iso(a.decided_at)}
                    for a in _about_items(session, schema.Appeal, item_ids)],
        "snapshots": [{"id": s.id, "item_id": s.item_id, "item_class": s.item_class,
                       "created_at": _iso(s.created_at), "manifest_digest": s.manifest_digest,
                       "files": sorted(s.manifest.get("files", {}))}
                      for s in session.scalars(select(Snapshot).where(
                          Snapshot.account_key == key, Snapshot.item_class.not_in(LEGAL_PROCESS_CLASSES))
                          .order_by(Snapshot.seq))],
        **_as_reporter(session, key),
        "not_included": "disclosure requests and legal holds (may be subject to non-disclosure obligations)",
    }
    audit.append(session, user.name, "subject.export", f"account:{key}",
                 {"items": len(items), "snapshots": len(out["snapshots"]), "reports_filed": len(out["reports_filed"])},
                 at=now)
    return out


def _reporter_row(session: Session, key: str) -> Reporter | None:
    """The subject's reporter row, also once retention replaced its handle by a pseudonym: the reports
    are still about this person, so they are still theirs to see (found with the key, if it is set)."""
    who = session.scalars(select(Reporter).where(Reporter.key == key)).first()
    secret = optional_key() if who is None else None
    if secret is not None:
        who = session.scalars(select(Reporter).where(Reporter.key == reporter_pseudonym(key, secret))).first()
    return who


def _as_reporter(session: Session, key: str) -> dict[str, Any]:
    """What the subject told us as a reporter: its reports and its track record."""
    who = _reporter_row(session, key)
    if who is None:
        return {"reporter": None, "reports_filed": []}
    reports = session.scalars(select(UserReport).where(UserReport.reporter_id == who.id).order_by(UserReport.id))
    return {
        "reporter": {"reports": who.reports, "resolved": who.resolved, "actioned": who.actioned,
                     "trusted_flagger": who.trusted_flagger, "trusted_name": who.trusted_name,
                     "created_at": _iso(who.created_at)},
        "reports_filed": [{"id": r.id, "item_id": r.item_id, "account_key": r.account_key, "reason": r.reason,
                           "text": r.text, "source": r.source, "created_at": _iso(r.created_at),
                           "outcome": r.outcome, "outcome_at": _iso(r.outcome_at)} for r in reports],
    }


@dataclass
class DeletionResult:
    account_key: str
    deleted_rows: dict[str, int] = field(default_factory=dict)
    deleted_snapshots: list[int] = field(default_factory=list)
    kept_snapshots: list[int] = field(default_factory=list)  # under a legal hold
    frozen_for_hold: list[int] = field(default_factory=list)  # held items frozen before the item row went
    deleted_identifiers: int = 0
    reporters: dict[str, int] = field(default_factory=dict)  # its reporter handle: {"pseudonymised"|"removed"|"merged": 1}
    reporter_kept: str | None = None  # why its reporter handle stays
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"account_key": self.account_key, "deleted_rows": self.deleted_rows,
                "deleted_snapshots": self.deleted_snapshots, "kept_snapshots_on_hold": self.kept_snapshots,
                "frozen_for_hold": self.frozen_for_hold, "deleted_identifiers": self.deleted_identifiers,
                "reporters": self.reporters, "reporter_kept": self.reporter_kept, "dry_run": self.dry_run}


def delete_subject(session: Session, user: User, account_key: str, dry_run: bool = False,
                   now: datetime | None = None) -> DeletionResult:
    from plugwatch.store.erase import delete_rows, unreferenced

    _need(user, "deleting an account's data")
    now = now or utcnow()
    lock_holds(session)  # holds cannot change while this deletion decides what they protect
    key, acc = _account(session, account_key)
    result = DeletionResult(key, dry_run=dry_run)
    items = _items(session, key)
    snapped = set(session.scalars(select(Snapshot.item_id).where(Snapshot.account_key == key)))
    for item in items:
        if item_held(session, item.id, key) and item.id not in snapped:
            if not dry_run:
                result.frozen_for_hold.append(freeze(session, item.id, item_class=HOLD_CLASS, actor=user.name, now=now).id)
            else:
                result.frozen_for_hold.append(-1)
    snaps = list(session.scalars(select(Snapshot).where(Snapshot.account_key == key).order_by(Snapshot.seq)))
    held = held_snapshot_ids(session, snaps)
    result.kept_snapshots = [s.id for s in snaps if s.id in held]
    result.deleted_snapshots = [s.id for s in snaps if s.id not in held]
    ident_ids = set(session.scalars(select(schema.AccountIdentifier.identifier_id)
                                    .where(schema.AccountIdentifier.account_key == key)))
    if items:
        ident_ids |= set(session.scalars(select(schema.ItemIdentifier.identifier_id)
                                         .where(schema.ItemIdentifier.item_id.in_([i.id for i in items]))))
    # its reporter row, under its handle (one retention already pseudonymised has nothing left to take)
    reporter = session.scalars(select(Reporter).where(Reporter.key == key)).first()
    result.reporter_kept = reporter_needed(session, reporter) if reporter is not None else None
    secret = pseudonym_key(session) if reporter is not None and result.reporter_kept is None else None
    if not dry_run:
        delete_snapshots(session, [(s, f"account {key} deleted on request") for s in snaps if s.id not in held],
                         user.name, now=now)

    def delete() -> Counter:
        counts = delete_rows(session, schema.Item.__table__, "id", [i.id for i in items])
        if acc is not None:
            delete_rows(session, schema.Account.__table__, "key", [key], counts)
        session.flush()
        orphans = unreferenced(session, schema.Identifier.__table__, "id", ident_ids)
        if orphans:
            delete_rows(session, schema.Identifier.__table__, "id", orphans, counts)
        result.deleted_identifiers = len(orphans)
        if reporter is not None and result.reporter_kept is None:
            outcome, _ = forget_reporter(session, reporter, secret, now)
            result.reporters = {outcome: 1}
        result.deleted_rows = {k: v for k, v in sorted(counts.items()) if v}
        return counts

    if dry_run:  # the same deletes in a savepoint, rolled back: the counts are those a real run gives
        session.flush()
        savepoint = session.begin_nested()
        try:
            delete()
        finally:
            savepoint.rollback()
        session.expire_all()
        return result
    delete()
    audit.append(session, user.name, "subject.delete", f"account:{key}", result.to_dict(), at=now)
    return result
