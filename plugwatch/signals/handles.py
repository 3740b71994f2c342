"""A contact handle that names a drug ("@percs_n_bars", "wickr: xanplug420", "t.me/gasstation_ca").

A redirect often says nothing of drugs ("old acc got banned, new one is @..."): the drug is in the
handle. Handles run words together, so a drug name is looked for inside each run of letters, not
only as a whole word; only names that are not everyday words (low or medium ambiguity, four letters
or more) count, and "plug" (a dealer) does too. A mention of a handle is a contact only when it is
not the post's own platform talking, so bare @mentions count here as this signal's evidence, not as
identifiers."""

from __future__ import annotations

from functools import cache

import ahocorasick
import regex

from plugwatch.signals.base import Context, Hit, Signal
from plugwatch.text.identifier_types import TYPES, Family
from plugwatch.text.vocabulary import Term, Vocabulary

_MENTION = regex.compile(r"(?<![\w@.])@([A-Za-z0-9_.]{3,32})")
_LETTERS = regex.compile(r"[a-z]{4,}")
_FAMILIES = (Family.CONTACT, Family.URL)
DEALER_WORDS = ("plug",)


@cache
def _names() -> ahocorasick.Automaton:
    """Drug names to find inside a run of letters, each with its vocabulary term."""
    auto = ahocorasick.Automaton()
    words: dict[str, Term] = {}
    for t in Vocabulary.default().terms:
        if (t.ambiguity != "high" and len(t.term) >= 4 and t.term.isascii() and t.term.isalpha()
                and t.category != "other"):
            words.setdefault(t.term, t)
    for w in DEALER_WORDS:
        words.setdefault(w, Term(w, "dealer", "other", "high", "en", "street"))
    for w, t in words.items():
        auto.add_word(w, t)
    auto.make_automaton()
    return auto


def drug_in_handle(handle: str) -> Term | None:
    """The first drug name (or dealer word) inside the handle's runs of letters."""
    for run in _LETTERS.findall(handle.lower()):
        for _, term in _names().iter(run):
            return term
    return None


def handles(ctx: Context) -> list[Hit]:
    """Contact handles, links and @mentions whose name carries a drug name."""
    hits = []
    seen: set[str] = set()
    spans = [(i.value, i.start, i.end) for i in ctx.identifiers
             if (kind := TYPES.get(i.type)) is not None and kind.family in _FAMILIES]
    text = ctx.item.text
    if "@" in text:
        spans.extend((m.group(1), m.start(), m.end()) for m in _MENTION.finditer(text))
    for value, start, end in spans:
        if value in seen:
            continue
        seen.add(value)
        term = drug_in_handle(value)
        if term is not None:
            hits.append(Hit("handle", "id:drug_handle", f"handle names '{term.term}' ({term.category})",
                            start, end, category=term.category if term.category != "other" else None,
                            original=True))
    return hits


SIGNAL = Signal("handle", cost=2, run=handles, features=("id:drug_handle",))
