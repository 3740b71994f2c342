"""Phone numbers written without a country code: read in the region the post or its author says
(calling code, city, language), marked as a guess; otherwise kept as `phone_national`, contact
evidence for the detector that links no accounts."""

from __future__ import annotations

import json

import pytest

from plugwatch.detect.detector import Detector
from plugwatch.model import Account, Item
from plugwatch.text.identifier_types import TYPES, linking_types, shareable_types
from plugwatch.text.identifiers import extract_identifiers
from tests.cli_helpers import cli, jsonl


def found(text: str, **kw) -> list[tuple[str, str, str | None]]:
    return [(i.type, i.canonical, i.inferred) for i in extract_identifiers(text, **kw)]


@pytest.mark.parametrize(("text", "kw", "region", "why"), [
    ("call +44 20 7946 0958 or 020 7946 0958", {}, "GB", "a country code elsewhere in the text"),
    ("text me (213) 555-0142", {"bio": "LA plug, +1 only"}, "US", "a country code in the author's bio"),
    ("text me at (213) 555-0142 in Los Angeles", {}, "US", "the text names Los Angeles"),
    ("tel 030 1234567", {"bio": "Berlin, Kreuzberg"}, "DE", "the author's bio names Berlin"),
    ("zadzwoń 601 234 567", {"lang": "pl"}, "PL", "the post's language (pl)"),
    ("โทร 081 234 5678 กรุงเทพ", {}, "TH", "the text names กรุงเทพ"),
    ("ring 070 123 45 67 efter sex", {"lang": "sv"}, "SE", "the post's language (sv)"),
    ("ring 070-123 45 67 efter sex", {"lang": "sv"}, "SE", "the post's language (sv)"),  # area code apart
    ("ring 0701234567", {"lang": "sv"}, "SE", "the post's language (sv)"),  # bare digits after "ring" (call)
    ("llama al 612 345 678", {"bio": "Madrid centro"}, "ES", "the author's bio names Madrid"),
    ("wa aja 0812-3456-7890 kak", {"lang": "id"}, "ID", "the post's language (id)"),
])
def test_each_source_of_a_guess_places_the_number_and_says_why(text, kw, region, why):
    phones = [(c, w) for t, c, w in found(text, **kw) if t == "phone" and w]
    assert phones, found(text, **kw)
    canonical, inferred = phones[-1]
    assert canonical.startswith("+") and inferred == f"{region}: {why}"


def test_an_explicit_region_wins_and_is_no_guess():
    assert found("text me at (213) 555-0142 in Warszawa", default_region="US") == [
        ("phone", "+12135550142", None)]


def test_a_guess_is_used_only_where_the_number_is_valid():
    # The text names Warszawa first, but 213-555-0142 is no Polish number: the bio's +1 places it.
    assert found("text 213-555-0142, ships from Warszawa", bio="+1 only")[0][1:] == (
        "+12135550142", "US: a country code in the author's bio")


def test_a_number_nothing_places_is_kept_as_digits_gives_contact_evidence_and_links_nothing():
    assert found("percs available, hmu (415) 555-2671") == [("phone_national", "phone_national:4155552671", None)]
    kind = TYPES["phone_national"]
    assert "phone_national" not in linking_types() and "phone_national" not in shareable_types()
    assert kind.family == TYPES["phone"].family  # the detector's id:phone feature
    item = Item(platform="x", native_id="1", text="percs available, hmu (415) 555-2671")
    ctx = Detector.analyse(item, extract_identifiers(item.text))
    assert "id:phone" in {h.feature for h in ctx.hits}


@pytest.mark.parametrize("text", [
    "price 1200 3400 for the lot",  # two groups: could be anything without a contact word
    "order 12345678 shipped",
    "tracking 9400 1000 0000 0000 0000 00",
    "3.5g for 40, 28g for 200, 1000 2000",
    "meet on 2024-01-15 at 10",
    "born 1990 1995 2001",
    "ISBN 978 3 16 148410 0",
    "we have 25 10 and 50 left",
    "score 10-20 30 40 50",  # a hyphen then spaced groups is a phone only after an area code's 0
    "meet on 2024-01 15 16",
    "prices 05-10 20 30 40",  # a landline's shape without a word that hands out a number
    "kl 08-17 10 20 30",
    "weights 01-25 50 100",
    "03-12 45 67",
])
def test_the_guards_keep_prices_dates_and_codes_out(text):
    assert [t for t, _, _ in found(text) if t.startswith("phone")] == []


def test_bio_and_language_reach_extraction_from_a_scan_and_networks_link_only_placed_numbers(tmp_path):
    posts = [
        {"id": "1", "author": "dealer_a", "text": "gas 🍃 in stock, text me at (213) 555-0142 Los Angeles"},
        {"id": "2", "author": "dealer_b", "text": "fresh packs, call (213) 555-0142", "bio": "LA, +1 only"},
        {"id": "3", "author": "dealer_c", "text": "percs 💊 hmu (415) 555-2671"},
        {"id": "4", "author": "dealer_d", "text": "bars 💊 hmu (415) 555-2671"},
        {"id": "5", "author": "dealer_e", "text": "mam towar, dzwoń 601 234 567", "lang": "pl"},
    ]
    src = tmp_path / "posts.jsonl"
    src.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts), encoding="utf-8")
    out = tmp_path / "scan.jsonl"
    assert cli("scan", src, "-o", out).exit_code in (0, 3)
    recs = {r["id"]: r for r in jsonl(out)}
    ids = {k: [(i["type"], i["canonical"], i.get("inferred")) for i in r["identifiers"]] for k, r in recs.items()}
    assert ids["generic:1"] == [("phone", "+12135550142", "US: the text names Los Angeles")]
    assert ids["generic:2"] == [("phone", "+12135550142", "US: a country code in the author's bio")]
    assert ids["generic:3"] == [("phone_national", "phone_national:4155552671", None)]
    assert ids["generic:5"] == [("phone", "+48601234567", "PL: the post's language (pl)")]
    assert any("region guessed" in r["meaning"] for r in recs["generic:1"]["reasons"])
    nets = tmp_path / "net"
    assert cli("networks", out, "--out", nets).exit_code == 0
    members = sorted(n["members"] for n in jsonl(nets / "networks.jsonl"))
    assert ["generic:dealer_a", "generic:dealer_b"] in members  # the placed number links them
    assert not any("generic:dealer_c" in m for m in members)  # the same unplaced digits do not


def test_the_guess_survives_a_bio_on_the_account_object():
    item = Item(platform="x", native_id="9", text="call 020 7946 0958",
                author=Account(platform="x", handle="shop", bio="London based"))
    from plugwatch.pipeline import identifiers_for

    assert [(i.type, i.canonical, i.inferred) for i in identifiers_for(item, None)] == [
        ("phone", "+442079460958", "GB: the author's bio names London")]
