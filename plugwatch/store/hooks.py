"""Extension points other stages register on (the evidence stage freezes a snapshot per decision).

A hook runs inside the deciding transaction: if it raises, the decision is not stored.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from plugwatch.store.schema import Decision

after_decision: list[Callable[[Session, Decision], None]] = []
