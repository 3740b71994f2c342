"""The image channel of the detector: the text in an item's pictures (OCR) and their alt text are read
as a second text, and pictures are matched against hash banks.

`ImageDetector` wraps the text detector (anything with `verdicts(batch)`): it reads each item's local
pictures once (PictureReader: hash, OCR, cached by content), scores the post as before, scores each
picture's alt and OCR text as an item of its own, and keeps, per item, the stronger verdict. Reasons
from a picture carry `media` (its index in the item's media), the text and
its span in that picture's text (`media_text`: "ocr" or "alt"), and for OCR the box in the picture. A bank match adds an
`image_bank_match` reason and flags the item. Items without pictures cost nothing more.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from plugwatch.images import ImageError
from plugwatch.images.bank import Bank
from plugwatch.images.ocr import PictureReader, box_for, raw_text_of
from plugwatch.images.pdq import MATCH_DISTANCE, MIN_QUALITY
from plugwatch.model import Identifier, Item, OfferKind, Reason, Verdict
from plugwatch.text.identifiers import extract_identifiers

PICTURE_KINDS = (None, "photo", "image", "sticker", "gif")


class ImageDetector:
    def __init__(self, base, reader: PictureReader | None = None, banks: tuple[Bank, ...] = (),
                 distance: int = MATCH_DISTANCE, region: str | None = None) -> None:
        self.base = base  # the text detector, or None (--no-model: pictures are hashed and banked only)
        self.reader = reader
        self.banks = banks
        self.distance = distance
        self.region = region
        self.warnings: list[tuple[str, int, str]] = []  # (item id, media index, reason), for the summary

    def __getattr__(self, name: str) -> Any:  # stage_runs, threshold ... of the text detector
        if name == "base" or self.__dict__.get("base") is None:
            raise AttributeError(name)
        return getattr(self.base, name)

    def verdicts(self, batch: list[tuple[Item, list[Identifier]]]) -> list[Verdict]:
        for item, ids in batch:
            self.read_pictures(item)
            ids.extend(picture_identifiers(item, ids))
        out = self.base.verdicts(batch) if self.base is not None else [Verdict() for _ in batch]
        posts = [set(x) for x in getattr(self.base, "reached_items", ())]  # a copy: the next call resets it
        channels, owners = [], []
        for n, (item, _) in enumerate(batch):
            for index, source, text in picture_texts(item):
                sub = Item(item.platform, f"{item.native_id}#media{index}{source}", text, kind=item.kind)
                channels.append((sub, extract_identifiers(text, default_region=self.region)))
                owners.append((n, index, source))
        if channels and self.base is not None:
            runs = getattr(self.base, "stage_runs", None)
            before = dict(runs) if runs is not None and posts else None
            for (n, index, source), v in zip(owners, self.base.verdicts(channels), strict=True):
                out[n] = combine(out[n], v, batch[n][0], index, source)
            if before is not None:
                # A picture's text is its item's: stage_runs counts items (the scan's summary gives shares of
                # items), so a stage counts once for an item that only its pictures brought there.
                for key, seen, subs in zip(("text", "full"), posts, self.base.reached_items, strict=True):
                    runs[key] = before[key] + len({owners[j][0] for j in subs} - seen)
        # After scoring, so the post's own verdict is the text's: then the contacts a picture gives (a menu's
        # "Wickr: icecold99") join the item's identifiers, as its PDQ hash does, for networks and sharing.
        # Read from the text as read (raw_text_of), not the one with spaces put back before numbers.
        for (n, index, source), (_, found) in zip(owners, channels, strict=True):
            if source == "ocr":
                found = extract_identifiers(raw_text_of(batch[n][0].media[index].ocr), default_region=self.region)
            batch[n][1].extend(media_identifiers(batch[n][1], found))
        for n, (item, _) in enumerate(batch):
            out[n] = self._bank_reasons(item, out[n])
        return out

    def read_pictures(self, item: Item) -> None:
        if self.reader is None:
            return
        for index, m in enumerate(item.media):
            if not m.path or m.kind not in PICTURE_KINDS or m.pdq is not None:
                continue
            if m.warning:  # set by the importer (a path that leaves the media folder)
                self.warnings.append((item.id, index, m.warning))
                continue
            try:
                found = self.reader.read(m.path)
            except ImageError as e:
                m.warning = str(e)
                self.reader.stats["warnings"] += 1
                self.warnings.append((item.id, index, f"{m.path}: {e}"))
                continue
            m.sha256, m.pdq, m.quality = found["sha256"], found["pdq"], found["quality"]
            m.pdq_variants = found.get("variants") or None
            m.ocr = found.get("ocr")

    def _bank_reasons(self, item: Item, verdict: Verdict) -> Verdict:
        if not self.banks:
            return verdict
        reasons = []
        for index, m in enumerate(item.media):
            if m.pdq is None or (m.quality or 0) < MIN_QUALITY:
                continue  # a flat or tiny picture matches by accident
            for bank in self.banks:
                for match in bank.match([m.pdq, *(m.pdq_variants or ())], self.distance)[:3]:
                    label = match.entry.label or "no label"
                    reasons.append(Reason("image_bank_match", f"picture matches bank '{bank.name}': {label} "
                                          f"(distance {match.distance})", text=label, media=index,
                                          source="bank", weight=1.0 - match.distance / 256))
        if not reasons:
            return verdict
        threshold = getattr(self.base, "threshold", 0.5)
        return replace(verdict, flagged=True, score=max(verdict.score, threshold),
                       kind=verdict.kind or OfferKind.OFFER, reasons=reasons + verdict.reasons)


def picture_identifiers(item: Item, ids: list[Identifier]) -> list[Identifier]:
    """Each picture's PDQ hash as a `pdq` identifier given by the media (no span): the record carries it,
    the store links it, and a confirmed item's pictures are shared as STIX `file:hashes.'PDQ'` indicators
    like its other identifiers. Added to the item's identifier list in place (the one the scan writes)."""
    have = {i.canonical for i in ids if i.type == "pdq"}
    out = []
    for m in item.media:
        canonical = f"pdq:{m.pdq}"
        if m.pdq and (m.quality or 0) >= MIN_QUALITY and canonical not in have:
            have.add(canonical)
            out.append(Identifier("pdq", m.pdq, canonical, True, source="media"))
    return out


