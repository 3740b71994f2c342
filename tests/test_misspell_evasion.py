"""The evaluation's misspelling evasion: one letter of each drug word changed, as dealers write to slip past
word filters. Normalisation cannot undo it, so it is measured, not folded away."""

import random

from plugwatch.text.normalize import normalize
from plugwatch.tools.evasion import SPELLING, TRAINED, TRANSFORMS, drug_words, misspell


def test_drug_words_are_single_word_terms_read_without_doubt():
    assert drug_words("White Widow and Blue Dream, Xanax bars, Molly and Adderall, cocaína") == {
        "xanax", "molly", "adderall", "cocaína"}  # not "white" or "dream", everyday words alone
    assert drug_words("a lovely sunny day at the beach") == set()


def test_misspell_changes_one_inner_letter_of_drug_words_only():
    text = "Got Xanax and Ketamine tonight, DM for prices"
    out = misspell(text, random.Random(3))
    assert out == misspell(text, random.Random(3))  # deterministic for a given generator
    changed = [(a, b) for a, b in zip(text.split(), out.split(), strict=True) if a != b]
    assert {a.strip(",") for a, _ in changed} == {"Xanax", "Ketamine"}
    for a, b in changed:
        assert a[0] == b[0] and a[-1] == b[-1] and abs(len(a) - len(b)) <= 1


def test_every_misspelt_copy_reads_as_misspelt_after_normalisation():
    """A letter doubled beside its twin ("Addderall") is squeezed back by the normaliser: such an edit is drawn
    again, so the evasion's recall is not flattered by copies that read as the name."""
    rng = random.Random(0)
    for word in ("Adderall", "Molly", "Xanax", "Percocet", "cocaína"):
        for _ in range(200):
            assert normalize(misspell(word, rng, targets={word.lower()})).text != normalize(word).text


def test_short_targets_are_left_alone():
    assert misspell("ab cd", random.Random(1), targets={"ab"}) == "ab cd"


def test_training_copies_with_the_transforms_the_model_was_trained_with():
    from plugwatch.detect.datasets import Example
    from plugwatch.detect.training import with_evasions

    assert "misspell" in TRANSFORMS and "misspell" not in TRAINED and set(SPELLING) <= set(TRANSFORMS)
    examples = [Example(f"d{i}", f"selling ketamine and xanax number {i}, dm", "sale", "dev", "x", "en", None, "x")
                for i in range(60)]
    names = {ex.id.split("~")[1] for ex in with_evasions(examples, seed=0) if "~" in ex.id}
    assert names and names <= set(TRAINED)
