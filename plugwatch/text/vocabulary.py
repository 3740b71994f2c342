"""Drug vocabulary: every term carries its drug category and how ambiguous it is.

The table ships as plugwatch/data/vocabulary.tsv (rebuilt by `plugwatch.tools.vocab_build`).
`Vocabulary.find` takes text that `plugwatch.text.normalize` already lowercased and folded, and
returns whole-word matches from a single Aho-Corasick pass:

* Word terms are keyed as " term " and searched in a copy of the text where every character that is
  not a letter or digit became a space (same length, so offsets hold).  That gives word boundaries
  for any script (Cyrillic letters are word characters) without a Python loop over the text, and
  makes "m-30", "m 30" and "m.30" the same key.
* Emoji terms need no boundary and are searched in the text as given, only when it is not ASCII; so
  are terms in scripts written without spaces (Chinese, Thai: "冰毒" inside "出冰毒私聊"), which
  need a boundary only where they start or end with a letter of a spaced script ("k粉").  For the
  word terms, characters of those scripts count as blanks: "买xanax吗" holds the word "xanax".
* Plurals: a Latin term of 3+ characters also matches with "s" ("perc" -> "percs", "m30" -> "m30s"),
  a consonant + "y" term with "ies" ("roxy" -> "roxies").  Russian and Ukrainian terms also match
  their common case endings ("кокаин" -> "кокаина", "травка" -> "травку"), Polish and Turkish terms
  theirs ("trawka" -> "trawki", "esrar" -> "esrari"), and Arabic terms their article and
  conjunction prefixes ("حشيش" -> "الحشيش", "والحشيش"), Hebrew terms theirs ("גראס" -> "והגראס").
* Leftmost-longest: at a position the longest term wins and shorter terms inside it are dropped,
  so "crystal meth" is one match, not "crystal" + "meth".  A term with several categories yields
  one match per category, same span.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import ahocorasick

from plugwatch.settings import cache_root
from plugwatch.text.misspelling import NearNames, is_candidate_name, near_name_words
from plugwatch.text.normalize import (
    blank_unspaced,
    has_unspaced,
    is_hangul,
    is_unspaced,
    is_word_boundary,
    may_end_word,
    normalize,
)
from plugwatch.text.phrases import ScriptedAutomaton

CATEGORIES = (
    "cannabis", "cocaine", "opioid", "benzodiazepine", "stimulant", "mdma", "psychedelic",
    "ketamine", "ghb", "steroid", "nps", "prescription", "equipment", "other",
)  # fmt: skip
AMBIGUITIES = ("low", "medium", "high")
LANGS = ("en", "es", "fr", "de", "pt", "it", "nl", "ru", "zh", "ar", "tr", "pl", "uk", "vi", "th", "ja", "ko", "id", "sv", "he", "multi")
KINDS = ("name", "street", "imprint", "emoji", "unit", "misspelling")
COLUMNS = ("term", "drug", "category", "ambiguity", "lang", "kind", "source")
_AMBIGUITY_RANK = {a: i for i, a in enumerate(AMBIGUITIES)}

# Every non-word character but the plain space, which would be replaced by itself: spaces are most of the
# matches, and each match costs the substitution a step.
_NON_WORD = re.compile(r"[^\w ]|_")
# bytes.translate is the cheapest way to blank punctuation in the (common) all-ASCII post.
_ASCII_BLANK = bytes(c if chr(c).isalnum() else 0x20 for c in range(256))
_RU_VOWELS = set("аеиоуыэюя")
# Russian, then Ukrainian endings (гашиш -> гашишу, гашиші; трава -> траві, травою): the two share
# most slang, and a Ukrainian ending on a Russian word is still the word.
_RU_CONSONANT_ENDINGS = ("а", "у", "ом", "е", "ы", "ов", "и", "ам", "ами", "ах", "і", "ів", "ові", "ем")
_RU_A_ENDINGS = ("ы", "и", "у", "ой", "е", "ам", "ами", "ах", "і", "ою")
_RU_SOFT_ENDINGS = ("и", "ю", "ей", "я", "ям")
_RU_ENDINGS_LONGEST = sorted(set(_RU_CONSONANT_ENDINGS) | set(_RU_A_ENDINGS), key=lambda e: (-len(e), e))
# The endings by their last letter, each with what it may follow: most words end in a letter no ending has.
_RU_ENDINGS_BY_LAST: dict[str, list[tuple[str, bool, bool]]] = {}
for _e in _RU_ENDINGS_LONGEST:
    _RU_ENDINGS_BY_LAST.setdefault(_e[-1], []).append((_e, _e in _RU_CONSONANT_ENDINGS, _e in _RU_A_ENDINGS))


@dataclass(frozen=True, slots=True)
class Term:
    term: str
    drug: str
    category: str
    ambiguity: str
    lang: str
    kind: str
    source: str = field(default="", compare=False)


@dataclass(slots=True)
class TermMatch:
    start: int  # offsets into the normalised text given to `find`
    end: int
    term: Term


def blank_non_word(text: str) -> str:
    """`text` with every non-letter, non-digit character replaced by a space (same length)."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_BLANK).decode("ascii")
    return _NON_WORD.sub(" ", text)


