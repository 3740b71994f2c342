"""Cases that pin the fast paths of normalize and identifier extraction to the results of the slow ones."""

import pytest

from plugwatch.text.identifiers import extract_identifiers
from plugwatch.text.normalize import normalize


@pytest.mark.parametrize(
    ("text", "folded", "offsets"),
    [
        # "@!€" after a letter up to the token's end is no leetspeak hit; elsewhere it is
        ("wow!", "wow!", [0, 1, 2, 3, 4]),
        ("sale!!", "sale!!", [0, 1, 2, 3, 4, 5, 6]),
        ("c0ke!", "coke!", [0, 1, 2, 3, 4, 5]),
        ("x@n@x!!", "xanax!!", [0, 1, 2, 3, 4, 5, 6, 7]),
        ("ab!5", "abis", [0, 1, 2, 3, 4]),
        ("weed!looks", "weed!looks", list(range(11))),
        ("@user123 hi", "@user123 hi", list(range(12))),
        # characters whose fold is not one character: offsets from the regex scan of them
        ("ﬁne ❤️ x\u200by", "fine ❤ xy", [0, 0, 1, 2, 3, 4, 6, 7, 9, 10]),
        ("ß½…", "ssl⁄2...", [0, 0, 1, 1, 1, 2, 2, 2, 3]),
        ("weeeed xaaanax", "weed xanax", [0, 1, 2, 5, 6, 7, 8, 11, 12, 13, 14]),
        ("hi\tthere\nnow", "hi there now", list(range(13))),
    ],
)
def test_normalize_fast_paths_keep_text_and_offsets(text, folded, offsets):
    norm = normalize(text)
    assert norm.text == folded
    assert list(norm.offsets) == offsets


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # a defanging marker that only shows once characters are fixed (fullwidth brackets)
        ("order at shop［.］to ❤️", [("domain", "shop.to", 9, 18), ("url", "http://shop.to/", 9, 18)]),
        # a Cyrillic look-alike inside a link, fixed without any marker
        ("contact t.mе/dealer 🍁", [("domain", "t.me", 8, 19), ("telegram", "telegram:dealer", 8, 19),
                                   ("url", "http://t.me/dealer", 8, 19)]),
        ("wickr: ｄｅａｌｅｒ１２ ❤️", [("wickr", "wickr:dealer12", 7, 15)]),
        ("call 555 123 4567 ❤️", [("phone_national", "phone_national:5551234567", 5, 17)]),
    ],
)
def test_non_ascii_identifiers_without_markers(text, found):
    assert [(i.type, i.canonical, i.start, i.end) for i in extract_identifiers(text)] == found
