"""Server-rendered review pages: sign-in, the queue, the item with its evidence, actions, appeals.

Plain HTML forms that post and redirect, so the core flow works without JavaScript; with it, the
vendored htmx swaps only the item panel and updates the queue and the statistics in place. Every
route checks the caller's role itself (and `optional_caller` checks the CSRF token of every unsafe
request signed in by cookie). Sign-in has its own double-submit token, since there is no session yet.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from plugwatch.actions import ACTIONS, POLICY_REASONS, reason_fits, reason_group, roles_for
from plugwatch.enforce.status import item_effects
from plugwatch.enforce.worker import retry
from plugwatch.network.generic import LINK_TYPES, is_linkable
from plugwatch.rules.stats import rule_stats
from plugwatch.service.auth import (
    authenticate,
    csrf_token,
    end_session,
    optional_caller,
    secure_cookies,
    start_session,
)
from plugwatch.service.highlight import Span, highlight, highlight_reasons, spans_from_reasons
from plugwatch.service.links import LinkPolicy, own_hosts
from plugwatch.service.pictures import picture_panels
from plugwatch.service.redaction import (
    audit_full_read,
    effects_for_role,
    note_effects_redacted,
    pseudonymise_keys,
    redact_item,
)
from plugwatch.service.throttle import client_address
from plugwatch.store import reports, review
from plugwatch.store.intake_state import intake_stats
from plugwatch.store.review import ReviewError
from plugwatch.store.schema import (
    MACHINE_ROLES,
    AccountIdentifier,
    Appeal,
    Decision,
    Identifier,
    Item,
    ReviewOpinion,
    ReviewTask,
    User,
)

router = APIRouter(include_in_schema=False)

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

# Who may open each page: plugwatch.actions.PERMISSIONS, the table the API uses too.
ANY_ROLE = roles_for("pages.use")
ITEM_ROLES = roles_for("items.read")
STATS_ROLES = roles_for("stats.read")
APPEAL_ROLES = roles_for("appeals.file")
REVIEW_ROLES = roles_for("queue.work")
RETRY_ROLES = roles_for("effects.retry")
LOGIN_COOKIE = "pw_login"
FLASH_COOKIE = "pw_flash"
PANEL = "item-panel"


ACTION_LIST = tuple(ACTIONS.values())  # buttons, in the order plugwatch.actions declares them
REASON_GROUP_TITLES = {"violation": "Violation", "none": "No violation", "escalation": "Unsure or severe"}


def reason_options() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(group, title, [(code, label)]) for the policy-reason select."""
    out = []
    for group, title in REASON_GROUP_TITLES.items():
        codes = [(c, label) for c, label in POLICY_REASONS.items() if reason_group(c) == group]
        if codes:
            out.append((group, title, codes))
    return out


def suggested_reason(item: dict[str, Any]) -> str:
    """A starting point from the detector's verdict; the reviewer confirms or changes it."""
    kind = item.get("offer_kind")
    if kind == "offer" and "drug_sale" in POLICY_REASONS:
        return "drug_sale"
    if kind == "request" and "drug_solicitation" in POLICY_REASONS:
        return "drug_solicitation"
    return ""


# -- template helpers ---------------------------------------------------------------------------

def _static_url(name: str) -> str:
    path = HERE / "static" / name
    try:
        version = int(path.stat().st_mtime)
    except OSError:
        version = 0
    return f"/static/{name}?v={version}"


def _when(value: str | datetime | None) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def fmt_time(value: str | datetime | None) -> str:
    dt = _when(value)
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if dt else "—"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s" if s < 600 else f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def fmt_ago(value: str | datetime | None) -> str:
    dt = _when(value)
    if dt is None:
        return "—"
    secs = (datetime.now(UTC) - dt).total_seconds()
    return "just now" if 0 <= secs < 30 else (f"{fmt_duration(secs)} ago" if secs > 0 else f"in {fmt_duration(-secs)}")


def fmt_pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def item_url(item_id: str, suffix: str = "") -> str:
    # Ids hold ":" and "/" (Bluesky at:// URIs): encode every one so paths never contain "//".
    return f"/items/{quote(item_id, safe='')}{suffix}"


templates.env.globals.update(static=_static_url, item_url=item_url, reason_group=reason_group)
templates.env.filters.update(when=fmt_time, ago=fmt_ago, duration=fmt_duration, pct=fmt_pct,
                             highlight=highlight_reasons)


