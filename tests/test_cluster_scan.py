"""`plugwatch scan --cluster`: the same records (by id, whole) and rejects as a scan on one machine,
partitions of large JSONL, multi-member gzip and Parquet files with their real line numbers, resume,
and a worker killed mid-run."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plugwatch.cli import app

pytest.importorskip("distributed")
pq = pytest.importorskip("pyarrow.parquet")
import pyarrow as pa  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "networks" / "posts.jsonl"
TEXTS = ["selling mdma pills dm me on wickr plugman{} fast shipping", "had a lovely walk today {}",
         "anyone know where to get xans? {}", "fresh loud packs 3.5 for 40 tap in tg @cloudnine{} menu",
         "new blog post about gardening, call +1 202 555 01{:02d}"]


def cli(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stderr
    return result


def posts(n: int, keys=("id", "text", "author")) -> list[str]:
    lines = []
    for i in range(n):
        rec = {keys[0]: str(i), keys[1]: TEXTS[i % 5].format(i % 50), keys[2]: f"u{i % 97}",
               "created_at": f"2025-03-0{1 + i % 9}T10:00:00Z"}
        lines.append(json.dumps(rec) + "\n")
        if i % 400 == 7:
            lines.append("{broken json\n")
        if i % 700 == 3:
            lines.append("\n")
    return lines


def local_scan(tmp: Path, *inputs, extra=("--no-model",)) -> tuple[dict, list]:
    out = tmp / "local.jsonl"
    cli("scan", *inputs, "-o", out, *extra)
    records = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    rejects_file = tmp / "local.rejects.jsonl"
    rejects = [json.loads(x) for x in rejects_file.read_text().splitlines()] if rejects_file.exists() else []
    return records, rejects


def cluster_output(out: Path) -> tuple[dict, list]:
    records = {}
    for path in sorted(out.glob("part-*")):
        if path.name.endswith(".rejects.jsonl"):
            continue
        if path.suffix == ".parquet":
            from plugwatch.sources.parquet import scan_records

            rows = list(scan_records(str(path)))
        else:
            rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
        for r in rows:
            assert r["id"] not in records, f"{r['id']} written twice"
            records[r["id"]] = r
    rejects = [json.loads(x) for p in sorted(out.glob("part-*.rejects.jsonl")) for x in p.read_text().splitlines()]
    return records, rejects


@pytest.fixture(scope="module")
def scheduler():
    """A running cluster of two worker processes, joined by address as a real cluster would be."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    yield cluster.scheduler_address, client
    client.close()
    cluster.close()


def test_large_jsonl_in_line_ranges_gives_the_local_records_and_rejects(tmp_path, scheduler):
    data = tmp_path / "big.jsonl"
    data.write_text("".join(posts(3000)), encoding="utf-8")
    local, local_rejects = local_scan(tmp_path, data)
    out = tmp_path / "out"
    result = cli("scan", data, "-o", out, "--no-model", "--cluster", scheduler[0], "--partition-size", "50KB")
    assert result.exit_code == 3, result.stderr  # the broken lines are rejected, as locally
    manifest = json.loads((out / "_SUCCESS").read_text())
    kinds = [p["input"]["kind"] for p in manifest["partitions"]]
    assert len(kinds) >= 5 and set(kinds) == {"lines"}
    records, rejects = cluster_output(out)
    assert records == local  # whole records: source lines are the real ones
    assert rejects == local_rejects and len(rejects) == 8
    assert manifest["totals"]["read"] == 3000 and manifest["totals"]["rejected"] == 8
    for part in manifest["partitions"]:
        for name, digest in part["files"].items():
            import hashlib

            assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest["sha256"]


