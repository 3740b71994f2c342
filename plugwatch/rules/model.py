"""A rule file: what it says, checked before anything uses it.

One rule per YAML file (`*.yaml` / `*.yml`):

    description: offers with a Wickr contact from accounts under a week old go to a lead
    owner: trust-safety@example.org
    when: verdict.kind == "offer" && "wickr" in identifiers.types && account.age_days < 7.0
    action: {queue: leads}
    mode: shadow

`name` defaults to the file name without its extension. `mode` is `active` (its effects happen),
`shadow` (its matches are recorded with what it would have done, nothing happens) or `off`.
A rule's version is the SHA-256 of its file's bytes (the first 12 hex digits are shown).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cel
import yaml

from plugwatch.actions import ACTIONS, POLICY_REASONS, reason_fits
from plugwatch.rules.schema import FIELDS, samples

MODES = ("active", "shadow", "off")
KEYS = ("name", "description", "owner", "when", "action", "mode")
NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")
FLAG_EFFECTS = ("review", "hold_evidence", "require_two_reviewers")
LEADS = "leads"  # the queue whose tasks only a lead may take
EFFECT_KEYS = ("review", "queue", "boost", "label", "labels", "hold_evidence", "apply", "reason",
               "dry_run", "require_two_reviewers")


class RuleError(ValueError):
    """A rule file that cannot be used: says which file, which line and which rule."""

    def __init__(self, path: str, line: int | None, rule: str | None, message: str):
        # One line per problem (`rules check`, logs, audit): CEL's own messages can span several, e.g. a bad
        # regular expression's parser output with a caret line under the pattern.
        message = " ".join(part for part in (ln.strip() for ln in message.splitlines()) if part.strip("^~ "))
        self.path, self.line, self.rule, self.message = path, line, rule, message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: " + (f"rule {rule}: " if rule else "") + message)


def automatable(action: str) -> bool:
    """Actions a rule may take on its own: final, delivered unattended (actions.py `automatable`), and
    within a reviewer's rights (a rule never takes a lead's action such as suspend)."""
    spec = ACTIONS.get(action)
    return spec is not None and spec.final and spec.automatable and not spec.needs_lead


@dataclass(frozen=True)
class Effects:
    review: bool = False  # queue the item for review even if the detector did not flag it
    queue: str | None = None  # a named queue (team); "leads" also makes the task a lead's
    boost: float = 0.0  # added to the task's priority
    labels: tuple[str, ...] = ()
    hold_evidence: bool = False  # a legal hold on the item: retention keeps it
    apply: str | None = None  # an action taken at once, recorded as automated
    reason: str | None = None  # the policy reason `apply` cites
    dry_run: str | None = None  # a back-end the action would be sent to, in dry run (recorded only)
    require_two_reviewers: bool = False  # queued; two independent reviewers must agree (else a lead decides)

    @property
    def queues(self) -> bool:
        return (self.review or self.queue is not None or self.boost != 0 or self.apply is not None
                or self.require_two_reviewers)

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (False, None, 0, 0.0, ())}


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    owner: str
    when: str
    action: Effects
    mode: str
    path: str
    version: str  # sha256 of the file's bytes
    program: Any = field(compare=False, repr=False)
    variables: frozenset[str] = frozenset()  # the schema's variables the condition reads
    fields: frozenset[tuple[str, str]] = frozenset()  # (variable, field) pairs it may read

    @property
    def short_version(self) -> str:
        return self.version[:12]

    def matches(self, facts: dict[str, Any]) -> bool:
        return self.program.execute(facts) is True


def _lines(text: str) -> dict[str, tuple[int, Any]]:
    """Top-level key -> (1-based line of its value, the value node)."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    out: dict[str, tuple[int, Any]] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out[str(key.value)] = (value.start_mark.line + 1, value)
    return out


def _expr_line(line: int, node: Any, message: str) -> int:
    """The file line of a CEL error: the value's line plus the error's line inside the expression
    (a block scalar `when: |` starts on the next line)."""
    m = re.search(r"<input>:(\d+):\d+", message)
    inner = int(m.group(1)) if m else 1
    block = getattr(node, "style", None) in ("|", ">")
    return line + (1 if block else 0) + inner - 1


def _token_line(when: str, token: str) -> int:
    """The line of the expression (1-based) where `.token` first appears."""
    for n, text in enumerate(when.splitlines(), 1):
        if re.search(rf"\.\s*{re.escape(token)}\b", text):
            return n
    return 1


