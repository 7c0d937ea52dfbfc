"""Grapheme counting (Bluesky, Mastodon), Mastodon's status length rule, and Bluesky's facet
detection with UTF-8 byte offsets.

Graphemes follow the current Unicode rules as the ``regex`` module's ``\\X`` implements them (the
``grapheme`` package on PyPI, which Mastodon.py uses, is stuck at Unicode 13 and miscounts newer
emoji sequences).

Every scan here is linear in the text, which is untrusted (see ``twitter.py``): ``\\X`` is
quadratic on a run of regional indicators (flag halves), so those are paired up first, and the
Bluesky rules avoid patterns that retry a run from each of its characters.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

import regex

from eduadvocate.platforms.textcount import pieces, twitter
from eduadvocate.platforms.textcount.facets import Facet, FacetKind

_GRAPHEME = regex.compile(r"\X")
# Code points that can join a neighbour into one cluster (UAX #29: CR LF, Extend, ZWJ, SpacingMark,
# Prepend, Regional_Indicator, Hangul jamo). Text without any is one cluster per code point.
_JOINERS = regex.compile(
    r"[\r\p{GCB=Extend}\p{GCB=ZWJ}\p{GCB=SpacingMark}\p{GCB=Prepend}\p{GCB=Regional_Indicator}"
    r"\p{GCB=L}\p{GCB=V}\p{GCB=T}\p{GCB=LV}\p{GCB=LVT}]"
)
URL_WEIGHT_MASTODON = 23

# Mastodon's Account::MENTION_RE: the counted part is "@user", the domain is free.
_MASTODON_MENTION = regex.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@\w+(?:[.-]+\w+)*)?", regex.IGNORECASE
)
# Bluesky's own detection (@atproto/api RichText.detectFacets), restated for Python.
_BSKY_MENTION = regex.compile(r"(?:^|(?<=[\s(]))@([a-zA-Z0-9][a-zA-Z0-9.-]*[a-zA-Z0-9])")
_BSKY_TAG = regex.compile(
    r"(?:^|(?<=\s))[#＃]((?!\ufe0f)[^\s\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2]*"
    r"[^\d\s\p{P}\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2]+"
    r"[^\s\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2]*)"
)
# Punctuation at the start of the reversed tag: "\p{P}+$" would retry a long inner run of
# punctuation from each of its characters.
_LEADING_PUNCT = regex.compile(r"\p{P}*")
# A flag is a pair of regional indicators, paired from the start of their run; "\X" finds the
# pairs by counting back to the run's start at each one, quadratic in a long run.
_REGIONAL_INDICATORS = regex.compile(r"\p{GCB=Regional_Indicator}{1,2}")
_HANDLE = regex.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)
BSKY_TAG_MAX = 64


# Non-ASCII stretches, joined when one ASCII character apart. Two ASCII characters other than
# CR LF always have a cluster boundary between them (no rule of UAX #29 joins them), so the
# clusters of a text are its ASCII characters outside these stretches and the ASCII character
# on each side of them, plus the clusters of each such window. The pattern opens with a single
# class, not "[^\x00-\x7f]+": then ``re`` skips to the next non-ASCII character in a C loop
# instead of trying the whole pattern at each character (CPython's Lib/re/_compiler.py,
# ``_get_charset_prefix``, takes a prefix class only from a pattern that begins with one): the
# search took ~3/4 of ``graphemes`` on the bench's texts with an emoji, and this cut ~4% of the
# instructions per post of check's analysis (bench/check_speed.py's campaign).
_NON_ASCII = re.compile(r"[^\x00-\x7f][^\x00-\x7f]*(?:[\x00-\x7f][^\x00-\x7f]+)*")


@functools.lru_cache(maxsize=4096)  # render measures the same text several times
def graphemes(text: str) -> int:
    """Extended grapheme clusters in ``text``."""
    if text.isascii():
        return len(text) - text.count("\r\n")  # CR LF is one cluster
    if "\r" in text:
        return _clusters(text)
    # Only the non-ASCII windows need \X, which costs far more than a scan for them.
    total = len(text)
    for stretch in _NON_ASCII.finditer(text):
        start, end = stretch.span()
        window = text[max(start - 1, 0) : end + 1]
        total -= len(window) - _clusters(window)
    return total


@functools.lru_cache(maxsize=4096)  # campaigns repeat their emoji and non-Latin words
def _clusters(text: str) -> int:
    if _JOINERS.search(text) is None:
        return len(text)
    # A pair (or a lone one at the end of a run) joins its neighbours exactly as a letter
    # would: Extend, ZWJ and SpacingMark after it, Prepend before it.
    return len(_GRAPHEME.findall(_REGIONAL_INDICATORS.sub("a", text)))


def grapheme_ends(text: str) -> list[int]:
    """The index just past each extended grapheme cluster, what ``[m.end() for m in
    regex.finditer(r"\\X", text)]`` gives, in linear time (see ``graphemes``)."""
    pairs = [m.span() for m in _REGIONAL_INDICATORS.finditer(text)]
    if not pairs:
        return [m.end() for m in _GRAPHEME.finditer(text)]
    ends = []
    k = shift = 0  # shift: characters the pairs before the current one lost to "a"
    for m in _GRAPHEME.finditer(_REGIONAL_INDICATORS.sub("a", text)):
        while k < len(pairs) and pairs[k][0] - shift < m.end():
            shift += pairs[k][1] - pairs[k][0] - 1
            k += 1
        ends.append(m.end() + shift)
    return ends


def _from_signs(pattern: regex.Pattern[str], text: str, signs: str) -> Iterator[regex.Match[str]]:
    """What ``pattern.finditer(text)`` finds, for a pattern whose every match starts with one of
    ``signs`` (an ``@`` or a ``#``): it is tried only there, in order from where the last match
    ended, instead of at every character (its look-behind sees the text before, as in a
    search)."""
    end = 0
    for sign in _SIGNS[signs].finditer(text):
        if sign.start() >= end and (match := pattern.match(text, sign.start())) is not None:
            yield match
            end = match.end()


_SIGNS = {signs: re.compile(f"[{re.escape(signs)}]") for signs in ("@", "#＃")}


@functools.lru_cache(maxsize=4096)
def mastodon_countable(text: str) -> str:
    """The text as Mastodon's ``StatusLengthValidator`` counts it: every http(s) URL becomes 23
    characters and ``@user@domain`` becomes ``@user`` (overlaps resolved as twitter-text does)."""
    spans: list[tuple[int, int, str]] = [
        (u.start, u.end, "x" * URL_WEIGHT_MASTODON)
        for u in twitter.extract_urls(text, without_protocol=False)
    ]
    spans += [
        (m.start(), m.end(), "@" + m.group(1)) for m in _from_signs(_MASTODON_MENTION, text, "@")
    ]
    if not spans:
        return text
    spans.sort()
    out: list[str] = []
    pos = 0
    for start, end, replacement in spans:
        if start < pos:
            continue  # overlapping entity: the earlier one wins
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return "".join(out)


# Ruby's String#strip: Mastodon's Status#prepare_contents strips text and spoiler_text with it
# before StatusLengthValidator counts them (Python's str.strip takes more, e.g. U+00A0).
RUBY_WHITESPACE = " \t\n\v\f\r\0"


def mastodon_prepared(text: str) -> str:
    """A status text or content warning as Mastodon stores (and counts) it."""
    return text.strip(RUBY_WHITESPACE)


def mastodon_length(text: str, content_warning: str = "") -> int:
    """Mastodon's status length: graphemes of spoiler text + countable text, both stripped.
    Without a spoiler text, counted word by word (see ``pieces``)."""
    spoiler = mastodon_prepared(content_warning)
    if spoiler:
        return graphemes(spoiler + mastodon_countable(mastodon_prepared(text)))
    return _countable_graphemes(mastodon_prepared(text))


@functools.lru_cache(maxsize=256)  # a campaign has a handful of content warnings
def mastodon_warning_length(content_warning: str) -> int | None:
    """What a content warning adds to the length of a status whose text begins with an ASCII
    character: its own graphemes, as no such character joins it, unless it ends with a
    Prepend character (UAX #29 GB9b), then None."""
    spoiler = mastodon_prepared(content_warning)
    alone = graphemes(spoiler)
    return alone if graphemes(spoiler + "a") == alone + 1 else None


def _countable(text: str) -> int:
    return graphemes(mastodon_countable(text))


_countable_graphemes = pieces.Summed(_countable, graphemes=True, same_as=twitter.query_free)


# The words remembered, all forgotten when there are more, and the longest remembered: at most
# ~5 MB (untrusted text may hold a megabyte without a space).
_MAX_WORDS = 1 << 14
_WORD_MAX = 300


@functools.lru_cache(maxsize=4096)  # render and check both ask for each part's facets
def bluesky_facets(text: str) -> tuple[Facet, ...]:
    """Facets for links, mentions and hashtags, in text order (overlaps: the first wins).

    Found word by word: each word that can hold one searched with the gap before it
    (``_facets_in``), each distinct one once, its facets moved to the word's place: a post's
    parts are new texts made of its campaign's words (searching each part whole cost check ~2%
    more on the bench campaign).

    The same as searching the whole text: no facet spans a gap (space, tab, CR, LF): a
    mention's and a tag's characters are none, and the URL search is made run by run, in runs
    that end at them (see ``twitter._scan_urls``). Each pattern looks one character back (a space,
    "(" or the start): the word's is the same with the gap before it, or the text's start. So
    the facets of a word are the text's facets inside it; overlaps are within a word, so the
    first of each wins in both. A word without "@", "#", "＃" or a dot before something other
    than a gap holds none: a URL needs a dot before its TLD. tests/test_render_draft.py holds
    this to the whole search."""
    known = _word_facets
    if len(known) > _MAX_WORDS:
        known.clear()
    out: list[Facet] = []
    bytes_to = _ByteIndex(text)
    for start, end in pieces.signed_words(text, _FACET_SIGN):
        lo = start - 1 if start else 0  # with the gap before the word (a word starts after one)
        chunk = text[lo:end]
        found = known.get(chunk)
        if found is None:
            found = _link_alone(chunk) or _facets_in(chunk)
            if len(chunk) <= _WORD_MAX:
                known[chunk] = found
        if found:
            base = bytes_to(lo)
            out.extend(
                Facet(f.kind, base + f.byte_start, base + f.byte_end, f.value) for f in found
            )
    return tuple(out)


# What starts a facet's word: a mention's @, a tag's # (or its full-width form), a dot with
# something after it that is not a gap (a URL's dot before its TLD).
# (Written to open with one character class, then the dot's condition: ``re`` skips to the
# next candidate in a C loop only for a pattern that opens with a class (see ``_NON_ASCII``);
# "[@#＃]|\.(?=[^ \t\r\n])" matched the same characters, trying the pattern at each one.)
_FACET_SIGN = re.compile("[.@#\uff03](?:(?<=[@#\uff03])|(?=[^ \t\r\n]))")
_word_facets: dict[str, tuple[Facet, ...]] = {}


def _link_alone(chunk: str) -> tuple[Facet, ...]:
    """The facets of a word (with the gap before it) that is one link whose query goes to its
    end, as render tags a post's links (``twitter.query_free``: the word's only URL, from its
    first character on, so any mention or tag in it is inside the link, whose facet wins): the
    link's, at its characters (ASCII: one byte each). Empty for any other word, which is
    searched (each post's tagged links are new words, and ``_facets_in`` searched each whole)."""
    if twitter.query_free(chunk) is None:
        return ()
    start = 1 if chunk[0] in " \t\r\n" else 0
    return (Facet("link", start, len(chunk), chunk[start:]),)


def _facets_in(text: str) -> tuple[Facet, ...]:
    """``bluesky_facets`` of a whole text, searched at once."""
    found: list[tuple[int, int, FacetKind, str]] = []
    for url in twitter.extract_urls(text):
        value = url.value if "://" in url.value else "https://" + url.value
        found.append((url.start, url.end, "link", value))
    for m in _from_signs(_BSKY_MENTION, text, "@"):
        handle = m.group(1).rstrip(".")
        if _HANDLE.fullmatch(handle):
            found.append((m.start(), m.start() + 1 + len(handle), "mention", handle))
    for m in _from_signs(_BSKY_TAG, text, "#＃"):
        tag = _without_trailing_punct(m.group(1))
        if tag and len(tag) <= BSKY_TAG_MAX:
            found.append((m.start(), m.start(1) + len(tag), "tag", tag))
    found.sort()
    facets: list[Facet] = []
    last_end = -1
    bytes_to = _ByteIndex(text)
    for start, end, kind, value in found:
        if start < last_end:
            continue
        last_end = end
        facets.append(Facet(kind, bytes_to(start), bytes_to(end), value))
    return tuple(facets)


def plain_mentions(text: str) -> list[str]:
    """Every ``@name`` that looks like a mention, handle or not (for the Bluesky check)."""
    return ["@" + m.group(1).rstrip(".") for m in _from_signs(_BSKY_MENTION, text, "@")]


def long_tags(text: str) -> list[str]:
    return [
        t
        for m in _from_signs(_BSKY_TAG, text, "#＃")
        if len(t := _without_trailing_punct(m.group(1))) > BSKY_TAG_MAX
    ]


def _without_trailing_punct(tag: str) -> str:
    """``tag`` less its trailing punctuation (as ``\\p{P}+$`` would remove: a tag holds no line
    break, so ``$`` matching before a final one does not arise)."""
    return tag[: len(tag) - _LEADING_PUNCT.match(tag[::-1]).end()]


class _ByteIndex:
    """UTF-8 offsets of code-point indices asked for in increasing order (each byte counted
    once: measuring every prefix anew is quadratic in a text with many facets)."""

    __slots__ = ("_bytes", "_index", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._index = 0
        self._bytes = 0

    def __call__(self, index: int) -> int:
        if index < self._index:  # not in order: count from the start
            self._index = self._bytes = 0
        piece = self._text[self._index : index]
        self._bytes += len(piece) if piece.isascii() else len(piece.encode("utf-8"))
        self._index = index
        return self._bytes
