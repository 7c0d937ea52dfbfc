"""text_warnings skips its character and identifier scans where quicker scans show they cannot
find anything (content/textsafety.py): the warnings are the same as with every scan made, for
any text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from eduadvocate.content import textsafety as ts

PIECES = [
    "Fund",
    "school",
    "#FundOurSchools",
    "#FundОurSchools",  # a Cyrillic O
    "@lopez",
    "@lорez",
    "＃タグ",
    "https://exаmple.org",
    "HTTP://EXAMPLE.ORG/é",
    "www.exаmple.org",
    "www.example.org",
    "\u202e",
    "\u2066",
    "\u200b",
    "\u00ad",
    "a\u200db",
    "👩‍🏫",
    "é",
    "学校",
    "\u00a0",
    "\x1c",
    "\u3000",
    "＠lopez",
    "httpſ://exаmple.org",
    "WWW.exаmple.org",
    "x@é",
    "é://a",
    "\u200c",
    "a\u200cb",
    "\u2060",
]
texts = st.lists(
    st.tuples(st.sampled_from(["", " ", "\n", "\t", "\u00a0", "\x0b"]), st.sampled_from(PIECES)),
    max_size=10,
).map(lambda pairs: "".join(a + b for a, b in pairs))


def every_scan(text: str) -> tuple[tuple[str, str], ...]:
    """The warnings with every scan made (the rule before the gates)."""
    if text.isascii():
        return ()
    out: list[tuple[str, str]] = []
    bidi = ts._BIDI.findall(text)
    if bidi:
        out.append(
            (
                "bidi-control",
                f"the text has a bidirectional control character ({ts._code_points(bidi)})"
                " that can make it display differently from what it says",
            )
        )
    invisible = ts._INVISIBLE.findall(text) + ts._STRAY_JOINER.findall(text)
    if invisible:
        out.append(
            (
                "invisible-character",
                f"the text has an invisible character ({ts._code_points(invisible)})",
            )
        )
    for word in dict.fromkeys(ts.identifiers(text)):
        problem = ts.identifier_warning(word)
        if problem:
            out.append(("mixed-script", problem))
    return tuple(out)


@settings(max_examples=1000)
@given(text=texts)
def test_the_gates_never_hide_a_warning(text: str) -> None:
    assert ts.text_warnings.__wrapped__(text) == every_scan(text)


def test_the_gates_let_the_deceptive_ones_through() -> None:
    assert [code for code, _ in ts.text_warnings("Sign at #FundОurSchools today 学校")] == [
        "mixed-script"
    ]
    assert ts.text_warnings("Sign at #FundOurSchools today 学校") == ()
