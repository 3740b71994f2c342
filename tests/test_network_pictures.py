"""`plugwatch networks` links accounts that posted the same picture (PDQ within distance 31), on any
platform, and keeps the identity graph's safeguards: a picture posted by many accounts (a meme) falls
under the frequency rule, and flat pictures (low PDQ quality) never link."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

pytest.importorskip("pdqhash")
from PIL import Image  # noqa: E402

from plugwatch.images.pdq import hash_with_variants  # noqa: E402
from tests.cli_helpers import cli, jsonl  # noqa: E402


def picture(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray((rng.random((30, 40, 3)) * 255).astype("uint8")).resize((480, 360), Image.BICUBIC)


def reencoded(img: Image.Image) -> Image.Image:
    buf = io.BytesIO()
    img.resize((240, 180)).save(buf, "JPEG", quality=40)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def record(n: int, author: str, img: Image.Image | None, flagged: bool = True) -> dict:
    platform = author.split(":")[0]
    media = []
    if img is not None:
        h = hash_with_variants(img)
        media = [{"kind": "photo", "pdq": h.pdq, "quality": h.quality, "pdq_variants": list(h.variants)}]
    return {"id": f"{platform}:{n}", "platform": platform, "author": author, "text": "new menu 👇",
            "created_at": "2025-03-01T10:00:00+00:00", "identifiers": [], "score": 0.9 if flagged else 0.1,
            "flagged": flagged, "kind": "offer" if flagged else None, "drugs": [], "reasons": [], "media": media}


def test_same_menu_picture_links_accounts_across_platforms_but_a_meme_does_not(tmp_path):
    menu, meme = picture(1), picture(2)
    recs = [record(1, "x:alice", menu), record(2, "mastodon:bob@example.social", reencoded(menu)),
            record(3, "bluesky:carol.bsky.social", picture(3))]
    # the meme: posted (as offers, so only the frequency rule can stop it) by 60 accounts
    recs += [record(100 + i, f"x:fan{i}", meme) for i in range(60)]
    # flat pictures (quality < 50) never link, even between two offers
    flat = Image.new("RGB", (300, 300), "white")
    recs += [record(200, "x:blank1", flat), record(201, "x:blank2", flat)]
    # nor do pictures in posts that are not offers
    recs += [record(300, "x:reader1", picture(4), flagged=False), record(301, "x:reader2", picture(4), flagged=False)]
    scanned = tmp_path / "scan.jsonl"
    scanned.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    out = tmp_path / "net"
    result = cli("networks", scanned, "--out", out)
    assert result.exit_code == 0, result.stderr
    nets = jsonl(out / "networks.jsonl")
    assert [n["members"] for n in nets] == [["mastodon:bob@example.social", "x:alice"]]
    assert nets[0]["identifiers"][0]["type"] == "pdq" and nets[0]["platforms"] == ["mastodon", "x"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert any(key.startswith("pdq:") for key in json.dumps(summary).split('"')), summary
