"""Reading inputs into items: paths and folders, framing (JSONL, JSON document, CSV, plain text), format
detection per file, and dispatch of each record to its format. User errors never raise: they
become Rejects, in input order, where the bad record was."""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any, BinaryIO

from plugwatch.model import Item
from plugwatch.records import has_scan_columns
from plugwatch.sources import (
    activitypub,
    bluesky,
    csv_rows,
    jsondoc,
    jsonl,
    mastodon,
    parquet,
    reddit,
    telegram,
    text,
    x,
    x_archive,
)
from plugwatch.sources.common import (
    ESCAPED_NUL,
    ESCAPED_SURROGATE,
    FileContext,
    Format,
    RecordError,
    Reject,
    SourceOptions,
    lone_surrogate_reason,
    printable,
    without_nul,
)
from plugwatch.sources.inputs import (
    STREAM_ERRORS,
    Peeked,
    Prefixed,
    StreamBroken,
    broken_reason,
    text_reader,
    walk,
)

__all__ = ["FORMATS", "Reject", "SourceOptions", "missing_mapped_column", "read", "read_range", "read_row_groups",
           "settled_format"]

_ALL = (jsonl, csv_rows, text, x, x_archive, telegram, reddit, mastodon, activitypub, bluesky)
FORMATS: dict[str, Format] = {module.FORMAT.name: module.FORMAT for module in _ALL}
# Most specific first: a Telegram message also has the generic `id` and `text`.
_SNIFF_ORDER = (x.FORMAT, x_archive.FORMAT, bluesky.FORMAT, mastodon.FORMAT, activitypub.FORMAT, reddit.FORMAT,
                telegram.FORMAT, jsonl.FORMAT)
_ALIASES = {"twitter": "x", "twitter-archive": "x-archive", "json": "jsonl", "ndjson": "jsonl", "tsv": "csv", "txt": "text", "plain": "text",
            "outbox": "mastodon-archive", "activitypub": "mastodon-archive"}
UNKNOWN = "unknown format: not JSON, JSONL, CSV or text"
_UNRECOGNISED = (
    "unrecognised record: not an X response, Telegram message, Reddit dump record, Mastodon status, "
    "Mastodon archive (outbox.json) activity, Bluesky Jetstream event, or a generic record with a text field"
)
_STDIN = text.STDIN
ZIP_MAGIC = b"PK\x03\x04"

Unit = tuple[int, Any, "dict[str, Any] | None", "str | None"] | Reject  # (line, record, chat, raw line)


def read(paths: Iterable[str], options: SourceOptions | None = None) -> Iterator[Item | Reject]:
    """Items and Rejects from files, folders (walked in sorted order) and `-` (stdin), in input order."""
    options = options or SourceOptions()
    forced, problem = _forced_format(options.format)
    unknown = sorted(set(options.field_map) - set(jsonl.FIELDS))
    if unknown:
        problem = f"unknown field in field_map: {', '.join(unknown)} (known: {', '.join(jsonl.FIELDS)})"
    for path in map(os.fspath, paths):
        if problem:
            yield Reject(path, 0, problem)
        elif path == "-":
            stdin = getattr(sys.stdin, "buffer", None)
            if stdin is None:
                yield Reject(_STDIN, 0, "no standard input to read")
            else:
                yield from _read_stream(_STDIN, stdin, options, forced)
        elif os.path.isdir(path):
            yield from _read_folder(path, options, forced)
        else:
            yield from _read_path(path, options, forced)


def missing_mapped_column(paths: Iterable[str], options: SourceOptions) -> str | None:
    """Why a `--field` mapping cannot apply, or None: the first file whose columns are known before any
    row is read (a Parquet schema, a CSV header) and lack a column the map names. Read row by row, every
    row of such a file would be rejected as unrecognised; this says so once, naming the file, the column
    and the columns it has. JSON inputs, text, standard input and scan output are not looked into."""
    forced, _ = _forced_format(options.format)
    if not options.field_map or (forced is not None and forced not in (jsonl.FORMAT, csv_rows.FORMAT)):
        return None
    for path in map(os.fspath, paths):
        if path == "-":
            continue
        files = [f for f, problem in walk(path) if not problem] if os.path.isdir(path) else [path]
        for file in files:
            if options.skip_files and os.path.realpath(file) in options.skip_files:
                continue
            names = _known_columns(file, forced)
            if names is None:
                continue
            missing = [f"{ours}={theirs}" for ours, theirs in options.field_map.items() if theirs not in names]
            if missing:
                shown = ", ".join(repr(n) for n in names[:30]) + (", ..." if len(names) > 30 else "")
                return (f"{printable(file)}: --field {', '.join(missing)} names no column of this file; its "
                        f"columns are {shown}")
    return None


