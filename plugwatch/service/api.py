"""JSON API under /api, plus GET /healthz. Every route names the operation it needs; the roles
allowed each operation are in one table, plugwatch.service.permissions:

    POST /api/ingest                  items.add       JSON list of records, or a file in any supported format
                                      (or no token: a signed push, plugwatch.service.push)
    GET  /api/queue                   queue.work      open tasks grouped by seller, most urgent first
    POST /api/queue/claim             queue.work      claim the next task (or {"item_id": ...}); 204 when none
    POST /api/items/{id}/release      queue.work      give a claim back
    POST /api/items/{id}/decision     queue.work      {"action", "policy_reason", "note"}
    POST /api/items/{id}/appeal       appeals.file    {"reason"}: reopen for a different reviewer
    GET  /api/items/{id}              items.read      (fields redacted by role; records.full unredacted, audited)
    GET  /api/accounts/{key}          items.read      (fields redacted by role; records.full unredacted, audited)
    GET  /api/stats                   stats.read      (with `platforms`: per back-end states, latency, failure rate;
                                      `intake`: per connector read/dropped/rejected and lag; `user_reports`)
    GET  /api/policy                  any signed-in user: actions, policy reasons, who may do what
    GET  /api/export/decisions        decisions.export   JSON lines of decided items (audited)
    POST /api/effects/{id}/retry      effects.retry   send a failed or dead platform effect again, release a held one
    GET  /api/me                      any signed-in user

Item ids contain ":" and sometimes "/" (Bluesky at:// URIs): send them URL-encoded or as they are.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select, text
from starlette.concurrency import run_in_threadpool

from plugwatch.actions import ACTIONS, PERMISSIONS, POLICY_REASONS, reason_fits
from plugwatch.enforce.status import delivery_stats, effect_view, item_effects
from plugwatch.enforce.worker import retry
from plugwatch.rules.stats import rule_stats
from plugwatch.service.auth import current_user, require
from plugwatch.service.ingest import ingest_bytes
from plugwatch.service.limits import parse_json, read_body, spool_body
from plugwatch.service.pseudonyms import is_pseudonym, keys_without_handle
from plugwatch.service.push import IngestCaller, PushCaller, check_body
from plugwatch.service.redaction import (
    audit_full_read,
    can_see_all,
    effects_for_role,
    note_effects_redacted,
    pseudonymise_keys,
    redact_account,
    redact_item,
)
from plugwatch.store import audit, reports, review
from plugwatch.store.intake_state import intake_stats
from plugwatch.store.review import CLAIM_SECONDS, ReviewError
from plugwatch.store.schema import Decision, Item, ReviewOpinion, User

router = APIRouter()

# Who may call each route: plugwatch.actions.PERMISSIONS.
Reviewer = Annotated[User, Depends(require("queue.work"))]
Reader = Annotated[User, Depends(require("items.read"))]
Appealer = Annotated[User, Depends(require("appeals.file"))]
Stats = Annotated[User, Depends(require("stats.read"))]
Exporter = Annotated[User, Depends(require("decisions.export"))]
Retrier = Annotated[User, Depends(require("effects.retry"))]
Anyone = Annotated[User, Depends(current_user)]


def _store(request: Request):
    return request.app.state.store


def _run(request: Request, fn, *args, **kwargs):
    """Run fn(session, ...) in one transaction; review errors become HTTP errors."""
    try:
        with _store(request).session() as s:
            return fn(s, *args, **kwargs)
    except ReviewError as e:
        raise HTTPException(e.status, str(e)) from None


class ClaimBody(BaseModel):
    item_id: str | None = None
    ttl_seconds: int = Field(CLAIM_SECONDS, ge=30, le=4 * 3600)


class DecisionBody(BaseModel):
    action: str = Field(description=", ".join(ACTIONS))
    policy_reason: str = Field(description=", ".join(POLICY_REASONS))
    note: str = Field("", max_length=5000)


class AppealBody(BaseModel):
    reason: str = Field(min_length=1, max_length=5000)


@router.get("/healthz", tags=["service"])
def healthz(request: Request) -> dict[str, Any]:
    try:
        with _store(request).engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as e:  # noqa: BLE001 - any failure means not healthy
        return JSONResponse({"ok": False, "database": type(e).__name__}, status_code=503)
    return {"ok": True, "database": _store(request).dialect}


@router.get("/api/me", tags=["service"])
def me(user: Anyone) -> dict[str, Any]:
    return {"name": user.name, "role": user.role}


@router.get("/api/policy", tags=["review"])
def policy(user: Anyone) -> dict[str, Any]:
    return {"actions": list(ACTIONS), "policy_reasons": POLICY_REASONS,
            "action_roles": {a: list(spec.roles) for a, spec in ACTIONS.items()},
            "permissions": {op: list(roles) for op, roles in PERMISSIONS.items()},
            "strike_days": review.STRIKE_DAYS, "suspend_after": review.SUSPEND_AFTER,
            # which reasons an action accepts (anything else is refused with 422)
            "action_reasons": {a: [r for r in POLICY_REASONS if reason_fits(a, r)] for a in ACTIONS}}


@router.post("/api/ingest", tags=["ingest"])
async def ingest(request: Request, user: IngestCaller, format: Annotated[str | None, Query(max_length=20)] = None,
                 region: Annotated[str | None, Query(max_length=2)] = None):
    """Items as a JSON list of records (any supported platform format, detected per record), a
    multipart upload (field `file`), or a raw body (JSONL, CSV, a platform export). Idempotent on
    the item id. Rejected records are listed with their line and reason; the rest is stored.

    The body is read only now, after the caller's token or session passed, and under the ingest
    cap (413 past it) whatever its content type. A signed push (plugwatch.service.push) needs no
    token: its signature is checked over the body as received, then the body is read as usual."""
    ctype = request.headers.get("content-type", "")
    uploads: list[tuple[str, bytes | BinaryIO]] = []
    if isinstance(user, PushCaller):
        if ctype.startswith("multipart/form-data"):
            raise HTTPException(422, "signed push: send the records as the body, not as a multipart upload")
        body = await read_body(request)
        check_body(user, body)
        uploads.append(("push", _json_list_as_jsonl(body) if ctype.startswith("application/json") else body))
        if not body.strip():
            raise HTTPException(422, "empty body: send a JSON list of records or a file")
    elif ctype.startswith("multipart/form-data"):
        # Parsed as it streams in (files spool to disk past 1 MB), under the body cap.
        form = await request.form(max_files=20, max_fields=20)
        for value in form.getlist("file"):
            if hasattr(value, "read"):
                uploads.append((value.filename or "upload", value.file))
        if not uploads:
            raise HTTPException(422, "multipart upload: send the data in a field named `file`")
    elif ctype.startswith("application/json"):
        uploads.append(("request", _json_list_as_jsonl(await read_body(request))))
    else:
        spool = await spool_body(request)
        if spool.tell() == 0:
            raise HTTPException(422, "empty body: send a JSON list of records or a file")
        spool.seek(0)
        uploads.append(("request", spool))
    store, detector = request.app.state.store, request.app.state.detector
    totals: dict[str, Any] = {}
    for name, data in uploads:
        report = await run_in_threadpool(ingest_bytes, store, detector, data, name, format, region)
        for k, v in report.as_dict().items():
            totals[k] = totals.get(k, [] if isinstance(v, list) else 0) + v
    if totals["read"] == 0:
        return JSONResponse(totals, status_code=422)
    return totals


def _json_list_as_jsonl(body: bytes) -> bytes:
    if not body.strip():
        raise HTTPException(422, "empty body: send a JSON list of records or a file")
    value = parse_json(body)
    if isinstance(value, dict) and isinstance(value.get("records"), list):
        value = value["records"]
    if not isinstance(value, list):
        raise HTTPException(422, "send a JSON list of records (or {\"records\": [...]})")
    return b"".join(json.dumps(v, ensure_ascii=False).encode() + b"\n" for v in value)


@router.get("/api/queue", tags=["review"])
def get_queue(request: Request, user: Reviewer, limit: int = 50) -> list[dict[str, Any]]:
    def work(s):
        return _for_role(s, request, review.queue(s, user, limit=max(1, min(limit, 500))), user)

    return _run(request, work)


@router.post("/api/queue/claim", tags=["review"])
def claim_next(request: Request, user: Reviewer, body: ClaimBody | None = None):
    body = body or ClaimBody()

    def work(s):
        if body.item_id:
            task = review.claim(s, user, body.item_id, ttl_seconds=body.ttl_seconds)
        else:
            task = review.claim_next(s, user, ttl_seconds=body.ttl_seconds)
            if task is None:
                return None
        return _for_role(s, request, redact_item(review.item_view(s, task.item_id), user.role), user)

    view = _run(request, work)
    if view is None:
        return Response(status_code=204)
    return view


@router.post("/api/items/{item_id:path}/release", tags=["review"])
def release(request: Request, item_id: str, user: Reviewer) -> dict[str, Any]:
    task = _run(request, review.release, user, item_id)
    return {"item_id": item_id, "state": task.state}


@router.post("/api/items/{item_id:path}/decision", tags=["review"])
def decision(request: Request, item_id: str, body: DecisionBody, user: Reviewer) -> dict[str, Any]:
    """Decide a claimed item. On a task that needs two reviewers, a reviewer's first (or dissenting)
    decision is an opinion: `opinion` true, no `id` of a decision, and nothing follows from it yet."""
    d = _run(request, review.decide, user, item_id, body.action, body.policy_reason, body.note)
    if isinstance(d, ReviewOpinion):
        return {"id": None, "opinion": True, "opinion_id": d.id, "item_id": d.item_id, "action": d.action,
                "policy_reason": d.policy_reason, "appeal_id": None, "created_at": d.created_at.isoformat()}
    return {"id": d.id, "opinion": False, "item_id": d.item_id, "action": d.action, "policy_reason": d.policy_reason,
            "appeal_id": d.appeal_id, "created_at": d.created_at.isoformat()}


@router.post("/api/items/{item_id:path}/appeal", tags=["review"])
def appeal(request: Request, item_id: str, body: AppealBody, user: Appealer) -> dict[str, Any]:
    a = _run(request, review.file_appeal, item_id, body.reason, user.name)
    return {"id": a.id, "item_id": a.item_id, "decision_id": a.decision_id, "state": a.state}


@router.get("/api/items/{item_id:path}", tags=["review"])
def get_item(request: Request, item_id: str, user: Reader) -> dict[str, Any]:
    """The item, its account, network and history; `platform`: each effect on a connected platform
    (state: pending, sending, delivered with the platform's answer, logged (dry run), failed with the
    error and the next attempt, dead, held, cancelled) and the notices the account was sent."""
    def work(s):
        reports.check_may_open(s, item_id, user.role)
        view = redact_item(review.item_view(s, item_id), user.role)
        view["platform"], hidden = effects_for_role(s, item_effects(s, item_id), item_id, user.role)
        note_effects_redacted(view, hidden)
        view["reports"] = reports.item_summary(s, item_id)  # counts and reasons: never who reported
        audit_full_read(s, user, "item", item_id, via="api")
        return _for_role(s, request, view, user)

    return _run(request, work)


@router.post("/api/effects/{effect_id}/retry", tags=["review"])
def retry_effect(request: Request, effect_id: int, user: Retrier) -> dict[str, Any]:
    """Queue a failed or dead effect again now (attempts start over), or release a held one. Audited."""
    def work(s):
        row = retry(s, effect_id, user.name)
        platform, _ = effects_for_role(s, {"effects": [effect_view(row)]}, row.item_id, user.role)
        return platform["effects"][0]

    return _run(request, work)


@router.get("/api/accounts/{key:path}", tags=["review"])
def get_account(request: Request, key: str, user: Reader) -> dict[str, Any]:
    """One account and the accounts linked to it. `key` is `platform:handle` or, for an account
    known only by its platform id, the pseudonym item views show (the platform id itself for
    `records.full` roles)."""
    pseudonyms = request.app.state.pseudonyms

    def work(s):
        from plugwatch.store.review.views import _account_view, _network_view, utcnow

        real = pseudonyms.resolve(key) if is_pseudonym(key) else key
        if real is not None and real == key and not can_see_all(user.role) and keys_without_handle(s, [key]):
            real = None  # a platform id is not a way in for roles that may not see platform ids
        account = _account_view(s, real, utcnow()) if real else None
        if account is None:
            raise ReviewError(f"no account {key}", 404)
        view = {"account": redact_account(account, user.role),
                "network": [redact_account(a, user.role) for a in _network_view(s, real)]}
        audit_full_read(s, user, "account", real, via="api")
        return _for_role(s, request, view, user)

    return _run(request, work)


def _for_role(session, request: Request, view: Any, user: User) -> Any:
    return pseudonymise_keys(session, view, user.role, request.app.state.pseudonyms)


@router.get("/api/stats", tags=["review"])
def stats(request: Request, user: Stats) -> dict[str, Any]:
    return _run(request, lambda s: {**review.queue_stats(s), "platforms": delivery_stats(s),
                                    "intake": intake_stats(s), "user_reports": reports.report_counts(s),
                                    "rules": rule_stats(s)})


@router.get("/api/export/decisions", tags=["export"])
def export_decisions(request: Request, user: Exporter, limit: Annotated[int, Query(ge=1, le=1_000_000)] = 100_000):
    """Decided items with their latest decision, one JSON object per line. Audited."""
    def work(s):
        rows = s.execute(select(Decision, Item).join(Item, Item.id == Decision.item_id)
                         .order_by(Decision.id).limit(limit)).all()
        audit.append(s, user.name, "export", "decisions", {"rows": len(rows), "via": "api"})
        return [json.dumps({"decision": {"id": d.id, "action": d.action, "policy_reason": d.policy_reason,
                                         "created_at": d.created_at.isoformat()},
                            "item": {"id": i.id, "text": i.text, "account_key": i.account_key, "score": i.score,
                                     "raw": i.raw}}, ensure_ascii=False) + "\n" for d, i in rows]

    lines = _run(request, work)
    return StreamingResponse(iter(lines), media_type="application/x-ndjson")
