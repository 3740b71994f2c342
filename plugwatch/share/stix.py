"""STIX 2.1 export: identifiers from confirmed decisions become indicators.

Object choice, standard first:
- url, domain, email -> the standard `url`, `domain-name`, `email-addr` objects.
- phone numbers and crypto wallets have no STIX object: new SCOs `x-plugwatch-phone-number` and
  `x-plugwatch-crypto-wallet`, each declared by an `extension-definition` (extension type new-sco).
- messenger, social and payment handles -> new SCO `x-plugwatch-contact-handle`: `user-account`'s
  account-type vocabulary has none of Telegram, Wickr, Cash App..., and it cannot carry a hash.
- perceptual image hashes (pdq/phash) -> `file:hashes` patterns, never salted (matching them needs
  a distance, and they do not name a person).
Hashed identifiers: the pattern compares `hashes.'HMAC-SHA256'` (see hashing.py); the standard
objects get that property through a property extension. Nothing in a hashed indicator (name,
description, SCO, id) is derived from the clear value except through the salted hash.

Ids: SCOs use UUIDv5 over their id-contributing properties as the spec requires. SDO ids are
version-4 UUIDs whose bits come from a hash of what the object is about, so exporting again
updates the same indicator (same id, newer `modified`) instead of adding a new one.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import stix2
from stix2.properties import DictionaryProperty, StringProperty

from plugwatch.detect import tactics
from plugwatch.share import hashing
from plugwatch.text.identifier_types import (
    STIX_HANDLE,
    STIX_PHONE,
    STIX_WALLET,
    TYPES,
    Family,
    of_family,
    shareable_types,
    value_part,
)

SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")  # STIX 2.1 spec, section 2.9
SCHEMA_URL = "https://github.com/plugwatch/plugwatch/blob/main/docs/stix-extensions.md"

PHONE, WALLET, HANDLE = STIX_PHONE, STIX_WALLET, STIX_HANDLE
# Fixed ids: an extension definition keeps its id for ever (random version-4 UUIDs, made once).
EXT_PHONE = "extension-definition--7a3c1e52-5b8f-4c0e-9d41-2f6b8a0c9e13"
EXT_WALLET = "extension-definition--c4e9b2d0-8f3a-4b67-a1c5-6d2e0f9b7a48"
EXT_HANDLE = "extension-definition--1f5d8a3e-2c7b-4e90-b6a4-9e3c5d7f1b26"
EXT_HASHES = "extension-definition--9b2e6f40-3d1a-4c8e-8f57-a0b4c6d2e819"
EXT_INDICATOR = "extension-definition--5e8a0d2c-6b4f-4a13-9c7e-d1f3b5a79c04"
INDICATOR_PROPERTIES = ["identifier_type", "seen_on_platforms", "first_seen", "last_seen", "sightings",
                        "accounts", "drug_categories", "salt_id"]
EXTENSIONS: dict[str, dict[str, Any]] = {
    EXT_PHONE: {"name": "plugwatch phone number",
                "description": f"New SCO {PHONE}: a phone number in E.164 form (`number`), or only its salted "
                               "hash (`hashes`, key HMAC-SHA256).",
                "extension_types": ["new-sco"]},
    EXT_WALLET: {"name": "plugwatch crypto wallet",
                 "description": f"New SCO {WALLET}: a cryptocurrency address (`currency`: btc, eth, ltc, tron, "
                                "xmr; `address`), or only its salted hash (`hashes`).",
                 "extension_types": ["new-sco"]},
    EXT_HANDLE: {"name": "plugwatch contact handle",
                 "description": f"New SCO {HANDLE}: a messenger, social or payment-app handle (`platform`, "
                                "`handle` in plugwatch canonical form), or only its salted hash (`hashes`).",
                 "extension_types": ["new-sco"]},
    EXT_HASHES: {"name": "plugwatch salted hashes",
                 "description": "Property extension adding `hashes` (key HMAC-SHA256) to url, domain-name and "
                                "email-addr objects, for identifiers shared as salted hashes.",
                 "extension_types": ["property-extension"]},
    EXT_INDICATOR: {"name": "plugwatch indicator context",
                    "description": "Top-level indicator properties: identifier_type, seen_on_platforms, first_seen, "
                                   "last_seen, sightings (confirmed items), accounts, drug_categories, and salt_id "
                                   "(which shared salt made the hash).",
                    "extension_types": ["toplevel-property-extension"],
                    "extension_properties": INDICATOR_PROPERTIES},
}


@stix2.CustomObservable(PHONE, [("number", StringProperty()), ("hashes", DictionaryProperty())],
                        id_contrib_props=["number", "hashes"], extension_name=EXT_PHONE)
class PhoneNumber:
    pass


@stix2.CustomObservable(WALLET, [("currency", StringProperty()), ("address", StringProperty()),
                                 ("hashes", DictionaryProperty())],
                        id_contrib_props=["currency", "address", "hashes"], extension_name=EXT_WALLET)
class CryptoWallet:
    pass


@stix2.CustomObservable(HANDLE, [("platform", StringProperty()), ("handle", StringProperty()),
                                 ("hashes", DictionaryProperty())],
                        id_contrib_props=["platform", "handle", "hashes"], extension_name=EXT_HANDLE)
class ContactHandle:
    pass


WALLET_TYPES = of_family(Family.WALLET)
HANDLE_TYPES = of_family(Family.CONTACT, Family.PAYMENT)
STANDARD = {name: t.stix for name, t in TYPES.items() if t.family in (Family.URL, Family.DOMAIN, Family.EMAIL)}
IMAGE_HASH_TYPES = {"pdq": "PDQ", "phash": "pHash"}  # STIX names of the hash algorithms
SHAREABLE_TYPES = shareable_types()

TLP = {"clear": stix2.TLP_WHITE, "white": stix2.TLP_WHITE, "green": stix2.TLP_GREEN,
       "amber": stix2.TLP_AMBER, "red": stix2.TLP_RED}
TLP_BY_ID = {str(m.id): name for name, m in TLP.items() if name != "white"}


def type_label(identifier_type: str) -> str:
    """How an indicator names its identifier ("telegram handle", "BTC wallet", "phone number")."""
    if identifier_type in HANDLE_TYPES:
        return f"{identifier_type} handle"
    if identifier_type in WALLET_TYPES:
        return f"{identifier_type.upper()} wallet"
    if identifier_type in ("url", "domain"):
        return {"url": "URL", "domain": "domain"}[identifier_type]
    kind = TYPES.get(identifier_type)
    return kind.label if kind else identifier_type


def stamp(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stable_uuid4(*parts: str) -> str:
    """A version-4-shaped UUID whose bits are a hash of `parts`: stable across exports."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()[:16]
    return str(uuid.UUID(bytes=digest, version=4))


