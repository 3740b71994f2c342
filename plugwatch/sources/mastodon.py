"""Mastodon statuses as the REST API returns them (a JSON array per page, or one status per line).

Status and account ids are those of the instance that served the API; `reply_to` uses the same
instance-local ids, so threads link up within one instance's export. Handles are made global
(`user@instance`) because the same username exists on many instances.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

from plugwatch.model import Account, Item, ItemKind, MediaRef, SourceRef
from plugwatch.sources.common import (
    FileContext,
    RecordError,
    SourceOptions,
    as_int,
    identifier,
    reach_of,
    record_time,
    string,
)
from plugwatch.sources.media import is_url
from plugwatch.sources.media import ref as media_ref

_PARAGRAPH = re.compile(r"</p>\s*<p(?:\s[^>]*)?>", re.I)
_BREAK = re.compile(r"<br\s*/?>", re.I)
_TAG = re.compile(r"<[^>]*>")
_ANCHOR = re.compile(r"<a\s([^>]*)>", re.I)
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.I)
_CLASS = re.compile(r"""class\s*=\s*["']([^"']*)["']""", re.I)
_MEDIA_KIND = {"image": "photo", "gifv": "video", "video": "video", "audio": "audio", "unknown": "file"}


def html_text(markup: str | None) -> str:
    """Plain text of Mastodon's HTML: paragraphs and <br> become newlines, tags go, entities are
    unescaped. Link text stays (the hidden `invisible` spans hold the rest of a shortened URL)."""
    if not markup:
        return ""
    if "<" in markup:
        markup = _TAG.sub("", _BREAK.sub("\n", _PARAGRAPH.sub("\n\n", markup)))
    return html.unescape(markup).strip()


def post_text(content: str, warning: str | None) -> str:
    """The text a reader sees: the content warning (spoiler_text, or a Note's summary) above the post."""
    text = html_text(content)
    warning = html.unescape(warning or "").strip()
    return (f"{warning}\n\n{text}" if text else warning) if warning else text


def html_links(markup: str | None) -> list[str]:
    """hrefs of the links in the HTML, leaving out @mention and #hashtag links."""
    links: list[str] = []
    for attributes in _ANCHOR.findall(markup or ""):
        css = _CLASS.search(attributes)
        if css and ("mention" in css.group(1) or "hashtag" in css.group(1)):
            continue
        href = _HREF.search(attributes)
        if href:
            link = html.unescape(href.group(1))
            if link not in links:
                links.append(link)
    return links


def global_handle(acct: str | None, profile_url: str | None) -> str | None:
    if not acct or "@" in acct:
        return acct
    host = urlsplit(profile_url or "").hostname
    return f"{acct}@{host}" if host else acct


def account_bio(account: dict[str, Any]) -> str | None:
    # Profile fields ("Telegram: @x", "Site: ...") are shown under the bio, so they count as bio.
    lines = [html_text(string(account.get("note")))]
    for extra in account.get("fields") or ():
        if isinstance(extra, dict) and string(extra.get("name")):
            lines.append(f"{extra['name']}: {html_text(string(extra.get('value')))}")
    return "\n".join(line for line in lines if line) or None


def _account(account: Any) -> Account | None:
    if not isinstance(account, dict):
        return None
    return Account(
        platform="mastodon",
        handle=global_handle(
            string(account.get("acct")) or string(account.get("username")), string(account.get("url"))
        ),
        native_id=identifier(account.get("id")),
        display_name=string(account.get("display_name")),
        bio=account_bio(account),
        created_at=record_time(account.get("created_at"), "account created_at"),
        followers=as_int(account.get("followers_count")),
        url=string(account.get("url")),
    )


def media_attachment(m: dict[str, Any], ctx: FileContext) -> MediaRef:
    """An attachment with its description (the alt text, where menus are often written out); a URL
    that is not http(s) is a file of an account archive, resolved for reading."""
    where = string(m.get("url")) or string(m.get("remote_url"))
    kind = _MEDIA_KIND.get(m.get("type")) or string(m.get("type"))
    alt = string(m.get("description"))
    if where and not is_url(where) and kind == "photo":
        return media_ref(where.lstrip("/"), ctx, kind=kind, alt=alt, url=where)
    return MediaRef(url=where, kind=kind, alt=alt)


def _kind(status: dict[str, Any], parent: str | None) -> ItemKind:
    # A "direct" status is a private conversation (the archive reader tells it by its addressing).
    if status.get("visibility") == "direct":
        return ItemKind.DIRECT_MESSAGE
    return ItemKind.REPLY if parent else ItemKind.POST


class MastodonFormat:
    name = "mastodon"

    def sniff(self, record: dict[str, Any], options: SourceOptions | None = None) -> bool:
        return isinstance(record.get("account"), dict) and "content" in record and "id" in record

    def to_items(self, record: Any, line: int, ctx: FileContext) -> list[Item]:
        if not isinstance(record, dict) or not self.sniff(record):
            raise RecordError("not a Mastodon status")
        boosted = record.get("reblog")
        status = boosted if isinstance(boosted, dict) else record  # a boost carries the boosted post
        content = string(status.get("content")) or ""
        text = post_text(content, string(status.get("spoiler_text")))
        links = html_links(content)
        card = status.get("card")
        if isinstance(card, dict) and string(card.get("url")) and card["url"] not in links:
            links.append(card["url"])
        media = [media_attachment(m, ctx) for m in status.get("media_attachments") or () if isinstance(m, dict)]
        # Picture-only posts are common on Mastodon: keep them (text "") when they carry media or links.
        if not text and not media and not links:
            raise RecordError("record has no text")
        mentions = [
            global_handle(m["acct"], string(m.get("url")))
            for m in status.get("mentions") or ()
            if isinstance(m, dict) and string(m.get("acct"))
        ]
        parent = identifier(status.get("in_reply_to_id"))
        native = identifier(status.get("id"))
        if native is None:
            raise RecordError("Mastodon status without an id")
        return [
            Item(
                platform="mastodon",
                native_id=native,
                text=text,
                kind=_kind(status, parent),
                author=_account(status.get("account")),
                created_at=record_time(status.get("created_at")),
                reply_to=f"mastodon:{parent}" if parent else None,
                url=string(status.get("url")) or string(status.get("uri")),
                links=links,
                mentions=mentions,  # type: ignore[arg-type]
                media=media,
                lang=string(status.get("language")),
                reach=reach_of(
                    status.get("replies_count"), status.get("reblogs_count"), status.get("favourites_count")
                ),
                raw=record if ctx.options.keep_raw else None,
                source=SourceRef(ctx.path, line),
            )
        ]


FORMAT = MastodonFormat()
