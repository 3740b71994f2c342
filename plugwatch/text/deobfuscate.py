"""The narrow de-obfuscation identifier extraction needs, with a map back to the original text.

Dealers hide contact details from keyword filters: zero-width characters inside a
handle, fullwidth or "math bold" letters, a Cyrillic "е" in "t.mе", defanged links
("hxxps://shop[.]to"), spaced-out cue words ("w i c k r"). Undoing only those, and
only where they sit, keeps ordinary text (including real Cyrillic or Greek words)
untouched. Broad spelling normalisation for drug words lives in `normalize.py`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import ahocorasick

# Zero-width, bidi-control and other invisible format characters, variation selectors, the
# keycap combiner.
_INVISIBLE = "\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufe0e\ufe0f\u20e3"
_SMALL_CAPS = dict(
    zip(
        "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡʏᴢ",
        "abcdefghijklmnopqrstuvwyz",
        strict=True,
    )
)
_SMALL_CAPS_CLASS = "".join(_SMALL_CAPS)
# Fullwidth forms, enclosed alphanumerics, squared letters, mathematical alphanumerics.
_COMPAT_RANGES = "\uff01-\uff5e\u2460-\u24ff\U0001f130-\U0001f149\U0001d400-\U0001d7ff"
_CHAR_FIXES = re.compile(f"[{_INVISIBLE}{_COMPAT_RANGES}{_SMALL_CAPS_CLASS}]")

# Cyrillic and Greek letters that render like Latin ones. Only applied inside a token that
# also has Latin letters and in which every Cyrillic/Greek letter is a look-alike, so real
# Russian or Greek words (and IDN hosts) are left as written.
_HOMOGLYPHS = {
    **dict(zip("аАвВеЕһНіІјЈкКмМоОрРсСѕЅтТуУхХԁԛԝ", "aAbBeEhHiIjJkKmMoOpPcCsStTyYxXdqw", strict=True)),
    **dict(zip("αΑΒεΕΖηΗιΙκΚΜνΝοΟρΡτΤυΥχΧ", "aABeEZnHiIkKMvNoOpPtTuYxX", strict=True)),
}
_CYR_GREEK = re.compile("[\u0370-\u03ff\u0400-\u04ff\u0500-\u052f]")
_MIXED_TOKEN = re.compile("\\S*[\u0370-\u03ff\u0400-\u04ff\u0500-\u052f]\\S*")
_LATIN = re.compile("[A-Za-z]")

# Short list of TLDs for the loose spellings ("shop dot com", "shop . com"): only where
# the intent to write a domain is plain.
_LOOSE_TLDS = "com|net|org|onion|ru|su|shop|store|online|xyz|biz|info|io|cc|co|uk|ws|pw|to|me|app|site|top"
_WEBMAIL = (
    "gmail|googlemail|yahoo|ymail|hotmail|outlook|live|msn|proton|protonmail|pm|tutanota|tuta|"
    "icloud|aol|gmx|mail|yandex|cock|onionmail|dnmx|mailfence|riseup"
)
_SPACED_DOT_TLDS = "com|net|org|onion|ru|shop|store|xyz|biz"
_SPACED_HOSTS = "t|wa|telegram|signal|threema|cash|paypal|snapchat|instagram|tiktok|venmo|twitter|x"
_CUE_WORDS = frozenset(
    "wickr wickrme snap snapchat tele telegram signal whatsapp threema session insta instagram "
    "tiktok venmo zelle paypal cashapp".split()
)
_NOT_EMAIL_LOCAL = frozenset("me us him her it them here there look out email mail dm hmu".split())

# Each defanging pass runs only when one of its lower-case markers is in the text, so an
# ordinary post costs one Aho-Corasick scan and three literal-led regex searches.
_PASSES = {
    "scheme": re.compile(r"(?i:\bh(?:xx|\*\*)p)(?=(?i:s)?(?:\[:\]|:))"),
    "colon": re.compile(r"\[:(?://)?\]"),
    "slash": re.compile(r"\[/\]"),
    "dot": re.compile(r"(?<=\w)\s?[\[({<]\s?(?:\.|(?i:dot))\s?[\])}>]\s?(?=\w)"),
    "at": re.compile(
        r"(?<=\w)\s?[\[({<]\s?(?:(?i:at)|@)\s?[\])}>]\s?(?=[\w-]+\s?(?:\.|[\[({<]\s?(?:\.|(?i:dot))))"
    ),
    "worddot": re.compile(rf"(?<=[A-Za-z0-9])\s+(?:dot|DOT|Dot)\s+(?=(?:{_LOOSE_TLDS})\b)"),
    "wordat": re.compile(
        rf"(?<=[A-Za-z0-9_])\s+(?:at|AT)\s+(?=(?i:{_WEBMAIL})\s?(?:\.|\[\.\]|\(\.\)|\s(?i:dot)\s|[\[(](?i:dot)[\])]))"
    ),
    "spacedhost": re.compile(rf"(?i:\b(?:{_SPACED_HOSTS})(?:\s*\.\s*)(?:me|dog|id|app|com)\s*/\s*)"),
    "spaceddot": re.compile(rf"(?<=[A-Za-z0-9])(?:\s+\.\s*|\.\s+)(?=(?:{_SPACED_DOT_TLDS})\b)"),
    "spaced": re.compile(r"\b[A-Za-z](?: [A-Za-z]){3,}\b"),
}
# marker -> passes it calls for
_MARKER_PASSES: dict[str, tuple[str, ...]] = {
    "hxxp": ("scheme",),
    "h**p": ("scheme",),
    "[:": ("colon",),
    "[/]": ("slash",),
    "dot": ("dot", "worddot"),
    **{o + sp + ".": ("dot",) for o in "[({<" for sp in ("", " ")},
    **{o + sp + c: ("at",) for o in "[({<" for sp in ("", " ") for c in ("at", "@")},
    # spaced-out cue words: "w i c k r", "t e l e"
    **{" ".join(word[:4]): ("spaced",) for word in _CUE_WORDS},
}
MARKERS = tuple(_MARKER_PASSES)
_MARKER_AUTOMATON = ahocorasick.Automaton()
for _marker, _passes in _MARKER_PASSES.items():
    _MARKER_AUTOMATON.add_word(_marker, _passes)
_MARKER_AUTOMATON.make_automaton()
_LOOSE_GATES = (
    (re.compile(rf" at (?:{_WEBMAIL})"), "wordat"),
    (re.compile(r"\.\s*(?:me|dog|id|app|com)\s*/"), "spacedhost"),
    (re.compile(rf"\.\s*(?:{_SPACED_DOT_TLDS})\b"), "spaceddot"),
)


def _loose_passes(lowered: str) -> set[str]:
    return {name for gate, name in _LOOSE_GATES if gate.search(lowered)}


# All three in one pattern: one scan of the text instead of three, for the common answer "none".
_ANY_LOOSE = re.compile("|".join(f"(?:{gate.pattern})" for gate, _ in _LOOSE_GATES))


def has_loose_markers(lowered: str) -> bool:
    """Spelled-out tricks no fixed marker catches ("x at gmail", "t . me /", "shop . com")."""
    return _ANY_LOOSE.search(lowered) is not None


def _passes_for(lowered: str) -> set[str]:
    passes = _loose_passes(lowered)
    for _, names in _MARKER_AUTOMATON.iter(lowered):
        passes.update(names)
    return passes


_WORD_BEFORE = re.compile(r"[A-Za-z0-9._%+\-]+$")
_WS = re.compile(r"\s+")


class Cleaned:
    """De-obfuscated text plus, per character, the span of original text it came from."""

    __slots__ = ("text", "_starts", "_ends")

    def __init__(self, text: str, starts: list[int] | None = None, ends: list[int] | None = None):
        self.text = text
        self._starts = starts  # None: identical to the original
        self._ends = ends

    @property
    def changed(self) -> bool:
        return self._starts is not None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original-text offsets of the cleaned span [start, end)."""
        if self._starts is None or end <= start:
            return start, end
        return self._starts[start], self._ends[end - 1]


