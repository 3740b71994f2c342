"""Evasion-proof normalisation of post text, with a map back to the original offsets.

Dealers dodge word filters with look-alike letters, leetspeak, spacing and invisible
characters; `normalize` turns these back into plain lowercase words so that the drug
vocabulary can match, and keeps `offsets` so that every reason points at the text the
user actually sees.

Order of the steps (each needs the ones before it):

1. Mojibake repair ("cafÃ©" -> "café"): only on chunks that look like UTF-8 read as
   cp1252, so ftfy runs rarely and the repair stays local to the chunk.
2. Per-character fold, cached per code point: drop invisible/format characters, emoji
   variation selectors, skin tones and combining marks used as noise ("x̶a̶n̶a̶x̶");
   NFKC (fullwidth, math, circled, parenthesised letters, ligatures); casefold; Latin
   letters lose their diacritics (é->e, ß->ss, ø->o, small capitals ᴄ->c).  A ZWJ is
   kept only between two emoji, so ZWJ sequences stay intact.
3. Confusables: Cyrillic/Greek look-alikes fold to Latin in tokens that mix scripts,
   and in tokens made only of look-alikes when the text is not mostly real
   Cyrillic/Greek words.  Real Russian ("мефедрон", "соль") keeps its script; a
   Russian word with Latin look-alikes inside ("мeфедрон") folds to Cyrillic.
4. Spaced letters ("x a n a x", "M.D.M.A", "m 3 0"): must run before leetspeak so that
   "c 0 c a i n e" is one token first, and before whitespace collapse, because the
   separator has to be the same all along the run.
5. Leetspeak inside tokens ("x@n@x", "c0ca1ne", "0xy"), with numbers that carry
   meaning protected (m30, op80, oxy30s, 2cb, 3mmc, 100ct, 28g, 8ball, 4sale).
6. Repeated letters: runs of 3+ become 2 for e, o, l (and s, f, z at a word end),
   which are often doubled ("weeeed" -> "weed"), and 1 for the others ("xaaanax" ->
   "xanax"); after leetspeak so that "w333d" squeezes too.
7. Whitespace runs become one space (menus are line-based, but the detector reads
   line structure from the original text).

URLs, e-mail addresses and bare domains are protected from steps 4-6.  ASCII text
skips steps 1-3, and each of steps 4-7 runs only when a cheap scan finds a candidate,
so an ordinary post costs a lowercase and a few quick scans and keeps identity offsets
(20-30 µs a post, averaged over the benchmark streams, on the shared 2-core machine in December 2026).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii


@dataclass(slots=True)
class NormText:
    """Normalised text plus `offsets`: `offsets[i]` is the index in `original` of
    normalised character i and `offsets[len(text)] == len(original)`.  When nothing
    moved, `offsets` is a `range` (the identity), which costs nothing to build."""

    original: str
    text: str
    offsets: Sequence[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Normalised [start, end) -> original [ostart, oend).

        The end is where the next kept original character starts, so removed
        characters trailing a match (FE0F after an emoji, separators of a spaced
        word) belong to it, and a span ending inside an expansion ("ﬁ" -> "fi")
        covers the whole original character."""
        offs = self.offsets
        begin = offs[start]
        if end <= start:
            return begin, begin
        last = offs[end - 1]
        j = end
        while offs[j] <= last:  # offs[len(text)] == len(original) > last stops this
            j += 1
        return begin, offs[j]

    def original_span_text(self, start: int, end: int) -> str:
        ostart, oend = self.span(start, end)
        return self.original[ostart:oend]


def normalize(text: str) -> NormText:
    if text.isascii():
        s = text.lower()
        if not s.isprintable():  # the odd spaces are all unprintable: 2x faster than a regex for them
            s = s.translate(_ASCII_SPACE)
        offs: Sequence[int] = range(len(s))
    else:
        s, offs = _fold(text)
    s, offs = _token_steps(s, offs)
    if isinstance(offs, range):
        return NormText(text, s, range(len(s) + 1))
    offs.append(len(text))
    return NormText(text, s, offs)


# --- offset-keeping edits -------------------------------------------------------

Edit = tuple[int, int, str, Sequence[int]]  # replace s[a:b] by repl whose chars come from origins


def _splice(s: str, offs: Sequence[int], edits: list[Edit]) -> tuple[str, list[int]]:
    """Apply sorted, non-overlapping edits to `s` and its offsets."""
    out: list[str] = []
    new: list[int] = []
    prev = 0
    for a, b, repl, origins in edits:
        out.append(s[prev:a])
        new.extend(offs[prev:a])
        out.append(repl)
        new.extend(origins)
        prev = b
    out.append(s[prev:])
    new.extend(offs[prev:])
    return "".join(out), new


