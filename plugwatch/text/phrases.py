"""Whole-word phrase matching over normalised text, one automaton pass.

Used for cue lists; many phrases, short posts: Aho-Corasick finds every phrase
in one pass and a boundary check keeps whole words only ("dm" not in "admin").
Scripts written without spaces (Chinese, Thai) have no boundary to check: "私聊" is found
inside "同城现货私聊", and "dm" right after a Chinese character is a whole word. A Korean phrase
must start a word and may end inside one, before a particle or verb ending ("판매" in "판매합니다").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

import ahocorasick

from plugwatch.text.normalize import is_word_boundary, may_end_word

T = TypeVar("T")


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
        self._auto = ahocorasick.Automaton()
        for phrase, values in table.items():
            self._auto.add_word(phrase, (phrase, tuple(values)))
        self._empty = not table
        if not self._empty:
            self._auto.make_automaton()

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
