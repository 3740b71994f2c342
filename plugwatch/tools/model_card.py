"""Write MODEL_CARD.md's measured-quality tables from the reports `bench/quality.sh` leaves in eval-out/,
so that every figure in the card is one a command printed.

Usage: python -m plugwatch.tools.model_card [EVAL_OUT_DIR] [--card MODEL_CARD.md]
Replaces what lies between the card's BEGIN and END markers; the prose around them is written by hand."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from plugwatch.tools.quality_targets import SYSTEMS, targets

BEGIN = "<!-- BEGIN quality tables: python -m plugwatch.tools.model_card eval-out -->"
END = "<!-- END quality tables -->"
SETS = (  # eval-out folder, what it is
    ("dev", "Hand-written social-media test set (`devdata/test.jsonl`)"),
    ("short", "Short offers and look-alikes under 80 characters (`devdata/v2/test_short.jsonl`)"),
    ("fresh", "Independent check: social posts written in one sitting by a writer who saw no code, data or test "
              "set (`devdata/v2/test3_social.jsonl`)"),
    ("pharmacy", "No-prescription pharmacies and legitimate pharmacy or medicine text (`devdata/v2/test_pharmacy.jsonl`)"),
    ("health", "Independent check: medicine leaflets, pharmacy sites, health talk and news, and no-prescription "
               "sellers, by a writer who saw no file of the project (`devdata/v2/test_health.jsonl`)"),
    ("misspelt", "Independent check: offers with misspelt drug names and everyday words one letter from a name, by a "
                 "writer who saw no file of the project (`devdata/v2/test_misspelt.jsonl`)"),
    ("proxies", "Shared proxies, held-out 20% (darknet listings, onion paragraphs, Reddit talk)"),
    ("dev-warnings", "Warnings naming a seller, development set (`devdata/dev_warnings.jsonl`, used to choose the "
                     "warning cues)"),
    ("heldout-warnings", "Warnings naming a seller, held-out set (`devdata/heldout_warnings.jsonl`)"),
    ("languages", "Languages (`devdata/test.jsonl`, `devdata/v2/test_lang_*.jsonl`, `test2_lang_*.jsonl`)"),
    ("contact", "Posts naming a messaging app or asking for a DM, and offers that send buyers to one "
                "(`devdata/v2/test_contact.jsonl`, 20 languages)"),
    ("market", "Independent check: ordinary buy-and-sell posts and drug offers written like them, by a writer who "
               "saw no file of the project (`devdata/v2/test_market.jsonl`, 20 languages)"),
    ("pharmacy-dev", "No-prescription sellers and legitimate pharmacy, OTC, patient, warning and news text, by a writer "
                     "who saw no file of the project, used to check the no-prescription phrases "
                     "(`devdata/v2/dev_pharmacy_ml.jsonl`, 12 languages)"),
    ("requests-dev", "Buyers' requests and offers, by a writer who saw no file of the project, used to choose the request "
                     "phrases (`devdata/v2/dev_requests.jsonl`, 15 languages)"),
    ("requests", "Independent check: buyers' requests and offers, by a second writer who saw no file of the project "
                 "(`devdata/v2/test_requests.jsonl`, 15 languages)"),
    ("street", "Independent check: short street-style offers, ordinary posts using the same words, and requests, by a "
               "third writer who saw no file of the project (`devdata/v2/test_street.jsonl`, 15 languages)"),
)


def _cell(row: dict | None, both: bool) -> str:
    if row is None:
        return "-"
    recall = f"recall {row['recall']:.2f}" if row.get("recall") is not None and row.get("sale") else ""
    fpr = f"FPR {100 * row['fpr']:.1f}%" if row.get("fpr") is not None and row.get("n", 0) > row.get("sale", 0) else ""
    if not both:
        return recall or fpr or "-"
    return " ".join(x for x in (recall, fpr) if x) or "-"


def _breakdown(report: dict, key: str, label: str, both: bool) -> list[str]:
    rows = report["systems"][SYSTEMS[0]].get(key) or {}
    if not rows:
        return []
    out = [f"| {label} | n | offers | {' | '.join(SYSTEMS)} |", "|---|---|---|" + "---|" * len(SYSTEMS)]
    for name, row in sorted(rows.items()):
        cells = [_cell(report["systems"][s].get(key, {}).get(name), both) for s in SYSTEMS]
        out.append(f"| {name} | {row['n']} | {row['sale']} | {' | '.join(cells)} |")
    return [*out, ""]


def section(title: str, report: dict) -> list[str]:
    out = [f"### {title}: {report['n']} items, threshold {report['threshold']:.2f}", "",
           "| system | precision | recall | F1 | false-positive rate |", "|---|---|---|---|---|"]
    for s in SYSTEMS:
        o = report["systems"][s]["overall"]
        out.append(f"| {s} | {o['precision']:.3f} | {o['recall']:.3f} | {o['f1']:.3f} | {100 * o['fpr']:.1f}% |")
    out.append("")
    out += _breakdown(report, "slices", "slice", False)
    out += _breakdown(report, "by_length", "length", True)
    out += _breakdown(report, "by_language", "language", True)
    if len(report.get("files", ())) > 1:
        out += _breakdown(report, "by_file", "file", True)
    req = report.get("requests")
    if req:
        out += [f"Requests to buy: precision {req['precision']:.3f}, recall {req['recall']:.3f}.", ""]
    ev, worst = report.get("evasion_recall"), report.get("worst_evasion")
    if ev and worst:
        listed = ", ".join(f"{k} {v:.3f}" for k, v in ev.items())
        out += [f"Recall after each evasion: {listed}. Largest drop: {worst['cost_points']:.1f} points "
                f"({worst['transform']}).", ""]
    return out


def tables(out_dir: Path) -> list[str]:
    lines = ["### Detector-v2 targets (issue 18), as `bench/quality.sh` prints them", "",
             "| target | goal | plugwatch | keyword | TF-IDF | met |", "|---|---|---|---|---|---|"]
    for t in targets(out_dir):
        cells = [("-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v))
                 for v in (t.figures.get(s) for s in SYSTEMS)]
        met = "-" if t.met is None else "yes" if t.met else "NO"
        lines.append(f"| {t.what} | {t.goal} | {' | '.join(cells)} | {met} |")
    lines.append("")
    for folder, title in SETS:
        path = out_dir / folder / "report.json"
        if path.exists():
            lines += section(title, json.loads(path.read_text(encoding="utf-8")))
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", type=Path, default=Path("eval-out"))
    ap.add_argument("--card", type=Path, default=Path("MODEL_CARD.md"))
    args = ap.parse_args(argv)
    card = args.card.read_text(encoding="utf-8")
    if BEGIN not in card or END not in card:
        raise SystemExit(f"{args.card}: no {BEGIN!r} ... {END!r} markers to write between")
    head, rest = card.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    args.card.write_text(head + BEGIN + "\n\n" + "\n".join(tables(args.out)) + "\n" + END + tail, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
