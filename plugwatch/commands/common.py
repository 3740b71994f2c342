"""What every command shares: exit codes, the error console and the one-line failure."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import IO

import typer
from rich.console import Console
from rich.markup import escape

from plugwatch.errors import EXIT_BUG, EXIT_NOTHING, EXIT_OK, EXIT_REJECTS, EXIT_USAGE, UserError
from plugwatch.keyfiles import write_private  # noqa: F401  (the commands import it from here)
from plugwatch.settings import database_url

__all__ = ["EXIT_BUG", "EXIT_NOTHING", "EXIT_OK", "EXIT_REJECTS", "EXIT_USAGE", "UserError", "database_url",
           "check_mapped_columns", "dash_means_stdout", "err", "fail", "log_progress", "load_detector", "open_db", "print_rows",
           "write_output", "write_private", "RejectWriter", "cannot_write", "threshold_help", "writable_dir",
           "writable_file", "check_threshold"]

# Soft-wrapped: a message is one line, left to the terminal to fold, so a path in it is never cut in two
# ("rows.par\nquet") and a log or `grep` of stderr finds it whole.
err = Console(stderr=True, highlight=False, soft_wrap=True)


def log_progress() -> None:
    """Log INFO lines to stderr (long-running commands: the worker, live intake), without Alembic's
    own: bringing the schema up to date on opening the database would print a dozen lines of it."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


def fail(msg: str, code: int = EXIT_USAGE) -> None:
    # Escaped: messages carry install hints ("plugwatch[images]") and users' paths, not markup.
    err.print(f"[bold red]error:[/] {escape(msg)}")
    raise typer.Exit(code)


def threshold_help() -> str:
    """--threshold's default as --help shows it: the model's own threshold, read from the shipped file."""
    from importlib import resources

    try:
        doc = json.loads(resources.files("plugwatch.data").joinpath("detector.json").read_text(encoding="utf-8"))
        return f"the model's threshold: {float(doc['threshold']):g} for the shipped model"
    except (OSError, ValueError, TypeError, KeyError):
        return "the model's threshold"


def check_source_options(format: str | None, field: list[str] | None, region: str | None,
                         threshold: float | None) -> tuple[dict[str, str], str | None]:
    """Validate the reading options scan and networks share; returns the --field map and the region
    in upper case. Each bad value is a usage error naming the option."""
    from plugwatch.sources import FORMATS
    from plugwatch.sources.base import resolve_format
    from plugwatch.sources.jsonl import FIELDS

    if format is not None and resolve_format(format) is None:
        fail(f"unknown format {format!r}; choose one of: {', '.join(sorted(FORMATS))}")
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        fail(f"--threshold must be between 0 and 1, got {threshold}")
    field_map: dict[str, str] = {}
    for f in field or []:
        ours, sep, theirs = f.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            fail(f"--field takes OURS=THEIRS (e.g. text=body), got {f!r}")
        if ours.strip() not in FIELDS:
            fail(f"--field {f!r}: {ours.strip()!r} is not one of our fields ({', '.join(FIELDS)})")
        field_map[ours.strip()] = theirs.strip()
    if region is not None:
        import phonenumbers

        region = region.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            fail(f"unknown region {region!r}: use a two-letter country code such as US, GB, DE")
    return field_map, region


def check_mapped_columns(inputs: list[str], format: str | None, field_map: dict[str, str]) -> None:
    """A `--field` map naming a column a Parquet file or CSV header does not have is a usage error, said
    once before any row is read (each row would otherwise be rejected as unrecognised)."""
    from plugwatch.sources import SourceOptions, missing_mapped_column

    problem = missing_mapped_column(inputs, SourceOptions(format=format, field_map=field_map))
    if problem:
        fail(problem)


def check_threshold(threshold: float | None) -> None:
    """--threshold is a probability: "--threshold 61" would flag nothing, "-0.1" everything."""
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        fail(f"--threshold must be between 0 and 1, got {threshold}")


def load_detector(model: Path | None, threshold: float | None, no_model: bool = False):
    """The detector from `--model` (default: the shipped one); an unreadable model file is exit 2."""
    from plugwatch.detect import Detector, ModelError

    check_threshold(threshold)
    try:
        return Detector.load(model, threshold=threshold, use_model=not no_model)
    except ModelError as e:
        fail(str(e))


def root():
    """The composition root the running command was wired by (`plugwatch.wiring`): cli.py puts it on
    the command context, so commands reach the store and the service without importing the root."""
    try:
        from typer._click.globals import get_current_context  # typer 0.2x carries its own click
    except ImportError:  # typer releases that use click itself
        from click import get_current_context
    return get_current_context().find_root().obj


