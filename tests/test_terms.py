"""New slang from decisions: a planted code word is suggested; an accepted term changes a verdict at
once, without retraining."""

from __future__ import annotations

import json
import random

from cli_helpers import cli, jsonl
from test_store import record

from plugwatch import wiring
from plugwatch.rules.terms import features, log_odds
from plugwatch.signals import site_terms
from plugwatch.store import review, users

SALE = ["selling", "dm", "me", "price", "shipping", "fast", "discreet", "available", "today", "hmu", "stock", "each"]
CHAT = ["the", "weather", "game", "last", "night", "was", "great", "lunch", "with", "friends", "movie", "party",
        "dm", "me", "price", "today", "each", "fast"]


def _text(rng, words, n=9):
    return " ".join(rng.choice(words) for _ in range(n))


def test_a_code_word_planted_in_actioned_items_is_suggested_in_the_top_ten(db_url):
    rng = random.Random(5)
    spellings = ["zorbl", "z0rbl", "Z O R B L", "zörbl"]  # evasion folding makes these one term
    recs, actions = [], {}
    for n in range(40):  # actioned: sales, 24 of them with the new code word
        text = _text(rng, SALE)
        if n < 24:
            text += f" {rng.choice(spellings)} {_text(rng, SALE, 3)}"
        rec = record(n, author=f"x:dealer{n % 7}")
        rec["text"] = text
        recs.append(rec)
        actions[f"x:{n}"] = "remove"
    for n in range(40, 80):  # dismissed: chat that the detector flagged
        rec = record(n, author=f"x:chat{n % 9}")
        rec["text"] = _text(rng, CHAT)
        recs.append(rec)
        actions[f"x:{n}"] = "dismiss"
    for n in range(80, 380):  # the ordinary stream: not flagged, never queued
        rec = record(n, author=f"x:user{n % 50}", flagged=False, score=0.05)
        rec["text"] = _text(rng, CHAT + SALE[:4])
        recs.append(rec)
    st = wiring.open_store(db_url)
    with st.session() as s:
        review.ingest_records(s, recs)
        ann = users.add_user(s, "ann", "reviewer")[0]
        for item_id, action in actions.items():
            review.claim(s, ann, item_id)
            review.decide(s, ann, item_id, action, "drug_sale" if action == "remove" else "not_drugs")
    st.dispose()
    out = cli("terms", "suggest", "--db", db_url, "--json", "--top", "10")
    assert out.exit_code == 0, out.stderr
    report = json.loads(out.stdout)
    assert (report["actioned_items"], report["dismissed"], report["other_items"]) == (40, 40, 340)
    top = {c["term"]: c for c in report["candidates"]}
    assert "zorbl" in top, list(top)
    assert top["zorbl"]["actioned"] == 24 and top["zorbl"]["others"] == 0 and top["zorbl"]["category"] == "cocaine"
    assert report["candidates"][0]["z"] >= top["zorbl"]["z"] > 0
    assert not any(c["kind"] == "ngram" and c["term"] in "zorbl" for c in report["candidates"])


def test_log_odds_favour_a_term_of_the_actioned_items_and_shrink_rare_ones():
    z = log_odds({"a": 20, "b": 2, "c": 5}, {"a": 0, "b": 0, "c": 300}, 40, 400, prior=100)
    assert z["a"] > z["b"] > 0 > z["c"]


def test_features_are_folded_words_hashtags_emoji_runs_and_ngrams():
    f = features("G0T Zörbl #PartyTime 🍄🍫 now")
    assert {("word", "zorbl"), ("hashtag", "#partytime"), ("emoji", "🍄"), ("emoji", "🍄🍫"),
            ("ngram", "part")} <= f


def test_an_accepted_term_changes_the_verdict_without_retraining(tmp_path, monkeypatch):
    post = tmp_path / "post.txt"
    post.write_text("zorbl restocked\n", encoding="utf-8")  # a sale cue, no drug term until zorbl is one
    monkeypatch.delenv("PLUGWATCH_RULES", raising=False)
    site_terms.use_folder(None)
    assert cli("scan", post, "-o", tmp_path / "before.jsonl").exit_code == 0
    before = jsonl(tmp_path / "before.jsonl")[0]
    rules = tmp_path / "rules"
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    for name, role in (("lead-ann", "lead"), ("rev1", "reviewer")):
        assert cli("users", "add", name, "--role", role, "--db", db).exit_code == 0
    # A lead accepts a term, into a category the detector knows; anything else changes nothing.
    for args, message in ((["--category", "opioids", "--by", "lead-ann"], "not one of the vocabulary's: "),
                          (["--category", "mdma", "--by", "rev1"], "'rev1' is not an active lead or admin"),
                          (["--category", "mdma", "--by", "nobody"], "'nobody' is not an active lead or admin")):
        out = cli("terms", "accept", "zorbl", *args, "--rules", rules, "--db", db)
        assert out.exit_code == 2 and message in " ".join(out.stderr.split()), out.stderr
        assert not (rules / "site_terms.tsv").exists()
    out = cli("terms", "accept", "zorbl", "--category", "mdma", "--rules", rules, "--by", "lead-ann", "--db", db)
    assert out.exit_code == 0, out.stderr
    assert (rules / "site_terms.tsv").read_text(encoding="utf-8").splitlines()[-1] == "zorbl\tmdma"
    monkeypatch.setenv("PLUGWATCH_RULES", str(rules))
    site_terms.use_folder(None)  # a new process: reads the vocabulary at start-up
    try:
        assert cli("scan", post, "-o", tmp_path / "after.jsonl").exit_code == 0
    finally:
        monkeypatch.delenv("PLUGWATCH_RULES")
        site_terms.use_folder(None)
    after = jsonl(tmp_path / "after.jsonl")[0]
    assert not before["flagged"] and after["flagged"]
    assert after["drugs"] == ["mdma"]
    reason = next(r for r in after["reasons"] if r["signal"] == "site_term")
    assert reason["text"] == "zorbl" and "accepted by a lead" in reason["meaning"]


def test_a_term_the_vocabulary_knows_is_not_accepted_into_another_category(tmp_path):
    """`terms accept xanax --category mdma` was written, and every Xanax post was then tagged mdma too
    (verdict.drugs, which rules and statements read). An ambiguous term may still be promoted in one of
    its own categories; a term already there says the category the file gives it."""
    rules = tmp_path / "rules"
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert cli("users", "add", "lead-ann", "--role", "lead", "--db", db).exit_code == 0

    def accept(term, category):
        return cli("terms", "accept", term, "--category", category, "--rules", rules, "--by", "lead-ann", "--db", db)

    for term, category, message in (("xanax", "mdma", "'xanax' is in the detector's vocabulary as benzodiazepine"),
                                    ("X4n4x", "benzodiazepine", "already in the detector's vocabulary as "
                                                                "benzodiazepine, unambiguous: nothing to add")):
        out = accept(term, category)
        assert out.exit_code == 2 and message in " ".join(out.stderr.split()), out.stderr
    assert not (rules / "site_terms.tsv").exists()
    assert accept("snow", "cocaine").exit_code == 0  # ambiguous in the vocabulary: this site says it is cocaine
    assert accept("zorbl", "mdma").exit_code == 0
    again = accept("zorbl", "opioid")
    assert again.exit_code == 0 and "already in" in again.stderr and "zorbl (mdma)" in again.stderr
    assert (rules / "site_terms.tsv").read_text(encoding="utf-8").splitlines()[1:] == ["snow\tcocaine", "zorbl\tmdma"]
