"""Cue phrases (stock, contact, shipping, payment, no-prescription, selling, invitation,
quality, request, news, care, warning, genuine account) in every language covered, from package data.

An invitation asks whether the reader wants or needs some ("who needs carts?", "anyone in Leeds
want pressies?", "looking for tabs? dm"): an offer phrased as a question, the opposite of a request
("who's got carts?", "need xans, anyone?"). Besides the listed phrases, a few grammatical patterns
find invitations whose words are apart: a "who/anyone ... want/need" question, and a question that
opens with what the reader may need, unless it asks "anyone?" itself."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import regex

from plugwatch.signals.base import Context, Hit, Signal, text_and_bio
from plugwatch.text.normalize import normalize
from plugwatch.text.phrases import PhraseMatcher
from plugwatch.text.vocabulary import stretched_forms

MEANINGS = {
    "stock": "stock or availability",
    "contact": "contact or off-platform redirect",
    "shipping": "shipping or delivery",
    "payment": "payment method",
    "no_rx": "no prescription needed",
    "selling": "selling or price talk",
    "invite": "asks whether the reader wants some (an offer as a question)",
    "quality": "quality claim",
    "request": "asks to buy",
    "news": "news or law-enforcement context",
    "care": "harm-reduction, recovery or treatment context",
    "warning": "warning, scam report or bad-batch alert",
    # Sellers warn of impostors too ("fakes are using my name, this is my only page" + a menu): the words
    # of a warning, said of the writer's own account, which a victim's or a health service's warning is not.
    "genuine": "vouches for its own account against impostors (only real page, fakes using my name)",
}

# Words of the report cues (news, care) that sellers write in their own offers too ("no cops", "customs-safe",
# "ships past the border", "clean", "great trip report, hmu"): they say nothing of a report there. As matched on
# the normalised text.
SELLERS_WORDS_TOO = frozenset(
    """clean support meeting od quit sober reported news breaking headline cops bust busted border customs
    prescribed prescription pharmacy refill insurance dosage therapy therapist deaths died killed zoll tullen""".split()
) | {"my script", "side effects", "trip report", "trip reports", "海关", "海關", "税関", "세관", "الجمارك", "המכס"}


@cache
def _cue_rows() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(cue, language, phrases) of each row of data/cues.tsv, each phrase normalised as the text it is matched
    on is ("Kapıya" -> "kapiya"). Read once for both matchers: normalising the 5,000 phrases takes a tenth of
    a second."""
    text = resources.files("plugwatch.data").joinpath("cues.tsv").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            cue, lang, phrases = line.split("\t")
            rows.append((cue, lang, tuple(" ".join(normalize(p).text.split()) for p in phrases.split("|"))))
    return tuple(rows)


@cache
def cue_matcher() -> PhraseMatcher[tuple[str, str]]:
    entries = []
    for cue, lang, phrases in _cue_rows():
        if cue == CONDITIONAL:
            continue  # read by conditional_matcher
        for form in phrases:
            # "deeeliver" is normalised to "deeliver" (a stretched e, o or l is kept doubled)
            entries.extend((f, (cue, lang)) for f in [form, *stretched_forms(form)])
    return PhraseMatcher(entries)


_WHO = (r"(?:who|anyone|anybody|any1|y'?all|alguien|quien|qui|quelqu'un|wer|jemand|alguem|quem|qualcuno|chi|"
        r"iemand|wie)")
_WANT = (r"(?:wants?|wanna|needs?|needing|after|tryna|looking for|lookin for|quiere|busca|necesita|veut|cherche|"
         r"braucht|will|sucht|quer|precisa|precisando|procurando|vuole|cerca|serve|nodig|zin|zoekt)")
