"""Signals: small named detectors of evidence, each with a cost, run cheapest first.

A signal reads a `Context` (the item, its normalised text, its identifiers) and
returns `Hit`s. A hit carries its signal's name, names a feature the model weighs
(`cue:shipping`, `drug:low`) and points at the text a reviewer should look at.
Each signal declares the features its hits may name: `detect.features` refuses to
load when one of them is not a model feature, so a new signal cannot be dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from plugwatch.model import Identifier, Item
from plugwatch.text.normalize import NormText


@dataclass(slots=True)
class Hit:
    signal: str
    feature: str
    meaning: str
    start: int = -1  # offsets into the normalised text (-1: not tied to a span)
    end: int = -1
    category: str | None = None  # drug category, for drug hits
    in_bio: bool = False
    original: bool = False  # True when start/end already index the original text
    # Work left for when a verdict shows this hit (see `settle`): its category and meaning need not
    # be worked out for the many items no one will read about.
    pending: Deferred | None = None


class Deferred(Protocol):
    def settle(self) -> None:
        """Fill in the category and meaning of the hits waiting on this, and clear their `pending`."""


@dataclass(slots=True)
class Context:
    item: Item
    norm: NormText
    identifiers: list[Identifier]
    bio: NormText | None = None
    hits: list[Hit] = field(default_factory=list)

    def has(self, prefix: str) -> bool:
        return any(h.feature.startswith(prefix) for h in self.hits)

    def settle(self) -> list[Hit]:
        """The hits, each with its category and meaning: call before showing them (features and the
        gate need neither)."""
        return settle(self.hits)


def settle(hits: list[Hit]) -> list[Hit]:
    for h in hits:
        if h.pending is not None:
            h.pending.settle()
    return hits


def text_and_bio(ctx: Context, find: Callable[[str, bool], list[Hit]]) -> list[Hit]:
    """Run a text signal on the item's text and, when known, on its author's bio."""
    hits = find(ctx.norm.text, False)
    if ctx.bio is not None:
        hits.extend(_bio_hits(find, ctx.bio.text))
    return hits


@lru_cache(maxsize=4096)
def _bio_hits(find: Callable[[str, bool], list[Hit]], bio: str) -> tuple[Hit, ...]:
    # An account's bio comes with every one of its posts: find its hits once.
    return tuple(find(bio, True))


@dataclass(frozen=True, slots=True)
class Signal:
    name: str  # also the `signal` of every hit it returns
    cost: int  # relative cost; signals run in increasing cost
    run: Callable[[Context], list[Hit]]
    features: tuple[str, ...]  # every feature its hits may name

    @property
    def doc(self) -> str:
        return (self.run.__doc__ or "").strip().split("\n")[0]
