"""The review queue: ingest scored items, claim, decide, strike, appeal, and count.

Every function takes a Session first and leaves committing to the caller (`Store.session()`), so a
decision, its strike, its audit entry and whatever hooks add are one transaction.

Priority. A task's `priority` column is an ordering key, higher first:
    base = 10 * score + 1.5 * log10(1 + followers) + log10(1 + reach) + 2 (offer) / 1 (request to buy)
    key  = base - AGE_PER_DAY * days since EPOCH of entering the queue
so a task gains AGE_PER_DAY points for each day it waits, without rewriting any row: at any moment
ordering by the key is ordering by base + AGE_PER_DAY * days waited. `priority_now` shows the latter.

Claims. A claim is a lock with a timeout (`claimed_until`). Taking one is a single conditional UPDATE
(`... WHERE id = ? AND (claimed_until IS NULL OR claimed_until < now)`), checked by its row count, so
two reviewers never hold the same task; on PostgreSQL the candidate is first picked with
`FOR UPDATE SKIP LOCKED` so concurrent reviewers take different rows instead of queueing for one,
and on SQLite every transaction is BEGIN IMMEDIATE (see plugwatch.store).

Every other transition is a conditional UPDATE checked by its row count too: a decision needs the
caller's live claim, an appeal needs the task still decided (of simultaneous appeals one is filed),
and an appeal's outcome is written only while it is open. tests/test_transitions_concurrent.py races
each of them on SQLite and PostgreSQL.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select, true, update
from sqlalchemy.orm import Session

from plugwatch.actions import ACTIONS, POLICY_REASONS, allowed, names_where, reason_fits
from plugwatch.detect.tactics import techniques_for_record
from plugwatch.network.generic import is_linkable
from plugwatch.records import utc_time
from plugwatch.store import audit, linking
from plugwatch.store.hooks import hooks_of
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
    User,
    utcnow,
)

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
AGE_PER_DAY = 2.0
CLAIM_SECONDS = 900
STRIKE_DAYS = 90
SUSPEND_AFTER = 3  # active strikes at which a suspension is suggested to the reviewer
FINAL_ACTIONS = names_where("final")
CHUNK = 500


class ReviewError(Exception):
    """A review action that cannot happen; `status` is the HTTP status an API should answer with."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    queued: int = 0
    ids: list[str] = field(default_factory=list)  # ids of the items stored by this call


# -- time and priority --------------------------------------------------------------------------

def _days(dt: datetime) -> float:
    return (dt - EPOCH).total_seconds() / 86400.0


def base_priority(score: float | None, followers: int | None, reach: int | None, kind: str | None) -> float:
    bonus = 2.0 if kind == "offer" else 1.0 if kind == "request" else 0.0
    return (10.0 * (score or 0.0) + 1.5 * math.log10(1 + max(followers or 0, 0))
            + math.log10(1 + max(reach or 0, 0)) + bonus)


def priority_key(base: float, queued_at: datetime) -> float:
    return round(base - AGE_PER_DAY * _days(queued_at), 6)


def priority_now(key: float, now: datetime | None = None) -> float:
    return round(key + AGE_PER_DAY * _days(now or utcnow()), 3)


def needs_review(rec: dict[str, Any]) -> bool:
    return bool(rec.get("flagged")) or rec.get("kind") == "request"


def _insert(session: Session, table):
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the two supported back-ends
        raise ReviewError(f"unsupported database {name}", 500)
    return insert(table)