def is_emoji_term(term: str) -> bool:
    return not any(ch.isalnum() for ch in term)


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


def _russian_forms(word: str) -> list[str]:
    if len(word) < 4:
        return []
    last, stem = word[-1], word[:-1]
    if last in ("а", "я"):
        return [stem + e for e in _RU_A_ENDINGS]
    if last == "ь":
        return [stem + e for e in _RU_SOFT_ENDINGS]
    if last in _RU_VOWELS or last == "й":
        return []
    return [word + e for e in _RU_CONSONANT_ENDINGS]


def russian_stems(word: str) -> list[str]:
    """The nominative forms a Cyrillic word may be a case of, longest ending first ("меетадона": меетадон;
    "анашу": анаша): the inverse of `_russian_forms`, for words no term matched (a misspelt name in a case)."""
    if word.isascii():
        return []
    stems = []
    for e, after_consonant, a_stem in _RU_ENDINGS_BY_LAST.get(word[-1:], ()):
        if word.endswith(e) and len(word) > len(e) + 3:
            stem = word[:-len(e)]
            if after_consonant and stem[-1] not in _RU_VOWELS and stem[-1] != "й":
                stems.append(stem)
            if a_stem:
                stems.append(stem + "а")
    return stems


_DOUBLE = re.compile(r"([a-z])\1")


def _squeeze_doubles(form: str) -> str:
    """The form a stretched term takes after normalisation, which squeezes a run of 3+
    letters to one, except e, o, l (and s, f, z at a word end), kept double."""
    def one(m: re.Match) -> str:
        letter, at_end = m.group(1), m.end() == len(form) or not form[m.end()].isalpha()
        return m.group(0) if letter in ("eolsfz" if at_end else "eol") else letter

    return _DOUBLE.sub(one, form) if len(form) >= 5 else form


def _is_arabic(ch: str) -> bool:
    return "\u0600" <= ch <= "\u06ff"


_AR_PREFIXES = ("ال", "وال", "بال", "لل", "و", "ب")


def _arabic_forms(word: str) -> list[str]:
    """The article and the one-letter conjunctions and prepositions are written onto the word."""
    bare = word.removeprefix("ال") if len(word) > 4 else word
    return [p + bare for p in _AR_PREFIXES] + ([bare] if bare != word else [])


def _is_hebrew(ch: str) -> bool:
    return "\u05d0" <= ch <= "\u05ea"


# The article and the one-letter conjunctions and prepositions, alone and in their common pairs:
# "גראס" -> "הגראס", "והגראס", "בגראס", "שהגראס".
_HE_PREFIXES = ("ה", "ו", "ב", "ל", "מ", "ש", "כ", "וה", "שה", "וב", "ול", "מה", "בה", "לה", "כש")


def _hebrew_forms(word: str) -> list[str]:
    return [p + word for p in _HE_PREFIXES] if len(word) >= 3 else []