# -- requests, callers and responses ------------------------------------------------------------

def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" and not request.headers.get("hx-history-restore-request")


def _wants_panel(request: Request) -> bool:
    return _htmx(request) and request.headers.get("hx-target") == PANEL


def _sign(request: Request, text: str) -> str:
    mac = hmac.new(request.app.state.secret, text.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def _flash(response: Response, request: Request, kind: str, text: str) -> None:
    """One message shown on the next page (after a redirect), in a short-lived signed cookie."""
    payload = base64.urlsafe_b64encode(json.dumps([kind, text[:500]]).encode()).decode()
    response.set_cookie(FLASH_COOKIE, f"{payload}.{_sign(request, 'flash:' + payload)}", max_age=60, httponly=True,
                        samesite="lax", path="/", secure=secure_cookies(request))


def _read_flashes(request: Request) -> list[tuple[str, str]]:
    value = request.cookies.get(FLASH_COOKIE)
    if not value:
        return []
    payload, _, mac = value.rpartition(".")
    if not hmac.compare_digest(mac, _sign(request, "flash:" + payload)):
        return []
    try:
        kind, text = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, TypeError):
        return []
    return [(kind if kind in ("ok", "error") else "ok", str(text))]


def render(request: Request, name: str, context: dict[str, Any], status: int = 200,
           flashes: list[tuple[str, str]] | None = None) -> HTMLResponse:
    """A template as a response; a whole page (not a `_fragment`) also shows and clears the flash cookie."""
    user = context.get("user")
    whole = not name.startswith("_")
    shown = (_read_flashes(request) if whole else []) + list(flashes or [])
    ctx = {"user": user, "csrf": csrf_token(request) if user else "", "flashes": shown,
           "actions": ACTION_LIST, "appeal_roles": APPEAL_ROLES, "review_roles": REVIEW_ROLES, "page": "", **context}
    response = HTMLResponse(templates.get_template(name).render(request=request, **ctx), status_code=status)
    if whole and FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/", secure=secure_cookies(request), httponly=True, samesite="lax")
    _protect(response, request)
    return response


def _protect(response: Response, request: Request) -> None:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "HX-Request, HX-Target, Cookie"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    # Scripts and styles only from this server; images only from here and the configured media hosts.
    media = _link_policy(request).img_sources()
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{' ' + media if media else ''}; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _link_policy(request: Request) -> LinkPolicy:
    return LinkPolicy(own_hosts(request), getattr(request.app.state, "media_hosts", ()))


