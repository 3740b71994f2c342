"""What every command shares: exit codes, the error console and the one-line failure."""

from __future__ import annotations

import os

import typer
from rich.console import Console

EXIT_OK, EXIT_BUG, EXIT_USAGE, EXIT_REJECTS, EXIT_NOTHING = 0, 1, 2, 3, 4

err = Console(stderr=True, highlight=False)

DEFAULT_DB = "sqlite:///plugwatch.db"


class UserError(Exception):
    """A problem the user can fix; shown as one line, never as a traceback."""


def fail(msg: str, code: int = EXIT_USAGE) -> None:
    err.print(f"[bold red]error:[/] {msg}")
    raise typer.Exit(code)


def database_url(option: str | None) -> str:
    """`--db URL`, else PLUGWATCH_DB, else a SQLite file in the working directory."""
    return option or os.environ.get("PLUGWATCH_DB") or DEFAULT_DB
