"""Identifier types are declared once: every type the extractor finds is in the table, and each
stage's view of them (signals, networks, displacement, sharing) is read from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plugwatch.errors import UserError
from plugwatch.network import displacement, generic
from plugwatch.share import stix
from plugwatch.text.identifier_types import TYPES, Family, canonical_form, read_identifier
from plugwatch.text.identifiers import extract_identifiers

ROOT = Path(__file__).resolve().parent.parent


def test_every_identifier_the_extractor_finds_is_a_declared_type():
    texts = [json.loads(line)["text"] for path in sorted((ROOT / "devdata").glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    found = {i.type for text in texts for i in extract_identifiers(text)}
    assert len(found) >= 12  # the dev posts carry most kinds
    assert found <= set(TYPES), found - set(TYPES)


def test_stages_read_their_sets_from_the_table():
    contacts = {n for n, t in TYPES.items() if t.family is Family.CONTACT}
    assert generic.CONTACT_TYPES == contacts and set(displacement.APPS) == contacts
    assert generic.LINK_TYPES == {n for n, t in TYPES.items() if t.links_accounts}
    assert stix.SHAREABLE_TYPES == {n for n, t in TYPES.items() if t.shareable}
    assert all(t.stix for t in TYPES.values() if t.shareable)


@pytest.mark.parametrize(("kind", "value", "expected"), [
    ("telegram", "@Plug_Shop", "telegram:plug_shop"),
    ("telegram", "t.me/Plug_Shop", "telegram:plug_shop"),
    ("phone", "+1 (415) 555-2671", "+14155552671"),
    ("whatsapp", "+44 7911 123456", "whatsapp:+447911123456"),
    ("email", "Bob.Smith+x@GMail.com", None),  # canonical e-mail form is the extractor's (checked below)
    ("url", "nonsense", None),
])
def test_one_canonicaliser_for_typed_and_found_identifiers(kind, value, expected):
    got = canonical_form(kind, value)
    if kind == "email":
        assert got == extract_identifiers(f"mail {value} now")[0].canonical
    else:
        assert got == expected


def test_a_person_may_type_an_identifier_with_or_without_its_type():
    assert read_identifier("telegram:@Shop_1") == ("telegram", "telegram:shop_1")
    assert read_identifier("+44 7911 123456") == ("phone", "+447911123456")
    with pytest.raises(UserError, match="TYPE:VALUE"):
        read_identifier("nonsense")