def _redirect(url: str, request: Request, flash: tuple[str, str] | None = None) -> Response:
    """303 for plain forms; for htmx, HX-Redirect (an XHR would follow a 303 and swap the page into a panel)."""
    if _htmx(request):
        response: Response = Response(status_code=204, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    if flash:
        _flash(response, request, *flash)
    _protect(response, request)
    return response


def error_page(request: Request, status: int, message: str, user: User | None = None) -> HTMLResponse:
    if _htmx(request):
        # htmx swaps nothing on a 4xx: show the refusal where the reviewer is looking instead.
        response = render(request, "_panel.html", {"user": user, "panel": None}, flashes=[("error", message)])
        response.headers.update({"HX-Retarget": f"#{PANEL}", "HX-Reswap": "outerHTML"})
        return response
    return render(request, "error.html", {"user": user, "status": status, "message": message}, status=status)


async def guard(request: Request, roles: tuple[str, ...]) -> tuple[User | None, Response | None]:
    """The signed-in user if their role is in `roles`, else the response to send instead."""
    try:
        caller = await optional_caller(request)
    except HTTPException as e:  # bad bearer token or a missing/wrong CSRF token
        return None, error_page(request, e.status_code, str(e.detail))
    if caller is None:
        raw = request.scope.get("raw_path")  # as sent: ids stay percent-encoded
        path = raw.decode("latin-1") if raw else quote(request.url.path)
        target = path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = "/"
        return None, _redirect(f"/login?next={quote(target, safe='')}", request)
    if caller.user.role not in roles:
        return None, error_page(request, 403, f"This page needs the role {' or '.join(roles)}; you are "
                                              f"{caller.user.role}.", caller.user)
    return caller.user, None


def _safe_next(value: str | None) -> str:
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _store(request: Request):
    return request.app.state.store


async def _in_session(request: Request, fn):
    """fn(session) in one transaction, off the event loop (the store's calls block)."""
    def work():
        with _store(request).session() as s:
            return fn(s)

    return await run_in_threadpool(work)


# -- data for the templates ---------------------------------------------------------------------

def _stats(session) -> dict[str, Any]:
    """The queue's statistics and, per live connector, what it read, dropped, rejected and its lag."""
    return {**review.queue_stats(session), "intake": intake_stats(session)}


def _queue_data(store, user: User, pseudonyms) -> dict[str, Any]:
    with store.session() as s:
        groups = review.queue(s, user) if user.role in REVIEW_ROLES else None
        if groups:
            groups = pseudonymise_keys(s, groups, user.role, pseudonyms)
        stats = _stats(s) if user.role in STATS_ROLES else None
        rules = rule_stats(s) if user.role in STATS_ROLES else None
    return {"groups": groups, "stats": stats, "rules": rules}


def _guess_type(canonical: str) -> str:
    """The identifier type of a canonical form (the network view gives canonicals only)."""
    if "://" in canonical:
        return "url"
    prefix = canonical.split(":", 1)[0]
    if prefix in LINK_TYPES and ":" in canonical:
        return prefix
    if "@" in canonical:
        return "email"
    return "phone" if canonical.startswith("+") else "domain"


def linked_accounts(network: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Linked accounts without links through generic identifiers (t.co, linktr.ee, a platform's own
    domain): strangers share those. Returns the accounts kept and how many were dropped."""
    kept, dropped = [], 0
    for member in network:
        if member is None:
            continue
        shared = [c for c in member.get("shared") or [] if is_linkable(_guess_type(c), c)]
        if member.get("how") != "network" and not shared:
            dropped += 1
            continue
        kept.append({**member, "shared": shared})
    return kept, dropped


def _panel_data(store, user: User, item_id: str, request: Request) -> dict[str, Any]:
    pseudonyms, links = request.app.state.pseudonyms, _link_policy(request)
    with store.session() as s:
        reports.check_may_open(s, item_id, user.role)
        view = redact_item(review.item_view(s, item_id), user.role)
        view = pseudonymise_keys(s, view, user.role, pseudonyms)
        record = s.scalar(select(Item.record).where(Item.id == item_id)) or {}
        platform, hidden = effects_for_role(s, item_effects(s, item_id), item_id, user.role)
        note_effects_redacted(view, hidden)
        platform = pseudonymise_keys(s, platform, user.role, pseudonyms)
        user_reports = reports.item_summary(s, item_id)  # never who reported: see GET /api/reporters
        audit_full_read(s, user, "item", item_id, via="pages")
    view["network"], hidden_links = linked_accounts(view.get("network") or [])
    task = view.get("task")
    now = datetime.now(UTC)
    live = bool(task and task["state"] == "claimed" and (_when(task.get("claimed_until")) or now) >= now)
    mine = live and task["claimed_by"] == user.name
    media, other_media = picture_panels(record, view.get("reasons") or [], links)
    can_review = user.role in REVIEW_ROLES
    return {
        "view": view, "task": task, "mine": mine, "held_by_other": live and not mine,
        "can_claim": bool(can_review and task and task["state"] != "decided" and not live
                          and (not task.get("required_role") or user.role in (task["required_role"], "lead"))),
        "can_appeal": bool(user.role in APPEAL_ROLES and task and task["state"] == "decided"),
        "my_actions": [a for a in ACTION_LIST if user.role in a.roles],
        "reason_options": reason_options(), "suggested": suggested_reason(view["item"]),
        "media": media, "other_media": other_media, "hidden_links": hidden_links,
        "item_id": item_id, "tactics": _tactics(record), "item_link": links.link(view["item"].get("url")),
        "platform": platform, "can_retry": user.role in RETRY_ROLES, "reports": user_reports,
        **_bio_evidence(store, view),
    }


def _bio_evidence(store, view: dict[str, Any]) -> dict[str, Any]:
    """The identifiers in the author's bio, highlighted there with the bio's reasons and listed under
    Identifiers: ingest links seller networks through them (a `t.me/...` in a bio is a contact), so
    the reviewer must see them too. `links`: whether it ties the account (the networks' bio rule)."""
    account = view.get("account") or {}
    bio = account.get("bio")
    if not isinstance(bio, str) or not bio:
        return {"bio_html": None, "bio_identifiers": []}
    from plugwatch.network.accounts import bio_links
    from plugwatch.text.identifiers import extract_identifiers

    # Generic ones (t.me itself, every URL on a platform's domain) say nothing: the handle in them does.
    found = [i for i in extract_identifiers(bio) if is_linkable(i.type, i.canonical, i.valid)]
    linking = set(bio_links(account.get("platform") or "", bio))
    with store.session() as s:
        counts = dict(s.execute(
            select(Identifier.canonical, func.count(AccountIdentifier.account_key))
            .join(AccountIdentifier, AccountIdentifier.identifier_id == Identifier.id)
            .where(Identifier.canonical.in_(sorted({i.canonical for i in found}) or [""]))
            .group_by(Identifier.canonical)).all())
    spans = spans_from_reasons(view.get("reasons") or [], bio=True, text=bio)
    spans += [Span(i.start, i.end, f"{i.type} in the bio", "bio:identifier") for i in found if i.start >= 0]
    rows = [{"type": i.type, "value": i.value, "canonical": i.canonical, "valid": i.valid,
             "links": (i.type, i.canonical) in linking, "accounts": counts.get(i.canonical, 0)} for i in found]
    return {"bio_html": highlight(bio, spans), "bio_identifiers": rows}


def _tactics(record: dict[str, Any]) -> list[dict[str, str]]:
    """The trafficking techniques (plugwatch/data/tactics.json) the item shows, so a reviewer sees the
    pattern behind the evidence and the decision is recorded against it."""
    from plugwatch.detect.tactics import load_taxonomy, techniques_for_record

    taxonomy = load_taxonomy()
    found = [taxonomy.get(t) for t in techniques_for_record(record)] if record else []
    return [{"id": t.id, "name": t.name, "phase": t.phase} for t in found if t is not None]


async def _panel_or_page(request: Request, user: User, panel: dict[str, Any] | None,
                         flashes: list[tuple[str, str]] | None = None, status: int = 200,
                         headers: dict[str, str] | None = None) -> HTMLResponse:
    """The item panel alone (htmx) with the queue and statistics swapped out of band, or the whole page."""
    ctx = {"user": user, "page": "queue", "panel": panel, "current": panel["item_id"] if panel else None}
    if request.method == "GET" and _wants_panel(request):
        response = render(request, "_panel.html", ctx, flashes=flashes)
    elif _htmx(request) and request.method != "GET":
        ctx.update(await run_in_threadpool(_queue_data, _store(request), user, request.app.state.pseudonyms))
        response = render(request, "_oob.html", ctx, flashes=flashes)
    else:
        ctx.update(await run_in_threadpool(_queue_data, _store(request), user, request.app.state.pseudonyms))
        response = render(request, "queue.html", ctx, status=status, flashes=flashes)
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response


# -- sign-in ------------------------------------------------------------------------------------

def _login_page(request: Request, error: str = "", name: str = "", next_url: str = "/",
                status: int = 200) -> HTMLResponse:
    nonce = secrets.token_urlsafe(24)
    response = render(request, "login.html", {"error": error, "name": name, "next": next_url,
                                              "login_token": nonce}, status=status)
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, httponly=True, samesite="strict", path="/login",
                        secure=secure_cookies(request))
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/"):
    try:
        caller = await optional_caller(request)
    except HTTPException:
        caller = None
    if caller is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, next_url=_safe_next(next))


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request):
    form = await request.form()
    name = str(form.get("name") or "").strip()
    password = str(form.get("password") or "")
    next_url = _safe_next(str(form.get("next") or "/"))
    sent, expected = str(form.get("login_token") or ""), request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(sent, expected):
        return _login_page(request, "The sign-in form expired or came from elsewhere: please sign in again.",
                           name, next_url, 403)
    if not name or not password:
        return _login_page(request, "Enter your name and password.", name, next_url, 422)
    throttle, address = request.app.state.throttle, client_address(request)
    if wait := throttle.attempt(name, address):
        page = _login_page(request, f"Too many failed sign-ins: try again in {(wait + 59) // 60} minute(s).",
                           name, next_url, 429)
        page.headers["Retry-After"] = str(wait)
        return page

    def check() -> User | None:
        with _store(request).session() as s:
            return authenticate(s, name, password)

    user = await run_in_threadpool(check)
    if user is None:
        return _login_page(request, "Wrong name or password.", name, next_url, 401)
    throttle.succeeded(name, address)
    if user.role in MACHINE_ROLES:
        return _login_page(request, f"{name} is a machine user ({user.role}): it uses its token with the API, "
                                    "not the web pages.", name, next_url, 403)
    response = RedirectResponse(next_url, status_code=303)
    await run_in_threadpool(start_session, _store(request), response, user, request)
    response.delete_cookie(LOGIN_COOKIE, path="/login", secure=secure_cookies(request), httponly=True,
                           samesite="strict")
    _protect(response, request)
    return response