def _known_columns(path: str, forced: Format | None) -> list[str] | None:
    """The columns of a Parquet file (not scan output) or of a CSV's header row, None for anything else."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError:
        return None  # the reader reports it where it is read
    with handle:
        try:
            head = handle.peek(4)[:4]
        except OSError:
            return None
        if parquet.looks_like_parquet(head):
            names = parquet.column_names(path)
            return None if names is None or has_scan_columns(names) else names
        if forced is jsonl.FORMAT or (forced is None and text.is_text_file(path)):
            return None
        try:
            peeked = Peeked(handle)
        except STREAM_ERRORS:
            return None
        lines = peeked.content_lines()
        if not lines:
            return None
        first = lines[0].lstrip()
        if _json_start(first) or _binary(first):
            return None
        names, problem = csv_rows.header_guess(first)
        if problem or not csv_rows.column_like(names):
            return None
        return names if forced is csv_rows.FORMAT or _table_header(peeked, first) else None


def resolve_format(name: str) -> Format | None:
    """A format by name or alias (twitter, json, ndjson, tsv, txt), any case."""
    return FORMATS.get(_ALIASES.get(name.lower(), name.lower()))


def _forced_format(name: str | None) -> tuple[Format | None, str | None]:
    if not name:
        return None, None
    found = resolve_format(name)
    if found is None:
        return None, f"unknown format name {name!r}: use one of {', '.join(FORMATS)}"
    return found, None


def _read_folder(folder: str, options: SourceOptions, forced: Format | None) -> Iterator[Item | Reject]:
    files = items = 0
    for path, problem in walk(folder):
        if problem:
            yield Reject(path, 0, problem)
            continue
        if options.skip_files and os.path.realpath(path) in options.skip_files:
            continue
        files += 1
        for out in _read_path(path, options, forced):
            if out.__class__ is not Reject:
                items += 1
            yield out
    if not files:
        yield Reject(folder, 0, "folder has no files to read (hidden files are skipped)")
    elif not items:
        yield Reject(folder, 0, f"nothing usable in folder: none of its {files} files gave an item")


def _read_path(path: str, options: SourceOptions, forced: Format | None) -> Iterator[Item | Reject]:
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, after the generator is done with it
    except FileNotFoundError:
        yield Reject(path, 0, "no such file or directory")
        return
    except OSError as error:
        yield Reject(path, 0, f"cannot open file: {error.strerror or error}")
        return
    with handle:
        try:
            head = handle.peek(4)[:4]
        except OSError:
            head = b""  # the stream reader reports the read error at its line
        if parquet.looks_like_parquet(head):
            yield from _read_parquet(path, options, forced)
            return
        yield from _read_stream(path, handle, options, forced)


def _read_parquet(path: str, options: SourceOptions, forced: Format | None, groups=None, first_line: int = 1,
                  whole: bool = True) -> Iterator[Item | Reject]:
    path = printable(path)
    if forced is text.FORMAT or forced is csv_rows.FORMAT:
        forced = None  # Parquet rows are records already: --format text/csv names a framing they do not have
    units = parquet.units(path, groups, first_line)
    if forced is None:
        first = next(units, None)
        if first is None:
            if whole:
                yield Reject(path, 0, "no records in file")
            return
        if first.__class__ is not Reject and not _known(first[1], options):
            # No format knows the first row. If no row of this part is a post either (a file without a text
            # column), one reject says so, from the part that holds row 1, not one per row. Else the part is
            # read again from its start, each row on its own (an X error response first, then the pages).
            units.close()
            if not any(u.__class__ is Reject or _known(u[1], options) for u in parquet.units(path, groups, first_line)):
                if first_line == 1:
                    names = list(first[1])
                    shown = ", ".join(repr(n) for n in names[:20]) + (", ..." if len(names) > 20 else "")
                    yield Reject(path, 0, f"Parquet file without a text column: its columns are {shown}; name the "
                                 "column that holds the post with --field text=COLUMN")
                return
            units = parquet.units(path, groups, first_line)
        else:
            units = chain((first,), units)
    yield from _dispatch(units, FileContext(path, options), forced, whole)


def _read_stream(
    path: str, raw: BinaryIO, options: SourceOptions, forced: Format | None
) -> Iterator[Item | Reject]:
    path = printable(path)  # a file name with undecodable bytes still goes into UTF-8 output
    try:
        peeked = Peeked(raw)
    except STREAM_ERRORS as error:
        yield Reject(path, 0, broken_reason(error))
        return
    lines = peeked.content_lines()
    if not lines:
        if peeked.error:
            yield Reject(path, 1, broken_reason(peeked.error))  # it broke before line 1 was whole
        else:
            yield Reject(path, 0, "empty file")
        return
    framing = _framing(path, peeked, lines[0].lstrip(), options, forced)
    if framing.__class__ is Reject:
        yield framing  # type: ignore[misc]
        return
    units: Iterator[Unit]
    if framing == "x-archive":
        part = x_archive.ASSIGNMENT.match(lines[0].lstrip())
        if part is None or part.group(1) not in x_archive.POSTS:
            name = part.group(1).decode("ascii", "replace") if part else "?"
            yield Reject(path, 0, f"an X archive's {name} file holds no posts (they are in tweets.js)")
            return
        units, forced = _document_units(path, _after_assignment(peeked.stream())), x_archive.FORMAT
    elif framing == "text":
        units, forced = text.lines(peeked.stream(), path), text.FORMAT
    elif framing == "csv":
        units = csv_rows.rows(peeked.stream(), path, lines[0].lstrip())
    elif _is_document(peeked, lines[0]):
        units = _document_units(path, peeked.stream())
    else:
        units = _jsonl_units(path, peeked.stream())
    yield from _dispatch(units, FileContext(path, options), forced)


_COMPRESSED = ((b"\x28\xb5\x2f\xfd", "a zstd", "`zstd -d`"), (b"BZh", "a bzip2", "`bunzip2`"),
               (b"\xfd7zXZ\x00", "an xz", "`unxz`"))


def _framing(path: str, peeked: Peeked, first: bytes, options: SourceOptions, forced: Format | None) -> str | Reject:
    """How a file is cut into records: "json" (JSONL or a document), "csv" or "text"; or a Reject
    for a file that is none of them. A named format decides; else the content, then the name."""
    if forced is text.FORMAT or forced is csv_rows.FORMAT:
        return forced.name
    if x_archive.ASSIGNMENT.match(first):
        return "x-archive"  # an X archive's tweets.js: a JavaScript assignment of a JSON array
    if forced is not None or _json_start(first):
        return "json"
    if _binary(first):
        if parquet.looks_like_parquet(first):
            return Reject(path, 0, "a Parquet file can only be read from a file, not a stream: give its path")
        if first.startswith(ZIP_MAGIC):
            return Reject(path, 0, f"{UNKNOWN} (a zip archive: unzip it and scan the files inside; a Mastodon "
                          "account archive's posts are in its outbox.json)")
        for magic, name, tool in _COMPRESSED:
            if first.startswith(magic):  # Pushshift's Reddit dumps are .zst, older ones .bz2 and .xz
                return Reject(path, 0, f"{UNKNOWN} ({name}-compressed file: decompress it with {tool} and scan "
                              "the result; only gzip is read as it is)")
        return Reject(path, 0, f"{UNKNOWN} (binary data)")
    if text.is_text_file(path):
        # A .txt that is a table with a text column (Excel's "Unicode Text" export is a UTF-16 TSV named
        # .txt) is read as one; any other is a post per line.
        table = csv_rows.has_text_column(first, options) and _table_header(peeked, first)
        return "csv" if table else "text"
    if csv_rows.has_text_column(first, options):
        return "csv"
    # A header row of column names, none of them a text column: say what was seen rather than
    # read each row as a post. Plain text whose first line happens to hold commas is told apart by
    # the next line, which in a CSV has as many fields.
    names, problem = csv_rows.header_guess(first)
    if csv_rows.column_like(names):
        if problem:
            return Reject(path, 1, f"invalid CSV header: {problem}; the file cannot be read")
        if _table_header(peeked, first):
            shown = ", ".join(repr(n) for n in names[:20]) + (", ..." if len(names) > 20 else "")
            return Reject(path, 1, f"CSV without a text column: its columns are {shown}; name the column that "
                          "holds the post with --field text=COLUMN (or use --format text if each line is a post)")
    return "text"


def _table_header(peeked: Peeked, first: bytes) -> bool:
    """Whether the first line is a row of column names over rows with as many fields."""
    names, problem = csv_rows.header_guess(first)
    if problem or not csv_rows.column_like(names):
        return False
    second = peeked.second_content_line()
    return second is not None and csv_rows.field_count(second, first) == len(names)


def _json_start(line: bytes) -> bool:
    """Whether a first line opens JSON: `{"` or `[` then a value, or a lone bracket (a pretty-printed
    document). "[SALE] ..." or "{free} ..." opens a post, not JSON."""
    if not line.startswith((b"{", b"[")):
        return False
    rest = line[1:].lstrip()
    if not rest:
        return True
    if line[:1] == b"{":
        return rest[:1] in (b'"', b"}")
    return rest[:1] in (b"{", b"[", b'"', b"]", b"-") or rest[:1].isdigit() or rest.startswith((b"true", b"false", b"null"))


def _binary(line: bytes) -> bool:
    """A first line that is not UTF-8 text (the JSON readers reject bad lines one by one instead)."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return b"\x00" in line or sum(byte < 9 or 13 < byte < 32 for byte in line[:512]) > 4


