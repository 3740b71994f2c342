"""An X (Twitter) account archive: `data/tweets.js` of the zip X gives an account holder (Settings → Your
account → Download an archive of your data), which a platform's legal team or a researcher receives too.

The file is JavaScript: `window.YTD.tweets.part0 = [{"tweet": {...}}, ...]`. The reader cuts the assignment
off (`ASSIGNMENT`) and reads the array as a JSON document; each element is one tweet, in the archive's own
shape (`id_str`, `full_text`, `created_at` as "Wed Oct 10 20:19:24 +0000 2018", `entities`). The archive's
owner is not in tweets.js but in `account.js` beside it (`window.YTD.account.part0`), read once per folder:
without it the tweets have no author.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from plugwatch.model import Account, Item, ItemKind, SourceRef
from plugwatch.sources.common import FileContext, RecordError, SourceOptions, identifier, string
from plugwatch.sources.x import tweet_url

# `window.YTD.tweets.part0 = ` (also `tweet.js`, `community-tweet.js`, `part1`...): what precedes the array.
ASSIGNMENT = re.compile(rb"^\s*window\.YTD\.(\w+)\.part\d+\s*=\s*")
# The archive's files of posts; the others (account, likes, followers, direct messages...) hold none.
POSTS = frozenset({b"tweets", b"tweet", b"community_tweet", b"deleted_tweets"})
_TIME = "%a %b %d %H:%M:%S %z %Y"


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.strptime(value.strip(), _TIME)
    except ValueError:
        raise RecordError(f"created_at is not an X archive time: {value[:40]!r}") from None


@lru_cache(maxsize=64)
def _owner(folder: str) -> Account | None:
    """The archive's account, from account.js beside tweets.js (None when it is not there or unreadable)."""
    path = Path(folder) / "account.js"
    try:
        data = path.read_bytes()
    except OSError:
        return None
    m = ASSIGNMENT.match(data)
    try:
        records = json.loads(data[m.end():] if m else data)
        account = records[0]["account"]
    except (ValueError, LookupError, TypeError):
        return None
    if not isinstance(account, dict):
        return None
    handle, native = string(account.get("username")), identifier(account.get("accountId"))
    if not handle and not native:
        return None
    return Account(platform="x", handle=handle, native_id=native, display_name=string(account.get("accountDisplayName")),
                   url=f"https://x.com/{handle}" if handle else None)


class XArchiveFormat:
    name = "x-archive"

    def sniff(self, record: dict[str, Any], options: SourceOptions | None = None) -> bool:
        tweet = record.get("tweet")
        return isinstance(tweet, dict) and "id_str" in tweet and ("full_text" in tweet or "text" in tweet)

    def to_items(self, record: Any, line: int, ctx: FileContext) -> list[Item]:
        tweet = record.get("tweet") if isinstance(record, dict) else None
        if not isinstance(tweet, dict):
            raise RecordError("not an X archive tweet: no 'tweet' object")
        native = identifier(tweet.get("id_str")) or identifier(tweet.get("id"))
        if native is None:
            raise RecordError("X archive tweet without an id")
        text = string(tweet.get("full_text")) or string(tweet.get("text")) or ""
        if not text.strip():
            raise RecordError("record has no text")
        entities = tweet.get("entities") if isinstance(tweet.get("entities"), dict) else {}
        links = [u["expanded_url"] for u in entities.get("urls") or () if isinstance(u, dict)
                 and isinstance(u.get("expanded_url"), str) and u["expanded_url"]]
        mentions = [m["screen_name"] for m in entities.get("user_mentions") or () if isinstance(m, dict)
                    and isinstance(m.get("screen_name"), str) and m["screen_name"]]
        parent = identifier(tweet.get("in_reply_to_status_id_str"))
        lang = string(tweet.get("lang"))
        owner = _owner(str(Path(ctx.path).parent))
        return [Item(
            platform="x",
            native_id=native,
            text=text,
            kind=ItemKind.REPLY if parent else ItemKind.POST,
            author=owner,
            created_at=_time(tweet.get("created_at")),
            reply_to=f"x:{parent}" if parent else None,
            url=tweet_url(owner.handle if owner else None, native),
            links=list(dict.fromkeys(links)),
            mentions=list(dict.fromkeys(mentions)),
            lang=lang if lang != "und" else None,  # "und": X could not tell
            raw=tweet if ctx.options.keep_raw else None,
            source=SourceRef(ctx.path, line),
        )]


FORMAT = XArchiveFormat()
