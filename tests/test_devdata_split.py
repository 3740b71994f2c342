"""The held-out sets stay held out: no post of a test set is a copy or near-copy of a post the default
`plugwatch train` reads (character 5-gram Jaccard under 0.7, the bound devdata/v2/README.md states)."""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from pathlib import Path

from plugwatch.commands.model import DEFAULT_DEV

ROOT = Path(__file__).resolve().parent.parent
BOUND = 0.7
HELD_OUT = ("devdata/test*.jsonl", "devdata/*warnings.jsonl", "devdata/v2/test*.jsonl", "devdata/v2/check*.jsonl")


def grams(text: str, n: int = 5) -> frozenset[str]:
    text = " ".join(text.lower().split())
    return frozenset(text[i:i + n] for i in range(max(1, len(text) - n + 1)))


def texts(patterns: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    out = []
    for pattern in patterns:
        for path in sorted(ROOT.glob(pattern)):
            for line in path.read_text(encoding="utf-8").splitlines():
                out.append((path.name, json.loads(line)["text"]))
    return out


def test_no_held_out_post_is_a_near_copy_of_a_training_post():
    train = texts(DEFAULT_DEV)  # what `plugwatch train` reads by default
    held_out = texts(HELD_OUT)
    assert len(train) > 10_000 and len(held_out) > 5_000
    train_grams = [grams(t) for _, t in train]
    df = Counter(g for s in train_grams for g in s)
    index: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(train_grams):
        for g in s:
            index[g].append(i)
    close = []
    for name, text in held_out:
        a = grams(text)
        # Jaccard >= BOUND needs more than BOUND of a's grams in the other post, so any
        # floor((1 - BOUND) * |a|) + 1 of them include a shared one: the rarest few find every candidate.
        k = math.floor((1 - BOUND) * len(a)) + 1
        candidates = {i for g in sorted(a, key=lambda g: df.get(g, 0))[:k] for i in index.get(g, ())}
        for i in candidates:
            b = train_grams[i]
            if len(a & b) >= BOUND * len(a | b):
                close.append((name, text[:60], train[i][0], train[i][1][:60]))
    assert not close, close
