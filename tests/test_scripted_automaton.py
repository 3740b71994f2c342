"""ScriptedAutomaton runs one automaton per script of its keys' first characters: it must find what one
automaton of all keys finds, in the same order (by end, the longest key first)."""

import random

import ahocorasick

from plugwatch.text.phrases import ScriptedAutomaton

KEYS = ["dm", "dm me", "me", "e", "ship", "私聊", "聊", "冰毒", "🍄", "🍄🍫", "мефедрон", "мед", "ед", "ยาบ้า", "บ้า",
        "대마", "마", "x私", "q🍄"]


def _one_automaton(keys):
    auto = ahocorasick.Automaton()
    for i, key in enumerate(keys):
        auto.add_word(key, (key, i))
    auto.make_automaton()
    return auto


def test_same_matches_in_the_same_order_as_one_automaton():
    single = _one_automaton(KEYS)
    split = ScriptedAutomaton((key, i) for i, key in enumerate(KEYS))
    assert len(split) == len(KEYS)
    rng = random.Random(3)
    pieces = KEYS + [" ", "a", "z", "。", "!", "🔥", "д"]
    texts = ["dm me for 🍄🍫 冰毒私聊 мефедрон ยาบ้า 대마", "plain ascii only", "", "🔥🔥", "q🍄x私聊"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 30))) for _ in range(2000)]
    for text in texts:
        assert split.iter(text) == list(single.iter(text)), text


def test_a_text_without_the_first_characters_runs_no_script_automaton():
    split = ScriptedAutomaton([("冰毒", 1), ("dm", 2)])
    assert split.iter("🔥 no keys here") == []
    assert split.iter("dm 🔥") == [(1, ("dm", 2))]
