"""Bluesky Jetstream events, one JSON object per line.

Only `commit` events that create an `app.bsky.feed.post` are posts. Deletes, updates, likes,
follows and the `identity` / `account` events are not content: they give no item and no reject
(`identity` events do teach us the handle of a DID for the posts that follow).

native_id is the post's full at-uri (`at://did:plc:.../app.bsky.feed.post/<rkey>`), because replies
name their parent and root by at-uri: `reply_to` / `thread_id` are then `bluesky:` + that uri as given.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from plugwatch.model import Account, Item, ItemKind, MediaRef, SourceRef
from plugwatch.sources.common import FileContext, RecordError, SourceOptions, parse_epoch, record_time, string
from plugwatch.sources.media import bluesky_blob_path

POST = "app.bsky.feed.post"
_HANDLE_MEMORY = 100_000  # DIDs whose handle we remember per file, so memory stays bounded


def post_url(at_uri: str) -> str | None:
    """https://bsky.app link for an at://did/app.bsky.feed.post/rkey uri."""
    did, _, rest = at_uri.removeprefix("at://").partition("/")
    collection, _, rkey = rest.partition("/")
    return f"https://bsky.app/profile/{did}/post/{rkey}" if collection == POST and rkey else None


def _facets(text: str, facets: Any) -> tuple[list[str], list[str]]:
    """Links and mentions from rich-text facets. Their offsets count UTF-8 bytes, not characters."""
    links: list[str] = []
    mentions: list[str] = []
    encoded: bytes | None = None
    for facet in facets if isinstance(facets, list) else ():
        if not isinstance(facet, dict):
            continue
        index = facet.get("index") or {}
        for feature in facet.get("features") or ():
            kind = feature.get("$type", "") if isinstance(feature, dict) else ""
            if kind.endswith("#link") and string(feature.get("uri")):
                links.append(feature["uri"])
            elif kind.endswith("#mention"):
                if encoded is None:
                    encoded = text.encode("utf-8")
                start, end = index.get("byteStart"), index.get("byteEnd")
                shown = ""
                if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(encoded):
                    shown = encoded[start:end].decode("utf-8", "replace")
                handle = shown[1:] if shown.startswith("@") else string(feature.get("did"))
                if handle:
                    mentions.append(handle)
    return links, mentions


def _blob_media(did: str, blob: Any, kind: str, alt: str | None = None, ctx: FileContext | None = None) -> MediaRef:
    cid = (blob.get("ref") or {}).get("$link") if isinstance(blob, dict) else None
    url = (
        f"https://cdn.bsky.app/img/feed_fullsize/plain/{did}/{cid}@jpeg" if cid and kind == "photo" else None
    )
    # a blob saved under --media-dir by its CID is read from there; the CDN is never fetched
    path = bluesky_blob_path(cid if isinstance(cid, str) else None, ctx) if ctx is not None else None
    return MediaRef(url=url, kind=kind, name=cid, alt=alt, path=path)


def _embed(did: str, embed: Any, links: list[str], media: list[MediaRef], ctx: FileContext | None = None) -> None:
    if not isinstance(embed, dict):
        return
    kind = embed.get("$type", "")
    if kind == "app.bsky.embed.images":
        for image in embed.get("images") or ():
            if isinstance(image, dict):
                media.append(_blob_media(did, image.get("image"), "photo", string(image.get("alt")), ctx))
    elif kind == "app.bsky.embed.video":
        media.append(_blob_media(did, embed.get("video"), "video"))
    elif kind == "app.bsky.embed.external":
        uri = string((embed.get("external") or {}).get("uri"))
        if uri and uri not in links:
            links.append(uri)
    elif kind == "app.bsky.embed.record":
        quoted = post_url(string((embed.get("record") or {}).get("uri")) or "")
        if quoted:  # a quote post: link to the quoted post
            links.append(quoted)
    elif kind == "app.bsky.embed.recordWithMedia":
        _embed(
            did,
            {"$type": "app.bsky.embed.record", "record": (embed.get("record") or {}).get("record")},
            links,
            media,
        )
        _embed(did, embed.get("media"), links, media, ctx)


def _relay_time(time_us: Any) -> datetime | None:
    try:
        return parse_epoch(float(time_us))
    except (TypeError, ValueError, OverflowError, OSError):
        return None


class BlueskyFormat:
    name = "bluesky"

    def sniff(self, record: dict[str, Any], options: SourceOptions | None = None) -> bool:
        return "did" in record and "time_us" in record and "kind" in record

    def to_items(self, record: Any, line: int, ctx: FileContext) -> list[Item]:
        if not isinstance(record, dict) or not self.sniff(record):
            raise RecordError("not a Bluesky Jetstream event")
        did = string(record["did"])
        if not did:
            raise RecordError("Bluesky event without a DID")
        handles: dict[str, str] = ctx.state.setdefault("bluesky_handles", {})
        if record["kind"] == "identity":
            handle = string((record.get("identity") or {}).get("handle"))
            if handle:
                if len(handles) >= _HANDLE_MEMORY:
                    handles.clear()
                handles[did] = handle
            return []
        commit = record.get("commit")
        if record["kind"] != "commit" or not isinstance(commit, dict):
            return []
        if commit.get("operation") != "create" or commit.get("collection") != POST:
            return []
        post = commit.get("record")
        if not isinstance(post, dict) or not string(commit.get("rkey")):
            raise RecordError("Bluesky post commit without a record or rkey")
        text = string(post.get("text")) or ""
        links, mentions = _facets(text, post.get("facets"))
        media: list[MediaRef] = []
        _embed(did, post.get("embed"), links, media, ctx)
        # Image-only posts and bare link cards are normal on Bluesky: kept with their (empty) text.
        if not text.strip() and not media and not links:
            raise RecordError("record has no text")
        uri = f"at://{did}/{POST}/{commit['rkey']}"
        reply = post.get("reply") if isinstance(post.get("reply"), dict) else {}
        parent = string((reply.get("parent") or {}).get("uri"))
        root = string((reply.get("root") or {}).get("uri"))
        try:
            created = record_time(post.get("createdAt"))
        except RecordError:
            created = None  # clients write odd createdAt values; the relay's own time is a fair stand-in
        langs = post.get("langs")
        return [
            Item(
                platform="bluesky",
                native_id=uri,
                text=text,
                kind=ItemKind.REPLY if parent else ItemKind.POST,
                author=Account(
                    platform="bluesky",
                    handle=handles.get(did),
                    native_id=did,
                    url=f"https://bsky.app/profile/{did}",
                ),
                created_at=created or _relay_time(record.get("time_us")),
                reply_to=f"bluesky:{parent}" if parent else None,
                thread_id=f"bluesky:{root}" if root else None,
                url=post_url(uri),
                links=links,
                mentions=mentions,
                media=media,
                lang=string(langs[0]) if isinstance(langs, list) and langs else None,
                raw=record if ctx.options.keep_raw else None,
                source=SourceRef(ctx.path, line),
            )
        ]


FORMAT = BlueskyFormat()
