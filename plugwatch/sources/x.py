"""X (Twitter) API v2 responses: {"data": [tweet, ...] | tweet, "includes": {...}, "meta": {...}}.

One record is one response, so one record gives as many items as it has tweets. Tweets listed only
in `includes.tweets` (the quoted / replied-to context) are not yielded: they were not asked for and
reappear across pages. `raw` is the tweet object.
"""

from __future__ import annotations

import json
from typing import Any

from plugwatch.model import Account, Item, ItemKind, MediaRef, SourceRef
from plugwatch.sources.common import (
    FileContext,
    RecordError,
    Reject,
    SourceOptions,
    as_int,
    identifier,
    reach_of,
    record_time,
    string,
)


def tweet_url(handle: str | None, native: str) -> str:
    """A tweet's page; x.com/i/web/status/ID opens it when the author's handle is not known."""
    return f"https://x.com/{handle or 'i/web'}/status/{native}"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _expanded(entity: dict[str, Any]) -> str | None:
    return (
        string(entity.get("unwound_url")) or string(entity.get("expanded_url")) or string(entity.get("url"))
    )


def _account(user: dict[str, Any] | None, author_id: str | None) -> Account | None:
    if user is None:
        return Account(platform="x", native_id=author_id) if author_id else None
    entities = _dict(user.get("entities"))
    bio = string(user.get("description"))
    if bio:  # show the real domains a bio links to, not t.co
        for entity in _list(_dict(entities.get("description")).get("urls")):
            short, long = string(entity.get("url")), string(entity.get("expanded_url"))
            if short and long:
                bio = bio.replace(short, long)
    site = next((_expanded(e) for e in _list(_dict(entities.get("url")).get("urls"))), None)
    handle = string(user.get("username"))
    return Account(
        platform="x",
        handle=handle,
        native_id=identifier(user.get("id")),
        display_name=string(user.get("name")),
        bio=bio,
        created_at=record_time(user.get("created_at"), "user created_at"),
        followers=as_int(_dict(user.get("public_metrics")).get("followers_count")),
        # X calls the profile's website `url`; with none, point at the profile itself.
        url=site or string(user.get("url")) or (f"https://x.com/{handle}" if handle else None),
    )


