"""The layer contracts in pyproject.toml hold, and they would catch a lower layer importing a higher one."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = shutil.which("lint-imports")
pytestmark = pytest.mark.skipif(LINT is None, reason="import-linter is not installed (pip install -e '.[dev]')")


def lint(tree: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([LINT, "--config", str(tree / "pyproject.toml")], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=300)


def copy_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "plugwatch", tree / "plugwatch", ignore=shutil.ignore_patterns("__pycache__", "data"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_package_keeps_its_layers():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and result.stdout.count("KEPT") >= 2


def test_a_store_module_importing_the_commands_breaks_the_contract(tmp_path):
    tree = copy_tree(tmp_path)
    users = tree / "plugwatch" / "store" / "users.py"
    users.write_text(users.read_text() + "\nfrom plugwatch.commands.common import fail  # noqa: E402,F401\n")
    result = lint(tree)
    assert result.returncode != 0
    assert "plugwatch.store is not allowed to import plugwatch.commands" in result.stdout


def test_the_data_path_importing_the_build_tools_breaks_the_contract(tmp_path):
    tree = copy_tree(tmp_path)
    detector = tree / "plugwatch" / "detect" / "detector.py"
    detector.write_text(detector.read_text() + "\nfrom plugwatch.tools import evasion  # noqa: E402,F401\n")
    result = lint(tree)
    assert result.returncode != 0 and "plugwatch.detect.detector is not allowed to import plugwatch.tools" \
        in result.stdout
