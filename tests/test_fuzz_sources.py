"""Fuzzing every importer and `plugwatch scan` with mutated real exports (see tests/fuzz_inputs.py).

The property: no uncaught exception and no exit 1. Every output is an Item whose strings can be written
as UTF-8 and hold no NUL, or a Reject with a reason; where the format makes lines countable (plain text,
generic JSONL) every non-blank line is an item or a reject. Runs are deterministic (derandomized, no
example database) and bounded in time for CI; bench/fuzz_scan.py runs 10,000 cases. Inputs that once
broke a run are kept in tests/fuzz_corpus/ and replayed by test_corpus_replays.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from plugwatch.cli import app
from plugwatch.model import Item
from plugwatch.records import scan_record
from plugwatch.scan import run_scan
from plugwatch.sources import FORMATS, Reject, SourceOptions, read
from tests.fuzz_inputs import EDITS, WRAPS, load_seeds, mutate

SEEDS = load_seeds()
CORPUS = Path(__file__).parent / "fuzz_corpus"
FUZZ = settings(deadline=None, database=None, derandomize=True, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def cases(draw) -> tuple[str, bytes]:
    name, data = draw(st.sampled_from(SEEDS))
    edit = st.tuples(st.sampled_from(EDITS), st.integers(0, 1 << 20), st.integers(0, 1 << 10))
    edits = draw(st.lists(edit, min_size=1, max_size=4))
    content, suffix = mutate(data, edits, draw(st.sampled_from(WRAPS)), draw(st.integers(0, 1 << 10)))
    return name + suffix, content


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def check_outputs(outputs: list, path: Path) -> None:
    for out in outputs:
        if isinstance(out, Reject):
            assert isinstance(out.reason, str) and out.reason and out.line >= 0, out
            json.dumps([out.path, out.reason, out.raw], ensure_ascii=False).encode("utf-8")
            continue
        assert isinstance(out, Item), out
        dumped = json.dumps({"record": scan_record(out, [], None), "raw": out.raw}, ensure_ascii=False, default=str)
        dumped.encode("utf-8")  # no lone surrogate anywhere
        assert not any("\x00" in s for s in strings(json.loads(dumped))), "NUL reached an item"


def strings(value) -> list[str]:
    """Every string in a decoded JSON value, keys included (without recursion: values nest deeply)."""
    found, stack = [], [value]
    while stack:
        top = stack.pop()
        if isinstance(top, str):
            found.append(top)
        elif isinstance(top, dict):
            stack.extend(top)
            stack.extend(top.values())
        elif isinstance(top, list):
            stack.extend(top)
    return found


def countable_lines(content: bytes, fmt: str | None, name: str) -> list[int] | None:
    """The lines that must each give an item or a reject, when the framing makes them countable:
    plain text, or generic JSONL whose first line is a whole JSON value."""
    if name.endswith(".gz") or content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    if fmt is None and name.endswith(".txt") and not content.startswith((b"{", b"[")):
        fmt = "text"  # chosen by the name (a first line that opens JSON makes it JSON)
    lines = content.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if fmt == "text":
        numbered = [(n, line.replace(b"\x00", b"")) for n, line in enumerate(lines, 1)]
        return [n for n, line in numbered if line and not line.isspace()]
    if fmt == "jsonl":
        content_lines = [(n, line) for n, line in enumerate(lines, 1) if not line.isspace() and line]
        if not content_lines or len(content_lines[0][1]) >= 1 << 20:
            return None
        first = content_lines[0][1].removeprefix(b"\xef\xbb\xbf")
        try:
            json.loads(first.decode("utf-8"))
        except (ValueError, RecursionError):
            return None  # maybe a document: not line by line
        return [n for n, _ in content_lines]
    return None


@settings(FUZZ, max_examples=2500)
@given(case=cases(), fmt=st.sampled_from([None, None, None, *FORMATS]))
@example(case=("posts.jsonl", b'{"text": "a"}\n[]\n{"text": "b"}\n'), fmt="jsonl")  # an empty array once gave nothing
@example(case=("posts.txt", b"one\n\x00\n\xff\ntwo"), fmt=None)
def test_every_importer_survives_mutated_input(tmp_path_factory, case, fmt):
    name, content = case
    path = write(tmp_path_factory.mktemp("fuzz"), name, content)
    outputs = list(read([str(path)], SourceOptions(format=fmt)))
    assert outputs, "a file gives at least one item or reject"
    check_outputs(outputs, path)
    expected = countable_lines(content, fmt, name)
    if expected is not None and not any(isinstance(o, Reject) and o.line == 0 for o in outputs):
        seen = {o.source.line if isinstance(o, Item) else o.line for o in outputs}
        assert set(expected) <= seen, f"lines with neither an item nor a reject: {sorted(set(expected) - seen)[:10]}"


@settings(FUZZ, max_examples=300)
@given(case=cases())
def test_scan_survives_mutated_input(tmp_path_factory, case):
    """The scan loop itself (identifiers, output records) in-process, and its counts add up."""
    name, content = case
    path = write(tmp_path_factory.mktemp("fuzz"), name, content)
    out, rejects = io.StringIO(), []
    stats = run_scan(read([str(path)], SourceOptions()), out, rejects.append)
    lines = out.getvalue().splitlines()
    assert len(lines) == stats.read and len(rejects) == stats.rejected
    for line in lines:
        rec = json.loads(line)
        line.encode("utf-8")
        assert all(i["span"] is None or 0 <= i["span"][0] < i["span"][1] <= len(rec["text"])
                   for i in rec["identifiers"])


def scan_cli(path: Path, *extra: str) -> int:
    result = CliRunner().invoke(app, ["scan", str(path), "-o", str(path.with_suffix(".out")), *extra])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 3, 4), result.output
    return result.exit_code


@settings(FUZZ, max_examples=150)
@given(case=cases())
def test_scan_command_never_exits_1(tmp_path_factory, case):
    name, content = case
    scan_cli(write(tmp_path_factory.mktemp("fuzz"), name, content), "--no-model")


@settings(FUZZ, max_examples=20)
@given(case=cases())
def test_scan_command_with_the_model_never_exits_1(tmp_path_factory, case):
    name, content = case
    scan_cli(write(tmp_path_factory.mktemp("fuzz"), name, content))


@pytest.mark.parametrize("path", sorted(p for p in CORPUS.iterdir() if p.name != "README.md"), ids=lambda p: p.name)
def test_corpus_replays(path, tmp_path):
    """Each input that once crashed a scan: now a clean run (exit 0, 3 or 4), with the model."""
    copy = write(tmp_path, path.name, path.read_bytes())
    scan_cli(copy)
    outputs = list(read([str(copy)], SourceOptions()))
    assert outputs
    check_outputs(outputs, copy)
