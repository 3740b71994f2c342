"""Each platform importer maps the real export shape onto Item / Account correctly."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from plugwatch.model import Item, ItemKind
from plugwatch.sources import FORMATS, Reject, SourceOptions, read

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def read_fixture(name: str, **options) -> tuple[list[Item], list[Reject]]:
    out = list(read([str(FIXTURES / name)], SourceOptions(**options)))
    return [o for o in out if isinstance(o, Item)], [o for o in out if isinstance(o, Reject)]


def by_id(items: list[Item]) -> dict[str, Item]:
    return {item.id: item for item in items}


# -- X ------------------------------------------------------------------------------------------


def test_x_search_pages_map_tweets_users_links_and_media():
    items, rejects = read_fixture("x_search.jsonl")
    assert rejects == []  # the empty last page (result_count 0) is not an error
    assert [i.id for i in items] == [
        "x:1744772398871191552",
        "x:1744780011122233344",
        "x:1744901234567890123",
    ]
    offer, reply, long_post = items

    assert offer.platform == "x" and offer.kind is ItemKind.POST
    assert "tele: @plugdirect | wickr: icecold99" in offer.text
    assert offer.created_at == datetime(2024, 1, 9, 18, 2, 44, tzinfo=UTC)
    # t.co is expanded from entities; the photo's own pic.x.com link is media, not a link
    assert offer.links == ["https://linktr.ee/plugdirect_menu"]
    assert offer.mentions == ["plugdirect"]
    assert [(m.kind, m.url) for m in offer.media] == [
        ("photo", "https://pbs.twimg.com/media/GDaBcDeXwAAq1Zz.jpg")
    ]
    assert offer.reach == 31 + 9 + 4 + 1
    assert offer.lang == "en"
    assert offer.thread_id == "x:1744772398871191552"
    assert offer.url == "https://x.com/nightowl_rx/status/1744772398871191552"
    assert offer.source.line == 1 and offer.source.path.endswith("x_search.jsonl")
    assert offer.raw["id"] == "1744772398871191552"

    author = offer.author
    assert author.key == "x:nightowl_rx"
    assert author.native_id == "1601100200300400500"
    assert author.display_name == "Night Owl Rx 🦉"
    assert author.followers == 412
    assert author.created_at == datetime(2023, 12, 20, 3, 11, 9, tzinfo=UTC)
    assert author.bio == "Pharma grade 💯 fast & discreet 📦 menu https://t.me/nightowl_menu no LE"
    assert author.url == "https://nightowl-rx.shop"

    assert reply.kind is ItemKind.REPLY
    assert reply.reply_to == "x:1744772398871191552"
    assert reply.author.handle == "dana_w" and reply.author.bio == "Texas. Dog mum. Opinions my own."

    # note_tweet holds the full long post; `text` is cut at 280 characters
    assert long_post.text.endswith("thanks to @harmreductionUK for the help drafting it.")
    assert "…" not in long_post.text
    assert long_post.links == ["https://www.county.gov/health/needle-exchange-2023.pdf"]
    assert long_post.mentions == ["harmreductionUK"]
    assert long_post.source.line == 2


def test_x_single_response_document_with_data_object():
    items, rejects = read_fixture("x_tweet_lookup.json")
    assert rejects == []
    (item,) = items
    assert item.id == "x:1745000000000000001"
    assert item.author.url == "https://x.com/dana_w"  # no website: the profile page
    assert item.reach == 7


def test_x_error_response_and_tweet_without_id_are_rejected(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(
        '{"data": [{"id": "1", "text": "hi there", "author_id": "9"}]}\n'
        '{"errors": [{"title": "Not Found Error", "detail": "Could not find tweet with id: [2]."}]}\n'
        '{"data": [{"text": "no id here"}]}\n'
    )
    out = list(read([str(path)]))
    assert isinstance(out[0], Item) and out[0].author.native_id == "9" and out[0].author.handle is None
    assert out[1].line == 2 and out[1].reason == "X API error response: Could not find tweet with id: [2]."
    assert out[2].line == 3 and "has no id" in out[2].reason


def test_a_bad_tweet_of_a_page_is_its_own_reject_and_the_rest_of_the_page_is_read(tmp_path):
    import json

    path = tmp_path / "page.jsonl"
    page = {"data": [{"id": "1", "text": "bars 2mg hit my tg @barsx", "author_id": "9"},
                     {"id": "2", "author_id": "9"},  # no text
                     {"id": "3", "text": "ok", "created_at": "not-a-date"},
                     "not a tweet",
                     {"id": "5", "text": "still read"}],
            "includes": {"users": [{"id": "9", "username": "barsx"}]}}
    path.write_text(json.dumps(page) + "\n" + json.dumps({"data": {"id": "6", "text": "hi", "created_at": "never"}}) + "\n")
    out = list(read([str(path)]))
    assert [o.id for o in out if isinstance(o, Item)] == ["x:1", "x:5"]
    assert out[0].author.handle == "barsx"
    rejects = [(o.line, o.reason) for o in out if isinstance(o, Reject)]
    assert rejects == [(1, "tweet 2 of the page (id 2): record has no text"),
                       (1, "tweet 3 of the page (id 3): created_at is not a date or time: 'not-a-date'"),
                       (1, "tweet 4 of the page: not an X API v2 response: a tweet in 'data' has no id"),
                       (2, "created_at is not a date or time: 'never'")]  # a response of one tweet, as a record
    assert json.loads(out[1].raw) == page["data"][1]  # the tweet, not the page, goes to the rejects file


def test_an_x_account_archive_gives_its_tweets_by_the_archives_owner():
    """tweets.js is a JavaScript assignment of the tweets; account.js beside it names their author."""
    out = list(read([str(FIXTURES / "x_archive")]))
    rejects = [(Path(o.path).name, o.line, o.reason) for o in out if isinstance(o, Reject)]
    assert rejects == [("account.js", 0, "an X archive's account file holds no posts (they are in tweets.js)"),
                       ("tweets.js", 37, "record has no text")]
    menu, reply = [o for o in out if isinstance(o, Item)]
    assert (menu.id, menu.source.line, menu.kind) == ("x:1790000000000000001", 2, ItemKind.POST)
    assert menu.author.key == "x:snowline_uk" and menu.author.native_id == "1500000000000000000"
    assert menu.created_at == datetime(2024, 5, 13, 9, 0, tzinfo=UTC) and menu.lang == "en"
    assert menu.links == ["https://t.me/snowline_menu"] and "menu on tele" in menu.text
    assert menu.url == "https://x.com/snowline_uk/status/1790000000000000001"
    assert reply.kind is ItemKind.REPLY and reply.reply_to == "x:1789999999999999999" and reply.mentions == ["anna_k"]


def test_an_x_archive_without_its_account_file_still_links_each_tweet(tmp_path):
    """Without account.js the author is unknown, and x.com/i/web/status/ID opens the tweet, as for the API."""
    shutil.copy(FIXTURES / "x_archive" / "tweets.js", tmp_path / "tweets.js")
    items = [o for o in read([str(tmp_path / "tweets.js")]) if isinstance(o, Item)]
    assert items and all(i.author is None for i in items)
    assert items[0].url == "https://x.com/i/web/status/1790000000000000001"


# -- Telegram -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["telegram_channel.json", "telegram_full_export.json"])
def test_a_telegram_export_written_on_one_line_is_read_as_the_export(tmp_path, name):
    import json

    compact = tmp_path / name
    compact.write_text(json.dumps(json.loads((FIXTURES / name).read_text(encoding="utf-8")), ensure_ascii=False),
                       encoding="utf-8")  # as `jq -c` or json.dump write it
    pretty, _ = read_fixture(name)
    # JSON lines that only look like chats (a "messages" list, a type) stay one record per line
    lines = tmp_path / "threads.jsonl"
    lines.write_text("".join(json.dumps({"name": f"t{i}", "type": "thread", "body": f"selling xanax {i}",
                                         "messages": [{"body": "hi"}]}) + "\n" for i in range(3)), encoding="utf-8")
    assert [o.text for o in read([str(lines)])] == ["selling xanax 0", "selling xanax 1", "selling xanax 2"]
    for options in ({}, {"format": "telegram"}):
        out = list(read([str(compact)], SourceOptions(**options)))
        assert [o.id for o in out] == [i.id for i in pretty] and [o.text for o in out] == [i.text for i in pretty]


def test_telegram_channel_export():
    items, rejects = read_fixture("telegram_channel.json")
    assert rejects == []  # service messages (create, pin) give neither items nor rejects
    got = by_id(items)
    assert list(got) == [f"telegram:1876543210/{n}" for n in (2, 3, 4, 5, 6)]
    menu = got["telegram:1876543210/2"]
    assert menu.kind is ItemKind.CHANNEL_MESSAGE
    assert menu.thread_id == "telegram:1876543210"
    assert menu.text.startswith("🔌 NEW MENU 🔌\n❄️ Peruvian flake")
    assert "DM @plugdirect or wickr: icecold99" in menu.text
    assert menu.text.endswith("BTC only: bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")
    assert menu.links == ["https://t.me/plugdirect_menu"]
    assert menu.mentions == ["plugdirect"]
    # date_unixtime wins over `date`, which is the exporting computer's local time (UTC+1 here)
    assert menu.created_at == datetime(2024, 1, 5, 10, 0, tzinfo=UTC)
    assert menu.author.native_id == "channel1876543210" and menu.author.display_name == "Plug Direct 🔌 UK"
    assert menu.source.line == 18

    photo_only = got["telegram:1876543210/4"]
    assert photo_only.text == "" and photo_only.media[0].kind == "photo"
    assert photo_only.media[0].url == "photos/photo_4@05-01-2024_12-30-00.jpg"

    restock = got["telegram:1876543210/5"]
    assert restock.reply_to == "telegram:1876543210/2"
    assert restock.text == "RESTOCKED the M30s ☝️ order via our bot or call +44 7700 900123"
    assert restock.links == ["https://t.me/plugdirect_bot?start=menu"]


def test_telegram_full_export_old_style_text_lists_and_chat_kinds():
    items, rejects = read_fixture("telegram_full_export.json")
    assert rejects == []
    got = by_id(items)
    assert list(got) == [
        "telegram:5550002/101",
        "telegram:5550002/102",
        "telegram:5550002/103",
        "telegram:4440001/2",
        "telegram:4440001/3",
    ]
    dm = got["telegram:5550002/103"]
    assert dm.kind is ItemKind.DIRECT_MESSAGE
    assert dm.text == "np, menu here if u change ur mind https://t.me/+AbCdEfGhIjK ask for @snowman_uk"
    assert dm.links == ["https://t.me/+AbCdEfGhIjK"] and dm.mentions == ["snowman_uk"]
    assert got["telegram:5550002/102"].reply_to == "telegram:5550002/101"
    assert got["telegram:5550002/101"].created_at == datetime(2023, 12, 1, 20, 14, 3, tzinfo=UTC)
    group = got["telegram:4440001/2"]
    assert group.kind is ItemKind.POST and group.author.native_id == "user5550001"
    assert got["telegram:4440001/3"].text == "Which evening works?\nThursday\nFriday"  # a poll-only message


def test_telegram_message_without_text_or_media_is_rejected(tmp_path):
    path = tmp_path / "result.json"
    path.write_text(
        '{\n "name": "g",\n "type": "private_group",\n "id": 7,\n "messages": [\n'
        '  {"id": 1, "type": "message", "date": "2024-01-01T00:00:00", "from": "a", "from_id": "user1",'
        ' "text": "", "text_entities": []},\n'
        '  {"id": 2, "type": "message", "date": "2024-01-01T00:00:01", "from": "a", "from_id": "user1",'
        ' "text": "ok", "text_entities": [{"type": "plain", "text": "ok"}]}\n ]\n}\n'
    )
    out = list(read([str(path)]))
    assert isinstance(out[0], Reject) and out[0].reason == "record has no text" and out[0].line == 6
    assert isinstance(out[1], Item) and out[1].id == "telegram:7/2" and out[1].source.line == 7


# -- Reddit -------------------------------------------------------------------------------------


def test_reddit_dump_comments_and_submissions():
    items, rejects = read_fixture("reddit_dump.ndjson")
    got = by_id(items)
    post = got["reddit:t3_18z2k1p"]
    assert post.kind is ItemKind.POST
    assert post.text.startswith(
        "90 days clean today\n\nNever thought I'd write this. Withdrawal was hell & the"
    )
    assert post.url == "https://www.reddit.com/r/opiates/comments/18z2k1p/90_days_clean_today/"
    assert post.author.handle == "throwaway_recov22" and post.author.native_id == "t2_nq8v1x0c"
    assert post.author.created_at == datetime.fromtimestamp(1700000000, UTC)
    assert post.reach == 412 + 3 and post.links == []

    offer = got["reddit:t1_kgz3b77"]
    assert offer.kind is ItemKind.COMMENT
    assert offer.reply_to == "reddit:t1_kgz1a01" and offer.thread_id == "reddit:t3_18z2k1p"
    assert offer.created_at == datetime.fromtimestamp(1704549321, UTC)  # created_utc given as a string
    assert "1BoatSLRHtKNngkdXEeobR76b53LETtpyT" in offer.text
    assert got["reddit:t1_kgz1a01"].text.endswith("it gets easier > promise.")  # &gt; unescaped

    removed = got["reddit:t3_18z9x0q"]
    assert removed.text == "Fresh batch, NZ wide, Telegram only"  # "[removed]" selftext left out
    assert got["reddit:t3_18za111"].media[0].url == "https://i.redd.it/8xk2l9b0vzac1.jpeg"
    assert got["reddit:t3_18zb222"].links == ["https://www.bbc.co.uk/news/uk-england-suffolk-00000000"]
    assert got["reddit:t3_18zb222"].author.native_id is None

    (deleted,) = rejects
    assert deleted.line == 4 and deleted.reason == "record has no text (deleted)"
    assert '"id": "kgz4c88"' in deleted.raw


def test_reddit_created_utc_float():
    fmt = FORMATS["reddit"]
    assert fmt.sniff({"subreddit": "x", "created_utc": 1.5e9, "body": "hi"})
    out = list(read([str(FIXTURES / "reddit_dump.ndjson")]))
    assert all(not isinstance(o, Item) or o.created_at.tzinfo is not None for o in out)


# -- Mastodon -----------------------------------------------------------------------------------


def test_mastodon_timeline_html_boost_reply_and_media_only():
    items, rejects = read_fixture("mastodon_timeline.json")
    assert rejects == []
    offer, reply, boosted, picture = items

    assert offer.id == "mastodon:111722233344455566"
    assert offer.text == (
        "🍃 Fresh Amnesia Haze & Gelato 41 in 🔥\n5g €45 · 10g €80 · 28g €200\n\n"
        "DM or tele: @greenleaf_ams_bot — menu: https://greenleaf-menu.example/amsterdam/menu-jan #weed"
    )
    assert offer.links == ["https://greenleaf-menu.example/amsterdam/menu-jan"]  # not the #weed tag link
    assert offer.reach == 6 and offer.lang == "en"
    assert offer.url == "https://mastodon.social/@greenleaf_ams/111722233344455566"
    author = offer.author
    assert author.handle == "greenleaf_ams@mastodon.social"  # local acct made global from account.url
    assert author.display_name == "GreenLeaf 🍃 AMS"
    assert author.bio.startswith("Quality greens & hash 🇳🇱\nEU shipping, NL same day\nSession: 05e7a1b2c3d4")
    assert (
        "Telegram: @greenleaf_ams_bot" in author.bio and "Menu: https://greenleaf-menu.example" in author.bio
    )
    assert author.followers == 37
    assert author.created_at == datetime(2023, 12, 28, tzinfo=UTC)

    assert reply.kind is ItemKind.REPLY and reply.reply_to == "mastodon:111722233344455566"
    assert reply.text == "@greenleaf_ams reported. Selling drugs on a general instance isn't it."
    assert reply.mentions == ["greenleaf_ams@mastodon.social"]
    assert reply.author.handle == "ruth@fosstodon.org"

    # A boost is read as the boosted status (its id, author, text)
    assert boosted.id == "mastodon:111722400000000007"
    assert boosted.author.handle == "tomasz@mastodon.social" and boosted.lang == "pl"
    assert boosted.media[0].kind == "photo"

    assert picture.text == "" and len(picture.media) == 1


def test_mastodon_html_text():
    from plugwatch.sources.mastodon import html_links, html_text

    markup = '<p>a &amp; b<br/>c</p><p>d <a href="https://x.example/?a=1&amp;b=2">x</a></p>'
    assert html_text(markup) == "a & b\nc\n\nd x"
    assert html_links(markup) == ["https://x.example/?a=1&b=2"]


# -- Bluesky ------------------------------------------------------------------------------------


def test_bluesky_jetstream_posts_facets_reply_and_skips():
    items, rejects = read_fixture("bluesky_jetstream.jsonl")
    assert rejects == []  # identity, like, delete and account events are skipped without a reject
    assert [i.source.line for i in items] == [1, 3, 6]
    offer, reply, photo = items

    assert offer.native_id == "at://did:plc:k7xq2mz4yq3n5vb6wrs7t8ua/app.bsky.feed.post/3l3qo2vutsw2b"
    assert offer.url == "https://bsky.app/profile/did:plc:k7xq2mz4yq3n5vb6wrs7t8ua/post/3l3qo2vutsw2b"
    # facets index UTF-8 bytes; the text before them has multi-byte emoji, so char offsets would be off
    assert offer.mentions == ["schneemann-b.bsky.social"]
    assert offer.links == ["https://linktr.ee/schneemann_berlin_420"]  # the text shows it shortened
    assert offer.text.endswith("linktr.ee/schneemann_b…")
    assert offer.lang == "de"
    assert offer.created_at == datetime(2024, 9, 9, 19, 46, 2, 102000, tzinfo=UTC)
    assert offer.author.native_id == "did:plc:k7xq2mz4yq3n5vb6wrs7t8ua" and offer.author.handle is None

    assert reply.kind is ItemKind.REPLY
    assert reply.reply_to == "bluesky:" + offer.native_id and reply.thread_id == "bluesky:" + offer.native_id
    assert reply.author.handle == "mira.bsky.social"  # learned from the identity event before it

    assert photo.text == "" and photo.media[0].kind == "photo"
    assert photo.media[0].url.endswith(
        "/did:web:bakery-news.example/bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy@jpeg"
    )


# -- generic ------------------------------------------------------------------------------------


def test_generic_csv_with_quoted_multiline_field():
    items, rejects = read_fixture("generic_posts.csv")
    assert rejects == []
    assert [(i.id, i.source.line) for i in items] == [
        ("instagram:g-1001", 2),
        ("instagram:g-1002", 3),  # its text spans lines 3-6
        ("facebook:g-1003", 7),
        ("facebook:g-1004", 8),
    ]
    menu = items[1]
    assert menu.text == (
        'Menu for this weekend:\n- "Blue Dream" 3.5g £30\n- M30s 10 for £150\n'
        "Same day drop, message on signal +44 7700 900123"
    )
    assert menu.created_at == datetime.fromtimestamp(1706796000, UTC)  # epoch seconds
    assert menu.author.key == "instagram:plug_direct_uk" and menu.url.startswith(
        "https://www.instagram.com/p/"
    )
    assert items[2].created_at == datetime(2024, 2, 1, 18, 20, tzinfo=UTC)  # no zone: UTC
    assert items[3].kind is ItemKind.REPLY and items[3].reply_to == "facebook:g-1003"
    assert items[0].raw["author"] == "@plug_direct_uk"


def test_generic_jsonl_ids_authors_and_times():
    items, rejects = read_fixture("generic_posts.jsonl")
    assert rejects == []
    first, second, no_id, reply = items
    assert first.id == "tiktok:tt-7321"
    assert second.author.handle == "gigfan_ellie" and second.author.bio == "music, cats, coffee"
    assert second.author.followers == 312 and second.author.display_name == "Ellie"
    assert second.created_at == datetime.fromtimestamp(1709377200, UTC)
    # no id: a stable hash of author + text, on the default platform
    assert no_id.platform == "generic" and no_id.native_id.startswith("h") and len(no_id.native_id) == 17
    again, _ = read_fixture("generic_posts.jsonl")
    assert again[2].native_id == no_id.native_id
    assert no_id.created_at == datetime(2024, 3, 3, 8, 30, tzinfo=UTC)
    assert no_id.created_at.utcoffset() == timedelta(hours=1)
    assert no_id.created_at.tzinfo == timezone(timedelta(hours=1))
    assert reply.id == "tiktok:7324" and reply.reply_to == "tiktok:tt-7322"


def test_generic_field_map_and_default_platform(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("post_id;body;user;when\n1;selling carts dm me;@vape_guy;2024-05-01T10:00:00Z\n2;;@x;\n")
    items, rejects = [], []
    for out in read(
        [str(path)],
        SourceOptions(
            field_map={"id": "post_id", "text": "body", "author": "user", "created_at": "when"},
            default_platform="forum",
        ),
    ):
        (rejects if isinstance(out, Reject) else items).append(out)
    assert [i.id for i in items] == ["forum:1"]
    assert items[0].author.handle == "vape_guy" and items[0].created_at == datetime(
        2024, 5, 1, 10, tzinfo=UTC
    )
    assert rejects[0].line == 3 and rejects[0].reason == "record has no text (column 'body')"


def test_generic_bad_time_is_rejected(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": 1, "text": "hello", "created_at": "last tuesday"}\n')
    (out,) = read([str(path)])
    assert isinstance(out, Reject) and out.reason == "created_at is not a date or time: 'last tuesday'"


def test_keep_raw_false_drops_raw():
    items, _ = read_fixture("reddit_dump.ndjson", keep_raw=False)
    assert items and all(item.raw is None for item in items)


@pytest.mark.parametrize(
    ("name", "fixture"),
    [
        ("x", "x_search.jsonl"),
        ("x-archive", "x_archive/tweets.js"),
        ("telegram", "telegram_channel.json"),
        ("reddit", "reddit_dump.ndjson"),
        ("mastodon", "mastodon_timeline.json"),
        ("bluesky", "bluesky_jetstream.jsonl"),
        ("jsonl", "generic_posts.jsonl"),
        ("csv", "generic_posts.csv"),
    ],
)
def test_every_fixture_is_detected_as_its_format(name, fixture):
    items, rejects = read_fixture(fixture)
    forced, forced_rejects = read_fixture(fixture, format=name)
    assert items and [i.id for i in items] == [i.id for i in forced]
    assert len(rejects) == len(forced_rejects)
    expected = {"jsonl": "tiktok", "csv": "instagram", "x-archive": "x"}.get(name, name)
    assert items[0].platform == expected


def test_a_field_map_naming_a_column_a_parquet_or_csv_file_lacks_stops_before_any_row(tmp_path):
    import pytest

    from tests.cli_helpers import cli

    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    rows = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pylist([{"post_id": f"p{i}", "body": "selling weed dm me", "user": "u"}
                                         for i in range(500)]), rows)
    table = tmp_path / "rows.csv"
    table.write_text("post_id,body,user\np1,selling weed dm me,u\np2,hello,v\n", encoding="utf-8")
    for path, columns in ((rows, "'post_id', 'body', 'user'"), (table, "'post_id', 'body', 'user'")):
        for command in (["scan", path, "-o", tmp_path / "o.jsonl"], ["networks", path, "--out", tmp_path / "n"],
                        ["scan", path, "-o", tmp_path / "c", "--cluster", "local:1"]):
            result = cli(*command, "--no-model", "--field", "text=nosuchcol", "--field", "id=post_id")
            assert result.exit_code == 2, result.stderr
            message = " ".join(result.stderr.split())
            assert f"{path}: --field text=nosuchcol names no column" in message and columns in message, message
            assert "unrecognised record" not in message and not (tmp_path / "o.rejects.jsonl").exists()
        # the right column reads every row
        result = cli("scan", path, "-o", tmp_path / "o.jsonl", "--no-model", "--field", "text=body")
        assert result.exit_code == 0, result.stderr


def test_jsonl_and_parquet_outputs_side_by_side_keep_their_own_rejects(tmp_path):
    import pytest

    from tests.cli_helpers import cli

    pytest.importorskip("pyarrow")
    posts = tmp_path / "posts.jsonl"
    posts.write_text('{"id": "1", "text": "selling weed dm me"}\n{broken\n', encoding="utf-8")
    out = tmp_path / "out"
    assert cli("scan", posts, "-o", out / "x.jsonl", "--no-model").exit_code == 3
    result = cli("scan", posts, "-o", out / "x.parquet", "--out-format", "parquet", "--no-model")
    assert result.exit_code == 3 and "x.parquet.rejects.jsonl" in "".join(result.stderr.split())
    assert sorted(p.name for p in out.iterdir()) == ["x.jsonl", "x.parquet", "x.parquet.rejects.jsonl",
                                                    "x.rejects.jsonl"]
    assert cli("scan", posts, "-o", out / "x.jsonl", "--no-model").exit_code == 3  # again: its own file only
    assert (out / "x.parquet.rejects.jsonl").exists()


def test_scan_help_names_the_cluster_extra_and_the_fields_field_maps():
    from plugwatch.sources.jsonl import FIELDS
    from tests.cli_helpers import cli

    for command in ("scan", "networks"):
        shown = "".join(cli(command, "--help").stdout.replace("│", "").split())  # rich wraps lines in its box
        assert "\\[" not in shown
        assert "OURSoneof" + ",".join(FIELDS) in shown, shown
    assert "pipinstall'plugwatch[cluster]'" in "".join(cli("scan", "--help").stdout.replace("│", "").split())


def test_a_parquet_file_without_a_text_column_is_one_reject_and_a_missing_mapped_field_is_named(tmp_path):
    from tests.cli_helpers import cli

    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    rows = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pylist([{"pid": f"p{i}", "body_txt": "selling weed dm me"} for i in range(300)]),
                   rows)
    out = list(read([str(rows)]))
    assert len(out) == 1 and out[0].line == 0 and out[0].reason == (
        "Parquet file without a text column: its columns are 'pid', 'body_txt'; name the column that holds the "
        "post with --field text=COLUMN")
    assert [o.text for o in read([str(rows)], SourceOptions(field_map={"text": "body_txt"}))][:1] == [
        "selling weed dm me"]
    # Read in parts (a cluster), the file still gives that one reject, from the part holding row 1.
    result = cli("scan", rows, "-o", tmp_path / "parts", "--cluster", "local:1", "--no-model")
    assert result.exit_code == 4, result.stderr
    lines = [line for f in sorted((tmp_path / "parts").glob("*rejects*")) for line in f.read_text().splitlines()]
    assert len(lines) == 1 and "without a text column" in lines[0]
    # A file of no rows says so; a first row no format knows does not hide the posts after it.
    empty = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"text": pa.array([], pa.string())}), empty)
    assert [(r.line, r.reason) for r in read([str(empty)])] == [(0, "no records in file")]
    pages = tmp_path / "pages.parquet"
    pq.write_table(pa.Table.from_pylist([
        {"errors": [{"title": "Not Found"}], "data": None},
        {"errors": None, "data": [{"id": "1", "text": "selling weed dm me", "author_id": "9"}]}]), pages)
    got = list(read([str(pages)]))
    assert isinstance(got[0], Reject) and got[0].line == 1 and [i.id for i in got[1:]] == ["x:1"]
    # JSON lines lacking the field --field names for the text: the reject names it and the record's fields.
    posts = tmp_path / "posts.jsonl"
    posts.write_text('{"id": "1", "text": "hello"}\n', encoding="utf-8")
    [reject] = read([str(posts)], SourceOptions(field_map={"text": "msg_body"}))
    assert reject.reason == "no field 'msg_body' (--field text=msg_body); this record's fields are 'id', 'text'"
