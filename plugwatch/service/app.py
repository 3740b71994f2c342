"""The FastAPI application over a store, a detector and the routers the composition root names."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from plugwatch.detect.lazy import LazyDetector
from plugwatch.service.keys import load_session_key
from plugwatch.service.limits import BodyLimit
from plugwatch.service.links import media_hosts_from, media_hosts_from_env
from plugwatch.service.pseudonyms import AccountPseudonyms
from plugwatch.service.throttle import SignInThrottle
from plugwatch.store import Store

STATIC = Path(__file__).with_name("static")
SECURE_COOKIES_ENV = "PLUGWATCH_SECURE_COOKIES"


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def build_app(store: Store, routers: Iterable[APIRouter], detector=None, *, session_key_file: str | None = None,
              secure_cookies: bool | None = None, media_hosts: str | None = None) -> FastAPI:
    """The service over `store` with `routers` mounted (plugwatch.wiring.create_app says which).
    The signing key: see plugwatch.service.keys (`session_key_file` overrides
    $PLUGWATCH_SESSION_KEY_FILE). `secure_cookies`: mark every cookie Secure even when requests
    arrive over plain HTTP from a TLS terminator (default: $PLUGWATCH_SECURE_COOKIES).
    `media_hosts`: hosts reviewers' browsers may load attached images from (default:
    $PLUGWATCH_MEDIA_HOSTS; none: images are offered as links only)."""
    app = FastAPI(title="plugwatch review service", version="0.1.0",
                  description="Ingest, score and review suspected drug-sale posts. API tokens: "
                              "`Authorization: Bearer TOKEN` (from `plugwatch users add`).",
                  docs_url=None, redoc_url=None)  # /docs below, from the package: it must work offline
    app.state.store = store
    app.state.detector = LazyDetector(detector)
    app.state.secret = load_session_key(session_key_file)
    app.state.pseudonyms = AccountPseudonyms(app.state.secret)
    app.state.media_hosts = media_hosts_from(media_hosts) if media_hosts is not None else media_hosts_from_env()
    app.state.secure_cookies = env_flag(SECURE_COOKIES_ENV) if secure_cookies is None else secure_cookies
    app.state.throttle = SignInThrottle()
    for router in routers:
        app.include_router(router)
    app.add_middleware(BodyLimit)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    _add_docs(app)
    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _add_docs(app: FastAPI) -> None:
    """Swagger UI at /docs with its script and style served from plugwatch/service/static/swagger
    (vendored, Apache-2.0), not from a CDN; and a small icon, so browsers stop asking for a missing one."""

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} · API",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg",
                                   swagger_ui_parameters={"validatorUrl": None})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml",
                            headers={"Cache-Control": "public, max-age=86400"})


async def _invalid_request(request, exc: RequestValidationError) -> Response:
    """FastAPI's 422, with the echoed input escaped to ASCII: the default handler writes it as UTF-8,
    which fails on a lone surrogate in the body and turned a client's error into a 500."""
    body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
    return Response(body, status_code=422, media_type="application/json")