def test_gzip_members_and_parquet_row_groups_are_cut_and_keep_their_lines(tmp_path, scheduler):
    lines = posts(2000, keys=("post_id", "body", "user"))
    members = tmp_path / "members.jsonl.gz"
    with members.open("wb") as fh:
        for start in range(0, len(lines), 150):  # a gzip member per 150 lines, as bgzip or `cat` makes
            fh.write(gzip.compress("".join(lines[start:start + 150]).encode()))
    table = pa.Table.from_pylist([{"post_id": f"p{i}", "body": TEXTS[i % 5].format(i % 50) if i % 333 else None,
                                   "user": f"v{i % 41}", "created_at": pa.scalar(1741000000 + i * 60, pa.timestamp("s")).as_py()}
                                  for i in range(1500)])
    rows = tmp_path / "rows.parquet"
    pq.write_table(table, rows, row_group_size=100)
    args = ["--field", "id=post_id", "--field", "text=body", "--field", "author=user"]
    local, local_rejects = local_scan(tmp_path, members, rows, extra=("--no-model", *args))
    out = tmp_path / "out"
    result = cli("scan", members, rows, "-o", out, "--no-model", *args, "--cluster", scheduler[0],
                 "--partition-size", "20KB")
    assert result.exit_code == 3, result.stderr
    kinds = [p["input"]["kind"] for p in json.loads((out / "_SUCCESS").read_text())["partitions"]]
    assert kinds.count("gzip") >= 3 and kinds.count("rows") >= 3
    records, rejects = cluster_output(out)
    assert records == local and rejects == local_rejects
    # rows without text are rejected at their row number; times from the Parquet timestamp column
    assert {(r["path"], r["line"]) for r in rejects if r["path"].endswith("rows.parquet")} == {
        (str(rows), 1), (str(rows), 334), (str(rows), 667), (str(rows), 1000), (str(rows), 1333)}
    assert local["generic:p1"]["created_at"] == "2025-03-03T11:07:40+00:00"
    assert local["generic:p1"]["source"] == {"path": str(rows), "line": 2}


def test_rerun_skips_complete_partitions_and_redoes_a_damaged_one(tmp_path, scheduler):
    data = tmp_path / "big.jsonl"
    data.write_text("".join(posts(2000)), encoding="utf-8")
    out = tmp_path / "out"
    args = ["scan", data, "-o", out, "--no-model", "--cluster", scheduler[0], "--partition-size", "40KB"]
    cli(*args)
    first, _ = cluster_output(out)
    parts = sorted(out.glob("part-*[0-9].jsonl"))
    stamps = {p.name: p.stat().st_mtime_ns for p in parts}
    parts[1].write_text(parts[1].read_text()[:-50])  # cut short: its digest no longer matches
    result = cli(*args)
    assert f"partitions: {len(parts)} ({len(parts) - 1} already complete, skipped)" in " ".join(result.stderr.split())
    assert {p.name: p.stat().st_mtime_ns for p in parts if p != parts[1]} == {
        k: v for k, v in stamps.items() if k != parts[1].name}
    assert cluster_output(out)[0] == first
    # other settings make other records: nothing is skipped
    result = cli(*args[:-4], "--region", "US", *args[-4:])
    assert "(0 already complete, skipped)" in result.stderr


def test_parquet_output_reads_back_as_the_jsonl_records(tmp_path, scheduler):
    local, _ = local_scan(tmp_path, FIXTURE, extra=())
    out = tmp_path / "out"
    result = cli("scan", FIXTURE, "-o", out, "--out-format", "parquet", "--cluster", scheduler[0],
                 "--partition-size", "30KB")
    assert result.exit_code == 0, result.stderr
    assert len(list(out.glob("part-*.parquet"))) >= 3
    records, _ = cluster_output(out)
    assert records == local
    assert any(r["flagged"] for r in records.values())  # scored with the model on the workers


def test_local_cluster_with_the_model(tmp_path):
    local, _ = local_scan(tmp_path, FIXTURE, extra=())
    out = tmp_path / "out"
    result = cli("scan", FIXTURE, "-o", out, "--cluster", "local:2", "--partition-size", "40KB")
    assert result.exit_code == 0, result.stderr
    assert "cluster: 2 workers" in result.stderr
    records, _ = cluster_output(out)
    assert records == local


def test_a_killed_worker_still_gives_a_complete_output(tmp_path, scheduler):
    address, client = scheduler
    data = tmp_path / "big.jsonl"
    data.write_text("".join(posts(12000)), encoding="utf-8")
    local, local_rejects = local_scan(tmp_path, data)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-m", "plugwatch.cli", "scan", str(data), "-o", str(out), "--no-model",
                             "--cluster", address, "--partition-size", "40KB"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pids = client.run(os.getpid)  # worker address -> process id
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and time.monotonic() < deadline and proc.poll() is None:
        busy = [w for w, tasks in client.processing().items() if any("scan-part" in str(t) for t in tasks)]
        if busy and len(list((out / ".parts").glob("part-*.json"))) >= 2:
            killed = busy[0]
            os.kill(pids[killed], signal.SIGKILL)  # mid-partition
        time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=300)
    assert killed is not None, "the scan ended before a worker could be killed"
    assert proc.returncode == 3, stderr
    assert "Traceback" not in stderr
    records, rejects = cluster_output(out)
    assert records == local and rejects == local_rejects
    assert not list(out.glob(".*.tmp"))  # the lost attempt's temporary files are not left as output
    client.wait_for_workers(2, timeout=60)  # the nanny brought it back for the next tests


