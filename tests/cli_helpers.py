"""Running `plugwatch` in-process from tests, and reading what it wrote."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from plugwatch.cli import app


def cli(*args):
    """`plugwatch ARGS...` (paths may be given as Path); a user error must end in an exit code, never a
    traceback."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stderr
    return result


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
