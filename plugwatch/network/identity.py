"""The identity graph: accounts joined through the identifiers they post or show, across platforms.

Nodes are accounts (`platform:handle`) and identifiers (`telegram:name`, `phone:+1...`, `btc:...`);
an account and its own handle on the same platform are one node, so an X account giving `tg: @plug`
joins the Telegram account `telegram:plug`. Union-find over these edges gives the seller networks.

Two rules keep strangers apart:
1. generic identifiers (platform home pages, shorteners' bare domains, official accounts, ...) never
   become edges: `plugwatch.network.generic`;
2. frequency: an identifier held by more than `max(min_cap, share x accounts)` accounts (default
   max(50, 0.1% of all accounts)) is dropped from linking. A seller's Wickr name is on a few accounts;
   a string on hundreds is a meme, a public channel or a directory, and one such node would glue
   hundreds of unrelated accounts into a single "network". Dropped identifiers are reported.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from plugwatch.network.accounts import AccountStats, iso

MIN_CAP = 50
SHARE_CAP = 0.001


def frequency_cap(n_accounts: int, min_cap: int = MIN_CAP, share: float = SHARE_CAP) -> int:
    """Most accounts one identifier may join; an identifier on more is dropped from linking."""
    return max(min_cap, math.ceil(share * n_accounts))


def network_id(members: list[str]) -> str:
    """Stable: the same smallest member gives the same id in every run."""
    return "net-" + hashlib.blake2b(min(members).encode(), digest_size=6).hexdigest()


def combined_score(scores: list[float]) -> float:
    """The strongest member, raised by the others at half weight (noisy-OR):
    1 - (1 - s_max) * prod(1 - s_i / 2) over the other members."""
    if not scores:
        return 0.0
    ordered = sorted(scores, reverse=True)
    rest = 1.0 - ordered[0]
    for s in ordered[1:]:
        rest *= 1.0 - s / 2
    return round(1.0 - rest, 4)


class UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class Network:
    id: str
    members: list[str]
    identifiers: list[dict[str, Any]]
    score: float
    first_seen: str | None
    last_seen: str | None
    platforms: list[str]
    items: int
    flagged: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "members": self.members,
            "identifiers": self.identifiers,
            "score": self.score,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "platforms": self.platforms,
            "size": len(self.members),
            "items": self.items,
            "flagged": self.flagged,
        }


@dataclass
class IdentityGraph:
    networks: list[Network]
    member_of: dict[str, str]  # account key -> network id
    dropped: dict[str, int] = field(default_factory=dict)  # identifier -> accounts, over the cap
    cap: int = MIN_CAP
    holders: Counter = field(default_factory=Counter)  # identifier -> accounts holding it


def _split(key: str) -> tuple[str, str]:
    kind, _, rest = key.partition(":")
    return kind, key if kind not in ("phone", "email", "url", "domain") else rest


def build_networks(
    accounts: dict[str, AccountStats],
    min_cap: int = MIN_CAP,
    share: float = SHARE_CAP,
    min_members: int = 2,
) -> IdentityGraph:
    keys = list(accounts)
    index = {k: i for i, k in enumerate(keys)}
    holders: Counter = Counter()
    for acct in accounts.values():
        holders.update(acct.links.keys())
    for key in accounts:  # an account is also the holder of its own handle node
        if key in holders:
            holders[key] += 1
    cap = frequency_cap(len(accounts), min_cap, share)
    dropped = {node: n for node, n in holders.items() if n > cap}
    uf = UnionFind(len(keys))
    first_holder: dict[str, int] = {}
    for i, key in enumerate(keys):
        for node in accounts[key].links:
            if node in dropped:
                continue
            own = index.get(node)
            if own is not None:
                uf.union(i, own)
            j = first_holder.setdefault(node, i)
            if j != i:
                uf.union(i, j)
    groups: dict[int, list[int]] = {}
    for i in range(len(keys)):
        groups.setdefault(uf.find(i), []).append(i)
    networks = []
    member_of: dict[str, str] = {}
    for idx in groups.values():
        if len(idx) < min_members:
            continue
        net = make_network([keys[i] for i in idx], accounts, dropped)
        networks.append(net)
        for m in net.members:
            member_of[m] = net.id
    networks.sort(key=lambda n: (-n.score, -len(n.members), n.id))
    return IdentityGraph(networks, member_of, dropped, cap, holders)


def make_network(keys: list[str], accounts: dict[str, AccountStats], dropped: dict[str, int]) -> Network:
    """The network of the accounts `keys` (a component of the identity graph); `accounts` holds at least
    those accounts, finished."""
    members = sorted(keys)
    member_set = set(members)
    tie: Counter = Counter()
    for m in members:
        for node in accounts[m].links:
            if node not in dropped and node != m:
                tie[node] += 1
    # The identifiers that tie: held by two members, or one member's link to another member.
    ties = sorted(
        (node for node, n in tie.items() if n >= 2 or node in member_set),
        key=lambda node: (-tie[node], node),
    )
    identifiers = []
    for node in ties:
        kind, canonical = _split(node)
        identifiers.append({"type": kind, "canonical": canonical, "accounts": tie[node] + (node in member_set)})
    firsts = [accounts[m].first_ts for m in members if accounts[m].first_ts is not None]
    lasts = [accounts[m].last_ts for m in members if accounts[m].last_ts is not None]
    return Network(
        id=network_id(members),
        members=members,
        identifiers=identifiers,
        score=combined_score([accounts[m].score for m in members]),
        first_seen=iso(min(firsts)) if firsts else None,
        last_seen=iso(max(lasts)) if lasts else None,
        platforms=sorted({accounts[m].platform for m in members}),
        items=sum(accounts[m].items for m in members),
        flagged=sum(accounts[m].flagged for m in members),
    )
