"""Law-enforcement disclosure requests: draft → approved (or rejected) → exported.

Rules (separation of duties):
- `legal` or `admin` users record a request; only a `legal` user approves or rejects it, and never
  the person who recorded it: two people see every disclosure before anything leaves.
- Emergency requests (threat to life, a child at risk) take the same path with one approval, marked
  in red in the summary and first in the list; the due date defaults to today.
- Recording a request places legal holds on the accounts it names and on the snapshots of the
  identifiers it names, so retention cannot delete the evidence while the request is pending.
- Approval also freezes the matching items that have no snapshot yet (class `disclosure`), so the
  package holds everything in scope as it was at approval. The approval fixes the scope: its custody
  entry lists the snapshots it covers, and every export of the request holds those and nothing frozen
  later (an item ingested or frozen after the approval needs a new request and approval).
- Export (legal or admin, after approval) builds the ZIP; it can be repeated, each export is its own
  custody entry. Every step is in the custody log and the audit trail. It first checks every snapshot
  it is about to include as `evidence check` does and refuses (TamperedEvidence, nothing signed) when
  one fails; callers audit the refusal with record_refused_export.

Concurrency: every step on a request first locks its row (plugwatch.store.locks), then checks the
state: of an approval and a rejection sent at the same moment exactly one happens, the other is told
the request is no longer a draft, and simultaneous exports are logged one after the other.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from plugwatch.evidence import custody as custody_log
from plugwatch.evidence.chain import check_links
from plugwatch.evidence.holds import account_key, add_hold, lock_holds
from plugwatch.evidence.package import Package, PackedSnapshot, build_package
from plugwatch.evidence.signing import Signer, load_signer
from plugwatch.evidence.snapshot import (
    DISCLOSURE_CLASS,
    EvidenceError,
    NotFound,
    TamperedEvidence,
    checked_files,
    freeze,
)
from plugwatch.store import audit
from plugwatch.store.evidence_tables import (
    ChainLink,
    CustodyEvent,
    DisclosureRequest,
    LegalHold,
    Snapshot,
    SnapshotIdentifier,
)
from plugwatch.store.locks import lock_row
from plugwatch.store.schema import AuditEntry, Identifier, Item, ItemIdentifier, User, utcnow

RECORD_ROLES = ("legal", "admin")
APPROVE_ROLES = ("legal",)
EXPORT_ROLES = ("legal", "admin")


class RequestDenied(EvidenceError):
    """The user's role or part in the request does not allow this step."""


def _need(user: User, roles: tuple[str, ...], what: str) -> None:
    if user.role not in roles:
        raise RequestDenied(f"{what} needs the role {' or '.join(roles)}; {user.name} is {user.role}")


