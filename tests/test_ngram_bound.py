"""Items without evidence: the cheap estimate of the text stage's score, and what the detector does with it."""

from __future__ import annotations

import numpy as np

from plugwatch.detect import Detector
from plugwatch.detect.detector import has_evidence, model_text
from plugwatch.detect.features import feature_matrix
from plugwatch.detect.ngram_bound import MARGIN, NgramBound
from plugwatch.model import Account, Item

# Evidence-free texts, offers in words no list holds and ordinary posts, in several languages and lengths.
TEXTS = [
    "send £ by bank first, then I post the bud 📮", "O's of mids for 100, Philly", "hit the link, everything's there 🔗",
    "good morning everyone, lovely weather today", "buenas noches, hasta mañana", "who's coming to the match on sunday?",
    "ich hab heute keine Zeit, morgen vielleicht", "my cat knocked the plant off the shelf again",
    "Qualcuno ha esperienza con il trasloco da Milano a Berlino? Consigli su ditte affidabili?",
    "the the the the the the the the the the the the", "",
    "🙂🙂🙂", "new phone who dis", "tap in for the good stuff, you know where to find me",
    "Generic Kemadrin is used for treating Parkinson disease. 495 ... More Info",
    "Search by letter: 6016 A 6017 B 6018 C 6019 D 6020 E 6021 F",
]


def _contexts(detector: Detector, texts: list[str]):
    ctxs = [detector.analyse(Item("x", str(i), t), []) for i, t in enumerate(texts)]
    return [c for c in ctxs if not has_evidence(c)]


def test_estimate_passes_every_text_the_text_stage_would_doubt_or_flag(detector):
    m = detector.model
    ctxs = _contexts(detector, TEXTS)
    assert len(ctxs) >= 12  # the texts are evidence-free, as meant
    feats = feature_matrix([(c.hits, c.norm.text) for c in ctxs])
    texts = [model_text(c) for c in ctxs]
    exact = m.text.proba(feats, texts=texts)
    bound = NgramBound(m.text, m.text_band[0])
    passed = bound.may_reach(feats, texts)
    needed = exact[:, 1] >= m.text_band[0][0]
    assert needed.any() and not needed.all()  # the set holds both kinds
    assert not (needed & ~passed).any()
    assert passed.sum() <= needed.sum() + 3  # a filter, not a pass for everything
    # Asked again (the words now cached) or in another batch, the answer is the same.
    assert (bound.may_reach(feats, texts) == passed).all()
    assert (np.concatenate([bound.may_reach(feats[:5], texts[:5]), bound.may_reach(feats[5:], texts[5:])])
            == passed).all()


def test_estimate_is_close_to_the_exact_score(detector):
    """The margin is there for n-grams several words share; a wide error would make the filter pass everything."""
    m = detector.model
    ctxs = _contexts(detector, TEXTS)
    feats = feature_matrix([(c.hits, c.norm.text) for c in ctxs])
    texts = [model_text(c) for c in ctxs]
    exact = m.text.proba(feats, texts=texts)
    bound = NgramBound(m.text, m.text_band[0])
    for k, text in enumerate(texts):
        low = exact[k, 1] - MARGIN
        one = bound.may_reach(feats[k:k + 1], [text])[0]
        assert one == bound.may_reach(feats, texts)[k]
        if exact[k, 1] < m.text_band[0][0] - 2 * MARGIN:
            assert not one, (text, exact[k], low)


def test_an_offer_without_evidence_reaches_the_text_models_and_an_ordinary_post_does_not():
    detector = Detector.load()  # its own stage counts
    offer = Item("x", "o", "send £ by bank first, then I post the bud 📮")
    plain = Item("x", "p", "good morning everyone, lovely weather today")
    assert not has_evidence(detector.analyse(offer, [])) and not has_evidence(detector.analyse(plain, []))
    v_offer, v_plain = detector.verdicts([(offer, []), (plain, [])])
    assert v_offer.flagged
    assert v_plain.score == np.float32(detector.model.no_evidence[1])  # the gate's rate: never scored further
    assert detector.stage_runs["text"] == 1


def test_a_window_without_evidence_does_not_raise_a_long_post():
    """A line of care advice, read out of its post, must not make a pharmacy leaflet an offer."""
    detector = Detector.load()
    leaflet = ("Fentanyl patch: apply to clean, hairless skin on the chest, back or upper arm and change it every 72 "
               "hours. Heat (heating pads, hot baths, saunas) increases how much drug is absorbed — avoid it. Fold "
               "used patches sticky sides together and dispose of them safely; they still contain medicine.")
    assert not detector.verdicts([(Item("x", "l", leaflet), [])])[0].flagged


def test_no_request_is_read_without_evidence(detector):
    v = one_verdict(detector, "Anyone selling a desk lamp or a kettle? Just moved into Lupton 🙏")
    assert v.kind is None and not v.flagged


def one_verdict(detector, text):
    return detector.verdicts([(Item("x", "1", text), [])])[0]


def test_a_dealers_bio_does_not_carry_an_evidence_free_post(detector):
    bio = "🔌 plug | 🍃❄️💊 menu in bio | tele: @plug_menu | ships worldwide, btc only"
    post = Item("x", "b1", "buenas noches, hasta mañana", author=Account("x", handle="a", bio=bio))
    alone = Item("x", "b2", "buenas noches, hasta mañana")
    with_bio, without = detector.verdicts([(post, []), (alone, [])])
    assert with_bio.score == without.score


def test_an_evidence_free_flag_is_model_only_and_gives_no_bio_reasons(detector):
    bio = "🔌 plug | 🍃❄️💊 menu in bio | tele: @plug_menu | ships worldwide, btc only"
    post = Item("x", "m1", "send £ by bank first, then I post the bud 📮", author=Account("x", handle="a", bio=bio))
    assert not has_evidence(detector.analyse(post, []))
    v = detector.verdicts([(post, [])])[0]
    assert v.flagged and v.model_only
    assert not [r for r in v.reasons if r.signal.startswith("bio:")]


def test_repeating_a_word_does_not_hide_an_offer_from_the_estimate(detector):
    """The text stage weighs a repeated n-gram as 1 + log(count); so must the estimate, or padding an offer with
    one emoji many times would keep it at the gate (it did: 0.0859 instead of 0.81)."""
    m = detector.model
    for offer in ["O's of mids for 100, Philly" + " 🙏" * 10, "i can run it over to yours in 20, half o of the loud"
                  + " 🙏" * 20]:
        ctx = detector.analyse(Item("x", "p", offer), [])
        assert not has_evidence(ctx)
        exact = m.text.proba(feature_matrix([(ctx.hits, ctx.norm.text)]), texts=[model_text(ctx)])[0, 1]
        assert exact >= m.text_band[0][0]  # the text stage doubts it, so it must get there
        assert detector.verdicts([(Item("x", "p", offer), [])])[0].flagged


def test_long_tokens_are_estimated_without_being_kept(detector):
    m = detector.model
    bound = NgramBound(m.text, m.text_band[0])
    token = "a" * 5000
    texts = [f"screenshot {token}", "good morning", f"{token} again"]
    feats = np.zeros((3, feature_matrix([([], "")]).shape[1]), dtype=np.float32)
    first = bound.estimate(feats, texts)
    assert token not in bound._row and "screenshot" in bound._row
    assert np.array_equal(bound.estimate(feats, texts), first)
    assert np.array_equal(bound.estimate(feats[:1], texts[:1]), first[:1])
