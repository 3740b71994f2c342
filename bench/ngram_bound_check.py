"""How well the gate's per-word estimate (plugwatch/detect/ngram_bound.py) picks the items without evidence
that the text stage must score: on the 20,000-post ordinary stream of bench/scan_bench.py and on the held-out
test sets, how many evidence-free items there are, how many the exact text stage puts in its band of doubt or
above, how many the estimate passes, and how many of the former it misses (the goal: none).

    python3 bench/ngram_bound_check.py [--data ../shared/data]   (the shared data adds the proxies' held-out part)
"""

from __future__ import annotations

import argparse
import glob
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import numpy as np  # noqa: E402
from scan_bench import ROOT, write_stream  # noqa: E402

sys.path.insert(0, str(ROOT))
from plugwatch.detect.datasets import proxies, read_labelled  # noqa: E402
from plugwatch.detect.detector import BIO_COLUMNS, Detector, has_evidence, model_text  # noqa: E402
from plugwatch.detect.features import feature_matrix  # noqa: E402
from plugwatch.detect.ngram_bound import NgramBound  # noqa: E402
from plugwatch.detect.training import example_item  # noqa: E402
from plugwatch.sources import SourceOptions, read  # noqa: E402
from plugwatch.text.identifiers import text_identifiers  # noqa: E402


def check(name: str, items: list, detector: Detector) -> None:
    m = detector.model
    contexts = [detector.analyse(i, text_identifiers(i)) for i in items]
    free = [c for c in contexts if not has_evidence(c)]
    feats = feature_matrix([(c.hits, c.norm.text) for c in free])
    feats[:, BIO_COLUMNS] = 0.0  # as the detector reads them
    texts = [model_text(c) for c in free]
    exact = m.text.proba(feats, texts=texts)[:, 1]
    needed = exact >= m.text_band[0][0]
    bound = NgramBound(m.text, m.text_band[0])
    passed = bound.may_reach(feats, texts)
    error = abs(bound.estimate(feats, texts)[:, 1] - exact)
    print(f"{name}: {len(items):,} items, {len(free):,} without evidence; the text stage's exact score reaches "
          f"the band ({m.text_band[0][0]}) on {int(needed.sum())}; the estimate passes {int(passed.sum())} "
          f"({passed.mean():.1%}); missed: {int((needed & ~passed).sum())}; estimate's error on the sale "
          f"probability: median {float(np.median(error)):.3f}, largest {float(error.max()):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    detector = Detector.load()
    with tempfile.TemporaryDirectory() as tmp:
        stream = Path(tmp) / "ordinary.jsonl"
        write_stream(stream, 20_000)
        ordinary = [u for u in read([str(stream)], SourceOptions()) if hasattr(u, "text")]
    check("ordinary stream", ordinary, detector)
    files = ["devdata/test.jsonl", "devdata/v2/test_short.jsonl", "devdata/v2/test_health.jsonl",
             *sorted(glob.glob(str(ROOT / "devdata/v2/test*_lang_*.jsonl")))]
    examples = [ex for f in files for ex in read_labelled(ROOT / f)]
    if args.data.is_dir():
        examples += proxies(args.data, "eval")
    else:
        print(f"(no shared data at {args.data}: the proxies are left out)")
    check("held-out test sets", [example_item(ex) for ex in examples], detector)


if __name__ == "__main__":
    main()