@router.post("/logout")
async def logout(request: Request):
    user, denied = await guard(request, ANY_ROLE)
    if denied:
        return denied
    response = RedirectResponse("/login", status_code=303)
    await run_in_threadpool(end_session, _store(request), response, request)
    _protect(response, request)
    return response


# -- queue and items ----------------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
async def queue_page(request: Request):
    user, denied = await guard(request, ANY_ROLE)
    if denied:
        return denied
    data = await run_in_threadpool(_queue_data, _store(request), user, request.app.state.pseudonyms)
    return render(request, "queue.html", {"user": user, "page": "queue", "panel": None, "current": None, **data})


@router.get("/fragments/stats", response_class=HTMLResponse)
async def stats_fragment(request: Request):
    user, denied = await guard(request, STATS_ROLES)
    if denied:
        return denied

    return render(request, "_stats.html", {"user": user, "stats": await _in_session(request, _stats)})


async def _act(request: Request, item_id: str, fn, done: str | None, user: User | None = None) -> Response:
    """Run a review step on one item: on success the item again (htmx) or a redirect (plain form);
    on a refused step the item with the reason shown. `user`: the caller, when already checked."""
    if user is None:
        user, denied = await guard(request, REVIEW_ROLES)
        if denied:
            return denied
    store = _store(request)
    try:
        message = await _in_session(request, lambda s: fn(s, user))
    except ReviewError as e:
        if e.status == 404:
            return error_page(request, 404, str(e), user)
        panel = await run_in_threadpool(_panel_data, store, user, item_id, request)
        return await _panel_or_page(request, user, panel, flashes=[("error", str(e))], status=e.status)
    if not _htmx(request):
        return _redirect(done or item_url(item_id), request, ("ok", message))
    panel = await run_in_threadpool(_panel_data, store, user, item_id, request)
    return await _panel_or_page(request, user, panel, flashes=[("ok", message)])


