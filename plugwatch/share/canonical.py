"""Canonical forms for identifiers that arrive from partners, so they compare with ours.

A partner's clear value may be written differently ("+1 (555) 201-3344", "@PlugShop"): it is put
through the same rules plugwatch.text.identifiers applies to text. Hashes cannot be re-canonicalised,
which is why hashing.py hashes the canonical form on both sides.
"""

from __future__ import annotations

from plugwatch.share import stix
from plugwatch.text import identifiers as ids
from plugwatch.text import wallets


def canonical_form(identifier_type: str, value: str) -> str | None:
    """Our canonical form of `value` as an identifier of `identifier_type`, or None if it is not one."""
    value = value.strip()
    if not value:
        return None
    if identifier_type == "phone":
        phone = ids.parse_phone(value if value.startswith("+") else "+" + value.lstrip("0"), None)
        return phone[0] if phone else None
    if identifier_type in stix.WALLET_TYPES:
        address = stix.split_canonical(identifier_type, value)
        found = wallets.classify_address(address)
        if found is not None and found[0] == identifier_type:
            return found[1]
        return f"{identifier_type}:{address.lower() if identifier_type == 'eth' else address}"
    if identifier_type in ("url", "domain"):
        for kind, canonical, _ in ids.link_identifiers(value):
            if kind == identifier_type:
                return canonical
        return value.lower() if identifier_type == "domain" else None
    if identifier_type == "email":
        local, at, domain = value.rpartition("@")
        return ids.canonical_email(local, domain) if at and local and domain else None
    if identifier_type in stix.IMAGE_HASH_TYPES:
        return f"{identifier_type}:{stix.split_canonical(identifier_type, value).lower()}"
    if identifier_type in stix.HANDLE_TYPES:
        if "/" in value:  # a profile link (t.me/name, wa.me/...): the handle it names
            found = [i for i in ids.extract_identifiers(value) if i.type == identifier_type]
            return found[0].canonical if found else None
        name = stix.split_canonical(identifier_type, value)
        if identifier_type in ("whatsapp", "zelle") and name.lstrip("+").replace(" ", "").isdigit():
            phone = canonical_form("phone", name)
            return f"{identifier_type}:{phone}" if phone else None
        if identifier_type not in ("cashapp",):
            name = name.lstrip("@")
        return ids.canonical_handle(identifier_type, name)[0]
    return None
