"""`plugwatch networks --cluster`: the analysis of `plugwatch.network.pipeline.analyse`, spread over a
Dask cluster, with the same outputs.

1. map, per partition: account aggregates (before scoring), displacement counters and MinHash signatures
   of offer-like items, with each item's global position (partition, index);
2. accounts shuffled by key hash into shards; a shard merges each account's aggregates in partition order
   (`AccountStats.merge`: what one pass gives) and scores it;
3. identity graph: (identifier, account) edges shuffled by identifier; each identifier shard applies the
   frequency rule (the cap needs only the total number of accounts) and keeps identifiers that join two
   or more accounts; union-find over that reduced edge list gives the networks;
4. campaigns: LSH band keys shuffled by (band, key) into bucket shards, which propose pairs exactly as
   `similar_pairs` does (first and neighbour in each bucket); each pair is checked on the full signatures
   in a task per pair of partitions; union-find over the checked pairs gives the components, whose items
   and pairs are shuffled by component into shards that find the campaigns (`component_campaigns`);
5. reply bots per account shard, their parents' topics from a second, cheap pass over the partitions.

No task holds all items: the largest hold one partition, one shard, or the reduced edge and pair lists.
"""

from __future__ import annotations

import heapq
import json
import os
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from plugwatch.cluster import runtime
from plugwatch.cluster.plan import TARGET, Part, ReadJob
from plugwatch.network.accounts import AccountStats, AccountTable
from plugwatch.network.campaigns import (
    BANDS,
    SketchArrays,
    band_keys,
    bot_campaigns,
    component_campaigns,
    reply_bots,
    top_words,
    topic_words,
)
from plugwatch.network.displacement import Displacement
from plugwatch.network.identity import IdentityGraph, UnionFind, frequency_cap, make_network
from plugwatch.network.pictures import PicturePosts
from plugwatch.network.pipeline import Aggregates, Settings, account_record, summary, write_shared
from plugwatch.sources import Reject, SourceOptions

_MIX = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True, kw_only=True)
class NetJob(ReadJob):
    out: str
    settings: Settings
    keep_raw: bool = False


def shard_of(key: str, shards: int) -> int:
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % shards


# --- 1. map ---------------------------------------------------------------------------------------------

@dataclass
class PartialNet:
    """One partition's aggregates; stays on the worker that made it."""

    index: int
    accounts: dict[str, AccountStats]
    displacement: Displacement
    sig: np.ndarray
    keys: list[str]  # account of each sketched item
    ts: np.ndarray
    offer: np.ndarray
    texts: list[str]
    pictures: PicturePosts = field(default_factory=PicturePosts)
    stats: dict[str, int] = field(default_factory=dict)


def part_records(part: Part, options: SourceOptions, on_reject: Callable[[Reject], None], detector, region,
                 counts: dict[str, int], texts_only: bool = False) -> Iterator[dict[str, Any]]:
    """Scan records of a partition, as RecordReader gives them for the whole input: scan output read as it
    is, anything else scored (or, texts_only, just read)."""
    from plugwatch.network.inputs import RecordReader, scan_file_kind, scanned_records
    from plugwatch.pipeline import score
    from plugwatch.records import scan_record

    if part.kind in ("files", "reject"):
        if part.kind == "reject":
            on_reject(Reject(part.paths[0], 0, part.settled or "unreadable"))
            return
        reader = RecordReader(list(part.paths), options, on_reject, None if texts_only else detector, region)
        reader._texts_only = texts_only
        yield from reader
        counts["scored"] += reader.scored
        counts["prescored"] += reader.prescored
        return
    path = part.paths[0]
    kind = scan_file_kind(path, lambda rej: None)
    if kind == "parquet":
        from plugwatch.sources.parquet import scan_records

        records = scan_records(path, list(range(part.start, part.end)))
    elif kind == "jsonl":
        records = scanned_records(path, _window(part), on_reject, part.first_line)
    else:
        active = None if texts_only else detector
        for x in score(part.read(options), active, region, identify=not texts_only):
            if isinstance(x, Reject):
                on_reject(x)
                continue
            counts["scored"] += active is not None
            yield scan_record(x.item, x.identifiers, x.verdict)
        return
    for rec in records:
        counts["prescored"] += rec.get("score") is not None
        yield rec


