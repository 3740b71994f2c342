"""A Mastodon account archive (Settings → Import and export → Request your archive): its `outbox.json`.

The outbox is an ActivityStreams `OrderedCollection`; jsondoc streams its `orderedItems` one activity at
a time, so a multi-hundred-MB archive is never loaded whole (Mastodon writes it as one long line).
Each `Create` of a `Note` (or of a `Question`, a poll) becomes a "mastodon" item with the status id the
REST API gives for the same post on its own instance (the last segment of the Note's id), so a post
read from the archive and from the API is one item. An `Announce` (a boost) holds only the boosted
post's address: it is rejected, saying so.

The author is the archive's `actor.json` when it sits beside the outbox (handle, name, bio and profile
fields), read once per file; otherwise it is derived from the Note's `attributedTo` address.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from plugwatch.model import Account, Item, ItemKind, MediaRef, SourceRef
from plugwatch.sources.common import FileContext, RecordError, SourceOptions, reach_of, record_time, string
from plugwatch.sources.inputs import ARCHIVE_ACTOR
from plugwatch.sources.mastodon import account_bio, global_handle, html_links, media_attachment, post_text

_PUBLIC = frozenset({"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"})
_POSTS = ("Note", "Question")  # a Mastodon status is a Note, or a Question when it has a poll
_ACTIVITIES = ("Create", "Announce")
_STATUS_PATH = re.compile(r"/users/[^/]+/statuses/([^/]+)/?")  # Mastodon's status URI
_ACTOR_PATH = re.compile(r"/(?:users/|@)([^/@]+)/?")  # Mastodon's actor URI (or its profile page)
_ACTOR_LIMIT = 5 << 20  # bytes: an actor.json is a few KB; a bigger file beside the outbox is not one
BOOST = "a boost: the archive holds only the boosted post's address"


def _status_id(uri: str) -> str | None:
    """The last path segment of a Note's id: Mastodon's status id on the instance that posted it."""
    segment = urlsplit(uri).path.rstrip("/").rsplit("/", 1)[-1]
    return segment or None


def _reply_to(parent: str | None, note_id: str) -> str | None:
    """The parent's item id when it is a status on the Note's own instance: only there is the status id
    in its address the one that instance's API (and so this reader) gives it."""
    if not parent:
        return None
    where, home = urlsplit(parent), urlsplit(note_id)
    found = _STATUS_PATH.fullmatch(where.path)
    if found and where.hostname and where.hostname == home.hostname:
        return f"mastodon:{found.group(1)}"
    return None


def _href(value: Any) -> str | None:
    """A link given as a string, or as an object (`Link`, `Person`) with an href or id."""
    if isinstance(value, dict):
        return string(value.get("href")) or string(value.get("id"))
    if isinstance(value, list):
        return next((found for found in map(_href, value) if found), None)
    return string(value)


