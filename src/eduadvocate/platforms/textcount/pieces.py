"""A text scanned word by word, each distinct word once.

Every rule in this package is local to the words of a text: no URL, mention, hashtag, emoji or
grapheme cluster spans a space, a tab or a line break, and what a pattern sees before a word
(a space, or the start of the text) matches its look-behinds alike. So a text's length is the sum
of its words' lengths and one for each space, tab and line break between them (every rule here
counts those one each), and its entities are its words' entities moved by each word's offset. A campaign's posts are
made of a few thousand distinct words, and each post is measured and searched many times over
(once per platform, again as a thread's parts, again with its numbering and its hashtags), so
each word is scanned once instead of once per text it appears in.

Two joints break that locality, for graphemes only (UAX #29): a Prepend character before a space
(GB9b joins them) and a space before an Extend, SpacingMark or ZWJ character (GB9, GB9a). A text
with a word that could make either (``Summed``'s ``_JOINT``) is scanned whole.
tests/platforms/test_textcount_pieces.py checks the sums and the moved entities against the
whole-text scans, over texts made to break them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

import regex

T = TypeVar("T")

# Only ASCII space, tab, CR and LF separate pieces: they end a URL, a mention and a hashtag on
# every platform here, and are a boundary for the look-behinds of each pattern.
_WORD = re.compile(r"[^ \t\r\n]+")
# What ``str.split()`` splits at besides a space, tab, CR and LF (the characters for which
# ``str.isspace`` holds: tests/platforms/test_textcount_pieces.py lists them again from Python's
# tables). They belong to a word here, so a text with one is split by ``_WORD``.
_OTHER_SPACE = re.compile(
    "[\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)
_JOINS_NEXT = regex.compile(r"\p{GCB=Prepend}")
_JOINS_PREVIOUS = regex.compile(r"[\p{GCB=Extend}\p{GCB=SpacingMark}\p{GCB=ZWJ}]")
SHORT = 48  # shorter texts are scanned whole: splitting them costs more than it saves
_MAX_PIECES = 1 << 16  # a cache is emptied when it holds this many words (memory stays bounded)
# What ``Summed`` remembers for a word that may make a grapheme joint across a space: below any
# sum of the other words' lengths (0 or more each), so a text with one sums below 0.
_JOINT = -(1 << 62)


# Whether a character joins the space after it (Prepend), and before it (Extend, SpacingMark,
# ZWJ), each looked up once (``regex``'s property classes cost microseconds a call): plain
# dicts, as an ``lru_cache`` with a keyword argument built a key per call.
# (Bounded: a character joins or not, and Unicode has a fixed number of them; a text can put
# at most its own length in, and a campaign's texts share their characters.)
_JOINS_BEFORE_SPACE: dict[str, bool] = {}
_JOINS_AFTER_SPACE: dict[str, bool] = {}


def _joins_a_space(word: str) -> bool:
    """Whether ``word`` begins with a character that joins a space before it, or ends with one
    that joins a space after it."""
    return _joins(word[0], after_space=True) or _joins(word[-1], after_space=False)


def _joins(char: str, *, after_space: bool) -> bool:
    """Whether ``char`` joins the space after it (Prepend) or before it (``after_space``)."""
    known = _JOINS_AFTER_SPACE if after_space else _JOINS_BEFORE_SPACE
    joins = known.get(char)
    if joins is None:
        pattern = _JOINS_PREVIOUS if after_space else _JOINS_NEXT
        joins = known[char] = pattern.match(char) is not None
    return joins


class Summed:
    """``measure(text)`` as the sum of ``measure`` over the text's words, each remembered, and of
    its spaces, tabs and line breaks.
    ``graphemes``: ``measure`` counts grapheme clusters, so a text with a word that begins with
    a character joining a space before it, or ends with one joining a space after it (see the
    module), is measured whole; a measure that counts none (X's weights) sums any text.
    ``space``: what ``measure`` gives a space, a tab and a line break each. ``same_as``: for
    a text to measure (a word, or a space and a word), a shorter one ``measure`` gives the same
    length, where the rule can tell (a link with tracking parameters appended: see
    ``twitter.query_free``), else None: a post's tagged links are new words in every post, and
    each was measured in full."""

    def __init__(
        self,
        measure: Callable[[str], int],
        *,
        graphemes: bool,
        space: int = 1,
        same_as: Callable[[str], str | None] | None = None,
    ) -> None:
        self.measure = measure
        self.graphemes = graphemes
        self.space = space
        self.same_as = same_as
        # Each word's measure after a space (its piece's, less the space: what a pattern sees
        # before a word is alike for a space, a tab and a line break), and at a text's start,
        # which is not always alike: twitter-text finds "Åxn--bcher-kva.de" one URL after a
        # space, a letter and a URL at the start.
        self.known: dict[str, int] = {}
        self.first: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        if len(text) <= SHORT:
            return self.measure(text)
        # A text whose only gaps are spaces (no tab, CR or LF: most texts) is cut at single
        # spaces (``split(" ")``, in C): its pieces are the words, any other whitespace in a
        # word as below, and an empty piece for each space next to another or at an end, which
        # weighs ``measure(" ") - space`` after a space and ``measure("")`` at the start, 0
        # both for every rule here (a space weighs ``space``, an empty text nothing). So its
        # gaps are the pieces less one, without the search for other whitespace nor the sum of
        # the words' lengths (cut the instructions per post of check's analysis by 5.0% on
        # bench/check_speed.py's campaign, 1,660,733 -> 1,577,074, and by 5.3% on one whose
        # sentences do not repeat, 2,176,959 -> 2,062,078; tests/platforms/
        # test_textcount_spaced.py holds it to the general path).
        spaced = "\n" not in text and "\t" not in text and "\r" not in text
        if spaced:
            words = text.split(" ")
        else:
            # The text's words (``split`` in C, where the text has no other whitespace that
            # it would split at too), each measured once, and each space, tab and line break
            # between them counting ``space``: every rule here weighs them so, and where
            # graphemes are counted a CR LF is one (no other joint: a word that could make
            # one is ``_JOINT``).
            words = text.split() if _OTHER_SPACE.search(text) is None else _WORD.findall(text)
            if not words:
                return self.measure(text)
        known = self.known
        if len(known) > _MAX_PIECES:
            known.clear()
            self.first.clear()
        try:
            total = sum(map(known.__getitem__, words))
        except KeyError:  # a word not measured yet (one or two a post: its tagged links)
            for word in words:
                if word not in known:
                    self._after_space(word)
            total = sum(map(known.__getitem__, words))
        if total < 0:  # a word's ``_JOINT`` (see ``_after_space``): measured whole
            return self.measure(text)
        if spaced:
            word = words[0]  # (at the text's start: "" where the text starts with a space)
            at_start = self.first.get(word)
            if at_start is None:
                at_start = self._at_start(word)
            return total + at_start - known[word] + (len(words) - 1) * self.space
        if text[0] not in _SPACES:  # the first word stands at the start
            word = words[0]
            at_start = self.first.get(word)
            if at_start is None:
                at_start = self._at_start(word)
            total += at_start - known[word]
        gaps = len(text) - sum(map(len, words))
        if self.graphemes and "\r" in text:
            gaps -= text.count("\r\n")
        return total + gaps * self.space

    def _after_space(self, word: str) -> int:
        """``word``'s measure after a space, less the space; remembered. ``_JOINT`` where
        graphemes are counted and ``word`` begins with a character that joins a space before
        it, or ends with one that joins a space after it: a text with it may have a joint
        across a space (see the module), and is measured whole. (Looked for as each new word is
        measured, once per distinct word: the two searches of every text for such characters
        beside a space that this replaced cost 2.2% of the instructions per post of check's
        analysis on bench/check_speed.py's campaign, and 2.5% on one whose sentences do not
        repeat. A text's first word at its start, or last at its end, has no space on that
        side: refused all the same, as rare as it is.)"""
        length = self.known.get(word)
        if length is None:
            text = " " + word
            shorter = None if self.same_as is None else self.same_as(text)
            if shorter is not None and shorter[:1] == " ":
                length = self._after_space(shorter[1:])
            else:
                length = self.measure(text) - self.space
            if self.graphemes and not word.isascii() and _joins_a_space(word):  # ("" is ASCII)
                length = _JOINT
            self.known[word] = length
        return length

    def _at_start(self, word: str) -> int:
        """``word``'s measure at a text's start; remembered."""
        length = self.first.get(word)
        if length is None:
            shorter = None if self.same_as is None else self.same_as(word)
            length = self._at_start(shorter) if shorter else self.measure(word)
            self.first[word] = length
        return length


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
        for start, stop in signed_words(text, self.signs):
            word = text[start:stop]
            found = known.get(word)
            if found is None:
                found = known[word] = self.find(word)
            if found:
                out.extend(self.move(item, start) for item in found)
        return tuple(out)


def signed_words(text: str, signs: re.Pattern[str]) -> Iterator[tuple[int, int]]:
    """Where each word of ``text`` (between spaces, tabs and line breaks) that holds a match of
    ``signs`` starts and ends, in order, each word once: from the last space before the sign to
    the next after it (each stretch of text is looked at once, so this stays linear)."""
    end = 0
    for sign in signs.finditer(text):
        at = sign.start()
        if at < end:
            continue  # in the word already found
        start = 1 + max(  # (four searches in C: a generator over _SPACES cost ~15% more)
            end - 1,
            text.rfind(" ", end, at),
            text.rfind("\n", end, at),
            text.rfind("\t", end, at),
            text.rfind("\r", end, at),
        )
        after = _SPACE.search(text, at)
        end = after.start() if after else len(text)
        yield start, end


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
