"""One scoring pipeline: items in, each with its identifiers and verdict (or a reject) out, in order.

`scan` writes what it yields, the service's ingest stores it, `networks` aggregates it. Items go
through the detector in batches, so its expensive stages run once per batch on only the items the
cheap signals left in doubt, while output order stays input order and memory stays flat.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from plugwatch.model import Identifier, Item, Verdict
from plugwatch.records import MAX_IDENTIFIERS, scored_text
from plugwatch.sources import PLATFORM_IDENTIFIERS, Reject
from plugwatch.text.identifiers import extract_identifiers

# Items per detector call. On an ordinary stream about 1 item in 70 reaches the sentence encoder, whose
# cost per text falls by a third from batches of 4 texts to batches of 16: 1024 items per call scanned
# the 20,000-post benchmark stream about 9% faster than 256, for 7 MB more memory.
BATCH = 1024


class BatchDetector(Protocol):
    def verdicts(self, batch: list[tuple[Item, list[Identifier]]]) -> list[Verdict]: ...


@dataclass(frozen=True, slots=True)
class Scored:
    item: Item
    identifiers: list[Identifier]
    verdict: Verdict | None  # None: no detector, or `known` (not scored again)
    known: bool = False


def identifiers_for(item: Item, default_region: str | None) -> list[Identifier]:
    """The item's identifiers, from at most records.MAX_TEXT characters of its text (scan_record
    keeps MAX_IDENTIFIERS of them), plus those its platform's conventions give. The bio and language
    only place a phone number written without its country code (text/regions.py)."""
    text = scored_text(item.text)
    bio = item.author.bio if item.author is not None else None
    found = extract_identifiers(text, links=item.links[:MAX_IDENTIFIERS], default_region=default_region,
                                bio=scored_text(bio) if bio else None, lang=item.lang)
    platform_rule = PLATFORM_IDENTIFIERS.get(item.platform)
    if platform_rule is not None and item.mentions:
        found.extend(platform_rule(item, text, found, MAX_IDENTIFIERS))
    return found


def score(
    stream: Iterable[Item | Reject],
    detector: BatchDetector | None = None,
    region: str | None = None,
    *,
    batch: int = BATCH,
    check: Callable[[Item], str | None] | None = None,
    check_identified: Callable[[Item, list[Identifier]], str | None] | None = None,
    known: Callable[[list[Item]], Collection[str]] | None = None,
    identify: bool = True,
) -> Iterator[Scored | Reject]:
    """Each item of `stream` scored, or a reject, in input order.

    check(item), then check_identified(item, identifiers): a reason to refuse the item (it becomes a
    reject at its line); the first runs before identifiers are looked for.
    known(items): ids already handled elsewhere; those are yielded `known` and not scored.
    identify=False: no identifiers and no detector (a cheap pass over the texts only).
    """
    chunk: list[Item | Reject] = []
    for x in stream:
        chunk.append(x)
        if len(chunk) >= batch:
            yield from _score_chunk(chunk, detector, region, (check, check_identified), known, identify)
            chunk = []
    if chunk:
        yield from _score_chunk(chunk, detector, region, (check, check_identified), known, identify)


def _score_chunk(chunk, detector, region, checks, known, identify) -> Iterator[Scored | Reject]:
    check, check_identified = checks
    out: list[Scored | Reject] = []
    for x in chunk:
        if isinstance(x, Reject):
            out.append(x)
            continue
        problem = check(x) if check is not None else None
        ids = identifiers_for(x, region) if identify and problem is None else []
        if problem is None and check_identified is not None:
            problem = check_identified(x, ids)
        if problem is not None:
            where = x.source
            out.append(Reject(where.path if where else "", where.line if where else 0, problem))
        else:
            out.append(Scored(x, ids, None))
    fresh = [s for s in out if isinstance(s, Scored)]
    seen = set(known([s.item for s in fresh])) if known is not None and fresh else set()
    to_score = [s for s in fresh if s.item.id not in seen]
    if detector is not None and identify and to_score:
        verdicts = detector.verdicts([(s.item, s.identifiers) for s in to_score])
    else:
        verdicts = [None] * len(to_score)
    scored = {id(s): v for s, v in zip(to_score, verdicts, strict=True)}
    for s in out:
        if isinstance(s, Reject):
            yield s
        elif s.item.id in seen:
            yield Scored(s.item, s.identifiers, None, known=True)
        else:
            yield Scored(s.item, s.identifiers, scored.get(id(s)))