@lru_cache(maxsize=4096)
def _fix_char(ch: str) -> str:
    if ch in _SMALL_CAPS:
        return _SMALL_CAPS[ch]
    if unicodedata.category(ch) == "Cf" or ch in "\ufe0e\ufe0f\u20e3":
        return ""
    folded = unicodedata.normalize("NFKC", ch)
    return folded if folded.isascii() and folded.isprintable() else ch


def _char_edits(text: str) -> list[tuple[int, int, str]]:
    edits = []
    for m in _CHAR_FIXES.finditer(text):
        ch = m.group()
        fixed = _fix_char(ch)
        if fixed != ch:
            edits.append((m.start(), m.end(), fixed))
    # A homoglyph is a Cyrillic or Greek letter in a token with Latin letters: none without both.
    if _CYR_GREEK.search(text) and _LATIN.search(text):
        for m in _MIXED_TOKEN.finditer(text):
            token = m.group()
            if not _LATIN.search(token):
                continue
            foreign = [(i, c) for i, c in enumerate(token) if _CYR_GREEK.match(c)]
            if all(c in _HOMOGLYPHS for _, c in foreign):
                edits.extend((m.start() + i, m.start() + i + 1, _HOMOGLYPHS[c]) for i, c in foreign)
        edits.sort()
    return edits


