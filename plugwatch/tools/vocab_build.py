"""Build plugwatch/data/vocabulary.tsv from our curated terms plus two third-party lexicons.

    python3 -m plugwatch.tools.vocab_build --data ../shared/data

Sources (read from the shared data folder, never copied into the repo):
- lexicons/dea_slang_2018/dea_slang_pairs.csv: DEA street terms under 57 drug headings.  Most are
  everyday words ("blue", "food", "work", "car"), so each term's ambiguity comes from a word check
  (see `everyday_words`): an everyday word is high, other single words medium, phrases low or medium.
- lexicons/redmed/redmed_drug_lexicon.tsv: names, misspellings, pill imprints and slang for the drugs
  of abuse we select by name.  Its `known` column holds embedding neighbours ("garen", "android"), so
  a name is kept only when the lexicon itself confirms it (see `_confirmed_names`).
- reddit_opiates_ner/drugs_patterns.jsonl: seed DRUG patterns; they only tag matching rows' source.

Curated rows win for their (term, category); a generated row for a term we curated in another
category is never less ambiguous than our curation of it.  Output is sorted and deterministic.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import cache
from pathlib import Path

from anyascii import anyascii

from plugwatch.text.vocabulary import AMBIGUITIES, CATEGORIES, COLUMNS, KINDS, LANGS, Term

CURATED_COLUMNS = COLUMNS[:-1]
DEFAULT_VOCABULARY = Path(__file__).resolve().parent.parent / "data" / "vocabulary.tsv"
DEFAULT_CURATED = DEFAULT_VOCABULARY.with_name("curated_terms.tsv")
_AMBIGUITY_RANK = {a: i for i, a in enumerate(AMBIGUITIES)}
_KIND_RANK = {k: i for i, k in enumerate(("name", "imprint", "misspelling", "street", "emoji", "unit"))}
_WORD = re.compile(r"[^\W_]+")
_DOSE = re.compile(r"\d+(mg|mcg|ug|g|ml)$")
_CODE = re.compile(r"[a-z]{1,3}-?\d{2,4}s?")
_DROPPED_MARKS = range(0x1F3FB, 0x1F400)  # skin tones, as the normaliser drops them


def canonical_term(text: str) -> str:
    """The form the normaliser gives a term: NFKC, casefold, Latin accents and ё folded, no FE0F."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    if not folded.isascii():
        folded = "".join(map(_canonical_char, folded))
    return " ".join(folded.split())


@cache
def _canonical_char(ch: str) -> str:
    if ch == "\ufe0f" or ord(ch) in _DROPPED_MARKS:
        return ""
    if ch == "ё":
        return "е"
    if ord(ch) >= 0x80 and "LATIN" in unicodedata.name(ch, ""):
        plain = anyascii(ch).casefold()
        return plain if plain.isalnum() else ch
    return ch


@cache
def everyday_words() -> frozenset[str]:
    """Words too common to mean a drug on their own: English words naming emoji ("snowflake",
    "car", "candy", taken from the `emoji` package so nobody has to type them), plus our lists of
    other everyday English and Spanish words, first names, brands and places."""
    import emoji

    found = set(EVERYDAY) | STOPWORDS | SPANISH_WORDS | FIRST_NAMES
    for data in emoji.EMOJI_DATA.values():
        for name in (data["en"], *data.get("alias", ())):
            found.update(w for w in re.findall(r"[a-z]+", name.lower()) if len(w) >= 3)
    return frozenset(found)


def is_everyday(word: str) -> bool:
    if len(word) <= 2 or word.rstrip("s").isdigit():
        return True  # numbers ("151s") and one- or two-letter words
    common = everyday_words()
    forms = [word]
    if word.endswith("s"):
        forms.append(word[:-1])
    if word.endswith("es"):
        forms.append(word[:-2])
    if word.endswith("ies"):
        forms.append(word[:-3] + "y")
    return any(f in common for f in forms)


def phrase_ambiguity(term: str) -> str | None:
    """Ambiguity of a generated term, None when it is too common to keep at all ("him", "7")."""
    tokens = _WORD.findall(term)
    if not tokens:
        return None
    if _CODE.fullmatch(term):
        return "medium"  # a pill code written with a hyphen ("m-30s") is one word, not "m" + "30s"
    if len(tokens) == 1:
        word = tokens[0]
        if word in STOPWORDS or word in TOO_COMMON or (word.isdigit() and len(word) <= 2):
            return None
        return "high" if is_everyday(word) else "medium"
    if term in EVERYDAY_PHRASES or " ".join(tokens) in EVERYDAY_PHRASES:
        return "high"
    if all(is_everyday(t) for t in tokens):
        # "a train", "ace of spades": a short or function word makes it an ordinary phrase
        short = any(len(t) <= 2 or t in STOPWORDS for t in tokens)
        return "high" if short else "medium"
    return "low"


def _max_ambiguity(*levels: str) -> str:
    return max(levels, key=_AMBIGUITY_RANK.__getitem__)


# --- curated ---------------------------------------------------------------------------------


def read_curated(path: Path) -> list[Term]:
    """Our table: '#' lines are notes, first other line the header; every value is checked."""
    terms: list[Term] = []
    seen: set[tuple[str, str]] = set()
    header = None
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if header is None:
            header = tuple(cols)
            if header != CURATED_COLUMNS:
                raise ValueError(f"{path}:{n}: header must be {CURATED_COLUMNS}")
            continue
        if len(cols) != len(CURATED_COLUMNS):
            raise ValueError(f"{path}:{n}: expected {len(CURATED_COLUMNS)} columns")
        term = Term(*cols, source="curated")
        _check(term, f"{path}:{n}")
        if canonical_term(term.term) != term.term:
            raise ValueError(f"{path}:{n}: {term.term!r} is not canonical ({canonical_term(term.term)!r})")
        if (term.term, term.category) in seen:
            raise ValueError(f"{path}:{n}: duplicate ({term.term}, {term.category})")
        seen.add((term.term, term.category))
        terms.append(term)
    return terms


