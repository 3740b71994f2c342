"""Incremental decoding of one (possibly huge) JSON document.

A Telegram channel export is a single JSON object that can run to hundreds of MB, so it is never
loaded whole: the text is read in chunks into a sliding buffer and `json.JSONDecoder.raw_decode`
decodes one array element at a time. Line numbers are counted as the buffer is consumed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from plugwatch.sources.common import (
    ESCAPED_NUL,
    ESCAPED_SURROGATE,
    lone_surrogate_reason,
    printable,
    without_nul,
)

CHUNK_SIZE = 1 << 16  # bytes per read; tests shrink it to split records across reads

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_BAD_BYTE = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of invalid UTF-8
_DECODER = json.JSONDecoder()
_SCALARS = (str, int, float, bool, type(None))
# Keys whose array holds the records (Telegram chat export; ActivityStreams collections such as a
# Mastodon archive's outbox.json), and containers of such chats (Telegram full export:
# {"chats": {"list": [chat, ...]}, "left_chats": {...}}).
_RECORD_ARRAYS = frozenset({"messages", "orderedItems"})
_COLLECTIONS = frozenset({"OrderedCollection", "OrderedCollectionPage", "Collection", "CollectionPage"})
_CHAT_CONTAINERS = frozenset({"chats", "left_chats"})


class _LineError(Exception):
    def __init__(self, line: int, reason: str, raw: str | None) -> None:
        super().__init__(reason)
        self.line, self.reason, self.raw = line, reason, raw


class DocumentError(_LineError):
    """The document cannot be read on from here (a syntax error, a cut file)."""


class BadBytes(_LineError):
    """A record in the document held invalid UTF-8; yielded in its place so the rest goes on."""


class JsonDocument:
    def __init__(self, read_text: Callable[[int], str], chunk_size: int | None = None) -> None:
        self._read = read_text
        self._chunk = chunk_size or CHUNK_SIZE
        self.buf = ""
        self.pos = 0
        self.line = 1  # line number at self.pos
        self._col0 = 0  # column of buf[0], which may sit mid-line after the buffer slid
        self.eof = False

    # -- buffer -------------------------------------------------------------------------------
    def _more(self, at_least: int = 0) -> bool:
        if self.eof:
            return False
        data = self._read(max(self._chunk, at_least))
        if not data:
            self.eof = True
            return False
        if self.pos:
            newline = self.buf.rfind("\n", 0, self.pos)
            self._col0 = self.pos - newline - 1 if newline >= 0 else self._col0 + self.pos
            self.buf = self.buf[self.pos :]
            self.pos = 0
        self.buf += data
        return True

    def _advance(self, to: int) -> None:
        self.line += self.buf.count("\n", self.pos, to)
        self.pos = to

    def last_line(self) -> int:
        """The line the reader has got to (where a broken stream stopped)."""
        return self.line + self.buf.count("\n", self.pos)

    def _line_at(self, index: int) -> tuple[int, int, str]:
        """(line, 1-based column, the line's text) for a buffer index at or after self.pos."""
        line = self.line + self.buf.count("\n", self.pos, index)
        start = self.buf.rfind("\n", 0, index) + 1
        column = index - start + 1 if start else self._col0 + index + 1
        end = self.buf.find("\n", index)
        return line, column, self.buf[start : end if end >= 0 else len(self.buf)]

    def error(self, message: str, index: int | None = None) -> DocumentError:
        line, column, text = self._line_at(self.pos if index is None else index)
        message = message.removesuffix(" at")  # json says "Invalid control character at"
        return DocumentError(line, f"invalid JSON: {message} at line {line} column {column}", text)

    # -- tokens -------------------------------------------------------------------------------
    def peek(self) -> str:
        """The next non-whitespace character ('' at the end of the document), not consumed."""
        while True:
            self._advance(_WHITESPACE.match(self.buf, self.pos).end())  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def _take(self, char: str, message: str) -> None:
        if self.peek() != char:
            raise self.error(message)
        self._advance(self.pos + 1)

    def value(self, check_bytes: bool = False) -> tuple[int, Any]:
        """Decode the value starting at the next token: (its first line, the value). With
        check_bytes (a record), invalid UTF-8 or a lone surrogate in it raises BadBytes, and NUL
        characters are removed from its strings."""
        if not self.peek():
            raise self.error("Expecting value")
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as error:
                if self._maybe_cut(error) and self._more(len(self.buf)):
                    continue  # read as much again as we hold: a big value costs linear time
                raise self.error(error.msg, error.pos) from None
            except RecursionError:
                raise self.error("nested too deeply") from None
            if end == len(self.buf) and self._more():
                continue  # a number may have been cut at the buffer's end
            break
        start_line = self.line
        if check_bytes:
            bad = _BAD_BYTE.search(self.buf, self.pos, end)
            if bad:
                line, column, text = self._line_at(bad.start())
                byte = len(text[: column - 1].encode("utf-8", "surrogateescape")) + 1
                self._advance(end)
                raw = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                raise BadBytes(line, f"invalid UTF-8 at byte {byte}", raw)
            escaped = ESCAPED_SURROGATE.search(self.buf, self.pos, end)
            reason = escaped and lone_surrogate_reason(value)
            if reason:
                line, _, text = self._line_at(escaped.start())  # type: ignore[union-attr]
                self._advance(end)
                raise BadBytes(line, reason, text)
            if self.buf.find(ESCAPED_NUL, self.pos, end) >= 0:
                value = without_nul(value)
        self._advance(end)
        return start_line, value

    def _maybe_cut(self, error: json.JSONDecodeError) -> bool:
        # A value running past the end of the buffer fails near the end, or as an unterminated
        # string; an error well inside the buffer is a real syntax error.
        return not self.eof and (
            error.msg.startswith("Unterminated string") or error.pos >= len(self.buf) - 16
        )

    def _members(self, opening: str, closing: str) -> Iterator[None]:
        """Walk a container: yields once per member, positioned on it; the caller consumes it."""
        self._take(opening, f"Expecting '{opening}'")
        if self.peek() == closing:
            self._advance(self.pos + 1)
            return
        while True:
            yield
            char = self.peek()
            if char == closing:
                self._advance(self.pos + 1)
                return
            if char != ",":
                raise self.error("Expecting ',' delimiter" if char else "unexpected end of document")
            self._advance(self.pos + 1)

    def elements(self) -> Iterator[None]:
        """Walk an array: yields once per element, positioned on it; the caller consumes it."""
        return self._members("[", "]")

    def keys(self) -> Iterator[str]:
        """Walk an object: yields each key, positioned on its value; the caller consumes the value."""
        for _ in self._members("{", "}"):
            if self.peek() != '"':
                raise self.error("Expecting property name enclosed in double quotes")
            _, key = self.value()
            self._take(":", "Expecting ':' delimiter")
            yield key


def _telegram_message(value: Any) -> bool:
    return value.__class__ is dict and value.get("type") in ("message", "service") and "date" in value


def holds_records(value: Any) -> bool:
    """Whether a value decoded whole is a container of records, a document to read record by record and
    not one record: an ActivityStreams collection (Mastodon writes an archive's outbox.json on one line),
    a Telegram chat export, or a whole Telegram account's export (as `jq -c` or `json.dump` write them,
    on one line)."""
    if value.__class__ is not dict:
        return False
    if value.get("type") in _COLLECTIONS and value.get("orderedItems").__class__ is list:
        return True
    messages = value.get("messages")
    if messages.__class__ is list and "id" in value and "type" in value and "text" not in value and (
            not messages or _telegram_message(messages[0])):
        return True  # a chat: {"name", "type", "id", "messages": [{"id", "type": "message", "date", ...}]}
    return any(value.get(key).__class__ is dict and value[key].get("list").__class__ is list
               for key in _CHAT_CONTAINERS)  # an account: {"chats": {"list": [chat, ...]}, ...}


# (line, decoded record or BadBytes, enclosing chat or None)
Unit = tuple[int, Any, dict[str, Any] | None]


def records(doc: JsonDocument) -> Iterator[Unit]:
    """The records of a document: the elements of a top-level array, the messages of a Telegram
    chat (with the chat's head fields as context), the `orderedItems` of an ActivityStreams
    collection (likewise), or a top-level object as one record. Several
    documents in a row (as `jq .` prints them) are read one after the other."""
    while (char := doc.peek()) != "":
        if char == "[":
            for _ in doc.elements():
                yield _element(doc)
        elif char == "{":
            yield from _object(doc, top=True)
        else:
            yield _element(doc)


def _element(doc: JsonDocument, chat: dict[str, Any] | None = None) -> Unit:
    try:
        line, value = doc.value(check_bytes=True)
    except BadBytes as bad:
        return bad.line, bad, chat
    return line, value, chat


def _object(doc: JsonDocument, top: bool) -> Iterator[Unit]:
    start = doc.line
    head: dict[str, Any] = {}
    streamed = False
    for key in doc.keys():
        char = doc.peek()
        if key in _RECORD_ARRAYS and char == "[":
            streamed = True
            chat = _scalars(head)
            for _ in doc.elements():
                yield _element(doc, chat)
        elif key in _CHAT_CONTAINERS and char == "{":
            streamed = True
            for inner in doc.keys():
                if inner == "list" and doc.peek() == "[":
                    for _ in doc.elements():
                        if doc.peek() == "{":
                            yield from _object(doc, top=False)
                        else:
                            yield _element(doc)
                else:
                    doc.value()
        else:
            # Once records are streaming only small head fields are kept, so a big side section
            # of a full export (contacts, sessions) does not stay in memory.
            _, value = doc.value()
            if not streamed or isinstance(value, _SCALARS):
                head[key] = value
    if top and not streamed:
        if _BAD_BYTE.search(json.dumps(head, ensure_ascii=False)):
            yield start, BadBytes(start, "invalid UTF-8 in the document", None), None
        elif reason := lone_surrogate_reason(head):
            yield start, BadBytes(start, reason, None), None
        else:
            yield start, without_nul(head), None


def _scalars(head: dict[str, Any]) -> dict[str, Any]:
    """The small head fields (chat name, type, id), with any bad bytes in them made printable."""
    return {
        key: _printable(value) if value.__class__ is str else value
        for key, value in head.items()
        if isinstance(value, _SCALARS)
    }


def _printable(text: str) -> str:
    if _BAD_BYTE.search(text):
        try:
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:  # also holds a lone surrogate from an escape: printable() below
            pass
    return printable(text).replace("\x00", "")
