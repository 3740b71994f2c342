"""The detector: cheap signals on every item, the embedding model only where
they leave doubt, and a verdict with reasons that point at the original text."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import regex as re

from plugwatch.detect import embed as embedding
from plugwatch.detect.features import FEATURES, feature_matrix
from plugwatch.detect.model import DetectorModel
from plugwatch.detect.ngram_bound import NgramBound
from plugwatch.model import Identifier, Item, OfferKind, Reason, Verdict
from plugwatch.records import MAX_REASONS, bounded, scored_text
from plugwatch.signals import Context, Hit, run_signals_over
from plugwatch.signals.cues import SELLERS_WORDS_TOO
from plugwatch.text.identifier_types import TYPES as IDENTIFIER_TYPES
from plugwatch.text.normalize import NormText, normalize
from plugwatch.text.vocabulary import CATEGORIES

SALE, BUY = 1, 2
DRUG_CLEAR = frozenset({"drug:low", "drug:medium", "drug:emoji"})
OFF_PLATFORM = frozenset({"id:contact", "id:wallet", "id:payment", "id:drug_handle", "cue:no_rx", "quantity",
                          "price:per_unit", "menu"})
# A sale cue alone passes the gate: in languages whose slang the vocabulary covers thinly, offers name
# no drug it knows, and the n-gram and embedding models must see them.
SALE_CUES = frozenset({"cue:stock", "cue:contact", "cue:shipping", "cue:payment", "cue:selling", "cue:invite"})
BIO_COLUMNS = [i for i, name in enumerate(FEATURES) if name.startswith("bio_")]
SALE_TALK = SALE_CUES | {"cue:quality", "cue:request", "price", "price:per_unit", "quantity", "menu", "id:phone",
                         "id:url"}


def has_evidence(ctx: Context) -> bool:
    """Whether anything in the item could make it an offer or a request: a drug term that
    is not an everyday word, an off-platform contact or payment, a weight or per-unit
    price, a sale cue, or an everyday drug word together with sale talk. Items without any stop at the
    gate, whatever its prior says: the text models would only be weighing the prior. A
    dealer's bio counts only when the post itself says something of a sale ("restocked,
    wickr in bio"), so that the bio alone does not make every post of that account an offer."""
    text = {h.feature for h in ctx.hits if not h.in_bio}
    if _evidence(text):
        return True
    bio = {h.feature.removeprefix("bio_") for h in ctx.hits if h.in_bio}
    return bool(text & SALE_TALK) and _evidence(bio | text)


def _evidence(features: set[str]) -> bool:
    if features & DRUG_CLEAR or features & OFF_PLATFORM or features & SALE_CUES:
        return True
    return "drug:high" in features and bool(features & SALE_TALK)


@lru_cache(maxsize=4096)
def _normalize_bio(bio: str) -> NormText:
    return normalize(bio)  # a bio repeats with every post of its account


# Characters: an offer is a sentence or two, a page of chatter or an article is many. At 200 an offer
# sentence shared its window with as much family chatter, and the v2 model (trained on look-alikes that
# mix drug words with everyday life) let the chatter win; most hand-written offers fit in 120.
WINDOW = 120
MAX_WINDOWS = 24  # cost bound: a longer text gets windows further apart
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n\s*")


