"""Types and helpers shared by the reader plumbing and every platform format."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from plugwatch.model import Item

RAW_LIMIT = 2_000  # a reject keeps this much of the offending line
# Lone surrogates: what surrogateescape makes of invalid UTF-8, or a JSON "\ud800" escape without its
# pair. Neither is a character: UTF-8 output (and PostgreSQL) refuse them.
SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """The text with any lone surrogate shown as U+FFFD, so it can be written as UTF-8."""
    return SURROGATE.sub("\ufffd", text) if SURROGATE.search(text) else text


# In raw JSON text: an escape that may decode to a lone surrogate, and an escaped NUL. Searching the
# raw text first keeps the walk over the decoded value off the common path.
ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
ESCAPED_NUL = "\\u0000"


def _strings(value: Any) -> Any:
    """Every string in a decoded JSON value, keys included (iterative: values may nest deeply)."""
    stack = [value]
    while stack:
        top = stack.pop()
        if top.__class__ is str:
            yield top
        elif top.__class__ is dict:
            stack.extend(top)
            stack.extend(top.values())
        elif top.__class__ is list:
            stack.extend(top)


def lone_surrogate_reason(value: Any) -> str | None:
    """Why a decoded record cannot be used when one of its strings holds a lone surrogate, else None."""
    for text in _strings(value):
        found = SURROGATE.search(text)
        if found:
            return (f"invalid JSON string: lone surrogate \\u{ord(found.group()):04x} "
                    "(half of a UTF-16 pair, not a character)")
    return None


def without_nul(value: Any) -> Any:
    """The decoded value with NUL characters removed from every string, keys included: they carry
    no text, and PostgreSQL cannot store them (see README, Bad input). Containers are changed in
    place (the value was just decoded and is ours) and walked without recursion."""
    if value.__class__ is str:
        return value.replace("\x00", "")
    stack = [value]
    while stack:
        top = stack.pop()
        if top.__class__ is dict:
            for key, inner in list(top.items()):
                if inner.__class__ is str:
                    inner = inner.replace("\x00", "")
                elif inner.__class__ in (dict, list):
                    stack.append(inner)
                if key.__class__ is str and "\x00" in key:
                    del top[key]
                    key = key.replace("\x00", "")
                top[key] = inner
        elif top.__class__ is list:
            for index, inner in enumerate(top):
                if inner.__class__ is str:
                    top[index] = inner.replace("\x00", "")
                elif inner.__class__ in (dict, list):
                    stack.append(inner)
    return value


@dataclass(slots=True)
class Reject:
    """A record (or a whole input) that gave no item, with a reason a person can act on."""

    path: str
    line: int  # 0 when the problem is not tied to one line
    reason: str
    raw: str | None = None

    def __post_init__(self) -> None:
        if self.raw is not None:
            self.raw = printable(self.raw[:RAW_LIMIT])
        # A file name with undecodable bytes, or a reason quoting bad input, must not break the writer.
        self.path, self.reason = printable(self.path), printable(self.reason)


def decoded_line(path: str, number: int, data: bytes) -> str | Reject:
    """A line of input as text, or the Reject saying at which byte its invalid UTF-8 starts."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raw = data.decode("utf-8", "replace").rstrip("\r\n")
        return Reject(path, number, f"invalid UTF-8 at byte {error.start + 1}", raw)


@dataclass(slots=True)
class SourceOptions:
    format: str | None = None  # None: detect per file from its content
    # our field name (id/text/author/platform/created_at/url/reply_to) -> the user's column name
    field_map: dict[str, str] = field(default_factory=dict)
    default_platform: str = "generic"
    keep_raw: bool = True
    # files a folder walk must not read: the scan's own output and rejects files
    skip_files: frozenset[str] = frozenset()
    media_dir: str | None = None  # relative media paths are resolved here (default: the input file's folder)


class RecordError(Exception):
    """A record that cannot become an item; the reader turns it into a Reject."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class FileContext:
    """What a format may know about the file a record comes from."""

    path: str
    options: SourceOptions
    chat: dict[str, Any] | None = None  # the enclosing Telegram chat (name/type/id), when any
    state: dict[str, Any] = field(default_factory=dict)  # per-file memory a format may keep (bounded)


class Format(Protocol):
    name: str

    def sniff(self, record: dict[str, Any], options: SourceOptions | None = None) -> bool:
        """True when the record looks like this format (used on a file's first record)."""
        ...

    def to_items(self, record: Any, line: int, ctx: FileContext) -> list[Item | Reject]:
        """The items in one decoded record; raise RecordError for a bad record. A record that holds many
        posts (a page of an API) gives a Reject for each bad one among its items, so the others are read."""
        ...


def parse_epoch(value: float) -> datetime:
    # Exports mix seconds, milliseconds and microseconds; no post predates 1973 so the size tells.
    if value > 1e14:
        value /= 1e6
    elif value > 1e11:
        value /= 1e3
    return datetime.fromtimestamp(value, UTC)


def parse_time(value: Any) -> datetime | None:
    """A timezone-aware datetime from ISO 8601 text or epoch seconds/ms/µs; UTC when no zone is given.

    Returns None for a missing value; raises ValueError for one that is not a time.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        return parse_epoch(float(value))
    if not isinstance(value, str):
        raise ValueError(f"not a time: {value!r}")
    text = value.strip()
    if text.replace(".", "", 1).isdigit():
        return parse_epoch(float(text))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def record_time(value: Any, what: str = "created_at") -> datetime | None:
    try:
        return parse_time(value)
    except (ValueError, OverflowError, OSError):
        raise RecordError(f"{what} is not a date or time: {str(value)[:80]!r}") from None


def as_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):  # None: most records give no count, and int(None) raises
        return None
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def reach_of(*counts: Any) -> int | None:
    """The sum of the engagement counts the platform gave, None when it gave none."""
    known = [n for n in map(as_int, counts) if n is not None]
    return sum(known) if known else None


def unescape(text: str) -> str:
    return html.unescape(text) if "&" in text else text


def string(value: Any) -> str | None:
    """The value when it is a non-empty string, else None: the model's str fields must hold strings
    even when an export has a number or a list where text belongs."""
    return value if value.__class__ is str and value else None


def identifier(value: Any) -> str | None:
    """An id as a string when the export gave a string or an integer, else None."""
    if value.__class__ is int:
        return str(value)
    return string(value)