# Case and possessive endings, written without diacritics as the normaliser leaves them.
_PL_A = ("y", "i", "e", "a", "ie", "om", "ami", "ach")  # trawka -> trawki, trawke
_PL_O = ("a", "u", "em", "e", "ie")  # ziolo -> ziola, ziolem
_PL_CONSONANT = ("u", "a", "em", "y", "i", "ow", "ie", "ami", "ach", "om")  # hasz -> haszu, haszem
_TR_CONSONANT = ("i", "u", "a", "e", "in", "un", "da", "de", "ta", "te", "dan", "den", "tan", "ten", "lar",
                 "ler", "ci", "cu", "ciler")  # esrar -> esrari, esrarci
_TR_VOWEL = ("yi", "yu", "ya", "ye", "nin", "nun", "n", "da", "de", "dan", "den", "lar", "ler", "ci", "cu")


def _latin_forms(word: str, lang: str) -> list[str]:
    if len(word) < 3 or not word.isascii() or not word[-1].isalpha():
        return []
    if lang == "pl":
        if word[-1] == "a":
            return [word[:-1] + e for e in _PL_A]
        if word[-1] == "o":
            return [word[:-1] + e for e in _PL_O]
        return [] if word[-1] in "eiuy" else [word + e for e in _PL_CONSONANT]
    if lang == "tr":
        return [word + e for e in (_TR_VOWEL if word[-1] in "aeiou" else _TR_CONSONANT)]
    return []


def term_variants(term: str, lang: str = "") -> list[str]:
    """Surface forms a word term is matched under, canonical (blanked) form first."""
    base = " ".join(blank_non_word(term).split())
    forms = [base]
    if "-" in term and any(ch.isdigit() for ch in term):
        forms.append(" ".join(blank_non_word(term.replace("-", "")).split()))  # "m-30" also as "m30"
    if " " in term:
        forms.append(blank_non_word(term))  # keeps double blanks from "dr. feel good", "#9"
    squeezed = _squeeze_doubles(base)
    if squeezed != base:
        forms.append(squeezed)  # "adddderall" normalises to "aderall": match it too
    last = base[-1]
    extra = []
    for form in forms:
        if _is_cyrillic(last):
            extra += _russian_forms(form)
        elif _is_arabic(last):
            extra += _arabic_forms(form)
        elif _is_hebrew(form[0]):
            extra += _hebrew_forms(form)
        elif lang in ("pl", "tr"):
            extra += _latin_forms(form, lang)
        elif last.isascii() and len(form) >= 3 and not form.endswith("s"):
            extra.append(form + "s")
            if form.endswith("y") and form[-2] not in "aeiou":
                extra.append(form[:-1] + "ies")
    return list(dict.fromkeys(forms + extra))


_KEEPS_TWO = "eol"  # a stretched run of these is squeezed to two by the normaliser, not one
_KEEPS_TWO_AT_END = "eolsfz"


def stretched_forms(form: str) -> list[str]:
    """What the normaliser makes of a form with one single letter stretched where it keeps two
    ("cooooke" -> "cooke", "percsss" -> "percss", "golden teeeacher" -> "golden teeacher"): it
    cannot tell a stretched single e, o or l from a stretched double one ("weeeed"), so the
    vocabulary and the cue phrases accept both.  In a phrase each word of 4+ Latin letters is
    stretched on its own (one variant per letter, never two at once: that keeps the index small)."""
    words = form.split(" ")
    out = []
    for w, word in enumerate(words):
        if len(word) < 4 or not (word.isascii() and word.isalpha()):
            continue
        for i, ch in enumerate(word):
            keeps = _KEEPS_TWO_AT_END if i == len(word) - 1 else _KEEPS_TWO
            if ch in keeps and word[i - 1:i] != ch and word[i + 1:i + 2] != ch:
                out.append(" ".join(words[:w] + [word[:i + 1] + word[i:]] + words[w + 1:]))
    return out


