"""Ingest: bytes in any supported format -> items -> detector -> stored records and review tasks.

The fast path for the HTTP API: the input is parsed by `plugwatch.sources` (format detected from the
content), each batch of up to BATCH items goes through the detector in one call, and each batch is
stored with a handful of multi-row statements in one transaction.

This is the storage boundary: no record the importers hand over may make the database (or the
detector) fail for the others. Before scoring, an item holding text no database can store (a NUL
character, an unpaired surrogate), a key longer than its column or a count outside the column's
integer range is rejected with the field and the reason. Should a batch still fail in the database,
its records are stored one by one and only the ones the database refuses are rejected. An importer
that fails part-way through a file costs the rest of that file, not what was read before it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy.exc import SQLAlchemyError

from plugwatch.model import Item
from plugwatch.pipeline import score
from plugwatch.records import scan_record
from plugwatch.sources import Reject, SourceOptions, read
from plugwatch.store.review import IngestResult, ingest_records, known_ids
from plugwatch.store.schema import Account as AccountRow
from plugwatch.store.schema import Identifier as IdentifierRow
from plugwatch.store.schema import Item as ItemRow

BATCH = 1000
MAX_REJECTS_SHOWN = 100
log = logging.getLogger(__name__)


@dataclass
class IngestReport(IngestResult):
    """What was stored (the store's result, summed over batches), and what was read, flagged and
    rejected on the way there."""

    read: int = 0
    flagged: int = 0
    rejected: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)

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
        # Reddit's net score can be negative; how many people an item reached cannot.
        rec["reach"] = max(item.reach, 0)
    if source_name is not None and "source" in rec:
        # Not the temporary file the upload went through, and no server path at all: nothing may
        # later look for files "beside" an uploaded record on the server.
        rec["source"] = {"upload": source_name, "line": rec["source"]["line"]}
    elif isinstance((rec.get("source") or {}).get("path"), str) and rec["source"]["path"][:1] not in ("", "-", "<"):
        # A file read from disk: kept absolute, so the evidence freeze finds the media beside it from
        # whatever folder the service runs in (a relative path was read against the service's folder).
        rec["source"] = {**rec["source"], "path": os.path.abspath(rec["source"]["path"])}
    return rec


# -- the storage boundary --------------------------------------------------------------------------

def _column_limit(table, column: str) -> int:
    return table.c[column].type.length


_ITEMS, _ACCOUNTS, _IDENTIFIERS = ItemRow.__table__, AccountRow.__table__, IdentifierRow.__table__
INT_RANGE = (-(2**31), 2**31 - 1)  # the `Integer` columns (followers, reach) on PostgreSQL
MAX_NESTING = 64  # the record as received is kept as JSON; a thousand levels deep is not a post


def _text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "holds a NUL character (U+0000), which the database cannot store"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            return f"holds an unpaired surrogate ({value[e.start]!r}): not valid Unicode text"
    return None


def _unstorable_text(item: Item) -> str | None:
    """The first field of `item` (its text, author, links, media, the record as received ...) holding
    text that cannot be stored, with the reason; or a record nested too deep to keep."""
    # A stack, not recursion: a record nested a thousand deep must be refused, not crash the walk.
    # Pushed in reverse so the fields are checked in order (the text first).
    stack: list[tuple[Any, str, int]] = [(getattr(item, f.name), f.name, 0) for f in reversed(fields(item))
                                         if f.name != "source"]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if problem := _text_problem(value):
                return f"{path} {problem}"
        elif value is None or isinstance(value, int | float | datetime):
            continue
        elif depth > MAX_NESTING:
            return f"{path} nests deeper than {MAX_NESTING} levels"
        elif isinstance(value, dict):
            for k, v in reversed(value.items()):
                if isinstance(k, str) and (problem := _text_problem(k)):
                    return f"a key in {path} {problem}"
                stack.append((v, f"{path}.{k}", depth + 1))
        elif isinstance(value, list | tuple):
            stack.extend((value[i], f"{path}[{i}]", depth + 1) for i in reversed(range(len(value))))
        elif is_dataclass(value) and not isinstance(value, type):
            stack.extend((getattr(value, f.name), f"{path}.{f.name}", depth + 1) for f in reversed(fields(value)))
    return None


def oversized(item: Item, identifiers) -> str | None:
    """A key longer than its column, or a count outside the column's integer range."""
    author = item.author
    sized = [("id", item.id, _column_limit(_ITEMS, "id")), ("platform", item.platform, _column_limit(_ITEMS, "platform")),
             ("reply_to", item.reply_to, _column_limit(_ITEMS, "reply_to"))]
    if author is not None:
        sized += [("author", author.key, _column_limit(_ACCOUNTS, "key")),
                  ("author.handle", author.handle, _column_limit(_ACCOUNTS, "handle")),
                  ("author.native_id", author.native_id, _column_limit(_ACCOUNTS, "native_id"))]
    sized += [(f"identifier {i.type}", i.canonical, _column_limit(_IDENTIFIERS, "canonical")) for i in identifiers]
    for name, value, limit in sized:
        if value is not None and len(value) > limit:
            return f"{name} is {len(value)} characters long; at most {limit} can be stored"
    for name, value in (("reach", item.reach), ("author.followers", author.followers if author else None)):
        if value is not None and not INT_RANGE[0] <= value <= INT_RANGE[1]:
            return f"{name} {value} is out of range"
    return None


def _store_batch(store, records: list[dict[str, Any]]) -> tuple[IngestResult, list[tuple[dict[str, Any], str]]]:
    """Store `records` in one transaction; if the database refuses the batch, one by one, so only
    the records it refuses are lost. Returns the result and the refused records with the reason."""
    try:
        return store.transact(lambda s: ingest_records(s, records)), []
    except (SQLAlchemyError, ValueError) as e:
        if len(records) == 1:
            return IngestResult(), [(records[0], _db_reason(e))]
        log.warning("ingest batch refused by the database (%s); storing its records one by one", _db_reason(e))
    total, refused = IngestResult(), []
    for rec in records:
        result, bad = _store_batch(store, [rec])
        total.add(result)
        refused.extend(bad)
    return total, refused


def _db_reason(error: Exception) -> str:
    orig = getattr(error, "orig", None) or error
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return f"the database refused it: {first[:300]}"


# -- the pipeline -----------------------------------------------------------------------------------

def score_and_store(store, detector, stream: Iterable[Item | Reject], source_name: str | None = None,
                    default_region: str | None = None) -> IngestReport:
    report = IngestReport()
    batch: list[tuple[Item, list, Any]] = []

    def reject(path: str | None, line: int | None, reason: str) -> None:
        report.rejected += 1
        if len(report.rejects) < MAX_REJECTS_SHOWN:
            report.rejects.append({"source": source_name or path, "line": line, "reason": reason})

    def already_stored(items: list[Item]) -> set[str]:  # not scored again (ingest_records would skip them anyway)
        with store.session() as s:
            return known_ids(s, (item.id for item in items))

    def flush() -> None:
        if not batch:
            return
        records = [item_record(item, ids, v, source_name) for item, ids, v in batch]
        result, refused = _store_batch(store, records)
        report.add(result)
        for rec, reason in refused:
            source = rec.get("source") or {}
            reject(source.get("path"), source.get("line"), reason)
        batch.clear()

    guarded = _guarded(stream, lambda where, reason: reject(where[0], None, reason), source_name)
    for x in score(guarded, detector, default_region, batch=BATCH, check=_unstorable_text, check_identified=oversized,
                   known=already_stored):
        if isinstance(x, Reject):
            reject(x.path or None, x.line or None, x.reason)
            continue
        report.read += 1
        if x.known:
            report.duplicates += 1
            continue
        report.flagged += bool(x.verdict and x.verdict.flagged)
        batch.append((x.item, x.identifiers, x.verdict))
        if len(batch) >= BATCH:
            flush()
    flush()
    return report


def _guarded(stream: Iterable[Item | Reject], on_crash, source_name: str | None) -> Iterator[Item | Reject]:
    """`stream`, ending with a reject instead of an exception: an importer's bug must not lose what was
    read before it."""
    items = iter(stream)
    last: tuple[str | None, int | None] = (None, None)  # where the reader got to
    while True:
        try:
            out = next(items)
        except StopIteration:
            return
        except Exception as e:  # noqa: BLE001
            log.exception("reading %s failed", source_name)
            after = f" after line {last[1]}" if last[1] else ""
            on_crash(last, f"could not read the rest of the input{after}: {type(e).__name__}: {e}")
            return
        if isinstance(out, Reject):
            last = (out.path, out.line)
        elif out.source is not None:
            last = (out.source.path, out.source.line)
        yield out


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
