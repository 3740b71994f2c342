"""The JSON shape of a scanned item: what `scan` writes and later stages read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from plugwatch.model import Identifier, Item, Verdict


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
        "identifiers": [i.to_dict() for i in identifiers],
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
        rec["media"] = [{k: v for k, v in (("url", m.url), ("kind", m.kind), ("name", m.name),
                                           ("sha256", m.sha256)) if v} for m in item.media]
    if item.source is not None:
        rec["source"] = {"path": item.source.path, "line": item.source.line}
    if verdict is not None:
        rec["score"] = round(verdict.score, 4)
        rec["flagged"] = verdict.flagged
        rec["kind"] = verdict.kind.value if verdict.kind else None
        rec["drugs"] = verdict.drugs
        rec["reasons"] = [r.to_dict() for r in verdict.reasons]
        if verdict.model_only:
            rec["model_only"] = True
    return rec


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
