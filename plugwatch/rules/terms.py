"""New slang from reviewers' decisions: terms over-represented in items reviewers actioned, against
items they dismissed plus the ordinary stream (stored items nobody queued).

Weighted log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi and Quinn 2008,
"Fightin' Words", section 3.5.3): for term w with document counts y_a (actioned), y_o (others) and
totals n_a, n_o, and a prior a_w = A * (y_a + y_o) / (n_a + n_o) from both together (A = PRIOR),

    d_w = log((y_a + a_w) / (n_a + A - y_a - a_w)) - log((y_o + a_w) / (n_o + A - y_o - a_w))
    z_w = d_w / sqrt(1 / (y_a + a_w) + 1 / (y_o + a_w))

Terms are counted once per item, after evasion folding (plugwatch.text.normalize: leetspeak, look-alike
letters, spacing): words, hashtags, emoji sequences, and character 4-grams of longer words (a code word
spelled a few ways shares them). Terms the detector's vocabulary or the site vocabulary already know are
left out, and so is a 4-gram that a listed word already explains.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import emoji
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugwatch.rules.backtest import CONFIRMS, final_decisions
from plugwatch.store.schema import Item, ReviewTask
from plugwatch.text.normalize import normalize

PRIOR = 500.0  # A: prior strength, in documents
NGRAM = 4
MIN_ACTIONED = 3  # a candidate appears in at least this many actioned items
ORDINARY_SAMPLE = 20_000  # items from the ordinary stream (not queued), newest first
WORD = re.compile(r"[^\W\d_][\w']{2,30}")
HASHTAG = re.compile(r"#\w{2,40}")


@dataclass
class Candidate:
    term: str
    kind: str  # word, hashtag, emoji, ngram
    z: float
    actioned: int
    others: int
    category: str
    examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"term": self.term, "kind": self.kind, "z": round(self.z, 3), "actioned": self.actioned,
                "others": self.others, "category": self.category, "examples": self.examples}


def features(text: str) -> set[tuple[str, str]]:
    """(kind, term) found in one item, each once."""
    folded = normalize(text or "").text
    out: set[tuple[str, str]] = set()
    for w in WORD.findall(folded):
        w = w.strip("'")
        out.add(("word", w))
        if len(w) > NGRAM + 1:
            out.update(("ngram", w[i:i + NGRAM]) for i in range(len(w) - NGRAM + 1))
    out.update(("hashtag", h.lower()) for h in HASHTAG.findall(text or ""))
    run, end = "", -1
    for e in emoji.emoji_list(text or ""):  # each emoji, and each run of adjacent ones ("🍄🍫")
        out.add(("emoji", e["emoji"]))
        run = run + e["emoji"] if e["match_start"] == end else e["emoji"]
        end = e["match_end"]
        if len(run) > len(e["emoji"]):
            out.add(("emoji", run))
    return out


def _known(term: str) -> bool:
    from plugwatch.signals.site_terms import terms
    from plugwatch.text.vocabulary import Vocabulary

    folded = normalize(term.lstrip("#")).text
    if any(m.start == 0 and m.end == len(folded) for m in Vocabulary.default().find(folded)):
        return True
    return any(p.fullmatch(folded) for p, _, _ in terms())


def log_odds(counts_a: Counter, counts_o: Counter, n_a: int, n_o: int, prior: float = PRIOR) -> dict[Any, float]:
    """z-scores of the weighted log-odds (see the module docstring) for every term in counts_a."""
    total = n_a + n_o
    out = {}
    for term, ya in counts_a.items():
        yo = counts_o.get(term, 0)
        aw = prior * (ya + yo) / total
        delta = (math.log((ya + aw) / max(n_a + prior - ya - aw, 1e-9))
                 - math.log((yo + aw) / max(n_o + prior - yo - aw, 1e-9)))
        out[term] = delta / math.sqrt(1.0 / (ya + aw) + 1.0 / (yo + aw))
    return out


def suggest(session: Session, since: date | None = None, top: int = 25) -> dict[str, Any]:
    start = datetime.combine(since, time(), tzinfo=UTC) if since else None
    decided = final_decisions(session, start)
    actioned = {i for i, a in decided.items() if a in CONFIRMS}
    dismissed = {i for i, a in decided.items() if a == "dismiss"}
    when = func.coalesce(Item.created_at, Item.received_at)
    ordinary_q = (select(Item.id).outerjoin(ReviewTask, ReviewTask.item_id == Item.id)
                  .where(ReviewTask.id.is_(None)).order_by(when.desc()).limit(ORDINARY_SAMPLE))
    if start is not None:
        ordinary_q = ordinary_q.where(when >= start)
    others = dismissed | set(session.scalars(ordinary_q))
    counts_a: Counter = Counter()
    counts_o: Counter = Counter()
    where: dict[tuple[str, str], list[str]] = defaultdict(list)
    drugs_of: dict[tuple[str, str], Counter] = defaultdict(Counter)
    ids = sorted(actioned | others)
    for i in range(0, len(ids), 500):
        for item_id, text, drugs in session.execute(select(Item.id, Item.text, Item.drugs)
                                                    .where(Item.id.in_(ids[i:i + 500]))):
            feats = features(text)
            if item_id in actioned:
                counts_a.update(feats)
                for f in feats:
                    if len(where[f]) < 3:
                        where[f].append(item_id)
                    drugs_of[f].update(drugs or [])
            else:
                counts_o.update(feats)
    z = log_odds(Counter({t: n for t, n in counts_a.items() if n >= MIN_ACTIONED}), counts_o,
                 len(actioned), max(len(others), 1))
    ranked = sorted(z.items(), key=lambda kv: (-kv[1], kv[0]))
    out: list[Candidate] = []
    words: list[tuple[str, int]] = []  # words ranked so far, listed or known: they explain their 4-grams
    for (kind, term), score in ranked:
        if score <= 0 or len(out) >= top:
            break
        n = counts_a[(kind, term)]
        if kind == "ngram" and any(term in w and c >= 0.9 * n for w, c in words):
            continue
        if kind == "word":
            words.append((term, n))
        if _known(term):
            continue
        category = drugs_of[(kind, term)].most_common(1)[0][0] if drugs_of[(kind, term)] else "unknown"
        out.append(Candidate(term, kind, score, counts_a[(kind, term)], counts_o.get((kind, term), 0), category,
                             where[(kind, term)]))
    return {"actioned_items": len(actioned), "other_items": len(others), "dismissed": len(dismissed),
            "since": since.isoformat() if since else None, "candidates": [c.as_dict() for c in out]}


def text_report(r: dict[str, Any]) -> str:
    lines = [f"{r['actioned_items']} actioned items against {r['other_items']} others "
             f"({r['dismissed']} dismissed, the rest from the ordinary stream)"
             + (f" since {r['since']}" if r["since"] else ""),
             "term\tkind\tz\tactioned\tothers\tcategory\texamples"]
    for c in r["candidates"]:
        lines.append(f"{c['term']}\t{c['kind']}\t{c['z']:.2f}\t{c['actioned']}\t{c['others']}\t{c['category']}\t"
                     + ", ".join(c["examples"]))
    return "\n".join(lines) + "\n"


def vocabulary_conflict(term: str, category: str) -> str | None:
    """Why `term` may not join the site vocabulary in `category`, when the detector's vocabulary already
    knows it: in other categories only (every post naming it would gain a drug it does not name), or
    unambiguously in this one (a site term would count it twice). An ambiguous term ('snow') may be
    accepted in one of its own categories: that is what makes it weigh as unambiguous on this site."""
    from plugwatch.text.vocabulary import Vocabulary

    folded = normalize(term.lstrip("#")).text
    senses = [m.term for m in Vocabulary.default().find(folded) if m.start == 0 and m.end == len(folded)]
    if not senses:
        return None
    cats = sorted({t.category for t in senses})
    if category not in cats:
        return (f"{term!r} is in the detector's vocabulary as {', '.join(cats)}: in {category} every post naming "
                f"it would also be tagged {category}")
    if all(t.ambiguity == "low" for t in senses if t.category == category):
        return f"{term!r} is already in the detector's vocabulary as {category}, unambiguous: nothing to add"
    return None


def accept(folder, term: str, category: str) -> str | None:
    """Add `term` to the site vocabulary beside the rules; None when added, else the category the file
    already gives it."""
    from plugwatch.signals.site_terms import FILE, read_terms

    path = folder / FILE
    known = read_terms(path) if path.is_file() else []
    for t, cat in known:
        if t.lower() == term.lower():
            return cat
    folder.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        if not known and path.stat().st_size == 0:
            fh.write("# site vocabulary: term<TAB>drug category (plugwatch terms accept)\n")
        fh.write(f"{term}\t{category}\n")
    return None
