"""TAXII collections in the database: publish objects, page through them, take a partner's envelope.

Ordering is by (date_added, row id); every object version added gets its own microsecond
`date_added`, so `added_after` and the `next` token never skip or repeat an object.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from plugwatch.share import validate
from plugwatch.store.sharing_tables import TaxiiCollection, TaxiiObject, TaxiiStatus

MAX_PAGE = 1000


class CollectionError(LookupError):
    pass


def collection(session: Session, alias_or_id: str) -> TaxiiCollection:
    coll = session.scalars(select(TaxiiCollection).where(
        or_(TaxiiCollection.id == alias_or_id, TaxiiCollection.alias == alias_or_id))).first()
    if coll is None:
        raise CollectionError(f"no TAXII collection {alias_or_id}")
    return coll


def _version(obj: dict[str, Any], added: datetime) -> str:
    return str(obj.get("modified") or obj.get("created") or added.isoformat(timespec="milliseconds"))


def _last_added(session: Session, coll_id: str) -> datetime | None:
    return session.scalars(select(func.max(TaxiiObject.date_added)).where(TaxiiObject.collection_id == coll_id)).first()


def add_objects(session: Session, coll: TaxiiCollection, objects: list[dict[str, Any]],
                now: datetime | None = None) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Store object versions not yet in the collection. Returns (successes, failures) as TAXII lists."""
    now = now or datetime.now(UTC)
    last = _last_added(session, coll.id)
    if last is not None and last >= now:
        now = last + timedelta(microseconds=1)
    successes, failures = [], []
    step = 0
    for obj in objects:
        oid = obj.get("id") if isinstance(obj, dict) else None
        if not isinstance(oid, str) or "--" not in oid:
            failures.append({"id": str(oid), "message": "not a STIX object with an id"})
            continue
        added = now + timedelta(microseconds=step)
        version = _version(obj, added)
        exists = session.scalars(select(TaxiiObject.id).where(
            TaxiiObject.collection_id == coll.id, TaxiiObject.stix_id == oid, TaxiiObject.version == version)).first()
        if exists is None:
            session.add(TaxiiObject(collection_id=coll.id, stix_id=oid, stix_type=oid.split("--", 1)[0],
                                    version=version, spec_version=str(obj.get("spec_version", "2.1")),
                                    date_added=added, body=obj))
            step += 1
        successes.append({"id": oid, "version": version})
    session.flush()
    return successes, failures


def publish(session: Session, alias: str, objects: list[dict[str, Any]]) -> int:
    coll = collection(session, alias)
    before = session.scalars(select(func.count()).select_from(TaxiiObject).where(
        TaxiiObject.collection_id == coll.id)).one()
    add_objects(session, coll, objects)
    after = session.scalars(select(func.count()).select_from(TaxiiObject).where(
        TaxiiObject.collection_id == coll.id)).one()
    return after - before


@dataclass
class Page:
    rows: list[TaxiiObject]
    more: bool
    next: str | None


def _parse_ts(value: str) -> datetime:
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def query(session: Session, coll: TaxiiCollection, *, added_after: str | None = None, limit: int | None = None,
          next_token: str | None = None, ids: list[str] | None = None, types: list[str] | None = None,
          versions: list[str] | None = None, spec_versions: list[str] | None = None) -> Page:
    """Objects of a collection, filtered as TAXII 2.1 `match[...]` says (version default: last)."""
    stmt = select(TaxiiObject).where(TaxiiObject.collection_id == coll.id)
    if added_after:
        stmt = stmt.where(TaxiiObject.date_added > _parse_ts(added_after))
    if next_token:
        try:
            when, _, row_id = next_token.rpartition("|")
            if not row_id.isdigit() or int(row_id) >= 2**63:
                raise ValueError(row_id)
            stmt = stmt.where(or_(TaxiiObject.date_added > _parse_ts(when),
                                  and_(TaxiiObject.date_added == _parse_ts(when), TaxiiObject.id > int(row_id))))
        except ValueError:
            raise ValueError(f"next token {next_token!r} was not given by this server") from None
    if ids:
        stmt = stmt.where(TaxiiObject.stix_id.in_(ids))
    if types:
        stmt = stmt.where(TaxiiObject.stix_type.in_(types))
    if spec_versions:
        stmt = stmt.where(TaxiiObject.spec_version.in_(spec_versions))
    versions = versions or ["last"]
    if "all" not in versions:
        other = aliased(TaxiiObject)
        conds = []
        if "last" in versions:
            conds.append(TaxiiObject.version == select(func.max(other.version)).where(
                other.collection_id == coll.id, other.stix_id == TaxiiObject.stix_id).scalar_subquery())
        if "first" in versions:
            conds.append(TaxiiObject.version == select(func.min(other.version)).where(
                other.collection_id == coll.id, other.stix_id == TaxiiObject.stix_id).scalar_subquery())
        exact = [v for v in versions if v not in ("first", "last")]
        if exact:
            conds.append(TaxiiObject.version.in_(exact))
        stmt = stmt.where(or_(*conds))
    size = max(1, min(limit or MAX_PAGE, MAX_PAGE))
    rows = list(session.scalars(stmt.order_by(TaxiiObject.date_added, TaxiiObject.id).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    token = f"{rows[-1].date_added.isoformat()}|{rows[-1].id}" if more else None
    return Page(rows, more, token)


def envelope_errors(objects: list[dict[str, Any]]) -> dict[str, str]:
    """Validator errors per object id, for the objects of a posted envelope."""
    report = validate.validate_bundle({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects},
                                      enforce_refs=False)
    out: dict[str, str] = {}
    for message in report.errors:
        out.setdefault(message.split(":", 1)[0], message)
    return out


def new_status(session: Session, coll: TaxiiCollection, partner_id: int | None, successes: list[dict[str, str]],
               failures: list[dict[str, str]], now: datetime | None = None) -> TaxiiStatus:
    status = TaxiiStatus(id=str(uuid.uuid4()), collection_id=coll.id, partner_id=partner_id, status="complete",
                         request_timestamp=now or datetime.now(UTC),
                         details={"successes": successes, "failures": failures, "pendings": []})
    session.add(status)
    session.flush()
    return status
