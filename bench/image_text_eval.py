"""Image-only offers: recall and false-positive rate of `scan` when the evidence is only in a picture.

    python3 bench/image_text_eval.py                      # 80 menus, 120 pictures with text that are not offers
    python3 bench/image_text_eval.py --offers 40 --benign 60
    python3 bench/image_text_eval.py --write-training devdata/v2/train_image_text.jsonl --offers 150 --benign 200

Pictures are rendered by bench/picture_gen.py from the `test` split (word lists and fonts the training
pictures never use). Each picture is attached to a post whose own text carries no evidence ("new menu 👇",
"tap in", or nothing) and scanned with the shipped detector and the image channel (OCR on one thread).
A menu counts as found when its item is flagged; a non-drug picture (restaurant menu, shop price list,
event poster, harm-reduction poster, news screenshot) counts as a false positive when flagged.

--write-training renders the `train` split instead and writes its OCR text as labelled training lines
(JSON lines {text, label: sale|not-sale, source}) for `plugwatch train`; test pictures are never written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
os.environ.setdefault("OMP_NUM_THREADS", "1")

import picture_gen  # noqa: E402

from plugwatch.detect import Detector  # noqa: E402
from plugwatch.images.channel import ImageDetector  # noqa: E402
from plugwatch.images.ocr import PictureReader  # noqa: E402
from plugwatch.model import Account, Item, MediaRef  # noqa: E402

POST_TEXTS = ["new menu 👇", "tap in", "", "weekend", "check this out", "dm me", "look 👀"]  # none is evidence alone


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--offers", type=int, default=80)
    ap.add_argument("--benign", type=int, default=120)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--write-training", type=Path, help="render the training split and write its OCR text here")
    args = ap.parse_args()
    split = "train" if args.write_training else "test"
    pics = picture_gen.pictures(split, args.offers, args.benign, args.seed)
    reader = PictureReader()
    with tempfile.TemporaryDirectory() as tmp:
        items = []
        for n, pic in enumerate(pics):
            path = Path(tmp) / f"{n}.jpg"
            path.write_bytes(pic.data)
            items.append(Item("generic", str(n), POST_TEXTS[n % len(POST_TEXTS)],
                              author=Account("generic", handle=f"user{n}"),
                              media=[MediaRef(kind="photo", path=str(path))]))
        started = time.perf_counter()
        if args.write_training:
            _write_training(args.write_training, pics, items, reader)
            return
        detector = ImageDetector(Detector.load(), reader)
        verdicts = []
        for start in range(0, len(items), 32):
            batch = [(i, []) for i in items[start:start + 32]]
            verdicts += detector.verdicts(batch)
        secs = time.perf_counter() - started
    offers = [v.flagged for p, v in zip(pics, verdicts, strict=True) if p.kind == "offer"]
    benign = Counter()
    flagged = Counter()
    for p, v in zip(pics, verdicts, strict=True):
        if p.kind != "offer":
            benign[p.kind] += 1
            flagged[p.kind] += v.flagged
    fp = sum(flagged.values())
    print(f"image-only offers (test split, {len(pics)} pictures, {secs / len(pics):.2f} s/picture):")
    print(f"  recall {sum(offers) / len(offers):.3f} ({sum(offers)}/{len(offers)} menus flagged)")
    print(f"  false-positive rate {fp / sum(benign.values()):.3f} ({fp}/{sum(benign.values())} non-drug pictures "
          "flagged): " + ", ".join(f"{k} {flagged[k]}/{benign[k]}" for k in sorted(benign)))
    missed = [p.text.replace("\n", " | ") for p, v in zip(pics, verdicts, strict=True) if p.kind == "offer" and not v.flagged]
    wrong = [f"{p.kind}: {_seen(i)} <- {sorted({r.text for r in v.reasons if r.media is not None})}"
             for p, i, v in zip(pics, items, verdicts, strict=True) if p.kind != "offer" and v.flagged]
    for label, rows in (("missed", missed), ("false positives", wrong)):
        for row in rows[:5]:
            print(f"  {label}: {row[:150]}")


def _seen(item: Item) -> str:
    """The OCR text of the item's picture, on one line."""
    return ((item.media[0].ocr or {}).get("text") or "").replace("\n", " | ")


def _write_training(out: Path, pics, items, reader: PictureReader) -> None:
    rows = []
    for pic, item in zip(pics, items, strict=True):
        text = ((reader.read(item.media[0].path).get("ocr") or {}).get("text") or "").strip()
        if text:
            rows.append({"text": text, "label": "sale" if pic.kind == "offer" else "not-sale",
                         "source": f"rendered picture ({pic.kind}), OCR"})
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {len(rows)} OCR texts of training pictures to {out}")


if __name__ == "__main__":
    main()
