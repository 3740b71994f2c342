"""Every reader of plugwatch's own scan output tells it apart from other records by the same marks: the
generic reader (`scan`, `ingest`) keeps such a record's id, kind and account, a Parquet file is scan output
by its columns, and `networks` takes a file as scan output (not scored again) by its first record."""

from __future__ import annotations

import json

import pytest

from plugwatch.model import Account, Item, ItemKind
from plugwatch.network.inputs import scan_file_kind
from plugwatch.records import scan_record
from plugwatch.sources import Reject, read

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

WRITTEN_BY_SCAN = scan_record(
    Item(platform="mastodon", native_id="1120", text="selling, dm me", kind=ItemKind.REPLY,
         author=Account("mastodon", handle="plug@example.social"), reply_to="mastodon:1119"),
    [], None)

RECORDS = {
    "written by scan": (WRITTEN_BY_SCAN, True),
    # the shape `networks` documents and other tools write: no item_kind, no reasons
    "scan-shaped without item_kind or reasons": (
        {"id": "x:1", "platform": "x", "author": "x:plug", "text": "wickr plug99", "identifiers": [],
         "score": 0.9}, True),
    # not scan output: no identifiers, no score
    "item_kind and reasons only": (
        {"id": "mastodon:7", "platform": "mastodon", "item_kind": "post", "author": "mastodon:bob",
         "text": "menu in bio", "reasons": []}, False),
    "generic post": ({"id": "7", "platform": "x", "author": "bob", "text": "hello"}, False),
    "Reddit-like row with a score": ({"id": "t1_7", "author": "bob", "text": "hi", "score": 12}, False),
}


def _jsonl(record: dict, tmp_path) -> str:
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return str(path)


def _parquet(record: dict, tmp_path) -> str:
    """The record as a Parquet row, nested values as JSON text (as `--out-format parquet` writes them)."""
    row = {k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in record.items()}
    path = tmp_path / "one.parquet"
    pq.write_table(pa.Table.from_pylist([row]), path)
    return str(path)


def _kept_as_it_was(path: str, rid: str) -> bool:
    """Whether the generic reader read the record back as the item it was: reading it as a generic post
    prefixes the platform to its id again (`x:1` becomes `x:x:1`)."""
    [item] = [x for x in read([path]) if not isinstance(x, Reject)]
    return item.id == rid


@pytest.mark.parametrize("name", list(RECORDS))
def test_every_reader_recognises_scan_output_alike(name, tmp_path):
    record, scanned = RECORDS[name]
    as_jsonl, as_parquet = _jsonl(record, tmp_path), _parquet(record, tmp_path)
    answers = {
        "generic reader, JSONL": _kept_as_it_was(as_jsonl, record["id"]),
        "generic reader, Parquet": _kept_as_it_was(as_parquet, record["id"]),
        "networks, JSONL": scan_file_kind(as_jsonl, lambda rej: None) == "jsonl",
        "networks, Parquet": scan_file_kind(as_parquet, lambda rej: None) == "parquet",
    }
    assert answers == dict.fromkeys(answers, scanned)


def test_a_scan_shaped_record_without_item_kind_keeps_its_id_and_account(tmp_path):
    record = RECORDS["scan-shaped without item_kind or reasons"][0]
    [item] = read([_jsonl({**record, "reply_to": "x:0"}, tmp_path)])
    assert (item.id, item.kind, item.author.key) == ("x:1", ItemKind.REPLY, "x:plug")


def test_the_files_a_cluster_scan_writes_are_the_ones_its_readers_know(tmp_path):
    """The names `scan --cluster` writes (plugwatch.cluster.scan) come from plugwatch.sources.run_files,
    where the folder walk and `networks` read them too."""
    from plugwatch.network.inputs import stale_parts
    from plugwatch.sources.inputs import walk
    from plugwatch.sources.run_files import (
        PARTS,
        REJECTS_SUFFIX,
        SUCCESS,
        is_run_byproduct,
        part_data_format,
        part_index,
        part_name,
    )

    data, rejects = part_name(7) + ".parquet", part_name(7) + REJECTS_SUFFIX
    assert (part_data_format(data), part_data_format(rejects), part_data_format("part-7.jsonl")) == ("parquet", None, None)
    assert part_index(data) == part_index(rejects) == part_index(part_name(7) + ".json") == 7
    assert is_run_byproduct(rejects) and is_run_byproduct(SUCCESS) and not is_run_byproduct(data)
    for name in (data, rejects, SUCCESS, f"{PARTS}/{part_name(7)}.json"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("{}\n")
    assert [p for p, _ in walk(str(tmp_path))] == [str(tmp_path / data)]
    (tmp_path / (part_name(8) + ".jsonl")).write_text("{}\n")
    assert "two scans" in stale_parts([str(tmp_path)])


def test_scan_output_as_parquet_reads_back_as_its_json_lines_twin(tmp_path):
    """`--out-format parquet` keeps media, identifiers and reasons as JSON text; reading the file back
    (ingest) decodes them, so a picture is its URL, not a local file named after the JSON."""
    from plugwatch.model import MediaRef
    from plugwatch.sources.parquet import ScanParquetWriter

    item = Item(platform="x", native_id="5", text="menu 👇", author=Account("x", handle="plug", bio="uk plug"),
                media=[MediaRef(url="https://example.com/menu.jpg", kind="photo", alt="price list")])
    rec = scan_record(item, [], None)
    writer = ScanParquetWriter(tmp_path / "scan.parquet")
    writer.write(rec)
    writer.close()
    [from_jsonl] = read([_jsonl(rec, tmp_path)])
    [from_parquet] = read([str(tmp_path / "scan.parquet")])
    assert from_parquet.media == from_jsonl.media and from_parquet.media[0].url == "https://example.com/menu.jpg"
    assert from_parquet.raw["media"] == rec["media"]
