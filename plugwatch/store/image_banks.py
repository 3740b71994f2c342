"""Hash banks in the store, and the after-ingest hook that matches stored items' pictures against them.

Partners' PDQ indicators in the watch list (imported from STIX) are matched the same way, by distance, as
banks named `partner:NAME`. A match never acts on its own: like a watch-list match it adds an `image_bank_match` reason (bank,
label, distance) and puts the item in front of a reviewer. The banks are held in memory as an index
and rebuilt when their rows change (count and newest id), so an ingest costs one small query when
nothing changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from plugwatch.images.bank import Bank, BankEntry
from plugwatch.images.pdq import MATCH_DISTANCE, MIN_QUALITY, is_pdq
from plugwatch.store import audit
from plugwatch.store.image_tables import ImageBankEntry
from plugwatch.store.schema import Item, ReviewTask, utcnow
from plugwatch.store.sharing_tables import Partner, WatchEntry

SIGNAL = "image_bank_match"
_cache: dict[str, Any] = {}  # engine url -> (version, banks)


def add_entries(session: Session, bank: str, entries: Iterable[BankEntry], added_by: str | None = None) -> int:
    """Adds entries not yet in `bank`; returns how many were added."""
    known = set(session.scalars(select(ImageBankEntry.pdq).where(ImageBankEntry.bank == bank)))
    added = 0
    for e in entries:
        if e.pdq in known:
            continue
        known.add(e.pdq)
        session.add(ImageBankEntry(bank=bank, pdq=e.pdq, label=e.label, source=e.source, variants=list(e.variants),
                                   added_by=added_by))
        added += 1
    if added:
        audit.append(session, added_by or "cli", "bank entries added", f"bank:{bank}", {"added": added})
    session.flush()
    return added


def banks(session: Session) -> list[Bank]:
    version = (*session.execute(select(func.count(ImageBankEntry.id), func.max(ImageBankEntry.id))).one(),
               *session.execute(select(func.count(WatchEntry.id), func.max(WatchEntry.id))
                                .where(WatchEntry.identifier_type == "pdq")).one())
    key = str(session.get_bind().url)
    cached = _cache.get(key)
    if cached is not None and cached[0] == tuple(version):
        return cached[1]
    by_bank: dict[str, list[BankEntry]] = {}
    for row in session.scalars(select(ImageBankEntry).order_by(ImageBankEntry.id)):
        by_bank.setdefault(row.bank, []).append(BankEntry(row.pdq, row.label, row.source, tuple(row.variants or ())))
    for name, entry in _partner_pictures(session):
        by_bank.setdefault(f"partner:{name}", []).append(entry)
    loaded = [Bank(name, entries) for name, entries in sorted(by_bank.items())]
    _cache[key] = (tuple(version), loaded)
    return loaded


def _partner_pictures(session: Session) -> list[tuple[str, BankEntry]]:
    """Partners' live PDQ indicators (imported from STIX `file:hashes.'PDQ'` into the watch list), matched
    by distance here, where the watch list compares values exactly."""
    now = utcnow()
    rows = session.execute(
        select(Partner.name, WatchEntry.value, WatchEntry.indicator_id)
        .join(Partner, Partner.id == WatchEntry.partner_id)
        .where(WatchEntry.identifier_type == "pdq", WatchEntry.value.is_not(None), WatchEntry.override == "none",
               Partner.active.is_(True), or_(WatchEntry.valid_until.is_(None), WatchEntry.valid_until > now))
        .order_by(WatchEntry.id))
    out = []
    for name, value, indicator in rows:
        pdq = value.split(":", 1)[-1]
        if is_pdq(pdq):
            out.append((name, BankEntry(pdq.lower(), f"indicator {indicator}", f"partner {name}")))
    return out


def bank_reasons(record: dict[str, Any], loaded: list[Bank]) -> list[dict[str, Any]]:
    out = []
    for index, m in enumerate(record.get("media") or ()):
        if not isinstance(m, dict) or not isinstance(m.get("pdq"), str) or (m.get("quality") or 0) < MIN_QUALITY:
            continue
        hashes = [m["pdq"], *[v for v in m.get("pdq_variants") or () if isinstance(v, str)]]
        for bank in loaded:
            for match in bank.match(hashes, MATCH_DISTANCE)[:3]:
                label = match.entry.label or "no label"
                out.append({"signal": SIGNAL, "meaning": f"picture matches bank '{bank.name}': {label} "
                                                         f"(distance {match.distance})",
                            "text": label, "span": None, "source": "bank", "media": index,
                            "bank": bank.name, "distance": match.distance})
    return out


def match_items(session: Session, item_ids: Iterable[str], now: datetime | None = None) -> int:
    """Match stored items' pictures against the banks; a new match adds its reason and queues the item."""
    from plugwatch.store import review

    ids = list(dict.fromkeys(item_ids))
    if not ids or (session.scalars(select(ImageBankEntry.id).limit(1)).first() is None
                   and session.scalars(select(WatchEntry.id).where(WatchEntry.identifier_type == "pdq").limit(1))
                   .first() is None):
        return 0
    now = now or utcnow()
    loaded = banks(session)
    new = 0
    for start in range(0, len(ids), 500):
        for item in session.scalars(select(Item).where(Item.id.in_(ids[start:start + 500]))):
            found = bank_reasons(item.record or {}, loaded)
            have = {(r.get("bank"), r.get("media"), r.get("text")) for r in item.reasons or () if r.get("signal") == SIGNAL}
            fresh = [r for r in found if (r["bank"], r["media"], r["text"]) not in have]
            if not fresh:
                continue
            item.reasons = list(item.reasons or []) + fresh
            audit.append(session, "ingest", "bank match", f"item:{item.id}",
                         {"banks": sorted({r["bank"] for r in fresh})}, at=now)
            if session.scalars(select(ReviewTask.id).where(ReviewTask.item_id == item.id)).first() is None:
                record = dict(item.record or {}, id=item.id, author=item.account_key, kind=item.offer_kind or "offer")
                review.queue_records(session, [record], now)
            new += len(fresh)
    session.flush()
    return new


def after_ingest(session: Session, result) -> None:
    """After-ingest hook (wired in plugwatch.wiring)."""
    match_items(session, getattr(result, "ids", ()) or ())


CONFIRMED_BANK = "confirmed"  # where reviewers' confirmed pictures go


def on_decision(session: Session, decision) -> None:
    """After-decision hook (wired in plugwatch.wiring): a decision that confirms a violation adds the item's
    pictures (their hashes, quality 50 or more) to the `confirmed` bank, labelled with the policy reason, so
    the next post of the same picture is queued on sight."""
    from plugwatch.actions import names_where

    if decision.action not in names_where("confirms"):
        return
    item = session.get(Item, decision.item_id)
    entries = []
    for m in (item.record or {}).get("media") or () if item is not None else ():
        if isinstance(m, dict) and isinstance(m.get("pdq"), str) and (m.get("quality") or 0) >= MIN_QUALITY:
            variants = tuple(v for v in m.get("pdq_variants") or () if isinstance(v, str))
            entries.append(BankEntry(m["pdq"], decision.policy_reason, f"item:{decision.item_id}", variants))
    if entries:
        add_entries(session, CONFIRMED_BANK, entries, added_by=f"decision:{decision.id}")
