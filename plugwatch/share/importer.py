"""Partners' STIX bundles into the watch list.

Each indicator whose pattern names one identifier becomes (or updates) a WatchEntry for the source
partner: clear values are re-canonicalised, hashed ones kept as hashes after checking the bundle was
hashed with the salt we share with that partner. Local overrides (disabled, allow-listed) survive
updates; a revoked indicator removes its entry. Opinions in the bundle are kept as feedback.
Indicators that cannot be used are rejected one by one, with the reason; the rest goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugwatch.network.generic import is_generic
from plugwatch.records import utc_time
from plugwatch.share import hashing, stix, validate
from plugwatch.share.validate import BundleError, load_bundle  # noqa: F401  (import's readers use them here)
from plugwatch.store.sharing_tables import Partner, ShareOpinion, WatchEntry
from plugwatch.text.identifier_types import canonical_form
from plugwatch.text.identifiers import extract_identifiers, link_identifiers

DEFAULT_EXPIRY_DAYS = 180
_COMPARISON = re.compile(r"""\s*([a-z0-9\-]+):((?:[A-Za-z0-9_]+|'[^']*'|\.|\[\*\])+)\s*=\s*'((?:[^'\\]|\\.)*)'\s*""")
_HASH_KEYS = {f"hashes.'{hashing.ALGORITHM}'", f"extensions.'{stix.EXT_HASHES}'.hashes.'{hashing.ALGORITHM}'"}
_ACCOUNT_TYPES = {"twitter": "x"}  # user-account account_type -> our identifier type
PHONE_BACKED = frozenset({"whatsapp", "signal", "zelle"})  # handles that may be a phone number
_OPINIONS = ("strongly-disagree", "disagree", "neutral", "agree", "strongly-agree")


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    revoked: int = 0
    opinions: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (object id, reason)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Parsed:
    identifier_type: str
    value: str | None = None  # canonical
    value_hash: str | None = None


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def parse_pattern(pattern: str) -> Parsed:
    """The one identifier a pattern names: `[a:b = 'x' AND a:c = 'y']`, equality only, one object type."""
    body = pattern.strip()
    if not (body.startswith("[") and body.endswith("]")) or body.replace("[*]", "").count("[") != 1:
        raise ValueError("only single-observation patterns are used")
    terms: dict[str, str] = {}
    sco_type = None
    for part in re.split(r"\s+AND\s+", body[1:-1]):
        m = _COMPARISON.fullmatch(part)
        if m is None:
            raise ValueError(f"unsupported comparison {part.strip()!r} (only = on one object)")
        if sco_type not in (None, m.group(1)):
            raise ValueError("pattern compares more than one object type")
        sco_type = m.group(1)
        terms[m.group(2)] = _unescape(m.group(3))
    hashed = next((terms[k] for k in _HASH_KEYS if k in terms), None)
    if hashed is not None:
        hashed = hashed.lower()
        if not re.fullmatch(r"[0-9a-f]{64}", hashed):
            raise ValueError("HMAC-SHA256 value is not 64 hex digits")

    def build(kind: str | None, raw: str | None) -> Parsed:
        if kind is None:
            raise ValueError(f"no identifier type in pattern on {sco_type}")
        if hashed is not None:
            return Parsed(kind, value_hash=hashed)
        if raw is None:
            raise ValueError(f"pattern on {sco_type} names no value")
        canonical = canonical_form(kind, raw)
        if canonical is None:
            raise ValueError(f"{raw!r} is not a valid {kind} identifier")
        if _found_invalid(kind, raw):
            raise ValueError(f"{raw!r} is not a valid {kind} (a fictional phone number or a wallet failing its "
                             "checksum): it would match ordinary posts")
        return Parsed(kind, value=canonical)

    if sco_type == stix.PHONE:
        return build("phone", terms.get("number"))
    if sco_type == stix.WALLET:
        currency = terms.get("currency", "").lower()
        if currency not in stix.WALLET_TYPES:
            raise ValueError(f"unknown wallet currency {currency!r}")
        return build(currency, terms.get("address"))
    if sco_type == stix.HANDLE:
        platform = terms.get("platform", "").lower()
        if platform not in stix.HANDLE_TYPES:
            raise ValueError(f"unknown handle platform {platform!r}")
        return build(platform, terms.get("handle"))
    if sco_type == "user-account":
        kind = terms.get("account_type", "").lower()
        kind = _ACCOUNT_TYPES.get(kind, kind)
        if kind not in stix.HANDLE_TYPES:
            raise ValueError(f"user-account type {kind!r} is not a platform plugwatch matches")
        return build(kind, terms.get("account_login") or terms.get("user_id"))
    reverse = {v: k for k, v in stix.STANDARD.items()}
    if sco_type in reverse:
        return build(reverse[sco_type], terms.get("value"))
    if sco_type == "file":
        for kind, algo in stix.IMAGE_HASH_TYPES.items():
            key = f"hashes.'{algo}'"
            if key in terms:
                return Parsed(kind, value=f"{kind}:{terms[key].lower()}")
    raise ValueError(f"pattern on {sco_type!r} names no identifier plugwatch matches")


def _found_invalid(kind: str, raw: str) -> bool:
    """The scan's own verdict on a partner's phone number or wallet (also a WhatsApp or Signal number):
    what it marks `valid: false` is never shared by us, so it is not taken from a partner either."""
    value = raw.split(":", 1)[1] if raw.lower().startswith(kind + ":") else raw
    wanted = "phone" if kind in PHONE_BACKED and value.lstrip().startswith("+") else kind
    return any(i.type == wanted and i.valid is False for i in extract_identifiers(value))


def _profile_handle(url: str) -> Parsed | None:
    """The handle a profile link on a platform names (`https://t.me/shop` is telegram:shop), as a scan
    links it: other tools share a seller's channel as a URL, and the URL itself is on a generic domain."""
    for kind, canonical, valid in link_identifiers(url):
        if kind not in ("url", "domain") and valid is not False and not is_generic(kind, canonical):
            return Parsed(kind, canonical)
    return None


def _tlp(obj: dict[str, Any], definitions: dict[str, str]) -> str | None:
    for ref in obj.get("object_marking_refs") or ():
        if ref in stix.TLP_BY_ID:
            return stix.TLP_BY_ID[ref]
        if ref in definitions:
            return definitions[ref]
    return None


def import_bundle(session: Session, bundle: dict[str, Any], partner: Partner, *, salt: bytes | None = None,
                  expires_days: int | None = None, now: datetime | None = None) -> ImportResult:
    now = now or datetime.now(UTC)
    result = ImportResult()
    report = validate.validate_bundle(bundle, enforce_refs=False)
    broken = {}
    for message in report.errors:
        oid, _, reason = message.partition(":")
        broken.setdefault(oid, reason.strip() or message)  # the id is said beside it, once
    result.warnings = report.warnings
    our_salt_id = hashing.salt_id(salt) if salt else partner.salt_id
    definitions = {o.get("id"): o.get("name", "").removeprefix("TLP:").lower()
                   for o in bundle["objects"] if isinstance(o, dict) and o.get("type") == "marking-definition"
                   and o.get("definition_type") == "tlp"}
    existing = {e.indicator_id: e for e in session.scalars(select(WatchEntry).where(WatchEntry.partner_id == partner.id))}
    for i, obj in enumerate(bundle["objects"]):
        oid = validate.object_label(obj, i)
        if not (isinstance(obj, dict) and isinstance(obj.get("type"), str) and isinstance(obj.get("id"), str)):
            result.rejected.append((oid, broken.get(oid, "not a STIX object")))  # said, not skipped
            continue
        if obj.get("type") == "opinion":
            if oid in broken:
                result.rejected.append((oid, broken[oid]))
            else:
                result.opinions += _record_opinion(session, obj, partner, now)
            continue
        if obj.get("type") != "indicator":
            continue
        if oid in broken:
            result.rejected.append((oid, broken[oid]))
            continue
        entry = existing.get(oid)
        if obj.get("revoked"):
            if entry is not None:
                session.delete(entry)
                existing.pop(oid)
                result.revoked += 1
            continue
        if obj.get("pattern_type", "stix") != "stix":
            result.rejected.append((oid, f"pattern type {obj.get('pattern_type')!r} is not STIX"))
            continue
        try:
            parsed = parse_pattern(str(obj.get("pattern", "")))
        except ValueError as e:
            result.rejected.append((oid, str(e)))
            continue
        if parsed.value is not None and parsed.identifier_type == "url" and is_generic("url", parsed.value):
            parsed = _profile_handle(parsed.value) or parsed
        if parsed.value is not None and is_generic(parsed.identifier_type, parsed.value):
            result.rejected.append((oid, f"{parsed.identifier_type} {parsed.value!r} is generic (a platform, "
                                         "shortener or placeholder): it would match ordinary posts"))
            continue
        if parsed.value_hash is not None:
            theirs = obj.get("salt_id")
            if our_salt_id is None:
                result.rejected.append((oid, f"hashed identifier, but no salt is known for partner {partner.name} "
                                             "(give --salt-file)"))
                continue
            if theirs and theirs != our_salt_id:
                result.rejected.append((oid, f"hashed with salt {theirs}, the salt shared with {partner.name} "
                                             f"is {our_salt_id}"))
                continue
        valid_until = utc_time(obj.get("valid_until"))
        if expires_days is not None:
            ours = now + timedelta(days=expires_days)
            valid_until = min(valid_until, ours) if valid_until else ours
        elif valid_until is None:
            valid_until = now + timedelta(days=DEFAULT_EXPIRY_DAYS)
        phases = [p.get("phase_name") for p in obj.get("kill_chain_phases") or () if isinstance(p, dict)]
        fields = dict(
            indicator_modified=obj.get("modified"), identifier_type=parsed.identifier_type, value=parsed.value,
            value_hash=parsed.value_hash, salt_id=our_salt_id if parsed.value_hash else None,
            confidence=obj.get("confidence") if isinstance(obj.get("confidence"), int) else None,
            drugs=list(obj.get("drug_categories") or [x for x in obj.get("labels") or () if x != "drug-sale"]),
            tactics=[p for p in phases if p], platforms=list(obj.get("seen_on_platforms") or ()),
            tlp=_tlp(obj, definitions), first_seen=utc_time(obj.get("first_seen")) or utc_time(obj.get("valid_from")),
            last_seen=utc_time(obj.get("last_seen")), valid_until=valid_until,
        )
        if entry is None:
            entry = WatchEntry(partner_id=partner.id, indicator_id=oid, imported_at=now, updated_at=now, **fields)
            session.add(entry)
            existing[oid] = entry
            result.added += 1
        elif entry.indicator_modified and fields["indicator_modified"] and \
                fields["indicator_modified"] < entry.indicator_modified:
            result.unchanged += 1  # an older version than the one we hold
        elif all(getattr(entry, k) == v for k, v in fields.items() if k != "valid_until"):
            entry.valid_until = valid_until
            result.unchanged += 1
        else:
            for k, v in fields.items():
                setattr(entry, k, v)
            entry.updated_at = now
            result.updated += 1
    session.flush()
    return result


def _record_opinion(session: Session, obj: dict[str, Any], partner: Partner, now: datetime) -> int:
    if obj.get("opinion") not in _OPINIONS or not obj.get("object_refs"):
        return 0
    if session.scalars(select(ShareOpinion).where(ShareOpinion.stix_id == obj["id"],
                                                  ShareOpinion.direction == "in")).first() is not None:
        return 0
    for ref in obj["object_refs"]:
        session.add(ShareOpinion(stix_id=obj["id"] if ref == obj["object_refs"][0] else f"{obj['id']}#{ref}",
                                 direction="in", partner_id=partner.id, indicator_id=ref, opinion=obj["opinion"],
                                 explanation=obj.get("explanation", ""), author=partner.name,
                                 created_at=utc_time(obj.get("created")) or now, body=obj))
    return 1