def _is_document(peeked: Peeked, first_line: bytes) -> bool:
    """A JSON document spanning lines (pretty-printed, or one huge line), as opposed to JSONL.

    JSONL when the first line is a complete value, unless that value holds the records (an ActivityStreams
    collection or a Telegram export written on one line: `jsondoc.holds_records`). When it is not, it is a
    document only if it
    merely stops early (as `{` or `[` does) and the next line is not a value of its own either; a
    JSONL file whose first line is broken is still JSONL.
    """
    if peeked.first_long:
        return True
    # A bad byte in the first line must not hide a document: the reader rejects just its record.
    first = first_line.decode("utf-8", "replace")
    try:
        return jsondoc.holds_records(json.loads(first))  # a one-line outbox.json is still a document
    except RecursionError:
        return False
    except json.JSONDecodeError as error:
        if not (error.msg.startswith("Unterminated string") or error.pos >= len(first.rstrip()) - 16):
            return False
    second = peeked.next_content_line()
    if second is None:
        return True
    try:
        return not isinstance(json.loads(second.decode("utf-8", "replace")), dict | list)
    except (json.JSONDecodeError, RecursionError):
        return True


def _jsonl_units(path: str, stream: BinaryIO, first_line: int = 1) -> Iterator[Unit]:
    loads = json.loads
    number = first_line - 1
    try:
        for number, data in enumerate(stream, first_line):
            if data.isspace():
                continue
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raw = data.decode("utf-8", "replace").rstrip("\r\n")
                yield Reject(path, number, f"invalid UTF-8 at byte {error.start + 1}", raw)
                continue
            try:
                value = loads(text)
            except (json.JSONDecodeError, RecursionError):
                line = text.rstrip("\r\n")
                yield Reject(path, number, _json_error(line), line)
                continue
            if ESCAPED_SURROGATE.search(text):
                reason = lone_surrogate_reason(value)
                if reason:
                    yield Reject(path, number, reason, text.rstrip("\r\n"))
                    continue
            if ESCAPED_NUL in text:
                value = without_nul(value)
            if value.__class__ is list:  # a whole API page on one line (Mastodon, a list of X responses)
                if not value:
                    yield Reject(path, number, "empty JSON array: no record on this line", text.rstrip("\r\n"))
                for element in value:
                    yield number, element, None, text
            else:
                yield number, value, None, text
    except STREAM_ERRORS as error:
        yield Reject(path, number + 1, broken_reason(error))


