"""Drug names, street terms, pill imprints and emoji codes from the vocabulary."""

from __future__ import annotations

from plugwatch.signals.base import Context, Hit, register, text_and_bio
from plugwatch.text.vocabulary import Vocabulary


def _meaning(term) -> str:
    what = term.drug if term.drug and term.drug.lower() != term.term else term.category
    return f"= {what} ({term.category}, {term.ambiguity} ambiguity)"


def _is_unit(text: str, start: int, end: int) -> bool:
    """A one-letter term right after a number or a slash is a unit ("3.5g", "$90/g"), not GHB."""
    return end - start == 1 and start > 0 and (text[start - 1].isdigit() or text[start - 1] in "/.")


def _term_hits(text: str, in_bio: bool) -> list[Hit]:
    hits = []
    for m in Vocabulary.default().find(text):
        if _is_unit(text, m.start, m.end):
            continue
        t = m.term
        feature = f"drug:{'emoji' if t.kind == 'emoji' else t.ambiguity}"
        hits.append(Hit("drug_term", feature, _meaning(t), m.start, m.end, category=t.category, in_bio=in_bio))
    return hits


@register("drug_terms", cost=1)
def drug_terms(ctx: Context) -> list[Hit]:
    """Vocabulary matches in the text and the author's bio, with category and ambiguity."""
    return text_and_bio(ctx, _term_hits)
