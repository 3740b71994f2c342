"""Seller networks kept at ingest (plugwatch.store.linking) on SQLite and PostgreSQL: accounts joined
across platforms and batches, merged by a bridging item, split by the frequency cap, never joined by
generic links or buyers' mentions; the queue groups a network; decisions need a fitting reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from plugwatch.actions import reason_fits
from plugwatch.model import Account as Author
from plugwatch.model import Item as Post
from plugwatch.model import OfferKind, Verdict
from plugwatch.network.identity import network_id
from plugwatch.network.pipeline import analyse
from plugwatch.pipeline import identifiers_for
from plugwatch.records import scan_record
from plugwatch.store import review, users
from plugwatch.store.schema import Account, Item, ReviewTask
from plugwatch.wiring import create_app, open_store

WHEN = datetime(2024, 5, 1, 10, tzinfo=UTC)


def post(author: str, native_id: str, text: str, kind: OfferKind | None = OfferKind.OFFER, score: float = 0.9) -> dict:
    platform, handle = author.split(":", 1)
    item = Post(platform=platform, native_id=native_id, text=text, author=Author(platform, handle), created_at=WHEN)
    verdict = Verdict(score=score, flagged=kind == OfferKind.OFFER, kind=kind, drugs=["cannabis"] if kind else [])
    return scan_record(item, identifiers_for(item, "US"), verdict)


@pytest.fixture
def store(db_url):
    st = open_store(db_url)
    yield st
    st.dispose()


def ingest(store, *batches: list[dict]) -> None:
    for batch in batches:  # one transaction per batch, as the service stores them
        with store.session() as s:
            review.ingest_records(s, batch)


def networks(store) -> dict[str, str | None]:
    with store.session() as s:
        return dict(s.execute(select(Account.key, Account.network_id)).all())


def groups(store) -> dict[str, str]:
    """Item id -> group key of its open task."""
    with store.session() as s:
        return dict(s.execute(select(ReviewTask.item_id, ReviewTask.group_key)
                              .where(ReviewTask.state != "decided")).all())


def stage_networks(batches) -> dict[str, str]:
    """What `plugwatch networks` finds in the same records."""
    return analyse([r for batch in batches for r in batch]).graph.member_of


def test_accounts_on_other_platforms_join_across_batches(store):
    batches = [
        [post("x:alpha", "1", "fresh buds, order on wickr: greenplug77 or call +1 (415) 555-0199")],
        [post("instagram:beta", "2", "menu in dm, wickr greenplug77 for orders")],
        [post("reddit:gamma", "3", "shop open, text +1.415.555.0199 now"),
         post("reddit:bystander", "4", "nice weather today", kind=None, score=0.01)],
        [post("mastodon:delta", "5", "pay btc bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3, we ship"),
         post("reddit:gamma", "6", "payment: bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3")],
    ]
    ingest(store, *batches)
    members = ["instagram:beta", "mastodon:delta", "reddit:gamma", "x:alpha"]
    nets = networks(store)
    net = network_id(members)
    assert {k: nets[k] for k in members} == dict.fromkeys(members, net)
    assert nets["reddit:bystander"] is None
    # the same id `plugwatch networks` gives these records
    assert stage_networks(batches) == dict.fromkeys(members, net)
    # every open task of the network is in one group, those queued before the link was seen too
    assert groups(store) == {"x:1": f"network:{net}", "instagram:2": f"network:{net}", "reddit:3": f"network:{net}",
                             "mastodon:5": f"network:{net}", "reddit:6": f"network:{net}"}
    with store.session() as s:
        view = review.item_view(s, "x:1")
    linked = {a["key"]: a for a in view["network"]}
    assert set(linked) == set(members) - {"x:alpha"} and all(a["how"] == "network" for a in linked.values())
    assert linked["instagram:beta"]["identifiers"] == [{"type": "wickr", "canonical": "wickr:greenplug77"}]
    assert linked["reddit:gamma"]["identifiers"] == [{"type": "phone", "canonical": "+14155550199"}]
    assert linked["mastodon:delta"]["identifiers"] == []  # in the network through gamma's wallet


def test_own_handle_joins_the_account(store):
    batches = [[post("x:alpha", "1", "order via telegram @greenshop, fast delivery")],
               [post("telegram:greenshop", "2", "new stock in, prices below")]]
    ingest(store, *batches)
    net = network_id(["telegram:greenshop", "x:alpha"])
    assert networks(store) == {"x:alpha": net, "telegram:greenshop": net} == stage_networks(batches)
    assert set(groups(store).values()) == {f"network:{net}"}


def test_a_bridging_item_merges_two_networks(store):
    ingest(store,
           [post("x:a1", "1", "wickr: northplug for orders"), post("instagram:a2", "2", "order on wickr northplug")],
           [post("reddit:b1", "3", "pay with cashapp $southshop"), post("telegram:b2", "4", "cashapp $southshop only")])
    nets = networks(store)
    assert nets["x:a1"] == nets["instagram:a2"] == network_id(["x:a1", "instagram:a2"])
    assert nets["reddit:b1"] == nets["telegram:b2"] == network_id(["reddit:b1", "telegram:b2"])
    assert len(set(groups(store).values())) == 2
    ingest(store, [post("x:a1", "5", "new menu: wickr northplug, or cashapp $southshop")])
    everyone = ["instagram:a2", "reddit:b1", "telegram:b2", "x:a1"]
    merged = network_id(everyone)
    assert networks(store) == dict.fromkeys(everyone, merged)
    assert set(groups(store).values()) == {f"network:{merged}"}
    user = _reviewer(store)
    with store.session() as s:
        queue = review.queue(s, user)
    assert [(g["group_key"], g["size"]) for g in queue] == [(f"network:{merged}", 5)]
    assert {t["account_key"] for t in queue[0]["tasks"]} == set(everyone)


def test_generic_links_and_buyers_mentions_do_not_link(store):
    batches = [
        [post("x:councillor", "1", "Our statement on the drug strategy https://t.co/AbCd1234", kind=None, score=0.1),
         post("x:dealer", "2", "pills and buds, details https://t.co/AbCd1234 wickr: sellerone")],
        [post("instagram:s1", "3", "menu https://t.me/telegram and bit.ly and instagram.com"),
         post("instagram:s2", "4", "order now https://t.me/telegram bit.ly instagram.com")],
        # a buyer naming the seller's contact is not the seller
        [post("reddit:buyer", "5", "anyone bought from wickr sellerone? looking for buds", kind=OfferKind.REQUEST)],
        # an @reply on the same platform without a contact word is a conversation
        [post("x:fan", "6", "@dealer thanks, got it. selling extras too, prices in dm")],
    ]
    ingest(store, *batches)
    assert set(networks(store).values()) == {None}
    assert stage_networks(batches) == {}
    assert all(not g.startswith("network:") for g in groups(store).values())
    with store.session() as s:
        assert review.item_view(s, "x:2")["network"] == []  # the shared t.co link does not show as a link
        assert review.item_view(s, "instagram:3")["network"] == []


def test_too_common_identifier_does_not_link_and_splits_what_it_joined(store):
    shared = "wickr: directoryplug"
    first = [post(f"x:s{i:02d}", str(i), f"orders {shared}") for i in range(50)]
    ingest(store, first)
    fifty = sorted(f"x:s{i:02d}" for i in range(50))
    assert set(networks(store).values()) == {network_id(fifty)}  # 50 holders: at the cap, still links
    # two of them also share their own contact: that tie survives the split
    pair_batch = [post("x:s00", "100", "or signal: pair.01"), post("x:s01", "101", "contact on signal: pair.01 too")]
    ingest(store, pair_batch)
    # a 51st holder puts the identifier over the cap: it no longer joins anyone
    late = [post("instagram:late", "200", f"me too {shared}")]
    ingest(store, late)
    nets = networks(store)
    pair = network_id(["x:s00", "x:s01"])
    assert {k: v for k, v in nets.items() if v is not None} == {"x:s00": pair, "x:s01": pair}
    assert len(nets) == 51
    assert stage_networks([first, pair_batch, late]) == {"x:s00": pair, "x:s01": pair}
    g = groups(store)
    assert g["x:5"] == "x:s05" and g["x:0"] == g["x:1"] == f"network:{pair}"


def _reviewer(store, name: str = "rita", role: str = "lead"):
    with store.session() as s:
        return users.get_user(s, name) or users.add_user(s, name, role)[0]


def test_api_refuses_a_reason_that_does_not_fit(db_url):
    app = create_app(db_url)
    with app.state.store.session() as s:
        token = users.add_user(s, "ann", "reviewer")[1]
        review.ingest_records(s, [post("x:dealer", "1", "buds for sale, wickr: sellerone")])
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        assert client.post("/api/queue/claim", headers=auth, json={"item_id": "x:1"}).status_code == 200
        for action, reason in (("remove", "not_drugs"), ("dismiss", "drug_sale"), ("warn", "needs_lead")):
            r = client.post("/api/items/x:1/decision", headers=auth, json={"action": action, "policy_reason": reason})
            assert r.status_code == 422 and "does not fit" in r.json()["detail"], r.text
        r = client.post("/api/items/x:1/decision", headers=auth, json={"action": "remove", "policy_reason": "drug_sale"})
        assert r.status_code == 200, r.text
    with app.state.store.session() as s:
        assert s.get(Item, "x:1") is not None
    app.state.store.dispose()


def test_reason_fits_rule():
    assert reason_fits("dismiss", "harm_reduction") and not reason_fits("dismiss", "drug_sale")
    assert reason_fits("escalate", "not_drugs") and reason_fits("escalate", "needs_lead")
    assert reason_fits("refer", "imminent_harm") and not reason_fits("refer", "legal_product")
    assert not reason_fits("remove", "no_such_reason")


def post_with_bio(author: str, native_id: str, text: str, bio: str) -> dict:
    platform, handle = author.split(":", 1)
    item = Post(platform=platform, native_id=native_id, text=text, author=Author(platform, handle, bio=bio),
                created_at=WHEN)
    verdict = Verdict(score=0.9, flagged=True, kind=OfferKind.OFFER, drugs=["cannabis"])
    return scan_record(item, identifiers_for(item, "US"), verdict)


def test_identifiers_in_a_bio_link_at_ingest_as_in_the_networks_stage(store):
    batches = [
        [post_with_bio("instagram:leafy", "1", "new strains in, dm for the menu", "🔌 wickr: greenplug77 | ships UK")],
        [post("x:alpha", "2", "fresh buds, order on wickr: greenplug77")],
        # own-platform handles in a bio are shout-outs, generic links never link
        [post_with_bio("x:fan", "3", "restock soon", "follow @alpha for more | linktr.ee")],
    ]
    ingest(store, *batches)
    net = network_id(["instagram:leafy", "x:alpha"])
    nets = networks(store)
    assert nets["instagram:leafy"] == nets["x:alpha"] == net
    assert nets["x:fan"] is None
    assert stage_networks(batches) == {"instagram:leafy": net, "x:alpha": net}
    assert groups(store)["instagram:1"] == groups(store)["x:2"] == f"network:{net}"
