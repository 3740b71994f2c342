"""Learning from decisions: reviewed items become labelled examples for train and eval."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from plugwatch.cli import app
from plugwatch.detect import evaluate as ev
from plugwatch.detect.model import DetectorModel
from plugwatch.detect.training import decision_examples
from plugwatch.store import audit, review, users
from plugwatch.wiring import open_store

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
DECIDE = {"sale": ("remove", "drug_sale"), "buy": ("remove", "drug_solicitation"), "not_sale": ("dismiss", "not_drugs")}


def labelled(n_per_label: int) -> list[dict]:
    rows, counts = [], {"sale": 0, "buy": 0, "not_sale": 0}
    for line in (ROOT / "devdata" / "test.jsonl").open(encoding="utf-8"):
        rec = json.loads(line)
        if counts[rec["label"]] < n_per_label:
            counts[rec["label"]] += 1
            rows.append(rec)
    return rows


def reviewed_db(db_url: str, rows: list[dict]) -> None:
    """Every row queued and decided by a reviewer according to its label."""
    store = open_store(db_url)
    records = [{"id": f"x:{r['id']}", "platform": "x", "author": f"x:acct{i}", "text": r["text"], "score": 0.5,
                "flagged": True, "kind": "offer", "identifiers": [], "reasons": []} for i, r in enumerate(rows)]
    with store.session() as s:
        review.ingest_records(s, records)
        ann = users.add_user(s, "ann", "reviewer")[0]
    with store.session() as s:
        for r in rows:
            review.claim(s, ann, f"x:{r['id']}")
            review.decide(s, ann, f"x:{r['id']}", *DECIDE[r["label"]])
    store.dispose()


def test_decisions_become_labelled_examples(db_url):
    rows = labelled(3)
    reviewed_db(db_url, rows)
    store = open_store(db_url)
    with store.session() as s:
        lead = users.add_user(s, "lea", "lead")[0]
        # An item under appeal is left out until the appeal is decided.
        review.file_appeal(s, f"x:{rows[0]['id']}", "please look again", filed_by="lea")
        reviewed = review.reviewed_items(s)
    examples = decision_examples(reviewed)
    assert len(examples) == len(rows) - 1
    want = {f"decision:x:{r['id']}": r["label"] for r in rows[1:]}
    assert {ex.id: ex.label for ex in examples} == want
    assert {ex.source for ex in examples} == {"decisions"}
    with store.session() as s:
        review.claim(s, lead, f"x:{rows[0]['id']}")
        review.decide(s, lead, f"x:{rows[0]['id']}", "dismiss", "harm_reduction")
        again = decision_examples(review.reviewed_items(s))
    assert {ex.id: ex.label for ex in again}[f"decision:x:{rows[0]['id']}"] == "not_sale"  # the appeal's outcome


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_eval_reports_precision_on_reviewed_items(db_url, tmp_path, detector):
    rows = labelled(8)
    reviewed_db(db_url, rows)
    out = tmp_path / "eval"
    result = runner.invoke(app, ["eval", "--from-decisions", "--db", db_url, "--out-dir", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "decisions_report.json").read_text())
    # The same figures computed directly from the detector and the labels.
    store = open_store(db_url)
    with store.session() as s:
        examples = decision_examples(review.reviewed_items(s))
        assert audit.verify(s) is None
    scores, _ = ev.detector_scores(detector, examples)
    flagged = scores >= detector.threshold
    sale = np.array([ex.label == "sale" for ex in examples])
    assert report["n"] == len(rows) and report["sale"] == 8 and report["buy"] == 8
    assert report["offers"]["flagged"] == int(flagged.sum())
    assert report["offers"]["precision"] == pytest.approx(float((flagged & sale).sum() / flagged.sum()), abs=1e-4)
    assert "precision" in result.output


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_train_from_decisions_adds_them_to_the_training_data(db_url, tmp_path):
    reviewed_db(db_url, labelled(6))
    dev = tmp_path / "dev.jsonl"
    small = []
    counts = {"sale": 0, "buy": 0, "not_sale": 0}
    for line in (ROOT / "devdata" / "train.jsonl").open(encoding="utf-8"):
        rec = json.loads(line)
        if counts[rec["label"]] < 25:
            counts[rec["label"]] += 1
            small.append(line)
    dev.write_text("".join(small), encoding="utf-8")
    model = tmp_path / "model.json"
    result = runner.invoke(app, ["train", "--no-proxies", "--dev", str(dev), "--from-decisions", "--db", db_url,
                                 "--out", str(model)])
    assert result.exit_code == 0, result.output
    assert "adding 18 reviewed items" in result.output
    trained_on = DetectorModel.load(model).meta["trained_on"]
    # 18 decisions plus an evaded copy of each (as for the hand-written set), beside the 75 dev examples.
    assert 18 < trained_on["decisions"] <= 36 and 75 < trained_on["dev"] <= 150