def _check(term: Term, where: str) -> None:
    for value, allowed in (
        (term.category, CATEGORIES),
        (term.ambiguity, AMBIGUITIES),
        (term.lang, LANGS),
        (term.kind, KINDS),
    ):
        if value not in allowed:
            raise ValueError(f"{where}: {value!r} is not one of {allowed}")
    if not term.term or not term.drug:
        raise ValueError(f"{where}: empty term or drug")


# --- DEA 2018 --------------------------------------------------------------------------------


def dea_terms(csv_path: Path) -> list[Term]:
    out = []
    with csv_path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            heading = row["drug"].strip().lower()
            if heading not in DEA_HEADINGS:
                continue
            drug, category = DEA_HEADINGS[heading]
            raw = row["slang_term"].strip()
            term = canonical_term(raw)
            ambiguity = phrase_ambiguity(term)
            if ambiguity is None:
                continue
            tokens = _WORD.findall(term)
            spanish = not raw.isascii() or any(t in SPANISH_WORDS or t in SPANISH_SLANG for t in tokens)
            out.append(Term(term, drug, category, ambiguity, "es" if spanish else "en", "street", "dea2018"))
    return out


# --- RedMed ----------------------------------------------------------------------------------


def redmed_terms(tsv_path: Path) -> list[Term]:
    csv.field_size_limit(1 << 30)
    rows = {}
    with tsv_path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["drug"] in REDMED_DRUGS:
                rows[row["drug"]] = row
    names = {key: _confirmed_names(key, row) for key, row in sorted(rows.items())}
    owner: dict[str, str] = {}
    for key, found in names.items():
        for name in found:
            owner.setdefault(name, REDMED_DRUGS[key][1])
    out: list[Term] = []
    for key, row in sorted(rows.items()):
        drug, category = REDMED_DRUGS[key]
        made = [
            Term(n, drug, category, "high" if is_everyday(n) else "low", "en", "name") for n in names[key]
        ]
        made += _formulations(row, names[key], drug, category)
        made += _misspellings(row, names[key], drug, category, owner)
        made += _imprints(row, drug, category)
        made += _slang(row, drug, category)
        for t in made:
            fix = REDMED_FIXES.get(t.term)
            if fix:
                t = Term(t.term, fix[0], fix[1], t.ambiguity, t.lang, t.kind)
            out.append(Term(*(getattr(t, c) for c in CURATED_COLUMNS), source="redmed"))
    return out


def is_word_elsewhere(word: str) -> bool:
    """A word some language uses (wordfreq, Zipf COMMON_ZIPF or more) is no misspelling there: RedMed's
    "concerti" (Ritalin's Concerta) is Italian for concerts, "kraton" (kratom) an Indonesian palace,
    "conserta" (Concerta) Portuguese for "repairs". It stays, as a word that names the drug only in context."""
    return _zipf_in(word) >= COMMON_ZIPF


def _zipf_in(word: str, skip: frozenset[str] = frozenset()) -> float:
    """The word's highest Zipf frequency over wordfreq's languages, those in `skip` apart (0: none has it)."""
    return max((_zipf(freqs[word]) for lang, freqs in _frequency_dicts() if lang not in skip and word in freqs),
               default=0.0)


@cache
def _frequency_dicts() -> tuple[tuple[str, dict[str, float]], ...]:
    wordfreq = _wordfreq()
    return tuple((lang, wordfreq.get_frequency_dict(lang, WORDLIST))
                 for lang in sorted(wordfreq.available_languages(WORDLIST)))


def _split(value: str) -> list[str]:
    return [] if value.strip() in ("", "-") else [v for v in value.split(",") if v]


def _confirmed_names(key: str, row: dict[str, str]) -> list[str]:
    """Single-word `known` names the lexicon vouches for: the drug itself, a name sharing its first
    five letters, one that also appears in dosing talk ("stop_taking_ativan", "xanax_2mg"), or one
    listed with its plural ("mogadon", "mogadons")."""
    known = _split(row["known"])
    drug_name = key.replace("_", " ")
    singles = {k for k in known if "_" not in k}
    in_context = set()
    for phrase in (k for k in known if "_" in k):
        tokens = phrase.split("_")
        if any(t in REDMED_DOSING or _DOSE.match(t) for t in tokens):
            in_context.update(tokens)
    kept = set()
    for name in singles:
        if len(name) < 5 or not name.isalpha() or name in REDMED_NOISE:
            continue
        plural_pair = (name + "s" in singles) or (
            name.endswith("s") and len(name) >= 6 and name[:-1] in singles
        )
        if name == drug_name or name[:5] == drug_name[:5] or name in in_context or plural_pair:
            kept.add(canonical_term(name))
    return sorted(kept)


def _formulations(row: dict[str, str], names: list[str], drug: str, category: str) -> list[Term]:
    """Two-word names made of a confirmed name and a release form: "ms contin", "xanax xr"."""
    out = []
    for phrase in _split(row["known"]):
        tokens = phrase.split("_")
        if len(tokens) == 2 and tokens[1] in FORMULATIONS and (tokens[0] in names or tokens[0] == "ms"):
            out.append(Term(" ".join(tokens), drug, category, "low", "en", "name"))
    return out


