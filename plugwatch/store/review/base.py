"""Review errors, timing constants and helpers the review modules share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from plugwatch.actions import names_where

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
AGE_PER_DAY = 2.0
CLAIM_SECONDS = 900
STRIKE_DAYS = 90
SUSPEND_AFTER = 3  # active strikes at which a suspension is suggested to the reviewer
FINAL_ACTIONS = names_where("final")
CHUNK = 500


class ReviewError(Exception):
    """A review action that cannot happen; `status` is the HTTP status an API should answer with."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


def _insert(session: Session, table):
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the two supported back-ends
        raise ReviewError(f"unsupported database {name}", 500)
    return insert(table)


def _chunks(seq: list, n: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None