def media_identifiers(ids: list[Identifier], found: list[Identifier]) -> list[Identifier]:
    """Identifiers read from a picture's text (OCR or alt text) that the item does not have yet, marked as
    given by the media (no span in the post). One found invalid (a fictional phone number, a misread
    wallet) is left out: OCR misreads, and a wrong contact would link strangers."""
    have = {(i.type, i.canonical) for i in ids}
    out = []
    for i in found:
        if i.valid is not False and (i.type, i.canonical) not in have:
            have.add((i.type, i.canonical))
            out.append(Identifier(i.type, i.value, i.canonical, i.valid, source="media", inferred=i.inferred))
    return out


def picture_texts(item: Item) -> list[tuple[int, str, str]]:
    """(media index, "alt" or "ocr", text) for each picture text of the item."""
    out = []
    for index, m in enumerate(item.media):
        if m.alt and m.alt.strip():
            out.append((index, "alt", m.alt))
        if m.ocr and m.ocr.get("text"):
            out.append((index, "ocr", m.ocr["text"]))
    return out


def combine(post: Verdict, picture: Verdict, item: Item, index: int, source: str) -> Verdict:
    """The item's verdict given one of its pictures' verdict: the stronger score, flagged when either
    is, and the picture's reasons (pointing at the picture) after the post's."""
    if picture.score < 0 or (not picture.flagged and not picture.reasons):
        return post
    lines = (item.media[index].ocr or {}).get("lines") or [] if source == "ocr" else []
    pointed = [replace(r, media=index, media_text=source,
                       box=box_for(lines, r.start, r.end) if lines and r.start >= 0 else None,
                       meaning=f"in picture {index + 1} ({'text read from it' if source == 'ocr' else 'its description'}): "
                               f"{r.meaning}")
               for r in picture.reasons]
    stronger = picture if picture.score > post.score else post
    flagged = post.flagged or picture.flagged
    kind = post.kind if post.flagged else (picture.kind if picture.flagged else post.kind or picture.kind)
    return Verdict(score=stronger.score, flagged=flagged, kind=kind,
                   drugs=sorted(set(post.drugs) | set(picture.drugs)),
                   reasons=post.reasons + pointed if picture.flagged or picture.kind else post.reasons,
                   model_only=post.model_only if post.flagged else picture.model_only)
