"""Contact, payment and web identifiers in post text.

Dealers post a Wickr name, a phone, a wallet or a shop link so buyers can reach them
off-platform; the same identifier on two accounts links them, and identifiers are
shared with other platforms as indicators. Canonical forms are therefore strict and
stable, and extraction leans to precision: an identifier needs its own shape (URL,
checksum, `+` phone) or a platform cue ("wickr:", "tele @", "snap:") in front of it.

Passes run in a fixed order and each claims the spans it took, so a later, looser
pass (handles after cues, $cashtags, phone numbers) never reads part of an email,
link or wallet. Phone rule: numbers written with `+` or `00` are read as they are; with
`default_region`, national numbers are taken when phonenumbers calls them valid there.
Without one, a national number that looks like a phone (grouped as phones are written,
or after a contact word: "call", "text", "📱") is read in the region the post or its
author's bio suggests (text/regions.py), marked `inferred`; failing that, it is kept
as `phone_national` (its digits), contact evidence that links nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import ahocorasick
import phonenumbers

from plugwatch.model import Identifier
from plugwatch.text import wallets
from plugwatch.text.deobfuscate import MARKERS, deobfuscate, has_loose_markers

# Gate: most posts hold no identifier, so one Aho-Corasick scan for literal hints plus a
# few literal- or digit-led regex searches decide which passes (if any) run.
_EMAIL_BIT, _URL_BIT, _WALLET_BIT, _SPLIT_BIT, _CUE_BIT, _CASH_BIT, _PHONE_BIT, _DEOBF_BIT = (
    1 << i for i in range(8)
)
_CUE_LITERALS = (
    "tele", "tgram", "wickr", "wikr", "wkr", "snap", "signal", "sgnl", "whatsap", "whats app", "watsapp",
    "wapp", "threema", "session", "instagram", "twitter", "tiktok", "tik tok", "venmo", "zelle", "cashapp",
    "cash app", "paypal", "\u2708", "\U0001f47b",
    # two-letter cues only as a word: " tg ", "tg:", "\ntg @", ...
    *(f"{before}{cue}{after}" for before in " \n\t" for cue in ("tg", "sc", "wa", "ig", "insta")
      for after in " :-=@\n"),
)  # fmt: skip
_HINT_LITERALS = {
    **dict.fromkeys(MARKERS, _DEOBF_BIT),
    **dict.fromkeys(_CUE_LITERALS, _CUE_BIT),
    "@": _EMAIL_BIT,
    "$": _CASH_BIT,
    "://": _URL_BIT,
    "www.": _URL_BIT,
    **dict.fromkeys(("0x", "bc1", "ltc1"), _WALLET_BIT | _SPLIT_BIT),
    **dict.fromkeys([f"+{d}" for d in "0123456789("] + [f"+ {d}" for d in "0123456789"], _PHONE_BIT),
    **dict.fromkeys([f"00{d}" for d in "0123456789"], _PHONE_BIT),
}
_HINTS = ahocorasick.Automaton()
for _literal, _bit in _HINT_LITERALS.items():
    _HINTS.add_word(_literal, _bit)
_HINTS.make_automaton()
_DOTTED = re.compile(r"\.(?<=[A-Za-z0-9]\.)[A-Za-z]{2}")  # "name.tld": literal-led, so fast
_DIGIT_RUN = re.compile(r"\d[0-9A-Za-z]{8}")  # every wallet format has a digit in a long token
# two letter-and-digit chunks in a row: a wallet split up by spaces ("1A1z P1eP ...")
_MIXED = re.compile(r"\d(?:(?<=[A-Za-z]\d)|[A-Za-z])[A-Za-z0-9]*\s{1,3}[A-Za-z0-9]*(?:[A-Za-z]\d|\d[A-Za-z])")
_PHONE_RUN = re.compile(r"\d(?:[\s().\-]{0,3}\d){6}")
# Any of the three: most posts hold short numbers only, and one scan settles that for all three.
_DIGIT_HINT = re.compile("|".join(rx.pattern for rx in (_DIGIT_RUN, _MIXED, _PHONE_RUN)))


def _hints(text: str, lowered: str, region: str | None) -> int:
    """Bit set of the passes worth running on `text` (0 for a plain post)."""
    bits = 0
    for _, bit in _HINTS.iter(lowered):
        bits |= bit
    if _DOTTED.search(text):
        bits |= _URL_BIT
    if _DIGIT_HINT.search(text):
        if _DIGIT_RUN.search(text):
            bits |= _WALLET_BIT
        if _MIXED.search(text):
            bits |= _SPLIT_BIT
        if _PHONE_RUN.search(text):
            bits |= _PHONE_BIT
    return bits


# ---------------------------------------------------------------- e-mail

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(
    rf"(?<![\w.%+\-])(?P<local>[A-Za-z0-9._%+\-]{{1,64}})@(?P<domain>(?:{_LABEL}\.)+[A-Za-z]{{2,24}})"
    r"(?![\w\-]|\.[A-Za-z0-9])"
)
_GMAIL = frozenset({"gmail.com", "googlemail.com"})

# ---------------------------------------------------------------- URLs

_URL_CHAR = r"[A-Za-z0-9\-._~:/?#@!$&()*+,;=%]"
_SCHEME_SEP = re.compile(r"://")
_URL_TAIL = re.compile(f"{_URL_CHAR}+")
_BARE = re.compile(
    rf"(?:{_LABEL}\.)+(?:[A-Za-z]{{2,24}}|xn--[A-Za-z0-9\-]{{1,59}})(?![A-Za-z0-9\-_@])"
    rf"(?::\d{{2,5}})?(?:[/?#]{_URL_CHAR}*)?"
)
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")
_SCHEMES = frozenset({"http", "https", "tg"})
_ONION_NAME = re.compile(r"[a-z2-7]{16}|[a-z2-7]{56}")
_TRAILING = ".,;:!?'\")]}*"
_HOST = re.compile(rf"(?:{_LABEL}\.)+(?:[a-z]{{2,63}}|xn--[a-z0-9\-]{{1,59}})|\d{{1,3}}(?:\.\d{{1,3}}){{3}}")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Suffixes that are real TLDs but, written bare, are far more often file names.
_FILE_LIKE_TLDS = frozenset({"zip", "mov", "py", "sh", "md", "rs", "pl", "js", "cs", "ps", "exe", "txt"})
# TLDs that are English words: "handle.it", "you.so", "if.you" are a missing space, not a site.
# Written bare they need a path; with a scheme, "www." or a path they are taken as usual.
_WORD_TLDS = frozenset(
    "so it is in at no do be us my as am an by go on or we now new one you are how can day win fun run "
    "men art bar fit eat his her off out all and any but for get has him its let man not our say she the "
    "too two was way who why yes yet".split()
)

_TG_HOSTS = frozenset({"t.me", "telegram.me", "telegram.dog"})
_TG_RESERVED = frozenset(
    "joinchat addstickers addemoji addtheme addlist share proxy socks iv login setlanguage c s "
    "confirmphone bg boost m invoice contact".split()
)
_IG_RESERVED = frozenset("p reel reels explore stories accounts tv direct about developer legal web".split())
_X_RESERVED = frozenset(
    "i home search intent hashtag share explore settings messages notifications compose login signup "
    "tos privacy about download".split()
)
_VENMO_RESERVED = frozenset(
    "code about legal signup signin login account business pay resources support".split()
)

if TYPE_CHECKING:
    import tldextract

_tld_extract: tldextract.TLDExtract | None = None


def _extractor() -> tldextract.TLDExtract:
    global _tld_extract
    if _tld_extract is None:  # offline: the public suffix list bundled with tldextract
        # Imported here, not with the module: it imports requests, a sixth of a second of start-up that a
        # stream without links never needs.
        import tldextract

        _tld_extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    return _tld_extract


# ---------------------------------------------------------------- handles after cues

# cue word (spaces removed, lower case) -> platform
_CUES = {
    **dict.fromkeys(["telegram", "telegrm", "telegra", "tgram", "tele", "tg", "\u2708"], "telegram"),
    **dict.fromkeys(["wickrme", "wickr", "wikr", "wkr"], "wickr"),
    **dict.fromkeys(["snapchat", "snap", "sc", "\U0001f47b"], "snapchat"),
    **dict.fromkeys(["signal", "sgnl"], "signal"),
    **dict.fromkeys(["whatsapp", "whatsap", "watsapp", "wapp", "wa"], "whatsapp"),
    "threema": "threema",
    "session": "session",
    **dict.fromkeys(["instagram", "insta", "ig"], "instagram"),
    "twitter": "x",
    "tiktok": "tiktok",
    "venmo": "venmo",
    "zelle": "zelle",
    "cashapp": "cashapp",
    "paypal": "paypal",
}
# After most cues a name separated by a space only counts if it looks like a handle (digit,
# underscore, inner capital): "Instagram followers", "Telegram group" are not handles.
# The apps below are named almost only to give an ID, so a plain word after them counts.
_ID_ONLY_CUES = frozenset({"wickr", "wickrme", "wikr", "wkr", "threema"})
_CUE_WORD = (
    r"telegram|telegrm|telegra|tgram|tele|tg|\u2708|wickr\s?me|wickr|wikr|wkr|snapchat|snap|sc|\U0001f47b|"
    r"signal|sgnl|whats\s?app|whatsap|watsapp|wapp|wa|threema|session|instagram|insta|ig|twitter|"
    r"tik\s?tok|venmo|zelle|cash\s?app|paypal"
)
_CUE = re.compile(
    rf"(?i)(?<![\w@$./#])(?P<cues>(?:{_CUE_WORD})(?:(?:\s*(?:/|&|,|\+|\band\b|\bor\b)\s*|\s+)(?:{_CUE_WORD}))*)"
    r"(?![A-Za-z0-9])"
    r"(?P<fill>\s*(?:ids?|username|user\s?name|user|handle|name|acc|account|channel|number|num|addy|me|us)\b)?"
    r"(?P<conn>\s+is\b)?"
    "(?P<sep>[\\s:=>~|\u2022*\u00b7\\-\u2013\u2014\u2192\u27a1\u21d2\u2b07\u2193\U0001f449\U0001f4e9"
    "\U0001f4f2\U0001f4de\u260e()\\[\\]\"']{0,8}?)"
    r"(?P<at>@?)(?=[\w$+])"
)
_CUE_SPLIT = re.compile(rf"(?i){_CUE_WORD}")
_CUE_FINDER = ahocorasick.Automaton()
for _cue in [*_CUES, "wickr me", "whats app", "tik tok", "cash app"]:
    _CUE_FINDER.add_word(_cue, len(_cue))
_CUE_FINDER.make_automaton()
_STRONG_SEP = frozenset(":=>~|-\u2013\u2014\u2192\u27a1\u21d2\u2b07\u2193\U0001f449()[]")
_NOT_A_HANDLE = frozenset(
    """me is the a an and or for to on in at of my your our his her their only id name user username
    handle link links below above bio profile channel group chat chats dm dms pm inbox message msg
    messages add hit hmu now here there this that it us we you please pls plz same story stories app
    account acc info contact available too also if when with via down up ban banned deleted dead not
    no yes ok okay lol lmao haha just still back new ready open number num accounts followers likes
    views verified guide tutorial premium stealth method methods support login password hacked hack
    bot bots groups channels links""".split()
)
# A name followed by "@" is an e-mail, by "/", "://" or ".tld" part of a link.
_NOT_A_NAME_AFTER = re.compile(r"@|/|:/|\.[A-Za-z0-9]")
_HANDLE_LIKE = re.compile(r"[\d_.]|[a-z][A-Z]")
_QUANTITY = re.compile(r"(?i)\d+(?:\.\d+)?(?:g|gr|mg|oz|ml|k|lbs?)")
_TOKEN = {
    "telegram": re.compile(r"[A-Za-z0-9_]{2,40}(?![A-Za-z0-9_])"),
    "wickr": re.compile(r"[A-Za-z0-9_.\-]*[A-Za-z0-9_]"),
    "snapchat": re.compile(r"[A-Za-z0-9_.\-]*[A-Za-z0-9_]"),
    "instagram": re.compile(r"[A-Za-z0-9_.]*[A-Za-z0-9_]"),
    "x": re.compile(r"[A-Za-z0-9_]{1,20}(?![A-Za-z0-9_])"),
    "tiktok": re.compile(r"[A-Za-z0-9_.]*[A-Za-z0-9_]"),
    "venmo": re.compile(r"[A-Za-z0-9_\-]*[A-Za-z0-9_]"),
    "cashapp": re.compile(r"\$?[A-Za-z][A-Za-z0-9_]{0,24}(?![A-Za-z0-9_])"),
    "threema": re.compile(r"[A-Za-z0-9*]{8}(?![A-Za-z0-9])"),
    "session": re.compile(r"[0-9a-fA-F]{60,70}(?![0-9a-fA-F])"),
}
_HANDLE_RULE = {
    "telegram": re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}"),
    "snapchat": re.compile(r"[A-Za-z0-9_.\-]{3,15}"),
    "instagram": re.compile(r"[A-Za-z0-9_.]{1,30}"),
    "x": re.compile(r"[A-Za-z0-9_]{1,15}"),
    "tiktok": re.compile(r"[A-Za-z0-9_.]{2,24}"),
    "venmo": re.compile(r"[A-Za-z0-9_\-]{5,30}"),
    "paypal": re.compile(r"[A-Za-z0-9]{1,20}"),
    "threema": re.compile(r"[A-Z0-9*][A-Z0-9]{7}"),
    "cashapp": re.compile(r"\$[a-z][a-z0-9_]{1,20}"),
}
_SIGNAL_USERNAME = re.compile(r"@?(?P<name>[A-Za-z_][A-Za-z0-9_]{2,31}\.(?P<disc>\d{2,9}))(?![\w.])")
_TG_INVITE = re.compile(r"[A-Za-z0-9_\-]{16,}")
_WA_INVITE = re.compile(r"[A-Za-z0-9]{20,24}")

# ---------------------------------------------------------------- payments, wallets, phones

_CASHTAG = re.compile(r"\$(?<![\w$]\$)(?P<tag>[A-Za-z][A-Za-z0-9_]{0,30})(?![\w$])")
_CASH_NEAR = re.compile(r"(?i)\bcash\s?app\b")
_LONG_TOKEN = re.compile(r"[A-Za-z0-9]{25,}")
_SESSION_ID = re.compile(r"05[0-9a-fA-F]{64}")

_PHONE_BODY = r"(?:(?:\+|\b00)\s?)?\(?\d(?:[ \t.\-()]{0,3}\d){6,16}"
_PHONE = re.compile(rf"(?<![\w$€£¥#/@.+\-,:]){_PHONE_BODY}(?![\w$€£%])")
_PHONE_AT = re.compile(rf"{_PHONE_BODY}(?![\w$€£%])")
_UNIT_AFTER = re.compile(
    r"(?i)\s*(?:g|gr|grams?|mg|ug|ml|oz|lbs?|kg|k|pills?|pcs|tabs?|x|btc|eth|xmr|ltc|usdt?|eur|gbp|"
    r"bucks|dollars?|€|\$|£|%)(?![A-Za-z])|:\d"
)
_DECIMAL = re.compile(r"\d+[.,]\d+")
_NOT_PHONE_BEFORE = re.compile(
    r"(?i)\b(?:isbn(?:-?1[03])?|issn|id|pid|uid|order|ref|invoice|tracking|sku|serial|acct|account|zip|"
    r"doi|no|nr)\W{0,3}$|#\s?$"
)
_HAS_DATE = re.compile(r"(?:19|20)\d\d[-./]\d\d?[-./]\d\d?|\d\d?[-./]\d\d?[-./](?:19|20)\d\d")
_DATE = re.compile(r"\d{1,4}([.\- ])\d{1,2}\1\d{1,4}")
_YEARS = re.compile(r"(?:(?:19|20)\d\d[\s.\-]*)+")
_NON_DIGITS = re.compile(r"\D")


class _Scan:
    """Work state of one extraction: cleaned text, findings, and the spans already taken."""

    __slots__ = ("text", "region", "found", "taken", "about", "_guesses")

    def __init__(self, text: str, region: str | None, about: tuple[str | None, str | None] = (None, None)):
        self.text = text
        self.region = region
        self.about = about  # (author's bio, post language): where a national number's country may show
        self._guesses: list[tuple[str, str]] | None = None
        self.found: list[tuple[str, int, int, str, bool | None, str | None]] = []
        # One byte per character, 1 where a pass claimed it: claiming and checking cost the span's
        # length, not the number of earlier claims (a long text holds thousands of identifiers).
        self.taken: bytearray | None = None

    def add(self, kind: str, start: int, end: int, canonical: str, valid: bool | None,
            inferred: str | None = None) -> None:
        self.found.append((kind, start, end, canonical, valid, inferred))

    def region_guesses(self) -> list[tuple[str, str]]:
        if self._guesses is None:  # worked out once, and only for a text with a national number
            from plugwatch.text.regions import region_guesses

            self._guesses = region_guesses(self.text, *self.about)
        return self._guesses

    def claim(self, start: int, end: int) -> None:
        if self.taken is None:
            self.taken = bytearray(len(self.text))
        end = min(end, len(self.taken))
        if end > start:
            self.taken[start:end] = b"\x01" * (end - start)

    def claimed(self, start: int, end: int) -> bool:
        return self.taken is not None and self.taken.find(1, start, end) >= 0


def extract_identifiers(
    text: str, *, links: Sequence[str] = (), default_region: str | None = None, bio: str | None = None,
    lang: str | None = None,
) -> list[Identifier]:
    """Contact, payment and web identifiers in `text` and in platform-given `links`. `bio` and `lang`
    (the author's bio, the post's language) only help to place a phone number written without its
    country code when there is no `default_region`.

    Spans point into the original `text`. An identifier from `links` that the text does not show
    has start=end=-1 and source "link"; those come first, then the rest in text order.
    """
    given: list[Identifier] = []
    seen: set[tuple[str, str]] = set()
    for link in links:
        for kind, canonical, valid in _link_ids(link.strip()):
            if (kind, canonical) not in seen:
                seen.add((kind, canonical))
                given.append(Identifier(kind, link, canonical, valid, -1, -1, "link"))
    found = _in_text(text, default_region, (bio, lang)) if text else []
    if not given:
        return found
    # A link the platform also gave as an entity is the same identifier: keep the one found in the text.
    shown = {(i.type, _schemeless(i.canonical)) for i in found}
    given = [_placed(i, text) for i in given if (i.type, _schemeless(i.canonical)) not in shown]
    inside = [i for i in given if i.start >= 0]
    if inside:
        found = sorted(found + inside, key=lambda i: (i.start, i.end, i.type))
    return [i for i in given if i.start < 0] + found


def text_identifiers(item) -> list[Identifier]:
    """`extract_identifiers` of an item's text, with its author's bio and language to place phone numbers."""
    return extract_identifiers(item.text, bio=item.author.bio if item.author is not None else None, lang=item.lang)


def _placed(identifier: Identifier, text: str) -> Identifier:
    """A platform-given identifier with the span where the text has its link written out, if it does."""
    written = identifier.value.strip()
    at = text.find(written) if written else -1
    if at < 0:
        return identifier
    return Identifier(identifier.type, written, identifier.canonical, identifier.valid, at, at + len(written))


def _in_text(text: str, default_region: str | None, about: tuple[str | None, str | None] = (None, None)
             ) -> list[Identifier]:
    lowered = text.lower()
    bits = _hints(text, f" {lowered} ", default_region)
    defang = bits & _DEOBF_BIT or has_loose_markers(lowered)
    if not defang and text.isascii():
        if not bits:
            return []
        cleaned = deobfuscate(text, defang=False)
    elif not defang:
        # No defanging marker: only deobfuscate's character fixes apply, and the hints above stand
        # unless they changed the text; then it is hinted again, and if a marker shows, defanged too.
        cleaned = deobfuscate(text, defang=False)
        if cleaned.changed:
            lowered = cleaned.text.lower()
            bits = _hints(cleaned.text, f" {lowered} ", default_region)
            defang = bits & _DEOBF_BIT or has_loose_markers(lowered)
    if defang:
        cleaned = deobfuscate(text)
        bits = _hints(cleaned.text, f" {cleaned.text.lower()} ", default_region)
    if not bits & ~_DEOBF_BIT:
        return []
    scan = _Scan(cleaned.text, default_region, about)
    for bit, run in _PASSES:
        if bits & bit:
            run(scan)
    found = []
    seen: set[tuple[str, str, int, int]] = set()
    for kind, cs, ce, canonical, valid, inferred in scan.found:
        start, end = cleaned.span(cs, ce)
        if (kind, canonical, start, end) not in seen:
            seen.add((kind, canonical, start, end))
            found.append(Identifier(kind, scan.text[cs:ce], canonical, valid, start, end, inferred=inferred))
    found.sort(key=lambda i: (i.start, i.end, i.type))
    return found


def _schemeless(canonical: str) -> str:
    return canonical.split("://", 1)[-1]


# ---------------------------------------------------------------- e-mail


def _email_canonical(local: str, domain: str) -> str:
    local, domain = local.lower(), domain.lower()
    if domain in _GMAIL:  # Gmail ignores dots and +tags: one mailbox, one canonical form
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def _email_valid(local: str, domain: str) -> bool:
    if local.startswith(".") or local.endswith(".") or ".." in local or len(local) > 64:
        return False
    ext = _extractor()(domain.lower())
    return bool(ext.suffix) and bool(ext.domain)


def _emails(scan: _Scan) -> None:
    if "@" not in scan.text:
        return
    for m in _EMAIL.finditer(scan.text):
        local, domain = m.group("local"), m.group("domain")
        scan.add("email", m.start(), m.end(), _email_canonical(local, domain), _email_valid(local, domain))
        scan.claim(m.start(), m.end())


def _email_at(scan: _Scan, pos: int) -> tuple[str, int] | None:
    m = _EMAIL.match(scan.text, pos)
    return (_email_canonical(m.group("local"), m.group("domain")), m.end()) if m else None


# ---------------------------------------------------------------- URLs


def _trim_url(url: str) -> str:
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _registered(ext: tldextract.tldextract.ExtractResult) -> bool:
    """A name under a public suffix; for .onion, a real v2/v3 onion name (16/56 base32 chars)."""
    if not ext.suffix or not ext.domain:
        return False
    return ext.suffix != "onion" or _ONION_NAME.fullmatch(ext.domain) is not None


def _plausible_bare_domain(raw: str) -> bool:
    """Bare `name.tld` with no scheme: known suffix, a letter in the name, not a file name or a
    missing space after a full stop ("done.Now")."""
    host_end = len(raw)
    for sep in "/?#:":
        i = raw.find(sep)
        if i != -1:
            host_end = min(host_end, i)
    host = raw[:host_end]
    tld = host.rsplit(".", 1)[-1]
    if not (tld.islower() or tld.isupper()):
        return False
    ext = _extractor()(host.lower())
    if not _registered(ext) or not any(c.isalpha() for c in ext.domain):
        return False
    if host_end < len(raw):
        return True
    return tld.lower() not in _FILE_LIKE_TLDS and tld.lower() not in _WORD_TLDS and len(ext.domain) > 1


def _url_spans(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, bare) of scheme links, www. links and bare domains, in order, not overlapping.

    Found from their literal parts ("://", "www.", ".tld") outward: far cheaper than running
    a URL regex at every position of every post.
    """
    spans = []
    for m in _SCHEME_SEP.finditer(text):
        start = m.start()
        while start > 0 and text[start - 1].isascii() and text[start - 1].isalpha():
            start -= 1
        tail = _URL_TAIL.match(text, m.end())
        if tail and text[start : m.start()].lower() in _SCHEMES:
            spans.append((start, tail.end(), False))
    for www in ("www.", "WWW."):
        start = text.find(www)
        while start != -1:
            end = _URL_TAIL.match(text, start).end()
            if (start == 0 or text[start - 1] not in _LABEL_CHARS) and "." in text[start + 4 : end]:
                spans.append((start, end, False))
            start = text.find(www, start + 1)
    for m in _DOTTED.finditer(text):
        start = m.start()
        while start > 0 and text[start - 1] in _LABEL_CHARS:
            start -= 1
        while text[start] in ".-":
            start += 1
        if start > 0 and text[start - 1] in "@/_$":
            continue  # e-mail, path segment, @handle or $tag, not a domain of its own
        bare = _BARE.match(text, start)
        if bare:
            spans.append((start, bare.end(), True))
    spans.sort()
    kept: list[tuple[int, int, bool]] = []
    for span in spans:
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def _urls(scan: _Scan) -> None:
    text = scan.text
    for start, end, bare in _url_spans(text):
        raw = _trim_url(text[start:end])
        end = start + len(raw)
        if scan.claimed(start, end):
            continue
        if bare and not _plausible_bare_domain(raw):
            continue
        ids = _link_ids(raw)
        for kind, canonical, valid in ids:
            scan.add(kind, start, end, canonical, valid)
        if ids:
            scan.claim(start, end)


