import pytest

from plugwatch.network.generic import GenericList, is_direct, is_generic, is_linkable, node_key


@pytest.mark.parametrize(
    "type_, canonical",
    [
        ("url", "https://t.me/telegram"),
        ("url", "https://t.me/dealer420"),  # the telegram:dealer420 handle links, not the URL
        ("telegram", "telegram:telegram"),
        ("telegram", "telegram:botfather"),
        ("domain", "instagram.com"),
        ("url", "http://www.instagram.com/"),
        ("url", "https://x.com"),
        ("domain", "linktr.ee"),
        ("url", "http://linktr.ee/"),
        ("domain", "bit.ly"),
        ("url", "https://bit.ly/"),
        ("domain", "gmail.com"),
        ("domain", "protonmail.com"),
        ("domain", "example.com"),
        ("url", "https://shop.example.com/menu"),
        ("email", "plug@example.com"),
        ("email", "noreply@plugshop.cc"),
        ("domain", "wixsite.com"),
        ("btc", "btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
        ("phone", "+15555555555"),
    ],
)
def test_generic(type_, canonical):
    assert is_generic(type_, canonical)
    assert not is_linkable(type_, canonical)


@pytest.mark.parametrize(
    "type_, canonical",
    [
        ("telegram", "telegram:dealer420"),
        ("url", "https://bit.ly/3xYzAbc"),
        ("url", "https://linktr.ee/plugmenu"),
        ("url", "https://plugshop.wixsite.com/menu"),
        ("domain", "plugshop.cc"),
        ("url", "https://plugshop.cc/order"),
        ("email", "plug420@gmail.com"),
        ("email", "orders@plugshop.cc"),
        ("wickr", "wickr:plugman"),
        ("phone", "+14155552671"),
        ("btc", "btc:bc1q9d4ywgfnd8h43da5tpcxcn6ajv590cg6d3tg6axemvljvt2k76zs50tv4q"),
    ],
)
def test_not_generic(type_, canonical):
    assert not is_generic(type_, canonical)
    assert is_linkable(type_, canonical)


def test_linkable_rules():
    assert not is_linkable("phone", "+14155552671", valid=False)  # fiction is shared by strangers
    assert not is_linkable("hashtag", "#plug")  # not an identity type
    assert node_key("telegram", "telegram:dealer") == "telegram:dealer"
    assert node_key("phone", "+14155552671") == "phone:+14155552671"


def test_telegrams_own_channel_is_no_contact_of_an_offer():
    """A post that says "join t.me/telegram" names no one: unscored, it is not offer-like (accounts.is_offer),
    and scored, it does not make a template of ordinary posts look like an offer campaign."""
    from plugwatch.network.accounts import is_offer

    official = {"type": "telegram", "canonical": "telegram:telegram"}
    own = {"type": "telegram", "canonical": "telegram:frosty_plug"}
    assert not is_direct(official) and is_direct(own)
    assert not is_direct({"type": "url", "canonical": "https://t.me/frosty_plug"})  # a link, not a contact type
    assert not is_offer({"identifiers": [official]}) and is_offer({"identifiers": [official, own]})
    # Records written by another tool may carry a number or a list there: a contact still, not a crash.
    assert is_direct({"type": "phone", "canonical": 14155550100}) and is_direct({"type": "telegram", "canonical": []})


def test_list_format_errors_name_the_line():
    with pytest.raises(ValueError, match="list.tsv:2"):
        GenericList.parse(["# c", "host\tbit.ly"], "list.tsv")
    with pytest.raises(ValueError, match="unknown host category"):
        GenericList.parse(["host\tbit.ly\tnonsense"], "list.tsv")
    custom = GenericList.parse(["host\tnews.example\tplatform", "wickr\twickr:admin\tofficial"])
    assert custom.is_generic("url", "https://a.news.example/story/1")
    assert custom.is_generic("wickr", "wickr:admin") and not custom.is_generic("wickr", "wickr:bob")