def parse_day(value: str | date | None, what: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise EvidenceError(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None


def normalise_scope(accounts: list[str] | None, identifiers: list[str] | None, date_from: Any = None,
                    date_to: Any = None) -> dict[str, Any]:
    from plugwatch.errors import UserError
    from plugwatch.text.identifier_types import read_identifier

    accs = sorted({account_key(a) for a in accounts or [] if a and a.strip()})
    idents = []
    for raw in identifiers or []:
        if not raw or not raw.strip():
            continue
        try:
            t, c = read_identifier(raw)
        except UserError as e:
            raise EvidenceError(str(e)) from None
        idents.append(f"{t}|{c}")
    d0, d1 = parse_day(date_from, "the first day (--from, date_from)"), parse_day(date_to, "the last day (--to, date_to)")
    if d0 and d1 and d0 > d1:
        raise EvidenceError(f"date range runs backwards: {d0} is after {d1}")
    if not accs and not idents:
        raise EvidenceError("a request's scope needs at least one account or identifier")
    return {"accounts": accs, "identifiers": sorted(set(idents)),
            "date_from": d0.isoformat() if d0 else None, "date_to": d1.isoformat() if d1 else None}


def readable_identifier(stored: str) -> str:
    """`wickr: icecold_uk2` for a scope identifier stored as `wickr|wickr:icecold_uk2` (type|canonical,
    the form the scope queries use); it reads back to the same identifier."""
    kind, _, canonical = stored.partition("|")
    return f"{kind}: {canonical.removeprefix(kind + ':')}" if canonical else stored


def readable_scope(scope: dict[str, Any]) -> dict[str, Any]:
    return {**scope, "identifiers": [readable_identifier(x) for x in scope.get("identifiers") or []]}


def scope_text(scope: dict[str, Any]) -> str:
    """One line for people: `accounts telegram:shop; identifiers wickr: icecold_uk2; 2024-01-01 to any day`."""
    parts = []
    if scope.get("accounts"):
        parts.append("accounts " + ", ".join(scope["accounts"]))
    if scope.get("identifiers"):
        parts.append("identifiers " + ", ".join(readable_identifier(x) for x in scope["identifiers"]))
    if scope.get("date_from") or scope.get("date_to"):
        parts.append(f"{scope.get('date_from') or 'any day'} to {scope.get('date_to') or 'any day'}")
    return "; ".join(parts)


def _custody(session: Session, req: DisclosureRequest) -> list[dict[str, Any]]:
    return [e.entry for e in session.scalars(select(CustodyEvent).where(CustodyEvent.request_id == req.id)
                                             .order_by(CustodyEvent.seq))]


def _log(session: Session, req: DisclosureRequest, action: str, user: User, at: datetime,
         details: dict[str, Any] | None = None) -> dict[str, Any]:
    entries = _custody(session, req)
    e = custody_log.entry(entries[-1] if entries else None, action, user.name, user.role, at.replace(microsecond=0),
                          str(req.id), details)
    session.add(CustodyEvent(request_id=req.id, seq=e["seq"], entry=e, hash=e["hash"]))
    session.flush()
    return e


def create_request(session: Session, user: User, *, agency: str, legal_basis: str, reference: str,
                   accounts: list[str] | None = None, identifiers: list[str] | None = None,
                   date_from: Any = None, date_to: Any = None, emergency: bool = False,
                   emergency_reason: str | None = None, due_date: Any = None, note: str = "",
                   now: datetime | None = None) -> DisclosureRequest:
    _need(user, RECORD_ROLES, "recording a disclosure request")
    now = now or utcnow()
    for name, value in (("agency", agency), ("legal_basis", legal_basis), ("reference", reference)):
        if not value or not str(value).strip():
            raise EvidenceError(f"a request needs its {name.replace('_', ' ')}")
    if emergency and not (emergency_reason or "").strip():
        raise EvidenceError("an emergency request needs the reason (the threat to life or safety it names)")
    scope = normalise_scope(accounts, identifiers, date_from, date_to)
    due = parse_day(due_date, "due_date") or (now.date() if emergency else None)
    lock_holds(session)  # before the audit head (lock order): the holds below are added under it
    req = DisclosureRequest(agency=agency.strip(), legal_basis=legal_basis.strip(), reference=reference.strip(),
                            scope=scope, emergency=bool(emergency), emergency_reason=(emergency_reason or None),
                            due_date=due, state="draft", note=note or "", created_by=user.name, created_at=now)
    session.add(req)
    session.flush()
    _log(session, req, "created", user, now, {"agency": req.agency, "reference": req.reference,
                                              "emergency": req.emergency})
    audit.append(session, user.name, "request.create", f"request:{req.id}",
                 {"agency": req.agency, "reference": req.reference, "scope": scope, "emergency": req.emergency},
                 at=now)
    why = f"disclosure request {req.id} ({req.agency} {req.reference})"
    for acc in scope["accounts"]:
        add_hold(session, "account", acc, why, user.name, request_id=req.id, now=now)
    _hold_identifier_snapshots(session, req, user, now)
    return req


def _hold_identifier_snapshots(session: Session, req: DisclosureRequest, user: User, now: datetime) -> None:
    """Hold the snapshots matched through the request's identifiers (its accounts have account holds),
    those there when it is recorded and those frozen when it is approved."""
    held = set(session.scalars(select(LegalHold.target).where(
        LegalHold.request_id == req.id, LegalHold.target_type == "snapshot", LegalHold.released_at.is_(None))))
    why = f"disclosure request {req.id} ({req.agency} {req.reference})"
    for snap in _matching(session, req, accounts=False):
        if str(snap.id) not in held:
            add_hold(session, "snapshot", str(snap.id), why, user.name, request_id=req.id, now=now)


def _get(session: Session, request_id: int, lock: bool = False) -> DisclosureRequest:
    """The request; lock=True for a step that changes it: its row is locked until commit and read
    afresh, so a concurrent step waits and then sees this one's outcome."""
    if lock:
        req = lock_row(session, DisclosureRequest, DisclosureRequest.id == request_id)
    else:
        req = session.get(DisclosureRequest, request_id)
    if req is None:
        raise NotFound(f"no disclosure request {request_id}")
    return req


def approve_request(session: Session, user: User, request_id: int, note: str = "",
                    now: datetime | None = None) -> DisclosureRequest:
    return _decide(session, user, request_id, "approved", note, now)


def reject_request(session: Session, user: User, request_id: int, note: str = "",
                   now: datetime | None = None) -> DisclosureRequest:
    if not note.strip():
        raise EvidenceError("say why the request is rejected (--note)")
    return _decide(session, user, request_id, "rejected", note, now)


def _decide(session: Session, user: User, request_id: int, state: str, note: str,
            now: datetime | None) -> DisclosureRequest:
    verb = "approving" if state == "approved" else "rejecting"
    _need(user, APPROVE_ROLES, f"{verb} a disclosure request")
    now = now or utcnow()
    req = _get(session, request_id, lock=True)
    if req.state != "draft":
        raise EvidenceError(f"request {req.id} is {req.state}, not a draft waiting for approval")
    if req.created_by == user.name:
        raise RequestDenied(f"{user.name} recorded request {req.id}: another legal user must {state[:-1]} it")
    frozen: list[int] = []
    details: dict[str, Any] = {"note": note} if note else {}
    if state == "approved":
        lock_holds(session)  # before the audit head, which the freezes take
        frozen = _freeze_unfrozen(session, req, user, now)
        _hold_identifier_snapshots(session, req, user, now)
        details["snapshots"] = [s.id for s in _matching(session, req)]  # the approved scope, fixed here
    req.state, req.decided_by, req.decided_at, req.decision_note = state, user.name, now, note or None
    _log(session, req, state, user, now, details)
    audit.append(session, user.name, f"request.{state[:-1] if state == 'approved' else 'reject'}",
                 f"request:{req.id}", {"note": note, "frozen": frozen,
                                       **({"snapshots": details["snapshots"]} if "snapshots" in details else {})},
                 at=now)
    return req


def _in_scope(scope: dict[str, Any], account_key: Any, row_id: Any, holders: Select,
              identifier: type) -> ColumnElement[bool] | None:
    """The scope's accounts and identifiers as one condition on rows: their `account_key` column is one
    of the accounts (None: accounts left out), or their `row_id` is among `holders`, a select of row ids
    joined to `identifier` (a table with type and canonical columns) holding one of the identifiers.
    None when the scope names neither."""
    conds = []
    if account_key is not None and scope.get("accounts"):
        conds.append(account_key.in_(scope["accounts"]))
    pairs = [tuple(x.split("|", 1)) for x in scope.get("identifiers") or []]
    if pairs:
        named = or_(*[and_(identifier.type == t, identifier.canonical == c) for t, c in pairs])
        conds.append(row_id.in_(holders.where(named)))
    return or_(*conds) if conds else None


def _scope_items_select(req: DisclosureRequest, what: Any) -> Select | None:
    """select(what) of the items in the request's scope; None when the scope names nothing."""
    scope = req.scope or {}
    holders = select(ItemIdentifier.item_id).join(Identifier, Identifier.id == ItemIdentifier.identifier_id)
    match = _in_scope(scope, Item.account_key, Item.id, holders, Identifier)
    if match is None:
        return None
    stmt = select(what).where(match)
    d0, d1 = _range(scope)
    if d0:
        stmt = stmt.where(Item.created_at >= d0)
    if d1:
        stmt = stmt.where(Item.created_at < d1)
    return stmt.order_by(Item.id)


def _scope_items(session: Session, req: DisclosureRequest) -> list[Item]:
    stmt = _scope_items_select(req, Item)
    return [] if stmt is None else list(session.scalars(stmt))


def pending_scope_item_ids(session: Session, states: tuple[str, ...] = ("draft",)) -> set[str]:
    """Items in the scope of a request still waiting for approval: its approval will freeze those that
    have no snapshot yet, so retention must not delete them meanwhile (the request's accounts are
    covered by its account holds; items matched through an identifier only by this). `states`: of the
    requests in these states instead."""
    out: set[str] = set()
    for req in session.scalars(select(DisclosureRequest).where(DisclosureRequest.state.in_(states))):
        stmt = _scope_items_select(req, Item.id)
        if stmt is not None:
            out.update(session.scalars(stmt))
    return out


def _range(scope: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    from datetime import timedelta

    d0 = datetime.combine(date.fromisoformat(scope["date_from"]), time(), UTC) if scope.get("date_from") else None
    last = date.fromisoformat(scope["date_to"]) if scope.get("date_to") else None
    # the end is the next midnight; after 9999-12-31 there is none (it was an OverflowError): no end
    d1 = datetime.combine(last + timedelta(days=1), time(), UTC) if last and last < date.max else None
    return d0, d1


def _freeze_unfrozen(session: Session, req: DisclosureRequest, user: User, now: datetime) -> list[int]:
    have = {s.item_id for s in _matching(session, req)}
    frozen = []
    for item in _scope_items(session, req):
        if item.id not in have:
            frozen.append(freeze(session, item.id, item_class=DISCLOSURE_CLASS, actor=user.name, now=now).id)
    return frozen


def _matching(session: Session, req: DisclosureRequest, accounts: bool = True) -> list[Snapshot]:
    """Snapshots in the request's scope: by account or identifier, posted (else frozen) in the date range."""
    scope = req.scope or {}
    match = _in_scope(scope, Snapshot.account_key if accounts else None, Snapshot.id,
                      select(SnapshotIdentifier.snapshot_id), SnapshotIdentifier)
    if match is None:
        return []
    stmt = select(Snapshot).where(match)
    d0, d1 = _range(scope)
    when = Snapshot.posted_at
    if d0:
        stmt = stmt.where(or_(when >= d0, and_(when.is_(None), Snapshot.created_at >= d0)))
    if d1:
        stmt = stmt.where(or_(when < d1, and_(when.is_(None), Snapshot.created_at < d1)))
    return list(session.scalars(stmt.order_by(Snapshot.seq)))


def approved_snapshot_ids(session: Session, req: DisclosureRequest) -> list[int] | None:
    """The snapshots the approval covered, as its custody entry records them; None before approval.
    A request approved before the list was recorded: the snapshots in scope frozen by its approval."""
    if req.state not in ("approved", "exported"):
        return None
    approved = next((e for e in _custody(session, req) if e.get("action") == "approved"), None)
    ids = ((approved or {}).get("details") or {}).get("snapshots")
    if isinstance(ids, list):
        return [int(x) for x in ids]
    return [s.id for s in _matching(session, req) if req.decided_at is None or s.created_at <= req.decided_at]


def _scope_snapshots(session: Session, req: DisclosureRequest) -> tuple[list[Snapshot], list[int]]:
    """What an export of `req` holds: before approval everything its scope matches now; once approved
    only the snapshots the approval covered (an item frozen later needs a new request), minus any
    deleted since (returned second)."""
    ids = approved_snapshot_ids(session, req)
    if ids is None:
        return _matching(session, req), []
    snaps = list(session.scalars(select(Snapshot).where(Snapshot.id.in_(ids)).order_by(Snapshot.seq))) if ids else []
    present = {s.id for s in snaps}
    return snaps, [i for i in ids if i not in present]


def matching_snapshots(session: Session, user: User, request_id: int) -> list[Snapshot]:
    """The snapshots a request covers (approved: those its approval fixed); the look is audited."""
    _need(user, EXPORT_ROLES, "listing a request's snapshots")
    req = _get(session, request_id)
    snaps, _ = _scope_snapshots(session, req)
    audit.append(session, user.name, "request.view", f"request:{req.id}", {"snapshots": [s.id for s in snaps]})
    return snaps


def request_dict(req: DisclosureRequest) -> dict[str, Any]:
    return {"id": str(req.id), "agency": req.agency, "legal_basis": req.legal_basis, "reference": req.reference,
            "scope": readable_scope(req.scope or {}), "emergency": req.emergency, "emergency_reason": req.emergency_reason,
            "due_date": req.due_date.isoformat() if req.due_date else None, "state": req.state,
            "note": req.note, "created_by": req.created_by, "created_at": req.created_at.isoformat(),
            "approved_by": req.decided_by if req.state in ("approved", "exported") else None,
            "decided_by": req.decided_by, "decided_at": req.decided_at.isoformat() if req.decided_at else None,
            "decision_note": req.decision_note, "exports": req.exports,
            "exported_at": req.exported_at.isoformat() if req.exported_at else None}


def custody_of(session: Session, request_id: int) -> list[dict[str, Any]]:
    return _custody(session, _get(session, request_id))


def _chain_run(session: Session, snaps: list[Snapshot]) -> list[dict[str, Any]]:
    if not snaps:
        return []
    lo, hi = min(s.seq for s in snaps), max(s.seq for s in snaps)
    return [{"seq": link.seq, "digest": link.digest, "prev": link.prev} for link in session.scalars(
        select(ChainLink).where(ChainLink.seq >= lo, ChainLink.seq <= hi).order_by(ChainLink.seq))]


def export_request(session: Session, user: User, request_id: int, now: datetime | None = None,
                   signer: Signer | None = None, unsigned: bool = False) -> Package:
    """The ZIP for an approved request, signed with `signer` (default: the key $PLUGWATCH_SIGNING_KEY_FILE
    names; none is an error unless unsigned=True); logged in custody and audit with the package's SHA-256."""
    _need(user, EXPORT_ROLES, "exporting a disclosure package")
    now = (now or utcnow()).replace(microsecond=0)
    if signer is None and not unsigned:
        signer = load_signer()  # before any work: no key, no export
    req = _get(session, request_id, lock=True)  # exports of one request are logged one after the other
    if req.state not in ("approved", "exported"):
        raise EvidenceError(f"request {req.id} is {req.state}: only an approved request can be exported")
    snaps, gone = _scope_snapshots(session, req)  # the scope as approved, never what was frozen since
    chain = _chain_run(session, snaps)
    problems, files = _integrity_problems(session, snaps, chain)
    if problems:  # never sign evidence that no longer matches what was frozen
        raise TamperedEvidence(problems, f"request {req.id} not exported: stored evidence fails its integrity check")
    packed = [PackedSnapshot(str(s.id), s.manifest, files[s.id]) for s in snaps]  # the files just checked
    # `note` is the legal team's own (`request create --note`): the package goes to the agency
    request_info = {k: v for k, v in request_dict(req).items() if k not in ("state", "exports", "exported_at", "note")}
    pkg = build_package(request=request_info, snapshots=packed, chain=chain,
                        custody=_custody(session, req), exported_by=user.name, exported_role=user.role,
                        exported_at=now, signer=signer)
    pkg.deleted_since_approval = gone
    e = pkg.export_entry
    session.add(CustodyEvent(request_id=req.id, seq=e["seq"], entry=e, hash=e["hash"]))
    req.state, req.exported_at, req.exports = "exported", now, (req.exports or 0) + 1
    audit.append(session, user.name, "request.export", f"request:{req.id}",
                 {"snapshots": [s.id for s in snaps], **({"deleted_since_approval": gone} if gone else {}),
                  "package_sha256": pkg.sha256,
                  "manifest_sha256": pkg.manifest_sha256, "bytes": len(pkg.data), "signing_key": pkg.signed_by},
                 at=now)
    session.flush()
    return pkg


def _integrity_problems(session: Session, snaps: list[Snapshot],
                        chain: list[dict[str, Any]]) -> tuple[list[tuple[str, str]], dict[int, dict[str, bytes]]]:
    """What `evidence check` would find wrong with these snapshots and the chain run between them, and
    each snapshot's files as read for the check."""
    by_seq = {link["seq"]: link for link in chain}
    problems = check_links(chain)
    files: dict[int, dict[str, bytes]] = {}
    for snap in snaps:
        found, files[snap.id] = checked_files(session, snap, by_seq.get(snap.seq))
        problems += found
    return problems, files


def record_refused_export(session: Session, actor: str, request_id: int, problems: list[tuple[str, str]]) -> None:
    """Audit an export refused because stored evidence failed its check (in a transaction of its own:
    the refused export's own transaction is rolled back)."""
    audit.append(session, actor, "request.export_refused", f"request:{request_id}",
                 {"problems": [f"{where}: {what}" for where, what in problems[:50]], "count": len(problems)})


def recorded_export(session: Session, package_sha256: str) -> AuditEntry | None:
    """The audit entry of the export that produced the package with this SHA-256, if this database made it."""
    for entry in session.scalars(select(AuditEntry).where(AuditEntry.action == "request.export")
                                 .order_by(AuditEntry.seq)):
        if (entry.details or {}).get("package_sha256") == package_sha256:
            return entry
    return None


def list_requests(session: Session, user: User) -> list[DisclosureRequest]:
    """Every request, open ones first; the look is audited here, so the command line's is as the API's."""
    _need(user, EXPORT_ROLES, "listing disclosure requests")
    rows = list(session.scalars(select(DisclosureRequest).order_by(
        DisclosureRequest.state.in_(("exported", "rejected")), DisclosureRequest.emergency.desc(),
        DisclosureRequest.due_date.is_(None), DisclosureRequest.due_date, DisclosureRequest.id)))
    audit.append(session, user.name, "request.list", "requests", {"count": len(rows)})
    return rows