# --- step 1: mojibake -----------------------------------------------------------

# A UTF-8 lead byte read as cp1252/latin-1 (Â..ô) followed by continuation bytes
# (0x80-0xBF as latin-1 controls, or the cp1252 punctuation they become).
_CONT = "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
_MOJIBAKE = re.compile(f"(?:[\u00c2-\u00f4][{_CONT}]{{1,3}})+")
_MOJIBAKE_HINT = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u0152-\u02dc\u2013-\u2122]")
_DECOMPOSED_SHORT_I = re.compile("[иИ]\u0306")  # "й" typed as и + combining breve


def _repair(text: str) -> tuple[str, Sequence[int]]:
    edits: list[Edit] = []
    if _MOJIBAKE_HINT.search(text) and _MOJIBAKE.search(text):
        import ftfy  # slow to import and to run: only for text that looks broken

        for m in _MOJIBAKE.finditer(text):
            fixed = ftfy.fix_encoding(m.group())
            if fixed != m.group():
                edits.append((m.start(), m.end(), fixed, _byte_origins(fixed, m.start(), m.end())))
    for m in _DECOMPOSED_SHORT_I.finditer(text) if "\u0306" in text else ():
        edits.append((m.start(), m.end(), unicodedata.normalize("NFC", m.group()), (m.start(),)))
    if not edits:
        return text, range(len(text))
    edits.sort()
    return _splice(text, range(len(text)), edits)


def _byte_origins(fixed: str, a: int, b: int) -> list[int]:
    """Each mojibake character was one byte, so a repaired character starts where
    its first UTF-8 byte was; fall back to the chunk start if ftfy did more."""
    origins, pos = [], a
    for ch in fixed:
        origins.append(pos)
        pos += len(ch.encode("utf-8", "surrogatepass"))
    return origins if pos == b else [a] * len(fixed)


# --- step 2: per-character fold -------------------------------------------------

_ZWJ = "\u200d"
_INVISIBLE_RANGES = (
    (0x0300, 0x036F),  # combining diacritics: accents (stripped anyway) and strike/zalgo noise
    (0x0483, 0x0489),  # Cyrillic combining marks (zalgo)
    (0x1AB0, 0x1AFF),
    (0x180B, 0x180F),  # Mongolian selectors
    (0x1DC0, 0x1DFF),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x20D0, 0x20E2),  # combining marks for symbols; U+20E3 (keycap) is kept for emoji
    (0x20E4, 0x20FF),
    (0xFE00, 0xFE0F),  # variation selectors: emoji stay, their selectors go
    (0xFE20, 0xFE2F),
    (0x1F3FB, 0x1F3FF),  # skin-tone modifiers
    (0xE0000, 0xE0FFF),  # tags and variation selectors supplement
)
# Kept out of NFKC: it would glue "TM" onto the word ("BITCOIN™" -> "bitcointm") and
# turn the c-like lunate sigma into σ, which reads as o.
_NO_NFKC = frozenset("™℠ϲϹ")
_INVISIBLE_SINGLES = frozenset((0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x3164, 0xFEFF, 0xFFA0))


def _fold_char(c: str) -> str:
    cp = ord(c)
    if c == _ZWJ:
        return c  # decided with its neighbours in `_fold`
    if cp in _INVISIBLE_SINGLES or any(lo <= cp <= hi for lo, hi in _INVISIBLE_RANGES):
        return ""
    if unicodedata.category(c) == "Cf":
        return ""
    if c.isspace():
        return " "
    nfkc = c if c in _NO_NFKC else unicodedata.normalize("NFKC", c)
    if nfkc != c:
        if len(nfkc) == 3 and nfkc[0] == "(" and nfkc[2] == ")":
            nfkc = nfkc[1]  # parenthesised letters and digits: ⒳ -> x
        return "".join(_fold_char(x) for x in nfkc)
    low = c.casefold()
    if low != c:
        return "".join(_fold_char(x) for x in low)
    if cp < 0x80:
        return c
    if c == "ё":
        return "е"
    name = unicodedata.name(c, "")
    if "LATIN" in name and ("LETTER" in name or "LIGATURE" in name):
        plain = anyascii(c).casefold()  # é->e, ø->o, ᴄ->c, 🅧->x
        return plain if plain.isalnum() else c
    return c


_RESIZING: set[str] = set()  # characters whose fold is not exactly one character


