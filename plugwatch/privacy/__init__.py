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

from plugwatch.commands.common import UserError

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


def generate_key(path: str | Path) -> Path:
    """Write a new random key readable by the owner only; never overwrites an existing key."""
    from plugwatch.privacy.keyfiles import create_new

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


def canonical_identifier(text: str, type: str | None = None) -> tuple[str, str]:
    """(type, canonical) for an identifier a person typed: `telegram:@Shop_1`, `+44 7911 123456`,
    `Bob.Smith+x@gmail.com`, `btc:1A1z...`, a URL. Raises UserError when it cannot be read."""
    from plugwatch.text import identifiers as ids
    from plugwatch.text.wallets import classify_address

    value = text.strip()
    if type is None and ":" in value and not value.lower().startswith(("http://", "https://", "mailto:")):
        head, _, rest = value.partition(":")
        if head.lower() in ids.HANDLE_TYPES or head.lower() in _EXTRA_TYPES:
            type, value = head.lower(), rest.strip()
    if type in ids.HANDLE_TYPES:
        return type, ids.canonical_handle(type, value.lstrip("@") if type != "cashapp" else value)[0]
    if type in ("wickr", "signal", "whatsapp", "session", "threema"):
        if type == "signal" and value.startswith("+") or type == "whatsapp" and value.startswith("+"):
            phone = ids.parse_phone(value, None)
            if phone:
                return type, f"{type}:{phone[0]}"
        name = value.lstrip("@")
        return type, f"{type}:{name.upper() if type == 'threema' else name.lower()}"
    if type in ("btc", "eth", "ltc", "tron", "xmr") or (type is None and len(value) >= 25 and value.isalnum()):
        found = classify_address(value)
        if found and (type is None or found[0] == type):
            return found[0], found[1]
        if type is not None:
            return type, f"{type}:{value.lower() if type == 'eth' else value}"
    if type in (None, "email") and "@" in value and not value.startswith("@"):
        local, _, domain = value.rpartition("@")
        if local and "." in domain:
            return "email", ids.canonical_email(local, domain)
    if type in (None, "phone") and value.lstrip("+").replace(" ", "").replace("-", "").replace("(", "").replace(
            ")", "").replace(".", "").isdigit():
        phone = ids.parse_phone(value if value.startswith("+") else "+" + value.lstrip("0"), None)
        if phone:
            return "phone", phone[0]
    found = [i for i in ids.extract_identifiers(value) if type is None or i.type == type]
    # A profile link names a handle: t.me/shop is telegram:shop before it is a URL or a domain.
    found.sort(key=lambda i: (i.type == "domain", i.type == "url", i.type == "phone"))
    if found:
        return found[0].type, found[0].canonical
    if type in (None, "url", "domain") and _looks_like_link(value):
        for kind, canonical, _ in ids.link_identifiers(value):
            if type is None or kind == type:
                return kind, canonical
    raise UserError(f"cannot read {text!r} as an identifier: write TYPE:VALUE, e.g. telegram:shop_1, "
                    "phone:+447911123456, email:bob@example.com, btc:1A1z...")


def _looks_like_link(value: str) -> bool:
    """A URL or a host name, not any word: link_identifiers would make `http://nonsense/` of a typo."""
    if any(c.isspace() for c in value):
        return False
    host = value.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return "." in host.strip(".") and not host.replace(".", "").replace("-", "").isdigit()


_EXTRA_TYPES = {"wickr", "signal", "whatsapp", "session", "threema", "phone", "email", "url", "domain",
                "btc", "eth", "ltc", "tron", "xmr", "zelle"}