def _window(part: Part):
    """The lines of a range of a scan output file (its first range through the usual reader)."""
    import gzip
    import io

    from plugwatch.sources.base import ByteWindow
    from plugwatch.sources.inputs import Peeked

    handle = open(part.paths[0], "rb")  # noqa: SIM115 - the generator reading it runs to the end
    handle.seek(part.start)
    window = io.BufferedReader(ByteWindow(handle, part.end - part.start), 1 << 16)
    if part.start == 0:
        return Peeked(window).stream()
    if part.kind == "gzip":
        window = io.BufferedReader(gzip.GzipFile(fileobj=window, mode="rb"), 1 << 16)
    return window


def map_part(index: int, part: dict, job: NetJob) -> PartialNet:
    from plugwatch.scan import reject_record

    rejects: list = []
    reject_path = Path(job.out) / f".rejects-{index:05d}.jsonl"

    def on_reject(rej: Reject) -> None:
        if not rejects:
            rejects.append(reject_path.open("w", encoding="utf-8"))
        rejects[0].write(json.dumps(reject_record(rej), ensure_ascii=False) + "\n")

    detector = runtime.detector(job.model, job.threshold, job.use_model)
    agg = Aggregates(job.settings.period)
    counts = {"scored": 0, "prescored": 0}
    try:
        for rec in part_records(Part.from_dict(part), job.options(), on_reject, detector, job.region, counts):
            agg.add(rec)
    finally:
        if rejects:
            rejects[0].close()
        else:
            reject_path.unlink(missing_ok=True)
    sk = agg.sketches
    return PartialNet(
        index=index, accounts=agg.table.accounts, displacement=agg.displacement, sig=sk.signatures(),
        keys=[agg.account_keys[i] for i in sk.account], ts=np.asarray(sk.ts, dtype=np.float64),
        offer=np.asarray(sk.offer, dtype=bool), texts=sk.texts, pictures=agg.pictures,
        stats={"items": agg.items, "offers": agg.offers, "sketched": len(sk), "rejected": 0, **counts})


def small(p: PartialNet) -> tuple[dict[str, int], Displacement]:
    return p.stats, p.displacement


# --- 2. accounts ----------------------------------------------------------------------------------------

def account_piece(p: PartialNet, shard: int, shards: int) -> dict[str, AccountStats]:
    return {k: a for k, a in p.accounts.items() if shard_of(k, shards) == shard}


def merge_accounts(pieces: list[dict[str, AccountStats]]) -> dict[str, AccountStats]:
    """One shard's accounts, merged in partition order and scored."""
    table = AccountTable()
    merged = table.accounts
    for piece in pieces:
        for key, acct in piece.items():
            if key in merged:
                merged[key].merge(acct)
            else:
                merged[key] = acct
    table.finish()
    return merged


def count(accounts: dict) -> int:
    return len(accounts)


def partition_pictures(p: PartialNet) -> PicturePosts:
    return p.pictures


def picture_nodes(pieces: list[PicturePosts]) -> dict[str, set[str]]:
    """Shared-picture nodes and their posters: every partition's distinct pictures merged in partition
    order (one task holds the distinct pictures, bounded by MAX_PICTURES, as the single process does)."""
    merged = PicturePosts()
    for piece in pieces:
        merged.merge(piece)
    return merged.nodes()


def link_shard_pictures(accounts: dict[str, AccountStats], nodes: dict[str, set[str]]) -> dict[str, AccountStats]:
    """A shard's accounts with the picture nodes they posted among their links (as link_pictures does)."""
    for node, posters in nodes.items():
        for key in posters:
            acct = accounts.get(key)
            if acct is not None:
                acct.link(node)
    return accounts


# --- 3. identity graph ----------------------------------------------------------------------------------

def edge_piece(accounts: dict[str, AccountStats], shard: int, shards: int) -> tuple[list[tuple[str, str]], set[str]]:
    """(identifier, account) edges whose identifier falls in `shard`, and the accounts whose own handle
    node falls there (an account holds its own handle node too)."""
    edges = [(node, key) for key, acct in accounts.items() for node in acct.links if shard_of(node, shards) == shard]
    own = {key for key in accounts if shard_of(key, shards) == shard}
    return edges, own


def frequency_rule(pieces: list, cap: int) -> tuple[dict[str, int], list[tuple[str, str, bool]]]:
    """Identifiers over the cap (dropped), and the edges that can join accounts: (account, identifier,
    whether the identifier is an account's own handle node)."""
    holders: Counter = Counter()
    own: set[str] = set()
    for edges, accounts in pieces:
        holders.update(node for node, _ in edges)
        own |= accounts
    for key in own:
        if key in holders:
            holders[key] += 1
    dropped = {node: n for node, n in holders.items() if n > cap}
    kept = [(key, node, node in own) for edges, _ in pieces for node, key in edges
            if node not in dropped and holders[node] >= 2]
    return dropped, kept


