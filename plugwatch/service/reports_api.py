"""User reports over HTTP. Roles: plugwatch.actions.PERMISSIONS.

    POST /api/reports             reports.file    {"reporter", "item_id" | "account", "reason", "text", "external_id"}
    GET  /api/reports             reports.file    outcomes to tell reporters (?since=ID&source=NAME&all=1)
    GET  /api/reports/{id}        reports.file    one report's outcome
    GET  /api/reporters           reports.reveal  ?item_id=...: who reported it (leads, admins; audited)

Nothing here answers with a reporter's identity except /api/reporters.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from plugwatch.service.auth import require
from plugwatch.store import reports
from plugwatch.store.intake_tables import UserReport
from plugwatch.store.review import ReviewError
from plugwatch.store.schema import Account, User

router = APIRouter()
Filer = Annotated[User, Depends(require("reports.file"))]
Revealer = Annotated[User, Depends(require("reports.reveal"))]


class ReportBody(BaseModel):
    reporter: str = Field(min_length=3, max_length=300, description="platform:handle (or platform:id) of the person reporting")
    item_id: str | None = Field(None, max_length=300)
    account: str | None = Field(None, max_length=300, description="platform:handle of the reported account")
    reason: str = Field(description=", ".join(reports.REPORTABLE))
    text: str = Field("", max_length=reports.MAX_TEXT)
    external_id: str | None = Field(None, max_length=200, description="the platform's id of the report: "
                                    "sending it again files nothing new")


def _run(request: Request, fn, *args, **kwargs):
    try:
        with request.app.state.store.session() as s:
            return fn(s, *args, **kwargs)
    except ReviewError as e:
        raise HTTPException(e.status, str(e)) from None


@router.post("/api/reports", tags=["reports"], status_code=201)
def file_report(request: Request, body: ReportBody, user: Filer):
    """A user's report on an item (or, with `account`, on an account's newest item, or its next one
    when none is stored yet). Reports on one item merge into its one queue entry."""
    def work(s):
        report, created = reports.file_report(
            s, reporter=body.reporter, reason=body.reason, filed_by=user.name, item_id=body.item_id,
            account_key=body.account, text=body.text, source="api", external_id=body.external_id)
        view = {**reports.outcome_view(report), "queued": report.item_id is not None}
        if report.item_id is None and report.account_key and s.get(Account, report.account_key) is None:
            view["warning"] = (f"no account {report.account_key} is stored: the report waits for a post stored "
                               "under exactly that key (Mastodon accounts are stored as handle@server)")
        return view, created

    view, created = _run(request, work)
    return view if created else JSONResponse(view, status_code=200)


@router.get("/api/reports", tags=["reports"])
def list_outcomes(request: Request, user: Filer, since: Annotated[int, Query(ge=0, le=2**62)] = 0,
                  source: Annotated[str | None, Query(max_length=80)] = None, all: bool = False,
                  limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[dict[str, Any]]:
    """Reports with their outcome (`action_taken` or `no_action`), oldest first after `since`; with
    all=1 also those still open. What to tell each reporter, and nothing about the other account."""
    return _run(request, reports.outcomes, since_id=since, source=source, decided_only=not all, limit=limit)


@router.get("/api/reports/{report_id}", tags=["reports"])
def get_outcome(request: Request, report_id: Annotated[int, Path(ge=1, le=2**62)], user: Filer) -> dict[str, Any]:
    def work(s):
        report = s.get(UserReport, report_id)
        if report is None:
            raise ReviewError(f"no report {report_id}", 404)
        return reports.outcome_view(report)

    return _run(request, work)


@router.get("/api/reporters", tags=["reports"])
def reveal(request: Request, user: Revealer, item_id: Annotated[str, Query(min_length=1, max_length=300)]) -> list[dict[str, Any]]:
    """Who reported the item, or whom a post flagged as retaliation is aimed at. Audited."""
    return _run(request, reports.reveal, item_id, user.name)
