"""What the detector still gets wrong, by kind: false negatives and false positives grouped by
slice and by the signals present, so that the next round of fixes starts from the data rather than
from a few remembered examples."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from plugwatch.detect.datasets import Example
from plugwatch.detect.detector import Detector, has_evidence
from plugwatch.signals import Context
from plugwatch.text.identifiers import text_identifiers

TOP = 12  # groups shown per view; the JSON report keeps them all
_AMOUNTS = frozenset({"price", "price:per_unit", "price:quantity", "quantity", "menu"})


def signal_groups(ctx: Context) -> tuple[str, ...]:
    """The kinds of evidence in an item, coarse enough that errors share them: a clear drug term,
    only an everyday drug word, each cue, identifier family, an amount, anything in the bio, and
    whether the gate saw any evidence at all."""
    text = {h.feature for h in ctx.hits if not h.in_bio}
    out = {f for f in text if f.startswith(("cue:", "id:"))}
    if text & {"drug:low", "drug:medium", "drug:emoji"}:
        out.add("drug")
    elif "drug:high" in text:
        out.add("everyday_drug_word")
    if text & _AMOUNTS:
        out.add("amount")
    if any(h.in_bio for h in ctx.hits):
        out.add("bio")
    if not has_evidence(ctx):
        out.add("NO_EVIDENCE")
    return tuple(sorted(out)) or ("nothing",)


@dataclass
class ErrorKind:
    """One kind of error (false negatives or false positives) and its groupings."""

    n: int
    by_slice: dict[str, int]
    by_signals: dict[str, int]  # the whole set of signal groups present
    by_signal: dict[str, int]  # each signal group on its own: how many errors carry it

    def row(self) -> dict:
        return {"n": self.n, "by_slice": self.by_slice, "by_signals": self.by_signals, "by_signal": self.by_signal}


def _kind(rows: list[dict]) -> ErrorKind:
    def ordered(c: Counter) -> dict[str, int]:
        return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))

    return ErrorKind(
        n=len(rows),
        by_slice=ordered(Counter(r["slice"] or "(none)" for r in rows)),
        by_signals=ordered(Counter(" + ".join(r["signals"]) for r in rows)),
        by_signal=ordered(Counter(s for r in rows for s in r["signals"])),
    )


def error_rows(examples: list[Example], scores: np.ndarray, flagged: np.ndarray) -> list[dict]:
    """One row per error of the detector: the example, its score and the signal groups present."""
    from plugwatch.detect.training import example_item

    rows = []
    for i, ex in enumerate(examples):
        sale = ex.label == "sale"
        if bool(flagged[i]) == sale:
            continue
        item = example_item(ex)
        ctx = Detector.analyse(item, text_identifiers(item))
        rows.append({"error": "false_negative" if sale else "false_positive", "id": ex.id, "file": ex.source,
                     "slice": ex.slice, "lang": ex.lang, "label": ex.label, "chars": len(ex.text),
                     "score": round(float(scores[i]), 4), "signals": list(signal_groups(ctx)), "text": ex.text})
    return rows


def error_report(rows: list[dict]) -> dict[str, ErrorKind]:
    return {kind: _kind([r for r in rows if r["error"] == kind]) for kind in ("false_negative", "false_positive")}


def report_lines(report: dict[str, ErrorKind], top: int = TOP) -> list[str]:
    """Plain-text lines for the console: each grouping's largest groups."""
    lines = []
    for kind, k in report.items():
        lines.append(f"{kind.replace('_', ' ')}s: {k.n}")
        if not k.n:
            continue
        for title, groups in (("by slice", k.by_slice), ("by signals present", k.by_signals),
                              ("by signal", k.by_signal)):
            shown = list(groups.items())[:top]
            more = len(groups) - len(shown)
            lines.append(f"  {title}: " + ", ".join(f"{name} {n}" for name, n in shown)
                         + (f" (+{more} more groups)" if more > 0 else ""))
    return lines
