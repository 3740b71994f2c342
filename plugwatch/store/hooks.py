"""Extension points later stages register on: the evidence stage freezes a snapshot per decision,
the sharing stage matches newly stored items against partners' watch lists.

A hook runs inside the deciding (or ingesting) transaction: if it raises, nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from plugwatch.store.schema import Decision

after_decision: list[Callable[[Session, Decision], None]] = []
after_ingest: list[Callable[[Session, Any], None]] = []  # (session, IngestResult)

# Stages that register hooks when imported; loaded by open_store so that every caller of the store
# (service, CLI, scripts) freezes evidence and matches watch lists, not only those that happen to
# import the stage first. A stage that is not installed is simply absent.
# Each names the function that registers its hooks (idempotent).
HOOK_STAGES = (("plugwatch.evidence", "install"), ("plugwatch.store.sharing_tables", "_register_hooks"))


def load_stage_hooks() -> None:
    import importlib

    for name, register in HOOK_STAGES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        getattr(module, register)()
