"""What the review page shows of an item's pictures: the picture (blurred until asked, from a configured
media host only), the text read from it and its description with their evidence highlighted, the boxes
of that evidence outlined over the picture, and its bank matches."""

from __future__ import annotations

from typing import Any

from plugwatch.service.highlight import highlight, spans_from_reasons

IMAGE_KINDS = ("photo", "image", "sticker", "gif")


def picture_panels(record: dict[str, Any], reasons: list[dict[str, Any]], links) -> tuple[list[dict], list[str]]:
    """(pictures to show, kinds of other attachments named only)."""
    shown, others = [], []
    for index, m in enumerate(record.get("media") or []):
        if not isinstance(m, dict):
            continue
        kind = str(m.get("kind") or "photo")
        src, link = links.media(m.get("url")), links.link(m.get("url"))
        ocr = m.get("ocr") if isinstance(m.get("ocr"), dict) else None
        alt = m.get("alt") if isinstance(m.get("alt"), str) else None
        if kind not in IMAGE_KINDS or not (src or link or ocr or alt or m.get("warning")):
            others.append(kind)  # videos and files are not embedded: named only
            continue
        mine = [r for r in reasons if r.get("media") == index]
        size = ocr.get("size") if ocr else None
        boxes = [{"box": r["box"], "label": str(r.get("meaning") or r.get("signal"))} for r in mine
                 if _is_box(r.get("box"))]
        shown.append({
            "index": index, "src": src, "link": link, "kind": kind, "warning": m.get("warning"),
            "ocr_html": _channel_html(ocr.get("text") if ocr else None, reasons, index, "ocr"),
            "alt_html": _channel_html(alt, reasons, index, "alt"),
            "size": size if _is_size(size) else None, "boxes": boxes if _is_size(size) else [],
            "banks": [r for r in mine if r.get("signal") == "image_bank_match"],
        })
    return shown, others


def _channel_html(text: str | None, reasons: list[dict[str, Any]], index: int, channel: str):
    if not isinstance(text, str) or not text:
        return None
    return highlight(text, spans_from_reasons(reasons, text=None, media=(index, channel)))


def _is_box(box: Any) -> bool:
    return isinstance(box, list) and len(box) == 4 and all(isinstance(v, int) for v in box)


def _is_size(size: Any) -> bool:
    return isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size)
