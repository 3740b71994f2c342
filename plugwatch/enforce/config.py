"""The site configuration: which platforms are connected, how to reach them, what each effect does there.

A TOML file named by `--config` or $PLUGWATCH_CONFIG (README, "Acting on platforms"):

    [notices]
    language = "en"
    appeal = "Reply to this message or write to appeals@social.example within 6 months."

    [backends.social]                 # a name of your choosing
    kind = "mastodon"                 # mastodon | ozone | webhook | dryrun
    platforms = ["mastodon"]          # items of these platforms go to it
    url = "https://social.example"
    token = { env = "PLUGWATCH_MASTODON_TOKEN" }   # or { file = "/etc/plugwatch/mastodon.token" }
    shadow = true                     # record what would be sent, send nothing

    [backends.social.operations]      # effect -> platform operation; "log" records without sending
    suspend_account = "suspend"

Credentials are references (an environment variable or a file) read by the worker when it sends:
never the secret itself, so the database, the outbox and the logs never see one.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plugwatch.actions import EFFECTS
from plugwatch.errors import UserError

CONFIG_ENV = "PLUGWATCH_CONFIG"
KINDS = ("dryrun", "webhook", "mastodon", "ozone")
OTHER_SECTIONS = ("sources", "push")  # live intake's connectors, signed push (README, "Live intake")
LOG = "log"  # the operation that records what would be sent and sends nothing
DEFAULT_MAX_ATTEMPTS = 8
EEA = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS", "IT",
       "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK")


@dataclass(frozen=True)
class Secret:
    """Where a credential is: an environment variable or a file. Its value is read only to send."""

    where: str  # "env" or "file"
    name: str
    origin: str  # "FILE: backends.x.token", for messages

    def read(self) -> str:
        if self.where == "env":
            value = (os.environ.get(self.name) or "").strip()
            if not value:  # set to blanks is not set: an empty HMAC key would accept anyone's signature
                raise UserError(f"{self.origin}: the environment variable {self.name} is not set")
            return value
        try:
            value = Path(self.name).expanduser().read_text(encoding="utf-8").strip()
        except OSError as e:
            raise UserError(f"{self.origin}: cannot read {self.name} ({e.strerror})") from None
        if not value:
            raise UserError(f"{self.origin}: {self.name} is empty")
        return value


@dataclass(frozen=True)
class BackendConfig:
    name: str
    kind: str
    platforms: tuple[str, ...]
    operations: dict[str, str]  # effect -> operation (LOG: dry run for that effect)
    shadow: bool = False
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    timeout: float = 10.0
    url: str = ""
    secrets: dict[str, Secret] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def serves(self, platform: str) -> bool:
        return "*" in self.platforms or platform in self.platforms

    def secret(self, key: str) -> str:
        if key not in self.secrets:
            raise UserError(f"backend {self.name}: no `{key}` configured")
        return self.secrets[key].read()


@dataclass(frozen=True)
class DsaConfig:
    territorial_scope: tuple[str, ...] = EEA
    decision_ground: str = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    ground_text: str = "Our rules prohibit offering controlled substances for sale"
    ground_url: str | None = None
    legal_ground: str = "Sale of controlled substances (national narcotics law)"
    source_type: str = "SOURCE_VOLUNTARY"  # plugwatch finds the items itself
    submit_url: str | None = None  # the Transparency Database's statement endpoint
    secrets: dict[str, Secret] = field(default_factory=dict)
    max_attempts: int = DEFAULT_MAX_ATTEMPTS

    @property
    def submits(self) -> bool:
        return bool(self.submit_url and "token" in self.secrets)


@dataclass(frozen=True)
class SiteConfig:
    path: str | None = None
    backends: dict[str, BackendConfig] = field(default_factory=dict)
    language: str = "en"
    appeal: str = "You can appeal this decision by replying to this notice."
    policy_url: str | None = None
    dsa: DsaConfig = field(default_factory=DsaConfig)
    # Sections other stages read (plugwatch.intake: [sources.NAME]; the service: [push.NAME]), as given.
    sections: dict[str, Any] = field(default_factory=dict)

    def secret_values(self) -> list[str]:
        """Every configured secret that can be read now (to keep them out of errors and logs)."""
        refs = [s for b in self.backends.values() for s in b.secrets.values()] + list(self.dsa.secrets.values())
        values = []
        for ref in refs:
            try:
                values.append(ref.read())
            except UserError:
                continue
        return [v for v in values if v]


EMPTY = SiteConfig()

# The credentials a back-end of each kind cannot send without (a webhook's `secret` is optional).
REQUIRED_SECRETS = {"mastodon": ("token",), "ozone": ("password",)}


def missing_credentials(cfg: SiteConfig) -> list[str]:
    """What a worker could not send with now: for each live back-end (not `shadow`, not `dryrun`) a
    required credential not configured, or any configured one that cannot be read (an unset
    environment variable, an unreadable or empty file); the same for the DSA submission token. One
    line each, naming the back-end and the variable or file."""
    problems = []
    for backend in cfg.backends.values():
        if backend.shadow or backend.kind == "dryrun" or all(op in (None, LOG) for op in backend.operations.values()):
            continue
        for key in REQUIRED_SECRETS.get(backend.kind, ()):
            if key not in backend.secrets:
                problems.append(f"{cfg.path}: backends.{backend.name}: the {backend.kind} back-end needs `{key}` "
                                f"({{ env = \"VARIABLE\" }} or {{ file = \"/path\" }})")
        refs = list(backend.secrets.values())
        problems.extend(_unreadable(refs))
    if cfg.dsa.submits:
        problems.extend(_unreadable(cfg.dsa.secrets.values()))
    return problems


def _unreadable(refs) -> list[str]:
    out = []
    for ref in refs:
        try:
            ref.read()
        except UserError as e:
            out.append(str(e))
    return out


def _secret(value: Any, origin: str) -> Secret:
    if isinstance(value, dict) and len(value) == 1 and ("env" in value or "file" in value):
        where = "env" if "env" in value else "file"
        if isinstance(value[where], str) and value[where]:
            return Secret(where, value[where], origin)
    raise UserError(f"{origin}: give a credential as {{ env = \"VARIABLE\" }} or {{ file = \"/path\" }}, "
                    "never the secret itself")


_SECRET_KEYS = ("token", "secret", "password")


def kind_of(raw: Any, origin: str, kinds) -> str:
    """The `kind` of a configuration table (a back-end, a source); a UserError naming the key otherwise."""
    if not isinstance(raw, dict):
        raise UserError(f"{origin}: expected a table")
    kind = raw.get("kind")
    if kind not in kinds:
        raise UserError(f"{origin}.kind: {kind!r} is not one of {', '.join(kinds)}")
    return kind


def _backend(name: str, raw: Any, where: str) -> BackendConfig:
    from plugwatch.enforce.backends import default_operations, operations_of

    origin = f"{where}: backends.{name}"
    kind = kind_of(raw, origin, KINDS)
    platforms = raw.get("platforms", ["*"])
    if isinstance(platforms, str):
        platforms = [platforms]
    if not isinstance(platforms, list) or not all(isinstance(p, str) for p in platforms):
        raise UserError(f"{origin}.platforms: a list of platform names (e.g. [\"mastodon\"]) or [\"*\"]")
    operations = dict(default_operations(kind))
    given = raw.get("operations", {})
    if not isinstance(given, dict):
        raise UserError(f"{origin}.operations: expected a table of effect = \"operation\"")
    known = operations_of(kind)
    for effect, op in given.items():
        if effect not in EFFECTS:
            raise UserError(f"{origin}.operations.{effect}: not an effect; one of {', '.join(EFFECTS)}")
        if op is not None and op not in known and op != LOG:
            raise UserError(f"{origin}.operations.{effect}: {op!r} is not a {kind} operation; one of "
                            f"{', '.join(sorted(known))} or \"log\"")
        operations[effect] = op
    secrets = {k: _secret(raw[k], f"{origin}.{k}") for k in _SECRET_KEYS if k in raw}
    url = raw.get("url", "")
    if kind in ("webhook", "mastodon", "ozone") and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        raise UserError(f"{origin}.url: the {kind} back-end needs an http(s) URL")
    max_attempts = raw.get("max_attempts", DEFAULT_MAX_ATTEMPTS)
    if not isinstance(max_attempts, int) or max_attempts < 1:
        raise UserError(f"{origin}.max_attempts: a whole number of at least 1")
    timeout = raw.get("timeout", 10.0)
    if not isinstance(timeout, int | float) or timeout <= 0:
        raise UserError(f"{origin}.timeout: seconds, more than 0")
    reserved = {"kind", "platforms", "operations", "shadow", "max_attempts", "timeout", "url", *_SECRET_KEYS}
    options = {k: v for k, v in raw.items() if k not in reserved}
    return BackendConfig(name=name, kind=kind, platforms=tuple(platforms), operations=operations,
                         shadow=bool(raw.get("shadow", False)), max_attempts=max_attempts, timeout=float(timeout),
                         url=url.rstrip("/") if isinstance(url, str) else "", secrets=secrets, options=options)


def _dsa(raw: Any, where: str) -> DsaConfig:
    if not isinstance(raw, dict):
        raise UserError(f"{where}: dsa: expected a table")
    scope = raw.get("territorial_scope", "EEA")
    if scope == "EEA":
        scope = list(EEA)
    if not isinstance(scope, list) or not scope or any(c not in EEA for c in scope):
        raise UserError(f"{where}: dsa.territorial_scope: \"EEA\" or a list of EU/EEA country codes such as [\"DE\", \"AT\"]")
    ground = raw.get("decision_ground", "DECISION_GROUND_INCOMPATIBLE_CONTENT")
    if ground not in ("DECISION_GROUND_INCOMPATIBLE_CONTENT", "DECISION_GROUND_ILLEGAL_CONTENT"):
        raise UserError(f"{where}: dsa.decision_ground: DECISION_GROUND_INCOMPATIBLE_CONTENT or DECISION_GROUND_ILLEGAL_CONTENT")
    source = raw.get("source_type", "SOURCE_VOLUNTARY")
    if source not in ("SOURCE_VOLUNTARY", "SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION"):
        raise UserError(f"{where}: dsa.source_type: {source!r} is not a Transparency Database source type")
    secrets = {"token": _secret(raw["token"], f"{where}: dsa.token")} if "token" in raw else {}
    defaults = DsaConfig()
    return DsaConfig(territorial_scope=tuple(scope), decision_ground=ground,
                     ground_text=str(raw.get("ground", defaults.ground_text))[:500],
                     ground_url=raw.get("ground_url"), legal_ground=str(raw.get("legal_ground", defaults.legal_ground))[:500],
                     source_type=source, submit_url=raw.get("submit_url"), secrets=secrets)


def _check_push(raw: Any, where: str) -> None:
    """[push.NAME] tables hold one key, `secret`, given by reference. A table that did not (a misspelt
    key) was found only when each push was refused as from an unknown source."""
    if not isinstance(raw, dict):
        raise UserError(f"{where}: push: expected [push.NAME] tables")
    for name, table in raw.items():
        if not isinstance(table, dict) or set(table) != {"secret"}:
            keys = ", ".join(sorted(table)) if isinstance(table, dict) else type(table).__name__
            raise UserError(f"{where}: push.{name}: takes one key, secret = {{ env = \"VARIABLE\" }} or "
                            f"{{ file = \"/path\" }} (found: {keys or 'nothing'})")
        _secret(table["secret"], f"{where}: push.{name}.secret")


def parse(text: str, where: str = "configuration") -> SiteConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{where}: not valid TOML: {e}") from None
    unknown = set(raw) - {"backends", "notices", "dsa", *OTHER_SECTIONS}
    if unknown:
        raise UserError(f"{where}: unknown section {', '.join(sorted(unknown))} "
                        f"(known: backends, notices, dsa, {', '.join(OTHER_SECTIONS)})")
    backends_raw = raw.get("backends", {})
    if not isinstance(backends_raw, dict):
        raise UserError(f"{where}: backends: expected [backends.NAME] tables")
    backends = {name: _backend(name, value, where) for name, value in backends_raw.items()}
    notices = raw.get("notices", {})
    if not isinstance(notices, dict):
        raise UserError(f"{where}: notices: expected a table")
    from plugwatch.enforce.notices import LANGUAGES

    language = notices.get("language", "en")
    if language not in LANGUAGES:
        raise UserError(f"{where}: notices.language: {language!r}; templates exist for {', '.join(LANGUAGES)}")
    _check_push(raw.get("push", {}), where)
    return SiteConfig(path=where, backends=backends, language=language,
                      appeal=str(notices.get("appeal", SiteConfig.appeal)), policy_url=notices.get("policy_url"),
                      dsa=_dsa(raw.get("dsa", {}), where),
                      sections={k: raw[k] for k in OTHER_SECTIONS if k in raw})


def load(path: str | Path) -> SiteConfig:
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise UserError(f"{p}: cannot read the site configuration ({e.strerror})") from None
    return parse(text, str(p))


_cache: dict[tuple[str, float], SiteConfig] = {}


def active(path: str | None = None) -> SiteConfig:
    """The configuration at `path`, else $PLUGWATCH_CONFIG, else none (nothing connected); re-read when
    the file changes, so a running service picks up an edit."""
    where = path or os.environ.get(CONFIG_ENV)
    if not where:
        return EMPTY
    try:
        mtime = Path(where).expanduser().stat().st_mtime
    except OSError as e:
        raise UserError(f"{where}: cannot read the site configuration ({e.strerror})") from None
    key = (str(where), mtime)
    if key not in _cache:
        _cache.clear()
        _cache[key] = load(where)
    return _cache[key]
