"""Plain text (one post per line) as an input format, and what a CSV without a text column says;
also where a scan to stdout leaves its rejects."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plugwatch.cli import app
from plugwatch.model import Item
from plugwatch.sources import Reject, SourceOptions, read

POSTS = "selling mdma pills, dm me on wickr plugman99\n\n   \nhad a lovely walk today\n"


def items(*paths: Path, **options) -> list[Item | Reject]:
    return list(read(map(str, paths), SourceOptions(**options)))


def test_txt_file_is_one_item_per_non_empty_line(tmp_path):
    path = tmp_path / "posts.txt"
    path.write_text(POSTS, encoding="utf-8")
    out = items(path)
    assert [(o.id, o.text, o.source.line) for o in out] == [
        (f"generic:{path}:1", "selling mdma pills, dm me on wickr plugman99", 1),
        (f"generic:{path}:4", "had a lovely walk today", 4),
    ]


def test_gzipped_txt_and_crlf_lines(tmp_path):
    path = tmp_path / "posts.txt.gz"
    path.write_bytes(gzip.compress(b"first post\r\nsecond post\r\n"))
    assert [o.text for o in items(path)] == ["first post", "second post"]


@pytest.mark.parametrize("content", [
    "Dear diary,\nToday I walked to the market and bought apples.\n",  # a comma, but no header
    "[SALE] mdma 10g $50 t.me/plugman\n{free} samples for first orders\n",  # brackets, but not JSON
    "a" * 2_000_000 + "\n",  # one line longer than the format probe reads
])
def test_unknown_content_that_is_not_json_or_csv_is_text(tmp_path, content):
    path = tmp_path / "export.log"
    path.write_text(content, encoding="utf-8")
    out = items(path)
    assert all(isinstance(o, Item) for o in out)
    assert [o.text for o in out] == [line for line in content.split("\n") if line]


def test_invalid_utf8_line_in_text_is_a_reject_and_the_rest_is_read(tmp_path):
    path = tmp_path / "posts.txt"
    path.write_bytes(b"one\ncaf\xe9 two\nthree\x00 nul\n")
    out = items(path)
    assert isinstance(out[1], Reject) and (out[1].line, out[1].reason) == (2, "invalid UTF-8 at byte 4")
    assert [o.text for o in out if isinstance(o, Item)] == ["one", "three nul"]


def test_format_text_forces_text_and_platform_applies(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text('{"text": "a json line read as text"}\n', encoding="utf-8")
    (item,) = items(path, format="text", default_platform="Telegram")
    assert item.text == '{"text": "a json line read as text"}' and item.platform == "telegram"
    assert item.id == f"telegram:{path}:1"


def test_json_named_txt_is_still_json(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text('{"id": "7", "text": "json inside a .txt"}\n', encoding="utf-8")
    (item,) = items(path)
    assert item.id == "generic:7"


def test_csv_without_text_column_names_its_columns(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("id,user,post body\n1,bob,hello there\n", encoding="utf-8")
    (rej,) = items(path)
    assert isinstance(rej, Reject) and rej.line == 1
    assert "its columns are 'id', 'user', 'post body'" in rej.reason
    assert "--field text=COLUMN" in rej.reason
    assert [o.text for o in items(path, field_map={"text": "post body"})] == ["hello there"]


def test_plain_text_on_stdin_in_a_real_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "plugwatch.cli", "scan", "-", "--no-model"], input=POSTS.encode(),
                          cwd=tmp_path, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    recs = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    assert [r["id"] for r in recs] == ["generic:stdin:1", "generic:stdin:4"]
    assert [i["canonical"] for i in recs[0]["identifiers"]] == ["wickr:plugman99"]
    assert not (tmp_path / "rejects.jsonl").exists()


def test_scan_to_stdout_with_rejects_says_where_they_went(tmp_path):
    posts = tmp_path / "posts.jsonl"
    posts.write_text('{"text": "ok"}\n{"text": \n', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "plugwatch.cli", "scan", str(posts), "--no-model"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3
    written = tmp_path / "rejects.jsonl"
    assert json.loads(written.read_text(encoding="utf-8"))["line"] == 2
    assert f"rejected records written to {written}" in proc.stderr.replace("\n", "")


def test_stdout_is_utf8_whatever_the_locale(tmp_path):
    posts = tmp_path / "posts.jsonl"
    posts.write_text('{"text": "emoji \\ud83d\\ude00 and \\u4e2d"}\n', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "plugwatch.cli", "scan", str(posts), "--no-model"], cwd=tmp_path,
                          capture_output=True, timeout=60, env={**os.environ, "PYTHONIOENCODING": "latin-1"})
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout.decode("utf-8"))["text"] == "emoji \U0001f600 and \u4e2d"


def test_gitignore_covers_what_a_scan_and_the_service_leave_behind():
    ignored = (Path(__file__).parent.parent / ".gitignore").read_text().split()
    assert {"rejects.jsonl", "*.rejects.jsonl", "plugwatch.db*", "*.db-wal", "*.db-shm"} <= set(ignored)


def test_help_names_the_text_format():
    result = CliRunner().invoke(app, ["scan", "--help"], env={"COLUMNS": "200"})
    assert "text" in result.output.split("Force a format:")[1].split("\n")[0]
