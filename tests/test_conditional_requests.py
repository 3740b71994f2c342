"""A post that asks whether the reader has a drug ("if you have pills, DM me") asks to buy it (signals/cues.py)."""

import pytest

from plugwatch.detect.detector import Detector
from plugwatch.model import Item, OfferKind
from plugwatch.signals.base import Context
from plugwatch.signals.cues import _conditional_requests, _cue_hits
from plugwatch.signals.drug_terms import drug_terms
from plugwatch.text.normalize import normalize


def conditional_spans(text: str) -> list[str]:
    norm = normalize(text)
    ctx = Context(Item(platform="generic", native_id="t", text=text), norm, [])
    ctx.hits.extend(drug_terms(ctx))
    hits = ctx.hits + _cue_hits(norm.text, False)
    return [norm.text[h.start:h.end] for h in _conditional_requests(norm.text, hits)]


@pytest.mark.parametrize(
    "text, span",
    [
        ("Wenn du Teile hast, schreib mir per DM", "wenn du teile hast"),  # the verb after the drug
        ("Se hai delle pasticche scrivimi in privato", "se hai delle pasticche"),  # a word between
        ("Якщо є меф, напиши в особисті", "якщо є меф"),
        ("Om du har piller, skriv DM", "om du har piller"),
        ("몰리 있으면 연락 주세요", "몰리 있으면"),  # Korean puts the conditional after the drug
        ("LSD'si olan? Snap'ten yaz", "lsd'si olan"),
    ],
)
def test_a_question_whether_the_reader_has_a_drug_is_a_request(text, span):
    assert conditional_spans(text) == [span]


@pytest.mark.parametrize(
    "text",
    [
        "if you have questions, our menu has coke and molly",  # a clause end before the drug
        "if you have any kind of problem with the coke",  # more words between than a question puts there
        "Se alguém tiver interesse em changa, mando pra todo o Brasil",  # the reader's interest: an invitation
        "hafta sonu ekstazi lazım olan yazsın",  # "whoever needs ecstasy, write": the seller's
        "힘내요 마음 편해지는 버섯 있는데 관심 있으면 DM 줘요",  # "I have mushrooms; if interested, DM"
        "giá sỉ Hải Phòng 👇\n💎x10g = 12tr",  # an emoji in a menu is no object of a question
        "Ma ktoś lód? Lodówka padła, a wieczorem grill",  # an everyday word asked for, no contact off the post
        "У кого есть мука? Пеку блины",
    ],
)
def test_an_offer_or_an_aside_is_no_conditional_request(text):
    assert conditional_spans(text) == []


def test_the_detector_reads_such_a_question_as_a_request_not_an_offer():
    detector = Detector.load()
    for text in ("Om du har piller, skriv DM", "Якщо є меф, напиши в особисті", "Si t'as des taz, envoie-moi un DM"):
        item = Item(platform="generic", native_id="t", text=text)
        verdict = detector.verdicts([(item, [])])[0]
        assert not verdict.flagged, text
        assert any(r.meaning == "asks to buy" for r in verdict.reasons) or verdict.kind == OfferKind.REQUEST, text
    offer = Item(platform="generic", native_id="o", text="Pillen 10 voor 40, ik heb er genoeg, ophalen in Rotterdam, DM")
    assert detector.verdicts([(offer, [])])[0].flagged
