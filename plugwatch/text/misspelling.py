"""Drug names written one letter wrong: "ketamien", "Addeall", "Diizepam".

Dealers misspell names to slip past word filters, and buyers misspell them anyway; the vocabulary lists
the misspellings others collected, never the next one. A word of five or more Latin or Cyrillic letters
that no term matched and that is one edit inside the word (a letter dropped, added or changed, or two
neighbours swapped; the first and last letters as the name's) from an unambiguous drug name or a street term
of five or more letters, or from its plural with "s", reads as that name (so a dropped letter is found in
names of six or more).

Found with a deletion index: each name and its one-letter deletions point at the name, and a word's own
deletions are looked up in it (a few dict lookups per word, cached per word), then the edit is checked.
Four-letter names have too many everyday neighbours ("cake"/coke, "dose"/dope). A Cyrillic word takes a case
ending: one near no name is looked up again by the forms its ending may come from (`stems`, "меетадона":
меетадон). Surnames end as names do ("Кодкин"/кодеин): the signal reads a Cyrillic one only beside a drug
named clearly. Arabic and Hebrew
words take prefixes as well, and are left to the vocabulary's own forms. A word that any language
uses, however rarely, is no misspelling, however near a name ("copains"/cocaine, "ansvar"/Anavar,
"kelamin"/ketamin): `data/near_name_words.txt` lists the words of wordfreq's word lists (some forty
languages) one edit from a name, and the street terms that are everyday words themselves, whose
misspellings are mostly everyday misspellings (written by `python -m plugwatch.tools.vocab_build
--near-words`; the signal reads those only beside a drug named clearly). What is
left are the spellings no list has, which is what a dealer's new misspelling is. Whether a post bears
the reading out is the signal's to weigh (`signals/misspelt_names.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

MIN_LETTERS = 5
# Drug names and street terms. data/near_name_words.txt marks the street terms that are everyday words
# ("crystal", "footballs"), whose misspellings the signal reads only beside a drug named clearly.
CANDIDATES = {("name", "low"), ("street", "medium")}
MAX_LETTERS = 30  # the longest name ("methylenedioxymethamphetamine") has 29 letters
_WORD = re.compile(rf"(?<![^\W\d_])[^\W\d_]{{{MIN_LETTERS},{MAX_LETTERS}}}(?![^\W\d_])")
_CACHE_SIZE = 50_000
_UNSEEN = object()


@dataclass(frozen=True, slots=True)
class NearName:
    start: int  # offsets into the text given to `find`
    end: int
    written: str
    name: str


_CYRILLIC = re.compile(r"[\u0430-\u045f\u0491\u0454\u0456\u0457]+")  # lowercase Russian and Ukrainian letters


def one_script(word: str) -> bool:
    """Plain Latin letters only, or lowercase Cyrillic letters only: the words read as misspelt names."""
    return word.isascii() and word.isalpha() or _CYRILLIC.fullmatch(word) is not None


def is_cyrillic(name: str) -> bool:
    """Of a candidate name (Latin or Cyrillic letters only)."""
    return not name.isascii()


def is_candidate_name(term: str, kind: str, ambiguity: str) -> bool:
    """A listed name or street term that may be found misspelt: one Latin or Cyrillic word of MIN_LETTERS or
    more."""
    return (kind, ambiguity) in CANDIDATES and len(term) >= MIN_LETTERS and one_script(term)


def deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def one_edit(a: str, b: str) -> bool:
    """a and b differ by exactly one dropped, added or changed letter, or one swap of neighbours."""
    la, lb = len(a), len(b)
    if a == b or abs(la - lb) > 1:
        return False
    i = 0
    while i < la and i < lb and a[i] == b[i]:
        i += 1
    if la == lb:
        return a[i + 1:] == b[i + 1:] or (
            i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:])
    return a[i + 1:] == b[i:] if la > lb else a[i:] == b[i + 1:]


def _ends_kept(word: str, name: str) -> bool:
    """Misspellings keep a word's first and last letters (the last two may be swapped: "ketamien"): a
    reader's eye holds a word by its ends, and everyday words near a name mostly differ there ("talium"/
    Valium, "tastin"/Fastin, "derimin"/Erimin)."""
    return word[0] == name[0] and (word[-1] == name[-1] or len(word) == len(name) and word[-2:] == name[:-3:-1])


class NearNames:
    """Finds words one edit from a name. `everyday` words are never read as a misspelling."""

    def __init__(self, names: Mapping[str, Hashable] | Iterable[str], everyday: Iterable[str] = (),
                 stems: Callable[[str], Iterable[str]] | None = None):
        """`names` may map each name to what it means (its categories, say): a word one edit from two
        names that mean the same ("ketamien": ketamine, ketamin) reads as the nearer in length. `stems`
        gives the forms an inflected word may be of, looked up when the word itself is near no name
        ("меетадона": меетадон)."""
        self._means = dict(names) if isinstance(names, Mapping) else {name: name for name in names}
        self._stems = stems
        # Each name and its plural with "s", as the vocabulary matches a Latin name ("balinnhas": balinhas).
        self._form_of = {name: name for name in self._means}
        for name in self._means:
            if name.isascii() and not name.endswith("s"):
                self._form_of.setdefault(name + "s", name)
        index: dict[str, set[str]] = {}
        for form in self._form_of:
            for key in deletions(form) | {form}:
                index.setdefault(key, set()).add(form)
        self._index = {key: tuple(sorted(found)) for key, found in index.items()}
        self._everyday = frozenset(everyday)
        self._seen: dict[str, str | None] = {}

    def __len__(self) -> int:
        return len(self._means)

    def name_for(self, word: str) -> str | None:
        """The name `word` is, or is a misspelling of; None when there is none, or two that mean different things."""
        if word in self._seen:
            return self._seen[word]
        found = None
        if word in self._means:
            found = word  # the name itself, joined to a number ("diazepam10mg"), so no term matched it
        elif MIN_LETTERS <= len(word) <= MAX_LETTERS and one_script(word) and word not in self._everyday:
            found = self._nearest(word)
            if found is None and self._stems is not None:
                stems = [stem for stem in self._stems(word) if len(stem) >= MIN_LETTERS]
                # A name's own case ("амфетамина") is the vocabulary's to read, not a misspelling of a neighbour.
                if not any(stem in self._means for stem in stems):
                    found = next((name for stem in stems if (name := self._nearest(stem)) is not None), None)
        if len(self._seen) >= _CACHE_SIZE:
            self._seen.clear()
        self._seen[word] = found
        return found

    def _nearest(self, word: str) -> str | None:
        index = self._index
        near = set(index.get(word, ()))
        for key in deletions(word):
            near.update(index.get(key, ()))
        near = {form for form in near if _ends_kept(word, form) and one_edit(word, form)}
        if len({self._means[self._form_of[form]] for form in near}) != 1:  # two meanings: no reading of either
            return None
        return self._form_of[min(near, key=lambda form: (abs(len(form) - len(word)), form))]

    def find(self, text: str, taken: list[tuple[int, int]] = ()) -> list[NearName]:
        """Misspelt names in normalised `text`, outside the spans `taken` by terms found as written."""
        seen = self._seen
        for word in _WORD.findall(text):  # most texts: no name, and findall is the cheaper pass
            name = seen.get(word, _UNSEEN)
            if name is _UNSEEN:
                name = self.name_for(word)
            if name is not None:
                break
        else:
            return []
        out = []
        for m in _WORD.finditer(text):
            word = m.group()
            name = seen.get(word, _UNSEEN)  # most words: one lookup, no name
            if name is _UNSEEN:
                name = self.name_for(word)
            if name is None:
                continue
            start, end = m.span()
            if not any(s < end and start < e for s, e in taken):
                out.append(NearName(start, end, word, name))
        return out


COMMON = "common:"  # the second column of a street term that is an everyday word itself


@cache
def _near_words_file() -> tuple[tuple[str, str], ...]:
    text = (resources.files("plugwatch") / "data" / "near_name_words.txt").read_text(encoding="utf-8")
    return tuple(tuple(line.split("\t")[:2]) for line in text.splitlines() if line and not line.startswith("#"))


@cache
def near_name_words() -> frozenset[str]:
    """Everyday words one edit from a name, and the street terms that are everyday words: never read as a
    misspelling ("crank" is one letter from the street term "crink")."""
    return frozenset(word for word, _ in _near_words_file())


@cache
def common_terms() -> frozenset[str]:
    """Street terms that are everyday words themselves: their misspellings count only beside a clear drug."""
    return frozenset(word for word, source in _near_words_file() if source.startswith(COMMON))
