"""Identifier extraction: every type, the evasions it must see through, and what it must not take."""

import pytest

from plugwatch.text.deobfuscate import deobfuscate
from plugwatch.text.identifiers import _hints, extract_identifiers

GENESIS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
TAPROOT = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"
MONERO = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
SESSION_ID = "05" + "3f" * 32


def found(text, **kw):
    """{canonical: Identifier} for the identifiers in `text`."""
    return {i.canonical: i for i in extract_identifiers(text, **kw)}


def one(text, kind, **kw):
    hits = [i for i in extract_identifiers(text, **kw) if i.type == kind]
    assert len(hits) == 1, hits
    return hits[0]


def kinds(text, **kw):
    return {i.type for i in extract_identifiers(text, **kw)}


# ---------------------------------------------------------------- telegram


@pytest.mark.parametrize(
    "text",
    [
        "t.me/PlugMan",
        "https://telegram.me/plugman",
        "telegram.dog/plugman",
        "tg://resolve?domain=PlugMan",
        "hit me on telegram @PlugMan",
        "tele: plugman",
        "TG:plugman",
        "telegrm - plugman",
        "\u2708\ufe0f @plugman",
        "\U0001f4f2 tele: plugman",
        "Telegram channel: plugman",
    ],
)
def test_telegram_forms(text):
    hit = one(text, "telegram")
    assert hit.canonical == "telegram:plugman"
    assert hit.valid is True


def test_telegram_link_is_also_url_and_domain():
    ids = found("menu at t.me/plugman")
    assert ids["telegram:plugman"].start == 8
    assert ids["http://t.me/plugman"].type == "url"
    assert ids["t.me"].type == "domain"
    assert {i.start for i in ids.values()} == {8}


def test_telegram_invite_links_keep_case():
    ids = found("join t.me/joinchat/AAAAAEaB3xYzq1tQ9cM8vw or https://t.me/+XyZ123abcDEF4567")
    assert ids["telegram:+AAAAAEaB3xYzq1tQ9cM8vw"].valid is True
    assert ids["telegram:+XyZ123abcDEF4567"].valid is True


def test_telegram_username_rules():
    assert one("t.me/1plug", "telegram").valid is False  # must start with a letter
    assert one("tg: @abc", "telegram").valid is False  # 5 characters at least
    assert one("telegram @" + "a" * 33, "telegram").valid is False
    assert one("telegram @plug_man_2", "telegram").valid is True


# ---------------------------------------------------------------- wickr, snapchat, threema, session


@pytest.mark.parametrize("text", ["wickr: PlugMan", "wickr me plugman", "wkr: plugman", "wickr id: plugman"])
def test_wickr(text):
    hit = one(text, "wickr")
    assert (hit.canonical, hit.valid) == ("wickr:plugman", None)


@pytest.mark.parametrize(
    "text", ["snap: plug.guy", "snapchat - plug.guy", "\U0001f47b plug.guy", "snapchat.com/add/Plug.Guy"]
)
def test_snapchat(text):
    hit = one(text, "snapchat")
    assert (hit.canonical, hit.valid) == ("snapchat:plug.guy", True)


def test_snapchat_name_rules():
    assert one("snap: thisnameiswaytoolong99", "snapchat").valid is False


@pytest.mark.parametrize(
    "text",
    [
        "oh snap",
        "oh snap that's crazy",
        "snap a pic for me",
        "Snap out of it",
        "SC is hot today",
        "snapped it",
    ],
)
def test_snap_as_a_word_is_not_a_handle(text):
    assert extract_identifiers(text) == []


def test_snap_with_handle_shaped_name_counts():
    # A weak cue ("snap") with only a space needs a handle-shaped name: digit, underscore, inner capital.
    assert one("my snap is Tmac819", "snapchat").canonical == "snapchat:tmac819"
    assert "snapchat" not in kinds("snap plugman")


def test_threema():
    assert one("threema: abcd1234", "threema").canonical == "threema:ABCD1234"
    assert one("threema.id/XYZ98765", "threema").valid is True
    assert one("threema: AB*D1234", "threema").valid is False


def test_session_ids():
    hit = one(f"session {SESSION_ID.upper()}", "session")
    assert (hit.canonical, hit.valid) == (f"session:{SESSION_ID}", True)
    assert one(f"session id: 06{'b' * 64}", "session").valid is False


# ---------------------------------------------------------------- signal, whatsapp, phones


