"""Grapheme counting (Bluesky, Mastodon), Mastodon's length rule, and Bluesky facets."""

from __future__ import annotations

import random

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from eduadvocate.platforms.base import Facet
from eduadvocate.platforms.textcount.unicode import (
    bluesky_facets,
    grapheme_ends,
    graphemes,
    mastodon_length,
)

SAMPLES = [
    ("", 0),
    ("hello", 5),
    ("a\r\nb", 3),  # CR LF is one cluster
    ("é", 1),  # e + combining acute
    ("👩🏽‍🏫", 1),  # ZWJ sequence with a skin tone
    ("🇺🇸🇬🇧", 2),  # two flags
    ("क्षि", 1),  # Unicode 15.1 conjunct rule (GB9c)
    ("학교", 2),  # precomposed Hangul
    ("학교", 2),  # the same in conjoining jamo
    ("学校の予算", 5),
]


@pytest.mark.parametrize(("text", "count"), SAMPLES)
def test_graphemes(text: str, count: int) -> None:
    assert graphemes(text) == count


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_fast_paths_agree_with_regex_X(text: str) -> None:
    assert graphemes(text) == len(regex.findall(r"\X", text))


def test_fast_paths_agree_on_mixed_joiners() -> None:
    rng = random.Random(3)
    pool = [
        *"abc .\r\n学",
        "\u0301",
        "\u200d",
        "👩",
        "🏽",
        "🇺",
        "🇸",
        "\ufe0f",
        "\u1100",
        "\u1161",
        "\u11a8",
        "क",
        "्",
        "ष",
        "\u0600",
    ]
    for _ in range(5000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 25)))
        assert graphemes(text) == len(regex.findall(r"\X", text)), repr(text)
        assert grapheme_ends(text) == [m.end() for m in regex.finditer(r"\X", text)], repr(text)


# ASCII around and between the characters that join clusters, so that the windows graphemes()
# counts with \X alone start, end, touch and share their ASCII neighbours in every way.
_WINDOW_POOL = [
    *"ab #1.\n\t",
    "\r",
    "\u0301",
    "\u200d",
    "\u0903",  # SpacingMark
    "\u0600",  # Prepend
    "👩",
    "🏽",
    "🇺",
    "🇸",
    "\ufe0f",
    "\u20e3",
    "\u1100",
    "\u1161",
    "\uac00",
    "क",
    "्",
    "学",
    "©",
]


@given(st.lists(st.sampled_from(_WINDOW_POOL), max_size=30).map("".join))
def test_counting_by_windows_agrees_with_regex_X(text: str) -> None:
    r"""graphemes() runs \X only on the non-ASCII stretches and their ASCII neighbours."""
    assert graphemes(text) == len(regex.findall(r"\X", text))


def test_a_run_of_flag_halves_pairs_from_its_start() -> None:
    """Regional indicators pair up from the start of their run, whatever surrounds it (the
    counting pairs them itself: ``\\X`` is quadratic on a long run)."""
    for text in ["🇺🇸🇫", "a🇺🇸🇫\u0301🇺", "\u0600🇺🇸🇺\u200d🇸", "🇺" * 7 + "\r\n"]:
        assert graphemes(text) == len(regex.findall(r"\X", text)), repr(text)
        assert grapheme_ends(text) == [m.end() for m in regex.finditer(r"\X", text)], repr(text)


@pytest.mark.parametrize(
    ("text", "cw", "length"),
    [
        ("hello", "", 5),
        ("see https://example.org/a/very/long/path?x=1 now", "", 4 + 23 + 4),
        ("see example.org now", "", 19),  # no protocol: counted in full
        ("hi @alice@mastodon.social", "", 9),  # the domain is free
        ("hi @alice", "", 9),
        ("mail a@b.org", "", 12),  # an e-mail address is no mention
        ("abc", "Budget cuts", 14),  # the content warning counts too
    ],
)
def test_mastodon_length(text: str, cw: str, length: int) -> None:
    assert mastodon_length(text, cw) == length


MASTODON_CORPUS = [
    "Fund our schools! https://fundspringfieldschools.org/petition?utm_source=mastodon @lopez@mastodon.education",
    "Tell @ChairLopez and @okafor@district.example: class sizes matter. (https://a.example/b).",
    "Wear blue tonight 💙 #FundOurSchools http://x.example/y/z",
    "学校の予算を守ろう https://example.jp/学校",
    "@a@b.c @d e@f.g http://h.ij/k https://l.mn/o?p=q#r",
]


@pytest.mark.parametrize("text", MASTODON_CORPUS)
def test_mastodon_length_agrees_with_mastodon_py(text: str) -> None:
    """Mastodon.py implements the same rule (with Unicode 13 graphemes): where Unicode 13 and
    current rules agree, so must we."""
    mastodon = pytest.importorskip("mastodon")
    for cw in ("", "CW: cuts"):
        assert mastodon_length(text, cw) == mastodon.Mastodon.get_status_length(text, cw)


def test_mastodon_py_is_behind_on_unicode_15_1() -> None:
    """Why we do not call Mastodon.py's get_status_length: it counts a Devanagari conjunct as 2."""
    mastodon = pytest.importorskip("mastodon")
    assert mastodon.Mastodon.get_status_length("क्षि") == 2
    assert mastodon_length("क्षि") == 1


def test_bluesky_facets_byte_offsets() -> None:
    text = "Café 🏫 @lopez.bsky.social #FundOurSchools, see example.org/p!"
    facets = bluesky_facets(text)
    data = text.encode()
    assert [(f.kind, data[f.byte_start : f.byte_end].decode(), f.value) for f in facets] == [
        ("mention", "@lopez.bsky.social", "lopez.bsky.social"),
        ("tag", "#FundOurSchools", "FundOurSchools"),
        ("link", "example.org/p", "https://example.org/p"),
    ]
    assert all(isinstance(f, Facet) for f in facets)


def test_bluesky_facets_skip_non_handles_and_numeric_tags() -> None:
    assert bluesky_facets("@nodot and #123 and email a@b.org") == ()


# Around @ and # signs: what stands before them in Mastodon's and Bluesky's patterns (start,
# space, "(", "=", "/", a word character) and what their handles and tags are made of.
_SIGN_POOL = [*"@#＃ (=/a1.-_!", "\n", "\ufe0f", "\u00ad", "é", "😀", "@a.b", "#x"]


@given(st.lists(st.sampled_from(_SIGN_POOL), max_size=30).map("".join))
def test_mentions_and_tags_are_matched_where_searching_finds_them(text: str) -> None:
    """Mastodon's mentions and Bluesky's mentions and tags are tried only at their signs: the
    matches are those that searching every character finds."""
    from eduadvocate.platforms.textcount import unicode

    for pattern, signs in [
        (unicode._MASTODON_MENTION, "@"),
        (unicode._BSKY_MENTION, "@"),
        (unicode._BSKY_TAG, "#＃"),
    ]:
        expected = [(m.span(), m.groups()) for m in pattern.finditer(text)]
        found = [(m.span(), m.groups()) for m in unicode._from_signs(pattern, text, signs)]
        assert found == expected, pattern.pattern