def is_raw_term(term: str) -> bool:
    """Matched in the text as given, not word by word: emoji, terms in a script without spaces, and
    Korean terms (followed by a particle inside the word: "대마를")."""
    return is_emoji_term(term) or any(is_unspaced(ch) or is_hangul(ch) for ch in term)


class Vocabulary:
    def __init__(self, terms: list[Term], everyday: tuple[str, ...] = (), index: Index | None = None):
        """`everyday` words hold a term but mean something else ("ยาเคมีบำบัด", chemotherapy, holds "ยาเค";
        "アイスクリーム" holds "アイス"): found like terms, they take their span and yield no match, as a
        longer term takes the span of a shorter one inside it. Needed where terms are found inside
        running text (Thai, Chinese, Japanese, Korean), which has no word boundary to stop them.
        In scripts written with spaces, an everyday word is a form the vocabulary would derive from a
        term (an ending, a plural, a stretched letter) that is a common word as written: the Polish
        "herę" (heroin) folds to "here". The term is not matched under that form."""
        self.terms: tuple[Term, ...] = tuple(terms)
        self._everyday = everyday
        self._near: NearNames | None = None
        self._build(index if index is not None else derive_index(self.terms, everyday))

    def _build(self, index: Index) -> None:
        self._words = ahocorasick.Automaton()
        terms = self.terms
        for key, ids in index.words:
            self._words.add_word(key, (len(key) - 2, tuple(terms[i] for i in ids)))
        if len(self._words):
            self._words.make_automaton()
        # No ids: an everyday word, which takes its span and yields no match.
        self._raw = ScriptedAutomaton((key, tuple(terms[i] for i in ids)) for key, ids in index.raw)
        self._has_raw = bool(len(self._raw))

    @classmethod
    @cache
    def default(cls) -> Vocabulary:
        data = resources.files("plugwatch") / "data"
        tsv = (data / "vocabulary.tsv").read_text(encoding="utf-8")
        everyday_tsv = (data / "everyday_words.tsv").read_text(encoding="utf-8")
        terms, everyday = read_terms(tsv), read_everyday(everyday_tsv)
        return cls(terms, everyday, index=cached_index(terms, everyday, tsv + "\0" + everyday_tsv))

    @classmethod
    def from_file(cls, path: str | Path) -> Vocabulary:
        return cls(read_terms(Path(path).read_text(encoding="utf-8")))

    def near_names(self) -> NearNames:
        """Finds the names of these terms written one letter wrong; built on first use."""
        if self._near is None:
            named: dict[str, list[Term]] = {}
            for t in self.terms:
                if is_candidate_name(t.term, t.kind, t.ambiguity):
                    named.setdefault(t.term, []).append(t)
            self._named = {name: tuple(terms) for name, terms in named.items()}
            everyday = near_name_words() | {normalize(w).text for w in self._everyday}
            self._near = NearNames({n: frozenset(t.category for t in ts) for n, ts in self._named.items()}, everyday,
                                   russian_stems)
        return self._near

    def terms_named(self, name: str) -> tuple[Term, ...]:
        """The terms `near_names` found a misspelling of under `name` (one per category)."""
        self.near_names()
        return self._named.get(name, ())

    def categories(self) -> set[str]:
        return {t.category for t in self.terms}

    def find(self, normtext: str) -> list[TermMatch]:
        if not normtext:
            return []
        spans: list[tuple[int, int, tuple[Term, ...]]] = []
        unspaced = has_unspaced(normtext)
        if len(self._words):
            padded = f" {blank_non_word(blank_unspaced(normtext) if unspaced else normtext)} "
            for last, (n, terms) in self._words.iter(padded):
                start = last - n - 1  # key " term " ends at `last`; padded index i is text index i - 1
                spans.append((start, start + n, terms))
        if self._has_raw and not normtext.isascii():
            size = len(normtext)
            for last, (key, terms) in self._raw.iter(normtext):
                start, end = last - len(key) + 1, last + 1
                if (start and not is_word_boundary(normtext[start - 1], key[0])) or (
                        end < size and not may_end_word(key[-1], normtext[end])):
                    continue  # "k粉" inside "ok粉"
                spans.append((start, end, terms))
        if not spans:
            return []
        spans.sort(key=lambda s: (s[0], s[0] - s[1]))
        out: list[TermMatch] = []
        taken_to = -1
        for start, end, terms in spans:
            if start < taken_to:
                continue  # inside or overlapping a longer match that starts earlier
            taken_to = end
            out.extend(TermMatch(start, end, t) for t in terms)
        return out


