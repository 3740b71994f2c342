"""The retention policy: a TOML file of days per kind of data (plugwatch.evidence.retention says
what each setting deletes; plugwatch/data/retention.toml, the built-in one, why each number is what
it is). "forever" keeps a kind; a setting left out keeps it too, so a policy written before a setting
existed deletes nothing new.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from plugwatch.evidence.snapshot import DISCLOSURE_CLASS, FREEZE_ACTIONS, HOLD_CLASS, EvidenceError

FOREVER = None
MAX_DAYS = 36_525  # a hundred years; more is "forever" (and a date that far back does not exist)
SNAPSHOT_CLASSES = frozenset({*FREEZE_ACTIONS, DISCLOSURE_CLASS, HOLD_CLASS, "manual"})


@dataclass(frozen=True)
class Policy:
    snapshots: dict[str, int | None]
    default: int | None
    dismissed_items: int | None
    source: str = "built-in"
    never_queued_items: int | None = FOREVER
    accounts_without_items: int | None = FOREVER
    reporters_after_resolved: int | None = FOREVER

    def days_for(self, item_class: str) -> int | None:
        return self.snapshots.get(item_class, self.default)


def _days(value: Any, where: str) -> int | None:
    if isinstance(value, str) and value.strip().lower() == "forever":
        return FOREVER
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise EvidenceError(f"{where}: {value!r} is not a number of days (0 or more) or \"forever\"")
    if value > MAX_DAYS:
        raise EvidenceError(f"{where}: {value} days is more than a hundred years: write \"forever\" to keep it")
    return value


def parse_policy(text: str, source: str) -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise EvidenceError(f"{source}: not valid TOML ({e})") from None
    unknown = set(data) - {"snapshots", "items", "accounts", "reporters"}
    if unknown:
        raise EvidenceError(f"{source}: unknown section [{sorted(unknown)[0]}] (use [snapshots], [items], "
                            "[accounts] and [reporters])")
    snaps = data.get("snapshots", {})
    items = data.get("items", {})
    accounts = data.get("accounts", {})
    reporters = data.get("reporters", {})
    if not all(isinstance(x, dict) for x in (snaps, items, accounts, reporters)):
        raise EvidenceError(f"{source}: [snapshots], [items], [accounts] and [reporters] must be tables")
    bad = set(snaps) - SNAPSHOT_CLASSES - {"default"}
    if bad:  # a misspelt class was kept for `default` days instead of its own
        raise EvidenceError(f"{source}: unknown key snapshots.{sorted(bad)[0]} (snapshot classes: "
                            f"{', '.join(sorted(SNAPSHOT_CLASSES))}, and default)")
    classes = {k: _days(v, f"{source}: snapshots.{k}") for k, v in snaps.items() if k != "default"}
    default = _days(snaps["default"], f"{source}: snapshots.default") if "default" in snaps else FOREVER
    bad = set(items) - {"dismissed", "never_queued"}
    if bad:
        raise EvidenceError(f"{source}: unknown key items.{sorted(bad)[0]} (items.dismissed, items.never_queued)")
    dismissed = _days(items["dismissed"], f"{source}: items.dismissed") if "dismissed" in items else FOREVER
    never_queued = (_days(items["never_queued"], f"{source}: items.never_queued") if "never_queued" in items
                    else FOREVER)
    bad = set(accounts) - {"without_items"}
    if bad:
        raise EvidenceError(f"{source}: unknown key accounts.{sorted(bad)[0]} (accounts.without_items)")
    without_items = (_days(accounts["without_items"], f"{source}: accounts.without_items")
                     if "without_items" in accounts else FOREVER)
    bad = set(reporters) - {"after_resolved"}
    if bad:
        raise EvidenceError(f"{source}: unknown key reporters.{sorted(bad)[0]} (reporters.after_resolved)")
    after_resolved = (_days(reporters["after_resolved"], f"{source}: reporters.after_resolved")
                      if "after_resolved" in reporters else FOREVER)
    return Policy(classes, default, dismissed, source, never_queued, without_items, after_resolved)


def load_policy(path: str | Path | None = None) -> Policy:
    if path is None:
        text = resources.files("plugwatch.data").joinpath("retention.toml").read_text(encoding="utf-8")
        return parse_policy(text, "retention.toml (built-in)")
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise EvidenceError(f"{p}: cannot read the retention policy ({e.strerror})") from None
    except UnicodeDecodeError:
        raise EvidenceError(f"{p}: not UTF-8 text") from None
    return parse_policy(text, str(p))
