"""Privacy by design: canonical identifiers and keyed pseudonyms.

Identifiers are stored in one canonical form (see plugwatch.text.identifiers), so the same phone
or wallet written two ways is one row. For analytics and sharing they are replaced by a keyed
hash: HMAC-SHA256 over "type\\x1fcanonical" with a secret key that lives in a file outside the
database (env PLUGWATCH_PSEUDONYM_KEY_FILE or --key-file). Without the key a pseudonym cannot be
reversed by hashing guesses (phone numbers are too few for a plain hash to hide them); with it,
two parties that share the key can match indicators without exchanging the values.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from plugwatch.errors import UserError

KEY_ENV = "PLUGWATCH_PSEUDONYM_KEY_FILE"
MIN_KEY_BYTES = 32
PREFIX = "hmac-sha256:"


def load_key(path: str | Path | None = None) -> bytes:
    """The pseudonymisation key from `path`, else from the file named by $PLUGWATCH_PSEUDONYM_KEY_FILE.

    The file holds 64 hex characters (what `plugwatch privacy keygen` writes) or at least 32 raw bytes.
    """
    where = path or os.environ.get(KEY_ENV)
    if not where:
        raise UserError(f"no pseudonymisation key: give --key-file PATH or set {KEY_ENV} "
                        "(create one with `plugwatch privacy keygen PATH`)")
    p = Path(where).expanduser()
    try:
        data = p.read_bytes()
    except OSError as e:
        raise UserError(f"{p}: cannot read the pseudonymisation key ({e.strerror})") from None
    text = data.strip()
    try:
        key = bytes.fromhex(text.decode("ascii")) if text and len(text) % 2 == 0 else data
    except (UnicodeDecodeError, ValueError):
        key = data
    if len(key) < MIN_KEY_BYTES:
        raise UserError(f"{p}: the key is {len(key)} bytes; it needs at least {MIN_KEY_BYTES} "
                        "(64 hex characters)")
    return key


def optional_key() -> bytes | None:
    """The key when $PLUGWATCH_PSEUDONYM_KEY_FILE is set (a file that cannot be read is an error, as
    for load_key), else None: reporter identities that expire are then removed, not pseudonymised."""
    return load_key() if os.environ.get(KEY_ENV) else None


def generate_key(path: str | Path) -> Path:
    """Write a new random key readable by the owner only; never overwrites an existing key."""
    from plugwatch.keyfiles import create_new

    return create_new(path, (secrets.token_hex(MIN_KEY_BYTES) + "\n").encode(), "key",
                      "a new key would change every pseudonym")


def pseudonymise(type: str, canonical: str, key: bytes) -> str:
    """Stable keyed pseudonym of one identifier: `hmac-sha256:` + 64 hex characters."""
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"pseudonymisation key too short ({len(key)} bytes, need {MIN_KEY_BYTES})")
    message = f"{type}\x1f{canonical}".encode()
    return PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()


def pseudonymise_account(account_key: str, key: bytes) -> str:
    return pseudonymise("account", account_key.lower(), key)
