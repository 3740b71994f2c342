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