def _misspellings(
    row: dict[str, str], names: list[str], drug: str, category: str, owner: dict[str, str]
) -> list[Term]:
    """RedMed's phonetic and one-edit misspellings, kept only when they are within two edits of a
    confirmed name of 6+ letters, are not everyday words and are not another drug's name."""
    targets = [n for n in names if len(n) >= 6 and not is_everyday(n)]
    out = []
    for raw in _split(row["misspellingPhon"]) + _split(row["edOne"]):
        if not raw.isalpha() or not raw.islower() or len(raw) < 6:
            continue  # "morphineC", "1sir": export artefacts
        word = canonical_term(raw)
        if word in names or is_everyday(word) or owner.get(word, category) != category:
            continue
        if any(_within_two_edits(word, t) for t in targets):
            out.append(Term(word, drug, category, "low", "en", "misspelling"))
    return out


def _imprints(row: dict[str, str], drug: str, category: str) -> list[Term]:
    out = []
    for raw in _split(row["pillMark"]):
        tokens = raw.split("_")
        if "mg" in tokens or any(_DOSE.match(t) for t in tokens):
            continue
        term = canonical_term(" ".join(tokens))
        if len(tokens) == 1:
            term = re.sub(r"(?<=\d)s$", "", term)  # "op60s" is the plural of imprint "op60"
        letters = any(c.isalpha() for c in term)
        digits = any(c.isdigit() for c in term)
        if not letters or len(term) < 3:
            continue  # bare numbers ("325s") say nothing on their own
        if digits and len(tokens) == 1:
            out.append(Term(term, drug, category, "low" if len(term) >= 4 else "medium", "en", "imprint"))
        else:
            amb = phrase_ambiguity(term) or "high"
            out.append(Term(term, drug, category, _max_ambiguity(amb, "medium"), "en", "street"))
    return out


def _slang(row: dict[str, str], drug: str, category: str) -> list[Term]:
    out = []
    for raw in _split(row["ud_slang"]):
        tokens = raw.split("_")
        if len(tokens) > 3 or any(t in REDMED_CONTEXT or _DOSE.match(t) for t in tokens):
            continue
        term = canonical_term(" ".join(tokens))
        if term in REDMED_NOISE or not any(c.isalpha() for c in term):
            continue
        amb = phrase_ambiguity(term)
        if amb is not None:
            out.append(Term(term, drug, category, amb, "en", "street"))
    return out


