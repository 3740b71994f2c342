"""Terms and cue phrases where words are not kept apart by spaces: Korean particles and endings
attached to a word, Thai and Japanese words that hold a shorter term, and the prices of the
languages added in the ninth round (won, yen, rupiah, shekel, Swedish slang for kronor), and Hebrew
prefixes written onto a term."""

import pytest

from plugwatch.signals.commerce import _PRICE, QUANTITY
from plugwatch.text.normalize import normalize
from plugwatch.text.phrases import PhraseMatcher
from plugwatch.text.vocabulary import Term, Vocabulary


def _found(vocab: Vocabulary, text: str) -> list[str]:
    return [m.term.term for m in vocab.find(normalize(text).text)]


def test_korean_term_takes_a_particle_but_must_start_a_word():
    vocab = Vocabulary([Term("대마", "cannabis", "cannabis", "low", "ko", "street")])
    assert _found(vocab, "대마를 팝니다") == ["대마"]  # object particle attached
    assert _found(vocab, "대마 있어요") == ["대마"]
    assert _found(vocab, "고대마을 축제") == []  # inside another word: no start of word


def test_korean_cue_phrase_matches_a_conjugated_verb():
    cues = PhraseMatcher([("판매", "selling"), ("dm", "contact")])
    assert [m.phrase for m in cues.find("아이스 판매합니다 dm")] == ["판매", "dm"]
    assert cues.find("재판매 금지") == []  # "resale": the stem is not where the word starts
    assert cues.find("admin") == []  # Latin words still need both boundaries


def test_everyday_word_takes_the_span_of_the_term_inside_it():
    terms = [Term("ยาเค", "ketamine", "ketamine", "low", "th", "street"),
             Term("アイス", "methamphetamine", "stimulant", "high", "ja", "street")]
    vocab = Vocabulary(terms, everyday=("ยาเคมีบำบัด", "アイスクリーム"))
    assert _found(vocab, "ผู้ป่วยได้รับยาเคมีบำบัดครบแล้ว") == []  # chemotherapy
    assert _found(vocab, "มียาเคพร้อมส่ง") == ["ยาเค"]
    assert _found(vocab, "アイスクリーム食べたい") == []
    assert _found(vocab, "アイスあります、手押し") == ["アイス"]
    with pytest.raises(ValueError, match="blocks nothing"):  # a spaced word no term derives has its boundaries already
        Vocabulary(terms, everyday=("ice cream",))


def test_a_derived_form_that_is_an_everyday_word_is_not_matched():
    # Polish "herę" (heroin) folds to "here"; Spanish "barrato" squeezes to "barato" (cheap).
    terms = [Term("hera", "heroin", "opioid", "medium", "pl", "street"),
             Term("barrato", "cocaine", "cocaine", "medium", "es", "street")]
    vocab = Vocabulary(terms, everyday=("here", "barato"))
    assert _found(vocab, "i am here, muy barato") == []
    assert _found(vocab, "mam hery, barrato") == ["hera", "barrato"]
    assert _found(Vocabulary(terms), "i am here") == ["hera"]  # what the list is for


def test_shipped_everyday_words_keep_common_words_out_of_the_drug_terms():
    vocab = Vocabulary.default()
    for text in ("i am here now", "muy barato hoy", "lip gloss", "she cooks dinner",
                 "the bare minimum", "el precio sube", "pike place market", "a zany idea"):
        assert _found(vocab, text) == [], text
    assert _found(vocab, "kupię hery") == ["hera"]


def test_shipped_everyday_words_mask_thai_look_alikes():
    vocab = Vocabulary.default()
    assert "ยาเค" not in _found(vocab, "คุณแม่เริ่มให้ยาเคมีบำบัดรอบสอง")
    assert "ยาอี" not in _found(vocab, "หมอให้กินยาอีกสองสัปดาห์")
    assert {"ยาเค", "ยาอี"} <= set(_found(vocab, "ยาเค ยาอี พร้อมส่ง"))


def test_won_yen_and_rupiah_prices():
    def prices(text: str) -> list[str]:
        return [m.group() for m in _PRICE.finditer(normalize(text).text)]  # signals read normalised text

    assert prices("아이스 1g 50만원") == ["50만원"]
    assert prices("手押し 1g 15000円") == ["15000円"]
    assert prices("gele 1gr 150rb, Rp 1.500.000 / 10gr") == ["150rb", "rp 1.500.000"]
    assert prices("rp 5 minutes before the raid") == []  # role-play, not rupiah
    assert [m.group() for m in QUANTITY.finditer("エクスタシー 10錠")] == ["10錠"]


def test_shekel_and_krona_prices():
    def prices(text: str) -> list[str]:
        return [m.group() for m in _PRICE.finditer(normalize(text).text)]

    assert prices('גרם ב-120 שקל, 100 ש"ח למשלוח') == ["120 שקל", '100 ש"ח']
    assert prices("1g 200 spänn, 5g 900 kronor") == ["200 spann", "900 kronor"]


def test_hebrew_term_under_its_prefixes():
    vocab = Vocabulary([Term("גראס", "cannabis", "cannabis", "medium", "he", "street")])
    assert _found(vocab, "יש והגראס הכי טוב") == ["גראס"]  # "and the" written onto the word
    assert _found(vocab, "משלוחים של גראס") == ["גראס"]