def windows(text: str) -> list[tuple[int, int]]:
    """Spans of whole sentences (or lines) up to WINDOW characters, starting about half a window
    apart so that neighbours overlap; a sentence longer than a window is cut into windows.
    None for a text one window covers."""
    n = len(text)
    if n <= WINDOW * 3 // 2:
        return []
    pieces: list[tuple[int, int]] = []  # sentences, long ones cut to WINDOW
    a = 0
    for m in [*_SENTENCE_END.finditer(text), None]:
        b = m.end() if m else n
        while b - a > WINDOW:
            pieces.append((a, a + WINDOW))
            a += WINDOW // 2
        if b > a:
            pieces.append((a, b))
        a = b
    step = max(WINDOW // 2, -(-n // MAX_WINDOWS))
    spans, last = [], -step
    for k, (start, end) in enumerate(pieces):
        if start < last + step and k:
            continue
        m = k
        while m + 1 < len(pieces) and pieces[m + 1][1] - start <= WINDOW:
            m += 1
        spans.append((start, max(end, pieces[m][1])))
        last = start
    return spans


def _window_item(item: Item, ids: list[Identifier], a: int, b: int) -> tuple[Item, list[Identifier]]:
    # Identifiers the platform gave outside the text (start < 0: links, mentions) belong to every window.
    inside = [i if i.start < 0 else replace(i, start=i.start - a, end=i.end - a)
              for i in ids if i.start < 0 or (i.start >= a and i.end <= b)]
    return replace(item, text=item.text[a:b]), inside


_REPORT_CUES = frozenset({"cue:warning", "cue:news"})


def _is_news(ctx: Context) -> bool:
    """A news word in the post's own text, other than those dealers write too ("no cops", "customs")."""
    text = ctx.norm.text
    return any(h.feature == "cue:news" and not h.in_bio and text[h.start:h.end] not in SELLERS_WORDS_TOO
               for h in ctx.hits)


def _reports(ctx: Context) -> bool:
    """The post warns about or reports on a seller: a window quoting the seller's ad must not outvote it."""
    return any(h.feature in _REPORT_CUES and not h.in_bio for h in ctx.hits)


# Clear drug terms, masked for the n-gram models. Ambiguous words ("ice", "snow", and "blow", which is also
# a medium-ambiguity name) stay as written: their everyday sense is what the n-grams around them tell apart.
# A site's own accepted terms are masked too (so that accepting one reaches the n-grams without retraining),
# under "other" when their category is not one of the vocabulary's: training never saw any other token.
MASKED_DRUG = frozenset({"drug:low", "drug:medium"})
MASKED_SIGNALS = frozenset({"drug_term", "site_term"})
KNOWN_CATEGORIES = frozenset(CATEGORIES)


def model_text(ctx: Context) -> str:
    """The normalised text with each clear drug term replaced by its category ("§opioid§"), for the
    n-gram models: an offer is in how a post talks about a drug, not in which of its names it uses. Unmasked,
    "xans" leaned to requests (most training posts naming it ask for it) and "selling xans dm me" scored
    0.11 against 0.77 for "selling xanax dm me". The embedding still reads the text as written."""
    text_hits = [h for h in ctx.hits if h.signal in MASKED_SIGNALS and not h.in_bio and not h.original and h.start >= 0]
    # A word with an everyday reading ("ice", "lean", "blow" are also drug:high) stays as written.
    everyday = {(h.start, h.end) for h in text_hits if h.feature == "drug:high"}
    spans = sorted(((h.start, h.end, h.category) for h in text_hits
                    if h.feature in MASKED_DRUG and (h.start, h.end) not in everyday),
                   key=lambda s: (s[0], -s[1]))  # the longest term first where two start together
    if not spans:
        return ctx.norm.text
    text, out, pos = ctx.norm.text, [], 0
    for a, b, cat in spans:
        if a < pos:
            pos = max(pos, b)
            continue
        out.append(text[pos:a])
        out.append(f"§{cat if cat in KNOWN_CATEGORIES else 'other'}§")
        pos = b
    out.append(text[pos:])
    return "".join(out)


def _context(item: Item, identifiers: list[Identifier]) -> Context:
    # Signals read at most records.MAX_TEXT characters of the text and of the bio (a prefix, so
    # spans still index the original text).
    text = scored_text(item.text)
    if len(text) < len(item.text):
        item = replace(item, text=text)
    bio = item.author.bio if item.author is not None else None
    return Context(item, normalize(text), identifiers, _normalize_bio(scored_text(bio)) if bio else None)


REASON_FLOOR = 0.2  # below this score an item gets no reasons: nobody will review it


class Detector:
    def __init__(self, model: DetectorModel, threshold: float | None = None, use_model: bool = True):
        self.model = model
        self.threshold = model.threshold if threshold is None else threshold
        self.use_model = use_model
        self.stage_runs = {"text": 0, "full": 0}  # how many items each costlier stage was needed for
        self._reached = (np.empty(0, np.intp), np.empty(0, np.intp))  # the last call's contexts at each stage
        self.reached_items: tuple[set[int], ...] = (set(), set())  # the last verdicts' items at each stage
        self._embed = embedding.CachedEmbedder()
        self._ngram_bound: NgramBound | None = None  # built on first need: cheap-stage-only detectors never do

    @classmethod
    def load(cls, path: Path | None = None, threshold: float | None = None, use_model: bool = True) -> Detector:
        return cls(DetectorModel.load(path), threshold, use_model)

    # -- analysis -------------------------------------------------------------
    @staticmethod
    def analyse(item: Item, identifiers: list[Identifier]) -> Context:
        return Detector.analyse_all([(item, identifiers)])[0]

    @staticmethod
    def analyse_all(batch: list[tuple[Item, list[Identifier]]]) -> list[Context]:
        """`analyse` of each item, the signals run over the whole batch (`run_signals_over`)."""
        contexts = [_context(item, ids) for item, ids in batch]
        run_signals_over(contexts)
        return contexts

    def probabilities(self, contexts: list[Context], bound: bool = True, count: bool = True) -> np.ndarray:
        """Each stage decides what it is sure of and passes the rest on. `bound`: items without evidence whose
        n-grams could make the text stage doubt go on to it (not for windows: see _windowed). `count`: add
        the contexts each stage saw to stage_runs (not for windows: their item is counted once)."""
        m = self.model
        self._reached = (np.empty(0, np.intp), np.empty(0, np.intp))
        feats = feature_matrix([(c.hits, c.norm.text) for c in contexts])
        proba = m.gate.proba(feats)
        if not self.use_model:
            return proba
        evidence = np.fromiter(map(has_evidence, contexts), dtype=bool, count=len(contexts))
        # Items without evidence get the class rates measured on such items in training, unless their
        # n-grams could make the text stage doubt (ngram_bound): then it scores them as any other.
        proba[~evidence] = m.no_evidence
        passed = evidence & (proba[:, SALE] + proba[:, BUY] >= m.gate_threshold)
        free = np.flatnonzero(~evidence) if bound else ()
        if len(free):
            # Read without the bio: has_evidence lets the bio count only when the post itself says something of
            # a sale, and once at the text stage the bio's menu and contacts outweigh any everyday post.
            feats[np.ix_(free, BIO_COLUMNS)] = 0.0
            free_texts = [model_text(contexts[i]) for i in free]
            if self._ngram_bound is None:
                self._ngram_bound = NgramBound(m.text, m.text_band[0])
            reached = free[self._ngram_bound.may_reach(feats[free], free_texts)]
            passed[reached] = True
        doubt = np.flatnonzero(passed)
        if not doubt.size:
            return proba
        self._reached = (doubt, self._reached[1])
        if count:
            self.stage_runs["text"] += int(doubt.size)
        texts = [model_text(contexts[i]) for i in doubt]
        grams = m.text.hashing.transform(texts)
        p_text = m.text.proba(feats[doubt], grams=grams)
        proba[doubt] = p_text
        (s_lo, s_hi), (b_lo, b_hi) = m.text_band
        unsure = ((p_text[:, SALE] >= s_lo) & (p_text[:, SALE] <= s_hi)) | (
            (p_text[:, BUY] >= b_lo) & (p_text[:, BUY] <= b_hi) & evidence[doubt])
        # A news story names the seller's handle, drug and delivery much as the ad did: it is an offer only
        # if both the n-grams (the words) and the embedding (what the post is about) read one. Not so for
        # warnings: dealers' own posts warn of impersonators and scammers.
        news = np.fromiter((_is_news(contexts[i]) for i in doubt), dtype=bool, count=doubt.size)
        unsure |= news
        if unsure.any():
            idx = doubt[unsure]
            self._reached = (doubt, idx)
            if count:
                self.stage_runs["full"] += int(idx.size)
            rows = np.flatnonzero(unsure)
            sub = [texts[j] for j in rows]
            same = m.full.hashing == m.text.hashing  # then reuse the n-grams hashed above
            emb = self._embed([contexts[i].norm.text for i in idx])
            p_full = m.full.proba(feats[idx], emb, sub, grams[rows] if same else None)
            lower = news[rows] & (p_text[rows, SALE] < p_full[:, SALE])
            p_full[lower] = p_text[rows[lower]]
            proba[idx] = p_full
        if len(free):
            proba[reached, BUY] = m.no_evidence[BUY]  # see ngram_bound: no request is read without evidence
        return proba

    def verdicts(self, batch: list[tuple[Item, list[Identifier]]]) -> list[Verdict]:
        if not batch:
            return []
        contexts = self.analyse_all(batch)
        proba = self.probabilities(contexts)
        # The items (by index) each costlier stage saw, whole or in a window: stage_runs counts items, so
        # the scan's summary gives shares of items (a long post's windows once, never above 100%).
        self.reached_items = tuple(set(a.tolist()) for a in self._reached)
        if self.use_model:
            self._windowed(batch, contexts, proba)
        return [self._verdict(ctx, p) for ctx, p in zip(contexts, proba, strict=True)]

    def _windowed(self, batch: list[tuple[Item, list[Identifier]]], contexts: list[Context],
                  proba: np.ndarray) -> None:
        """A long post is scored as a whole and window by window, and keeps its most offer-like
        window: the models were trained on posts, and a page of chatter around a two-line offer
        would otherwise drown the offer (the embedding averages over the whole text)."""
        owners, pieces = [], []
        for i, (item, ids) in enumerate(batch):
            ctx = contexts[i]
            # The model's own threshold, not --threshold: a score must not depend on the threshold asked for.
            if proba[i, SALE] >= self.model.threshold or not has_evidence(ctx) or _reports(ctx):
                continue  # an offer already; or no window can have evidence; or a report quoting an ad
            for a, b in windows(scored_text(item.text)):
                owners.append(i)
                pieces.append(_window_item(item, ids, a, b))
        if not pieces:
            return
        parts = self.analyse_all(pieces)
        # A window without evidence stays at the gate: read out of its post, a line of care advice ("dispose
        # of them safely") or a site's footer could otherwise outvote the whole post.
        for i, p in zip(owners, self.probabilities(parts, bound=False, count=False), strict=True):
            if p[SALE] > proba[i, SALE]:
                proba[i] = p
        for key, seen, reached in zip(("text", "full"), self.reached_items, self._reached, strict=True):
            new = {owners[j] for j in reached.tolist()} - seen  # an item is counted once, whole or in windows
            seen.update(new)
            self.stage_runs[key] += len(new)

    # -- verdict ----------------------------------------------------------------
    def _verdict(self, ctx: Context, p: np.ndarray) -> Verdict:
        score = float(p[SALE])
        flagged = score >= self.threshold
        kind = None
        if flagged:
            kind = OfferKind.OFFER
        elif float(p[BUY]) >= self.model.request_threshold:
            kind = OfferKind.REQUEST
        if kind is not None or score >= REASON_FLOOR:
            ctx.settle()  # the readings of ambiguous words, now that someone will see them
        drug_hits = [h for h in ctx.hits if h.signal in ("drug_term", "site_term") and not h.in_bio]
        clear = [h for h in drug_hits if not h.feature.endswith(("high", "emoji"))]
        # Everyday words ("gras", "snow") name a drug only once the item is an offer or request.
        drugs = sorted({h.category for h in (drug_hits if kind else clear) if h.category and h.category != "other"})
        v = Verdict(score=score, flagged=flagged, kind=kind, drugs=drugs)
        if kind is None and score < REASON_FLOOR:
            return v
        evidence = has_evidence(ctx)
        # Without evidence the post was scored without its bio (probabilities), so the bio is no reason, and a
        # flag is the n-grams' reading alone, whatever everyday word ("loud") the post holds.
        v.reasons = reasons_for(ctx) if evidence else [r for r in reasons_for(ctx) if not r.signal.startswith("bio:")]
        if flagged and (not evidence or not any(h.signal in ("drug_term", "site_term", "cue", "commerce")
                                                and not h.in_bio for h in ctx.hits)):
            v.model_only = True
            v.reasons.append(Reason("model", "model-only decision: the text resembles known offers, "
                                    "but no listed drug term or sale cue was found", weight=score))
        if len(v.reasons) > MAX_REASONS:
            v.truncated = {"reasons_found": len(v.reasons), "reasons_kept": MAX_REASONS}
            v.reasons = bounded(v.reasons, MAX_REASONS, lambda r: (r.signal, r.text))
        return v


def _span(ctx: Context, h: Hit) -> tuple[str | None, int, int]:
    if h.start < 0:
        return None, -1, -1
    if h.original:
        return ctx.item.text[h.start:h.end], h.start, h.end
    norm: NormText = ctx.bio if h.in_bio and ctx.bio is not None else ctx.norm
    start, end = norm.span(h.start, h.end)
    return norm.original[start:end], start, end


def _outside_text(ctx: Context) -> dict[str, list[Identifier]]:
    """Identifiers the platform gave outside the text (links, mentions), by the meaning their
    identifier hit carries, in order: a reason for one shows its value."""
    out: dict[str, list[Identifier]] = {}
    for i in ctx.identifiers:
        if i.start < 0 and i.type != "domain":  # domains give no hit (their url does)
            kind = IDENTIFIER_TYPES.get(i.type)
            out.setdefault(kind.label if kind else i.type, []).append(i)
    for queue in out.values():
        queue.reverse()  # popped from the end
    return out


def reasons_for(ctx: Context) -> list[Reason]:
    out: list[Reason] = []
    seen: set[tuple] = set()
    outside = _outside_text(ctx) if any(i.start < 0 for i in ctx.identifiers) else {}
    for h in ctx.hits:
        text, start, end = _span(ctx, h)
        source = None
        if h.signal == "identifier" and h.start < 0 and outside.get(h.meaning):
            given = outside[h.meaning].pop()
            text, source = given.value, given.source or "link"
        key = (h.signal, text, start, end, h.in_bio)
        if key in seen:
            continue
        seen.add(key)
        meaning = f"'{text}' {h.meaning}" if h.signal == "drug_term" and text else h.meaning
        signal = f"bio:{h.signal}" if h.in_bio else h.signal
        # Bio spans index the bio, not the post: keep the text, drop offsets that would mislead.
        if h.in_bio:
            start = end = -1
        out.append(Reason(signal, meaning, text, start, end, source=source))
    out.sort(key=lambda r: (r.signal.startswith("bio:"), r.start))
    return out
