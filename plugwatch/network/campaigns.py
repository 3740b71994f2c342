"""Campaigns: templated pitches posted by many accounts, and reply bots.

Templates: every offer-like item with enough words gets a MinHash signature of its normalised
words and word pairs (numbers folded, so "$40" and "$45" agree). Banded LSH over the signatures
proposes candidate pairs, each is checked on the full signature (estimated Jaccard >= `threshold`),
and connected components of the checked pairs are the clusters. A cluster is a campaign when at least
`min_accounts` distinct accounts posted it and most of its items are offers or carry a contact or
payment identifier. Short texts ("happy new year", "thanks for sharing") are never sketched, and
popular ordinary phrases fail the offer rule, so they do not form campaigns.

Memory: one uint32 signature row (64 x 4 bytes) plus an account index, a time and 160 characters of
text per sketched item; only offer-like items are sketched.

Reply bots: accounts with many replies, most of them offers, spread over many different parent posts
at a high rate. The topic they target comes from the words of the parent posts (when present in the
input).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from plugwatch.network.accounts import DAY, MAX_PARENTS, AccountStats, iso

NUM_PERM = 64
BANDS, ROWS = 32, 2  # candidate at Jaccard s with probability 1 - (1 - s^2)^32: 0.2 -> 0.73, 0.3 -> 0.95
MIN_TOKENS = 8
TEXT_KEEP = 160
STAR_SHARE = 0.8  # star members need 0.8 x threshold similarity to the star's centre
_MASK32 = np.uint64(0xFFFFFFFF)
_rng = np.random.RandomState(20240611)  # fixed: signatures must be the same in every run
_A = (_rng.randint(1, 2**31, size=NUM_PERM, dtype=np.int64).astype(np.uint64) << np.uint64(32)) | np.uint64(1)
_A |= _rng.randint(0, 2**31, size=NUM_PERM, dtype=np.int64).astype(np.uint64)
_B = _rng.randint(0, 2**62, size=NUM_PERM, dtype=np.int64).astype(np.uint64)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\d+")
STOP = frozenset(
    """a an the and or but if of to in on at for with by from is are was were be been it its this that
    these those i me my you your we our they them he she his her im i'm u ur just so very all any some
    de la le el y en que et les des der die das und""".split()
)


def tokens(text: str) -> list[str]:
    from plugwatch.text.normalize import normalize

    return _WORD.findall(_DIGITS.sub("0", normalize(text).text))


def shingles(words: list[str]) -> set[str]:
    out = {w for w in words if w not in STOP and len(w) > 1}
    out.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
    return out


class Sketches:
    """Signatures of offer-like items, added in batches so hashing stays vectorised."""

    def __init__(self, batch: int = 2048):
        self._rows: list[np.ndarray] = []
        self._pending: list[list[int]] = []
        self.account: list[int] = []
        self.ts: list[float] = []
        self.offer: list[bool] = []
        self.texts: list[str] = []
        self.batch = batch

    def __len__(self) -> int:
        return len(self.account)

    def add(self, text: str, account: int, ts: float | None, offer: bool, min_tokens: int = MIN_TOKENS) -> bool:
        words = tokens(text)
        if len(words) < min_tokens:
            return False
        hashes = [zlib.crc32(s.encode("utf-8", "surrogatepass")) for s in shingles(words)]
        self._pending.append(hashes)
        self.account.append(account)
        self.ts.append(np.nan if ts is None else ts)
        self.offer.append(offer)
        self.texts.append(text[:TEXT_KEEP])
        if len(self._pending) >= self.batch:
            self._flush()
        return True

    def _flush(self) -> None:
        if not self._pending:
            return
        lengths = np.fromiter((len(h) for h in self._pending), dtype=np.int64, count=len(self._pending))
        flat = np.fromiter((x for h in self._pending for x in h), dtype=np.uint64, count=int(lengths.sum()))
        # multiply-shift hashing per permutation: high 32 bits of (a * h + b) mod 2^64
        with np.errstate(over="ignore"):
            hv = ((flat[:, None] * _A[None, :] + _B[None, :]) >> np.uint64(32)) & _MASK32
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        self._rows.append(np.minimum.reduceat(hv, starts, axis=0).astype(np.uint32))
        self._pending = []

    def signatures(self) -> np.ndarray:
        self._flush()
        if not self._rows:
            return np.zeros((0, NUM_PERM), dtype=np.uint32)
        if len(self._rows) > 1:
            self._rows = [np.vstack(self._rows)]
        return self._rows[0]


def band_keys(sig: np.ndarray) -> np.ndarray:
    keys = np.zeros((sig.shape[0], BANDS), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for band in range(BANDS):
            cols = sig[:, band * ROWS : (band + 1) * ROWS].astype(np.uint64)
            key = np.zeros(sig.shape[0], dtype=np.uint64)
            for c in range(ROWS):
                key = key * np.uint64(0x9E3779B97F4A7C15) + cols[:, c] + np.uint64(c + 1)
            keys[:, band] = key
    return keys


def similar_pairs(sig: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Checked pairs (i, j) with estimated Jaccard >= threshold, found through LSH bands.

    Within a band's bucket each item is checked against the bucket's first item and its neighbour,
    the bucket sorted by the next band's key so that items agreeing on more bands sit together."""
    n = sig.shape[0]
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    keys = band_keys(sig)
    left, right = [], []
    for band in range(BANDS):
        key = keys[:, band]
        order = np.lexsort((keys[:, (band + 1) % BANDS], key))
        k = key[order]
        same = np.empty(n, dtype=bool)
        same[0] = False
        same[1:] = k[1:] == k[:-1]
        if not same.any():
            continue
        first = order[np.maximum.accumulate(np.where(~same, np.arange(n), 0))]
        for a, b in ((order[same], first[same]), (order[same], order[np.flatnonzero(same) - 1])):
            keep = a != b
            a, b = a[keep], b[keep]
            sims = (sig[a] == sig[b]).mean(axis=1)
            ok = sims >= threshold
            left.append(a[ok])
            right.append(b[ok])
    if not left:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(left), np.concatenate(right)


