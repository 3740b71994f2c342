"""Evidence highlighting: item text plus reason spans -> escaped HTML with one <mark> per covered run.

Spans may overlap or nest (a drug term inside a price, a cue on the same word as a term). The text is
cut at every span boundary; each run covered by at least one span becomes one <mark> naming every reason
that covers it, so nothing is dropped and tags never cross. Every piece of text is escaped: the result is
safe to put into a page whatever the post contains.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

_CLASS_UNSAFE = re.compile(r"[^a-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    label: str
    signal: str = ""
    ref: int | None = None  # index of the reason in the reasons list, for linking list <-> text


def _span_of(reason: Mapping[str, Any]) -> tuple[int, int] | None:
    span = reason.get("span")
    if isinstance(span, list | tuple) and len(span) == 2:
        start, end = span
    else:
        start, end = reason.get("start"), reason.get("end")
    if isinstance(start, bool) or isinstance(end, bool):
        return None
    if not isinstance(start, int) or not isinstance(end, int):
        return None
    return start, end


def spans_from_reasons(reasons: Iterable[Mapping[str, Any]], *, bio: bool = False,
                       text: str | None = None, media: tuple[int, str] | None = None) -> list[Span]:
    """Spans of the reasons that point into the item text (or, with bio=True, into the author's bio).

    Reasons whose signal starts with `bio:` belong to the bio, all others to the text. A reason with
    no usable span but with its `text` (the detector drops bio offsets) is placed at the first
    occurrence of that text in `text`, when given. Reasons about the whole item ("menu: 3 priced
    lines") have neither and are not spans. Reasons about a picture (`media`, `media_text`) index that
    picture's OCR or alt text: they are spans only when `media` = (index, "ocr" or "alt") asks for them.
    """
    out = []
    for i, r in enumerate(reasons):
        signal = str(r.get("signal") or "")
        if signal.startswith("bio:") != bio:
            continue
        if (r.get("media"), r.get("media_text")) != (media or (None, None)):
            continue
        span = _span_of(r)
        if (span is None or span[0] < 0) and text and isinstance(r.get("text"), str) and r["text"]:
            at = text.find(r["text"])
            span = (at, at + len(r["text"])) if at >= 0 else None
        if span is None or span[0] < 0:
            continue
        label = str(r.get("meaning") or r.get("label") or signal)
        out.append(Span(span[0], span[1], label, signal, i))
    return out


def _css(signal: str) -> str:
    name = signal.split(":", 1)[-1].lower()
    return "hl-" + (_CLASS_UNSAFE.sub("-", name).strip("-") or "other")


def highlight(text: str, spans: Iterable[Span]) -> Markup:
    """Escaped `text` with a <mark> around each run covered by spans.

    Spans outside the text, empty or reversed are ignored (stored evidence must never break a page).
    """
    n = len(text)
    good = [s for s in spans if 0 <= s.start < s.end <= n]
    if not good:
        return escape(text)
    cuts = sorted({0, n, *(s.start for s in good), *(s.end for s in good)})
    parts: list[str] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        piece = escape(text[a:b])
        cover = [s for s in good if s.start <= a and b <= s.end]
        if not cover:
            parts.append(piece)
            continue
        labels = list(dict.fromkeys(s.label for s in cover))
        classes = list(dict.fromkeys(_css(s.signal) for s in cover))
        if len(cover) > 1:
            classes.append("hl-many")
        refs = " ".join(str(s.ref) for s in cover if s.ref is not None)
        attrs = f' class="hl {" ".join(classes)}" title="{escape("; ".join(labels))}"'
        if refs:
            attrs += f' data-reasons="{refs}"'
        names = _emoji_names(text[a:b])
        if names:  # shown beside the evidence by the style sheet (mark[data-emoji]::after): the text is unchanged
            attrs += f' data-emoji="{escape(names)}"'
        parts.append(f"<mark{attrs}>{piece}</mark>")
    return Markup("".join(parts))


def _emoji_names(run: str) -> str:
    """The names of the emoji in a piece of evidence, shown beside it ("💊 pill"): a screen without an
    emoji font draws an empty box, and the name still tells the reviewer the code."""
    import emoji

    names = [emoji.EMOJI_DATA[e["emoji"]]["en"].strip(":").replace("_", " ") for e in emoji.emoji_list(run)
             if e["emoji"] in emoji.EMOJI_DATA]
    return ", ".join(dict.fromkeys(names))


def highlight_reasons(text: str | None, reasons: Iterable[Mapping[str, Any]], *, bio: bool = False) -> Markup:
    """Convenience for templates: highlight `text` (item text or bio) with the matching reasons."""
    if not text:
        return Markup("")
    return highlight(text, spans_from_reasons(reasons, bio=bio, text=text))
