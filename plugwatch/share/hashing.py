"""Salted identifier hashes, so partners can match identifiers without seeing the ones they lack.

    hash = HMAC-SHA256(key=salt, message=UTF-8("<type>:<canonical>"))  as lower-case hex

`type` and `canonical` are plugwatch's identifier type and canonical form
(plugwatch.text.identifiers): both sides must canonicalise the same way, which is why the
canonical form, not the text as written, goes in. One salt per partner, agreed out of band;
`salt_id` (the first 16 hex digits of SHA-256 over "plugwatch-salt-id:" + salt) travels with a
bundle so the receiver can tell it holds the right salt without the salt being sent.

Limit: a partner who holds the salt can hash guesses. Identifiers with few possible values (phone
numbers above all) can be recovered that way by a partner who tries hard enough; the hash protects
against third parties and casual disclosure, not against a partner determined to enumerate.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from plugwatch.keyfiles import write_private

ALGORITHM = "HMAC-SHA256"
MIN_SALT_BYTES = 16


class SaltError(ValueError):
    """A salt file that is missing, unreadable or too short."""


def new_salt() -> bytes:
    return secrets.token_bytes(32)


def identifier_hash(salt: bytes, identifier_type: str, canonical: str) -> str:
    return hmac.new(salt, f"{identifier_type}:{canonical}".encode(), hashlib.sha256).hexdigest()


def salt_id(salt: bytes) -> str:
    return hashlib.sha256(b"plugwatch-salt-id:" + salt).hexdigest()[:16]


def parse_salt(text: str, where: str = "salt") -> bytes:
    """A salt written as hex (the form `new_salt` files use) or, failing that, as plain text."""
    text = text.strip()
    if not text:
        raise SaltError(f"{where}: empty salt")
    try:
        salt = bytes.fromhex(text)
    except ValueError:
        salt = text.encode()
    if len(salt) < MIN_SALT_BYTES:
        raise SaltError(f"{where}: salt is {len(salt)} bytes; use at least {MIN_SALT_BYTES} "
                        "(e.g. 64 hex digits from `plugwatch share salt`)")
    return salt


def read_salt(path: str | os.PathLike[str]) -> bytes:
    path = Path(path)
    try:
        return parse_salt(path.read_text(encoding="utf-8"), str(path))
    except FileNotFoundError:
        raise SaltError(f"{path}: salt file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SaltError(f"{path}: cannot read salt file ({e})") from None


def write_salt(path: str | os.PathLike[str], salt: bytes) -> None:
    """Write a salt readable by its owner only, also when it replaces a file that was readable by others
    (opening an existing file keeps its mode)."""
    write_private(Path(path), (salt.hex() + "\n").encode("ascii"))
