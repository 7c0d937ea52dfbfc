"""The linear URL scan finds exactly what twitter-text's backtracking patterns find.

``_urlscan`` replaces ``re.finditer`` over ``EXTRACT_URL`` and ``VALID_ASCII_DOMAIN`` (quadratic
on runs of dotted labels).  On texts short enough for the patterns to be quick, both must agree
match for match: every group the extraction reads, and where each match starts and ends.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.platforms.adversarial_texts import SHAPES

from eduadvocate.platforms.textcount import _twitter_patterns as _p
from eduadvocate.platforms.textcount import _urlscan

EXTRACT_URL = re.compile(_p.EXTRACT_URL)
VALID_ASCII_DOMAIN = re.compile(_p.VALID_ASCII_DOMAIN)

# Pieces that make or break domains: labels, TLDs and near-TLDs, every kind of character the
# label, preceding-character and path rules treat differently, protocols, and UTF-16 halves.
TOKENS = [
    *"abcmoxnrtuz019",
    *"-_./:?!()@#$&=+~,;'*[]|",
    "co",
    "com",
    "org",
    "uk",
    "jp",
    "xn--",
    "xn--p1ai",
    "http://",
    "https://",
    "HTTPS://",
    "t.co/",
    "www.",
    "é",
    "ü",
    "ß",
    "中",
    "中国",
    "香港",
    "рф",
    "한국",
    "。",
    "．",
    "\u200e",
    "\u061c",
    "\u202a",
    "\ufeff",
    "＃",
    "＠",
    "\u3000",
    " ",
    "\n",
    "\ud83d",
    "\ude00",
    "\u2013",
]
texts = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)
dotted = st.lists(
    st.sampled_from(["a", "b", "co", "com", "中", "é", "-", "_", "x", "xn--", "1", "/"]),
    max_size=12,
).map(".".join)
many = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _regex_urls(text: str) -> list[_urlscan.UrlMatch]:
    return [
        _urlscan.UrlMatch(*m.group(2, 3, 4, 5), m.group(7) or "", m.start(3), m.end())
        for m in EXTRACT_URL.finditer(text)
    ]


def _regex_ascii_domains(text: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group()) for m in VALID_ASCII_DOMAIN.finditer(text)]


@many
@given(text=st.one_of(texts, dotted, st.tuples(texts, dotted, texts).map("".join)))
def test_url_matches_agree_with_extract_url(text: str) -> None:
    """Match for match: the preceding character, URL, protocol, domain, path and indices."""
    assert _urlscan.url_matches(text) == _regex_urls(text)


@many
@given(text=st.one_of(texts, dotted, st.tuples(texts, dotted, texts).map("".join)))
def test_ascii_domains_agree_with_valid_ascii_domain(text: str) -> None:
    """Every ASCII domain, where the pattern finds it."""
    assert _urlscan.ascii_domains(text) == _regex_ascii_domains(text)


@pytest.mark.parametrize("shape", SHAPES)
def test_adversarial_shapes_agree_at_a_small_size(shape: str) -> None:
    """The slow shapes, at a size the patterns still manage (their slowness is the point)."""
    text = SHAPES[shape](300)
    assert _urlscan.url_matches(text) == _regex_urls(text)
    assert _urlscan.ascii_domains(text) == _regex_ascii_domains(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a.com",
        "中example.com",  # a non-ASCII letter may precede a URL and be part of its domain
        "x_a.com",  # "_" may not be in the label before the TLD, but may precede a URL
        "_a.com",
        "a-.com",
        "-a.com",
        "a.b_c.com",
        "a._b.com",
        "é_é_http://a.com",  # a protocol in the middle of a segment the scan skips
        "http://http://a.com",
        "https://a.co.a.co.a.a",
        "a.company-x",  # a TLD the lookahead refuses, then a shorter one
        "a.co.uk.b",
        "xn--a.xn--b",
        "a.com/(b(c)d)e?f=g#h",
        "a.co:8080/x:80",
        "a.b.c.d.e.f.g.h.i.j.k.com" * 3,
        "\u200ea.com",
        "a.com\ufeffb.com",
    ],
)
def test_url_matches_on_chosen_texts(text: str) -> None:
    assert _urlscan.url_matches(text) == _regex_urls(text)
    assert _urlscan.ascii_domains(text) == _regex_ascii_domains(text)
