"""Generic records (JSONL or CSV rows): id, text, author, platform, created_at, url, reply_to.

The user's own column names come in through `SourceOptions.field_map`. A record without an id gets
`h` + the first 16 hex digits of SHA-1(author, text): the same post read twice (or reposted word for
word by the same account) gets the same id, which is what de-duplication downstream wants; an id
from the path and line would change whenever the file is re-cut.
"""

from __future__ import annotations

import hashlib
from typing import Any

from plugwatch.model import Account, Item, ItemKind, SourceRef
from plugwatch.sources.common import (
    FileContext,
    RecordError,
    SourceOptions,
    as_int,
    identifier,
    record_time,
    string,
)

FIELDS = ("id", "text", "author", "platform", "created_at", "url", "reply_to")


def field_names(options: SourceOptions | None) -> tuple[str, ...]:
    mapping = options.field_map if options else {}
    return tuple(mapping.get(name, name) for name in FIELDS)


def stable_id(author: str | None, text: str) -> str:
    digest = hashlib.sha1(f"{author or ''}\x00{text}".encode("utf-8", "surrogatepass")).hexdigest()
    return "h" + digest[:16]


def _cell(record: dict[str, Any], key: str) -> str | None:
    """A text or id field, stripped (CSV cells are often padded); None when absent or empty.
    A list, object or fraction where an id or name belongs is a bad record, not a silent str()."""
    value = record.get(key)
    if value is None:
        return None
    found = identifier(value)
    if found is None and value != "":
        raise RecordError(f"{key} is not text or a whole number: {str(value)[:80]!r}")
    return found.strip() or None if found else None


def _author(value: Any, key: str, platform: str) -> Account | None:
    if isinstance(value, dict):  # JSONL may nest a profile: {"handle", "name", "bio", "followers", ...}
        handle = (
            string(value.get("handle")) or string(value.get("username")) or string(value.get("screen_name"))
        )
        return Account(
            platform=platform,
            handle=handle.lstrip("@") if handle else None,
            native_id=identifier(value.get("id")),
            display_name=string(value.get("display_name")) or string(value.get("name")),
            bio=string(value.get("bio")) or string(value.get("description")),
            created_at=record_time(value.get("created_at"), "author created_at"),
            followers=as_int(value.get("followers", value.get("followers_count"))),
            url=string(value.get("url")),
        )
    handle = _cell({key: value}, key)
    return Account(platform=platform, handle=handle.lstrip("@")) if handle else None


def generic_item(record: Any, line: int, ctx: FileContext) -> Item:
    if not isinstance(record, dict):
        raise RecordError("record is not a JSON object")
    names = ctx.state.get("generic_fields")
    if names is None:
        names = ctx.state["generic_fields"] = field_names(ctx.options)
    id_key, text_key, author_key, platform_key, time_key, url_key, reply_key = names
    text = record.get(text_key)
    if not isinstance(text, str) or not text.strip():
        raise RecordError(
            "record has no text" if text_key == "text" else f"record has no text (column {text_key!r})"
        )
    platform = (_cell(record, platform_key) or ctx.options.default_platform).lower()
    author = _author(record.get(author_key), author_key, platform)
    native = _cell(record, id_key) or stable_id(author.handle if author else None, text)
    reply = _cell(record, reply_key)
    if reply and not reply.startswith(platform + ":"):
        reply = f"{platform}:{reply}"
    return Item(
        platform=platform,
        native_id=native,
        text=text,
        kind=ItemKind.REPLY if reply else ItemKind.POST,
        author=author,
        created_at=record_time(record.get(time_key)),
        reply_to=reply,
        url=_cell(record, url_key),
        raw=record if ctx.options.keep_raw else None,
        source=SourceRef(ctx.path, line),
    )


class JsonlFormat:
    name = "jsonl"

    def sniff(self, record: dict[str, Any], options: SourceOptions | None = None) -> bool:
        return isinstance(record, dict) and field_names(options)[1] in record

    def to_items(self, record: Any, line: int, ctx: FileContext) -> list[Item]:
        return [generic_item(record, line, ctx)]


FORMAT = JsonlFormat()
