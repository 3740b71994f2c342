"""Inputs that used to crash `plugwatch scan` (exit 1, traceback, good lines lost): each bad record is
now a reject naming its file, line and reason, and the rest of the input is scanned."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from plugwatch.model import Item
from plugwatch.sources import Reject, SourceOptions, read


def scan(tmp_path: Path, *inputs: Path) -> tuple[int, list[dict], list[dict], str]:
    """Run `plugwatch scan --no-model` as a process: (exit code, output records, rejects, stderr)."""
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "plugwatch.cli", "scan", "--no-model", "-o", str(out), "--rejects", str(rejects),
         *map(str, inputs)], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr

    def records(path: Path) -> list[dict]:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []

    return proc.returncode, records(out), records(rejects), proc.stderr


def test_ten_mb_line_that_is_not_json_is_no_crash(tmp_path):
    big = tmp_path / "big.log"
    big.write_bytes(b"a" * 10_000_000 + b"\n")
    code, _, _, stderr = scan(tmp_path, big)
    assert code in (0, 3, 4), stderr


def test_overlong_csv_field_is_a_reject_and_the_next_rows_are_read(tmp_path):
    posts = tmp_path / "posts.csv"
    posts.write_bytes(b"id,text\n1,hello\n2," + b"x" * 200_000 + b"\n3,bye\n")
    code, out, rejects, _ = scan(tmp_path, posts)
    assert code == 3
    assert [r["text"] for r in out] == ["hello", "bye"]
    assert [(r["line"], r["reason"].split(":")[0]) for r in rejects] == [(3, "invalid CSV")]
    assert "longer than" in rejects[0]["reason"]


def test_invalid_utf8_on_a_broken_line_of_a_json_document(tmp_path):
    doc = tmp_path / "doc.json"
    doc.write_bytes(b'[\n{"text": "hello one"},\n{"text": "bad \xff byte" oops},\n{"text": "two"}\n]\n')
    code, out, rejects, _ = scan(tmp_path, doc)
    assert code == 3 and [r["text"] for r in out] == ["hello one"]
    assert rejects[0]["line"] == 3 and rejects[0]["reason"].startswith("invalid JSON")
    assert "\ufffd" in rejects[0]["raw"]  # the bad byte is shown, not written as a surrogate


def test_invalid_utf8_in_the_first_line_of_a_document_rejects_only_that_record(tmp_path):
    doc = tmp_path / "chat.json"
    doc.write_bytes(b'{"name": "chat \xff", "type": "public_channel", "id": 5, "messages": [\n'
                    b'{"id": 1, "type": "message", "text": "hi there"},\n{"id": 2, "type": "message", "text": "x\xfe"}\n]}\n')
    code, out, rejects, _ = scan(tmp_path, doc)
    assert code == 3 and [r["text"] for r in out] == ["hi there"]
    assert [(r["line"], r["reason"]) for r in rejects] == [(3, "invalid UTF-8 at byte 40")]


@pytest.mark.parametrize("name", ["posts.jsonl", "posts.json"])
def test_lone_surrogate_escape_is_a_reject(tmp_path, name):
    lines = [b'{"text": "ok one"}', b'{"text": "lone \\ud800 here"}', b'{"text": "pair \\ud83d\\ude00 ok"}',
             b'{"text": "low \\uDC80"}', b'{"text": "ok two"}']
    path = tmp_path / name
    path.write_bytes(b"[\n" + b",\n".join(lines) + b"\n]\n" if name.endswith(".json") else b"\n".join(lines) + b"\n")
    code, out, rejects, _ = scan(tmp_path, path)
    first = 2 if name.endswith(".json") else 1  # the document's `[` is line 1
    assert code == 3
    assert [r["text"] for r in out] == ["ok one", "pair \U0001f600 ok", "ok two"]
    assert [r["line"] - first for r in rejects] == [1, 3]
    assert rejects[0]["reason"] == "invalid JSON string: lone surrogate \\ud800 (half of a UTF-16 pair, not a character)"
    assert "\\udc80" in rejects[1]["reason"]


def test_lone_surrogate_in_a_single_object_document(tmp_path):
    doc = tmp_path / "one.json"
    doc.write_bytes(b'{\n  "text": "lone \\ud800",\n  "id": 1\n}\n')
    code, out, rejects, _ = scan(tmp_path, doc)
    assert code == 4 and not out and rejects[0]["reason"].startswith("invalid JSON string: lone surrogate")


@pytest.mark.parametrize("header", [b"id,te\rxt\n", b"id,text\r1,first\n"])
def test_bare_cr_in_a_csv_header_is_a_reject_and_other_files_are_scanned(tmp_path, header):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(header + b"2,hello\n3,world\n")
    good = tmp_path / "good.jsonl"
    good.write_text('{"text": "still scanned"}\n', encoding="utf-8")
    code, out, rejects, _ = scan(tmp_path, bad, good)
    assert code == 3 and [r["text"] for r in out] == ["still scanned"]
    assert [(Path(r["path"]).name, r["line"]) for r in rejects] == [("bad.csv", 1)]
    assert "carriage return" in rejects[0]["reason"]


def test_bare_cr_in_a_forced_csv_header_does_not_take_a_row_for_the_header(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"id,te\rxt\n2,hello\n")
    out = list(read([str(bad)], SourceOptions(format="csv")))
    assert len(out) == 1 and isinstance(out[0], Reject) and out[0].line == 1
    assert out[0].reason.startswith("invalid CSV header: a carriage return")


def test_nul_characters_are_removed_from_every_field(tmp_path):
    jsonl = tmp_path / "posts.jsonl"
    jsonl.write_text(json.dumps({"text": "mdma\u0000 here", "author": {"handle": "sel\u0000ler", "bio": "b\u0000"},
                                 "extra\u0000": ["x\u0000"]}) + "\n", encoding="utf-8")
    doc = tmp_path / "posts.json"
    doc.write_text(json.dumps([{"text": "doc\u0000 text"}], indent=1), encoding="utf-8")
    csv_file = tmp_path / "posts.csv"
    csv_file.write_bytes(b"id,text\n1,csv\x00 text\n")
    items = [o for o in read(map(str, (jsonl, doc, csv_file)), SourceOptions()) if isinstance(o, Item)]
    assert [i.text for i in items] == ["mdma here", "doc text", "csv text"]
    assert items[0].author.handle == "seller" and items[0].author.bio == "b"
    assert items[0].raw["extra"] == ["x"]  # the raw record kept for evidence is stored too
    code, out, _, _ = scan(tmp_path, jsonl)
    assert code == 0 and "\\u0000" not in json.dumps(out)


def test_file_name_with_undecodable_bytes_is_written_as_utf8(tmp_path):
    if sys.platform == "darwin":
        pytest.skip("macOS file systems refuse names that are not UTF-8")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "posts-\udcff.jsonl").write_text('{"text": "hi"}\n{"x": 1}\n')
    code, out, rejects, _ = scan(tmp_path, folder)
    assert code == 3
    assert out[0]["source"]["path"].endswith("posts-\ufffd.jsonl")
    assert rejects[0]["path"].endswith("posts-\ufffd.jsonl")


def test_utf16_files_are_read_like_utf8(tmp_path):
    import gzip

    tsv = tmp_path / "excel-unicode-text.txt"  # what Excel's "Unicode Text" export writes: UTF-16 TSV
    tsv.write_bytes("id\ttext\n1\tselling mdma, wickr: plugman99 \U0001f48a\n2\thello\n".encode("utf-16"))
    jsonl = tmp_path / "posts.jsonl.gz"
    jsonl.write_bytes(gzip.compress(b"\xfe\xff" + '{"text": "caf\u00e9"}\n'.encode("utf-16-be")))
    out = list(read([str(tsv), str(jsonl)], SourceOptions()))
    assert [(o.native_id, o.text) for o in out][:2] == [("1", "selling mdma, wickr: plugman99 \U0001f48a"),
                                                        ("2", "hello")]
    assert out[2].text == "café"
