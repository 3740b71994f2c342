"""`plugwatch scan`: read posts from any supported format and write one JSON object per item."""

from __future__ import annotations

import os
import sys
import time
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from plugwatch.commands.common import (
    EXIT_NOTHING,
    EXIT_OK,
    EXIT_REJECTS,
    RejectWriter,
    cannot_write,
    check_mapped_columns,
    check_source_options,
    dash_means_stdout,
    err,
    fail,
    load_detector,
    threshold_help,
)
from plugwatch.model import RECORD_FIELDS as FIELDS

# --model FILE brings that file's own threshold; --help names the shipped model's.
THRESHOLD_DEFAULT = threshold_help()


def scan(
    inputs: Annotated[list[str], typer.Argument(help="Files, folders, .gz files, or - for stdin.")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Write JSON lines here (default, or -: stdout).",
                                                  callback=dash_means_stdout)] = None,
    format: Annotated[
        str | None,
        typer.Option("--format", "-f",
                     help="Force a format: jsonl, csv, text, x, x-archive, telegram, reddit, mastodon, mastodon-archive, bluesky."),
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option("--field", help="Map a field for generic CSV/JSONL/Parquet: OURS=THEIRS, e.g. text=body, "
                                     f"OURS one of {', '.join(FIELDS)}. Repeatable."),
    ] = None,
    platform: Annotated[str, typer.Option(help="Platform name for generic files without one.")] = "generic",
    region: Annotated[
        str | None, typer.Option(help="Default region for phone numbers without +country, e.g. US, GB.")
    ] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="Where rejected records go (default X.rejects.jsonl for -o X.jsonl, "
                                       "OUT.rejects.jsonl for any other -o OUT such as x.parquet, or "
                                       "./rejects.jsonl; written only when a record is rejected).")
    ] = None,
    threshold: Annotated[float | None, typer.Option(
        help="Flag items scoring at least this (0..1).", show_default=THRESHOLD_DEFAULT)] = None,
    model: Annotated[Path | None, typer.Option(help="Model file (default: the one shipped in the package).")] = None,
    no_model: Annotated[bool, typer.Option("--no-model", help="Identifiers only: skip the detector.")] = False,
    no_raw: Annotated[bool, typer.Option("--no-raw", help="Do not keep raw records in memory.")] = False,
    out_format: Annotated[str, typer.Option(
        "--out-format", help="jsonl, or parquet (needs -o; pip install 'plugwatch[cluster]').")] = "jsonl",
    cluster: Annotated[str | None, typer.Option(
        "--cluster", help="Run on Dask: local (a worker per core), local:N, or tcp://HOST:8786. "
                          "-o then names a folder: a file per partition, rejects beside it, _SUCCESS.")] = None,
    partition_size: Annotated[str, typer.Option(
        "--partition-size", help="With --cluster: input per partition, e.g. 64MB (large JSONL, multi-member "
                                 ".gz and Parquet files are cut).")] = "64MB",
    images: Annotated[bool, typer.Option("--images/--no-images", help="Read local pictures: PDQ hash, OCR "
                                         "text as a second channel (README, Pictures).")] = True,
    media_dir: Annotated[Path | None, typer.Option("--media-dir", help="Resolve relative media paths here "
                                                   "(default: the input file's folder).")] = None,
    bank: Annotated[list[Path] | None, typer.Option("--bank", help="Match pictures against this hash bank "
                                                    "(repeatable).")] = None,
    image_cache: Annotated[Path | None, typer.Option("--image-cache", help="Keep OCR results by picture "
                                                     "content in this folder across runs.")] = None,
) -> None:
    """Read posts from any supported format and write one JSON object per item."""
    from plugwatch.scan import run_scan
    from plugwatch.sources import SourceOptions, read

    field_map, region = check_source_options(format, field, region, threshold)

    if out_format not in ("jsonl", "parquet"):
        fail(f"--out-format is jsonl or parquet, got {out_format!r}")
    if out_format == "parquet" and out is None:
        fail("--out-format parquet needs -o OUT (Parquet is not written to standard output)")
    check_mapped_columns(inputs, format, field_map)
    detector = None if no_model else load_detector(model, threshold, no_model)
    if cluster is not None:
        if rejects is not None:  # else ignored: a pipeline would look for its rejects there and find none
            fail("--rejects does not apply with --cluster: each partition's rejects are written beside it, "
                 "as OUTDIR/part-NNNNN.rejects.jsonl")
        from plugwatch.commands.cluster_run import scan_on_cluster
        from plugwatch.commands.images import pictures_readable

        # The pictures are read on the workers as they are here, below (README, Pictures).
        pictures = ((images and not no_model) or bool(bank)) and pictures_readable(images, bank or [])
        scan_on_cluster(inputs, out, cluster, partition_size, out_format=out_format, format=format,
                        field_map=field_map, platform=platform, keep_raw=not no_raw, region=region,
                        model=model, threshold=threshold, use_model=not no_model,
                        images=images and pictures, media_dir=str(media_dir) if media_dir else None,
                        banks=tuple(str(b) for b in bank or ()) if pictures else (),
                        image_cache=str(image_cache) if image_cache and pictures else None)
        return
    reject_path = rejects or (rejects_beside(out) if out else Path("rejects.jsonl"))
    _refuse_writing_inputs(inputs, {"-o": out, "--rejects": reject_path})
    _remove_stale_rejects(reject_path)
    writer = RejectWriter(reject_path)
    own_files = frozenset(os.path.realpath(p) for p in (out, reject_path) if p is not None)
    options = SourceOptions(format=format, field_map=field_map, default_platform=platform, keep_raw=not no_raw,
                            skip_files=own_files, media_dir=str(media_dir) if media_dir else None)
    if (images and detector is not None) or bank:  # --no-model: identifiers only, unless a bank is asked for
        from plugwatch.commands.images import image_detector

        detector = image_detector(detector, images, bank or [], image_cache, region)

    try:
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)
        if out_format == "parquet":
            fh = _parquet_out(out)
        else:
            fh = out.open("w", encoding="utf-8") if out else _utf8_stdout()
    except OSError as e:
        cannot_write(str(out), e)
    started = time.perf_counter()
    sink = _Guarded(fh, out or "standard output")
    try:
        stats = _run_with_progress(run_scan, read(inputs, options), sink, writer, detector, region)
        if out:
            sink.close()
    except BrokenPipeError:
        # `plugwatch scan ... | head` closes the pipe early: the reader has what it wanted.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(EXIT_OK) from None
    finally:
        if out:
            sink.close(quiet=True)
        writer.close()
    secs = time.perf_counter() - started
    rate = stats.read / secs if secs > 0 else 0.0
    err.print(
        f"items read: {stats.read}  rejected: {stats.rejected}  flagged: {stats.flagged}  "
        f"requests: {stats.requests}  ({rate:,.0f} items/s)"
    )
    runs = getattr(detector, "stage_runs", None)  # None: no text model (--no-model, pictures banked only)
    if runs is not None and stats.read:
        err.print(f"model stages: signal gate only {1 - runs['text'] / stats.read:.1%}, "
                  f"character n-grams {runs['text'] / stats.read:.1%}, embedding {runs['full'] / stats.read:.1%}")
    _picture_summary(detector)
    if stats.rejected:
        # Without -o or --rejects the file lands in the current folder: say so in full.
        shown = reject_path if out or rejects else reject_path.resolve()
        err.print(f"rejected records written to {shown}")
    if stats.read == 0:
        raise typer.Exit(EXIT_NOTHING)
    if stats.rejected:
        raise typer.Exit(EXIT_REJECTS)


