"""Evasions dealers use against word filters, applied to clean text.

Used by tests and by the evaluation, which makes evasion variants of known offers
and measures recall under each.  Every function rewrites only the words in `targets`
(case-insensitive; default: every word of 4+ letters) and is deterministic for a
given `random.Random`.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Protocol

_WORD = re.compile(r"[^\W\d_]+")

# Latin letter -> look-alikes from other scripts, per case (casefolding must not
# change the letter they stand for: Greek Η folds to η, which reads as n, so it is
# not here).
HOMOGLYPHS: dict[str, str] = {
    "a": "аα", "c": "сϲ", "e": "еε", "h": "һ", "i": "іι", "j": "ј", "k": "κ", "o": "оο", "p": "рρ",
    "s": "ѕ", "t": "τ", "u": "υս", "v": "ν", "w": "ԝ", "x": "хχ", "y": "уү",
    "A": "АΑ", "B": "ВΒ", "C": "С", "E": "ЕΕ", "H": "Н", "I": "ІΙ", "J": "Ј", "K": "КΚ", "M": "М",
    "O": "ОΟ", "P": "РΡ", "S": "Ѕ", "T": "ТΤ", "X": "ХΧ", "Y": "У",
}  # fmt: skip
SMALL_CAPITALS = dict(zip("abcdefghijklmnoprstuvwyz", "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢ", strict=True))
MATH_STYLES = (
    "BOLD", "ITALIC", "BOLD ITALIC", "SCRIPT", "BOLD SCRIPT", "FRAKTUR", "BOLD FRAKTUR",
    "DOUBLE-STRUCK", "SANS-SERIF", "SANS-SERIF BOLD", "SANS-SERIF ITALIC", "MONOSPACE",
)  # fmt: skip
INVISIBLES = ("\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\ufeff", "\u2062", "\u200e")
# Leetspeak as written: symbols only inside a word, "1" for l only in
# "ll" or at the end, where a reader (and `normalize`) takes it for l, and never
# three digits in a row or two at the start, which read as a number.
_LEET_ANY = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7", "b": "8"}
_LEET_INSIDE = {"a": "@", "i": "!", "s": "$"}


def _targeted(text: str, targets: Iterable[str] | None, rewrite: Callable[[str], str], gap: str = "") -> str:
    """Rewrite the target words; `gap`, if given, replaces a single space between two
    rewritten words (spaced-out words need a wider gap to stay apart)."""
    wanted = None if targets is None else {t.lower() for t in targets}
    out: list[str] = []
    prev_end, prev_hit = 0, False
    for m in _WORD.finditer(text):
        word = m.group()
        hit = len(word) >= 4 if wanted is None else word.lower() in wanted
        between = text[prev_end : m.start()]
        out.append(gap if gap and hit and prev_hit and between == " " else between)
        out.append(rewrite(word) if hit else word)
        prev_end, prev_hit = m.end(), hit
    out.append(text[prev_end:])
    return "".join(out)


def _pick(n: int, rate: float, rng: random.Random) -> set[int]:
    """Positions chosen with probability `rate`, never none."""
    chosen = {i for i in range(n) if rng.random() < rate}
    return chosen or {rng.randrange(n)}


def homoglyphs(
    text: str, rate: float = 0.5, rng: random.Random | None = None, *, targets: Iterable[str] | None = None
) -> str:
    rng = rng or random.Random(0)

    def rewrite(word: str) -> str:
        spots = [i for i, c in enumerate(word) if c in HOMOGLYPHS]
        if not spots:
            return word
        chars = list(word)
        for k in _pick(len(spots), rate, rng):
            chars[spots[k]] = rng.choice(HOMOGLYPHS[word[spots[k]]])
        return "".join(chars)

    return _targeted(text, targets, rewrite)


def leetspeak(
    text: str, rng: random.Random | None = None, *, targets: Iterable[str] | None = None, rate: float = 0.6
) -> str:
    rng = rng or random.Random(0)

    def rewrite(word: str) -> str:
        out: list[str] = []
        # One character per position: "İ".lower() is two ("i" + a combining dot), which would shift
        # every index after it.
        low = "".join(c if len(c.lower()) > 1 else c.lower() for c in word)
        spots = [i for i, c in enumerate(low) if c in _LEET_ANY or c == "l"]
        chosen = _pick(len(spots), rate, rng) if spots else set()
        chosen_at = {spots[k] for k in chosen}
        for i, c in enumerate(low):
            last = i == len(low) - 1
            # never three digits in a row, nor two at the start: those read as numbers
            digit_run = (len(out) >= 2 and out[-1].isdigit() and out[-2].isdigit()) or (
                len(out) == 1 and out[0].isdigit()
            )
            if len(out) > i:
                continue  # second l of a "ll" written as "11"
            if i not in chosen_at or digit_run:
                out.append(word[i])
            elif c == "l":
                pair = i + 1 < len(low) and low[i + 1] == "l" and not (i and low[i - 1] == "l")
                after_one = bool(out) and out[-1] == "1"
                if pair and not (out and out[-1].isdigit()):
                    out += ["1", "1"]
                else:
                    out.append("1" if last and not after_one else word[i])
            elif c == "i" and last:
                out.append(word[i])  # a final "1" reads as l
            else:
                out.append(_leet_letter(c, 0 < i and not last, rng))
        if out == list(word):  # the draw only hit letters that must stay: take the first that can change
            i = next(
                (i for i, c in enumerate(low) if c in _LEET_ANY and not (c == "i" and i == len(low) - 1)),
                None,
            )
            if i is not None:
                out[i] = _leet_letter(low[i], 0 < i < len(low) - 1, rng)
        return "".join(out)

    return _targeted(text, targets, rewrite)


def _leet_letter(c: str, inside: bool, rng: random.Random) -> str:
    return rng.choice(_LEET_ANY[c] + (_LEET_INSIDE.get(c, "") if inside else ""))


def repeat_letters(
    text: str, rng: random.Random | None = None, *, targets: Iterable[str] | None = None
) -> str:
    """Stretch one letter of each word to a run of 3-5 ("xaaanax", "weeeed")."""
    rng = rng or random.Random(0)

    def rewrite(word: str) -> str:
        i = rng.randrange(len(word))
        run = 1
        while i + run < len(word) and word[i + run].lower() == word[i].lower():
            run += 1
        return word[:i] + word[i] * rng.randint(3, 5) + word[i + run :]

    return _targeted(text, targets, rewrite)


def space_letters(text: str, sep: str = " ", *, targets: Iterable[str] | None = None) -> str:
    """ "x a n a x  b a r s": two spaced words in a row get a double space between them."""
    return _targeted(text, targets, sep.join, gap=sep * 2 if sep.isspace() else "")


def dot_letters(text: str, *, targets: Iterable[str] | None = None) -> str:
    return space_letters(text, ".", targets=targets)


def zero_width(text: str, rng: random.Random | None = None, *, targets: Iterable[str] | None = None) -> str:
    rng = rng or random.Random(0)

    def rewrite(word: str) -> str:
        if len(word) < 2:
            return word
        gaps = _pick(len(word) - 1, 0.5, rng)
        return "".join(c + (rng.choice(INVISIBLES) if i in gaps else "") for i, c in enumerate(word))

    return _targeted(text, targets, rewrite)


def fullwidth(text: str, *, targets: Iterable[str] | None = None) -> str:
    return _targeted(text, targets, lambda w: "".join(chr(ord(c) + 0xFEE0) if c.isascii() else c for c in w))


def _math_letter(c: str, style: str) -> str:
    case = "CAPITAL" if c.isupper() else "SMALL"
    try:
        return unicodedata.lookup(f"MATHEMATICAL {style} {case} {c.upper()}")
    except KeyError:  # gaps filled by letterlike symbols (ℎ, ℯ, ℂ...): keep the letter
        return c


def math_letters(text: str, style: str = "BOLD", *, targets: Iterable[str] | None = None) -> str:
    return _targeted(
        text, targets, lambda w: "".join(_math_letter(c, style) if c.isascii() else c for c in w)
    )


def mixed_script(text: str, rng: random.Random | None = None, *, targets: Iterable[str] | None = None) -> str:
    """Each letter drawn from a different disguise: look-alikes from other scripts,
    fullwidth, math, small capitals, circled letters, or left plain."""
    rng = rng or random.Random(0)

    def disguise(c: str) -> str:
        kinds = ["fullwidth", "math", "circled"]
        if c in HOMOGLYPHS:
            kinds += ["homoglyph", "homoglyph"]
        if c in SMALL_CAPITALS:
            kinds.append("small")
        kind = rng.choice(kinds)
        if kind == "homoglyph":
            return rng.choice(HOMOGLYPHS[c])
        if kind == "small":
            return SMALL_CAPITALS[c]
        if kind == "fullwidth":
            return chr(ord(c) + 0xFEE0)
        if kind == "math":
            return _math_letter(c, rng.choice(MATH_STYLES))
        return chr((0x24B6 if c.isupper() else 0x24D0) + ord(c.lower()) - ord("a"))  # circled

    def rewrite(word: str) -> str:
        chars = list(word)
        for i in _pick(len(word), 0.7, rng):
            if word[i].isascii():
                chars[i] = disguise(word[i])
        return "".join(chars)

    return _targeted(text, targets, rewrite)


def drug_words(text: str) -> set[str]:
    """The words of five letters or more that the vocabulary reads as a drug without doubt, each a term of one
    word (a multi-word name's words are everyday words alone: "white" of "White Widow")."""
    from plugwatch.text.normalize import normalize
    from plugwatch.text.vocabulary import Vocabulary

    vocabulary = Vocabulary.default()

    def clear(word: str) -> bool:  # a drug without doubt on its own
        return any(m.start == 0 and m.end == len(word) and m.term.ambiguity != "high" and m.term.kind != "emoji"
                   for m in vocabulary.find(word))

    norm = normalize(text).text
    found = {w for m in vocabulary.find(norm) if m.term.ambiguity != "high" and m.term.kind != "emoji"
             for w in norm[m.start:m.end].split() if clear(w)}
    # As written ("cocaína" is found as "cocaina"), for `_targeted` to compare.
    return {w.lower() for w in _WORD.findall(text) if len(w) >= 5 and normalize(w).text in found}


def _misspelt(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    edit = rng.choice(("drop", "double", "swap", "vowel") if i < len(word) - 2 else ("drop", "double", "vowel"))
    if edit == "vowel" and word[i].lower() in "aeiou":
        vowel = rng.choice([v for v in "aeiou" if v != word[i].lower()])
        return word[:i] + (vowel.upper() if word[i].isupper() else vowel) + word[i + 1:]
    if edit == "drop":
        return word[:i] + word[i + 1:]
    if edit == "swap" and word[i].lower() != word[i + 1].lower():
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + word[i] + word[i:]  # doubled (also a swap of two equal letters, a consonant's "vowel")


def misspell(text: str, rng: random.Random | None = None, *, targets: Iterable[str] | None = None) -> str:
    """One letter of each drug word dropped, doubled, swapped with the next or (a vowel) changed, never
    the first or the last: "ketamien", "Addeall", "xanex", "shroms". Without `targets`, the words
    `drug_words` finds: a dealer misspells the name a filter looks for, not the rest of the post. An edit
    the normaliser undoes (a letter doubled beside its twin, "Addderall" read as "Adderall") is drawn again,
    so every copy is misspelt as read; a word of under three letters is left as written."""
    from plugwatch.text.normalize import normalize

    rng = rng or random.Random(0)

    def rewrite(word: str) -> str:
        if len(word) < 3:
            return word
        plain = normalize(word).text
        out = word
        for _ in range(20):
            out = _misspelt(word, rng)
            if normalize(out).text != plain:
                break
        return out

    return _targeted(text, drug_words(text) if targets is None else targets, rewrite)


class Transform(Protocol):
    def __call__(self, text: str, rng: random.Random, targets: Iterable[str] | None = None) -> str: ...


TRANSFORMS: dict[str, Transform] = {
    "homoglyph": lambda text, rng, targets=None: homoglyphs(text, 0.6, rng, targets=targets),
    "leet": lambda text, rng, targets=None: leetspeak(text, rng, targets=targets),
    "repeat": lambda text, rng, targets=None: repeat_letters(text, rng, targets=targets),
    "spaced": lambda text, rng, targets=None: space_letters(text, targets=targets),
    "dotted": lambda text, rng, targets=None: dot_letters(text, targets=targets),
    "zero_width": lambda text, rng, targets=None: zero_width(text, rng, targets=targets),
    "fullwidth": lambda text, rng, targets=None: fullwidth(text, targets=targets),
    "math": lambda text, rng, targets=None: math_letters(text, rng.choice(MATH_STYLES), targets=targets),
    "mixed_script": lambda text, rng, targets=None: mixed_script(text, rng, targets=targets),
    "misspell": lambda text, rng, targets=None: misspell(text, rng, targets=targets),
}
# Transforms that change the word itself, which no normalisation can undo (only the vocabulary's listed
# misspellings read them); every other transform disguises the word's letters.
SPELLING = ("misspell",)
# The transforms training copies examples with (`training.with_evasions`): the shipped model was trained
# with these, and a name added here would change which copy every later example gets.
TRAINED = ("dotted", "fullwidth", "homoglyph", "leet", "math", "mixed_script", "repeat", "spaced", "zero_width")