def _audience(note: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for key in ("to", "cc"):
        value = note.get(key)
        for entry in value if isinstance(value, list) else (value,):
            href = _href(entry)
            if href:
                out.add(href)
    return out


def _direct(note: dict[str, Any]) -> bool:
    """A direct message (Mastodon's "direct" visibility): addressed neither to the public nor to a
    followers collection, only to the people it mentions. A note that names no audience is taken as
    public; followers-only and unlisted posts stay posts, as the REST reader keeps them."""
    audience = _audience(note)
    if not audience or audience & _PUBLIC:
        return False
    return not any(entry.rstrip("/").endswith("/followers") for entry in audience)


def _media_kind(media_type: str | None) -> str:
    """The REST API's attachment type for a MIME type (Mastodon stores GIFs as silent video)."""
    major = (media_type or "").split("/", 1)[0]
    return major if major in ("image", "video", "audio") else "unknown"


def _media(note: dict[str, Any], ctx: FileContext) -> list[MediaRef]:
    listed = note.get("attachment")
    if isinstance(listed, dict):
        listed = [listed]
    out = []
    for m in listed if isinstance(listed, list) else ():
        if not isinstance(m, dict):
            continue
        # The archive gives each file's path inside the archive (media_attachments/files/...): as with
        # the REST reader, a path that is not a URL is resolved next to the outbox (or under --media-dir).
        as_rest = {"url": _href(m.get("url")), "type": _media_kind(string(m.get("mediaType"))),
                   "description": string(m.get("name"))}
        out.append(media_attachment(as_rest, ctx))
    return out


def _mentions(note: dict[str, Any]) -> list[str]:
    tags = note.get("tag")
    if isinstance(tags, dict):
        tags = [tags]
    out = []
    for tag in tags if isinstance(tags, list) else ():
        if isinstance(tag, dict) and tag.get("type") == "Mention" and string(tag.get("name")):
            handle = global_handle(tag["name"].strip().lstrip("@"), string(tag.get("href")))
            if handle and handle not in out:
                out.append(handle)
    return out


def _language(note: dict[str, Any]) -> str | None:
    content_map = note.get("contentMap")
    if isinstance(content_map, dict) and len(content_map) == 1:
        return string(next(iter(content_map)))
    return None


def _count(value: Any) -> Any:
    return value.get("totalItems") if isinstance(value, dict) else None


def handle_of(actor_uri: str | None, username: str | None = None) -> str | None:
    """`name@host` for an actor address (https://host/users/name), or for a known username there."""
    if not actor_uri:
        return None
    parts = urlsplit(actor_uri)
    if not parts.hostname:
        return None
    if not username:
        found = _ACTOR_PATH.fullmatch(parts.path)
        username = found.group(1) if found else None
    return f"{username}@{parts.hostname}" if username else None


def account_from_actor(actor: dict[str, Any]) -> Account | None:
    """The profile an archive's actor.json describes (an ActivityPub `Person`)."""
    uri = string(actor.get("id"))
    handle = handle_of(uri, string(actor.get("preferredUsername")))
    if handle is None:
        return None
    fields = [
        {"name": f.get("name"), "value": f.get("value")}
        for f in actor.get("attachment") or ()
        if isinstance(f, dict) and f.get("type") == "PropertyValue"
    ]
    try:
        created = record_time(actor.get("published"), "actor published")
    except RecordError:
        created = None  # a bad date in the profile does not cost every post its author
    return Account(
        platform="mastodon",
        handle=handle,
        display_name=string(actor.get("name")),
        bio=account_bio({"note": actor.get("summary"), "fields": fields}),
        created_at=created,
        url=string(actor.get("url")) or uri,
    )


def _archive_actor(ctx: FileContext) -> tuple[str, Account] | None:
    """(actor id, profile) from the actor.json beside the input file, read once per file."""
    if "actor" in ctx.state:
        return ctx.state["actor"]
    found = None
    path = os.path.join(os.path.dirname(ctx.path), ARCHIVE_ACTOR)
    if os.path.isfile(ctx.path) and os.path.isfile(path) and os.path.getsize(path) <= _ACTOR_LIMIT:
        try:
            with open(path, encoding="utf-8") as handle:
                actor = json.load(handle)
        except (OSError, ValueError, RecursionError):
            actor = None  # an unreadable profile leaves the authors to the notes' own addresses
        if isinstance(actor, dict) and string(actor.get("id")):
            account = account_from_actor(actor)
            if account is not None:
                found = (actor["id"], account)
    ctx.state["actor"] = found
    return found


def _author(author_uri: str | None, ctx: FileContext) -> Account | None:
    archive = _archive_actor(ctx)
    if archive is not None and archive[0] == author_uri:
        return replace(archive[1])  # each item its own copy: later stages may change an item's author
    handle = handle_of(author_uri)
    if handle is None:
        return None
    return Account(platform="mastodon", handle=handle, url=author_uri)


class ActivityPubFormat:
    name = "mastodon-archive"

    def sniff(self, record: dict[str, Any], options: SourceOptions | None = None) -> bool:
        kind = record.get("type")
        if kind in _ACTIVITIES:
            return "object" in record and "actor" in record
        return kind in _POSTS and "attributedTo" in record and "content" in record

    def to_items(self, record: Any, line: int, ctx: FileContext) -> list[Item]:
        if not isinstance(record, dict) or not self.sniff(record):
            raise RecordError("not an ActivityPub Create or Announce activity, nor a Note")
        if record["type"] == "Announce":
            raise RecordError(BOOST)
        note = record["object"] if record["type"] == "Create" else record
        if not isinstance(note, dict):
            raise RecordError("a Create activity whose object is only an address, not the post")
        if note.get("type") not in _POSTS:
            raise RecordError(f"a Create of a {str(note.get('type'))[:40]!r}, not of a Note")
        note_id = string(note.get("id"))
        native = note_id and _status_id(note_id)
        if not note_id or not native:
            raise RecordError("Note without an id")
        content = string(note.get("content")) or ""
        text = post_text(content, string(note.get("summary")))
        links = html_links(content)
        media = _media(note, ctx)
        if not text and not media and not links:
            raise RecordError("record has no text")
        author_uri = _href(note.get("attributedTo")) or _href(record.get("actor"))
        parent = _href(note.get("inReplyTo"))
        kind = ItemKind.REPLY if parent else ItemKind.POST
        if _direct(note):
            kind = ItemKind.DIRECT_MESSAGE
        return [
            Item(
                platform="mastodon",
                native_id=native,
                text=text,
                kind=kind,
                author=_author(author_uri, ctx),
                created_at=record_time(note.get("published") or record.get("published"), "published"),
                reply_to=_reply_to(parent, note_id),
                url=_href(note.get("url")) or note_id,
                links=links,
                mentions=_mentions(note),
                media=media,
                lang=_language(note),
                reach=reach_of(_count(note.get("replies")), _count(note.get("shares")), _count(note.get("likes"))),
                raw=record if ctx.options.keep_raw else None,
                source=SourceRef(ctx.path, line),
            )
        ]


FORMAT = ActivityPubFormat()
