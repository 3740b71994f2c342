"""The object a condition sees (plugwatch.rules.schema), built for a batch of items.

Only what the loaded rules read is built: the variables their conditions name and, in each, the
fields whose names appear in them. That keeps evaluation cheap (converting a value into CEL costs
more than evaluating it), at ingest and over a million stored items in a backtest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import cel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugwatch.detect.tactics import techniques_for_record
from plugwatch.records import utc_time
from plugwatch.rules.schema import FIELDS, UNKNOWN_AGE_DAYS
from plugwatch.store.schema import Account, AccountIdentifier, Identifier, Item, Strike, utcnow

Need = dict[str, frozenset[str]]  # variable -> fields to build
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def need_of(rules: Iterable[Any]) -> Need:
    out: dict[str, set[str]] = {}
    for rule in rules:
        for var in rule.variables:
            out.setdefault(var, set())
        for var, name in rule.fields:
            out[var].add(name)
    return {v: frozenset(f) for v, f in out.items()}


@dataclass
class Lookups:
    """What the store knows beyond the item: accounts, networks, identifier sharing, watch lists."""
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)
    sharing: dict[tuple[str, str], int] = field(default_factory=dict)  # (type, canonical) -> accounts
    watched: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def load(cls, session: Session, account_keys: Iterable[str] | None, pairs: Iterable[tuple[str, str]] | None,
             need: Need, now: datetime | None = None) -> Lookups:
        """Lookups for these accounts and identifier pairs (None: all of them, for a backtest)."""
        now = now or utcnow()
        out = cls()
        keys = None if account_keys is None else sorted(set(account_keys))
        if "account" in need or "network" in need:
            out.accounts = _accounts(session, keys, need.get("account", frozenset()), now)
        if "network" in need:
            nets = {a["network_id"] for a in out.accounts.values() if a.get("network_id")}
            out.networks = _networks(session, nets)
        wanted = need.get("identifiers", frozenset())
        pair_list = None if pairs is None else sorted({p for p in pairs if p[0] and p[1]})
        if "max_accounts" in wanted:
            out.sharing = _sharing(session, pair_list)
        if "watched" in wanted:
            out.watched = _watched(session, pair_list, now)
        return out


def _chunks(seq: list, n: int = 500):
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _accounts(session: Session, keys: list[str] | None, fields: frozenset[str], now: datetime) -> dict[str, dict]:
    cols = (Account.key, Account.handle, Account.created_at, Account.followers, Account.suspended_at,
            Account.network_id)
    rows = []
    if keys is None:
        rows = session.execute(select(*cols)).all()
    else:
        for chunk in _chunks(keys):
            rows.extend(session.execute(select(*cols).where(Account.key.in_(chunk))).all())
    out = {k: {"handle": h or "", "created_at": c, "followers": f or 0, "suspended": s is not None,
               "network_id": n, "strikes": 0, "items": 0, "score": 0.0} for k, h, c, f, s, n in rows}
    if not out:
        return out
    if "strikes" in fields:
        q = (select(Strike.account_key, func.count()).where(Strike.expires_at > now, Strike.revoked_at.is_(None))
             .group_by(Strike.account_key))
        for key, n in _by_keys(session, q, Strike.account_key, keys):
            if key in out:
                out[key]["strikes"] = n
    if fields & {"items", "score"}:
        q = select(Item.account_key, func.count(), func.max(Item.score)).group_by(Item.account_key)
        for key, n, best in _by_keys(session, q, Item.account_key, keys):
            if key in out:
                out[key]["items"], out[key]["score"] = n, float(best or 0.0)
    return out


def _by_keys(session: Session, query, column, keys: list[str] | None):
    if keys is None:
        yield from session.execute(query).all()
        return
    for chunk in _chunks(keys):
        yield from session.execute(query.where(column.in_(chunk))).all()


def _networks(session: Session, nets: set[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(nets)):
        rows = session.execute(select(Account.network_id, Account.platform, func.count(), func.max(Item.score))
                               .outerjoin(Item, Item.account_key == Account.key)
                               .where(Account.network_id.in_(chunk))
                               .group_by(Account.network_id, Account.platform)).all()
        members = dict(session.execute(select(Account.network_id, func.count()).where(Account.network_id.in_(chunk))
                                       .group_by(Account.network_id)).all())
        for net, platform, _, best in rows:
            n = out.setdefault(net, {"size": members.get(net, 1), "platforms": set(), "score": 0.0})
            n["platforms"].add(platform)
            n["score"] = max(n["score"], float(best or 0.0))
    for n in out.values():
        n["platforms"] = sorted(n["platforms"])
    return out


def _sharing(session: Session, pairs: list[tuple[str, str]] | None) -> dict[tuple[str, str], int]:
    q = (select(Identifier.type, Identifier.canonical, func.count(AccountIdentifier.account_key))
         .join(AccountIdentifier, AccountIdentifier.identifier_id == Identifier.id)
         .group_by(Identifier.type, Identifier.canonical))
    if pairs is None:
        return {(t, c): n for t, c, n in session.execute(q).all()}
    out = {}
    for chunk in _chunks(sorted({c for _, c in pairs})):
        for t, c, n in session.execute(q.where(Identifier.canonical.in_(chunk))).all():
            out[(t, c)] = n
    return out


def _watched(session: Session, pairs: list[tuple[str, str]] | None, now: datetime) -> set[tuple[str, str]]:
    from plugwatch.share.matching import match_identifiers
    from plugwatch.store.sharing_tables import WatchEntry

    if session.scalars(select(WatchEntry.id).limit(1)).first() is None:
        return set()
    if pairs is None:
        pairs = [(t, c) for t, c in session.execute(select(Identifier.type, Identifier.canonical)).all()]
    return {p for p in pairs if match_identifiers(session, [p], now)}


def _list(values) -> list[str]:
    return [str(v) for v in values or () if v is not None]


def item_facts(item: dict[str, Any], lookups: Lookups, need: Need) -> dict[str, Any]:
    """The condition's object for one item. `item` has the stored item's fields: id, text, platform,
    kind, created_at, received_at, reach, score, flagged, offer_kind, drugs, reasons, identifiers,
    record, account_key (a scan record is turned into this by `from_record`)."""
    out: dict[str, Any] = {}
    for var, wanted in need.items():
        built = _BUILDERS[var](item, lookups, wanted)
        # Only the fields the rules name: handing a value to CEL costs more than evaluating it.
        out[var] = {k: v for k, v in built.items() if k in wanted}
    return out


class LazyFacts:
    """The same object, each variable built only when a condition first reads it (CEL asks for it
    through a resolver): `verdict.kind == "offer" && ...` never builds the rest for other items."""

    __slots__ = ("item", "lookups", "need", "built")

    def __init__(self, item: dict[str, Any], lookups: Lookups, need: Need):
        self.item, self.lookups, self.need, self.built = item, lookups, need, {}

    def __call__(self, name: str) -> Any:
        if name not in self.need:
            return None  # not ours: CEL looks further (comprehension variables)
        value = self.built.get(name)
        if value is None:
            wanted = self.need[name]
            full = _BUILDERS[name](self.item, self.lookups, wanted)
            value = self.built[name] = {k: v for k, v in full.items() if k in wanted}
        return value

    def context(self):
        ctx = cel.Context()
        ctx.set_variable_resolver(self)
        return ctx


def facts_context(item: dict[str, Any], lookups: Lookups, need: Need, rules: int = 1):
    """A CEL context for `item`'s object. For one or two rules it is built lazily (see LazyFacts); for
    more, once, up front: the resolver is asked again at every reference, so with many rules handing
    CEL each variable once is cheaper."""
    lazy = LazyFacts(item, lookups, need)
    if rules <= 2:
        return lazy.context()
    return cel.Context({name: lazy(name) for name in need})


def from_record(rec: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A scan record (as ingest receives it) in the stored item's shape."""
    return {"id": rec["id"], "text": rec.get("text") or "", "platform": rec.get("platform") or rec["id"].split(":")[0],
            "kind": rec.get("item_kind") or "post", "created_at": _Unparsed(rec.get("created_at") or ""), "received_at": now,
            "reach": rec.get("reach"), "score": rec.get("score"), "flagged": bool(rec.get("flagged")),
            "offer_kind": rec.get("kind"), "drugs": rec.get("drugs"), "reasons": rec.get("reasons"),
            "identifiers": rec.get("identifiers"), "record": rec, "account_key": rec.get("author")}


