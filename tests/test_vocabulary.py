import os
import time
from collections import Counter
from pathlib import Path

import pytest

from plugwatch.text.normalize import normalize
from plugwatch.text.vocabulary import (
    AMBIGUITIES,
    CATEGORIES,
    COLUMNS,
    KINDS,
    LANGS,
    Term,
    Vocabulary,
    is_emoji_term,
    is_raw_term,
)
from plugwatch.tools.vocab_build import (
    DEFAULT_CURATED,
    DEFAULT_VOCABULARY,
    build_vocabulary,
    canonical_term,
    merge,
    phrase_ambiguity,
    read_curated,
    write_vocabulary,
)

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PLUGWATCH_SHARED_DATA", REPO.parent / "shared" / "data"))
HAVE_SHARED = (SHARED / "lexicons" / "dea_slang_2018" / "dea_slang_pairs.csv").is_file()
needs_shared = pytest.mark.skipif(
    not HAVE_SHARED, reason=f"shared data not found at {SHARED} (set PLUGWATCH_SHARED_DATA)"
)


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return Vocabulary.default()


def rows_for(vocab: Vocabulary, term: str) -> list[Term]:
    return [t for t in vocab.terms if t.term == term]


def found(vocab: Vocabulary, text: str) -> list[tuple[str, str, str]]:
    """(matched text, category, ambiguity) for the normalised `text`."""
    norm = normalize(text).text
    return [(norm[m.start : m.end], m.term.category, m.term.ambiguity) for m in vocab.find(norm)]


def tiny(tmp_path: Path, *rows: tuple[str, str, str, str]) -> Vocabulary:
    """A vocabulary of (term, category, ambiguity, kind) rows, to test matching rules in isolation."""
    lines = ["\t".join(COLUMNS)]
    lines += ["\t".join((term, term, cat, amb, "en", kind, "test")) for term, cat, amb, kind in rows]
    path = tmp_path / "vocab.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Vocabulary.from_file(path)


# --- the shipped table -----------------------------------------------------------------------


def test_table_loads_with_valid_values(vocab):
    assert len(vocab.terms) > 4000
    for t in vocab.terms:
        assert t.category in CATEGORIES and t.ambiguity in AMBIGUITIES, t
        assert t.lang in LANGS and t.kind in KINDS, t
        assert t.term and t.drug and t.source, t
    keys = [(t.term, t.category) for t in vocab.terms]
    assert len(keys) == len(set(keys)), "one row per (term, category)"


def test_every_category_is_present(vocab):
    assert vocab.categories() == set(CATEGORIES)


def test_terms_are_stored_canonical(vocab):
    for t in vocab.terms:
        assert canonical_term(t.term) == t.term, t
        assert "\ufe0f" not in t.term


@pytest.mark.parametrize("lang", ["es", "fr", "de", "pt", "it", "nl", "ru"])
def test_each_language_has_at_least_40_terms(vocab, lang):
    assert Counter(t.lang for t in vocab.terms)[lang] >= 40


def test_english_has_several_hundred_terms(vocab):
    assert Counter(t.lang for t in vocab.terms)["en"] >= 500


@pytest.mark.parametrize(
    "word",
    [
        "snow",
        "plug",
        "gas",
        "blue",
        "food",
        "work",
        "car",
        "candy",
        "girl",
        "molly",
        "pot",
        "grass",
        "ice",
        "bars",
        "weed",
        "coke",
        "white",
        "boy",
        "k",
        "tina",
    ],
)
def test_everyday_words_are_never_low(vocab, word):
    rows = rows_for(vocab, word)
    assert rows, f"{word!r} should be in the vocabulary"
    assert all(t.ambiguity in ("medium", "high") for t in rows), rows


@pytest.mark.parametrize("word", ["snow", "plug", "gas", "blue", "food", "work", "car", "candy", "girl"])
def test_plain_everyday_words_are_high(vocab, word):
    assert all(t.ambiguity == "high" for t in rows_for(vocab, word))