def dropped_of(result) -> dict[str, int]:
    return result[0]


def components(edge_lists: list, min_members: int) -> list[list[str]]:
    """Union-find over the reduced edge list: the account members of each component with min_members or
    more accounts."""
    index: dict[str, int] = {}
    is_account: list[bool] = []

    def vertex(name: str, account: bool) -> int:
        i = index.get(name)
        if i is None:
            i = index[name] = len(is_account)
            is_account.append(account)
        elif account:
            is_account[i] = True
        return i

    pairs = [(vertex(key, True), vertex(node, own)) for _, kept in edge_lists for key, node, own in kept]
    uf = UnionFind(len(is_account))
    for a, b in pairs:
        uf.union(a, b)
    names = list(index)
    groups: dict[int, list[str]] = {}
    for i, name in enumerate(names):
        if is_account[i]:
            groups.setdefault(uf.find(i), []).append(name)
    return [g for g in groups.values() if len(g) >= min_members]


def pick_accounts(accounts: dict[str, AccountStats], keys: list[str]) -> dict[str, AccountStats]:
    return {k: accounts[k] for k in keys}


# --- 4. campaigns ---------------------------------------------------------------------------------------

def gidx(p: PartialNet) -> np.ndarray:
    return (np.uint64(p.index) << np.uint64(32)) | np.arange(len(p.keys), dtype=np.uint64)


def band_piece(p: PartialNet, shard: int, shards: int) -> np.ndarray:
    """Rows (band, key, next band's key, global index) of this partition's items whose bucket falls in `shard`."""
    if not len(p.keys):
        return np.zeros((0, 4), dtype=np.uint64)
    keys = band_keys(p.sig)
    n = keys.shape[0]
    g = gidx(p)
    rows = []
    with np.errstate(over="ignore"):
        for band in range(BANDS):
            key = keys[:, band]
            mine = (key + np.uint64(band) * _MIX) % np.uint64(shards) == np.uint64(shard)
            if mine.any():
                rows.append(np.column_stack([np.full(n, band, dtype=np.uint64)[mine], key[mine],
                                             keys[:, (band + 1) % BANDS][mine], g[mine]]))
    return np.vstack(rows) if rows else np.zeros((0, 4), dtype=np.uint64)


def candidates(pieces: list[np.ndarray]) -> dict[tuple[int, int], np.ndarray]:
    """The pairs `similar_pairs` proposes in these buckets, as rows (a, b, band, pass, key, next, a again),
    grouped by the partitions of a and b. Sorting rows on (band, pass, key, next, a) gives the order
    `similar_pairs` emits them in."""
    rows = np.vstack(pieces) if pieces else np.zeros((0, 4), dtype=np.uint64)
    out: list[np.ndarray] = []
    for band in np.unique(rows[:, 0]):
        r = rows[rows[:, 0] == band]
        order = np.lexsort((r[:, 3], r[:, 2], r[:, 1]))
        r = r[order]
        n = len(r)
        same = np.empty(n, dtype=bool)
        same[0] = False
        same[1:] = r[1:, 1] == r[:-1, 1]
        if not same.any():
            continue
        first = np.maximum.accumulate(np.where(~same, np.arange(n), 0))
        at = np.flatnonzero(same)
        for step, partner in ((0, first[at]), (1, at - 1)):
            a, b = r[at, 3], r[partner, 3]
            keep = a != b
            out.append(np.column_stack([a[keep], b[keep], r[at, 0][keep], np.full(keep.sum(), step, dtype=np.uint64),
                                        r[at, 1][keep], r[at, 2][keep]]))
    if not out:
        return {}
    pairs = np.vstack(out)
    blocks = (pairs[:, 0] >> np.uint64(32)) * np.uint64(1 << 32) + (pairs[:, 1] >> np.uint64(32))
    result = {}
    for block in np.unique(blocks):
        result[(int(block >> np.uint64(32)), int(block & np.uint64(0xFFFFFFFF)))] = pairs[blocks == block]
    return result


def block_keys(blocks: dict) -> list[tuple[int, int]]:
    return list(blocks)


def pick_block(blocks: dict, key: tuple[int, int]) -> np.ndarray:
    return blocks[key]


