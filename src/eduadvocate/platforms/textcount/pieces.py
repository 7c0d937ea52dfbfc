"""A text scanned word by word, each distinct word once.

Every rule in this package is local to the words of a text: no URL, mention, hashtag, emoji or
grapheme cluster spans a space, a tab or a line break, and what a pattern sees before a word
(a space, or the start of the text) matches its look-behinds alike. So a text's length is the sum
of its pieces' lengths, and its entities are its pieces' entities moved by each piece's offset,
where a piece is a run of spaces and line breaks with the word after it. A campaign's posts are
made of a few thousand distinct words, and each post is measured and searched many times over
(once per platform, again as a thread's parts, again with its numbering and its hashtags), so
each word is scanned once instead of once per text it appears in.

Two joints break that locality, for graphemes only (UAX #29): a Prepend character before a space
(GB9b joins them) and a space before an Extend, SpacingMark or ZWJ character (GB9, GB9a). A text
with either is scanned whole. tests/test_textcount_pieces.py checks the sums and the moved
entities against the whole-text scans, over texts made to break them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Generic, TypeVar

import regex

T = TypeVar("T")

# Only ASCII space, tab, CR and LF separate pieces: they end a URL, a mention and a hashtag on
# every platform here, and are a boundary for the look-behinds of each pattern.
_PIECE = re.compile(r"[ \t\r\n]*[^ \t\r\n]+|[ \t\r\n]+")
_JOINS_NEXT = regex.compile(r"\p{GCB=Prepend}")
_JOINS_PREVIOUS = regex.compile(r"[\p{GCB=Extend}\p{GCB=SpacingMark}\p{GCB=ZWJ}]")
# Every such joint has a non-ASCII character beside a space: those are found with ``re`` (two
# scans in C), and each distinct one is looked up once (``regex``'s property classes cost
# microseconds a call).
_BEFORE_SPACE = re.compile(r"[^\x00-\x7f](?=[ \t\r\n])")
_AFTER_SPACE = re.compile(r"[ \t\r\n]([^\x00-\x7f])")  # (a group: a look-behind is slower)
SHORT = 48  # shorter texts are scanned whole: splitting them costs more than it saves
_MAX_PIECES = 1 << 16  # a cache is emptied when it holds this many words (memory stays bounded)


def splittable(text: str) -> bool:
    """True when ``text`` can be measured and searched piece by piece."""
    if len(text) <= SHORT:
        return False
    if text.isascii():
        return True
    return not any(
        _joins(c, after_space=False) for c in set(_BEFORE_SPACE.findall(text))
    ) and not any(_joins(c, after_space=True) for c in set(_AFTER_SPACE.findall(text)))


@functools.lru_cache(maxsize=4096)
def _joins(char: str, *, after_space: bool) -> bool:
    """Whether ``char`` joins the space after it (Prepend) or before it (``after_space``)."""
    pattern = _JOINS_PREVIOUS if after_space else _JOINS_NEXT
    return pattern.match(char) is not None


class Summed:
    """``measure(text)`` as the sum of ``measure`` over the text's pieces, each remembered.
    ``graphemes``: ``measure`` counts grapheme clusters, so a text with a joint across a space
    (see the module) is measured whole; a measure that counts none (X's weights) sums any text."""

    def __init__(self, measure: Callable[[str], int], *, graphemes: bool) -> None:
        self.measure = measure
        self.graphemes = graphemes
        self.known: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        if not splittable(text) if self.graphemes else len(text) <= SHORT:
            return self.measure(text)
        known = self.known
        if len(known) > _MAX_PIECES:
            known.clear()
        total = 0
        for piece in _PIECE.findall(text):
            length = known.get(piece)
            if length is None:
                length = known[piece] = self.measure(piece)
            total += length
        return total


class Joined(Generic[T]):
    """``find(text)`` (a tuple of items with offsets) as the items of each word that holds one
    of ``signs`` (no other word holds an item: a hashtag holds its #), moved by the word's
    offset with ``move(item, offset)``, each word's remembered. A word is searched without the
    spaces before it: what a pattern sees before a word, a space or the start, is alike, but
    where a space is followed by a character that joins it (see the module): twitter-text
    starts a URL at such a combining mark after a space, and after it at a text's start. So
    ``find`` must be a search whose items that cannot change: hashtags (the two starts of a
    URL differ by the mark alone, which no hashtag can hold, as it follows a space), not URLs
    or Bluesky's facets. tests/platforms/test_textcount_pieces.py holds hashtags to it over
    texts full of joints."""

    def __init__(
        self, find: Callable[[str], tuple[T, ...]], move: Callable[[T, int], T], signs: str
    ) -> None:
        self.find = find
        self.move = move
        self.signs = re.compile(f"[{re.escape(signs)}]")
        self.known: dict[str, tuple[T, ...]] = {}

    def __call__(self, text: str) -> tuple[T, ...]:
        if len(text) <= SHORT:
            return self.find(text)
        known = self.known
        if len(known) > _MAX_PIECES:
            known.clear()
        out: list[T] = []
        end = 0
        for sign in self.signs.finditer(text):
            at = sign.start()
            if at < end:
                continue  # in the word already searched
            # The word around the sign: from the last space before it to the next after it
            # (each stretch of text is looked at once, so this stays linear).
            start = max(end, *(text.rfind(c, end, at) + 1 for c in _SPACES))
            after = _SPACE.search(text, at)
            stop = after.start() if after else len(text)
            word = text[start:stop]
            found = known.get(word)
            if found is None:
                found = known[word] = self.find(word)
            if found:
                out.extend(self.move(item, start) for item in found)
            end = stop
        return tuple(out)


_SPACES = " \t\r\n"
_SPACE = re.compile("[ \t\r\n]")


def joined_length(
    left: str, left_length: int, gap: str, right: str, right_length: int, *, graphemes: bool
) -> int | None:
    """The length of ``left + gap + right`` from the lengths of ``left`` and ``right``, where
    ``gap`` is spaces, tabs and line breaks and neither side has any at that end: the sum, each
    gap character counting one (a CR LF one in all, where graphemes are counted). None where a
    grapheme joint (see the module) could join across the gap, or the arguments are not so."""
    if not left or not right or not gap or gap.strip(_SPACES):
        return None
    last, first = left[-1], right[0]
    if last in _SPACES or first in _SPACES:
        return None
    if not last.isascii() and _joins(last, after_space=False):
        return None
    if not first.isascii() and _joins(first, after_space=True) and gap[-1] == " ":
        return None
    size = len(gap) - gap.count("\r\n") if graphemes else len(gap)
    return left_length + size + right_length
