"""The reader plumbing: paths, gzip, stdin, detection, forcing, streaming, and every kind of bad input."""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import threading
from pathlib import Path

import pytest

from plugwatch.model import Item
from plugwatch.sources import Reject, SourceOptions, jsondoc, read
from plugwatch.sources.inputs import text_reader

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def run(*paths, **options) -> list[Item | Reject]:
    return list(read([str(p) for p in paths], SourceOptions(**options) if options else None))


def summary(out: list[Item | Reject]) -> list[str]:
    return [f"R{o.line}:{o.reason}" if isinstance(o, Reject) else o.id for o in out]


def jsonl(*records) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


# -- bad records: the rest goes on --------------------------------------------------------------


def test_malformed_json_line_is_rejected_and_reading_goes_on(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text(
        jsonl({"id": 1, "text": "one"}, '{"id": 2, "text": "two" "x": 1}', {"id": 3, "text": "three"})
    )
    out = run(path)
    assert summary(out) == [
        "generic:1",
        "R2:invalid JSON: Expecting ',' delimiter at column 25",
        "generic:3",
    ]
    assert out[1].path == str(path) and out[1].raw == '{"id": 2, "text": "two" "x": 1}'


def test_broken_first_line_does_not_turn_jsonl_into_a_document(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text(jsonl('{"id": 1, "text": "cut', {"id": 2, "text": "two"}, {"id": 3, "text": "three"}))
    assert summary(run(path)) == [
        "R1:invalid JSON: Unterminated string starting at column 19",
        "generic:2",
        "generic:3",
    ]


def test_records_without_text_and_non_objects(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text(jsonl({"id": 1, "text": "   "}, {"id": 2, "text": None}, "42", {"id": 4, "text": "ok"}))
    assert summary(run(path)) == [
        "R1:record has no text",
        "R2:record has no text",
        "R3:record is not a JSON object",
        "generic:4",
    ]


def test_invalid_utf8_line_is_rejected_with_its_line(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_bytes(
        b'{"id": 1, "text": "caf\xc3\xa9"}\n{"id": 2, "text": "bad \xff byte"}\n{"id": 3, "text": "ok"}\n'
    )
    out = run(path)
    assert summary(out) == ["generic:1", "R2:invalid UTF-8 at byte 24", "generic:3"]
    assert out[0].text == "café" and "\ufffd" in out[1].raw


def test_invalid_utf8_in_csv_row(tmp_path):
    path = tmp_path / "posts.csv"
    path.write_bytes(b'id,text\n1,"multi\nline \xfe"\n2,fine\n')
    assert summary(run(path)) == ["R3:invalid UTF-8 at byte 6", "generic:2"]


def test_invalid_utf8_inside_a_telegram_document(tmp_path):
    export = json.dumps(telegram_export(3), indent=1).encode()
    export = export.replace(b"message number 2", b"message \xc3\x28umber 2")
    path = tmp_path / "result.json"
    path.write_bytes(export)
    out = run(path)
    assert [o.id for o in out if isinstance(o, Item)] == ["telegram:99/1", "telegram:99/3"]
    (bad,) = [o for o in out if isinstance(o, Reject)]
    assert bad.reason.startswith("invalid UTF-8 at byte") and "message" in bad.raw
    assert b"\xc3\x28" in export.splitlines()[bad.line - 1]


def test_csv_row_with_wrong_field_count(tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text("id,text,author\n1,hello,a\n2,unquoted, comma,b\n3,bye,c\n")
    assert summary(run(path)) == ["generic:1", "R3:row has 4 fields but the header has 3", "generic:3"]


def test_csv_quote_never_closed_rejects_the_rest_of_the_file(tmp_path):
    path = tmp_path / "posts.csv"
    # The lenient CSV reader would make lines 3-5 one post; they are one reject, with every line kept.
    path.write_text('id,text\n1,hello\n2,"selling xans dm me\n3,other post\n4,fourth\n')
    out = run(path)
    assert summary(out) == ["generic:1", "R3:a quote opened on this line is never closed: lines 3-5 (the rest of "
                                         "the file) were read as one field"]
    assert out[-1].raw == "2,selling xans dm me\n3,other post\n4,fourth\n"


def test_csv_quoted_fields_that_close_are_not_rejects(tmp_path):
    path = tmp_path / "posts.csv"
    # A closed field may end the file, span lines, hold doubled quotes or end in a line break.
    path.write_text('id,text\n1,"she said ""hi""\nand left"\n2,"ends in a line break\n"\n3,"last, unterminated line')
    assert summary(run(path)) == ["generic:1", "generic:2", "generic:3"]


def test_mixed_file_rejects_the_lines_of_another_format(tmp_path):
    x_page = {"data": [{"id": "5", "text": "hello", "author_id": "1"}], "meta": {"result_count": 1}}
    reddit = {"id": "abc", "subreddit": "x", "created_utc": 1, "body": "a reddit comment"}
    path = tmp_path / "pages.jsonl"
    path.write_text(jsonl(x_page, reddit, x_page))
    assert summary(run(path)) == ["x:5", "R2:not an X API v2 response: no 'data'", "x:5"]


def test_raw_is_truncated(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text(jsonl({"id": 1, "text": "", "pad": "z" * 5000}))
    (out,) = run(path)
    assert isinstance(out, Reject) and len(out.raw) == 2000


# -- whole inputs that cannot be read ------------------------------------------------------------


def test_unknown_formats(tmp_path):
    png = tmp_path / "photo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)))
    misnamed = tmp_path / "notes.txt"  # a .txt name does not make binary data text
    misnamed.write_bytes(png.read_bytes())
    out = run(png, misnamed)
    assert [(o.path, o.line) for o in out] == [(str(png), 0), (str(misnamed), 0)]
    assert {o.reason for o in out} == {"unknown format: not JSON, JSONL, CSV or text (binary data)"}


def test_empty_missing_and_no_records(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n  \n\n")
    no_records = tmp_path / "none.json"
    no_records.write_text("[\n]\n")
    empty_page = tmp_path / "page.jsonl"  # one JSONL line holding an empty array
    empty_page.write_text("[]\n")
    out = run(empty, blank, tmp_path / "missing.jsonl", no_records, empty_page)
    assert [(Path(o.path).name, o.line, o.reason) for o in out] == [
        ("empty.jsonl", 0, "empty file"),
        ("blank.jsonl", 0, "empty file"),
        ("missing.jsonl", 0, "no such file or directory"),
        ("none.json", 0, "no records in file"),
        ("page.jsonl", 1, "empty JSON array: no record on this line"),
    ]


def test_unknown_format_name():
    out = run(FIXTURES / "generic_posts.jsonl", format="myspace")
    assert len(out) == 1 and out[0].reason.startswith("unknown format name 'myspace'")


def test_unknown_field_map_name():
    (out,) = run(FIXTURES / "generic_posts.csv", field_map={"txt": "body"})
    assert (
        out.reason
        == "unknown field in field_map: txt (known: id, text, author, platform, created_at, url, reply_to)"
    )


def test_unopenable_path(tmp_path):
    (out,) = run(tmp_path / ("x" * 300))
    assert out.line == 0 and out.reason == "cannot open file: File name too long"


# -- gzip, folders, stdin, order -----------------------------------------------------------------


def test_gzip_is_read_transparently(tmp_path):
    path = tmp_path / "reddit.ndjson.gz"
    path.write_bytes(gzip.compress((FIXTURES / "reddit_dump.ndjson").read_bytes()))
    assert summary(run(path)) == summary(run(FIXTURES / "reddit_dump.ndjson"))


def test_truncated_gzip_yields_what_was_read_then_a_reject(tmp_path):
    lines = [{"id": n, "text": f"post number {n} " + "x" * 50} for n in range(1, 2001)]
    whole = gzip.compress(jsonl(*lines).encode())
    path = tmp_path / "posts.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    out = run(path)
    items = [o for o in out if isinstance(o, Item)]
    assert out[-1].reason == "truncated gzip stream" and out[-1].path == str(path)
    assert all(isinstance(o, Item) for o in out[:-1])
    assert 0 < len(items) < 2000 and [i.native_id for i in items] == [
        str(n) for n in range(1, len(items) + 1)
    ]
    assert out[-1].line == len(items) + 1


def test_truncated_gzip_telegram_document(tmp_path):
    whole = gzip.compress(json.dumps(telegram_export(500), indent=1).encode())
    path = tmp_path / "result.json.gz"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    out = run(path)
    assert out[-1].reason == "truncated gzip stream" and out[-1].line > 100
    assert len(out) > 100 and all(isinstance(o, Item) for o in out[:-1])


def test_folder_is_walked_sorted_skipping_hidden(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "b" / "2.jsonl").write_text(jsonl({"id": "b2", "text": "x"}))
    (tmp_path / "a.jsonl").write_text(jsonl({"id": "a", "text": "x"}))
    (tmp_path / "c.jsonl").write_text(jsonl({"id": "c", "text": "x"}))
    (tmp_path / ".secret.jsonl").write_text(jsonl({"id": "hidden", "text": "x"}))
    (tmp_path / ".hidden" / "h.jsonl").write_text(jsonl({"id": "hidden2", "text": "x"}))
    assert summary(run(tmp_path)) == ["generic:a", "generic:b2", "generic:c"]


def test_empty_folder_and_folder_with_nothing_usable(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    useless = tmp_path / "useless"
    useless.mkdir()
    (useless / "scan.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    out = run(empty, useless)
    assert [(Path(o.path).name, o.line) for o in out] == [("empty", 0), ("scan.png", 0), ("useless", 0)]
    assert out[0].reason.startswith("folder has no files")
    assert out[2].reason == "nothing usable in folder: none of its 1 files gave an item"


def test_stdin(monkeypatch):
    data = (FIXTURES / "generic_posts.jsonl").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(data))))
    out = run("-")
    assert [o.id for o in out] == [o.id for o in run(FIXTURES / "generic_posts.jsonl")]
    assert out[0].source.path == "<stdin>"


def test_a_live_pipe_gives_each_record_as_it_arrives(monkeypatch):
    read_end, write_end = os.pipe()
    first_seen = threading.Event()
    waited_out = []

    def writer():
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(b'{"id": 1, "text": "first"}\n')
            pipe.flush()
            waited_out.append(not first_seen.wait(timeout=5))
            pipe.write(b'{"id": 2, "text": "second"}\n')

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(os.fdopen(read_end, "rb")))
    thread = threading.Thread(target=writer)
    thread.start()
    ids = []
    for out in read(["-"]):
        ids.append(out.id)
        first_seen.set()
    thread.join()
    assert ids == ["generic:1", "generic:2"] and waited_out == [False]


def test_order_is_preserved_across_inputs_and_rejects(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(jsonl({"id": "1", "text": "a"}, "{oops", {"id": "3", "text": "c"}))
    out = run(FIXTURES / "reddit_dump.ndjson", bad, tmp_path / "nope", FIXTURES / "x_search.jsonl")
    assert summary(out) == [
        "reddit:t3_18z2k1p",
        "reddit:t1_kgz1a01",
        "reddit:t1_kgz3b77",
        "R4:record has no text (deleted)",
        "reddit:t3_18z9x0q",
        "reddit:t3_18za111",
        "reddit:t3_18zb222",
        "generic:1",
        "R2:invalid JSON: Expecting property name enclosed in double quotes at column 2",
        "generic:3",
        "R0:no such file or directory",
        "x:1744772398871191552",
        "x:1744780011122233344",
        "x:1744901234567890123",
    ]


# -- detection and forcing -----------------------------------------------------------------------


def test_detection_does_not_use_the_file_name(tmp_path):
    path = tmp_path / "posts.csv"  # really Jetstream JSONL
    path.write_bytes((FIXTURES / "bluesky_jetstream.jsonl").read_bytes())
    assert [o.platform for o in run(path)] == ["bluesky"] * 3


def test_forcing_a_format(tmp_path):
    out = run(FIXTURES / "generic_posts.jsonl", format="x")
    assert all(isinstance(o, Reject) and o.reason == "not an X API v2 response: no 'data'" for o in out)
    assert [o.line for o in out] == [1, 2, 3, 4]
    # a CSV forced as JSONL: each line is bad JSON; JSONL forced as CSV has no header with a text column
    as_jsonl = run(FIXTURES / "generic_posts.csv", format="jsonl")
    assert as_jsonl and all(isinstance(o, Reject) and o.reason.startswith("invalid JSON") for o in as_jsonl)
    # A Telegram export forced to the generic reader: ids and texts still map
    generic = run(FIXTURES / "telegram_full_export.json", format="jsonl")
    assert "generic:101" in summary(generic)


def test_one_line_json_array_and_pages_per_line(tmp_path):
    statuses = json.loads((FIXTURES / "mastodon_timeline.json").read_text())
    path = tmp_path / "pages.jsonl"
    path.write_text(jsonl(json.dumps(statuses[:2]), json.dumps(statuses[2:])))
    out = run(path)
    assert [o.source.line for o in out] == [1, 1, 2, 2]
    assert [o.id for o in out] == [o.id for o in run(FIXTURES / "mastodon_timeline.json")]


def test_concatenated_pretty_documents(tmp_path):
    pages = [json.loads(line) for line in (FIXTURES / "x_search.jsonl").read_text().splitlines()]
    path = tmp_path / "pages.json"
    path.write_text("".join(json.dumps(page, indent=2) + "\n" for page in pages))  # as `jq .` prints them
    out = run(path)
    assert [o.id for o in out] == [o.id for o in run(FIXTURES / "x_search.jsonl")]
    assert out[2].source.line == path.read_text().splitlines().index("{", 1) + 1


def test_bom_and_crlf(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes('\ufeffid,text\r\n1,"two\r\nlines"\r\n2,plain\r\n'.encode())
    out = run(path)
    assert summary(out) == ["generic:1", "generic:2"]
    assert out[0].text == "two\r\nlines" and out[1].source.line == 4


# -- incremental JSON documents ------------------------------------------------------------------


def telegram_export(count: int) -> dict:
    messages = [
        {
            "id": n,
            "type": "message",
            "date": "2024-01-05T10:00:00",
            "date_unixtime": str(1704448800 + n),
            "from": "Zoë ❄️",
            "from_id": "user42",
            "text": f"message number {n} — 🍄 ünïcödé",
            "text_entities": [{"type": "plain", "text": f"message number {n} — 🍄 ünïcödé"}],
        }
        for n in range(1, count + 1)
    ]
    return {"name": "Big ❄️ group", "type": "private_supergroup", "id": 99, "messages": messages}


@pytest.mark.parametrize("chunk", [1, 3, 7, 64])
def test_tiny_chunks_split_records_and_characters(tmp_path, monkeypatch, chunk):
    reference = run(FIXTURES / "telegram_channel.json") + run(FIXTURES / "telegram_full_export.json")
    monkeypatch.setattr(jsondoc, "CHUNK_SIZE", chunk)
    out = run(FIXTURES / "telegram_channel.json") + run(FIXTURES / "telegram_full_export.json")
    assert [(o.id, o.text, o.source.line) for o in out] == [(o.id, o.text, o.source.line) for o in reference]


def test_document_is_read_incrementally(tmp_path, monkeypatch):
    path = tmp_path / "result.json"
    path.write_text(json.dumps(telegram_export(5000), indent=1, ensure_ascii=False))
    assert path.stat().st_size > 1_500_000
    held = []
    real_more = jsondoc.JsonDocument._more

    def spy(self, at_least=0):
        grew = real_more(self, at_least)
        held.append(len(self.buf))
        return grew

    monkeypatch.setattr(jsondoc.JsonDocument, "_more", spy)
    out = read([str(path)])
    first = next(out)
    assert first.id == "telegram:99/1" and len(held) <= 2  # the first item comes before the file is read
    rest = list(out)
    assert len(rest) == 4999 and rest[-1].id == "telegram:99/5000"
    assert max(held) < 3 * jsondoc.CHUNK_SIZE


def test_document_syntax_error_keeps_what_came_before(tmp_path):
    text = json.dumps(telegram_export(3), indent=1)
    broken = text.replace('"id": 2,', '"id": 2', 1)
    path = tmp_path / "result.json"
    path.write_text(broken)
    out = run(path)
    assert summary(out)[0] == "telegram:99/1"
    reject = out[1]
    assert len(out) == 2 and isinstance(reject, Reject)
    assert reject.reason.startswith("invalid JSON: Expecting ',' delimiter at line")
    assert reject.reason.endswith("the rest of the document cannot be read")
    assert broken.splitlines()[reject.line - 1].strip() == '"type": "message",'


def test_json_document_reader_direct():
    text = '[\n {"a": "ünï"},\n  12345,\n {"b": [1, 2, {"c": "d"}]}\n]\n'
    source = io.BytesIO(text.encode())
    doc = jsondoc.JsonDocument(text_reader(source), chunk_size=2)
    assert list(jsondoc.records(doc)) == [
        (2, {"a": "ünï"}, None),
        (3, 12345, None),
        (4, {"b": [1, 2, {"c": "d"}]}, None),
    ]


def test_every_record_gives_an_item_or_exactly_one_reject(tmp_path):
    records = [
        {"id": 1, "text": "fine"},
        "not json",
        {"id": 3, "text": ""},
        {"id": 4, "text": "fine", "created_at": "soon"},
        {"id": 5, "text": "fine"},
    ]
    path = tmp_path / "p.jsonl"
    path.write_text(jsonl(*records))
    lines = [o.source.line if isinstance(o, Item) else o.line for o in run(path)]
    assert lines == [1, 2, 3, 4, 5]


def test_documentation_beside_data_is_skipped(tmp_path):
    (tmp_path / "README.md").write_text("# what these files are\n")
    (tmp_path / "LICENSE").write_text("MIT\n")
    (tmp_path / "posts.jsonl").write_text(jsonl({"id": "p1", "text": "hello"}))
    out = run(tmp_path)
    assert [o.id for o in out] == ["generic:p1"]


def test_common_column_names_need_no_field_mapping(tmp_path):
    from plugwatch.sources import SourceOptions, read

    path = tmp_path / "export.csv"
    path.write_text(
        "post_id,site,user,content,timestamp,description,followers_count\n"
        '7,instagram,Plug_A,"hmu on wickr frostbyte22",2025-03-01T10:00:00Z,"wickr me: frostbyte22",120\n'
        "8,x,bob,nice weather,yesterday,,\n",
        encoding="utf-8",
    )
    first, second = list(read([str(path)], SourceOptions()))
    assert first.id == "instagram:7" and first.text == "hmu on wickr frostbyte22"
    assert first.author.key == "instagram:plug_a" and first.author.bio == "wickr me: frostbyte22"
    assert first.author.followers == 120 and first.created_at.year == 2025
    # A time found only through an alias that does not parse is dropped, not a reject.
    assert second.id == "x:8" and second.created_at is None
