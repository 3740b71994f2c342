"""Plain text: one post per non-empty line, the most natural thing to paste or pipe in.

The item id is the file and the line (`notes.txt:3`, `stdin:3` for standard input): the same file
read again gives the same ids. Blank lines are not posts and are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from plugwatch.model import Item, SourceRef
from plugwatch.sources.common import FileContext, Reject, SourceOptions, decoded_line
from plugwatch.sources.inputs import STREAM_ERRORS, broken_reason

STDIN = "<stdin>"
EXTENSIONS = (".txt", ".txt.gz")


def is_text_file(path: str) -> bool:
    """A file its name says is plain text (content sniffing decides for anything else)."""
    return path.lower().endswith(EXTENSIONS)


def lines(stream: BinaryIO, path: str) -> Iterator[tuple[int, dict[str, str], None, None] | Reject]:
    """(line, {"text": line}, None, None) per non-blank line, or a Reject for one that is not UTF-8."""
    number = 0
    try:
        for number, data in enumerate(stream, 1):
            if b"\x00" in data:  # NUL carries no text and PostgreSQL cannot store it
                data = data.replace(b"\x00", b"")
            if data.isspace() or not data:
                continue
            text = decoded_line(path, number, data)
            yield text if isinstance(text, Reject) else (number, {"text": text.rstrip("\r\n")}, None, None)
    except STREAM_ERRORS as error:
        yield Reject(path, number + 1, broken_reason(error))


class TextFormat:
    name = "text"

    def sniff(self, record: dict[str, Any], options: SourceOptions | None = None) -> bool:
        return False  # chosen from the file's name or content, never from a decoded record

    def to_items(self, record: Any, line: int, ctx: FileContext) -> list[Item]:
        where = "stdin" if ctx.path == STDIN else ctx.path
        return [Item(platform=ctx.options.default_platform.lower(), native_id=f"{where}:{line}",
                     text=record["text"], source=SourceRef(ctx.path, line))]


FORMAT = TextFormat()
