"""Pictures per second for hashing + OCR on one core, with and without the content cache, on a stream
where a third of the pictures are reposts of earlier ones (the same bytes, as a platform re-serves them).

    python3 bench/images_bench.py               # 60 pictures: 40 distinct, 20 reposts
    python3 bench/images_bench.py --pictures 120

The pictures are rendered menus, posters and text-free shape pictures (bench/picture_gen.py). "Without
the cache" reads every picture as if new; "with" is PictureReader as `scan` uses it (memory cache by
SHA-256). The share of pictures the cheap text-presence test sent past the OCR models is printed too.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
os.environ.setdefault("OMP_NUM_THREADS", "1")

import picture_gen  # noqa: E402

from plugwatch.images.ocr import PictureReader  # noqa: E402


def stream(n: int, folder: Path) -> list[str]:
    rng = random.Random(11)
    distinct = []
    for i in range(n - n // 3):
        if i % 4 == 3:
            data = picture_gen.photo(rng)
        else:
            split = "test"
            lines = (picture_gen.offer_lines(split, rng) if i % 2 else
                     picture_gen.benign_lines(split, rng.choice(list(picture_gen.BENIGN[split])), rng))
            data = picture_gen.render(lines, split, rng)
        path = folder / f"{i}.jpg"
        path.write_bytes(data)
        distinct.append(str(path))
    reposts = [rng.choice(distinct) for _ in range(n // 3)]
    order = distinct + reposts
    rng.shuffle(order)
    return order


def run(paths: list[str], cached: bool) -> tuple[float, dict]:
    reader = PictureReader()
    reader.read(paths[0])  # loads the OCR models: start-up is not throughput
    reader._memory.clear()
    reader.stats = dict.fromkeys(reader.stats, 0)
    started = time.perf_counter()
    for path in paths:
        if not cached:
            reader._memory.clear()  # every picture read as if new
        reader.read(path)
    return time.perf_counter() - started, reader.stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pictures", type=int, default=60)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    with tempfile.TemporaryDirectory() as tmp:
        paths = stream(args.pictures, Path(tmp))
        for cached in (False, True):
            secs, stats = run(paths, cached)
            print(f"{'with' if cached else 'without'} the cache: {len(paths) / secs:.2f} pictures/s "
                  f"({secs / len(paths) * 1000:.0f} ms each; OCR ran on {stats['ocr_runs']}, "
                  f"{stats['no_text']} skipped by the text-presence test, {stats['cached']} from the cache)")


if __name__ == "__main__":
    main()