def test_cluster_usage_errors(tmp_path):
    data = tmp_path / "a.jsonl"
    data.write_text(json.dumps({"id": "1", "text": "hi"}) + "\n")
    for args, message in ((["--cluster", "local:0"], "local:N"), (["--cluster", "spark://x"], "scheduler address"),
                          (["--cluster", "local", "--partition-size", "big"], "--partition-size")):
        result = cli("scan", data, "-o", tmp_path / "o", "--no-model", *args)
        assert result.exit_code == 2 and message in result.stderr, result.stderr
    result = cli("scan", data, "--no-model", "--cluster", "local:1")
    assert result.exit_code == 2 and "-o OUTDIR" in result.stderr
    # --rejects was ignored with --cluster: the rejects went beside the partitions and PATH stayed absent
    result = cli("scan", data, "-o", tmp_path / "o", "--no-model", "--cluster", "local:1", "--rejects", tmp_path / "r")
    assert result.exit_code == 2 and "--rejects does not apply with --cluster" in " ".join(result.stderr.split())
    result = cli("scan", data, "--no-model", "--out-format", "parquet")
    assert result.exit_code == 2 and "needs -o" in result.stderr


def test_parquet_on_stdin_and_bluesky_files_are_not_split(tmp_path):
    from plugwatch.sources.base import settled_format

    rows = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pylist([{"text": "hello there"}]), rows)
    proc = subprocess.run([sys.executable, "-m", "plugwatch.cli", "scan", "-", "--no-model"], input=rows.read_bytes(),
                          capture_output=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 4 and b"Parquet file can only be read from a file" in proc.stderr
    assert settled_format(str(rows)) == ("jsonl", 1)
    bluesky = ROOT / "tests" / "fixtures" / "networks_independent" / "posts" / "bluesky.jsonl"
    assert settled_format(str(bluesky)) is None  # its reader remembers handles across records
    assert settled_format(str(ROOT / "tests" / "fixtures" / "networks_independent" / "posts" / "mastodon.json")) is None


def test_a_rerun_in_the_other_format_leaves_only_its_own_parts_and_networks_refuses_two_scans(tmp_path, scheduler):
    data = tmp_path / "big.jsonl"
    data.write_text("".join(posts(1500)), encoding="utf-8")
    out = tmp_path / "out"
    args = ["scan", data, "-o", out, "--no-model", "--cluster", scheduler[0], "--partition-size", "40KB"]
    cli(*args)
    jsonl_parts = sorted(p.name for p in out.glob("part-*[0-9].jsonl"))
    assert len(jsonl_parts) >= 2
    result = cli(*args, "--out-format", "parquet")
    assert result.exit_code == 3, result.stderr
    assert not list(out.glob("part-*[0-9].jsonl"))  # the earlier run's parts are gone
    assert sorted(p.name for p in out.glob("part-*.parquet")) == [n.replace(".jsonl", ".parquet") for n in jsonl_parts]
    records, _ = cluster_output(out)
    assert len(records) == 1500
    result = cli("networks", out, "--out", tmp_path / "net")
    assert result.exit_code == 0 and "items: 1,500 " in result.stderr, result.stderr  # each item once
    # parts of two scans side by side (copied in by hand): networks refuses rather than count items twice
    (out / jsonl_parts[0]).write_text("".join(json.dumps(r) + "\n" for r in list(records.values())[:5]))
    for inputs in ([out], sorted(out.glob("part-*"))):
        result = cli("networks", *inputs, "--out", tmp_path / "net2")
        assert result.exit_code == 2 and ".jsonl and .parquet" in result.stderr, result.stderr
    (out / jsonl_parts[0]).unlink()
    extra = out / "part-00099.parquet"
    extra.write_bytes((out / "part-00000.parquet").read_bytes())
    result = cli("networks", out, "--out", tmp_path / "net3")
    assert result.exit_code == 2 and "part-00099.parquet" in result.stderr and "_SUCCESS" in result.stderr


def test_a_rerun_with_nothing_to_do_gives_no_rate_and_an_absent_scheduler_fails_fast(tmp_path, scheduler):
    data = tmp_path / "a.jsonl"
    data.write_text("".join(posts(300)), encoding="utf-8")
    args = ["scan", data, "-o", tmp_path / "out", "--no-model", "--cluster", scheduler[0], "--partition-size", "10KB"]
    assert "items/s" in cli(*args).stderr
    result = cli(*args)
    message = " ".join(result.stderr.split())
    assert "items/s" not in message and "every partition already complete: nothing scanned again" in message
    started = time.monotonic()
    result = cli("scan", data, "-o", tmp_path / "o2", "--no-model", "--cluster", "tcp://127.0.0.1:1")
    assert result.exit_code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in result.stderr
    assert time.monotonic() - started < 10


def test_an_address_where_something_else_listens_is_a_usage_error_not_a_hang(tmp_path):
    """A wrong port that accepts connections (the dashboard's 8787, another service) never completes Dask's
    handshake, and Dask's client waits for it without a time limit: the command hung, printing nothing."""
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    held = []  # accepted connections are kept open and never answered
    threading.Thread(target=lambda: held.extend(server.accept() for _ in range(3)), daemon=True).start()
    data = tmp_path / "a.jsonl"
    data.write_text(json.dumps({"id": "1", "text": "hi"}) + "\n")
    try:
        proc = subprocess.run([sys.executable, "-m", "plugwatch.cli", "scan", str(data), "-o", str(tmp_path / "o"),
                               "--no-model", "--cluster", f"tcp://127.0.0.1:{port}"],
                              capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        server.close()
    assert proc.returncode == 2, proc.stderr
    assert f"tcp://127.0.0.1:{port} accepted a connection but did not answer as a Dask scheduler" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_pictures_are_read_with_cluster_as_without(tmp_path, scheduler):
    """--cluster read no pictures: no hash, no OCR, no bank match, --media-dir ignored, so a menu posted as a
    picture was flagged by a plain scan and not by a cluster scan of the same file."""
    pytest.importorskip("pdqhash")
    pytest.importorskip("rapidocr_onnxruntime")
    from PIL import Image, ImageDraw

    media = tmp_path / "media"
    media.mkdir()
    img = Image.new("RGB", (480, 240), "white")
    for i, line in enumerate(["MENU", "Xanax bars 5 each", "Wickr: icecold99"]):
        ImageDraw.Draw(img).text((20, 20 + 60 * i), line, fill="black", font_size=32)
    img.save(media / "menu.png")
    data = tmp_path / "posts.jsonl"
    data.write_text("".join(json.dumps({"id": str(i), "text": "new menu", "image": "menu.png" if i % 2 else "gone.png"})
                            + "\n" for i in range(4)), encoding="utf-8")
    bank = tmp_path / "bank.jsonl"
    assert cli("bank", "add", bank, media / "menu.png", "--label", "menu").exit_code == 0
    extra = ("--no-model", "--bank", bank, "--media-dir", media)
    local, _ = local_scan(tmp_path, data, extra=extra)
    out = tmp_path / "out"
    result = cli("scan", data, "-o", out, "--cluster", scheduler[0], *extra)
    assert result.exit_code == 0, result.stderr
    records, _ = cluster_output(out)
    assert records == local
    seen = records["generic:1"]
    assert seen["media"][0]["pdq"] and "Xanax" in seen["media"][0]["ocr"]["text"]
    assert [r["signal"] for r in seen["reasons"]] == ["image_bank_match"] and seen["flagged"]
    assert records["generic:0"]["media"][0]["warning"] == "file not found"


def test_a_folder_of_the_users_files_is_refused_as_output_not_cleaned(tmp_path):
    """A run removes the part-* files of its output folder that are not its own: -o naming a Spark export's
    folder deleted its part-0000N.parquet files, and -o naming the input folder read none of its files."""
    spark = tmp_path / "spark"
    spark.mkdir()
    for k in range(3):
        pq.write_table(pa.Table.from_pylist([{"id": f"{k}-{i}", "text": "hello"} for i in range(5)]),
                       spark / f"part-{k:05d}.parquet")
    before = {p.name: p.read_bytes() for p in spark.iterdir()}
    data = tmp_path / "a.jsonl"
    data.write_text("".join(posts(20)), encoding="utf-8")
    for inputs in ([data], [spark]):
        result = cli("scan", *inputs, "-o", spark, "--no-model", "--cluster", "local:1")
        assert result.exit_code == 2 and "is not a cluster scan's output folder" in " ".join(result.stderr.split())
        assert {p.name: p.read_bytes() for p in spark.iterdir()} == before