def _defang_edit(kind: str, m: re.Match[str], text: str) -> str | None:
    if kind == "scheme":
        return "http"
    if kind == "colon":
        return m.group().strip("[]")
    if kind in ("dot", "worddot", "spaceddot"):
        return "."
    if kind == "at":
        return "@"
    if kind == "slash":
        return "/"
    if kind == "wordat":
        before = _WORD_BEFORE.search(text, 0, m.start())
        return None if before is None or before.group().lower() in _NOT_EMAIL_LOCAL else "@"
    squeezed = _WS.sub("", m.group())
    if kind == "spacedhost":
        return squeezed if squeezed != m.group() else None
    return squeezed if squeezed.lower() in _CUE_WORDS else None  # spaced-out letters


def _apply(
    text: str, edits: list[tuple[int, int, str]], starts: list[int] | None, ends: list[int] | None
) -> tuple[str, list[int], list[int]]:
    """Apply sorted, non-overlapping (start, end, replacement) edits, composing the offset map."""
    out: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    pos = 0
    for s, e, rep in [*edits, (len(text), len(text), "")]:
        if pos < s:
            out.append(text[pos:s])
            if starts is None:
                new_starts.extend(range(pos, s))
                new_ends.extend(range(pos + 1, s + 1))
            else:
                new_starts.extend(starts[pos:s])
                new_ends.extend(ends[pos:s])
        if rep:
            orig_s = s if starts is None else starts[s]
            orig_e = e if ends is None else ends[e - 1]
            out.append(rep)
            new_starts.extend([orig_s] * len(rep))
            new_ends.extend([orig_e] * len(rep))
        pos = max(pos, e)
    return "".join(out), new_starts, new_ends


def deobfuscate(text: str, *, defang: bool = True) -> Cleaned:
    """Undo the tricks used to hide identifiers; `Cleaned.span` maps results back to `text`.

    `defang=False` skips the defanging passes, for a caller that has already found none of
    `MARKERS` and no `has_loose_markers` in the text.
    """
    starts = ends = None
    if not text.isascii():
        edits = _char_edits(text)
        if edits:
            text, starts, ends = _apply(text, edits, None, None)
    if not defang:
        return Cleaned(text, starts, ends)
    passes = _passes_for(text.lower())
    edits = []
    for name in passes:
        for m in _PASSES[name].finditer(text):
            rep = _defang_edit(name, m, text)
            if rep is not None:
                edits.append((m.start(), m.end(), rep))
    if edits:
        edits.sort()
        kept = [edits[0]]
        for edit in edits[1:]:
            if edit[0] >= kept[-1][1]:  # two passes may claim the same characters
                kept.append(edit)
        text, starts, ends = _apply(text, kept, starts, ends)
    return Cleaned(text, starts, ends)