def _link_ids(raw: str) -> list[tuple[str, str, bool | None]]:
    """(type, canonical, valid) for one link: the URL, its registered domain, a platform handle."""
    if raw.lower().startswith("mailto:"):
        m = _EMAIL.fullmatch(raw[7:].split("?", 1)[0])
        return (
            [("email", _email_canonical(m["local"], m["domain"]), _email_valid(m["local"], m["domain"]))]
            if m
            else []
        )
    lowered = raw.lower()
    if lowered.startswith("tg://"):
        name = parse_qs(urlsplit(raw).query).get("domain", [""])[0]
        return [("telegram", *_handle("telegram", name))] if name else []
    url = raw if "://" in raw else "http://" + raw
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return []
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        return []
    host = host.rstrip(".")
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    canonical = f"{scheme}://{netloc}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
    ext = _extractor()(host)
    known = _registered(ext)
    out: list[tuple[str, str, bool | None]] = [
        ("url", canonical, bool(_HOST.fullmatch(host)) and (known or bool(ext.ipv4)))
    ]
    if not ext.ipv4:
        out.append(("domain", f"{ext.domain}.{ext.suffix}" if known else host, known))
    out.extend(_platform_ids(host, parts))
    return out


def _platform_ids(host: str, parts) -> list[tuple[str, str, bool | None]]:
    for prefix in ("www.", "m.", "mobile."):
        if host.startswith(prefix):
            host = host[len(prefix) :]
    segs = [s for s in parts.path.split("/") if s]
    first = segs[0] if segs else ""
    kind, name = None, ""
    if host in _TG_HOSTS and first:
        if first.lower() == "joinchat" and len(segs) > 1:
            return [("telegram", f"telegram:+{segs[1]}", bool(_TG_INVITE.fullmatch(segs[1])))]
        if first.startswith("+") and len(first) > 1:
            return [("telegram", f"telegram:+{first[1:]}", bool(_TG_INVITE.fullmatch(first[1:])))]
        if first == "s" and len(segs) > 1:
            kind, name = "telegram", segs[1]
        elif first.lower() not in _TG_RESERVED:
            kind, name = "telegram", first.lstrip("@")
    elif host == "snapchat.com" and first:
        if first == "add" and len(segs) > 1:
            kind, name = "snapchat", segs[1]
        elif first.startswith("@"):
            kind, name = "snapchat", first[1:]
    elif host == "signal.me":
        return _signal_link(parts.fragment)
    elif host == "wa.me" and first.isdigit():
        return _whatsapp_phone("+" + first)
    elif host in ("api.whatsapp.com", "whatsapp.com") and first == "send":
        digits = _NON_DIGITS.sub("", parse_qs(parts.query).get("phone", [""])[0])
        return _whatsapp_phone("+" + digits) if digits else []
    elif host == "chat.whatsapp.com" and first:
        return [("whatsapp", f"whatsapp:chat/{first}", bool(_WA_INVITE.fullmatch(first)))]
    elif host == "threema.id" and first:
        kind, name = "threema", first
    elif host in ("instagram.com", "instagr.am") and first.lower() not in _IG_RESERVED:
        kind, name = "instagram", first.lstrip("@")
    elif host in ("x.com", "twitter.com") and first.lower() not in _X_RESERVED:
        kind, name = "x", first.lstrip("@")
    elif host == "tiktok.com" and first.startswith("@"):
        kind, name = "tiktok", first[1:]
    elif host in ("venmo.com", "account.venmo.com") and first:
        if first == "u" and len(segs) > 1:
            kind, name = "venmo", segs[1]
        elif first.lower() not in _VENMO_RESERVED:
            kind, name = "venmo", first
    elif host == "paypal.me" and first:
        kind, name = "paypal", first
    elif host == "paypal.com" and first.lower() == "paypalme" and len(segs) > 1:
        kind, name = "paypal", segs[1]
    elif host in ("cash.app", "cash.me") and first.startswith("$"):
        kind, name = "cashapp", first
    if not kind or not name:
        return []
    return [(kind, *_handle(kind, name))]


