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


def feature_vector(hits: list[Hit], text: str) -> np.ndarray:
    counts = dict.fromkeys(FEATURES, 0.0)
    categories: set[str] = set()
    for h in hits:
        name = h.feature
        if h.in_bio:
            name = "bio_" + name
        if name in counts:
            counts[name] += 1.0
        if h.category and not h.in_bio and not h.feature.endswith("high"):
            categories.add(h.category)
    specific = counts["drug:low"] + counts["drug:medium"]
    ambiguous = counts["drug:high"] + counts["drug:emoji"]
    sale_kinds = sum(1 for c in SALE_CUES if counts[f"cue:{c}"]) + (counts["price"] > 0) + (counts["quantity"] > 0)
    sale = sale_kinds + counts["id:contact"] + counts["id:payment"] + counts["id:wallet"]
    counts["drug_categories"] = len(categories)
    counts["x:specific_drug_and_sale"] = min(specific, 3) * min(sale, 3)
    counts["x:ambiguous_drug_and_sale"] = min(ambiguous, 3) * min(sale, 3)
    counts["x:drug_and_contact_id"] = min(specific + ambiguous, 3) * min(counts["id:contact"], 2)
    paying = counts["cue:payment"] + counts["id:payment"] + counts["id:wallet"]
    counts["x:drug_and_payment"] = min(specific, 3) * min(paying, 2)
    counts["x:drug_and_request"] = min(specific + ambiguous, 3) * counts["cue:request"]
    context = counts["cue:news"] + counts["cue:care"] + counts["cue:warning"]
    counts["x:drug_and_context"] = min(specific + ambiguous, 3) * context
    # Warnings and scam reports name the seller's contact; the contact then points away from the author.
    counts["x:contact_in_warning"] = min(counts["id:contact"] + counts["id:phone"], 2) * min(counts["cue:warning"], 2)
    counts["x:sale_cues_distinct"] = sale_kinds
    # Capped: beyond a long paragraph, length says nothing, and an offer buried in a long
    # post must not be talked down by its surroundings.
    counts["text:length"] = min(len(text), 1000) / 100.0
    counts["text:question"] = float("?" in text)
    counts["text:lines"] = text.count("\n")
    return np.fromiter((math.log1p(counts[f]) for f in FEATURES), dtype=np.float32, count=N_FEATURES)


def check_signals(signals) -> None:
    """Every feature a signal declares must be one the model weighs; else the detector does not load,
    rather than drop that signal's evidence without a word."""
    unknown = [(s.name, f) for s in signals for f in s.features if f not in INDEX]
    if unknown:
        raise RuntimeError("signal features the model does not weigh (add them to FEATURES and retrain): "
                           + ", ".join(f"{name}: {feature}" for name, feature in unknown))


check_signals(SIGNALS)
