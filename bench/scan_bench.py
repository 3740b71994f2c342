"""Throughput and memory of `plugwatch scan` on a realistic stream, on one core.

The stream is 95% ordinary posts and 5% drug-related ones (offers, requests,
news, harm reduction), written as generic JSONL. Each size runs `plugwatch scan`
as its own process pinned to one CPU; peak resident memory comes from the
kernel's accounting of that child process. Memory must stay flat as the stream
grows (streaming), and the rate is compared with the TF-IDF baseline's scoring
speed on the same texts.

    python3 bench/scan_bench.py                 # 10k and 100k items
    python3 bench/scan_bench.py --sizes 10000 1000000
    python3 bench/scan_bench.py --startup-only  # start-up and time to the first item only

It runs the plugwatch of the checkout it is in (python -m plugwatch.cli, from this folder and with
it first on PYTHONPATH), so it measures these sources whatever else is installed.

Start-up is measured last: `plugwatch --help`, `plugwatch scan --help`, and the wall time of a whole
`plugwatch scan` of a one-post file (start, score, write, exit) for a post each stage settles: an
ordinary post (signal gate), an offer (character n-grams), and a post the n-gram stage is unsure of
(it loads the sentence encoder). Each is the median of 5 runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


# Shares of a realistic stream, by slice of the hand-written dev sets: 95% is what
# any platform mostly carries (plain ordinary posts, plus some posts with everyday
# slang, ordinary sales and spam), 5% is drug-related (offers, requests, news,
# harm reduction, drug talk).
ORDINARY_MIX = {"ordinary": 0.80, "everyday_slang": 0.05, "legit_sales": 0.04, "spam": 0.03, "jokes": 0.03}
DRUG_SHARE = 0.05


def load_pools() -> dict[str, list[str]]:
    pools: dict[str, list[str]] = {}
    for name in ("train.jsonl", "test.jsonl"):
        path = ROOT / "devdata" / name
        if not path.exists():
            continue
        for line in path.open(encoding="utf-8"):
            rec = json.loads(line)
            key = rec.get("slice") if rec.get("slice") in ORDINARY_MIX else "drug"
            pools.setdefault(key, []).append(rec["text"])
    if set(pools) != {*ORDINARY_MIX, "drug"}:
        sys.exit("bench: devdata/ posts are needed to build the stream")
    return pools


FILLER = ("today", "lol", "tbh", "again", "finally", "with friends", "at home", "this week", "omg", "#mood")


def write_stream(path: Path, n: int, seed: int = 1) -> None:
    pools = load_pools()
    names = list(ORDINARY_MIX)
    weights = [ORDINARY_MIX[k] for k in names]
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            pool = "drug" if rng.random() < DRUG_SHARE else rng.choices(names, weights)[0]
            text = rng.choice(pools[pool])
            # Vary each post a little so no two lines are the same text.
            text = f"{text} {rng.choice(FILLER)} {rng.randrange(1000)}"
            rec = {"id": str(i), "text": text, "author": f"user{rng.randrange(n // 10 + 1)}",
                   "created_at": f"2025-0{rng.randrange(1, 10)}-1{rng.randrange(10)}T12:00:00Z"}
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def plugwatch(*args: str) -> list[str]:
    """The command line for `plugwatch ARGS` from this checkout, pinned to one core."""
    cmd = [sys.executable, "-m", "plugwatch.cli", *args]
    return ["taskset", "-c", "0", *cmd] if shutil.which("taskset") else cmd


# As a user's install runs: Python writes and reuses its bytecode caches. With PYTHONDONTWRITEBYTECODE set
# (some sandboxes and CI images set it), every module changed since its last cache was written is compiled
# again on each start, about 0.2 s here, which is no cost of plugwatch's.
ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, **ONE_THREAD,
       "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}

# One post for each stage that settles it (checked: the scan's stage counts must say so).
FIRST_ITEMS = {
    "signal gate": "nice weather at the lake today, see you all tomorrow",
    "character n-grams": "got that loud pack 🍃 3.5 for 40, tap in",
    "sentence embedding": "restocked today, menu on tele",
}


def timed(cmd: list[str], repeats: int = 5) -> tuple[float, str]:
    """Median wall time of `cmd` over `repeats` runs (after one untimed run, which writes the bytecode
    caches as a user's first run does), and the last run's stderr."""
    times, stderr = [], ""
    subprocess.run(cmd, env=ENV, cwd=ROOT, capture_output=True, text=True)
    for _ in range(repeats):
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=ENV, cwd=ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            sys.exit(f"bench: {' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-500:]}")
        stderr = proc.stderr
    return sorted(times)[len(times) // 2], stderr


def startup(tmp: Path) -> None:
    for args in (["--help"], ["scan", "--help"]):
        secs, _ = timed(plugwatch(*args))
        print(f"start-up: plugwatch {' '.join(args):<12} {secs:5.2f} s")
    for stage, text in FIRST_ITEMS.items():
        post = tmp / "first.jsonl"
        post.write_text(json.dumps({"id": "1", "text": text}, ensure_ascii=False) + "\n", encoding="utf-8")
        secs, stderr = timed(plugwatch("scan", str(post), "-o", str(tmp / "first-out.jsonl")))
        stages = next((ln for ln in stderr.splitlines() if ln.startswith("model stages")), "")
        reached = ("sentence embedding" if "embedding 100" in stages else
                   "character n-grams" if "n-grams 100" in stages else "signal gate")
        if reached != stage:
            sys.exit(f"bench: the {stage} post was settled by the {reached} instead ({stages})")
        print(f"time to first item: one post the {stage} settles, whole process {secs:5.2f} s")


def run_scan(path: Path, out: Path, *extra: str) -> tuple[float, float]:
    cmd = plugwatch("scan", str(path), "-o", str(out), *extra)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=ENV, cwd=ROOT, capture_output=True, text=True)
    secs = time.perf_counter() - start
    if proc.returncode not in (0, 3):
        sys.exit(f"bench: scan failed ({proc.returncode}): {proc.stderr[-500:]}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    for line in proc.stderr.splitlines():
        if line.startswith("model stages"):
            print(f"  {line}")
    # ru_maxrss of children is the largest child so far: sizes run smallest first.
    return secs, max(peak_kb, before) / 1024


def tfidf_rate(path: Path, limit: int = 20000) -> float | None:
    sys.path.insert(0, str(ROOT))
    from plugwatch.detect.baselines import TfidfBaseline
    from plugwatch.detect.datasets import read_labelled

    train = ROOT / "devdata" / "train.jsonl"
    if not train.exists():
        return None
    model = TfidfBaseline.fit(read_labelled(train))
    texts = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            texts.append(json.loads(line)["text"])
            if len(texts) >= limit:
                break
    start = time.perf_counter()
    for i in range(0, len(texts), 256):
        model.scores(texts[i:i + 256])
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--startup-only", action="store_true", help="Measure start-up and the first item only.")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.startup_only:
            startup(Path(tmp))
            return
        rows = []
        for n in sorted(args.sizes):
            src = Path(tmp) / f"stream-{n}.jsonl"
            write_stream(src, n)
            secs, peak_mb = run_scan(src, Path(tmp) / "out.jsonl")
            rows.append((n, secs, n / secs, peak_mb))
            print(f"scan {n:>9,} items: {secs:7.1f} s  {n / secs:8,.0f} items/s  peak RSS {peak_mb:6.0f} MB",
                  flush=True)
        n = sorted(args.sizes)[-1]
        secs, _ = run_scan(Path(tmp) / f"stream-{n}.jsonl", Path(tmp) / "out.jsonl", "--no-model")
        print(f"scan {n:>9,} items with --no-model (import + identifiers only): {n / secs:8,.0f} items/s")
        rate = tfidf_rate(Path(tmp) / f"stream-{sorted(args.sizes)[0]}.jsonl")
        if rate:
            print(f"TF-IDF baseline scoring alone (no parsing, no output): {rate:,.0f} items/s; "
                  f"plugwatch scan / baseline = {rows[-1][2] / rate:.2f}")
        if len(rows) > 1:
            print(f"memory growth from {rows[0][0]:,} to {rows[-1][0]:,} items: {rows[-1][3] - rows[0][3]:+.0f} MB")
        startup(Path(tmp))  # last: its processes must not count in the peak memory of the runs above


if __name__ == "__main__":
    main()
