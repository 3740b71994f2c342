"""The tactics taxonomy: loaded from data, applied to scan records, exported as attack patterns."""

from __future__ import annotations

from plugwatch.detect import tactics
from plugwatch.share import stix, validate
from tests.share_helpers import record


def test_taxonomy_is_consistent():
    tax = tactics.load_taxonomy()
    ids = [t.id for t in tax.techniques]
    assert len(ids) == len(set(ids)) >= 10 and all(i.startswith("PWT-") for i in ids)
    phases = {p["id"] for p in tax.phases}
    assert {t.phase for t in tax.techniques} == phases
    assert all(t.description and t.examples for t in tax.techniques)


def test_records_get_techniques():
    rec = record("instagram", "1", "dealer", "\U0001f343 za 3.5 $45\n\U0001f4e6 ships nationwide, discreet\n"
                                             "tele: @exoticz_plug, got banned so this is my backup account")
    rec["reasons"] = [{"signal": "drug_term", "meaning": "'\U0001f343' = cannabis", "text": "\U0001f343"},
                      {"signal": "cue", "meaning": "shipping or delivery", "text": "ships"}]
    found = tactics.techniques_for_record(rec)
    assert found == ["PWT-002", "PWT-004", "PWT-008", "PWT-010"]
    assert tactics.techniques_for_record({"text": "coffee and croissants", "identifiers": [], "reasons": []}) == []
    burner = {"text": "x", "created_at": "2024-05-10T00:00:00+00:00",
              "account": {"created_at": "2024-05-01T00:00:00+00:00", "followers": 3}}
    assert tactics.techniques_for_record(burner) == ["PWT-001"]
    assert "PWT-010" in tactics.techniques_for_record({"text": "x"}, accounts_sharing_identifier=3)


def test_attack_patterns_validate():
    tax = tactics.load_taxonomy()
    ident = stix.identity("org", None)
    marking = stix.TLP["green"]
    objects = [ident, __import__("json").loads(marking.serialize())]
    objects += [stix.attack_pattern(t.id, ident["id"], [str(marking.id)]) for t in tax.techniques]
    report = validate.validate_bundle({"type": "bundle", "id": "bundle--6f1a8b0e-3b52-4d4c-9d0a-2f7b4e1c5a91",
                                       "objects": objects})
    assert report.errors == [] and report.warnings == []
    assert objects[2]["kill_chain_phases"] == [{"kill_chain_name": "plugwatch-drug-trade",
                                                "phase_name": "establish-presence"}]
