"""Contact, payment and wallet identifiers as evidence of an off-platform sale."""

from __future__ import annotations

from plugwatch.signals.base import Context, Hit, Signal
from plugwatch.text.identifier_types import TYPES, Family

# The model's `id:` feature groups are the identifier families; a domain adds nothing to its URL.
_GROUPS = {Family.CONTACT: "contact", Family.PAYMENT: "payment", Family.WALLET: "wallet", Family.PHONE: "phone",
           Family.EMAIL: "email", Family.URL: "url"}


def identifiers(ctx: Context) -> list[Hit]:
    """Identifiers found by the foundation's extractor (spans are in the original text)."""
    hits = []
    for ident in ctx.identifiers:
        kind = TYPES.get(ident.type)
        group = _GROUPS.get(kind.family) if kind else None
        if group is None:
            continue
        meaning = f"{kind.label} (region guessed: {ident.inferred})" if ident.inferred else kind.label
        hits.append(Hit("identifier", f"id:{group}", meaning, ident.start, ident.end, original=True))
    return hits


SIGNAL = Signal("identifier", cost=1, run=identifiers,
                features=tuple(f"id:{group}" for group in _GROUPS.values()))
