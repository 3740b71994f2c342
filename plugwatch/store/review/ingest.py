"""Storing scored records: items, accounts, identifiers, seller networks and review tasks, in batches."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from plugwatch.records import utc_time
from plugwatch.store import linking
from plugwatch.store.hooks import Route, hooks_of
from plugwatch.store.review.base import ReviewError, _chunks, _insert
from plugwatch.store.review.priority import base_priority, needs_review, priority_key
from plugwatch.store.schema import (
    Account,
    AccountIdentifier,
    Identifier,
    Item,
    ItemIdentifier,
    ReviewTask,
    utcnow,
)


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    queued: int = 0
    ids: list[str] = field(default_factory=list)  # ids of the items stored by this call

    def add(self, other: IngestResult) -> None:
        """Count another call's result into this one."""
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.queued += other.queued
        self.ids.extend(other.ids)


def known_ids(session: Session, ids: Iterable[str]) -> set[str]:
    """The ids among `ids` already stored (so a re-sent batch need not be scored again)."""
    found: set[str] = set()
    for chunk in _chunks(sorted(set(ids))):
        found.update(session.scalars(select(Item.id).where(Item.id.in_(chunk))))
    return found


def ingest_records(session: Session, records: list[dict[str, Any]], now: datetime | None = None) -> IngestResult:
    """Store scanned records (the dicts `plugwatch scan` writes, plus optional `raw` and `reach`) with
    their accounts and identifiers, and queue those that need review. Idempotent on the item id: a
    record already stored (or repeated in `records`) is counted as a duplicate and changes nothing
    but its account's `last_seen`. A handful of statements per call, whatever the batch size."""
    now = now or utcnow()
    result = IngestResult()
    unique: dict[str, dict[str, Any]] = {}
    for rec in records:
        rid = rec.get("id")
        if not isinstance(rid, str) or not rid:
            raise ReviewError("every record needs an id (platform:native_id)", 422)
        if rid in unique:
            result.duplicates += 1
        else:
            unique[rid] = rec
    if not unique:
        return result
    existing = known_ids(session, unique)
    result.duplicates += len(existing)
    fresh = [rec for rid, rec in unique.items() if rid not in existing]

    _upsert_accounts(session, unique.values(), now)
    if not fresh:
        return result

    item_rows = [_item_row(rec, now) for rec in fresh]
    table = Item.__table__
    stored: set[str] = set()
    for chunk in _chunks(item_rows):
        stmt = _insert(session, table).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id)
        stored.update(session.execute(stmt, chunk).scalars())
    result.duplicates += len(fresh) - len(stored)  # stored meanwhile by a concurrent ingest
    fresh = [rec for rec in fresh if rec["id"] in stored]
    result.stored = len(fresh)
    result.ids = [rec["id"] for rec in fresh]

    ident_ids = _link_identifiers(session, fresh, now)
    linking.link_batch(session, fresh, ident_ids)  # before queueing: new tasks take the network's group
    routes = _routes(session, fresh, now)
    result.queued = _queue_tasks(session, [rec for rec in fresh if routes[rec["id"]].review], now, routes)
    session.flush()
    for hook in hooks_of(session).after_ingest:
        hook(session, result)
    return result


def queue_records(session: Session, records: list[dict[str, Any]], now: datetime | None = None) -> int:
    """Queue stored records for review whatever their score (e.g. a partner's watch-list match)."""
    return _queue_tasks(session, records, now or utcnow())


def _routes(session: Session, records: list[dict[str, Any]], now: datetime) -> dict[str, Route]:
    """Which records are queued, and how: the store's router (the policy rules) when one is wired,
    else the detector's flag or a request to buy."""
    router = hooks_of(session).route
    routes = router(session, records, now) if router is not None else {}
    return {rec["id"]: routes.get(rec["id"]) or Route(review=router is None and needs_review(rec))
            for rec in records}


def _item_row(rec: dict[str, Any], now: datetime) -> dict[str, Any]:
    record = {k: v for k, v in rec.items() if k not in ("raw",)}
    return {
        "id": rec["id"], "platform": rec.get("platform") or rec["id"].split(":", 1)[0],
        "account_key": rec.get("author"), "kind": rec.get("item_kind") or "post", "text": rec.get("text") or "",
        "url": rec.get("url"), "reply_to": rec.get("reply_to"), "created_at": utc_time(rec.get("created_at")),
        "received_at": now, "score": rec.get("score"), "flagged": bool(rec.get("flagged")),
        "offer_kind": rec.get("kind"), "drugs": rec.get("drugs") or [], "reasons": rec.get("reasons") or [],
        "identifiers": rec.get("identifiers") or [], "record": record, "raw": rec.get("raw"),
        "reach": rec.get("reach"),
    }


