"""Work per item on very long records: `plugwatch scan` of one offer-like record of 100 KB, 1 MB and 10 MB.

Each record is a single JSONL line whose text repeats an offer with a fresh Wickr name, Telegram link and
price in every sentence, so the text is full of distinct identifiers and sale evidence: the worst case for
identifier extraction and reasons. Each size runs `plugwatch scan` as its own process (the checkout this
script is in, pinned to one core when `taskset` exists) and prints its wall time, the bytes it wrote, the
identifiers and reasons it kept, what it recorded as truncated, and its peak resident memory.

    python3 bench/large_records.py                      # 100 KB, 1 MB and 10 MB
    python3 bench/large_records.py --sizes 1000000 --timeout 60
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENTENCE = "Selling MDMA pills {n}0 for ${n}5, wickr: plugman{n} or t.me/plugshop{n} ship worldwide. "


def offer_text(size: int) -> str:
    parts, length, n = [], 0, 100
    while length < size:
        part = SENTENCE.format(n=n)
        parts.append(part)
        length += len(part)
        n += 1
    return "".join(parts)[:size]


def scan_once(path: Path, out: Path, timeout: float) -> dict:
    cmd = [sys.executable, "-m", "plugwatch.cli", "scan", str(path), "-o", str(out)]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = started + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            return {"timeout": True, "seconds": time.perf_counter() - started, "rss_mb": usage.ru_maxrss / 1024}
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"scan of {path} exited {code}: {proc.stderr.read().decode()[-2000:]}")
    (record,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return {"timeout": False, "seconds": seconds, "rss_mb": usage.ru_maxrss / 1024, "bytes": out.stat().st_size,
            "identifiers": len(record["identifiers"]), "reasons": len(record["reasons"]),
            "truncated": record.get("truncated"), "score": record["score"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000],
                        help="characters of text per record")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before a scan is stopped")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            path, out = Path(tmp) / f"record-{size}.jsonl", Path(tmp) / f"out-{size}.jsonl"
            path.write_text(json.dumps({"id": f"big-{size}", "text": offer_text(size)}) + "\n", encoding="utf-8")
            r = scan_once(path, out, args.timeout)
            label = f"{size / 1e6:g} MB record" if size >= 1_000_000 else f"{size / 1e3:g} KB record"
            if r["timeout"]:
                print(f"{label:>16}: no output after {r['seconds']:.0f} s (stopped); peak RSS {r['rss_mb']:.0f} MB")
                continue
            print(f"{label:>16}: {r['seconds']:6.2f} s  output {r['bytes']:>12,} bytes  "
                  f"identifiers kept {r['identifiers']:>4}  reasons kept {r['reasons']:>4}  "
                  f"score {r['score']}  peak RSS {r['rss_mb']:.0f} MB")
            print(f"{'':>16}  truncated: {json.dumps(r['truncated'])}")


if __name__ == "__main__":
    main()
