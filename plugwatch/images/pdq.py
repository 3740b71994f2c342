"""PDQ perceptual hashes through the reference implementation (the `pdqhash` package, Meta's C++ code).

A hash is 256 bits written as 64 hex digits, most significant bit first, the layout python-threatexchange
and Hasher-Matcher-Actioner read and write. Two pictures match when their Hamming distance is at most
MATCH_DISTANCE, PDQ's recommended threshold. Quality (0..100) says how much detail the picture had: below
MIN_QUALITY (blank, flat or tiny pictures) hashes collide by accident and are not used to match or link.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from plugwatch.images import ImageError

MATCH_DISTANCE = 31
MIN_QUALITY = 50
HEX_DIGITS = 64


@dataclass(frozen=True, slots=True)
class PdqHash:
    pdq: str  # 64 hex digits
    quality: int
    variants: tuple[str, ...] = ()  # hashes of the cropped and trimmed picture (see variant_hashes)

    @property
    def all(self) -> list[str]:
        return [self.pdq, *self.variants]


def load_rgb(path: str | Path):
    """The picture at `path` as an RGB Pillow image; ImageError with the reason when it cannot be read."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Pillow only warns of a picture over MAX_IMAGE_PIXELS (and raises, not an OSError, over twice
            # that): either is refused here, as one over MAX_BYTES is, rather than ending the scan.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                img.load()
                return img.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"more than {Image.MAX_IMAGE_PIXELS:,} pixels: not read") from None
    except FileNotFoundError:
        raise ImageError("file not found") from None
    except UnidentifiedImageError:
        raise ImageError("not a picture Pillow can read") from None
    except (OSError, ValueError, SyntaxError) as e:
        raise ImageError(f"unreadable picture: {e}") from None


def hash_image(img) -> PdqHash:
    """The PDQ hash of a Pillow image (converted to RGB as the reference tools do)."""
    import pdqhash

    pixels = np.asarray(img.convert("RGB") if img.mode != "RGB" else img)
    bits, quality = pdqhash.compute(pixels)
    return PdqHash(bits_to_hex(bits), int(quality))


def hash_file(path: str | Path) -> PdqHash:
    """The reference hash and quality of the picture at `path`, with its variant hashes."""
    return hash_with_variants(load_rgb(path))


def hash_with_variants(img) -> PdqHash:
    first = hash_image(img)
    return PdqHash(first.pdq, first.quality, tuple(variant_hashes(img)[1:]))


# PDQ is robust to re-encoding, resizing and brightness but not to borders or crops: a picture is also
# hashed with flat margins trimmed, and trimmed then cut by CROP_SHARE on each side. Two pictures match
# when any hash of one is within the distance of any hash of the other; the first hash stays the
# reference hash of the whole picture (what is shown, banked and shared).
CROP_SHARE = 0.05
_FLAT_STD = 6.0  # a row or column this uniform (grey levels) is margin
_MAX_TRIM = 0.25  # never trim more than this share of a side


def _trim_box(img) -> tuple[int, int, int, int]:
    grey = np.asarray(img.convert("L"), dtype=np.float32)
    h, w = grey.shape

    def run(stds: np.ndarray, limit: int) -> int:
        n = 0
        while n < limit and stds[n] < _FLAT_STD:
            n += 1
        return n

    rows, cols = grey.std(axis=1), grey.std(axis=0)
    top, left = run(rows, int(h * _MAX_TRIM)), run(cols, int(w * _MAX_TRIM))
    bottom, right = run(rows[::-1], int(h * _MAX_TRIM)), run(cols[::-1], int(w * _MAX_TRIM))
    return left, top, w - right, h - bottom


def _central(img):
    w, h = img.size
    dx, dy = int(w * CROP_SHARE), int(h * CROP_SHARE)
    return img.crop((dx, dy, w - dx, h - dy))


def variant_hashes(img) -> list[str]:
    """The reference hash, then the hashes of its central crop, of the picture with flat margins trimmed
    and of that one's central crop (the last two only when there was a margin)."""
    rgb = img.convert("RGB") if img.mode != "RGB" else img
    out = [hash_image(rgb).pdq, hash_image(_central(rgb)).pdq]  # hash_with_variants reuses the first
    box = _trim_box(rgb)
    if box != (0, 0, rgb.width, rgb.height):
        trimmed = rgb.crop(box)
        out += [hash_image(trimmed).pdq, hash_image(_central(trimmed)).pdq]
    return out


def best_distance(a: list[str], b: list[str]) -> int:
    """The smallest distance between any hash of one picture and any hash of the other."""
    return min(distance(x, y) for x in a for y in b)


def bits_to_hex(bits) -> str:
    packed = np.packbits(np.asarray(bits, dtype=np.uint8))  # first bit is the most significant
    return packed.tobytes().hex()


def is_pdq(text: str) -> bool:
    return len(text) == HEX_DIGITS and all(c in "0123456789abcdefABCDEF" for c in text)


def to_words(pdq: str) -> np.ndarray:
    """A hash as four big-endian 64-bit words (for the index's popcounts)."""
    return np.frombuffer(bytes.fromhex(pdq), dtype=">u8").astype(np.uint64)


def distance(a: str, b: str) -> int:
    return int(np.bitwise_count(to_words(a) ^ to_words(b)).sum())
