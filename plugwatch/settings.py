"""Settings read from the environment, in one place: which database, where key files live.

Options on the command line win; then environment variables; then the defaults here.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB = "sqlite:///plugwatch.db"


def database_url(option: str | None = None) -> str:
    """`--db URL`, else PLUGWATCH_DB, else a SQLite file in the working directory."""
    return option or os.environ.get("PLUGWATCH_DB") or DEFAULT_DB


def rules_dir(option: str | None = None) -> str | None:
    """`--rules DIR`, else PLUGWATCH_RULES, else none (the built-in default rules only)."""
    return option or os.environ.get("PLUGWATCH_RULES") or None


def cache_root() -> Path | None:
    """Where files derived from the installed package are kept between runs (the sentence encoder
    unpacked, the vocabulary's index): $PLUGWATCH_CACHE_DIR, else $XDG_CACHE_HOME/plugwatch, else
    ~/.cache/plugwatch; None (no cache) when PLUGWATCH_CACHE_DIR is empty or there is no home folder."""
    env = os.environ.get("PLUGWATCH_CACHE_DIR")
    if env is not None:
        return Path(env) if env else None
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except (RuntimeError, KeyError):  # no home folder (some service accounts): no cache, the plain load
            return None
    return Path(base) / "plugwatch"
