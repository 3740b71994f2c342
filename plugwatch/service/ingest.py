"""Ingest: bytes in any supported format -> items -> detector -> stored records and review tasks.

The fast path for the HTTP API: the input is parsed by `plugwatch.sources` (format detected from the
content), each batch of up to BATCH items goes through the detector in one call, and each batch is
stored with a handful of multi-row statements in one transaction.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from plugwatch.model import Item
from plugwatch.records import scan_record
from plugwatch.scan import identifiers_for
from plugwatch.sources import Reject, SourceOptions, read
from plugwatch.store.review import IngestResult, ingest_records, known_ids

BATCH = 1000
MAX_REJECTS_SHOWN = 100


@dataclass
class IngestReport:
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    queued: int = 0
    flagged: int = 0
    rejected: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    def add(self, result: IngestResult) -> None:
        self.stored += result.stored
        self.duplicates += result.duplicates
        self.queued += result.queued
        self.ids.extend(result.ids)

    def as_dict(self, with_ids: bool = False) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in ("read", "stored", "duplicates", "queued", "flagged", "rejected", "rejects")}
        if with_ids:
            d["ids"] = self.ids
        return d


def item_record(item: Item, identifiers, verdict, source_name: str | None = None) -> dict[str, Any]:
    rec = scan_record(item, identifiers, verdict)
    if item.raw is not None:
        rec["raw"] = item.raw
    if item.reach is not None:
        rec["reach"] = item.reach
    if source_name is not None and "source" in rec:
        # Not the temporary file the upload went through, and no server path at all: nothing may
        # later look for files "beside" an uploaded record on the server.
        rec["source"] = {"upload": source_name, "line": rec["source"]["line"]}
    return rec


def score_and_store(store, detector, stream: Iterable[Item | Reject], source_name: str | None = None,
                    default_region: str | None = None) -> IngestReport:
    report = IngestReport()
    batch: list[Item] = []

    def flush() -> None:
        if not batch:
            return
        with store.session() as s:
            known = known_ids(s, (item.id for item in batch))
        if known:  # already stored: not scored again (ingest_records would skip them anyway)
            report.duplicates += sum(1 for item in batch if item.id in known)
            batch[:] = [item for item in batch if item.id not in known]
            if not batch:
                return
        pairs = [(item, identifiers_for(item, default_region)) for item in batch]
        verdicts = detector.verdicts(pairs)
        records = [item_record(item, ids, v, source_name) for (item, ids), v in zip(pairs, verdicts, strict=True)]
        report.flagged += sum(1 for v in verdicts if v.flagged)
        report.add(store.transact(lambda s: ingest_records(s, records)))
        batch.clear()

    for out in stream:
        if isinstance(out, Reject):
            report.rejected += 1
            if len(report.rejects) < MAX_REJECTS_SHOWN:
                where = source_name or out.path
                report.rejects.append({"source": where, "line": out.line, "reason": out.reason})
            continue
        report.read += 1
        batch.append(out)
        if len(batch) >= BATCH:
            flush()
    flush()
    return report


def ingest_bytes(store, detector, data: bytes | BinaryIO, name: str = "upload", format: str | None = None,
                 default_region: str | None = None) -> IngestReport:
    """Parse an uploaded file (bytes or a binary file object; any supported format) through a
    temporary file and ingest it."""
    suffix = os.path.splitext(name)[1][:10]
    fd, path = tempfile.mkstemp(prefix="plugwatch-upload-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, bytes | bytearray):
                fh.write(data)
            else:
                shutil.copyfileobj(data, fh, 2**20)
        options = SourceOptions(format=format, keep_raw=True)
        return score_and_store(store, detector, read([path], options), source_name=name,
                               default_region=default_region)
    finally:
        os.unlink(path)


def ingest_paths(store, detector, paths: list[str], default_region: str | None = None) -> IngestReport:
    return score_and_store(store, detector, read(paths, SourceOptions(keep_raw=True)), default_region=default_region)