def _signal_link(fragment: str) -> list[tuple[str, str, bool | None]]:
    if fragment.startswith("p/"):
        phone = _parse_phone(fragment[2:], None)
        if phone is None:
            return []
        return [("signal", f"signal:{phone[0]}", phone[1]), ("phone", *phone)]
    if fragment.startswith("eu/") and len(fragment) > 3:
        # Encrypted username link: the name itself cannot be read from it.
        return [("signal", f"signal:eu/{fragment[3:]}", None)]
    return []


def _whatsapp_phone(number: str) -> list[tuple[str, str, bool | None]]:
    phone = _parse_phone(number, None)
    if phone is None:
        return []
    return [("whatsapp", f"whatsapp:{phone[0]}", phone[1]), ("phone", *phone)]


def _handle(kind: str, name: str) -> tuple[str, bool | None]:
    """Canonical `platform:name` and whether the name follows the platform's rules."""
    if kind == "threema":
        name = name.upper()
    elif kind == "cashapp":
        name = "$" + name.lstrip("$").lower()
    else:
        name = name.lower()
    rule = _HANDLE_RULE.get(kind)
    return f"{kind}:{name}", (bool(rule.fullmatch(name)) if rule else None)


# ---------------------------------------------------------------- wallets and Session IDs


def _wallets(scan: _Scan) -> None:
    text = scan.text
    for token in _LONG_TOKEN.finditer(text):
        start, end, addr = token.start(), token.end(), token.group()
        if _SESSION_ID.fullmatch(addr):
            found: tuple[str, str, bool] | None = ("session", f"session:{addr.lower()}", True)
        else:
            found = wallets.classify_address(addr, text[max(0, start - 40) : start])
        if found is None or (not found[2] and scan.claimed(start, end)):
            continue  # a random-looking token inside a link is not a posted address
        scan.add(found[0], start, end, found[1], found[2])
        scan.claim(start, end)


