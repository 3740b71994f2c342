"""The drug-trade tactics taxonomy (plugwatch/data/tactics.json): which techniques an item shows,
and the techniques as STIX attack-pattern objects.

The rules are data so analysts can add a technique without touching code; each rule is a plain
test on the scan record (identifier types, reason signals, text patterns, account age).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from plugwatch.records import utc_time

KILL_CHAIN = "plugwatch-drug-trade"
SOURCE_NAME = "plugwatch-tactics"


@dataclass(frozen=True)
class Technique:
    id: str
    phase: str
    name: str
    description: str
    examples: tuple[str, ...]
    identifier_types: frozenset[str]
    reasons: tuple[tuple[str, re.Pattern[str]], ...]
    text: tuple[re.Pattern[str], ...]
    emoji_drug_terms: bool = False
    account: dict[str, int] = field(default_factory=dict)
    shared_identifier_accounts: int = 0


@dataclass(frozen=True)
class Taxonomy:
    name: str
    version: str
    reference: str
    phases: tuple[dict[str, str], ...]
    techniques: tuple[Technique, ...]

    def get(self, technique_id: str) -> Technique | None:
        return next((t for t in self.techniques if t.id == technique_id), None)


def _technique(raw: dict[str, Any], phases: set[str]) -> Technique:
    match = raw.get("match", {})
    if raw["phase"] not in phases:
        raise ValueError(f"tactics.json: {raw['id']} names unknown phase {raw['phase']!r}")
    return Technique(
        id=raw["id"], phase=raw["phase"], name=raw["name"], description=raw["description"],
        examples=tuple(raw.get("examples", ())),
        identifier_types=frozenset(match.get("identifier_types", ())),
        reasons=tuple((r["signal"], re.compile(r["meaning"], re.I)) for r in match.get("reasons", ())),
        text=tuple(re.compile(p, re.I) for p in match.get("text", ())),
        emoji_drug_terms=bool(match.get("emoji_drug_terms", False)),
        account=dict(match.get("account", {})),
        shared_identifier_accounts=int(match.get("shared_identifier_accounts", 0)),
    )


@cache
def load_taxonomy() -> Taxonomy:
    data = json.loads(resources.files("plugwatch.data").joinpath("tactics.json").read_text(encoding="utf-8"))
    phases = {p["id"] for p in data["phases"]}
    return Taxonomy(data["name"], data["version"], data["reference"], tuple(data["phases"]),
                    tuple(_technique(t, phases) for t in data["techniques"]))


def _emoji_term(reason: dict[str, Any]) -> bool:
    text = reason.get("text") or ""
    return reason.get("signal", "").endswith("drug_term") and bool(text) and not any(c.isalnum() for c in text)


def _account_matches(rule: dict[str, int], record: dict[str, Any]) -> bool:
    account = record.get("account") or {}
    created, posted = utc_time(account.get("created_at")), utc_time(record.get("created_at"))
    followers = account.get("followers")
    if created is None or posted is None or followers is None:
        return False  # too little known about the account to call it a burner
    if created.tzinfo is None or posted.tzinfo is None:
        created, posted = created.replace(tzinfo=None), posted.replace(tzinfo=None)
    young = (posted - created).days <= rule.get("max_age_days", 30)
    return young and followers <= rule.get("max_followers", 25)


def techniques_for_record(record: dict[str, Any], *, accounts_sharing_identifier: int = 1) -> list[str]:
    """Technique ids a scan record shows, in taxonomy order.

    `accounts_sharing_identifier`: the most accounts any of the record's identifiers appears on
    (known to the store, not to a single record); two or more points to ban evasion.
    """
    types = {i.get("type") for i in record.get("identifiers") or ()}
    reasons = record.get("reasons") or ()
    text = record.get("text") or ""
    found = []
    for t in load_taxonomy().techniques:
        hit = bool(types & t.identifier_types)
        hit = hit or any(r.get("signal", "").removeprefix("bio:") == signal and pattern.search(r.get("meaning", ""))
                         for signal, pattern in t.reasons for r in reasons)
        hit = hit or any(p.search(text) for p in t.text)
        hit = hit or (t.emoji_drug_terms and any(_emoji_term(r) for r in reasons))
        hit = hit or (bool(t.account) and _account_matches(t.account, record))
        hit = hit or (t.shared_identifier_accounts > 0 and accounts_sharing_identifier >= t.shared_identifier_accounts)
        if hit:
            found.append(t.id)
    return found


def techniques_for_identifier_type(identifier_type: str) -> list[str]:
    return [t.id for t in load_taxonomy().techniques if identifier_type in t.identifier_types]


def kill_chain_phases(technique_ids: list[str]) -> list[dict[str, str]]:
    tax = load_taxonomy()
    phases = []
    for tid in technique_ids:
        t = tax.get(tid)
        if t is not None and t.phase not in phases:
            phases.append(t.phase)
    order = [p["id"] for p in tax.phases]
    return [{"kill_chain_name": KILL_CHAIN, "phase_name": p} for p in sorted(phases, key=order.index)]
