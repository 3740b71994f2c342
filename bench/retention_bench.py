"""A first retention run on a large database: time, peak memory and the longest transaction.

Builds a fresh SQLite file with N items the detector scored low (never queued for review), received
120 days ago, from N/10 accounts, each item with an identifier of its own; copies it, then runs
retention (run_retention, built-in policy) in a child process on the copy, once as a dry run and once
for real, and prints per run: the wall time, the child's peak resident memory during the run (VmHWM,
reset just before it; Linux), with --trace the Python heap's peak (tracemalloc, in runs of their own
since tracing slows them down), how many transactions it committed, the longest one and the audit
entries written.

    python3 bench/retention_bench.py                  # 50,000 items
    python3 bench/retention_bench.py --items 10000 --trace
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def quiet(i: int, accounts: int) -> dict:
    author = f"x:passer{i % accounts}"
    phone = f"+4477009{i:05d}"
    return {"id": f"x:{i}", "platform": "x", "item_kind": "post", "author": author,
            "created_at": "2025-01-01T10:00:00+00:00", "text": f"selling my old bike {i} call {phone}", "url": None,
            "reply_to": None, "identifiers": [{"type": "phone", "value": phone, "canonical": phone, "valid": True,
                                               "span": [0, 1]}],
            "score": 0.04, "flagged": False, "kind": None, "drugs": [], "reasons": [],
            "account": {"handle": author.split(":", 1)[1], "native_id": None, "display_name": "Someone",
                        "bio": "just me", "created_at": None, "followers": 12},
            "raw": {"id": i, "text": f"selling my old bike {i}"}}


def build(path: Path, n: int) -> None:
    from plugwatch.store import review as rv
    from plugwatch.store.users import add_user
    from plugwatch.wiring import open_store

    store = open_store(f"sqlite:///{path}")
    old = NOW - timedelta(days=120)
    with store.session() as s:
        add_user(s, "lead1", "lead")
    for start in range(0, n, 5000):
        with store.session() as s:
            rv.ingest_records(s, [quiet(i, max(1, n // 10)) for i in range(start, min(n, start + 5000))], now=old)
    store.dispose()


def run(path: Path, dry_run: bool, trace: bool) -> dict:
    """In the child: one retention run on `path`; the figures as a dict."""
    import tracemalloc

    from sqlalchemy import event, func, select
    from sqlalchemy.orm import Session

    from plugwatch.evidence.retention import load_policy, run_retention
    from plugwatch.store.schema import AuditEntry
    from plugwatch.wiring import open_store

    store = open_store(f"sqlite:///{path}")
    with store.session() as s:
        audit_before = s.scalar(select(func.count()).select_from(AuditEntry))
    spans: list[float] = []
    began: dict[int, float] = {}

    @event.listens_for(Session, "after_begin")
    def _begin(session, transaction, connection):
        began.setdefault(id(session), time.perf_counter())

    @event.listens_for(Session, "after_commit")
    def _commit(session):
        t0 = began.pop(id(session), None)
        if t0 is not None:
            spans.append(time.perf_counter() - t0)

    rss_before = _reset_peak_rss()
    spans.clear()
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    with store.session() as s:
        result = run_retention(s, load_policy(), now=NOW, dry_run=dry_run)
    seconds = time.perf_counter() - t0
    heap = tracemalloc.get_traced_memory()[1] if trace else None
    rss = _peak_rss()
    commits = list(spans)
    with store.session() as s:
        audit_after = s.scalar(select(func.count()).select_from(AuditEntry))
    store.dispose()
    return {"dry_run": dry_run, "seconds": round(seconds, 2), "items": len(result.deleted_never_queued),
            "accounts": len(result.deleted_accounts), "rss_mb_before": round(rss_before / 1024, 1),
            "rss_mb_peak": round(rss / 1024, 1), "heap_mb_peak": round(heap / 2**20, 1) if heap else None,
            "transactions": len(commits), "longest_transaction_s": round(max(commits, default=0), 2),
            "audit_entries": audit_after - audit_before}


def _status(field: str) -> int:
    """A figure of /proc/self/status in kB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak_rss() -> int:
    """Resets the peak resident set (VmHWM) to the current one, so the peak is the run's; returns it."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status("VmRSS")


def _peak_rss() -> int:
    return _status("VmHWM")


def child(db: Path, dry_run: bool, trace: bool, work: Path) -> dict:
    copy = work / f"run-{int(dry_run)}-{int(trace)}.db"
    shutil.copyfile(db, copy)
    env = dict(os.environ, PYTHONPATH=str(ROOT), PLUGWATCH_KEY_DIR=str(work / "keys"))
    out = subprocess.run([sys.executable, __file__, "--child", str(copy)] + (["--dry-run"] if dry_run else [])
                         + (["--trace"] if trace else []), env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--trace", action="store_true", help="also runs with tracemalloc for the Python heap's peak")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--dry-run", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run(args.child, args.dry_run, args.trace)))
        return
    with tempfile.TemporaryDirectory(prefix="retention-bench-") as tmp:
        work = Path(tmp)
        os.environ["PLUGWATCH_KEY_DIR"] = str(work / "keys")
        db = work / "built.db"
        t0 = time.perf_counter()
        build(db, args.items)
        print(f"built {args.items:,} expired never-queued items in {time.perf_counter() - t0:.1f} s "
              f"({db.stat().st_size / 2**20:.0f} MB)")
        for dry_run in (True, False):
            for trace in ((False, True) if args.trace else (False,)):
                r = child(db, dry_run, trace, work)
                what = "dry run" if dry_run else "real run"
                heap = f", Python heap peak {r['heap_mb_peak']} MB (traced)" if r["heap_mb_peak"] else ""
                print(f"{what}{' (traced)' if trace else ''}: {r['seconds']} s, {r['items']:,} items and "
                      f"{r['accounts']:,} accounts, peak RSS {r['rss_mb_peak']} MB (before the run "
                      f"{r['rss_mb_before']} MB){heap}, {r['transactions']} transaction(s), longest "
                      f"{r['longest_transaction_s']} s, {r['audit_entries']:,} audit entries")


if __name__ == "__main__":
    main()
