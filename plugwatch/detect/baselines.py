"""The two baselines every evaluation reports beside the detector.

(a) keyword filter: flags any whole-word match of the DEA slang list, the way
    platform word filters work;
(b) TF-IDF character n-grams + logistic regression, the usual research
    baseline, trained on the same training data as the detector.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import regex
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from plugwatch.detect.datasets import DataError, Example, csv_rows


class KeywordBaseline:
    name = "keyword (DEA slang)"

    def __init__(self, terms: list[str]):
        terms = sorted({t.strip().lower() for t in terms if t.strip()}, key=len, reverse=True)
        self._re = regex.compile(r"(?<!\w)(?:" + "|".join(regex.escape(t) for t in terms) + r")(?!\w)", regex.I)

    @classmethod
    def from_data(cls, data: Path) -> KeywordBaseline:
        path = data / "lexicons" / "dea_slang_2018" / "dea_slang_pairs.csv"
        try:
            return cls([row["slang_term"] for row in csv_rows(path, ("slang_term",))])
        except FileNotFoundError:
            raise DataError(f"{path}: DEA slang list not found (give --data PATH)") from None

    def scores(self, texts: list[str]) -> np.ndarray:
        return np.array([1.0 if self._re.search(t) else 0.0 for t in texts])


class TfidfBaseline:
    name = "TF-IDF char n-grams + LR"

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline

    @classmethod
    def fit(cls, examples: list[Example], weights: np.ndarray | None = None) -> TfidfBaseline:
        pipe = make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=300_000),
            LogisticRegression(C=4.0, max_iter=2000),
        )
        y = [1 if ex.label == "sale" else 0 for ex in examples]
        kwargs = {"logisticregression__sample_weight": weights} if weights is not None else {}
        pipe.fit([ex.text for ex in examples], y, **kwargs)
        return cls(pipe)

    def scores(self, texts: list[str]) -> np.ndarray:
        return self.pipeline.predict_proba(texts)[:, 1]
