"""`plugwatch hash` and `plugwatch bank ...`: PDQ hashes of pictures, and banks of known pictures."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from plugwatch.commands.common import EXIT_NOTHING, EXIT_REJECTS, dash_means_stdout, err, fail, write_output

bank_app = typer.Typer(no_args_is_help=True, help="Banks of known pictures (PDQ hashes), HMA/ThreatExchange compatible.")

BankArg = Annotated[Path, typer.Argument(help="The bank file (JSON lines {pdq, label, source}).")]
ImagesArg = Annotated[list[Path], typer.Argument(help="Picture files.")]


def _need_images() -> None:
    from plugwatch.images import INSTALL_HINT, missing

    absent = missing(("PIL", "pdqhash"))
    if absent:
        fail(f"hashing pictures needs {', '.join(absent)}: {INSTALL_HINT}")


def _hashes(images: list[Path]):
    """(path, PdqHash or the reason it could not be read) for each picture; unreadable ones are named."""
    from plugwatch.images import ImageError
    from plugwatch.images.pdq import hash_file

    for path in images:
        try:
            yield path, hash_file(path)
        except ImageError as e:
            err.print(f"[yellow]skipped[/] {path}: {e}")
            yield path, None


def hash_images(images: ImagesArg) -> None:
    """Print one JSON line per picture: its PDQ hash (64 hex digits) and quality (0..100)."""
    _need_images()
    bad = 0
    for path, h in _hashes(images):
        if h is None:
            bad += 1
            continue
        sys.stdout.write(json.dumps({"path": str(path), "pdq": h.pdq, "quality": h.quality}) + "\n")
    _exit_for(bad, len(images))


def _exit_for(bad: int, total: int) -> None:
    if bad == total:
        raise typer.Exit(EXIT_NOTHING)
    if bad:
        raise typer.Exit(EXIT_REJECTS)


def _open_bank(path: Path):
    from plugwatch.images.bank import load_bank

    try:
        bank, bad = load_bank(path)
    except (OSError, UnicodeDecodeError) as e:
        fail(f"cannot read bank {path}: {e}")
    for b in bad[:5]:
        err.print(f"[yellow]bank line skipped[/] {path}:{b.line}: {b.reason}")
    return bank


def _save(bank, path: Path) -> None:
    from plugwatch.images.bank import save_bank

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_bank(bank, path)
    except OSError as e:
        fail(f"cannot write bank {path}: {e.strerror}")


@bank_app.command("add")
def bank_add(bank: BankArg, images: ImagesArg,
             label: Annotated[str | None, typer.Option(help="Label of these pictures, e.g. 'menu of seller X'.")] = None,
             min_quality: Annotated[int, typer.Option(help="Refuse hashes below this quality (blank, tiny).")] = 50
             ) -> None:
    """Hash pictures and add them to BANK (created when absent)."""
    from plugwatch.images.bank import BankEntry

    _need_images()
    b = _open_bank(bank)
    entries, bad = [], 0
    for path, h in _hashes(images):
        if h is not None and h.quality < min_quality:
            err.print(f"[yellow]skipped[/] {path}: PDQ quality {h.quality} is below {min_quality} "
                      "(too flat or small to match reliably)")
            h = None
        if h is None:
            bad += 1
            continue
        entries.append(BankEntry(h.pdq, label, path.name, h.variants))
    added = b.add(entries)
    _save(b, bank)
    err.print(f"added {added} of {len(images)} pictures to {bank} ({len(b)} hashes)")
    _exit_for(bad, len(images))


@bank_app.command("import")
def bank_import(bank: BankArg,
                file: Annotated[Path, typer.Argument(help="JSON lines, threatexchange CSV, or 'pdq HASH' lines.")],
                label: Annotated[str | None, typer.Option(help="Label for entries that carry none.")] = None) -> None:
    """Add the hashes in FILE to BANK (JSON lines, python-threatexchange's dataset CSV, or signal lines)."""
    from plugwatch.images.bank import parse_entries

    b = _open_bank(bank)
    try:
        entries, bad = parse_entries(file.read_text(encoding="utf-8"), label)
    except (OSError, UnicodeDecodeError) as e:
        fail(f"cannot read {file}: {e}")
    for x in bad[:5]:
        err.print(f"[yellow]skipped[/] {file}:{x.line}: {x.reason}")
    added = b.add(entries)
    _save(b, bank)
    err.print(f"imported {added} new hashes from {file} ({len(entries)} read, {len(bad)} skipped); "
              f"{bank} holds {len(b)}")
    if bad:
        raise typer.Exit(EXIT_REJECTS)


@bank_app.command("export")
def bank_export(bank: BankArg,
                format: Annotated[str, typer.Option("--format", "-f", help="jsonl, or csv (threatexchange).")] = "jsonl",
                out: Annotated[Path | None, typer.Option("-o", "--out", help="Write here (default, or -: stdout).",
                                                                callback=dash_means_stdout)] = None
                ) -> None:
    """Print BANK as JSON lines or as python-threatexchange's dataset CSV (for HMA)."""
    from plugwatch.images.bank import to_jsonl, to_tx_csv

    if format not in ("jsonl", "csv"):
        fail(f"--format is jsonl or csv, got {format!r}")
    if not bank.exists():
        fail(f"no bank at {bank}")
    b = _open_bank(bank)
    write_output(out, to_tx_csv(b) if format == "csv" else to_jsonl(b))


@bank_app.command("match")
def bank_match(bank: BankArg, images: ImagesArg,
               distance: Annotated[int, typer.Option("--distance", help="Most differing bits for a match.")] = 31
               ) -> None:
    """For each picture, one JSON line: its hash and the bank entries within --distance (Hamming)."""
    from plugwatch.images.pdq import MIN_QUALITY

    _need_images()
    if not 0 <= distance <= 256:
        fail(f"--distance is between 0 and 256, got {distance}")
    if not bank.exists():
        fail(f"no bank at {bank}")
    b = _open_bank(bank)
    bad = 0
    for path, h in _hashes(images):
        if h is None:
            bad += 1
            continue
        matches = [] if h.quality < MIN_QUALITY else b.match(h.all, distance)
        line = {"path": str(path), "pdq": h.pdq, "quality": h.quality,
                "matches": [{"pdq": m.entry.pdq, "label": m.entry.label, "source": m.entry.source,
                             "bank": b.name, "distance": m.distance} for m in matches]}
        if h.quality < MIN_QUALITY:
            line["note"] = f"quality below {MIN_QUALITY}: not matched"
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    _exit_for(bad, len(images))


@bank_app.command("load")
def bank_load(bank: BankArg,
              db: Annotated[str | None, typer.Option("--db", help="Database URL (default: $PLUGWATCH_DB, else "
                                                                  "sqlite:///plugwatch.db).")] = None,
              name: Annotated[str | None, typer.Option(help="Bank name in the store (default: the file's stem).")] = None
              ) -> None:
    """Load a bank file into the review service's store: ingested items whose pictures match are queued."""
    from plugwatch.commands.common import open_db
    from plugwatch.store.image_banks import add_entries

    if not bank.exists():
        fail(f"no bank at {bank}")
    b = _open_bank(bank)
    store = open_db(db)
    with store.session() as s:
        added = add_entries(s, name or b.name, b.entries, added_by="cli")
    err.print(f"loaded {added} new hashes into bank {name or b.name!r} ({len(b)} in {bank})")


def image_detector(detector, read_pictures: bool, banks: list[Path], cache: Path | None, region: str | None):
    """The scan's detector with the image channel (plugwatch/images/channel.py) around it; the text
    detector alone when the image packages are absent (said once) and no bank is asked for."""
    if not pictures_readable(read_pictures, banks):
        return detector
    from plugwatch.images.channel import ImageDetector
    from plugwatch.images.ocr import PictureReader

    loaded = [_open_bank(path) for path in banks]
    return ImageDetector(detector, PictureReader(ocr=read_pictures, cache_dir=cache), tuple(loaded), region=region)


def pictures_readable(read_pictures: bool, banks: list[Path]) -> bool:
    """Whether the image packages are here (said once when not); exit 2 when a bank is asked for without
    them, or is not there."""
    from plugwatch.images import INSTALL_HINT, missing

    absent = missing(("PIL", "pdqhash") + (("rapidocr_onnxruntime",) if read_pictures else ()))
    if absent:
        if banks:
            fail(f"--bank needs {', '.join(absent)}: {INSTALL_HINT}")
        err.print(f"[yellow]pictures are not read[/]: {', '.join(absent)} not installed ({escape(INSTALL_HINT)}; "
                  "--no-images silences this)")
        return False
    for path in banks:
        if not path.exists():
            fail(f"no bank at {path}")
    return True


def register(app: typer.Typer) -> None:
    app.command("hash")(hash_images)
    app.add_typer(bank_app, name="bank")
