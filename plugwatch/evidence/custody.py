"""Chain-of-custody log: who created, approved and exported a disclosure, and when.

Each entry carries the hash of the one before it and its own hash over its canonical
JSON, so an entry cannot be changed, removed or reordered without breaking the chain.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from plugwatch.evidence.canon import canonical_json, digest_of

ORDER = ("created", "approved", "exported")  # what a package must show, in this order


def entry(prev: dict[str, Any] | None, action: str, actor: str, role: str | None, at: datetime | str,
          request: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {
        "seq": (prev["seq"] + 1) if prev else 1,
        "at": at if isinstance(at, str) else at.isoformat(),
        "actor": actor,
        "role": role,
        "action": action,
        "request": request,
        "details": details or {},
        "prev": prev["hash"] if prev else None,
    }
    return {**body, "hash": digest_of(body)}


def to_jsonl(entries: list[dict[str, Any]]) -> bytes:
    return b"".join(canonical_json(e) + b"\n" for e in entries)


def verify(data: bytes, where: str = "custody.jsonl") -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """(entries, problems): problems name the line and what is wrong with it."""
    problems: list[tuple[str, str]] = []
    entries: list[dict[str, Any]] = []
    prev: dict[str, Any] | None = None
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for n, line in enumerate(lines, 1):
        at = f"{where} line {n}"
        try:
            e = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            problems.append((at, f"not valid JSON ({exc.__class__.__name__})"))
            prev = None
            continue
        if not isinstance(e, dict) or "hash" not in e:
            problems.append((at, "not a custody entry"))
            continue
        label = f"{at} ({e.get('action', '?')})"
        body = {k: v for k, v in e.items() if k != "hash"}
        if canonical_json(e) != line:
            problems.append((label, "bytes are not the canonical form of the entry"))
        if digest_of(body) != e["hash"]:
            problems.append((label, "entry hash does not match its content"))
        if prev is not None and e.get("prev") != prev.get("hash"):
            problems.append((label, "does not link to the entry before it"))
        if prev is None and n == 1 and e.get("prev") is not None:
            problems.append((label, "first entry links to an entry that is not here"))
        if e.get("seq") != n:
            problems.append((label, f"sequence number {e.get('seq')} where {n} was expected"))
        entries.append(e)
        prev = e
    if not entries and not problems:
        problems.append((where, "empty"))
    return entries, problems
