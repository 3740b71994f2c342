"""Settings read from the environment, in one place: which database, where key files live.

Options on the command line win; then environment variables; then the defaults here.
"""

from __future__ import annotations

import os

DEFAULT_DB = "sqlite:///plugwatch.db"


def database_url(option: str | None = None) -> str:
    """`--db URL`, else PLUGWATCH_DB, else a SQLite file in the working directory."""
    return option or os.environ.get("PLUGWATCH_DB") or DEFAULT_DB


def rules_dir(option: str | None = None) -> str | None:
    """`--rules DIR`, else PLUGWATCH_RULES, else none (the built-in default rules only)."""
    return option or os.environ.get("PLUGWATCH_RULES") or None
