"""The item page with pictures: the picture blurred until asked with the evidence boxes outlined over it,
the text read from it highlighted with its own reasons (not the post's), bank matches, and emoji that
carry evidence named beside them."""

from __future__ import annotations

import re

import pytest

from plugwatch.store import review, users
from plugwatch.wiring import create_app
from tests.test_pages import PASSWORD, record, sign_in, url

OCR = "MENU\nXanax 2mg - 5\nSnap: plugking"


@pytest.fixture
def site(db_url):
    app = create_app(db_url, media_hosts="cdn.example")
    with app.state.store.session() as s:
        users.add_user(s, "rita", "reviewer", PASSWORD)
        review.ingest_records(s, [record(
            60, "menuposter", "new menu 💊👇", reasons=[
                {"signal": "drug_term", "meaning": "'💊' = pill", "text": "💊", "span": [9, 10]},
                {"signal": "drug_term", "meaning": "in picture 1 (text read from it): 'Xanax' = alprazolam",
                 "text": "Xanax", "span": [5, 10], "media": 0, "media_text": "ocr", "box": [20, 60, 120, 100]},
                {"signal": "image_bank_match", "meaning": "picture matches bank 'sellers': menu of X (distance 4)",
                 "text": "menu of X", "span": None, "source": "bank", "media": 0},
            ],
            media=[{"url": "https://cdn.example/menu.jpg", "kind": "photo", "pdq": "ab" * 32, "quality": 100,
                    "ocr": {"text": OCR, "size": [640, 480], "lines": []}},
                   {"kind": "photo", "path": "/exports/gone.jpg", "warning": "file not found"}])])
    yield app
    app.state.store.dispose()


def test_picture_evidence_on_the_item_page(site):
    page = sign_in(site, "rita").get(url("x:60")).text
    # the post's own text is highlighted with the post's reasons only; the emoji is named beside it
    post = re.search(r'<div class="item-text"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert re.findall(r"<mark [^>]*>([^<]*)</mark>", post) == ["💊"]
    assert 'data-emoji="pill"' in post
    # the picture: blurred until asked, the evidence box outlined in the picture's own pixel space
    assert 'data-src="https://cdn.example/menu.jpg"' in page and ' src="https://cdn.example' not in page
    assert 'viewBox="0 0 640 480"' in page and '<rect x="20" y="60" width="100" height="40">' in page
    # the text read from it, with its own evidence highlighted
    read = re.search(r'<div class="item-text picture-text">(.*?)</div>', page, re.S).group(1)
    assert re.findall(r"<mark [^>]*>([^<]*)</mark>", read) == ["Xanax"]
    assert "Bank match: picture matches bank &#39;sellers&#39;: menu of X (distance 4)" in page
    assert "could not be read: file not found" in page
