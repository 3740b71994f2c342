"""Drug names written one letter wrong (text/misspelling.py) and the evaluation's misspelling evasion."""

import pytest

from plugwatch.text.misspelling import NearNames, common_terms, near_name_words, one_edit
from plugwatch.text.normalize import normalize
from plugwatch.text.vocabulary import Vocabulary
from plugwatch.tools import vocab_build


@pytest.mark.parametrize(("a", "b", "near"), [
    ("ketamien", "ketamine", True),   # neighbours swapped
    ("adderal", "adderall", True),    # dropped
    ("xanaxx", "xanax", True),        # added
    ("diizepam", "diazepam", True),   # changed
    ("ketamine", "ketamine", False),  # the same word is no edit
    ("katamien", "ketamine", False),  # two edits
    ("ketmanie", "ketamine", False),  # a swap of letters that are not neighbours
])
def test_one_edit(a, b, near):
    assert one_edit(a, b) is near
    assert one_edit(b, a) is near


def test_names_found_written_wrong_and_everyday_neighbours_left_alone():
    names = NearNames(["ketamine", "adderall", "diazepam", "morphine", "attentin"], everyday=["attention", "morphing"])
    assert names.name_for("ketamien") == "ketamine"
    assert names.name_for("addeall") == "adderall"
    assert names.name_for("morphing") is None and names.name_for("attention") is None
    assert names.name_for("diazepam") == "diazepam"  # the name itself, when no term matched it (joined to digits)
    assert names.name_for("kitten") is None
    found = names.find("got ketamien and diazepam10mg, dm", taken=[])
    assert [(f.written, f.name, f.start, f.end) for f in found] == [("ketamien", "ketamine", 4, 12),
                                                                      ("diazepam", "diazepam", 17, 25)]
    assert names.find("got ketamien", taken=[(4, 12)]) == []  # a term found as written keeps its span


def test_a_word_near_two_names_reads_as_one_only_when_they_mean_the_same():
    same = NearNames({"ketamine": "dissociative", "ketamin": "dissociative"})
    assert same.name_for("ketamien") == "ketamine"  # one edit from both; the nearer in length
    assert same.name_for("ketamn") == "ketamin"
    apart = NearNames({"tramadol": "opioid", "trazodol": "other"})
    assert apart.name_for("trazadol") is None


def test_shipped_vocabulary_reads_misspelt_names_and_not_everyday_words():
    voc = Vocabulary.default()
    text = normalize("Vendo ketamna, Diizepam 10mg y Addearll. Attention: heroine of the film").text
    found = {(f.written, f.name) for f in voc.near_names().find(text, [(m.start, m.end) for m in voc.find(text)])}
    assert ("diizepam", "diazepam") in found and ("addearll", "adderall") in found
    assert not {w for w, _ in found} & {"attention", "heroine"}
    assert voc.terms_named("diazepam") and all(t.term == "diazepam" for t in voc.terms_named("diazepam"))
    names = voc.near_names()
    assert names.name_for("xsnax") == "xanax" and names.name_for("opiom") == "opium"  # five-letter names
    # Everyday words are no misspelling, whether near a name or near a street term that is an everyday word
    # itself ("clank", near "crank"); that term is listed as common, though one letter from another ("crink").
    assert not {names.name_for(w) for w in ("relax", "opera", "ganha", "clank", "farms")} - {None}
    assert "crank" in common_terms() and names.name_for("crank") == "crank"


def test_shipped_near_words_are_what_the_build_tool_writes(tmp_path):
    voc = Vocabulary.default()
    out = tmp_path / "near.txt"
    vocab_build.write_near_words(vocab_build.near_name_words(voc.terms), out)
    shipped = (vocab_build.DEFAULT_NEAR_WORDS).read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == shipped, "run: python -m plugwatch.tools.vocab_build --near-words"
    # Words of every language the lists cover, the ones an earlier version read as names among them: listed,
    # or no longer near a name once misspellings keep a word's ends.
    assert {"attention", "copains", "ansvar", "kelamin", "coaxial", "herois"} <= near_name_words()
    names = Vocabulary.default().near_names()
    for word in ("attention", "tambien", "heroine", "copains", "kalium", "ansvar", "kelamin", "fasting", "solana",
                 "coaxial", "herois", "talium", "tastin", "derimin", "opanak", "alzaini"):
        assert names.name_for(word) is None, word
    # Street terms that are everyday words themselves: a misspelt "footballs" is a misspelt football.
    assert {"crystal", "footballs", "edibles", "indica"} <= common_terms()
    assert "sizzurp" not in common_terms() and "sizzurp" not in near_name_words()


