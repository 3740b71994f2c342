"""Bounded work per item: one enormous record is analysed up to MAX_TEXT characters, keeps at most
MAX_IDENTIFIERS identifiers and MAX_REASONS reasons, and says on its output record what was left out.
(Speed is measured by bench/large_records.py, not here.)"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from plugwatch.cli import app
from plugwatch.model import Identifier, Item
from plugwatch.pipeline import identifiers_for
from plugwatch.records import MAX_IDENTIFIERS, MAX_REASONS, MAX_TEXT, bounded, scan_record, scored_text
from plugwatch.text.identifiers import extract_identifiers

SENTENCE = "Selling MDMA pills {n}0 for ${n}5, wickr: plugman{n} or t.me/plugshop{n} ship worldwide. "


def offer_text(sentences: int, first: int = 100) -> str:
    return "".join(SENTENCE.format(n=n) for n in range(first, first + sentences))


def test_scored_text_is_the_whole_text_up_to_the_limit():
    text = "x" * MAX_TEXT
    assert scored_text(text) is text


def test_a_longer_text_is_cut_at_a_space_below_the_limit():
    text = ("word " * (MAX_TEXT // 5 + 100))
    cut = scored_text(text)
    assert MAX_TEXT - 1_000 <= len(cut) <= MAX_TEXT and text.startswith(cut) and cut.endswith("word")
    assert len(scored_text("y" * (MAX_TEXT + 5))) == MAX_TEXT  # no space anywhere near: cut at the limit


def test_bounded_keeps_each_distinct_value_before_repeats_in_order():
    found = ["a", "a", "a", "b", "a", "c", "a"]
    assert bounded(found, 3, str) == ["a", "b", "c"]
    assert bounded(found, 4, str) == ["a", "a", "b", "c"]
    assert bounded(found, 10, str) is found


def test_identifiers_in_a_long_text_are_those_of_its_sentences():
    # Claiming spans is per character now: a long text must give exactly what its parts give.
    sentences = [SENTENCE.format(n=n) for n in range(100, 400)]
    whole = extract_identifiers("".join(sentences))
    offset, expected = 0, []
    for sentence in sentences:
        expected += [(i.type, i.canonical, i.start + offset, i.end + offset) for i in extract_identifiers(sentence)]
        offset += len(sentence)
    assert [(i.type, i.canonical, i.start, i.end) for i in whole] == expected
    assert len(whole) == 300 * 4  # per sentence: a Wickr name, a link, its Telegram name and its domain


def test_long_record_output_is_bounded_and_says_what_was_left_out():
    text = offer_text(MAX_TEXT // len(SENTENCE) * 3)  # about three times the limit
    item = Item("generic", "big", text)
    ids = identifiers_for(item, None)
    assert ids and all(0 <= i.start < i.end <= MAX_TEXT for i in ids)
    rec = scan_record(item, ids, None)
    assert rec["text"] == text  # the text itself is kept whole
    assert len(rec["identifiers"]) == MAX_IDENTIFIERS
    # distinct identifiers first: 100 different contacts, not one repeated
    assert len({i["canonical"] for i in rec["identifiers"]}) == MAX_IDENTIFIERS
    assert rec["truncated"] == {"text_length": len(text), "text_scored": len(scored_text(text)),
                                "identifiers_found": len(ids), "identifiers_kept": MAX_IDENTIFIERS}


def test_an_ordinary_record_has_no_truncated_field():
    item = Item("generic", "1", "wickr: plugman100, t.me/plugshop")
    assert "truncated" not in scan_record(item, identifiers_for(item, None), None)


def test_reasons_are_capped_with_their_count(detector):
    item = Item("generic", "big", offer_text(400))
    ids = identifiers_for(item, None)
    (verdict,) = detector.verdicts([(item, ids)])
    assert len(verdict.reasons) == MAX_REASONS
    assert verdict.truncated["reasons_kept"] == MAX_REASONS < verdict.truncated["reasons_found"]
    starts = [r.start for r in verdict.reasons if not r.signal.startswith("bio:")]
    assert starts == sorted(starts)
    rec = scan_record(item, ids, verdict)
    assert rec["truncated"]["reasons_found"] == verdict.truncated["reasons_found"]


def test_detector_reads_only_the_scored_part_of_text_and_bio(detector):
    from plugwatch.model import Account

    tail = " selling mdma pills, wickr: plugman99"
    item = Item("generic", "1", "a" * (MAX_TEXT + 10) + tail, author=Account("generic", "x", bio="b" * (MAX_TEXT + 10) + tail))
    ctx = detector.analyse(item, [])
    assert len(ctx.norm.original) <= MAX_TEXT and len(ctx.bio.original) <= MAX_TEXT
    assert not [h for h in ctx.hits if h.signal == "drug_term"]


def test_scan_of_a_huge_record_in_process(tmp_path):
    path = tmp_path / "big.jsonl"
    text = offer_text(40_000)  # about 3.6 MB
    path.write_text(json.dumps({"id": "big", "text": text}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["scan", str(path), "-o", str(out), "--no-model"])
    assert result.exit_code == 0, result.output
    (rec,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rec["truncated"]["text_length"] == len(text) and len(rec["identifiers"]) == MAX_IDENTIFIERS


def test_platform_links_are_bounded_too():
    links = [f"https://t.me/plugshop{n}" for n in range(MAX_IDENTIFIERS * 3)]
    item = Item("generic", "1", "menu in the links", links=links)
    ids = identifiers_for(item, None)
    assert len({i.canonical for i in ids if i.type == "telegram"}) == MAX_IDENTIFIERS
    assert isinstance(ids[0], Identifier)
