"""Per-account aggregates built in one pass over scanned records, and the account score.

Memory is per account, not per item: counters, first/last times, and capped sets of the identifiers
the account links to. The score is a logistic sum of a few named terms (weights below) so every
account comes with the reasons that made its score.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from plugwatch.network.generic import (
    CONTACT_TYPES,
    DIRECT_TYPES,
    LINK_TYPES,
    WEB_TYPES,
    is_direct,
    is_linkable,
    node_key,
)
from plugwatch.records import utc_time

MAX_LINKS = 64  # identifiers kept per account: a seller shows a handful; more is spam or a directory
MAX_PARENTS = 64  # distinct reply parents kept per account (for reply-bot detection)
BIO_LIMIT = 500
DAY = 86400.0

# Score weights (logistic): z = BIAS + sum of the terms below, score = 1 / (1 + e^-z).
BIAS = -3.0
W_FLAGGED_SHARE = 3.0  # x share of the account's items flagged as offers
W_FLAGGED_COUNT = 0.8  # x ln(1 + flagged items)
W_IDENTIFIERS = 1.0  # posted at least one contact/payment identifier ...
W_MORE_IDENTIFIERS = 0.3  # ... and this for each further one, up to 3
W_BIO_CONTACT = 0.8  # bio: "DM for prices", "menu", "link in bio", selling talk
W_BIO_DRUG = 1.0  # bio: a drug term or "plug"/🔌
W_BIO_IDENTIFIER = 0.7  # bio: a contact or payment identifier, a shop link
W_NEW_ACCOUNT = 0.6  # first item within 30 days of the account's creation
W_RATE = 0.5  # 20 or more items a day over the account's active span (10 items at least)
W_REQUESTS = -1.5  # x share of items asking to buy: a buyer, not a seller
NEW_ACCOUNT_DAYS = 30
HIGH_RATE = 20.0

# A same-platform @handle links only when a contact word stands just before it ("order via @shop",
# "ig: @shop_2"); otherwise it is a conversation ("@anna thanks"). Whole words only: "great chat @anna"
# or "what @anna said" does not end in the contact word "at".
_CONTACT_BEFORE = re.compile(
    r"(?i)\b(?:contact|order|orders|dm|pm|write|message|msg|text|call|reach|hmu|hit\s+up|hit|add|inbox|"
    r"operator|admin|support|shop|store|menu|telegram|tele|tg|channel|backup|via|at|on|"
    r"instagram|insta|ig|twitter|snapchat|snap|tiktok|"
    r"оператор|пиши|пишите|связь|заказ|магазин)\W{0,6}$"
)
_PLATFORM_ALIASES = {"twitter": "x"}
# A post that reports on or warns about a seller names the seller's handle without being the seller:
# news ("police say the Telegram channel @x ...") and harm-reduction alerts ("pills sold via wickr x
# tested positive ... never use alone"). Such posts carry as many news or care cues as sale cues or more
# ("officials warn @x is selling fake pills"); the care and news words that sellers use too ("clean",
# "support", "no cops": cues.SELLERS_WORDS_TOO) do not count.
_REPORT_CUES = frozenset({"news", "care", "warning"})
_SALE_CUES = frozenset({"stock", "selling", "shipping", "no_rx", "quality"})
_SENTENCE_END = re.compile(r"[.!?\n]")


def parse_ts(value: Any) -> float | None:
    """Epoch seconds from the ISO time a scan record carries (None when absent or unreadable)."""
    dt = utc_time(value)
    return dt.timestamp() if dt else None


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def is_offer(rec: dict[str, Any]) -> bool:
    """Flagged as an offer by the detector; unscored records count when they carry a contact or
    payment identifier (the best a `--no-model` scan can say)."""
    if rec.get("score") is None:
        return any(map(is_direct, rec.get("identifiers") or ()))
    return bool(rec.get("flagged")) or rec.get("kind") == "offer"


def is_request(rec: dict[str, Any]) -> bool:
    return rec.get("kind") == "request"


@dataclass(slots=True)
class AccountStats:
    key: str
    platform: str
    handle: str | None = None
    display_name: str | None = None
    bio: str | None = None
    created_at: float | None = None
    followers: int | None = None
    items: int = 0
    flagged: int = 0
    requests: int = 0
    replies: int = 0
    offer_replies: int = 0
    score_max: float = 0.0
    first_ts: float | None = None
    last_ts: float | None = None
    reply_first: float | None = None
    reply_last: float | None = None
    # Identifier node keys that may join networks, and reply parents: insertion-ordered sets (dicts), so
    # the first MAX_LINKS / MAX_PARENTS are kept whether the items are read in one pass or in partitions
    # merged in order (plugwatch.cluster).
    links: dict[str, None] = field(default_factory=dict)
    posted: int = 0  # distinct linkable contact/payment identifiers in the account's items
    mentions: int = 0  # same-platform @handles of others: conversation, not identity
    parents: dict[str, None] = field(default_factory=dict)
    sample_reply: str | None = None
    bio_cues: list[tuple[str, str]] | None = None  # filled by finish()
    score: float = 0.0
    reasons: list[dict[str, Any]] = field(default_factory=list)

    def link(self, key: str) -> None:
        if len(self.links) < MAX_LINKS:
            self.links[key] = None

    def merge(self, later: AccountStats) -> None:
        """Fold in the same account's aggregates from items that come after this one's (before finish()):
        the result is what one pass over both sets of items in order gives."""
        self.handle = self.handle or later.handle
        self.display_name = later.display_name or self.display_name
        self.bio = later.bio or self.bio
        self.created_at = later.created_at if later.created_at is not None else self.created_at
        self.followers = later.followers if later.followers is not None else self.followers
        for name in ("items", "flagged", "requests", "replies", "offer_replies", "mentions"):
            setattr(self, name, getattr(self, name) + getattr(later, name))
        self.score_max = max(self.score_max, later.score_max)
        self.first_ts = _least(self.first_ts, later.first_ts)
        self.last_ts = _most(self.last_ts, later.last_ts)
        self.reply_first = _least(self.reply_first, later.reply_first)
        self.reply_last = _most(self.reply_last, later.reply_last)
        for key in later.links:
            self.link(key)
        for parent in later.parents:
            if len(self.parents) >= MAX_PARENTS:
                break
            self.parents[parent] = None
        self.sample_reply = self.sample_reply if self.sample_reply is not None else later.sample_reply


def _least(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _most(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _same_platform(platform: str, id_type: str) -> bool:
    return _PLATFORM_ALIASES.get(platform, platform) == id_type


class AccountTable:
    """All accounts seen, keyed `platform:handle`."""

    def __init__(self) -> None:
        self.accounts: dict[str, AccountStats] = {}

    def __len__(self) -> int:
        return len(self.accounts)

    def add(self, rec: dict[str, Any], ts: float | None, offer: bool) -> AccountStats | None:
        key = rec.get("author")
        if not key or not isinstance(key, str):
            return None
        acct = self.accounts.get(key)
        platform = rec.get("platform") or key.split(":", 1)[0]
        if acct is None:
            acct = self.accounts[key] = AccountStats(key, platform)
        profile = rec.get("account")
        if isinstance(profile, dict):
            self._profile(acct, profile)
        acct.items += 1
        score = rec.get("score")
        if isinstance(score, int | float) and score > acct.score_max:
            acct.score_max = float(score)
        request = is_request(rec)
        acct.flagged += offer
        acct.requests += request
        if ts is not None:
            acct.first_ts = ts if acct.first_ts is None or ts < acct.first_ts else acct.first_ts
            acct.last_ts = ts if acct.last_ts is None or ts > acct.last_ts else acct.last_ts
        parent = rec.get("reply_to")
        if parent:
            acct.replies += 1
            if offer:
                acct.offer_replies += 1
                if acct.sample_reply is None:
                    acct.sample_reply = (rec.get("text") or "")[:280]
            if len(acct.parents) < MAX_PARENTS:
                acct.parents[parent] = None
            if ts is not None:
                acct.reply_first = ts if acct.reply_first is None or ts < acct.reply_first else acct.reply_first
                acct.reply_last = ts if acct.reply_last is None or ts > acct.reply_last else acct.reply_last
        if not request:  # a buyer naming a seller's handle is not that seller
            self.add_links(acct, rec, offer, scored=score is not None)
        return acct

    @staticmethod
    def _profile(acct: AccountStats, profile: dict[str, Any]) -> None:
        if profile.get("handle") and not acct.handle:
            acct.handle = str(profile["handle"])
        if profile.get("display_name"):
            acct.display_name = str(profile["display_name"])[:200]
        bio = profile.get("bio")
        if bio and isinstance(bio, str):
            acct.bio = bio[:BIO_LIMIT]
        created = parse_ts(profile.get("created_at"))
        if created is not None:
            acct.created_at = created
        followers = profile.get("followers")
        if isinstance(followers, int):
            acct.followers = followers

    @staticmethod
    def add_links(acct: AccountStats, rec: dict[str, Any], offer: bool, scored: bool) -> None:
        ids = rec.get("identifiers") or ()
        # Web links join accounts only from offers: anyone may share a news article.
        web_ok = offer or (not scored and any(map(is_direct, ids)))
        text = rec.get("text") or ""
        reporting = None
        for ident in ids:
            kind, canonical = ident.get("type"), ident.get("canonical")
            if not isinstance(kind, str) or not isinstance(canonical, str):
                continue
            if kind in WEB_TYPES and not web_ok:
                continue
            if kind not in LINK_TYPES:
                continue
            if reporting is None:
                reporting = reports_on_seller(text)
            if reporting or _in_question(text, ident):
                continue
            key = node_key(kind, canonical)
            if kind in CONTACT_TYPES and _same_platform(acct.platform, kind) and key != acct.key:
                if not _given_as_contact(text, ident):
                    acct.mentions += 1
                    continue
            if is_linkable(kind, canonical, ident.get("valid")):
                acct.link(key)

    def finish(self) -> None:
        for acct in self.accounts.values():
            acct.posted = sum(k.split(":", 1)[0] in DIRECT_TYPES for k in acct.links)
            if acct.bio:
                acct.bio_cues = bio_cues(acct.bio)
                for kind, canonical in bio_links(acct.platform, acct.bio):
                    acct.link(node_key(kind, canonical))
            acct.score, acct.reasons = account_score(acct)


def reports_on_seller(text: str) -> bool:
    """True for news or a harm-reduction warning: at least as many report cues as sale cues (distinct
    phrases), and one at least."""
    if not text:
        return False
    return _report_balance(text[:2000]) > 0


@lru_cache(maxsize=4096)
def _report_balance(text: str) -> int:
    from plugwatch.signals.cues import SELLERS_WORDS_TOO, cue_matcher
    from plugwatch.text.normalize import normalize

    norm = normalize(text).text
    report: set[str] = set()
    sale: set[str] = set()
    for m in cue_matcher().find(norm):
        cues = {v[0] for v in m.values}
        phrase = norm[m.start : m.end]
        if cues & _REPORT_CUES and phrase not in SELLERS_WORDS_TOO:
            report.add(phrase)
        elif cues & _SALE_CUES:
            sale.add(phrase)
    return len(report) - len(sale) + 1 if report else 0


def _in_question(text: str, ident: dict[str, Any]) -> bool:
    """The identifier stands in a question ("anyone know @plug's wickr?", "is tele x legit?"): a buyer
    or a bystander asking about someone, not the someone."""
    span = ident.get("span") or [ident.get("start", -1), ident.get("end", -1)]
    end = span[1] if isinstance(span, list) and len(span) > 1 else -1
    if not isinstance(end, int) or end < 0:
        return False
    stop = _SENTENCE_END.search(text, end)
    return stop is not None and stop.group() == "?"


def _given_as_contact(text: str, ident: dict[str, Any]) -> bool:
    span = ident.get("span") or [ident.get("start", -1), ident.get("end", -1)]
    start = span[0] if isinstance(span, list) and span else -1
    if not isinstance(start, int) or start < 0:
        return False
    return _CONTACT_BEFORE.search(text, max(0, start - 30), start) is not None


@lru_cache(maxsize=8192)
def bio_links(platform: str, bio: str) -> tuple[tuple[str, str], ...]:
    """(type, canonical) of the identifiers in a bio that tie its account to them (also used at ingest;
    cached: a bio repeats with every post of its account)."""
    out = []
    for kind, canonical, valid in _bio_identifiers(bio[:BIO_LIMIT]):
        if kind in CONTACT_TYPES and _same_platform(platform, kind):
            continue  # own-platform handles in a bio are mostly shout-outs
        if is_linkable(kind, canonical, valid):
            out.append((kind, canonical))
    return tuple(out)


def _bio_identifiers(bio: str) -> list[tuple[str, str, bool | None]]:
    from plugwatch.text.identifiers import extract_identifiers

    return [(i.type, i.canonical, i.valid) for i in extract_identifiers(bio)]


_BIO_CUES = {"contact", "stock", "selling", "payment", "shipping", "no_rx"}


@lru_cache(maxsize=8192)
def bio_cues(bio: str) -> list[tuple[str, str]]:
    """(kind, text) of seller cues in a bio: kind is `contact` (sale or contact talk), `drug` (a drug
    term, "plug", 🔌) or `identifier` (a contact, payment or shop link)."""
    from plugwatch.signals.cues import cue_matcher
    from plugwatch.text.normalize import normalize
    from plugwatch.text.vocabulary import Vocabulary

    norm = normalize(bio)
    found: list[tuple[str, str]] = []
    for m in cue_matcher().find(norm.text):
        if {v[0] for v in m.values} & _BIO_CUES:
            found.append(("contact", norm.original_span_text(m.start, m.end)))
    for m in Vocabulary.default().find(norm.text):
        term = m.term
        if term.ambiguity in ("low", "medium") or term.kind == "emoji" or term.drug == "dealer":
            found.append(("drug", norm.original_span_text(m.start, m.end)))
    for kind, canonical, valid in _bio_identifiers(bio):
        if is_linkable(kind, canonical, valid) and (kind in DIRECT_TYPES or kind in WEB_TYPES):
            found.append(("identifier", canonical))
    return list(dict.fromkeys(found))


def account_score(acct: AccountStats) -> tuple[float, list[dict[str, Any]]]:
    terms: list[tuple[str, Any, float]] = []  # (reason, value, contribution to z)
    if acct.items:
        share = acct.flagged / acct.items
        if acct.flagged:
            terms.append(("share of items flagged as offers", round(share, 3), W_FLAGGED_SHARE * share))
            terms.append(("items flagged as offers", acct.flagged, W_FLAGGED_COUNT * math.log1p(acct.flagged)))
        if acct.requests:
            req = acct.requests / acct.items
            terms.append(("share of items asking to buy", round(req, 3), W_REQUESTS * req))
    if acct.posted:
        terms.append(("contact or payment identifiers posted", acct.posted,
                      W_IDENTIFIERS + W_MORE_IDENTIFIERS * min(acct.posted - 1, 3)))
    cues = acct.bio_cues or []
    for kind, weight, label in (("contact", W_BIO_CONTACT, "bio: sale or contact cue"),
                                ("drug", W_BIO_DRUG, "bio: drug term or plug"),
                                ("identifier", W_BIO_IDENTIFIER, "bio: contact, payment or shop link")):
        hits = [text for k, text in cues if k == kind]
        if hits:
            terms.append((label, ", ".join(hits[:5]), weight))
    if acct.created_at is not None and acct.first_ts is not None:
        age = (acct.first_ts - acct.created_at) / DAY
        if 0 <= age < NEW_ACCOUNT_DAYS:
            terms.append(("account age at first item (days)", round(age, 1), W_NEW_ACCOUNT))
    if acct.items >= 10 and acct.first_ts is not None and acct.last_ts is not None:
        rate = acct.items / max((acct.last_ts - acct.first_ts) / DAY, 1.0)
        if rate >= HIGH_RATE:
            terms.append(("items per day", round(rate, 1), W_RATE))
    z = BIAS + sum(t[2] for t in terms)
    score = 1.0 / (1.0 + math.exp(-z))
    reasons = [{"reason": r, "value": v, "weight": round(w, 3)} for r, v, w in terms]
    return round(score, 4), reasons
