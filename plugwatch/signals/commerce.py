"""Prices, quantities and menus: the arithmetic of a sale."""

from __future__ import annotations

import re

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


def commerce(ctx: Context) -> list[Hit]:
    """Prices, per-unit prices, quantities and menu-like price lists."""
    text = ctx.norm.text
    if not _DIGIT.search(text) and "zip" not in text and "qp" not in text and "eighth" not in text:
        return []
    hits: list[Hit] = []
    for m in PER_UNIT.finditer(text):
        hits.append(Hit("commerce", "price:per_unit", "price per unit", m.start(), m.end()))
    for m in _PRICE.finditer(text):
        hits.append(Hit("commerce", "price", "price", m.start(), m.end()))
    for m in QUANTITY.finditer(text):
        hits.append(Hit("commerce", "quantity", "quantity or weight", m.start(), m.end()))
    # Menus are line-structured: count lines of the original text that carry a price or weight.
    original = ctx.norm.original
    if original.count("\n") >= 2:
        priced = sum(1 for line in original.lower().splitlines() if _MENU_LINE.search(line))
        if priced >= 3:
            hits.append(Hit("commerce", "menu", f"menu: {priced} priced lines"))
    return hits


SIGNAL = Signal("commerce", cost=2, run=commerce, features=("price", "price:per_unit", "quantity", "menu"))
