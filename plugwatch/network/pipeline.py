"""One pass over scanned records feeding every analysis, then the outputs of `plugwatch networks`.

    result = analyse(records, Settings())
    write_outputs(result, Path("out"))

Per item only compact aggregates are kept (accounts, displacement counters, MinHash signatures of
offer-like items); nothing else of an item survives the pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from plugwatch.network.accounts import AccountTable, is_offer, parse_ts
from plugwatch.network.campaigns import (
    BotRule,
    Campaign,
    Sketches,
    bot_campaigns,
    parent_topics,
    reply_bots,
    template_campaigns,
)
from plugwatch.network.displacement import Displacement
from plugwatch.network.identity import MIN_CAP, SHARE_CAP, IdentityGraph, build_networks
from plugwatch.network.pictures import PicturePosts, link_pictures

SKETCH_SCORE = 0.25  # items scoring at least this are sketched even when not flagged (evasive variants)


@dataclass
class Settings:
    period: str = "week"
    min_cap: int = MIN_CAP
    cap_share: float = SHARE_CAP
    min_members: int = 2
    campaign_accounts: int = 5
    campaign_threshold: float = 0.3
    bots: BotRule = field(default_factory=BotRule)


@dataclass
class Result:
    table: AccountTable
    graph: IdentityGraph
    campaigns: list[Campaign]
    displacement: Displacement
    items: int = 0
    offers: int = 0
    sketched: int = 0


def _sketch_worthy(rec: dict[str, Any], offer: bool) -> bool:
    if offer:
        return True
    score = rec.get("score")
    return score is not None and score >= SKETCH_SCORE


def analyse(
    records: Iterable[dict[str, Any]],
    settings: Settings | None = None,
    texts_again: Callable[[], Iterable[tuple[str, str]]] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Result:
    """`texts_again` re-reads (id, text) of every item; given, reply bots get the topic of the posts
    they answer."""
    settings = settings or Settings()
    agg = Aggregates(settings.period)
    for rec in records:
        agg.add(rec)
        if on_progress is not None and agg.items % 10000 == 0:
            on_progress(agg.items)
    table, disp, sketches, account_keys = agg.table, agg.displacement, agg.sketches, agg.account_keys
    items, offers = agg.items, agg.offers
    table.finish()
    link_pictures(table.accounts, agg.pictures)  # accounts that posted the same picture (network/pictures.py)
    graph = build_networks(table.accounts, settings.min_cap, settings.cap_share, settings.min_members)
    campaigns = template_campaigns(sketches, account_keys, settings.campaign_threshold, settings.campaign_accounts)
    bots = reply_bots(table.accounts.values(), settings.bots)
    topics = parent_topics(bots, texts_again()) if bots and texts_again is not None else {}
    campaigns += bot_campaigns(bots, topics)
    return Result(table, graph, campaigns, disp, items, offers, len(sketches))


class Aggregates:
    """What one pass keeps of the items: accounts, displacement counters, sketches of offer-like items.
    `plugwatch.cluster` keeps one per partition and merges them in order."""

    def __init__(self, period: str = "week"):
        self.table = AccountTable()
        self.displacement = Displacement(period)
        self.sketches = Sketches()
        self.account_index: dict[str, int] = {}
        self.account_keys: list[str] = []
        self.items = self.offers = 0
        self.pictures = PicturePosts()

    def add(self, rec: dict[str, Any]) -> None:
        self.items += 1
        ts = parse_ts(rec.get("created_at"))
        offer = is_offer(rec)
        self.offers += offer
        acct = self.table.add(rec, ts, offer)
        if offer:
            self.displacement.add(rec, ts)
        if acct is not None and rec.get("media"):
            self.pictures.add(acct.key, rec, offer)  # is_offer: flagged, or unscored with a contact
        if acct is not None and _sketch_worthy(rec, offer):
            i = self.account_index.get(acct.key)
            if i is None:
                i = self.account_index[acct.key] = len(self.account_keys)
                self.account_keys.append(acct.key)
            self.sketches.add(rec.get("text") or "", i, ts, offer or _has_direct(rec))


def _has_direct(rec: dict[str, Any]) -> bool:
    from plugwatch.network.generic import is_direct

    return any(map(is_direct, rec.get("identifiers") or ()))


def account_record(acct, graph: IdentityGraph, campaigns_of: dict[str, list[str]]) -> dict[str, Any]:
    from plugwatch.network.accounts import iso

    return {
        "account": acct.key,
        "platform": acct.platform,
        "handle": acct.handle,
        "display_name": acct.display_name,
        "score": acct.score,
        "reasons": acct.reasons,
        "items": acct.items,
        "flagged": acct.flagged,
        "requests": acct.requests,
        "replies": acct.replies,
        "identifiers": sorted(acct.links),
        "first_seen": iso(acct.first_ts),
        "last_seen": iso(acct.last_ts),
        "created_at": iso(acct.created_at),
        "followers": acct.followers,
        "network": graph.member_of.get(acct.key),
        "campaigns": campaigns_of.get(acct.key, []),
    }


def write_outputs(
    result: Result,
    out: Path,
    graphml: bool = False,
    events: list[tuple[date, str]] = (),
) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in ("accounts.jsonl", "networks.jsonl", "campaigns.jsonl",
                                           "displacement.csv", "displacement.png", "summary.json")}
    campaigns_of: dict[str, list[str]] = {}
    for c in result.campaigns:
        for m in c.members:
            campaigns_of.setdefault(m, []).append(c.id)
    accounts = sorted(result.table.accounts.values(), key=lambda a: (-a.score, a.key))
    with paths["accounts.jsonl"].open("w", encoding="utf-8") as fh:
        for acct in accounts:
            fh.write(json.dumps(account_record(acct, result.graph, campaigns_of), ensure_ascii=False) + "\n")
    if graphml:
        from plugwatch.network.graphml import write_graphml

        paths["graph.graphml"] = out / "graph.graphml"
        write_graphml(result.table.accounts, result.graph, paths["graph.graphml"])
    write_shared(paths, result.graph, result.campaigns, result.displacement, events,
                 summary(result.items, result.offers, len(result.table), result.graph, result.campaigns,
                         result.sketched, result.displacement))
    return paths


def write_shared(paths: dict[str, Path], graph: IdentityGraph, campaigns: list[Campaign], displacement: Displacement,
                 events, summary: dict[str, Any]) -> None:
    """Every output but accounts.jsonl and the graph (written by the caller, which holds the accounts)."""
    with paths["networks.jsonl"].open("w", encoding="utf-8") as fh:
        for net in graph.networks:
            fh.write(json.dumps(net.to_dict(), ensure_ascii=False) + "\n")
    with paths["campaigns.jsonl"].open("w", encoding="utf-8") as fh:
        for c in campaigns:
            fh.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
    displacement.write_csv(paths["displacement.csv"])
    displacement.plot(paths["displacement.png"], list(events))
    paths["summary.json"].write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def summary(items: int, offers: int, accounts: int, graph: IdentityGraph, campaigns: list[Campaign], sketched: int,
            displacement: Displacement) -> dict[str, Any]:
    return {
        "items": items,
        "offers": offers,
        "accounts": accounts,
        "networks": len(graph.networks),
        "accounts_in_networks": len(graph.member_of),
        "campaigns": sum(c.type == "template" for c in campaigns),
        "reply_bots": sum(c.type == "reply_bot" for c in campaigns),
        "sketched_items": sketched,
        "frequency_cap": graph.cap,
        "dropped_identifiers": dict(sorted(graph.dropped.items(), key=lambda kv: (-kv[1], kv[0]))[:100]),
        "undated_offers": displacement.undated,
    }