def _json_error(line: str) -> str:
    # Decoded again without the line end, so a cut-off string reads "Unterminated string", not
    # "Invalid control character" (the newline).
    try:
        json.loads(line)
    except json.JSONDecodeError as error:
        return f"invalid JSON: {error.msg.removesuffix(' at')} at column {error.colno}"
    except RecursionError:
        return "invalid JSON: nested too deeply"
    return "invalid JSON"


def _after_assignment(stream: BinaryIO) -> BinaryIO:
    """An X archive file with its `window.YTD.tweets.part0 = ` read as spaces, so line numbers stay the file's."""
    m = x_archive.ASSIGNMENT.match(stream.peek(512)[:512])  # a Peeked stream: a BufferedReader
    blank = stream.read(m.end()) if m else b""
    return io.BufferedReader(Prefixed(b" " * len(blank), stream), 1 << 16)  # type: ignore[arg-type]


def _document_units(path: str, stream: BinaryIO) -> Iterator[Unit]:
    doc = jsondoc.JsonDocument(text_reader(stream))
    try:
        for line, record, chat in jsondoc.records(doc):
            if isinstance(record, jsondoc.BadBytes):
                yield Reject(path, record.line, record.reason, record.raw)
            else:
                yield line, record, chat, None
    except jsondoc.DocumentError as error:
        yield Reject(path, error.line, f"{error.reason}; the rest of the document cannot be read", error.raw)
    except StreamBroken as error:
        yield Reject(path, doc.last_line(), error.reason)