@router.post("/queue/next")
async def claim_next(request: Request):
    user, denied = await guard(request, REVIEW_ROLES)
    if denied:
        return denied
    store = _store(request)

    def next_item(s):
        task = review.claim_next(s, user)
        return task.item_id if task else None

    try:
        item_id = await _in_session(request, next_item)
    except ReviewError as e:
        return error_page(request, e.status, str(e), user)
    if item_id is None:
        if _htmx(request):
            return await _panel_or_page(request, user, None, flashes=[("ok", "Nothing left for you in the queue.")])
        return _redirect("/", request, ("ok", "Nothing left for you in the queue."))
    if not _htmx(request):
        return _redirect(item_url(item_id), request)
    panel = await run_in_threadpool(_panel_data, store, user, item_id, request)
    return await _panel_or_page(request, user, panel, headers={"HX-Push-Url": item_url(item_id)})


@router.post("/items/{item_id:path}/claim")
async def claim_item(request: Request, item_id: str):
    def fn(s, user):
        task = review.claim(s, user, item_id)
        return f"Claimed until {fmt_time(task.claimed_until)}."

    return await _act(request, item_id, fn, None)


@router.post("/items/{item_id:path}/release")
async def release_item(request: Request, item_id: str):
    def fn(s, user):
        review.release(s, user, item_id)
        return f"Released {item_id}."

    return await _act(request, item_id, fn, "/")


