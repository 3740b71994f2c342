"""Whole-word phrase matching over normalised text, one automaton pass.

Used for cue lists; many phrases, short posts: Aho-Corasick finds every phrase
in one pass and a boundary check keeps whole words only ("dm" not in "admin").
Scripts written without spaces (Chinese, Thai) have no boundary to check: "私聊" is found
inside "同城现货私聊", and "dm" right after a Chinese character is a whole word. A Korean phrase
must start a word and may end inside one, before a particle or verb ending ("판매" in "판매합니다").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

import ahocorasick

from plugwatch.text.normalize import is_word_boundary, may_end_word

T = TypeVar("T")
V = TypeVar("V")

_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@dataclass(slots=True)
class PhraseMatch(Generic[T]):
    start: int
    end: int
    phrase: str
    values: tuple[T, ...]


class PhraseMatcher(Generic[T]):
    def __init__(self, entries: Iterable[tuple[str, T]]):
        table: dict[str, list[T]] = {}
        for phrase, value in entries:
            phrase = phrase.strip()
            if phrase:
                table.setdefault(phrase, []).append(value)
        self._auto: ScriptedAutomaton[tuple[T, ...]] = ScriptedAutomaton((p, tuple(v)) for p, v in table.items())
        self._empty = not table

    def find(self, text: str, longest: bool = True) -> list[PhraseMatch[T]]:
        """Whole-word matches; with `longest`, a match inside a longer one is dropped."""
        if self._empty or not text:
            return []
        n = len(text)
        found: list[PhraseMatch[T]] = []
        for end_idx, (phrase, values) in self._auto.iter(text):
            start = end_idx - len(phrase) + 1
            end = end_idx + 1
            # A phrase that starts or ends with a word character needs a boundary there.
            if start > 0 and not is_word_boundary(text[start - 1], phrase[0]):
                continue
            if end < n and not may_end_word(phrase[-1], text[end]):
                continue
            found.append(PhraseMatch(start, end, phrase, values))
        if not longest or len(found) < 2:
            return found
        found.sort(key=lambda m: (m.start, -(m.end - m.start)))
        kept: list[PhraseMatch[T]] = []
        reach = -1
        for m in found:
            if m.end <= reach:
                continue  # inside a longer match already kept
            kept.append(m)
            reach = max(reach, m.end)
        return kept


class ScriptedAutomaton(Generic[V]):
    """An Aho-Corasick automaton of many keys, run as one automaton per script of the keys' first
    characters, each only on a text that holds one of its first characters. The automaton finds a
    character among its root's children by a linear scan: one root with the first characters of every
    language (700) made a pass over an ASCII post twice as slow as a root with the 30 of the ASCII keys.
    `iter` gives what one automaton of all keys gives, in its order: (end index, (key, value)) by end,
    the longest key first."""

    def __init__(self, entries: Iterable[tuple[str, V]]):
        by_script: dict[str, dict[str, V]] = {}
        for key, value in entries:
            by_script.setdefault(_script(key[0]), {})[key] = value
        self.size = sum(map(len, by_script.values()))
        self._ascii = _automaton(by_script.pop("ascii", {}))
        self._scripts = {script: _automaton(keys) for script, keys in by_script.items()}
        self._script_of = {key[0]: script for script, keys in by_script.items() for key in keys}
        self._firsts = frozenset(self._script_of)
        self._has_scripts = bool(self._firsts)

    def __len__(self) -> int:
        return self.size

    def iter(self, text: str) -> list[tuple[int, tuple[str, V]]]:
        out = list(self._ascii.iter(text)) if self._ascii is not None else []
        if not self._has_scripts or text.isascii():
            return out
        # The non-ASCII characters, found by a plain range (a class of the 700 first characters themselves
        # made `re` slower than the automaton it was to spare).
        script_of = self._script_of
        scripts = {script_of[ch] for ch in self._firsts.intersection(_NON_ASCII.findall(text))}
        if not scripts:
            return out
        for script in sorted(scripts):
            out.extend(self._scripts[script].iter(text))
        if len(scripts) > 1 or self._ascii is not None:
            out.sort(key=lambda m: (m[0], -len(m[1][0])))
        return out


def _script(ch: str) -> str:
    """A coarse script of a character: ASCII, Han, Hangul, else its block of 256 code points."""
    code = ord(ch)
    if code < 0x80:
        return "ascii"
    if 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF:
        return "han"
    if 0xAC00 <= code <= 0xD7AF:
        return "hangul"
    return f"block-{code >> 8:x}"


def _automaton(keys: dict[str, V]) -> ahocorasick.Automaton | None:
    if not keys:
        return None
    auto = ahocorasick.Automaton()
    for key, value in keys.items():
        auto.add_word(key, (key, value))
    auto.make_automaton()
    return auto