def _short(message: str) -> str:
    """`syntax error at column C: what` from the extension's message (without its token list)."""
    m = re.search(r"<input>:\d+:(\d+): (?:Syntax error: )?([^\n|]*)", message)
    if not m:
        return "syntax error: " + " ".join(message.split())[:200]
    what = re.sub(r"\s*expecting \{.*", "", m.group(2)).strip()
    return f"syntax error at column {m.group(1)}: {what}"


def parse_effects(raw: Any, path: str, line: int | None, name: str) -> Effects:
    if isinstance(raw, str) and raw in FLAG_EFFECTS:
        raw = {raw: True}
    if not isinstance(raw, dict) or not raw:
        raise RuleError(path, line, name, "action must be a mapping of effects, e.g. {queue: leads} or "
                                          f"{{boost: 5}}, or one of {', '.join(FLAG_EFFECTS)}")
    unknown = sorted(set(raw) - set(EFFECT_KEYS))
    if unknown:
        raise RuleError(path, line, name, f"unknown effect {unknown[0]!r}: one of {', '.join(EFFECT_KEYS)}")
    kw: dict[str, Any] = {}
    for flag in FLAG_EFFECTS:
        if flag in raw:
            if not isinstance(raw[flag], bool):
                raise RuleError(path, line, name, f"{flag} must be true or false")
            kw[flag] = raw[flag]
    if "queue" in raw:
        if not isinstance(raw["queue"], str) or not NAME.match(raw["queue"]):
            raise RuleError(path, line, name, "queue must be a team name (lower case letters, digits, - _ .)")
        kw["queue"] = raw["queue"]
    if "boost" in raw:
        if isinstance(raw["boost"], bool) or not isinstance(raw["boost"], int | float) or abs(raw["boost"]) > 1000:
            raise RuleError(path, line, name, "boost must be a number of priority points (-1000 to 1000)")
        kw["boost"] = float(raw["boost"])
    labels = raw.get("labels", raw.get("label"))
    if labels is not None:
        labels = [labels] if isinstance(labels, str) else labels
        if not isinstance(labels, list) or not all(isinstance(x, str) and NAME.match(x) for x in labels):
            raise RuleError(path, line, name, "label(s) must be names (lower case letters, digits, - _ .)")
        kw["labels"] = tuple(labels)
    if "apply" in raw:
        act = raw["apply"]
        if not isinstance(act, str) or not automatable(act):
            ok = [a for a in ACTIONS if automatable(a)]
            raise RuleError(path, line, name, f"apply: {act!r} is not an action a rule may take on its own "
                                              f"(one of {', '.join(ok)}, as plugwatch/actions.py marks them)")
        reason = raw.get("reason")
        if reason not in POLICY_REASONS or not reason_fits(act, reason):
            fitting = [c for c in POLICY_REASONS if reason_fits(act, c)]
            raise RuleError(path, line, name, f"apply: {act} needs a fitting policy reason: reason: one of "
                                              f"{', '.join(fitting)}")
        kw["apply"], kw["reason"] = act, reason
    elif "reason" in raw:
        raise RuleError(path, line, name, "reason is the policy reason of apply: give apply too")
    if "dry_run" in raw:
        if not isinstance(raw["dry_run"], str) or not raw["dry_run"]:
            raise RuleError(path, line, name, "dry_run must name a back-end of the site configuration")
        if "apply" not in kw:
            raise RuleError(path, line, name, "dry_run sends the effect of apply: give apply too")
        kw["dry_run"] = raw["dry_run"]
    if kw.get("require_two_reviewers") and "apply" in kw:
        raise RuleError(path, line, name, "require_two_reviewers asks people to decide: it cannot go with apply")
    if kw.get("queue") == LEADS and "apply" in kw:
        raise RuleError(path, line, name, "queue: leads asks a lead to decide: it cannot go with apply")
    return Effects(**kw)