class _FoldTable(dict):
    """`str.translate` table filled on first sight of each code point."""

    def __missing__(self, cp: int) -> str:
        folded = _fold_char(chr(cp))
        if len(folded) != 1:
            _RESIZING.add(chr(cp))
        if len(self) < 200_000:
            self[cp] = folded
        return folded


_FOLD = _FoldTable()
_resizing_class: tuple[int, re.Pattern[str]] = (0, re.compile("(?!)"))  # (size of _RESIZING, its regex)


def _resizing_finder() -> re.Pattern[str]:
    """`_RESIZING` as one character class, rebuilt whenever the set has grown (once per new such
    character, a few dozen in a run): a regex scan is several times faster than a set test per character."""
    global _resizing_class
    size, finder = _resizing_class
    if size != len(_RESIZING):
        finder = re.compile(f"[{''.join(map(re.escape, _RESIZING))}]")
        _resizing_class = (len(_RESIZING), finder)
    return finder


def _fold(text: str) -> tuple[str, Sequence[int]]:
    fixed, base = _repair(text)
    s = fixed.translate(_FOLD)
    resizing = _resizing_finder()  # after translate, which adds the characters it met first
    if len(s) == len(fixed) and not resizing.search(fixed):
        offs: Sequence[int] = base
    else:
        offs = []
        prev = 0
        for m in resizing.finditer(fixed):
            i = m.start()
            offs.extend(base[prev:i])
            offs.extend([base[i]] * len(_FOLD[ord(fixed[i])]))
            prev = i + 1
        offs.extend(base[prev:])
    if _ZWJ in s:
        s, offs = _drop_lone_zwj(s, offs)
    if _FOREIGN_LETTER.search(s) and _NOT_ONLY_CYRILLIC.search(s):
        s = _fold_confusables(s, offs, text)
    return s, offs


def _is_emoji(c: str) -> bool:
    return ord(c) >= 0x2190 and unicodedata.category(c) == "So"


def _drop_lone_zwj(s: str, offs: Sequence[int]) -> tuple[str, list[int]]:
    edits: list[Edit] = []
    for i, c in enumerate(s):
        if c == _ZWJ and not (0 < i < len(s) - 1 and _is_emoji(s[i - 1]) and _is_emoji(s[i + 1])):
            edits.append((i, i + 1, "", ()))
    return _splice(s, offs, edits)


# --- step 3: confusables --------------------------------------------------------

