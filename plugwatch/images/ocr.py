"""The text in pictures, read offline by RapidOCR (PP-OCR models run by ONNX Runtime; the models ship
inside the rapidocr-onnxruntime wheel, nothing is downloaded).

Cost control: `likely_text` is a cheap first test on image statistics (a thumbnail's share of sharp
edges) that skips flat pictures (blank, plain photos) before the OCR models run; `PictureReader`
caches each picture's results by the SHA-256 of its bytes, so a picture posted again is read once.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from plugwatch.images import ImageError
from plugwatch.images.pdq import hash_with_variants, load_rgb

MAX_BYTES = 30_000_000  # a picture larger than this is not read (no platform serves one)
MIN_EDGE_SHARE = 0.01  # text pictures have at least this share of sharp edges in a 256-pixel thumbnail
MIN_SCORE = 0.6  # OCR lines read with less confidence are dropped
CACHE_SIZE = 10_000  # pictures remembered in memory
# 2: OCR lines keep their `raw` text (contacts are read from it). A cache file of another format is read again.
CACHE_FORMAT = 2
# PP-OCR's recogniser often drops the space between a word and a number ("Xanax2mg"): put it back
_WORD_NUMBER = re.compile(r"(?<=[A-Za-z]{3})(?=\d)")


def likely_text(img) -> bool:
    """False for pictures with too few sharp edges to hold readable text (a cheap test, no model)."""
    grey = np.asarray(img.convert("L").resize((256, 256)), dtype=np.int16)
    edges = (np.abs(np.diff(grey, axis=1)) > 40).mean() + (np.abs(np.diff(grey, axis=0)) > 40).mean()
    return float(edges) / 2 >= MIN_EDGE_SHARE


class Ocr:
    """RapidOCR on one thread (a scan's cores belong to its workers), loaded on first use."""

    def __init__(self) -> None:
        self._engine = None

    def lines(self, img) -> list[dict[str, Any]]:
        """The text lines in the picture: text, axis-aligned box [x0, y0, x1, y1], and span in `text_of`."""
        if self._engine is None:
            from rapidocr_onnxruntime import RapidOCR

            self._engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, print_verbose=False)
        found, _ = self._engine(np.asarray(img))
        out, offset = [], 0
        # reading order: top to bottom, then left to right
        for quad, text, score in sorted(found or (), key=lambda r: (round(r[0][0][1] / 20), r[0][0][0])):
            raw = text.strip()
            text = _WORD_NUMBER.sub(" ", raw)
            if float(score) < MIN_SCORE or not text:
                continue
            xs, ys = [p[0] for p in quad], [p[1] for p in quad]
            line = {"text": text, "box": [int(min(xs)), int(min(ys)), int(max(xs)), int(max(ys))],
                    "span": [offset, offset + len(text)]}
            if raw != text:
                line["raw"] = raw  # as read: "plugking420" is a handle, whatever "Xanax2mg" is
            out.append(line)
            offset += len(text) + 1
        return out


def text_of(lines: list[dict[str, Any]]) -> str:
    return "\n".join(line["text"] for line in lines)


def raw_text_of(ocr: dict[str, Any]) -> str:
    """The picture's text as read, without the spaces put back between words and numbers: where contacts
    are read from ("Snapchat: plugking420" names plugking420, not plugking)."""
    lines = ocr.get("lines")
    if not isinstance(lines, list) or not all(isinstance(x, dict) for x in lines):
        return str(ocr.get("text") or "")
    return "\n".join(str(x.get("raw", x.get("text", ""))) for x in lines)


def box_for(lines: list[dict[str, Any]], start: int, end: int) -> list[int] | None:
    """The box of the OCR text between `start` and `end`: each line it touches, narrowed to the
    characters by their position along the line, and their union."""
    boxes = []
    for line in lines:
        a, b = line["span"]
        if end <= a or start >= b:
            continue
        x0, y0, x1, y1 = line["box"]
        width = (x1 - x0) / max(1, b - a)
        boxes.append([int(x0 + (max(start, a) - a) * width), y0, int(x0 + (min(end, b) - a) * width + 0.5), y1])
    if not boxes:
        return None
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]


class PictureReader:
    """Hashes and reads pictures, each distinct content once (memory cache, and a folder cache across runs)."""

    def __init__(self, ocr: bool = True, cache_dir: Path | None = None) -> None:
        self.ocr = Ocr() if ocr else None
        self.cache_dir = cache_dir
        self._memory: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.stats = {"pictures": 0, "cached": 0, "ocr_runs": 0, "no_text": 0, "warnings": 0}

    def read(self, path: str) -> dict[str, Any]:
        """{sha256, pdq, quality, variants, ocr} for the picture at `path`; ImageError when it cannot be read."""
        self.stats["pictures"] += 1
        try:
            if os.path.getsize(path) > MAX_BYTES:
                raise ImageError(f"larger than {MAX_BYTES // 1_000_000} MB: not read")
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise ImageError("file not found") from None
        except IsADirectoryError:
            raise ImageError("a folder, not a picture") from None
        except OSError as e:
            raise ImageError(f"cannot read: {e.strerror}") from None
        digest = hashlib.sha256(data).hexdigest()
        found = self._cached(digest)
        if found is not None:
            self.stats["cached"] += 1
            return found
        img = load_rgb(io.BytesIO(data))
        h = hash_with_variants(img)
        result: dict[str, Any] = {"sha256": digest, "pdq": h.pdq, "quality": h.quality, "variants": list(h.variants),
                                  "format": CACHE_FORMAT}
        if self.ocr is not None:
            if not likely_text(img):
                self.stats["no_text"] += 1
                result["ocr"] = None
            else:
                self.stats["ocr_runs"] += 1
                lines = self.ocr.lines(img)
                result["ocr"] = {"text": text_of(lines), "lines": lines, "size": [img.width, img.height]} if lines else None
        self._remember(digest, result)
        return result

    def _cached(self, digest: str) -> dict[str, Any] | None:
        if digest in self._memory:
            self._memory.move_to_end(digest)
            return self._memory[digest]
        if self.cache_dir is not None:
            file = self.cache_dir / f"{digest}.json"
            try:
                found = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
            if isinstance(found, dict) and found.get("format") == CACHE_FORMAT and ("ocr" in found or self.ocr is None):
                self._memory[digest] = found
                return found
        return None

    def _remember(self, digest: str, result: dict[str, Any]) -> None:
        self._memory[digest] = result
        if len(self._memory) > CACHE_SIZE:
            self._memory.popitem(last=False)
        if self.cache_dir is not None and self.ocr is not None:
            try:
                self.cache_dir.mkdir(parents=True, exist_ok=True)
                (self.cache_dir / f"{digest}.json").write_text(json.dumps(result), encoding="utf-8")
            except OSError:
                pass  # a cache that cannot be written only costs time