def _split_wallets(scan: _Scan) -> None:
    for start, end, kind, canonical in wallets.find_split_addresses(scan.text):
        if not scan.claimed(start, end):
            scan.add(kind, start, end, canonical, True)
            scan.claim(start, end)


# ---------------------------------------------------------------- handles after cues


def _cue_matches(text: str) -> list[re.Match[str]]:
    """Cue regex matches, tried only where the automaton saw a cue word standing alone."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters change length in lower(): rare, slow path
        return list(_CUE.finditer(text))
    starts = set()
    for end, length in _CUE_FINDER.iter(lowered):
        start = end - length + 1
        if (start == 0 or not lowered[start - 1].isalnum()) and not lowered[end + 1 : end + 2].isalnum():
            starts.add(start)
    matches, covered = [], 0
    for start in sorted(starts):
        m = _CUE.match(text, start) if start >= covered else None
        if m is not None:
            matches.append(m)
            covered = m.end()
    return matches


def _cue_handles(scan: _Scan) -> None:
    text = scan.text
    for m in _cue_matches(text):
        pos = m.end()
        strong = bool(m.group("at")) or any(c in _STRONG_SEP for c in m.group("sep"))
        at = bool(m.group("at"))
        for cue in _CUE_SPLIT.findall(m.group("cues")):
            word = "".join(cue.split()).lower()
            platform = _CUES.get(word)
            if platform is not None:
                _cue_target(scan, platform, pos, strong, at, word in _ID_ONLY_CUES)


def _accept_name(name: str, strong: bool, at: bool, id_only_cue: bool) -> bool:
    if len(name) < 3 or not any(c.isalpha() for c in name) or _QUANTITY.fullmatch(name):
        return False
    if at:
        return True
    if name.lower() in _NOT_A_HANDLE:
        return False
    return strong or id_only_cue or _HANDLE_LIKE.search(name) is not None


def _cue_target(scan: _Scan, platform: str, pos: int, strong: bool, at: bool, id_only_cue: bool) -> None:
    if platform == "paypal":
        _cue_email(scan, platform, pos)  # PayPal names are taken from paypal.me links only
    elif platform == "zelle":
        if not _cue_email(scan, platform, pos):
            _cue_phone(scan, platform, pos)
    elif platform == "whatsapp":
        _cue_phone(scan, platform, pos)
    elif platform == "signal":
        if not _cue_phone(scan, platform, pos):
            _cue_signal_username(scan, pos - 1 if at else pos)
    else:
        _cue_name(scan, platform, pos, strong, at, id_only_cue)


def _cue_email(scan: _Scan, platform: str, pos: int) -> bool:
    email = _email_at(scan, pos)
    if email is not None:
        scan.add(platform, pos, email[1], f"{platform}:{email[0]}", True)
    return email is not None


def _cue_phone(scan: _Scan, platform: str, pos: int) -> bool:
    m = _PHONE_AT.match(scan.text, pos)
    if m is None or scan.claimed(pos, m.end()):
        return False
    phone = _phone_candidate(scan, m.group(), pos, m.end())
    if phone is None:
        return False
    kind, canonical, valid, inferred = phone
    if kind == "phone":  # a number of unknown country is no account on the app: it links nothing
        scan.add(platform, pos, m.end(), f"{platform}:{canonical}", valid, inferred)
    scan.add(kind, pos, m.end(), canonical, valid, inferred)
    scan.claim(pos, m.end())
    return True


def _cue_signal_username(scan: _Scan, pos: int) -> None:
    m = _SIGNAL_USERNAME.match(scan.text, pos)
    if m is None or scan.claimed(m.start(), m.end()):
        return
    disc = m.group("disc")  # Signal: two digits at least, "00" and leading zeros beyond two are refused
    valid = disc != "00" and (len(disc) == 2 or disc[0] != "0")
    scan.add("signal", m.start(), m.end(), f"signal:{m.group('name').lower()}", valid)
    scan.claim(m.start(), m.end())


def _cue_name(scan: _Scan, platform: str, pos: int, strong: bool, at: bool, id_only_cue: bool) -> None:
    text = scan.text
    m = _TOKEN[platform].match(text, pos)
    if m is None:
        return
    start, end, name = m.start() - (1 if at else 0), m.end(), m.group()
    if scan.claimed(start, end) or _NOT_A_NAME_AFTER.match(text, end):
        return
    if platform == "session":
        scan.add("session", start, end, f"session:{name.lower()}", len(name) == 66 and name.startswith("05"))
    elif platform == "threema":
        if not (strong or id_only_cue or any(c.isdigit() for c in name)):
            return
        scan.add("threema", start, end, *_handle("threema", name))
    elif _accept_name(name.lstrip("$"), strong, at or name.startswith("$"), id_only_cue):
        scan.add(platform, start, end, *_handle(platform, name))
    else:
        return
    scan.claim(start, end)


# ---------------------------------------------------------------- $cashtags


@cache
def _s_words() -> frozenset[str]:
    """Single words starting with s from the cue phrases and the drug vocabulary (package data)."""
    data = resources.files("plugwatch") / "data"
    words = {"stock", "ship", "ships", "shipping", "sell", "selling", "sale", "sales", "shop", "send", "supply",
             "service", "special", "specials", "smoke", "stuff", "safe", "secure"}
    for name, column in (("cues.tsv", 2), ("vocabulary.tsv", 0)):
        for line in data.joinpath(name).read_text(encoding="utf-8").splitlines():
            fields = line.split("\t")
            if line.startswith("#") or len(fields) <= column:
                continue
            words.update(w for w in fields[column].lower().split("|") if w[:1] == "s" and w.isalpha())
    return frozenset(words)


def _cashtags(scan: _Scan) -> None:
    text = scan.text
    if "$" not in text:
        return
    for m in _CASHTAG.finditer(text):
        tag = m.group("tag")
        if scan.claimed(m.start(), m.end()):
            continue
        named = _CASH_NEAR.search(text, max(0, m.start() - 30), m.start())
        # "$BTC", "$USD", "$PEPE2", "$MOONDOGE": tickers and currencies unless Cash App is named nearby.
        if tag.isupper() and len(tag) <= 10 and not named:
            continue
        # "$hipping", "$tock": leetspeak for an S word, not a tag, unless Cash App is named nearby.
        if not named and "s" + tag.lower() in _s_words():
            continue
        scan.add("cashapp", m.start(), m.end(), *_handle("cashapp", tag))
        scan.claim(m.start(), m.end())


# ---------------------------------------------------------------- phone numbers


def _parse_phone(number: str, region: str | None) -> tuple[str, bool] | None:
    """(`+E164`, is_valid) for a number phonenumbers can read, else None."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return e164, phonenumbers.is_valid_number(parsed)