def test_the_build_sieve_passes_every_word_near_names_reads():
    """`vocab_build` looks up only the words its sieve passes: a word NearNames would read and the sieve
    dropped would be missing from near_name_words.txt. Every one-edit word of random names, each edit kind at
    each place, must pass; and most other words must not, or the sieve saves nothing."""
    import random

    from plugwatch.text.misspelling import _ends_kept

    rng = random.Random(5)
    letters = "abcdefghijklmnopqrstuvwxyz"
    names = {"".join(rng.choice(letters) for _ in range(rng.randint(5, 14))) for _ in range(300)}
    forms = names | {n + "s" for n in names if not n.endswith("s")}
    sieve = vocab_build._near_name_sieve(forms)
    checked = 0
    for name in sorted(names):
        own = [f for f in (name, name + "s") if f in forms]  # a name and its plural, as NearNames reads them
        for i in range(len(name)):
            for c in "aeiouxyz":
                for word in (name[:i] + c + name[i + 1:], name[:i] + c + name[i:], name[:i] + name[i + 1:],
                             name[:i] + name[i + 1:i + 2] + name[i] + name[i + 2:]):
                    for form in (word, word + "s"):
                        if len(form) >= 5 and any(_ends_kept(form, f) and one_edit(form, f) for f in own):
                            checked += 1
                            assert sieve(form), (form, name)
    assert checked > 10_000
    strangers = ["".join(rng.choice(letters) for _ in range(rng.randint(5, 14))) for _ in range(2000)]
    assert sum(map(sieve, strangers)) < 200


def test_everyday_sale_posts_around_words_near_a_name_read_no_drug():
    from plugwatch.model import Item
    from plugwatch.signals import Context, run_signals

    for text in ["Je vends mon vélo à mes copains, 50€, envoyez moi un mp",
                 "Verkaufe Kalium Magnesium Tabletten, 100 Stück für 10€, PN",
                 "Säljer bil, köparen tar ansvar för frakt, 20000 kr, pm",
                 "Dicari karyawan toko, jenis kelamin: pria, gaji 5jt, hubungi WA",
                 "Vendo bonecos dos heróis da Marvel, R$50 cada, chama no zap"]:
        ctx = Context(Item(platform="generic", native_id="1", text=text), normalize(text), [], None)
        assert not [h for h in run_signals(ctx) if "read as" in h.meaning], text


def test_a_misspelt_name_counts_only_where_the_post_bears_it_out():
    from plugwatch.model import Item
    from plugwatch.signals import Context, run_signals

    def read(text):
        ctx = Context(Item(platform="generic", native_id="1", text=text), normalize(text), [], None)
        return [h.meaning for h in run_signals(ctx) if "read as" in h.meaning]

    assert read("say hi to Valuim, my neighbour's new puppy") == []  # nothing of a drug around it
    assert read("valuim, $20, dm me") == []  # a price and a "DM me" alone: every small shop's post has them
    assert any("'valuim' read as 'valium'" in m for m in read("valuim 10mg, dm me"))  # a quantity
    assert any("'valuim' read as 'valium'" in m for m in read("valuim10mg dm"))  # a dose joined to it
    assert any("'valuim' read as 'valium'" in m for m in read("xanax and valuim"))  # another drug named
    assert any("'valuim' read as 'valium'" in m for m in read("valuim in stock, dm me"))  # a dealer's cue
    # "For sale" and "DM me" alone: a small shop's words too ("Lorencin selling guitar", "For sale: Clorex").
    assert read("valuim for sale, dm me") == [] and read("Kokaen satıyorum") == []
    assert read("valuim, free delivery, dm") == []
    assert any("'sizzrup' read as" in m for m in read("sizzrup 4oz $60"))  # a street term, no everyday word
    # A street term that is an everyday word, misspelt, counts only beside a drug named clearly or another
    # misspelt name of its kind: "footballs" is a football first.
    assert read("selling footbals, 4 for $20") == [] and read("crystl vase in stock, 2 for $20") == []
    assert any("'crystl' read as 'crystal'" in m for m in read("crystl and ketamine in stock"))
    assert any("'edibls' read as 'edibles'" in m for m in read("edibls and cartts in stock"))
    # Two different words near names of one kind bear each other out; one word twice, or two kinds, do not:
    # names pair up that way ("Hot yoga with Chanya and Anawar").
    both = read("valuim and klonopiin, dm me")
    assert len(both) == 2 and all("read as" in m for m in both)
    assert read("valuim and oxycodnoe for sale, dm me") == []  # a benzodiazepine and an opioid
    assert read("valuim for sale, valuim again, dm me") == []
    # Nor two words near one name: "khule" and "khote" (romanised Hindi) are both one letter from "khole".
    assert read("Kal se market khule rahenge. Khote sikke mat lena bhai, home delivery") == []
    # A five-letter street term needs a drug named clearly: a shop gives quantities and stock.
    assert read("Dukaan subah 9 baje khule gi, 2 kg aata sirf Rs 90, in stock") == []
    assert any("'khoel' read as 'khole'" in m for m in read("khoel and xanax in stock"))
    # An ambiguous word of the same kind written right bears a misspelt name out: a dealer names a drug twice,
    # and an everyday word one letter from a name seldom sits beside a drug word of its own kind.
    assert any("'carrts' read as 'carts'" in m for m in read("carrts 2 for $40, crumble $20 g, zips $140"))
    assert read("carrts 2 for $40, snow $20 g") == []  # snow is no cannabis
    # Nor where the post reads the ambiguous word as an everyday one (a cake's crumble).
    assert read("carrts 2 for $40, apple crumble $20") == []