def _known(record: Any, options: SourceOptions) -> bool:
    return record.__class__ is dict and any(f.sniff(record, options) for f in _SNIFF_ORDER)


def _unrecognised(record: dict[str, Any], options: SourceOptions) -> str:
    """Why a record is no post: the field --field names for the text is missing, or no format knows it."""
    text_field = options.field_map.get("text")
    if text_field is not None and text_field not in record:
        names = list(record)
        shown = ", ".join(repr(n) for n in names[:20]) + (", ..." if len(names) > 20 else "")
        return f"no field {text_field!r} (--field text={text_field}); this record's fields are {shown}"
    return _UNRECOGNISED


def _raw(raw: str | None, record: Any) -> str | None:
    if raw is not None:
        return raw.rstrip("\r\n")
    try:
        return json.dumps(record, ensure_ascii=False)[:2000]
    except (TypeError, ValueError):
        return None


def _dispatch(units: Iterator[Unit], ctx: FileContext, forced: Format | None, whole: bool = True
              ) -> Iterator[Item | Reject]:
    path = ctx.path
    fmt = forced
    records = 0
    for unit in units:
        if unit.__class__ is Reject:
            records += 1
            yield unit  # type: ignore[misc]
            continue
        line, record, chat, raw = unit  # type: ignore[misc]
        records += 1
        if record.__class__ is not dict:
            yield Reject(path, line, "record is not a JSON object", _raw(raw, record))
            continue
        if fmt is None:
            fmt = next((f for f in _SNIFF_ORDER if f.sniff(record, ctx.options)), None)
            if fmt is None:
                yield Reject(path, line, _unrecognised(record, ctx.options), _raw(raw, record))
                continue
        ctx.chat = chat
        try:
            items = fmt.to_items(record, line, ctx)
        except RecordError as error:
            yield Reject(path, line, error.reason, _raw(raw, record))
            continue
        except (AttributeError, TypeError, ValueError, KeyError, IndexError) as error:
            # A field of an unexpected type deep inside a record (a string where the platform sends
            # an object): one odd record must not end a long read.
            reason = f"malformed {fmt.name} record: a field has an unexpected type ({error})"
            yield Reject(path, line, reason, _raw(raw, record))
            continue
        yield from items
    if not records and whole:
        yield Reject(path, 0, "no records in file")