@dataclass
class Campaign:
    id: str
    type: str  # "template" or "reply_bot"
    members: list[str]
    text: str
    size: int
    first_seen: str | None
    last_seen: str | None
    extra: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "members": self.members,
            "accounts": len(self.members),
            "size": self.size,
            "text": self.text,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            **self.extra,
        }


def _campaign_id(prefix: str, members: list[str], text: str) -> str:
    return prefix + hashlib.blake2b(f"{min(members)}\x00{text}".encode("utf-8", "surrogatepass"),
                                    digest_size=6).hexdigest()


def template_campaigns(
    sketches: Sketches,
    account_keys: list[str],
    threshold: float = 0.3,
    min_accounts: int = 5,
    min_offer_share: float = 0.5,
) -> list[Campaign]:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    sig = sketches.signatures()
    n = sig.shape[0]
    if n < min_accounts:
        return []
    a, b = similar_pairs(sig, threshold)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    accounts = np.asarray(sketches.account, dtype=np.int64)
    ts = np.asarray(sketches.ts, dtype=np.float64)
    offer = np.asarray(sketches.offer, dtype=bool)
    return component_campaigns(SketchArrays(sig, accounts, ts, offer, sketches.texts), account_keys, a, b, labels,
                               threshold, min_accounts, min_offer_share)


@dataclass
class SketchArrays:
    """Sketched items as arrays, in input order: signatures, account index, time, offer, text."""

    sig: np.ndarray
    accounts: np.ndarray
    ts: np.ndarray
    offer: np.ndarray
    texts: list[str]


