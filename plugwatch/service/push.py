"""Signed push to POST /api/ingest: a platform's back end sends items without holding a token.

    POST /api/ingest
    X-Plugwatch-Source: shop                    # a [push.NAME] table of the site configuration
    X-Plugwatch-Timestamp: <unix seconds>
    X-Plugwatch-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

The same scheme plugwatch signs its own webhook calls with (plugwatch.enforce.webhook), the other way
round. The site configuration names the secret by reference:

    [push.shop]
    secret = { env = "PLUGWATCH_PUSH_SHOP" }    # or { file = "/etc/plugwatch/push-shop.secret" }

A request is refused (401) before its body is read when the source is unknown or the timestamp is
more than MAX_AGE seconds away from now, and after reading it when the signature does not match. A
replayed request within MAX_AGE stores nothing new: items are stored once, by id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from plugwatch.enforce import config as site_config
from plugwatch.enforce.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify
from plugwatch.errors import UserError
from plugwatch.service.auth import current_caller, current_user, optional_caller, require
from plugwatch.store.schema import User

log = logging.getLogger(__name__)

SOURCE_HEADER = "X-Plugwatch-Source"
MAX_AGE = 300


@dataclass(frozen=True)
class PushCaller:
    """A signed push, before its body is checked."""

    name: str  # "push:<source>", the actor recorded for what it sends
    secret: str
    timestamp: str
    signature: str
    role: str = "ingest"


def push_secret(source: str) -> str | None:
    cfg = site_config.active()
    table = (cfg.sections.get("push") or {}).get(source)
    if not isinstance(table, dict) or "secret" not in table:
        return None
    try:
        return site_config._secret(table["secret"], f"{cfg.path}: push.{source}.secret").read()
    except UserError as e:  # the caller is told "unknown source" only; the operator must learn why
        log.warning("signed push from %s refused: %s", source, e)
        return None


_items_add = require("items.add")


async def ingest_caller(request: Request) -> User | PushCaller:
    """A signed push when the request carries a signature, else a signed-in user with `items.add`."""
    signature = request.headers.get(SIGNATURE_HEADER)
    if signature is None:
        return await _items_add(await current_user(await current_caller(await optional_caller(request))))
    source = request.headers.get(SOURCE_HEADER, "")
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    secret = push_secret(source) if source else None
    # The same answer for an unknown source and a stale timestamp: nothing to learn from probing.
    if secret is None or not verify(secret, timestamp, b"", sign(secret, timestamp, b""), max_age=MAX_AGE):
        raise HTTPException(401, "signed push refused: unknown source or timestamp too old", headers={"WWW-Authenticate": "HMAC"})
    return PushCaller(f"push:{source}", secret, timestamp, signature)


def check_body(caller: User | PushCaller, body: bytes) -> None:
    """For a signed push, the signature over the body as received (401 if it does not match)."""
    if isinstance(caller, PushCaller) and not verify(caller.secret, caller.timestamp, body, caller.signature,
                                                     max_age=MAX_AGE):
        raise HTTPException(401, "signed push refused: the signature does not match the body",
                            headers={"WWW-Authenticate": "HMAC"})


IngestCaller = Annotated[User | PushCaller, Depends(ingest_caller)]