class XFormat:
    name = "x"

    def sniff(self, record: dict[str, Any], options: SourceOptions | None = None) -> bool:
        data = record.get("data")
        first = data[0] if isinstance(data, list) and data else data
        if isinstance(first, dict):
            return "id" in first and ("text" in first or "author_id" in first)
        meta = record.get("meta")
        return isinstance(meta, dict) and "result_count" in meta

    def to_items(self, record: Any, line: int, ctx: FileContext) -> list[Item | Reject]:
        if not isinstance(record, dict):
            raise RecordError("not an X API v2 response: not a JSON object")
        data = record.get("data")
        if data is None:
            if record.get("errors"):
                error = _dict(_list(record["errors"])[0]) if _list(record["errors"]) else {}
                detail = error.get("detail") or error.get("message") or error.get("title") or "no detail"
                raise RecordError(f"X API error response: {detail}")
            if isinstance(record.get("meta"), dict):
                return []  # an empty page: a valid response that holds no tweets
            raise RecordError("not an X API v2 response: no 'data'")
        tweets = [data] if isinstance(data, dict) else data
        if not isinstance(tweets, list):
            raise RecordError("not an X API v2 response: 'data' is neither a tweet nor a list")
        includes = _dict(record.get("includes"))
        users = {identifier(u.get("id")): u for u in _list(includes.get("users")) if isinstance(u, dict)}
        media = {m.get("media_key"): m for m in _list(includes.get("media")) if isinstance(m, dict)}
        accounts: dict[str | None, Account | None] = {}
        out: list[Item | Reject] = []
        # A page holds up to 100 tweets: one bad tweet is a reject of its own, the others are read.
        for number, tweet in enumerate(tweets, 1):
            if isinstance(data, dict):  # a response of one tweet: its problem is the record's
                out.append(self._tweet_item(tweet, users, accounts, media, line, ctx))
                continue
            try:
                out.append(self._tweet_item(tweet, users, accounts, media, line, ctx))
            except RecordError as error:
                out.append(self._reject(tweet, number, error.reason, line, ctx))
            except (AttributeError, TypeError, ValueError, KeyError, IndexError) as error:
                reason = f"malformed x record: a field has an unexpected type ({error})"
                out.append(self._reject(tweet, number, reason, line, ctx))
        return out

    def _tweet_item(self, tweet: Any, users: dict, accounts: dict, media: dict, line: int, ctx: FileContext) -> Item:
        if not isinstance(tweet, dict) or identifier(tweet.get("id")) is None:
            raise RecordError("not an X API v2 response: a tweet in 'data' has no id")
        author_id = identifier(tweet.get("author_id"))
        if author_id not in accounts:
            accounts[author_id] = _account(users.get(author_id) if author_id else None, author_id)
        return self._item(tweet, accounts[author_id], media, line, ctx)

    @staticmethod
    def _reject(tweet: Any, number: int, reason: str, line: int, ctx: FileContext) -> Reject:
        tweet_id = identifier(tweet.get("id")) if isinstance(tweet, dict) else None
        which = f"tweet {number} of the page" + (f" (id {tweet_id})" if tweet_id else "")
        try:
            raw = json.dumps(tweet, ensure_ascii=False)
        except (TypeError, ValueError):
            raw = None
        return Reject(ctx.path, line, f"{which}: {reason}", raw)

    def _item(
        self,
        tweet: dict[str, Any],
        author: Account | None,
        media_by_key: dict[Any, dict[str, Any]],
        line: int,
        ctx: FileContext,
    ) -> Item:
        note = _dict(tweet.get("note_tweet"))
        text = (
            string(note.get("text")) or string(tweet.get("text")) or ""
        )  # note_tweet holds the full long post
        entity_sets = [_dict(tweet.get("entities")), _dict(note.get("entities"))]
        links: list[str] = []
        mentions: list[str] = []
        for entities in entity_sets:
            for entity in _list(entities.get("urls")):
                # An url entity with a media_key is the tweet's own photo link (pic.x.com), not a link.
                link = None if entity.get("media_key") else _expanded(entity)
                if link and link not in links:
                    links.append(link)
            for mention in _list(entities.get("mentions")):
                name = string(mention.get("username"))
                if name and name not in mentions:
                    mentions.append(name)
        media = []
        for key in _list(_dict(tweet.get("attachments")).get("media_keys")):
            found = media_by_key.get(key, {})
            url = string(found.get("url")) or string(found.get("preview_image_url"))
            media.append(MediaRef(url=url, kind=string(found.get("type")), name=str(key)))
        if not text.strip() and not media:
            raise RecordError("record has no text")
        native = identifier(tweet["id"])
        replied = next(
            (
                identifier(_dict(r).get("id"))
                for r in _list(tweet.get("referenced_tweets"))
                if _dict(r).get("type") == "replied_to"
            ),
            None,
        )
        conversation = identifier(tweet.get("conversation_id"))
        metrics = _dict(tweet.get("public_metrics"))
        handle = author.handle if author else None
        return Item(
            platform="x",
            native_id=native,
            text=text,
            kind=ItemKind.REPLY if replied else ItemKind.POST,
            author=author,
            created_at=record_time(tweet.get("created_at")),
            reply_to=f"x:{replied}" if replied else None,
            thread_id=f"x:{conversation}" if conversation else None,
            url=tweet_url(handle, native),
            links=links,
            mentions=mentions,
            media=media,
            lang=string(tweet.get("lang")),
            reach=reach_of(
                metrics.get("like_count"),
                metrics.get("reply_count"),
                metrics.get("retweet_count"),
                metrics.get("quote_count"),
            ),
            raw=tweet if ctx.options.keep_raw else None,
            source=SourceRef(ctx.path, line),
        )


FORMAT = XFormat()
