"""Identifier types, declared once: what each is, how its canonical form is made, what it may do.

In the manner of python-threatexchange's SignalType: every stage asks this table rather than keep its
own list. Signals read `family` (the model's `id:` features) and `label`; networks read
`links_accounts` and `destination`; sharing reads `shareable` and `stix`; privacy, partners' feeds and
watch lists canonicalise through `canonical_form`, so a value typed by a person or sent by a partner
compares equal with the same identifier found in a post.

A new type is one `IdentifierType(...)` line in `TYPES` (plus, if posts can contain it, a pass in
`text/identifiers.py` that finds it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from plugwatch.errors import UserError
from plugwatch.text import identifiers as ids
from plugwatch.text.wallets import classify_address


class Family(StrEnum):
    CONTACT = "contact"  # a messenger or social handle given to be contacted on
    PAYMENT = "payment"  # a payment-app handle
    WALLET = "wallet"  # a cryptocurrency address
    PHONE = "phone"
    EMAIL = "email"
    URL = "url"
    DOMAIN = "domain"
    IMAGE_HASH = "image_hash"  # a perceptual hash of a picture (PDQ)


# STIX objects the types are shared as (share/stix.py defines the three plugwatch extensions).
STIX_HANDLE, STIX_WALLET, STIX_PHONE = "x-plugwatch-contact-handle", "x-plugwatch-crypto-wallet", "x-plugwatch-phone-number"


@dataclass(frozen=True)
class IdentifierType:
    name: str
    family: Family
    label: str  # what a reviewer reads beside it
    canonicalise: Callable[[str, str], str | None]  # (type name, value as written) -> canonical form or None
    links_accounts: bool = True  # two accounts holding it may be one seller (networks)
    shareable: bool = True  # may go to partners as an indicator
    stix: str = ""  # the STIX object it is shared as
    destination: str | None = None  # where an offer naming it sends buyers (displacement), if anywhere


def value_part(type_name: str, canonical: str) -> str:
    """The value of canonical forms that carry their type as a prefix ("btc:bc1...", "telegram:name")."""
    prefix = f"{type_name}:"
    return canonical[len(prefix):] if canonical.startswith(prefix) else canonical


def _phone(_: str, value: str) -> str | None:
    phone = ids.parse_phone(value if value.startswith("+") else "+" + value.lstrip("0"), None)
    return phone[0] if phone else None


def _national(type_name: str, value: str) -> str | None:
    digits = "".join(c for c in value_part(type_name, value) if c.isdigit())
    return f"{type_name}:{digits}" if ids.NATIONAL_DIGITS[0] <= len(digits) <= ids.NATIONAL_DIGITS[1] else None


def _wallet(type_name: str, value: str) -> str | None:
    address = value_part(type_name, value)
    found = classify_address(address)
    if found is not None and found[0] == type_name:
        return found[1]
    return f"{type_name}:{address.lower() if type_name == 'eth' else address}"


def _web(type_name: str, value: str) -> str | None:
    if not _looks_like_link(value):
        return None
    for kind, canonical, _ in ids.link_identifiers(value):
        if kind == type_name:
            return canonical
    return value.lower() if type_name == "domain" else None


def _email(_: str, value: str) -> str | None:
    local, at, domain = value.rpartition("@")
    return ids.canonical_email(local, domain) if at and local and domain else None


def _image_hash(type_name: str, value: str) -> str | None:
    return f"{type_name}:{value_part(type_name, value).lower()}"


_PHONE_BACKED = frozenset({"whatsapp", "signal", "zelle"})  # may be given as a phone number


def _handle(type_name: str, value: str) -> str | None:
    if "/" in value:  # a profile link (t.me/name, wa.me/...): the handle it names
        found = [i for i in ids.extract_identifiers(value) if i.type == type_name]
        return found[0].canonical if found else None
    name = value_part(type_name, value)
    if type_name in _PHONE_BACKED and name.lstrip("+").replace(" ", "").replace("-", "").isdigit():
        phone = _phone("phone", name)
        return f"{type_name}:{phone}" if phone else None
    if type_name != "cashapp":
        name = name.lstrip("@")
    return ids.canonical_handle(type_name, name)[0]


def _contact(name: str, label: str) -> IdentifierType:
    return IdentifierType(name, Family.CONTACT, label, _handle, stix=STIX_HANDLE, destination=name)


def _payment(name: str, label: str) -> IdentifierType:
    return IdentifierType(name, Family.PAYMENT, label, _handle, stix=STIX_HANDLE)


def _crypto(name: str, label: str) -> IdentifierType:
    return IdentifierType(name, Family.WALLET, label, _wallet, stix=STIX_WALLET)


TYPES: dict[str, IdentifierType] = {t.name: t for t in (
    # Contacts, in the order displacement reports their apps.
    _contact("telegram", "Telegram contact"),
    _contact("wickr", "Wickr contact"),
    _contact("signal", "Signal contact"),
    _contact("whatsapp", "WhatsApp contact"),
    _contact("snapchat", "Snapchat contact"),
    _contact("session", "Session ID"),
    _contact("threema", "Threema ID"),
    _contact("instagram", "Instagram handle given as contact"),
    _contact("x", "X handle given as contact"),
    _contact("tiktok", "TikTok handle given as contact"),
    _payment("cashapp", "Cash App tag"),
    _payment("venmo", "Venmo handle"),
    _payment("zelle", "Zelle contact"),
    _payment("paypal", "PayPal.me link"),
    _crypto("btc", "Bitcoin wallet"),
    _crypto("eth", "Ethereum wallet"),
    _crypto("ltc", "Litecoin wallet"),
    _crypto("tron", "Tron wallet"),
    _crypto("xmr", "Monero wallet"),
    IdentifierType("phone", Family.PHONE, "phone number", _phone, stix=STIX_PHONE, destination="phone"),
    # A number written without its country code whose country the post does not tell: contact evidence for
    # the detector, but the same digits are a different line in every country, so it neither links
    # accounts nor goes to partners.
    IdentifierType("phone_national", Family.PHONE, "phone number without country code", _national,
                   links_accounts=False, shareable=False, destination="phone"),
    IdentifierType("email", Family.EMAIL, "e-mail address", _email, stix="email-addr", destination="email"),
    IdentifierType("url", Family.URL, "link", _web, stix="url", destination="website"),
    IdentifierType("domain", Family.DOMAIN, "website", _web, stix="domain-name", destination="website"),
    # Image hashes arrive from partners only, until pictures are hashed here: they do not link yet.
    IdentifierType("pdq", Family.IMAGE_HASH, "image (PDQ hash)", _image_hash, links_accounts=False, stix="file"),
    IdentifierType("phash", Family.IMAGE_HASH, "image (perceptual hash)", _image_hash, links_accounts=False,
                   stix="file"),
)}


def of_family(*families: Family) -> frozenset[str]:
    return frozenset(name for name, t in TYPES.items() if t.family in families)


def linking_types() -> frozenset[str]:
    return frozenset(name for name, t in TYPES.items() if t.links_accounts)


def shareable_types() -> frozenset[str]:
    return frozenset(name for name, t in TYPES.items() if t.shareable)


def canonical_form(type_name: str, value: str) -> str | None:
    """The canonical form of `value` as an identifier of `type_name`, or None if it is not one."""
    kind = TYPES.get(type_name)
    value = value.strip()
    if kind is None or not value:
        return None
    return kind.canonicalise(type_name, value)


def read_identifier(text: str, type_name: str | None = None) -> tuple[str, str]:
    """(type, canonical) of an identifier a person typed: `telegram:@Shop_1`, `+44 7911 123456`,
    `Bob.Smith+x@gmail.com`, `btc:1A1z...`, a URL. Raises UserError when it cannot be read."""
    value = text.strip()
    if type_name is None and ":" in value and not value.lower().startswith(("http://", "https://", "mailto:")):
        head, _, rest = value.partition(":")
        if head.lower() in TYPES:
            type_name, value = head.lower(), rest.strip()
    if type_name is not None:
        canonical = canonical_form(type_name, value) if type_name in TYPES else None
        if canonical is not None:
            return type_name, canonical
    else:
        found = _guess(value)
        if found is not None:
            return found
    raise UserError(f"cannot read {text!r} as an identifier: write TYPE:VALUE, e.g. telegram:shop_1, "
                    "phone:+447911123456, email:bob@example.com, btc:1A1z...")


def _guess(value: str) -> tuple[str, str] | None:
    """What an identifier written without its type most likely is."""
    if len(value) >= 25 and value.isalnum() and (found := classify_address(value)):
        return found[0], found[1]
    if "@" in value and not value.startswith("@"):
        local, _, domain = value.rpartition("@")
        if local and "." in domain:
            return "email", ids.canonical_email(local, domain)
    digits = value.lstrip("+")
    for sep in " -().":
        digits = digits.replace(sep, "")
    if digits.isdigit() and (phone := _phone("phone", value)):
        return "phone", phone
    found = ids.extract_identifiers(value)
    # A profile link names a handle: t.me/shop is telegram:shop before it is a URL or a domain.
    found.sort(key=lambda i: (i.type == "domain", i.type == "url", i.type == "phone"))
    if found:
        return found[0].type, found[0].canonical
    if _looks_like_link(value):
        for kind, canonical, _ in ids.link_identifiers(value):
            return kind, canonical
    return None


def _looks_like_link(value: str) -> bool:
    """A URL or a host name, not any word: link_identifiers would make `http://nonsense/` of a typo."""
    if any(c.isspace() for c in value):
        return False
    host = value.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return "." in host.strip(".") and not host.replace(".", "").replace("-", "").isdigit()