class _Unparsed(str):
    """A record's time as given: parsed only if a condition reads it (parsing costs more than a rule)."""


def _posted(item) -> datetime | None:
    """When the item was posted, else received (the time read from a record is parsed here, once)."""
    created = item.get("created_at")
    if isinstance(created, _Unparsed):
        created = item["created_at"] = utc_time(created) if created else None
    return created or item.get("received_at")


def _post(item, lookups, wanted):
    rec = item.get("record") or {}
    out = {"text": item.get("text") or "", "platform": item.get("platform") or "", "kind": item.get("kind") or "",
           "reach": int(item.get("reach") or 0)}
    if "language" in wanted:
        lang = rec.get("language") or rec.get("lang") or ""
        out["language"] = lang if isinstance(lang, str) else ""
    if "created" in wanted:
        out["created"] = _posted(item) or _EPOCH
    return out


def _signals(item) -> list[dict]:
    return [r for r in item.get("reasons") or () if isinstance(r, dict)]


def _verdict(item, lookups, wanted):
    out = {"score": float(item.get("score") or 0.0), "flagged": bool(item.get("flagged")),
           "kind": item.get("offer_kind") or "", "drugs": _list(item.get("drugs"))}
    if "reasons" in wanted:
        out["reasons"] = sorted({r.get("signal", "") for r in _signals(item)} - {""})
    if "evidence" in wanted:
        out["evidence"] = [str(r.get("text") or "").lower() for r in _signals(item) if r.get("text")]
    if "tactics" in wanted:
        out["tactics"] = techniques_for_record(item.get("record") or {"text": item.get("text"),
                                                                      "reasons": item.get("reasons"),
                                                                      "identifiers": [{"type": t} for t, _ in
                                                                                      _pairs(item)]})
    return out