@dataclass(frozen=True, slots=True)
class Index:
    """The keys the automata are built from, each with the terms it matches (as indices into the
    vocabulary's terms, by category): derived from the terms by `derive_index`, kept between runs by
    `cached_index`. `raw` holds keys matched in the text as given; one without terms is an everyday word."""

    words: tuple[tuple[str, tuple[int, ...]], ...]
    raw: tuple[tuple[str, tuple[int, ...]], ...]


def derive_index(terms: tuple[Term, ...], everyday: tuple[str, ...] = ()) -> Index:
    words: dict[str, dict[str, tuple[tuple[int, int], int]]] = {}
    raw: dict[str, dict[str, tuple[tuple[int, int], int]]] = {}
    everyday_norm = [normalize(w).text for w in everyday]  # "ำ" is folded as in the text ("ํา")
    not_derived = {f" {w} " for w in everyday_norm if not is_raw_term(w)}
    blocked: set[str] = set()
    for i, t in enumerate(terms):
        if is_raw_term(t.term):
            _add(raw, t.term, t, i, 0)
            continue
        for rank, form in enumerate(term_variants(t.term, t.lang)):
            derived = []
            if rank == 0:
                _add(words, f" {form} ", t, i, 0)  # the term as listed is never blocked
            else:
                derived.append(f" {form} ")
            if t.ambiguity != "high":
                derived += [f" {stretched} " for stretched in stretched_forms(form)]
            for key in derived:
                if key in not_derived:
                    blocked.add(key)
                else:
                    _add(words, key, t, i, 1)
    for key in not_derived - blocked:
        # A listed word no term derives blocks nothing: a typo, or a form the rules stopped making.
        raise ValueError(f"everyday word {key.strip()!r}: no term is matched under it, so it blocks nothing")
    raw_everyday = [(w, ()) for w in dict.fromkeys(everyday_norm) if is_raw_term(w) and w not in raw]
    return Index(tuple((key, _ordered(by_cat)) for key, by_cat in words.items()),
                 tuple((key, _ordered(by_cat)) for key, by_cat in raw.items()) + tuple(raw_everyday))


def _add(index: dict[str, dict[str, tuple[tuple[int, int], int]]], key: str, term: Term, i: int, rank: int) -> None:
    """Keep one term per category per key: the exact spelling over a derived form ("bars" over
    "bar" + s), then the least ambiguous reading ("m30" + s over DEA's "m-30s")."""
    by_cat = index.setdefault(key, {})
    order = (rank, _AMBIGUITY_RANK[term.ambiguity])
    old = by_cat.get(term.category)
    if old is None or order < old[0]:
        by_cat[term.category] = (order, i)


def _ordered(by_cat: dict[str, tuple[tuple[int, int], int]]) -> tuple[int, ...]:
    return tuple(by_cat[c][1] for c in sorted(by_cat))


# The index depends on the tables, on the code that derives it and on the Unicode tables that code folds
# and classifies characters with (Python's): the cache file is named by all three.
_INDEX_FORMAT = 1
_INDEX_CODE = ("vocabulary.py", "normalize.py")


