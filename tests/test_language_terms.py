"""Drug names in the languages added for issue 18, under their inflected forms."""

from plugwatch.text.normalize import normalize
from plugwatch.text.vocabulary import Vocabulary


def _terms(text: str) -> set[str]:
    return {m.term.term for m in Vocabulary.default().find(normalize(text).text)}


def test_ukrainian_endings_on_a_shared_slang_word():
    assert "гашиш" in _terms("є гашиші та інше")  # Ukrainian locative -і
    assert "трава" in _terms("з травою все ок")  # Ukrainian instrumental -ою


def test_new_street_names():
    assert "buszek" in _terms("sprzedam buszek")
    assert "kristal" in _terms("kristal taze geldi")
    assert "ยาม้า" in _terms("มียาม้าพร้อมส่ง")
