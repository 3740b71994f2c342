"""PDQ hashes, hash banks and the multi-index: plugwatch's hash is the reference implementation's, banks
survive a round trip through JSON lines and python-threatexchange's CSV, and matching honours the
distance threshold."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("pdqhash")
PIL = pytest.importorskip("PIL")
from PIL import Image, ImageEnhance, ImageOps  # noqa: E402

from plugwatch.images.bank import Bank, BankEntry, load_bank, parse_entries, save_bank, to_jsonl, to_tx_csv  # noqa: E402
from plugwatch.images.index import PdqIndex  # noqa: E402
from plugwatch.images.pdq import distance, hash_file, hash_image  # noqa: E402


def picture(seed: int, size=(320, 240)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray((rng.random((24, 32, 3)) * 255).astype("uint8")).resize(size, Image.BICUBIC)


def reference_hex(img: Image.Image) -> str:
    """How python-threatexchange's PdqSignal turns pdqhash's bits into the hash it stores."""
    import pdqhash

    bits, _ = pdqhash.compute(np.asarray(img.convert("RGB")))
    bin_str = "".join(str(int(x)) for x in bits)
    return "{:0{}x}".format(int(bin_str, 2), len(bin_str) // 4)


def test_hash_equals_reference(tmp_path):
    for seed in range(5):
        img = picture(seed)
        path = tmp_path / f"{seed}.png"
        img.save(path)
        h = hash_file(path)
        assert h.pdq == reference_hex(img)
        assert len(h.pdq) == 64 and h.quality >= 50


def test_flat_picture_has_low_quality():
    assert hash_image(Image.new("RGB", (200, 200), "white")).quality < 50


def test_bank_round_trip_jsonl_and_threatexchange_csv(tmp_path):
    a, b = hash_image(picture(1)).pdq, hash_image(picture(2)).pdq
    bank = Bank("menus", [BankEntry(a, "seller menu", "a.jpg"), BankEntry(b, "pill photo", "b.jpg")])
    path = tmp_path / "menus.jsonl"
    save_bank(bank, path)
    again, bad = load_bank(path)
    assert not bad and [e.to_dict() for e in again.entries] == [e.to_dict() for e in bank.entries]
    csv_text = to_tx_csv(bank)
    assert csv_text.splitlines()[0] == "collab,signal_type,signal_str,category,tags"
    assert f"menus,pdq,{a},POSITIVE_CLASS,seller_menu" in csv_text
    back, bad = parse_entries(csv_text)
    assert not bad and [(e.pdq, e.label, e.source) for e in back] == [(a, "seller_menu", "menus"),
                                                                       (b, "pill_photo", "menus")]
    # python-threatexchange's file exchange: one "pdq HASH" per line
    plain, bad = parse_entries(f"pdq {a}\nnot a hash\n{b}\n", default_label="imported")
    assert [e.pdq for e in plain] == [a, b] and plain[0].label == "imported"
    assert [x.line for x in bad] == [2]
    assert json.loads(to_jsonl(Bank("x", plain)).splitlines()[0]) == {"pdq": a, "label": "imported", "source": None}


def _flip(pdq: str, bits: list[int]) -> str:
    raw = bytearray(bytes.fromhex(pdq))
    for bit in bits:
        raw[bit // 8] ^= 1 << (bit % 8)
    return bytes(raw).hex()


def test_match_at_threshold():
    base = hash_image(picture(3)).pdq
    bank = Bank("b", [BankEntry(base, "menu")])
    assert [m.distance for m in bank.match(_flip(base, list(range(0, 248, 8))))] == [31]
    assert bank.match(_flip(base, list(range(0, 256, 8)))) == []  # 32 bits apart
    assert [m.distance for m in bank.match(_flip(base, list(range(0, 256, 8))), max_distance=32)] == [32]


def test_index_finds_what_a_linear_scan_finds():
    rng = np.random.default_rng(5)
    hashes = [rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex() for _ in range(3000)]
    hashes += [_flip(hashes[i], list(rng.choice(256, 20 + i % 25, replace=False))) for i in range(200)]
    index = PdqIndex(hashes)
    for q in hashes[:50] + hashes[-50:]:
        for d in (15, 31, 40):
            linear = sorted(i for i, h in enumerate(hashes) if distance(q, h) <= d)
            assert sorted(h.index for h in index.query(q, d)) == linear


def test_altered_copies_match_their_bank_entry(tmp_path):
    img = picture(7, (480, 360))
    original = tmp_path / "menu.png"
    img.save(original)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=30)
    copies = {"jpeg30": Image.open(buf), "bright": ImageEnhance.Brightness(img).enhance(1.2),
              "border": ImageOps.expand(img, border=24, fill="white"),
              "crop": img.crop((24, 18, 456, 342))}
    for name, copy in copies.items():
        copy.convert("RGB").save(tmp_path / f"{name}.png")
    bank = tmp_path / "bank.jsonl"
    run = [sys.executable, "-m", "plugwatch.cli"]
    added = subprocess.run(run + ["bank", "add", str(bank), str(original), "--label", "menu"], capture_output=True,
                           text=True)
    assert added.returncode == 0, added.stderr
    other = tmp_path / "other.png"
    picture(99, (480, 360)).save(other)
    out = subprocess.run(run + ["bank", "match", str(bank), *[str(tmp_path / f"{n}.png") for n in copies],
                                str(other)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert [bool(x["matches"]) for x in lines] == [True] * len(copies) + [False]
    assert all(x["matches"][0]["label"] == "menu" for x in lines[:-1])


def test_hash_command_names_unreadable_pictures(tmp_path):
    good, bad = tmp_path / "good.png", tmp_path / "bad.png"
    picture(1).save(good)
    bad.write_text("not a picture")
    out = subprocess.run([sys.executable, "-m", "plugwatch.cli", "hash", str(good), str(bad)],
                         capture_output=True, text=True)
    assert out.returncode == 3
    assert json.loads(out.stdout)["pdq"] == reference_hex(picture(1))
    assert "bad.png" in out.stderr and "not a picture" in out.stderr
