from plugwatch.model import Item
from plugwatch.scan import identifiers_for
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
