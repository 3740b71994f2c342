"""Accounts, identity graph, campaigns and displacement on pre-scored records (no detector needed)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from plugwatch.network.accounts import AccountStats, account_score
from plugwatch.network.displacement import Displacement, destinations
from plugwatch.network.identity import combined_score, frequency_cap, network_id
from plugwatch.network.pipeline import Settings, analyse
from plugwatch.text.identifiers import extract_identifiers
from tests.fixtures.networks.make_example import bot_pitch

T0 = datetime(2025, 1, 6, 12, tzinfo=UTC)
_n = 0


def rec(author: str, text: str, *, flagged: bool = True, kind: str | None = None, when: datetime = T0,
        reply_to: str | None = None, bio: str | None = None, created: datetime | None = None) -> dict:
    """A record shaped like `plugwatch scan` output, identifiers extracted for real."""
    global _n
    _n += 1
    platform = author.split(":", 1)[0]
    ids = [{"type": i.type, "value": i.value, "canonical": i.canonical, "valid": i.valid, "span": [i.start, i.end]}
           for i in extract_identifiers(text)]
    if platform == "telegram":  # as scan does: an @mention on Telegram is a Telegram username
        for name in [w[1:] for w in text.split() if w.startswith("@") and len(w) > 5]:
            canonical = f"telegram:{name.lower()}"
            if all(i["canonical"] != canonical for i in ids):
                at = text.find("@" + name)
                ids.append({"type": "telegram", "value": "@" + name, "canonical": canonical, "valid": True,
                            "span": [at, at + len(name) + 1]})
    return {
        "id": f"{platform}:{_n}", "platform": platform, "author": author, "text": text,
        "created_at": when.isoformat().replace("+00:00", "Z"), "reply_to": reply_to, "identifiers": ids,
        "score": 0.95 if flagged else 0.02, "flagged": flagged, "kind": kind or ("offer" if flagged else None),
        "account": {"handle": author.split(":", 1)[1], "bio": bio,
                    "created_at": created.isoformat() if created else None},
    }


def groups(result) -> list[list[str]]:
    return sorted(n.members for n in result.graph.networks)


# ------------------------------------------------------------------ identity graph


def seller_records() -> list[dict]:
    return [
        # seller A: banned on X, back under a new name; same Wickr, phone and wallet on three platforms
        rec("x:ice_plug", "❄️ fishscale $90/g, wickr: iceman77 btc bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
        rec("x:ice_plug_backup", "old acc banned. same menu, wickr: iceman77"),
        rec("instagram:ice.supply", "call or text +1 202 555 0143 for the menu"),
        rec("reddit:icevendor", "pay btc bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4 or text +1 202 555 0143"),
        # seller B: a Telegram shop advertised from X; the Telegram account itself is a member
        rec("telegram:greenshop_ams", "🍃 new menu, orders open"),
        rec("x:green_ams", "🍃 amnesia haze 10/g, tele: @greenshop_ams"),
        rec("tiktok:greenams", "menu on telegram https://t.me/greenshop_ams"),
        # seller C: e-mail and Cash App
        rec("instagram:gasbox", "orders: gasbox.ldn@protonmail.com, cashapp $gasboxldn"),
        rec("bluesky:gasbox.bsky.social", "email gasbox.ldn@protonmail.com"),
        rec("x:gasbox_two", "pay $gasboxldn on cash app"),
        # two sellers who share only generic links and official handles: not one network
        rec("x:dank_a", "wickr: dank_a_shop, join https://t.me/telegram, more at bit.ly and instagram.com, "
                        "linktr.ee, mail info@example.com"),
        rec("x:zaza_b", "snap: zaza_b_menu, join https://t.me/telegram, more at bit.ly and instagram.com, "
                        "linktr.ee, mail info@example.com"),
        # a buyer asking about seller A's Wickr is not seller A
        rec("x:buyer", "is wickr iceman77 legit? need a plug", flagged=False, kind="request"),
        # a Telegram chat reply naming the shop is a conversation, not the shop
        rec("telegram:raver", "@greenshop_ams thanks man, great party", flagged=False),
        # an ordinary user sharing a news link an offer also carries: web links from non-offers do not link
        rec("x:reader", "good read https://news.example-daily.com/drugs-report", flagged=False),
        rec("x:newsy_seller", "menu + news https://news.example-daily.com/drugs-report wickr: newsy1"),
    ]


def test_networks_are_exactly_the_true_groups():
    result = analyse(seller_records())
    assert groups(result) == [
        ["bluesky:gasbox.bsky.social", "instagram:gasbox", "x:gasbox_two"],
        ["instagram:ice.supply", "reddit:icevendor", "x:ice_plug", "x:ice_plug_backup"],
        ["telegram:greenshop_ams", "tiktok:greenams", "x:green_ams"],
    ]
    ice = next(n for n in result.graph.networks if "x:ice_plug" in n.members)
    tied = {i["canonical"] for i in ice.identifiers}
    assert tied == {"wickr:iceman77", "+12025550143", "btc:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"}
    assert ice.id == network_id(ice.members) and ice.id.startswith("net-")
    assert ice.platforms == ["instagram", "reddit", "x"]
    assert ice.first_seen == "2025-01-06T12:00:00Z"
    assert all(m not in result.graph.member_of for m in ("x:dank_a", "x:zaza_b", "x:buyer", "telegram:raver"))


def test_network_ids_are_stable_across_runs_and_order():
    records = seller_records()
    first = {n.id: n.members for n in analyse(records).graph.networks}
    second = {n.id: n.members for n in analyse(list(reversed(records))).graph.networks}
    assert first == second


def test_identifier_on_very_many_accounts_does_not_link():
    # 60 unrelated sellers all paste the same (non-generic) directory link and wallet of a "donation" page
    records = [rec(f"x:seller{i:02d}", f"menu 🍃 wickr: own_{i:02d} shared via https://plugdirectory.cc/list "
                                       f"tip 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLx") for i in range(60)]
    records += [rec("x:pair_a", "wickr: twin_shop"), rec("x:pair_b", "wickr: twin_shop")]
    result = analyse(records, Settings(min_cap=50))
    assert groups(result) == [["x:pair_a", "x:pair_b"]]
    assert result.graph.dropped["url:https://plugdirectory.cc/list"] == 60
    assert result.graph.dropped["domain:plugdirectory.cc"] == 60
    # the same data under a cap above 60: one 60-account "network" glued by the shared link
    assert max(len(g) for g in groups(analyse(records, Settings(min_cap=100)))) == 60


def test_frequency_cap_scales_with_accounts():
    assert frequency_cap(1_000) == 50
    assert frequency_cap(100_000) == 100
    assert frequency_cap(1_000_000) == 1_000


def test_min_members_and_combined_score():
    assert combined_score([0.9]) == 0.9
    assert combined_score([0.9, 0.5]) == round(1 - 0.1 * 0.75, 4)
    assert combined_score([0.2] * 3) > 0.2
    result = analyse(seller_records(), Settings(min_members=4))
    assert groups(result) == [["instagram:ice.supply", "reddit:icevendor", "x:ice_plug", "x:ice_plug_backup"]]


def test_bio_identifiers_link_accounts():
    records = [
        rec("instagram:bio_only", "new drop", bio="🔌 menu 👉 wickr: biowickr99"),
        rec("x:poster", "wickr: biowickr99 for prices"),
    ]
    assert groups(analyse(records)) == [["instagram:bio_only", "x:poster"]]


# ------------------------------------------------------------------ account score


def test_account_score_reasons():
    seller = AccountStats("x:s", "x", items=10, flagged=9, posted=2, bio_cues=[("drug", "🔌"), ("contact", "DM")],
                          created_at=T0.timestamp(), first_ts=(T0 + timedelta(days=3)).timestamp())
    score, reasons = account_score(seller)
    names = {r["reason"] for r in reasons}
    assert score > 0.95
    assert {"share of items flagged as offers", "contact or payment identifiers posted", "bio: drug term or plug",
            "account age at first item (days)"} <= names
    ordinary, why = account_score(AccountStats("x:o", "x", items=10))
    assert ordinary < 0.1 and why == []
    buyer, why = account_score(AccountStats("x:b", "x", items=4, requests=4))
    assert buyer < ordinary and why[0]["reason"] == "share of items asking to buy"


def test_accounts_aggregate_items_and_bio():
    records = [rec("x:plugger", f"🍃 za 3.5 for $40 wickr: plugger{i}", when=T0 + timedelta(hours=i),
                   bio="🔌 DM for prices, menu in bio", created=T0 - timedelta(days=5)) for i in range(3)]
    records.append(rec("x:plugger", "good morning", flagged=False, when=T0 + timedelta(days=2)))
    acct = analyse(records).table.accounts["x:plugger"]
    assert (acct.items, acct.flagged, acct.posted) == (4, 3, 3)
    assert acct.first_ts == T0.timestamp() and acct.last_ts == (T0 + timedelta(days=2)).timestamp()
    kinds = {k for k, _ in acct.bio_cues}
    assert {"contact", "drug"} <= kinds
    assert acct.score > 0.9


# ------------------------------------------------------------------ campaigns and bots

def campaign_records(rnd: random.Random) -> list[dict]:
    records = []
    for i in range(9):
        for j in range(3):
            records.append(rec(f"x:calm_{i}", bot_pitch(rnd), when=T0 + timedelta(hours=5 * i + j)))
    # ordinary popular phrases from 40 accounts: long enough to be sketched were they offers, but not offers
    for i in range(40):
        text = ["Happy new year everyone, wishing you all health and happiness in 2025!",
                "Thanks for sharing this, really great thread, learned a lot from it today"][i % 2]
        records.append(rec(f"instagram:user{i}", text, flagged=False))
    # unrelated sellers, each with a menu and a way of writing of their own
    products = ["exotic za", "gelato", "runtz", "fishscale", "blues m30", "xanax bars", "molly", "lsd tabs",
                "ketamine", "lean", "carts", "wax", "shrooms", "dmt", "oxy", "adderall"]
    styles = ["restocked!! {m} hit me up", "{m} available now, best prices in town", "new batch: {m}. serious buyers",
              "got {m} all week, no lowballers", "weekend special on {m}", "{m} - quality guaranteed, reship",
              "fresh {m} just landed, limited", "bulk deals {m} message for list", "{m}!!! top shelf only",
              "open till late, {m} on deck", "{m} for the weekend, tap in", "legit since 2019, {m} in stock"]
    for i in range(12):
        menu = " + ".join(rnd.sample(products, 3))
        for _ in range(3):
            records.append(rec(f"x:dealer{i}", styles[i].format(m=menu) + f" {rnd.randint(10, 90)} each, "
                                              f"wickr: dealer{i}"))
    return records


def test_templated_campaign_is_one_campaign_and_popular_phrases_are_none():
    result = analyse(campaign_records(random.Random(3)))
    templates = [c for c in result.campaigns if c.type == "template"]
    assert len(templates) == 1
    campaign = templates[0]
    assert campaign.members == [f"x:calm_{i}" for i in range(9)]
    assert campaign.size == 27
    assert "microdose" in campaign.text or "micro-dose" in campaign.text
    assert campaign.first_seen == "2025-01-06T12:00:00Z"
    assert campaign.to_dict()["accounts"] == 9


def test_popular_phrases_do_not_form_campaigns_even_when_many():
    # if the detector flagged nothing and they carry no contact, however many accounts: no campaign
    records = [rec(f"x:u{i}", "Happy new year everyone, wishing you all health and happiness in 2025!",
                   flagged=False) for i in range(200)]
    assert analyse(records).campaigns == []


def test_reply_bot_with_topic():
    parents = [rec("x:science", f"New trial: psilocybin therapy reduced depression scores #{i}", flagged=False)
               for i in range(15)]
    rnd = random.Random(1)
    replies = [rec("x:replybot", bot_pitch(rnd), when=T0 + timedelta(minutes=30 * i), reply_to=p["id"])
               for i, p in enumerate(parents[:12])]
    slow = [rec("x:slowpoke", bot_pitch(rnd), when=T0 + timedelta(days=10 * i), reply_to=p["id"])
            for i, p in enumerate(parents[:12])]
    records = parents + replies + slow
    texts = [(r["id"], r["text"]) for r in records]
    result = analyse(records, texts_again=lambda: texts)
    bots = [c for c in result.campaigns if c.type == "reply_bot"]
    assert [b.members for b in bots] == [["x:replybot"]]
    assert bots[0].extra["parents"] == 12 and bots[0].extra["replies_per_day"] >= 5
    assert {"psilocybin", "therapy", "depression"} <= set(bots[0].extra["topic"])


# ------------------------------------------------------------------ displacement


def test_destinations_of_an_offer():
    assert destinations(rec("x:a", "tele: @shop1 or wickr: shop1")) == {"telegram", "wickr"}
    assert destinations(rec("x:a", "signal +1 202 555 0143")) == {"signal"}  # the number is Signal's
    assert destinations(rec("x:a", "text +1 202 555 0143, menu at plugshop.cc")) == {"phone", "website"}
    assert destinations(rec("x:a", "follow instagram.com and https://t.me/telegram")) == set()
    assert destinations(rec("telegram:a", "order via @shop_bot1, backup wickr: shopb")) == {"wickr"}


def test_displacement_shift_after_enforcement_date():
    shift = datetime(2025, 3, 17, tzinfo=UTC)
    disp = Displacement("month")
    for day in range(0, 150, 2):
        when = T0 + timedelta(days=day)
        text = "tele: @shop_one" if when < shift else "signal: shop.42"
        disp.add(rec("x:s", text), when.timestamp())
    disp.add(rec("x:s", "tele: @shop_one"), None)
    rows = {(p, d): (n, s) for p, d, n, s in disp.rows()}
    assert rows[("2025-01", "telegram")][1] == 1.0 and rows[("2025-01", "signal")] == (0, 0.0)
    assert rows[("2025-05", "signal")][1] == 1.0
    assert 0 < rows[("2025-03", "signal")][1] < 1
    assert disp.undated == 1
    assert [p for p, d, _, _ in disp.rows() if d == "signal"] == ["2025-01", "2025-02", "2025-03", "2025-04",
                                                                   "2025-05", "2025-06"]


def test_same_platform_handle_links_after_a_whole_contact_word_only():
    """Three Telegram users mentioning one person ("great chat @anna", "what @anna said", "the flat
    @anna has") were one seller network: "chat", "what" and "flat" end in the contact word "at". And an
    Instagram seller's "ig: @backup" did not link, though the same words from X did."""
    records = [
        rec("telegram:user1", "great chat @anna_k thanks for the menu", flagged=False),
        rec("telegram:user2", "what @anna_k said about prices was true", flagged=False),
        rec("telegram:user3", "see the flat @anna_k has it too", flagged=False),
        rec("instagram:carts_main", "🍃 carts and wax, ig: @carts_backup2 if this page goes"),
        rec("instagram:carts_backup2", "🍃 carts and wax restocked, dm"),
        rec("telegram:shop_a", "menu out, order via @shop_a_2"),
        rec("telegram:shop_a_2", "🍃 menu out, orders open"),
    ]
    result = analyse(records)
    assert groups(result) == [["instagram:carts_backup2", "instagram:carts_main"],
                              ["telegram:shop_a", "telegram:shop_a_2"]]