NATIONAL_DIGITS = (7, 12)  # digits of a national number kept without a region (shorter: codes; longer: ids)
# Written as phones are: an area code in brackets, or three groups or more; two groups ("1200 3400") could
# be anything, and need a contact word before them.
_PHONE_SHAPE = re.compile(
    r"\(\d{2,5}\) ?\d{2,7}(?:[ .\-]\d{2,4}){0,3}"  # (213) 555-0142
    r"|\d{2,5}([.\-])\d{2,7}(?:\1\d{2,4}){1,3}"  # 213-555-0142, 030.123.45.67
    r"|\d{2,5} \d{2,4} \d{2,4}(?: \d{2,4}){0,2}"  # 0612 34 56 78, 601 234 567
    r"|07\d-\d{3} \d{2} \d{2}")  # 070-123 45 67: a Swedish mobile, its prefix apart (landlines such as
# "08-123 45 67" read like times and scores, "kl 08-17 10 20", so they need a word such as "ring" before them)
# A word that hands out a number: within a few words before it.
_CONTACT_BEFORE = re.compile(
    r"(?i)(?:\b(?:call|calls|text|txt|sms|tel|tlf|phone|ph|cell|mobile|mob|whats\s?app|wa|signal|imessage|hmu|"
    r"hit me|number|numero|número|telefon|telefone|teléfono|telefono|téléphone|tél|handy|bel|zadzwoń|"
    r"dzwoń|звони|звоните|пиши|тел|телефон|номер|ara|arayın|gọi|điện thoại|sđt|zalo|line|ring|ringa|ring mig|"
    r"ruf|anrufen|appelle|appelez|llama|llámame|chiama|chiamami|ligue|liga|hubungi|telp|전화|연락|電話|טלפון|"
    r"התקשר|اتصل|تواصل)\b|[📞📱☎])"
    r"[^\n\d]{0,24}$")


