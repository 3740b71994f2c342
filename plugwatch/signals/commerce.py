"""Prices, quantities and menus: the arithmetic of a sale."""

from __future__ import annotations

import re
from collections.abc import Iterator

from plugwatch.signals.base import Context, Hit, Signal
from plugwatch.text.first_chars import compile_fast

_NUM = r"\d{1,6}(?:[.,]\d{1,3})?"
_CUR_BEFORE = r"(?:[$€£₽¥]|usd\s?|eur\s?|r\$\s?|us\$)"
_CUR_AFTER = r"(?:\s?(?:[$€£₽¥]|usd|eur|euros?|dollars?|bucks|quid|pounds?|rub|руб\w*|р\b|reais|zl|kr|chf|btc|eth|usdt|k\b))"
_UNIT = (
    r"(?:g|gr|grs|gram|grams|gramm|gramme|grammes|gramos|grammi|kg|kilo|kilos|oz|ozs|ounce|ounces|lb|lbs|"
    r"mg|mcg|ug|µg|ml|ct|count|pcs|pc|pills?|tabs?|caps?|bars?|carts?|pens?|vials?|strips?|blotters?|"
    r"гр|грамм\w*|г|шт|таб\w*)"
)
_PRICE = compile_fast(rf"(?<![\w.]){_CUR_BEFORE}{_NUM}(?:\s?k)?\b|(?<![\w.]){_NUM}{_CUR_AFTER}", re.I)
PER_UNIT = compile_fast(
    rf"(?:{_CUR_BEFORE}?{_NUM}{_CUR_AFTER}?)\s?(?:/|per|a|each|por|le|pro|al|per\s|за)\s?(?:{_UNIT}|zip|qp|hp|p|each|ea|unit|gram)\b",
    re.I,
)
QUANTITY = compile_fast(
    rf"(?<![\w.]){_NUM}\s?{_UNIT}(?!\w)|(?<![\w.])\d{{1,5}}\s?(?:x|-ct|-count|-pack)(?!\w)|"
    r"\b(?:lbs?|ozs?|half\s?(?:pound|lb|p)|quarter\s?(?:pound|lb|p)|pounds?\s+of|zips?|qps?|hps?|half\s?zips?|eighths?|8ths?|8\s?balls?|eight\s?balls?|quarters?|onions?|elbows?|bricks?|"
    r"1/8|1/4|1/2|3\.5s?|7s|14s|28s|100ct|dubs?|dimes?|nicks?|z's)\b",
    re.I,
)
_MENU_LINE = compile_fast(rf"(?:{_CUR_BEFORE}{_NUM}|{_NUM}{_CUR_AFTER}|{_NUM}\s?{_UNIT}\b)", re.I)
_DIGIT = re.compile(r"\d")
# Every match of PER_UNIT, _PRICE and _MENU_LINE has a digit (of _NUM) at most DIGIT_LEAD characters after
# its start: the longest currency written before a number ("usd ", "eur ") is four characters.
DIGIT_LEAD = 4


def digit_led(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """`pattern.finditer(text)`, for a pattern each match of which has a digit within DIGIT_LEAD
    characters of its start: each search starts DIGIT_LEAD characters before the next digit instead of
    trying every position of the words before it. Same matches in the same order: no match can start
    earlier, and the next search starts where the last match ended, as finditer's does (no match is
    empty). `pattern.search(text, pos)` sees the text before `pos`, so lookbehinds and word boundaries
    read as in a search from the start."""
    pos = 0
    while (digit := _DIGIT.search(text, pos)) is not None:
        m = pattern.search(text, max(pos, digit.start() - DIGIT_LEAD))
        if m is None:
            return
        yield m
        pos = m.end()


def digit_led_search(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """`pattern.search(text)` for the patterns `digit_led` takes."""
    return next(digit_led(pattern, text), None)


def commerce(ctx: Context) -> list[Hit]:
    """Prices, per-unit prices, quantities and menu-like price lists."""
    text = ctx.norm.text
    if not _DIGIT.search(text) and "zip" not in text and "qp" not in text and "eighth" not in text:
        return []
    hits: list[Hit] = []
    for m in digit_led(PER_UNIT, text):
        hits.append(Hit("commerce", "price:per_unit", "price per unit", m.start(), m.end()))
    for m in digit_led(_PRICE, text):
        hits.append(Hit("commerce", "price", "price", m.start(), m.end()))
    for m in QUANTITY.finditer(text):
        hits.append(Hit("commerce", "quantity", "quantity or weight", m.start(), m.end()))
    # Menus are line-structured: count lines of the original text that carry a price or weight.
    original = ctx.norm.original
    if original.count("\n") >= 2:
        priced = sum(1 for line in original.lower().splitlines() if digit_led_search(_MENU_LINE, line))
        if priced >= 3:
            hits.append(Hit("commerce", "menu", f"menu: {priced} priced lines"))
    return hits


SIGNAL = Signal("commerce", cost=2, run=commerce, features=("price", "price:per_unit", "quantity", "menu"))
