"""Scanned records from any input: `plugwatch scan` output is read as it is (not scored again), anything
else goes through the platform readers, identifier extraction and the detector, as `scan` does.

A file is scan output when its first record is a scan record (plugwatch.records.is_scan_record, which the
platform readers use too), a Parquet file when its columns are those of one. Detection is per file, so a
folder may mix raw exports and scanned files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from plugwatch.pipeline import score
from plugwatch.records import is_scan_record, scan_record
from plugwatch.sources import Reject, SourceOptions, read
from plugwatch.sources.inputs import STREAM_ERRORS, Peeked, broken_reason, walk
from plugwatch.sources.parquet import is_scan_output, looks_like_parquet, scan_records
from plugwatch.sources.run_files import SUCCESS, is_run_byproduct, part_data_format


def drop_byproducts(inputs: Iterable[str]) -> tuple[list[str], list[str]]:
    """(inputs to read, files left out): a rejects file or `_SUCCESS` named as an input (the shell
    expands `OUT/part-*.jsonl` to the partitions' rejects files too) holds no posts. Folders skip them
    while they are walked."""
    kept: list[str] = []
    dropped: list[str] = []
    for path in inputs:
        if path != "-" and not os.path.isdir(path) and is_run_byproduct(os.path.basename(path)):
            dropped.append(path)
        else:
            kept.append(path)
    return kept, dropped


def stale_parts(inputs: Iterable[str]) -> str | None:
    """Why these inputs hold partition files of two scans, or None. A cluster scan folder (or the
    `part-*` files of one) must not hold both `.jsonl` and `.parquet` parts, nor parts its `_SUCCESS`
    manifest does not list: reading them all would count every item twice."""
    by_folder: dict[str, set[str]] = {}
    for path in inputs:
        if path == "-":
            continue
        if os.path.isdir(path):
            try:
                names = os.listdir(path)
            except OSError:
                continue
            by_folder.setdefault(path, set()).update(n for n in names if part_data_format(n))
        elif part_data_format(os.path.basename(path)):
            by_folder.setdefault(os.path.dirname(path) or ".", set()).add(os.path.basename(path))
    for folder, names in by_folder.items():
        formats = {part_data_format(name) for name in names}
        if len(formats) > 1:
            return (f"{folder} holds partition files of two scans, .jsonl and .parquet: reading both counts every "
                    "item twice; remove the stale ones (or scan again into an empty folder)")
        listed = _manifest_files(os.path.join(folder, SUCCESS))
        unlisted = sorted(names - listed) if listed is not None else []
        if unlisted:
            return (f"{folder} holds partition files its _SUCCESS manifest does not list ({', '.join(unlisted[:3])}"
                    f"{', ...' if len(unlisted) > 3 else ''}), left by an earlier scan: remove them (or scan again "
                    "into an empty folder)")
    return None


def _manifest_files(path: str) -> set[str] | None:
    """The files a cluster scan's `_SUCCESS` lists, or None when there is no readable manifest."""
    try:
        with open(path, encoding="utf-8") as fh:
            manifest = json.load(fh)
        return {name for part in manifest["partitions"] for name in part["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None


class RecordReader:
    """Iterates scan-shaped dicts from `paths`; rejects go to `on_reject` where they occur.

    `scored` counts records the detector scored here, `prescored` those read from scan output.
    """

    def __init__(
        self,
        paths: Iterable[str],
        options: SourceOptions,
        on_reject: Callable[[Reject], None],
        detector=None,
        region: str | None = None,
    ):
        self.paths = list(paths)
        self.options = options
        self.on_reject = on_reject
        self.detector = detector
        self.region = region
        self.scored = 0
        self.prescored = 0

    def rereadable(self) -> bool:
        return "-" not in self.paths

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for path in self.paths:
            if path == "-":
                yield from self._raw(["-"])
            elif os.path.isdir(path):
                files = 0
                for file, problem in walk(path):
                    if problem:
                        self.on_reject(Reject(file, 0, problem))
                    elif not (self.options.skip_files and os.path.realpath(file) in self.options.skip_files):
                        files += 1
                        yield from self._file(file)
                if not files:
                    self.on_reject(Reject(path, 0, "folder has no files to read (hidden files are skipped)"))
            else:
                yield from self._file(path)

    def texts(self) -> Iterator[tuple[str, str]]:
        """(id, text) of every item again, unscored and without rejects: a cheap second pass."""
        reader = RecordReader(self.paths, self.options, lambda rej: None, None, self.region)
        reader._texts_only = True
        for rec in reader:
            yield rec["id"], rec.get("text") or ""

    _texts_only = False

    def _file(self, path: str) -> Iterator[dict[str, Any]]:
        kind = scan_file_kind(path, self.on_reject)
        if kind == "jsonl":
            with open(path, "rb") as handle:
                try:
                    yield from self._count(scanned_records(path, Peeked(handle).stream(), self.on_reject))
                except STREAM_ERRORS as error:
                    self.on_reject(Reject(path, 0, broken_reason(error)))
        elif kind == "parquet":
            yield from self._count(scan_records(path))
        elif kind is None:
            yield from self._raw([path])

    def _count(self, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for rec in records:
            self.prescored += rec.get("score") is not None
            yield rec

    def _raw(self, paths: list[str]) -> Iterator[dict[str, Any]]:
        detector = None if self._texts_only else self.detector
        for x in score(read(paths, self.options), detector, self.region, identify=not self._texts_only):
            if isinstance(x, Reject):
                self.on_reject(x)
                continue
            self.scored += detector is not None
            yield scan_record(x.item, x.identifiers, x.verdict)


def scan_file_kind(path: str, on_reject: Callable[[Reject], None]) -> str | None:
    """"jsonl" or "parquet" when `path` holds scan output, None for anything else (read raw: the platform
    readers report what is wrong with it), "" for a stream that broke before its first line (rejected)."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError:
        return None
    with handle:
        try:
            head = handle.peek(4)[:4]
        except OSError:
            head = b""
        if looks_like_parquet(head):
            return "parquet" if is_scan_output(path) else None
        try:
            peeked = Peeked(handle)
        except STREAM_ERRORS as error:
            on_reject(Reject(path, 0, broken_reason(error)))
            return ""
        lines = peeked.content_lines()
    first = None
    if lines and lines[0].lstrip().startswith(b"{"):
        try:
            first = json.loads(lines[0])
        except (ValueError, RecursionError):
            first = None
    return "jsonl" if is_scan_record(first) else None


def scan_record_problem(rec: dict[str, Any]) -> str | None:
    """What keeps a scan-output record from being used as one (fields of the wrong kind, as a hand-edited
    or another tool's file has them), or None. The analysis compares and sums these fields."""
    if not isinstance(rec.get("identifiers", []), list):
        return "identifiers is not a list"
    if not all(isinstance(i, dict) for i in rec.get("identifiers") or ()):
        return "identifiers holds something other than objects"
    score = rec.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)
                              or not 0.0 <= score <= 1.0):
        return f"score is {score!r}, not a number from 0 to 1"
    for name, kinds in (("author", str), ("text", str), ("flagged", bool), ("kind", str), ("account", dict)):
        if rec.get(name) is not None and not isinstance(rec[name], kinds):
            return f"{name} is {type(rec[name]).__name__} {rec[name]!r:.40}"
    return None


def scanned_records(path: str, stream, on_reject: Callable[[Reject], None], first_line: int = 1
                    ) -> Iterator[dict[str, Any]]:
    """The records of scan output JSON lines, numbered from `first_line`; bad lines are rejected."""
    number = first_line - 1
    try:
        for number, data in enumerate(stream, first_line):
            if data.isspace():
                continue
            line = data.decode("utf-8", "replace").rstrip("\r\n")
            try:
                rec = json.loads(line)
            except (ValueError, RecursionError) as error:
                on_reject(Reject(path, number, f"invalid JSON: {error}", line))
                continue
            if not isinstance(rec, dict) or not isinstance(rec.get("id"), str):
                on_reject(Reject(path, number, "scan record without a string id", line))
                continue
            problem = scan_record_problem(rec)
            if problem:
                on_reject(Reject(path, number, f"scan record: {problem}", line))
                continue
            yield rec
    except STREAM_ERRORS as error:
        on_reject(Reject(path, number + 1, broken_reason(error)))