def _national(scan: _Scan, raw: str, digits: str, start: int) -> tuple[str, str, bool | None, str | None] | None:
    """A national number with no region given: read where the post says it is, else kept as digits."""
    shaped = _PHONE_SHAPE.fullmatch(raw.strip()) is not None
    if not shaped and not _CONTACT_BEFORE.search(scan.text, max(0, start - 40), start):
        return None  # a bare run of digits: an order number, a code, a count
    for region, why in scan.region_guesses():
        phone = _parse_phone(digits, region)
        if phone is not None and phone[1]:
            return "phone", phone[0], True, f"{region}: {why}"
    if NATIONAL_DIGITS[0] <= len(digits) <= NATIONAL_DIGITS[1]:
        return "phone_national", f"phone_national:{digits}", None, None
    return None


def _phone_candidate(scan: _Scan, raw: str, start: int, end: int) -> tuple[str, str, bool | None, str | None] | None:
    """Apply the false-positive guards and the region rule to one digit run: (type, canonical, valid,
    inferred) or None."""
    raw = raw.strip()
    if _UNIT_AFTER.match(scan.text, end):
        return None  # "3.5 g", "120 $", "0.0045 btc", "17:18" (a time after a date)
    body = raw.lstrip("+").strip()
    if _DECIMAL.fullmatch(body) or _DATE.fullmatch(body) or _YEARS.fullmatch(body) or _HAS_DATE.search(body):
        return None
    digits = _NON_DIGITS.sub("", raw)
    if raw.startswith("+"):
        phone = _parse_phone("+" + digits, None)
        return ("phone", *phone, None) if phone is not None else None
    if digits.startswith("00") and len(digits) > 9:
        phone = _parse_phone("+" + digits[2:], None)
        if phone is not None and phone[1]:
            return "phone", *phone, None
    if scan.region is None:
        return _national(scan, raw, digits, start)
    phone = _parse_phone(digits, scan.region)
    return ("phone", *phone, None) if phone is not None and phone[1] else None


