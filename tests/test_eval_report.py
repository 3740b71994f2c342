"""The evaluation's breakdowns: errors by kind (slice, signals present), length buckets, worst evasion."""

import numpy as np

from plugwatch.detect import evaluate as ev
from plugwatch.detect.datasets import Example
from plugwatch.detect.error_report import error_report, error_rows, report_lines, signal_groups
from plugwatch.detect.training import example_item
from plugwatch.signals import Context
from plugwatch.text.identifiers import extract_identifiers


def ctx_of(text: str, bio: str | None = None) -> Context:
    from plugwatch.detect.detector import Detector

    item = example_item(Example("x", text, "sale", "dev", bio=bio))
    return Detector.analyse(item, extract_identifiers(item.text))


def test_signal_groups_name_the_kinds_of_evidence():
    assert signal_groups(ctx_of("xanax 2mg bars, $5 each, wickr: plugman")) == (
        "amount", "cue:contact", "cue:selling", "drug", "id:contact", "id:drug_handle")  # "plug" in the handle
    assert "id:drug_handle" not in signal_groups(ctx_of("xanax 2mg bars, $5 each, wickr: johnny"))
    # An everyday word alone gives the gate nothing: the error report says so.
    assert signal_groups(ctx_of("what a lovely day")) == ("NO_EVIDENCE",)
    assert "bio" in signal_groups(ctx_of("restocked", bio="xanax plug, wickr: plugman"))


def test_errors_are_grouped_by_slice_and_by_signals():
    examples = [Example("a", "xanax bars $5 each", "sale", "f1", slice="short"),
                Example("b", "anyone looking?", "sale", "f1", slice="question"),
                Example("c", "my doctor prescribed xanax", "not_sale", "f2", slice="care"),
                Example("d", "nice weather", "not_sale", "f2", slice="ordinary")]
    flagged = np.array([True, False, True, False])  # one miss (b), one false alarm (c)
    rows = error_rows(examples, np.array([0.9, 0.1, 0.7, 0.0]), flagged)
    assert [(r["id"], r["error"]) for r in rows] == [("b", "false_negative"), ("c", "false_positive")]
    report = error_report(rows)
    fn, fp = report["false_negative"], report["false_positive"]
    assert (fn.n, fn.by_slice) == (1, {"question": 1})
    assert fp.by_slice == {"care": 1}
    assert "drug" in fp.by_signal and "cue:care" in fp.by_signal
    assert fp.by_signals == {" + ".join(rows[1]["signals"]): 1}
    lines = report_lines(report)
    assert lines[0] == "false negatives: 1" and any("by slice: question 1" in line for line in lines)


def test_length_buckets_and_group_tables():
    examples = [Example("a", "x" * 79, "sale", "f"), Example("b", "x" * 80, "sale", "f"),
                Example("c", "y" * 10, "not_sale", "f")]
    y = np.array([True, True, False])
    table = ev.slice_table(examples, y, np.array([False, True, True]), ev.length_bucket)
    assert table["under 80 chars"] == {"n": 2, "sale": 1, "flagged": 1, "recall": 0.0, "fpr": 1.0}
    assert table["80+ chars"]["recall"] == 1.0


def test_language_table_gives_the_fpr_on_ordinary_posts_beside_all_non_offers():
    examples = [Example("a", "t", "sale", "f", "short_offer", "pl"), Example("b", "t", "buy", "f", "request", "pl"),
                Example("c", "t", "not_sale", "f", "ordinary", "pl"), Example("d", "t", "not_sale", "f", "ordinary", "pl"),
                Example("e", "t", "not_sale", "f", "news", "de")]
    y = np.array([ex.label == "sale" for ex in examples])
    table = ev.language_table(examples, y, np.array([True, True, False, False, True]))
    assert table["pl"]["fpr"] == round(1 / 3, 4)  # the request counts among all non-offers
    assert (table["pl"]["ordinary"], table["pl"]["ordinary_fpr"]) == (2, 0.0)
    assert "ordinary_fpr" not in table["de"]  # no ordinary posts: no figure, not a zero


def test_worst_evasion_is_the_largest_loss_in_points():
    assert ev.worst_evasion({"plain": 0.95, "spaced": 0.90, "leet": 0.94}) == ("spaced", 5.0)
    assert ev.worst_evasion({"plain": 0.95}) is None
