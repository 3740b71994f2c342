"""Drug names written one letter wrong ("Diizepam", "Addearll"), read as the name.

Runs after the cheaper signals because it weighs what they found: a word no word list has may still be a
word (a surname, a brand, a language the lists lack), so a misspelt name counts only where the post
bears the reading out, as an ambiguous word's reading must be: it names a drug without doubt, gives a
quantity (a number joined to the word too), has a cue a dealer gives (stock, payment, no prescription...),
or a word of the name's context is near. A price, "DM me" or "for sale" is not enough: every small shop's
post has them. The name's hit is the vocabulary term's own (signal `drug_term`, its feature and
category), so the models weigh and mask it as they do the name written right. Finding the words is
`text/misspelling.py`.
"""

from __future__ import annotations

from plugwatch.signals.base import Context, Hit, Signal, settle
from plugwatch.signals.drug_terms import has_context_word, term_meaning, words_near
from plugwatch.text.misspelling import NearName, common_terms, is_cyrillic
from plugwatch.text.normalize import NormText
from plugwatch.text.vocabulary import Term, Vocabulary

# What bears a misspelt name out: a clear drug term, a quantity, or a cue a dealer gives and a small shop
# does not: stock, payment, no prescription, an invitation, quality, a request. Not a price, "DM me", a
# phone number, "for sale" or "delivery" alone: every small shop's post has them, and in reviews they backed
# up everyday words ("te koop" with Afrikaans "mandjies", a Turkish data "paket" with "kotalar").
BEARS_OUT = frozenset({"drug:low", "drug:medium", "drug:emoji", "quantity", "price:quantity", "price:per_unit", "menu",
                       "cue:stock", "cue:payment", "cue:no_rx", "cue:invite", "cue:quality", "cue:request"})


# A street term that is an everyday word ("crystal", "edibles", "footballs"), misspelt, is most often that word
# misspelt; a five-letter street term has neighbours in every language no word list has ("khule"/khole in
# romanised Hindi, the brands "Dumex", "Dolex"/domex), and a shop's post gives quantities and stock. Such a
# term counts only beside a drug named clearly, or a misspelt name of its kind. A Cyrillic word near a name
# counts only beside a drug named clearly: Russian and Ukrainian surnames end as names do ("Кодкин"/кодеин,
# "Моркин"/морфин), two of them as often as one, and sign classified ads beside a price and "в наличии", and
# pharmacies' posts beside "без рецепта", which over-the-counter medicines are sold without (a review).
CLEAR = frozenset({"drug:low", "drug:medium", "drug:emoji"})
MIN_STREET_LETTERS = 6


def _needs_clear_drug(name: str, terms: tuple[Term, ...], everyday: frozenset[str]) -> bool:
    return name in everyday or len(name) < MIN_STREET_LETTERS and any(t.kind == "street" for t in terms)


def _bears_out(hits: list[Hit], text: str, start: int, end: int, categories: set[str]) -> bool:
    if any(h.feature in BEARS_OUT for h in hits) or text[end:end + 1].isdigit():  # or a dose joined: "valuim10mg"
        return True
    near = words_near(text, start, end)
    return any(has_context_word(near, c) for c in categories)


def _kinds_named_twice(found: list[tuple[NearName, tuple[Term, ...]]]) -> set[str]:
    """The categories that two different names read in the post belong to (not "other"). An everyday word
    one letter from a name is rare; words near two different names of one kind ("cubnesis" and "psilocybbin"),
    rarer still: a dealer's post misspells every name it gives, so they bear each other out. Not two words
    near one name: a language no word list has puts its words around one ("khule", "khote": "khole"). Not
    names of two kinds: surnames and first names pair up that way ("Lorencin & Codrin", "Chanya and
    Anawar"), as a review found."""
    names: dict[str, set[str]] = {}
    for near, terms in found:
        for category in {t.category for t in terms} - {"other"}:
            names.setdefault(category, set()).add(near.name)
    return {category for category, named in names.items() if len(named) > 1}


def _ambiguous_kinds(hits: list[Hit]) -> set[str]:
    """The categories of the ambiguous drug words written right ("фен", "crumble"). Each is an everyday word
    most of the time, and so is a word one letter from a name; a post with both, of one kind ("амфеттамин
    (фен)", "carrts ... crumble ... zips"), reads as a dealer's, who names a drug twice."""
    ambiguous = [h for h in hits if h.feature == "drug:high"]
    return {h.category for h in settle(ambiguous)} - {None, "other"}


def _in_identifier(norm: NormText, near: NearName, hits: list[Hit]) -> bool:
    """Letters of a wallet, a link or a handle are no word ("...Lmv7DivfNa" is no "divina")."""
    start, end = norm.span(near.start, near.end)
    return any(h.original and h.start < end and start < h.end for h in hits)


def _find(norm: NormText, in_bio: bool, hits: list[Hit]) -> list[Hit]:
    vocabulary = Vocabulary.default()
    text = norm.text
    taken = [(h.start, h.end) for h in hits if h.signal in ("drug_term", "site_term")]
    found = [(near, vocabulary.terms_named(near.name)) for near in vocabulary.near_names().find(text, taken)
             if not _in_identifier(norm, near, hits)]
    if not found:
        return []
    everyday = common_terms()
    latin = [(near, terms) for near, terms in found if not is_cyrillic(near.name)]
    twice = _kinds_named_twice(latin) if len(latin) > 1 else set()
    twice |= (ambiguous := _ambiguous_kinds(hits))
    out = []
    for near, terms in found:
        exact = near.written == near.name  # the name joined to a number ("diazepam10mg"): no term matched it
        categories = {t.category for t in terms}
        if is_cyrillic(near.name):  # surnames end as names do, in pairs too ("Моркин и Кодкин")
            borne_out = bool(categories & ambiguous) or any(h.feature in CLEAR for h in hits)
        elif _needs_clear_drug(near.name, terms, everyday):  # even as written: the vocabulary reads it as it may
            borne_out = bool(categories & twice) or any(h.feature in CLEAR for h in hits)
        else:
            borne_out = exact or bool(categories & twice) or _bears_out(hits, text, near.start, near.end, categories)
        if not borne_out:
            continue
        for term in terms:
            meaning = term_meaning(term) if exact else (
                f"= {term.drug or near.name} ({term.category}; '{near.written}' read as '{near.name}')")
            out.append(Hit("drug_term", f"drug:{term.ambiguity}", meaning, near.start, near.end,
                           category=term.category, in_bio=in_bio))
    return out


def misspelt_names(ctx: Context) -> list[Hit]:
    """Misspelt drug names in the text and the author's bio, each weighed against its own text's hits."""
    found = _find(ctx.norm, False, [h for h in ctx.hits if not h.in_bio])
    if ctx.bio is not None:
        found += _find(ctx.bio, True, [h for h in ctx.hits if h.in_bio])
    return found


SIGNAL = Signal("misspelt_name", cost=3, run=misspelt_names, features=("drug:low", "drug:medium"))
