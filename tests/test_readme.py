"""The README's commands work as written.

1. Every `plugwatch ...` command written in README.md names sub-commands and options that exist: the
   code blocks (fenced and indented) and inline code spans are read, each command is walked through the
   CLI's command tree and every `--option` / `-o` checked against that command's parameters, and its
   `--help` must work.
2. The code blocks are then run, in order, in a fresh folder (see "running the README" below), so a
   command that fails for a reader fails here first. The commands are read from the README, never
   listed here, so later edits are covered too.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from plugwatch.cli import app

README = Path(__file__).resolve().parent.parent / "README.md"
ROOT = README.parent


def _block_lines(text: str) -> list[str]:
    """The lines of fenced and indented code blocks, stripped."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced or line.startswith("    "):
            lines.append(line.strip())
    return lines


def _continued(lines: list[str]) -> list[str]:
    """The lines with each one ending in a backslash joined to the next."""
    joined, buf = [], ""
    for line in lines:
        buf += line[:-1] + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            joined.append(buf)
            buf = ""
    return joined


def _code_lines(text: str) -> list[str]:
    return _continued(_block_lines(text) + re.findall(r"`(plugwatch [^`]+)`", text))


def _commands(text: str) -> list[list[str]]:
    """Each `plugwatch` invocation as its words after `plugwatch`; `a | b` lists in the share section
    (`plugwatch share watchlist | override ID ...`) name siblings of the first command."""
    out: list[list[str]] = []
    for line in _code_lines(text):
        line = re.split(r"\s#", line, maxsplit=1)[0]
        previous: list[str] | None = None
        for segment in re.split(r"\|\s|;|&&|\$\(", line):
            segment = segment.strip().rstrip(")")
            try:
                words = shlex.split(segment.replace("[", " ").replace("]", " "))
            except ValueError:
                continue
            if words[:1] == ["plugwatch"]:
                previous = words[1:]
                out.append(previous)
            elif words and previous and len(previous) > 1:
                out.append([previous[0], *words])
    return out


def _walk(words: list[str]):
    """(the command, the words after its name, its full name)."""
    command = typer.main.get_command(app)  # typer's own click: groups are told apart by `commands`
    path = ["plugwatch"]
    rest = list(words)
    while hasattr(command, "commands") and rest and rest[0] in command.commands:
        path.append(rest[0])
        command = command.commands[rest.pop(0)]
    assert not hasattr(command, "commands") or rest == ["--help"], f"`{' '.join(path + rest)}`: no such command"
    return command, rest, " ".join(path)


COMMANDS = _commands(README.read_text(encoding="utf-8"))


def test_the_readme_has_commands_to_check():
    names = {_walk(words)[2] for words in COMMANDS}
    assert {"plugwatch scan", "plugwatch serve", "plugwatch evidence request create", "plugwatch share import",
            "plugwatch share feedback", "plugwatch hold remove", "plugwatch train"} <= names


@pytest.mark.parametrize("words", COMMANDS, ids=[" ".join(w)[:60] for w in COMMANDS])
def test_readme_command_options_exist(words):
    command, rest, name = _walk(words)
    known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)} | {"--help"}
    for word in rest:
        if word.startswith("-") and word != "-" and not re.fullmatch(r"-?\d+(\.\d+)?", word):
            option = word.split("=", 1)[0]
            assert option in known, f"`{name}` has no option {option} (README: plugwatch {' '.join(words)})"
    helped = CliRunner().invoke(app, [*name.split()[1:], "--help"])
    assert helped.exit_code == 0 and "Usage:" in helped.output, (name, helped.output)


def _fenced_after(text: str, heading: str) -> list[str]:
    """The lines of the first fenced block after `heading`."""
    block = text.split(heading, 1)[1].split("```", 2)[1]
    return [line for line in block.splitlines()[1:] if line.strip()]


def test_ci_runs_exactly_the_readmes_test_command():
    readme = README.read_text(encoding="utf-8")
    test_command = _fenced_after(readme, "Run the tests:")[0].strip()
    assert "-c constraints.txt" in test_command and test_command.endswith("pytest")
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert ci_lines[-1].replace("pip install -q ", "pip install ") == test_command


