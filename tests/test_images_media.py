"""Media in the data model and the image channel: importers carry local paths and alt text, a missing
picture is a warning on its item (never a lost item), OCR text is a second channel whose reasons point
at the picture, and `scan --bank` reports bank matches."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("pdqhash")
pytest.importorskip("PIL")
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from plugwatch.sources import SourceOptions, read  # noqa: E402

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
MENU = ["MENU", "Xanax 2mg bars - 5 each", "Cocaine 1g - 80", "Ketamine 1g - 40", "Snapchat: plugking420"]


def render(path, lines, size=(640, 420)):
    img = Image.new("RGB", size, (250, 250, 245))
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 30) if __import__("os").path.exists(FONT) else ImageFont.load_default()
    for i, line in enumerate(lines):
        draw.text((30, 25 + 75 * i), line, fill=(10, 10, 10), font=font)
    img.save(path)
    return path


def items(path, **options):
    return [x for x in read([str(path)], SourceOptions(**options)) if hasattr(x, "media")]


def scan(*args):
    return subprocess.run([sys.executable, "-m", "plugwatch.cli", "scan", *map(str, args)],
                          capture_output=True, text=True)


def test_generic_jsonl_media_list_and_image_column(tmp_path):
    (tmp_path / "pics").mkdir()
    render(tmp_path / "pics" / "a.png", ["hello"])
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join(json.dumps(r) for r in [
        {"id": 1, "text": "look", "media": [{"path": "pics/a.png", "alt": "a menu"}, {"url": "https://cdn.example/b.jpg"}]},
        {"id": 2, "text": "", "image": "pics/a.png"},  # picture only: kept
        {"id": 3, "text": "x", "image_path": "../../etc/passwd"},
    ]) + "\n", encoding="utf-8")
    first, second, third = items(posts)
    assert first.media[0].path == str(tmp_path / "pics" / "a.png") and first.media[0].alt == "a menu"
    assert first.media[1].url == "https://cdn.example/b.jpg" and first.media[1].path is None
    assert second.text == "" and second.media[0].path == str(tmp_path / "pics" / "a.png")
    assert third.media[0].warning and "leaves the media folder" in third.media[0].warning
    # --media-dir: relative paths resolve there instead
    (tmp_path / "elsewhere").mkdir()
    assert items(posts, media_dir=str(tmp_path / "elsewhere"))[0].media[0].path == str(tmp_path / "elsewhere" / "pics" / "a.png")


def test_csv_image_column(tmp_path):
    render(tmp_path / "m.png", ["hi"])
    rows = tmp_path / "rows.csv"
    rows.write_text("id,text,image\n1,see pic,m.png\n", encoding="utf-8")
    (item,) = items(rows)
    assert item.media[0].path == str(tmp_path / "m.png")


def test_telegram_desktop_photo_paths(tmp_path):
    export = tmp_path / "ChatExport"
    (export / "photos").mkdir(parents=True)
    render(export / "photos" / "photo_1.jpg", ["menu"])
    (export / "result.json").write_text(json.dumps({
        "name": "Shop", "type": "public_channel", "id": 5,
        "messages": [{"id": 7, "type": "message", "date": "2024-01-05T11:00:00", "from": "Shop", "from_id": "channel5",
                      "photo": "photos/photo_1.jpg", "width": 640, "height": 420, "text": "", "text_entities": []}]}, indent=1),
        encoding="utf-8")
    (item,) = items(export / "result.json")
    assert item.media[0].kind == "photo" and item.media[0].path == str(export / "photos" / "photo_1.jpg")
    assert item.media[0].url == "photos/photo_1.jpg"


def test_mastodon_and_bluesky_alt_text(tmp_path):
    status = json.loads(__import__("pathlib").Path("examples/mastodon_timeline.json").read_text(encoding="utf-8"))[0]
    status["media_attachments"] = [{"id": "1", "type": "image", "url": "https://files.example/a.png",
                                    "description": "Menu: Xanax 2mg £5, coke 1g £80"}]
    (tmp_path / "masto.json").write_text(json.dumps([status]), encoding="utf-8")
    (m,) = items(tmp_path / "masto.json")[0].media
    assert (m.kind, m.url, m.alt) == ("photo", "https://files.example/a.png", "Menu: Xanax 2mg £5, coke 1g £80")
    blob = {"$type": "blob", "ref": {"$link": "bafkreiabc"}, "mimeType": "image/png", "size": 10}
    post = {"did": "did:plc:abc", "time_us": 1725911162329308, "kind": "commit", "commit": {
        "rev": "r", "operation": "create", "collection": "app.bsky.feed.post", "rkey": "k1", "cid": "c",
        "record": {"$type": "app.bsky.feed.post", "createdAt": "2024-09-09T19:46:02.102Z", "text": "",
                   "embed": {"$type": "app.bsky.embed.images", "images": [{"alt": "price list", "image": blob}]}}}}
    (tmp_path / "blobs").mkdir()
    render(tmp_path / "blobs" / "bafkreiabc.png", ["x"])
    (tmp_path / "sky.jsonl").write_text(json.dumps(post) + "\n", encoding="utf-8")
    (m,) = items(tmp_path / "sky.jsonl", media_dir=str(tmp_path / "blobs"))[0].media
    assert m.alt == "price list" and m.path == str(tmp_path / "blobs" / "bafkreiabc.png")


def test_scan_reads_pictures_flags_image_only_offer_and_names_missing_ones(tmp_path):
    pytest.importorskip("rapidocr_onnxruntime")
    render(tmp_path / "menu.png", MENU)
    render(tmp_path / "lunch.png", ["LUNCH MENU", "Tomato soup - 5", "Fish and chips - 12", "Call 020 7946 0000"])
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join(json.dumps(r) for r in [
        {"id": 1, "text": "new menu 👇", "author": "a", "image": "menu.png"},
        {"id": 2, "text": "lunch today", "author": "b", "image": "lunch.png"},
        {"id": 3, "text": "hi", "author": "c", "image": "gone.png"},
    ]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = scan(posts, "-o", out)
    assert result.returncode == 0, result.stderr
    offer, lunch, missing = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert offer["flagged"] and not lunch["flagged"] and not missing["flagged"]
    ocr = offer["media"][0]["ocr"]
    assert "Xanax" in ocr["text"] and offer["media"][0]["pdq"] and offer["media"][0]["quality"] >= 50
    pictured = [r for r in offer["reasons"] if r.get("media") == 0]
    assert pictured and all(r["media_text"] == "ocr" for r in pictured)
    for r in pictured:
        if r.get("span"):
            assert ocr["text"][r["span"][0]:r["span"][1]] == r["text"]
            x0, y0, x1, y1 = r["box"]
            assert 0 <= x0 < x1 <= 640 and 0 <= y0 < y1 <= 420
    # The contact the menu gives joins the item's identifiers, marked as the picture's (networks link by it);
    # the lunch picture's fictional phone number (Ofcom's drama range) does not.
    pictured_ids = [i for i in offer["identifiers"] if i.get("source") == "media" and i["type"] != "pdq"]
    assert [(i["type"], i["canonical"]) for i in pictured_ids] == [("snapchat", "snapchat:plugking420")]
    assert not [i for i in lunch["identifiers"] if i["type"] == "phone"]
    assert missing["media"][0]["warning"] == "file not found"
    assert "gone.png" in result.stderr and "generic:3" in result.stderr
    # --no-images: the pictures are not read, and the post alone is not an offer
    quiet = scan(posts, "-o", out, "--no-images")
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert quiet.returncode == 0 and "pdq" not in first["media"][0] and not first["flagged"]


def test_scan_bank_adds_image_bank_match(tmp_path):
    render(tmp_path / "menu.png", MENU)
    bank = tmp_path / "sellers.jsonl"
    added = subprocess.run([sys.executable, "-m", "plugwatch.cli", "bank", "add", str(bank), str(tmp_path / "menu.png"),
                            "--label", "seller menu"], capture_output=True, text=True)
    assert added.returncode == 0, added.stderr
    Image.open(tmp_path / "menu.png").convert("RGB").save(tmp_path / "repost.jpg", quality=40)
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"id": 1, "text": "hello", "image": "repost.jpg"}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = scan(posts, "-o", out, "--bank", bank, "--no-images")
    assert result.returncode == 0, result.stderr
    rec = json.loads(out.read_text(encoding="utf-8"))
    (match,) = [r for r in rec["reasons"] if r["signal"] == "image_bank_match"]
    assert rec["flagged"] and match["media"] == 0 and match["text"] == "seller menu" and "sellers" in match["meaning"]
    # the picture's hash is an identifier of the item (shared as a STIX PDQ indicator once confirmed)
    (pdq,) = [i for i in rec["identifiers"] if i["type"] == "pdq"]
    assert pdq == {"type": "pdq", "value": rec["media"][0]["pdq"], "canonical": f"pdq:{rec['media'][0]['pdq']}",
                   "valid": True, "span": None, "source": "media"}


def test_a_contact_read_from_two_different_pictures_links_their_accounts(tmp_path):
    """Dealers put the contact in the picture, where text filters do not look: read from it, it joins the
    item's identifiers and `networks` links the accounts by it, across platforms, as if it were written."""
    pytest.importorskip("rapidocr_onnxruntime")
    render(tmp_path / "a.png", ["MENU", "Xanax 2mg - 5 each", "Wickr: icecold99"])
    render(tmp_path / "b.png", ["PRICES", "Ketamine 1g - 40", "Cocaine 1g - 80", "Wickr: icecold99"], (600, 380))
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join(json.dumps(r) for r in [
        {"id": 1, "text": "new menu 👇", "author": "alice", "platform": "x", "image": "a.png"},
        {"id": 2, "text": "tap in", "author": "bob", "platform": "telegram", "image": "b.png"},
    ]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = scan(posts, "-o", out)
    assert result.returncode == 0, result.stderr
    for rec in map(json.loads, out.read_text(encoding="utf-8").splitlines()):
        assert {"type": "wickr", "canonical": "wickr:icecold99", "source": "media"}.items() <= next(
            i for i in rec["identifiers"] if i["type"] == "wickr").items(), rec["identifiers"]
    nets = subprocess.run([sys.executable, "-m", "plugwatch.cli", "networks", str(out), "--out", str(tmp_path / "n")],
                          capture_output=True, text=True)
    assert nets.returncode == 0, nets.stderr
    [network] = [json.loads(x) for x in (tmp_path / "n" / "networks.jsonl").read_text(encoding="utf-8").splitlines()]
    assert network["members"] == ["telegram:bob", "x:alice"]
    assert {i["type"] for i in network["identifiers"]} == {"wickr"}


def test_the_picture_cache_is_read_back_and_an_older_format_is_read_again(tmp_path):
    pytest.importorskip("rapidocr_onnxruntime")
    from plugwatch.images.ocr import CACHE_FORMAT, PictureReader

    picture = render(tmp_path / "menu.png", ["MENU", "Snapchat: plugking420"])
    cache = tmp_path / "cache"
    first = PictureReader(cache_dir=cache).read(str(picture))
    assert first["format"] == CACHE_FORMAT and any(line.get("raw") for line in first["ocr"]["lines"])
    again = PictureReader(cache_dir=cache)
    assert again.read(str(picture)) == first and again.stats["cached"] == 1 and again.stats["ocr_runs"] == 0
    # A cache file written before OCR lines kept their raw text: its "plugking 420" would give a wrong handle.
    [file] = cache.glob("*.json")
    old = {k: v for k, v in first.items() if k != "format"}
    file.write_text(json.dumps(old), encoding="utf-8")
    reread = PictureReader(cache_dir=cache)
    assert reread.read(str(picture))["format"] == CACHE_FORMAT and reread.stats["ocr_runs"] == 1


def test_a_picture_of_too_many_pixels_is_a_warning_not_the_end_of_the_scan(tmp_path, monkeypatch):
    """Pillow raises DecompressionBombError (not an OSError) for a picture of over twice MAX_IMAGE_PIXELS,
    and only warns below that: a 30000x30000 PNG of 100 KB ended the whole scan with a traceback."""
    from plugwatch.images.channel import ImageDetector
    from plugwatch.images.ocr import PictureReader

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # the real limit (89 Mpx) costs a GB to render
    Image.new("L", (100, 100), 255).save(tmp_path / "bomb.png")  # over twice the limit: Pillow raises
    Image.new("L", (40, 40), 255).save(tmp_path / "big.png")  # between the limit and twice it: Pillow warns
    posts = tmp_path / "posts.jsonl"
    posts.write_text("".join(json.dumps({"id": n, "text": "tap in", "image": f"{n}.png"}) + "\n"
                             for n in ("bomb", "big")), encoding="utf-8")
    batch = [(item, []) for item in items(posts)]
    ImageDetector(None, PictureReader(ocr=False)).verdicts(batch)
    for item, _ in batch:
        assert item.media[0].warning == "more than 1,000 pixels: not read" and item.media[0].pdq is None
