"""Turn signal hits into the fixed feature vector the model weighs.

Counts are log-scaled: the third price on a menu says less than the first.
Interaction features carry the key idea that a drug word alone is not a sale:
it is a drug word *together with* sale intent.
"""

from __future__ import annotations

import math

import numpy as np

from plugwatch.signals import SIGNALS
from plugwatch.signals.base import Hit

CUES = ("stock", "contact", "shipping", "payment", "no_rx", "selling", "invite", "quality", "request", "news", "care",
        "warning")
SALE_CUES = ("stock", "contact", "shipping", "payment", "no_rx", "selling", "invite")
DRUG_LEVELS = ("low", "medium", "high", "emoji")
ID_GROUPS = ("contact", "payment", "wallet", "phone", "email", "url")

FEATURES: tuple[str, ...] = (
    *(f"drug:{lvl}" for lvl in DRUG_LEVELS),
    *(f"bio_drug:{lvl}" for lvl in DRUG_LEVELS),
    "drug_categories",
    *(f"cue:{c}" for c in CUES),
    *(f"bio_cue:{c}" for c in ("stock", "contact", "shipping", "payment", "selling")),
    "price", "price:per_unit", "quantity", "menu",
    *(f"id:{g}" for g in ID_GROUPS), "id:drug_handle",
    "x:specific_drug_and_sale", "x:ambiguous_drug_and_sale", "x:drug_and_contact_id",
    "x:drug_and_payment", "x:drug_and_request", "x:drug_and_context", "x:contact_in_warning", "x:sale_cues_distinct",
    "text:length", "text:question", "text:lines",
)
INDEX = {name: i for i, name in enumerate(FEATURES)}
N_FEATURES = len(FEATURES)


_SLOTS: dict[tuple[str, bool], int | None] = {}  # (hit feature, in bio) -> its count's index, if weighed


def _slot(feature: str, in_bio: bool) -> int | None:
    key = (feature, in_bio)
    if key not in _SLOTS:
        _SLOTS[key] = INDEX.get("bio_" + feature if in_bio else feature)
    return _SLOTS[key]


_I = INDEX
_SALE_CUE_SLOTS = tuple(INDEX[f"cue:{c}"] for c in SALE_CUES)


def feature_vector(hits: list[Hit], text: str) -> np.ndarray:
    # A list indexed by feature (the hot path of every item): the same counts, the same arithmetic.
    counts = [0.0] * N_FEATURES
    categories: set[str] = set()
    for h in hits:
        i = _SLOTS.get((h.feature, h.in_bio), -1)
        if i == -1:
            i = _slot(h.feature, h.in_bio)
        if i is not None:
            counts[i] += 1.0
        if h.category and not h.in_bio and not h.feature.endswith("high"):
            categories.add(h.category)
    c, i = counts, _I
    specific = c[i["drug:low"]] + c[i["drug:medium"]]
    ambiguous = c[i["drug:high"]] + c[i["drug:emoji"]]
    sale_kinds = sum(1 for k in _SALE_CUE_SLOTS if c[k]) + (c[i["price"]] > 0) + (c[i["quantity"]] > 0)
    sale = sale_kinds + c[i["id:contact"]] + c[i["id:payment"]] + c[i["id:wallet"]]
    c[i["drug_categories"]] = len(categories)
    c[i["x:specific_drug_and_sale"]] = min(specific, 3) * min(sale, 3)
    c[i["x:ambiguous_drug_and_sale"]] = min(ambiguous, 3) * min(sale, 3)
    c[i["x:drug_and_contact_id"]] = min(specific + ambiguous, 3) * min(c[i["id:contact"]], 2)
    paying = c[i["cue:payment"]] + c[i["id:payment"]] + c[i["id:wallet"]]
    c[i["x:drug_and_payment"]] = min(specific, 3) * min(paying, 2)
    c[i["x:drug_and_request"]] = min(specific + ambiguous, 3) * c[i["cue:request"]]
    context = c[i["cue:news"]] + c[i["cue:care"]] + c[i["cue:warning"]]
    c[i["x:drug_and_context"]] = min(specific + ambiguous, 3) * context
    # Warnings and scam reports name the seller's contact; the contact then points away from the author.
    c[i["x:contact_in_warning"]] = min(c[i["id:contact"]] + c[i["id:phone"]], 2) * min(c[i["cue:warning"]], 2)
    c[i["x:sale_cues_distinct"]] = sale_kinds
    # Capped: beyond a long paragraph, length says nothing, and an offer buried in a long
    # post must not be talked down by its surroundings.
    c[i["text:length"]] = min(len(text), 1000) / 100.0
    c[i["text:question"]] = float("?" in text)
    c[i["text:lines"]] = text.count("\n")
    return np.fromiter(map(math.log1p, c), dtype=np.float32, count=N_FEATURES)


def check_signals(signals) -> None:
    """Every feature a signal declares must be one the model weighs; else the detector does not load,
    rather than drop that signal's evidence without a word."""
    unknown = [(s.name, f) for s in signals for f in s.features if f not in INDEX]
    if unknown:
        raise RuntimeError("signal features the model does not weigh (add them to FEATURES and retrain): "
                           + ", ".join(f"{name}: {feature}" for name, feature in unknown))


check_signals(SIGNALS)
