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


@pytest.mark.parametrize("text", ["alguém procurando bala pro fds? 💊", "Кому нужен меф в Самаре? Пишите"])
def test_an_invitations_own_verb_is_not_a_request(text):
    # "procurando" and "нужен" are request phrases alone; after "anyone" / "who" they ask what the reader needs.
    assert "cue:invite" in cues(text) and "cue:request" not in cues(text)


@pytest.mark.parametrize("text", ["who has xans need them", "anyone in leeds i'm looking for some bars",
                                  "alguem aqui eu to procurando md", "kto chętny szukam mefu na weekend"])
def test_the_writers_own_need_stays_a_request(text):
    # A request phrase covering the "who", a first-person need after "anyone", or one after a whole invitation.
    assert "cue:request" in cues(text)


@pytest.mark.parametrize("text", ["selling bars rn, hmu", "🔥 Selling percs 10s", "new batch. selling carts all day",
                                  "I am selling xanax, dm me", "we sell shrooms, hit us up"])
def test_the_writers_own_selling_is_a_stock_cue(text):
    # A clause that opens with "selling", or "i'm selling" / "we sell": the writer has some to sell.
    assert "cue:stock" in cues(text)


@pytest.mark.parametrize("text", ["who is selling bars?", "arrested for selling coke", "anyone selling percs?"])
def test_someone_elses_selling_is_no_stock_cue(text):
    assert "cue:stock" not in cues(text)


@pytest.mark.parametrize("text", [
    "Prozessauftakt in Frankfurt: die Angeklagten sollen Kokain verkauft haben, so die Staatsanwaltschaft",
    "La fiscalía pide ocho años de prisión para el acusado",
    "Prokurator skierował akt oskarżenia przeciwko dilerowi",
    "被告人因贩卖毒品被判处有期徒刑",
])
def test_court_reporting_is_news_in_every_language(text):
    # Each language's news cue covers the concepts the English one does: prosecutors, the accused, trials, sentences.
    assert "cue:news" in cues(text)


def test_a_polish_court_word_does_not_read_sad_as_news():
    # "sąd" (court) folds to "sad": cues are matched in every post, so it read English sadness as news.
    assert "cue:news" not in cues("so sad today, miss you")


@pytest.mark.parametrize("text, cue", [
    ("Je cherche un bon livre pour les vacances", "cue:shipping"),  # "livre" is also a book
    ("great post, thanks for sharing", "cue:shipping"),  # the German "post" was matched in English
])
def test_a_word_that_is_everyday_in_another_language_is_no_cue(text, cue):
    assert cue not in cues(text)


@pytest.mark.parametrize("text", ["je livre partout sur Lyon", "livré en 24h", "per Post verschickt"])
def test_french_and_german_delivery_phrases_are_still_shipping_cues(text):
    assert "cue:shipping" in cues(text)


@pytest.mark.parametrize("text, word", [
    ("Bugün hava çok güzel", "cok"),  # Turkish "very", accents stripped: the French slang "cok"
    ("el tren llega tarde", "tren"),  # Spanish "train": the steroid slang "tren"
    ("Ông nội kể chuyện trên núi", "tren"),  # Vietnamese "trên" (on)
])
def test_a_common_word_of_another_language_is_only_an_ambiguous_drug_word(text, word):
    norm = normalize(text).text
    ambiguity = {norm[m.start:m.end]: m.term.ambiguity for m in Vocabulary.default().find(norm)}
    assert ambiguity.get(word) == "high"  # an everyday word: evidence only beside sale talk


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


def _no_rx(text: str) -> int:
    return sum(h.feature == "cue:no_rx" for h in _cue_hits(normalize(text).text, False))


@pytest.mark.parametrize("text", [
    "Xanax 2mg no prescription needed, fast shipping",
    "tramadol 100mg sin receta, envío discreto",
    "Valium ohne Rezept, diskreter Versand",
    "No hassle no script needed, dm",  # a bare "no" before the phrase is not a negation of it
    "we don't ask questions, it's easy: no prescription needed",  # apostrophes are not quotation marks
    "现货 无需处方 顺丰包邮",
    # Each language's other ways of saying it, as the English row has them: "needed", "not required", the
    # other word order, "without a doctor".
    "Tramadol 50, рецепт не нужен, доставка СДЭК",
    "Модафініл, рецепт не потрібен, Нова Пошта",
    "Xanax 1mg, recepta niepotrzebna, wysyłka InPost",
    "Oxycodon 20mg, geen recept nodig, morgen in huis",
    "Alprazolam, kein Rezept nötig, Versand in 24h",
    "Rivotril 2mg, pas besoin d'ordonnance, livraison rapide",
    "Tramadol, no necesitas receta, envío a toda España",
    "Tramadol, khỏi cần đơn, giao trong ngày",
])
def test_a_no_prescription_offer_keeps_its_cue(text):
    assert _no_rx(text) == 1


@pytest.mark.parametrize("text", [
    "We never sell controlled medicines without a prescription.",
    "We don't dispense Adderall without a valid prescription",
    "It is illegal to buy oxycodone without a prescription",
    "If a site sells Xanax 'without prescription', it is breaking the law",  # quoted: mentioned, not offered
    "Warning: emails offering 'Valium, no prescription, overnight delivery' are fake",
    "Nous ne vendons pas de médicaments sans ordonnance",
    "Мы не продаём без рецепта",
    "我们从不卖无需处方的药",
    "Ми ніколи не продаємо без призначення лікаря",
])
def test_a_negated_or_quoted_no_prescription_phrase_is_not_an_offer_cue(text):
    assert _no_rx(text) == 0


def test_session_is_a_messenger_only_where_the_words_around_say_so():
    contact = lambda t: [h.feature for h in _cue_hits(normalize(t).text, False) if h.feature == "cue:contact"]  # noqa: E731
    assert contact("one therapy session cut depressive symptoms") == []
    assert contact("add me on session for the menu") == ["cue:contact"]


@pytest.mark.parametrize(
    "text, cue",
    [
        ("Me quedan setas, 20g por 100€", "cue:stock"),  # selling off what is left
        ("Остались грибы, 20 г за 4000", "cue:stock"),
        ("Znów jest dobra mefa", "cue:stock"),  # back again
        ("Syra 5 lappar 700kr. Över 20 lappar står jag för frakten", "cue:shipping"),  # the seller pays the post
        ("종이 5장 25만원. 20장 이상 주문하시면 배송비는 제가 냅니다", "cue:shipping"),
        ("A chi servono pasticche per sabato? Ne ho parecchie", "cue:invite"),  # an offer as a question
        ("qui a besoin de bonbons pour le week-end ?", "cue:invite"),
    ],
)
def test_small_dealers_stock_and_shipping_words_in_other_languages(text, cue):
    assert cue in cues(text)
