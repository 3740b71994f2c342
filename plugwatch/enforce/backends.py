"""What every back-end shares: the request it gets, the errors it raises, and which module is which kind.

A back-end module has OPERATIONS (the platform operations it knows), DEFAULTS (effect -> operation
when the configuration names none), optionally NOTICES (operation -> the notice template that says
what that operation really does to the account, or a table of it per subject kind, content or
account; plugwatch.enforce.notices) and a class with `send(request) -> dict`, the platform's answer in
short, and optionally `check(request)`, which raises Permanent for a subject the platform cannot be told
of, without sending anything: a dry run (shadow) runs it, so it shows what live delivery would refuse. It raises Transient for what may work later (a 5xx, a timeout, a refused connection, 429) and
Permanent for what never will (a 4xx refusal, a subject the platform cannot address).

Delivery is at least once; effects are applied once because every request carries its idempotency
key, and each back-end either lets the platform deduplicate on it (webhook receivers, Ozone's
externalId, the Transparency Database's PUID) or checks the platform's state before acting again
(Mastodon: the report that carries the key).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


class DeliveryError(Exception):
    permanent = False


class Transient(DeliveryError):
    """May succeed later: retried with backoff."""


class Permanent(DeliveryError):
    """Will not succeed as it is: the effect goes to the dead letters at once (a lead may retry it)."""

    permanent = True


@dataclass(frozen=True)
class EffectRequest:
    effect_id: int
    effect: str
    operation: str
    idempotency_key: str
    payload: dict[str, Any]
    attempt: int  # 1 for the first try

    @property
    def subject(self) -> dict[str, Any]:
        return self.payload.get("subject") or {}


MODULES = {"dryrun": "plugwatch.enforce.dryrun", "webhook": "plugwatch.enforce.webhook",
           "mastodon": "plugwatch.enforce.mastodon", "ozone": "plugwatch.enforce.ozone",
           "dsa": "plugwatch.enforce.dsa_submit"}


def module_of(kind: str):
    return importlib.import_module(MODULES[kind])


def operations_of(kind: str) -> frozenset[str]:
    return frozenset(module_of(kind).OPERATIONS)


def default_operations(kind: str) -> dict[str, str | None]:
    return dict(module_of(kind).DEFAULTS)


def notice_kind(kind: str, effect: str, operation: str | None) -> str | None:
    """The notice template that tells the truth about `operation` on a back-end of `kind` carrying out
    `effect`, or None where the action's own template does (the back-end does what the action says,
    or the operation only logs)."""
    from plugwatch.actions import EFFECTS

    value = getattr(module_of(kind), "NOTICES", {}).get(operation)
    if isinstance(value, dict):
        value = value.get(EFFECTS.get(effect, "content"))
    return value


def http_error(status: int, text: str) -> DeliveryError:
    """A platform's HTTP refusal as a delivery error: retry what may pass later, give up on the rest."""
    message = f"HTTP {status}: {text[:300]}"
    if status in (408, 425, 429) or status >= 500:
        return Transient(message)
    return Permanent(message)
