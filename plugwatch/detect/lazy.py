"""The detector, loaded when the first batch needs it, one batch at a time.

Inputs that are all `scan` output, or a service that only reviews, never pay for loading it; the lock
lets the service's threads share one copy (its caches are not made for concurrent batches).
"""

from __future__ import annotations

import threading
from pathlib import Path


class LazyDetector:
    def __init__(self, detector=None, model: Path | None = None, threshold: float | None = None,
                 use_model: bool = True):
        self._detector = detector
        self._args = (model, threshold, use_model)
        self._lock = threading.Lock()

    def get(self):
        """The detector, loaded now if it was not yet (raises ModelError for an unreadable model file)."""
        if self._detector is None:
            with self._lock:
                if self._detector is None:
                    from plugwatch.detect.detector import Detector

                    model, threshold, use_model = self._args
                    self._detector = Detector.load(model, threshold=threshold, use_model=use_model)
        return self._detector

    def verdicts(self, batch):
        detector = self.get()
        with self._lock:
            return detector.verdicts(batch)