@pytest.mark.parametrize(
    ("word", "category"),
    [
        ("xanax", "benzodiazepine"),
        ("oxycodone", "opioid"),
        ("fentanyl", "opioid"),
        ("mdma", "mdma"),
        ("mephedrone", "nps"),
        ("мефедрон", "nps"),
        ("cocaina", "cocaine"),
        ("m30", "opioid"),
        ("wiet", "cannabis"),
        ("pill press", "equipment"),
        ("tdp-5", "equipment"),
        ("pregabalin", "prescription"),
        ("ketamine", "ketamine"),
        ("ghb", "ghb"),
        ("psilocybin", "psychedelic"),
        ("methamphetamine", "stimulant"),
        ("nandrolone", "steroid"),
    ],
)
def test_clear_names_are_low(vocab, word, category):
    rows = {t.category: t for t in rows_for(vocab, word)}
    assert rows[category].ambiguity == "low", rows


def test_single_letters_are_high(vocab):
    # Two Chinese characters are a whole word ("冰毒"), not a letter or two of a spaced script.
    singles = [t for t in vocab.terms if len(t.term) <= 2 and not is_raw_term(t.term)]
    assert {"e", "k", "h", "x", "c"} <= {t.term for t in singles}
    assert all(t.ambiguity == "high" for t in singles), [t for t in singles if t.ambiguity != "high"]


def test_category_decisions(vocab):
    def cats(term):
        return {t.category for t in rows_for(vocab, term)}

    assert cats("🔌") == {"other"}
    assert "opioid" in cats("blues") and "opioid" in cats("lean") and "opioid" in cats("tranq")
    assert cats("xylazine") == {"other"}
    assert {"opioid", "nps"} <= cats("isotonitazene")
    assert {"ketamine", "nps"} <= cats("2-fdck")
    assert cats("pill press") == {"equipment"}
    assert "prescription" in cats("lyrica") and "prescription" in cats("zolpidem")
    assert "stimulant" in cats("adderall") and "stimulant" in cats("crystal")


def test_units_and_shipping_are_not_drug_terms(vocab):
    assert rows_for(vocab, "📦") == []
    assert all(t.category == "other" for t in rows_for(vocab, "zips"))
    assert all(t.category == "other" for t in rows_for(vocab, "закладка"))


# --- matching ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("plug 🔌", "other"),
        ("❄️❄️ available", "cocaine"),
        ("💊 dm", "opioid"),
        ("🍄", "psychedelic"),
        ("🍃 fire", "cannabis"),
        ("⛽⛽", "cannabis"),
        ("🍫", "psychedelic"),
        ("🍫", "benzodiazepine"),
        ("💎", "stimulant"),
    ],
)
def test_emoji_codes_match(vocab, text, category):
    hits = [(m, c, a) for m, c, a in found(vocab, text) if is_emoji_term(m)]
    assert any(c == category for _, c, _ in hits), hits
    assert all(a == "high" for _, c, a in hits if c == category and len(_) == 1)


def test_emoji_pairs_are_one_medium_match(vocab):
    assert found(vocab, "🍄🍫 bars") == [
        ("🍄🍫", "psychedelic", "medium"),
        ("bars", "benzodiazepine", "medium"),
    ]


def test_parcel_emoji_is_not_a_drug(vocab):
    assert found(vocab, "📦📦📦") == []


@pytest.mark.parametrize("text", ["nice", "cokeville", "everything", "spot", "snowboard", "teapot", "police"])
def test_no_match_inside_words(vocab, text):
    assert found(vocab, text) == []


def test_contraction_tails_are_not_terms(vocab):
    # blanking apostrophes leaves "i d", "i m", "don t": those letters must not be drug terms
    assert found(vocab, "I'd say I'm sure they'll say we've done it, don't you? it's theirs") == []
    assert not {"d", "m", "s", "t", "ll", "re", "ve"} & {t.term for t in vocab.terms}


def test_word_boundaries_are_unicode_aware(vocab):
    assert found(vocab, "кокаиновый") == []  # an adjective, not the drug noun
    assert ("кокаина", "cocaine", "low") in found(vocab, "продам кокаина")
    assert ("мефедрон", "nps", "low") in found(vocab, "мефедрон,соль")


def test_offsets_point_at_the_matched_text(vocab):
    norm = normalize("Selling Xanax bars 🍫, M30s & percs — DM").text
    matches = vocab.find(norm)
    assert [norm[m.start : m.end] for m in matches] == ["xanax bars", "🍫", "🍫", "m30s", "percs"]
    assert all(m.end > m.start for m in matches)


