"""Texts measured and searched word by word (platforms/textcount/pieces.py) agree with the
same scans of the whole text, for every text: the rule it rests on (nothing a platform counts
or finds spans a space, tab or line break, but the two grapheme joints it refuses) is checked
here over texts built to break it, with the length threshold lowered so that short texts are
split too."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

import pytest
import regex
from hypothesis import example, given, settings
from hypothesis import strategies as st

from eduadvocate.config.model import AccountConfig
from eduadvocate.core.errors import Location
from eduadvocate.platforms.registry import spec_class
from eduadvocate.platforms.textcount import pieces, twitter, unicode

WORDS = [
    "school",
    "Board",
    "https://example.org/a?utm_source=x&b=(c)",
    "https://example.org/a?utm_source=x&utm_content=post-1",
    "https://example.org/a?q=1&utm_content=post.",
    "http://x.org/a?b=@c",
    "@u@https://a.org/b?c=1",
    "(https://a.org/b?c=1)",
    "https://a.org/b?c=1#f",
    "Åhttps://a.org/b?c=1",
    "https://a.org/b?c=1\x0bhttps://d.org?e",
    "http://t.co/abc123",
    "example.org/facts.",
    "www.k12.ca.us",
    "bücher.de",
    "https://例え.jp/パス",
    "user@example.org",
    "@lopez",
    "@lopez@mastodon.education",
    "=@not",
    "#FundOurSchools",
    "＃タグ",
    "#tag#tag",
    "#tag://x",
    "$TSLA",
    "👩🏽‍🏫",
    "1️⃣",
    "🇺🇸🇬🇧",
    "🇺",
    "学校の予算",
    "e\u0301",
    "\u0301",  # Extend: joins a space before it into one cluster
    "\u0903",  # SpacingMark
    "\u200d",  # ZWJ
    "\u0600",  # Prepend: joins the space after it
    "\u0600x",
    "\ufe0f",
    "a.",
    "(",
    ")",
    "—",
    "\u00a0",
    "\u3000",
    "\x00",
]
GAPS = [" ", "  ", "\n", "\n\n", "\r\n", "\r", "\t", " \n ", ""]

texts = st.lists(
    st.tuples(st.sampled_from(GAPS), st.sampled_from(WORDS)), min_size=0, max_size=14
).map(lambda pairs: "".join(gap + word for gap, word in pairs))
texts = st.tuples(st.sampled_from(GAPS), texts, st.sampled_from(GAPS)).map("".join)


@pytest.fixture(autouse=True)
def split_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pieces, "SHORT", 0)
    for cache in (
        twitter._weighed_v3.known,
        twitter._weighed_v3.first,
        twitter._hashtags_by_piece.known,
        unicode._countable_graphemes.known,
        unicode._countable_graphemes.first,
    ):
        cache.clear()


@settings(max_examples=600, deadline=None)  # (a property of results, not of speed)
@given(text=texts)
def test_x_weighs_a_text_as_the_sum_of_its_words(text: str) -> None:
    whole = twitter._scaled_weight(text) // twitter.CONFIG_V3.scale
    assert twitter.weighted_length(text) == whole


@settings(max_examples=600, deadline=None)  # (a property of results, not of speed)
@given(text=texts)
def test_mastodon_counts_a_text_as_the_sum_of_its_words(text: str) -> None:
    prepared = unicode.mastodon_prepared(text)
    whole = unicode.graphemes(unicode.mastodon_countable(prepared))
    assert unicode.mastodon_length(text) == whole


@settings(max_examples=600, deadline=None)  # (a property of results, not of speed)
@given(text=texts)
@example(text="  \u0301example.org/#tag #real \u0301#x")
def test_hashtags_are_found_word_by_word_where_the_whole_text_has_them(text: str) -> None:
    """Even across a joint: a URL after a space and a combining mark starts at the mark, and
    at the letter after it where the word stands alone, but no hashtag holds that mark."""
    assert twitter.extract_urls("  \u0301example.org")[0].start == 2
    assert twitter.extract_urls("\u0301example.org")[0].start == 1
    assert twitter.extract_hashtags(text) == twitter._extract_hashtags(text)


@pytest.mark.parametrize(
    ("text", "splittable"),
    [
        ("a" * 30 + " b" * 15, True),
        ("a " * 30, True),
        ("x \u0301" + "a" * 60, False),  # space + combining mark: one cluster
        ("\u0600 " + "a" * 60, False),  # Prepend + space: one cluster
        ("x \u200d" + "a" * 60, False),
        ("x\n\u0301" + "a" * 60, False),  # safe by UAX #29, refused all the same
        ("a" * 60 + " \u0600 b", False),  # a space before the Prepend one does not hide it
        ("a" * 60 + "\u00e9 \u0301", False),  # nor a letter before the space
        ("a" * 60 + " \u00e9 b", True),
        ("学校 " * 20, True),
        ("a" * 60 + ". x \u0301b. c", False),  # in a sentence
        ("a" * 60 + ". \u0301b. c", False),  # after a sentence's end
        ("\u0301" + "a" * 60 + " b", False),  # no space before it: refused all the same
        ("a" * 60 + " b\u0600", False),  # nor after
        ("a" * 60 + " \U0001f3fdb", False),  # an emoji modifier is Extend
    ],
)
def test_texts_with_a_joint_across_a_space_are_scanned_whole(text: str, splittable: bool) -> None:
    summed = WholeSeen(len)
    assert summed(text) == len(text)
    assert (text not in summed.whole) is splittable


class WholeSeen(pieces.Summed):
    """A ``Summed`` counting graphemes that notes each text it measures whole (a ``measure``
    called outside the measuring of a word)."""

    def __init__(self, measure: Callable[[str], int]) -> None:
        super().__init__(self._noted, graphemes=True)
        self.rule = measure
        self.whole: list[str] = []
        self.in_word = False

    def _noted(self, text: str) -> int:
        if not self.in_word:
            self.whole.append(text)
        return self.rule(text)

    def _after_space(self, word: str) -> int:
        self.in_word = True
        try:
            return super()._after_space(word)
        finally:
            self.in_word = False

    def _at_start(self, word: str) -> int:
        self.in_word = True
        try:
            return super()._at_start(word)
        finally:
            self.in_word = False


# A frozen copy of the search ``Summed`` made of each text before it looked for joints word by
# word (``splittable``: a non-ASCII character before a space, tab or line break that joins the
# space after it, or one after that joins the space before it), to hold the new one to.
_JOINS_NEXT = regex.compile(r"\p{GCB=Prepend}")
_JOINS_PREVIOUS = regex.compile(r"[\p{GCB=Extend}\p{GCB=SpacingMark}\p{GCB=ZWJ}]")
_BEFORE_SPACE = re.compile(r"[^\x00-\x7f](?=[ \t\r\n])")
_AFTER_SPACE = re.compile(r"[ \t\r\n]([^\x00-\x7f])")


def old_splittable(text: str) -> bool:
    if text.isascii():
        return True
    for beside_space, joiner in ((_BEFORE_SPACE, _JOINS_NEXT), (_AFTER_SPACE, _JOINS_PREVIOUS)):
        for char in beside_space.findall(text):
            if joiner.match(char) is not None:
                return False
    return True


JOINT_WORDS = [*WORDS, "x\u0600", "\u0301x", "\u0915\u093f", "\u093fx", "\u200dx", "\U0001f3fdx"]
joint_texts = st.tuples(
    st.sampled_from(GAPS),
    st.lists(
        st.tuples(st.sampled_from(GAPS), st.sampled_from(JOINT_WORDS)), min_size=0, max_size=10
    ).map(lambda pairs: "".join(gap + word for gap, word in pairs)),
    st.sampled_from(GAPS),
).map("".join)
# One kept across the examples: words marked as joints in earlier texts are found again.
KEPT = WholeSeen(unicode.graphemes)


@settings(max_examples=1500, deadline=None)
@given(text=joint_texts)
@example(text="a \u0600 b")
@example(text="a\u0600 b")
@example(text="a\u0600\tb")
@example(text="a \u0301b")
@example(text="a\n\u200d")
@example(text="\u0301a b")
@example(text="a b\u0600")
@example(text="\u0600")
def test_joints_found_word_by_word_are_those_the_text_search_found(text: str) -> None:
    """Every text the search of the whole text refused is measured whole, and only those and
    the texts that begin with a character joining a space before it or end with one joining a
    space after it (no space there, but refused all the same); and every text measures as
    the whole-text rule does."""
    KEPT.whole.clear()
    assert KEPT(text) == unicode.graphemes(text)
    ends_joined = bool(text) and (
        _JOINS_PREVIOUS.match(text[0]) is not None or _JOINS_NEXT.match(text[-1]) is not None
    )
    # measured whole too: the empty text, and one of gaps alone with a tab or line break (one
    # of spaces alone is summed from its empty pieces: ``Summed``'s spaced path)
    no_words = not text or re.fullmatch(r" *[\t\r\n][ \t\r\n]*", text) is not None
    assert (text in KEPT.whole) is (not old_splittable(text) or ends_joined or no_words)


QUERY_BITS = ["?", "?q=1", "&utm_source=x", "&b=(c)", ")", ".", "~", "#f", "@u", "%20", "=", "é"]
HEADS = [
    "https://example.org/a",
    "http://t.co/abc",
    "example.org/p",
    "@u@https://a.org",
    "@u.https://a.org",
    "(https://a.org",
    "Åhttps://a.org",
    "https://a.org/b?q",
]


@settings(max_examples=1500, deadline=None)
@given(
    space=st.sampled_from(["", " "]),
    head=st.sampled_from(HEADS),
    tail=st.lists(st.sampled_from(QUERY_BITS), min_size=1, max_size=6).map("".join),
)
def test_a_link_with_a_query_appended_measures_as_the_link_where_the_rule_says_so(
    space: str, head: str, tail: str
) -> None:
    """Where ``query_free`` gives a shorter text for a tagged link, X's weights and Mastodon's
    count give both the same length (the whole-text rules, not the sums)."""
    text = space + head + tail
    shorter = twitter.query_free(text)
    if shorter is not None:
        assert text.startswith(shorter)
        assert twitter._scaled_weight(text) == twitter._scaled_weight(shorter)
        assert unicode._countable(text) == unicode._countable(shorter)


def test_a_tracked_link_is_measured_from_the_link() -> None:
    """Not None everywhere: a link with tracking parameters, as render tags it, is measured
    from the link without them (else no check gets faster)."""
    link = "https://example.org/petition?utm_source=x&utm_medium=social&utm_content=post-1"
    assert twitter.query_free(" " + link) == " https://example.org/petition"
    assert twitter.query_free(link) == "https://example.org/petition"


def test_texts_are_split_into_words_where_python_splits_them() -> None:
    """``Summed`` splits with ``str.split`` where a text has no whitespace but spaces, tabs and
    line breaks: the other characters it would split at are the ones it looks for."""
    others = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()} - set(" \t\r\n")
    found = {chr(c) for c in range(sys.maxunicode + 1) if pieces._OTHER_SPACE.match(chr(c))}
    assert found == others


@pytest.mark.parametrize("gap", [" ", "\n", "\t", "\r\n", "  "])
def test_a_word_at_the_start_is_measured_there(gap: str) -> None:
    """twitter-text finds one URL in "Åxn--bcher-kva.de" after a space, but a letter and a URL
    at a text's start: the first word is measured where it stands."""
    word = "Åxn--bcher-kva.de"
    filler = " ".join(["school"] * 10)
    for text in (word + gap + filler, filler + gap + word, gap + word + gap + filler):
        assert twitter.weighted_length(text) == twitter._scaled_weight(text) // 100, repr(text)


