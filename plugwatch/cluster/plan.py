"""Partitions: pieces of the input that workers read alone, each giving exactly the items (and rejects,
with their real line numbers) that reading the whole input gives for that piece.

Small files are grouped, in input order, into partitions of about `target` bytes. A larger file is cut
where reading a piece alone is exact (`sources.base.settled_format` says when): a JSON-lines file at line
starts, a multi-member `.gz` file (bgzip, or `cat a.gz b.gz`) at member starts that begin a line, a
Parquet file between row groups. Anything else (a JSON document, CSV, plain text, a single-member gzip,
a Bluesky stream) is one partition.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

from plugwatch.sources import Reject, SourceOptions, read
from plugwatch.sources.base import read_range, read_row_groups, settled_format
from plugwatch.sources.inputs import GZIP_MAGIC, walk
from plugwatch.sources.parquet import looks_like_parquet, row_groups

TARGET = 64 << 20  # bytes of input (uncompressed) per partition
MAX_FILES = 1000  # small files per partition
BLOCK = 16 << 20


@dataclass(frozen=True, kw_only=True)
class ReadJob:
    """How a partition's records are read and scored: what scan and networks jobs share."""

    format: str | None = None
    field_map: tuple[tuple[str, str], ...] = ()
    platform: str = "generic"
    keep_raw: bool = True
    region: str | None = None
    model: str | None = None
    threshold: float | None = None
    use_model: bool = True

    @staticmethod
    def fields_from(source: dict) -> dict:
        """The command's source options as job fields (hashable: the job travels to workers)."""
        return {"format": source["format"], "field_map": tuple(sorted(source["field_map"].items())),
                "platform": source["platform"], "region": source["region"],
                "model": str(source["model"]) if source["model"] else None,
                "threshold": source["threshold"], "use_model": source["use_model"]}

    def options(self) -> SourceOptions:
        return SourceOptions(format=self.format, field_map=dict(self.field_map), default_platform=self.platform,
                             keep_raw=self.keep_raw)


