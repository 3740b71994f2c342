"""Throughput of `plugwatch scan --cluster` with 1 and 2 local Dask workers, and peak memory per worker.

The stream is the one bench/scan_bench.py scans (95% ordinary posts, 5% drug-related, from devdata/),
written as one generic JSONL file, which the cluster cuts into line ranges. For each worker count a
fresh local cluster is started (one single-threaded worker process per worker), then `plugwatch scan
--cluster tcp://...` runs as a child process against it; the rate is items over the command's wall time
(planning, loading the detector in each worker, scoring, writing the partition files and the manifest;
not the cluster's own start-up). Peak resident memory is each worker process's own, read from the kernel
at the end of the run.

    python3 bench/cluster_bench.py                      # 2,000,000 items, with the model and --no-model
    python3 bench/cluster_bench.py --items 200000 --no-model-only

The speed-up from 1 to 2 workers can only be as good as the cores that are free: on a 2-core machine
shared with other jobs it is less than 2.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
       **{k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}


def worker_peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(src: Path, out: Path, workers: int, extra: list[str], partition: str) -> tuple[float, list[float], dict]:
    from distributed import Client, LocalCluster

    os.environ.update({k: ENV[k] for k in ("PYTHONPATH", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        cmd = [sys.executable, "-m", "plugwatch.cli", "scan", str(src), "-o", str(out), "--cluster",
               cluster.scheduler_address, "--partition-size", partition, *extra]
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=ENV, cwd=ROOT, capture_output=True, text=True)
        secs = time.perf_counter() - start
        if proc.returncode not in (0, 3):
            sys.exit(f"bench: scan failed ({proc.returncode}): {proc.stderr[-800:]}")
        peaks = sorted(client.run(worker_peak_mb).values())
    manifest = json.loads((out / "_SUCCESS").read_text())
    return secs, peaks, manifest["totals"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=2_000_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--partition-size", default="16MB")
    ap.add_argument("--no-model-only", action="store_true", help="Skip the runs with the model.")
    args = ap.parse_args()
    from scan_bench import write_stream

    print(f"machine: {os.cpu_count()} cores (shared with whatever else runs on it)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "stream.jsonl"
        start = time.perf_counter()
        write_stream(src, args.items)
        print(f"generated {args.items:,} items ({src.stat().st_size / 1e6:,.0f} MB) in "
              f"{time.perf_counter() - start:.0f} s", flush=True)
        modes = [("--no-model", ["--no-model"])] + ([] if args.no_model_only else [("with the model", [])])
        for label, extra in modes:
            rates = {}
            for workers in args.workers:
                secs, peaks, totals = run(src, Path(tmp) / f"out-{workers}", workers, extra, args.partition_size)
                if totals["read"] != args.items:
                    sys.exit(f"bench: {totals['read']:,} items written, {args.items:,} expected")
                rates[workers] = args.items / secs
                print(f"scan {label}, {workers} worker(s): {secs:7.1f} s  {rates[workers]:9,.0f} items/s  "
                      f"{totals['partitions']} partitions  peak RSS per worker "
                      f"{', '.join(f'{p:.0f}' for p in peaks)} MB", flush=True)
            if 1 in rates and len(rates) > 1:
                best = max(rates)
                print(f"speed-up {label}, {best} workers over 1: {rates[best] / rates[1]:.2f}x", flush=True)


if __name__ == "__main__":
    main()
