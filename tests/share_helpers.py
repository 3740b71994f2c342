"""Shared set-up for the signal-sharing tests: posts made into scan records, ingest, confirm."""

from __future__ import annotations

from datetime import UTC, datetime

from plugwatch.model import Account, Item, OfferKind, Verdict
from plugwatch.pipeline import identifiers_for
from plugwatch.records import scan_record
from plugwatch.share.matching import after_ingest as match_watch_lists
from plugwatch.store import review, users
from plugwatch.store.hooks import hooks_of


def record(platform: str, native_id: str, handle: str, text: str, *, flagged: bool = True,
           drugs: tuple[str, ...] = ("cannabis",), when: str = "2024-05-01T10:00:00+00:00") -> dict:
    item = Item(platform=platform, native_id=native_id, text=text, author=Account(platform, handle),
                created_at=datetime.fromisoformat(when))
    verdict = Verdict(score=0.9 if flagged else 0.1, flagged=flagged, kind=OfferKind.OFFER if flagged else None,
                      drugs=list(drugs))
    return scan_record(item, identifiers_for(item, None), verdict)


def ingest(session, records: list[dict]):
    """Ingest as the service does: watch-list matching must happen inside it, through the store's hook."""
    assert match_watch_lists in [hook.stage() for hook in hooks_of(session).after_ingest]
    return review.ingest_records(session, records)


def reviewer(session, name: str = "rita", role: str = "lead"):
    user = users.get_user(session, name)
    return user if user is not None else users.add_user(session, name, role)[0]


def confirm(session, item_id: str, action: str = "remove", user=None) -> None:
    user = user or reviewer(session)
    review.claim(session, user, item_id)
    policy = "drug_sale" if action != "dismiss" else "not_drugs"
    review.decide(session, user, item_id, action, policy, now=datetime.now(UTC))
