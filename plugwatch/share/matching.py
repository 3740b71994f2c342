"""Items against the watch list. A match never acts on its own: it puts the item in front of a
reviewer with the reason "watch-list match from <partner>".

Trust decides weight, not action: an `auto` partner's match raises the item's priority by the
indicator's confidence; a `notify-only` partner's match queues the item at its own priority and says
so in the reason. Disabled and allow-listed entries, expired entries and inactive partners never match.
Hashed entries are compared by hashing the item's canonical identifiers with each partner's salt.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from plugwatch.share import hashing
from plugwatch.store import audit
from plugwatch.store.schema import Item, ReviewTask, utcnow
from plugwatch.store.sharing_tables import Partner, WatchEntry, WatchMatch

log = logging.getLogger(__name__)
SIGNAL = "watch_list"
AUTO_BOOST = 5.0  # priority points for a match at confidence 100 from an `auto` partner


def _salts(session: Session) -> dict[int, bytes]:
    """Salt per partner that has hashed entries; a salt file that cannot be read is logged and skipped."""
    out = {}
    for partner in session.scalars(select(Partner).where(Partner.active.is_(True), Partner.salt_path.is_not(None))):
        try:
            out[partner.id] = hashing.read_salt(partner.salt_path)
        except hashing.SaltError as e:
            log.warning("partner %s: hashed watch-list entries cannot match: %s", partner.name, e)
    return out


def _live(now: datetime):
    return and_(WatchEntry.override == "none", or_(WatchEntry.valid_until.is_(None), WatchEntry.valid_until > now),
                Partner.active.is_(True))


def match_identifiers(session: Session, identifiers: Iterable[tuple[str, str]],
                      now: datetime | None = None, salts: dict[int, bytes] | None = None) -> list[WatchEntry]:
    """Live watch-list entries matching any (type, canonical) pair."""
    now = now or utcnow()
    pairs = {(t, c) for t, c in identifiers if t and c}
    if not pairs:
        return []
    salts = _salts(session) if salts is None else salts
    clear = [and_(WatchEntry.identifier_type == t, WatchEntry.value == c) for t, c in pairs]
    hashed = [and_(WatchEntry.partner_id == pid, WatchEntry.value_hash.in_(
              [hashing.identifier_hash(salt, t, c) for t, c in pairs])) for pid, salt in salts.items()]
    stmt = (select(WatchEntry).join(Partner, Partner.id == WatchEntry.partner_id)
            .where(_live(now), or_(*clear, *hashed)).order_by(WatchEntry.id))
    return list(session.scalars(stmt))


def match_item(session: Session, item: Item, now: datetime | None = None,
               salts: dict[int, bytes] | None = None) -> list[WatchEntry]:
    # An identifier the scan found invalid (a fictional phone number, a wallet failing its checksum) is
    # written by strangers alike: it matches nobody's list, as it links no accounts and is never shared.
    pairs = [(i.get("type"), i.get("canonical")) for i in item.identifiers or ()
             if isinstance(i, dict) and i.get("valid") is not False]
    return match_identifiers(session, pairs, now, salts)


def _reason(partner: Partner, entry: WatchEntry) -> dict[str, Any]:
    note = "" if partner.trust == "auto" else " (notify-only)"
    conf = f", confidence {entry.confidence}" if entry.confidence is not None else ""
    return {"signal": SIGNAL, "meaning": f"watch-list match from {partner.name}{note}: {entry.identifier_type}"
                                         f"{' (hashed)' if entry.hashed else ''}{conf}",
            "partner": partner.name, "indicator": entry.indicator_id}


def match_items(session: Session, item_ids: Iterable[str], now: datetime | None = None) -> int:
    """Match stored items; record each new match, add the reason to the item and queue it for review.
    Returns the number of new matches."""
    from plugwatch.store import review

    now = now or utcnow()
    ids = list(dict.fromkeys(item_ids))
    if not ids or session.scalars(select(WatchEntry.id).limit(1)).first() is None:
        return 0
    salts = _salts(session)
    partners = {p.id: p for p in session.scalars(select(Partner))}
    new = 0
    for start in range(0, len(ids), 500):
        for item in session.scalars(select(Item).where(Item.id.in_(ids[start:start + 500]))):
            entries = match_item(session, item, now, salts)
            if not entries:
                continue
            known = set(session.scalars(select(WatchMatch.entry_id).where(WatchMatch.item_id == item.id)))
            fresh = [e for e in entries if e.id not in known]
            if not fresh:
                continue
            reasons = list(item.reasons or [])
            boost = 0.0
            for entry in fresh:
                partner = partners[entry.partner_id]
                session.add(WatchMatch(entry_id=entry.id, item_id=item.id, identifier_type=entry.identifier_type,
                                       queued=True, matched_at=now))
                reasons.append(_reason(partner, entry))
                if partner.trust == "auto":
                    boost = max(boost, AUTO_BOOST * (entry.confidence if entry.confidence is not None else 50) / 100)
                audit.append(session, "share", "watch-list match", f"item:{item.id}",
                             {"partner": partner.name, "indicator": entry.indicator_id,
                              "identifier_type": entry.identifier_type, "trust": partner.trust}, at=now)
            item.reasons = reasons
            _queue(session, review, item, boost, now)
            new += len(fresh)
    session.flush()
    return new


def _queue(session: Session, review, item: Item, boost: float, now: datetime) -> None:
    task = session.scalars(select(ReviewTask).where(ReviewTask.item_id == item.id)).first()
    if task is None:
        record = dict(item.record or {}, id=item.id, author=item.account_key, kind=item.offer_kind or "offer")
        review.queue_records(session, [record], now)
        session.flush()
        task = session.scalars(select(ReviewTask).where(ReviewTask.item_id == item.id)).first()
        if task is not None:
            task.priority += boost
    elif task.state in ("pending", "claimed", "escalated", "appealed"):
        task.priority += boost
    # A decided task stays decided: the match is recorded and shown, nothing is reopened automatically.


def after_ingest(session: Session, result) -> None:
    """After-ingest hook (wired in plugwatch.wiring): match the items an ingest stored."""
    match_items(session, getattr(result, "ids", ()) or ())


def retro_match(session: Session, now: datetime | None = None) -> int:
    """Match items already stored against the whole live watch list (after an import). Clear entries are
    looked up by value; for hashed ones every stored identifier of that type is hashed with that
    partner's salt. Returns the number of new matches."""
    from plugwatch.store.schema import Identifier, ItemIdentifier

    now = now or utcnow()
    live = list(session.execute(select(WatchEntry.identifier_type, WatchEntry.value, WatchEntry.value_hash,
                                       WatchEntry.partner_id).join(Partner, Partner.id == WatchEntry.partner_id)
                                .where(_live(now))))
    if not live:
        return 0
    salts = _salts(session)
    clear = {(t, v) for t, v, h, _ in live if v is not None}
    hashed: dict[int, set[str]] = {}
    hashed_types: set[str] = set()
    for t, _v, h, pid in live:
        if h is not None and pid in salts:
            hashed.setdefault(pid, set()).add(h)
            hashed_types.add(t)
    types = {t for t, _ in clear} | hashed_types
    hit_ids: list[int] = []
    rows = session.execute(select(Identifier.id, Identifier.type, Identifier.canonical)
                           .where(Identifier.type.in_(sorted(types)))).yield_per(2000)
    for ident_id, kind, canonical in rows:
        if (kind, canonical) in clear or any(
                kind in hashed_types and hashing.identifier_hash(salts[pid], kind, canonical) in hashes
                for pid, hashes in hashed.items()):
            hit_ids.append(ident_id)
    if not hit_ids:
        return 0
    item_ids: list[str] = []
    for start in range(0, len(hit_ids), 500):
        item_ids.extend(session.scalars(select(ItemIdentifier.item_id).where(
            ItemIdentifier.identifier_id.in_(hit_ids[start:start + 500]))))
    return match_items(session, item_ids, now)