@router.post("/items/{item_id:path}/decide")
async def decide_item(request: Request, item_id: str):
    user, denied = await guard(request, REVIEW_ROLES)  # signed in and allowed before the form is read
    if denied:
        return denied
    form = await request.form()
    action = str(form.get("action") or "")
    reason = str(form.get("policy_reason") or "")
    note = str(form.get("note") or "")[:5000]

    def fn(s, user):
        spec = ACTIONS.get(action)
        if spec is None:
            raise ReviewError(f"Choose an action: one of {', '.join(ACTIONS)}.", 422)
        if reason not in POLICY_REASONS:
            raise ReviewError("Choose the policy reason for this decision.", 422)
        if not reason_fits(action, reason):
            raise ReviewError(f"The policy reason “{POLICY_REASONS[reason]}” does not fit the action "
                              f"“{spec.label}”.", 422)
        done = review.decide(s, user, item_id, action, reason, note)
        if isinstance(done, ReviewOpinion):  # a two-reviewer task: nothing happens yet
            return (f"{item_id}: your opinion ({spec.label.lower()}) is recorded; it needs two reviewers, so "
                    "nothing is done until a second reviewer agrees (or a lead decides).")
        return f"{item_id}: {spec.done} ({POLICY_REASONS[reason]})."

    return await _act(request, item_id, fn, "/", user)


@router.post("/items/{item_id:path}/effects/{effect_id}/retry")
async def retry_effect(request: Request, item_id: str, effect_id: int):
    """A lead sends a failed or dead platform effect again (or releases a held one)."""
    user, denied = await guard(request, RETRY_ROLES)
    if denied:
        return denied

    def fn(s, user):
        row = retry(s, effect_id, user.name)
        if row.item_id != item_id:
            raise ReviewError(f"effect {effect_id} is not about {item_id}", 404)
        return f"Effect {effect_id} ({row.backend}: {row.effect}) queued again."

    return await _act(request, item_id, fn, None, user)


@router.get("/items/{item_id:path}", response_class=HTMLResponse)
async def item_page(request: Request, item_id: str):
    user, denied = await guard(request, ITEM_ROLES)
    if denied:
        return denied
    try:
        panel = await run_in_threadpool(_panel_data, _store(request), user, item_id, request)
    except ReviewError as e:
        return error_page(request, e.status, str(e), user)
    return await _panel_or_page(request, user, panel)


# -- appeals ------------------------------------------------------------------------------------

def _appeals_data(store) -> dict[str, Any]:
    with store.session() as s:
        names = dict(s.execute(select(User.id, User.name)).all())
        rows = s.execute(select(Appeal, Decision).join(Decision, Decision.id == Appeal.decision_id)
                         .order_by(Appeal.state != "open", Appeal.id.desc()).limit(200)).all()
    appeals = [{"id": a.id, "item_id": a.item_id, "state": a.state, "reason": a.reason, "filed_by": a.filed_by,
                "created_at": a.created_at, "decided_at": a.decided_at,
                "reviewer": names.get(a.reviewer_id) if a.reviewer_id else None,
                "original": {"action": d.action, "policy_reason": d.policy_reason,
                             "reviewer": names.get(d.reviewer_id)}} for a, d in rows]
    return {"open": [a for a in appeals if a["state"] == "open"],
            "closed": [a for a in appeals if a["state"] != "open"]}


@router.get("/appeals", response_class=HTMLResponse)
async def appeals_page(request: Request, item: str = ""):
    user, denied = await guard(request, APPEAL_ROLES)
    if denied:
        return denied
    data = await run_in_threadpool(_appeals_data, _store(request))
    return render(request, "appeals.html", {"user": user, "page": "appeals", "item": item, **data})


@router.post("/appeals")
async def file_appeal(request: Request):
    user, denied = await guard(request, APPEAL_ROLES)
    if denied:
        return denied
    form = await request.form()
    item_id = str(form.get("item_id") or "").strip()
    reason = str(form.get("reason") or "").strip()[:5000]

    try:
        if not item_id:
            raise ReviewError("Give the id of the decided item.", 422)
        def filed(s):
            review.file_appeal(s, item_id, reason, user.name)
            return s.scalar(select(ReviewTask.required_role).where(ReviewTask.item_id == item_id))

        decider = await _in_session(request, filed) or "reviewer"
    except ReviewError as e:
        data = await run_in_threadpool(_appeals_data, _store(request))
        return render(request, "appeals.html", {"user": user, "page": "appeals", "item": item_id,
                                                "reason": reason, **data},
                      status=e.status, flashes=[("error", str(e))])
    return _redirect("/appeals", request, ("ok", f"Appeal recorded: {item_id} is back in the queue for "
                                                 f"a different {decider}."))
