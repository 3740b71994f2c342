"""A PDQ index that stays fast with millions of hashes: multi-index hashing over 16-bit chunks.

Split each 256-bit hash into 16 chunks of 16 bits. Two hashes within distance d differ in at most
d // 16 bits of some chunk (pigeonhole), so the candidates for a query are the hashes whose chunk j is
within that radius of the query's chunk j, for some j: for d = 31, the query's own 16 chunk values and
their 16 one-bit neighbours each, 272 bucket look-ups. Buckets are ranges of one sorted order per
chunk; each candidate's true distance is then counted on the full hash. Radii above 2 (d >= 48) would
probe too many buckets: those queries scan every hash instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from plugwatch.images.pdq import HEX_DIGITS

CHUNKS = 16
BUCKETS = 1 << 16
MAX_RADIUS = 2


def words_of(hashes: list[str]) -> np.ndarray:
    """(n, 4) big-endian 64-bit words of hex hashes."""
    raw = bytes.fromhex("".join(hashes)) if hashes else b""
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(-1, 4)


def _chunks(words: np.ndarray) -> np.ndarray:
    """(n, 16) chunk values, chunk 0 the most significant 16 bits."""
    return words.astype(">u8").view(">u2").reshape(-1, CHUNKS).astype(np.int64)


def _flip_masks(radius: int) -> np.ndarray:
    masks = [0]
    for r in range(1, radius + 1):
        masks.extend(sum(1 << b for b in bits) for bits in combinations(range(16), r))
    return np.array(masks, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Hit:
    index: int  # position of the matched hash in the indexed list
    distance: int


class PdqIndex:
    def __init__(self, hashes: list[str] | np.ndarray):
        self.words = hashes if isinstance(hashes, np.ndarray) else words_of(hashes)
        n = len(self.words)
        chunks = _chunks(self.words)
        self._order = np.empty(CHUNKS * n, dtype=np.int32)  # per chunk, hash positions sorted by chunk value
        self._starts = np.empty(CHUNKS * (BUCKETS + 1), dtype=np.int64)  # bucket v of chunk j begins here
        for j in range(CHUNKS):
            order = np.argsort(chunks[:, j], kind="stable")
            self._order[j * n:(j + 1) * n] = order
            self._starts[j * (BUCKETS + 1):(j + 1) * (BUCKETS + 1)] = (
                np.searchsorted(chunks[order, j], np.arange(BUCKETS + 1)) + j * n)

    def __len__(self) -> int:
        return len(self.words)

    def query(self, pdq: str, max_distance: int) -> list[Hit]:
        """Indexed hashes within `max_distance` of `pdq`, nearest first."""
        if len(pdq) != HEX_DIGITS or not len(self.words):
            return []
        q = words_of([pdq])
        radius = max_distance // CHUNKS
        if radius > MAX_RADIUS:
            candidates = np.arange(len(self.words))
        else:
            probes = (_chunks(q)[0][:, None] ^ _flip_masks(radius)[None, :])  # (16, probes per chunk)
            base = (np.arange(CHUNKS) * (BUCKETS + 1))[:, None]
            lo = self._starts[(base + probes).ravel()]
            hi = self._starts[(base + probes + 1).ravel()]
            sizes = hi - lo
            total = int(sizes.sum())
            if not total:
                return []
            # every position in every [lo, hi) range, without a Python loop over the ranges
            offsets = np.repeat(lo - np.concatenate(([0], np.cumsum(sizes)[:-1])), sizes)
            candidates = np.unique(self._order[offsets + np.arange(total)])
        dist = np.bitwise_count(self.words[candidates] ^ q).sum(axis=1)
        keep = dist <= max_distance
        found, dist = candidates[keep], dist[keep]
        ranked = np.lexsort((found, dist))
        return [Hit(int(found[i]), int(dist[i])) for i in ranked]
