"""The scan job: sources -> identifiers -> detector -> JSON lines, streaming.

Items are handled in small batches so the detector can run its expensive model
once per batch on only the items its cheap signals left in doubt, while output
order stays input order and memory stays flat.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from plugwatch.model import Identifier, Item, Verdict
from plugwatch.records import MAX_IDENTIFIERS, scan_record, scored_text
from plugwatch.sources import Reject
from plugwatch.text.identifiers import extract_identifiers

BATCH = 256
TELEGRAM_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}")


class BatchDetector(Protocol):
    def verdicts(self, batch: list[tuple[Item, list[Identifier]]]) -> list[Verdict]: ...


@dataclass
class ScanStats:
    read: int = 0
    rejected: int = 0
    flagged: int = 0
    requests: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)


def reject_record(rej: Reject) -> dict[str, Any]:
    return {"path": rej.path, "line": rej.line, "reason": rej.reason, "raw": rej.raw}


def _batches(stream: Iterable[Item | Reject]) -> Iterator[list[Item | Reject]]:
    batch: list[Item | Reject] = []
    for x in stream:
        batch.append(x)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def identifiers_for(item: Item, default_region: str | None) -> list[Identifier]:
    """The item's identifiers, from at most records.MAX_TEXT characters of its text (scan_record
    keeps MAX_IDENTIFIERS of them)."""
    text = scored_text(item.text)
    found = extract_identifiers(text, links=item.links[:MAX_IDENTIFIERS], default_region=default_region)
    if item.platform == "telegram" and item.mentions:
        # On Telegram an @mention is itself a Telegram username: a contact, wherever it stands.
        known = {i.canonical for i in found}
        for name in item.mentions[:MAX_IDENTIFIERS]:
            canonical = f"telegram:{name.lower()}"
            if canonical not in known:
                known.add(canonical)
                at = text.find("@" + name)
                end = at + len(name) + 1 if at >= 0 else -1
                valid = TELEGRAM_USERNAME.fullmatch(name) is not None
                found.append(Identifier("telegram", "@" + name, canonical, valid, at, end,
                                        None if at >= 0 else "mention"))
    return found


def run_scan(
    stream: Iterable[Item | Reject],
    out: IO[str],
    on_reject: Callable[[Reject], None],
    detector: BatchDetector | None = None,
    default_region: str | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ScanStats:
    stats = ScanStats()
    dumps = json.dumps
    for batch in _batches(stream):
        pairs: list[tuple[Item, list[Identifier]]] = []
        for x in batch:
            if isinstance(x, Reject):
                continue
            pairs.append((x, identifiers_for(x, default_region)))
        verdicts = detector.verdicts(pairs) if (detector and pairs) else [None] * len(pairs)
        results = iter(zip(pairs, verdicts, strict=True))
        # Walk the batch again so rejects are reported where they stood in the input.
        for x in batch:
            if isinstance(x, Reject):
                stats.rejected += 1
                key = x.reason.split(":", 1)[0]
                stats.reject_reasons[key] = stats.reject_reasons.get(key, 0) + 1
                on_reject(x)
                continue
            (item, ids), verdict = next(results)
            stats.read += 1
            if verdict is not None and verdict.flagged:
                stats.flagged += 1
            if verdict is not None and verdict.kind is not None and verdict.kind.value == "request":
                stats.requests += 1
            out.write(dumps(scan_record(item, ids, verdict), ensure_ascii=False))
            out.write("\n")
        if on_progress:
            on_progress(len(batch))
    return stats
