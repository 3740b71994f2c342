"""Live intake soak: a stream faster than scoring, then slower; lag rises and falls back, nothing is lost,
memory stays bounded.

Measures first how many events per second the full pipeline (parse, identifiers, the detector with all
its stages, storing) takes on this machine, on `--calibrate` events of the scan benchmark's realistic
mix (devdata/, 5% drug-related). Then a producer thread hands Jetstream-format post events to the
intake runner (plugwatch.intake.runner, the loop behind `plugwatch watch`) at a fixed rate of `--fast`
times that speed for the first half of `--events`, then `--slow` times it for the second half; each
event's time is the moment it was emitted, so lag = stored - emitted. When the buffer is half full the
runner scores the cheap stage only and scores those items fully once the buffer runs low again; when it
is full the producer waits (as a socket would). At the end every event must be stored exactly once and
no item left waiting for its full scoring.

    python3 bench/intake_soak.py                    # 20,000 events, SQLite in a temporary folder
    python3 bench/intake_soak.py --events 100000
    python3 bench/intake_soak.py --db postgresql://postgres:plugwatch@127.0.0.1/soak

Prints the scoring speed (full and cheap), per phase the rate asked and the rate stored, the maximum lag,
the lag at the end of each phase, the buffer's peak, peak RSS, and the checks.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
T0 = 1_750_000_000_000_000


def texts(n: int, seed: int = 1) -> list[str]:
    from scan_bench import DRUG_SHARE, FILLER, ORDINARY_MIX, load_pools

    pools, names = load_pools(), list(ORDINARY_MIX)
    weights = [ORDINARY_MIX[k] for k in names]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        pool = "drug" if rng.random() < DRUG_SHARE else rng.choices(names, weights)[0]
        out.append(f"{rng.choice(pools[pool])} {rng.choice(FILLER)} {rng.randrange(1000)}")
    return out


def event(i: int, text: str, prefix: str) -> dict:
    return {"did": f"did:plc:{prefix}{i % 5000}", "time_us": T0 + i, "kind": "commit",
            "commit": {"rev": f"r{i}", "operation": "create", "collection": "app.bsky.feed.post", "rkey": f"{prefix}{i}",
                       "cid": f"c{i}", "record": {"$type": "app.bsky.feed.post", "text": text,
                                                  "createdAt": "2025-06-15T10:00:00.000Z"}}}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return rss_mb()


def calibrate(sink, n: int, cheap: bool, prefix: str, batch: int) -> float:
    from plugwatch.intake.buffer import Event

    evs = [Event("record", event(i, t, prefix), str(i), "bluesky") for i, t in enumerate(texts(n, seed=7 + cheap))]
    start = time.perf_counter()
    for k in range(0, n, batch):
        sink.process(evs[k:k + batch], cheap=cheap)
    return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--db", help="database URL (default: a new SQLite file in a temporary folder)")
    ap.add_argument("--fast", type=float, default=2.0, help="first half's rate, times the full scoring speed")
    ap.add_argument("--slow", type=float, default=0.5, help="second half's rate, times the full scoring speed")
    ap.add_argument("--buffer", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--calibrate", type=int, default=2000)
    args = ap.parse_args()

    from sqlalchemy import func, select

    from plugwatch.detect import Detector
    from plugwatch.intake.buffer import Event
    from plugwatch.intake.config import parse_source
    from plugwatch.intake.runner import Runner
    from plugwatch.intake.sink import Sink
    from plugwatch.store import intake_state
    from plugwatch.store.intake_tables import DeferredScore
    from plugwatch.store.schema import Item
    from plugwatch.wiring import open_store

    tmp = tempfile.mkdtemp(prefix="intake-soak-")
    store = open_store(args.db or f"sqlite:///{tmp}/soak.db")
    detector = Detector.load()
    detector.verdicts([])  # nothing: the embedding model loads on first real use, in calibration below
    warm = Sink(store, detector, "calibration", "jetstream")
    calibrate(warm, 300, False, "warm", args.batch)
    full = calibrate(warm, args.calibrate, False, "cal", args.batch)
    cheap = calibrate(warm, args.calibrate, True, "chp", args.batch)
    print(f"scoring speed on this machine: full {full:,.0f} events/s, cheap stage only {cheap:,.0f} events/s")

    cfg = parse_source("soak", {"kind": "jetstream", "buffer": args.buffer, "batch": args.batch}, "bench")
    runner = Runner(store, detector, cfg)
    n, half = args.events, args.events // 2
    print(f"streaming {n:,} events: {half:,} at {args.fast * full:,.0f}/s, then {n - half:,} at "
          f"{args.slow * full:,.0f}/s; buffer {args.buffer:,}, batch {args.batch}")
    payloads = [event(i, t, "s") for i, t in enumerate(texts(n))]
    samples: list[tuple[float, float, int, float]] = []
    marks: dict[str, float] = {}
    blocked = [0.0]
    rss_start = current_rss_mb()

    def produce() -> None:
        start = time.monotonic()
        for i, payload in enumerate(payloads):
            rate = args.fast * full if i < half else args.slow * full
            due = start + (i / rate if i < half else half / (args.fast * full) + (i - half) / rate)
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if i == half:
                marks["fast_end"] = time.monotonic()
            now = time.time()
            ev = Event("record", payload, str(i), "bluesky", cursor=str(payload["time_us"]), event_time=now)
            t = time.monotonic()
            runner.put(ev)
            blocked[0] += time.monotonic() - t
        marks["emitted"] = time.monotonic()

    def sample(stop: threading.Event) -> None:
        while not stop.is_set():
            samples.append((time.monotonic(), runner.lag, len(runner.buffer), current_rss_mb()))
            stop.wait(0.25)

    stop_sampling = threading.Event()
    begin = time.monotonic()
    scorer = runner.start()
    sampler = threading.Thread(target=sample, args=(stop_sampling,), daemon=True)
    producer = threading.Thread(target=produce, daemon=True)
    sampler.start()
    producer.start()
    producer.join()

    def waiting() -> int:
        with store.session() as s:
            return s.scalar(select(func.count()).select_from(DeferredScore).where(DeferredScore.source == "soak")) or 0

    while len(runner.buffer) or runner.totals["read"] < n:
        time.sleep(0.1)
    marks["stored"] = time.monotonic()
    while waiting():
        time.sleep(0.2)
    marks["caught_up"] = time.monotonic()
    runner.stop.set()
    scorer.join()
    stop_sampling.set()
    sampler.join()

    with store.session() as s:
        c = intake_state.intake_stats(s)["soak"]
        stored_items = s.scalar(select(func.count()).select_from(Item).where(Item.id.like("bluesky:at://did:plc:s%"))) or 0
    fast_lags = [lag for t, lag, _, _ in samples if t <= marks["fast_end"]]
    slow_lags = [lag for t, lag, _, _ in samples if marks["fast_end"] < t <= marks["stored"]]
    fast_secs = marks["fast_end"] - begin
    print(f"fast phase: asked {args.fast * full:,.0f}/s, emitted {half / fast_secs:,.0f}/s "
          f"(producer waited {blocked[0]:.1f} s on a full buffer in all)")
    print(f"events/s over the run (first emitted to last stored): {n / (marks['stored'] - begin):,.0f}; "
          f"then {marks['caught_up'] - marks['stored']:.1f} s to score fully what the cheap stage took")
    print(f"lag: max {max(lag for _, lag, _, _ in samples):.2f} s; at the end of the fast phase "
          f"{fast_lags[-1] if fast_lags else 0:.2f} s; at the end of the slow phase {slow_lags[-1] if slow_lags else 0:.2f} s "
          f"(max in the last tenth of the run {max([lag for t, lag, _, _ in samples if t >= marks['stored'] - 0.1 * (marks['stored'] - begin)] or [0]):.2f} s)")
    print(f"buffer peak {runner.buffer.peak:,} of {args.buffer:,}; RSS {rss_start:,.0f} MB at the start of the stream, "
          f"{max(r for *_, r in samples):,.0f} MB at most during it; peak RSS of the process {rss_mb():,.0f} MB")
    print(f"read {c['read']:,}  stored {c['stored']:,}  duplicates {c['duplicates']}  rejected {c['rejected']}  "
          f"scored by the cheap stage first {c['deferred']:,}  still waiting {c['waiting_for_full_scoring']}")
    ok = c["read"] == n and c["stored"] == n and stored_items == n and c["waiting_for_full_scoring"] == 0
    print("check: every event stored exactly once, none waiting for full scoring:", "OK" if ok else "FAILED")
    store.dispose()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
