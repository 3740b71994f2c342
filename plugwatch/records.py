"""The JSON shape of a scanned item: what `scan` writes and later stages read."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from plugwatch.model import Identifier, Item, Verdict

# Work per item is bounded, so one enormous record cannot stall a scan or flood its output (README,
# "Large records"). Every platform caps a post well below MAX_TEXT (Reddit at 40,000 characters).
MAX_TEXT = 100_000  # characters of a text that identifiers and signals are taken from
MAX_IDENTIFIERS = 100  # identifiers kept per item
MAX_REASONS = 100  # reasons kept per verdict
_CUT_SLACK = 1_000  # a cut text ends at the last space within this many characters of MAX_TEXT

T = TypeVar("T")

# What tells a record `scan` wrote from any other: all of these keys (`identifiers` and `score` are what
# no export has; a Reddit dump has `score` alone). Every reader of scan output asks only this, so a file one
# of them takes as scan output no other reads as posts: the generic reader (`scan`, `ingest`), the Parquet
# schema check and `networks`. Values are not looked at: scan-shaped files that other tools (or tests)
# write often leave out `item_kind` and `reasons`.
SCAN_MARKS = frozenset({"id", "author", "identifiers", "score"})


def is_scan_record(value: Any) -> bool:
    """Whether `value` is a record `scan` wrote (a dict with all of SCAN_MARKS)."""
    return isinstance(value, dict) and value.keys() >= SCAN_MARKS


def has_scan_columns(names: Iterable[str]) -> bool:
    """Whether a table with these columns (a Parquet schema) holds scan records."""
    return SCAN_MARKS.issubset(names)


def scored_text(text: str) -> str:
    """The part of a text that is analysed: all of it up to MAX_TEXT characters, else the first
    MAX_TEXT, cut at a space when one is near so that no word is split."""
    if len(text) <= MAX_TEXT:
        return text
    cut = max(text.rfind(" ", MAX_TEXT - _CUT_SLACK, MAX_TEXT + 1), text.rfind("\n", MAX_TEXT - _CUT_SLACK, MAX_TEXT + 1))
    return text[: cut if cut > 0 else MAX_TEXT]


def bounded(found: list[T], limit: int, key: Callable[[T], Hashable]) -> list[T]:
    """At most `limit` of `found`, in their order: the first of each distinct key before any repeat,
    so a text repeating one contact a thousand times does not crowd out the others."""
    if len(found) <= limit:
        return found
    seen: set[Hashable] = set()
    firsts, repeats = [], []
    for index, x in enumerate(found):
        k = key(x)
        (repeats if k in seen else firsts).append(index)
        seen.add(k)
    keep = sorted(firsts[:limit] + repeats[: max(0, limit - len(firsts))])
    return [found[i] for i in keep]


def _iso(dt) -> str | None:
    return dt.isoformat() if dt is not None else None


def scan_record(item: Item, identifiers: list[Identifier], verdict: Verdict | None) -> dict[str, Any]:
    author = item.author
    rec: dict[str, Any] = {
        "id": item.id,
        "platform": item.platform,
        "item_kind": item.kind.value,
        "author": author.key if author else None,
        "created_at": _iso(item.created_at),
        "text": item.text,
        "url": item.url,
        "reply_to": item.reply_to,
        "identifiers": [i.to_dict() for i in bounded(identifiers, MAX_IDENTIFIERS, _identity)],
        "score": None,
        "flagged": None,
        "kind": None,
        "drugs": [],
        "reasons": [],
    }
    if author is not None:
        rec["account"] = {
            "handle": author.handle,
            "native_id": author.native_id,
            "display_name": author.display_name,
            "bio": author.bio,
            "created_at": _iso(author.created_at),
            "followers": author.followers,
        }
    if item.links:
        rec["links"] = item.links
    if item.media:
        # References only: plugwatch never fetches media; reviewers' pages and evidence use them.
        rec["media"] = [media_record(m) for m in item.media]
    if item.source is not None:
        rec["source"] = {"path": item.source.path, "line": item.source.line}
    truncated = _truncation(item.text, identifiers, verdict)
    if truncated:
        rec["truncated"] = truncated
    if verdict is not None:
        rec["score"] = round(verdict.score, 4)
        rec["flagged"] = verdict.flagged
        rec["kind"] = verdict.kind.value if verdict.kind else None
        rec["drugs"] = verdict.drugs
        rec["reasons"] = [r.to_dict() for r in verdict.reasons]
        if verdict.model_only:
            rec["model_only"] = True
    return rec


_MEDIA_FIELDS = ("url", "kind", "name", "sha256", "path", "alt", "pdq", "quality", "pdq_variants", "ocr", "warning")


def media_record(m) -> dict[str, Any]:
    return {k: v for k in _MEDIA_FIELDS if (v := getattr(m, k)) is not None and v != ""}


def _identity(identifier: Identifier) -> tuple[str, str]:
    return identifier.type, identifier.canonical


def _truncation(text: str, identifiers: list[Identifier], verdict: Verdict | None) -> dict[str, int] | None:
    """What the per-item bounds left out of this record, None when nothing (the usual case)."""
    if len(text) <= MAX_TEXT and len(identifiers) <= MAX_IDENTIFIERS and (verdict is None or not verdict.truncated):
        return None
    out: dict[str, int] = {}
    if len(text) > MAX_TEXT:
        out.update(text_length=len(text), text_scored=len(scored_text(text)))
    if len(identifiers) > MAX_IDENTIFIERS:
        out.update(identifiers_found=len(identifiers), identifiers_kept=MAX_IDENTIFIERS)
    if verdict is not None and verdict.truncated:
        out.update(verdict.truncated)
    return out


def utc_time(value: Any) -> datetime | None:
    """The time a scan record carries (ISO 8601 text, or a datetime) in UTC; naive times are UTC.
    None when absent or unreadable: stored records are already checked, this only reads them back."""
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
