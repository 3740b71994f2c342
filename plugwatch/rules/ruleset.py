"""A rule set: the built-in default rules, then a site's rules folder, checked as a whole.

A site rule with the name of a default rule replaces it (e.g. `mode: off` switches it off). A set
with any broken file is not used at all: the caller keeps the set it had (see plugwatch.rules.book).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from plugwatch.rules.facts import Need, need_of
from plugwatch.rules.model import Rule, RuleError, load_bytes, load_file, rule_files

DEFAULT_DIR = Path(__file__).with_name("default")


class RuleSetError(ValueError):
    def __init__(self, errors: list[RuleError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    folder: str | None = None
    sources: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)  # name -> file bytes

    @cached_property
    def live(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.mode != "off")

    @cached_property
    def need(self) -> Need:
        return need_of(self.live)

    def matching(self, facts: Any) -> list[Rule]:
        """The live rules whose condition holds. A condition that fails at run time (it passed the
        type check, but e.g. divides by zero) does not match: one rule cannot stop ingest. `facts`: the
        object as a dict, or a CEL context (plugwatch.rules.facts.facts_context)."""
        try:  # the common case, without a handler per rule
            return [rule for rule in self.live if rule.program.execute(facts) is True]
        except Exception:  # noqa: BLE001 - find the failing one(s) and leave them out
            out = []
            for rule in self.live:
                try:
                    if rule.program.execute(facts) is True:
                        out.append(rule)
                except Exception:  # noqa: BLE001 - any failure of one condition is "no match"
                    continue
            return out

    def get(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)


def _files(folder: Path | None) -> list[Path]:
    if folder is None:
        return []
    if not folder.is_dir():
        why = (f"a rules folder is wanted, not a file: give its folder ({folder.parent})" if folder.is_file()
               else "rules folder not found")
        raise RuleSetError([RuleError(str(folder), None, None, why)])
    return rule_files(folder)


def load(folder: Path | None) -> RuleSet:
    """The default rules overlaid with the folder's; RuleSetError listing every broken file."""
    errors: list[RuleError] = []
    rules: dict[str, Rule] = {}
    sources: dict[str, bytes] = {}
    for path in rule_files(DEFAULT_DIR):
        data = path.read_bytes()
        rule = load_bytes(data, f"default:{path.name}", path.stem)
        rules[rule.name], sources[rule.name] = rule, data
    site: dict[str, str] = {}
    for path in _files(folder):
        try:
            rule = load_file(path)
        except RuleError as e:
            errors.append(e)
            continue
        if rule.name in site:
            errors.append(RuleError(str(path), None, rule.name, f"another file ({site[rule.name]}) has this name"))
            continue
        site[rule.name] = str(path)
        rules[rule.name], sources[rule.name] = rule, path.read_bytes()
    if errors:
        raise RuleSetError(errors)
    return RuleSet(tuple(rules.values()), str(folder) if folder else None, sources)


def from_sources(stored: list[tuple[str, str, str]]) -> RuleSet:
    """A set rebuilt from what a database last loaded: (name, path, source) rows."""
    rules = [load_bytes(src.encode("utf-8"), path, name) for name, path, src in stored]
    return RuleSet(tuple(rules), None, {r.name: src.encode("utf-8") for r, (_, _, src) in zip(rules, stored,
                                                                                                 strict=True)})


def check(folder: Path) -> list[RuleError]:
    """Every problem in a rules folder, without loading it anywhere."""
    try:
        load(folder)
    except RuleSetError as e:
        return e.errors
    return []
