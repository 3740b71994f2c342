"""The generic webhook back-end, for platforms with their own back end.

    POST <url>
    Content-Type: application/json
    Idempotency-Key: plugwatch-<decision>-<backend>-<effect>   (the same on every resend)
    X-Plugwatch-Timestamp: <unix seconds>
    X-Plugwatch-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

    {"idempotency_key", "operation", "action", "effect", "subject", "policy_reason", "policy",
     "evidence", "notice", "decision_id", "decided_at", "automated", "reverses"?}

The receiver verifies the signature over the timestamp and the raw body with the shared secret
(`verify` below does exactly that), refuses timestamps older than a few minutes (replay), and applies
each Idempotency-Key once: a resend of a key it has seen answers 2xx (or 409) without acting again.
2xx and 409 count as delivered; 408, 425, 429 and 5xx are retried; any other answer goes to the
dead letters.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from plugwatch.actions import EFFECT_NOTICES, EFFECTS
from plugwatch.enforce.backends import EffectRequest, Transient, http_error

OPERATIONS = frozenset(EFFECTS)
DEFAULTS = {effect: effect for effect in EFFECTS}
# The receiver carries out the effect it is sent: an effect mapped to another (remove_content = "warn_account")
# is told as that one.
NOTICES = EFFECT_NOTICES
SIGNATURE_HEADER = "X-Plugwatch-Signature"
TIMESTAMP_HEADER = "X-Plugwatch-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, max_age: float = 300,
           now: float | None = None) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        age = (now if now is not None else time.time()) - int(timestamp)
    except ValueError:
        return False
    return abs(age) <= max_age and hmac.compare_digest(sign(secret, timestamp, body), signature)


def body_of(request: EffectRequest) -> dict[str, Any]:
    p = request.payload
    body = {"idempotency_key": request.idempotency_key, "operation": request.operation,
            **{k: p.get(k) for k in ("action", "effect", "subject", "policy_reason", "policy", "evidence",
                                     "notice", "decision_id", "decided_at", "automated")}}
    if p.get("reverses"):
        body["reverses"] = p["reverses"]
    return body


class Backend:
    def __init__(self, config) -> None:
        self.config = config
        self._client = httpx.Client(timeout=config.timeout)

    def send(self, request: EffectRequest) -> dict[str, Any]:
        body = json.dumps(body_of(request), separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "Idempotency-Key": request.idempotency_key,
                   TIMESTAMP_HEADER: timestamp}
        if "secret" in self.config.secrets:
            headers[SIGNATURE_HEADER] = sign(self.config.secret("secret"), timestamp, body)
        try:
            r = self._client.post(self.config.url, content=body, headers=headers)
        except httpx.HTTPError as e:
            raise Transient(f"{type(e).__name__}: {e}") from None
        if 200 <= r.status_code < 300 or r.status_code == 409:
            return {"status": r.status_code, "body": r.text[:500]}
        raise http_error(r.status_code, r.text)
