"""X (Twitter) text rules: an exact, fast port of twitter-text 3.1.0.

Owns the weighted length (``parse_tweet``, ``weighted_length``) and entity extraction (URLs,
mentions, lists, hashtags, cashtags) as the official npm ``twitter-text`` 3.1.0 computes them.

Units.  Every :class:`Entity` index is a Python ``str`` index (a code point) into the text as
given.  :class:`ParseResult` ranges are reported like twitter-text does and its conformance data
expects: UTF-16 code units, *inclusive* end (``display_range_end`` is the UTF-16 length minus 1),
with ``valid_range_end`` computed on the NFC-normalised text and shifted by the difference in
length between the given and the normalised text, as twitter-text does.

Patterns.  ``_twitter_patterns.py`` holds twitter-text's own regular expressions (and
twemoji-parser 11.0.2's emoji regex), translated mechanically from the npm package to Python
``re`` over code points; regenerate it with ``.venv/bin/python tools/gen_twitter_patterns.py``
after ``npm ci --prefix tests/js``.  They are compiled on first use: the URL pattern holds every
TLD and takes tens of milliseconds to compile, which the CLI should not pay at import time.

Linear time.  Every text is untrusted (volunteers' pull requests, checked in CI), so no scan may
be super-linear.  The URL and ASCII-domain patterns backtrack quadratically on runs of dotted
labels (``a.a.a.…``), so ``_urlscan.py`` finds their matches in one pass instead, from pieces of
the same patterns; the other patterns are linear as they are (bounded quantifiers, or one
candidate per ``@``/``#``/``$``).  Lengths that twitter-text bounds are checked before any work
that grows with them (a URL is at most 4,096 characters, a DNS label 63).

Exactness.  The conformance suite and a comparison against node (``tests/platforms``) pin this
to npm, quirks included (for example a protocol-less URL after a non-ASCII prefix, whose start
twitter-text misplaces with ``indexOf``).  URL matching runs on UTF-16 code units like the
JavaScript regexes do.  One input JavaScript cannot even express is treated differently by the
extractors: a ``str`` holding a surrogate pair as two separate code points (counting joins it).

Deliberate agreements with npm that may surprise: a whitespace-only text is valid (it weighs
more than zero); U+202A-U+202E are not invalid characters in v3 (only U+FFFE, U+FEFF, U+FFFF
are); ``\\r\\n`` weighs two characters.
"""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from eduadvocate.platforms.textcount import _twitter_patterns as _p
from eduadvocate.platforms.textcount import _urlscan, pieces

__all__ = [
    "CONFIG_V1",
    "CONFIG_V2",
    "CONFIG_V3",
    "Entity",
    "ParseResult",
    "TwitterTextConfig",
    "extract_cashtags",
    "extract_entities",
    "extract_hashtags",
    "extract_mentions",
    "extract_mentions_or_lists",
    "extract_urls",
    "is_valid_hashtag",
    "parse_tweet",
    "weighted_length",
]

EntityKind = Literal["url", "mention", "list", "hashtag", "cashtag"]


@dataclass(frozen=True, slots=True)
class Entity:
    """One extracted entity; ``start``/``end`` are code-point indices, ``end`` exclusive.

    ``value`` is the URL text, the screen name without ``@``, ``"name/list"`` for a list, or
    the tag without its ``#``/``$``.
    """

    kind: EntityKind
    start: int
    end: int
    value: str


@dataclass(frozen=True, slots=True)
class TwitterTextConfig:
    """A twitter-text length configuration (``config/v1.json`` … ``v3.json``).

    ``ranges`` are ``(start, end, weight)`` with ``end`` inclusive, matched against UTF-16 code
    units in order; the first matching range wins and other units weigh ``default_weight``.
    """

    version: int
    max_weighted_tweet_length: int
    scale: int
    default_weight: int
    transformed_url_length: int
    ranges: tuple[tuple[int, int, int], ...]
    emoji_parsing_enabled: bool


_V2_RANGES = ((0, 4351, 100), (8192, 8205, 100), (8208, 8223, 100), (8242, 8247, 100))
CONFIG_V1 = TwitterTextConfig(1, 140, 1, 1, 23, (), emoji_parsing_enabled=False)
CONFIG_V2 = TwitterTextConfig(2, 280, 100, 200, 23, _V2_RANGES, emoji_parsing_enabled=False)
CONFIG_V3 = TwitterTextConfig(3, 280, 100, 200, 23, _V2_RANGES, emoji_parsing_enabled=True)


@dataclass(frozen=True, slots=True)
class ParseResult:
    """twitter-text's ``parseTweet`` result; the ranges are UTF-16 units, ends inclusive."""

    weighted_length: int
    permillage: int
    valid: bool
    display_range_start: int
    display_range_end: int
    valid_range_start: int
    valid_range_end: int


class _Lazy:
    """A pattern compiled on first use, to keep import time low."""

    __slots__ = ("_compiled", "_source")

    def __init__(self, source: str) -> None:
        self._source = source
        self._compiled: re.Pattern[str] | None = None

    def get(self) -> re.Pattern[str]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self._source)
        return compiled


