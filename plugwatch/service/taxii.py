"""TAXII 2.1 server for signal sharing: discovery, one API root, partner collections, objects,
manifest and status. Partners sign in with HTTP Basic (partner name + the secret `plugwatch share
partners add` printed); each sees only collections it may read or write.

Objects posted to a `from-<partner>` collection are stored and imported into the watch list as that
partner's (matches then go to review); the poster is who the credentials say, never what the
objects claim.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import or_, select

from plugwatch.service.limits import TAXII_LIMIT, BodyTooLarge, parse_json, read_body
from plugwatch.service.throttle import client_address
from plugwatch.share import hashing, importer, matching, partners, taxii_store, validate
from plugwatch.store import audit
from plugwatch.store.sharing_tables import Partner, TaxiiAccess, TaxiiCollection, TaxiiStatus

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
ROOT = "api"
MAX_CONTENT = TAXII_LIMIT

router = APIRouter(prefix="/taxii2", tags=["taxii"], include_in_schema=True)


class TaxiiError(Exception):
    def __init__(self, status: int, title: str, description: str = "", headers: dict[str, str] | None = None):
        self.status, self.title, self.description, self.headers = status, title, description, headers or {}


def _ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _reply(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status_code=status, media_type=TAXII, headers=headers)


def _error(e: TaxiiError) -> Response:
    headers = dict(e.headers)
    if e.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="plugwatch TAXII"'
    return _reply({"title": e.title, "description": e.description, "http_status": str(e.status)}, e.status, headers)


def _partner(request: Request, session) -> Partner:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        raise TaxiiError(401, "authentication required", "HTTP Basic: partner name and secret")
    try:
        name, sep, secret = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise TaxiiError(401, "malformed credentials") from None
    throttle, address = request.app.state.throttle, client_address(request)
    if wait := throttle.attempt("taxii:" + name, address):
        raise TaxiiError(429, "too many failed sign-ins", f"try again in {wait} seconds",
                         {"Retry-After": str(wait)})
    partner = partners.authenticate(session, name, secret) if sep else None
    if partner is None:
        raise TaxiiError(401, "unknown partner or wrong secret")
    throttle.succeeded("taxii:" + name, address)
    return partner


def _check_accept(request: Request) -> None:
    accept = request.headers.get("accept", "*/*").replace(" ", "").lower()
    if not any(a.startswith(("application/taxii+json", "*/*", "application/*", "application/json"))
               for a in accept.split(",")):
        raise TaxiiError(406, "not acceptable", f"this server answers {TAXII}")


def _access(session, partner: Partner, coll_id: str) -> tuple[TaxiiCollection, TaxiiAccess]:
    """The collection named by its id or its alias (`to-<partner>`, `from-<partner>`), if this
    partner may use it."""
    row = session.execute(select(TaxiiCollection, TaxiiAccess).join(
        TaxiiAccess, TaxiiAccess.collection_id == TaxiiCollection.id).where(
        or_(TaxiiCollection.id == coll_id, TaxiiCollection.alias == coll_id),
        TaxiiAccess.partner_id == partner.id)).first()
    if row is None or not (row[1].can_read or row[1].can_write):
        raise TaxiiError(404, "collection not found", f"no collection {coll_id} for {partner.name}")
    return row[0], row[1]


def _collection_body(coll: TaxiiCollection, access: TaxiiAccess) -> dict[str, Any]:
    return {"id": coll.id, "title": coll.title, "description": coll.description, "alias": coll.alias,
            "can_read": bool(access.can_read), "can_write": bool(access.can_write), "media_types": [STIX]}


def _run(request: Request, work):
    """Authenticate, run `work(session, partner)` in one transaction, and turn TaxiiErrors into replies."""
    try:
        _check_accept(request)
        with request.app.state.store.session() as s:
            partner = _partner(request, s)
            return work(s, partner)
    except TaxiiError as e:
        return _error(e)


@router.get("/")
def discovery(request: Request):
    base = str(request.base_url).rstrip("/")
    return _run(request, lambda s, p: _reply({
        "title": "plugwatch signal sharing", "description": "Drug-sale indicators in STIX 2.1, per partner.",
        "default": f"{base}/taxii2/{ROOT}/", "api_roots": [f"{base}/taxii2/{ROOT}/"]}))


@router.get(f"/{ROOT}/")
def api_root(request: Request):
    return _run(request, lambda s, p: _reply({
        "title": "plugwatch", "description": "Partner collections: to-<partner> (read), from-<partner> (write).",
        "versions": [TAXII], "max_content_length": MAX_CONTENT}))


@router.get(f"/{ROOT}/collections/")
def collections(request: Request):
    def work(s, partner):
        rows = s.execute(select(TaxiiCollection, TaxiiAccess).join(
            TaxiiAccess, TaxiiAccess.collection_id == TaxiiCollection.id).where(
            TaxiiAccess.partner_id == partner.id).order_by(TaxiiCollection.alias)).all()
        found = [_collection_body(c, a) for c, a in rows if a.can_read or a.can_write]
        return _reply({"collections": found} if found else {})
    return _run(request, work)


@router.get(f"/{ROOT}/collections/{{coll_id}}/")
def collection(request: Request, coll_id: str):
    return _run(request, lambda s, p: _reply(_collection_body(*_access(s, p, coll_id))))


def _filters(request: Request) -> dict[str, Any]:
    q = request.query_params

    def many(name: str) -> list[str] | None:
        values = [v for raw in q.getlist(name) for v in raw.split(",") if v]
        return values or None

    limit = q.get("limit")
    if limit is not None and not limit.isdigit():
        raise TaxiiError(400, "bad limit", "limit is a positive integer")
    added_after = q.get("added_after")
    if added_after:
        try:
            taxii_store._parse_ts(added_after)
        except ValueError:
            raise TaxiiError(400, "bad added_after", "added_after is a timestamp like 2024-05-01T00:00:00Z") from None
    return {"added_after": added_after, "limit": int(limit) if limit else None, "next_token": q.get("next"),
            "ids": many("match[id]"), "types": many("match[type]"), "versions": many("match[version]"),
            "spec_versions": many("match[spec_version]")}


def _page(s, partner, coll_id: str, request: Request, object_id: str | None = None):
    coll, access = _access(s, partner, coll_id)
    if not access.can_read:
        raise TaxiiError(403, "no read access", f"{partner.name} may not read {coll.alias}")
    filters = _filters(request)
    if object_id is not None:
        filters["ids"] = [object_id]
    try:
        page = taxii_store.query(s, coll, **filters)
    except ValueError as e:
        raise TaxiiError(400, "bad request", str(e)) from None
    if object_id is not None and not page.rows:
        raise TaxiiError(404, "object not found", object_id)
    headers = {}
    if page.rows:
        headers = {"X-TAXII-Date-Added-First": _ts(page.rows[0].date_added),
                   "X-TAXII-Date-Added-Last": _ts(page.rows[-1].date_added)}
    return page, headers


def _envelope(page, objects: list[dict[str, Any]], headers: dict[str, str], always: bool = False) -> Response:
    """A TAXII envelope (or manifest): `objects` left out when empty, unless `always`."""
    body: dict[str, Any] = {"more": page.more}
    if page.next:
        body["next"] = page.next
    if objects or always:
        body["objects"] = objects
    return _reply(body, headers=headers)


@router.get(f"/{ROOT}/collections/{{coll_id}}/objects/")
def get_objects(request: Request, coll_id: str):
    def work(s, partner):
        page, headers = _page(s, partner, coll_id, request)
        return _envelope(page, [r.body for r in page.rows], headers)
    return _run(request, work)


@router.get(f"/{ROOT}/collections/{{coll_id}}/objects/{{object_id}}/")
def get_object(request: Request, coll_id: str, object_id: str):
    def work(s, partner):
        page, headers = _page(s, partner, coll_id, request, object_id)
        return _envelope(page, [r.body for r in page.rows], headers, always=True)
    return _run(request, work)


@router.get(f"/{ROOT}/collections/{{coll_id}}/manifest/")
def manifest(request: Request, coll_id: str):
    def work(s, partner):
        page, headers = _page(s, partner, coll_id, request)
        return _envelope(page, [{"id": r.stix_id, "date_added": _ts(r.date_added), "version": r.version,
                                 "media_type": STIX} for r in page.rows], headers)
    return _run(request, work)


def _status_body(status: TaxiiStatus) -> dict[str, Any]:
    d = status.details or {}
    successes, failures, pendings = d.get("successes", []), d.get("failures", []), d.get("pendings", [])
    body = {"id": status.id, "status": status.status, "request_timestamp": _ts(status.request_timestamp),
            "total_count": len(successes) + len(failures) + len(pendings), "success_count": len(successes),
            "failure_count": len(failures), "pending_count": len(pendings)}
    for name, rows in (("successes", successes), ("failures", failures), ("pendings", pendings)):
        if rows:
            body[name] = rows
    return body


@router.post(f"/{ROOT}/collections/{{coll_id}}/objects/")
async def add_objects(request: Request, coll_id: str):
    ctype = request.headers.get("content-type", "").replace(" ", "").lower()
    if not ctype.startswith(("application/taxii+json", "application/json")):
        return _error(TaxiiError(415, "unsupported media type", f"send {TAXII}"))

    def may_write(s, partner):  # who is asking, and may they write here: before a byte of the body is read
        coll, access = _access(s, partner, coll_id)
        if not access.can_write:
            raise TaxiiError(403, "no write access", f"{partner.name} may not write to {coll.alias}")
        return None

    refused = await run_in_threadpool(_run, request, may_write)
    if refused is not None:
        return refused
    try:
        raw = await read_body(request, MAX_CONTENT)
    except BodyTooLarge:
        return _error(TaxiiError(413, "too large", f"at most {MAX_CONTENT} bytes"))
    try:
        envelope = parse_json(raw, "the envelope")
    except HTTPException as e:
        return _error(TaxiiError(400, "not JSON", str(e.detail)))
    objects = envelope.get("objects") if isinstance(envelope, dict) else None
    if not isinstance(objects, list):
        return _error(TaxiiError(400, "not an envelope", "expected {\"objects\": [...]}"))

    def work(s, partner):
        coll, access = _access(s, partner, coll_id)
        if not access.can_write:
            raise TaxiiError(403, "no write access", f"{partner.name} may not write to {coll.alias}")
        errors = taxii_store.envelope_errors(objects)
        # A member without a string id is named by its place in the list, as the errors name it.
        labelled = [(validate.object_label(o, i), o) for i, o in enumerate(objects)]
        good = [o for label, o in labelled if isinstance(o, dict) and label not in errors]
        successes, failures = taxii_store.add_objects(s, coll, good)
        failures += [{"id": label, "message": errors.get(label, "not a STIX object")}
                     for label, o in labelled if not isinstance(o, dict) or label in errors]
        details: dict[str, Any] = {}
        if coll.alias == partners.collection_alias("from", partner.name):
            salt = None
            if partner.salt_path:
                try:
                    salt = hashing.read_salt(partner.salt_path)
                except hashing.SaltError:
                    salt = None
            result = importer.import_bundle(s, {"type": "bundle", "objects": good}, partner, salt=salt)
            details = {"added": result.added, "updated": result.updated, "revoked": result.revoked,
                       "opinions": result.opinions, "not_used": len(result.rejected),
                       "matches": matching.retro_match(s) if result.added + result.updated else 0}
        audit.append(s, f"partner:{partner.name}", "taxii add objects", f"collection:{coll.alias}",
                     {"stored": len(successes), "failed": len(failures), **details})
        status = taxii_store.new_status(s, coll, partner.id, successes, failures)
        return _reply(_status_body(status), 202)
    return await run_in_threadpool(_run, request, work)


@router.get(f"/{ROOT}/status/{{status_id}}/")
def get_status(request: Request, status_id: str):
    def work(s, partner):
        status = s.get(TaxiiStatus, status_id)
        if status is None or status.partner_id != partner.id:
            raise TaxiiError(404, "status not found", status_id)
        return _reply(_status_body(status))
    return _run(request, work)
