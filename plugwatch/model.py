"""The one data model every platform is mapped into.

Plain slotted dataclasses, not pydantic: a scan builds millions of these and
validation already happened in the importer that made them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# The item fields a generic record (JSONL, CSV, Parquet) fills, which `--field OURS=THEIRS` may map.
RECORD_FIELDS = ("id", "text", "author", "platform", "created_at", "url", "reply_to")


class ItemKind(StrEnum):
    POST = "post"
    COMMENT = "comment"
    REPLY = "reply"
    DIRECT_MESSAGE = "direct_message"
    CHANNEL_MESSAGE = "channel_message"
    LISTING = "listing"


class OfferKind(StrEnum):
    OFFER = "offer"
    REQUEST = "request"


@dataclass(slots=True)
class Account:
    """The author of an item as the platform showed it at collection time."""

    platform: str
    handle: str | None = None
    native_id: str | None = None
    display_name: str | None = None
    bio: str | None = None
    created_at: datetime | None = None
    followers: int | None = None
    url: str | None = None

    @property
    def key(self) -> str:
        """`platform:handle` (or the native id when no handle is known)."""
        return f"{self.platform}:{(self.handle or self.native_id or '?').lower()}"


@dataclass(slots=True)
class MediaRef:
    """A picture, video or file attached to an item; the bytes are not fetched."""

    url: str | None = None
    kind: str | None = None  # photo, video, file, sticker, ...
    name: str | None = None
    sha256: str | None = None
    path: str | None = None  # a local file the export included (resolved against the input's folder)
    alt: str | None = None  # the platform's description of the picture
    # filled by the image stage (plugwatch/images) when it reads `path`
    pdq: str | None = None
    quality: int | None = None
    pdq_variants: list[str] | None = None  # hashes of the trimmed and cropped picture (images/pdq.py)
    ocr: dict[str, Any] | None = None  # {"text": ..., "lines": [{"text", "box", "span"}]}
    warning: str | None = None  # why the picture could not be read


@dataclass(slots=True)
class SourceRef:
    """Where a record came from, so a reviewer or a reject file can point at it."""

    path: str
    line: int


@dataclass(slots=True)
class Item:
    platform: str
    native_id: str
    text: str
    kind: ItemKind = ItemKind.POST
    author: Account | None = None
    created_at: datetime | None = None
    reply_to: str | None = None  # item id (`platform:native`) of the parent
    thread_id: str | None = None  # item id of the thread root / chat / subreddit
    url: str | None = None
    links: list[str] = field(default_factory=list)  # links the platform gave as entities
    mentions: list[str] = field(default_factory=list)
    media: list[MediaRef] = field(default_factory=list)
    lang: str | None = None
    reach: int | None = None  # likes + replies + reposts when the platform gives them
    raw: dict[str, Any] | None = None  # the record as received, kept for evidence
    source: SourceRef | None = None

    @property
    def id(self) -> str:
        return f"{self.platform}:{self.native_id}"


@dataclass(slots=True, frozen=True)
class Identifier:
    """A contact, payment or web identifier found in text.

    `value` is the span as written (after de-obfuscation of that span), `canonical`
    the form used to link accounts and hash for sharing, `valid` is True/False when a
    checksum or format could be checked and None when nothing can be checked.
    """

    type: str
    value: str
    canonical: str
    valid: bool | None = None
    start: int = -1  # offsets into the item's original text; -1 when it is not in the text
    end: int = -1
    source: str | None = None  # where one not in the text came from: "link", "mention" (platform-given), "media"
    inferred: str | None = None  # a guess behind the canonical form: "US: the text names Los Angeles"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "type": self.type,
            "value": self.value,
            "canonical": self.canonical,
            "valid": self.valid,
            "span": [self.start, self.end] if self.start >= 0 else None,
        }
        if self.source is not None:
            d["source"] = self.source
        if self.inferred is not None:
            d["inferred"] = self.inferred
        return d


@dataclass(slots=True)
class Reason:
    """One piece of evidence for a verdict, pointing at the text the user sees."""

    signal: str
    meaning: str
    text: str | None = None
    start: int = -1
    end: int = -1
    weight: float = 0.0
    source: str | None = None  # for evidence the platform gave outside the text ("link", "mention")
    # evidence in a picture: which of the item's media, and where in it; the span is then into that
    # picture's OCR text ("ocr") or alt text ("alt"), as `media_text` says
    media: int | None = None
    media_text: str | None = None
    box: list[int] | None = None  # [x0, y0, x1, y1] in the picture's pixels

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"signal": self.signal, "meaning": self.meaning}
        if self.text is not None:
            d["text"] = self.text
            d["span"] = None if self.source is not None and self.start < 0 else [self.start, self.end]
        if self.source is not None:
            d["source"] = self.source
        if self.media is not None:
            d["media"] = self.media
        if self.media_text is not None:
            d["media_text"] = self.media_text
        if self.box is not None:
            d["box"] = self.box
        return d


@dataclass(slots=True)
class Verdict:
    score: float = 0.0
    flagged: bool = False
    kind: OfferKind | None = None
    drugs: list[str] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    model_only: bool = False
    truncated: dict[str, int] | None = None  # reasons found and kept, when records.MAX_REASONS cut them
