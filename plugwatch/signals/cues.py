"""Cue phrases (stock, contact, shipping, payment, no-prescription, selling,
quality, request, news, care, warning) in eight languages, from package data."""

from __future__ import annotations

from functools import cache
from importlib import resources

from plugwatch.signals.base import Context, Hit, Signal, text_and_bio
from plugwatch.text.phrases import PhraseMatcher

MEANINGS = {
    "stock": "stock or availability",
    "contact": "contact or off-platform redirect",
    "shipping": "shipping or delivery",
    "payment": "payment method",
    "no_rx": "no prescription needed",
    "selling": "selling or price talk",
    "quality": "quality claim",
    "request": "asks to buy",
    "news": "news or law-enforcement context",
    "care": "harm-reduction, recovery or treatment context",
    "warning": "warning, scam report or bad-batch alert",
}


@cache
def cue_matcher() -> PhraseMatcher[tuple[str, str]]:
    text = resources.files("plugwatch.data").joinpath("cues.tsv").read_text(encoding="utf-8")
    entries = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cue, lang, phrases = line.split("\t")
        entries.extend((p, (cue, lang)) for p in phrases.split("|"))
    return PhraseMatcher(entries)


def _cue_hits(text: str, in_bio: bool) -> list[Hit]:
    hits = []
    for m in cue_matcher().find(text):
        for cue in {v[0] for v in m.values}:
            hits.append(Hit("cue", f"cue:{cue}", f"{MEANINGS[cue]}", m.start, m.end, in_bio=in_bio))
    return hits


def cues(ctx: Context) -> list[Hit]:
    """Sale-intent and context phrases in the text and the author's bio."""
    return text_and_bio(ctx, _cue_hits)


SIGNAL = Signal("cue", cost=2, run=cues, features=tuple(f"cue:{cue}" for cue in MEANINGS))