def test_the_threshold_the_readme_names_is_the_shipped_models():
    from plugwatch.detect import DetectorModel

    said = re.search(r"\(([0-9.]+) for the shipped model", README.read_text(encoding="utf-8"))
    assert said and float(said.group(1)) == DetectorModel.load().threshold


# -- running the README --------------------------------------------------------------------------------
#
# The commands of the README's code blocks run, in the README's order, in a fresh folder holding copies of
# what they read (examples/, devdata/, tests/fixtures/) and a private copy of the package (so a command
# that writes the package's own files, like `train` without --out, cannot touch this checkout). Each
# must exit 0. What cannot run here is skipped with the reason: installs and the test suite itself,
# servers and requests to them, lines with placeholders (FILE, ID, `…`), inputs that come from elsewhere
# (a partner's bundle), the commands that need the shared data folder when it is absent, and the long
# ones (training on the shared data, bench/ scripts). `[optional parts]` are left out. `plugwatch serve --example`
# is a server; the later commands work on what it loads, so the walkthrough loads the same examples with
# `plugwatch ingest examples/` where the README starts it.

SHARED_DATA = Path(os.environ.get("PLUGWATCH_SHARED_DATA", ROOT.parent / "shared" / "data"))
NEEDS_DATA = ("--data ", "plugwatch proxies", "plugwatch vocab build", "plugwatch train", "plugwatch eval ")
NOT_HERE = {"pip": "installs packages", "ruff": "the test suite itself", "pytest": "the test suite itself",
            "curl": "needs the running server", "bash": "a benchmark script (minutes)",
            "export": "points the shell at a PostgreSQL server", ".ci/run": "CI itself"}
PLACEHOLDER = re.compile(r"(?<![$\w-])[A-Z][A-Z_]{1,}(?:\.\.\.)?(?![\w-])|…|\bpartner-b:SECRET\b")


@dataclass
class Step:
    line: str  # the README line
    run: str | None  # what the walkthrough runs, None when skipped
    why: str = ""  # the reason for a skip


def _segments(line: str) -> list[str]:
    """The commands of a line: split at `&&` and `;`, and `plugwatch share a | b | c` (the README's way of
    listing sibling commands) made into `plugwatch share a`, `plugwatch share b`, `plugwatch share c`."""
    out = []
    for seg in re.split(r"\s(?:&&|;)\s", line):
        parts = [p.strip() for p in seg.split(" | ")]
        siblings = parts[0].startswith("plugwatch ") and all(shutil.which(p.split()[0]) is None for p in parts[1:])
        if len(parts) > 1 and siblings:
            group = " ".join(parts[0].split()[:2])
            out += [parts[0], *(f"{group} {p}" for p in parts[1:])]
        elif seg.strip():
            out.append(seg.strip())
    return out


def _plan(line: str) -> Step:
    line = re.split(r"\s#\s", f" {line} ", maxsplit=1)[0].strip()
    runnable: list[str] = []
    skipped: list[str] = []
    for seg in _segments(line):
        words = seg.split()
        first = words[0] if words else ""
        if first in NOT_HERE or re.match(r"[A-Z_]+=(?!\$\()", first):
            if "plugwatch" in seg or first in ("pytest", "curl") or "PLUGWATCH_DB" in first:
                return Step(line, None, NOT_HERE.get(first, "needs a PostgreSQL server"))
            continue
        seg = re.sub(r"\s*\[[^\]]*\]", "", seg)  # optional parts
        if "plugwatch serve" in seg:
            return Step(line, "plugwatch ingest examples/" if "--example" in seg else None,
                        "a server: its examples are loaded with `plugwatch ingest examples/`")
        unquoted = re.sub(r"'[^']*'|\"[^\"]*\"|^[A-Z_]+=\$\(", "", seg)
        if PLACEHOLDER.search(unquoted):
            skipped.append(f"`{seg}` has a placeholder ({PLACEHOLDER.search(unquoted).group(0)})")
            continue
        if "--from-decisions" in seg:
            skipped.append(f"`{seg}` needs reviewers' decisions (made on the review pages)")
            continue
        if any(key in f"{seg} " for key in NEEDS_DATA) and "--no-proxies" not in seg:
            if not (SHARED_DATA / "agora").is_dir():
                return Step(line, None, f"needs the shared data folder, absent here ({SHARED_DATA})")
            if re.search(r"plugwatch train\b", seg):
                return Step(line, None, "trains on all the shared data: a minute or more")
        runnable.append(seg)
    if not runnable:
        return Step(line, None, "; ".join(skipped) or "nothing plugwatch runs")
    return Step(line, " && ".join(runnable), "; ".join(skipped))


