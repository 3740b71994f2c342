"""Legal API under /api/legal: disclosure requests, legal holds, subject access and deletion.

Every route needs the `legal` or `admin` role (reviewers and leads get 403); approving or rejecting
a request needs `legal` and another person than the one who recorded it. Every access is audited.

    GET  /api/legal/requests                      list (emergencies and nearest due date first)
    POST /api/legal/requests                      record: {agency, legal_basis, reference, accounts,
                                                  identifiers, date_from, date_to, emergency,
                                                  emergency_reason, due_date, note}
    GET  /api/legal/requests/{id}                 one request, its custody log, the snapshots in scope
    POST /api/legal/requests/{id}/approve         {note}      legal only, not the creator
    POST /api/legal/requests/{id}/reject          {note}      legal only, not the creator
    POST /api/legal/requests/{id}/export          the package (application/zip); X-Package-SHA256 header;
                                                  X-Package-Deleted-Snapshots: approved snapshots deleted since;
                                                  422 naming each problem when stored evidence in scope
                                                  fails its integrity check (nothing is signed; audited)
    GET  /api/legal/holds                         active holds
    POST /api/legal/holds                         {target_type: account|item|snapshot, target, reason}
    POST /api/legal/holds/{id}/release
    GET  /api/legal/subjects/{account}            subject-access export (JSON)
    POST /api/legal/subjects/{account}/delete     {dry_run}: delete the account's data, keeping holds
    GET  /api/legal/snapshots/{id}                one snapshot's manifest and files (text files inline)
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from plugwatch.errors import UserError
from plugwatch.evidence import holds as holds_mod
from plugwatch.evidence import requests as rq
from plugwatch.evidence.signing import SERVICE_NO_KEY, NoSigningKey
from plugwatch.evidence.snapshot import EvidenceError, NotFound, TamperedEvidence, load_files
from plugwatch.privacy import subject
from plugwatch.service.auth import require
from plugwatch.service.limits import RowId
from plugwatch.store import audit
from plugwatch.store.evidence_tables import DisclosureRequest, Snapshot
from plugwatch.store.schema import User

router = APIRouter(prefix="/api/legal", tags=["legal"])
Legal = Annotated[User, Depends(require("legal.use"))]
Approver = Annotated[User, Depends(require("legal.approve"))]


def _run(request: Request, fn, *args, on_tampered=None, **kwargs):
    try:
        with request.app.state.store.session() as s:
            return fn(s, *args, **kwargs)
    except TamperedEvidence as e:  # 422 like every refused step; the refusal is audited on its own
        if on_tampered is not None:
            with request.app.state.store.session() as s:
                on_tampered(s, e)
        raise HTTPException(422, str(e)) from None
    except rq.RequestDenied as e:
        raise HTTPException(403, str(e)) from None
    except NotFound as e:  # by type, never by the message's words ("no evidence signing key" is a 422)
        raise HTTPException(404, str(e)) from None
    except NoSigningKey:  # the command line's advice (--signing-key) means nothing to a user of the API
        raise HTTPException(422, SERVICE_NO_KEY) from None
    except (EvidenceError, UserError) as e:
        raise HTTPException(422, str(e)) from None


class RequestIn(BaseModel):
    agency: str = Field(min_length=1, max_length=300)
    legal_basis: str = Field(min_length=1, max_length=300)
    reference: str = Field(min_length=1, max_length=300)
    accounts: list[str] = []
    identifiers: list[str] = []
    date_from: str | None = None
    date_to: str | None = None
    emergency: bool = False
    emergency_reason: str | None = None
    due_date: str | None = None
    note: str = ""


class NoteIn(BaseModel):
    note: str = ""


class HoldIn(BaseModel):
    target_type: str
    target: str
    reason: str


class DeleteIn(BaseModel):
    dry_run: bool = False


@router.get("/requests")
def list_requests(request: Request, user: Legal) -> list[dict[str, Any]]:
    return _run(request, lambda s: [rq.request_dict(r) for r in rq.list_requests(s, user)])


@router.post("/requests", status_code=201)
def create_request(request: Request, body: RequestIn, user: Legal) -> dict[str, Any]:
    return _run(request, lambda s: rq.request_dict(rq.create_request(s, user, **body.model_dump())))


@router.get("/requests/{request_id}")
def show_request(request: Request, request_id: RowId, user: Legal) -> dict[str, Any]:
    def go(s):
        snaps = rq.matching_snapshots(s, user, request_id)
        return {**rq.request_dict(s.get(DisclosureRequest, request_id)), "custody": rq.custody_of(s, request_id),
                "snapshots": [{"id": x.id, "item": x.item_id, "account": x.account_key, "class": x.item_class,
                               "created_at": x.created_at.isoformat(), "manifest_digest": x.manifest_digest}
                              for x in snaps]}

    return _run(request, go)


@router.post("/requests/{request_id}/approve")
def approve(request: Request, request_id: RowId, user: Approver, body: NoteIn | None = None) -> dict[str, Any]:
    note = body.note if body else ""
    return _run(request, lambda s: rq.request_dict(rq.approve_request(s, user, request_id, note)))


@router.post("/requests/{request_id}/reject")
def reject(request: Request, request_id: RowId, user: Approver, body: NoteIn) -> dict[str, Any]:
    return _run(request, lambda s: rq.request_dict(rq.reject_request(s, user, request_id, body.note)))


@router.post("/requests/{request_id}/export")
def export(request: Request, request_id: RowId, user: Legal) -> Response:
    pkg = _run(request, lambda s: rq.export_request(s, user, request_id),
               on_tampered=lambda s, e: rq.record_refused_export(s, user.name, request_id, e.problems))
    name = f"disclosure-{request_id}-{pkg.export_entry['at'][:10]}.zip"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "X-Package-SHA256": pkg.sha256,
               "Cache-Control": "no-store"}
    if pkg.deleted_since_approval:  # approved, then deleted after their hold was released: not in the package
        headers["X-Package-Deleted-Snapshots"] = ",".join(map(str, pkg.deleted_since_approval))
    return Response(pkg.data, media_type="application/zip", headers=headers)


@router.get("/holds")
def list_holds(request: Request, user: Legal) -> list[dict[str, Any]]:
    return _run(request, lambda s: holds_mod.list_holds(s, user.name))


@router.post("/holds", status_code=201)
def add_hold(request: Request, body: HoldIn, user: Legal) -> dict[str, Any]:
    hold = _run(request, lambda s: holds_mod.add_hold(s, body.target_type, body.target, body.reason, user.name))
    return {"id": hold.id, "target_type": hold.target_type, "target": hold.target}


@router.post("/holds/{hold_id}/release")
def release_hold(request: Request, hold_id: RowId, user: Legal) -> dict[str, Any]:
    hold = _run(request, lambda s: holds_mod.release_hold(s, hold_id, user.name))
    return {"id": hold.id, "released_by": hold.released_by, "released_at": hold.released_at.isoformat()}


@router.get("/subjects/{account_key:path}")
def subject_access(request: Request, account_key: str, user: Legal) -> dict[str, Any]:
    if account_key.endswith("/delete"):
        raise HTTPException(405, "use POST to delete")
    return _run(request, lambda s: subject.subject_export(s, user, account_key))


@router.post("/subjects/{account_key:path}/delete")
def subject_delete(request: Request, account_key: str, user: Legal, body: DeleteIn | None = None) -> dict[str, Any]:
    dry = body.dry_run if body else False
    return _run(request, lambda s: subject.delete_subject(s, user, account_key, dry_run=dry).to_dict())


@router.get("/snapshots/{snapshot_id}")
def show_snapshot(request: Request, snapshot_id: RowId, user: Legal) -> dict[str, Any]:
    def go(s):
        snap = s.get(Snapshot, snapshot_id)
        if snap is None:
            raise NotFound(f"no snapshot {snapshot_id}")
        files = {}
        for name, data in load_files(s, snapshot_id).items():
            try:
                files[name] = {"text": data.decode("utf-8")}
            except UnicodeDecodeError:
                files[name] = {"base64": base64.b64encode(data).decode()}
        audit.append(s, user.name, "evidence.view", f"snapshot:{snapshot_id}", {"item": snap.item_id})
        return {"id": snap.id, "manifest": snap.manifest, "manifest_digest": snap.manifest_digest,
                "on_hold": bool(holds_mod.held_snapshot_ids(s, [snap])), "files": files}

    return _run(request, go)