# --- parts of one file, for reading on many machines (plugwatch.cluster) --------------------------------
# A file is read in parts only where reading a part alone gives what reading the whole file gives for
# those lines: JSON lines (or Parquet rows) whose format keeps no memory from one record to the next.
# Bluesky's reader remembers handles from earlier identity events, so a Bluesky file is never split.
_STATEFUL = frozenset({bluesky.FORMAT.name})
SETTLE_LIMIT = 10_000  # records looked at for the one that settles a file's format


class ByteWindow(io.RawIOBase):
    """At most `size` bytes of a stream, from where it stands."""

    def __init__(self, raw: BinaryIO, size: int) -> None:
        self._raw, self._left = raw, size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self._left <= 0:
            return 0
        data = self._raw.read(min(len(buffer), self._left))
        buffer[: len(data)] = data
        self._left -= len(data)
        return len(data)


def settled_format(path: str, options: SourceOptions | None = None) -> tuple[str, int] | None:
    """(format name, line) of the record that settles the format of a JSON-lines or Parquet file, when
    the file may be read in parts (see `_STATEFUL`); None when it may not (a JSON document, CSV, plain
    text, UTF-16, an unreadable file, or no record settling the format among the first SETTLE_LIMIT)."""
    options = options or SourceOptions()
    forced, problem = _forced_format(options.format)
    if problem:
        return None
    try:
        with open(path, "rb") as handle:
            head = handle.peek(4)[:4]
            if parquet.looks_like_parquet(head):
                units: Iterator[Unit] = parquet.units(path)
            else:
                if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
                    return None
                peeked = Peeked(handle)
                lines = peeked.content_lines()
                if not lines or peeked.error:
                    return None
                if _framing(path, peeked, lines[0].lstrip(), options, forced) != "json" or _is_document(
                        peeked, lines[0]):
                    return None
                units = _jsonl_units(path, peeked.stream())
            return _settling(units, forced, options)
    except STREAM_ERRORS:
        return None


def _settling(units: Iterator[Unit], forced: Format | None, options: SourceOptions) -> tuple[str, int] | None:
    for seen, unit in enumerate(units):
        if seen >= SETTLE_LIMIT:
            return None
        if unit.__class__ is Reject:
            continue
        line, record, _, _ = unit  # type: ignore[misc]
        if record.__class__ is not dict:
            continue
        fmt = forced or next((f for f in _SNIFF_ORDER if f.sniff(record, options)), None)
        if fmt is not None:
            return (None if fmt.name in _STATEFUL else (fmt.name, line))  # type: ignore[return-value]
    return None


def read_range(path: str, start: int, end: int, first_line: int, options: SourceOptions,
               settled: str | None, gz: bool = False) -> Iterator[Item | Reject]:
    """The items in bytes [start, end) of a JSON-lines file, cut at line starts (for a `.gz` file: at the
    starts of gzip members that begin a line). The part at 0 is read exactly as the whole file is; a
    later one starts at line `first_line`, in the format `settled` that the file's first records settled."""
    shown = printable(path)
    forced, _ = _forced_format(options.format)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, after the generator is done with it
    except OSError as error:
        yield Reject(shown, 0, f"cannot open file: {error.strerror or error}")
        return
    with handle:
        handle.seek(start)
        window: BinaryIO = io.BufferedReader(ByteWindow(handle, end - start), 1 << 16)  # type: ignore[arg-type]
        if start == 0:
            yield from _read_stream(path, window, options, forced)
            return
        if gz:
            window = gzip.GzipFile(fileobj=window, mode="rb")  # type: ignore[assignment]
        fmt = resolve_format(settled) if settled else forced
        units = _jsonl_units(shown, io.BufferedReader(window, 1 << 16), first_line)  # type: ignore[arg-type]
        yield from _dispatch(units, FileContext(shown, options), fmt, whole=False)


def read_row_groups(path: str, groups: list[int], first_line: int, options: SourceOptions,
                    settled: str | None) -> Iterator[Item | Reject]:
    """The items in some row groups of a Parquet file; as `read_range`, the part holding the first row is
    read as the whole file is, later ones in the format the file settled."""
    forced, _ = _forced_format(options.format)
    if first_line == 1:
        yield from _read_parquet(path, options, forced, groups, 1)
    else:
        yield from _read_parquet(path, options, resolve_format(settled) if settled else forced, groups,
                                 first_line, whole=False)
