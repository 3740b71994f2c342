"""The detector-v2 targets (issue 18, "Done when") read from the report.json files that
bench/quality.sh writes, for plugwatch and both baselines of the same run.

Usage: python -m plugwatch.tools.quality_targets [EVAL_OUT_DIR]   (default eval-out)
Prints one line per target: each system's figure and whether plugwatch meets it. Exit 0 either way:
the figures are the result, a missed target is reported, not an error."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

SYSTEMS = ("plugwatch", "keyword (DEA slang)", "TF-IDF char n-grams + LR")
SHORT = "under 80 chars"
MIN_OFFERS_PER_LANGUAGE = 40
LANGUAGES_WANTED = 15


@dataclass
class Target:
    what: str
    figures: dict[str, float | None]  # per system
    goal: str  # e.g. ">= 0.96"
    met: bool | None  # for plugwatch; None when not measured


def _load(out: Path, name: str) -> dict | None:
    path = out / name / "report.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _cmp(value: float | None, goal: str) -> bool | None:
    if value is None:
        return None
    op, bound = goal.split()
    return value >= float(bound) if op == ">=" else value <= float(bound) if op == "<=" else value > float(bound)


def _per_system(report: dict | None, pick) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for s in SYSTEMS:
        try:
            out[s] = pick(report["systems"][s])
        except (KeyError, TypeError):
            out[s] = None
    return out


def _target(what: str, report: dict | None, pick, goal: str) -> Target:
    figures = _per_system(report, pick)
    return Target(what, figures, goal, _cmp(figures["plugwatch"], goal))


def _pooled_recall(rows: list[dict]) -> float | None:
    """Recall over several groups' sales, from each group's size and recall."""
    sales = sum(r["sale"] for r in rows if r.get("sale"))
    hits = sum(round(r["recall"] * r["sale"]) for r in rows if r.get("sale"))
    return round(hits / sales, 4) if sales else None


def targets(out: Path) -> list[Target]:
    dev, short, pharmacy = _load(out, "dev"), _load(out, "short"), _load(out, "pharmacy")
    fresh, health, misspelt = _load(out, "fresh"), _load(out, "health"), _load(out, "misspelt")
    proxies, warnings, langs = _load(out, "proxies"), _load(out, "heldout-warnings"), _load(out, "languages")
    found = [
        _target("social test set: F1", dev, lambda s: s["overall"]["f1"], ">= 0.96"),
        _target("social test set: FPR", dev, lambda s: s["overall"]["fpr"], "<= 0.01"),
        _target("social test set: recall on posts under 80 chars", dev,
                lambda s: s["by_length"][SHORT]["recall"], ">= 0.92"),
        _target("short-offer test set (all under 80 chars): recall", short,
                lambda s: s["overall"]["recall"], ">= 0.92"),
        _target("short-offer test set: FPR on look-alikes", short, lambda s: s["overall"]["fpr"], "<= 0.01"),
        # The social set's goals, on posts nobody tuned anything on (the social set has been looked at).
        _target("independent check set: F1", fresh, lambda s: s["overall"]["f1"], ">= 0.96"),
        _target("independent check set: FPR", fresh, lambda s: s["overall"]["fpr"], "<= 0.01"),
    ]
    if dev and short:
        figures = {s: _pooled_recall([dev["systems"][s]["by_length"].get(SHORT, {}),
                                      short["systems"][s]["by_length"].get(SHORT, {})]) for s in SYSTEMS}
        found.append(Target("both sets: recall on posts under 80 chars", figures, ">= 0.92",
                            _cmp(figures["plugwatch"], ">= 0.92")))
    tfidf_f1 = _per_system(proxies, lambda s: s["overall"]["f1"])[SYSTEMS[2]]
    found += [
        _target("shared proxies held-out: F1 (above TF-IDF's)", proxies, lambda s: s["overall"]["f1"],
                f"> {tfidf_f1}" if tfidf_f1 is not None else "> 1"),
        _target("no-prescription pharmacy test set: recall", pharmacy,
                lambda s: s["slices"]["pharmacy"]["recall"], ">= 0.8"),
        _target("legitimate pharmacy / medicine text (test set): FPR", pharmacy,
                lambda s: s["slices"]["pharmacy_legit"]["fpr"], "<= 0.02"),
        # The same two goals on a set written later by a writer who saw no file of the project.
        _target("independent health set: no-prescription pharmacy recall", health,
                lambda s: s["slices"]["rogue_pharmacy"]["recall"], ">= 0.8"),
        _target("independent health set: FPR on medicine information, health talk", health,
                lambda s: s["overall"]["fpr"], "<= 0.02"),
        _target("proxies: onion illegal-drug pages: recall", proxies,
                lambda s: s["slices"]["onion_drugs_illegal"]["recall"], ">= 0.8"),
        _target("proxies: onion legal-drug pages: FPR", proxies,
                lambda s: s["slices"]["onion_drugs_legal"]["fpr"], "<= 0.02"),
        _target("proxies: eBay legal products: FPR", proxies,
                lambda s: s["slices"]["ebay_legal_product"]["fpr"], "<= 0.02"),
        _target("held-out warnings set: F1", warnings, lambda s: s["overall"]["f1"], ">= 0.85"),
        _target("held-out warnings set: FPR", warnings, lambda s: s["overall"]["fpr"], "<= 0.03"),
    ]
    # Misspelt names as people write them, beside the evasion transform that misspells them by rule.
    found += [
        _target("independent misspelling set: recall on offers with misspelt drug names", misspelt,
                lambda s: s["slices"]["misspelt_offer"]["recall"], ">= 0.92"),
        _target("independent misspelling set: FPR (everyday look-alike words, talk, warnings)", misspelt,
                lambda s: s["overall"]["fpr"], "<= 0.01"),
    ]
    worst = (dev or {}).get("worst_evasion")
    found.append(Target(f"worst evasion transform ({worst['transform'] if worst else '?'}): points of recall lost",
                        {"plugwatch": worst["cost_points"] if worst else None}, "<= 3",
                        _cmp(worst["cost_points"] if worst else None, "<= 3")))
    if langs:
        by = langs["systems"]["plugwatch"].get("by_language", {})
        ok = ok_ordinary = 0
        for lang, row in sorted(by.items()):
            if row.get("sale", 0) < MIN_OFFERS_PER_LANGUAGE:
                continue
            recall = _target(f"language {lang} ({row['sale']} offers): recall", langs,
                             lambda s, lang=lang: s["by_language"][lang]["recall"], ">= 0.85")
            fpr = _target(f"language {lang} ({row['n'] - row['sale']} non-offers): FPR", langs,
                          lambda s, lang=lang: s["by_language"][lang].get("fpr"), "<= 0.02")
            found += [recall, fpr]
            ok += bool(recall.met and fpr.met)
            if "ordinary_fpr" in row:
                ordinary = _target(f"language {lang} ({row['ordinary']} ordinary posts): FPR", langs,
                                   lambda s, lang=lang: s["by_language"][lang].get("ordinary_fpr"), "<= 0.02")
                found.append(ordinary)
                ok_ordinary += bool(recall.met and ordinary.met)
        # The target names each language's ordinary posts; all its non-offers (requests, look-alike shops,
        # warnings) is the stricter reading, and both counts are shown.
        found.append(Target(f"languages meeting recall and FPR on ordinary posts (of {len(by)})",
                            {"plugwatch": ok_ordinary}, f">= {LANGUAGES_WANTED}", ok_ordinary >= LANGUAGES_WANTED))
        found.append(Target(f"languages meeting recall and FPR on all non-offers (of {len(by)})", {"plugwatch": ok},
                            f">= {LANGUAGES_WANTED}", ok >= LANGUAGES_WANTED))
    return found


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "eval-out")
    rows = targets(out)
    width = max(len(t.what) for t in rows)
    print(f"{'target':<{width}}  {'goal':>8}  {'plugwatch':>9}  {'keyword':>7}  {'TF-IDF':>7}  met")
    for t in rows:
        f = t.figures
        met = "-" if t.met is None else "yes" if t.met else "NO"
        print(f"{t.what:<{width}}  {t.goal:>8}  {_fmt(f.get(SYSTEMS[0])):>9}  {_fmt(f.get(SYSTEMS[1])):>7}  "
              f"{_fmt(f.get(SYSTEMS[2])):>7}  {met}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
