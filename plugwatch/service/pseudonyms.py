"""Account keys reviewers may see.

An account's key is `platform:handle`, or `platform:<native id>` when the export gave no handle
(Telegram exports never do: `telegram:user6120044871`; Bluesky's firehose gives a DID). Platform ids
are for `legal` and `admin` only, so everyone else sees such a key as a stable pseudonym,
`telegram:~<52 letters and digits>`: the key encrypted deterministically (AES-SIV) under a key
derived from the service's signing key. The same account always gets the same pseudonym, the API
takes it back (`GET /api/accounts/{pseudonym}`), and nothing is stored: a copy of the database holds
no pseudonym, and without the signing key a pseudonym tells nothing. Keys with a handle stay as they
are: the handle is what the platform shows everyone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from typing import Any

from Crypto.Cipher import AES
from sqlalchemy import or_, select

from plugwatch.store.schema import Account

MARK = "~"
KEY_FIELDS = frozenset({"key", "account_key", "group_key"})  # where views carry account keys


class AccountPseudonyms:
    def __init__(self, secret: bytes):
        # AES-256-SIV takes a 64-byte key; derived, so the signing key itself never encrypts anything.
        self._key = hmac.new(secret, b"plugwatch account pseudonyms v1", hashlib.sha512).digest()

    def pseudonym(self, account_key: str) -> str:
        platform = account_key.split(":", 1)[0]
        ciphertext, tag = AES.new(self._key, AES.MODE_SIV).encrypt_and_digest(account_key.encode())
        code = base64.b32encode(tag + ciphertext).decode().rstrip("=").lower()
        return f"{platform}:{MARK}{code}"

    def resolve(self, value: str) -> str | None:
        """The account key behind a pseudonym; None when `value` is not one of ours."""
        platform, sep, code = value.partition(":")
        if not sep or not code.startswith(MARK):
            return None
        code = code[1:].upper()
        try:
            raw = base64.b32decode(code + "=" * (-len(code) % 8))
            key = AES.new(self._key, AES.MODE_SIV).decrypt_and_verify(raw[16:], raw[:16]).decode()
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return None
        return key if key.split(":", 1)[0] == platform else None


def is_pseudonym(value: str) -> bool:
    return f":{MARK}" in value


def keys_in(view: Any) -> set[str]:
    """Every account key a view (an item view, a queue, an account view) carries."""
    found: set[str] = set()
    stack = [view]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for k, v in value.items():
                if k in KEY_FIELDS and isinstance(v, str):
                    found.add(v)
                elif isinstance(v, dict | list):
                    stack.append(v)
        elif isinstance(value, list):
            stack.extend(v for v in value if isinstance(v, dict | list))
    return found


def keys_without_handle(session, keys: Iterable[str]) -> set[str]:
    """The keys among `keys` of accounts known only by their platform id."""
    keys = sorted(set(keys))
    out: set[str] = set()
    for i in range(0, len(keys), 500):
        out.update(session.scalars(select(Account.key).where(
            Account.key.in_(keys[i:i + 500]), or_(Account.handle.is_(None), Account.handle == ""))))
    return out


def replace_keys(view: Any, mapping: dict[str, str]) -> Any:
    """A copy of `view` with every account key in `mapping` replaced by its pseudonym."""
    if not mapping:
        return view
    if isinstance(view, dict):
        return {k: (mapping.get(v, v) if k in KEY_FIELDS and isinstance(v, str) else replace_keys(v, mapping))
                for k, v in view.items()}
    if isinstance(view, list):
        return [replace_keys(v, mapping) for v in view]
    return view
