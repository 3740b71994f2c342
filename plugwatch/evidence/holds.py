"""Legal holds: while one is active, nothing it covers is deleted (retention, account deletion).

A hold names an account (`platform:handle`, covers every snapshot and item of it, including those
frozen later), an item id, or a snapshot id. Releasing keeps the row, so the history of holds stays.

Holds and deletions exclude each other: adding or releasing a hold, a retention run and a subject
deletion each take one lock (`lock_holds`) before they read the holds, so a hold added while
retention runs is either seen by it or refused because its snapshot is gone, never both added and
deleted. A release is one conditional UPDATE checked by its row count: a hold is released once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from plugwatch.evidence.snapshot import EvidenceError, NotFound
from plugwatch.store import audit
from plugwatch.store.evidence_tables import HOLD_TARGETS, LegalHold, Snapshot
from plugwatch.store.locks import lock_name
from plugwatch.store.schema import utcnow


def lock_holds(session: Session) -> None:
    """Until commit: no one else adds or releases a hold, or deletes what holds protect. Take it
    before the first audit entry of the transaction (lock order, see plugwatch.store.locks)."""
    lock_name(session, "plugwatch.legal_holds")


def account_key(raw: str) -> str:
    """`platform:handle` as accounts are stored: lower case, without the `@` people write before a handle
    (`telegram:@shop` named no account, so a hold or request on it protected and disclosed nothing)."""
    platform, sep, handle = raw.strip().lower().partition(":")
    handle = handle.strip().lstrip("@")
    if not (platform and sep and handle):
        raise EvidenceError(f"account {raw!r}: write it as platform:handle, e.g. telegram:shop_1")
    return f"{platform}:{handle}"


def add_hold(session: Session, target_type: str, target: str, reason: str, actor: str,
             request_id: int | None = None, now: datetime | None = None) -> LegalHold:
    if target_type not in HOLD_TARGETS:
        raise EvidenceError(f"a hold is on an account, item or snapshot, not {target_type!r}")
    target = target.strip()
    if target_type == "account" and target:
        target = account_key(target)
    if not target:
        raise EvidenceError(f"a hold needs the {target_type} it covers")
    if not reason or not reason.strip():
        raise EvidenceError("a hold needs a reason (case, request reference)")
    lock_holds(session)
    if target_type == "snapshot" and session.get(Snapshot, _int(target)) is None:
        raise NotFound(f"no snapshot {target}")
    hold = LegalHold(target_type=target_type, target=target, reason=reason.strip(), request_id=request_id,
                     created_by=actor, created_at=now or utcnow())
    session.add(hold)
    session.flush()
    audit.append(session, actor, "hold.add", f"{target_type}:{target}",
                 {"hold": hold.id, "reason": hold.reason, "request": request_id}, at=hold.created_at)
    return hold


def release_hold(session: Session, hold_id: int, actor: str, now: datetime | None = None) -> LegalHold:
    now = now or utcnow()
    lock_holds(session)
    res = session.execute(update(LegalHold).where(LegalHold.id == hold_id, LegalHold.released_at.is_(None))
                          .values(released_by=actor, released_at=now).execution_options(synchronize_session=False))
    hold = session.scalars(select(LegalHold).where(LegalHold.id == hold_id)
                           .execution_options(populate_existing=True)).one_or_none()
    if hold is None:
        raise NotFound(f"no hold {hold_id}")
    if res.rowcount != 1:
        raise EvidenceError(f"hold {hold_id} was already released by {hold.released_by}")
    audit.append(session, actor, "hold.release", f"{hold.target_type}:{hold.target}", {"hold": hold.id},
                 at=hold.released_at)
    return hold


def unknown_accounts(session: Session, keys: Iterable[str]) -> list[str]:
    """The accounts among `keys` this database has never seen (no account row, item or snapshot): a
    hold or request may rightly come before ingestion, but a typo would protect nothing, so callers warn."""
    from plugwatch.store.schema import Account, Item

    unknown = []
    for key in keys:
        key = key.strip().lower()
        if (session.get(Account, key) is None
                and session.scalars(select(Item.id).where(Item.account_key == key).limit(1)).first() is None
                and session.scalars(select(Snapshot.id).where(Snapshot.account_key == key).limit(1)).first() is None):
            unknown.append(key)
    return unknown


def unknown_item(session: Session, item_id: str) -> bool:
    """No item and no snapshot of it is stored: a hold on it protects nothing until one is (a typo, or
    the native id without its platform: `1009` for `telegram:1009`), so callers warn."""
    from plugwatch.store.schema import Item

    return (session.get(Item, item_id) is None
            and session.scalars(select(Snapshot.id).where(Snapshot.item_id == item_id).limit(1)).first() is None)


def active_holds(session: Session) -> list[LegalHold]:
    return list(session.scalars(select(LegalHold).where(LegalHold.released_at.is_(None)).order_by(LegalHold.id)))


def list_holds(session: Session, actor: str) -> list[dict]:
    """The active holds as shown to a legal user; the look is audited (by the API and the command line)."""
    rows = [{"id": h.id, "target_type": h.target_type, "target": h.target, "reason": h.reason,
             "request": h.request_id, "created_by": h.created_by, "created_at": h.created_at.isoformat()}
            for h in active_holds(session)]
    audit.append(session, actor, "hold.list", "holds", {"count": len(rows)})
    return rows


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise EvidenceError(f"a snapshot id is a number, not {value!r}") from None


def _targets(session: Session) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {t: set() for t in HOLD_TARGETS}
    for t, target in session.execute(select(LegalHold.target_type, LegalHold.target)
                                     .where(LegalHold.released_at.is_(None))):
        out.setdefault(t, set()).add(target)
    return out


def held_snapshot_ids(session: Session, snapshots: Iterable[Snapshot] | None = None) -> set[int]:
    """Ids of the given snapshots (default: all) that an active hold covers."""
    t = _targets(session)
    if snapshots is None:
        conds = []
        if t["snapshot"]:
            conds.append(Snapshot.id.in_([int(x) for x in t["snapshot"] if x.isdigit()]))
        if t["item"]:
            conds.append(Snapshot.item_id.in_(t["item"]))
        if t["account"]:
            conds.append(Snapshot.account_key.in_(t["account"]))
        if not conds:
            return set()
        return set(session.scalars(select(Snapshot.id).where(or_(*conds))))
    return {s.id for s in snapshots if str(s.id) in t["snapshot"] or s.item_id in t["item"]
            or (s.account_key or "") in t["account"]}


def item_held(session: Session, item_id: str, account_key: str | None) -> bool:
    t = _targets(session)
    return item_id in t["item"] or (account_key or "") in t["account"]


def held_item_ids(session: Session, items: Iterable[tuple[str, str | None]]) -> set[str]:
    """Those of `items` ((item id, account key) pairs) that an active hold covers; the holds are read once."""
    t = _targets(session)
    return {item_id for item_id, account_key in items
            if item_id in t["item"] or (account_key or "") in t["account"]}


def held_account_keys(session: Session) -> set[str]:
    """The accounts an active hold names (lower case, as holds store them)."""
    return set(_targets(session)["account"])
