"""Delete rows and everything that points at them, whatever stage added the pointing table.

Foreign keys are read from the SQLAlchemy metadata (every stage's tables are on one Base), so an
item's review task, decisions, strikes, appeals, identifier links and any later stage's rows about
it go with it, children first, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from plugwatch.store.tables import METADATA

CHUNK = 500


def _referrers(table: Table) -> list[tuple[Table, str, str]]:
    """(table, its column, our column) for every foreign key that points at `table`."""
    out = []
    for other in METADATA.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is table:
                out.append((other, fk.parent.name, fk.column.name))
    return out


def _chunks(values: list) -> Iterable[list]:
    for i in range(0, len(values), CHUNK):
        yield values[i:i + CHUNK]


def delete_rows(session: Session, table: Table, column: str, values: Iterable, counts: Counter | None = None,
                _depth: int = 0) -> Counter:
    """Delete rows of `table` whose `column` is in `values`, after the rows that reference them."""
    counts = counts if counts is not None else Counter()
    values = sorted(set(values), key=str)
    if not values or _depth > 10:
        return counts
    for other, their_col, our_col in _referrers(table):
        if other is table:
            continue
        for chunk in _chunks(values):
            keys = (chunk if our_col == column else
                    list(session.scalars(select(table.c[our_col]).where(table.c[column].in_(chunk)))))
            if keys:
                delete_rows(session, other, their_col, keys, counts, _depth + 1)
    for chunk in _chunks(values):
        res = session.execute(delete(table).where(table.c[column].in_(chunk)).execution_options(
            synchronize_session=False))
        counts[table.name] += res.rowcount or 0
    return counts


def unreferenced(session: Session, table: Table, column: str, values: Iterable) -> list:
    """Those of `values` that no row of any table points at any more (e.g. identifiers nobody uses)."""
    left = set(values)
    for other, their_col, our_col in _referrers(table):
        if our_col != column or not left:
            continue
        for chunk in _chunks(sorted(left, key=str)):
            left -= set(session.scalars(select(other.c[their_col]).where(other.c[their_col].in_(chunk))))
    return sorted(left, key=str)
