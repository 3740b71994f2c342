"""Rendered test pictures for the image benchmarks and the image-text evaluation: drug price menus as
sellers post them, and pictures with text that are not offers (restaurant menus, shop price lists, event
posters, harm-reduction posters, news screenshots), with varied fonts, colours, backgrounds, rotation,
JPEG quality and noise. Everything is drawn here from word lists and a seed: no picture is downloaded.

`split` keeps training and test pictures apart: each has its own word lists (drug names as written,
handles, dishes, headlines) and its own fonts, so a test picture shares no template text or font with
what a model was trained on.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path

FONT_DIR = Path("/usr/share/fonts/truetype")
FONTS = {
    "train": ["dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Bold.ttf", "liberation/LiberationSerif-Regular.ttf",
              "dejavu/DejaVuSansMono.ttf", "liberation/LiberationSansNarrow-Regular.ttf"],
    "test": ["liberation/LiberationSans-Regular.ttf", "dejavu/DejaVuSerif-Bold.ttf",
             "liberation/LiberationMono-Bold.ttf", "dejavu/DejaVuSansCondensed.ttf", "liberation/LiberationSerif-Bold.ttf"],
}

OFFER = {
    "train": {
        "title": ["MENU", "NEW MENU", "PRICE LIST", "TODAY'S DROP", "WEEKEND MENU", "PLUG MENU"],
        "items": ["Xanax 2mg bars", "MDMA crystal", "Coke 1g", "Ket 1g", "Kush 3.5g", "Oxy 30mg", "Molly caps",
                  "Percs 10mg", "Shrooms 7g", "Lean 4oz", "Adderall 30mg", "Vapes THC 1ml"],
        "contact": ["Snap: {h}", "Telegram @{h}", "Wickr {h}", "DM @{h} to order", "Signal +44 7{n}",
                    "WhatsApp +1 415 {n}"],
        "extra": ["Same day delivery", "Discreet post", "No time wasters", "Bulk deals", "Tap in ❄"],
        "handles": ["plugking", "candyman420", "ukplug_uk", "frostyboi", "greenzone"],
    },
    "test": {
        "title": ["MENU 🔌", "PRICES", "FRESH STOCK", "LIST", "DROP MENU", "SHOP"],
        "items": ["Xans 1mg", "Cocaine 1g", "Ketamine 2g", "Weed 7g", "Oxycodone 20mg", "Pingers x10", "Mandy 1g",
                  "Hash 5g", "Acid tabs", "Codeine 30mg", "Carts 1g", "Speed 1g"],
        "contact": ["Snapchat {h}", "TG @{h}", "Threema {h}", "Text +44 7{n}", "Insta @{h}", "Session {h}"],
        "extra": ["Delivery 24/7", "Stealth shipping", "Serious buyers only", "Ounce deals", "Drop a DM"],
        "handles": ["snowplug", "thecandystore", "ldnplug", "mrblue", "zazaking"],
    },
}

BENIGN = {
    "train": {
        "restaurant": ["Margherita pizza", "Caesar salad", "Fish and chips", "Chicken curry", "Garlic bread",
                       "Veggie burger", "Tomato soup", "Lemonade"],
        "shop": ["AA batteries x4", "Phone charger", "USB cable 1m", "Screen protector", "Earbuds", "Power bank"],
        "poster": ["LIVE MUSIC FRIDAY", "Doors open 8pm", "Tickets at the door", "Student night", "Open mic"],
        "harm": ["Test your drugs before use", "Fentanyl is in pills sold as Xanax", "Carry naloxone",
                 "Never use alone", "Free drug checking this Saturday", "Talk to a pharmacist"],
        "news": ["Police seize cocaine worth £2m at port", "Court jails drug dealer for five years",
                 "Council debates new parking rules", "Weather: heavy rain expected", "Local team wins cup"],
    },
    "test": {
        "restaurant": ["Spaghetti carbonara", "Greek salad", "Beef burger", "Pad thai", "Apple pie", "Iced tea",
                       "Falafel wrap", "Onion rings"],
        "shop": ["Laptop stand", "HDMI cable", "Wireless mouse", "Phone case", "Desk lamp", "Keyboard"],
        "poster": ["JAZZ NIGHT", "Free entry before 10", "Book your table", "Quiz every Tuesday", "DJ set"],
        "harm": ["Start low, go slow", "Ketamine can damage your bladder", "Fentanyl test strips available",
                 "Know the signs of overdose", "Call 999 if someone collapses"],
        "news": ["Man arrested after drugs raid", "Cannabis farm found in house", "Schools reopen on Monday",
                 "Mayor opens new library", "Train strike called off"],
    },
}
BENIGN_TITLES = {"restaurant": ["MENU", "LUNCH MENU", "TODAY'S SPECIALS"], "shop": ["PRICE LIST", "OFFERS"],
                 "poster": ["THE RED LION", "CLUB NIGHT"], "harm": ["STAY SAFE", "HARM REDUCTION"],
                 "news": ["BREAKING NEWS", "LOCAL NEWS"]}


@dataclass
class Picture:
    kind: str  # "offer" or a benign kind
    text: str  # what was drawn, line by line
    data: bytes  # JPEG or PNG bytes


def _font(split: str, rng: random.Random, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(str(FONT_DIR / rng.choice(FONTS[split])), size)


def _price(rng: random.Random) -> str:
    return rng.choice(["£", "$", "€"]) + str(rng.choice([5, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 250]))


def offer_lines(split: str, rng: random.Random) -> list[str]:
    w = OFFER[split]
    lines = [rng.choice(w["title"])]
    for item in rng.sample(w["items"], rng.randint(3, 6)):
        lines.append(f"{item} - {_price(rng)}")
    h, n = rng.choice(w["handles"]), rng.randint(100000, 999999)
    lines.append(rng.choice(w["contact"]).format(h=h, n=n))
    if rng.random() < 0.6:
        lines.append(rng.choice(w["extra"]))
    return lines


def benign_lines(split: str, kind: str, rng: random.Random) -> list[str]:
    words = BENIGN[split][kind]
    lines = [rng.choice(BENIGN_TITLES[kind])]
    picks = rng.sample(words, min(len(words), rng.randint(3, 5)))
    if kind in ("restaurant", "shop"):
        lines += [f"{p} - {_price(rng)}" for p in picks]
    else:
        lines += picks
    if kind == "restaurant" and rng.random() < 0.5:
        lines.append(f"Call 020 7{rng.randint(100, 999)} {rng.randint(1000, 9999)} to book")
    return lines


def render(lines: list[str], split: str, rng: random.Random, *, clean: bool = False) -> bytes:
    """The lines drawn on a picture; clean=False varies colours, background, rotation, noise and JPEG quality."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    width, height = rng.choice([(600, 800), (720, 720), (800, 600), (540, 960)])
    dark = rng.random() < 0.4
    bg = tuple(rng.randint(0, 60) if dark else rng.randint(180, 255) for _ in range(3))
    fg = tuple(rng.randint(200, 255) if dark else rng.randint(0, 70) for _ in range(3))
    img = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(img)
    if not clean and rng.random() < 0.5:  # a gradient or blotches behind the text
        for _ in range(rng.randint(3, 8)):
            x, y, r = rng.randint(0, width), rng.randint(0, height), rng.randint(40, 200)
            shade = tuple(max(0, min(255, c + rng.randint(-40, 40))) for c in bg)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=shade)
    size = max(22, min(48, int(height / (len(lines) * 1.9))))
    y = rng.randint(20, 50)
    for i, line in enumerate(lines):
        font = _font(split, rng, int(size * (1.3 if i == 0 else 1.0)))
        colour = fg if i or not rng.random() < 0.5 else tuple(rng.randint(120, 255) for _ in range(3))
        draw.text((rng.randint(20, 50), y), line, font=font, fill=colour)
        y += int(size * 1.7)
    if not clean:
        angle = rng.uniform(-8, 8)
        img = img.rotate(angle, expand=False, fillcolor=bg, resample=Image.BICUBIC)
        if rng.random() < 0.5:
            pixels = np.asarray(img).astype(np.int16)
            noise = np.random.default_rng(rng.randint(0, 1 << 30)).normal(0, rng.uniform(4, 14), pixels.shape)
            img = Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))
        if rng.random() < 0.3:
            img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=95 if clean else rng.randint(35, 90))
    return buf.getvalue()


def photo(rng: random.Random) -> bytes:
    """A picture without text (shapes and colours), for the text-presence test and the PDQ figures."""
    from PIL import Image, ImageDraw

    width, height = rng.choice([(640, 480), (800, 600), (600, 600)])
    img = Image.new("RGB", (width, height), tuple(rng.randint(0, 255) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randint(5, 25)):
        x0, y0 = rng.randint(0, width), rng.randint(0, height)
        x1, y1 = x0 + rng.randint(20, 300), y0 + rng.randint(20, 300)
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def pictures(split: str, n_offers: int, n_benign: int, seed: int) -> list[Picture]:
    rng = random.Random(f"{split}:{seed}")
    out = []
    for _ in range(n_offers):
        lines = offer_lines(split, rng)
        out.append(Picture("offer", "\n".join(lines), render(lines, split, rng)))
    kinds = list(BENIGN[split])
    for i in range(n_benign):
        kind = kinds[i % len(kinds)]
        lines = benign_lines(split, kind, rng)
        out.append(Picture(kind, "\n".join(lines), render(lines, split, rng)))
    return out
