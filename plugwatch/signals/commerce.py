"""Prices, quantities and menus: the arithmetic of a sale."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator

from plugwatch.signals.base import Context, Hit, Signal
from plugwatch.text.first_chars import compile_fast

_NUM = r"\d{1,6}(?:[.,]\d{1,3})?"
# The currencies and units of the languages covered: a Turkish, Ukrainian, Thai or Vietnamese price
# list ("Ot 500 TL gram", "200₴/шт", "ไอซ์ 1,500/จี") had given no price or quantity at all. Words that also
# count other things are left out: Vietnamese nghìn / triệu (thousand, million), Arabic حبة (a piece, a grain).
_SYMBOLS = "$€£₽¥₺₴₫฿₹₪₩"
_CUR_BEFORE = rf"(?:[{_SYMBOLS}]|usd\s?|eur\s?|r\$\s?|us\$)"
# A symbol followed by a digit is the next price's ("1/8 $40"), not this number's currency.
_CUR_AFTER = (
    # 元 and 块 are also "element" (元素) and "piece" (切成4块): 块 only as money (块钱) or before a space or "/".
    rf"(?:\s?(?:[{_SYMBOLS}円](?!\d)|元(?![素\d])|块(?=钱|\s|/)|usd|eur|euros?|dollars?|bucks|quid|pounds?|rub|"
    r"руб\w*|р\b|reais|zl|kr(?:onor|ona)?\b|chf|btc|eth|usdt|k\b|tl\b(?!;)|lira|грн|гривн\w*|гривень|uah|pln|zloty|vnd|dong\b|"
    r"baht|yuan|rmb|บาท|만\s?원|원|rb\b|ribu\b|rupiah|spann\b|shekels?|שקל\w*|ש[\"״]ח|שח\b|درهم|دراهم|دينار|ريال|جنيه|ليرة|ليره|دولار|يورو))"
)
# The patterns below read normalised (casefolded) text: lowercase and case-sensitive, which runs about
# twice as fast as re.I. NFKC turns the micro sign into a Greek mu, hence "µg|μg".
_UNIT = (
    r"(?:g|gr|grs|gram|grams|gramm|gramme|grammes|gramos|grammi|kg|kilo|kilos|oz|ozs|ounce|ounces|lb|lbs|"
    r"mg|mcg|ug|µg|μg|ml|ct|count|pcs|pc|pills?|tabs?|caps?|bars?|carts?|pens?|vials?|strips?|blotters?|"
    r"гр|грам(?:м\w*|и|ів|а|ах|ам)?|г|кг|мг|мл|шт|таб\w*|szt|vien|غرام|غرامات|جرام|جرامات|غم|قرص|اقراص|أقراص|"
    # Other languages' everyday words for pills, as "pills" and "tabs" are. Not the words of a package leaflet
    # ("Tabletten", "comprimés", "comprimidos", as not "tablets"): every leaflet gives its pill count.
    r"pastillas|pastis|pillen|piller|pasticche|butir)"
)
# Units of scripts written without spaces between words: no word boundary can follow them ("5 จี ขึ้นไป",
# "300元一克" reads "一克" after the price), and a number in such text may follow a letter directly.
_UNIT_UNSPACED = r"(?:กรัม|ขีด|เม็ด|แผง|克|粒|颗|グラム|錠)"
# จี ("G") only where no Thai letter follows (จีน is China, จีบ and จี้ other words), and as a weight only after
# a space ("5 จี"; "5จี" is the network) or as the unit of a per-unit price ("1,500/จี").
_THAI_G = r"จี(?![\u0e00-\u0e7f])"
_UNSPACED_BEFORE = r"(?<=[\u0e00-\u0e4f\u0e5a-\u0e7f\u3040-\u30ff\u3400-\u9fff])"  # not after a Thai digit
# Vietnamese prices are written "200.000đ" (folded to "d"): a bare "d" is a currency only after thousands.
_THOUSANDS_DONG = r"(?<![\w.,])\d{1,3}(?:[.,]\d{3})+\s?(?:d\b|₫)"
# Rupiah are written "Rp 150.000", "Rp150rb" or "rp 2jt": thousands, so "rp 5" (role-play) is not one.
_RUPIAH = r"(?<![\w.])rp\.?\s?(?:\d{1,3}(?:[.,]\d{3})+|\d{4,9}|\d{1,4}(?:[.,]\d)?\s?(?:rb|k|jt)\b)"
_PRICE = compile_fast(rf"(?<![\w.]){_CUR_BEFORE}{_NUM}(?:\s?k)?\b|(?:(?<![\w.])|{_UNSPACED_BEFORE}){_NUM}{_CUR_AFTER}|"
                      rf"{_THOUSANDS_DONG}|{_RUPIAH}")
PER_UNIT = compile_fast(
    rf"(?:{_CUR_BEFORE}?{_NUM}{_CUR_AFTER}?)\s?(?:/|per|a|each|por|le|pro|al|per\s|за|za)\s?"
    rf"(?:(?:{_UNIT}|zip|qp|hp|p|each|ea|unit|gram)\b|{_UNIT_UNSPACED}|{_THAI_G})",
)
# One "not after a letter or digit" check up front for all branches but the one after a Chinese, Japanese or
# Thai character (those are letters too): re tries each branch at each position, so this halves the cost.
QUANTITY = compile_fast(
    rf"(?<!\w)(?:(?<!\.){_NUM}\s?{_UNIT}(?!\w)|(?<!\.){_NUM}(?:\s?{_UNIT_UNSPACED}|\s{_THAI_G})|"
    r"(?<!\.)\d{1,5}\s?(?:x|-ct|-count|-pack)(?!\w)|"
    r"(?:lbs?|ozs?|half\s?(?:pound|lb|p)|quarter\s?(?:pound|lb|p)|pounds?\s+of|zips?|qps?|hps?|half\s?zips?|eighths?|8ths?|8\s?balls?|eight\s?balls?|quarters?|onions?|elbows?|bricks?|"
    r"1/8|1/4|1/2|3\.5s?|7s|14s|28s|100ct|dubs?|dimes?|nicks?|z's)\b)|"
    rf"{_UNSPACED_BEFORE}{_NUM}(?:\s?{_UNIT_UNSPACED}|\s{_THAI_G})",
)
# Menu lines are the original text's, only lowercased, so re.I stays: it also reads "kılo" (Turkish dotless
# ı) and "uſd" as the normalised text would.
_MENU_LINE = compile_fast(rf"(?:{_CUR_BEFORE}{_NUM}|{_NUM}{_CUR_AFTER}|{_NUM}\s?{_UNIT}\b)", re.I)
_DIGIT = re.compile(r"\d")
# What may stand between a weight or count and its price in an inline list ("10g 80€", "1/8 - $40",
# "3.5g for $45", "€50 / 10g"): separators and the word for "for" of the languages covered.
_PAIR_GAP = re.compile(r"[\s:=\-–—@/|,(]{0,4}(?:(?:for|a|por|voor|fur|für|per|za|за|pour|için|icin)[\s:]{1,2})?")
_PAIR_GAP_MAX = 8
_COUNT_FOR = re.compile(r"(?<![\w.,/])\d{1,4}\s?(?:for|por|voor|fur|für|pour|za|за|x)\s?$")  # "10 for $100"
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
    hits: list[Hit] = []
    # Quantities may be words ("half pound", "an eighth", "two zips"); prices and menus need a digit.
    quantities = list(QUANTITY.finditer(text))
    if not quantities and not _DIGIT.search(text):
        return []
    for m in digit_led(PER_UNIT, text):
        hits.append(Hit("commerce", "price:per_unit", "price per unit", m.start(), m.end()))
    prices = list(digit_led(_PRICE, text))
    for m in prices:
        hits.append(Hit("commerce", "price", "price", m.start(), m.end()))
    for m in quantities:
        hits.append(Hit("commerce", "quantity", "quantity or weight", m.start(), m.end()))
    if prices:
        hits.extend(_priced_quantities(text, quantities, prices))
    # Menus are line-structured: count lines of the original text that carry a price or weight.
    original = ctx.norm.original
    if original.count("\n") >= 2:
        priced = sum(1 for line in original.lower().splitlines() if digit_led_search(_MENU_LINE, line))
        if priced >= 3:
            hits.append(Hit("commerce", "menu", f"menu: {priced} priced lines"))
    return hits


def _priced_quantities(text: str, quantities: list[re.Match[str]], prices: list[re.Match[str]]) -> list[Hit]:
    """A weight or count with its price right beside it: an inline price list ("10g 80€, 1g 70€",
    "zips $180, qp $650"). Shops price items, not grams; warnings and news quote a price, rarely a list
    of them, so this carries the offer where warning words or a short text leave little else."""
    hits = []
    starts, ends = [p.start() for p in prices], [p.end() for p in prices]  # both ascending: no overlaps
    for q in quantities:
        after = prices[i:i + 1] if (i := bisect_left(starts, q.end())) < len(prices) else []
        before = prices[j - 1:j] if (j := bisect_right(ends, q.start())) else []
        for p in after + before:  # "10g 80€" is the usual order
            a, b = (q.end(), p.start()) if p.start() >= q.end() else (p.end(), q.start())
            if b - a <= _PAIR_GAP_MAX and _PAIR_GAP.fullmatch(text, a, b):
                start, end = min(q.start(), p.start()), max(q.end(), p.end())
                hits.append(Hit("commerce", "price:quantity", "weight or count with its price", start, end))
                break
    for p in prices:
        if (m := _COUNT_FOR.search(text, max(0, p.start() - 10), p.start())) is not None:
            hits.append(Hit("commerce", "price:quantity", "weight or count with its price", m.start(), p.end()))
    return hits


SIGNAL = Signal("commerce", cost=2, run=commerce,
                features=("price", "price:per_unit", "price:quantity", "quantity", "menu"))
