"""Decide whether an item offers drugs for sale, with calibrated score and reasons."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plugwatch.detect.detector import Detector
    from plugwatch.detect.model import DetectorModel, ModelError

__all__ = ["Detector", "DetectorModel", "ModelError"]

_HOME = {"Detector": "plugwatch.detect.detector", "DetectorModel": "plugwatch.detect.model",
         "ModelError": "plugwatch.detect.model"}


def __getattr__(name: str):
    # Loaded on first use: `plugwatch.detect.tactics` or `.datasets` alone need no numpy or scipy.
    if name in _HOME:
        return getattr(import_module(_HOME[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
