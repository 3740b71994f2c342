"""Terms a site's leads accepted into its own vocabulary (`plugwatch terms accept`): new slang that
reviewers' decisions surfaced, used at once without retraining.

The file is `site_terms.tsv` in the rules folder (`--rules` / $PLUGWATCH_RULES), one `term<TAB>category`
a line, read once when the detector first runs (a service restarts to pick up new terms). A match is
weighed as an unambiguous drug term (`drug:low`, a feature the model already has), so it moves the
score the way a vocabulary term does, and shows in reasons as `site_term`.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from plugwatch.settings import rules_dir
from plugwatch.signals.base import Context, Hit, Signal, text_and_bio
from plugwatch.text.normalize import normalize

FILE = "site_terms.tsv"
_folder: Path | None = None


def use_folder(folder: str | Path | None) -> None:
    """Read the site vocabulary from this rules folder (commands with --rules call it before scoring)."""
    global _folder
    _folder = Path(folder) if folder else None
    terms.cache_clear()


def vocabulary_file(folder: str | Path | None = None) -> Path | None:
    base = Path(folder) if folder else _folder or (Path(rules_dir()) if rules_dir() else None)
    return base / FILE if base else None


def read_terms(path: Path) -> list[tuple[str, str]]:
    """(term as typed, category) per line; blank lines and `#` comments skipped."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        term, _, category = line.partition("\t")
        if term.strip():
            out.append((term.strip(), category.strip() or "unknown"))
    return out


@cache
def terms() -> tuple[tuple[re.Pattern[str], str, str], ...]:
    """(pattern over normalised text, term, category) for each accepted term (folded like posts are)."""
    path = vocabulary_file()
    if path is None or not path.is_file():
        return ()
    out = []
    for term, category in read_terms(path):
        folded = normalize(term).text.strip()
        if not folded:
            continue
        edge_l = r"(?<!\w)" if folded[0].isalnum() else ""
        edge_r = r"(?!\w)" if folded[-1].isalnum() else ""
        out.append((re.compile(edge_l + re.escape(folded) + edge_r), term, category))
    return tuple(out)


def _find(text: str, in_bio: bool) -> list[Hit]:
    hits = []
    for pattern, term, category in terms():
        for m in pattern.finditer(text):
            hits.append(Hit("site_term", "drug:low", f"= {term}: site term accepted by a lead ({category})",
                            m.start(), m.end(), category=category, in_bio=in_bio))
    return hits


def site_terms(ctx: Context) -> list[Hit]:
    """Terms of the site's own vocabulary in the text and the author's bio."""
    if not terms():
        return []
    return text_and_bio(ctx, _find)


SIGNAL = Signal("site_term", cost=1, run=site_terms, features=("drug:low",))
