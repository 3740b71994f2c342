"""People and machines that use the service, and their secrets.

Passwords are kept as scrypt hashes (stdlib, memory-hard); API tokens and browser session ids are
random 256-bit strings kept only as their SHA-256 (a token is already high-entropy, a slow hash would
add nothing), so a copy of the database gives none of them. Every change is written to the audit log.

API tokens expire (TOKEN_DAYS: 90 days for people, 365 for machines, whose connectors would otherwise
break unattended; `users token --days` chooses, 0 for never): a token copied into a script or a
leaked log stops working on its own. An expired token is refused like a wrong one.

Sessions live in the database so they can end: signing out deletes the browser's session, and a new
password, a new token or disabling the user deletes all of that user's sessions, effective at the
next request of every browser they were signed in on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from plugwatch.errors import UserError
from plugwatch.store import audit
from plugwatch.store.rules_tables import SYSTEM_USER
from plugwatch.store.schema import ALL_ROLES, MACHINE_ROLES, User, UserSession, utcnow

SCRYPT = {"n": 2**14, "r": 8, "p": 1}
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(want))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


TOKEN_DAYS = {"person": 90, "machine": 365}


def token_expiry(role: str, days: int | None = None, now: datetime | None = None) -> datetime | None:
    """When a token issued now for `role` stops working; `days` 0 means never."""
    if days is None:
        days = TOKEN_DAYS["machine" if role in MACHINE_ROLES else "person"]
    if days < 0 or days > 36_525:
        raise UserError("a token's lifetime is 0 (never expires) or a number of days up to 36525")
    return None if days == 0 else (now or utcnow()) + timedelta(days=days)


def token_live(user: User, now: datetime | None = None) -> bool:
    return user.token_expires_at is None or user.token_expires_at > (now or utcnow())


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_by_token(session: Session, token: str) -> User | None:
    user = session.scalars(select(User).where(User.token_hash == token_digest(token))).one_or_none()
    return user if user is not None and user.active and token_live(user) else None


def get_user(session: Session, name: str) -> User | None:
    return session.scalars(select(User).where(User.name == name)).one_or_none()


def _check_role(role: str) -> None:
    if role not in ALL_ROLES:
        raise UserError(f"unknown role {role!r}: choose one of {', '.join(ALL_ROLES)}")


def _not_system(name: str) -> None:
    # Policy rules act as the disabled reviewer `rules`, and every decision of a user by that name is
    # recorded as automated (notices, DSA statements): a person by that name, or a role, token or
    # password given to it, would make people's decisions "automated" and break the rules' actions.
    if name == SYSTEM_USER:
        raise UserError(f"{SYSTEM_USER!r} is the system user policy rules take automatic actions as: it cannot "
                        "be added, changed or signed in with; choose another name")


def add_user(session: Session, name: str, role: str, password: str | None = None, actor: str = "cli",
             token_days: int | None = None, system: bool = False) -> tuple[User, str]:
    """The new user and its API token (shown once: only its hash is kept). `system`: the rules' own user."""
    _check_role(role)
    if not name or len(name) > 80 or not set(name) <= NAME_CHARS:
        raise UserError(f"user name {name!r}: use 1-80 letters, digits and . _ - @")
    if not system:
        _not_system(name)
    if get_user(session, name) is not None:
        raise UserError(f"user {name!r} already exists (use `plugwatch users set-role` or `users token`)")
    if password is not None and role in MACHINE_ROLES:
        raise UserError(f"a {role!r} user is a machine: it signs in with its token only, not a password")
    if password is not None and len(password) < 10:
        raise UserError("a password needs at least 10 characters")
    token = new_token()
    expires = token_expiry(role, token_days)
    user = User(name=name, role=role, token_hash=token_digest(token), token_expires_at=expires,
                password_hash=hash_password(password) if password else None, active=True)
    session.add(user)
    session.flush()
    audit.append(session, actor, "user.add", f"user:{name}", {"role": role, "password": password is not None,
                                                               "token_expires": expires.isoformat() if expires else None})
    return user, token


def set_role(session: Session, name: str, role: str, actor: str = "cli") -> User:
    _check_role(role)
    _not_system(name)
    user = _existing(session, name)
    old, user.role = user.role, role
    audit.append(session, actor, "user.role", f"user:{name}", {"from": old, "to": role})
    return user


def set_active(session: Session, name: str, active: bool, actor: str = "cli") -> User:
    if active:
        _not_system(name)
    user = _existing(session, name)
    user.active = active
    if not active:
        revoke_sessions(session, user)
    audit.append(session, actor, "user.enable" if active else "user.disable", f"user:{name}", {})
    return user


def reset_token(session: Session, name: str, actor: str = "cli", days: int | None = None) -> str:
    _not_system(name)
    user = _existing(session, name)
    token = new_token()
    user.token_hash = token_digest(token)
    user.token_expires_at = token_expiry(user.role, days)
    revoke_sessions(session, user)  # a session signed in with the old token (or by whoever had it) ends
    audit.append(session, actor, "user.token", f"user:{name}",
                 {"expires": user.token_expires_at.isoformat() if user.token_expires_at else None})
    return token


def set_password(session: Session, name: str, password: str, actor: str = "cli") -> User:
    _not_system(name)
    user = _existing(session, name)
    if user.role in MACHINE_ROLES:
        raise UserError(f"{name!r} is a machine user ({user.role}): it has a token, not a password")
    if len(password) < 10:
        raise UserError("a password needs at least 10 characters")
    user.password_hash = hash_password(password)
    revoke_sessions(session, user)
    audit.append(session, actor, "user.password", f"user:{name}", {})
    return user


# -- browser sessions ------------------------------------------------------------------------------

def open_session(session: Session, user: User, seconds: int) -> str:
    """A new session for `user`, valid `seconds`; returns its id (shown once: only its hash is kept).
    Expired sessions of every user are cleared on the way."""
    now = utcnow()
    session.execute(delete(UserSession).where(UserSession.expires_at <= now))
    sid = new_token()
    session.add(UserSession(user_id=user.id, token_hash=token_digest(sid), created_at=now,
                            expires_at=now + timedelta(seconds=seconds)))
    session.flush()
    return sid


def session_user(session: Session, sid: str) -> User | None:
    """The active user of an unexpired session `sid`, else None."""
    return session.scalars(select(User).join(UserSession, UserSession.user_id == User.id).where(
        UserSession.token_hash == token_digest(sid), UserSession.expires_at > utcnow(),
        User.active.is_(True))).one_or_none()


def close_session(session: Session, sid: str) -> None:
    session.execute(delete(UserSession).where(UserSession.token_hash == token_digest(sid)))


def revoke_sessions(session: Session, user: User) -> int:
    """End every session of `user`; returns how many there were."""
    return session.execute(delete(UserSession).where(UserSession.user_id == user.id)).rowcount or 0


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def _existing(session: Session, name: str) -> User:
    user = get_user(session, name)
    if user is None:
        raise UserError(f"no user named {name!r} (see `plugwatch users list`)")
    return user