def _pairs(item) -> list[tuple[str, str]]:
    idents = item.get("identifiers") or ()
    if isinstance(idents, str):  # read as text by a backtest, decoded only for items a rule gets this far on
        idents = json.loads(idents)
    return [(i.get("type"), i.get("canonical")) for i in idents
            if isinstance(i, dict) and i.get("type") and i.get("canonical")]


def _identifiers(item, lookups, wanted):
    pairs = _pairs(item)
    out = {"types": sorted({t for t, _ in pairs}), "values": [c for _, c in pairs], "count": len(pairs)}
    if "watched" in wanted:
        out["watched"] = any(p in lookups.watched for p in pairs)
    if "max_accounts" in wanted:
        out["max_accounts"] = max((lookups.sharing.get(p, 0) for p in pairs), default=0)
    return out


def _account(item, lookups, wanted):
    acc = lookups.accounts.get(item.get("account_key") or "")
    if acc is None:
        return {"handle": "", "age_days": UNKNOWN_AGE_DAYS, "age_known": False, "followers": 0, "strikes": 0,
                "items": 0, "score": 0.0, "suspended": False}
    created = acc.get("created_at")
    posted = _posted(item)
    age = (posted - created).total_seconds() / 86400.0 if created and posted else None
    return {"handle": acc["handle"], "age_days": UNKNOWN_AGE_DAYS if age is None else max(age, 0.0),
            "age_known": age is not None, "followers": int(acc["followers"]), "strikes": acc["strikes"],
            "items": acc["items"], "score": acc["score"], "suspended": acc["suspended"]}


def _network(item, lookups, wanted):
    acc = lookups.accounts.get(item.get("account_key") or "") or {}
    net = lookups.networks.get(acc.get("network_id") or "")
    if net is None:
        return {"size": 1 if acc else 0, "platforms": [item.get("platform") or ""] if acc else [], "score": 0.0}
    return {"size": net["size"], "platforms": list(net["platforms"]), "score": net["score"]}


def _images(item, lookups, wanted):
    sig = _signals(item)
    return {"bank_matches": sum(1 for r in sig if "bank" in r.get("signal", "") or "image_hash" in r.get("signal", "")),
            "ocr": [str(r.get("text") or "") for r in sig if r.get("signal", "").startswith("ocr")]}


def _reports(item, lookups, wanted):
    rec = item.get("record") or {}
    reports = rec.get("reports")
    if isinstance(reports, list):
        acc = [float(r.get("accuracy")) for r in reports if isinstance(r, dict)
               and isinstance(r.get("accuracy"), int | float)]
        return {"count": len(reports), "accuracy": sum(acc) / len(acc) if acc else 0.0}
    count = reports if isinstance(reports, int) and not isinstance(reports, bool) else 0
    return {"count": count, "accuracy": 0.0}


_BUILDERS = {"post": _post, "verdict": _verdict, "identifiers": _identifiers, "account": _account,
             "network": _network, "images": _images, "reports": _reports}
assert set(_BUILDERS) == set(FIELDS)
