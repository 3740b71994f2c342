"""Submits statements of reasons to the DSA Transparency Database API, through the same outbox.

POST the statement as JSON with `Authorization: Bearer TOKEN`; the database answers 201 Created. A
statement whose PUID it already holds is refused with 422 and the existing statement: that is the
statement delivered before (a resend after a worker died), so it counts as delivered, once.
"""

from __future__ import annotations

from typing import Any

import httpx

from plugwatch.enforce.backends import EffectRequest, Transient, http_error

OPERATIONS = frozenset({"submit"})
DEFAULTS: dict[str, str] = {}


class Backend:
    def __init__(self, dsa) -> None:
        self.dsa = dsa
        self._client = httpx.Client(timeout=10.0)

    def send(self, request: EffectRequest) -> dict[str, Any]:
        token = self.dsa.secrets["token"].read()
        try:
            r = self._client.post(self.dsa.submit_url, json=request.payload["statement"],
                                  headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
        except httpx.HTTPError as e:
            raise Transient(f"{type(e).__name__}: {e}") from None
        if r.status_code == 201:
            body = r.json()
            return {"status": 201, "uuid": body.get("uuid"), "permalink": body.get("permalink")}
        if r.status_code == 422:
            body = _json(r)
            if "puid" in (body.get("errors") or {}) and isinstance(body.get("existing"), dict):
                return {"status": 422, "already_submitted": True, "uuid": body["existing"].get("uuid")}
        raise http_error(r.status_code, r.text)


def _json(r: httpx.Response) -> dict[str, Any]:
    try:
        value = r.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
