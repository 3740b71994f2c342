"""What reviewers read: the queue, an item with its account, network and history, reviewed items."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import Session

from plugwatch.actions import allowed
from plugwatch.network.generic import is_linkable
from plugwatch.store.review.base import FINAL_ACTIONS, STRIKE_DAYS, SUSPEND_AFTER, ReviewError, _chunks, _iso
from plugwatch.store.review.claims import lead_reason
from plugwatch.store.review.opinions import opinions_view
from plugwatch.store.review.priority import priority_now
from plugwatch.store.rules_tables import by_a_person, routes_of, rules_view
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


def _task_row(task: ReviewTask, item: Item, names: dict[int, str], now: datetime) -> dict[str, Any]:
    # A claim that ran out is no claim (anyone may take the item): the row shows the task's open state
    # and no holder, not "claimed by X" until someone happens to take it.
    live = task.state == "claimed" and task.claimed_until is not None and task.claimed_until >= now
    return {
        "item_id": item.id, "state": task.state if live or task.state != "claimed" else task.open_state,
        "priority": priority_now(task.priority, now),
        "group_key": task.group_key, "score": item.score, "kind": item.offer_kind, "drugs": item.drugs,
        "platform": item.platform, "account_key": item.account_key, "text": item.text,
        "created_at": _iso(item.created_at), "queued_at": _iso(task.created_at),
        "claimed_by": names.get(task.claimed_by) if live and task.claimed_by else None,
        "claimed_until": _iso(task.claimed_until) if live else None,
        "required_role": task.required_role, "appeal": task.open_state == "appealed",
        # Two reviewers needed, and whether a first opinion exists (never whose or what: see item_view).
        "two_reviewers": bool(task.two_reviewers), "first_opinion": task.first_opinion_by is not None,
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
    routes = routes_of(session, [item.id for _, item in rows])  # where policy rules sent each
    groups: dict[str, dict[str, Any]] = {}
    for task, item in rows:
        g = groups.setdefault(task.group_key, {"group_key": task.group_key, "priority": -math.inf, "tasks": []})
        row = _task_row(task, item, names, now)
        row["team"], row["labels"] = routes.get(item.id, (None, []))
        g["tasks"].append(row)
        g["priority"] = max(g["priority"], row["priority"])
    out = sorted(groups.values(), key=lambda g: -g["priority"])
    for g in out:
        g["tasks"].sort(key=lambda r: -r["priority"])
        g["size"] = len(g["tasks"])
    return out


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
        "rules": rules_view(session, item_id),
        "two_reviewers": None,
    }
    if task is not None:
        view["task"] = {"state": task.state, "priority": priority_now(task.priority, now), "group_key": task.group_key,
                        "claimed_by": names.get(task.claimed_by) if task.claimed_by else None,
                        "claimed_until": _iso(task.claimed_until), "required_role": task.required_role,
                        "lead_reason": lead_reason(session, task) if task.required_role else None,
                        "appeal": task.open_state == "appealed", "queued_at": _iso(task.created_at)}
        if task.two_reviewers:
            view["two_reviewers"] = opinions_view(session, task, names)
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
    whose decision is under appeal are left out until the appeal is decided, and so are those whose final
    decision a policy rule took on its own: nobody reviewed them."""
    latest = (select(Decision.item_id, func.max(Decision.id).label("id"))
              .where(Decision.action.in_(FINAL_ACTIONS)).group_by(Decision.item_id).subquery())
    rows = session.execute(
        select(Item, Decision, Account.bio).join(latest, latest.c.item_id == Item.id)
        .join(Decision, Decision.id == latest.c.id).join(ReviewTask, ReviewTask.item_id == Item.id)
        .outerjoin(Account, Account.key == Item.account_key)
        .where(ReviewTask.state == "decided", by_a_person()).order_by(Item.id)).all()
    return [{"id": item.id, "text": item.text, "platform": item.platform, "bio": bio, "action": d.action,
             "policy_reason": d.policy_reason, "score": item.score, "flagged": item.flagged,
             "offer_kind": item.offer_kind} for item, d, bio in rows]
