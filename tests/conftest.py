"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

import pytest

from plugwatch.detect import Detector


@pytest.fixture(scope="session")
def detector() -> Detector:
    """The shipped model, loaded once: its embedding model is the slow part and loads on first use."""
    return Detector.load()