def _walkthrough_lines(text: str) -> list[str]:
    """Code-block lines (not inline spans) that run plugwatch or set up for it, in README order."""
    joined = [" ".join(line.split()) for line in _continued(_block_lines(text))]
    return [line for line in joined if "plugwatch " in line and not line.startswith("#")
            and not line.startswith("plugwatch/")]


STEPS = [_plan(line) for line in _walkthrough_lines(README.read_text(encoding="utf-8"))]


def _inputs_missing(command: str, cwd: Path) -> str | None:
    """A file argument the command reads that no earlier step made (a partner sends it)."""
    words = shlex.split(command.split("|")[0])
    for before, word in zip(["", *words], words, strict=False):
        reads = not before.startswith("-") or before in ("--salt-file", "--policy")
        if reads and re.fullmatch(r"[\w./-]+\.(json|jsonl|zip|salt|csv)", word) and not (cwd / word).exists():
            return word
    return None


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory):
    """Runs STEPS in order in a fresh folder; returns {step index: (exit code, output)}."""
    base = tmp_path_factory.mktemp("readme")
    work, pkg, bin_dir = base / "repo", base / "pkg", base / "bin"
    for folder in ("examples", "devdata", "tests/fixtures"):
        shutil.copytree(ROOT / folder, work / folder)
    shutil.copytree(ROOT / "plugwatch", pkg / "plugwatch", ignore=shutil.ignore_patterns("__pycache__"))
    if SHARED_DATA.is_dir():
        (base / "shared").symlink_to(SHARED_DATA.parent)  # `--data ../shared/data` from the repo folder
    bin_dir.mkdir()
    (bin_dir / "plugwatch").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m plugwatch.cli "$@"\n')
    (bin_dir / "plugwatch").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGWATCH_")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", PYTHONPATH=str(pkg), COLUMNS="200")
    results: dict[int, tuple[int, str]] = {}
    for i, step in enumerate(STEPS):
        if step.run is None:
            continue
        missing = _inputs_missing(step.run, work)
        if missing:
            step.run, step.why = None, f"reads {missing}, which comes from elsewhere (a partner)"
            continue
        proc = subprocess.run(["bash", "-c", f"set -eo pipefail; {step.run}"], cwd=work, env=env,
                              capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
        results[i] = (proc.returncode, proc.stdout[-2000:] + proc.stderr[-2000:])
    return results, work


def test_the_walkthrough_runs_most_of_the_readme_and_writes_what_it_says(walkthrough):
    results, work = walkthrough
    ran = [s for s in STEPS if s.run is not None]
    assert len(ran) >= 15, [s.line for s in ran]
    for needed in ("plugwatch scan examples/", "plugwatch networks", "evidence request export", "share export"):
        assert any(needed in s.run for s in ran), needed
    # Every file a command that ran was told to write (-o, --out) is there, unless it said it had nothing
    # to write (share feedback before any decision on a partner's indicators).
    for index, step in enumerate(STEPS):
        if step.run is None or "no new" in results[index][1]:
            continue
        for out in re.findall(r"(?:-o|--out) (\S+)", step.run):
            assert (work / out).exists(), f"{step.run} did not write {out}"
    scanned = (work / "out" / "example-scan.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(scanned) == sum(1 for _ in _example_items())


def _example_items():
    """The items the scan of examples/ must give: one per record of the example files."""
    from plugwatch.sources import Reject, SourceOptions, read

    return (x for x in read([str(ROOT / "examples")], SourceOptions()) if not isinstance(x, Reject))


@pytest.mark.parametrize("index", range(len(STEPS)), ids=[s.line[:70] for s in STEPS])
def test_readme_command_runs_as_written(walkthrough, index):
    step = STEPS[index]
    if step.run is None:
        pytest.skip(step.why)
    code, output = walkthrough[0][index]
    assert code == 0, f"README: {step.line}\nran: {step.run}\nexit {code}\n{output}"
    assert "Traceback" not in output
