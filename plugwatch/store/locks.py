"""Row and named locks for state transitions, held until the transaction ends.

A transition (approve a request, release a hold, change a partner) reads a row, checks its state and
writes it. Without a lock two transactions on PostgreSQL both read the old state and both write: a
request ends both rejected and approved. `lock_row` reads the row with SELECT ... FOR UPDATE, so the
second transaction waits and then sees what the first one wrote. On SQLite every transaction already
holds the database's write lock from its first statement (BEGIN IMMEDIATE, see plugwatch.store), so
both helpers only read there.

Lock order, to keep PostgreSQL free of deadlocks: the transition's own row first (request, task,
hold, partner), then the legal-holds lock, then the audit head (`audit.append` takes it; every
audited transaction passes through it), then the snapshot chain (a freeze takes the audit head
before the chain, since a decision's freeze runs after the decision's own audit entry).
"""

from __future__ import annotations

import zlib
from typing import Any, TypeVar

from sqlalchemy import select, text
from sqlalchemy.orm import Session

T = TypeVar("T")


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_row(session: Session, model: type[T], *where: Any) -> T | None:
    """The row of `model` matching `where`, freshly read and locked until commit (None if absent)."""
    stmt = select(model).where(*where).execution_options(populate_existing=True)
    if is_postgres(session):
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def lock_name(session: Session, name: str) -> None:
    """A transaction-wide lock on `name` (PostgreSQL advisory lock; re-entrant within a transaction)."""
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(name.encode())})
