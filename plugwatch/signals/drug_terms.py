"""Drug names, street terms, pill imprints and emoji codes from the vocabulary.

An everyday word that is also slang ("haze" for LSD, "white" for cocaine) is evidence of a drug, but
names a drug only in context, as it means a sale only in context: its category counts when the post
also names that category unambiguously, or has a word of that category's context or a quantity nearby,
or when the word is part of a known multi-word name ("Amnesia Haze", a cannabis strain), which then
gives the category. Otherwise the hit stays (the model weighs it as an ambiguous drug word) without one.
The features count categories of unambiguous terms only, so none of this changes a score.
"""

from __future__ import annotations

import re
from functools import cache
from itertools import groupby

from plugwatch.signals.base import Context, Hit, Signal, text_and_bio
from plugwatch.signals.commerce import PER_UNIT, QUANTITY, digit_led_search
from plugwatch.text.vocabulary import TermMatch, Vocabulary, blank_non_word, category_context, drug_names

NEAR = 40  # characters either side: a phrase, not the whole post


def term_meaning(term) -> str:
    what = term.drug if term.drug and term.drug.lower() != term.term else term.category
    return f"= {what} ({term.category}, {term.ambiguity} ambiguity)"


def _is_unit(text: str, start: int, end: int) -> bool:
    """A one-letter term right after a number or a slash is a unit ("3.5g", "$90/g"), not GHB."""
    return end - start == 1 and start > 0 and (text[start - 1].isdigit() or text[start - 1] in "/.")


@cache
def _name_pattern(name: str) -> re.Pattern[str]:
    """Whole words of `name`, any run of blanks between them, in text whose punctuation was blanked."""
    return re.compile(r"(?<!\S)" + r"\s+".join(map(re.escape, name.split())) + r"(?!\S)")


def _name_around(text: str, start: int, end: int):
    """The known multi-word name that the match at start:end is part of, if any."""
    names = drug_names().get(" ".join(blank_non_word(text[start:end]).split()))
    if not names:
        return None
    blanked = blank_non_word(text)  # same length as text: offsets hold
    for name in names:
        reach = len(name.name) + NEAR
        for found in _name_pattern(name.name).finditer(blanked, max(0, start - reach), end + reach):
            if found.start() <= start and end <= found.end():
                return name
    return None


@cache
def _padded_context() -> dict[str, tuple[str, ...]]:
    """category_context() with each word padded with a space, as it is looked for (built once, not per match)."""
    return {category: tuple(f" {w} " for w in words) for category, words in category_context().items()}


def words_near(text: str, start: int, end: int) -> str:
    """The words around start:end, space-padded, for `has_context_word`."""
    window = text[max(0, start - NEAR):end + NEAR]
    return f" {' '.join(blank_non_word(window).split())} "


def has_context_word(words_near: str, category: str) -> bool:
    return any(w in words_near for w in _padded_context().get(category, ()))


def _quantity_near(text: str, start: int, end: int) -> bool:
    window = text[max(0, start - NEAR):end + NEAR]
    return bool(QUANTITY.search(window) or digit_led_search(PER_UNIT, window))


def _readings(text: str, group: list[TermMatch], named: set[str]) -> list[tuple[TermMatch, str | None, str]]:
    """(match, category or None, meaning) for the readings of one ambiguous word, the ones kept first.
    A reading its category's own evidence supports wins over the others; a quantity nearby says a drug
    is meant but not which, so it keeps every reading."""
    m0 = group[0]
    name = _name_around(text, m0.start, m0.end)
    if name is not None:
        meaning = f"= part of '{name.name}' ({name.category} {name.kind})"
        return [(m, name.category, meaning) for m in group]
    near = words_near(text, m0.start, m0.end) if any(m.term.category not in named for m in group) else ""
    # Every reading of the word has the same span, so the same words around it.
    supported = [m for m in group if m.term.category in named or has_context_word(near, m.term.category)]
    if not supported and _quantity_near(text, m0.start, m0.end):
        supported = group
    kept = [(m, m.term.category, term_meaning(m.term)) for m in supported]
    dropped = [(m, None, f"= everyday word here (slang for {m.term.drug or m.term.category} only in a drug "
                         "context)") for m in group if m not in supported]
    return kept + dropped


class _Readings:
    """The readings of one ambiguous word, worked out only when a verdict shows them (`Hit.pending`):
    most such words are in posts that score low, and the search for names and context words around
    each one cost more than the rest of the term matching."""

    __slots__ = ("group", "hits", "named", "text")

    def __init__(self, text: str, group: list[TermMatch], named: set[str], in_bio: bool):
        self.text, self.group, self.named = text, group, named
        self.hits = [Hit("drug_term", "drug:high", "", m.start, m.end, in_bio=in_bio, pending=self) for m in group]

    def settle(self) -> None:
        for hit, (_, category, meaning) in zip(self.hits, _readings(self.text, self.group, self.named), strict=True):
            hit.category, hit.meaning, hit.pending = category, meaning, None


def _term_hits(text: str, in_bio: bool) -> list[Hit]:
    matches = [m for m in Vocabulary.default().find(text) if not _is_unit(text, m.start, m.end)]
    # Categories the post names without doubt: terms (emoji codes too) that are not ambiguous themselves.
    named = {m.term.category for m in matches if m.term.ambiguity != "high"}
    hits = []
    for _, same_word in groupby(matches, key=lambda m: (m.start, m.end)):  # one match per reading of a word
        doubtful = []
        for m in same_word:
            if m.term.kind != "emoji" and m.term.ambiguity == "high":
                doubtful.append(m)
            else:
                feature = f"drug:{'emoji' if m.term.kind == 'emoji' else m.term.ambiguity}"
                hits.append(Hit("drug_term", feature, term_meaning(m.term), m.start, m.end, category=m.term.category,
                                in_bio=in_bio))
        if doubtful:
            hits.extend(_Readings(text, doubtful, named, in_bio).hits)
    return hits


def drug_terms(ctx: Context) -> list[Hit]:
    """Vocabulary matches in the text and the author's bio, with category and ambiguity."""
    return text_and_bio(ctx, _term_hits)


SIGNAL = Signal("drug_term", cost=1, run=drug_terms,
                features=("drug:low", "drug:medium", "drug:high", "drug:emoji"))
