"""Decide whether an item offers drugs for sale, with calibrated score and reasons."""

from plugwatch.detect.detector import Detector
from plugwatch.detect.model import DetectorModel, ModelError

__all__ = ["Detector", "DetectorModel", "ModelError"]