@dataclass(frozen=True)
class Part:
    kind: str  # files | lines | gzip | rows | reject
    paths: tuple[str, ...]
    start: int = 0  # byte offset (lines, gzip) or first row group (rows)
    end: int = 0  # byte offset or row group after the last
    first_line: int = 1
    settled: str | None = None  # the format the file settled on (lines, gzip, rows); the reason (reject)
    stamps: tuple[tuple[int, int], ...] = ()  # (size, mtime_ns) of each path when planned

    def read(self, options: SourceOptions) -> Iterator:
        if self.kind == "reject":
            return iter([Reject(self.paths[0], 0, self.settled or "unreadable")])
        if self.kind in ("lines", "gzip"):
            return read_range(self.paths[0], self.start, self.end, self.first_line, options, self.settled,
                              gz=self.kind == "gzip")
        if self.kind == "rows":
            return read_row_groups(self.paths[0], list(range(self.start, self.end)), self.first_line, options,
                                   self.settled)
        return read(list(self.paths), options)

    def to_dict(self) -> dict:
        return {k: (list(map(list, v)) if k == "stamps" else list(v) if k == "paths" else v)
                for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> Part:
        return cls(**{**d, "paths": tuple(d["paths"]), "stamps": tuple(tuple(s) for s in d["stamps"])})

    def describe(self) -> str:
        if self.kind == "files":
            return self.paths[0] if len(self.paths) == 1 else f"{len(self.paths)} files from {self.paths[0]}"
        if self.kind == "rows":
            return f"{self.paths[0]} row groups {self.start}-{self.end - 1}"
        if self.kind == "reject":
            return self.paths[0]
        return f"{self.paths[0]} bytes {self.start}-{self.end} (line {self.first_line} on)"


def stamp(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1)
    return (st.st_size, st.st_mtime_ns)


def input_files(inputs: Iterable[str], skip: frozenset[str]) -> Iterator[tuple[str, str | None]]:
    """(path, None) for each file to read, in the order `read` reads them, or (path, reason) for a folder
    that gives nothing; missing paths come as files (reading them gives their reject)."""
    for path in map(os.fspath, inputs):
        if not os.path.isdir(path):
            yield path, None
            continue
        files = 0
        for file, problem in walk(path):
            if problem:
                yield file, problem
            elif os.path.realpath(file) not in skip:
                files += 1
                yield file, None
        if not files:
            yield path, "folder has no files to read (hidden files are skipped)"


def needs_planning(path: str, size: int, target: int) -> bool:
    """Worth looking inside: big enough to be cut (a gzip file by its likely uncompressed size)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return False
    return size > (target // 8 if head[:2] == GZIP_MAGIC else target)


def group_small(entries: list[tuple[str, str | None, tuple[int, int]]], target: int) -> list[Part]:
    """Whole files grouped in order: a partition closes at `target` bytes or MAX_FILES files."""
    parts: list[Part] = []
    paths: list[str] = []
    stamps: list[tuple[int, int]] = []
    size = 0

    def close() -> None:
        nonlocal paths, stamps, size
        if paths:
            parts.append(Part("files", tuple(paths), stamps=tuple(stamps)))
        paths, stamps, size = [], [], 0

    for path, problem, st in entries:
        if problem:
            close()
            parts.append(Part("reject", (path,), settled=problem))
            continue
        paths.append(path)
        stamps.append(st)
        size += max(st[0], 0)
        if size >= target or len(paths) >= MAX_FILES:
            close()
    close()
    return parts


def plan_file(path: str, options: SourceOptions, target: int = TARGET) -> list[Part]:
    """The partitions of one large file (runs on a worker: it reads the file once to count lines)."""
    st = stamp(path)
    whole = [Part("files", (path,), stamps=(st,))]
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return whole
    settled = settled_format(path, options)
    if settled is None:
        return whole
    fmt, line = settled
    if looks_like_parquet(head):
        return _row_parts(path, fmt, line, target, st) or whole
    if head[:2] == GZIP_MAGIC:
        return _gzip_parts(path, fmt, line, target, st) or whole
    return _line_parts(path, fmt, line, target, st) or whole


def _line_parts(path: str, fmt: str, settled_line: int, target: int, st) -> list[Part]:
    size = st[0]
    cuts = []
    with open(path, "rb") as fh:
        for goal in range(target, size, target):
            fh.seek(goal - 1)
            fh.readline()  # to the end of the line holding byte goal - 1: a cut is always a line start
            at = fh.tell()
            if at < size and (not cuts or at > cuts[-1]):
                cuts.append(at)
        # lines before each cut, in one pass
        lines_before, seen, pos, k = [], 0, 0, 0
        fh.seek(0)
        while k < len(cuts):
            block = fh.read(min(BLOCK, cuts[k] - pos))
            if not block:
                break
            seen += block.count(b"\n")
            pos += len(block)
            if pos == cuts[k]:
                lines_before.append(seen)
                k += 1
    bounds = [(0, 1)] + [(c, n + 1) for c, n in zip(cuts, lines_before, strict=False) if n + 1 > settled_line]
    if len(bounds) < 2:
        return []
    ends = [b[0] for b in bounds[1:]] + [size]
    return [Part("lines", (path,), s, e, first, fmt, (st,)) for (s, first), e in zip(bounds, ends, strict=True)]


def gzip_members(path: str) -> list[tuple[int, int, int, bool]] | None:
    """(offset, uncompressed bytes, newlines, ends with a newline) per gzip member; None for a stream that
    is corrupt, cut short or UTF-16 (read whole, so its reject is the one a plain scan gives)."""
    members = []
    with open(path, "rb") as fh:
        d = zlib.decompressobj(31)
        start = base = 0
        usize = newlines = 0
        last = b""
        while chunk := fh.read(BLOCK):
            data = chunk
            while data:
                try:
                    out = d.decompress(data)
                except zlib.error:
                    return None
                if not members and usize == 0 and out[:2] in (b"\xff\xfe", b"\xfe\xff"):
                    return None
                usize += len(out)
                newlines += out.count(b"\n")
                last = out[-1:] or last
                if not d.eof:
                    base += len(data)
                    break
                rest = d.unused_data
                end = base + len(data) - len(rest)
                members.append((start, usize, newlines, last == b"\n"))
                start = base = end
                usize = newlines = 0
                last = b""
                d = zlib.decompressobj(31)
                data = rest
        if usize or not d.eof and base > start:
            return None  # a member cut short
    return members


def _gzip_parts(path: str, fmt: str, settled_line: int, target: int, st) -> list[Part]:
    members = gzip_members(path)
    if not members or len(members) < 2:
        return []
    pieces = [(offset, usize, newlines, i == 0 or members[i - 1][3])
              for i, (offset, usize, newlines, _) in enumerate(members)]  # cut only after a whole line
    return [Part("gzip", (path,), s, e, first, fmt, (st,)) for s, first, e in _cuts(pieces, target, settled_line, st[0])]


def _row_parts(path: str, fmt: str, settled_row: int, target: int, st) -> list[Part]:
    import pyarrow.parquet as pq

    counts = row_groups(path)
    with pq.ParquetFile(path) as pf:
        sizes = [pf.metadata.row_group(i).total_byte_size for i in range(len(counts))]
    pieces = [(i, nbytes, n, True) for i, (n, nbytes) in enumerate(zip(counts, sizes, strict=True))]
    return [Part("rows", (path,), s, e, first, fmt, (st,)) for s, first, e in _cuts(pieces, target, settled_row,
                                                                                       len(counts))]


def _cuts(pieces: list[tuple[int, int, int, bool]], target: int, settled: int, end: int) -> list[tuple[int, int, int]]:
    """Cut a file's pieces (start, size, records, may cut before it) into runs of about `target` bytes,
    never before record `settled` (the format is decided by then): (start, first record, stop) per run;
    nothing when the file stays whole."""
    bounds = [(0, 1)]
    records = size = 0
    for i, (start, nbytes, n, may_cut) in enumerate(pieces):
        if i and size >= target and may_cut and records + 1 > settled:
            bounds.append((start, records + 1))
            size = 0
        size += nbytes
        records += n
    if len(bounds) < 2:
        return []
    ends = [b[0] for b in bounds[1:]] + [end]
    return [(s, first, e) for (s, first), e in zip(bounds, ends, strict=True)]