def test_plurals(tmp_path):
    v = tiny(
        tmp_path,
        ("perc", "opioid", "medium", "street"),
        ("m30", "opioid", "low", "imprint"),
        ("roxy", "opioid", "medium", "street"),
        ("gas", "cannabis", "high", "street"),
        ("h", "opioid", "high", "street"),
    )
    text = "percs m30s roxies gas gass h hs"
    hits = [(text[m.start : m.end], m.term.term) for m in v.find(text)]
    # terms ending in "s" or shorter than 3 characters get no plural: "gass" and "hs" stay unmatched
    assert hits == [("percs", "perc"), ("m30s", "m30"), ("roxies", "roxy"), ("gas", "gas"), ("h", "h")]


def test_hyphen_space_and_joined_spellings(tmp_path):
    v = tiny(tmp_path, ("m-30", "opioid", "low", "imprint"), ("special k", "ketamine", "high", "street"))
    text = "m-30 m 30 m.30 m30 special-k"
    assert [text[m.start : m.end] for m in v.find(text)] == ["m-30", "m 30", "m.30", "m30", "special-k"]


def test_russian_case_endings(tmp_path):
    v = tiny(
        tmp_path,
        ("кокаин", "cocaine", "low", "name"),
        ("травка", "cannabis", "medium", "street"),
        ("соль", "nps", "high", "street"),
    )
    text = "кокаином травку соли кокаиновый"
    assert [text[m.start : m.end] for m in v.find(text)] == ["кокаином", "травку", "соли"]


def test_longest_match_wins(vocab):
    assert found(vocab, "crystal meth") == [("crystal meth", "stimulant", "low")]
    hits = found(vocab, "pressed m30s")
    assert [h[0] for h in hits] == ["pressed m30s"]


def test_overlapping_shorter_matches_are_dropped(tmp_path):
    v = tiny(
        tmp_path,
        ("blue dream", "cannabis", "medium", "street"),
        ("dream", "cannabis", "high", "street"),
        ("dream stick", "opioid", "medium", "street"),
        ("blue", "opioid", "high", "street"),
    )
    text = "blue dream stick"
    assert [(text[m.start : m.end], m.term.term) for m in v.find(text)] == [("blue dream", "blue dream")]


def test_one_match_per_category(vocab):
    hits = found(vocab, "tusi")
    assert {c for _, c, _ in hits} == {"ketamine", "other"}
    assert {m for m, _, _ in hits} == {"tusi"}


def test_empty_and_plain_text(vocab):
    assert vocab.find("") == []
    assert found(vocab, "see you at the meeting tomorrow") == []


def test_find_is_fast(vocab):
    posts = [
        normalize(p).text
        for p in (
            "Had a great day at the beach with the kids, weather was perfect and we got ice cream after! See you all soon",
            "Hit me up for the best za in town 🔥🍃 pressed m30s, xans, coke 8balls, shipping daily, telegram @plugman",
            "Привет всем, сегодня отличная погода, идем гулять в парк с собакой, а вечером мефедрон? нет, кино!",
        )
    ] * 1000
    vocab.find(posts[0])
    start = time.perf_counter()
    for p in posts:
        vocab.find(p)
    per_post = (time.perf_counter() - start) / len(posts)
    assert per_post < 100e-6, f"{per_post * 1e6:.1f} us per post"


# --- building ----------------------------------------------------------------------------------


def test_phrase_ambiguity():
    assert phrase_ambiguity("car") == "high"
    assert phrase_ambiguity("percs") == "medium"
    assert phrase_ambiguity("hillbilly heroin") == "low"
    assert phrase_ambiguity("blue dynamite") == "medium"
    assert phrase_ambiguity("ice cream") == "high"
    assert phrase_ambiguity("a-train") == "high"
    assert phrase_ambiguity("m-30s") == "medium"
    assert phrase_ambiguity("him") is None and phrase_ambiguity("7") is None


def test_canonical_term():
    assert canonical_term("Cocaína") == "cocaina"
    assert canonical_term("Weißes") == "weisses"
    assert canonical_term("Колёса") == "колеса"
    assert canonical_term("❄️") == "❄"
    assert canonical_term("  Special   K ") == "special k"


def test_curated_file_is_valid():
    terms = read_curated(DEFAULT_CURATED)
    assert len(terms) > 2000
    assert all(t.source == "curated" for t in terms)


