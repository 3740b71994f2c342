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


def test_prices_and_weights_in_the_currencies_and_units_of_the_languages_covered():
    # Turkish, Ukrainian, Thai, Vietnamese, Chinese and Arabic price lists had given no price at all.
    assert ("price", "400₺") in commerce_hits("Ekstazi 400₺, Taksim")
    assert ("price", "500 tl") in commerce_hits("Ot 500 TL gram, Bursa")
    assert ("price:per_unit", "200₴/шт") in commerce_hits("200₴/шт, Одеса")
    assert ("price", "500 грн") in commerce_hits("500 грн за 3 грами")
    assert ("price:per_unit", "1,500/จี") in commerce_hits("ไอซ์ 1,500/จี")
    assert ("price", "1,300 บาท") in commerce_hits("5 จีขึ้นไป 1,300 บาท")
    assert ("quantity", "5 จี") in commerce_hits("5 จี ขึ้นไป 1,300 บาท")
    assert ("quantity", "5粒") in commerce_hits("十颗起 5粒")  # no word boundary after a Chinese unit
    assert ("price", "300元") in commerce_hits("冰毒300元一克")  # a number right after a Chinese character
    assert ("price", "200 درهم") in commerce_hits("حشيش 200 درهم للغرام")
    assert ("price:per_unit", "20 zl za gram") in commerce_hits("20 zł za gram")
    assert ("price", "200.000d") in commerce_hits("Giá 200.000đ một gói")  # "đ" folds to "d"
    assert ("price", "1.500.000₫") in commerce_hits("1.500.000₫")
    assert commerce_hits("the 3d movie") == []  # a bare "d" is a currency only after thousands


def test_a_number_after_a_latin_letter_is_still_no_price():
    assert commerce_hits("model x300元") == []
    assert commerce_hits("I have 3 cats and 2 dogs") == []


def test_words_that_also_count_other_things_are_no_price_or_weight():
    assert commerce_hits("ปี 2566 จีนส่งออกข้าวมากขึ้น") == []  # จีน is China, not "G"
    assert commerce_hits("เครือข่าย 5จี เร็วมาก") == []  # 5G
    assert commerce_hits("把蛋糕切成4块") == [] and commerce_hits("3元素") == []  # pieces; an element
    assert commerce_hits("Hôm nay có 5 nghìn người") == []  # thousand
    assert commerce_hits("أكلت 3 حبات تمر") == []  # three dates
    assert commerce_hits("Отримав 3 грамоти") == []  # certificates
    assert commerce_hits("5 tl;dr") == []


def test_menu_lines_read_like_the_normalised_text():
    """Menu lines are the original text lowercased, not casefolded: Turkish "kılo" (dotless ı) and a long ſ
    still make a priced line, as they do in the normalised text the other patterns read."""
    features = [f for f, _ in commerce_hits("Menü:\nEsrar 1 kılo\nKokain 2 kılo\nMDMA 3 kılo")]
    assert features.count("quantity") == 3 and "menu" in features
    assert "menu" in [f for f, _ in commerce_hits("list\nfoo 10 uſd\nbar 20 uſd\nbaz 30 uſd")]


def test_everyday_words_for_pills_count_as_a_quantity_and_a_leaflets_do_not():
    assert ("quantity", "20 pillen") in commerce_hits("Laatste 20 pillen, wie wil?")
    assert ("quantity", "10 piller") in commerce_hits("har 10 piller kvar")
    assert ("quantity", "30 pastillas") in commerce_hits("Tengo 30 pastillas")
    # A package leaflet gives its pill count in the formal word, as an English one says "tablets".
    assert commerce_hits("Packung mit 20 Tabletten") == []
    assert commerce_hits("boîte de 30 comprimés") == []