def check_block(pa: PartialNet, pb: PartialNet, pieces: list[np.ndarray], threshold: float) -> np.ndarray:
    """The proposed pairs between two partitions whose signatures agree on `threshold` of positions or more."""
    rows = np.vstack(pieces)
    low = np.uint64(0xFFFFFFFF)
    sims = (pa.sig[(rows[:, 0] & low).astype(np.int64)] == pb.sig[(rows[:, 1] & low).astype(np.int64)]).mean(axis=1)
    return rows[sims >= threshold]


def campaign_components(checked: list[np.ndarray], min_accounts: int, shards: int):
    """Union-find over the checked pairs; for components of min_accounts items or more, each item's
    component (by partition) and the pairs (by component shard)."""
    rows = np.vstack(checked) if checked else np.zeros((0, 6), dtype=np.uint64)
    ids, inverse = np.unique(rows[:, :2].ravel(), return_inverse=True)
    uf = UnionFind(len(ids))
    for a, b in inverse.reshape(-1, 2).tolist():
        uf.union(a, b)
    roots = np.fromiter((uf.find(i) for i in range(len(ids))), dtype=np.int64, count=len(ids))
    sizes = np.bincount(roots, minlength=len(ids)) if len(ids) else np.zeros(0, dtype=np.int64)
    big = sizes[roots] >= min_accounts
    labels = ids[roots]  # a component is named by its smallest global index: the same in every run
    item_label = {int(g): int(lab) for g, lab, keep in zip(ids.tolist(), labels.tolist(), big.tolist(), strict=True)
                  if keep}
    by_part: dict[int, dict[int, int]] = {}
    for g, lab in item_label.items():
        by_part.setdefault(g >> 32, {})[g & 0xFFFFFFFF] = lab
    pair_label = labels[inverse.reshape(-1, 2)[:, 0]] if len(rows) else np.zeros(0, dtype=np.uint64)
    keep = big[inverse.reshape(-1, 2)[:, 0]] if len(rows) else np.zeros(0, dtype=bool)
    rows, pair_label = rows[keep], pair_label[keep]
    pair_shard = pair_label.astype(np.uint64) % np.uint64(shards)
    pairs_by_shard = {s: np.column_stack([rows[pair_shard == s], pair_label[pair_shard == s]])
                      for s in range(shards) if (pair_shard == s).any()}
    return by_part, pairs_by_shard


def labels_for(result, part: int) -> dict[int, int]:
    return result[0].get(part, {})


def pairs_for(result, shard: int) -> np.ndarray:
    return result[1].get(shard, np.zeros((0, 7), dtype=np.uint64))


def component_items(p: PartialNet, labels: dict[int, int], shard: int, shards: int) -> list[tuple]:
    """(global index, component, signature, account, time, offer, text) of this partition's items in
    components that fall in `shard`."""
    g = gidx(p)
    return [(int(g[i]), lab, p.sig[i], p.keys[i], float(p.ts[i]), bool(p.offer[i]), p.texts[i])
            for i, lab in labels.items() if lab % shards == shard]


def shard_campaigns(item_lists: list[list[tuple]], pairs: np.ndarray, threshold: float, min_accounts: int) -> list:
    items = sorted((x for xs in item_lists for x in xs), key=lambda x: x[0])
    if not items:
        return []
    position = {x[0]: i for i, x in enumerate(items)}
    keys = sorted({x[3] for x in items})
    account_of = {k: i for i, k in enumerate(keys)}
    arrays = SketchArrays(
        sig=np.vstack([x[2] for x in items]).astype(np.uint32),
        accounts=np.asarray([account_of[x[3]] for x in items], dtype=np.int64),
        ts=np.asarray([x[4] for x in items], dtype=np.float64),
        offer=np.asarray([x[5] for x in items], dtype=bool),
        texts=[x[6] for x in items],
    )
    labels = np.asarray([x[1] for x in items], dtype=np.int64)
    # pairs in the order similar_pairs emits them: (band, pass, key, next key, a)
    order = np.lexsort((pairs[:, 0], pairs[:, 5], pairs[:, 4], pairs[:, 3], pairs[:, 2]))
    pairs = pairs[order]
    a = np.asarray([position[int(x)] for x in pairs[:, 0]], dtype=np.int64)
    b = np.asarray([position[int(x)] for x in pairs[:, 1]], dtype=np.int64)
    return component_campaigns(arrays, keys, a, b, labels, threshold, min_accounts)


# --- 5. reply bots and what they answer -----------------------------------------------------------------

