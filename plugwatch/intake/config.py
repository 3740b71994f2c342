"""Connectors in the site configuration (the TOML file `--config` or $PLUGWATCH_CONFIG names):

    [sources.bsky]
    kind = "jetstream"
    url = "wss://jetstream2.us-east.bsky.network/subscribe"     # the default
    collections = ["app.bsky.feed.post", "app.bsky.actor.profile"]  # the default
    dids = ["did:plc:..."]            # optional: only these accounts (Jetstream's wantedDids)

    [sources.social]
    kind = "mastodon"
    url = "https://social.example"
    token = { env = "PLUGWATCH_MASTODON_TOKEN" }   # read:statuses; admin:read:reports, admin:write:reports for reports
    stream = "public"                 # public | local | hashtag:NAME | none
    reports = true                    # poll the admin reports endpoint (reports arrive as reports)
    report_reason = "drug_sale"       # the policy reason such reports cite
    resolve_reports = true            # tell the server (resolve the report) once a decision is taken
    poll_seconds = 60

Common to both: `buffer` (events held while scoring catches up, 10000; from half full on, only the
cheap stage scores until it drains), `batch` (events scored together, 100), `backoff_min` and
`backoff_max` (seconds before the first reconnection, and at most between two: 1 and 60).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plugwatch.enforce import config as site_config
from plugwatch.enforce.config import Secret, kind_of
from plugwatch.errors import UserError
from plugwatch.store.reports import REPORTABLE

KINDS = ("jetstream", "mastodon")
JETSTREAM_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
JETSTREAM_COLLECTIONS = ("app.bsky.feed.post", "app.bsky.actor.profile")


@dataclass(frozen=True)
class SourceConfig:
    name: str
    kind: str
    url: str
    buffer: int = 10_000
    batch: int = 100
    backoff_max: float = 60.0
    backoff_min: float = 1.0
    collections: tuple[str, ...] = JETSTREAM_COLLECTIONS
    dids: tuple[str, ...] = ()
    rewind_seconds: float = 5.0  # Jetstream: start a little before the cursor, so nothing falls in the gap
    stream: str = "public"
    reports: bool = False
    report_reason: str = "drug_sale"
    resolve_reports: bool = False
    poll_seconds: float = 60.0
    token: Secret | None = None
    options: dict[str, Any] = field(default_factory=dict)


_COMMON_KEYS = ("kind", "url", "buffer", "batch", "backoff_min", "backoff_max")
KEYS = {"jetstream": (*_COMMON_KEYS, "collections", "dids", "rewind_seconds"),
        "mastodon": (*_COMMON_KEYS, "token", "stream", "reports", "report_reason", "resolve_reports", "poll_seconds")}


def _flag(raw: dict, key: str, origin: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):  # bool("no") is True
        raise UserError(f"{origin}.{key}: true or false, not {value!r}")
    return value


def _number(raw: dict, key: str, default: float, origin: str, minimum: float = 0.0, whole: bool = False):
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum or (whole and not isinstance(value, int)):
        kind = "a whole number" if whole else "a number"
        raise UserError(f"{origin}.{key}: {kind} of at least {minimum:g}")
    return value


def parse_source(name: str, raw: Any, where: str) -> SourceConfig:
    origin = f"{where}: sources.{name}"
    kind = kind_of(raw, origin, KINDS)
    unknown = sorted(set(raw) - set(KEYS[kind]))
    if unknown:  # a misspelt key was ignored: `did = [...]` watched every account, `report = true` no reports
        raise UserError(f"{origin}: unknown key {', '.join(unknown)} (a {kind} source takes {', '.join(KEYS[kind])})")
    default_url = JETSTREAM_URL if kind == "jetstream" else ""
    url = raw.get("url", default_url)
    schemes = ("ws://", "wss://") if kind == "jetstream" else ("http://", "https://")
    if not isinstance(url, str) or not url.startswith(schemes):
        raise UserError(f"{origin}.url: the {kind} connector needs a {' or '.join(s[:-3] for s in schemes)} URL")
    common = dict(buffer=_number(raw, "buffer", 10_000, origin, 10, True), batch=_number(raw, "batch", 100, origin, 1, True),
                  backoff_max=float(_number(raw, "backoff_max", 60.0, origin, 0.01)),
                  backoff_min=float(_number(raw, "backoff_min", 1.0, origin, 0.01)))
    if kind == "jetstream":
        collections = raw.get("collections", list(JETSTREAM_COLLECTIONS))
        dids = raw.get("dids", [])
        for key, value in (("collections", collections), ("dids", dids)):
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise UserError(f"{origin}.{key}: a list of strings")
        return SourceConfig(name, kind, url, collections=tuple(collections), dids=tuple(dids),
                            rewind_seconds=float(_number(raw, "rewind_seconds", 5.0, origin)), **common)
    stream = raw.get("stream", "public")
    if not isinstance(stream, str) or not (stream in ("public", "local", "none") or
                                           (stream.startswith("hashtag:") and len(stream) > 8)):
        raise UserError(f"{origin}.stream: public, local, hashtag:NAME or none")
    reason = raw.get("report_reason", "drug_sale")
    if reason not in REPORTABLE:
        raise UserError(f"{origin}.report_reason: {reason!r} is not one of {', '.join(REPORTABLE)}")
    token = site_config._secret(raw["token"], f"{origin}.token") if "token" in raw else None
    return SourceConfig(name, kind, url.rstrip("/"), stream=stream, reports=_flag(raw, "reports", origin),
                        report_reason=reason, resolve_reports=_flag(raw, "resolve_reports", origin),
                        poll_seconds=float(_number(raw, "poll_seconds", 60.0, origin, 0.05)), token=token, **common)


def sources(config_path: str | None = None) -> dict[str, SourceConfig]:
    cfg = site_config.active(config_path)
    raw = cfg.sections.get("sources") or {}
    if not isinstance(raw, dict):
        raise UserError(f"{cfg.path}: sources: expected [sources.NAME] tables")
    return {name: parse_source(name, value, cfg.path or "configuration") for name, value in raw.items()}


def source(name: str, config_path: str | None = None) -> SourceConfig:
    found = sources(config_path)
    if name not in found:
        where = config_path or "$PLUGWATCH_CONFIG"
        known = ", ".join(sorted(found)) or "none"
        raise UserError(f"no [sources.{name}] in the site configuration ({where}); configured: {known}")
    return found[name]
