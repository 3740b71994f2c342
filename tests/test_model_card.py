"""The model card's quality tables are written from eval reports, between markers, leaving prose alone."""

from __future__ import annotations

import json

from plugwatch.tools import model_card
from plugwatch.tools.quality_targets import SYSTEMS


def _report(f1: float) -> dict:
    overall = {"precision": 0.9, "recall": 0.8, "f1": f1, "fpr": 0.0125}
    slices = {"offers": {"n": 10, "sale": 10, "flagged": 8, "recall": 0.8},
              "news": {"n": 80, "sale": 0, "flagged": 1, "fpr": 0.0125}}
    return {"files": ["devdata/test.jsonl"], "n": 90, "threshold": 0.64, "requests": None,
            "systems": {s: {"overall": overall, "slices": slices,
                            "by_length": {"under 80 chars": {"n": 90, "sale": 10, "flagged": 9, "recall": 0.8,
                                                             "fpr": 0.0125}}} for s in SYSTEMS}}


def test_tables_replace_only_what_lies_between_the_markers(tmp_path):
    out = tmp_path / "eval-out"
    (out / "dev").mkdir(parents=True)
    (out / "dev" / "report.json").write_text(json.dumps(_report(0.842)), encoding="utf-8")
    card = tmp_path / "CARD.md"
    card.write_text(f"intro prose\n{model_card.BEGIN}\nstale 0.111\n{model_card.END}\nclosing prose\n", encoding="utf-8")
    assert model_card.main([str(out), "--card", str(card)]) == 0
    text = card.read_text(encoding="utf-8")
    assert text.startswith("intro prose\n") and text.endswith(f"{model_card.END}\nclosing prose\n")
    assert "stale" not in text
    assert "| plugwatch | 0.900 | 0.800 | 0.842 | 1.2% |" in text
    assert "| offers | 10 | 10 | recall 0.80 | recall 0.80 | recall 0.80 |" in text
    assert "| news | 80 | 0 | FPR 1.2% | FPR 1.2% | FPR 1.2% |" in text
    assert "| under 80 chars | 90 | 10 | recall 0.80 FPR 1.2% |" in text
    assert "| social test set: F1 | >= 0.96 | 0.842 |" in text  # the issue-18 target rows, from the same report
