"""Generic records (JSONL or CSV rows): id, text, author, platform, created_at, url, reply_to.

The user's own column names come in through `SourceOptions.field_map`. A record without an id gets
`h` + the first 16 hex digits of SHA-1(author, text): the same post read twice (or reposted word for
word by the same account) gets the same id, which is what de-duplication downstream wants; an id
from the path and line would change whenever the file is re-cut.

A record `plugwatch scan` wrote (plugwatch.records.is_scan_record: an `id` that already starts with
`platform:`, `author` as an account key and the profile under `account`, `item_kind`) is read back as the
item it was: same id, same account, same kind. Without this, loading a scan's output into the service
(`POST /api/ingest`, `plugwatch ingest`) stored `mastodon:mastodon:1120…` beside the real `mastodon:1120…`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from plugwatch.model import RECORD_FIELDS, Account, Item, ItemKind, SourceRef
from plugwatch.records import is_scan_record
from plugwatch.sources.common import (
    FileContext,
    RecordError,
    SourceOptions,
    as_int,
    identifier,
    record_time,
    string,
)
from plugwatch.sources.media import generic_media

FIELDS = RECORD_FIELDS

# Column names other tools and hand-made exports use for our fields, tried in order when the user gave
# no --field mapping for that field: a CSV with `content, user, timestamp` needs no flags.
ALIASES = {
    "id": ("id", "post_id", "message_id", "tweet_id", "status_id", "item_id"),
    "text": ("text", "content", "body", "message", "full_text", "caption"),
    "author": ("author", "user", "username", "user_name", "screen_name", "handle", "account", "sender"),
    "platform": ("platform", "site", "network", "source_platform"),
    "created_at": ("created_at", "timestamp", "date", "datetime", "created", "posted_at", "time"),
    "url": ("url", "permalink", "link"),
    "reply_to": ("reply_to", "in_reply_to", "in_reply_to_id", "reply_to_id", "parent_id"),
}
# Flat profile columns beside a plain author name.
PROFILE_ALIASES = {
    "bio": ("bio", "description", "user_bio", "author_bio", "user_description", "profile"),
    "display_name": ("display_name", "name", "user_display_name", "author_name"),
    "followers": ("followers", "followers_count", "user_followers"),
}


def field_names(options: SourceOptions | None) -> tuple[str, ...]:
    """The column names given by --field, else our own names."""
    mapping = options.field_map if options else {}
    return tuple(mapping.get(name, name) for name in FIELDS)


def resolve_fields(keys, options: SourceOptions | None) -> tuple[str, ...]:
    """Per record: the --field mapping where given, else the first alias present in `keys`."""
    mapping = options.field_map if options else {}
    out = []
    for name in FIELDS:
        if name in mapping:
            out.append(mapping[name])
        else:
            out.append(next((a for a in ALIASES[name] if a in keys), name))
    return tuple(out)


def has_text_field(keys, options: SourceOptions | None) -> bool:
    mapping = options.field_map if options else {}
    if "text" in mapping:
        return mapping["text"] in keys
    return any(a in keys for a in ALIASES["text"])


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


def _first(record: dict[str, Any], names: tuple[str, ...]) -> Any:
    for n in names:
        value = record.get(n)
        if value is not None and value != "":
            return value
    return None


_NO_PROFILE = {name: () for name in PROFILE_ALIASES}
_LAYOUTS_KEPT = 64  # distinct key sets remembered per file: a file's records nearly always share one


def _layout(record: dict[str, Any], ctx: FileContext) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The field names (`resolve_fields`) and the profile columns present, worked out once per set of keys
    in a file rather than per record: alias lookups were a tenth of the reading time."""
    layouts = ctx.state.setdefault("generic_layouts", {})
    keys = tuple(record)
    found = layouts.get(keys)
    if found is None:
        present = {name: tuple(a for a in aliases if a in record) for name, aliases in PROFILE_ALIASES.items()}
        found = (resolve_fields(record, ctx.options), present if any(present.values()) else _NO_PROFILE)
        if len(layouts) >= _LAYOUTS_KEPT:
            layouts.clear()
        layouts[keys] = found
    return found


def _author(value: Any, key: str, platform: str, record: dict[str, Any] | None = None,
            profile: dict[str, tuple[str, ...]] = PROFILE_ALIASES) -> Account | None:
    if isinstance(value, dict):  # JSONL may nest a profile: {"handle", "name", "bio", "followers", ...}
        handle = (
            string(value.get("handle")) or string(value.get("username")) or string(value.get("screen_name"))
        )
        return Account(
            platform=platform,
            handle=handle.lstrip("@") if handle else None,
            native_id=identifier(value.get("id", value.get("native_id"))),  # native_id: scan output
            display_name=string(value.get("display_name")) or string(value.get("name")),
            bio=string(value.get("bio")) or string(value.get("description")),
            created_at=record_time(value.get("created_at"), "author created_at"),
            followers=as_int(value.get("followers", value.get("followers_count"))),
            url=string(value.get("url")),
        )
    handle = _cell({key: value}, key)
    if not handle:
        return None
    account = Account(platform=platform, handle=handle.lstrip("@"))
    if record is not None:
        account.bio = string(_first(record, profile["bio"]))
        if key != "name":
            account.display_name = string(_first(record, profile["display_name"]))
        account.followers = as_int(_first(record, profile["followers"]))
    return account