def test_read_curated_rejects_bad_rows(tmp_path):
    header = "term\tdrug\tcategory\tambiguity\tlang\tkind\n"
    bad_rows = [
        "xanax\talprazolam\tbenzo\tlow\ten\tname\n",  # unknown category
        "xanax\talprazolam\tbenzodiazepine\tlow\ten\tname\nxanax\talprazolam\tbenzodiazepine\tlow\ten\tname\n",
        "Xanax\talprazolam\tbenzodiazepine\tlow\ten\tname\n",  # not canonical
    ]
    for body in bad_rows:
        path = tmp_path / "bad.tsv"
        path.write_text("# note\n" + header + body, encoding="utf-8")
        with pytest.raises(ValueError):
            read_curated(path)


def test_merge_curated_wins_and_ambiguity_never_drops():
    curated = [
        Term("snow", "cocaine", "cocaine", "high", "en", "street", "curated"),
        Term("ice", "methamphetamine", "stimulant", "medium", "en", "street", "curated"),
    ]
    generated = [
        Term("snow", "cocaine", "cocaine", "medium", "en", "street", "dea2018"),
        Term("ice", "crack cocaine", "cocaine", "low", "en", "street", "dea2018"),
        Term("percs", "oxycodone", "opioid", "medium", "en", "street", "dea2018"),
        Term("percs", "hydrocodone", "opioid", "medium", "es", "street", "redmed"),
    ]
    rows = {(t.term, t.category): t for t in merge(curated, generated, ner_terms={"percs"})}
    assert rows["snow", "cocaine"].ambiguity == "high"
    assert rows["snow", "cocaine"].source == "curated,dea2018"
    assert rows["ice", "cocaine"].ambiguity == "medium"  # never below our own reading of "ice"
    percs = rows["percs", "opioid"]
    assert percs.drug == "hydrocodone|oxycodone" and percs.lang == "multi"
    assert percs.source == "dea2018,reddit_ner,redmed"


def test_write_and_read_round_trip(tmp_path):
    terms = [
        Term("b", "x", "other", "high", "en", "street", "curated"),
        Term("a", "y", "cannabis", "low", "es", "name", "dea2018"),
    ]
    path = tmp_path / "v.tsv"
    write_vocabulary(terms, path)
    back = Vocabulary.from_file(path).terms
    assert [t.term for t in back] == ["a", "b"]
    assert back[0].source == "dea2018"


@needs_shared
def test_build_is_deterministic_and_matches_the_shipped_table(tmp_path):
    first, second = tmp_path / "a.tsv", tmp_path / "b.tsv"
    write_vocabulary(build_vocabulary(SHARED, DEFAULT_CURATED), first)
    write_vocabulary(build_vocabulary(SHARED, DEFAULT_CURATED), second)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() == DEFAULT_VOCABULARY.read_bytes(), (
        "run: python3 -m plugwatch.tools.vocab_build --data <shared>"
    )


@needs_shared
def test_build_uses_all_three_sources():
    sources = Counter(s for t in build_vocabulary(SHARED, DEFAULT_CURATED) for s in t.source.split(","))
    assert sources["dea2018"] > 1500 and sources["redmed"] > 500 and sources["reddit_ner"] > 30


# -- categories of ambiguous words need context ----------------------------------------------------

def _categories(text: str) -> dict[str, set]:
    """Drug-term hits on `text` as {matched words: categories they count toward}."""
    from plugwatch.signals.base import settle
    from plugwatch.signals.drug_terms import _term_hits

    norm = normalize(text).text
    out: dict[str, set] = {}
    for h in settle(_term_hits(norm, False)):
        out.setdefault(norm[h.start:h.end], set()).add(h.category)
    return {word: cats - {None} for word, cats in out.items()}


def test_a_strain_name_gives_its_own_category_not_its_words_slang():
    assert _categories("Amnesia Haze 5g £40 dm") == {"amnesia": {"cannabis"}, "haze": {"cannabis"}}
    assert _categories("super silver  haze and amnesia-haze in stock") == {
        "haze": {"cannabis"}, "amnesia": {"cannabis"}}


