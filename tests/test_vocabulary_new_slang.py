"""Thai, Ukrainian, Vietnamese and Turkish street names added to curated_terms.tsv.

Each added term must be found in a realistic offer with its category; an everyday sentence full of
the look-alike words we marked `high` (ice, salt, cough syrup, peanut candy, sleeping pill...) must
not produce a single low- or medium-ambiguity match.
"""

from __future__ import annotations

import pytest

from plugwatch.text.normalize import normalize
from plugwatch.text.vocabulary import Vocabulary

FOUND = [
    # Thai (matched inside running text)
    ("th", "มีของพร้อมส่ง เมธแอมเฟตามีน ทักไลน์", "เมธแอมเฟตามีน", "stimulant"),
    ("th", "น้ำกระท่อมต้มสด ลิตรละ 200 สั่งได้เลย", "น้ํากระท่อม", "other"),
    ("th", "มีโรฮิปนอลส่งด่วนทั่วประเทศ ทักแชท", "โรฮิปนอล", "benzodiazepine"),
    ("th", "อินดิก้าเกรดพรีเมียม ทีเอชซี 25% พร้อมส่ง", "ทีเอชซี", "cannabis"),
    # Ukrainian (case endings matched)
    ("uk", "Продам альфапвп, закладки по Києву", "альфапвп", "nps"),
    ("uk", "Є кокаін, пишіть у телеграм", "кокаін", "cocaine"),
    ("uk", "Свіжа маріхуана в наявності, доставка", "маріхуана", "cannabis"),
    ("uk", "Маю ефедрону небагато, пиши в лс", "ефедрон", "stimulant"),
    # Vietnamese (accents stripped by the normaliser)
    ("vi", "Có sẵn hàng ke loại 1, inbox giá", "hang ke", "ketamine"),
    ("vi", "Viên lắc hàng Đức giá tốt, ib ngay", "vien lac", "mdma"),
    ("vi", "Bán nha phiến nguyên chất, giao tận nơi", "nha phien", "opioid"),
    ("vi", "#matuy #bongcuoi giao nhanh", "bongcuoi", "other"),
    # Turkish (ASCII-folded, case endings matched)
    ("tr", "Stokta sentetik esrar var, dm atın", "sentetik esrar", "nps"),
    ("tr", "Parti hapı satılık, kapıda teslim", "parti hapi", "mdma"),
    ("tr", "Eroyin ve afyon sakızı elde, yaz", "eroyin", "opioid"),
    ("tr", "Trenbolon kür paketleri stokta", "trenbolon", "steroid"),
]

EVERYDAY = [
    ("th", "วันนี้อากาศร้อนมาก กินน้ำแข็งใสกับเพื่อน แล้วแม่ซื้อยาแก้ไอให้ลูกที่ร้านขายยา"),
    ("uk", "Купила м'ясо індика та солі на ринку, швидкість доставки чудова"),
    ("vi", "Cần xả hàng gấp, kẹo lạc ngon, quả bóng có vẻ đẹp, kệ sách giá rẻ"),
    ("tr", "Bu akşam uyku hapı almadan uyuyamadım, bahçeye sentetik çim serdik, hava buz gibi"),
]


def _matches(text: str):
    norm = normalize(text).text
    return norm, Vocabulary.default().find(norm)


@pytest.mark.parametrize(("lang", "text", "term", "category"), FOUND, ids=[f"{c[0]}-{c[2]}" for c in FOUND])
def test_new_slang_is_found(lang: str, text: str, term: str, category: str) -> None:
    norm, found = _matches(text)
    hits = [m for m in found if m.term.term == term and m.term.category == category]
    assert hits, f"{term!r} ({category}) not found in {norm!r}: {[(m.term.term, m.term.category) for m in found]}"
    assert all(m.term.lang == lang for m in hits)
    assert all(norm[m.start:m.end].strip() for m in hits)


@pytest.mark.parametrize(("lang", "text"), EVERYDAY, ids=[c[0] for c in EVERYDAY])
def test_everyday_sentence_has_no_confident_match(lang: str, text: str) -> None:
    norm, found = _matches(text)
    confident = [(norm[m.start:m.end], m.term.term, m.term.ambiguity) for m in found if m.term.ambiguity != "high"]
    assert not confident, f"everyday {lang} sentence matched {confident}"