def _within_two_edits(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 2:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        cur = [i]
        for j, cb in enumerate(b, start=1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > 2:
            return False
        prev = cur
    return prev[-1] <= 2


# --- reddit r/opiates NER seed patterns ------------------------------------------------------


def ner_pattern_terms(jsonl_path: Path) -> set[str]:
    found = set()
    for line in jsonl_path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            pattern = json.loads(line)["pattern"]
            found.add(canonical_term(" ".join(tok.get("lower", "") for tok in pattern)))
    return found


# --- merge -----------------------------------------------------------------------------------


def build_vocabulary(shared_data_dir: Path, curated: Path) -> list[Term]:
    shared_data_dir, curated = Path(shared_data_dir), Path(curated)
    lexicons = shared_data_dir / "lexicons"
    ours = read_curated(curated)
    generated = dea_terms(lexicons / "dea_slang_2018" / "dea_slang_pairs.csv")
    generated += redmed_terms(lexicons / "redmed" / "redmed_drug_lexicon.tsv")
    generated = [replace(t, ambiguity="high") if _word_elsewhere(t) else t for t in generated]
    return merge(
        ours, generated, ner_pattern_terms(shared_data_dir / "reddit_opiates_ner" / "drugs_patterns.jsonl")
    )


def _word_elsewhere(term: Term) -> bool:
    """A generated term that another language uses as a word names the drug only in context."""
    if term.ambiguity == "high":
        return False
    if term.kind == "misspelling":
        return is_word_elsewhere(term.term)
    return term.kind == "street" and is_slang_word_elsewhere(term.term)


def is_slang_word_elsewhere(word: str) -> bool:
    """A listed street term that another language uses daily (wordfreq, Zipf EVERYDAY_ZIPF or more, about once
    in a million words) names the drug only in context: the DEA's list is American, and its "kaos", "batu",
    "seni" and "quadros" are Indonesian T-shirts, Malay stones, Turkish "you" and Portuguese pictures.
    English words are the curated lists' to judge (is_everyday), where the drug's sense may be the common one."""
    return _zipf_in(word, skip=frozenset({"en"})) >= EVERYDAY_ZIPF


def merge(curated: list[Term], generated: Iterable[Term], ner_terms: Iterable[str] = ()) -> list[Term]:
    rows: dict[tuple[str, str], Term] = {}
    sources: dict[tuple[str, str], set[str]] = {}
    curated_level: dict[str, str] = {}
    for t in curated:
        rows[t.term, t.category] = t
        sources[t.term, t.category] = {"curated"}
        curated_level[t.term] = _max_ambiguity(t.ambiguity, curated_level.get(t.term, "low"))
    for t in generated:
        key = (t.term, t.category)
        if t.kind == "misspelling" and t.term in curated_level and key not in rows:
            continue  # we know this word as something else ("methylone" is a drug, not "methylin" misspelt)
        sources.setdefault(key, set()).add(t.source)
        old = rows.get(key)
        if old is not None and "curated" in sources[key]:
            continue
        ambiguity = _max_ambiguity(t.ambiguity, curated_level.get(t.term, "low"))
        if old is None:
            rows[key] = Term(t.term, t.drug, t.category, ambiguity, t.lang, t.kind)
            continue
        drugs = "|".join(sorted(set(old.drug.split("|")) | {t.drug}))
        kind = min(old.kind, t.kind, key=_KIND_RANK.__getitem__)
        lang = old.lang if old.lang == t.lang else "multi"
        rows[key] = Term(t.term, drugs, t.category, _max_ambiguity(old.ambiguity, ambiguity), lang, kind)
    ner = set(ner_terms)
    out = []
    for key in sorted(rows):
        t = rows[key]
        src = sources[key] | ({"reddit_ner"} if t.term in ner else set())
        out.append(Term(*(getattr(t, c) for c in CURATED_COLUMNS), source=",".join(sorted(src))))
    return out


def write_vocabulary(terms: Iterable[Term], path: Path) -> None:
    lines = ["\t".join(COLUMNS)]
    for t in sorted(terms, key=lambda t: (t.term, t.category)):
        values = [getattr(t, c) for c in COLUMNS]
        if any("\t" in v or "\n" in v for v in values):
            raise ValueError(f"tab or newline inside {values}")
        lines.append("\t".join(values))
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


DEFAULT_NEAR_WORDS = DEFAULT_VOCABULARY.with_name("near_name_words.txt")


# wordfreq (build time only: `pip install -e '.[build]'`) lists the words of some forty languages, each with
# its frequency; its lists reach down to words seen about once in a billion (Zipf 1). Its data is CC BY-SA 4.0
# (Robyn Speer et al., https://github.com/rspeer/wordfreq), and so is the list of words taken from it.
WORDLIST = "best"


EVERYDAY_ZIPF = 3.0  # about once in a million words: a word its speakers meet every day
COMMON_ZIPF = 2.0  # about once in ten million words: "edibles" 2.9, "footballs" 2.7, "doobie" 2.5, "spliff" 2.3


def _wordfreq():
    try:
        import wordfreq
    except ImportError:
        raise SystemExit("--near-words needs wordfreq: pip install -e '.[build]'") from None
    return wordfreq


def _zipf(freq: float) -> float:
    import math

    return math.log10(freq * 1e9)


def common_street_terms(terms: Iterable[str]) -> dict[str, str]:
    """The street terms any language uses as an everyday word at COMMON_ZIPF or more, with the language it is
    most frequent in: a misspelt "footballs" is a misspelt football, whatever else the word means."""
    terms = set(terms)
    best: dict[str, tuple[float, str]] = {}
    for lang, freqs in _frequency_dicts():
        for term in terms:
            if (freq := freqs.get(term)) and _zipf(freq) >= COMMON_ZIPF and best.get(term, (0.0,))[0] < _zipf(freq):
                best[term] = (_zipf(freq), lang)
    return {t: f"common:{lang}" for t, (_, lang) in best.items()}


def wordfreq_words(names: Iterable[str]) -> dict[str, str]:
    """The words of every language wordfreq lists that are one edit from one of `names` (in the
    normaliser's form), each with the language it is most frequent in."""
    from plugwatch.text.misspelling import MIN_LETTERS, NearNames, one_script
    from plugwatch.text.vocabulary import russian_stems

    names = set(names)
    near = NearNames(dict.fromkeys(names, ""), stems=russian_stems)  # one meaning: a word near two names is listed
    may_be_near = _near_name_sieve(names | {n + "s" for n in names if n.isascii() and not n.endswith("s")})
    lo, hi = MIN_LETTERS - 1, max(map(len, names)) + 4
    latin = re.compile(r"[a-z\u0430-\u045f]").search  # Latin or Cyrillic: the scripts names are read in
    cyrillic = re.compile(r"[\u0430-\u045f]+").fullmatch
    # Each of the 7 million words is looked at once, however many languages list it; then, for the few
    # thousand near a name, the language it is most frequent in (the first on a tie).
    dicts = _frequency_dicts()
    written: dict[str, list[str]] = {}  # form: the words of the lists written so
    for word in set().union(*(freqs.keys() for _, freqs in dicts)):
        if not lo <= len(word) < hi:
            continue
        if word.isascii() and word.isalpha() and word.islower():
            form = word
        elif cyrillic(word):
            form = word.replace("ё", "е")  # all canonical_term does to lowercase Cyrillic letters
        elif latin(word):
            form = canonical_term(word)
        else:
            continue  # neither Latin nor Cyrillic: never read as a misspelt name
        if form and form not in names and one_script(form) and (
                may_be_near(form) or any(may_be_near(stem) for stem in russian_stems(form))):
            written.setdefault(form, []).append(word)
    langs = [lang for lang, _ in dicts]
    out = {}
    for form in sorted(written):
        if near.name_for(form):
            _, first = max((freqs[w], -i) for w in written[form] for i, (_, freqs) in enumerate(dicts) if w in freqs)
            out[form] = f"wordfreq:{langs[-first]}"
    return out


def _near_name_sieve(forms: set[str]) -> Callable[[str], bool]:
    """A quick test passed by every word `misspelling.NearNames` may read as one of `forms`, and by few others.
    A word one edit from a name keeps its first letter and its last (or, swapped, the one before), and the
    edit is in the first half of the rest or the second: the word shares the other half. So each form is
    filed under its first letters with its last, and under its last letters with its first, for each length
    a word one edit from it has."""
    def halves(shorter: int) -> tuple[int, int]:
        # An edit at i (from 1) leaves i letters before it and shorter - i - 1 or more after: a before, or b after.
        a = max(1, (shorter - 1) // 2)
        return a, max(1, shorter - 1 - a)

    keys = set()
    for f in forms:
        for length in (len(f) - 1, len(f), len(f) + 1):
            a, b = halves(min(length, len(f)))
            keys |= {(length, f[:a], f[-1]), (length, f[0], f[-b:])}
        keys.add((len(f), f[:halves(len(f))[0]], f[-2]))  # the last two letters swapped: the rest is kept
    def splits(n: int) -> list[tuple[int, int]]:  # a word of n letters, from a form of n - 1, n or n + 1
        return sorted({halves(n - 1), halves(n)})

    by_length = {n: splits(n) for n in range(2, 64)}

    def may_be_near(word: str) -> bool:
        n = len(word)
        first, last = word[0], word[-1]
        for a, b in by_length.get(n) or splits(n):
            if (n, word[:a], last) in keys or (n, first, word[-b:]) in keys:
                return True
        return False
    return may_be_near


def near_name_words(terms: Iterable[Term]) -> dict[str, str]:
    """What `misspelling.NearNames` leaves alone, with where it comes from: street terms that are everyday
    words themselves, and everyday words one edit from a name or term it looks for. A word any language uses,
    however rarely, is a word: a misspelling dealers invent is in no list."""
    from plugwatch.text.misspelling import is_candidate_name

    terms = [t for t in terms if is_candidate_name(t.term, t.kind, t.ambiguity)]
    common = common_street_terms({t.term for t in terms if t.kind == "street"})
    # A common street term one edit from another name ("crank", "crink") is listed as common: so it is both.
    return wordfreq_words({t.term for t in terms}) | common


def write_near_words(words: dict[str, str], path: Path) -> None:
    lines = ["# What text/misspelling.py never reads as a misspelt drug name. Written by python3 -m",
             "# plugwatch.tools.vocab_build --near-words. Columns: word, source. wordfreq:LANG: an everyday word",
             "# one edit from a name or street term, in wordfreq's word list of LANG (the language it is most",
             f"# frequent in); common:LANG: a street term that is an everyday word itself (Zipf {COMMON_ZIPF} or more in",
             "# LANG), whose misspellings count only beside a clear drug. Words from wordfreq's lists are CC BY-SA 4.0",
             "# (wordfreq by Robyn Speer et al., https://github.com/rspeer/wordfreq, from Wikipedia, subtitles,",
             "# news, books, web text and social media; its README lists the sources)."]
    lines += [f"{w}\t{src}" for w, src in sorted(words.items())]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m plugwatch.tools.vocab_build", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", type=Path, help="the shared data folder (holds lexicons/)")
    parser.add_argument("--curated", type=Path, default=DEFAULT_CURATED)
    parser.add_argument("--out", type=Path, default=DEFAULT_VOCABULARY)
    parser.add_argument("--near-words", action="store_true",
                        help=f"write {DEFAULT_NEAR_WORDS.name} from the shipped vocabulary instead")
    args = parser.parse_args(argv)
    if args.near_words:
        from plugwatch.text.vocabulary import read_terms

        words = near_name_words(read_terms(DEFAULT_VOCABULARY.read_text(encoding="utf-8")))
        write_near_words(words, DEFAULT_NEAR_WORDS)
        print(f"wrote {len(words)} words to {DEFAULT_NEAR_WORDS}")
        return 0
    if args.data is None:
        parser.error("--data is required to build the vocabulary")
    terms = build_vocabulary(args.data, args.curated)
    write_vocabulary(terms, args.out)
    counts: dict[str, int] = {}
    for t in terms:
        for s in t.source.split(","):
            counts[s] = counts.get(s, 0) + 1
    print(
        f"wrote {len(terms)} rows to {args.out} ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})"
    )
    return 0


# --- word lists ------------------------------------------------------------------------------
# Hand-made from a read of every DEA term and the RedMed rows we use.  Emoji names already cover
# concrete nouns ("banana", "snowflake", "rocket"), so these hold what they miss.

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further get go goes got
    had has have having he her here hers herself him himself his how i if in into is it its itself just me
    more most my myself no nor not now of off on once only or other our ours out over own same she should
    so some such than that the their them then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours""".split()
)

# Matched as whole words these fire on most ordinary posts while meaning a drug almost never ("day",
# "love"), or they are what blanking apostrophes leaves of contractions ("I'd" -> "i d", "I'm").
TOO_COMMON = frozenset(
    """d f m s t ll re ve day days love friend friends live normal case night doctor act issues personal
    special material method ultimate extreme domestic time go down up hits""".split()
)

EVERYDAY = frozenset(
    """abyss ace acid act adidas alfalfa all-star amnesia amoeba amp amps animal animals antifreeze apache
    arizona ashes assembled audi auntie backbreaker bale bam barrel base bash bazooka beast beemer bennies
    biggy bionic blast blaze bliss blizzard blocks blondie bloom blow blowout blueberry bmw bobo bolo boo
    booboo boomers bose boulder bozo brownies bud budda bullion bump bumps bush buttons cabbage cadillac cali
    calves cardio case cement chalk chandelier chat chernobyl chevy chewies cheyenne chief chill chinese chip
    chippie chronic chunk cid cigars clarity clear clicker cliffhanger climax cola colorado columbo conductor
    cotton crank crazy crib crisco crumble crypto crystalline cubes dabs day decadence devil dew dice diesel
    dinosaurs dipper dirt doctor doggie dojo domes domestic dominoes dope downtown drank dream dreamer dreams
    drivers drone dunk duracell dust dynamite energizer essence everclear exodus explosion extract extreme
    facebook fantasy fiesta fizz flake flakes flour fluff fluffy freeze friend funtime galaxy gangster garbage
    gash gauge gee geek gin girlfriend glob go-go gold gondola gong goodfella goofball goofy goon goop grass
    grasshopper gravel gravy greenhouse greens grit groceries grout gum hail handlebars hard hare hawaiian hawk
    hay haze heaven heineken helix hemp hen hercules hero him hipster hits hog hooch hooter hops hotcakes hug
    hulk humid hummers hunter hysteria icing incense issues jackpot jam jeep jelly jet jib jif jive joker juice
    junk kaleidoscope kali karate karma kat keller kgb khalifa killa killer killers kilter kleenex kryptonite
    lazers lean leapers lemonade lens lifesaver limitless live loaf machinery material mayo meal menthol
    mercedes method mica mist mojo mole monte mother mud musk muzzle mystique napkin nickle noise normal nugget
    nuggets oat obama odyssey omg ozone paint pants paradise parsley pastas paste pearl pebbles peep peg
    pellets personal pharmacy pillow pimp pinky pixies pony pop poppy popsicle posh potpourri pow powder primo
    puff puffy puma puppy pure rambo rapture raw recharge recycle rhythm rip rippers rock rocks rope sack
    sacrament sap sauce scarface scat schoolboy scoop scramble scratch scruples scuffle seed sexy shaman sheets
    skippy skittle skittles skywalker slab sleet slime slits smack smacks smarties smears smoke snaps sneeze
    snickers sniff snowball soda soft special spice spin splash spores stackers stardust stems sticky storm
    stuff sugar sunshine superman sweeties sweets syrup tahoe takeover tan tar teenager teeth tension tequila
    tire tires tissue tnt toot toys toyota trash troop tweak tweeds twinkie ultimate unassembled uzi velvet
    venom viper vowels wack wash wax wet whack wheat whiskey wicked witch wizard wobble wonky wooly work yahoo
    yale yoda zen zing zip zoom zoomers
    aqua attack aunt bad bake bang barn beam beautiful bedtime beige benz biker bill billy bitch bite bits
    blend blind block bomber bombers breakfast breath buffet burst busy butt buzz california canadian caviar
    catnip champions cheer chicago chrome cleaner clothing coast coasts combat cone cosmic crap crew crunch
    crush crusher crusty daddy death designer detergent detroit dime dimples dirty ditch dome drag dry dummy
    easing easy energy equipment fake fall famous feel fever fifty flare flavors flea flesh flip florida
    foolish force funk funky fuzzy gainers galloping gates giggle giggles glad god goddess golden grand grape
    gravity gray great habit half happy hatter heat heavenly hell helper hit hold homegrown hope horizon
    hormones idiot instant ivory jamaican jean jesus jewelry joint jolly jones jug jugs juicy kentucky kind
    king kitty lace lay leak leaky lethal lettuce lid lightening little lover lovers lumps lunar mad madman
    manhattan marathons market matchbox maybach mayback mean medicine melt message mexican midnight mighty mile
    mind mini mint miss mister mixed molasses mph naked nation nil nurse opener organic pallets panthers
    parfait passion pasture peanut pearly pee player plenty pocket pointy poison poke pollutants poor potion
    putty queen quick railroad rainy regular reindeer repellent ride righteous road roads roach rocky rockies
    rolex rosin royal rupture rush russian sage salting salty sandoz screen sex shake shiny sickles sight silk
    silly silver simple sister sky sleigh snacks society solar sour spangled spicy spike spit stink study
    super tab tac tag tangy tech tecate tic time tobacco toe town tragic treat treats trinity triple
    tunes tupperware uncle valley vodka voodoo wake wall weapon weaver wee west wrecking yoke young
    yucatan zacatecas karachi hundai maradona kordell reynolds hocus cartwheels bumblebees crisscross dancing
    versed sonata sonatas sonate fontanel myrica vigil pectoral android intermezzo nocturna stats panax
    tabs caps pills meds gear juice test trip trips line lines stick sticks strips films tabs""".split()
)

FIRST_NAMES = frozenset(
    """abby adam alice amy angie barbara bernice bernie beyonce billie britton carrie casper cecil charlie
    chris christina christine christy connie debs eddie ellis emma eve freddy george gigi gina gloria greta
    harry hazel helen henry jack jackie jane jim joe john johnny johnson juan juanita kelly lisa louie lucas
    lucy maria marias mary meg mike mona nora patty paula paulas peter reggie richie rosa roxanne ruby scottie
    scotty sid simon steve tina tomasa tony ann barry bart larry quinn donna jaime enrique warner""".split()
)

SPANISH_WORDS = frozenset(
    """abajo aceite acelerador acido alfombra almohada amarilla ancla apodo arriba arroz azucar basura blanca
    blanco bolitas bomba bombita bonita caballo caca cafe cajeta cajita cajitas camara canelon carga caro
    cebolla certificada chavo chica chicle chinos chorizo churro cielo coco cohete comida cosa coso cosos cruz
    cubo diente dorado dulce dulces duro el escoba esquina estrellas fichas frio gallina gallito gallos gato
    goma gorda gota gringa gringito gueros hielo hierba hoja hombre hongos humo huera jaula juguetes la las
    lavada lechuga lena lenta libreta livianas lobo los madera manita manteca mariquita mayo media mira mora
    morena morenita morro mostaza muchacha muchachas muebles mujer mujeres murcielago nave negra negrita
    nieve nina paja paleta paloma palomita palomos pantalones papas pasto pastillas paz pescado pez piedras
    piezas pinata pintura plata poli pollito pollo polvo refresco refrescas repollo roca rojo rueda suave
    tablas talco tila tonto tortuga tubo valle vaquita ventanas verde vidrio zapato
    alegria azul baja corte diablo elefante espana familia feliz gata grande luna lata loca loco morado negro
    pata queso tierra modelo prostituta mama lluvia""".split()
)

SPANISH_SLANG = frozenset(
    """adormidera bambalachacha bareta barrato basuco birria bucio burritos chapopote chavalone chicanitas
    chiclosa chistosa chiva chivones chochos cocazo colorines cotorritos cuadro cucuy dienton diosa durin
    elefante escama escorpino esquinilla falopa frula garifa grenuda guardada guerillo huerfanito jale kabayo
    lentejuela llesca lluvia macona mafafa maje mandango maracachafa marimba melcocha micropunto mongega
    montura morisqueta mota narizona palitroque patudas pedrito peliroja pelosa perico pichicata raspado
    soditas tabique tacatosa tacha talquito tecata yerba yesca zacate zapapote""".split()
)

EVERYDAY_PHRASES = frozenset(
    """ice cream|ice water|ice cubes|diet coke|coca cola|coca-cola|bubble gum|christmas tree|christmas trees|
    french fries|chinese food|mexican food|dog food|cat food|baby powder|golf ball|golf balls|jelly beans|
    gummy bears|teddy bears|green tea|blue sky|blue moon|blue jeans|big bird|cold one|school bus|
    bicycle parts|diet pills|morning shot|wake ups|happy trails|lunch money|late night|top gun|top shelf|
    top gear|peter pan|mona lisa|snow white|bart simpson|bruno mars|malcolm x|contact lens|eye glasses|
    dental floss|window pane|taking a cruise|mowing the lawn|rest in peace|heaven and hell|salt and pepper|
    nice and easy|dead man|dead on arrival|mother of god|holy grail|cloud nine|cloud 9|northern lights|
    purple rain|yellow submarine|mellow yellow|pink panther|john deere|chicken feed|garden salad|jump rope|
    time traveler|vanilla sky|apple jack|black sheep|black magic|black pearl|black gold|black star|
    white horse|white knight|white lady|gold dust|gold star|sugar cubes|red cross|stop signs|tail lights|
    good stuff|fine stuff|sweet stuff|white stuff|big bag|big bang|dance fever|love boat|love affair|
    blue cheese|green apple|lemon drop|orange crush|pineapple express|fairy dust|magic dust|happy pill|
    fat bags|train wreck|golden girl|little smoke|my brother|old lady|great bear|green eyes|sky high|
    speed boat|stove top|ticket|pizza toppings|cherry bomb|cheap basing|layer cake|black russian|
    black and whites|red devil|hard candy|soft ones|cream|sweet jesus|sweet lucy|mary jane""".split("|")
)
EVERYDAY_PHRASES = frozenset(p.strip() for p in EVERYDAY_PHRASES)

# DEA heading -> (drug, category).  Synonym headings (Alprazolam / Xanax) carry the same list.
DEA_HEADINGS = {
    "acetaminophen and oxycodone combination": ("oxycodone", "opioid"),
    "percocet": ("oxycodone", "opioid"),
    "adderall": ("amphetamine", "stimulant"),
    "amphetamine and dextroamphetamine combination": ("amphetamine", "stimulant"),
    "amphetamine": ("amphetamine", "stimulant"),
    "alprazolam": ("alprazolam", "benzodiazepine"),
    "xanax": ("alprazolam", "benzodiazepine"),
    "buprenorphine and naloxone combination": ("buprenorphine", "opioid"),
    "suboxone": ("buprenorphine", "opioid"),
    "clonazepam": ("clonazepam", "benzodiazepine"),
    "klonopin": ("clonazepam", "benzodiazepine"),
    "cocaine": ("cocaine", "cocaine"),
    "crack cocaine": ("crack cocaine", "cocaine"),
    "ecstasy": ("mdma", "mdma"),
    "mdma": ("mdma", "mdma"),
    "molly": ("mdma", "mdma"),
    "fentanyl": ("fentanyl", "opioid"),
    "flunitrazepam": ("flunitrazepam", "benzodiazepine"),
    "rohypnol": ("flunitrazepam", "benzodiazepine"),
    "gamma-hydroxybutyric acid": ("ghb", "ghb"),
    "ghb": ("ghb", "ghb"),
    "heroin": ("heroin", "opioid"),
    "hydrocodone": ("hydrocodone", "opioid"),
    "norco": ("hydrocodone", "opioid"),
    "vicodin": ("hydrocodone", "opioid"),
    "lorcet": ("hydrocodone", "opioid"),
    "hydromorphone": ("hydromorphone", "opioid"),
    "dilaudid": ("hydromorphone", "opioid"),
    "ketamine": ("ketamine", "ketamine"),
    "ketalar": ("ketamine", "ketamine"),
    "khat": ("khat", "stimulant"),
    "lysergic acid diethylamide": ("lsd", "psychedelic"),
    "lsd": ("lsd", "psychedelic"),
    "marijuana": ("cannabis", "cannabis"),
    "marijuana concentrates": ("cannabis concentrate", "cannabis"),
    "hash oil": ("cannabis concentrate", "cannabis"),
    "mescaline": ("mescaline", "psychedelic"),
    "peyote": ("mescaline", "psychedelic"),
    "methamphetamine": ("methamphetamine", "stimulant"),
    "methylphenidate": ("methylphenidate", "stimulant"),
    "ritalin": ("methylphenidate", "stimulant"),
    "concerta": ("methylphenidate", "stimulant"),
    "daytrana": ("methylphenidate", "stimulant"),
    "morphine": ("morphine", "opioid"),
    "opium": ("opium", "opioid"),
    "oxycodone": ("oxycodone", "opioid"),
    "oxycontin": ("oxycodone", "opioid"),
    "roxicodone": ("oxycodone", "opioid"),
    "oxaydo": ("oxycodone", "opioid"),
    "pcp": ("pcp", "psychedelic"),
    "phencyclidine": ("pcp", "psychedelic"),
    "promethazine": ("promethazine", "prescription"),
    "psilocybin mushrooms": ("psilocybin mushrooms", "psychedelic"),
    "steroids": ("anabolic steroids", "steroid"),
    "synthetic cannabinoids": ("synthetic cannabinoid", "nps"),
    "synthetic cathinones": ("synthetic cathinone", "nps"),
    "u-47700": ("u-47700", "opioid"),
}

# RedMed drug (its own spelling) -> (drug, category): the drugs of abuse or diversion we keep.
REDMED_DRUGS = {
    **dict.fromkeys(
        """alprazolam clonazepam diazepam lorazepam temazepam oxazepam triazolam midazolam flunitrazepam etizolam
        bromazepam nitrazepam chlordiazepoxide clobazam estazolam flurazepam""".split(),
        "benzodiazepine",
    ),
    **dict.fromkeys(
        """oxycodone hydrocodone morphine codeine fentanyl heroin methadone buprenorphine hydromorphone oxymorphone
        tapentadol tramadol opium carfentanil dihydrocodeine desomorphine levorphanol etonitazene""".split(),
        "opioid",
    ),
    **dict.fromkeys(
        """amphetamine dextroamphetamine methamphetamine lisdexamfetamine methylphenidate dexmethylphenidate
        modafinil armodafinil cathinone phentermine""".split(),
        "stimulant",
    ),
    **dict.fromkeys(
        """testosterone testosterone_cypionate testosterone_enanthate nandrolone nandrolone_decanoate stanozolol
        oxandrolone boldenone clenbuterol methyltestosterone""".split(),
        "steroid",
    ),
    **dict.fromkeys(
        "pregabalin gabapentin zolpidem zopiclone eszopiclone zaleplon promethazine carisoprodol tianeptine".split(),
        "prescription",
    ),
    **dict.fromkeys("kratom xylazine dextromethorphan methaqualone nitrous_oxide".split(), "other"),
    "cocaine": "cocaine",
    "ketamine": "ketamine",
    "esketamine": "ketamine",
    "mephedrone": "nps",
}
REDMED_DRUGS = {name: (name.replace("_", " "), category) for name, category in REDMED_DRUGS.items()}
REDMED_DRUGS |= {  # RedMed's name -> (our drug name, category) where the names differ
    "pethidine": ("meperidine", "opioid"),
    "medical_cannabis": ("cannabis", "cannabis"),
    "dronabinol": ("thc", "cannabis"),
    "cannabidiol": ("cbd", "cannabis"),
    "nabilone": ("nabilone", "cannabis"),
    "phencyclidine": ("pcp", "psychedelic"),
    "gamma_hydroxybutyric_acid": ("ghb", "ghb"),
    "gamma-butyrolactone": ("gbl", "ghb"),
    "1,4-butanediol": ("1,4-butanediol", "ghb"),
    "lysergic_acid_diethylamide": ("lsd", "psychedelic"),
    "psilocybine": ("psilocybin", "psychedelic"),
    "dimethyltryptamine": ("dmt", "psychedelic"),
    "5-methoxy-n,n-dimethyltryptamine": ("5-meo-dmt", "psychedelic"),
    "muscimol": ("muscimol", "psychedelic"),
    "alpha-methyltryptamine": ("amt", "psychedelic"),
}

# A slang phrase holding one of these is context ("snort_coke", "mixed_with_sprite"), not a term.
REDMED_CONTEXT = frozenset(
    """taking take took takes started start stop stopped stopping quit prescribed prescription script doctor
    doc dr daily withdrawal withdrawals wd addiction addict addicted tolerance mg mcg pill pills tablets tablet
    dose dosage dosing snort snorted snorting shoot shooting shot smoke smoked smoking mixed mixing mix with
    of out in on to and or the a my your laced uncut head heads junkie junkies user users buy buying sell
    selling sold legalization movement main psychoactive ingredient strains tend drink drinking half railing
    lines helps helped works recommend avoid""".split()
)
# Words of dosing talk: a `known` phrase holding one ("stop_taking_ativan") vouches for its other words.
REDMED_DOSING = frozenset(
    """taking take took takes started start stop stopped stopping quit prescribed prescription script doctor
    doc daily withdrawal withdrawals wd addiction addict addicted tolerance mg mcg pill pills tablets tablet
    dose dosage dosing snort snorted snorting mixing buy buying sell selling helps helped works""".split()
)
REDMED_NOISE = frozenset("benzilate quinuclidinyl hybromide c21h30o2 junkie junkies benzohead feegle".split())
REDMED_FIXES = {  # RedMed filed these under the wrong drug
    "trammies": ("tramadol", "opioid"),
    "trammys": ("tramadol", "opioid"),
    "tylenol 3's": ("codeine", "opioid"),
    "aco dmt": ("4-aco-dmt", "psychedelic"),
    "4acodmt": ("4-aco-dmt", "psychedelic"),
    "4aco dmt": ("4-aco-dmt", "psychedelic"),
}
FORMULATIONS = frozenset("xr er cr ir sr la contin contins depot durabolin".split())


if __name__ == "__main__":
    sys.exit(main())
