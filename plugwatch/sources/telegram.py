"""Telegram Desktop exports (`result.json`) of one chat or channel, or a full account export.

The reader streams the `messages` array (see jsondoc) and hands over one message at a time with the
chat's head fields (name, type, id) as context. Message ids are per chat, so native ids are
`<chat id>/<message id>`. Service messages (joins, pins, title changes) are not user content: they
give no item and no reject.
"""

from __future__ import annotations

import re
from typing import Any

from plugwatch.model import Account, Identifier, Item, ItemKind, MediaRef, SourceRef
from plugwatch.sources.common import FileContext, RecordError, SourceOptions, identifier, record_time, string
from plugwatch.sources.media import ref as media_ref

_KIND_BY_CHAT = {
    "public_channel": ItemKind.CHANNEL_MESSAGE,
    "private_channel": ItemKind.CHANNEL_MESSAGE,
    "personal_chat": ItemKind.DIRECT_MESSAGE,
    "bot_chat": ItemKind.DIRECT_MESSAGE,  # one-to-one with a bot: a direct conversation too
}
_MESSAGE_TYPES = ("message", "service")


def _flatten(message: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    """(plain text, links, mentions) from `text_entities`, or `text` (a string or a list of plain
    strings and entity objects) in exports that predate text_entities."""
    parts = message.get("text_entities")
    if not isinstance(parts, list):
        parts = message.get("text")
        if isinstance(parts, str):
            return parts, [], []
        if not isinstance(parts, list):
            return "", [], []
    pieces: list[str] = []
    links: list[str] = []
    mentions: list[str] = []
    for part in parts:
        if isinstance(part, str):
            pieces.append(part)
            continue
        if not isinstance(part, dict):
            continue
        shown = string(part.get("text")) or ""
        pieces.append(shown)
        kind = part.get("type")
        if kind == "link":  # the link as written, often without a scheme ("t.me/x")
            links.append(shown if "://" in shown else "https://" + shown)
        elif kind == "text_link" and string(part.get("href")):
            links.append(part["href"])
        elif kind == "mention":
            mentions.append(shown.lstrip("@"))
    return "".join(pieces), links, mentions


def _file(path: Any) -> str | None:
    # Exports made without media say "(File not included. Change data exporting settings to download.)"
    return path if isinstance(path, str) and not path.startswith("(File ") else None


def _media(message: dict[str, Any], ctx: FileContext) -> list[MediaRef]:
    media = []
    if "photo" in message:
        media.append(_local(_file(message["photo"]), "photo", None, ctx))
    if "file" in message:
        kind = string(message.get("media_type")) or "file"
        media.append(_local(_file(message["file"]), kind, string(message.get("file_name")), ctx))
    if isinstance(message.get("location_information"), dict):
        media.append(MediaRef(kind="location"))
    return media


def _local(relative: str | None, kind: str, name: str | None, ctx: FileContext) -> MediaRef:
    """Telegram Desktop writes media paths relative to result.json: kept as given (url), and resolved
    for reading (path) when the file is a picture."""
    m = media_ref(relative, ctx, kind=kind, name=name) if relative and kind in ("photo", "sticker") else None
    if m is None:
        return MediaRef(url=relative, kind=kind, name=name)
    m.url = relative
    return m


def _card_text(message: dict[str, Any]) -> str:
    """The words a poll or a shared contact card shows, for messages that are only that."""
    poll = message.get("poll")
    if isinstance(poll, dict):
        answers = [string(a.get("text")) or "" for a in poll.get("answers") or () if isinstance(a, dict)]
        return "\n".join([string(poll.get("question")) or "", *answers]).strip()
    contact = message.get("contact_information")
    if isinstance(contact, dict):
        fields = ("first_name", "last_name", "phone_number")
        return " ".join(string(contact.get(f)) or "" for f in fields).strip()
    return ""


def _author(message: dict[str, Any], chat: dict[str, Any], chat_id: str) -> Account | None:
    sender = identifier(message.get("from_id"))
    if sender:
        return Account(platform="telegram", native_id=sender, display_name=string(message.get("from")))
    if _KIND_BY_CHAT.get(chat.get("type")) is ItemKind.CHANNEL_MESSAGE:
        # Old channel exports leave the sender out: the channel itself posted.
        return Account(
            platform="telegram", native_id=f"channel{chat_id}", display_name=string(chat.get("name"))
        )
    return None


class TelegramFormat:
    name = "telegram"

    def sniff(self, record: dict[str, Any], options: SourceOptions | None = None) -> bool:
        return record.get("type") in _MESSAGE_TYPES and "date" in record and "id" in record

    def to_items(self, record: Any, line: int, ctx: FileContext) -> list[Item]:
        if (
            not isinstance(record, dict)
            or record.get("type") not in _MESSAGE_TYPES
            or not identifier(record.get("id"))
        ):
            raise RecordError("not a Telegram message")
        if record["type"] == "service":
            return []
        chat = ctx.chat
        if chat is None:
            raise RecordError("Telegram message outside a chat export (no chat to number it in)")
        # Desktop exports give each chat an id; should one lack it, the chat name stands in.
        chat_id = identifier(chat.get("id")) or string(chat.get("name"))
        if chat_id is None:
            raise RecordError("Telegram chat has neither an id nor a name")
        text, links, mentions = _flatten(record)
        media = _media(record, ctx)
        if not text.strip():
            text = _card_text(record)
        # Channels routinely post a photo or file with no caption: that is a post, kept with text "".
        if not text.strip() and not media and not links:
            raise RecordError("record has no text")
        created = record.get("date_unixtime") or record.get("date")  # `date` is the exporter's local time
        reply = identifier(record.get("reply_to_message_id"))
        return [
            Item(
                platform="telegram",
                native_id=f"{chat_id}/{record['id']}",
                text=text,
                kind=_KIND_BY_CHAT.get(chat.get("type"), ItemKind.POST),
                author=_author(record, chat, chat_id),
                created_at=record_time(created, "date"),
                reply_to=f"telegram:{chat_id}/{reply}" if reply is not None else None,
                thread_id=f"telegram:{chat_id}",
                links=links,
                mentions=mentions,
                media=media,
                raw=record if ctx.options.keep_raw else None,
                source=SourceRef(ctx.path, line),
            )
        ]


FORMAT = TelegramFormat()


_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}")


def mention_identifiers(item: Item, text: str, found: list[Identifier], limit: int) -> list[Identifier]:
    """On Telegram an @mention is itself a Telegram username: a contact, wherever it stands in `text`
    (the part of the post that is read). Those already `found` in the text are not repeated."""
    known = {i.canonical for i in found}
    out = []
    for name in item.mentions[:limit]:
        canonical = f"telegram:{name.lower()}"
        if canonical in known:
            continue
        known.add(canonical)
        at = text.find("@" + name)
        end = at + len(name) + 1 if at >= 0 else -1
        out.append(Identifier("telegram", "@" + name, canonical, _USERNAME.fullmatch(name) is not None, at, end,
                              None if at >= 0 else "mention"))
    return out
