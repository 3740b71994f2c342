"""Byte streams: walking folders, opening files, transparent gzip, and reading ahead for detection."""

from __future__ import annotations

import codecs
import gzip
import io
import os
import zlib
from collections.abc import Callable, Iterator
from typing import BinaryIO

from plugwatch.sources.common import printable
from plugwatch.sources.run_files import is_run_byproduct

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class StreamBroken(Exception):
    """The byte stream itself failed part-way (truncated or corrupt gzip, read error)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def broken_reason(error: BaseException) -> str:
    if isinstance(error, EOFError):
        return "truncated gzip stream"
    if isinstance(error, gzip.BadGzipFile | zlib.error):
        return f"corrupt gzip stream: {error}"
    if isinstance(error, OSError):
        return f"read error: {error.strerror or error}"
    return f"read error: {error}"


STREAM_ERRORS = (EOFError, OSError, zlib.error)  # BadGzipFile is an OSError


def _is_documentation(name: str) -> bool:
    """A README or licence beside the data describes it, and `scan --cluster` leaves a `_SUCCESS`
    manifest and rejects files beside its partition files: none of them is a record file."""
    upper = name.upper()
    return upper.startswith(("README", "LICENSE", "LICENCE")) or upper.endswith(".MD") or is_run_byproduct(name)


ARCHIVE_OUTBOX, ARCHIVE_ACTOR = "outbox.json", "actor.json"


def _is_mastodon_archive(entries: list[os.DirEntry]) -> bool:
    names = {entry.name for entry in entries if entry.is_file()}
    return ARCHIVE_OUTBOX in names and ARCHIVE_ACTOR in names


def walk(folder: str) -> Iterator[tuple[str, str | None]]:
    """(path, None) for the files under `folder` in sorted order, skipping hidden files and folders,
    or (folder, reason) for a folder that cannot be listed. Symlinked folders are not followed, so a
    link loop cannot trap the walk. From a folder holding outbox.json and actor.json (an unzipped
    Mastodon account archive) only outbox.json is read."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as error:
        yield folder, f"cannot list folder: {error.strerror or error}"
        return
    if _is_mastodon_archive(entries):
        # An unzipped Mastodon account archive: its posts are in outbox.json, which names the media
        # files it uses; actor.json is read with it as the profile. The rest (likes and bookmarks,
        # which are other people's posts' addresses; avatar, header, media files) holds no post.
        entries = [entry for entry in entries if entry.name == ARCHIVE_OUTBOX]
    for entry in entries:
        if entry.name.startswith(".") or _is_documentation(entry.name):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from walk(entry.path)
        elif entry.is_file():
            yield entry.path, None
        # Not read, and said so: skipped in silence, a link to an export on a share that is not mounted
        # gave a clean scan without its posts.
        elif not os.path.exists(entry.path):
            yield entry.path, f"broken link: {printable(os.readlink(entry.path))} is not there"
        elif os.path.isdir(entry.path):
            yield entry.path, "a link to a folder, not followed (a link loop could trap the walk): name the folder itself"
        else:
            yield entry.path, "not a regular file (a named pipe, socket or device): not read"


class Prefixed(io.RawIOBase):
    """Bytes already read for detection, then the rest of the underlying stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        # read1: hand over what is there, so a live pipe (a firehose on stdin) is not held back
        # until a whole buffer fills.
        data = self._rest.read1(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _FromUtf16(io.RawIOBase):
    """UTF-16 text (a Windows "Unicode text" export, with its byte order mark) as UTF-8 bytes, so every
    reader sees UTF-8. Code units that are not UTF-16 (a lone surrogate, an odd last byte) become U+FFFD."""

    def __init__(self, source: BinaryIO) -> None:
        self._text = io.TextIOWrapper(source, encoding="utf-16", errors="replace", newline="")  # type: ignore[arg-type]
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if not self._pending:
            self._pending = self._text.read(max(1, len(buffer) // 4)).encode("utf-8")
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class _Broken:
    """Stands in for a stream that failed while the head was read, failing again once the head is
    served, so the records before the break still come out and the break lands on its line."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def read1(self, size: int = -1) -> bytes:
        raise self.error

    read = read1


class Peeked:
    """A decompressed byte stream whose first non-blank line (or two) was read ahead to detect the
    format; `stream()` then gives the whole stream again from its start."""

    LINE_LIMIT = 1 << 20  # a first line longer than this is a one-line JSON document, not JSONL

    def __init__(self, raw: BinaryIO) -> None:
        self.lines: list[bytes] = []  # the lines read ahead, blank ones included
        self.first_long = False
        self.error: BaseException | None = None
        head = raw.read(2)
        self._source: BinaryIO = io.BufferedReader(Prefixed(head, raw), 1 << 16)  # type: ignore[arg-type]
        if head == GZIP_MAGIC:
            self._source = gzip.GzipFile(fileobj=self._source, mode="rb")  # type: ignore[assignment]
        if self._utf16():
            self._source = io.BufferedReader(_FromUtf16(self._source), 1 << 16)  # type: ignore[assignment]
        self.next_content_line()

    def _utf16(self) -> bool:
        try:
            return self._source.peek(2)[:2] in UTF16_BOMS  # type: ignore[attr-defined]
        except STREAM_ERRORS:
            return False  # a broken stream: reading its first line fails again and says so

    def next_content_line(self) -> bytes | None:
        """Read ahead to the next non-blank line (None at the end or when the stream broke). Only as
        much is read as detection needs, so a live pipe's first record is not held back."""
        if self.error is not None:
            return None
        first = not self.content_lines()
        try:
            while line := self._source.readline(self.LINE_LIMIT):
                if not self.lines and line.startswith(UTF8_BOM):
                    line = line[len(UTF8_BOM) :]
                self.lines.append(line)
                if line.strip():
                    if first and len(line) >= self.LINE_LIMIT and not line.endswith(b"\n"):
                        self.first_long = True
                    return line
        except STREAM_ERRORS as error:
            # Fail again once the lines read so far are served, so the break lands on its line.
            self.error = error
            self._source = _Broken(error)  # type: ignore[assignment]
        return None

    def second_content_line(self) -> bytes | None:
        """The second non-blank line (read ahead only if it was not yet), None when there is none."""
        lines = self.content_lines()
        return lines[1] if len(lines) > 1 else self.next_content_line()

    def content_lines(self) -> list[bytes]:
        return [line for line in self.lines if line.strip()]

    def stream(self) -> BinaryIO:
        return io.BufferedReader(Prefixed(b"".join(self.lines), self._source), 1 << 16)  # type: ignore[arg-type, return-value]


def text_reader(stream: BinaryIO) -> Callable[[int], str]:
    """read(n) -> decoded text of about n bytes ('' only at the end). Bad bytes become lone surrogates
    (surrogateescape) so the JSON document reader can reject just the record holding them."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")

    def read(size: int) -> str:
        while True:
            try:
                data = stream.read(size)
            except STREAM_ERRORS as error:
                raise StreamBroken(broken_reason(error)) from None
            text = decoder.decode(data, final=not data)
            if text or not data:
                return text

    return read
