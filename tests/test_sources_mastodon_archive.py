"""A Mastodon account archive (outbox.json, actor.json, media_attachments/) read by `plugwatch scan`."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plugwatch.cli import app
from plugwatch.model import Item, ItemKind
from plugwatch.sources import Reject, SourceOptions, jsondoc, read
from plugwatch.sources.activitypub import BOOST

ARCHIVE = Path(__file__).parent / "fixtures" / "mastodon_archive"
OUTBOX = ARCHIVE / "outbox.json"
REST = Path(__file__).parent / "fixtures" / "sources" / "mastodon_timeline.json"


def split(out) -> tuple[list[Item], list[Reject]]:
    out = list(out)
    return [o for o in out if isinstance(o, Item)], [o for o in out if isinstance(o, Reject)]


def test_outbox_notes_become_mastodon_items():
    items, rejects = split(read([str(OUTBOX)]))
    assert [i.id for i in items] == [
        "mastodon:111722233344455566",
        "mastodon:111722600000000002",
        "mastodon:111722700000000004",
        "mastodon:111722800000000005",
        "mastodon:111722900000000006",
    ]
    offer, german_reply, picture, remote_reply, direct = items
    assert all(i.platform == "mastodon" for i in items)

    # HTML to text as the REST reader does it: entities unescaped, <br> and paragraphs kept as newlines,
    # the hidden parts of a shortened link kept, hashtag and mention links not counted as links
    assert offer.text == (
        "🍃 Fresh Amnesia Haze & Gelato 41 in 🔥\n5g €45 · 10g €80 · 28g €200\n\n"
        "DM or tele: @greenleaf_ams_bot — menu: https://greenleaf-menu.example/amsterdam/menu-jan #weed"
    )
    assert offer.links == ["https://greenleaf-menu.example/amsterdam/menu-jan"]
    assert offer.kind is ItemKind.POST and offer.reply_to is None and offer.lang == "en"
    assert offer.created_at == datetime(2024, 1, 8, 21, 4, 5, tzinfo=UTC)
    assert offer.url == "https://mastodon.social/@greenleaf_ams/111722233344455566"
    assert offer.source.path == str(OUTBOX) and offer.source.line == 1  # Mastodon writes it on one line
    assert offer.raw["type"] == "Create"

    # the author is the archive's own profile (actor.json beside the outbox)
    author = offer.author
    assert author.key == "mastodon:greenleaf_ams@mastodon.social"
    assert author.display_name == "GreenLeaf 🍃 AMS" and author.url == "https://mastodon.social/@greenleaf_ams"
    assert author.bio == (
        "Quality greens & hash 🇳🇱\nEU shipping, NL same day\nSession: 05e7a1b2c3d4\n"
        "Telegram: @greenleaf_ams_bot\nMenu: https://greenleaf-menu.example"
    )
    assert author.created_at == datetime(2023, 12, 28, tzinfo=UTC)

    # a reply to a post on the same instance links to it; mentions are global handles
    assert german_reply.kind is ItemKind.REPLY and german_reply.lang == "de"
    assert german_reply.reply_to == "mastodon:111722590000000001"
    assert german_reply.text == (
        '@kiezkoenig @ruth Lieferung nach Berlin "diskret" ab 50\u202fg, Gras & Hasch, '
        "schreib mir auf Telegram @greenleaf_ams_bot"
    )
    assert german_reply.mentions == ["kiezkoenig@mastodon.social", "ruth@chaos.social"]

    # the content warning above the post; the picture is the archive's file, with its alt text
    assert picture.text == "menu & prices\n\nnew menu 👇"
    (photo,) = picture.media
    relative = "media_attachments/files/111/722/699/000/000/001/original/3f2a9c1d.png"
    assert photo.kind == "photo" and photo.url == relative
    assert photo.path == str(ARCHIVE / relative) and Path(photo.path).is_file() and photo.warning is None
    assert photo.alt == "Menu: 5g 45€, 10g 80€, tele @greenleaf_ams_bot"

    # a reply to another instance's post: a reply, but that post's id there is not this instance's id
    assert remote_reply.kind is ItemKind.REPLY and remote_reply.reply_to is None

    # a direct message (addressed neither to the public nor to followers) is kept, as one
    assert direct.kind is ItemKind.DIRECT_MESSAGE and "pay in XMR" in direct.text

    # the boost is rejected, at its line, saying why
    (boost,) = rejects
    assert boost.reason == BOOST and boost.path == str(OUTBOX) and boost.line == 1
    assert "https://chaos.social/users/ruth/statuses/111722640000000000" in boost.raw


def test_same_post_from_rest_api_and_archive_is_one_item():
    rest, _ = split(read([str(REST)]))
    archive, _ = split(read([str(OUTBOX)]))
    from_api = next(i for i in rest if i.id == "mastodon:111722233344455566")
    from_archive = next(i for i in archive if i.id == from_api.id)
    assert from_archive.text == from_api.text and from_archive.links == from_api.links
    assert from_archive.author.key == from_api.author.key and from_archive.author.bio == from_api.author.bio
    assert from_archive.url == from_api.url and from_archive.created_at == from_api.created_at


def test_without_actor_json_the_author_comes_from_the_note(tmp_path):
    shutil.copy(OUTBOX, tmp_path / "outbox.json")
    items, _ = split(read([str(tmp_path / "outbox.json")]))
    author = items[0].author
    assert author.handle == "greenleaf_ams@mastodon.social" and author.display_name is None and author.bio is None
    assert author.url == "https://mastodon.social/users/greenleaf_ams"


def test_actor_json_is_read_once_per_file(tmp_path, monkeypatch):
    from plugwatch.sources import activitypub

    calls = []
    real = activitypub.account_from_actor
    monkeypatch.setattr(activitypub, "account_from_actor", lambda actor: calls.append(1) or real(actor))
    items, _ = split(read([str(OUTBOX)]))
    assert len(items) == 5 and calls == [1]
    assert items[0].author is not items[1].author  # each item its own copy


def test_archive_folder_reads_only_the_outbox():
    """The unzipped archive: likes, bookmarks, avatar and media files are not read as posts."""
    items, rejects = split(read([str(ARCHIVE)]))
    assert len(items) == 5 and [r.reason for r in rejects] == [BOOST]
    assert {i.source.path for i in items} == {str(OUTBOX)}


def test_a_zip_says_to_unzip_it(tmp_path):
    archive = tmp_path / "archive-20240109.zip"
    shutil.make_archive(str(archive.with_suffix("")), "zip", ARCHIVE)
    (reject,) = read([str(archive)])
    assert isinstance(reject, Reject) and "a zip archive: unzip it" in reject.reason and "outbox.json" in reject.reason


def test_bad_records_are_rejected_and_the_rest_goes_on(tmp_path):
    outbox = json.loads(OUTBOX.read_text())
    notes = outbox["orderedItems"]
    bad_time = json.loads(json.dumps(notes[0]))
    bad_time["object"]["published"] = "last tuesday"
    bad_time["object"]["id"] += "7"
    no_id = json.loads(json.dumps(notes[0]))
    del no_id["object"]["id"]
    empty = json.loads(json.dumps(notes[0]))
    empty["object"]["content"] = "<p></p>"
    empty["object"]["id"] += "8"
    address_only = {"type": "Create", "actor": notes[0]["actor"], "object": notes[0]["object"]["id"]}
    follow = {"type": "Create", "actor": notes[0]["actor"], "object": {"type": "Follow", "id": "x"}}
    outbox["orderedItems"] = [bad_time, no_id, "not an object", empty, address_only, follow, *notes]
    # pretty-printed this time, so each record has its own line
    path = tmp_path / "outbox.json"
    path.write_text(json.dumps(outbox, indent=2, ensure_ascii=False))
    items, rejects = split(read([str(path)]))
    assert len(items) == 5
    assert [r.reason for r in rejects] == [
        "published is not a date or time: 'last tuesday'",
        "Note without an id",
        "record is not a JSON object",
        "record has no text",
        "a Create activity whose object is only an address, not the post",
        "a Create of a 'Follow', not of a Note",
        BOOST,
    ]
    lines = [r.line for r in rejects]
    assert lines == sorted(lines) and len(set(lines)) == len(lines) and lines[0] > 1
    assert items[0].source.line > lines[-2]


def test_outbox_is_streamed_not_loaded_whole(tmp_path, monkeypatch):
    """A big outbox on one line is read array element by array element, in chunks."""
    outbox = json.loads(OUTBOX.read_text())
    note = outbox["orderedItems"][0]
    many = []
    for n in range(700):  # over 1 MB: past the first-line read-ahead (Peeked.LINE_LIMIT)
        copy = json.loads(json.dumps(note))
        copy["object"]["id"] = copy["object"]["id"].replace("455566", f"{n:06d}")
        many.append(copy)
    outbox["orderedItems"] = many
    path = tmp_path / "outbox.json"
    path.write_text(json.dumps(outbox, ensure_ascii=False, separators=(",", ":")))
    monkeypatch.setattr(jsondoc, "CHUNK_SIZE", 4096)
    largest = 0
    real_more = jsondoc.JsonDocument._more

    def more(self, at_least=0):
        nonlocal largest
        grew = real_more(self, at_least)
        largest = max(largest, len(self.buf))
        return grew

    monkeypatch.setattr(jsondoc.JsonDocument, "_more", more)
    items, rejects = split(read([str(path)]))
    assert len(items) == 700 and not rejects and len({i.id for i in items}) == 700
    assert path.stat().st_size > (1 << 20)
    assert largest < path.stat().st_size / 10


def test_forced_format_names():
    for name in ("mastodon-archive", "outbox", "ActivityPub"):
        items, rejects = split(read([str(OUTBOX)], SourceOptions(format=name)))
        assert len(items) == 5 and len(rejects) == 1


def test_rest_direct_status_is_a_direct_message(tmp_path):
    statuses = json.loads(REST.read_text())
    statuses[0]["visibility"] = "direct"
    path = tmp_path / "timeline.json"
    path.write_text(json.dumps(statuses))
    items, _ = split(read([str(path)]))
    assert items[0].kind is ItemKind.DIRECT_MESSAGE and items[1].kind is ItemKind.REPLY


@pytest.mark.parametrize("target", ["outbox", "folder"])
def test_scan_reads_the_archive(tmp_path, target):
    out = tmp_path / "scan.jsonl"
    source = OUTBOX if target == "outbox" else ARCHIVE
    result = CliRunner().invoke(app, ["scan", str(source), "-o", str(out), "--no-model", "--no-images"])
    assert result.exit_code == 3, result.output  # done, with the boost rejected
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records][:2] == ["mastodon:111722233344455566", "mastodon:111722600000000002"]
    offer = records[0]
    assert any(i["canonical"] == "telegram:greenleaf_ams_bot" for i in offer["identifiers"])
    rejects = [json.loads(line) for line in (tmp_path / "scan.rejects.jsonl").read_text().splitlines()]
    assert [r["reason"] for r in rejects] == [BOOST]


def test_other_shapes_activitypub_allows(tmp_path):
    """Values ActivityPub lets be a string, an object or a list: read, not rejected as malformed."""
    outbox = json.loads(OUTBOX.read_text())
    create = outbox["orderedItems"][3]  # the picture
    note = create["object"]
    note["attributedTo"] = {"type": "Person", "id": note["attributedTo"]}
    note["to"], note["cc"] = "https://www.w3.org/ns/activitystreams#Public", None
    note["tag"] = {"type": "Mention", "href": "https://chaos.social/users/ruth", "name": "@ruth@chaos.social"}
    note["attachment"] = {"type": "Document", "mediaType": "video/mp4", "name": None,
                          "url": {"type": "Link", "href": "https://files.example/v.mp4"}}
    note["url"] = [{"type": "Link", "href": "https://mastodon.social/@greenleaf_ams/111722700000000004"}]
    del note["contentMap"]
    outbox["orderedItems"] = [create, note]  # the Note alone (not wrapped in a Create) is read too
    path = tmp_path / "outbox.json"
    path.write_text(json.dumps(outbox))
    items, rejects = split(read([str(path)]))
    assert not rejects and len(items) == 2 and items[0].id == items[1].id == "mastodon:111722700000000004"
    item = items[0]
    assert item.author.handle == "greenleaf_ams@mastodon.social" and item.kind is ItemKind.POST
    assert item.mentions == ["ruth@chaos.social"] and item.lang is None
    assert [(m.kind, m.url, m.path) for m in item.media] == [("video", "https://files.example/v.mp4", None)]
    assert item.url == "https://mastodon.social/@greenleaf_ams/111722700000000004"