_ASCII_DOMAIN_CHARS = _Lazy(_p.ASCII_DOMAIN_CHARS)
_TCO_URL = _Lazy(_p.VALID_TCO_URL)
_HASHTAG = _Lazy(_p.VALID_HASHTAG)
_END_HASHTAG = _Lazy(_p.END_HASHTAG_MATCH)
_HASH_SIGN = _Lazy("[#\uff03]")
_MENTION = _Lazy(_p.VALID_MENTION_OR_LIST)
_END_MENTION = _Lazy(_p.END_MENTION_MATCH)
_CASHTAG = _Lazy(_p.VALID_CASHTAG)
_EMOJI = _Lazy(_p.EMOJI)
_EMOJI_START = _Lazy(_p.EMOJI_START)
# A URL cannot contain a space character, and its domain has a dot followed by a TLD, so only
# the runs of non-space characters that hold such a dot are searched.  The lookbehind starts a
# run only at its beginning, which keeps the scan linear on long runs without one.
_NOT_SPACE = "[^" + _p.SPACES[1:]
_DOTTED_RUN = _Lazy(f"(?<!{_NOT_SPACE}){_NOT_SPACE}*?\\.(?={_p.TLD_START}){_NOT_SPACE}*")
# What _dotted_runs finds the same runs with (the pattern above stays as their definition).
_DOT_BEFORE_TLD = _Lazy(f"\\.(?={_p.TLD_START})")
_SPACE_CHAR = _Lazy(_p.SPACES)
_NOT_SPACE_RUN = _Lazy(f"{_NOT_SPACE}*")
_PUNYCODE_SEPARATORS = _Lazy("[.\u3002\uff0e\uff61]")

_MAX_URL_LENGTH = 4096
_MAX_TCO_SLUG_LENGTH = 40
_MAX_DOMAIN_LABEL_LENGTH = 63
_INVALID_CHARS = frozenset("\ufffe\ufeff\uffff")
_INVALID = _Lazy("[\ufffe\ufeff\uffff]")

# (start, end, text) with code-point indices: the internal form of every entity.
_Span = tuple[int, int, str]