def cached_index(terms: tuple[Term, ...] | list[Term], everyday: tuple[str, ...], tables: str) -> Index:
    """`derive_index`, read from the cache folder when an earlier run wrote it for the same tables and
    code: deriving the forms of 6,000 terms is a third of a second of every scan's start-up, reading
    them back a few hundredths. Plain JSON (never pickle), written atomically, best effort; a file that
    does not parse or does not fit the terms is derived again."""
    terms = tuple(terms)
    root = cache_root()
    if root is None:
        return derive_index(terms, everyday)
    digest = hashlib.sha256(f"{_INDEX_FORMAT}\0{unicodedata.unidata_version}\0{tables}".encode())
    here = Path(__file__).parent
    try:
        for name in _INDEX_CODE:
            digest.update((here / name).read_bytes())
    except OSError:
        return derive_index(terms, everyday)
    path = root / f"vocabulary-index-{digest.hexdigest()[:32]}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        index = Index(*(tuple((k, tuple(ids)) for k, ids in data[part]) for part in ("words", "raw")))
        n = len(terms)
        # Checked as read, not converted: converting each id costs more than parsing the file.
        if all(type(k) is str for part in (index.words, index.raw) for k, _ in part) and all(
                type(i) is int and 0 <= i < n for part in (index.words, index.raw) for _, ids in part for i in ids):
            return index
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing or broken: derived and written again
    index = derive_index(terms, everyday)
    tmp = None
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=root)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"words": index.words, "raw": index.raw}, fh, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:  # a cache that cannot be written costs the next run a third of a second
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        return index
    _prune_indexes(root, keep=path)
    return index


_STALE_INDEX = 7 * 86400  # seconds: an index another install still uses costs it one rebuild at most


def _prune_indexes(root: Path, keep: Path) -> None:
    """Each change of the tables, the code or Python leaves an index behind: when a new one is written,
    those not written for a week go (and temporary files a killed run left)."""
    import time

    cutoff = time.time() - _STALE_INDEX
    for old in root.glob("vocabulary-index-*.json*"):
        try:
            if old != keep and old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass  # another process pruned it, or it is not ours to remove


def read_everyday(text: str) -> tuple[str, ...]:
    """The first column of everyday_words.tsv (word, language, the term it holds, what it means)."""
    return tuple(line.split("\t")[0].strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def read_terms(text: str) -> list[Term]:
    lines = text.splitlines()
    if not lines or tuple(lines[0].split("\t")) != COLUMNS:
        raise ValueError("vocabulary table must start with the header: " + " ".join(COLUMNS))
    terms = []
    for n, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        cols = line.split("\t")
        if len(cols) != len(COLUMNS):
            raise ValueError(f"line {n}: expected {len(COLUMNS)} tab-separated columns, got {len(cols)}")
        terms.append(Term(*cols))
    return terms


@dataclass(frozen=True, slots=True)
class DrugName:
    name: str  # canonical form: lowercase words separated by single spaces
    category: str
    kind: str


def _data_rows(filename: str, columns: int) -> list[list[str]]:
    text = (resources.files("plugwatch") / "data" / filename).read_text(encoding="utf-8")
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != columns:
            raise ValueError(f"{filename} line {n}: expected {columns} tab-separated columns, got {len(cols)}")
        rows.append(cols)
    return rows


@cache
def drug_names() -> dict[str, tuple[DrugName, ...]]:
    """Multi-word names (plugwatch/data/drug_names.tsv) by each of their words: a vocabulary match on
    such a word inside the name takes the name's category."""
    by_word: dict[str, list[DrugName]] = {}
    header, *rows = _data_rows("drug_names.tsv", 3)
    for name, category, kind in rows:
        if category not in CATEGORIES:
            raise ValueError(f"drug_names.tsv: {name!r} has unknown category {category!r}")
        entry = DrugName(" ".join(blank_non_word(name).split()), category, kind)
        for word in set(entry.name.split()):
            by_word.setdefault(word, []).append(entry)
    return {word: tuple(names) for word, names in by_word.items()}


@cache
def category_context() -> dict[str, tuple[str, ...]]:
    """For each category, the words that put an ambiguous term in its context
    (plugwatch/data/category_context.tsv), in canonical form ("k-hole" is "k hole")."""
    out: dict[str, tuple[str, ...]] = {}
    for category, words in _data_rows("category_context.tsv", 2):
        if category not in CATEGORIES:
            raise ValueError(f"category_context.tsv: unknown category {category!r}")
        out[category] = out.get(category, ()) + tuple(" ".join(blank_non_word(w).split()) for w in words.split("|"))
    return out
