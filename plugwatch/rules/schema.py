"""The object a rule's `when` condition sees, declared once: the facts builder fills exactly these
fields, the type check evaluates conditions against samples of them, and `plugwatch rules schema`
prints them (the README's table is that command's output).

Every field is always present with its declared type (CEL does not coerce, and a missing field is an
error), so "unknown" has a documented value instead of null.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

UNKNOWN_AGE_DAYS = 36500.0  # an account whose creation date the export does not give: "very old"

# variable -> field -> (CEL type, meaning)
FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    "post": {
        "text": ("string", "the item's text"),
        "language": ("string", "language code the export gives, else empty"),
        "platform": ("string", "x, telegram, reddit, mastodon, bluesky, ..."),
        "kind": ("string", "post, comment, reply, message, ..."),
        "created": ("timestamp", "when it was posted (when it was received, if the export does not say)"),
        "reach": ("int", "views or reach the export gives, else 0"),
    },
    "verdict": {
        "score": ("double", "the detector's calibrated probability of a sale offer"),
        "flagged": ("bool", "score >= the detector's threshold"),
        "kind": ("string", "offer, request (asks to buy) or empty"),
        "drugs": ("list(string)", "drug categories named"),
        "reasons": ("list(string)", "signals of the evidence (drug_term, price, site_term, ...)"),
        "evidence": ("list(string)", "the evidence texts, lower case"),
        "tactics": ("list(string)", "trafficking technique ids the item shows"),
    },
    "identifiers": {
        "types": ("list(string)", "types of the contact and payment identifiers (wickr, telegram, ...)"),
        "values": ("list(string)", "their canonical values"),
        "count": ("int", "how many identifiers"),
        "watched": ("bool", "one is on a partner's live watch list"),
        "max_accounts": ("int", "the most accounts that share one of them"),
    },
    "account": {
        "handle": ("string", "the author's handle"),
        "age_days": ("double", f"account age in days when it posted ({UNKNOWN_AGE_DAYS:g} when unknown)"),
        "age_known": ("bool", "the export gave the account's creation date"),
        "followers": ("int", "followers (0 when unknown)"),
        "strikes": ("int", "active strikes"),
        "items": ("int", "items stored from this account"),
        "score": ("double", "highest score of the account's stored items"),
        "suspended": ("bool", "suspended here"),
    },
    "network": {
        "size": ("int", "accounts in its seller network (1: alone, 0: no author)"),
        "platforms": ("list(string)", "platforms the network spans"),
        "score": ("double", "highest score of the network's stored items"),
    },
    "images": {
        "bank_matches": ("int", "evidence from a hash-bank match (reasons whose signal names a bank or image hash)"),
        "ocr": ("list(string)", "evidence read from images (reasons whose signal starts with ocr)"),
    },
    "reports": {
        "count": ("int", "user reports on the item (the record's `reports` field; 0 when none are stored)"),
        "accuracy": ("double", "mean past accuracy of its reporters (0 when unknown)"),
    },
}

_DEFAULTS = {"string": "", "int": 0, "double": 0.0, "bool": False, "list(string)": [],
             "timestamp": datetime(2024, 1, 1, tzinfo=UTC)}
_FULL = {"string": "x", "int": 1, "double": 1.0, "bool": True, "list(string)": ["x"],
         "timestamp": datetime(2024, 1, 1, tzinfo=UTC)}


def samples() -> list[dict[str, Any]]:
    """Two objects of the declared types (empty and filled in) that conditions are type-checked against:
    a field that does not exist or an operator on the wrong types fails on one of them."""
    return [{var: {f: (table[t] if not t.startswith("list") else list(table[t])) for f, (t, _) in fields.items()}
             for var, fields in FIELDS.items()} for table in (_DEFAULTS, _FULL)]


def markdown() -> str:
    """The schema as a Markdown table (what `plugwatch rules schema` prints)."""
    lines = ["| field | type | meaning |", "|---|---|---|"]
    for var, fields in FIELDS.items():
        for name, (kind, meaning) in fields.items():
            lines.append(f"| `{var}.{name}` | {kind} | {meaning} |")
    return "\n".join(lines) + "\n"


def as_json() -> dict[str, Any]:
    return {var: {name: {"type": kind, "meaning": meaning} for name, (kind, meaning) in fields.items()}
            for var, fields in FIELDS.items()}