def open_db(db: str | None, create: bool = True, rules: str | None = None):
    """The store for `--db` (with the rules folder `--rules`, default $PLUGWATCH_RULES); a bad URL or
    (with create=False) a missing SQLite file is one line, exit 2."""
    try:
        return root().open_store(database_url(db), create=create, rules=rules)
    except UserError as e:
        fail(str(e))


def dash_means_stdout(out: Path | None) -> Path | None:
    """`-o -` writes to standard output, as the shell convention has it, not to a file named "-"."""
    return None if out is not None and str(out) == "-" else out


def write_output(out: Path | None, text: str) -> None:
    """Write `text` to `out`, or to stdout when no file is given."""
    if out is None:
        import sys

        sys.stdout.write(text)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        fail(f"cannot write {out}: {e.strerror}")


def cannot_write(what: str, e: OSError) -> None:
    """Usage error for a file that cannot be written, with the reason in words."""
    # mkdir of the file's folder says "File exists" when a file holds that name
    why = f"{e.filename} is a file, not a folder" if isinstance(e, FileExistsError) else (e.strerror or str(e))
    fail(f"cannot write {what}: {why}")


def writable_file(path: Path, what: str) -> None:
    """Exit 2 now when `path` cannot be written (its folder is a file, it is a folder, no permission),
    before the work that would be lost with it: minutes of training, a whole evaluation."""
    import os

    writable_dir(path.parent, f"the folder of {what}")
    if path.is_dir():
        fail(f"cannot write {what} {path}: it is a folder")
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        fail(f"cannot write {what} {path}: permission denied")


def writable_dir(path: Path, what: str) -> None:
    """Make the folder `path` (exit 2 when it cannot be made or written)."""
    import os

    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        fail(f"cannot write {what} {path}: {'a file is in the way' if isinstance(e, FileExistsError) else e.strerror}")
    if not os.access(path, os.W_OK):
        fail(f"cannot write {what} {path}: permission denied")


def print_rows(header: tuple[str, ...], rows, empty: str) -> int:
    """Tab-separated rows under a header line naming the columns (cut and awk read it as they read the
    rows); says `empty` on stderr when there are none. Returns how many rows were printed."""
    import sys

    sys.stdout.write("\t".join(header) + "\n")
    n = 0
    for row in rows:
        sys.stdout.write("\t".join("-" if cell is None else str(cell) for cell in row) + "\n")
        n += 1
    if not n:
        err.print(empty)
    return n


class RejectWriter:
    """Writes rejected records to a file, opened only when the first reject arrives; the first few
    are also shown on the console."""

    def __init__(self, path: Path):
        self.path = path
        self._fh: IO[str] | None = None
        self.count = 0

    def __call__(self, rej) -> None:
        from plugwatch.scan import reject_record

        try:
            if self._fh is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fh = self.path.open("w", encoding="utf-8")
            self._fh.write(json.dumps(reject_record(rej), ensure_ascii=False) + "\n")
        except OSError as e:  # a full disk, a file where its folder should be: say which, not a traceback
            self.close(quiet=True)
            cannot_write(f"the rejects file {self.path}", e)
        self.count += 1
        if self.count <= 5:
            where = f"{rej.path}:{rej.line}" if rej.line else rej.path
            err.print(f"[yellow]rejected[/] {where}: {rej.reason}")
        elif self.count == 6:
            err.print(f"[yellow]more rejects…[/] all are written to {self.path}")

    def close(self, quiet: bool = False) -> None:
        """`quiet`: after another error, which is the one to report."""
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            fh.close()
        except OSError as e:
            if not quiet:
                cannot_write(f"the rejects file {self.path}", e)


def report_networks(started: float, out: Path, paths: dict, reject_path: Path, *, items: int, scored: int,
                    prescored: int, offers: int, accounts: int, networks: int, templates: int, bots: int,
                    dropped: int, cap: int, rejected: int) -> None:
    """A `networks` run's counts (local or on a cluster) on standard error; exit 3 (EXIT_REJECTS) when records
    were rejected, as scan does."""
    secs = time.perf_counter() - started
    err.print(
        f"items: {items:,} (scored here {scored:,}, pre-scored {prescored:,})  "
        f"offers: {offers:,}  accounts: {accounts:,}  networks: {networks:,}  "
        f"campaigns: {templates}  reply bots: {bots}  "
        f"({items / secs if secs > 0 else 0:,.0f} items/s)"
    )
    if dropped:
        err.print(f"{dropped} identifiers held by more than {cap} accounts did not link (see summary.json)")
    err.print(f"wrote {', '.join(p.name for p in paths.values())} to {out}")
    if rejected:
        err.print(f"rejected records written to {reject_path}")
        raise typer.Exit(EXIT_REJECTS)