def _refuse_writing_inputs(inputs: list[str], outputs: dict[str, Path | None]) -> None:
    """Exit 2 when an output file is one of the input files (`scan posts.jsonl -o posts.jsonl`): it is
    emptied or removed before it is read, and the user's data is gone."""
    for given in inputs:
        if given == "-" or os.path.isdir(given):
            continue  # a folder walk skips the scan's own files
        for option, path in outputs.items():
            try:
                same = path is not None and os.path.samefile(given, path)
            except OSError:
                continue  # one of them is not there: nothing to overwrite
            if same:
                fail(f"{option} {path} is the input file {given}: writing it would destroy it before it is read; "
                     "write the output elsewhere")


def _remove_stale_rejects(path: Path) -> None:
    """A rejects file left by an earlier run would mislead: remove it. Only a regular file: `--rejects
    /dev/null` (or a pipe) is written to as it is, never deleted."""
    if path.is_dir():
        fail(f"cannot write the rejects file {path}: it is a folder")
    if path.is_symlink() or not path.is_file():
        return
    try:
        path.unlink()
    except OSError as e:
        cannot_write(f"the rejects file {path}", e)


class _Guarded:
    """The output (a text file, or the Parquet writer): a write that fails (a full disk, a lost network
    share) is a message naming the file, not a traceback."""

    __slots__ = ("fh", "_where", "_closed")

    def __init__(self, fh, where) -> None:
        self.fh = fh
        self._where = where
        self._closed = False

    def write(self, data) -> None:
        try:
            self.fh.write(data)
        except BrokenPipeError:
            raise
        except OSError as e:
            self._failed(e)

    def close(self, quiet: bool = False) -> None:
        """Close once; `quiet`: after another error, which is the one to report."""
        if self._closed:
            return
        self._closed = True
        try:
            self.fh.close()
        except OSError as e:
            if not quiet:
                self._failed(e)

    def _failed(self, e: OSError) -> None:
        self._closed = True  # nothing more is written; closing again would only fail again
        cannot_write(str(self._where), e)