def _utf16_len(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# -- URLs ------------------------------------------------------------------------------------


# URL extraction runs on UTF-16 code units, as twitter-text's JavaScript does: an astral
# character is split into its two surrogates first.  It matters because a preceding-character
# class can consume just the high surrogate, making the lone low surrogate the first character
# of a domain (which changes the domain's label lengths and which match wins).
_ASTRAL = _Lazy("[\U00010000-\U0010ffff]")


def _to_utf16_units(text: str, astral: list[int]) -> str:
    """``text`` with each astral character (at the given indices) split into surrogates."""
    pieces = []
    prev = 0
    for i in astral:
        cp = ord(text[i]) - 0x10000
        pieces.append(text[prev:i])
        pieces.append(chr(0xD800 + (cp >> 10)) + chr(0xDC00 + (cp & 0x3FF)))
        prev = i + 1
    pieces.append(text[prev:])
    return "".join(pieces)


def _from_utf16_units(units: str) -> str:
    """Join surrogate pairs back into characters (lone surrogates stay)."""
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _label_fits(label: str) -> bool:
    """Whether node's ``punycode.toASCII(label)`` has 1 to 63 characters (``idna.toAscii``)."""
    if label.isascii() and "\x7f" not in label:
        return 1 <= len(label) <= _MAX_DOMAIN_LABEL_LENGTH
    # More than 126 UTF-16 units are more than 63 code points, each encoded to at least one
    # character: such a label cannot fit, and the pure-Python punycode codec never sees it.
    if len(label) > 2 * _MAX_DOMAIN_LABEL_LENGTH:
        return False
    return 1 <= _encoded_label_len(label) <= _MAX_DOMAIN_LABEL_LENGTH


@lru_cache(maxsize=1024)
def _encoded_label_len(label: str) -> int:
    # Python's punycode codec is pure Python; campaigns repeat the same few domains.
    parts = _PUNYCODE_SEPARATORS.get().split(label)
    total = len(parts) - 1
    for part in parts:
        if all(c <= "\x7e" for c in part):
            total += len(part)
        else:
            # punycode.js decodes UTF-16 into code points before encoding
            total += 4 + len(_from_utf16_units(part).encode("punycode"))
    return total


def _is_valid_url(url: str, protocol: str, domain: str) -> bool:
    """twitter-text's ``isValidUrl`` on UTF-16 units: DNS label lengths and the length cap.

    Its three conditions are checked cheapest first (twitter-text's order does not change the
    answer), so the label and domain checks only ever see a domain of at most 4,096 units.
    """
    # The protocol is counted twice (it is also part of ``url``), exactly as twitter-text does.
    if len(protocol) + len(url) > _MAX_URL_LENGTH:
        return False
    if not all(map(_label_fits, domain.split("."))):
        return False
    # A punycode domain needs an ASCII domain in it.
    return (
        not domain.startswith("xn--")
        or _ASCII_DOMAIN_CHARS.get().fullmatch(domain) is not None
        or bool(_urlscan.ascii_domains(domain))
    )


def _ascii_domains(domain: str) -> list[tuple[int, str]]:
    """Offsets and texts of the ASCII domains inside ``domain``, as twitter-text finds them."""
    if _ASCII_DOMAIN_CHARS.get().fullmatch(domain):
        # Only label characters and dots: the whole domain is the one ASCII domain (the TLD
        # that ended the URL match also ends this match), so skip the large pattern.
        return [(0, domain)]
    found = []
    end = 0
    for _, ascii_domain in _urlscan.ascii_domains(domain):
        # twitter-text locates each match with indexOf from the previous end, which can land
        # on an earlier copy of the same text; reproduce that.
        start = domain.find(ascii_domain, end)
        end = start + len(ascii_domain)
        found.append((start, ascii_domain))
    return found


def _extract_urls(text: str, without_protocol: bool) -> tuple[_Span, ...]:
    """twitter-text's ``extractUrlsWithIndices``, with code-point indices."""
    if not text or ("." not in text if without_protocol else "://" not in text):
        return ()  # (every domain has a dot; every protocol, "http://" in any case, a "://")
    if not without_protocol:
        return _protocol_urls(text)
    if len(text) <= _CACHED_TEXT_MAX:
        return _remembered_urls(text, True)
    return _scan_urls(text, True)


# A post's text is counted, searched for hashtags and for facets, each of which looks for its
# URLs: texts up to this long are scanned once (longer ones are rare and would fill memory).
_CACHED_TEXT_MAX = 2_000


@lru_cache(maxsize=2048)  # (it held each text twice, searched both ways)
def _remembered_urls(text: str, without_protocol: bool) -> tuple[_Span, ...]:
    return _scan_urls(text, without_protocol)


_CACHED_RUN_MAX = 300


def _dotted_runs(text: str) -> Iterator[tuple[int, int]]:
    """The spans ``_DOTTED_RUN.finditer(text)`` finds: each run of non-space characters that
    holds a dot before a TLD's first letter, whole.

    Found from those dots (a fast search for "."), each run's start by looking back from its
    first such dot to the last space; the pattern itself tried its look-behind and its lazy
    scan at every character.
    """
    return _runs_around(text, _DOT_BEFORE_TLD.get())


def _runs_around(text: str, marks: re.Pattern[str]) -> Iterator[tuple[int, int]]:
    """Each run of non-space characters that holds a match of ``marks``, whole, once. Each
    stretch of text is looked at once, so this stays linear."""
    end = 0
    spaces, run_from = _SPACE_CHAR.get(), _NOT_SPACE_RUN.get().match
    for mark in marks.finditer(text):
        at = mark.start()
        if at < end:
            continue  # in the run already found
        # The run starts after the last space before the mark; a space stands at ``end`` (runs
        # end at one), so the look back never goes before it.
        space = max(text.rfind(" ", end, at), text.rfind("\n", end, at), end - 1)
        for other in spaces.finditer(text, space + 1, at):
            space = other.start()
        run = run_from(text, at)
        end = run.end() if run else at + 1  # (it always matches: a mark is no space)
        yield space + 1, end


_PROTOCOL_MARK = re.compile("://")


def _protocol_urls(text: str) -> tuple[_Span, ...]:
    """The URLs written with their protocol: those of the full search that start with one
    (see ``_urls_in_run``), found in the runs of non-space characters around each "://" only.

    Each such URL lies in the run around its protocol's "://", and that is the run
    ``_dotted_runs`` finds it in (a run goes from a space to a space, and the URL's domain
    holds a dot before its TLD), searched as ``_scan_urls`` searches it; the other runs hold
    none. Tagging a post's links asks this of every text, most of whose runs are words, and
    whose dots (sentence ends, protocol-less domains) the full search looks at."""
    return _urls_in_runs(text, _runs_around(text, _PROTOCOL_MARK), False)


def _scan_urls(text: str, without_protocol: bool) -> tuple[_Span, ...]:
    return _urls_in_runs(text, _dotted_runs(text), without_protocol)


def _urls_in_runs(
    text: str, runs: Iterable[tuple[int, int]], without_protocol: bool
) -> tuple[_Span, ...]:
    """The URLs of ``text`` in ``runs`` (start, end), each searched alone (``_urls_in_run``)."""
    urls: list[_Span] = []
    for run_start, run_end in runs:
        # The character before the run (a space) can be a URL's preceding character.
        lo = run_start - 1 if run_start else 0
        chunk = text[lo:run_end]
        # Campaign posts repeat their links, so runs are cached (short ones: memory is bounded).
        find = _urls_in_run if len(chunk) <= _CACHED_RUN_MAX else _urls_in_run.__wrapped__
        for start, end, url in find(chunk, without_protocol):
            urls.append((lo + start, lo + end, url))
    return tuple(urls)


@lru_cache(maxsize=4096)
def _urls_in_run(chunk: str, without_protocol: bool) -> tuple[_Span, ...]:
    """The URLs of one run (with the space before it, if any), indices relative to it.

    Matching a run alone is the same as matching it in place: no URL spans a space, and at the
    start of a slice ``^`` faces either the real start of the text or the space before the run,
    which cannot begin a domain.

    The URLs written with their protocol are those of the full search that start with one (a
    URL found without one starts where no protocol does, or inside a domain, which holds no
    colon): a text is searched both ways (X's count and hashtags, Mastodon's count), so the
    full search is made once and filtered.
    """
    if not without_protocol:
        find = _urls_in_run if len(chunk) <= _CACHED_RUN_MAX else _urls_in_run.__wrapped__
        protocol = _urlscan.protocol_pattern()
        return tuple(url for url in find(chunk, True) if protocol.match(url[2]))
    queried = _with_query(chunk)
    return queried if queried is not None else _scan_run(chunk)


def _with_query(chunk: str) -> tuple[_Span, ...] | None:
    """The URLs of a run that is a run already searched and a query after its last URL, found
    from that run's: its last URL with the query added. Tracking parameters make every link of
    every post new (``utm_content`` names the post), and each would be searched whole again;
    this is what the search gives them (tests/platforms/test_url_query_suffix.py holds the two
    equal over runs made to break it). None where it does not apply: no "?", other than ASCII,
    a query the pattern would not end where the run does, no URL written with its protocol
    right before the "?", or over the length cap.
    """
    queried = _queried(chunk)
    if queried is None:
        return None
    at, found, protocol_length = queried
    start, _, url = found[-1]
    # (the URL's text is the head's from ``start``: ``len(url) == at - start``)
    if protocol_length + len(url) + len(chunk) - at > _MAX_URL_LENGTH:
        return None
    return (*found[:-1], (start, len(chunk), url + chunk[at:]))


def query_free(text: str) -> str | None:
    """``text`` (a word, or a space, tab, CR or LF and a word) without the query its URL ends
    with, where the word is one URL written with its protocol whose query goes to the word's
    end: its URLs are the shorter text's, the last one taking the query (``_with_query``,
    handed the text as ``_scan_urls`` would hand it the word's run: the URL is the whole word,
    and holds no space), so X's weights and Mastodon's count (a URL is 23 whatever its length,
    and nothing outside it changed) give both the same length, and the word's only entity is
    that URL. None where that is not so: among others where the URL starts inside the word,
    after a mention Mastodon would count instead ("@u.https://…").

    What ``_with_query`` would say, without building its URLs: each post's tagged links are
    new words, asked for here by X's and Mastodon's counts and Bluesky's facets
    (tests/platforms/test_tagged_words.py holds this to the former ``query_free``)."""
    queried = _queried(text)
    if queried is None:
        return None
    at, found, protocol_length = queried
    start = found[-1][0]
    if start != (1 if text[0] in " \t\r\n" else 0):
        return None
    # The URL with its query is the text from ``start`` (see ``_with_query``'s length cap).
    if protocol_length + len(text) - start > _MAX_URL_LENGTH:
        return None
    return text[:at]


def _queried(text: str) -> tuple[int, tuple[_Span, ...], int] | None:
    """Where ``text``'s query starts (its first "?"), and its head's URLs and last protocol's
    length (``_head_urls``), where ``text`` is ASCII, the query one the URL pattern would end
    where ``text`` does, and the head ends in a URL written with its protocol; else None."""
    at = text.find("?")
    if at <= 0 or not text.isascii() or _ascii_query().fullmatch(text, at) is None:
        return None
    head = _head_urls(text[:at])
    return None if head is None else (at, *head)


# A tagged link's head (its run before the query's "?": the link as written, the same in every
# post, while the query names the platform and the post) -> what ``_with_query`` needs of it:
# its URLs, the last one written with its protocol and ending where the head does, and that
# protocol's length; None where the head has no such URL. All ``_with_query`` asks of a run but
# the query's pattern, ASCII and the length cap is a function of the head alone (its URLs are
# ``_urls_in_run(head)``, their last one's end and protocol come from them): so a new tagged
# link with a known head costs those three checks. Bounded: emptied when full, and long heads
# are not kept (``_urls_in_run`` keeps none either).
_HeadUrls = tuple[tuple[_Span, ...], int]
_HEADS: dict[str, _HeadUrls | None] = {}
_HEADS_MAX = 4096


def _head_urls(head: str) -> _HeadUrls | None:
    """The URLs of ``head`` and its last one's protocol length (see ``_HEADS``), or None."""
    try:
        return _HEADS[head]
    except KeyError:  # (a head not seen yet: a few a campaign, so raising costs only then)
        pass
    cached = len(head) <= _CACHED_RUN_MAX
    found = (_urls_in_run if cached else _urls_in_run.__wrapped__)(head, True)
    urls: _HeadUrls | None = None
    if found:
        _, end, url = found[-1]
        protocol = _urlscan.protocol_pattern().match(url)
        if end == len(head) and protocol is not None:
            urls = (found, len(protocol.group()))
    if cached:
        if len(_HEADS) >= _HEADS_MAX:
            _HEADS.clear()
        _HEADS[head] = urls
    return urls


_ASCII_QUERY: list[re.Pattern[str]] = []


def _ascii_query() -> re.Pattern[str]:
    """``_urlscan.query_pattern()`` for ASCII text, without IGNORECASE, which folds the case
    of each character it tries: four times slower on a tagged link's query (~1.6 us of ~2 us
    for ``_with_query`` on the bench's links, each new).

    That pattern is ``\\?[A]*[B]`` with two character classes (``_urlscan`` takes it from the
    URL pattern's tail in that shape, or fails). An ASCII character c is in B exactly when it
    matches "?c" (the star takes nothing, B takes c); in A exactly when it matches "?cb" for a
    b in B (B takes the one character after the star's: the star took c). So the classes are
    read off the pattern itself, character by character, and the two patterns match the same
    ASCII texts; tests/platforms/test_tagged_words.py checks them over every ASCII character."""
    if not _ASCII_QUERY:
        query = _urlscan.query_pattern()
        ends = [chr(c) for c in range(128) if query.fullmatch("?" + chr(c))]
        inner = [chr(c) for c in range(128) if query.fullmatch("?" + chr(c) + ends[0])]
        _ASCII_QUERY.append(
            re.compile(f"\\?[{''.join(map(re.escape, inner))}]*[{''.join(map(re.escape, ends))}]")
        )
    return _ASCII_QUERY[0]


def _scan_run(chunk: str) -> tuple[_Span, ...]:
    """The URLs of one run (see ``_urls_in_run``), searched for."""
    without_protocol = True
    astral = [] if chunk.isascii() else [m.start() for m in _ASTRAL.get().finditer(chunk)]
    if not astral:
        return tuple(_match_urls(chunk, without_protocol))
    # Map UTF-16 indices back: each astral character before an index added one unit.
    lows = [i + k + 1 for k, i in enumerate(astral)]
    return tuple(
        (start - bisect_left(lows, start), end - bisect_left(lows, end), _from_utf16_units(url))
        for start, end, url in _match_urls(_to_utf16_units(chunk, astral), without_protocol)
    )


def _match_urls(text: str, without_protocol: bool) -> list[_Span]:
    """The extraction proper, on a text whose characters are all UTF-16 code units."""
    tco_re = _TCO_URL.get()
    urls: list[_Span] = []
    for before, url, protocol, domain, path, start, end in _urlscan.url_matches(text):
        if not _is_valid_url(url, protocol or "https://", domain):
            continue
        if protocol:
            tco = tco_re.match(url)
            if not tco:
                urls.append((start, end, url))
            elif len(tco.group(1)) <= _MAX_TCO_SLUG_LENGTH:
                # t.co URLs take no further path characters
                urls.append((start, start + len(tco.group()), tco.group()))
            continue
        if not without_protocol or before[-1:] in ("-", "_", ".", "/"):
            continue
        found = _ascii_domains(domain)
        if not found:
            continue
        for offset, ascii_domain in found:
            urls.append((start + offset, start + offset + len(ascii_domain), ascii_domain))
        if path:
            # Only the last ASCII domain takes the path (and query) with it.
            last_start, _, last_text = urls[-1]
            urls[-1] = (last_start, end, url.replace(domain, last_text, 1))
    return urls


def extract_urls(text: str, *, without_protocol: bool = True) -> list[Entity]:
    """URLs in ``text`` as twitter-text's ``extractUrlsWithIndices`` finds them.

    ``without_protocol=False`` keeps only URLs written with ``http://``/``https://`` (what
    Mastodon's counting rule uses).
    """
    return [Entity("url", s, e, v) for s, e, v in _extract_urls(text, without_protocol)]


def url_spans(text: str, *, without_protocol: bool = True) -> tuple[tuple[int, int, str], ...]:
    """What ``extract_urls`` finds as (start, end, value), without building an ``Entity`` for
    each: tagging a post's links asks this of every text for every account."""
    return _extract_urls(text, without_protocol)


# -- Mentions, lists, hashtags, cashtags -----------------------------------------------------


def extract_mentions_or_lists(text: str) -> list[Entity]:
    """``@name`` mentions and ``@name/list`` lists, like ``extractMentionsOrListsWithIndices``."""
    if not text or ("@" not in text and "\uff20" not in text):
        return []
    end_re = _END_MENTION.get()
    found = []
    for m in _MENTION.get().finditer(text):
        if end_re.match(text, m.end()):
            continue  # e.g. an e-mail address or "@user@host"
        name, slug = m.group(3), m.group(4) or ""
        start = m.start(2)
        kind: EntityKind = "list" if slug else "mention"
        found.append(Entity(kind, start, start + 1 + len(name) + len(slug), name + slug))
    return found


def extract_mentions(text: str) -> list[Entity]:
    """``@name`` mentions only, like twitter-text's ``extractMentionsWithIndices``."""
    return [e for e in extract_mentions_or_lists(text) if e.kind == "mention"]


def _remove_overlaps(entities: list[Entity]) -> list[Entity]:
    """twitter-text's ``removeOverlappingEntities``: stable sort by start, drop overlaps."""
    entities = sorted(entities, key=lambda e: e.start)
    kept: list[Entity] = []
    for entity in entities:
        if kept and kept[-1].end > entity.start:
            continue
        kept.append(entity)
    return kept


def _hashtag_matches(text: str) -> Iterator[re.Match[str]]:
    """What ``_HASHTAG.finditer(text)`` finds, tried only where a match can start.

    A match is one character or none before its ``#``/``＃`` (group 2), so it starts on a sign
    or just before one; searching tried the pattern's long look-ahead at every character.
    Candidates are tried in order from where the last match ended, as ``finditer`` does.
    """
    pattern = _HASHTAG.get()
    signs = [m.start() for m in _HASH_SIGN.get().finditer(text)]
    end = 0
    for start in sorted({s for sign in signs for s in (sign - 1, sign) if s >= 0}):
        if start < end:
            continue
        match = pattern.match(text, start)
        if match is not None:
            yield match
            end = match.end()


def extract_hashtags(text: str, *, check_url_overlap: bool = True) -> list[Entity]:
    """Hashtags, like ``extractHashtagsWithIndices``; tags inside URLs are dropped by default
    (then found word by word: see ``pieces``)."""
    if not text or ("#" not in text and "\uff03" not in text):
        return []
    if check_url_overlap:
        return list(_hashtags_by_piece(text))
    return _extract_hashtags(text, check_url_overlap=False)


def _moved(entity: Entity, offset: int) -> Entity:
    return Entity(entity.kind, entity.start + offset, entity.end + offset, entity.value)


# A word that is a sign and ASCII letters, digits and "_" (a campaign's hashtags, as most are
# written): the whole of it after the sign is a hashtag if it holds a letter, else there is
# none. ``_HASHTAG``'s classes hold exactly those among ASCII characters, a match needs a
# letter, and nothing after the word can end it otherwise; no URL fits in it (no dot). Such
# words are answered without the pattern, whose compiling (~25 ms, its Unicode classes) each
# process otherwise pays for a campaign's first hashtag (tests/platforms/
# test_textcount_shortcuts.py holds this to the pattern).
_PLAIN_HASHTAG = re.compile("[#\uff03][A-Za-z0-9_]+")
_ASCII_LETTER = re.compile("[A-Za-z]")


def _extract_hashtags(text: str, *, check_url_overlap: bool = True) -> list[Entity]:
    if not text or ("#" not in text and "\uff03" not in text):
        return []
    if _PLAIN_HASHTAG.fullmatch(text):
        if _ASCII_LETTER.search(text) is None:
            return []
        return [Entity("hashtag", 0, len(text), text[1:])]
    end_re = _END_HASHTAG.get()
    tags = []
    for m in _hashtag_matches(text):
        if end_re.match(text, m.end()):
            continue  # "#foo#bar" and "#foo://" are not hashtags
        tag = m.group(3)
        start = m.start(2)
        tags.append(Entity("hashtag", start, start + 1 + len(tag), tag))
    if check_url_overlap:
        urls = extract_urls(text)
        if urls:
            tags = [e for e in _remove_overlaps(tags + urls) if e.kind == "hashtag"]
    return tags


_hashtags_by_piece = pieces.Joined(lambda text: tuple(_extract_hashtags(text)), _moved, "#\uff03")


def extract_cashtags(text: str) -> list[Entity]:
    """``$TICKER`` cashtags, like twitter-text's ``extractCashtagsWithIndices``."""
    if not text or "$" not in text:
        return []
    found = []
    for m in _CASHTAG.get().finditer(text):
        tag = m.group(3)
        start = m.start(2)
        found.append(Entity("cashtag", start, start + 1 + len(tag), tag))
    return found


def extract_entities(text: str) -> list[Entity]:
    """All entities without overlaps, sorted, like twitter-text's ``extractEntitiesWithIndices``."""
    entities = (
        extract_urls(text)
        + extract_mentions_or_lists(text)
        + extract_hashtags(text, check_url_overlap=False)
        + extract_cashtags(text)
    )
    return _remove_overlaps(entities) if entities else []


def is_valid_hashtag(tag: str) -> bool:
    """True if ``tag`` (``"#Foo"``) is exactly one hashtag, like twitter-text's ``isValidHashtag``."""
    if not tag:
        return False
    found = extract_hashtags(tag)
    return len(found) == 1 and found[0].value == tag[1:]


# -- Weighted length -------------------------------------------------------------------------


class _Weigher:
    """Scaled weights of plain characters (outside URLs and emoji) for one config."""

    __slots__ = ("ascii_weight", "classes", "config", "default", "ranges")

    def __init__(self, config: TwitterTextConfig) -> None:
        self.config = config
        self.default = config.default_weight
        self.ranges = config.ranges
        # The first matching range wins, so each range only covers what earlier ones left.
        claimed: list[tuple[int, int]] = []
        by_weight: dict[int, list[tuple[int, int]]] = {}
        for lo, hi, weight in config.ranges:
            for part in _subtract((max(lo, 0), min(hi, 0xFFFF)), claimed):
                by_weight.setdefault(weight, []).append(part)
            claimed.append((lo, hi))
        self.classes: list[tuple[re.Pattern[str], int]] = []
        for weight, spans in by_weight.items():
            if weight != self.default:
                # ("[…][…]*", not "[…]+": opening with a class, findall skips to one in C)
                chars = _class_for_units(spans)
                self.classes.append((re.compile(chars + chars + "*"), weight))
        ascii_weights = {self.char_weight(chr(c)) for c in range(0x80)}
        self.ascii_weight = ascii_weights.pop() if len(ascii_weights) == 1 else None

    def char_weight(self, ch: str) -> int:
        """getCharacterWeight: astral characters weigh as their low surrogate, as in JS."""
        unit = ord(ch)
        if unit > 0xFFFF:
            unit = 0xDC00 + ((unit - 0x10000) & 0x3FF)
        for lo, hi, weight in self.ranges:
            if lo <= unit <= hi:
                return weight
        return self.default

    def weigh(self, text: str) -> int:
        if self.ascii_weight is not None and text.isascii():
            return self.ascii_weight * len(text)
        total = self.default * len(text)
        for pattern, weight in self.classes:
            total += (weight - self.default) * sum(map(len, pattern.findall(text)))
        return total


def _subtract(span: tuple[int, int], claimed: list[tuple[int, int]]) -> list[tuple[int, int]]:
    parts = [span] if span[0] <= span[1] else []
    for c_lo, c_hi in claimed:
        nxt = []
        for lo, hi in parts:
            if hi < c_lo or lo > c_hi:
                nxt.append((lo, hi))
                continue
            if lo < c_lo:
                nxt.append((lo, c_lo - 1))
            if hi > c_hi:
                nxt.append((c_hi + 1, hi))
        parts = nxt
    return parts


def _class_for_units(spans: list[tuple[int, int]]) -> str:
    """A character class for UTF-16 unit ranges; astral characters join via their low unit."""
    body = []
    for lo, hi in spans:
        body.append(f"\\u{lo:04x}-\\u{hi:04x}")
        low_lo, low_hi = max(lo, 0xDC00), min(hi, 0xDFFF)
        if low_lo <= low_hi:
            for high in range(1024):
                base = 0x10000 + (high << 10) - 0xDC00
                body.append(f"\\U{base + low_lo:08x}-\\U{base + low_hi:08x}")
    return "[" + "".join(body) + "]"


# Keyed by identity: hashing a config on every call would cost more than the lookup saves.
# A cached weigher keeps its config alive, so an id is never reused while it is cached.
_WEIGHERS: dict[int, _Weigher] = {}


def _weigher(config: TwitterTextConfig) -> _Weigher:
    weigher = _WEIGHERS.get(id(config))
    if weigher is None or weigher.config is not config:
        weigher = _WEIGHERS[id(config)] = _Weigher(config)
    return weigher


def _emoji_spans(text: str) -> dict[int, int]:
    """Start -> end of each emoji twemoji-parser finds (leftmost, non-overlapping)."""
    spans: dict[int, int] = {}
    starts = _EMOJI_START.get()
    emoji = _EMOJI.get()
    pos = 0
    while (candidate := starts.search(text, pos)) is not None:
        at = candidate.start()
        m = emoji.match(text, at)
        if m is None:
            pos = at + 1
        else:
            spans[at] = pos = m.end()
    return spans


# (start, end, scaled weight, utf16): a plain-character run (utf16 = -1, weighed together), or
# one step over a URL or an emoji (utf16 = 0: the UTF-16 length of text[start:end]; > 0: an
# explicit length, for the rare URL whose text is shorter than its indices).
_Unit = tuple[int, int, int, int]


def _units(text: str, config: TwitterTextConfig) -> list[_Unit]:
    """The steps parseTweet takes over ``text``, with plain characters grouped into runs."""
    urls = {s: (e, u) for s, e, u in _extract_urls(text, without_protocol=True)}
    emojis = _emoji_spans(text) if config.emoji_parsing_enabled and not text.isascii() else {}
    weigher = _weigher(config)
    if not urls and not emojis:
        return [(0, len(text), weigher.weigh(text), -1)] if text else []
    url_weight = config.transformed_url_length * config.scale
    units: list[_Unit] = []
    pos = 0
    for start in sorted(urls.keys() | emojis.keys()):
        if start < pos:
            continue  # starts inside the previous URL or emoji, which parseTweet skips over
        if start > pos:
            units.append((pos, start, weigher.weigh(text[pos:start]), -1))
        if start in urls:  # a URL wins over an emoji starting at the same index
            end, url = urls[start]
            if end - start == len(url):
                units.append((start, end, url_weight, 0))
                pos = end
            else:
                pos = _skip_url_text(text, start, url, url_weight, units, weigher)
        else:
            pos = emojis[start]
            units.append((start, pos, config.default_weight, 0))
    if pos < len(text):
        units.append((pos, len(text), weigher.weigh(text[pos:]), -1))
    return units


def _skip_url_text(
    text: str, start: int, url: str, url_weight: int, units: list[_Unit], weigher: _Weigher
) -> int:
    """Step over a URL whose text is shorter than its indices; returns where the walk resumes.

    parseTweet skips ``url.length`` UTF-16 units, not the indices.  They differ only for the
    protocol-less URLs whose start twitter-text misplaces (see ``_ascii_domains``); the rest
    of the indices is then weighed character by character.
    """
    target = _utf16_len(url)
    units16 = 0
    pos = start
    while units16 < target:
        units16 += 2 if ord(text[pos]) > 0xFFFF else 1
        pos += 1
    if units16 == target:
        units.append((start, pos, url_weight, target))
    else:
        # The skip ends inside a surrogate pair: its low half is then weighed on its own,
        # which is what char_weight gives an astral character.
        units.append((start, pos - 1, url_weight, target))
        units.append((pos - 1, pos, weigher.char_weight(text[pos - 1]), 1))
    return pos


_SURROGATE = _Lazy("[\ud800-\udfff]")


def _normalize(text: str) -> str:
    """NFC, as parseTweet does; a surrogate pair held as two code points (possible in a Python
    ``str``, invisible in JavaScript) is first joined, so the count matches npm's."""
    if text.isascii():
        return text
    if _SURROGATE.get().search(text):
        text = _from_utf16_units(text)
    return unicodedata.normalize("NFC", text)


def weighted_length(text: str, config: TwitterTextConfig = CONFIG_V3) -> int:
    """twitter-text's ``parseTweet(text).weightedLength``, without the ranges (the fast path).

    Exact for the built-in configs, whose weights are whole multiples of ``scale``; a custom
    config with fractional results is floored. With the current config the text is weighed
    word by word (``pieces``: NFC, URLs and emoji never join across a space).
    """
    if config is CONFIG_V3:
        return _weighed_v3(text) // config.scale
    return _scaled_weight(text, config) // config.scale


def _scaled_weight(text: str, config: TwitterTextConfig = CONFIG_V3) -> int:
    total = 0
    for unit in _units(_normalize(text), config):
        total += unit[2]
    return total


# (Emoji are no clusters here; spaces, tabs and line breaks weigh one character each, scaled.)
_weighed_v3 = pieces.Summed(
    _scaled_weight, graphemes=False, space=CONFIG_V3.scale, same_as=query_free
)


def parse_tweet(text: str, config: TwitterTextConfig = CONFIG_V3) -> ParseResult:
    """twitter-text's ``parseTweet``; ranges are UTF-16 code units with inclusive ends."""
    normalized = _normalize(text)
    units = _units(normalized, config)
    total = sum(unit[2] for unit in units)
    limit = config.max_weighted_tweet_length * config.scale
    has_invalid = not normalized.isascii() and (
        "\ufeff" in normalized or "\ufffe" in normalized or "\uffff" in normalized
    )
    text_len16 = _utf16_len(text)
    if not has_invalid and total <= limit:
        # Every step was valid: the range ends on the last code unit.
        valid_end = max(text_len16 - 1, 0)
    else:
        # parseTweet shifts the index found in the normalised text by the length change.
        valid_end = _valid_end(normalized, units, config) + text_len16 - _utf16_len(normalized)
    return ParseResult(
        weighted_length=total // config.scale,
        permillage=math.floor(total / config.scale / config.max_weighted_tweet_length * 1000),
        valid=not has_invalid and 0 < total <= limit,
        display_range_start=0,
        display_range_end=max(text_len16 - 1, 0),
        valid_range_start=0,
        valid_range_end=valid_end,
    )


def _valid_end(text: str, units: list[_Unit], config: TwitterTextConfig) -> int:
    """The UTF-16 index of the last code unit parseTweet still counts as valid.

    parseTweet checks one code unit per step (the last of a URL, an emoji or a character) for
    invalid characters, and stops extending the valid range at the first invalid one or once
    the running weight passes the limit (weights are never negative, so it never comes back).
    """
    weigher = _weigher(config)
    limit = config.max_weighted_tweet_length * config.scale
    total = 0
    index16 = -1
    valid_end = 0
    for start, end, weight, utf16 in units:
        piece = text[start:end]
        if utf16 >= 0:  # one step over a URL or an emoji
            total += weight
            index16 += utf16 or _utf16_len(piece)
            if piece[-1:] in _INVALID_CHARS or total > limit:
                return valid_end
            valid_end = index16
            continue
        invalid = _INVALID.get().search(piece)
        head = piece[: invalid.start()] if invalid else piece
        head_weight = weigher.weigh(head) if invalid else weight
        if total + head_weight <= limit:
            total += head_weight
            if head:
                index16 += _utf16_len(head)
                valid_end = index16
            if invalid:
                return valid_end
            continue
        # The limit falls inside this run: find the longest prefix that still fits.
        fits, overflows = 0, len(head)
        while overflows - fits > 1:
            mid = (fits + overflows) // 2
            if total + weigher.weigh(head[:mid]) <= limit:
                fits = mid
            else:
                overflows = mid
        return index16 + _utf16_len(head[:fits]) if fits else valid_end
    return valid_end