def _upsert_accounts(session: Session, records: Iterable[dict[str, Any]], now: datetime) -> None:
    rows: dict[str, dict[str, Any]] = {}
    for rec in records:
        key = rec.get("author")
        if not key:
            continue
        acc = rec.get("account") or {}
        row = rows.setdefault(key, {"key": key, "platform": rec.get("platform") or key.split(":", 1)[0],
                                    "handle": None, "native_id": None, "display_name": None, "bio": None,
                                    "followers": None, "created_at": None, "first_seen": now, "last_seen": now})
        for name in ("handle", "native_id", "display_name", "bio", "followers"):
            if acc.get(name) is not None:
                row[name] = acc[name]
        if acc.get("created_at"):
            row["created_at"] = utc_time(acc["created_at"])
    if not rows:
        return
    table = Account.__table__
    for chunk in _chunks(sorted(rows.values(), key=lambda r: r["key"])):  # sorted: no lock-order deadlocks
        stmt = _insert(session, table)
        ex = stmt.excluded
        # What the platform shows now wins; what a record did not say keeps the stored value.
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={
            "last_seen": ex.last_seen,
            **{c: func.coalesce(getattr(ex, c), getattr(table.c, c))
               for c in ("handle", "native_id", "display_name", "bio", "followers", "created_at")},
        })
        session.execute(stmt, chunk)


def _link_identifiers(session: Session, records: list[dict[str, Any]],
                      now: datetime) -> dict[tuple[str, str], int]:
    wanted: set[tuple[str, str]] = set()
    in_bios: dict[str, set[tuple[str, str]]] = {}
    for rec in records:
        if rec.get("author"):
            in_bios.setdefault(rec["author"], set()).update(linking.bio_linking_identifiers(rec))
    for rec in records:
        for ident in rec.get("identifiers") or []:
            if ident.get("type") and ident.get("canonical"):
                wanted.add((ident["type"], ident["canonical"]))
    for pairs in in_bios.values():
        wanted |= pairs
    if not wanted:
        return {}
    table = Identifier.__table__
    ordered = sorted(wanted)
    rows = [{"type": t, "canonical": c, "first_seen": now, "last_seen": now} for t, c in ordered]
    for chunk in _chunks(rows):
        stmt = _insert(session, table)
        session.execute(stmt.on_conflict_do_update(index_elements=["type", "canonical"],
                                                   set_={"last_seen": stmt.excluded.last_seen}), chunk)
    ids: dict[tuple[str, str], int] = {}
    canonicals = sorted({c for _, c in wanted})
    for chunk in _chunks(canonicals):
        for ident_id, t, c in session.execute(
                select(Identifier.id, Identifier.type, Identifier.canonical).where(Identifier.canonical.in_(chunk))):
            ids[(t, c)] = ident_id
    item_links, account_links = set(), set()
    for rec in records:
        for ident in rec.get("identifiers") or []:
            ident_id = ids.get((ident.get("type"), ident.get("canonical")))
            if ident_id is None:
                continue
            item_links.add((rec["id"], ident_id))
            if rec.get("author"):
                account_links.add((rec["author"], ident_id))
    for author, pairs in in_bios.items():  # shown by the account, not posted in an item
        account_links.update((author, ids[p]) for p in pairs if p in ids)
    if item_links:
        session.execute(_insert(session, ItemIdentifier.__table__).on_conflict_do_nothing(),
                        [{"item_id": i, "identifier_id": j} for i, j in sorted(item_links)])
    if account_links:
        session.execute(_insert(session, AccountIdentifier.__table__).on_conflict_do_nothing(),
                        [{"account_key": a, "identifier_id": j} for a, j in sorted(account_links)])
    return ids


def _queue_tasks(session: Session, records: list[dict[str, Any]], now: datetime,
                 routes: dict[str, Route] | None = None) -> int:
    if not records:
        return 0
    keys = sorted({rec["author"] for rec in records if rec.get("author")})
    networks: dict[str, str | None] = {}
    for chunk in _chunks(keys):
        networks.update(session.execute(select(Account.key, Account.network_id).where(Account.key.in_(chunk))).all())
    rows = []
    for rec in records:
        author = rec.get("author")
        followers = (rec.get("account") or {}).get("followers")
        base = base_priority(rec.get("score"), followers, rec.get("reach"), rec.get("kind"))
        route = (routes or {}).get(rec["id"])
        group = networks.get(author) if author else None
        role = "lead" if route is not None and route.lead_only else None
        rows.append({"item_id": rec["id"], "group_key": f"network:{group}" if group else (author or rec["id"]),
                     "priority": priority_key(base + (route.boost if route else 0.0), now), "state": "pending",
                     "open_state": "pending", "created_at": now, "required_role": role, "routed_role": role,
                     "routed_by": route.routed_by if role else None,
                     "two_reviewers": route is not None and route.two_reviewers})
    session.execute(_insert(session, ReviewTask.__table__).on_conflict_do_nothing(index_elements=["item_id"]), rows)
    return len(rows)


def regroup(session: Session) -> int:
    """Put open tasks in their account's network group (after `plugwatch networks` assigned networks)."""
    changed = 0
    open_tasks = select(ReviewTask.id, ReviewTask.group_key, Item.account_key, Account.network_id).join(
        Item, Item.id == ReviewTask.item_id).outerjoin(Account, Account.key == Item.account_key).where(
        ReviewTask.state != "decided")
    for task_id, group, account, network in session.execute(open_tasks).all():
        want = f"network:{network}" if network else (account or group)
        if want != group:
            session.execute(update(ReviewTask).where(ReviewTask.id == task_id).values(group_key=want))
            changed += 1
    return changed