# What a letter looks like depends on its case, which casefolding dropped, so the
# original character decides: "Н" looks like H but "н" does not, "Η" (eta) looks like H
# but "η" like n.  Lowercase look-alikes (the same glyph in both cases, or lowercase):
_LOWER_TO_LATIN = str.maketrans(
    "асеорхуіїјѕһԁԛԝӏүўαοικνρτυχγεημωϲϳάέήίόύώօսոհ",
    "aceopxyiijshdqwlyyaoikvptuxyenuwcjaeniouwounh",
)
_UPPER_TO_LATIN = dict(
    zip("АВЕКМНОРСТХУІЈЅҺԚԜӀΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "abekmhopctxyijshqwlabezhikmnoptyx", strict=True)
)
# Letters that only pass for Latin in faux-Cyrillic styling ("Cσcαιηє", "gяαм",
# "сосаіпе"); common in real Russian, they fold only in tokens that also hold Latin.
_STYLED_TO_LATIN = str.maketrans("вкмнтпєяидшцбσλθ", "bkmhtnernawuboao")
_STYLED = frozenset(chr(cp) for cp in _STYLED_TO_LATIN)
_NON_RUSSIAN = frozenset("іїјѕһԁԛԝӏүўє")
_TO_CYRILLIC = str.maketrans("abcehkmoptxy", "авсенкмортху")
_FOREIGN_RANGES = (
    "\u0370-\u03ff\u0400-\u052f\u0530-\u058f\u1c80-\u1c8f\u1f00-\u1fff\u2de0-\u2dff\ua640-\ua69f"
)
_FOREIGN_LETTER = re.compile(f"[{_FOREIGN_RANGES}]")
_WORD = re.compile(r"[^\W_]+")
_LATIN_LETTER = re.compile("[a-z]")
# Only Cyrillic and no Latin: nothing can fold (see below), so skip the word loop.
_NOT_ONLY_CYRILLIC = re.compile("[a-z\u0370-\u03ff\u0530-\u058f\u1f00-\u1fff]")


def _script(c: str) -> str:
    cp = ord(c)
    if 0x0400 <= cp <= 0x052F or 0x1C80 <= cp <= 0x1C8F or 0x2DE0 <= cp <= 0x2DFF or 0xA640 <= cp <= 0xA69F:
        return "cyrillic"
    if 0x0530 <= cp <= 0x058F:
        return "armenian"
    return "greek"


def _written(word: str, start: int, offs: Sequence[int], original: str) -> str:
    """The original characters that the characters of `word` (at `start` in the folded text) come from."""
    if isinstance(offs, range):  # nothing moved or resized: the same span
        return original[offs[start]:offs[start] + len(word)]
    return "".join(map(original.__getitem__, offs[start:start + len(word)]))


@lru_cache(maxsize=1 << 16)
def _word_reading(word: str, written: str) -> tuple[tuple[str | None, ...], bool, frozenset[str], tuple[str, ...]]:
    """For a word with foreign letters, written as `written`: per character the Latin letter it passes
    for as written (else None); whether it is a plain word of its script; its scripts; its Latin letters.
    All four depend on the word and its writing only, so a word that recurs (most of a language's words
    do) is read once."""
    looks: list[str | None] = []
    for c, as_written in zip(word, written, strict=True):
        if as_written != c and as_written.casefold() == c:  # written in upper case
            looks.append(_UPPER_TO_LATIN.get(as_written))
        else:
            plain = c.translate(_LOWER_TO_LATIN)
            looks.append(plain if plain != c else None)
    unlike = [c for c, look in zip(word, looks, strict=True) if look is None and _FOREIGN_LETTER.match(c)]
    # Letters outside the Russian alphabet among Latin look-alikes ("сосаіпе") are a disguise.
    native = bool(unlike) and not (_STYLED.issuperset(unlike) and not _NON_RUSSIAN.isdisjoint(word))
    scripts = frozenset(_script(c) for c in word if _FOREIGN_LETTER.match(c))
    return tuple(looks), native, scripts, tuple(_LATIN_LETTER.findall(word))


def _fold_confusables(s: str, offs: Sequence[int], original: str) -> str:
    """Mixed-script tokens fold to Latin ("хаnах", "οxy"), or to Cyrillic when they are
    a Russian word with a Latin letter inside ("мeфедрон").  A token all in one other
    script folds only if it is no plain Cyrillic/Greek word - every letter passes for
    Latin, or it mixes in letters from outside the Russian alphabet ("сосаіпе") - and
    the text has more Latin words than plain ones ("buy оху now"); so "кокс", "ТРАВА"
    and a lone "оху" stay as they are."""
    latin_words = native_words = 0
    candidates = []
    for m in _WORD.finditer(s):
        word = m.group()
        if word.isascii():
            latin_words += not word.isdigit()
            continue
        if not _FOREIGN_LETTER.search(word):
            latin_words += _LATIN_LETTER.search(word) is not None
            continue
        reading = _word_reading(word, _written(word, m.start(), offs, original))
        native_words += reading[1]
        candidates.append((m.start(), word, reading))
    chars = None
    for start, word, (looks, native, scripts, latin) in candidates:
        if latin and native and scripts == {"cyrillic"} and all(c in "abcehkmoptxy" for c in latin):
            folded = word.translate(_TO_CYRILLIC)  # "мeфедрон": a Latin e inside Russian
        elif latin or len(scripts) > 1 or (not native and latin_words > native_words):
            folded = "".join(
                look or c.translate(_STYLED_TO_LATIN) for c, look in zip(word, looks, strict=True)
            )
        else:
            continue
        if folded != word:
            if chars is None:
                chars = list(s)
            chars[start : start + len(word)] = folded
    return s if chars is None else "".join(chars)


# --- steps 4-7: token steps -----------------------------------------------------

# Each alternative starts at a literal or a word start, so the scan stays linear.
_PROTECTED = re.compile(r"(?:https?://|www\.)\S+|@[\w-]+(?:\.[\w-]+)+|(?<![\w-])[\w-]+(?:\.[\w-]+)+\S*")
_TLDS = frozenset(
    "com net org info biz io me co cc to ly gg ru de uk nl fr es it pt xyz shop store app link onion online site".split()
)

_SEP_PUNCT = ".\\-_*·•‧∙⋅・/|+~‐‑–—"  # inside a regex class
_ITEM = r"(?:[^\W_]|[@$€])"  # one letter or digit, or a leet symbol, of a spaced-out word
# The last two items of any run: "x a n a x" has " a x" at its end.  An item is spelled here as
# one class test (\w or a leet symbol, not "_"), twice as fast in this scan of every text.
_ITEM_CHAR = r"(?!_)[\w@$€]"
_SPACED_HINT = re.compile(rf"[ {_SEP_PUNCT}]{_ITEM_CHAR}[ {_SEP_PUNCT}]{_ITEM_CHAR}(?![^\W_])")
_SPACED = re.compile(
    rf"(?<![^\W_])(?<![@$€]){_ITEM}( +|[{_SEP_PUNCT}]){_ITEM}(?:\1{_ITEM})+(?![^\W_])(?![@$€])"
)
# A digit or leet symbol next to a letter.  Led by the rare symbol class, so the scan skips
# ahead fast; `_fold_leet` widens each hit to its whole token anyway.  A "@!€" after a letter
# with only "@!€" after it to the token's end ("wow!", "sale!!") is no hit: if the token has no
# other hit it is letters and edge punctuation, which `_fold_leet` skips; if it has, that one counts.
_LEET_PAIR = re.compile("[0-9$](?:(?<=[a-z].)|(?=[a-z]))|[@!€](?:(?=[a-z])|(?<=[a-z].)(?![@!€]*(?![a-z0-9@$!€])))")
_LEET_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789@$!€")
_REPEATS = re.compile(r"(.)\1{2,}")  # letters only, checked in Python: a letter class is 3x slower
_REPEATS_HINT = re.compile(r"(.)\1\1")  # the same test, without the open repeat: 2x faster
_SPACE_RUN = re.compile(" {2,}")
_ASCII_SPACE = str.maketrans("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f", " " * 9)


class _Protected:
    """URL and e-mail spans, found only when a step has something to change."""

    __slots__ = ("starts", "ends")

    def __init__(self) -> None:
        self.starts: list[int] | None = None
        self.ends: list[int] = []

    def reset(self) -> None:
        self.starts = None
        self.ends = []

    def free(self, s: str, a: int, b: int) -> bool:
        if self.starts is None:
            self.starts = []
            found = (_url_span(s, m) for m in _PROTECTED.finditer(s)) if "@" in s or "." in s else ()
            for start, end in filter(None, found):
                if self.starts and start <= self.ends[-1]:  # merge, so that bisect sees disjoint spans
                    self.ends[-1] = max(self.ends[-1], end)
                else:
                    self.starts.append(start)
                    self.ends.append(end)
        i = bisect_left(self.starts, b) - 1  # the last span starting before b
        return i < 0 or self.ends[i] <= a


def _url_span(s: str, m: re.Match[str]) -> tuple[int, int] | None:
    """The span of a URL, e-mail address or bare domain ("t.me/shop", "x.com")."""
    a, b = m.span()
    if s[a] == "@":  # take in the user part of an e-mail address
        while a > 0 and (s[a - 1].isalnum() or s[a - 1] in "._+-"):
            a -= 1
    elif s[a] not in "hw" or not s.startswith(("http://", "https://", "www."), a):
        name = m.group().split("/", 1)[0].rstrip(".,;:!?)")
        if name.rsplit(".", 1)[-1] not in _TLDS and not name.startswith(("t.me", "wa.me")):
            return None
    return a, b


def _token_steps(s: str, offs: Sequence[int]) -> tuple[str, Sequence[int]]:
    """Steps 4-7; each regex runs only when a cheap test says it may match."""
    protected = _Protected()
    if _SPACED_HINT.search(s):
        edits = [e for m in _SPACED.finditer(s) if protected.free(s, *m.span()) for e in _unspace(s, m)]
        if edits:
            s, offs = _splice(s, offs, edits)
            protected.reset()
    if _LEET_PAIR.search(s):
        s = _fold_leet(s, protected)
    edits = []
    if _REPEATS_HINT.search(s):
        for m in _REPEATS.finditer(s):
            letter, a, b = m.group(1), m.start(), m.end()
            if not letter.isalpha() or not ((a and s[a - 1].isalpha()) or (b < len(s) and s[b].isalpha())):
                continue  # "AAA+" grades, "zzz", "xxx" are not stretched words
            if letter in "ivxcm" and _ROMAN.fullmatch(_word_at(s, a)):
                continue  # "henry viii" (an eighth), "xxxiii"
            at_end = b == len(s) or not s[b].isalpha()
            keep = 2 if letter in (_KEEP_TWO_AT_END if at_end else _KEEP_TWO) else 1
            if protected.free(s, *m.span()):
                edits.append((m.start() + keep, m.end(), "", ()))
    if "  " in s:
        edits.extend((m.start() + 1, m.end(), "", ()) for m in _SPACE_RUN.finditer(s))
        edits.sort()
    if edits:
        s, offs = _splice(s, offs, edits)
    return s, offs


_ROMAN = re.compile(r"m{0,4}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})")


def _word_at(s: str, i: int) -> str:
    a = b = i
    while a and s[a - 1].isalpha():
        a -= 1
    while b < len(s) and s[b].isalpha():
        b += 1
    return s[a:b]


def _fold_leet(s: str, protected: _Protected) -> str:
    pieces, prev, done, n = [], 0, 0, len(s)
    for m in _LEET_PAIR.finditer(s):
        a, b = m.span()
        if a < done:
            continue  # a second pair inside a token already looked at
        while a and s[a - 1] in _LEET_TOKEN_CHARS:
            a -= 1
        while b < n and s[b] in _LEET_TOKEN_CHARS:
            b += 1
        done = b
        while s[a] in "@!€":  # edge symbols are punctuation or mentions ("wow!", "@user")
            a += 1
        while s[b - 1] in "@!€":
            b -= 1
        if s[a:b].isalpha() or (a and s[a - 1].isalnum()) or (b < n and s[b].isalnum()):
            continue  # only edge punctuation, or part of a longer word in another script
        if (s[a].isdigit() and a > 1 and s[a - 1] in _NUMBER_JOINERS and s[a - 2].isdigit()) or (
            s[b - 1].isdigit() and b + 1 < n and s[b] in _NUMBER_JOINERS and s[b + 1].isdigit()
        ):
            continue  # the digits belong to a number: "1.5gm", "2-3weeks", "weed1/8th"
        plain = _unleet(s[a:b])
        if plain is not None and plain != s[a:b] and protected.free(s, a, b):
            pieces.append(s[prev:a])
            pieces.append(plain)
            prev = b
    if not pieces:
        return s
    pieces.append(s[prev:])
    return "".join(pieces)


_SPACED_IMPRINT = re.compile(r"[^\W\d_]{1,2}\d{1,4}")


def _unspace(s: str, m: re.Match[str]) -> list[Edit]:
    """Edits dropping the separators of one spaced-out word, or none if it is not one."""
    run, sep = m.group(), m.group(1)
    letters = sum(c.isalpha() for c in run)
    if letters < 3 and not (letters and _SPACED_IMPRINT.fullmatch(run.replace(sep, ""))):
        return []  # "3.5", "5 x 1" stay; "m 3 0" joins
    a, b = m.span()
    if sep != " " * len(sep):  # "www.x.y.z", "x.y.z.com": a dotted run inside a longer name
        if (a >= 2 and s[a - 1] == sep and s[a - 2].isalnum()) or (
            b + 1 < len(s) and s[b] == sep and s[b + 1].isalnum()
        ):
            return []
    width = len(sep)
    kept = _word_breaks(run[::width + 1]) if len(run) >= 4 * width + 5 and run[::width + 1].isalpha() else ()
    # Separator j stands between items j and j + 1; at a break it stays.
    return [(p, p + width, "", ()) for j, p in enumerate(range(a + 1, b - 1, width + 1)) if j not in kept]


# One-letter words of the languages covered ("y", "e", "a", "i", "o"; "и", "в", "с", "у", "я", "і", "з", "w",
# "z"): an evader spaces the long words and leaves these, so "c r i s t a l y p i e d r a" reads as one run.
_ONE_LETTER_WORDS = frozenset("aeiouywzивксуояіз")
_SHORTEST_PART = 3


@lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    """Single words of the drug vocabulary and of the cue phrases, folded as text is: a spaced run is split
    only where that gives a word plugwatch knows. Read from the package data directly (the vocabulary module
    needs this one)."""
    from importlib import resources

    data = resources.files("plugwatch") / "data"
    words: set[str] = set()
    for line in (data / "vocabulary.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            words.update(line.split("\t", 1)[0].split())
    for line in (data / "cues.tsv").read_text(encoding="utf-8").splitlines():
        if line.count("\t") == 2 and not line.startswith("#"):
            words.update(w.lower().translate(_FOLD) for phrase in line.split("\t")[2].split("|") for w in phrase.split())
    return frozenset(w for w in words if len(w) >= _SHORTEST_PART and w.isalpha())


def _word_breaks(letters: str) -> tuple[int, ...]:
    """Indices of one-letter words inside a run of spaced letters ("cristalypiedra" -> the "y"), where
    the run is not itself a known word and the parts around each such letter are: at most two."""
    known = _known_words()
    if letters in known:
        return ()
    best: tuple[int, tuple[int, ...]] = (0, ())
    for i, c in enumerate(letters):
        if c not in _ONE_LETTER_WORDS:
            continue
        left, right = letters[:i], letters[i + 1:]
        parts = tuple(x for x in (left, right) if x)  # the one-letter word may open or close the run
        if all(len(x) >= _SHORTEST_PART and (x in known or len(x) >= 4) for x in parts):
            score = sum(len(x) for x in parts if x in known)
            if score > best[0]:
                best = (score, (i,))
        # a second one-letter word further on: "ketaminaecristalliomolly"
        for k in range(i + _SHORTEST_PART + 1, len(letters) - _SHORTEST_PART):
            if letters[k] not in _ONE_LETTER_WORDS:
                continue
            parts3 = (left, letters[i + 1:k], letters[k + 1:])
            if len(left) < _SHORTEST_PART or not all(x in known for x in parts3):
                continue
            score = sum(map(len, parts3))
            if score > best[0]:
                best = (score, (i, k))
    return tuple(j for i in best[1] for j in (i - 1, i) if j >= 0)


# A stretched letter was most likely single ("xaaanax", "cocccaine"), except that ee, oo
# and ll make half the double letters of the drug vocabulary ("weeeed", "shroooms",
# "molllly") and ss, ff, zz end many words ("grasss", "stufff").  Measured on the
# vocabulary, any other letter is single in 9 of 10 places.
_KEEP_TWO = frozenset("eol")
_KEEP_TWO_AT_END = frozenset("eolsfz")

_LEET = str.maketrans("0134578@$!€", "oieastbasie")
_NUMBER_JOINERS = frozenset("./,:-–")
_BLOCK = re.compile(r"[a-z]+|[^a-z]+")
_LAST_ONE = re.compile(r"(?<=[a-z0-9@$!€])1$")  # "fentany1", "tramad01": a final 1 is l
_PRICE = re.compile(r"[$€]\d|\d[$€]")
_UNITS = frozenset(
    "s g gs gr grs gm gms gram grams mg mgs mcg ug kg kgs k oz ozs lb lbs qp hp z zip zips ct cts pc pcs "
    "pk pks pack packs tab tabs bar bars x ml l cm mm in ft gb tb mb kb am pm h hr hrs min mins d day days "
    "wk wks week weeks mo yr yrs st nd rd th ball balls eur euro euros usd gbp btc xmr ltc eth".split()
)
# Units that follow a dose written onto a name: "oxy30mg", "m30s", "special1oz".
_DOSE_UNITS = frozenset(
    "s g gs gr grs gm gms gram grams mg mgs mcg ug kg kgs oz ozs lb lbs ct cts pc pcs pk pks tab tabs ml".split()
)
_NUMBER_WORDS = frozenset("sale real ever you u ur get me all life".split())  # "4sale" = for sale
# Research chemicals that start with a digit leetspeak would turn into letters.
_DIGIT_LED_DRUGS = {
    "1": frozenset("p plsd cp cplsd v vlsd b blsd d dlsd t tlsd s slsd".split()),
    "3": frozenset("mmc cmc fpm fea fma mec meo meopcp hopcp ho fa mma".split()),
    "4": frozenset("mmc cmc mec emc bmc fa fma fmph aco acodmt acomet ho hodmt homet mpd mta meo".split()),
    "5": frozenset("meo meodmt meomipt meodipt apb mapb eapb map mea ho iai".split()),
}


# Two consonants that can begin an English word; any other pair can't ("dd", "hr", "cs").
_ONSETS = frozenset(
    "bl br ch cl cr dr dw fl fr gh gl gn gr gw kl kn kr kw ph pl pn pr ps qu rh sc sh sk sl sm sn sp sq st sv sw "
    "th tr ts tw vl vr wh wr".split()
)
_VOWELS = frozenset("aeiouy")


def _word_start(letters: str) -> bool:
    """Whether `letters` can start a word by itself: "pills" can ("4pills" is a count),
    "dderall" and "hrooms" can't ("4dderall", "5hrooms" are leetspeak)."""
    head = letters[:2]
    return len(head) < 2 or head[0] in _VOWELS or head[1] in _VOWELS or head in _ONSETS


def _unleet(token: str) -> str | None:
    """The token with leetspeak undone, or None when it is not leetspeak.

    Leetspeak puts digits and symbols where letters were; numbers that carry meaning
    must survive, so a token stays as it is when
    - it has fewer than 2 letters (m30, k9, $20, 5g) or more than 24 characters (hashes);
    - it holds a number of 3+ digits (1x100mg, a4015d) or starts or ends with a price
      (us$10, $20each);
    - it starts with 2+ digits (100ct, 25i, 10gcocaine), or with a digit followed by
      a unit, an ordinal, a "4sale" word or a research chemical (5g, 8th, 8ball,
      3mmc, 5meo), by "x" (3x5mg), or - when no other leetspeak is in the token - by
      1-2 letters (1up) or by letters that can start a word (4pills, 3months); 0 is
      no count ("0xy"), and "4dderall" and "8ar5" are leetspeak;
    - its only digits are 2 after letters, at the end or before a unit (oxy30, m30s,
      xr20mg), and not a doubled letter or 0-led ("w33d", "pi11s", "tramad01"), or 1
      before a unit ("special1oz");
    - its only symbol is "!" between 3+ letters on each side ("weed!looks"),
      a run of "!", "@" or "$" ("sale!!!now", "$$$free"), or a leading "$" (cashtags:
      "$btc").
    The result must be all letters; "1" is "l" when doubled or final ("fentany1").
    """
    if len(token) > 24:
        return None
    blocks = _BLOCK.findall(token)
    words = [b for b in blocks if b[0].isalpha()]
    gaps = [b for b in blocks if not b[0].isalpha()]
    if sum(map(len, words)) < 2:
        return None
    if any(len(gap) >= 3 and gap.isdigit() for gap in gaps):
        return None
    if len(gaps) == 1 and _PRICE.search(gaps[0]) and (token.endswith(gaps[0]) or token.startswith(gaps[0])):
        return None  # "us$10", "$20each"; "cry$74l" is leetspeak
    first = blocks[0]
    if first.isdigit():
        rest = token[len(first) :]
        if (
            len(first) >= 2
            or rest in _UNITS
            or rest in _NUMBER_WORDS
            or rest in _DIGIT_LED_DRUGS.get(first, ())
        ):
            return None
        if first != "0" and (rest[0] == "x" or (len(gaps) == 1 and (len(rest) <= 2 or _word_start(rest)))):
            return None  # a count: "3x5mg", "1up", "4pills"; but "0xy", "4dderall", "8ar5"
    if len(gaps) == 1 and first[0].isalpha():
        gap = gaps[0]
        after = token[token.index(gap) + len(gap) :]
        if (
            gap.isdigit()
            and len(gap) == 2
            and gap[0] not in "0" + gap[1]
            and (not after or after in _DOSE_UNITS)
        ):
            return None
        if gap.isdigit() and len(gap) == 1 and after in _DOSE_UNITS and after != "s":
            return None
        if gap == "!" and len(blocks[0]) >= 3 and len(after) >= 3:
            return None
    if any(len(g) > 1 and g[0] in "!@$" and g.count(g[0]) == len(g) for g in gaps):
        return None
    if first == "$" and len(gaps) == 1:
        return None  # a cashtag ("$btc", "$XANAX") unless other leetspeak says otherwise
    plain = _LAST_ONE.sub("l", token.replace("11", "ll")).translate(_LEET)
    return plain if plain.isalpha() and plain.isascii() else None


# --- scripts written without spaces between words ---------------------------------

# Chinese (Han), Japanese kana, Thai, Lao, Khmer and Myanmar run words together: a term or cue phrase
# in them has no word boundary to look for, and a Latin word next to them ("买xanax吗") still has one.
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]"
)


