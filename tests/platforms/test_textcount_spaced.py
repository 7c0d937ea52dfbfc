"""``Summed``'s path for texts whose only gaps are spaces (in ``Summed.__call__``: pieces between
single spaces, empty ones for two spaces or a space at an end, no search for other whitespace)
gives what the general path gave (a frozen copy of it here) and what the whole-text measure
gives, for X's weights and Mastodon's graphemes, over texts built to break it: runs of spaces,
spaces at both ends, other whitespace inside words, grapheme joints beside a space, tagged
links; with the length threshold lowered so that short texts are split too."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from eduadvocate.platforms.textcount import pieces, twitter, unicode

WORDS = [
    "school",
    "Board",
    "https://example.org/a?utm_source=x&utm_content=post-1",
    "https://example.org/a?q=1&utm_content=post.",
    "(https://a.org/b?c=1)",
    "Åhttps://a.org/b?c=1",
    "Åxn--bcher-kva.de",  # X: a URL after a space, a letter and a URL at the start
    "https://a.org/b?c=1\x0bhttps://d.org?e",
    "example.org/facts.",
    "bücher.de",
    "@lopez@mastodon.education",
    "#FundOurSchools",
    "👩🏽‍🏫",
    "🇺🇸🇬🇧",
    "学校の予算",
    "e\u0301",
    "\u0301",  # Extend: joins a space before it
    "\u0903",  # SpacingMark
    "\u200d",  # ZWJ
    "\u0600",  # Prepend: joins the space after it
    "\u0600x",
    "a.",
    "\u00a0",
    "a\u00a0b",
    "\u3000",
    "\x0b",
    "\x1c",
    "\u2028",
    "\x00",
]
GAPS = [" ", "  ", "   ", ""]

texts = st.tuples(
    st.sampled_from(GAPS),
    st.lists(st.tuples(st.sampled_from(GAPS), st.sampled_from(WORDS)), min_size=0, max_size=14).map(
        lambda pairs: "".join(gap + word for gap, word in pairs)
    ),
    st.sampled_from(GAPS),
).map("".join)

_WORD = pieces._WORD
_OTHER_SPACE = pieces._OTHER_SPACE
_SPACES = pieces._SPACES


def frozen_call(self: pieces.Summed, text: str) -> int:
    """``Summed.__call__`` before its spaced path (main at 84a61e0), for every text."""
    if len(text) <= pieces.SHORT:
        return self.measure(text)
    words = text.split() if _OTHER_SPACE.search(text) is None else _WORD.findall(text)
    if not words:
        return self.measure(text)
    known = self.known
    try:
        total = sum(map(known.__getitem__, words))
    except KeyError:
        for word in words:
            if word not in known:
                self._after_space(word)
        total = sum(map(known.__getitem__, words))
    if total < 0:
        return self.measure(text)
    if text[0] not in _SPACES:
        word = words[0]
        at_start = self.first.get(word)
        if at_start is None:
            at_start = self._at_start(word)
        total += at_start - known[word]
    gaps = len(text) - sum(map(len, words))
    if self.graphemes and "\r" in text:
        gaps -= text.count("\r\n")
    return total + gaps * self.space


def _x() -> pieces.Summed:
    return pieces.Summed(
        twitter._scaled_weight,
        graphemes=False,
        space=twitter.CONFIG_V3.scale,
        same_as=twitter.query_free,
    )


def _mastodon() -> pieces.Summed:
    return pieces.Summed(unicode._countable, graphemes=True, same_as=twitter.query_free)


@pytest.fixture(autouse=True)
def split_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pieces, "SHORT", 0)


@pytest.mark.parametrize("make", [_x, _mastodon], ids=["x", "mastodon"])
@settings(max_examples=800)
@given(text=texts)
@example(text=" ")
@example(text="  a  ")
@example(text=" school")
@example(text="school ")
@example(text="a \u0301b")
@example(text="a\u0600 b")
@example(text="\u00a0 a\u3000b \x0b")
@example(text="Åxn--bcher-kva.de Åxn--bcher-kva.de")
def test_a_spaced_text_sums_as_the_general_path_and_the_whole_text(
    make: Callable[[], pieces.Summed], text: str
) -> None:
    new, old = make(), make()
    assert "\n" not in text and "\t" not in text and "\r" not in text
    got = new(text)
    assert got == frozen_call(old, text) == new.measure(text)
    # again, every word remembered (the path that does not measure)
    assert new(text) == got
