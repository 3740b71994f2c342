"""Prices beside weights: inline price lists are what an offer prices, whatever words surround it."""

from plugwatch.detect.detector import Detector
from plugwatch.model import Item


def commerce_hits(text: str) -> list[tuple[str, str]]:
    ctx = Detector.analyse(Item(platform="x", native_id="1", text=text), [])
    return [(h.feature, ctx.norm.text[h.start:h.end]) for h in ctx.hits if h.signal == "commerce"]


def pairs(text: str) -> list[str]:
    return [span for feature, span in commerce_hits(text) if feature == "price:quantity"]


def test_a_weight_or_count_is_paired_with_the_price_beside_it():
    assert pairs("🍃 10g 80€, ❄️ 1g 70€. Livraison Paris") == ["10g 80€", "1g 70€"]
    assert pairs("zips $180, qp $650. sameday drop") == ["zips $180", "qp $650"]
    assert pairs("Amnesia Haze 5g €50 / 10g €90") == ["5g €50", "10g €90"]
    assert pairs("3.5g for $45") == ["3.5g for $45"]
    assert pairs("10 for $100, 50 for $400") == ["10 for $100", "50 for $400"]


def test_a_price_and_a_weight_apart_are_not_a_pair():
    assert pairs("police seized 2kg of cocaine worth $80,000") == []
    assert pairs("the 10g bag I bought last year was awful, paid $80 for nothing") == []


def test_a_currency_sign_before_the_next_number_is_not_this_numbers_currency():
    # "1/8 $40": the "$" is the price of the eighth, not the currency of "8".
    assert ("price", "$40") in commerce_hits("1/8 $40, 1/4 $75")
    assert ("price", "8 $") not in commerce_hits("1/8 $40, 1/4 $75")
    assert ("price", "80€") in commerce_hits("80€ 5g")


def test_quantities_written_as_words_count_without_any_digit():
    # Once only texts with a digit (or "zip", "qp", "eighth") were searched, so these had no quantity.
    assert ("quantity", "half pound") in commerce_hits("Half Pound - AAA+")
    assert ("quantity", "quarter pound") in commerce_hits("quarter pound of the good stuff left")
    assert commerce_hits("no weights or prices here") == []