def test_signal_phone_and_username():
    ids = found("signal: +1 415 555 2671 or signal plugman.01")
    assert ids["signal:+14155552671"].valid is True
    assert ids["+14155552671"].type == "phone"
    assert ids["signal:plugman.01"].valid is True
    assert one("signal: @plug.00", "signal").valid is False  # "00" is not a Signal discriminator


def test_signal_links():
    ids = found("https://signal.me/#p/+14155552671")
    assert ids["signal:+14155552671"].type == "signal"
    assert ids["https://signal.me/"].type == "url"  # fragment dropped from the URL form
    assert one("signal.me/#eu/AbC-dEf_123", "signal").canonical == "signal:eu/AbC-dEf_123"


@pytest.mark.parametrize(
    "text",
    [
        "wa.me/14155552671",
        "https://api.whatsapp.com/send?phone=14155552671",
        "WhatsApp: +1 (415) 555-2671",
        "whats app +14155552671",
        "WA +1 415 555 2671",
    ],
)
def test_whatsapp_numbers_also_give_the_phone(text):
    ids = found(text)
    assert ids["whatsapp:+14155552671"].valid is True
    assert ids["+14155552671"].type == "phone"


def test_whatsapp_invite_and_national_numbers():
    assert one("chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv", "whatsapp").canonical == (
        "whatsapp:chat/AbCdEfGhIjKlMnOpQrStUv"
    )
    assert "whatsapp" not in kinds("whatsapp 415 555 2671")  # no country known: not taken
    assert one("whatsapp 415 555 2671", "whatsapp", default_region="US").canonical == "whatsapp:+14155552671"


@pytest.mark.parametrize(
    ("text", "region", "start"),
    [
        ("call +1 415 555 2671", None, 5),
        ("0014155552671", None, 0),
        ("(415) 555-2671", "US", 0),
        ("text 415.555.2671", "US", 5),
        ("4 1 5 . 5 5 5 . 2 6 7 1", "US", 0),
        ("4\ufe0f\u20e31\ufe0f\u20e35\ufe0f\u20e3 555 2671", "US", 0),  # keycap digits
    ],
)
def test_phone_forms(text, region, start):
    hit = one(text, "phone", default_region=region)
    assert (hit.canonical, hit.valid) == ("+14155552671", True)
    assert (hit.start, hit.end) == (start, len(text))


def test_phone_validity_and_region_rule():
    assert one("+1 415 155 2671", "phone").valid is False  # possible, but no such exchange
    assert one("+44 20 7946 0958", "phone").canonical == "+442079460958"
    assert one("020 7946 0958", "phone", default_region="GB").canonical == "+442079460958"
    # Without a region and with nothing in the post to place it, a national number is kept as its digits.
    assert [(i.type, i.canonical, i.valid) for i in extract_identifiers("(415) 555-2671")] == [
        ("phone_national", "phone_national:4155552671", None)]


@pytest.mark.parametrize(
    "text",
    [
        "3.5g for $120, 7g $200, 28g 1200$",
        "$20/g or $3.50 a pill, 10 20 30 40 50 pills",
        "M30 blues 100 count, 2mg bars",
        "posted 2023-12-25 at 10:30, back 12/25/2023, ready 25.12.2023",
        "since 2019 2020 2021",
        "0.00123456 BTC and 0.0045 btc",
        "ISBN-10 3639715136",
        "order #4155552671",
        "2016-08-07 17:18:04",
    ],
)
def test_phone_false_positive_guards(text):
    assert "phone" not in kinds(text, default_region="US")


def test_no_phone_inside_wallets_or_links():
    text = f"send to {GENESIS} or see https://imgur.com/4155552671"
    assert "phone" not in kinds(text, default_region="US")


# ---------------------------------------------------------------- social handles


def test_social_handles_with_cues_and_links():
    ids = found(
        "IG: @Plug.Shop insta @plugg twitter: @PlugX tiktok.com/@PlugTok x.com/PlugX2 instagram.com/plugg2"
    )
    assert ids["instagram:plug.shop"].valid is True
    assert ids["instagram:plugg"].type == "instagram"
    assert ids["x:plugx"].type == "x"
    assert ids["tiktok:plugtok"].type == "tiktok"
    assert ids["x:plugx2"].type == "x"
    assert ids["instagram:plugg2"].type == "instagram"


