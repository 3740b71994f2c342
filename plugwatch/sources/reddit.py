"""Reddit dumps (Pushshift / Arctic Shift NDJSON): comments and submissions, one object per line.

Ids are fullnames (`t1_` comment, `t3_` submission) because `parent_id` and `link_id` use them.
"""

from __future__ import annotations

from typing import Any

from plugwatch.model import Account, Item, ItemKind, MediaRef, SourceRef
from plugwatch.sources.common import (
    FileContext,
    RecordError,
    SourceOptions,
    identifier,
    reach_of,
    record_time,
    string,
    unescape,
)

_GONE = frozenset({"[deleted]", "[removed]", "[deleted by user]"})


def _fullname(prefix: str, native: Any) -> str:
    native = identifier(native)
    if native is None:
        raise RecordError("Reddit record without an id")
    return native if native.startswith(prefix) else prefix + native


def _author(record: dict[str, Any]) -> Account | None:
    name = string(record.get("author"))
    if not name or name in _GONE:
        return None
    return Account(
        platform="reddit",
        handle=name,
        native_id=string(record.get("author_fullname")),
        created_at=record_time(record.get("author_created_utc"), "author_created_utc"),
        url=f"https://www.reddit.com/user/{name}",
    )


class RedditFormat:
    name = "reddit"

    def sniff(self, record: dict[str, Any], options: SourceOptions | None = None) -> bool:
        return "subreddit" in record and "created_utc" in record and ("body" in record or "title" in record)

    def to_items(self, record: Any, line: int, ctx: FileContext) -> list[Item]:
        if not isinstance(record, dict) or "id" not in record or not ("body" in record or "title" in record):
            raise RecordError("not a Reddit comment or submission")
        if "body" in record:
            item = self._comment(record)
        else:
            item = self._submission(record)
        permalink = string(record.get("permalink"))
        if permalink:
            item.url = permalink if permalink.startswith("http") else "https://www.reddit.com" + permalink
        item.author = _author(record)
        item.created_at = record_time(record.get("created_utc"), "created_utc")
        item.raw = record if ctx.options.keep_raw else None
        item.source = SourceRef(ctx.path, line)
        return [item]

    def _comment(self, record: dict[str, Any]) -> Item:
        body = record.get("body")
        if not isinstance(body, str) or not body.strip():
            raise RecordError("record has no text")
        if body.strip() in _GONE:
            raise RecordError("record has no text (deleted)")
        parent = string(record.get("parent_id"))
        link = string(record.get("link_id"))
        return Item(
            platform="reddit",
            native_id=_fullname("t1_", record["id"]),
            text=unescape(body),  # Reddit sends &amp; &lt; &gt; escaped inside the markdown
            kind=ItemKind.COMMENT,
            reply_to=f"reddit:{parent}" if parent else None,
            thread_id=f"reddit:{link}" if link else None,
            reach=reach_of(record.get("score")),
        )

    def _submission(self, record: dict[str, Any]) -> Item:
        title = unescape(string(record.get("title")) or "").strip()
        body = record.get("selftext")
        body = unescape(body).strip() if isinstance(body, str) and body.strip() not in _GONE else ""
        text = f"{title}\n\n{body}" if title and body else title or body
        native = _fullname("t3_", record["id"])
        links, media = [], []
        target = string(record.get("url_overridden_by_dest")) or string(record.get("url"))
        if target and not record.get("is_self"):
            if record.get("post_hint") == "image" or "i.redd.it/" in target:
                media.append(MediaRef(url=target, kind="photo"))
            else:
                links.append(target)
        if not text and not links and not media:
            raise RecordError("record has no text")
        return Item(
            platform="reddit",
            native_id=native,
            text=text,
            kind=ItemKind.POST,
            thread_id=f"reddit:{native}",
            links=links,
            media=media,
            reach=reach_of(record.get("score"), record.get("num_comments")),
        )


FORMAT = RedditFormat()
