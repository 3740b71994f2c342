"""Request bodies are read under a cap, whatever their content type.

`BodyLimit` wraps every HTTP request's body stream: a declared Content-Length over the route's cap
is refused with 413 before anything is read, and a body that grows past the cap (chunked, or lying
about its length) stops the read with 413 at that point. Nothing is buffered by the middleware; it
only counts. Most routes take small JSON or form bodies (`DEFAULT_LIMIT`); the two routes that take
files have their own caps, and read their body only after the caller is authenticated (see
`plugwatch.service.api.ingest` and `plugwatch.service.taxii.add_objects`).
"""

from __future__ import annotations

import json
import re
import tempfile
from typing import Annotated, Any

from fastapi import HTTPException, Path

DEFAULT_LIMIT = 256 * 1024  # a decision note is at most 5,000 characters; forms are smaller still
INGEST_LIMIT = 200 * 1024 * 1024
TAXII_LIMIT = 10 * 1024 * 1024
# (method, path pattern, cap in bytes); the first match wins.
ROUTE_LIMITS: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("POST", re.compile(r"/api/ingest/?"), INGEST_LIMIT),
    ("POST", re.compile(r"/taxii2/api/collections/[^/]+/objects/?"), TAXII_LIMIT),
)
# A row id in a path: bounded by the database's integer, so 20 digits are a 422, not a driver overflow.
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
MAX_JSON_DEPTH = 64  # records nest a few levels; a thousand brackets are an attack, not data


def limit_for(method: str, path: str) -> int:
    for m, pattern, limit in ROUTE_LIMITS:
        if m == method and pattern.fullmatch(path):
            return limit
    return DEFAULT_LIMIT


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int):
        size = f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit // 1024} KB"
        super().__init__(413, f"request body over {size}: split it")


class BodyLimit:
    """ASGI middleware: caps the body of every HTTP request (see the module docstring)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = limit_for(scope["method"], scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await _refuse(send, BodyTooLarge(limit) if declared.isdigit()
                                 else HTTPException(400, "Content-Length is not a number"))
        seen = 0

        async def capped_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, capped_receive, send)


async def _refuse(send, error: HTTPException) -> None:
    body = json.dumps({"detail": error.detail}).encode()
    await send({"type": "http.response.start", "status": error.status_code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


async def read_body(request, limit: int | None = None) -> bytes:
    """The request body, read in chunks and refused with 413 as soon as it passes `limit` (the
    route's cap by default). Call it only after the caller is authenticated."""
    limit = limit or limit_for(request.method, request.url.path)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def spool_body(request, limit: int | None = None) -> tempfile.SpooledTemporaryFile:
    """The request body in a temporary file (in memory up to 1 MB), written as it arrives and
    refused with 413 as soon as it passes `limit`. The file is left at its end."""
    limit = limit or limit_for(request.method, request.url.path)
    spool = tempfile.SpooledTemporaryFile(max_size=2**20)
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            spool.close()
            raise BodyTooLarge(limit)
        spool.write(chunk)
    return spool


def json_depth_ok(data: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether no array or object in the JSON text nests deeper than `limit`, checked before parsing
    so a deeply nested body cannot exhaust a parser's (or a later walker's) recursion."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))  # strings may hold brackets: drop them first
    depth = 0
    for ch in brackets:
        depth += 1 if ch in "[{" else -1
        if depth > limit:
            return False
    return True


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def parse_json(data: bytes, what: str = "body") -> Any:
    """JSON from a request body; a 400/422 HTTPException (never a 500) when it cannot be read."""
    if not json_depth_ok(data):
        raise HTTPException(422, f"{what} nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise HTTPException(422, f"{what} is not valid JSON: {e}") from None
