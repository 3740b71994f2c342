"""The FastAPI application over a store, a detector and the routers the composition root names."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from plugwatch.detect.lazy import LazyDetector
from plugwatch.service.auth import load_secret
from plugwatch.service.throttle import SignInThrottle
from plugwatch.store import Store

STATIC = Path(__file__).with_name("static")


def build_app(store: Store, routers: Iterable[APIRouter], detector=None) -> FastAPI:
    """The service over `store` with `routers` mounted; plugwatch.wiring.create_app says which."""
    app = FastAPI(title="plugwatch review service", version="0.1.0",
                  description="Ingest, score and review suspected drug-sale posts. API tokens: "
                              "`Authorization: Bearer TOKEN` (from `plugwatch users add`).")
    app.state.store = store
    app.state.detector = LazyDetector(detector)
    app.state.secret = load_secret(store)
    app.state.throttle = SignInThrottle()
    for router in routers:
        app.include_router(router)
    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
