"""Parquet: rows read as records, one row group at a time, and the Parquet shape of a scan record.

Large research datasets come as Parquet. Each row becomes a record as a JSONL line would (its columns
are the record's keys), so the same format detection and `--field` column mapping apply: a Parquet file
of Reddit dump rows is read as Reddit, a file with `body` and `user` columns as generic posts. A row's
"line" is its row number (1 for the first row), so rejects point at the row. Memory stays flat: one
batch of rows is decoded at a time (pyarrow; `pip install 'plugwatch[cluster]'`).

Scan output written as Parquet (`scan --cluster ... --out-format parquet`) has one column per field of
the JSON record; the nested ones whose keys vary (identifiers, reasons, media, truncated) are JSON text,
so every partition has the same schema and any engine can read them. `record_from_row` gives back the
JSON record exactly; read as input (`units`, for `ingest`), those columns are decoded the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from plugwatch.records import has_scan_columns
from plugwatch.sources.common import Reject

MAGIC = b"PAR1"
BATCH_ROWS = 2048
MISSING = "Parquet needs the pyarrow package: pip install 'plugwatch[cluster]' (or pip install pyarrow)"


def looks_like_parquet(head: bytes) -> bool:
    """A Parquet file by its magic bytes, whatever its name: a file named .parquet that holds JSON lines
    is read as JSON lines."""
    return head[:4] == MAGIC


def _plain(value: Any) -> Any:
    """A Parquet cell as the JSON value a JSONL record would hold: times as ISO text, decimals as
    numbers, bytes as UTF-8 text."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _converter(schema) -> Iterable[str]:
    """Top-level columns whose values need `_plain` (temporal, decimal and binary types)."""
    import pyarrow.types as t

    for f in schema:
        kind = f.type
        if t.is_temporal(kind) or t.is_decimal(kind) or t.is_binary(kind) or t.is_large_binary(kind):
            yield f.name


def _decoded(cell: Any) -> Any:
    """A JSON-text cell of scan output as its value; text that is not JSON (a scan-shaped file another
    tool wrote, with a plain URL under `media`) stays as it is."""
    if not isinstance(cell, str):
        return cell
    try:
        return json.loads(cell)
    except (ValueError, RecursionError):
        return cell


def units(path: str, row_groups: Iterable[int] | None = None, first_line: int = 1) -> Iterator:
    """(row number, record, None, None) for each row of `path` (only `row_groups` when given), or a
    Reject for a file that is not readable Parquet or breaks part-way."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        yield Reject(path, 0, MISSING)
        return
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        yield Reject(path, 0, f"unreadable Parquet file: {error}")
        return
    groups = list(range(pf.num_row_groups) if row_groups is None else row_groups)
    if not groups:
        return
    special = list(_converter(pf.schema_arrow))
    names = pf.schema_arrow.names
    # scan output keeps its nested fields as JSON text (row_from_record): read back as the JSON line had them
    nested = [name for name in _JSON_COLUMNS if name in names] if has_scan_columns(names) else []
    line = first_line
    try:
        for batch in pf.iter_batches(batch_size=BATCH_ROWS, row_groups=groups):
            for record in batch.to_pylist():
                for name in special:
                    if record.get(name) is not None:
                        record[name] = _plain(record[name])
                for name in nested:
                    record[name] = _decoded(record[name])
                yield line, record, None, None
                line += 1
    except (pa.ArrowException, OSError) as error:
        yield Reject(path, line, f"corrupt Parquet data from this row on: {error}")
    finally:
        pf.close()


def row_groups(path: str) -> list[int]:
    """Rows per row group of a Parquet file (from its footer: nothing else is read)."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as pf:
        meta = pf.metadata
        return [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]


# --- scan records as Parquet -----------------------------------------------------------------------

_JSON_COLUMNS = ("identifiers", "reasons", "media", "truncated")
# Keys a scan record has only sometimes: a null cell means the key was absent.
_OPTIONAL = frozenset({"account", "links", "media", "source", "truncated", "model_only"})


def scan_schema():
    import pyarrow as pa

    text = pa.string()
    account = pa.struct([("handle", text), ("native_id", text), ("display_name", text), ("bio", text),
                         ("created_at", text), ("followers", pa.int64())])
    return pa.schema([
        ("id", text), ("platform", text), ("item_kind", text), ("author", text), ("created_at", text),
        ("text", text), ("url", text), ("reply_to", text), ("identifiers", text), ("score", pa.float64()),
        ("flagged", pa.bool_()), ("kind", text), ("drugs", pa.list_(text)), ("reasons", text),
        ("account", account), ("links", pa.list_(text)), ("media", text),
        ("source", pa.struct([("path", text), ("line", pa.int64())])), ("truncated", text),
        ("model_only", pa.bool_()),
    ])


SCAN_COLUMNS = ("id", "platform", "item_kind", "author", "created_at", "text", "url", "reply_to", "identifiers",
                "score", "flagged", "kind", "drugs", "reasons", "account", "links", "media", "source", "truncated",
                "model_only")


def row_from_record(rec: dict[str, Any]) -> dict[str, Any]:
    row = {name: rec.get(name) for name in SCAN_COLUMNS}
    for name in _JSON_COLUMNS:
        if name in rec:
            row[name] = json.dumps(rec[name], ensure_ascii=False)
    return row


def record_from_row(row: dict[str, Any]) -> dict[str, Any]:
    rec = {}
    for name in SCAN_COLUMNS:
        value = row.get(name)
        if value is None and name in _OPTIONAL:
            continue
        if name in _JSON_COLUMNS and isinstance(value, str):
            value = json.loads(value)
        rec[name] = value
    return rec


def column_names(path: str) -> list[str] | None:
    """The top-level columns of a Parquet file, read from its footer (None when it cannot be read)."""
    try:
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    except Exception:  # noqa: BLE001 - an unreadable file: the reader reports it where it reads it
        return None


def is_scan_output(path: str) -> bool:
    """Whether a Parquet file holds scan records (written by `scan --out-format parquet`): by its columns,
    as a JSON record is by its keys. An unreadable file is not; the reader reports it."""
    names = column_names(path)
    return names is not None and has_scan_columns(names)


def scan_records(path: str, groups: list[int] | None = None) -> Iterator[dict[str, Any]]:
    """The scan records of a Parquet scan output (of some row groups only, when given), in order."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as pf:
        if groups is not None and not groups:
            return
        for batch in pf.iter_batches(batch_size=BATCH_ROWS, row_groups=groups):
            for row in batch.to_pylist():
                yield record_from_row(row)


class ScanParquetWriter:
    """Scan records to a Parquet file, a row group per `rows` records."""

    def __init__(self, path, rows: int = 16384):
        import pyarrow.parquet as pq

        self._schema = scan_schema()
        self._writer = pq.ParquetWriter(str(path), self._schema, compression="zstd")
        self._rows: list[dict[str, Any]] = []
        self._limit = rows

    def write(self, rec: dict[str, Any]) -> None:
        self._rows.append(row_from_record(rec))
        if len(self._rows) >= self._limit:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=self._schema))
            self._rows = []

    def close(self) -> None:
        self._flush()
        self._writer.close()
