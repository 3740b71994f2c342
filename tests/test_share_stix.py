"""STIX export without a database: objects, ids, hashing, markings, and stix2-validator's verdict."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import stix2

from plugwatch.share import hashing, stix, validate

T0, T1 = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC)
WALLET = "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"


def aggregates():
    def agg(kind, canonical, **kw):
        return stix.Aggregate(kind, canonical, T0, T1, {"telegram"}, kw.get("items", 1), {"telegram:a"},
                              set(kw.get("drugs", ())), set(), kw.get("score", 0.8))
    return [agg("phone", "+14155552671", items=3, drugs=["opioid"]), agg("btc", f"btc:{WALLET}"),
            agg("telegram", "telegram:plugshop"), agg("cashapp", "cashapp:$plugdaddy"), agg("url", "https://rx.com/"),
            agg("domain", "rx.com"), agg("email", "sales@rx.com"), agg("pdq", "pdq:" + "0f" * 32),
            agg("x_unknown", "whatever")]


@pytest.mark.parametrize("salt", [None, b"s" * 32])
@pytest.mark.parametrize("tlp", ["clear", "green", "amber", "red"])
def test_bundle_passes_validator_without_errors_or_warnings(salt, tlp):
    bundle = stix.build_bundle(aggregates(), stix.ExportOptions(organisation="T&S", tlp=tlp, salt=salt))
    report = validate.validate_bundle(stix.dumps(bundle))
    assert report.errors == [] and report.warnings == []
    assert sum(o["type"] == "indicator" for o in bundle["objects"]) == 8  # the unknown type is not shared


def test_hashed_bundle_holds_no_clear_identifier():
    bundle = stix.build_bundle(aggregates(), stix.ExportOptions(salt=b"s" * 32))
    text = json.dumps(bundle)
    for value in ("4155552671", WALLET, "plugshop", "plugdaddy", "rx.com", "sales@"):
        assert value not in text
    phone = next(o for o in bundle["objects"] if o.get("identifier_type") == "phone")
    expected = hashing.identifier_hash(b"s" * 32, "phone", "+14155552671")
    assert phone["pattern"] == f"[x-plugwatch-phone-number:hashes.'HMAC-SHA256' = '{expected}']"
    # Perceptual image hashes stay in the clear: matching them needs a distance.
    assert "0f" * 32 in text


def test_clear_patterns_and_indicator_context():
    bundle = stix.build_bundle(aggregates(), stix.ExportOptions(tlp="green"))
    by_type = {o.get("identifier_type"): o for o in bundle["objects"] if o["type"] == "indicator"}
    assert by_type["btc"]["pattern"] == (f"[x-plugwatch-crypto-wallet:currency = 'btc' AND "
                                         f"x-plugwatch-crypto-wallet:address = '{WALLET}']")
    assert by_type["telegram"]["pattern"] == ("[x-plugwatch-contact-handle:platform = 'telegram' AND "
                                              "x-plugwatch-contact-handle:handle = 'plugshop']")
    assert by_type["cashapp"]["pattern"].endswith("handle = '$plugdaddy']")
    assert by_type["domain"]["pattern"] == "[domain-name:value = 'rx.com']"
    phone = by_type["phone"]
    assert phone["seen_on_platforms"] == ["telegram"] and phone["drug_categories"] == ["opioid"]
    assert phone["first_seen"] == "2024-03-01T00:00:00.000Z" and phone["last_seen"] == "2024-04-01T00:00:00.000Z"
    assert phone["sightings"] == 3 and 10 <= phone["confidence"] <= 95
    assert phone["object_marking_refs"] == [str(stix2.TLP_GREEN.id)]
    assert {p["phase_name"] for p in phone["kill_chain_phases"]} == {"route-off-platform"}
    # the attack pattern it indicates is in the bundle, with its taxonomy id
    rel = next(o for o in bundle["objects"] if o["type"] == "relationship" and o["source_ref"] == phone["id"]
               and o["relationship_type"] == "indicates")
    ap = next(o for o in bundle["objects"] if o["id"] == rel["target_ref"])
    assert ap["type"] == "attack-pattern" and ap["external_references"][0]["external_id"] == "PWT-004"


def test_ids_are_stable_and_scos_follow_the_spec():
    a = stix.build_bundle(aggregates(), stix.ExportOptions(now=T1))
    b = stix.build_bundle(aggregates(), stix.ExportOptions(now=datetime(2024, 5, 1, tzinfo=UTC)))
    ids = lambda bundle: {o["id"] for o in bundle["objects"]}  # noqa: E731
    assert ids(a) == ids(b)  # a re-export updates the same objects
    # stix2's own registration of our SCOs computes the same UUIDv5 ids
    assert stix.PhoneNumber(number="+14155552671").id == stix.observable("phone", "+14155552671", None)[0]["id"]
    assert (stix.ContactHandle(platform="telegram", handle="plugshop").id
            == stix.observable("telegram", "telegram:plugshop", None)[0]["id"])
    parsed = stix2.parse(json.dumps(a), allow_custom=True)  # stix2 calls refs to any x- type "custom"
    wallets = [o for o in parsed.objects if o.type == stix.WALLET]
    assert isinstance(wallets[0], stix.CryptoWallet) and wallets[0].address == WALLET


def test_validator_reports_broken_bundles():
    bundle = stix.build_bundle(aggregates()[:1], stix.ExportOptions())
    ind = next(o for o in bundle["objects"] if o["type"] == "indicator")
    ind["pattern"] = "[x-plugwatch-phone-number:number = '+1' AND"
    del ind["valid_from"]
    report = validate.validate_bundle(bundle)
    assert not report.valid and any(ind["id"] in e for e in report.errors)


def test_salts():
    salt = hashing.new_salt()
    assert hashing.parse_salt(salt.hex()) == salt
    with pytest.raises(hashing.SaltError, match="at least 16"):
        hashing.parse_salt("short")
    a = hashing.identifier_hash(salt, "telegram", "telegram:x")
    assert a != hashing.identifier_hash(hashing.new_salt(), "telegram", "telegram:x")
    assert a != hashing.identifier_hash(salt, "wickr", "telegram:x")
    assert len(hashing.salt_id(salt)) == 16