def component_campaigns(items: SketchArrays, account_keys: list[str], a: np.ndarray, b: np.ndarray,
                        labels: np.ndarray, threshold: float, min_accounts: int,
                        min_offer_share: float = 0.5) -> list[Campaign]:
    """Campaigns from checked pairs (a, b), in the order similar_pairs gives them, and the component
    label of each item. Components are independent: any set of whole components, with their pairs in
    that order, gives their campaigns (so plugwatch.cluster works on them apart)."""
    sig, accounts, ts, offer = items.sig, items.accounts, items.ts, items.offer
    n = sig.shape[0]
    star_of = np.full(n, -1, dtype=np.int64)  # scratch: which star of the current component holds an item
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    clusters = []  # (items, centre, similarity to the centre) per star group of every component
    for component in np.split(order, bounds):
        if len(component) < min_accounts:
            continue
        stars = list(_stars(sig, accounts, component, threshold * STAR_SHARE))
        clusters.extend(_merge_stars(stars, star_of, accounts, a, b))
    # The core of a cluster: items close to its centre. An account counts when one of its items is in
    # the core or is itself checked-similar to a core item (one hop, no further: variants of a pitch
    # that reorder and reword it fall just short of the centre but match a sibling; a chain of
    # look-alikes cannot walk away from the pitch).
    core_of = np.full(n, -1, dtype=np.int64)
    for k, (idx, _, sims) in enumerate(clusters):
        core_of[idx[sims >= threshold]] = k
    attached: dict[int, list[int]] = {}
    if clusters and len(a):
        ca, cb = core_of[a], core_of[b]
        hop = np.concatenate([b[(ca >= 0) & (cb < 0)], a[(cb >= 0) & (ca < 0)]])
        to = np.concatenate([ca[(ca >= 0) & (cb < 0)], cb[(cb >= 0) & (ca < 0)]])
        hop, first = np.unique(hop, return_index=True)  # an item joins one cluster only
        for item, k in zip(hop.tolist(), to[first].tolist(), strict=True):
            attached.setdefault(k, []).append(item)
    campaigns = []
    for k, (idx, centre, sims) in enumerate(clusters):
        core = idx[sims >= threshold]
        extra = np.asarray(attached.get(k, ()), dtype=np.int64)
        who = np.unique(accounts[np.concatenate([core, extra])])
        idx = np.union1d(idx, extra)
        if len(who) < min_accounts or offer[idx].mean() < min_offer_share:
            continue
        members = sorted(account_keys[i] for i in who)
        times = ts[idx][~np.isnan(ts[idx])]
        text = items.texts[centre]
        campaigns.append(Campaign(
            id=_campaign_id("cmp-", members, text),
            type="template",
            members=members,
            text=text,
            size=len(idx),
            first_seen=iso(float(times.min())) if times.size else None,
            last_seen=iso(float(times.max())) if times.size else None,
            extra={"offer_share": round(float(offer[idx].mean()), 3),
                   "similarity": round(float(sims.mean()), 3)},
        ))
    campaigns.sort(key=lambda c: (-len(c.members), -c.size, c.id))
    return campaigns


def _stars(sig: np.ndarray, accounts: np.ndarray, idx: np.ndarray, threshold: float, rounds: int = 20):
    """Split a connected component into stars: a centre and the items close to it, repeatedly.
    Pairs chain (A~B, B~C, ...) across unrelated texts; a star's members all resemble one text. The
    centre is the medoid of one item per account, so a prolific account's repeats cannot pull it."""
    remaining = idx
    for _ in range(rounds):
        if len(remaining) < 2:
            return
        _, first = np.unique(accounts[remaining], return_index=True)
        sample = remaining[np.sort(first)][:64]
        within = (sig[sample][:, None, :] == sig[sample][None, :, :]).mean(axis=2).sum(axis=1)
        centre = int(sample[int(np.argmax(within))])
        sims = (sig[remaining] == sig[centre]).mean(axis=1)
        close = sims >= threshold
        if close.sum() < 2:
            return
        yield remaining[close], centre, sims[close]
        remaining = remaining[~close]


