"""Pictures: PDQ perceptual hashes and hash banks, OCR of the text in images, and the image channel of
the detector. The optional packages (Pillow, pdqhash, rapidocr-onnxruntime) are imported only when a
picture is read, so plugwatch runs without them; `missing()` says which are absent."""

from __future__ import annotations

from importlib.util import find_spec

INSTALL_HINT = "pip install 'plugwatch[images]'"
_NEEDED = {"PIL": "Pillow", "pdqhash": "pdqhash", "rapidocr_onnxruntime": "rapidocr-onnxruntime"}


def missing(modules: tuple[str, ...] = tuple(_NEEDED)) -> list[str]:
    """The distribution names of the image packages that are not installed (empty when all are)."""
    return [_NEEDED[m] for m in modules if find_spec(m) is None]


class ImageError(Exception):
    """A picture that cannot be read (missing, not an image, truncated): a warning on its item."""
