"""The evasion transforms used in training and eval must take any language's text."""

from __future__ import annotations

import random

import pytest

from plugwatch.tools.evasion import TRANSFORMS, leetspeak

# "İ" lowercases to two characters (i + combining dot above): a transform that indexes the lowercased
# word by the original's positions ran off its end on Turkish posts.
TURKISH = "İSTANBUL içi kapıda teslim, İzmir'e kargo, DM İLE yazın"


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_every_transform_takes_dotted_capital_i(name):
    out = TRANSFORMS[name](TURKISH, random.Random(3))
    assert isinstance(out, str) and out


def test_leetspeak_rewrites_words_with_dotted_capital_i_and_keeps_the_letter():
    out = leetspeak("İSTANBUL", random.Random(1), targets=["i̇stanbul", "İstanbul", "istanbul"], rate=1.0)
    assert out != "İSTANBUL"
    assert out.startswith("İ")  # the letter with no one-character lowercase stays as written
    assert len(out) == len("İSTANBUL")
