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

import re
from collections.abc import Callable
from typing import Generic, TypeVar

import regex

T = TypeVar("T")

# Only ASCII space, tab, CR and LF separate pieces: they end a URL, a mention and a hashtag on
# every platform here, and are a boundary for the look-behinds of each pattern.
_PIECE = re.compile(r"[ \t\r\n]*[^ \t\r\n]+|[ \t\r\n]+")
_JOINT = regex.compile(
    r"\p{GCB=Prepend}[ \t\r\n]|[ \t\r\n][\p{GCB=Extend}\p{GCB=SpacingMark}\p{GCB=ZWJ}]"
)
SHORT = 48  # shorter texts are scanned whole: splitting them costs more than it saves
_MAX_PIECES = 1 << 16  # a cache is emptied when it holds this many words (memory stays bounded)


def splittable(text: str) -> bool:
    """True when ``text`` can be measured and searched piece by piece."""
    return len(text) > SHORT and (text.isascii() or _JOINT.search(text) is None)


def pieces(text: str) -> list[str]:
    return _PIECE.findall(text)


class Summed:
    """``measure(text)`` as the sum of ``measure`` over the text's pieces, each remembered."""

    def __init__(self, measure: Callable[[str], int]) -> None:
        self.measure = measure
        self.known: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        if not splittable(text):
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
    """``find(text)`` (a tuple of items with offsets) as the items of each piece, moved by the
    piece's offset with ``move(item, offset)``, each piece's remembered."""

    def __init__(self, find: Callable[[str], tuple[T, ...]], move: Callable[[T, int], T]) -> None:
        self.find = find
        self.move = move
        self.known: dict[str, tuple[T, ...]] = {}

    def __call__(self, text: str) -> tuple[T, ...]:
        if not splittable(text):
            return self.find(text)
        known = self.known
        if len(known) > _MAX_PIECES:
            known.clear()
        out: list[T] = []
        offset = 0
        for piece in _PIECE.findall(text):
            found = known.get(piece)
            if found is None:
                found = known[piece] = self.find(piece)
            if found:
                out.extend(self.move(item, offset) for item in found)
            offset += len(piece)
        return tuple(out)