@pytest.mark.parametrize(
    "text",
    [
        "@randomuser thanks for the follow",
        "Buy Instagram followers and TikTok likes",
        "telegram group link below",
        "PayPal accounts and PAYPAL Toolkit",
        "instagram.com/explore and x.com/home",
    ],
)
def test_not_contact_handles(text):
    assert not kinds(text) & {"instagram", "x", "tiktok", "telegram", "paypal"}


# ---------------------------------------------------------------- payments


def test_cashapp():
    assert one("cashapp $PlugMan", "cashapp").canonical == "cashapp:$plugman"
    assert one("cash.app/$plug2", "cashapp").canonical == "cashapp:$plug2"
    assert one("cash app: plugman", "cashapp").canonical == "cashapp:$plugman"
    assert one("cash app $PLUGMAN", "cashapp").canonical == "cashapp:$plugman"  # caps count next to the cue
    assert one("$a" + "b" * 21, "cashapp").valid is False


@pytest.mark.parametrize(
    "text",
    ["$20", "$20/g", "$3.50", "only $120!!", "$BTC to the moon", "US$40", "5000 $PEPE2", "$MOONDOGE claim"],
)
def test_prices_and_tickers_are_not_cashtags(text):
    assert "cashapp" not in kinds(text)


def test_venmo_zelle_paypal():
    ids = found(
        "venmo.com/u/Plug-Man venmo.com/PlugMan2 venmo @plugman3 paypal.me/PlugMan paypal.com/paypalme/Plug4"
    )
    assert {"venmo:plug-man", "venmo:plugman2", "venmo:plugman3", "paypal:plugman", "paypal:plug4"} <= set(
        ids
    )
    assert one("zelle: Plug.Man@gmail.com", "zelle").canonical == "zelle:plugman@gmail.com"
    assert one("zelle +1 415 555 2671", "zelle").canonical == "zelle:+14155552671"


# ---------------------------------------------------------------- e-mail


def test_email_canonical_forms():
    assert one("Plug.Man+xanax@GoogleMail.com", "email").canonical == "plugman@gmail.com"
    assert one("Plug.Man+tag@Proton.me", "email").canonical == "plug.man+tag@proton.me"  # only Gmail folds
    assert one("plug..man@example.com", "email").valid is False


@pytest.mark.parametrize(
    "text", ["plug[at]proton[dot]me", "plug (at) proton (dot) me", "plug at proton dot me"]
)
def test_defanged_email(text):
    hit = one(text, "email")
    assert (hit.canonical, hit.start, hit.end) == ("plug@proton.me", 0, len(text))


def test_at_as_a_word_is_not_an_email():
    assert "email" not in kinds("look at gmail.com for it")


# ---------------------------------------------------------------- URLs and domains


def test_url_canonical_form():
    ids = found("shop: HTTPS://Plug.SHOP:443/Menu?x=1#top.")
    url = ids["https://plug.shop/Menu?x=1"]
    assert (url.type, url.valid, url.value) == ("url", True, "HTTPS://Plug.SHOP:443/Menu?x=1#top")
    assert ids["plug.shop"].type == "domain"


def test_bare_domains_and_registered_domain():
    ids = found("buy-pills-online.net/xanax or plugshop.to or shop.example.co.uk/x")
    assert ids["http://buy-pills-online.net/xanax"].type == "url"
    assert ids["http://plugshop.to/"].type == "url"
    assert ids["example.co.uk"].valid is True


def test_link_in_parentheses_and_trailing_punctuation():
    ids = found("(see https://en.wikipedia.org/wiki/Foo_(bar)). or t.me/plugman.")
    assert "https://en.wikipedia.org/wiki/Foo_(bar)" in ids
    assert "http://t.me/plugman" in ids


def test_unknown_suffix_is_invalid_domain():
    ids = found("http://plug.notatld/menu")
    assert ids["plug.notatld"].valid is False
    assert ids["http://plug.notatld/menu"].valid is False


@pytest.mark.parametrize(
    "text",
    [
        "3.5g",
        "e.g. this",
        "m30.s",
        "v1.2.3",
        "menu.jpg",
        "done.Now we go",
        "handle.it",
        "you.so nice",
        "with.onion",
    ],
)
def test_not_domains(text):
    assert not kinds(text) & {"url", "domain"}


