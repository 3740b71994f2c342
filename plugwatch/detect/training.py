"""Train the two-stage detector. Same data and seed give the same model file."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold

from plugwatch.detect import embed as embedding
from plugwatch.detect.datasets import LABELS, Example
from plugwatch.detect.detector import Detector, has_evidence, model_text
from plugwatch.detect.features import feature_vector
from plugwatch.detect.model import DetectorModel, Stage, TextHashing
from plugwatch.model import Account, Item

# Each source's relative weight, normalised over the sources present. With the shared data, the
# hand-written social posts carry 69% of the training weight (82% with reviewers' decisions as well).
# At 31% (dev 0.40) the proxies' legal goods and onion pages set the signal features' weights: a price or
# a phone weighed against an offer, and short, non-English and warning-worded offers were missed
# (MODEL_CARD.md, seventh round, has the figures at 0.4, 0.8, 1.5, 2 and 3).
SOURCE_SHARE = {"dev": 2.0, "decisions": 2.0, "agora": 0.30, "dream": 0.10,
                "darknet_paragraphs": 0.30, "reddit_opiates": 0.20}
GATE_RECALL = 0.995  # share of offers and requests the cheap gate must pass to the full model
# The highest out-of-fold false-positive rate the sale threshold may have on the social-media training
# sets. Their negatives are mostly look-alikes written to be hard (train_hard, train_short,
# train_warnings, train_pharmacy: offers' words in warnings, requests, jokes, legitimate shops), and
# the folds keep each post with its evaded copy; at 1% that gave a threshold of 0.87 and out-of-fold
# recall 0.67, far more cautious than a stream of ordinary posts needs.
SALE_MAX_FPR = 0.03
# Hashed n-gram columns: with fifteen languages, 2^14 made many unrelated n-grams share a weight.
NGRAM_COLUMNS = 2**17


@dataclass
class Matrices:
    feats: np.ndarray
    texts: list[str]
    y: np.ndarray
    weight: np.ndarray


def decision_label(action: str, policy_reason: str) -> str:
    """The training label a reviewer's final decision implies."""
    if action == "dismiss":
        return "not_sale"
    return "buy" if policy_reason == "drug_solicitation" else "sale"


def decision_examples(reviewed: list[dict]) -> list[Example]:
    """Reviewed items (`plugwatch.store.review.reviewed_items`) as labelled examples, source "decisions"."""
    return [Example(id=f"decision:{r['id']}", text=r["text"], label=decision_label(r["action"], r["policy_reason"]),
                    source="decisions", slice=f"reviewed_{r['action']}", bio=r.get("bio") or None,
                    platform=r.get("platform") or "generic") for r in reviewed if r.get("text")]


def example_item(ex: Example) -> Item:
    author = Account(platform=ex.platform, handle=None, bio=ex.bio) if ex.bio else None
    return Item(platform=ex.platform, native_id=ex.id, text=ex.text, author=author, lang=ex.lang)


def featurise(examples: list[Example]) -> tuple[np.ndarray, list[str], list[str], np.ndarray]:
    """Signal features, normalised texts (for the embedding), the texts the n-gram stages read
    (`model_text`), and whether each item has any evidence."""
    from plugwatch.text.identifiers import text_identifiers

    feats, texts, masked, evidence = [], [], [], []
    for ex in examples:
        item = example_item(ex)
        ctx = Detector.analyse(item, text_identifiers(item))
        feats.append(feature_vector(ctx.hits, ctx.norm.text))
        texts.append(ctx.norm.text)
        masked.append(model_text(ctx))
        evidence.append(has_evidence(ctx))
    return np.vstack(feats), texts, masked, np.array(evidence, dtype=bool)


def source_weights(examples: list[Example]) -> np.ndarray:
    counts = Counter(ex.source for ex in examples)
    shares = {s: SOURCE_SHARE.get(s, 0.2) for s in counts}
    total = sum(shares.values())
    w = np.array([shares[ex.source] / total / counts[ex.source] for ex in examples])
    # Balance classes too, then scale to mean 1 so the regularisation strength keeps its meaning.
    y = [ex.label for ex in examples]
    for label in set(y):
        mask = np.array([lab == label for lab in y])
        w[mask] *= 1.0 / (len(set(y)) * w[mask].sum())
    return w * (len(w) / w.sum())


