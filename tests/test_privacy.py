"""Keyed pseudonyms and identifier canonicalisation (no database)."""

from __future__ import annotations

import os
import stat

import pytest

from plugwatch.errors import UserError
from plugwatch.privacy import (
    KEY_ENV,
    generate_key,
    load_key,
    pseudonymise,
)
from plugwatch.text.identifier_types import read_identifier

KEY = bytes(range(32))


def test_pseudonym_is_stable_keyed_and_typed():
    a = pseudonymise("phone", "+447911123456", KEY)
    assert a == pseudonymise("phone", "+447911123456", KEY)
    assert a.startswith("hmac-sha256:") and len(a) == len("hmac-sha256:") + 64
    assert a != pseudonymise("phone", "+447911123456", bytes(reversed(KEY)))  # another key, another pseudonym
    assert a != pseudonymise("whatsapp", "+447911123456", KEY)  # type is part of the message
    assert "447911123456" not in a
    # HMAC-SHA256 over "type\x1fcanonical": check against the standard library directly
    import hashlib
    import hmac

    assert a[12:] == hmac.new(KEY, b"phone\x1f+447911123456", hashlib.sha256).hexdigest()


def test_short_keys_are_refused():
    with pytest.raises(ValueError):
        pseudonymise("email", "a@b.com", b"short")


def test_key_comes_from_a_file_named_by_env_or_option(tmp_path, monkeypatch):
    path = generate_key(tmp_path / "keys" / "pseudonym.key")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = load_key(path)
    assert len(key) == 32
    monkeypatch.setenv(KEY_ENV, str(path))
    assert load_key() == key
    with pytest.raises(UserError, match="exists"):
        generate_key(path)  # never silently replaced: every pseudonym would change


def test_missing_or_weak_key_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(UserError, match="--key-file"):
        load_key()
    with pytest.raises(UserError, match="cannot read"):
        load_key(tmp_path / "nope.key")
    weak = tmp_path / "weak.key"
    weak.write_text("abcd\n")
    with pytest.raises(UserError, match="at least 32"):
        load_key(weak)


@pytest.mark.parametrize("typed, expected", [
    ("telegram:@Shop_One", ("telegram", "telegram:shop_one")),
    ("wickr: DealerX", ("wickr", "wickr:dealerx")),
    ("+44 7911 123456", ("phone", "+447911123456")),
    ("phone:+1 (415) 555-2671", ("phone", "+14155552671")),
    ("Bob.Smith+tag@gmail.com", ("email", "bobsmith@gmail.com")),
    ("eth:0x52908400098527886E0F7030069857D2E4169EE7", ("eth", "eth:0x52908400098527886e0f7030069857d2e4169ee7")),
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", ("btc", "btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")),
    ("cashapp:$Plug", ("cashapp", "cashapp:$plug")),
    # a profile link names its handle; other links stay links
    ("t.me/Plug_Shop1", ("telegram", "telegram:plug_shop1")),
    ("https://wa.me/14155552671", ("whatsapp", "whatsapp:+14155552671")),
    ("shop.example", ("url", "http://shop.example/")),
    ("domain:Shop.Example", ("domain", "shop.example")),
    ("https://linktr.ee/plugdirect_menu", ("url", "https://linktr.ee/plugdirect_menu")),
])
def test_typed_identifiers_get_the_same_canonical_form_as_extraction(typed, expected):
    assert read_identifier(typed) == expected


def test_canonical_form_matches_what_the_extractor_stores():
    from plugwatch.text.identifiers import extract_identifiers

    for text, typed in (("tele @Plug_Shop1", "telegram:plug_shop1"), ("call +44 7911 123456", "+447911123456"),
                        ("mail Bob.Smith+x@gmail.com", "bob.smith@gmail.com")):
        found = extract_identifiers(text)[0]
        assert read_identifier(typed) == (found.type, found.canonical)


@pytest.mark.parametrize("text", ["???", "nonsense", "@handle", "555-1234", "foo bar", "url:nonsense", "1.2.3.4"])
def test_unreadable_identifier_is_a_user_error(text):
    # a bare word is not a URL: `--identifier nonsense` once put http://nonsense/ in a request's scope
    with pytest.raises(UserError, match="TYPE:VALUE"):
        read_identifier(text)


def test_key_to_an_unwritable_place_is_a_user_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="cannot write the key"):
        generate_key(blocker / "k.key")