def compile_condition(when: str, path: str, line: int, node: Any, name: str) -> tuple[Any, frozenset, frozenset]:
    """Compile and type-check `when`: it must parse, read only the schema's fields with the right
    types, and give a bool."""
    try:
        program = cel.compile(when)
    except Exception as e:  # the extension raises ValueError for syntax errors; be safe with others
        raise RuleError(path, _expr_line(line, node, str(e)), name, _short(str(e))) from None
    bound = set(re.findall(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,", when))
    unknown = sorted(set(program.variables()) - set(FIELDS) - bound)
    if unknown:
        where = next((n for n, text in enumerate(when.splitlines(), 1)
                      if re.search(rf"(?<![\w.]){re.escape(unknown[0])}\b", text)), 1)
        raise RuleError(path, _expr_line(line, node, f"<input>:{where}:1"), name,
                        f"unknown name {unknown[0]!r}: the condition sees {', '.join(FIELDS)}")
    for sample in samples():
        try:
            result = program.execute(sample)
        except KeyError as e:
            where = _token_line(when, str(e.args[0]))
            raise RuleError(path, _expr_line(line, node, f"<input>:{where}:1"), name,
                            f"no field {e.args[0]!r} in the condition's object (see `plugwatch rules schema`)") from None
        except Exception as e:
            msg = str(e).split(". ")[0]
            raise RuleError(path, line, name, f"type error: {msg}") from None
        if not isinstance(result, bool):
            raise RuleError(path, line, name, f"the condition must be true or false, not a {type(result).__name__}")
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", when))
    variables = frozenset(v for v in program.variables() if v in FIELDS)
    fields = frozenset((v, f) for v in variables for f in FIELDS[v] if f in words)
    return program, variables, fields


def load_file(path: Path) -> Rule:
    """A checked rule, or a RuleError naming the file, line and rule."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise RuleError(str(path), None, None, f"cannot read: {e.strerror}") from None
    return load_bytes(data, str(path), path.stem)


def load_bytes(data: bytes, where: str, default_name: str) -> Rule:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RuleError(where, None, default_name, f"not UTF-8 (byte {e.start})") from None
    try:
        doc = yaml.safe_load(text)
        lines = _lines(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise RuleError(where, mark.line + 1 if mark else None, default_name,
                        f"not valid YAML: {getattr(e, 'problem', None) or e}") from None
    if not isinstance(doc, dict):
        raise RuleError(where, 1, default_name, "a rule file is a mapping with " + ", ".join(KEYS))
    name = doc.get("name", default_name)
    if not isinstance(name, str) or not NAME.match(name):
        if "name" not in doc:  # the name comes from the file name: say so, not "name:" at line 1
            raise RuleError(where, None, str(name), f"the file name makes the rule's name {name!r}: rename the file "
                                                    "or give a name: (lower case letters, digits, - _ ., up to 80)")
        raise RuleError(where, lines.get("name", (1,))[0], str(name), "name: lower case letters, digits, - _ . "
                                                                        "(up to 80)")
    unknown = sorted(set(doc) - set(KEYS))
    if unknown:
        raise RuleError(where, lines[unknown[0]][0], name, f"unknown key {unknown[0]!r}: one of {', '.join(KEYS)}")
    for key in ("description", "owner", "when", "action"):
        if key not in doc or doc[key] in (None, ""):
            raise RuleError(where, None, name, f"{key} is missing")
    for key in ("description", "owner", "when"):
        if not isinstance(doc[key], str):
            if key == "when" and isinstance(doc[key], (bool, int, float)):
                # `when: true` is a CEL condition, but YAML reads it as a boolean before CEL sees it.
                word = str(doc[key]).lower() if isinstance(doc[key], bool) else str(doc[key])
                raise RuleError(where, lines[key][0], name, f"when must be a condition as text: YAML read {word} "
                                                            f"as a {'boolean' if isinstance(doc[key], bool) else 'number'}; quote it "
                                                            f"(when: \"{word}\")")
            raise RuleError(where, lines[key][0], name, f"{key} must be text")
    mode = doc.get("mode", "shadow")
    if mode not in MODES:
        raise RuleError(where, lines.get("mode", (None,))[0], name, f"mode {mode!r}: one of {', '.join(MODES)}")
    effects = parse_effects(doc["action"], where, lines["action"][0], name)
    line, node = lines["when"]
    program, variables, fields = compile_condition(doc["when"], where, line, node, name)
    return Rule(name=name, description=doc["description"].strip(), owner=doc["owner"].strip(),
                when=doc["when"].strip(), action=effects, mode=mode, path=where,
                version=hashlib.sha256(data).hexdigest(), program=program, variables=variables, fields=fields)


def rule_files(folder: Path) -> list[Path]:
    # Any case of the suffix: a rule saved as RULE.YAML was left out without a word.
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".yaml", ".yml") and not p.name.startswith("."))