def _scan_native_id(record: dict[str, Any], platform: str) -> str | None:
    """The native id of a scan record: its id without the platform it carries (`mastodon:1120…`). A
    scan-shaped record from another tool may give the native id alone."""
    rid = _cell(record, "id")
    prefix = platform + ":"
    if rid and rid.lower().startswith(prefix) and len(rid) > len(prefix):
        return rid[len(prefix):]
    return rid


def _kind(record: dict[str, Any], scanned: bool, reply: str | None) -> ItemKind:
    """A scan record's own `item_kind`; otherwise (and for a scan-shaped record without one) reply or post."""
    given = record.get("item_kind") if scanned else None
    if isinstance(given, str) and given in ItemKind._value2member_map_:
        return ItemKind(given)
    return ItemKind.REPLY if reply else ItemKind.POST


def _scan_author(record: dict[str, Any], platform: str) -> Account | None:
    """The account of a scan record: its profile under `account`, else the handle in its key."""
    key = record.get("author") if isinstance(record.get("author"), str) else None
    rest = key.split(":", 1)[1] if key and ":" in key else key
    profile = record.get("account")
    if not isinstance(profile, dict):
        return Account(platform=platform, handle=rest) if rest else None
    account = _author(profile, "account", platform)
    if not account.handle and not account.native_id:
        if not rest:
            return None
        account.handle = rest.lstrip("@")
    return account


def _created_at(record: dict[str, Any], key: str, options: SourceOptions | None):
    """A bad time in the column the user named (or `created_at`) rejects the record; one found only
    through an alias ("date", "time" …) may mean something else, so it is dropped instead."""
    explicit = key == "created_at" or (options is not None and "created_at" in options.field_map)
    if explicit:
        return record_time(record.get(key))
    try:
        return record_time(record.get(key))
    except RecordError:
        return None


def generic_item(record: Any, line: int, ctx: FileContext) -> Item:
    if not isinstance(record, dict):
        raise RecordError("record is not a JSON object")
    fields, profile = _layout(record, ctx)
    id_key, text_key, author_key, platform_key, time_key, url_key, reply_key = fields
    text = record.get(text_key)
    media = generic_media(record, ctx)
    if (not isinstance(text, str) or not text.strip()) and not (media and text in (None, "")):
        # a picture-only post (no text, but a media list or image column) is kept with text ""
        raise RecordError(
            "record has no text" if text_key == "text" else f"record has no text (column {text_key!r})"
        )
    text = text or ""
    platform = (_cell(record, platform_key) or ctx.options.default_platform).lower()
    # our own output, unless --field moved its id or platform: the id already carries the platform, the
    # author is an account key
    scanned = id_key == "id" and platform_key == "platform" and is_scan_record(record)
    if scanned:
        author = _scan_author(record, platform)
        native = _scan_native_id(record, platform)
    else:
        author = _author(record.get(author_key), author_key, platform, record, profile)
        native = _cell(record, id_key)
    native = native or stable_id(author.handle if author else None, text)
    reply = _cell(record, reply_key)
    if reply and not reply.startswith(platform + ":"):
        reply = f"{platform}:{reply}"
    return Item(
        platform=platform,
        native_id=native,
        text=text,
        kind=_kind(record, scanned, reply),
        author=author,
        created_at=_created_at(record, time_key, ctx.options),
        reply_to=reply,
        url=_cell(record, url_key),
        media=media,
        raw=record if ctx.options.keep_raw else None,
        source=SourceRef(ctx.path, line),
        lang=_language(record),
    )


def _language(record: dict[str, Any]) -> str | None:
    """A language code the export gives ("lang", "language": "pl", "pt-BR"); anything else is no language."""
    value = record.get("lang", record.get("language"))
    return value.strip() if isinstance(value, str) and 2 <= len(value.strip()) <= 16 else None


class GenericFormat:
    """Flat records with a text field under a common name or mapped with --field: generic JSONL, and
    CSV rows (csv_rows reads the rows, this makes them items)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def sniff(self, record: dict[str, Any], options: SourceOptions | None = None) -> bool:
        return isinstance(record, dict) and has_text_field(record, options)

    def to_items(self, record: Any, line: int, ctx: FileContext) -> list[Item]:
        return [generic_item(record, line, ctx)]


FORMAT = GenericFormat("jsonl")