def _chunks(seq: list, n: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


# -- ingest -------------------------------------------------------------------------------------

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
    result.queued = _queue_tasks(session, [rec for rec in fresh if needs_review(rec)], now)
    session.flush()
    for hook in hooks_of(session).after_ingest:
        hook(session, result)
    return result


def queue_records(session: Session, records: list[dict[str, Any]], now: datetime | None = None) -> int:
    """Queue stored records for review whatever their score (e.g. a partner's watch-list match)."""
    return _queue_tasks(session, records, now or utcnow())


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


def _queue_tasks(session: Session, records: list[dict[str, Any]], now: datetime) -> int:
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
        group = networks.get(author) if author else None
        rows.append({"item_id": rec["id"], "group_key": f"network:{group}" if group else (author or rec["id"]),
                     "priority": priority_key(base, now), "state": "pending", "open_state": "pending",
                     "created_at": now})
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


# -- claims -------------------------------------------------------------------------------------

def _eligible(user: User, now: datetime):
    """Tasks this user may take now: open, not held by someone else's live claim, their role, not
    an appeal against their own decision."""
    if not allowed("queue.work", user.role):
        raise ReviewError(f"role {user.role} does not review items", 403)
    role_ok = true() if user.role == "lead" else ReviewTask.required_role.is_(None)
    return and_(ReviewTask.state != "decided",
                or_(ReviewTask.claimed_until.is_(None), ReviewTask.claimed_until < now,
                    ReviewTask.claimed_by == user.id),
                or_(ReviewTask.excluded_reviewer.is_(None), ReviewTask.excluded_reviewer != user.id),
                role_ok)


def _take(session: Session, user: User, task_id: int, now: datetime, ttl_seconds: int) -> bool:
    res = session.execute(
        update(ReviewTask).where(ReviewTask.id == task_id, _eligible(user, now)).values(
            state="claimed", claimed_by=user.id, claimed_at=now, claimed_until=now + timedelta(seconds=ttl_seconds))
        .execution_options(synchronize_session=False))
    return res.rowcount == 1


def claim_next(session: Session, user: User, ttl_seconds: int = CLAIM_SECONDS,
               now: datetime | None = None) -> ReviewTask | None:
    """Claim the most urgent task this user may take, preferring the group they worked on last (so
    one reviewer sees a seller's items together). None when the queue has nothing for them."""
    now = now or utcnow()
    held = session.scalars(select(ReviewTask).where(
        ReviewTask.state == "claimed", ReviewTask.claimed_by == user.id, ReviewTask.claimed_until >= now)
        .order_by(ReviewTask.priority.desc()).limit(1)).first()
    if held is not None:  # finish what you hold first: one live claim per reviewer
        return held
    last_group = session.scalars(select(ReviewTask.group_key).join(Decision, Decision.task_id == ReviewTask.id)
                                 .where(Decision.reviewer_id == user.id, Decision.created_at > now - timedelta(hours=1))
                                 .order_by(Decision.created_at.desc()).limit(1)).first()
    order = [ReviewTask.priority.desc(), ReviewTask.id]
    if last_group is not None:
        order.insert(0, case((ReviewTask.group_key == last_group, 0), else_=1))
    pick = select(ReviewTask.id).where(_eligible(user, now)).order_by(*order)
    postgres = session.get_bind().dialect.name == "postgresql"
    for _ in range(20):
        if postgres:
            task_id = session.scalars(pick.limit(1).with_for_update(skip_locked=True)).first()
            candidates = [task_id] if task_id is not None else []
        else:
            candidates = list(session.scalars(pick.limit(5)))
        if not candidates:
            return None
        for task_id in candidates:
            if _take(session, user, task_id, now, ttl_seconds):
                return _fresh(session, task_id)
    return None


def _fresh(session: Session, task_id: int) -> ReviewTask:
    return session.scalars(select(ReviewTask).where(ReviewTask.id == task_id)
                           .execution_options(populate_existing=True)).one()


def _task_for(session: Session, item_id: str) -> ReviewTask:
    task = session.scalars(select(ReviewTask).where(ReviewTask.item_id == item_id)
                           .execution_options(populate_existing=True)).one_or_none()
    if task is None:
        if session.get(Item, item_id) is None:
            raise ReviewError(f"no item {item_id}", 404)
        raise ReviewError(f"item {item_id} is not in the review queue (the detector did not flag it)", 409)
    return task


def claim(session: Session, user: User, item_id: str, ttl_seconds: int = CLAIM_SECONDS,
          now: datetime | None = None) -> ReviewTask:
    """Claim (or renew a claim on) one item's task."""
    now = now or utcnow()
    task = _task_for(session, item_id)
    if task.state == "decided":
        raise ReviewError(f"item {item_id} is already decided (file an appeal to reopen it)")
    if task.required_role and user.role != task.required_role and user.role != "lead":
        raise ReviewError(f"item {item_id} was escalated: it needs a {task.required_role}", 403)
    if task.excluded_reviewer == user.id:
        raise ReviewError(f"item {item_id} is an appeal against your own decision: another reviewer takes it", 403)
    if not _take(session, user, task.id, now, ttl_seconds):
        holder = session.get(User, task.claimed_by) if task.claimed_by else None
        until = f" until {task.claimed_until:%H:%M:%S} UTC" if task.claimed_until else ""
        raise ReviewError(f"item {item_id} is claimed by {holder.name if holder else 'another reviewer'}{until}")
    return _fresh(session, task.id)


def release(session: Session, user: User, item_id: str) -> ReviewTask:
    task = _task_for(session, item_id)
    res = session.execute(update(ReviewTask).where(
        ReviewTask.id == task.id, ReviewTask.state == "claimed", ReviewTask.claimed_by == user.id).values(
        state=ReviewTask.open_state, claimed_by=None, claimed_at=None, claimed_until=None)
        .execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise ReviewError(f"you do not hold a claim on {item_id}")
    return _fresh(session, task.id)


# -- decisions, strikes, appeals ----------------------------------------------------------------

def decide(session: Session, user: User, item_id: str, action: str, policy_reason: str, note: str = "",
           now: datetime | None = None) -> Decision:
    """Record a decision on an item the user has claimed; strikes, suspension, appeal outcome, audit
    entry and the store's `after_decision` hooks happen in the same transaction."""
    now = now or utcnow()
    if action not in ACTIONS:
        raise ReviewError(f"unknown action {action!r}: one of {', '.join(ACTIONS)}", 422)
    if policy_reason not in POLICY_REASONS:
        raise ReviewError(f"unknown policy reason {policy_reason!r}: one of {', '.join(POLICY_REASONS)}", 422)
    if not reason_fits(action, policy_reason):
        fitting = [c for c in POLICY_REASONS if reason_fits(action, c)]
        raise ReviewError(f"the policy reason {policy_reason!r} ({POLICY_REASONS[policy_reason]}) does not fit the "
                          f"action {action}: one of {', '.join(fitting)}", 422)
    if user.role not in ACTIONS[action].roles:
        raise ReviewError(f"{action} needs the role {' or '.join(ACTIONS[action].roles)}"
                          + ("; escalate it to a lead instead" if user.role == "reviewer" else ""), 403)
    task = _task_for(session, item_id)
    if task.state != "claimed" or task.claimed_by != user.id:
        raise ReviewError(f"claim {item_id} before deciding it (it is {task.state}"
                          + (", held by someone else" if task.claimed_by not in (None, user.id) else "") + ")")
    appeal = None
    if task.open_state == "appealed" or (task.open_state == "escalated" and task.excluded_reviewer is not None):
        appeal = session.scalars(select(Appeal).where(Appeal.item_id == item_id, Appeal.state == "open")
                                 .order_by(Appeal.id.desc()).limit(1)).first()
    final = ACTIONS[action].final
    values: dict[str, Any] = {"claimed_by": None, "claimed_at": None, "claimed_until": None}
    if final:
        values.update(state="decided", open_state="decided", decided_at=now)
    else:
        values.update(state="escalated", open_state="escalated", required_role="lead", reopened_at=now)
    # Conditional on still holding the claim: a claim that ran out and was taken by someone else loses.
    res = session.execute(update(ReviewTask).where(
        ReviewTask.id == task.id, ReviewTask.state == "claimed", ReviewTask.claimed_by == user.id).values(**values)
        .execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise ReviewError(f"your claim on {item_id} was lost; claim it again")
    entered = task.reopened_at or task.created_at
    decision = Decision(item_id=item_id, task_id=task.id, reviewer_id=user.id, action=action,
                        policy_reason=policy_reason, note=note or "", created_at=now,
                        handling_seconds=(now - task.claimed_at).total_seconds() if task.claimed_at else None,
                        waiting_seconds=(now - entered).total_seconds(),
                        appeal_id=appeal.id if appeal is not None and final else None)
    session.add(decision)
    session.flush()
    item = session.get(Item, item_id)
    account = session.get(Account, item.account_key) if item and item.account_key else None
    details: dict[str, Any] = {"decision": decision.id, "action": action, "policy_reason": policy_reason}
    if item is not None and action != "dismiss":
        # The decision is recorded against the trafficking techniques the item shows (for reporting
        # and for the indicators shared later).
        details["tactics"] = techniques_for_record(item.record or {})
    upheld = False
    if appeal is not None and final:
        original = session.get(Decision, appeal.decision_id)
        same = original is not None and original.action == action
        upheld = same
        outcome = "upheld" if same else "overturned"
        res = session.execute(update(Appeal).where(Appeal.id == appeal.id, Appeal.state == "open").values(
            state=outcome, reviewer_id=user.id, decided_at=now).execution_options(synchronize_session=False))
        if res.rowcount != 1:  # pragma: no cover - the task's claim already admits one decision at a time
            raise ReviewError(f"the appeal on {item_id} was decided meanwhile")
        session.refresh(appeal)
        details.update(appeal=appeal.id, appeal_outcome=outcome)
        if not same and original is not None:
            _undo(session, original, account, now)
    if account is not None and ACTIONS[action].strike and not upheld:  # an upheld decision already struck
        session.add(Strike(account_key=account.key, decision_id=decision.id, created_at=now,
                           expires_at=now + timedelta(days=STRIKE_DAYS)))
    if account is not None and ACTIONS[action].suspends:
        account.suspended_at = now
    audit.append(session, user.name, "decision", f"item:{item_id}", details, at=now)
    session.flush()
    for hook in hooks_of(session).after_decision:
        hook(session, decision)
    return decision


def _undo(session: Session, original: Decision, account: Account | None, now: datetime) -> None:
    """An overturned decision: its strikes no longer count; a suspension it made is lifted."""
    session.execute(update(Strike).where(Strike.decision_id == original.id, Strike.revoked_at.is_(None))
                    .values(revoked_at=now).execution_options(synchronize_session=False))
    if ACTIONS[original.action].suspends and account is not None:
        account.suspended_at = None


def file_appeal(session: Session, item_id: str, reason: str, filed_by: str, now: datetime | None = None) -> Appeal:
    """Reopen a decided item for a different reviewer than the one who decided it."""
    now = now or utcnow()
    if not reason or not reason.strip():
        raise ReviewError("an appeal needs a reason", 422)
    task = _task_for(session, item_id)
    if task.state != "decided":
        raise ReviewError(f"item {item_id} has no final decision to appeal (it is {task.state})")
    # Reopening the task is the transition: only the appeal whose UPDATE found the task decided is
    # filed; a simultaneous one waits for it (PostgreSQL) and then finds the task appealed.
    res = session.execute(update(ReviewTask).where(ReviewTask.id == task.id, ReviewTask.state == "decided").values(
        state="appealed", open_state="appealed", required_role=None, reopened_at=now, decided_at=None,
        claimed_by=None, claimed_at=None, claimed_until=None).execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise ReviewError(f"item {item_id} has no final decision to appeal (it was appealed or reopened meanwhile)")
    # Read under the task's lock: the decision appealed is the one in force now.
    last = session.scalars(select(Decision).where(Decision.item_id == item_id, Decision.action.in_(FINAL_ACTIONS))
                           .order_by(Decision.id.desc()).limit(1)).first()
    if last is None:  # pragma: no cover - a decided task always has its decision
        raise ReviewError(f"item {item_id} has no decision to appeal")
    session.execute(update(ReviewTask).where(ReviewTask.id == task.id).values(excluded_reviewer=last.reviewer_id)
                    .execution_options(synchronize_session=False))
    appeal = Appeal(item_id=item_id, decision_id=last.id, filed_by=filed_by, reason=reason.strip(), state="open",
                    created_at=now)
    session.add(appeal)
    session.flush()
    audit.append(session, filed_by, "appeal", f"item:{item_id}",
                 {"appeal": appeal.id, "decision": last.id, "action": last.action}, at=now)
    return appeal


def active_strikes(session: Session, account_key: str, now: datetime | None = None) -> int:
    now = now or utcnow()
    return session.scalar(select(func.count()).select_from(Strike).where(
        Strike.account_key == account_key, Strike.expires_at > now, Strike.revoked_at.is_(None))) or 0


# -- reading ------------------------------------------------------------------------------------

def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def _task_row(task: ReviewTask, item: Item, names: dict[int, str], now: datetime) -> dict[str, Any]:
    return {
        "item_id": item.id, "state": task.state, "priority": priority_now(task.priority, now),
        "group_key": task.group_key, "score": item.score, "kind": item.offer_kind, "drugs": item.drugs,
        "platform": item.platform, "account_key": item.account_key, "text": item.text,
        "created_at": _iso(item.created_at), "queued_at": _iso(task.created_at),
        "claimed_by": names.get(task.claimed_by) if task.claimed_by else None,
        "claimed_until": _iso(task.claimed_until) if task.claimed_until and task.claimed_until >= now else None,
        "required_role": task.required_role, "appeal": task.open_state == "appealed",
    }


def queue(session: Session, user: User, limit: int = 50, now: datetime | None = None) -> list[dict[str, Any]]:
    """Open tasks this user may work, most urgent first, grouped by seller (account or network):
    [{group_key, priority, size, tasks: [...]}], each group ordered by priority."""
    now = now or utcnow()
    if not allowed("queue.work", user.role):
        raise ReviewError(f"role {user.role} does not review items", 403)
    role_ok = true() if user.role == "lead" else ReviewTask.required_role.is_(None)
    visible = and_(ReviewTask.state != "decided", role_ok,
                   or_(ReviewTask.excluded_reviewer.is_(None), ReviewTask.excluded_reviewer != user.id))
    rows = session.execute(select(ReviewTask, Item).join(Item, Item.id == ReviewTask.item_id).where(visible)
                           .order_by(ReviewTask.priority.desc(), ReviewTask.id).limit(limit)).all()
    # Bring in the rest of each shown group, so a seller's items are seen together.
    groups_shown = sorted({t.group_key for t, _ in rows})
    seen = {t.id for t, _ in rows}
    for chunk in _chunks(groups_shown):
        more = session.execute(select(ReviewTask, Item).join(Item, Item.id == ReviewTask.item_id)
                               .where(visible, ReviewTask.group_key.in_(chunk)).limit(limit * 4)).all()
        rows.extend(r for r in more if r[0].id not in seen)
    holder_ids = {t.claimed_by for t, _ in rows if t.claimed_by}
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(holder_ids))).all()) if holder_ids else {}
    groups: dict[str, dict[str, Any]] = {}
    for task, item in rows:
        g = groups.setdefault(task.group_key, {"group_key": task.group_key, "priority": -math.inf, "tasks": []})
        row = _task_row(task, item, names, now)
        g["tasks"].append(row)
        g["priority"] = max(g["priority"], row["priority"])
    out = sorted(groups.values(), key=lambda g: -g["priority"])
    for g in out:
        g["tasks"].sort(key=lambda r: -r["priority"])
        g["size"] = len(g["tasks"])
    return out


def queue_stats(session: Session, now: datetime | None = None, days: int = 30) -> dict[str, Any]:
    """pending: open tasks; inbound_24h: tasks queued in the last 24 h; action_rate: share of final
    decisions in the last `days` days that acted (anything but dismiss); median_handling_seconds:
    claim to decision; median_waiting_seconds: queue entry to decision."""
    now = now or utcnow()
    since = now - timedelta(days=days)
    pending = session.scalar(select(func.count()).select_from(ReviewTask).where(ReviewTask.state != "decided")) or 0
    by_state = dict(session.execute(select(ReviewTask.state, func.count()).group_by(ReviewTask.state)).all())
    inbound = session.scalar(select(func.count()).select_from(ReviewTask).where(
        ReviewTask.created_at >= now - timedelta(hours=24))) or 0
    items_24h = session.scalar(select(func.count()).select_from(Item).where(
        Item.received_at >= now - timedelta(hours=24))) or 0
    rows = session.execute(select(Decision.action, Decision.handling_seconds, Decision.waiting_seconds).where(
        Decision.created_at >= since, Decision.action.in_(FINAL_ACTIONS))).all()
    acted = sum(1 for a, _, _ in rows if ACTIONS[a].confirms)
    handling = [h for _, h, _ in rows if h is not None]
    waiting = [w for _, _, w in rows if w is not None]
    actions = {a: 0 for a in ACTIONS}
    for a, n in session.execute(select(Decision.action, func.count()).where(Decision.created_at >= since)
                                .group_by(Decision.action)):
        actions[a] = n
    open_appeals = session.scalar(select(func.count()).select_from(Appeal).where(Appeal.state == "open")) or 0
    return {
        "pending": pending, "claimed": by_state.get("claimed", 0), "escalated": by_state.get("escalated", 0),
        "appealed": by_state.get("appealed", 0), "open_appeals": open_appeals,
        "inbound_24h": inbound, "items_24h": items_24h,
        "decisions": len(rows), "action_rate": round(acted / len(rows), 4) if rows else None,
        "median_handling_seconds": round(statistics.median(handling), 1) if handling else None,
        "median_waiting_seconds": round(statistics.median(waiting), 1) if waiting else None,
        "actions": actions, "window_days": days,
    }


def item_view(session: Session, item_id: str, now: datetime | None = None) -> dict[str, Any]:
    """Everything a reviewer needs for one item, unredacted (apply service.redaction before showing)."""
    now = now or utcnow()
    item = session.get(Item, item_id)
    if item is None:
        raise ReviewError(f"no item {item_id}", 404)
    task = session.scalars(select(ReviewTask).where(ReviewTask.item_id == item_id)).one_or_none()
    names = dict(session.execute(select(User.id, User.name)).all())
    view: dict[str, Any] = {
        "item": {"id": item.id, "platform": item.platform, "kind": item.kind, "text": item.text, "url": item.url,
                 "reply_to": item.reply_to, "created_at": _iso(item.created_at), "received_at": _iso(item.received_at),
                 "score": item.score, "flagged": item.flagged, "offer_kind": item.offer_kind, "drugs": item.drugs,
                 "reach": item.reach, "account_key": item.account_key, "raw": item.raw},
        "reasons": item.reasons,
        "identifiers": _identifier_view(session, item),
        "task": None, "account": None, "network": [], "group": [], "decisions": [], "appeals": [],
    }
    if task is not None:
        view["task"] = {"state": task.state, "priority": priority_now(task.priority, now), "group_key": task.group_key,
                        "claimed_by": names.get(task.claimed_by) if task.claimed_by else None,
                        "claimed_until": _iso(task.claimed_until), "required_role": task.required_role,
                        "appeal": task.open_state == "appealed", "queued_at": _iso(task.created_at)}
        others = session.execute(select(ReviewTask, Item).join(Item, Item.id == ReviewTask.item_id).where(
            ReviewTask.group_key == task.group_key, ReviewTask.id != task.id)
            .order_by(ReviewTask.priority.desc()).limit(50)).all()
        view["group"] = [{"item_id": i.id, "state": t.state, "score": i.score, "account_key": i.account_key,
                          "text": i.text[:280], "created_at": _iso(i.created_at)} for t, i in others]
    if item.account_key:
        view["account"] = _account_view(session, item.account_key, now)
        view["network"] = _network_view(session, item.account_key)
    for d in session.scalars(select(Decision).where(Decision.item_id == item_id).order_by(Decision.id)):
        view["decisions"].append({"id": d.id, "action": d.action, "policy_reason": d.policy_reason, "note": d.note,
                                  "reviewer": names.get(d.reviewer_id), "created_at": _iso(d.created_at),
                                  "appeal_id": d.appeal_id})
    for a in session.scalars(select(Appeal).where(Appeal.item_id == item_id).order_by(Appeal.id)):
        view["appeals"].append({"id": a.id, "decision_id": a.decision_id, "filed_by": a.filed_by, "reason": a.reason,
                                "state": a.state, "created_at": _iso(a.created_at),
                                "reviewer": names.get(a.reviewer_id) if a.reviewer_id else None,
                                "decided_at": _iso(a.decided_at)})
    return view


def _identifier_view(session: Session, item: Item) -> list[dict[str, Any]]:
    """The item's identifiers with spans, and how many accounts have used each."""
    counts = dict(session.execute(
        select(Identifier.canonical, func.count(AccountIdentifier.account_key))
        .join(ItemIdentifier, ItemIdentifier.identifier_id == Identifier.id)
        .join(AccountIdentifier, AccountIdentifier.identifier_id == Identifier.id)
        .where(ItemIdentifier.item_id == item.id).group_by(Identifier.canonical)).all())
    return [{**ident, "accounts": counts.get(ident.get("canonical"), 0)} for ident in item.identifiers or []]


def _account_view(session: Session, key: str, now: datetime) -> dict[str, Any] | None:
    acc = session.get(Account, key)
    if acc is None:
        return None
    strikes = session.scalars(select(Strike).where(Strike.account_key == key).order_by(Strike.id)).all()
    active = [s for s in strikes if s.expires_at > now and s.revoked_at is None]
    items = session.scalar(select(func.count()).select_from(Item).where(Item.account_key == key)) or 0
    return {"key": acc.key, "platform": acc.platform, "handle": acc.handle, "native_id": acc.native_id,
            "display_name": acc.display_name, "bio": acc.bio, "followers": acc.followers,
            "created_at": _iso(acc.created_at), "first_seen": _iso(acc.first_seen), "last_seen": _iso(acc.last_seen),
            "network_id": acc.network_id, "suspended_at": _iso(acc.suspended_at), "items": items,
            "strikes": {"active": len(active), "total": len(strikes), "window_days": STRIKE_DAYS,
                        "suspend_suggested": len(active) >= SUSPEND_AFTER and acc.suspended_at is None,
                        "list": [{"decision_id": s.decision_id, "created_at": _iso(s.created_at),
                                  "expires_at": _iso(s.expires_at), "revoked": s.revoked_at is not None}
                                 for s in strikes]}}


def _network_view(session: Session, key: str, limit: int = 50) -> list[dict[str, Any]]:
    """Accounts linked to this one: its seller network as stored (kept current at ingest by
    plugwatch.store.linking), and accounts sharing a linking identifier with it. Only identifiers that
    link count (a contact or payment detail given as the account's own, a shop link in an offer):
    never generic ones like t.co or instagram.com, nor a handle a buyer named. Each linked account lists
    the identifiers it shares: `identifiers` [{type, canonical}], and `shared` (their canonical forms)."""
    acc = session.get(Account, key)
    members: dict[str, dict[str, Any]] = {}
    if acc is not None and acc.network_id:
        for other in session.scalars(select(Account.key).where(Account.network_id == acc.network_id,
                                                                Account.key != key).order_by(Account.key).limit(limit)):
            members[other] = {"how": "network", "shared": set()}
    mine = select(AccountIdentifier.identifier_id).where(AccountIdentifier.account_key == key, AccountIdentifier.links)
    shared = session.execute(
        select(AccountIdentifier.account_key, Identifier.type, Identifier.canonical)
        .join(Identifier, Identifier.id == AccountIdentifier.identifier_id)
        .where(AccountIdentifier.identifier_id.in_(mine), AccountIdentifier.account_key != key, AccountIdentifier.links)
        .order_by(AccountIdentifier.account_key, Identifier.type, Identifier.canonical).limit(limit * 5)).all()
    for other_key, kind, canonical in shared:
        if not is_linkable(kind, canonical):  # flagged before the generic list named it
            continue
        if other_key not in members and len(members) >= limit:
            continue
        members.setdefault(other_key, {"how": "shared identifier", "shared": set()})["shared"].add((kind, canonical))
    if not members:
        return []
    accounts = {a.key: a for a in session.scalars(select(Account).where(Account.key.in_(list(members))))}
    out = []
    for other_key, info in members.items():
        a = accounts.get(other_key)
        if a is None:
            continue
        idents = sorted(info["shared"])
        out.append({"key": a.key, "platform": a.platform, "handle": a.handle, "native_id": a.native_id,
                    "display_name": a.display_name, "followers": a.followers, "network_id": a.network_id,
                    "suspended": a.suspended_at is not None, "how": info["how"],
                    "identifiers": [{"type": t, "canonical": c} for t, c in idents],
                    "shared": [c for _, c in idents]})
    return out


def reviewed_items(session: Session) -> list[dict[str, Any]]:
    """Each decided item with its final decision (the newest one that was not an escalation); items
    whose decision is under appeal are left out until the appeal is decided."""
    latest = (select(Decision.item_id, func.max(Decision.id).label("id"))
              .where(Decision.action.in_(FINAL_ACTIONS)).group_by(Decision.item_id).subquery())
    rows = session.execute(
        select(Item, Decision, Account.bio).join(latest, latest.c.item_id == Item.id)
        .join(Decision, Decision.id == latest.c.id).join(ReviewTask, ReviewTask.item_id == Item.id)
        .outerjoin(Account, Account.key == Item.account_key)
        .where(ReviewTask.state == "decided").order_by(Item.id)).all()
    return [{"id": item.id, "text": item.text, "platform": item.platform, "bio": bio, "action": d.action,
             "policy_reason": d.policy_reason, "score": item.score, "flagged": item.flagged,
             "offer_kind": item.offer_kind} for item, d, bio in rows]