def is_unspaced(c: str) -> bool:
    """Whether `c` belongs to a script written without spaces between words."""
    return _UNSPACED.match(c) is not None


def has_unspaced(text: str) -> bool:
    return not text.isascii() and _UNSPACED.search(text) is not None


def blank_unspaced(text: str) -> str:
    """`text` with every character of an unspaced script replaced by a space (same length)."""
    return _UNSPACED.sub(" ", text)


def is_word_boundary(left: str, right: str) -> bool:
    """Whether a word may end between `left` and `right`: always, unless both are letters or
    digits of scripts that separate words with spaces (a Latin word next to a Chinese character
    ends there; "dm" inside "admin" does not)."""
    return not (_spaced_word_char(left) and _spaced_word_char(right))


# Korean writes words apart but attaches particles and verb endings to them ("대마를", "판매합니다"): a term
# or cue phrase in Hangul must start a word and may end anywhere inside one.
_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")


def is_hangul(c: str) -> bool:
    return _HANGUL.match(c) is not None


def may_end_word(left: str, right: str) -> bool:
    """Whether a term ending in `left` may end before `right`: at a word boundary, or before the
    particle or ending a Korean word carries."""
    return is_word_boundary(left, right) or (is_hangul(left) and is_hangul(right))


def _spaced_word_char(c: str) -> bool:
    if c.isascii():
        return c.isalnum() or c == "_"
    return c.isalnum() and not is_unspaced(c)
