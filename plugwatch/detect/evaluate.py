"""Measure the detector and both baselines on one labelled set, in one run."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from plugwatch.detect.datasets import Example
from plugwatch.detect.detector import Detector
from plugwatch.model import OfferKind
from plugwatch.text.identifiers import text_identifiers


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    fpr: float
    tp: int
    fp: int
    fn: int
    tn: int

    def row(self) -> dict[str, float | int]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def binary_scores(y: np.ndarray, flagged: np.ndarray) -> Scores:
    tp = int(np.sum(flagged & y))
    fp = int(np.sum(flagged & ~y))
    fn = int(np.sum(~flagged & y))
    tn = int(np.sum(~flagged & ~y))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    fpr = fp / (fp + tn) if fp + tn else 0.0
    return Scores(p, r, f1, fpr, tp, fp, fn, tn)


@dataclass
class SystemResult:
    name: str
    scores: np.ndarray  # P(sale) or 0/1
    overall: Scores
    slices: dict[str, dict[str, float | int]] = field(default_factory=dict)
    flagged: np.ndarray | None = None


SHORT = 80  # characters: the "short post"; most tweets-style offers are shorter


def length_bucket(ex: Example) -> str:
    return f"under {SHORT} chars" if len(ex.text) < SHORT else f"{SHORT}+ chars"


def slice_table(examples: list[Example], y: np.ndarray, flagged: np.ndarray,
                key=lambda ex: ex.slice or "(none)") -> dict[str, dict[str, float | int]]:
    """Per group (slice by default): recall on its sales, false-positive rate on the rest."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, ex in enumerate(examples):
        groups[key(ex)].append(i)
    table = {}
    for name, idx in sorted(groups.items()):
        ix = np.array(idx)
        pos = int(y[ix].sum())
        row: dict[str, float | int] = {"n": len(ix), "sale": pos, "flagged": int(flagged[ix].sum())}
        if pos:
            row["recall"] = round(float(flagged[ix][y[ix]].mean()), 4)
        if len(ix) - pos:
            row["fpr"] = round(float(flagged[ix][~y[ix]].mean()), 4)
        table[name] = row
    return table


def language_table(examples: list[Example], y: np.ndarray, flagged: np.ndarray) -> dict[str, dict[str, float | int]]:
    """`slice_table` by language, plus the FPR on each language's ordinary posts (slice "ordinary"), which is
    what the per-language target names; the FPR on all its non-offers (requests, look-alikes) is stricter."""
    def key(ex: Example) -> str:
        return ex.lang or "(none)"

    table = slice_table(examples, y, flagged, key)
    idx = np.array([i for i, ex in enumerate(examples) if ex.slice == "ordinary" and not y[i]], dtype=int)
    if idx.size:
        for lang, row in slice_table([examples[i] for i in idx], y[idx], flagged[idx], key).items():
            table[lang]["ordinary"] = row["n"]
            table[lang]["ordinary_fpr"] = row["fpr"]
    return table


def detector_scores(detector: Detector, examples: list[Example]) -> tuple[np.ndarray, np.ndarray]:
    from plugwatch.detect.training import example_item

    probs, requests = [], []
    for start in range(0, len(examples), 256):
        chunk = examples[start:start + 256]
        batch = [(it, text_identifiers(it)) for it in map(example_item, chunk)]
        for v in detector.verdicts(batch):
            probs.append(v.score)
            requests.append(v.kind == OfferKind.REQUEST)
    return np.array(probs), np.array(requests)


def evaluate(examples: list[Example], detector: Detector, baselines: list) -> list[SystemResult]:
    y = np.array([ex.label == "sale" for ex in examples])
    texts = [ex.text for ex in examples]
    results = []
    ours, _ = detector_scores(detector, examples)
    flagged = ours >= detector.threshold
    results.append(SystemResult("plugwatch", ours, binary_scores(y, flagged), slice_table(examples, y, flagged),
                                flagged))
    for b in baselines:
        s = b.scores(texts)
        f = s >= 0.5
        results.append(SystemResult(b.name, s, binary_scores(y, f), slice_table(examples, y, f), f))
    return results


def request_scores(examples: list[Example], detector: Detector) -> Scores:
    y = np.array([ex.label == "buy" for ex in examples])
    _, req = detector_scores(detector, examples)
    return binary_scores(y, req)


def worst_evasion(recall: dict[str, float]) -> tuple[str, float] | None:
    """The transformation that costs the most recall, and its cost in points (0.01 of recall)."""
    evaded = {k: v for k, v in recall.items() if k != "plain"}
    if not evaded or "plain" not in recall:
        return None
    name = min(evaded, key=lambda k: (evaded[k], k))
    return name, round(100 * (recall["plain"] - evaded[name]), 1)


def evasion_recall(examples: list[Example], detector: Detector, seed: int = 7) -> dict[str, float]:
    """Recall on sale examples as written and under each evasion transformation."""
    from plugwatch.tools.evasion import TRANSFORMS

    offers = [ex for ex in examples if ex.label == "sale"]
    if not offers:
        return {}
    out = {}
    base, _ = detector_scores(detector, offers)
    out["plain"] = round(float(np.mean(base >= detector.threshold)), 4)
    for name, transform in TRANSFORMS.items():
        rng = random.Random(f"{seed}-{name}")
        variants = [Example(ex.id, transform(ex.text, rng), ex.label, ex.source, ex.slice, ex.lang, ex.bio,
                            ex.platform) for ex in offers]
        s, _ = detector_scores(detector, variants)
        out[name] = round(float(np.mean(s >= detector.threshold)), 4)
    return out


def language_recall(examples: list[Example], detector: Detector) -> dict[str, dict[str, float | int]]:
    offers = [ex for ex in examples if ex.label == "sale" and ex.lang]
    s, _ = detector_scores(detector, offers)
    by: dict[str, list[bool]] = defaultdict(list)
    for ex, score in zip(offers, s, strict=True):
        by[ex.lang].append(bool(score >= detector.threshold))
    return {lang: {"n": len(v), "recall": round(float(np.mean(v)), 4)} for lang, v in sorted(by.items())}


def pr_curve_png(results: list[SystemResult], y: np.ndarray, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    fig, ax = plt.subplots(figsize=(6, 5), dpi=110)
    for r in results:
        if len(np.unique(r.scores)) > 2:
            p, rc, _ = precision_recall_curve(y, r.scores)
            ax.plot(rc, p, label=f"{r.name} (F1 {r.overall.f1:.3f})")
        else:
            ax.scatter([r.overall.recall], [r.overall.precision], marker="x", s=60,
                       label=f"{r.name} (F1 {r.overall.f1:.3f})")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1.01)
    ax.set_ylim(0, 1.01)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
