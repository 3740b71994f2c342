"""Model commands: `train`, `eval`, `proxies` and `vocab build`."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from plugwatch.commands.common import (
    check_threshold,
    err,
    fail,
    load_detector,
    open_db,
    threshold_help,
    writable_dir,
    writable_file,
)

THRESHOLD_DEFAULT = threshold_help()
vocab_app = typer.Typer(no_args_is_help=True, help="Build the drug vocabulary from lexicons.")


DEFAULT_DATA = Path("../shared/data")
# The hand-written social-media sets, when run from the repo: the first round and the detector-v2 files
# (short offers, pharmacies, warnings, fourteen languages). Test files (test*.jsonl) never match.
DEFAULT_DEV = ("devdata/train*.jsonl", "devdata/v2/train*.jsonl")


def _training_examples(data: Path, dev: list[Path] | None, no_proxies: bool):
    from plugwatch.detect.datasets import DataError, proxies, read_labelled

    examples = []
    try:
        if not no_proxies:
            examples.extend(proxies(data, "train"))
        paths = dev if dev is not None else [p for pattern in DEFAULT_DEV for p in sorted(Path().glob(pattern))]
        for path in paths:
            examples.extend(read_labelled(path, source="dev"))
    except DataError as e:
        fail(str(e))
    if dev is None:
        # The default is relative to the current folder: run elsewhere, it finds nothing, and the model
        # (or the TF-IDF baseline) would be fitted on the proxies alone without a word.
        if paths:
            err.print(f"hand-written training files: {len(paths)} ({' and '.join(DEFAULT_DEV)} here)")
        else:
            err.print(f"[yellow]note[/]: no hand-written training files ({' or '.join(DEFAULT_DEV)}) in "
                      f"{Path.cwd()}: run from the repository, or give --dev FILE.jsonl")
    if not examples:
        fail("no training data: give --data (shared proxies) and/or --dev FILE.jsonl")
    return examples


def _decision_examples(db: str | None, purpose: str):
    """Reviewed items as labelled examples; the copy out of the review database is audited."""
    from plugwatch.detect.training import decision_examples
    from plugwatch.store import audit
    from plugwatch.store.review import reviewed_items

    store = open_db(db, create=False)
    with store.session() as s:
        examples = decision_examples(reviewed_items(s))
        audit.append(s, f"cli:{os.environ.get('USER') or 'unknown'}", "export", "decisions",
                     {"rows": len(examples), "purpose": purpose})
    store.dispose()
    return examples


def train(
    data: Annotated[Path, typer.Option(help="Shared data folder (darknet listings, Reddit, lexicons).")] = DEFAULT_DATA,
    dev: Annotated[
        list[Path] | None,
        typer.Option(help="Labelled social-media JSONL (id, text, label). Repeatable. Default: devdata/train*.jsonl and devdata/v2/train*.jsonl"),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Model file to write (default: the package's).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same data + seed = same model).")] = 0,
    no_proxies: Annotated[bool, typer.Option("--no-proxies", help="Train on --dev files only.")] = False,
    from_decisions: Annotated[bool, typer.Option(
        "--from-decisions", help="Add the items reviewers decided (their final decision is the label).")] = False,
    db: Annotated[str | None, typer.Option(help="Database for --from-decisions (default $PLUGWATCH_DB, "
                                                "else sqlite:///plugwatch.db).")] = None,
) -> None:
    """Train the detector from labelled data and write the model file."""
    from plugwatch.detect.model import DEFAULT_MODEL
    from plugwatch.detect.training import train as fit

    if out is None:
        from importlib import resources

        out = Path(str(resources.files("plugwatch.data").joinpath(DEFAULT_MODEL)))
    examples = _training_examples(data, dev, no_proxies)
    if from_decisions:
        reviewed = _decision_examples(db, "train")
        err.print(f"adding {len(reviewed):,} reviewed items from decisions")
        examples.extend(reviewed)
    counts = {label: sum(ex.label == label for ex in examples) for label in ("sale", "not_sale", "buy")}
    if min(counts.values()) < 10:
        fail("training needs at least 10 examples of each label (sale, not_sale, buy); got "
              + ", ".join(f"{k} {v}" for k, v in counts.items()))
    writable_file(out, "the model")  # now, not after the training
    started = time.perf_counter()
    model = fit(examples, seed=seed, progress=lambda m: err.print(f"[dim]{m}[/]"))
    try:
        model.save(out)
    except OSError as e:
        fail(f"cannot write the model {out}: {e.strerror or e}")
    err.print(f"trained on {len(examples):,} examples in {time.perf_counter() - started:.0f}s; wrote {out}")
    err.print(f"gate threshold {model.gate_threshold:.4f}, "
              f"gate passes {model.meta['gate_pass_rate_on_training']:.1%} of training items")


def evaluate_cmd(
    labelled: Annotated[list[Path] | None, typer.Argument(
        help="JSONL files with id, text, label (sale/not_sale/buy), optional slice and lang; "
             "several files are measured as one set (per language, per slice, per file).")] = None,
    data: Annotated[Path, typer.Option(help="Shared data folder: DEA list and baseline training data.")] = DEFAULT_DATA,
    dev: Annotated[list[Path] | None, typer.Option(help="Dev training files for the TF-IDF baseline.")] = None,
    model: Annotated[Path | None, typer.Option(help="Model file (default: the package's).")] = None,
    threshold: Annotated[float | None, typer.Option(help="Flagging threshold.", show_default=THRESHOLD_DEFAULT)] = None,
    out_dir: Annotated[Path, typer.Option(help="Where report.json, errors.jsonl and pr_curve.png go.")] = Path(
        "eval-out"),
    evasion: Annotated[bool, typer.Option(help="Also measure recall under each evasion transformation.")] = False,
    from_decisions: Annotated[bool, typer.Option(
        "--from-decisions", help="Precision on the items reviewers decided, instead of a labelled file.")] = False,
    db: Annotated[str | None, typer.Option(help="Database for --from-decisions.")] = None,
) -> None:
    """Precision, recall, F1, false-positive rate, per-slice, per-length and per-language tables beside two
    baselines, and the detector's errors grouped by slice and by the signals present."""
    check_threshold(threshold)
    if from_decisions:
        _eval_decisions(db, model, threshold, out_dir)
        return
    if not labelled:
        fail("give a labelled JSONL file, or --from-decisions")

    from plugwatch.detect import evaluate as ev
    from plugwatch.detect.baselines import KeywordBaseline, TfidfBaseline
    from plugwatch.detect.datasets import DataError, read_labelled
    from plugwatch.detect.training import source_weights

    try:
        examples = [ex for path in labelled for ex in read_labelled(path)]
        keyword = KeywordBaseline.from_data(data)
    except DataError as e:
        fail(str(e))
    detector = load_detector(model, threshold, False)
    train_examples = _training_examples(data, dev, False)
    writable_dir(out_dir, "--out-dir")
    err.print(f"[dim]fitting TF-IDF baseline on {len(train_examples):,} training examples[/]")
    tfidf = TfidfBaseline.fit(train_examples, source_weights(train_examples))
    results = ev.evaluate(examples, detector, [keyword, tfidf])
    import numpy as np

    y = np.array([ex.label == "sale" for ex in examples])
    name = labelled[0].name if len(labelled) == 1 else f"{len(labelled)} files"
    report: dict = {"files": [str(p) for p in labelled], "n": len(examples), "threshold": detector.threshold,
                    "systems": {}}
    out_console = Console(highlight=False, width=max(Console().width, 110))  # tables stay one line per row
    _overall_table(out_console, results, f"sale vs. not-sale on {name} ({len(examples)} items, {int(y.sum())} sales)")
    for r in results:
        report["systems"][r.name] = {"overall": r.overall.row(), "slices": r.slices}
    groupings = {"slice": lambda ex: ex.slice or "(none)", "length": ev.length_bucket,
                 "language": lambda ex: ex.lang or "(none)"}
    if len(labelled) > 1:
        groupings["file"] = lambda ex: ex.source
    for title, key in groupings.items():
        tables = [ev.language_table(examples, y, r.flagged) if title == "language"
                  else ev.slice_table(examples, y, r.flagged, key) for r in results]
        if title != "slice":
            for r, table in zip(results, tables, strict=True):
                report["systems"][r.name][f"by_{title}"] = table
        if title == "language" and set(tables[0]) == {"(none)"}:
            continue
        _group_table(out_console, title, results, tables)
    if any(ex.label == "buy" for ex in examples):
        req = ev.request_scores(examples, detector)
        report["requests"] = req.row()
        out_console.print(f"requests to buy: precision {req.precision:.3f} recall {req.recall:.3f}")
    if evasion:
        recall = ev.evasion_recall(examples, detector)
        report["evasion_recall"] = recall
        out_console.print("recall under evasion: " + ", ".join(f"{k} {v:.3f}" for k, v in recall.items()))
        worst = ev.worst_evasion(recall)
        if worst:
            report["worst_evasion"] = {"transform": worst[0], "cost_points": worst[1]}
            out_console.print(f"worst evasion: {worst[0]}, costs {worst[1]:.1f} points of recall")
    _errors(out_console, report, examples, results[0], out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ev.pr_curve_png(results, y, out_dir / "pr_curve.png", f"precision-recall: {name}")
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    err.print(f"wrote {out_dir / 'report.json'}, {out_dir / 'errors.jsonl'} and {out_dir / 'pr_curve.png'}")


def _overall_table(console: Console, results, title: str) -> None:
    from rich.table import Table

    table = Table(title=title)
    for col in ("system", "precision", "recall", "F1", "FPR"):
        table.add_column(col, justify="right" if col != "system" else "left")
    for r in results:
        o = r.overall
        table.add_row(r.name, f"{o.precision:.3f}", f"{o.recall:.3f}", f"{o.f1:.3f}", f"{o.fpr:.3%}")
    console.print(table)


def _group_table(console: Console, title: str, results, tables: list[dict]) -> None:
    from rich.table import Table

    table = Table(title=f"per {title} (plugwatch / keyword / TF-IDF): recall on sales, FPR on the rest")
    for col in (title, "n", "sales", "plugwatch", "keyword", "tfidf"):
        table.add_column(col)
    for group, row in tables[0].items():
        cells = [" ".join(f"{k} {t[group][k]:.2f}" for k in ("recall", "fpr") if k in t[group]) for t in tables]
        table.add_row(group, str(row["n"]), str(row["sale"]), *cells)
    console.print(table)


def _errors(console: Console, report: dict, examples, ours, out_dir: Path) -> None:
    """The detector's false negatives and false positives, grouped by kind (errors.jsonl has each one)."""
    from plugwatch.detect.error_report import error_report, error_rows, report_lines

    rows = error_rows(examples, ours.scores, ours.flagged)
    kinds = error_report(rows)
    report["errors"] = {kind: k.row() for kind, k in kinds.items()}
    console.print("plugwatch errors by kind (each one in errors.jsonl):")
    for line in report_lines(kinds):
        console.print(line, soft_wrap=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "errors.jsonl").open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _eval_decisions(db: str | None, model: Path | None, threshold: float | None, out_dir: Path) -> None:
    """Precision on reviewed items. Only what the detector queued gets reviewed, so recall cannot
    be measured here: that needs a labelled sample of everything (plugwatch eval FILE)."""
    import numpy as np

    from plugwatch.detect import evaluate as ev

    examples = _decision_examples(db, "eval")
    if not examples:
        fail("no reviewed items in the database yet (decide some in the review queue first)")
    detector = load_detector(model, threshold, False)
    scores, requests = ev.detector_scores(detector, examples)
    sale = np.array([ex.label == "sale" for ex in examples])
    buy = np.array([ex.label == "buy" for ex in examples])
    flagged = scores >= detector.threshold
    offers = ev.binary_scores(sale, flagged)
    asks = ev.binary_scores(buy, requests)
    report = {"source": "decisions", "n": len(examples), "sale": int(sale.sum()), "buy": int(buy.sum()),
              "not_sale": int((~sale & ~buy).sum()), "threshold": detector.threshold,
              "offers": {"flagged": int(flagged.sum()), "confirmed": offers.tp,
                         "precision": round(offers.precision, 4) if flagged.any() else None},
              "requests": {"flagged": int(requests.sum()), "confirmed": asks.tp,
                           "precision": round(asks.precision, 4) if requests.any() else None}}
    out = Console(highlight=False)
    out.print(f"reviewed items: {len(examples)} (sale {report['sale']}, request to buy {report['buy']}, "
              f"not a violation {report['not_sale']})")
    for name in ("offers", "requests"):
        r = report[name]
        p = "n/a" if r["precision"] is None else f"{r['precision']:.3f}"
        out.print(f"{name}: flagged {r['flagged']}, confirmed by reviewers {r['confirmed']}, precision {p}")
    out.print("[dim]recall is not measured on decisions: only items the detector queued were reviewed[/]")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "decisions_report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    err.print(f"wrote {out_dir / 'decisions_report.json'}")


def proxies(
    out: Annotated[Path, typer.Option("-o", "--out", help="JSONL file to write.")],
    data: Annotated[Path, typer.Option(help="Shared data folder.")] = DEFAULT_DATA,
    part: Annotated[str, typer.Option(help="eval (the held-out 20%) or train.")] = "eval",
) -> None:
    """Write the shared proxy data (darknet listings, onion paragraphs, Reddit talk) as labelled JSONL."""
    from plugwatch.detect.datasets import DataError
    from plugwatch.detect.datasets import proxies as load

    if part not in ("eval", "train"):
        fail("--part is eval or train")
    try:
        examples = load(data, part)
    except DataError as e:
        fail(str(e))
    writable_file(out, "--out")
    try:
        with out.open("w", encoding="utf-8") as fh:
            for ex in examples:
                fh.write(json.dumps({"id": ex.id, "text": ex.text, "label": ex.label, "slice": ex.slice,
                                     "source": ex.source}, ensure_ascii=False) + "\n")
    except OSError as e:
        fail(f"cannot write {out}: {e.strerror or e}")
    err.print(f"wrote {len(examples):,} labelled {part} examples to {out}")


def vocab_build(
    data: Annotated[Path, typer.Option(help="The shared data folder with lexicons/.")] = Path("../shared/data"),
    out: Annotated[Path | None, typer.Option(help="Where to write vocabulary.tsv (default: the package's).")] = None,
) -> None:
    """Rebuild the drug vocabulary from the DEA and RedMed lexicons plus our curated terms."""
    from plugwatch.tools import vocab_build as vb

    if not (data / "lexicons").is_dir():
        fail(f"{data}: no lexicons/ folder here (give --data PATH to the shared data folder)")
    target = out or vb.DEFAULT_VOCABULARY
    terms = vb.build_vocabulary(data, vb.DEFAULT_CURATED)
    try:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        vb.write_vocabulary(terms, target)
    except OSError as e:
        fail(f"cannot write {target}: {e.strerror}")
    err.print(f"wrote {len(terms):,} terms to {target}")


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command("eval")(evaluate_cmd)
    app.command()(proxies)
    vocab_app.command("build")(vocab_build)
    app.add_typer(vocab_app, name="vocab")
