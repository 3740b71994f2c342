"""The dry-run back-end: every effect is recorded as what would be sent, nothing leaves the machine.

Use it to try a configuration first: `plugwatch worker run --once` then shows, per decision, the
operation and the body that a real back-end would send (`plugwatch worker status`, the item page).
"""

from __future__ import annotations

from typing import Any

from plugwatch.actions import EFFECT_NOTICES, EFFECTS
from plugwatch.enforce.backends import EffectRequest

OPERATIONS = frozenset(EFFECTS)
DEFAULTS = {effect: effect for effect in EFFECTS}
NOTICES = EFFECT_NOTICES


class Backend:
    def __init__(self, config) -> None:
        self.config = config

    def send(self, request: EffectRequest) -> dict[str, Any]:
        return {"dry_run": True, "would_send": {"operation": request.operation, "payload": request.payload}}
