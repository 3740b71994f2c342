"""The model file: plain JSON numbers, read into numpy. No pickle, so a model
file can be inspected, diffed and loaded without running anyone's code.

Two linear stages share one format:
  gate  - cheap signal features only; decides which items need the full model
  full  - signal features + multilingual sentence embedding
Each stage is a multinomial logistic regression whose per-class decision values
are calibrated with Platt sigmoids (as scikit-learn's CalibratedClassifierCV
does) and renormalised, so scores are probabilities.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from plugwatch.detect.features import FEATURES

FORMAT_VERSION = 1
CLASSES = ("not_sale", "sale", "buy")
DEFAULT_MODEL = "detector.json"


class ModelError(Exception):
    """The model file is missing, unreadable or made for other features."""


@dataclass(slots=True)
class Stage:
    coef: np.ndarray  # (n_classes, n_inputs)
    intercept: np.ndarray  # (n_classes,)
    calib: np.ndarray  # (n_classes, 2): Platt a, b per class
    mean: np.ndarray  # standardisation of the signal features
    scale: np.ndarray

    def proba(self, feats: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
        x = (feats - self.mean) / self.scale
        if extra is not None:
            x = np.hstack([x, extra])
        z = x @ self.coef.T + self.intercept
        p = 1.0 / (1.0 + np.exp(self.calib[:, 0] * z + self.calib[:, 1]))
        total = p.sum(axis=1, keepdims=True)
        total[total == 0] = 1.0
        return p / total

    def to_json(self) -> dict[str, Any]:
        r = lambda a: np.round(a.astype(np.float64), 7).tolist()  # noqa: E731
        return {"coef": r(self.coef), "intercept": r(self.intercept), "calib": r(self.calib),
                "mean": r(self.mean), "scale": r(self.scale)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Stage:
        f = lambda k: np.asarray(d[k], dtype=np.float32)  # noqa: E731
        return cls(f("coef"), f("intercept"), f("calib"), f("mean"), f("scale"))


@dataclass(slots=True)
class DetectorModel:
    gate: Stage
    full: Stage
    gate_threshold: float  # below this gate probability of sale/buy the full model is skipped
    threshold: float  # default flagging threshold on P(sale)
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
            "threshold": round(self.threshold, 6),
            "request_threshold": round(self.request_threshold, 6),
            "gate": self.gate.to_json(),
            "full": self.full.to_json(),
            "meta": self.meta,
        }
        path.write_text(json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")

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
            raise ModelError(f"{where}: not a plugwatch model of format {FORMAT_VERSION}")
        if tuple(doc.get("features", ())) != FEATURES:
            raise ModelError(f"{where}: made for other signal features; retrain with `plugwatch train`")
        try:
            return cls(
                gate=Stage.from_json(doc["gate"]),
                full=Stage.from_json(doc["full"]),
                gate_threshold=float(doc["gate_threshold"]),
                threshold=float(doc["threshold"]),
                request_threshold=float(doc["request_threshold"]),
                embedding=str(doc["embedding"]),
                meta=doc.get("meta", {}),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ModelError(f"{where}: incomplete model file ({e})") from None
