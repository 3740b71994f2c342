"""People and machines that use the service, and their secrets.

Passwords are kept as scrypt hashes (stdlib, memory-hard); API tokens are random 256-bit strings
kept only as their SHA-256 (a token is already high-entropy, a slow hash would add nothing), so a
copy of the database gives neither. Every change is written to the audit log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugwatch.errors import UserError
from plugwatch.store import audit
from plugwatch.store.schema import ALL_ROLES, MACHINE_ROLES, User

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


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_by_token(session: Session, token: str) -> User | None:
    user = session.scalars(select(User).where(User.token_hash == token_digest(token))).one_or_none()
    return user if user is not None and user.active else None


def get_user(session: Session, name: str) -> User | None:
    return session.scalars(select(User).where(User.name == name)).one_or_none()


def _check_role(role: str) -> None:
    if role not in ALL_ROLES:
        raise UserError(f"unknown role {role!r}: choose one of {', '.join(ALL_ROLES)}")


def add_user(session: Session, name: str, role: str, password: str | None = None, actor: str = "cli") -> tuple[User, str]:
    """The new user and its API token (shown once: only its hash is kept)."""
    _check_role(role)
    if not name or len(name) > 80 or not set(name) <= NAME_CHARS:
        raise UserError(f"user name {name!r}: use 1-80 letters, digits and . _ - @")
    if get_user(session, name) is not None:
        raise UserError(f"user {name!r} already exists (use `plugwatch users set-role` or `users token`)")
    if password is not None and role in MACHINE_ROLES:
        raise UserError(f"a {role!r} user is a machine: it signs in with its token only, not a password")
    if password is not None and len(password) < 10:
        raise UserError("a password needs at least 10 characters")
    token = new_token()
    user = User(name=name, role=role, token_hash=token_digest(token),
                password_hash=hash_password(password) if password else None, active=True)
    session.add(user)
    session.flush()
    audit.append(session, actor, "user.add", f"user:{name}", {"role": role, "password": password is not None})
    return user, token


def set_role(session: Session, name: str, role: str, actor: str = "cli") -> User:
    _check_role(role)
    user = _existing(session, name)
    old, user.role = user.role, role
    audit.append(session, actor, "user.role", f"user:{name}", {"from": old, "to": role})
    return user


def set_active(session: Session, name: str, active: bool, actor: str = "cli") -> User:
    user = _existing(session, name)
    user.active = active
    audit.append(session, actor, "user.enable" if active else "user.disable", f"user:{name}", {})
    return user


def reset_token(session: Session, name: str, actor: str = "cli") -> str:
    user = _existing(session, name)
    token = new_token()
    user.token_hash = token_digest(token)
    audit.append(session, actor, "user.token", f"user:{name}", {})
    return token


def set_password(session: Session, name: str, password: str, actor: str = "cli") -> User:
    user = _existing(session, name)
    if user.role in MACHINE_ROLES:
        raise UserError(f"{name!r} is a machine user ({user.role}): it has a token, not a password")
    if len(password) < 10:
        raise UserError("a password needs at least 10 characters")
    user.password_hash = hash_password(password)
    audit.append(session, actor, "user.password", f"user:{name}", {})
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def _existing(session: Session, name: str) -> User:
    user = get_user(session, name)
    if user is None:
        raise UserError(f"no user named {name!r} (see `plugwatch users list`)")
    return user
