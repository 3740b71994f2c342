"""What runs inside the store's own transactions: after an ingest, after a decision.

The store does not know which stages exist. The composition root (`plugwatch.wiring`) hands
`open_store` one `Hooks`, and every session that store opens carries it in `session.info`, so
`decide` runs exactly the hooks the root named (freeze evidence, ...), whoever calls it.
A hook runs inside the deciding (or ingesting) transaction: if it raises, nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from plugwatch.store.schema import Decision

AfterIngest = Callable[[Session, Any], None]  # (session, IngestResult)
AfterDecision = Callable[[Session, "Decision"], None]


@dataclass(frozen=True)
class Route:
    """Where an ingested item goes: whether it is queued for review, points added to its priority, and
    whether only a lead may take it (and which rule said so, to tell a refused reviewer), and whether
    two independent reviewers must agree on it."""
    review: bool
    boost: float = 0.0
    lead_only: bool = False
    two_reviewers: bool = False
    routed_by: str | None = None


# (session, new records, now) -> {item id: Route}: decides which stored items are queued and how
# (the policy rules, plugwatch.rules). None: the detector's flag or a request to buy queues an item.
Router = Callable[[Session, list[dict[str, Any]], Any], dict[str, Route]]


# () -> the pseudonymisation key, or None when none is set (plugwatch.privacy.optional_key): the store
# sits below plugwatch.privacy, and reports and retention must read the same key from the same place.
PseudonymKey = Callable[[], "bytes | None"]


@dataclass(frozen=True)
class Hooks:
    after_ingest: tuple[AfterIngest, ...] = ()
    after_decision: tuple[AfterDecision, ...] = ()
    route: Router | None = None
    pseudonym_key: PseudonymKey | None = None


def pseudonym_key(session: Session) -> bytes | None:
    """The pseudonymisation key the store's root names, None when there is none."""
    hooks = session.info.get("hooks")
    get = hooks.pseudonym_key if hooks is not None else None
    return get() if get is not None else None


NO_HOOKS = Hooks()


def hooks_of(session: Session) -> Hooks:
    """The hooks of the store that opened `session`. A session made some other way has none to
    give, and acting on it would silently skip evidence and matching: that is a bug, said loudly."""
    try:
        return session.info["hooks"]
    except KeyError:
        raise RuntimeError("this session was not opened by a Store (open one with plugwatch.wiring.open_store)") \
            from None
