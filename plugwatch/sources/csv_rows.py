"""Generic CSV (or TSV / semicolon-separated) with a header row; rows map like generic JSONL records.

Quoted fields may span lines; a record's line number is the physical line where it starts.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import BinaryIO

from plugwatch.sources.common import Reject, SourceOptions
from plugwatch.sources.inputs import STREAM_ERRORS, broken_reason
from plugwatch.sources.jsonl import GenericFormat, has_text_field

_DELIMITERS = (",", "\t", ";")


def delimiter_of(header: str) -> str:
    return max(_DELIMITERS, key=header.count)


def header_of(first_line: bytes) -> list[str]:
    """The column names of a header line; [] when it is not one (a bare CR, a runaway field)."""
    return _parse_header(first_line)[0]


def header_guess(first_line: bytes) -> tuple[list[str], str | None]:
    """The names a first line would give as a header, and why it does not parse (None when it does).
    A line that does not parse is split at its delimiter, so its names can still be judged."""
    names, problem = _parse_header(first_line)
    if problem:
        text = first_line.decode("utf-8", "replace").replace("\r", "").rstrip("\n")
        names = [name.strip() for name in text.split(delimiter_of(text))]
    return names, problem


# What a column name looks like: a few words of letters, digits and a little punctuation.
_COLUMN = re.compile(r"[^\W\d][\w .:()/#-]{0,39}")


def column_like(names: list[str]) -> bool:
    """Whether names look like a header row's: two or more, each short (an index column may be empty)."""
    named = [name for name in names if name]
    return len(named) >= 2 and all(_COLUMN.fullmatch(name) and len(name.split()) <= 4 for name in named)


def field_count(line: bytes, header_line: bytes) -> int:
    """How many fields a line has with the header's delimiter (-1 when it does not parse)."""
    header = header_line.decode("utf-8", "replace")
    try:
        return len(next(csv.reader([line.decode("utf-8", "replace")], delimiter=delimiter_of(header)), []))
    except csv.Error:
        return -1


def _parse_header(first_line: bytes) -> tuple[list[str], str | None]:
    text = first_line.decode("utf-8", "replace").replace("\x00", "")
    try:
        row = next(csv.reader([text], delimiter=delimiter_of(text)), [])
    except csv.Error as error:
        return [], _csv_error(error)
    return [name.strip() for name in row], None


def has_text_column(first_line: bytes, options: SourceOptions | None) -> bool:
    """Whether the first line is a CSV header we can use: it must name the text column."""
    return has_text_field(header_of(first_line), options)


def rows(
    stream: BinaryIO, path: str, first_line: bytes
) -> Iterator[tuple[int, dict[str, str], None, None] | Reject]:
    """(line, row as {column: value}, None, None) per record, or a Reject for a bad one."""
    bad_bytes: list[tuple[int, int]] = []  # (line, 1-based byte) of undecodable lines in this record
    ended = [False]  # the reader has taken the file's last line
    quotes = [0]  # quote characters in the lines of the record being read

    def lines() -> Iterator[str]:
        for number, data in enumerate(stream, 1):
            if b"\x00" in data:  # NUL carries no text and PostgreSQL cannot store it
                data = data.replace(b"\x00", b"")
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as error:
                bad_bytes.append((number, error.start + 1))
                data = data.decode("utf-8", "replace")
            quotes[0] += data.count('"')
            yield data
        ended[0] = True

    delimiter = delimiter_of(first_line.decode("utf-8", "replace"))
    reader = csv.reader(lines(), delimiter=delimiter)
    header: list[str] = []
    while True:
        start = reader.line_num + 1
        quotes[0] = 0
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if not header:  # without its header no row of the file can be mapped
                yield Reject(path, start, f"invalid CSV header: {_csv_error(error)}; the file cannot be read")
                return
            yield Reject(path, start, f"invalid CSV: {_csv_error(error)}")
            continue
        except STREAM_ERRORS as error:
            yield Reject(path, reader.line_num + 1, broken_reason(error))
            return
        if not header:
            header = [name.strip() for name in row]
            bad_bytes.clear()  # a bad byte in the header only garbles a column name
            continue
        if bad_bytes:
            line, byte = bad_bytes[0]
            bad_bytes.clear()
            yield Reject(path, line, f"invalid UTF-8 at byte {byte}", delimiter.join(row))
            continue
        if not row:
            continue
        if ended[0] and reader.line_num > start and quotes[0] % 2:
            # An odd count of quotes in a record that spans lines and ran to the end of the file: the lenient
            # reader took every line after an unclosed quote into one field. Rather than score
            # the rest of the file as one post, reject it whole and keep it in the rejects file.
            yield Reject(path, start, f"a quote opened on this line is never closed: lines {start}-{reader.line_num} "
                                      "(the rest of the file) were read as one field", delimiter.join(row))
            return
        if len(row) != len(header):
            reason = f"row has {len(row)} fields but the header has {len(header)}"
            yield Reject(path, start, reason, delimiter.join(row))
            continue
        yield start, dict(zip(header, row, strict=True)), None, None


def _csv_error(error: csv.Error) -> str:
    message = str(error)
    if message.startswith("new-line character seen in unquoted field"):
        return "a carriage return (CR) inside an unquoted field; CR alone is not a line end here"
    if message.startswith("field larger than field limit"):
        return f"a field is longer than {csv.field_size_limit():,} characters (an unclosed quote?)"
    return message


FORMAT = GenericFormat("csv")
