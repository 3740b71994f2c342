"""Which items without evidence the text stage could score as an offer, found cheaply.

An item with no drug term, sale cue, contact or price used to stop at the gate. But short offers name
nothing a list knows ("teleguard ID in bio, go there", "O's of mids for 100"), and in languages whose
slang the vocabulary covers thinly most offers have no evidence at all; the character n-grams often read
them right. Running the text stage on every such item would cost about a fifth of an ordinary stream's
speed, so its score is first estimated from each word's share of it, kept per word:

    z_k = dense_k + sum_w A_wk / sqrt(sum_w B_w),  A_wk = sum_g idf_g W_kg,  B_w = sum_g idf_g^2

over the distinct words w of a text and their n-grams g, a word that occurs c times weighing 1 + log c
(squared in the norm). The text stage weighs each distinct n-gram of the whole text that way instead, so an
n-gram shared by two words, or repeated inside one, is counted apart here: close, but not exact, and not a
bound either way. Only items whose estimated sale probability comes within MARGIN
of the stage's band of doubt go on to the text stage, which then scores them exactly; the others keep the
gate's rates. Requests are not looked for this way: a request that names no drug ("anyone selling a desk
lamp?") is not one.
"""

from __future__ import annotations

from collections import Counter
from itertools import chain

import numpy as np

from plugwatch.detect.features import N_FEATURES
from plugwatch.detect.model import Stage, word_runs

# Probability. `python3 bench/ngram_bound_check.py`: on 14,710 evidence-free posts of the 20,000-post ordinary
# stream the estimate's sale probability was 0.058 at most from the exact one, on 2,230 evidence-free test posts
# 0.267 (a long page repeating its n-grams; the median is 0.001 on both). At 0.15 it passed 0.9% of the former,
# missing none of the 32 that reach the band, and 11.6% of the latter, missing one of 126 (an onion leaflet
# at 0.279, the band starting at 0.26).
MARGIN = 0.15
_WORD_CACHE = 200_000
_KEPT_WORD = 200  # characters
_RUN_CHARS = 20_000  # characters of new words worked out at once: their n-grams' weights are gathered in float64


class NgramBound:
    def __init__(self, stage: Stage, sale_band: tuple[float, float]):
        if stage.hashing is None:
            raise ValueError("the text stage has no n-grams")
        self.stage = stage
        self.hashing = stage.hashing
        self.low = sale_band[0] - MARGIN
        idf = self.hashing.idf if self.hashing.idf is not None else np.ones(self.hashing.n_features, np.float32)
        self._weights = stage.coef[:, N_FEATURES:N_FEATURES + self.hashing.n_features].astype(np.float64) * idf
        self._idf2 = idf.astype(np.float64) ** 2
        self._dense = stage.coef[:, :N_FEATURES].astype(np.float64)
        self._row: dict[str, int] = {}  # word -> its row in _table
        self._table = np.zeros((0, 4))  # per word: A for the three classes, B

    def may_reach(self, feats: np.ndarray, texts: list[str]) -> np.ndarray:
        """Per text (as the text stage reads it, `model_text`): could its sale probability be in the band of
        doubt or above?"""
        return self.estimate(feats, texts)[:, 1] >= self.low

    def estimate(self, feats: np.ndarray, texts: list[str]) -> np.ndarray:
        """The estimated calibrated class probabilities, one row per text."""
        if not texts:
            return np.zeros((0, len(self.stage.intercept)))
        words_of = [t.split() for t in texts]
        table, extra = self._learn(words_of)
        row_of = (lambda w: self._row[w] if w in self._row else extra[w]) if extra else self._row.__getitem__
        rows: list[int] = []
        counts: list[int] = []
        lengths = np.zeros(len(texts), dtype=np.int64)
        for k, words in enumerate(words_of):
            seen = Counter(words)  # a repeated word weighs 1 + log(count), as the stage's sublinear tf
            lengths[k] = len(seen)
            rows.extend(map(row_of, seen))
            counts.extend(seen.values())
        sums = np.zeros((len(texts), 4))
        has = lengths > 0
        if rows:
            f = 1.0 + np.log(np.asarray(counts, dtype=np.float64))
            weighted = table[np.asarray(rows, dtype=np.int64)]
            weighted[:, :3] *= f[:, None]
            weighted[:, 3] *= f * f
            starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))[has]
            sums[has] = np.add.reduceat(weighted, starts, axis=0)
        st = self.stage
        z = ((feats - st.mean) / st.scale).astype(np.float64) @ self._dense.T + st.intercept
        norm = np.sqrt(sums[:, 3])
        z[has] += sums[has, :3] / np.where(norm[has] > 0, norm[has], 1.0)[:, None]
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return st.calibrate(e / e.sum(axis=1, keepdims=True))

    def _learn(self, words_of: list[list[str]]) -> tuple[np.ndarray, dict[str, int]]:
        """The table to read, and the rows in it of this batch's words too long to keep (hashes, base64):
        kept, they would make the cache's size unbounded in bytes."""
        new = [w for w in dict.fromkeys(chain.from_iterable(words_of)) if w not in self._row]
        if not new:
            return self._table, {}
        if len(self._row) + len(new) > _WORD_CACHE:  # a bound on memory, not an eviction policy
            self._row.clear()
            self._table = np.zeros((0, 4))
            new = list(dict.fromkeys(chain.from_iterable(words_of)))
        stats = np.concatenate([self._stats(run) for run in word_runs(new, _RUN_CHARS)])
        short = np.fromiter((len(w) <= _KEPT_WORD for w in new), dtype=bool, count=len(new))
        base = len(self._table)
        self._table = np.vstack([self._table, stats[short]])
        self._row.update(zip((w for w, k in zip(new, short, strict=True) if k), range(base, len(self._table)),
                             strict=True))
        if short.all():
            return self._table, {}
        long_words = [w for w, k in zip(new, short, strict=True) if not k]
        table = np.vstack([self._table, stats[~short]])
        return table, dict(zip(long_words, range(len(self._table), len(table)), strict=True))

    def _stats(self, words: list[str]) -> np.ndarray:
        cols = self.hashing._columns(words)
        starts = np.concatenate(([0], np.cumsum([len(c) for c in cols])[:-1]))
        flat = np.concatenate(cols)
        stats = np.empty((len(words), 4))
        stats[:, :3] = np.add.reduceat(self._weights[:, flat], starts, axis=1).T
        stats[:, 3] = np.add.reduceat(self._idf2[flat], starts)
        return stats

