"""`plugwatch networks` end to end on the multi-platform fixture (tests/fixtures/networks/)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import networkx as nx
import pytest

from tests.cli_helpers import cli, jsonl

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "networks"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("networks")
    result = cli("networks", FIXTURE / "posts.jsonl", "--out", out, "--graph", "--period", "week",
                 "--event", "2025-03-17:Telegram takedown")
    assert result.exit_code == 0, result.stderr
    return out, result


def test_outputs_written(run):
    out, result = run
    for name in ("accounts.jsonl", "networks.jsonl", "campaigns.jsonl", "displacement.csv", "displacement.png",
                 "summary.json", "graph.graphml"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "displacement.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "networks: 5" in " ".join(result.stderr.split())


def test_networks_are_the_true_groups(run):
    out, _ = run
    truth = json.loads((FIXTURE / "truth.json").read_text())
    nets = jsonl(out / "networks.jsonl")
    assert sorted(n["members"] for n in nets) == truth["networks"]
    for n in nets:
        assert set(n) >= {"id", "members", "identifiers", "score", "first_seen", "last_seen"}
        assert n["identifiers"] and 0 < n["score"] <= 1 and n["first_seen"] <= n["last_seen"]
    frosty = next(n for n in nets if "x:frosty_plug" in n["members"])
    assert {"wickr:frostyice", "+12025550143"} <= {i["canonical"] for i in frosty["identifiers"]}
    members = {m for n in nets for m in n["members"]}
    assert not members & set(truth["apart"])  # share only t.me/telegram, bit.ly, instagram.com, linktr.ee
    assert "x:lookin4plug" not in members and "telegram:random_raver" not in members


def test_campaign_and_reply_bots(run):
    out, _ = run
    truth = json.loads((FIXTURE / "truth.json").read_text())
    campaigns = jsonl(out / "campaigns.jsonl")
    templates = [c for c in campaigns if c["type"] == "template"]
    assert [c["members"] for c in templates] == [truth["campaign"]]
    assert templates[0]["size"] == 69 and "microdose" in templates[0]["text"].lower()
    bots = [c for c in campaigns if c["type"] == "reply_bot"]
    assert sorted(m for c in bots for m in c["members"]) == truth["reply_bots"]
    assert all("psilocybin" in c["topic"] for c in bots)


def test_accounts_have_scores_reasons_and_networks(run):
    out, _ = run
    accounts = {a["account"]: a for a in jsonl(out / "accounts.jsonl")}
    frosty = accounts["x:frosty_plug2"]
    assert frosty["score"] > 0.9 and frosty["network"] and frosty["reasons"]
    assert accounts["x:ordinary_user_00"]["score"] < 0.2 and accounts["x:ordinary_user_00"]["network"] is None
    assert accounts["x:calm_mind_00"]["campaigns"]


def test_displacement_shift(run):
    out, _ = run
    with (out / "displacement.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["period", "destination", "count", "share"]

    def share(dest: str, before: bool) -> float:
        picked = [r for r in rows if r["destination"] == dest and (r["period"] < "2025-W12") == before]
        return sum(int(r["count"]) for r in picked) / sum(
            int(r["count"]) for r in rows if (r["period"] < "2025-W12") == before)

    assert share("telegram", True) > 0.6 and share("telegram", False) < 0.3
    assert share("signal", True) == 0 and share("signal", False) > 0.35
    for period in {r["period"] for r in rows}:
        assert abs(sum(float(r["share"]) for r in rows if r["period"] == period) - 1) < 0.01 or all(
            r["count"] == "0" for r in rows if r["period"] == period)


def test_graphml_loads(run):
    out, _ = run
    g = nx.read_graphml(out / "graph.graphml")
    assert g.nodes["x:frosty_plug"]["kind"] == "account"
    assert g.has_edge("x:frosty_plug", "wickr:frostyice")
    assert g.nodes["wickr:frostyice"]["kind"] == "identifier"


def test_scan_output_is_read_without_rescoring_and_rejects_are_kept(run, tmp_path):
    out, _ = run
    scanned = tmp_path / "scanned.jsonl"
    result = cli("scan", FIXTURE / "posts.jsonl", "-o", scanned)
    assert result.exit_code == 0, result.stderr
    lines = scanned.read_text(encoding="utf-8").splitlines()
    lines.insert(5, "{not json")
    scanned.write_text("\n".join(lines) + "\n", encoding="utf-8")
    again = tmp_path / "again"
    result = cli("networks", scanned, "--out", again)
    assert result.exit_code == 3, result.stderr
    text = " ".join(result.stderr.split())
    assert "scored here 0" in text and f"pre-scored {len(lines) - 1}" in text
    assert f"{scanned}:6" in text
    reject = jsonl(again / "rejects.jsonl")
    assert reject[0]["line"] == 6 and "invalid JSON" in reject[0]["reason"]
    truth = json.loads((FIXTURE / "truth.json").read_text())
    assert sorted(n["members"] for n in jsonl(again / "networks.jsonl")) == truth["networks"]


def test_usage_errors_and_nothing_read(tmp_path):
    result = cli("networks", FIXTURE / "posts.jsonl", "--out", tmp_path / "o", "--period", "day")
    assert result.exit_code == 2 and "week or month" in result.stderr
    result = cli("networks", FIXTURE / "posts.jsonl", "--out", tmp_path / "o", "--event", "March:ban")
    assert result.exit_code == 2 and "DATE:label" in result.stderr
    for rate in ("-1", "nan"):  # a negative rate made every account with enough replies a bot
        result = cli("networks", FIXTURE / "posts.jsonl", "--out", tmp_path / "o", "--bot-rate", rate)
        assert result.exit_code == 2 and "--bot-rate" in result.stderr, rate
    result = cli("networks", tmp_path / "missing.jsonl", "--out", tmp_path / "o")
    assert result.exit_code == 4
    assert "no such file" in (tmp_path / "o" / "rejects.jsonl").read_text()


@pytest.mark.parametrize("contact, links", [
    ("whatsapp +44 7700 913013", False),  # valid: false (a drama number), given for WhatsApp
    ("whatsapp +44 7911 123456", True),
    ("pay btc bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlq", False),  # bad bech32 checksum
    ("pay btc bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh", True),
])
def test_an_invalid_identifier_of_any_type_neither_links_nor_is_shared(tmp_path, contact, links):
    from plugwatch.network.generic import is_linkable
    from plugwatch.share.export import shareable
    from plugwatch.text.identifiers import extract_identifiers

    posts = tmp_path / "posts.jsonl"
    posts.write_text("".join(json.dumps({"id": str(i), "author": author, "platform": platform,
                                         "text": f"selling weed and pills, {contact} for menu{tail}"}) + "\n"
                             for i, (author, platform, tail) in enumerate(
                                 [("alice1", "x", ""), ("bob2", "reddit", ", fast delivery")])))
    result = cli("networks", posts, "--out", tmp_path / "out", "--no-model")
    assert result.exit_code == 0, result.stderr
    assert bool(jsonl(tmp_path / "out" / "networks.jsonl")) is links
    found = extract_identifiers(f"selling weed and pills, {contact} for menu")
    assert found and all(i.valid is links for i in found)
    for i in found:  # the identity graph and share export decide alike
        assert is_linkable(i.type, i.canonical, i.valid) is shareable(i.type, i.canonical, i.valid) is links


def test_a_hand_edited_scan_record_with_fields_of_the_wrong_kind_is_rejected(tmp_path):
    """A scan-output line whose score is "high" was a TypeError traceback (exit 1) and nothing written:
    such lines are rejects naming the field, and the others are analysed."""
    first = {"id": "x:1", "platform": "x", "author": "x:seller_a", "text": "selling xans, wickr: plug_a1",
             "identifiers": [{"type": "wickr", "value": "plug_a1", "canonical": "wickr:plug_a1", "valid": True,
                              "span": [21, 28]}], "score": 0.9, "flagged": True, "kind": "offer"}
    lines = [first, dict(first, id="x:2", author="x:seller_b"), dict(first, id="x:3", score="high"),
             dict(first, id="x:4", score=7), dict(first, id="x:5", identifiers=[5]), dict(first, id="x:6", flagged="yes")]
    path = tmp_path / "edited.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    result = cli("networks", path, "--out", tmp_path / "out")
    assert result.exit_code == 3, result.stderr
    reasons = {r["line"]: r["reason"] for r in jsonl(tmp_path / "out" / "rejects.jsonl")}
    assert sorted(reasons) == [3, 4, 5, 6] and "score is 'high'" in reasons[3]
    assert [n["members"] for n in jsonl(tmp_path / "out" / "networks.jsonl")] == [["x:seller_a", "x:seller_b"]]
