"""The scan job: what the scoring pipeline yields, written as JSON lines, with its counts."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from plugwatch.model import Item
from plugwatch.pipeline import BATCH, BatchDetector, Scored, score
from plugwatch.records import scan_record
from plugwatch.sources import Reject


@dataclass
class ScanStats:
    read: int = 0
    rejected: int = 0
    flagged: int = 0
    requests: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)


def reject_record(rej: Reject) -> dict[str, Any]:
    return {"path": rej.path, "line": rej.line, "reason": rej.reason, "raw": rej.raw}


def run_scan(
    stream: Iterable[Item | Reject],
    out: IO[str] | None,
    on_reject: Callable[[Reject], None],
    detector: BatchDetector | None = None,
    default_region: str | None = None,
    on_progress: Callable[[int], None] | None = None,
    write_record: Callable[[dict[str, Any]], None] | None = None,
) -> ScanStats:
    """Scores `stream` and writes each record as a JSON line to `out`, or hands it to `write_record`
    (another output format) when that is given."""
    with ExitStack() as later:
        return _run_scan(stream, out, on_reject, detector, default_region, on_progress, write_record, later)


@contextmanager
def _few_collections() -> Iterator[None]:
    """The model, vocabularies and automata loaded before the loop are moved out of the collector's sight, and
    it runs after 10,000 new objects instead of 700: a scan makes many short-lived objects and few cycles, and
    the collector had taken 30 µs of each item's 400 on an ordinary stream, with the same peak memory. Only
    once a scan has done its first batch: a process that scans many small inputs (a service, the tests) paid
    more for the switching than it saved."""
    gc.freeze()
    old = gc.get_threshold()
    gc.set_threshold(10_000, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


def _run_scan(stream, out, on_reject, detector, default_region, on_progress, write_record,
              later: ExitStack) -> ScanStats:
    stats = ScanStats()
    dumps = json.dumps
    done = 0
    for x in score(stream, detector, default_region):
        done += 1
        if done == BATCH:
            later.enter_context(_few_collections())
        if on_progress and done % BATCH == 0:
            on_progress(BATCH)
        if isinstance(x, Reject):
            stats.rejected += 1
            key = x.reason.split(":", 1)[0]
            stats.reject_reasons[key] = stats.reject_reasons.get(key, 0) + 1
            on_reject(x)
            continue
        _count(stats, x)
        if write_record is not None:
            write_record(scan_record(x.item, x.identifiers, x.verdict))
            continue
        out.write(dumps(scan_record(x.item, x.identifiers, x.verdict), ensure_ascii=False))
        out.write("\n")
    if on_progress and done % BATCH:
        on_progress(done % BATCH)
    return stats


def _count(stats: ScanStats, x: Scored) -> None:
    stats.read += 1
    if x.verdict is not None and x.verdict.flagged:
        stats.flagged += 1
    if x.verdict is not None and x.verdict.kind is not None and x.verdict.kind.value == "request":
        stats.requests += 1
