"""Odd values anywhere in a real record never crash the reader and never leak into typed fields.

Every field of every fixture record is replaced, one at a time, by null, a string, a number and a
list; the reader must give items whose fields have the model's types, or a reject.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from plugwatch.model import Account, Item, MediaRef
from plugwatch.sources import Reject, SourceOptions, read

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
ODD_VALUES = (None, "x", 7, ["x"], {})


def field_paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from field_paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value[:2]):
            yield (*prefix, index)
            yield from field_paths(inner, (*prefix, index))


def mutations(record: dict) -> Iterator[dict]:
    for path in field_paths(record):
        for odd in ODD_VALUES:
            mutated = copy.deepcopy(record)
            target = mutated
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = odd
            yield mutated


def check_types(item: Item) -> None:
    assert isinstance(item.native_id, str) and item.native_id
    assert isinstance(item.text, str)
    for name in ("reply_to", "thread_id", "url", "lang"):
        assert getattr(item, name) is None or isinstance(getattr(item, name), str), name
    assert item.created_at is None or (isinstance(item.created_at, datetime) and item.created_at.tzinfo)
    assert all(isinstance(link, str) for link in item.links)
    assert all(isinstance(mention, str) for mention in item.mentions)
    assert all(isinstance(m, MediaRef) and (m.url is None or isinstance(m.url, str)) for m in item.media)
    assert item.reach is None or isinstance(item.reach, int)
    author = item.author
    if author is not None:
        assert isinstance(author, Account)
        for name in ("handle", "native_id", "display_name", "bio", "url"):
            assert getattr(author, name) is None or isinstance(getattr(author, name), str), name
        assert author.followers is None or isinstance(author.followers, int)


def read_all(path: Path, fmt: str) -> list[Item | Reject]:
    out = list(read([str(path)], SourceOptions(format=fmt)))
    for o in out:
        if isinstance(o, Item):
            check_types(o)
        else:
            assert isinstance(o, Reject) and o.reason and o.line > 0
    return out


@pytest.mark.parametrize(
    ("fixture", "fmt"),
    [
        ("x_search.jsonl", "x"),
        ("reddit_dump.ndjson", "reddit"),
        ("bluesky_jetstream.jsonl", "bluesky"),
        ("generic_posts.jsonl", "jsonl"),
    ],
)
def test_odd_values_in_line_records(tmp_path, fixture, fmt):
    records = [json.loads(line) for line in (FIXTURES / fixture).read_text().splitlines()]
    variants = [v for record in records for v in mutations(record)]
    path = tmp_path / "odd.jsonl"
    path.write_text("".join(json.dumps(v) + "\n" for v in variants))
    out = read_all(path, fmt)
    assert sum(isinstance(o, Item) for o in out) > len(variants) // 3


def test_odd_values_in_mastodon_statuses(tmp_path):
    statuses = json.loads((FIXTURES / "mastodon_timeline.json").read_text())
    variants = [v for status in statuses for v in mutations(status)]
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(variants, indent=1))
    out = read_all(path, "mastodon")
    # a status yields one item or one reject, never both and never nothing
    assert len(out) == len(variants)


def test_odd_values_in_telegram_messages_and_chat(tmp_path):
    chat = json.loads((FIXTURES / "telegram_channel.json").read_text())
    variants = [v for message in chat["messages"] for v in mutations(message)]
    path = tmp_path / "result.json"
    path.write_text(json.dumps({**chat, "messages": variants}, indent=1))
    assert any(isinstance(o, Item) for o in read_all(path, "telegram"))
    for head in ({**chat, "id": None}, {**chat, "type": 7}, {**chat, "name": ["x"]}):
        path.write_text(json.dumps(head, indent=1))
        read_all(path, "telegram")