def shard_bots(accounts: dict[str, AccountStats], rule) -> list[AccountStats]:
    return reply_bots(accounts.values(), rule)


def topic_counts(part: dict, job: NetJob, wanted: dict[str, list[str]]) -> dict[str, Counter]:
    counts: dict[str, Counter] = {}
    n = {"scored": 0, "prescored": 0}
    for rec in part_records(Part.from_dict(part), job.options(), lambda rej: None, None, job.region, n,
                            texts_only=True):
        owners = wanted.get(rec["id"])
        if owners:
            words = topic_words(rec.get("text") or "")
            for key in owners:
                counts.setdefault(key, Counter()).update(words)
    return counts


# --- outputs --------------------------------------------------------------------------------------------

def write_account_shard(accounts: dict[str, AccountStats], path: str, member_of: dict[str, str],
                        campaigns_of: dict[str, list[str]]) -> str:
    graph = IdentityGraph([], member_of)
    with open(path, "w", encoding="utf-8") as fh:
        for acct in sorted(accounts.values(), key=lambda a: (-a.score, a.key)):
            fh.write(json.dumps(account_record(acct, graph, campaigns_of), ensure_ascii=False) + "\n")
    return path


def _merge_account_files(paths: list[str], target: Path) -> None:
    def lines(path):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                yield (-rec["score"], rec["account"]), line

    with target.open("w", encoding="utf-8") as out:
        for _, line in heapq.merge(*(lines(p) for p in paths), key=lambda x: x[0]):
            out.write(line)
    for p in paths:
        os.unlink(p)


@dataclass
class ClusterNetworks:
    items: int = 0
    offers: int = 0
    accounts: int = 0
    networks: int = 0
    templates: int = 0
    bots: int = 0
    scored: int = 0
    prescored: int = 0
    dropped: int = 0
    cap: int = 0
    rejected: int = 0
    paths: dict[str, Path] = field(default_factory=dict)