@pytest.mark.parametrize(
    "text",
    [
        "hxxps://plugshop[.]to/menu",
        "hXXps[:]//plugshop(.)to/menu",
        "https://plugshop[dot]to/menu",
        "https://plugshop dot to/menu",
        "https://plugshop . com/menu",
    ],
)
def test_defanged_urls(text):
    url = one(text, "url")
    assert url.canonical.startswith("https://plugshop.")
    assert (url.start, url.end) == (0, len(text))


# ---------------------------------------------------------------- wallets


def test_bitcoin_valid_and_one_char_changed():
    ids = found(f"BTC {GENESIS} or {GENESIS[:-1]}b")
    assert ids[f"btc:{GENESIS}"].valid is True
    bad = ids[f"btc:{GENESIS[:-1]}b"]
    assert (bad.valid, bad.start) == (False, 42)


def test_segwit_wallets():
    ids = found(
        f"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4 {TAPROOT.upper()} bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"
    )
    assert ids["btc:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"].valid is True
    assert ids[f"btc:{TAPROOT}"].valid is True  # bech32m, canonical lower case
    assert ids["btc:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"].valid is False


def test_other_chains():
    text = (
        "eth 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed bad 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD "
        "trx TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC ltc LdP8Qox1VAhCzLJNqrr74YovaWYyNBUWvL "
        f"xmr {MONERO}"
    )
    ids = found(text)
    # Same 20 bytes, so the same canonical; only the copy with a broken EIP-55 checksum is invalid.
    eth = [(i.start, i.canonical, i.valid) for i in extract_identifiers(text) if i.type == "eth"]
    assert eth == [(4, "eth:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", True), (51, eth[0][1], False)]
    assert ids["tron:TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC"].valid is True
    assert ids["ltc:LdP8Qox1VAhCzLJNqrr74YovaWYyNBUWvL"].valid is True
    assert ids[f"xmr:{MONERO}"].valid is True


def test_p2sh_near_litecoin_cue_is_litecoin():
    assert one("BTC: 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "btc").valid is True
    assert kinds("litecoin: 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy") == {"ltc"}


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        (
            "send to bc1q xy2k gdyg jrsq tzq2 n0yr f249 3p83 kkfj hx0w lh thanks",
            "btc:bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh",
        ),
        ("Tip 1A1z P1eP 5QGe fi2D MPTf TL5S Lmv7 DivfNa ok", f"btc:{GENESIS}"),
        ("1A1zP1eP5Q\u200bGefi2DMPTfTL5\u200cSLmv7DivfNa", f"btc:{GENESIS}"),
    ],
)
def test_split_wallets_are_joined(text, canonical):
    hit = one(text, canonical.split(":")[0])
    assert (hit.canonical, hit.valid) == (canonical, True)
    assert (
        text[hit.start : hit.end].replace(" ", "").replace("\u200b", "").replace("\u200c", "")
        == canonical[4:]
    )


def test_random_words_are_not_split_wallets():
    assert extract_identifiers("The 3 guys Tom and 2 more Met up Later 4 the MDMA 5g and M30 pills") == []


# ---------------------------------------------------------------- de-obfuscation and offsets


def test_homoglyph_and_zero_width_spans_point_at_original():
    text = "tg: @pl\u200bug_m\u0430n and t.m\u0435/other_plug"  # zero-width space, Cyrillic a and e
    ids = found(text)
    handle = ids["telegram:plug_man"]
    assert (handle.value, text[handle.start : handle.end]) == ("@plug_man", "@pl\u200bug_m\u0430n")
    link = ids["telegram:other_plug"]
    assert text[link.start : link.end] == "t.m\u0435/other_plug"


def test_fullwidth_and_math_letters():
    assert (
        one("\uff57\uff49\uff43\uff4b\uff52\uff1a\uff50\uff4c\uff55\uff47", "wickr").canonical == "wickr:plug"
    )
    assert one(
        "\U0001d42d.\U0001d426\U0001d41e/\U0001d429\U0001d425\U0001d42e\U0001d420", "telegram"
    ).canonical == ("telegram:plug")


def test_spaced_out_cue_and_host():
    assert one("w i c k r: plugman", "wickr").canonical == "wickr:plugman"
    hit = one("t . me / plugman", "telegram")
    assert (hit.canonical, hit.start, hit.end) == ("telegram:plugman", 0, 16)


def test_deobfuscation_leaves_ordinary_text_alone():
    for text in [
        "Привет, как дела? hello",
        "http://пример.рф",
        "at least (at most) a polka dot dress",
        "I am at home. See you at 5",
        "wh(at)ever it is",
        "I a m here",
    ]:
        cleaned = deobfuscate(text)
        assert cleaned.text == text
        assert cleaned.span(0, len(text)) == (0, len(text))


