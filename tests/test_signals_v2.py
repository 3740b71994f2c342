"""Detector v2 signals (issue 18): unspaced scripts, new languages' inflections, invitations, drug handles."""

import pytest

from plugwatch.signals.cues import _cue_hits
from plugwatch.signals.handles import drug_in_handle
from plugwatch.text.normalize import is_word_boundary, normalize
from plugwatch.text.phrases import PhraseMatcher
from plugwatch.text.vocabulary import Vocabulary


def found(text: str) -> dict[str, str]:
    norm = normalize(text).text
    return {norm[m.start:m.end]: m.term.category for m in Vocabulary.default().find(norm)}


def cues(text: str) -> set[str]:
    return {h.feature for h in _cue_hits(normalize(text).text, in_bio=False)}


@pytest.mark.parametrize(
    "text, word, category",
    [
        ("同城出冰毒私聊", "冰毒", "stimulant"),  # Chinese: no spaces around the term
        ("买xanax吗", "xanax", "benzodiazepine"),  # a Latin word between Chinese characters is a word
        ("mam trawke na stanie", "trawke", "cannabis"),  # Polish case ending
        ("esrari var mi", "esrari", "cannabis"),  # Turkish case ending
        ("عندي الحشيش", "الحشيش", "cannabis"),  # Arabic article written onto the word
    ],
)
def test_terms_are_found_in_new_languages_and_unspaced_scripts(text, word, category):
    assert found(text).get(word) == category


def test_a_term_of_an_unspaced_script_needs_a_boundary_where_it_meets_a_spaced_letter():
    assert "k粉" in found("有k粉")
    assert found("ok粉") == {}
    assert is_word_boundary("买", "x") and not is_word_boundary("a", "b")


def test_phrases_are_found_inside_chinese_and_stay_whole_words_in_latin():
    matcher = PhraseMatcher([("私聊", "contact"), ("dm", "contact")])
    assert [m.phrase for m in matcher.find("同城现货私聊")] == ["私聊"]
    assert [m.phrase for m in matcher.find("现货dm")] == ["dm"]
    assert matcher.find("admin") == []


def test_new_language_cue_phrases_are_normalised_like_the_text():
    assert {"cue:stock", "cue:contact", "cue:shipping"} <= cues("同城现货私聊")
    assert "cue:shipping" in cues("Kapıya teslim")  # the phrase file spells it with ı; the text is folded


@pytest.mark.parametrize("text", ["who needs carts?", "anyone in leeds want pressies", "looking for tabs for the festival? dm"])
def test_an_offer_asked_as_a_question_is_an_invitation(text):
    assert "cue:invite" in cues(text)


@pytest.mark.parametrize("text", ["need xans asap, anyone?", "who has carts, i need some"])
def test_a_request_is_not_an_invitation(text):
    assert "cue:invite" not in cues(text)


def test_a_handle_that_names_a_drug_is_evidence_and_an_ordinary_one_is_not():
    assert drug_in_handle("percs_n_bars").category == "opioid"
    assert drug_in_handle("xanplug420") is not None  # the dealer word
    assert drug_in_handle("john_smith") is None
    assert drug_in_handle("the_weather_guy") is None  # "weed" is not inside, and short words do not count


@pytest.mark.parametrize("text, word", [("cooooke", "cooke"), ("percsss", "percss"), ("molllly", "molly")])
def test_a_stretched_single_letter_the_normaliser_keeps_doubled_still_names_the_drug(text, word):
    # The normaliser squeezes a run of e, o or l (or a final s, f, z) to two: "weeeed" is weed.
    assert word in found(text)


def test_everyday_words_are_not_stretched_into_terms():
    assert found("tell me, the boot is cool") == {}
