"""PDQ hash banks: index build time and query time with 1,000,000 hashes on one core, and how well
PDQ matches altered copies of a picture while keeping distinct pictures apart.

    python3 bench/pdq_bench.py                    # 1,000,000 hashes, 200 pictures
    python3 bench/pdq_bench.py --bank 100000 --pictures 50

Bank: random hashes (PDQ hashes of distinct pictures are close to uniform), plus near copies of the
queries planted in it; each query must find its copy. Robustness: rendered menus, posters and shape
pictures (bench/picture_gen.py) each re-encoded as JPEG quality 30, resized to 50%, cropped by 5% on
each side, brightened by 20%, and given a border (5% of the width, white); recall is the share of
altered copies within distance 31 of their original. False matches: the share of pairs of distinct
pictures within distance 31.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import picture_gen  # noqa: E402
from PIL import Image, ImageEnhance, ImageOps  # noqa: E402

from plugwatch.images.index import PdqIndex  # noqa: E402
from plugwatch.images.pdq import MATCH_DISTANCE, best_distance, distance, hash_image, variant_hashes  # noqa: E402


def _jpeg(img, quality):
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _crop(img, share=0.05):
    w, h = img.size
    return img.crop((int(w * share), int(h * share), int(w * (1 - share)), int(h * (1 - share))))


ALTERATIONS = {
    "jpeg30": lambda img: _jpeg(img, 30),
    "resize50": lambda img: img.resize((img.width // 2, img.height // 2), Image.BILINEAR),
    "crop5": _crop,
    "bright20": lambda img: ImageEnhance.Brightness(img).enhance(1.2),
    "border": lambda img: ImageOps.expand(img, border=max(1, img.width // 20), fill="white"),
}


def test_pictures(n: int) -> list:
    rng = random.Random(7)
    pics = []
    for i in range(n):
        if i % 3 == 2:
            data = picture_gen.photo(rng)
        else:
            split = "test" if i % 2 else "train"
            lines = (picture_gen.offer_lines(split, rng) if i % 3 == 0 else
                     picture_gen.benign_lines(split, rng.choice(list(picture_gen.BENIGN[split])), rng))
            data = picture_gen.render(lines, split, rng)
        pics.append(Image.open(io.BytesIO(data)).convert("RGB"))
    return pics


def robustness(pics) -> None:
    originals = [hash_image(p).pdq for p in pics]
    variants = [variant_hashes(p) for p in pics]
    print(f"robustness on {len(pics)} pictures (match = distance <= {MATCH_DISTANCE}); "
          "reference hash alone | with the trimmed and cropped hashes plugwatch adds:")
    for name, alter in ALTERATIONS.items():
        altered = [alter(p) for p in pics]
        plain = [distance(h, hash_image(a).pdq) for a, h in zip(altered, originals, strict=True)]
        multi = [best_distance(v, variant_hashes(a)) for a, v in zip(altered, variants, strict=True)]
        print(f"  {name:9s} recall {_share(plain):.3f} (median distance {int(np.median(plain))}) | "
              f"{_share(multi):.3f} (median {int(np.median(multi))})")
    pairs = false = false_multi = 0
    for i in range(len(originals)):
        for j in range(i + 1, len(originals)):
            pairs += 1
            false += distance(originals[i], originals[j]) <= MATCH_DISTANCE
            false_multi += best_distance(variants[i], variants[j]) <= MATCH_DISTANCE
    print(f"  distinct pairs: {pairs}, false matches {false} ({false / pairs:.4%}) | "
          f"{false_multi} ({false_multi / pairs:.4%})")


def _share(dists: list[int]) -> float:
    return sum(d <= MATCH_DISTANCE for d in dists) / len(dists)


def index_speed(n: int, queries: int = 1000) -> None:
    rng = np.random.default_rng(3)
    raw = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    # near copies: the first `queries` hashes with up to 31 bits flipped are the queries
    probes = raw[:queries].copy()
    for row in probes:
        for bit in rng.choice(256, rng.integers(0, MATCH_DISTANCE + 1), replace=False):
            row[bit // 8] ^= 1 << (bit % 8)
    hashes = [r.tobytes().hex() for r in raw]
    started = time.perf_counter()
    index = PdqIndex(hashes)
    build = time.perf_counter() - started
    started = time.perf_counter()
    found = sum(any(h.index == i for h in index.query(p.tobytes().hex(), MATCH_DISTANCE))
                for i, p in enumerate(probes))
    per_query = (time.perf_counter() - started) / queries * 1000
    print(f"index of {n:,} hashes: build {build:.2f} s, {per_query:.2f} ms/query (distance {MATCH_DISTANCE}), "
          f"planted copies found {found}/{queries}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bank", type=int, default=1_000_000)
    ap.add_argument("--pictures", type=int, default=200)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    index_speed(args.bank)
    robustness(test_pictures(args.pictures))


if __name__ == "__main__":
    main()
