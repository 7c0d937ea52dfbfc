"""The length rules' shortcuts (platforms/textcount/unicode.py, pieces.py) give what the code
before them gave, or the whole-text rule, for every text: graphemes are held to a frozen copy of
the code before and to ``\\X``, and summed measures to one that adds up over any split, over
texts made to break them (grapheme joints across a space, CR LF, NUL, marks after spaces,
Prepend before them, Hangul jamo, flags, every other Unicode space, long words, the
"Åxn--bcher-kva.de" start quirk)."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from eduadvocate.platforms.textcount import pieces, twitter, unicode

OTHER_SPACES = sorted(
    chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace() and chr(c) not in " \t\r\n"
)
PIECES = [
    "a",
    "school",
    "x" * 70,  # a long word
    "Åxn--bcher-kva.de",
    "https://example.org/a?utm_source=x&utm_content=post-1",
    "\r\n",
    "\r",
    "\n",
    "\t",
    " ",
    "\x00",
    "é",
    "e\u0301",
    "\u0301",  # Extend: joins a space before it
    "\u0903",  # SpacingMark
    "\u200d",  # ZWJ
    "\u0600",  # Prepend: joins the space after it
    "\ufe0f",
    "👩🏽\u200d🏫",
    "🇺🇸",
    "🇺",
    "学校",
    "각",
    "\u1100",  # Hangul L, V, T jamo join each other
    "\u1161",
    "\u11a8",
    *OTHER_SPACES,
]
texts = st.lists(st.sampled_from(PIECES), max_size=24).map("".join)


# Frozen copies of the code the shortcuts replaced.
_OLD_NON_ASCII = re.compile(r"[^\x00-\x7f]+(?:[\x00-\x7f][^\x00-\x7f]+)*")


def old_graphemes(text: str) -> int:
    if text.isascii():
        return len(text) - text.count("\r\n")
    if "\r" in text:
        return unicode._clusters(text)
    total = len(text)
    for stretch in _OLD_NON_ASCII.finditer(text):
        start, end = stretch.span()
        window = text[max(start - 1, 0) : end + 1]
        total -= len(window) - unicode._clusters(window)
    return total


@settings(max_examples=1500)
@given(text=texts)
@example(text="e\u0301 \u0600 a\r\n\u0301")
@example(text="\u0600a\u0301 é")
def test_graphemes_are_counted_as_by_the_code_before(text: str) -> None:
    unicode.graphemes.cache_clear()
    assert unicode.graphemes(text) == old_graphemes(text)
    if unicode._REGIONAL_INDICATORS.search(text) is None:  # (``\X`` is quadratic on those)
        assert unicode.graphemes(text) == len(unicode._GRAPHEME.findall(text))


def utf8_length(text: str) -> int:
    """A measure that adds up over any split of a text (every character its own bytes): a
    summed measure is exactly it where the words and the gaps between them are found right."""
    return len(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=1500)
@given(text=texts)
@example(text="a\u00a0b c")
@example(text="a\x0bb\u3000 c\r\nd")
def test_words_are_split_at_spaces_tabs_and_line_breaks_only(text: str) -> None:
    """Every other whitespace character belongs to a word (``str.split`` would split at it)."""
    summed = pieces.Summed(utf8_length, graphemes=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pieces, "SHORT", 0)  # short texts are split too
        assert summed(text) == utf8_length(text)


def test_the_start_quirk_still_holds() -> None:
    """twitter-text finds one URL in "Åxn--bcher-kva.de" after a space, a letter and a URL at
    the start: the summed measure keeps the first word's own length."""
    word = "Åxn--bcher-kva.de"
    text = word + "\u00a0" + " ".join(["school"] * 10)
    assert twitter.weighted_length(text) == twitter._scaled_weight(text) // 100


@settings(max_examples=3000)
@example("#FundOurSchools")
@example("#123")
@example("#_")
@example("\uff03Tag_1")
@example("#9a")
@given(
    st.text(alphabet="#\uff03aZ_09.:/-é\u0301@$&", max_size=8).map(
        lambda s: s if s[:1] in ("#", "\uff03") else "#" + s
    )
)
def test_a_plain_hashtag_word_is_found_as_the_pattern_finds_it(word: str) -> None:
    """A sign and ASCII letters, digits and "_" is answered without twitter-text's hashtag
    pattern: what the pattern finds in it, with and without the URL check."""
    by_pattern = [
        twitter.Entity("hashtag", m.start(2), m.start(2) + 1 + len(m.group(3)), m.group(3))
        for m in twitter._hashtag_matches(word)
        if not twitter._END_HASHTAG.get().match(word, m.end())
    ]
    assert twitter._extract_hashtags(word, check_url_overlap=False) == by_pattern
    if "." not in word:
        assert twitter._extract_hashtags(word) == by_pattern