def test_cyrillic_names_and_plurals_are_read_where_a_drug_is_named_clearly():
    from plugwatch.model import Item
    from plugwatch.signals import Context, run_signals

    def read(text):
        ctx = Context(Item(platform="generic", native_id="1", text=text), normalize(text), [], None)
        return [h.meaning for h in run_signals(ctx) if "read as" in h.meaning]

    # Cyrillic surnames end as names do ("Кодкин", "кодеин"), two of them as often as one: a Cyrillic word
    # counts only beside a drug named clearly: not beside a price, stock or "без рецепта", which over-the-counter
    # medicines are sold without ("Аптечный пункт ИП Моркин, спрей для носа без рецепта").
    assert read("меетадон, 5 г, в наличии, пиши") == []
    assert read("Аптечный пункт ИП Моркин: спрей для носа и капли без рецепта, в наличии") == []
    assert any("'меетадон' read as 'метадон'" in m for m in read("меетадон и героин, 5 г"))
    # A case ending after the misspelling ("меетадона" is меетадон + а), but not a name's own case.
    assert any("'меетадона' read as 'метадон'" in m for m in read("нет меетадона, есть героин"))
    assert not any("'амфетамина' read as" in m for m in read("Продаю амфетамина много, без рецепта"))
    assert read("Купим металлолом, 5 т, звонить Моркину или Кодкину") == []
    assert read("Сдам гараж, 5000 руб, Мортин или Кодрин") == []
    # Everyday Russian and Ukrainian words one letter from a name are words ("бочка", "брошка": бошка).
    assert read("Продам бочку и брошки, героин не предлагать") == []
    # An ambiguous word of the name's own kind bears it out ("фен" is a hair dryer, and amphetamine); one of
    # another kind does not.
    assert any("'амфеттамин' read as 'амфетамин'" in m for m in read("Продаем амфеттамин (фен), 1г 2000₽"))
    assert read("Продаем амфеттамин, трава, 1г 2000₽") == []
    # A word one edit from a name's plural reads as the name ("balinnhas": balinha + s).
    names = NearNames(["ketamine", "balinha"])
    assert names.name_for("balinnhas") == "balinha" and names.name_for("ketamimes") == "ketamine"
    assert any("'balinnhas' read as 'balinhas'" in m for m in read("balinnhas e ecstasy, R$35 cada"))


def test_misspellings_keep_the_first_and_last_letters():
    names = NearNames(["valium", "fastin", "erimin"])
    assert names.name_for("valuim") == "valium" and names.name_for("fastina") is None
    assert names.name_for("talium") is None and names.name_for("tastin") is None  # everyday words, ends changed
    assert names.name_for("derimin") is None  # Turkish "of my skin": a letter added before the name


def test_long_runs_of_letters_are_no_word():
    import time

    names = Vocabulary.default().near_names()
    start = time.perf_counter()
    assert names.find("diizepam" * 5000) == [] and names.find("x" * 100_000 + " diizepam 10mg") != []
    assert names.name_for("diizepam" + "a" * 30) is None
    assert time.perf_counter() - start < 5  # was 4 s and 1 GB for 30,000 letters; a bound, not a timing


def test_misspelt_name_is_drug_evidence_with_a_reason_naming_both_spellings():
    from plugwatch.detect.detector import Detector
    from plugwatch.model import Item
    from plugwatch.pipeline import identifiers_for

    detector = Detector.load()
    items = [Item(platform="generic", native_id=str(i), text=t) for i, t in enumerate([
        "LIMITED TIME **$50 for 5x 30mg Addearll",
        "LIMITED TIME **$50 for 5x 30mg Adderall",
        "Loved the heroine of that film, tickets $12 each, DM me",
    ])]
    wrong, right, film = detector.verdicts([(it, identifiers_for(it, None)) for it in items])
    assert wrong.flagged and right.flagged and not film.flagged
    assert abs(wrong.score - right.score) < 0.05
    assert any("'addearll' read as 'adderall'" in r.meaning for r in wrong.reasons)
    assert "stimulant" in wrong.drugs


def test_letters_of_a_wallet_or_handle_are_no_misspelt_name():
    from plugwatch.model import Item
    from plugwatch.pipeline import identifiers_for
    from plugwatch.signals import Context, run_signals

    text = "Dexedrine 10mg, payment via Bitcoin 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
    item = Item(platform="generic", native_id="1", text=text)
    ctx = Context(item, normalize(text), identifiers_for(item, None), None)
    hits = run_signals(ctx)
    assert any(h.signal == "identifier" for h in hits)
    assert not [h for h in hits if "read as" in h.meaning]  # "DivfNa" is no "divina"
