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
        "warning", "genuine")
SALE_CUES = ("stock", "contact", "shipping", "payment", "no_rx", "selling", "invite")
DRUG_LEVELS = ("low", "medium", "high", "emoji")
ID_GROUPS = ("contact", "payment", "wallet", "phone", "email", "url")

FEATURES: tuple[str, ...] = (
    *(f"drug:{lvl}" for lvl in DRUG_LEVELS),
    *(f"bio_drug:{lvl}" for lvl in DRUG_LEVELS),
    "drug_categories",
    *(f"cue:{c}" for c in CUES),
    *(f"bio_cue:{c}" for c in ("stock", "contact", "shipping", "payment", "selling")),
    "price", "price:per_unit", "price:quantity", "quantity", "menu",
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


_SALE_CUE_SLOTS = [INDEX[f"cue:{c}"] for c in SALE_CUES]


def feature_vector(hits: list[Hit], text: str) -> np.ndarray:
    return feature_matrix([(hits, text)])[0]


def feature_matrix(items: list[tuple[list[Hit], str]]) -> np.ndarray:
    """One row of features per (hits, text), for a whole batch at once: the hits are counted in a Python
    loop (they are Python objects), the rest is column arithmetic in float64 (the same operations, in the
    same order, as on each item's numbers), and log1p is math.log1p on each number, as it always was."""
    n = len(items)
    rows: list[int] = []
    slots: list[int] = []
    categories = np.zeros(n)
    lengths, questions, lines = np.zeros(n), np.zeros(n), np.zeros(n)
    for r, (hits, text) in enumerate(items):
        named: set[str] = set()
        for h in hits:
            i = _SLOTS.get((h.feature, h.in_bio), -1)
            if i == -1:
                i = _slot(h.feature, h.in_bio)
            if i is not None:
                rows.append(r)
                slots.append(i)
            if h.category and not h.in_bio and not h.feature.endswith("high"):
                named.add(h.category)
        categories[r] = len(named)
        lengths[r] = min(len(text), 1000)
        questions[r] = "?" in text
        lines[r] = text.count("\n")
    c = np.zeros((N_FEATURES, n))  # one row per feature: c[INDEX[name]] is that feature's column
    np.add.at(c, (slots, rows), 1.0)
    col = {name: c[i] for name, i in INDEX.items()}
    specific = col["drug:low"] + col["drug:medium"]
    ambiguous = col["drug:high"] + col["drug:emoji"]
    sale_kinds = (c[_SALE_CUE_SLOTS] != 0).sum(axis=0) + (col["price"] > 0) + (col["quantity"] > 0)
    sale = sale_kinds + col["id:contact"] + col["id:payment"] + col["id:wallet"]
    col["drug_categories"][:] = categories
    col["x:specific_drug_and_sale"][:] = np.minimum(specific, 3) * np.minimum(sale, 3)
    col["x:ambiguous_drug_and_sale"][:] = np.minimum(ambiguous, 3) * np.minimum(sale, 3)
    col["x:drug_and_contact_id"][:] = np.minimum(specific + ambiguous, 3) * np.minimum(col["id:contact"], 2)
    paying = col["cue:payment"] + col["id:payment"] + col["id:wallet"]
    col["x:drug_and_payment"][:] = np.minimum(specific, 3) * np.minimum(paying, 2)
    col["x:drug_and_request"][:] = np.minimum(specific + ambiguous, 3) * col["cue:request"]
    context = col["cue:news"] + col["cue:care"] + col["cue:warning"]
    col["x:drug_and_context"][:] = np.minimum(specific + ambiguous, 3) * context
    # Warnings and scam reports name the seller's contact; the contact then points away from the author.
    col["x:contact_in_warning"][:] = (np.minimum(col["id:contact"] + col["id:phone"], 2)
                                      * np.minimum(col["cue:warning"], 2))
    col["x:sale_cues_distinct"][:] = sale_kinds
    # Capped: beyond a long paragraph, length says nothing, and an offer buried in a long
    # post must not be talked down by its surroundings.
    col["text:length"][:] = lengths / 100.0
    col["text:question"][:] = questions
    col["text:lines"][:] = lines
    # math.log1p, not np.log1p: numpy's vectorised log may round a last bit differently.
    logged = np.fromiter(map(math.log1p, c.T.ravel().tolist()), dtype=np.float32, count=n * N_FEATURES)
    return logged.reshape(n, N_FEATURES)


def check_signals(signals) -> None:
    """Every feature a signal declares must be one the model weighs; else the detector does not load,
    rather than drop that signal's evidence without a word."""
    unknown = [(s.name, f) for s in signals for f in s.features if f not in INDEX]
    if unknown:
        raise RuntimeError("signal features the model does not weigh (add them to FEATURES and retrain): "
                           + ", ".join(f"{name}: {feature}" for name, feature in unknown))


check_signals(SIGNALS)