def run(inputs: list[str], job: NetJob, cluster: runtime.Cluster, reject_path: Path, target: int = TARGET,
        graphml: bool = False, events=(), on_start=None, on_done=None) -> ClusterNetworks:
    from distributed import as_completed

    from plugwatch.cluster.scan import plan

    client = cluster.client
    out = Path(job.out)
    settings = job.settings
    parts = plan(inputs, job.options(), job.out, client, target)
    dicts = [p.to_dict() for p in parts]
    P = len(parts)
    S = max(1, min(P, 2 * max(cluster.workers(), 1)))
    sub = client.submit

    maps = [sub(map_part, i, dicts[i], job, pure=False, retries=3) for i in range(P)]
    smalls = [sub(small, m, pure=False) for m in maps]
    if on_start:
        on_start(P, P)
    for f in as_completed(smalls):
        if on_done:
            on_done(f.result()[0])
    stats, disps = zip(*client.gather(smalls), strict=True) if P else ((), ())
    result = ClusterNetworks()
    for key in ("items", "offers", "scored", "prescored"):
        setattr(result, key, sum(s[key] for s in stats))
    sketched = sum(s["sketched"] for s in stats)
    displacement = Displacement(settings.period)
    for d in disps:
        for label, counts in d.counts.items():
            displacement.counts.setdefault(label, Counter()).update(counts)
        displacement.offers.update(d.offers)
        displacement.undated += d.undated
    _collect_rejects(out, P, reject_path, result)
    if result.items == 0:
        return result

    # accounts
    shards = [sub(merge_accounts, [sub(account_piece, m, s, S, pure=False) for m in maps], pure=False)
              for s in range(S)]
    # accounts that posted the same picture (network/pictures.py), linked after scoring as in one pass
    nodes = sub(picture_nodes, [sub(partition_pictures, m, pure=False) for m in maps], pure=False)
    shards = [sub(link_shard_pictures, sh, nodes, pure=False) for sh in shards]
    n_accounts = sum(client.gather([sub(count, sh, pure=False) for sh in shards]))
    cap = frequency_cap(n_accounts, settings.min_cap, settings.cap_share)
    # identity graph
    rules = [sub(frequency_rule, [sub(edge_piece, sh, t, S, pure=False) for sh in shards], cap, pure=False)
             for t in range(S)]
    dropped: dict[str, int] = {}
    for d in client.gather([sub(dropped_of, r, pure=False) for r in rules]):
        dropped.update(d)
    groups = sub(components, rules, settings.min_members, pure=False).result()
    wanted_by_shard: dict[int, list[str]] = {}
    for g in groups:
        for key in g:
            wanted_by_shard.setdefault(shard_of(key, S), []).append(key)
    members: dict[str, AccountStats] = {}
    for d in client.gather([sub(pick_accounts, shards[s], keys, pure=False) for s, keys in wanted_by_shard.items()]):
        members.update(d)
    networks = [make_network(g, members, dropped) for g in groups]
    networks.sort(key=lambda n: (-n.score, -len(n.members), n.id))
    member_of = {m: net.id for net in networks for m in net.members}
    graph = IdentityGraph(networks, member_of, dropped, cap)

    # campaigns
    campaigns = []
    if sketched >= settings.campaign_accounts:
        buckets = [sub(candidates, [sub(band_piece, m, s, S, pure=False) for m in maps], pure=False)
                   for s in range(S)]
        where: dict[tuple[int, int], list[int]] = {}
        for s, keys in enumerate(client.gather([sub(block_keys, b, pure=False) for b in buckets])):
            for key in keys:
                where.setdefault(key, []).append(s)
        checked = [sub(check_block, maps[pa], maps[pb], [sub(pick_block, buckets[s], (pa, pb), pure=False)
                                                         for s in ss], settings.campaign_threshold, pure=False)
                   for (pa, pb), ss in sorted(where.items())]
        comps = sub(campaign_components, checked, settings.campaign_accounts, S, pure=False)
        found = [sub(shard_campaigns,
                     [sub(component_items, maps[p], sub(labels_for, comps, p, pure=False), s, S, pure=False)
                      for p in range(P)],
                     sub(pairs_for, comps, s, pure=False), settings.campaign_threshold, settings.campaign_accounts,
                     pure=False) for s in range(S)]
        for cs in client.gather(found):
            campaigns.extend(cs)
        campaigns.sort(key=lambda c: (-len(c.members), -c.size, c.id))
    bots = [b for bs in client.gather([sub(shard_bots, sh, settings.bots, pure=False) for sh in shards]) for b in bs]
    topics: dict[str, list[str]] = {}
    if bots:
        wanted: dict[str, list[str]] = {}
        for acct in bots:
            for parent in acct.parents:
                wanted.setdefault(parent, []).append(acct.key)
        totals: dict[str, Counter] = {}
        for counts in client.gather([sub(topic_counts, d, job, wanted, pure=False) for d in dicts]):
            for key, c in counts.items():
                totals.setdefault(key, Counter()).update(c)
        topics = {key: top_words(c) for key, c in totals.items() if c}
    campaigns += bot_campaigns(bots, topics)

    # outputs
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in ("accounts.jsonl", "networks.jsonl", "campaigns.jsonl",
                                           "displacement.csv", "displacement.png", "summary.json")}
    campaigns_of: dict[str, list[str]] = {}
    for c in campaigns:
        for m in c.members:
            campaigns_of.setdefault(m, []).append(c.id)
    files = client.gather([
        sub(write_account_shard, shards[s], str(out / f".accounts-{s:05d}.jsonl"),
            {k: v for k, v in member_of.items() if shard_of(k, S) == s},
            {k: v for k, v in campaigns_of.items() if shard_of(k, S) == s}, pure=False) for s in range(S)])
    _merge_account_files(files, paths["accounts.jsonl"])
    if graphml:
        from plugwatch.network.graphml import write_graphml

        paths["graph.graphml"] = out / "graph.graphml"
        write_graphml(members, graph, paths["graph.graphml"])
    write_shared(paths, graph, campaigns, displacement, events,
                 summary(result.items, result.offers, n_accounts, graph, campaigns, sketched, displacement))
    result.accounts, result.networks, result.cap, result.dropped = n_accounts, len(networks), cap, len(dropped)
    result.templates = sum(c.type == "template" for c in campaigns)
    result.bots = len(campaigns) - result.templates
    result.paths = paths
    return result


def _collect_rejects(out: Path, parts: int, reject_path: Path, result: ClusterNetworks) -> None:
    """The partitions' rejects, in input order, into the one rejects file `networks` writes."""
    pieces = [out / f".rejects-{i:05d}.jsonl" for i in range(parts)]
    pieces = [p for p in pieces if p.exists()]
    if not pieces:
        return
    reject_path.parent.mkdir(parents=True, exist_ok=True)
    with reject_path.open("w", encoding="utf-8") as fh:
        for p in pieces:
            text = p.read_text(encoding="utf-8")
            result.rejected += text.count("\n")
            fh.write(text)
            p.unlink()
