"""Where a phone number written without its country code belongs: guesses from what the post says.

"text me at (213) 555-0142" names no country, so phonenumbers cannot read it alone. The post or its
author often says where it is: a number with a country code elsewhere in the text or bio ("+1 ..."), a
city or country ("in LA" is too short to tell; "Los Angeles", "Warszawa", "กรุงเทพ" are not), or the
language the platform gives, where a language is spoken in essentially one country (Polish, Thai ...).
Guesses come cheapest and surest first; a number is read in the first region where it is valid, and
keeps the guess and its ground beside it (`Identifier.inferred`), so a reviewer can judge it.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import phonenumbers

# A language spoken as a first language in essentially one country. English, Spanish, Portuguese, French,
# German, Arabic, Chinese, Russian, Dutch-in-Belgium ... name many: they give no guess.
LANGUAGE_REGION = {"pl": "PL", "uk": "UA", "th": "TH", "vi": "VN", "tr": "TR", "nl": "NL", "it": "IT", "ja": "JP",
                   "ko": "KR", "el": "GR", "cs": "CZ", "hu": "HU", "ro": "RO", "da": "DK", "fi": "FI", "he": "IL",
                   "sv": "SE", "id": "ID"}

_CALLING_CODE = re.compile(r"(?<![\w+])(?:\+|\b00)\s?(\d{1,3})(?=[\s\d(.\-]|$)")
_UNSPACED = re.compile(r"[\u0600-\u06ff\u0e00-\u0e7f\u3040-\u30ff\u4e00-\u9fff]")


@cache
def _places() -> tuple[re.Pattern[str], re.Pattern[str] | None, dict[str, str]]:
    text = (resources.files("plugwatch") / "data" / "places.tsv").read_text(encoding="utf-8")
    region_of: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, region = line.split("\t")
            region_of[name.lower()] = region
    spaced = sorted((n for n in region_of if not _UNSPACED.search(n)), key=len, reverse=True)
    unspaced = sorted((n for n in region_of if _UNSPACED.search(n)), key=len, reverse=True)
    words = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in spaced) + r")(?!\w)", re.I)
    inside = re.compile("|".join(re.escape(n) for n in unspaced)) if unspaced else None
    return words, inside, region_of


def calling_code_regions(text: str) -> list[str]:
    """Regions of the country calling codes written in `text` ("+44 7911 ...", "0048 ..."), in order."""
    out = []
    for m in _CALLING_CODE.finditer(text):
        digits = m.group(1)
        for k in range(1, len(digits) + 1):  # calling codes are prefix-free: the first that exists is it
            region = phonenumbers.region_code_for_country_code(int(digits[:k]))
            if region != "ZZ":
                if region not in out:
                    out.append(region)
                break
    return out


def place_regions(text: str) -> list[tuple[str, str]]:
    """(region, place) for the cities and countries `text` names, in order."""
    words, inside, region_of = _places()
    found = [(m.start(), m.group()) for m in words.finditer(text)]
    if inside is not None and _UNSPACED.search(text):
        found += [(m.start(), m.group()) for m in inside.finditer(text)]
    out: list[tuple[str, str]] = []
    for _, place in sorted(found):
        region = region_of[place.lower()]
        if all(region != r for r, _ in out):
            out.append((region, place))
    return out


def region_guesses(text: str, bio: str | None = None, lang: str | None = None) -> list[tuple[str, str]]:
    """(region, why) in the order they are tried."""
    guesses: list[tuple[str, str]] = []

    def add(region: str, why: str) -> None:
        if all(region != r for r, _ in guesses):
            guesses.append((region, why))

    for region in calling_code_regions(text):
        add(region, "a country code elsewhere in the text")
    for region in calling_code_regions(bio or ""):
        add(region, "a country code in the author's bio")
    for region, place in place_regions(text):
        add(region, f"the text names {place}")
    for region, place in place_regions(bio or ""):
        add(region, f"the author's bio names {place}")
    if lang and lang.lower().split("-")[0] in LANGUAGE_REGION:
        add(LANGUAGE_REGION[lang.lower().split("-")[0]], f"the post's language ({lang})")
    return guesses