_INVITE = (
    regex.compile(rf"(?<!\w){_WHO}(?:\s+[\w'-]+){{0,3}}?\s+{_WANT}(?!\w)"),
    # "looking for tabs for the festival? dm", "running low on green?": what the reader needs, asked of them
    regex.compile(r"(?:^|(?<=[.!?\n]\s{0,3}))(?:need|needing|looking for|lookin for|want|wanna|running low on|"
                  r"out of|craving|bored)(?!\w)[^?.!\n]{0,60}\?"),
)
_MAY_INVITE = regex.compile(rf"(?<!\w){_WHO}(?!\w)")
# The same words anywhere, with `re`: a cheap first look (`regex` scans about twice as slowly), true of every
# text _MAY_INVITE matches.
_MAY_INVITE_WORDS = re.compile(_WHO)
# "selling bars rn, hmu": a clause that opens with "selling" has the writer as its subject, an offer like
# "i'm selling" (a stock phrase); "selling" after anything else may be anyone's ("who's selling", "arrested
# for selling"), so that one stays the selling-talk cue it is in the phrase list.
_SELLING_OPENS = regex.compile(r"(?:^|(?<=[.!?\n]\s{0,3}))(?:[^\w\s]{1,3}\s?)?(selling|sellin)(?!\w)")
# "We never sell ... without a prescription", "it is illegal to buy ... without a prescription": a no-prescription
# phrase is itself a negation, and a negation or a prohibition before it in the same clause turns it into what
# a legitimate pharmacy or a public warning says. Bare "no" is left out: "no hassle no script" stays an offer.
_NEGATION = regex.compile(
    r"(?<!\w)(?:never|not|don't|dont|doesn't|doesnt|won't|wont|cannot|can't|cant|illegal|illegally|unlawful|unlawfully|against the law|"
    r"nunca|jamas|ilegal|ilegalmente|ne|n'|pas|jamais|illegalement|nicht|nie|niemals|verboten|"
    r"nao|non|mai|illegale|illegalmente|niet|nooit|illegaal|не|никогда|незаконно|нелегально|ні|ніколи|"
    r"nigdy|nielegalnie|asla|yasadisi|yasa disi|khong bao gio)(?!\w)"
)
_CJK_NEGATION = regex.compile(r"(?:不|从不|從不|决不|絕不|禁止|严禁|嚴禁|违法|違法)\p{Han}{0,4}$")
_CLAUSE_END = regex.compile(r"[.,;:!?\n()\[\]]")
_NEGATION_WORDS = 5
# A quotation mark opens where a word starts and closes where one ends: the apostrophes of "don't" and
# "it's" are neither.
_OPEN_QUOTE = regex.compile(r"(?:^|(?<=[\s(\[:]))['\"‘“«„‚`]")
_CLOSE_QUOTE = regex.compile(r"['\"’”»`](?=$|[\s.,;:!?)\]])")
_QUOTE_REACH = 120


