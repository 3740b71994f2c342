"""Ingest throughput of the review service through its HTTP API: parse, score, store, queue.

Starts `plugwatch serve` (one process, a fresh SQLite file in a temporary folder unless --db is given),
adds an `ingest` user with `plugwatch users add`, then posts N items as JSON lists of records in
batches from one client over a kept-alive connection, the way a collector would. The stream is the
same realistic mix as bench/scan_bench.py (95% ordinary posts, 5% drug-related), with authors
repeating so accounts are upserted, not only inserted. Prints items/s over the whole run, the
request latency (p50, p95), the server's peak resident memory, and checks every item was stored.

    python3 bench/ingest_bench.py                         # 20,000 items, 500 per request, SQLite
    python3 bench/ingest_bench.py --items 50000 --batch 1000
    python3 bench/ingest_bench.py --db postgresql://postgres:plugwatch@127.0.0.1/bench   # an empty database
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan_bench import DRUG_SHARE, FILLER, ORDINARY_MIX, load_pools  # noqa: E402

PLATFORMS = ("x", "instagram", "telegram", "reddit", "facebook")


def make_records(n: int, seed: int = 7, prefix: str = "b") -> list[dict]:
    """Generic records (id, platform, author, created_at, text) from the hand-written dev posts."""
    pools = load_pools()
    names = list(ORDINARY_MIX)
    weights = [ORDINARY_MIX[k] for k in names]
    rng = random.Random(seed)
    out = []
    for i in range(n):
        pool = "drug" if rng.random() < DRUG_SHARE else rng.choices(names, weights)[0]
        text = f"{rng.choice(pools[pool])} {rng.choice(FILLER)} {rng.randrange(1000)}"
        out.append({"id": f"{prefix}{i}", "platform": rng.choice(PLATFORMS), "text": text,
                    "author": f"user{rng.randrange(max(1, n // 10))}",
                    "created_at": f"2025-0{rng.randrange(1, 10)}-1{rng.randrange(10)}T12:00:00Z"})
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=500, help="items per request")
    ap.add_argument("--db", help="database URL (default: a new SQLite file in a temporary folder)")
    args = ap.parse_args()
    exe = shutil.which("plugwatch") or sys.exit("bench: install plugwatch first (pip install -e .)")

    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or f"sqlite:///{tmp}/bench.db"
        env = {**os.environ, "PLUGWATCH_DB": db}
        add = subprocess.run([exe, "users", "add", f"bench-{os.getpid()}", "--role", "ingest"], env=env,
                             capture_output=True, text=True)
        if add.returncode != 0:
            sys.exit(f"bench: could not add the ingest user: {add.stderr.strip()}")
        token = add.stdout.strip().splitlines()[-1]
        port = free_port()
        log = open(Path(tmp) / "server.log", "w+")
        server = subprocess.Popen([exe, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, timeout=600,
                              headers={"Authorization": f"Bearer {token}"}) as client:
                deadline = time.monotonic() + 120
                while True:
                    if server.poll() is not None:
                        log.seek(0)
                        sys.exit(f"bench: the server stopped:\n{log.read()[-2000:]}")
                    try:
                        if client.get("/healthz").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline:
                        sys.exit("bench: the server did not answer within 120 s")
                    time.sleep(0.1)
                # One small request first, not timed: the detector's model loads on first use.
                warm = client.post("/api/ingest", json=make_records(args.batch, seed=99, prefix="warm"))
                warm.raise_for_status()

                records = make_records(args.items)
                bodies = [json.dumps(records[i:i + args.batch], ensure_ascii=False).encode()
                          for i in range(0, len(records), args.batch)]
                latencies: list[float] = []
                stored = queued = flagged = 0
                start = time.perf_counter()
                for body in bodies:
                    t0 = time.perf_counter()
                    r = client.post("/api/ingest", content=body, headers={"Content-Type": "application/json"})
                    latencies.append(time.perf_counter() - t0)
                    if r.status_code != 200:
                        sys.exit(f"bench: ingest answered {r.status_code}: {r.text[:500]}")
                    report = r.json()
                    stored += report["stored"]
                    queued += report["queued"]
                    flagged += report["flagged"]
                secs = time.perf_counter() - start
            peak = peak_rss_mb(server.pid)
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()

    if stored != args.items:
        sys.exit(f"bench: {stored} of {args.items} items stored")
    backend = db.split(":", 1)[0]
    print(f"ingest via HTTP ({backend}): {args.items:,} items in {len(bodies)} requests of {args.batch}: "
          f"{secs:.1f} s, {args.items / secs:,.0f} items/s")
    print(f"  request latency p50 {statistics.median(latencies) * 1000:,.0f} ms, "
          f"p95 {percentile(latencies, 0.95) * 1000:,.0f} ms ({args.batch / statistics.median(latencies):,.0f} "
          f"items/s within a request)")
    print(f"  stored {stored:,}, flagged {flagged:,}, queued for review {queued:,}; "
          f"server peak RSS {peak:,.0f} MB" if peak else "")


if __name__ == "__main__":
    main()