def _phones(scan: _Scan) -> None:
    text = scan.text
    for m in _PHONE.finditer(text):
        start, end = m.start(), m.end()
        if text[start].isspace():
            start += 1
        if scan.claimed(start, end) or _NOT_PHONE_BEFORE.search(text, max(0, start - 14), start):
            continue  # "ISBN-10 3639715136", "order #20231225"
        phone = _phone_candidate(scan, m.group(), start, end)
        if phone is not None:
            kind, canonical, valid, inferred = phone
            scan.add(kind, start, end, canonical, valid, inferred)
            scan.claim(start, end)


# Order matters: each pass claims its spans, and later, looser passes skip claimed text.
_PASSES = (
    (_EMAIL_BIT | _CUE_BIT, _emails),
    (_CUE_BIT, _cue_handles),  # before links: "snap: rave.supply.co" is a handle, not a site
    (_URL_BIT, _urls),
    (_WALLET_BIT, _wallets),
    (_SPLIT_BIT, _split_wallets),
    (_CASH_BIT, _cashtags),
    (_PHONE_BIT, _phones),
)


# Public names of the canonicalisers, for identifiers that arrive already split out (partner feeds,
# watch lists) and must compare equal with those found in text.
parse_phone = _parse_phone
link_identifiers = _link_ids
canonical_handle = _handle
canonical_email = _email_canonical