@pytest.mark.parametrize("text, word, expected", [
    ("haze, dm me", "haze", set()),                                     # an everyday word alone
    ("haze blotters in stock", "haze", {"psychedelic"}),                # a context word of its category
    ("haze 10 tabs for 80", "haze", {"psychedelic"}),                   # a quantity nearby
    ("got that white, dm for prices", "white", set()),
    ("got that white 1g 80", "white", {"cocaine", "opioid", "stimulant"}),  # a quantity: a drug, not which
    ("white and coke, dm", "white", {"cocaine"}),                       # an unambiguous term of the category
    ("10 tabs, lsd only", "tabs", {"psychedelic"}),                    # its own category's evidence wins
    ("purple haze, indica, dm", "purple haze", {"cannabis"}),
])
def test_an_ambiguous_word_counts_toward_a_category_only_in_context(text, word, expected):
    assert _categories(text)[word] == expected


def test_clear_terms_keep_every_category_they_have():
    assert _categories("1p-lsd blotters")["1p-lsd"] == {"nps", "psychedelic"}
    assert _categories("ice in stock")["ice"] == {"stimulant"}  # the medium reading; cocaine's is slang


def test_context_files_are_valid_and_names_are_not_vocabulary_terms(vocab):
    from plugwatch.text.vocabulary import category_context, drug_names

    context = category_context()
    assert set(context) <= set(CATEGORIES) and all(context.values())
    names = {n for entries in drug_names().values() for n in entries}
    assert len(names) >= 30
    for name in names:
        assert name.category in CATEGORIES
        found = vocab.find(name.name)
        # A name earns its place by holding an ambiguous word the vocabulary would misread, and it is not
        # itself a vocabulary term (then the vocabulary's own longest match decides).
        assert any(m.term.ambiguity == "high" for m in found), name
        assert not any((m.start, m.end) == (0, len(name.name)) for m in found), name


def test_a_listed_misspelling_that_another_language_uses_as_a_word_is_ambiguous():
    pytest.importorskip("wordfreq")
    from plugwatch.tools.vocab_build import is_word_elsewhere

    assert is_word_elsewhere("concerti") and is_word_elsewhere("kraton")  # Italian concerts, Indonesian palace
    assert not is_word_elsewhere("adderal") and not is_word_elsewhere("oxycontine")
    shipped = {(t.term, t.category): t for t in Vocabulary.default().terms}
    assert shipped["concerti", "stimulant"].ambiguity == "high" and shipped["kraton", "other"].ambiguity == "high"
    assert shipped["ritaline", "stimulant"].ambiguity == "low"  # France's name for Ritalin, listed as ours


def test_a_street_term_another_language_uses_daily_is_ambiguous():
    pytest.importorskip("wordfreq")
    from plugwatch.tools.vocab_build import is_slang_word_elsewhere

    assert is_slang_word_elsewhere("kaos") and is_slang_word_elsewhere("quadros")
    assert not is_slang_word_elsewhere("sizzurp")
    shipped = {(t.term, t.category): t for t in Vocabulary.default().terms}
    assert shipped["kaos", "nps"].ambiguity == "high" and shipped["batu", "stimulant"].ambiguity == "high"
    # Curated terms keep their level: "weed" is a Dutch and German word too, in the drug's sense.
    assert shipped["weed", "cannabis"].ambiguity != "high"


def test_everyday_posts_in_other_languages_are_no_offer():
    from plugwatch.detect.detector import Detector
    from plugwatch.model import Item
    from plugwatch.pipeline import identifiers_for

    items = [Item(platform="generic", native_id=str(i), text=t) for i, t in enumerate([
        "Vendo 2 biglietti per concerti a Milano, €80 la coppia, scrivimi in privato",
        "Tiket masuk Kraton Yogyakarta Rp 15.000 per orang, buka jam 8, DM untuk paket tur",
        # DEA street terms that are other languages' everyday words: T-shirts, a hat, stones, "you", pictures
        "Jual kaos polos 3 pcs Rp 100.000, DM ya kak",
        "Jual topi dan kaos distro, 2 pcs Rp 150rb, COD Jakarta",
        "Batu akik asli, harga Rp 500.000, minat hubungi WA",
        "Seni çok seviyorum, 2 bilet 500 TL, DM at",
        "Vendo quadros decorativos, 3 por R$100, chama no zap",
    ])]
    assert not any(v.flagged for v in Detector.load().verdicts([(it, identifiers_for(it, None)) for it in items]))
