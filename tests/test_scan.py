from plugwatch.model import Item
from plugwatch.pipeline import identifiers_for
from plugwatch.text.identifiers import extract_identifiers


def test_telegram_mentions_are_telegram_contacts():
    item = Item("telegram", "1/2", "menu updated, ask @plugdirect for prices", mentions=["plugdirect"])
    ids = identifiers_for(item, None)
    tg = [i for i in ids if i.type == "telegram"]
    assert [i.canonical for i in tg] == ["telegram:plugdirect"]
    assert item.text[tg[0].start:tg[0].end] == "@plugdirect"
    assert tg[0].valid is True


def test_mentions_on_other_platforms_are_not_contacts():
    item = Item("x", "1", "thanks @someone for the ride", mentions=["someone"])
    assert not [i for i in identifiers_for(item, None) if i.type == "telegram"]


def test_link_entity_shown_in_text_is_listed_once():
    text = "new menu t.me/plugdirect_menu"
    ids = extract_identifiers(text, links=["https://t.me/plugdirect_menu"])
    urls = [i for i in ids if i.type == "url"]
    assert len(urls) == 1 and urls[0].start >= 0
    assert [i.canonical for i in ids if i.type == "telegram"] == ["telegram:plugdirect_menu"]


def test_scan_record_keeps_media_references_without_fetching():
    from plugwatch.model import Account, Item, MediaRef
    from plugwatch.records import scan_record

    item = Item(platform="x", native_id="1", text="menu in pic", author=Account("x", "shop"),
                media=[MediaRef(url="https://pbs.twimg.com/media/a.jpg", kind="photo", name="3_1")])
    rec = scan_record(item, [], None)
    assert rec["media"] == [{"url": "https://pbs.twimg.com/media/a.jpg", "kind": "photo", "name": "3_1"}]
    assert "media" not in scan_record(Item(platform="x", native_id="2", text="hi"), [], None)


def test_telegram_mention_not_in_the_text_is_sourced_to_the_mention():
    item = Item("telegram", "1/3", "prices in the pinned post", mentions=["plugdirect"])
    (tg,) = [i for i in identifiers_for(item, None) if i.type == "telegram"]
    assert tg.to_dict()["span"] is None and tg.source == "mention"


def test_reason_for_a_link_entity_shows_its_value(detector):
    from plugwatch.records import scan_record

    item = Item("x", "9", "mdma pills and xanax bars, order through the link, ships worldwide",
                links=["https://linktr.ee/plugdirect_menu"])
    ids = identifiers_for(item, None)
    (verdict,) = detector.verdicts([(item, ids)])
    rec = scan_record(item, ids, verdict)
    (link_reason,) = [r for r in rec["reasons"] if r["signal"] == "identifier" and r["meaning"] == "link"]
    assert link_reason == {"signal": "identifier", "meaning": "link", "text": "https://linktr.ee/plugdirect_menu",
                           "span": None, "source": "link"}
    assert [i["span"] for i in rec["identifiers"]] == [None, None]  # the url and its domain
