"""Stretched letters in cue phrases and multi-word terms (issue 18, the "repeat" evasion).

The normaliser squeezes a stretched e, o or l to two letters ("meeeenu" -> "meenu"), so a phrase
must also be known under that doubled form, as single terms already were."""

from plugwatch.signals.cues import _cue_hits
from plugwatch.text.normalize import normalize
from plugwatch.text.vocabulary import Vocabulary, stretched_forms


def _cues(text: str) -> set[str]:
    return {h.feature for h in _cue_hits(normalize(text).text, False)}


def test_stretched_cue_phrases_still_match():
    assert "cue:contact" in _cues("dm for meeeenu")
    assert "cue:shipping" in _cues("i deeeliver tonight")
    assert "cue:contact" in _cues("my teeeelegram")


def test_unstretched_text_matches_as_before():
    assert "cue:contact" in _cues("dm for menu")
    assert _cues("lovely weather today") == set()


def test_each_word_of_a_phrase_is_stretched_on_its_own():
    assert stretched_forms("dm for menu") == ["dm for meenu"]
    assert "golden teeacher" in stretched_forms("golden teacher")
    assert stretched_forms("dm") == []


def test_multi_word_term_under_a_stretched_letter():
    terms = {m.term.term for m in Vocabulary.default().find(normalize("goldeeeen teachers caps").text)}
    assert any(t.startswith("golden teacher") for t in terms), terms
