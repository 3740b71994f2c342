"""Single-core scan speed on a drug-heavy stream, side by side with the TF-IDF baseline.

A drug forum, a recovery community or a keyword-filtered feed is mostly drug talk, so most items
pass the cheap signal gate and reach the model stages. This builds such a stream from the shared
real data (../shared/data or --data): every r/opiates comment, onion-site paragraph and market
listing title, plus ordinary posts from devdata/ (a third of the stream), each text once. It then
times, in one run and on one core:

- `plugwatch scan` of the stream as a whole process (start-up, parsing, scoring, writing);
- the TF-IDF + logistic regression baseline's scoring alone on the same texts (fitted on
  devdata/train.jsonl beforehand; no parsing, no output), as bench/scan_bench.py does;

- plugwatch's scoring alone, in one process, the same way: items already read and the model and
  encoder already loaded, then identifiers, signals, model stages and verdicts in the scan's batches, no
  output (a like-for-like figure beside the whole process);

and prints the rates, their ratios, and the scan's model-stage counts.

    python3 bench/drug_heavy_bench.py [--data ../shared/data] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scan_bench import ROOT, load_pools, run_scan, tfidf_rate  # noqa: E402

sys.path.insert(0, str(ROOT))
from plugwatch.detect.datasets import PROXIES  # noqa: E402


def drug_texts(data: Path) -> dict[str, list[str]]:
    texts: dict[str, list[str]] = {}
    for name, reader in PROXIES.items():
        for ex in reader(data):
            if name == "agora" and not ex.slice.startswith("agora_drugs") or ex.slice.startswith("ebay"):
                continue  # other market goods and eBay products are not drug talk
            texts.setdefault(name, []).append(ex.text)
    return texts


def write_stream(path: Path, data: Path, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    drug = drug_texts(data)
    ordinary = [t for k, pool in load_pools().items() if k != "drug" for t in pool]
    n_drug = sum(len(v) for v in drug.values())
    texts = [t for v in drug.values() for t in v]
    # A third ordinary posts, each varied so no two lines repeat.
    for i in range(n_drug // 2):
        texts.append(f"{rng.choice(ordinary)} {i}")
    rng.shuffle(texts)
    with path.open("w", encoding="utf-8") as fh:
        for i, text in enumerate(texts):
            fh.write(json.dumps({"id": str(i), "text": text, "author": f"user{rng.randrange(2000)}"},
                                ensure_ascii=False) + "\n")
    return {**{k: len(v) for k, v in drug.items()}, "ordinary": n_drug // 2, "total": len(texts)}


def scoring_rate(path: Path) -> float:
    """plugwatch's identifiers + signals + model stages + verdicts alone, as the baseline is timed."""
    import time

    from plugwatch.detect import embed
    from plugwatch.detect.detector import Detector
    from plugwatch.model import Item
    from plugwatch.pipeline import BATCH, identifiers_for
    from plugwatch.sources import read

    items = [x for x in read([str(path)]) if isinstance(x, Item)]
    detector = Detector.load()
    embed.embed(["warm up"])  # the encoder's load is start-up, not scoring
    warm = Item(platform="generic", native_id="warm-up", text="warm up")  # and so is building the vocabulary
    detector.verdicts([(warm, identifiers_for(warm, None))])
    start = time.perf_counter()
    for i in range(0, len(items), BATCH):
        chunk = items[i:i + BATCH]
        detector.verdicts([(item, identifiers_for(item, None)) for item in chunk])
    return len(items) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    if not (args.data / "reddit_opiates_ner").is_dir():
        sys.exit(f"bench: the shared data is needed ({args.data}); give --data")
    with tempfile.TemporaryDirectory() as tmp:
        stream = Path(tmp) / "drug-heavy.jsonl"
        counts = write_stream(stream, args.data)
        drug = counts["total"] - counts["ordinary"]
        print(f"stream: {counts['total']:,} items, {drug / counts['total']:.0%} drug talk and offers "
              f"({', '.join(f'{k} {v:,}' for k, v in counts.items() if k not in ('total',))})")
        secs, peak_mb = run_scan(stream, Path(tmp) / "out.jsonl")
        rate = counts["total"] / secs
        print(f"plugwatch scan, whole process on one core: {secs:.1f} s, {rate:,.0f} items/s, "
              f"peak RSS {peak_mb:.0f} MB")
        base = tfidf_rate(stream, limit=counts["total"])
        print(f"TF-IDF + LR baseline, scoring alone on the same texts: {base:,.0f} items/s")
        alone = scoring_rate(stream)
        print(f"plugwatch scoring alone, same texts, one process: {alone:,.0f} items/s")
        print(f"plugwatch scan / baseline scoring = {rate / base:.2f}; "
              f"plugwatch scoring alone / baseline scoring = {alone / base:.2f}")


if __name__ == "__main__":
    main()