def _merge_stars(stars: list, star_of: np.ndarray, accounts: np.ndarray, a: np.ndarray, b: np.ndarray) -> list:
    """Join stars that many checked pairs connect: one template's variants around two centres. A
    few account pairs between stars are coincidence and do not join them."""
    if len(stars) < 2:
        return stars
    for k, (idx, _, _) in enumerate(stars):
        star_of[idx] = k
    sa, sb = star_of[a], star_of[b]
    cross = (sa >= 0) & (sb >= 0) & (sa != sb)
    # distinct account pairs, not item pairs: two prolific sellers' repeats are one coincidence
    pairs = {(min(i, j), max(i, j), min(x, y), max(x, y)) for i, j, x, y in zip(
        sa[cross].tolist(), sb[cross].tolist(), accounts[a[cross]].tolist(), accounts[b[cross]].tolist(),
        strict=True)}
    links = Counter((i, j) for i, j, _, _ in pairs)
    size = [len(np.unique(accounts[idx])) for idx, _, _ in stars]
    parent = list(range(len(stars)))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for (i, j), count in links.items():
        if count >= max(5, 0.5 * min(size[i], size[j])):
            parent[find(j)] = find(i)
    for idx, _, _ in stars:
        star_of[idx] = -1
    groups: dict[int, list] = {}
    for k, star in enumerate(stars):
        groups.setdefault(find(k), []).append(star)
    merged = []
    for members in groups.values():
        biggest = max(members, key=lambda st: len(st[0]))
        merged.append((np.concatenate([m[0] for m in members]), biggest[1], np.concatenate([m[2] for m in members])))
    return merged


@dataclass
class BotRule:
    min_replies: int = 10
    min_offer_share: float = 0.5
    min_parent_share: float = 0.8  # distinct parents / replies (replies spread over many posts)
    min_rate: float = 5.0  # replies per day over the account's reply span (when times are known)


def reply_bots(accounts: Iterable[AccountStats], rule: BotRule | None = None) -> list[AccountStats]:
    rule = rule or BotRule()
    bots = []
    for acct in accounts:
        if acct.replies < rule.min_replies or acct.offer_replies / acct.replies < rule.min_offer_share:
            continue
        if len(acct.parents) < rule.min_parent_share * min(acct.replies, MAX_PARENTS):
            continue
        if acct.reply_first is not None and acct.reply_last is not None:
            rate = acct.replies / max((acct.reply_last - acct.reply_first) / DAY, 1.0)
            if rate < rule.min_rate:
                continue
        bots.append(acct)
    return bots


def bot_campaigns(bots: list[AccountStats], topics: dict[str, list[str]]) -> list[Campaign]:
    out = []
    for acct in bots:
        rate = None
        if acct.reply_first is not None and acct.reply_last is not None:
            rate = round(acct.replies / max((acct.reply_last - acct.reply_first) / DAY, 1.0), 1)
        text = acct.sample_reply or ""
        out.append(Campaign(
            id=_campaign_id("bot-", [acct.key], ""),
            type="reply_bot",
            members=[acct.key],
            text=text,
            size=acct.replies,
            first_seen=iso(acct.reply_first),
            last_seen=iso(acct.reply_last),
            extra={"offer_replies": acct.offer_replies, "parents": len(acct.parents),
                   "replies_per_day": rate, "topic": topics.get(acct.key, [])},
        ))
    out.sort(key=lambda c: (-c.size, c.id))
    return out


def parent_topics(bots: list[AccountStats], texts: Iterable[tuple[str, str]], top: int = 6) -> dict[str, list[str]]:
    """Most frequent content words of the posts each bot replied under (those found in `texts`)."""
    wanted: dict[str, list[str]] = {}
    for acct in bots:
        for parent in acct.parents:
            wanted.setdefault(parent, []).append(acct.key)
    if not wanted:
        return {}
    counts: dict[str, Counter] = {acct.key: Counter() for acct in bots}
    for item_id, text in texts:
        owners = wanted.get(item_id)
        if owners is None:
            continue
        words = topic_words(text)
        for key in owners:
            counts[key].update(words)
    return {key: top_words(c, top) for key, c in counts.items() if c}


def topic_words(text: str) -> set[str]:
    return {w for w in tokens(text) if len(w) > 3 and w not in STOP and not w.isdigit() and w != "0"}


def top_words(counts: Counter, top: int = 6) -> list[str]:
    """The most frequent words, ties in alphabetical order (not in the order words were first seen,
    which depends on set order and so on the process)."""
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
