"""From the store to a STIX bundle: identifiers of items a reviewer confirmed, aggregated.

Confirmed = the item's latest decision is remove, warn, suspend or refer (a decision overturned on
appeal therefore no longer counts). Each identifier is aggregated over all its confirmed items:
platforms, accounts, first and last seen (item time, else time received), drug categories, the
detector's highest score and the tactics the items show.

Not shared: generic identifiers (platform and shortener domains, official and placeholder accounts;
plugwatch.network.generic), which would match everyone's posts on the partner's side, and identifiers
the extractor found invalid in the item (a fictional phone number, a wallet failing its checksum).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugwatch.actions import names_where
from plugwatch.detect import tactics
from plugwatch.network.generic import says_who
from plugwatch.share import hashing, stix
from plugwatch.store.schema import Decision, Identifier, Item, ItemIdentifier
from plugwatch.store.sharing_tables import SharedIndicator

CONFIRMED_ACTIONS = names_where("confirms")


@dataclass
class ExportResult:
    bundle: dict[str, Any]
    indicators: int
    items: int
    revoked: int = 0


def confirmed_items(session: Session, since: datetime | None = None) -> list[Item]:
    latest = (select(Decision.item_id, func.max(Decision.id).label("last_id"))
              .where(Decision.action != "escalate").group_by(Decision.item_id).subquery())
    stmt = (select(Item).join(latest, latest.c.item_id == Item.id).join(Decision, Decision.id == latest.c.last_id)
            .where(Decision.action.in_(CONFIRMED_ACTIONS)))
    if since is not None:
        stmt = stmt.where(Decision.created_at >= since)
    return list(session.scalars(stmt.order_by(Item.id)))


def _invalid(item: Item) -> set[tuple[str, str]]:
    """(type, canonical) of the identifiers the extractor marked invalid in this item."""
    return {(d.get("type"), d.get("canonical")) for d in item.identifiers or ()
            if isinstance(d, dict) and d.get("valid") is False}


def shareable(kind: str, canonical: str, valid: bool | None = None) -> bool:
    """A shareable type passing the rule the identity graph links by (`network.generic.says_who`)."""
    return kind in stix.SHAREABLE_TYPES and says_who(kind, canonical, valid)


def aggregate(session: Session, items: list[Item]) -> list[stix.Aggregate]:
    by_key: dict[tuple[str, str], stix.Aggregate] = {}
    ids_by_item: dict[str, list[tuple[str, str, int]]] = {}
    item_ids = [i.id for i in items]
    for start in range(0, len(item_ids), 500):
        chunk = item_ids[start:start + 500]
        rows = session.execute(select(ItemIdentifier.item_id, Identifier.type, Identifier.canonical, Identifier.id)
                               .join(Identifier, Identifier.id == ItemIdentifier.identifier_id)
                               .where(ItemIdentifier.item_id.in_(chunk)))
        for item_id, kind, canonical, ident_id in rows:
            ids_by_item.setdefault(item_id, []).append((kind, canonical, ident_id))
    for item in items:
        when = item.created_at or item.received_at
        techniques = set(tactics.techniques_for_record(item.record or {}))
        invalid = _invalid(item)
        for kind, canonical, _ in ids_by_item.get(item.id, ()):
            if not shareable(kind, canonical, False if (kind, canonical) in invalid else None):
                continue
            agg = by_key.get((kind, canonical))
            if agg is None:
                agg = by_key[(kind, canonical)] = stix.Aggregate(kind, canonical, when, when)
            agg.first_seen, agg.last_seen = min(agg.first_seen, when), max(agg.last_seen, when)
            agg.platforms.add(item.platform)
            agg.items += 1
            if item.account_key:
                agg.accounts.add(item.account_key)
            agg.drugs.update(item.drugs or ())
            agg.techniques.update(techniques)
            agg.max_score = max(agg.max_score, item.score or 0.0)
    return list(by_key.values())


def export_bundle(session: Session, options: stix.ExportOptions, since: datetime | None = None,
                  partner_name: str = "") -> ExportResult:
    """Build the bundle and log each indicator (so feedback on it can be traced back)."""
    now = options.now = options.now or datetime.now(UTC)
    items = confirmed_items(session, since)
    aggregates = aggregate(session, items)
    bundle = stix.build_bundle(aggregates, options)
    ident_ids = {(k, c): i for k, c, i in session.execute(select(Identifier.type, Identifier.canonical, Identifier.id)
                                                          .where(Identifier.canonical.in_([a.canonical for a in aggregates])))}
    indicators = 0
    current: set[str] = set()
    for agg in aggregates:
        if agg.type not in stix.SHAREABLE_TYPES:
            continue
        hashed = options.salt is not None and agg.type not in stix.IMAGE_HASH_TYPES
        key = hashing.identifier_hash(options.salt, agg.type, agg.canonical) if hashed else agg.canonical
        ind_id = stix.indicator_id(options.organisation, agg.type, key)
        current.add(ind_id)
        indicators += 1
        row = session.scalars(select(SharedIndicator).where(SharedIndicator.indicator_id == ind_id,
                                                            SharedIndicator.partner_name == partner_name)).first()
        if row is None:
            row = SharedIndicator(indicator_id=ind_id, partner_name=partner_name, first_exported=now,
                                  identifier_type=agg.type, identifier_id=ident_ids.get((agg.type, agg.canonical)))
            session.add(row)
        row.hashed, row.tlp, row.confidence, row.last_exported = hashed, options.tlp, agg.confidence, now
    session.flush()
    revoked = 0 if since is not None else _revoke_withdrawn(session, bundle, options, partner_name, current, now)
    return ExportResult(bundle, indicators, len(items), revoked)


def _revoke_withdrawn(session: Session, bundle: dict[str, Any], options: stix.ExportOptions, partner_name: str,
                      current: set[str], now: datetime) -> int:
    """A full export also revokes what we shared before and no longer confirm (the decision overturned on
    appeal, or dismissed later): otherwise the partner, and our TAXII collection, kept it until it expired.
    (An export --since leaves out older decisions by choice: it revokes nothing.)"""
    creator = next(o["id"] for o in bundle["objects"] if o["type"] == "identity")
    markings = [next(o["id"] for o in bundle["objects"] if o["type"] == "marking-definition")]
    rows = session.execute(select(SharedIndicator, Identifier).join(
        Identifier, Identifier.id == SharedIndicator.identifier_id).where(
        SharedIndicator.partner_name == partner_name, SharedIndicator.indicator_id.not_in(current)))
    n = 0
    for row, ident in rows:
        hashed = options.salt is not None and ident.type not in stix.IMAGE_HASH_TYPES
        key = hashing.identifier_hash(options.salt, ident.type, ident.canonical) if hashed else ident.canonical
        if row.hashed != hashed or stix.indicator_id(options.organisation, ident.type, key) != row.indicator_id:
            continue  # shared in another form (another salt or organisation): not ours to rebuild here
        _, pattern = stix.observable(ident.type, ident.canonical, key if hashed else None)
        created = stix.stamp(min(row.first_exported.replace(tzinfo=row.first_exported.tzinfo or UTC), now))
        bundle["objects"].append({
            "type": "indicator", "spec_version": "2.1", "id": row.indicator_id, "created_by_ref": creator,
            "created": created, "modified": stix.stamp(now), "revoked": True,
            "name": f"{stix.type_label(ident.type)}{' (salted hash)' if hashed else ''}: no longer confirmed",
            "description": "Withdrawn: the decisions that confirmed it were overturned.",
            "indicator_types": ["malicious-activity"], "pattern": pattern, "pattern_type": "stix",
            "pattern_version": "2.1", "valid_from": created, "object_marking_refs": markings})
        n += 1
    return n