def rejects_beside(out: Path) -> Path:
    """The default rejects file of output `out`: `x.jsonl` -> `x.rejects.jsonl` (as always), any other
    name gets `.rejects.jsonl` added whole (`x.parquet` -> `x.parquet.rejects.jsonl`), so the runs writing
    `x.jsonl` and `x.parquet` beside each other keep their own rejects."""
    if out.suffix == ".jsonl":
        return out.with_suffix(".rejects.jsonl")
    return out.with_name(out.name + ".rejects.jsonl")


def _picture_summary(detector) -> None:
    reader = getattr(detector, "reader", None)
    if reader is None or not reader.stats["pictures"]:
        return
    st = reader.stats
    err.print(f"pictures: {st['pictures']} read ({st['cached']} from the cache), OCR on {st['ocr_runs']}, "
              f"{st['no_text']} without text, {len(detector.warnings)} not read (missing, unreadable or refused)")
    for item_id, index, reason in detector.warnings[:5]:
        err.print(f"[yellow]picture warning[/] {item_id} media {index}: {reason}")
    if len(detector.warnings) > 5:
        err.print(f"… {len(detector.warnings) - 5} more picture warnings (each item's media[].warning says why)")


def _utf8_stdout():
    """Standard output as UTF-8 whatever the locale says: JSON lines are UTF-8, and a Latin-1 terminal
    must not turn the first emoji into a crash."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None and (sys.stdout.encoding or "").lower().replace("-", "") != "utf8":
        try:
            reconfigure(encoding="utf-8")
        except (OSError, ValueError):
            pass  # a stream that cannot change (already read from): write as it is
    return sys.stdout


def _parquet_out(out: Path):
    """A Parquet writer standing in for the output file: run_scan hands it each record."""
    try:
        from plugwatch.sources.parquet import ScanParquetWriter
    except ImportError:
        fail("--out-format parquet needs pyarrow: pip install 'plugwatch[cluster]'")
    try:
        return ScanParquetWriter(out)
    except ImportError:
        fail("--out-format parquet needs pyarrow: pip install 'plugwatch[cluster]'")


def _run_with_progress(run_scan, stream, fh, writer, detector, region):
    from plugwatch.sources.parquet import ScanParquetWriter

    if isinstance(fh.fh, ScanParquetWriter):  # records, not text: run_scan hands each one over
        run_scan = partial(run_scan, write_record=fh.write)
        fh = None
    if not err.is_terminal:
        return run_scan(stream, fh, writer, detector=detector, default_region=region)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(), TextColumn("{task.completed:,} records"), TimeElapsedColumn(), console=err, transient=True
    ) as progress:
        task = progress.add_task("scan", total=None)
        return run_scan(
            stream,
            fh,
            writer,
            detector=detector,
            default_region=region,
            on_progress=lambda n: progress.advance(task, n),
        )


def register(app: typer.Typer) -> None:
    app.command()(scan)