def _fit_lr(x, y: np.ndarray, w: np.ndarray, c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=2000, tol=1e-4).fit(x, y, sample_weight=w)


def _platt(p: np.ndarray, target: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Slope and offset of a sigmoid on the logit of out-of-fold probabilities."""
    p = np.clip(p, 1e-7, 1 - 1e-7)
    logit = np.log(p / (1 - p)).reshape(-1, 1)
    lr = LogisticRegression(C=1e6, max_iter=1000).fit(logit, target, sample_weight=w)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def evasion_groups(examples: list[Example]) -> np.ndarray:
    """One group per written post: its evaded copy ("id~transform") goes in the same fold, else the
    out-of-fold score of a post would come from a model that saw it (in disguise), and calibration,
    thresholds and model choices made on those scores would be too hopeful."""
    names: dict[str, int] = {}
    return np.array([names.setdefault(ex.id.split("~", 1)[0], len(names)) for ex in examples])


def _fit_stage(make_x, y: np.ndarray, w: np.ndarray, c: float, seed: int, mean, scale, hashing=None,
               groups: np.ndarray | None = None):
    """Fit on all data; calibrate each class on 5-fold out-of-fold predictions."""
    x = make_x(np.arange(len(y)))
    oof = np.zeros((len(y), len(LABELS)))
    groups = np.arange(len(y)) if groups is None else groups
    folds = StratifiedGroupKFold(5, shuffle=True, random_state=seed)
    for train_idx, test_idx in folds.split(np.zeros(len(y)), y, groups):
        lr = _fit_lr(x[train_idx], y[train_idx], w[train_idx], c)
        oof[test_idx] = lr.predict_proba(x[test_idx])
    calib = np.array([_platt(oof[:, k], (y == k).astype(int), w) for k in range(len(LABELS))])
    lr = _fit_lr(x, y, w, c)
    stage = Stage(lr.coef_, lr.intercept_, calib, mean, scale, hashing)
    return stage, np.column_stack([stage.calibrate(oof)[:, k] for k in range(len(LABELS))])


def uncertainty_band(threshold: float, margin: tuple[float, float] = (0.35, 0.25)) -> tuple[float, float]:
    """Text-stage scores near a decision threshold go on to the full model; far from it
    the embedding rarely changes the decision (measured with bench/ and eval: MODEL_CARD)."""
    return round(max(0.0, threshold - margin[0]), 4), round(min(1.0, threshold + margin[1]), 4)


def best_threshold(score: np.ndarray, positive: np.ndarray, max_fpr: float = 0.02) -> float:
    """The threshold with the best F1 among those keeping the false-positive rate at or under max_fpr."""
    best, best_f1 = 0.5, -1.0
    negatives = max(int((~positive).sum()), 1)
    for t in np.arange(0.30, 0.96, 0.01):
        flagged = score >= t
        tp = int((flagged & positive).sum())
        fp = int((flagged & ~positive).sum())
        fn = int((~flagged & positive).sum())
        f1 = 2 * tp / max(2 * tp + fp + fn, 1)
        if fp / negatives <= max_fpr and f1 > best_f1:
            best, best_f1 = float(round(t, 2)), f1
    return best


def with_evasions(examples: list[Example], seed: int) -> list[Example]:
    """Add one evaded copy of each hand-written social-media example (offers and
    non-offers alike, so that evasion itself does not become a sign of sale)."""
    import random

    from plugwatch.tools.evasion import TRAINED, TRANSFORMS

    names = sorted(TRAINED)
    out = list(examples)
    for ex in examples:
        if ex.source not in ("dev", "decisions"):
            continue
        rng = random.Random(f"{seed}:{ex.id}")
        name = names[rng.randrange(len(names))]
        text = TRANSFORMS[name](ex.text, rng)
        if text != ex.text:
            out.append(Example(f"{ex.id}~{name}", text, ex.label, ex.source, ex.slice, ex.lang, ex.bio, ex.platform))
    return out


def data_fingerprint(examples: list[Example]) -> str:
    h = hashlib.sha256()
    for ex in examples:
        h.update(f"{ex.id}\t{ex.label}\t{ex.text}\t{ex.bio or ''}\n".encode())
    return h.hexdigest()


def train(examples: list[Example], seed: int = 0, c_gate: float = 1.0, c_full: float = 4.0,
          progress=None) -> DetectorModel:
    # One BLAS thread: with several, sums are ordered differently and the solver stops at a
    # slightly different point, so the same data would not give the same model file.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return _train(examples, seed, c_gate, c_full, progress)


def _train(examples: list[Example], seed: int, c_gate: float, c_full: float, progress) -> DetectorModel:
    say = progress or (lambda msg: None)
    examples = sorted(with_evasions(examples, seed), key=lambda ex: ex.id)  # input order must not matter
    y = np.array([LABELS.index(ex.label) for ex in examples])
    w = source_weights(examples)
    say(f"signals on {len(examples):,} examples")
    feats, texts, masked, evidence = featurise(examples)
    # No standardisation: features are already log counts of similar range, and dividing a
    # rare feature (a wallet) by its tiny spread would make it dominate every item it appears in.
    mean = np.zeros(feats.shape[1], dtype=np.float32)
    scale = np.ones(feats.shape[1], dtype=np.float32)
    xs = (feats - mean) / scale

    say("gate model (signal features)")
    groups = evasion_groups(examples)
    gate, gate_oof = _fit_stage(lambda idx: xs[idx], y, w, c_gate, seed, mean, scale, groups=groups)
    positive = gate_oof[y > 0, 1] + gate_oof[y > 0, 2]
    gate_threshold = float(min(0.2, np.quantile(positive, 1.0 - GATE_RECALL)))

    say("text model (signals + character n-grams)")
    hashing = TextHashing.with_idf(NGRAM_COLUMNS, (2, 5), masked)
    grams = hashing.transform(masked)
    import scipy.sparse as sp

    text_x = sp.hstack([sp.csr_matrix(xs), grams], format="csr")
    text, _ = _fit_stage(lambda idx: text_x[idx], y, w, c_full, seed, mean, scale, hashing, groups)

    say(f"embedding {len(texts):,} texts")
    emb = embedding.embed(texts)
    say("full model (signals + embedding + character n-grams)")
    full_x = sp.hstack([sp.csr_matrix(np.hstack([xs, emb])), grams], format="csr")
    full, full_oof = _fit_stage(lambda idx: full_x[idx], y, w, c_full, seed, mean, scale, hashing, groups)
    # Thresholds are chosen on out-of-fold scores of the social-media examples, the stream we serve.
    social = np.array([ex.source in ("dev", "decisions") for ex in examples])
    if social.sum() < 50:
        social[:] = True
    threshold = best_threshold(full_oof[social, 1], y[social] == 1, max_fpr=SALE_MAX_FPR)
    request_threshold = best_threshold(full_oof[social, 2], y[social] == 2, max_fpr=0.01)
    text_band = (uncertainty_band(threshold), uncertainty_band(request_threshold, (0.2, 0.05)))

    # Weighted class rates among items the gate stops for lack of evidence: their probability.
    empty = ~evidence
    no_evidence = (np.array([w[empty & (y == k)].sum() for k in range(len(LABELS))]) / max(w[empty].sum(), 1e-9)
                   if empty.any() else np.array([1.0, 0.0, 0.0]))
    passed = float(np.mean(gate.proba(feats)[:, 1:].sum(axis=1) >= gate_threshold))
    meta = {
        "trained_on": dict(sorted(Counter(ex.source for ex in examples).items())),
        "labels": dict(sorted(Counter(ex.label for ex in examples).items())),
        "data_sha256": data_fingerprint(examples),
        "seed": seed,
        "c_gate": c_gate,
        "c_full": c_full,
        "gate_pass_rate_on_training": round(passed, 4),
        "text_band": [list(b) for b in text_band],
    }
    return DetectorModel(gate=gate, text=text, full=full, gate_threshold=gate_threshold, text_band=text_band,
                         no_evidence=no_evidence, threshold=threshold,
                         request_threshold=request_threshold, embedding=embedding.NAME, meta=meta)
