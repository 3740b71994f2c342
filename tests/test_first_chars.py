"""A first-character lookahead must never change what a pattern matches, only how fast it fails."""

from __future__ import annotations

import re

import pytest

from plugwatch.signals import commerce
from plugwatch.text.first_chars import compile_fast, first_chars

SAMPLES = ["3.5g for $40", "$90/g", "€25 a gram", "USD 300 each", "half zip 🍃", "ounces and z's", "28s 14s 7s",
           "1/8 1/4 and 1/2", "100ct bottle", "5 pills", "eight ball", "2x 5-pack", "R$ 50", "us$10", "10 руб",
           "20 шт", "12:30 at the 2nd gate", "Version 3.11.7", "K 5", "KELVIN \u212a", "a-b]c^d\\e", ""]


@pytest.mark.parametrize("pattern", [r"(?<![\w.])\d+g", r"\bz's|\d", r"[a-c\-\]]x", r"(?:usd\s?)?\d", r"(?:ab|\d)+y"])
def test_the_set_covers_every_first_character_and_matches_are_unchanged(pattern):
    plain, fast = re.compile(pattern, re.I), compile_fast(pattern, re.I)
    assert fast.pattern != plain.pattern  # a lookahead was added
    for text in SAMPLES + [s.upper() for s in SAMPLES]:
        assert [m.span() for m in fast.finditer(text)] == [m.span() for m in plain.finditer(text)]


@pytest.mark.parametrize("pattern", [r"[^a]x", r".x", r"a*", r"(?i:a)b", r"\Wx", r"(?=a)"])
def test_patterns_it_cannot_bound_are_left_as_they_are(pattern):
    assert first_chars(pattern) is None
    assert compile_fast(pattern).pattern == pattern


def test_the_commerce_patterns_get_a_lookahead_and_find_prices_units_and_quantities():
    for name in ("PER_UNIT", "QUANTITY"):
        assert getattr(commerce, name).pattern.startswith("(?=[")
    found = {m.group() for m in commerce.QUANTITY.finditer("3.5g, a half zip, 28s and 100ct")}
    assert found == {"3.5g", "half zip", "28s", "100ct"}
    assert commerce.PER_UNIT.search("$90/g") and commerce._PRICE.search("usd 300")  # normalised text is lowercase