def sco_id(sco_type: str, contributing: dict[str, Any]) -> str:
    """UUIDv5 over the id-contributing properties present, in canonical JSON (RFC 8785 for these values)."""
    present = {k: v for k, v in contributing.items() if v is not None}
    name = json.dumps(present, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{sco_type}--{uuid.uuid5(SCO_NAMESPACE, name)}"


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def observable(identifier_type: str, canonical: str, hashed: str | None) -> tuple[dict[str, Any] | None, str]:
    """(SCO or None, pattern) for one identifier; with `hashed` the clear value appears in neither."""
    h = {hashing.ALGORITHM: hashed} if hashed else None
    hq = _quote(hashed) if hashed else ""
    value = value_part(identifier_type, canonical)
    if identifier_type == "phone":
        props: dict[str, Any] = {"hashes": h} if hashed else {"number": canonical}
        path = f"{PHONE}:hashes.'{hashing.ALGORITHM}' = {hq}" if hashed else f"{PHONE}:number = {_quote(canonical)}"
        return _sco(PHONE, EXT_PHONE, props), f"[{path}]"
    if identifier_type in WALLET_TYPES:
        props = {"currency": identifier_type, **({"hashes": h} if hashed else {"address": value})}
        last = f"{WALLET}:hashes.'{hashing.ALGORITHM}' = {hq}" if hashed else f"{WALLET}:address = {_quote(value)}"
        return _sco(WALLET, EXT_WALLET, props), f"[{WALLET}:currency = {_quote(identifier_type)} AND {last}]"
    if identifier_type in STANDARD:
        sco_type = STANDARD[identifier_type]
        if hashed:
            return None, f"[{sco_type}:extensions.'{EXT_HASHES}'.hashes.'{hashing.ALGORITHM}' = {hq}]"
        return _sco(sco_type, None, {"value": canonical}), f"[{sco_type}:value = {_quote(canonical)}]"
    if identifier_type in IMAGE_HASH_TYPES:
        return None, f"[file:hashes.'{IMAGE_HASH_TYPES[identifier_type]}' = {_quote(value)}]"
    platform = identifier_type
    props = {"platform": platform, **({"hashes": h} if hashed else {"handle": value})}
    last = f"{HANDLE}:hashes.'{hashing.ALGORITHM}' = {hq}" if hashed else f"{HANDLE}:handle = {_quote(value)}"
    return _sco(HANDLE, EXT_HANDLE, props), f"[{HANDLE}:platform = {_quote(platform)} AND {last}]"


def _sco(sco_type: str, extension: str | None, props: dict[str, Any]) -> dict[str, Any]:
    contributing = {k: props.get(k) for k in _ID_PROPS[sco_type]}
    obj = {"type": sco_type, "spec_version": "2.1", "id": sco_id(sco_type, contributing), **props}
    if extension:
        obj["extensions"] = {extension: {"extension_type": "new-sco"}}
    return obj


_ID_PROPS = {PHONE: ("number", "hashes"), WALLET: ("currency", "address", "hashes"),
             HANDLE: ("platform", "handle", "hashes"), "url": ("value",), "domain-name": ("value",),
             "email-addr": ("value",)}


@dataclass
class Aggregate:
    """Everything known about one identifier across confirmed decisions."""

    type: str
    canonical: str
    first_seen: datetime
    last_seen: datetime
    platforms: set[str] = field(default_factory=set)
    items: int = 0
    accounts: set[str] = field(default_factory=set)
    drugs: set[str] = field(default_factory=set)
    techniques: set[str] = field(default_factory=set)
    max_score: float = 0.0

    @property
    def confidence(self) -> int:
        """0-100: more confirmed items and accounts, and a surer detector, mean more confidence."""
        score = 40 + 30 * self.max_score + 10 * min(self.items - 1, 2) + 10 * min(len(self.accounts) - 1, 1)
        return int(max(10, min(95, round(score))))


@dataclass
class ExportOptions:
    organisation: str = "plugwatch"
    tlp: str = "amber"
    salt: bytes | None = None
    valid_days: int = 180
    now: datetime | None = None


def identity(organisation: str, now: datetime) -> dict[str, Any]:
    return {"type": "identity", "spec_version": "2.1", "id": f"identity--{stable_uuid4('identity', organisation)}",
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "name": organisation, "identity_class": "organization",
            "description": "Trust-and-safety team sharing drug-sale indicators with plugwatch."}


def extension_definitions(creator: str, ids: Iterable[str]) -> list[dict[str, Any]]:
    out = []
    for ext_id in ids:
        spec = EXTENSIONS[ext_id]
        out.append({"type": "extension-definition", "spec_version": "2.1", "id": ext_id, "created_by_ref": creator,
                    "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                    "schema": SCHEMA_URL, "version": "1.0.0", **spec})
    return out


def attack_pattern(technique_id: str, creator: str, markings: list[str]) -> dict[str, Any]:
    tax = tactics.load_taxonomy()
    t = tax.get(technique_id)
    if t is None:
        raise KeyError(technique_id)
    return {
        "type": "attack-pattern", "spec_version": "2.1",
        "id": f"attack-pattern--{stable_uuid4('attack-pattern', tax.name, t.id)}",
        "created_by_ref": creator, "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "name": t.name, "description": t.description,
        "kill_chain_phases": tactics.kill_chain_phases([t.id]),
        "external_references": [{"source_name": tactics.SOURCE_NAME, "external_id": t.id,
                                  "description": f"{tax.name} {tax.version}: {tax.reference}"}],
        "object_marking_refs": markings,
    }


def indicator_id(organisation: str, identifier_type: str, key: str) -> str:
    return f"indicator--{stable_uuid4('indicator', organisation, identifier_type, key)}"


def build_bundle(aggregates: Iterable[Aggregate], options: ExportOptions) -> dict[str, Any]:
    """A STIX 2.1 bundle (as a dict): identity, markings, extension definitions, attack patterns,
    one indicator per identifier, its SCO where there is one, and their relationships."""
    now = options.now or datetime.now(UTC)
    tlp_key = options.tlp.lower()
    if tlp_key not in TLP:
        raise ValueError(f"unknown TLP {options.tlp!r}: choose clear, green, amber or red")
    marking = json.loads(TLP[tlp_key].serialize())
    markings = [marking["id"]]
    ident = identity(options.organisation, now)
    creator = ident["id"]
    salt_id = hashing.salt_id(options.salt) if options.salt else None
    objects: list[dict[str, Any]] = []
    used_ext: set[str] = {EXT_INDICATOR}
    techniques: set[str] = set()
    for agg in sorted(aggregates, key=lambda a: (a.type, a.canonical)):
        if agg.type not in SHAREABLE_TYPES:
            continue
        hashed = None
        if options.salt and agg.type not in IMAGE_HASH_TYPES:
            hashed = hashing.identifier_hash(options.salt, agg.type, agg.canonical)
        sco, pattern = observable(agg.type, agg.canonical, hashed)
        key = hashed or agg.canonical
        ind_id = indicator_id(options.organisation, agg.type, key)
        label = type_label(agg.type)
        platforms = sorted(agg.platforms)
        drugs = sorted(agg.drugs)
        created = min(agg.first_seen, now)
        ind: dict[str, Any] = {
            "type": "indicator", "spec_version": "2.1", "id": ind_id, "created_by_ref": creator,
            "created": stamp(created), "modified": stamp(now),
            "name": f"{label}{' (salted hash)' if hashed else ''} in confirmed drug-sale offers",
            "description": (f"A {label} posted in {agg.items} item(s) by {len(agg.accounts)} account(s) on "
                            f"{', '.join(platforms) or 'unknown platforms'}, removed or actioned after human review."
                            + (f" Drug categories: {', '.join(drugs)}." if drugs else "")),
            "indicator_types": ["malicious-activity"],
            "pattern": pattern, "pattern_type": "stix", "pattern_version": "2.1",
            "valid_from": stamp(created), "valid_until": stamp(now + timedelta(days=options.valid_days)),
            "confidence": agg.confidence,
            "labels": ["drug-sale", *drugs],
            "object_marking_refs": markings,
            "identifier_type": agg.type,
            "first_seen": stamp(agg.first_seen), "last_seen": stamp(agg.last_seen),
            "sightings": agg.items, "accounts": len(agg.accounts),
            "extensions": {EXT_INDICATOR: {"extension_type": "toplevel-property-extension"}},
        }
        if platforms:  # STIX forbids empty lists
            ind["seen_on_platforms"] = platforms
        if drugs:
            ind["drug_categories"] = drugs
        if salt_id:
            ind["salt_id"] = salt_id
        techs = sorted(agg.techniques | set(tactics.techniques_for_identifier_type(agg.type)))
        if techs:
            ind["kill_chain_phases"] = tactics.kill_chain_phases(techs)
        objects.append(ind)
        if hashed and agg.type in STANDARD:
            used_ext.add(EXT_HASHES)
        if sco is not None:
            used_ext.update(sco.get("extensions", {}))
            objects.append(sco)
            objects.append(_relationship("related-to", ind_id, sco["id"], creator, now, markings))
        for tid in techs:
            techniques.add(tid)
            ap_id = f"attack-pattern--{stable_uuid4('attack-pattern', tactics.load_taxonomy().name, tid)}"
            objects.append(_relationship("indicates", ind_id, ap_id, creator, now, markings))
    head = [ident, marking, *extension_definitions(creator, sorted(used_ext))]
    head += [attack_pattern(t, creator, markings) for t in sorted(techniques)]
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": head + objects}


def _relationship(kind: str, source: str, target: str, creator: str, now: datetime,
                  markings: list[str]) -> dict[str, Any]:
    return {"type": "relationship", "spec_version": "2.1",
            "id": f"relationship--{stable_uuid4('relationship', kind, source, target)}",
            "created_by_ref": creator, "created": stamp(now), "modified": stamp(now),
            "relationship_type": kind, "source_ref": source, "target_ref": target,
            "object_marking_refs": markings}


def dumps(bundle: dict[str, Any]) -> str:
    return json.dumps(bundle, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
