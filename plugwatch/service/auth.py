"""Who is asking, and may they: sign-in, API tokens, sessions, roles and CSRF.

Machines send `Authorization: Bearer TOKEN`. People sign in on the web pages with name and password
(or their token) and get a `pw_session` cookie (HttpOnly, SameSite=Lax, 12 hours; Secure over HTTPS
or when `PLUGWATCH_SECURE_COOKIES=1`). The cookie holds a random session id and its signature; the
session itself is a row in the database (only the id's hash), checked on every request, so signing
out, a new password, a new token or disabling the user ends it at once (plugwatch.store.users).
Unsafe requests (POST, PUT, PATCH, DELETE) authenticated by that cookie must carry the CSRF token
(form field `csrf_token` or header `X-CSRF-Token`); `current_user` checks it, so no route can forget.
Token requests need no CSRF token: a browser never adds an Authorization header on its own.

The signing key comes from plugwatch.service.keys: `PLUGWATCH_SECRET` or a key file, never the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from plugwatch.actions import roles_for
from plugwatch.store.schema import MACHINE_ROLES, User
from plugwatch.store.users import (
    check_password,
    close_session,
    find_by_token,
    get_user,
    hash_password,
    open_session,
    session_user,
    token_digest,
    token_live,
)

COOKIE = "pw_session"
SESSION_SECONDS = 12 * 3600
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))  # equal work for unknown names: no user probing


def authenticate(session, name: str, secret: str) -> User | None:
    """The active user with this name whose password or API token is `secret`."""
    user = get_user(session, name)
    if user is None or not user.active:
        check_password(secret, _DUMMY_HASH)
        return None
    if user.token_hash and hmac.compare_digest(user.token_hash, token_digest(secret)):
        return user if token_live(user) else None
    return user if check_password(secret, user.password_hash) else None


def _secret(request: Request) -> bytes:
    return request.app.state.secret


def _sign(key: bytes, payload: str) -> str:
    mac = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def cookie_value(key: bytes, sid: str) -> str:
    return f"{sid}.{_sign(key, 'session:' + sid)}"


def _session_id(key: bytes, value: str) -> str | None:
    """The session id of a cookie value signed with `key` (a forged or mangled cookie costs no
    database lookup)."""
    sid, _, mac = value.rpartition(".")
    if not sid or not hmac.compare_digest(mac, _sign(key, "session:" + sid)):
        return None
    return sid


def secure_cookies(request: Request) -> bool:
    """Mark cookies Secure: over HTTPS, or always when the service sits behind a TLS terminator
    (`plugwatch serve --secure-cookies`, `PLUGWATCH_SECURE_COOKIES=1`)."""
    return bool(getattr(request.app.state, "secure_cookies", False)) or request.url.scheme == "https"


def start_session(store, response: Response, user: User, request: Request) -> str:
    """Open a session for `user` and set its cookie; returns the cookie value (its CSRF token is
    `csrf_for(key, value)`). Runs a database write: call it from a worker thread."""
    if user.role in MACHINE_ROLES:
        raise HTTPException(403, "machine users sign in with their token, not on the web pages")
    with store.session() as s:
        sid = open_session(s, user, SESSION_SECONDS)
    value = cookie_value(_secret(request), sid)
    response.set_cookie(COOKIE, value, max_age=SESSION_SECONDS, httponly=True, samesite="lax",
                        secure=secure_cookies(request), path="/")
    request.state.session_cookie = value  # so a page rendered in this response gets the new CSRF token
    return value


def end_session(store, response: Response, request: Request) -> None:
    """Delete the caller's session (the cookie alone would stay valid until it expires) and the cookie."""
    sid = _session_id(_secret(request), request.cookies.get(COOKIE, ""))
    if sid:
        with store.session() as s:
            close_session(s, sid)
    response.delete_cookie(COOKIE, path="/", secure=secure_cookies(request), httponly=True, samesite="lax")


def csrf_for(key: bytes, session_value: str) -> str:
    return _sign(key, "csrf:" + session_value)


def csrf_token(request: Request) -> str:
    """The CSRF token for the caller's session (empty when not signed in by cookie)."""
    value = getattr(request.state, "session_cookie", None) or request.cookies.get(COOKIE)
    return csrf_for(_secret(request), value) if value else ""


@dataclass
class Caller:
    """The authenticated user and how: "token" or "cookie"."""

    user: User
    via: str


def _load_user(store, sid: str | None = None, token: str | None = None) -> User | None:
    with store.session() as s:
        if token is not None:
            return find_by_token(s, token)
        return session_user(s, sid)


async def _check_csrf(request: Request, session_value: str) -> None:
    sent = request.headers.get("x-csrf-token")
    if not sent and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # Starlette keeps it: the route reads the same parsed form
        field = form.get("csrf_token")
        sent = field if isinstance(field, str) else None
    if not sent or not hmac.compare_digest(sent, csrf_for(_secret(request), session_value)):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


async def optional_caller(request: Request) -> Caller | None:
    store = request.app.state.store
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(401, "Authorization must be `Bearer TOKEN`",
                                headers={"WWW-Authenticate": "Bearer"})
        user = await run_in_threadpool(_load_user, store, None, token.strip())
        if user is None:
            raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
        return Caller(user, "token")
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    sid = _session_id(_secret(request), value)
    user = await run_in_threadpool(_load_user, store, sid) if sid is not None else None
    if user is None or user.role in MACHINE_ROLES:
        return None  # forged cookie, ended or expired session, or a disabled user: treated as signed out
    if request.method in UNSAFE:
        await _check_csrf(request, value)
    return Caller(user, "cookie")


async def current_caller(caller: Annotated[Caller | None, Depends(optional_caller)]) -> Caller:
    if caller is None:
        raise HTTPException(401, "sign in or send `Authorization: Bearer TOKEN`",
                            headers={"WWW-Authenticate": "Bearer"})
    return caller


async def current_user(caller: Annotated[Caller, Depends(current_caller)]) -> User:
    return caller.user


def require(operation: str):
    """Dependency: the current user, if the permission table lets their role do `operation` (else 403)."""
    allowed = frozenset(roles_for(operation))

    async def dependency(user: Annotated[User, Depends(current_user)]) -> User:
        if user.role not in allowed:
            raise HTTPException(403, f"this needs the role {' or '.join(sorted(allowed))}; you are {user.role}")
        return user

    return dependency
