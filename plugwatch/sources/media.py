"""Media references as exports give them: a local file (resolved against the input file's folder, or
--media-dir), a URL, a kind and the platform's alt text. Nothing is fetched or opened here: the image
stage (plugwatch/images) reads local pictures, and names a missing one as a warning on its item.

A relative path may not climb out of the folder it is resolved in (`../../etc/passwd` in an export
stays unread): the path is kept, with the warning, so the item still says what it referred to.
"""

from __future__ import annotations

import os
from typing import Any

from plugwatch.model import MediaRef
from plugwatch.sources.common import FileContext, string

IMAGE_COLUMNS = ("image", "image_path")
OUTSIDE = "path leaves the media folder: not read"


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def media_base(ctx: FileContext) -> str:
    """The folder relative media paths are resolved in: --media-dir, else the input file's folder."""
    if ctx.options.media_dir:
        return ctx.options.media_dir
    return os.path.dirname(ctx.path) if ctx.path not in ("", "-", "<stdin>") else "."


def local_path(value: str, ctx: FileContext) -> tuple[str, str | None]:
    """(the path to read, a warning or None) for a path written in an export."""
    base = media_base(ctx)
    joined = os.path.normpath(value if os.path.isabs(value) else os.path.join(base, value))
    if not os.path.isabs(value):
        root = os.path.abspath(base)
        if os.path.commonpath([root, os.path.abspath(joined)]) != root:
            return joined, OUTSIDE
    return joined, None


def ref(value: str | None, ctx: FileContext, *, kind: str | None = "photo", alt: str | None = None,
        url: str | None = None, name: str | None = None) -> MediaRef:
    """A MediaRef for `value`, a URL or a local path, with what else the export said about it."""
    if value and is_url(value):
        return MediaRef(url=value, kind=kind, name=name, alt=alt)
    if not value:
        return MediaRef(url=url, kind=kind, name=name, alt=alt)
    path, warning = local_path(value, ctx)
    return MediaRef(url=url, kind=kind, name=name, path=path, alt=alt, warning=warning)


def generic_media(record: dict[str, Any], ctx: FileContext) -> list[MediaRef]:
    """`media`: a list of {path|url, alt, kind} objects (or of plain paths/URLs); or an `image` /
    `image_path` column holding one path or URL."""
    out: list[MediaRef] = []
    listed = record.get("media")
    if isinstance(listed, str | dict):
        listed = [listed]
    for m in listed if isinstance(listed, list) else ():
        if isinstance(m, str) and m.strip():
            out.append(ref(m.strip(), ctx))
        elif isinstance(m, dict):
            where = string(m.get("path")) or string(m.get("file"))
            url = string(m.get("url"))
            out.append(ref(where or url, ctx, kind=string(m.get("kind")) or string(m.get("type")) or "photo",
                           alt=string(m.get("alt")) or string(m.get("description")), url=url if where else None))
    for column in IMAGE_COLUMNS:
        value = string(record.get(column))
        if value and value.strip():
            out.append(ref(value.strip(), ctx))
    return out


def bluesky_blob_path(cid: str | None, ctx: FileContext) -> str | None:
    """A blob saved under --media-dir by its CID (as `goat blob export` writes them), when there is one."""
    folder = ctx.options.media_dir
    if not cid or not folder or not os.path.isdir(folder):
        return None
    for candidate in (cid, f"{cid}.jpg", f"{cid}.jpeg", f"{cid}.png", f"{cid}.webp"):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    return None
