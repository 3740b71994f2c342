"""`plugwatch networks --cluster`: the same outputs as the single-process command on the same input
(the networks fixtures, scan output in line ranges and as Parquet, and a generated stream with a
frequency cap, a bot farm and a template campaign), and accounts merged across partitions as one pass
builds them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from plugwatch.cli import app
from plugwatch.network.accounts import MAX_LINKS, MAX_PARENTS
from plugwatch.network.pipeline import Aggregates

pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
OUTPUTS = ("accounts.jsonl", "networks.jsonl", "campaigns.jsonl", "displacement.csv", "summary.json")


def cli(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stderr
    return result


@pytest.fixture(scope="module")
def scheduler():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    yield cluster.scheduler_address
    client.close()
    cluster.close()


def same_outputs(one: Path, many: Path, graph: bool = False) -> None:
    for name in OUTPUTS:
        assert (one / name).read_bytes() == (many / name).read_bytes(), name
    if graph:
        assert (one / "graph.graphml").read_bytes() == (many / "graph.graphml").read_bytes()
        a, b = nx.read_graphml(one / "graph.graphml"), nx.read_graphml(many / "graph.graphml")
        assert dict(a.nodes(data=True)) == dict(b.nodes(data=True))
        assert {frozenset(e) for e in a.edges()} == {frozenset(e) for e in b.edges()}


def both(tmp: Path, cluster: str, *args, size: str = "16KB") -> tuple[Path, Path]:
    one, many = tmp / "one", tmp / "many"
    first = cli("networks", *args, "--out", one)
    second = cli("networks", *args, "--out", many, "--cluster", cluster, "--partition-size", size)
    assert first.exit_code == second.exit_code, second.stderr
    if (one / "rejects.jsonl").exists():
        assert (one / "rejects.jsonl").read_text() == (many / "rejects.jsonl").read_text()
    return one, many


def test_networks_fixture_on_a_local_cluster_with_the_model(tmp_path):
    one, many = both(tmp_path, "local:2", FIXTURES / "networks" / "posts.jsonl", "--graph")
    same_outputs(one, many, graph=True)
    assert len((many / "networks.jsonl").read_text().splitlines()) == 5


def test_independent_fixture_mixed_formats_and_region(tmp_path, scheduler):
    truth = json.loads((FIXTURES / "networks_independent" / "truth.json").read_text())
    one, many = both(tmp_path, scheduler, FIXTURES / "networks_independent" / "posts", "--region", truth["region"],
                     "--graph", size="4KB")
    same_outputs(one, many, graph=True)
    nets = [json.loads(x)["members"] for x in (many / "networks.jsonl").read_text().splitlines()]
    assert sorted(nets) == truth["networks"]


def test_scan_output_in_line_ranges_and_as_parquet(tmp_path, scheduler):
    scanned = tmp_path / "scanned.jsonl"
    cli("scan", FIXTURES / "networks" / "posts.jsonl", "-o", scanned)
    one, many = both(tmp_path, scheduler, scanned, "--graph", size="20KB")
    same_outputs(one, many, graph=True)
    parquet_dir = tmp_path / "pq"
    cli("scan", FIXTURES / "networks" / "posts.jsonl", "-o", parquet_dir, "--out-format", "parquet",
        "--cluster", scheduler, "--partition-size", "40KB")
    # the output folder is read as it is: partition files, not the manifest or the commit records
    result = cli("networks", parquet_dir, "--out", tmp_path / "from-parquet", "--cluster", scheduler)
    assert result.exit_code == 0 and "pre-scored 422" in result.stderr, result.stderr
    same_outputs(one, tmp_path / "from-parquet")


def test_generated_stream_with_cap_bot_farm_and_campaigns(tmp_path, scheduler):
    spec = importlib.util.spec_from_file_location("networks_bench", ROOT / "bench" / "networks_bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    data = tmp_path / "items.jsonl"
    bench.generate(data, 20000, 2000, seed=3)
    one, many = both(tmp_path, scheduler, data, "--min-cap", "5", "--graph", size="1MB")
    same_outputs(one, many, graph=True)
    summary = json.loads((many / "summary.json").read_text())
    assert summary["networks"] > 10 and summary["campaigns"] >= 1 and summary["dropped_identifiers"]


def test_the_same_picture_links_accounts_across_partitions_as_in_one_process(tmp_path, scheduler):
    pytest.importorskip("pdqhash")
    from tests.test_network_pictures import picture, record, reencoded

    menu, meme = picture(1), picture(2)
    recs = [record(1, "x:alice", menu)]
    recs += [record(100 + i, f"x:fan{i}", meme) for i in range(60)]  # a meme: the frequency rule drops it
    recs += [record(2, "mastodon:bob@example.social", reencoded(menu))]  # the menu again, partitions later
    recs += [record(3, "bluesky:carol.bsky.social", picture(3))]
    scanned = tmp_path / "scan.jsonl"
    scanned.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    one, many = both(tmp_path, scheduler, scanned, "--graph", size="4KB")
    same_outputs(one, many, graph=True)
    nets = [json.loads(x) for x in (many / "networks.jsonl").read_text().splitlines()]
    assert [n["members"] for n in nets] == [["mastodon:bob@example.social", "x:alice"]]
    assert nets[0]["identifiers"][0]["type"] == "pdq"
    assert scanned.stat().st_size > 3 * 4096  # the two posts of the menu are in different partitions


def test_accounts_merged_in_partition_order_equal_one_pass():
    def rec(i: int) -> dict:
        return {"id": f"x:{i}", "author": "x:seller", "platform": "x", "text": f"order on wickr plug{i} now",
                "created_at": f"2025-03-{1 + i % 28:02d}T10:00:00Z", "reply_to": f"x:p{i % 90}", "score": 0.9,
                "flagged": True, "kind": "offer",
                "identifiers": [{"type": "wickr", "canonical": f"wickr:plug{i}", "valid": None, "span": [9, 19]}],
                "account": {"handle": "seller" if i > 3 else None, "display_name": f"name {i}", "bio": None,
                            "created_at": None, "followers": i}}

    records = [rec(i) for i in range(150)]
    whole = Aggregates()
    for r in records:
        whole.add(r)
    merged = None
    for chunk in (records[:40], records[40:41], records[41:]):
        part = Aggregates()
        for r in chunk:
            part.add(r)
        acct = part.table.accounts["x:seller"]
        merged = acct if merged is None else (merged.merge(acct) or merged)
    expect = whole.table.accounts["x:seller"]
    assert list(merged.links) == list(expect.links) and len(merged.links) == MAX_LINKS
    assert list(merged.parents) == list(expect.parents) and len(merged.parents) == MAX_PARENTS
    for name in ("handle", "display_name", "followers", "items", "flagged", "replies", "offer_replies", "first_ts",
                 "last_ts", "reply_first", "reply_last", "sample_reply", "score_max"):
        assert getattr(merged, name) == getattr(expect, name), name


def test_a_cluster_scan_folder_and_its_part_glob_skip_rejects_files_and_the_manifest(tmp_path, scheduler):
    posts = (FIXTURES / "networks" / "posts.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    data = tmp_path / "posts.jsonl"
    data.write_text("".join(line + ("{broken json\n" if i % 100 == 5 else "") for i, line in enumerate(posts)),
                    encoding="utf-8")
    scanned = tmp_path / "scan"
    result = cli("scan", data, "-o", scanned, "--no-model", "--cluster", scheduler, "--partition-size", "20KB")
    assert result.exit_code == 3, result.stderr
    assert list(scanned.glob("part-*.rejects.jsonl")) and (scanned / "_SUCCESS").exists()
    parts = sorted(scanned.glob("part-*[0-9].jsonl"))
    one = tmp_path / "one"
    cli("networks", *parts, "--out", one)
    shell_star = sorted(p for p in scanned.glob("*") if not p.name.startswith("."))  # OUT/* as a shell expands it
    for name, args in (("folder", [scanned]), ("glob", sorted(scanned.glob("part-*"))), ("star", shell_star)):
        result = cli("networks", *args, "--out", tmp_path / name)
        assert result.exit_code == 0, (name, result.stderr)
        assert "unrecognised record" not in result.stderr and not (tmp_path / name / "rejects.jsonl").exists()
        assert f"items: {len(posts)} " in result.stderr
        same_outputs(one, tmp_path / name)
