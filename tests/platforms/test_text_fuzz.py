"""Every counter and extractor on random and adversarial texts up to 64 KB: each call stays
within a time budget and its answer is sane (counts non-negative, spans inside the text and in
order).

The budget is generous (a loaded CI machine must never trip it); the speed itself is measured by
``bench/adversarial_text.py``.  What this catches is a scan that is super-linear on some shape:
at 64 KB such a scan takes minutes, not seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.platforms.adversarial_texts import SHAPES, SIZE, repeat

from eduadvocate.platforms.base import Facet
from eduadvocate.platforms.textcount import twitter, unicode

BUDGET_S = 3.0

# The alphabets behind the slow shapes: dotted labels, the entity signs, URL punctuation,
# digits, letters that are and are not ASCII, emoji and what joins them.
DANGEROUS = [
    *"a.@#$/:-_?!()=&+~ 09",
    "co",
    "com",
    "xn--",
    "http://",
    "https://",
    "t.co/",
    "RT ",
    "é",
    "ü",
    "中",
    "中国",
    "рф",
    "ا",
    "\u0301",
    "\u094d",
    "क",
    "。",
    "＃",
    "＠",
    "😀",
    "👩",
    "🏽",
    "🇺",
    "🇸",
    "❤",
    "\ufe0f",
    "\u20e3",
    "\u200d",
    "\u200b",
    "\u200e",
    "\u3000",
    "\n",
    "\r\n",
]
piece = st.lists(st.sampled_from(DANGEROUS), min_size=1, max_size=6).map("".join)
sizes = st.one_of(st.just(SIZE), st.integers(1, SIZE))
# A short unit repeated to up to 64 KB: the shape of every quadratic input found so far.
runs = st.builds(repeat, piece, sizes)
# A few long runs one after another (a long URL after a long chain of labels, and so on).
mixed = st.lists(st.builds(repeat, piece, sizes.map(lambda n: n // 4)), max_size=4).map("".join)
# Random small texts over the same alphabet.
small = st.lists(st.sampled_from(DANGEROUS), max_size=400).map("".join)
texts = st.one_of(runs, mixed, small)


def _timed(name: str, call: Callable[[str], Any], text: str) -> Any:
    started = time.perf_counter()
    result = call(text)
    elapsed = time.perf_counter() - started
    assert elapsed < BUDGET_S, (
        f"{name} took {elapsed:.1f} s on a text of {len(text):,} characters "
        f"starting {text[:40]!r}: super-linear on this shape?"
    )
    return result


def _check_entities(text: str, entities: list[twitter.Entity], *, disjoint: bool) -> None:
    for e in entities:
        assert 0 <= e.start < e.end <= len(text)
    for before, after in pairwise(entities):
        assert before.start < after.start
        if disjoint:
            assert before.end <= after.start


def _check_facets(text: str, facets: tuple[Facet, ...]) -> None:
    data = text.encode("utf-8")
    for f in facets:
        assert 0 <= f.byte_start < f.byte_end <= len(data)
        shown = data[f.byte_start : f.byte_end].decode("utf-8")  # whole characters
        if f.kind == "tag":
            assert shown[1:] == f.value
        elif f.kind == "mention":
            assert shown == "@" + f.value
    for before, after in pairwise(facets):
        assert before.byte_end <= after.byte_start


@settings(
    max_examples=40,
    deadline=None,  # the budget is checked per call instead
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(text=texts)
def test_every_counter_is_quick_and_sane(text: str) -> None:
    """Random runs and mixtures of the dangerous alphabets, up to 64 KB."""
    _exercise(text)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_counter_is_quick_and_sane_on_each_known_shape(shape: str) -> None:
    """The shapes found slow before (``adversarial_texts.SHAPES``), 64 KB each."""
    _exercise(SHAPES[shape](SIZE))


def _exercise(text: str) -> None:
    """X's weighted length and entities, graphemes, Mastodon's length and Bluesky's facets."""
    for config in (twitter.CONFIG_V2, twitter.CONFIG_V3):
        weighted = _timed(
            "weighted_length", lambda t, c=config: twitter.weighted_length(t, c), text
        )
        parsed = _timed("parse_tweet", lambda t, c=config: twitter.parse_tweet(t, c), text)
        assert weighted == parsed.weighted_length >= 0
        assert 0 <= parsed.valid_range_end <= parsed.display_range_end
    for name, extract in [
        ("extract_urls", twitter.extract_urls),
        ("extract_urls(protocol)", lambda t: twitter.extract_urls(t, without_protocol=False)),
        ("extract_mentions_or_lists", twitter.extract_mentions_or_lists),
        ("extract_hashtags", twitter.extract_hashtags),
        ("extract_cashtags", twitter.extract_cashtags),
    ]:
        _check_entities(text, _timed(name, extract, text), disjoint=True)
    _check_entities(text, _timed("extract_entities", twitter.extract_entities, text), disjoint=True)

    count = _timed("graphemes", unicode.graphemes.__wrapped__, text)
    assert 0 <= count <= len(text)
    assert (count == 0) == (text == "")
    ends = _timed("grapheme_ends", unicode.grapheme_ends, text)
    assert len(ends) == count and ends == sorted(set(ends)) and ends[-1:] in ([], [len(text)])
    assert _timed("mastodon_length", unicode.mastodon_length, text) >= 0
    _check_facets(text, _timed("bluesky_facets", unicode.bluesky_facets.__wrapped__, text))
    for name, words in [
        ("plain_mentions", unicode.plain_mentions),
        ("long_tags", unicode.long_tags),
    ]:
        assert all(word in text for word in _timed(name, words, text))