def _quoted(text: str, start: int, end: int) -> bool:
    """start:end lies inside a quotation on its line ("texts offering 'Oxycodone, no Rx' are not from us")."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    lo, hi = max(line_start, start - _QUOTE_REACH), min(line_end, end + _QUOTE_REACH)
    opened = [m.start() for m in _OPEN_QUOTE.finditer(text, lo, start)]
    if not opened:
        return False
    closed = _CLOSE_QUOTE.search(text, opened[-1] + 1)  # the whole text: an end bound would read as "$"
    return closed is not None and end <= closed.start() < hi


def _mentioned_or_negated(text: str, start: int, end: int) -> bool:
    """A no-prescription phrase that is quoted ("sites selling 'without prescription'") or follows a negation
    or a prohibition within a few words of its clause."""
    if _quoted(text, start, end):
        return True
    before = text[:start].rstrip(" ")
    clause = _CLAUSE_END.split(before)[-1]
    words = clause.split()[-_NEGATION_WORDS:]
    if words and _NEGATION.search(" ".join(words)) is not None:
        return True
    return _CJK_NEGATION.search(clause) is not None  # Chinese has no spaces: the characters just before


_FIRST_PERSON = regex.compile(r"(?<!\w)(?:i|i'm|im|ive|i've|eu|yo|io|ich|je|j'|ik|я|ja|ben)(?!\w)")
_ASKS_OTHERS = regex.compile(r"(?<!\w)(?:anyone|anybody|any1|someone|somebody|who|pls|please|plz)(?!\w)")


def _invitations(hits: list[Hit], text: str, in_bio: bool) -> list[Hit]:
    """`hits` with the invitations the patterns find; a question that opens with the reader's need
    ("looking for tabs? dm") is an invitation, not the request its opening words are on their own."""
    taken = [(h.start, h.end) for h in hits if h.feature == "cue:invite"]
    for pattern in _INVITE:
        opening = pattern is _INVITE[1]
        for m in pattern.finditer(text):
            if opening and _ASKS_OTHERS.search(m.group()):
                continue  # "need xans asap, anyone?" is a request
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            if opening:
                hits = [h for h in hits if not (h.feature == "cue:request" and m.start() <= h.start < m.end())]
            elif any(h.feature == "cue:request" and h.start <= m.start() < h.end for h in hits):
                continue  # "who has ... need": the words of a request
            elif _FIRST_PERSON.search(m.group().split(None, 1)[1]):
                continue  # "anyone in leeds i'm looking for bars": the writer's own need
            taken.append(m.span())
            hits.append(Hit("cue", "cue:invite", MEANINGS["invite"], m.start(), m.end(), in_bio=in_bio))
    return hits


def _without_own_verbs(hits: list[Hit], text: str) -> list[Hit]:
    """An invitation's own verb is no request: in "alguém procurando bala?" and "кому нужен меф? пишите" the
    request phrases "procurando" and "нужен" ("looking for", "needed") end the invitation or follow its
    one-word "who", and the question asks whether the reader needs some. A request phrase that covers the
    "who" itself ("who has", "anyone got") keeps its meaning, and so does one after a whole invitation
    phrase ("kto chętny szukam ...": the writer's own "I'm looking")."""
    invites = [(h.start, h.end) for h in hits if h.feature == "cue:invite"]

    def own(h: Hit) -> bool:
        return any((a < h.start and h.end == b)
                   or (b < h.start <= b + 2 and not text[b:h.start].strip() and " " not in text[a:b].strip())
                   for a, b in invites)

    return [h for h in hits if not (h.feature == "cue:request" and own(h))]


def _cue_hits(text: str, in_bio: bool) -> list[Hit]:
    hits = []
    for m in cue_matcher().find(text):
        for cue in dict.fromkeys(v[0] for v in m.values):  # in file order: a set's order changes per process
            if cue == "no_rx" and _mentioned_or_negated(text, m.start, m.end):
                continue
            hits.append(Hit("cue", f"cue:{cue}", f"{MEANINGS[cue]}", m.start, m.end, in_bio=in_bio))
    if "sell" in text:
        for m in _SELLING_OPENS.finditer(text):
            hits.append(Hit("cue", "cue:stock", MEANINGS["stock"], m.start(1), m.end(1), in_bio=in_bio))
    if "?" in text or (_MAY_INVITE_WORDS.search(text) and _MAY_INVITE.search(text)):
        hits = _invitations(hits, text, in_bio)
    if any(h.feature == "cue:invite" for h in hits):
        hits = _without_own_verbs(hits, text)
    return hits


# "If you have pills, DM me", "якщо є меф, напиши", "LSD'si olan? yaz": a post that asks whether the reader has a
# drug asks to buy it, however much of an offer its contact, payment and quantity words look. Rows of this cue
# kind in cues.tsv give each language's conditional around "~", the drug's place: "se hai ~" (Italian), "~ 있으면"
# (Korean puts it after), "wenn du ~ hast" (German around). Only a drug named where the "~" is counts, with at most
# CONDITIONAL_GAP words between and no clause end: "if you have questions, our menu has coke" asks nothing.
CONDITIONAL = "conditional"
CONDITIONAL_GAP = 2
# A conditional written after the drug follows it within a particle or a word: "몰리 좀 있으면", "LSD'si olan"
# ("버섯 있는데 관심 있으면 DM": "I have mushrooms; if you're interested, DM" is the seller's).
_CONDITIONAL_AFTER_REACH = 12


@cache
def conditional_matcher() -> tuple[PhraseMatcher[tuple[int, bool]], tuple[tuple[bool, bool], ...]]:
    """One matcher of the parts before and after the "~" of each conditional, valued by (its index, whether the
    part comes before the drug): one pass over the text. And whether each conditional has a part before and a
    part after."""
    parts, shapes = [], []
    for cue, _, phrases in _cue_rows():
        if cue != CONDITIONAL:
            continue
        for phrase in phrases:
            pre, _, post = (part.strip() for part in phrase.partition("~"))
            if pre:
                parts.append((pre, (len(shapes), True)))
            if post:
                parts.append((post, (len(shapes), False)))
            shapes.append((bool(pre), bool(post)))
    return PhraseMatcher(parts), tuple(shapes)


_CLAUSE_BREAK = re.compile(r"[.,;:!?\n()]")
# "si t'as besoin de kéta", "wenn du Bock auf Teile hast", "se hai voglia di erba": the reader's need or wish,
# which an invitation asks about, not whether the reader has some. As normalised.
_WANTING = frozenset(normalize(word).text for word in """need needs besoin envie bisogno voglia ganas necesidad bock
    lust zin behov behöver sugen ochotę potrzebę vontade necessidade ihtiyacın isteğin потреба потребу бажання охота
    охоту желание потребность interest interested interesse interes interés interesado interessado interessato
    interessiert geinteresseerd interessant zainteresowany ilgi ilgilenen lazım интерес интересует цікаво
    minat""".split())


def _conditional_requests(text: str, hits: list[Hit]) -> list[Hit]:
    # Named in words: an emoji after "Hải Phòng 👇" in a menu is no object of a question.
    drugs = [h for h in hits if h.signal == "drug_term" and not h.in_bio and h.start >= 0 and h.feature != "drug:emoji"]
    # An everyday word ("Ma ktoś lód?", "У кого есть мука?", "Har någon grovt salt?") is asked for in every
    # neighbourhood group; it reads as a drug asked for only where the buyer also says to get in touch off the
    # post ("Om du har piller, skriv DM"), as a review of 225 such posts in 15 languages found.
    if not any(h.feature == "cue:contact" and not h.in_bio for h in hits):
        drugs = [h for h in drugs if h.feature != "drug:high"]
    if not drugs:
        return []
    matcher, shapes = conditional_matcher()
    found_parts = matcher.find(text)
    if not found_parts:
        return []
    before = [(m, [k for k, pre in m.values if pre]) for m in found_parts]
    after = [(m, [k for k, pre in m.values if not pre]) for m in found_parts]
    invites = [(h.start, h.end) for h in hits if h.feature == "cue:invite" and not h.in_bio]
    out = [h for h in hits if h.feature == "cue:request" and not h.in_bio]  # found already: not counted twice
    found = len(out)
    for drug in drugs:
        starts: dict[int, int] = {}  # conditional -> where its part before the drug starts
        for m, ks in before:
            if not ks:
                continue
            gap = text[m.end:drug.start]
            words = gap.split()
            if (m.end <= drug.start and len(words) <= CONDITIONAL_GAP and not _CLAUSE_BREAK.search(gap)
                    and _WANTING.isdisjoint(words)):
                for k in ks:
                    starts[k] = m.start
        ends: dict[int, int] = {}
        for m, ks in after:
            if not ks:
                continue
            gap = text[drug.end:m.start]
            words = gap.split()
            if (drug.end <= m.start and m.start - drug.end <= _CONDITIONAL_AFTER_REACH and len(words) <= 1
                    and not _CLAUSE_BREAK.search(gap) and _WANTING.isdisjoint(words)):
                for k in ks:
                    ends.setdefault(k, m.end)
        for k in sorted(starts.keys() | ends.keys()):
            pre, post = shapes[k]
            if (pre and k not in starts) or (post and k not in ends):
                continue
            start, end = starts.get(k, drug.start), ends.get(k, drug.end)
            # "si t'as besoin de ...", "if you have a need for ...": the reader's need, an invitation
            if any(a < end and start < b for a, b in invites):
                continue
            if not any(h.start < end and start < h.end for h in out):
                out.append(Hit("cue", "cue:request", MEANINGS["request"], start, end))
            break
    return out[found:]


def cues(ctx: Context) -> list[Hit]:
    """Sale-intent and context phrases in the text and the author's bio, and the text's questions whether the
    reader has a drug."""
    hits = text_and_bio(ctx, _cue_hits)
    return hits + _conditional_requests(ctx.norm.text, ctx.hits + hits)


SIGNAL = Signal("cue", cost=2, run=cues, features=tuple(f"cue:{cue}" for cue in MEANINGS))