def test_the_caches_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pieces, "_MAX_PIECES", 10)
    summed = pieces.Summed(len, graphemes=True)
    for n in range(100):
        assert summed(" ".join(f"w{n}x{k}" for k in range(5))) == len(
            " ".join(f"w{n}x{k}" for k in range(5))
        )
    assert len(summed.known) <= 16


SPECS = [
    spec_class(platform)(AccountConfig(platform, platform, {}, Location("config.yaml")))
    for platform in ("x", "bluesky", "mastodon")
]
sides = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)


@settings(max_examples=800, deadline=None)
@given(
    left=st.tuples(texts, sides).map("".join),
    gap=st.sampled_from([g for g in GAPS if g]),
    right=st.tuples(sides, texts).map("".join),
    cw=st.sampled_from(
        # Warnings whose end could join a text's start: a combining mark, a Prepend character,
        # half a flag, a ZWJ after an emoji, a Hangul jamo, a CR.
        [
            None,
            "",
            "CW: budget",
            " \u0301",
            "\u0600",
            "a\u0600",
            "\U0001f1fa",
            "👩\u200d",
            "\u1100",
            "cw\r",
        ]
    ),
)
def test_a_joined_length_is_the_length_of_the_joined_text(
    left: str, gap: str, right: str, cw: str | None
) -> None:
    """Where a rule gives the length of two texts joined at a gap from theirs (as rendering
    asks it for a thread's parts, numbering and hashtags), that is the joined text's length."""
    for spec in SPECS:
        joined = spec.joined_length(
            left, spec.length(left, cw), gap, right, spec.length(right, cw), cw
        )
        if joined is not None:
            assert joined == spec.length(left + gap + right, cw), spec.name


def test_joined_lengths_are_given_for_plain_prose() -> None:
    """Not None everywhere: the rules that can add lengths up do (else no render gets faster)."""
    for spec in SPECS:
        assert spec.joined_length("Vote on Thursday.", 17, "\n\n", "#FundOurSchools", 15) == 34
