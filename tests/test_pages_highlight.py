"""Evidence highlighting: spans become <mark>s, overlaps split cleanly, and nothing escapes escaping."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from markupsafe import Markup

from plugwatch.service.highlight import Span, highlight, highlight_reasons, spans_from_reasons


class _Collect(HTMLParser):
    """Rebuilds the visible text and the text of each <mark>, and records every tag seen."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.marks: list[tuple[str, dict[str, str | None]]] = []
        self.tags: list[str] = []
        self._open: dict[str, str | None] | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        assert tag == "mark" and self._open is None, f"unexpected or nested tag <{tag}>"
        self._open, self._buf = dict(attrs), []

    def handle_endtag(self, tag):
        assert tag == "mark" and self._open is not None
        self.marks.append(("".join(self._buf), self._open))
        self._open = None

    def handle_data(self, data):
        self.text.append(data)
        if self._open is not None:
            self._buf.append(data)


def parse(html: str) -> _Collect:
    p = _Collect()
    p.feed(html)
    p.close()
    return p


def test_single_span_is_marked_with_its_reason():
    out = highlight("buy blues here", [Span(4, 9, "'blues' = diazepam", "drug_term", 0)])
    assert isinstance(out, Markup)
    p = parse(out)
    assert "".join(p.text) == "buy blues here"
    assert [m[0] for m in p.marks] == ["blues"]
    attrs = p.marks[0][1]
    assert attrs["title"] == "'blues' = diazepam"
    assert attrs["data-reasons"] == "0"
    assert "hl-drug_term" in attrs["class"].split()


def test_overlapping_and_nested_spans_split_without_crossing_tags():
    text = "tele: @exoticz_plug now"
    spans = [
        Span(6, 19, "Telegram contact", "identifier", 0),  # @exoticz_plug
        Span(15, 19, "'plug' = dealer", "drug_term", 1),  # plug (nested at the end)
        Span(0, 8, "contact cue", "cue", 2),  # crosses into the identifier
    ]
    p = parse(highlight(text, spans))
    assert "".join(p.text) == text
    runs = [(t, a["data-reasons"]) for t, a in p.marks]
    assert runs == [("tele: ", "2"), ("@e", "0 2"), ("xoticz_", "0"), ("plug", "0 1")]
    many = [a["class"] for t, a in p.marks if t == "plug"][0].split()
    assert {"hl-identifier", "hl-drug_term", "hl-many"} <= set(many)
    assert p.marks[-1][1]["title"] == "Telegram contact; 'plug' = dealer"


def test_identical_spans_give_one_mark_with_both_reasons():
    p = parse(highlight("exotic za", [Span(0, 6, "cannabis", "drug_term", 0), Span(0, 6, "quality", "cue", 1)]))
    assert [(t, a["data-reasons"]) for t, a in p.marks] == [("exotic", "0 1")]


def test_bad_spans_are_ignored_not_fatal():
    text = "hello"
    spans = [Span(-1, 2, "neg", "x"), Span(3, 3, "empty", "x"), Span(4, 2, "reversed", "x"), Span(2, 99, "far", "x")]
    out = highlight(text, spans)
    assert out == Markup("hello")


def test_text_and_labels_are_escaped():
    text = '<script>alert("x")</script> & <img src=x onerror=alert(1)> "q" \'s\''
    label = '"><script>alert(2)</script>'
    out = str(highlight(text, [Span(0, 8, label, 'cue" onmouseover="alert(3)', 0)]))
    assert "<script" not in out and "<img" not in out
    assert "onmouseover=" not in out.replace('onmouseover-', '')
    p = parse(out)
    assert set(p.tags) == {"mark"}
    assert "".join(p.text) == text
    assert p.marks[0][1]["title"] == label  # shown verbatim as text, never as markup
    assert re.fullmatch(r"hl hl-[a-z0-9_-]+", p.marks[0][1]["class"])


def test_text_without_spans_is_escaped_markup():
    out = highlight("a < b & c", [])
    assert isinstance(out, Markup) and str(out) == "a &lt; b &amp; c"


def test_reasons_dicts_split_between_text_and_bio():
    reasons = [
        {"signal": "commerce", "meaning": "menu: 3 priced lines"},  # no span: not highlighted
        {"signal": "drug_term", "meaning": "'za' = cannabis", "text": "za", "span": [0, 2]},
        {"signal": "bio:cue", "meaning": "shipping", "text": "ships", "span": [4, 9]},
        {"signal": "cue", "label": "price", "start": 3, "end": 6},
        {"signal": "cue", "meaning": "bad", "span": ["a", 2]},
        {"signal": "cue", "meaning": "bool", "span": [True, 2]},
    ]
    text_spans = spans_from_reasons(reasons)
    assert [(s.start, s.end, s.label, s.ref) for s in text_spans] == [(0, 2, "'za' = cannabis", 1), (3, 6, "price", 3)]
    bio_spans = spans_from_reasons(reasons, bio=True)
    assert [(s.start, s.end, s.signal, s.ref) for s in bio_spans] == [(4, 9, "bio:cue", 2)]
    p = parse(highlight_reasons("we  ships daily", reasons, bio=True))
    assert [t for t, _ in p.marks] == ["ships"]
    assert "hl-cue" in p.marks[0][1]["class"].split()
    assert highlight_reasons(None, reasons) == Markup("")


def test_astral_characters_index_by_code_point():
    text = "🍃 za 💊 blues"  # spans from the detector index Python strings (code points)
    p = parse(highlight(text, [Span(0, 1, "leaf", "drug_term"), Span(7, 12, "blues", "drug_term")]))
    assert [t for t, _ in p.marks] == ["🍃", "blues"]


def test_reasons_without_offsets_are_placed_by_their_text():
    # The detector keeps a bio reason's text but drops its offsets (they index a normalised bio).
    bio = "Pharma grade, fast & discreet. menu on tele"
    reasons = [{"signal": "bio:cue", "meaning": "quality claim", "text": "Pharma grade", "span": [-1, -1]},
               {"signal": "bio:cue", "meaning": "shipping", "text": "discreet", "span": [-1, -1]},
               {"signal": "bio:cue", "meaning": "absent", "text": "wickr", "span": [-1, -1]}]
    p = parse(highlight_reasons(bio, reasons, bio=True))
    assert [(t, a["data-reasons"]) for t, a in p.marks] == [("Pharma grade", "0"), ("discreet", "1")]
    assert spans_from_reasons(reasons, bio=True) == []  # without the text to search, nothing to place
