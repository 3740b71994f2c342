"""Who is asking, and may they: sign-in, API tokens, sessions, roles and CSRF.

Machines send `Authorization: Bearer TOKEN`. People sign in on the web pages with name and password
(or their token) and get a signed `pw_session` cookie (HttpOnly, SameSite=Lax, 12 hours). Unsafe
requests (POST, PUT, PATCH, DELETE) authenticated by that cookie must carry the CSRF token (form field
`csrf_token` or header `X-CSRF-Token`); `current_user` checks it, so no route can forget. Token
requests need no CSRF token: a browser never adds an Authorization header on its own.

The signing key is `PLUGWATCH_SECRET` when set (use it when several servers share a database),
otherwise a random key made on first start and kept in the database's `settings` table.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from plugwatch.service.permissions import roles_for
from plugwatch.store.schema import MACHINE_ROLES, Setting, User
from plugwatch.store.users import check_password, find_by_token, get_user, hash_password, token_digest  # noqa: F401

COOKIE = "pw_session"
SESSION_SECONDS = 12 * 3600
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SECRET_SETTING = "session_secret"
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))  # equal work for unknown names: no user probing


def authenticate(session, name: str, secret: str) -> User | None:
    """The active user with this name whose password or API token is `secret`."""
    user = get_user(session, name)
    if user is None or not user.active:
        check_password(secret, _DUMMY_HASH)
        return None
    if user.token_hash and hmac.compare_digest(user.token_hash, token_digest(secret)):
        return user
    return user if check_password(secret, user.password_hash) else None


def load_secret(store) -> bytes:
    env = os.environ.get("PLUGWATCH_SECRET")
    if env:
        return env.encode()
    with store.session() as s:
        row = s.get(Setting, SECRET_SETTING)
        if row is None:
            row = Setting(key=SECRET_SETTING, value=secrets.token_urlsafe(48))
            s.add(row)
        return row.value.encode()


def _secret(request: Request) -> bytes:
    return request.app.state.secret


def _sign(key: bytes, payload: str) -> str:
    mac = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _session_value(key: bytes, user: User, now: float | None = None) -> str:
    expires = int((now or time.time()) + SESSION_SECONDS)
    payload = f"{user.id}.{expires}.{secrets.token_urlsafe(12)}"
    return f"{payload}.{_sign(key, payload)}"


def _read_session(key: bytes, value: str) -> int | None:
    """The user id in a valid, unexpired cookie value."""
    try:
        uid, expires, nonce, mac = value.split(".")
        if not hmac.compare_digest(mac, _sign(key, f"{uid}.{expires}.{nonce}")) or int(expires) < time.time():
            return None
        return int(uid)
    except ValueError:
        return None


def start_session(response: Response, user: User, request: Request | None = None, key: bytes | None = None) -> str:
    """Set the session cookie; returns its value (its CSRF token is `csrf_for(value)`)."""
    if user.role in MACHINE_ROLES:
        raise HTTPException(403, "machine users sign in with their token, not on the web pages")
    key = key or _secret(request)
    value = _session_value(key, user)
    secure = request is not None and request.url.scheme == "https"
    response.set_cookie(COOKIE, value, max_age=SESSION_SECONDS, httponly=True, samesite="lax", secure=secure,
                        path="/")
    if request is not None:
        request.state.session_cookie = value  # so a page rendered in this response gets the new CSRF token
    return value


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


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


def _load_user(store, user_id: int | None = None, token: str | None = None) -> User | None:
    with store.session() as s:
        if token is not None:
            return find_by_token(s, token)
        user = s.get(User, user_id)
        return user if user is not None and user.active else None


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
    uid = _read_session(_secret(request), value)
    user = await run_in_threadpool(_load_user, store, uid) if uid is not None else None
    if user is None or user.role in MACHINE_ROLES:
        return None  # expired or forged cookie, or a disabled user: treated as signed out
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