def test_deobfuscate_span_mapping():
    text = "plug[.]shop \u200bx"
    cleaned = deobfuscate(text)
    assert cleaned.text == "plug.shop x"
    assert cleaned.span(4, 5) == (4, 7)  # "." came from "[.]"
    assert cleaned.span(10, 11) == (13, 14)  # the zero-width char before "x" is not part of its span
    assert cleaned.span(0, 11) == (0, 14)


# ---------------------------------------------------------------- API shape


def test_links_from_platform_entities():
    ids = extract_identifiers("menu in bio", links=["https://t.me/plugman", "mailto:Plug@Gmail.com"])
    assert {(i.type, i.canonical) for i in ids} == {
        ("url", "https://t.me/plugman"),
        ("domain", "t.me"),
        ("telegram", "telegram:plugman"),
        ("email", "plug@gmail.com"),
    }
    assert all(i.start == i.end == -1 for i in ids)


def test_sorted_and_no_duplicates():
    text = "wickr: plugman / wickr: plugman, t.me/a_plug t.me/a_plug"
    ids = extract_identifiers(text)
    assert [i.start for i in ids] == sorted(i.start for i in ids)
    keys = [(i.type, i.canonical, i.start, i.end) for i in ids]
    assert len(keys) == len(set(keys))
    assert sum(i.type == "wickr" for i in ids) == 2  # same handle twice, at two places


def test_to_dict():
    assert one("wickr: plugman", "wickr").to_dict() == {
        "type": "wickr",
        "value": "plugman",
        "canonical": "wickr:plugman",
        "valid": None,
        "span": [7, 14],
    }


@pytest.mark.parametrize(
    "text",
    [
        "Honestly the withdrawals were rough but I'm through the worst of it now.",
        "What's everyone's go-to when the weather turns? I just stay in and watch movies.",
        "That was the best concert I have been to in years, the crowd was amazing!",
        "Can't believe it's already december, time flies",
    ],
)
def test_plain_posts_take_the_fast_path(text):
    assert _hints(text, f" {text.lower()} ", "US") == 0
    assert extract_identifiers(text, default_region="US") == []


def test_two_letter_cue_after_a_line_break_still_finds_the_handle():
    found = {i.canonical for i in extract_identifiers("discreet shipping\ntg @shop_plug")}
    assert "telegram:shop_plug" in found


@pytest.mark.parametrize("text", ["dr0p $hipping 0pi@tes w0rldwide", "$tock is back", "$hrooms in $tock"])
def test_leetspeak_s_words_are_not_cashtags(text):
    assert not [i for i in extract_identifiers(text) if i.type == "cashapp"]


def test_a_cashtag_spelling_a_word_is_still_one_when_cash_app_is_named():
    assert [i.canonical for i in extract_identifiers("cashapp $hipping")] == ["cashapp:$hipping"]
    assert [i.canonical for i in extract_identifiers("pay $greenplug99")] == ["cashapp:$greenplug99"]


# -- identifiers the platform gave as links (issue 19, item 12) ----------------------------------


def test_a_link_entity_not_in_the_text_has_no_span_and_names_its_source():
    ids = extract_identifiers("menu in my bio", links=["https://linktr.ee/plugdirect_menu"])
    url = next(i for i in ids if i.type == "url")
    assert (url.start, url.end, url.source) == (-1, -1, "link")
    assert url.to_dict()["span"] is None and url.to_dict()["source"] == "link"


def test_a_link_entity_written_out_in_the_text_gets_its_real_span():
    # "tg://" links are not read from text, so only the entity can give this one; the text shows it
    text = "order here tg://resolve?domain=plugdirect fast"
    ids = extract_identifiers(text, links=["tg://resolve?domain=plugdirect"])
    tg = next(i for i in ids if i.type == "telegram")
    assert text[tg.start:tg.end] == "tg://resolve?domain=plugdirect" and tg.source is None
    assert tg.to_dict()["span"] == [tg.start, tg.end] and "source" not in tg.to_dict()


def test_identifiers_found_in_text_keep_their_list_shape():
    (ident,) = extract_identifiers("wickr: plugman99")
    assert ident.to_dict() == {"type": "wickr", "value": "plugman99", "canonical": "wickr:plugman99",
                               "valid": None, "span": [7, 16]}
