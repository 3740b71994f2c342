"""`plugwatch scan examples/` gives exactly the committed output: refactors must not change what users get.

When a change is meant to alter the output (a retrained model, a new field), regenerate the file with
    plugwatch scan examples/ -o tests/fixtures/expected/examples-scan.jsonl
and say in the commit what changed and why.
"""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from plugwatch.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = ROOT / "tests" / "fixtures" / "expected" / "examples-scan.jsonl"


def test_scan_of_the_examples_is_byte_identical_to_the_committed_output(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # records name their source file relative to where scan runs
    out = tmp_path / "scan.jsonl"
    result = CliRunner().invoke(app, ["scan", "examples/", "-o", str(out)])
    assert result.exit_code == 0, result.output
    got, want = out.read_bytes(), EXPECTED.read_bytes()
    if got != want:
        got_lines, want_lines = got.splitlines(), want.splitlines()
        first = next((i for i, (a, b) in enumerate(zip(got_lines, want_lines, strict=False)) if a != b),
                     min(len(got_lines), len(want_lines)))
        raise AssertionError(f"scan output differs from {os.path.relpath(EXPECTED, ROOT)} at line {first + 1}")
