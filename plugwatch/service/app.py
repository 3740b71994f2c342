"""The FastAPI application: `create_app(db_url)` wires the store, the detector and every router."""

from __future__ import annotations

import importlib
import threading
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from plugwatch.commands.common import database_url
from plugwatch.service.auth import load_secret
from plugwatch.service.limits import BodyLimit
from plugwatch.service.throttle import SignInThrottle
from plugwatch.store import open_store

STATIC = Path(__file__).with_name("static")
OPTIONAL_ROUTERS = ("plugwatch.service.pages", "plugwatch.service.legal", "plugwatch.service.taxii")


class LazyDetector:
    """Loads the detector on first use, once, and lets one batch through it at a time."""

    def __init__(self, detector=None):
        self._detector = detector
        self._lock = threading.Lock()

    def get(self):
        if self._detector is None:
            with self._lock:
                if self._detector is None:
                    from plugwatch.detect import Detector

                    self._detector = Detector.load()
        return self._detector

    def verdicts(self, batch):
        detector = self.get()
        with self._lock:
            return detector.verdicts(batch)


def create_app(db_url: str | None = None, detector=None) -> FastAPI:
    from plugwatch.service import api

    app = FastAPI(title="plugwatch review service", version="0.1.0",
                  description="Ingest, score and review suspected drug-sale posts. API tokens: "
                              "`Authorization: Bearer TOKEN` (from `plugwatch users add`).")
    store = open_store(database_url(db_url))
    app.state.store = store
    app.state.detector = LazyDetector(detector)
    app.state.secret = load_secret(store)
    app.state.throttle = SignInThrottle()
    app.include_router(api.router)
    for name in OPTIONAL_ROUTERS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        app.include_router(module.router)
    app.add_middleware(BodyLimit)
    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
