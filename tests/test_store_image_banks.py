"""Banks in the store: an ingested item whose picture matches a bank entry gets an image_bank_match
reason and is queued for review, even when the detector did not flag it. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from plugwatch.images.bank import BankEntry
from plugwatch.store import review
from plugwatch.store.image_banks import add_entries
from plugwatch.store.schema import Item, ReviewTask
from plugwatch.wiring import open_store

MENU = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def _near(pdq: str, bits: int) -> str:
    raw = bytearray(bytes.fromhex(pdq))
    for bit in range(bits):
        raw[bit * 6 // 8] ^= 1 << (bit * 6 % 8)
    return bytes(raw).hex()


def rec(n: int, pdq: str, quality: int = 100) -> dict:
    return {"id": f"x:{n}", "platform": "x", "item_kind": "post", "author": f"x:user{n}", "text": "new menu 👇",
            "identifiers": [], "score": 0.1, "flagged": False, "kind": None, "drugs": [], "reasons": [],
            "media": [{"kind": "photo", "pdq": pdq, "quality": quality}]}


@pytest.fixture
def store(db_url):
    store = open_store(db_url)
    yield store
    store.dispose()


def remove_as_reviewer(s, item_id: str) -> None:
    from plugwatch.store import users

    user = users.add_user(s, "ann", "reviewer")[0]
    review.claim(s, user, item_id)
    review.decide(s, user, item_id, "remove", "drug_sale")


def test_bank_match_queues_the_item(store):
    with store.session() as s:
        assert add_entries(s, "sellers", [BankEntry(MENU, "menu of X", "menu.jpg")], added_by="lena") == 1
        assert add_entries(s, "sellers", [BankEntry(MENU, "again")]) == 0
    with store.session() as s:
        review.ingest_records(s, [rec(1, _near(MENU, 20)), rec(2, _near(MENU, 40)), rec(3, MENU, quality=10)])
    with store.session() as s:
        reasons = {i.id: i.reasons for i in s.scalars(select(Item))}
        queued = set(s.scalars(select(ReviewTask.item_id)))
    (match,) = reasons["x:1"]
    assert match["signal"] == "image_bank_match" and match["bank"] == "sellers" and match["distance"] == 20
    assert match["media"] == 0 and "menu of X" in match["meaning"]
    assert reasons["x:2"] == [] and reasons["x:3"] == []  # too far; too flat to match
    assert queued == {"x:1"}


def test_a_confirmed_decision_banks_the_pictures_and_their_reposts_are_queued(store):
    from plugwatch.store.image_tables import ImageBankEntry

    with store.session() as s:
        first = dict(rec(10, MENU), score=0.95, flagged=True, kind="offer")
        review.ingest_records(s, [first])
        remove_as_reviewer(s, "x:10")
    with store.session() as s:
        (entry,) = s.scalars(select(ImageBankEntry))
        assert (entry.bank, entry.pdq, entry.label, entry.source) == ("confirmed", MENU, "drug_sale", "item:x:10")
        review.ingest_records(s, [rec(11, _near(MENU, 10))])  # the same menu again, not flagged by text
    with store.session() as s:
        assert s.scalars(select(ReviewTask.id).where(ReviewTask.item_id == "x:11")).first() is not None
        (match,) = s.get(Item, "x:11").reasons
        assert match["bank"] == "confirmed" and match["distance"] == 10


def test_partners_pdq_indicators_match_by_distance(store):
    from plugwatch.store.sharing_tables import Partner, WatchEntry

    with store.session() as s:
        partner = Partner(name="lantern-peer", trust="notify-only")
        s.add(partner)
        s.flush()
        s.add(WatchEntry(partner_id=partner.id, indicator_id="indicator--1", identifier_type="pdq",
                         value=f"pdq:{MENU}"))
    with store.session() as s:
        review.ingest_records(s, [rec(20, _near(MENU, 12))])
    with store.session() as s:
        reasons = [r for r in s.get(Item, "x:20").reasons if r["signal"] == "image_bank_match"]
        assert [(r["bank"], r["distance"]) for r in reasons] == [("partner:lantern-peer", 12)]
        assert s.scalars(select(ReviewTask.id).where(ReviewTask.item_id == "x:20")).first() is not None


def test_a_confirmed_items_picture_is_shared_as_a_pdq_indicator(store):
    import json

    from plugwatch.share import stix
    from plugwatch.share.export import export_bundle

    with store.session() as s:
        item = dict(rec(30, MENU), score=0.95, flagged=True, kind="offer",
                    identifiers=[{"type": "pdq", "value": MENU, "canonical": f"pdq:{MENU}", "valid": True,
                                  "span": None, "source": "media"}])
        review.ingest_records(s, [item])
        remove_as_reviewer(s, "x:30")
    with store.session() as s:
        bundle = export_bundle(s, stix.ExportOptions(organisation="T&S"))
    assert f"[file:hashes.'PDQ' = '{MENU}']" in json.dumps(bundle.bundle)
