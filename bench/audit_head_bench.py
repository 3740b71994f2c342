"""What publishing the audit head outside the database costs per committed transaction.

Commits N transactions of one audit entry each, first with publication effectively off
(PLUGWATCH_AUDIT_HEAD_EVERY larger than N), then publishing every head (the default), into a head log
in a temporary key folder, and prints the time per transaction of each run and the difference.

    python3 bench/audit_head_bench.py                      # 2,000 transactions, a fresh SQLite file
    python3 bench/audit_head_bench.py -n 1000 --db postgresql://postgres:plugwatch@127.0.0.1/bench  # an empty database
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from plugwatch.store import audit
from plugwatch.wiring import open_store


def run(url: str, n: int, every: int) -> float:
    os.environ["PLUGWATCH_AUDIT_HEAD_EVERY"] = str(every)
    store = open_store(url)
    start = time.perf_counter()
    for i in range(n):
        with store.session() as s:
            audit.append(s, "bench", "bench.entry", f"bench:{every}:{i}", {"i": i})
    elapsed = time.perf_counter() - start
    store.dispose()
    return elapsed / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=2000, help="transactions per run")
    ap.add_argument("--db", help="database URL (default: a new SQLite file in a temporary folder)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PLUGWATCH_KEY_DIR"] = str(Path(tmp) / "keys")
        os.environ.pop("PLUGWATCH_AUDIT_HEAD_LOG", None)
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        run(url, min(args.n, 200), args.n * 10)  # warm up: connections, schema
        off = run(url, args.n, args.n * 10)
        log = Path(tmp) / "keys" / "audit-heads.jsonl"
        before = sum(1 for _ in log.open())
        on = run(url, args.n, 1)
        lines = sum(1 for _ in log.open()) - before
    print(f"{args.n} transactions of one audit entry ({url.split(':', 1)[0]}):")
    print(f"  head not published:        {off * 1e6:7.0f} µs per transaction")
    print(f"  head published every time: {on * 1e6:7.0f} µs per transaction ({lines} lines written)")
    print(f"  cost of publishing:        {(on - off) * 1e6:7.0f} µs per transaction")


if __name__ == "__main__":
    main()
