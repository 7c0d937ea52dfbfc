"""Properties of the X length rule and extractors that must hold for any text (hypothesis)."""

from __future__ import annotations

import string
import unicodedata
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from eduadvocate.platforms.textcount.twitter import (
    CONFIG_V1,
    CONFIG_V2,
    CONFIG_V3,
    extract_entities,
    extract_urls,
    parse_tweet,
    weighted_length,
)

# The first call compiles the large patterns (tens of ms), so no per-example deadline.
examples = settings(deadline=None, max_examples=200)

URLISH = [
    "example.org",
    "https://example.org/a",
    "t.co/x",
    "http://t.co/abc",
    "www.example.co",
    "foo.co",
    "a.b",
    "例え.jp",
    "#tag",
    "@user",
    "$AAPL",
    "😀",
    "👩‍🏫",
    "🇺🇸",
    "1️⃣",
    "e\u0301",
    "中文",
    "\r\n",
    " ",
    ".",
    "/",
    ":",
]
texts = st.lists(st.one_of(st.sampled_from(URLISH), st.text(max_size=4)), max_size=20).map("".join)
# Plain words: no dot, colon, @, # or $, so nothing in them can form or join an entity.
plain = st.text(
    alphabet=st.sampled_from(string.ascii_letters + " ,!?'-" + "中文😀👩‍🏫é\u0301"), max_size=60
)
path_chars = st.text(alphabet=string.ascii_letters + string.digits + "/-_=&", max_size=2000)


def _url_spans(text: str) -> list[tuple[int, int]]:
    return [(e.start, e.end) for e in extract_urls(text)]


@examples
@given(text=texts, letter=st.sampled_from(string.ascii_letters))
def test_appending_a_letter_adds_one_unless_it_joins_a_url(text: str, letter: str) -> None:
    """A Latin letter weighs 1, unless appending it changes which URLs the text holds."""
    if _url_spans(text + letter) == _url_spans(text):
        assert weighted_length(text + letter) == weighted_length(text) + 1


@examples
@given(prefix=plain, suffix=plain, path=path_chars, protocol=st.sampled_from(["https://", ""]))
def test_a_url_weighs_23_whatever_its_length(
    prefix: str, suffix: str, path: str, protocol: str
) -> None:
    """A URL counts as transformed_url_length (23), however long it is (below the 4096 cap)."""
    url = f"{protocol}example.org/{path}x"
    with_url = f"{prefix} {url} {suffix}"
    assert [e.value for e in extract_urls(with_url)] == [url]
    assert weighted_length(with_url) == weighted_length(f"{prefix}  {suffix}") + 23
    assert weighted_length(url) == 23


@examples
@given(text=texts)
def test_length_does_not_depend_on_normalisation(text: str) -> None:
    """NFC and NFD spellings of a text weigh the same and are equally valid."""
    nfc, nfd = unicodedata.normalize("NFC", text), unicodedata.normalize("NFD", text)
    for config in (CONFIG_V1, CONFIG_V2, CONFIG_V3):
        assert weighted_length(nfc, config) == weighted_length(nfd, config)
        assert weighted_length(text, config) == weighted_length(nfc, config)
        assert parse_tweet(nfc, config).valid == parse_tweet(nfd, config).valid


@examples
@given(text=texts)
def test_parse_tweet_agrees_with_weighted_length(text: str) -> None:
    """The fast path and parse_tweet agree; validity is exactly the length and character rule."""
    utf16_len = len(text.encode("utf-16-le")) // 2
    invalid = any(c in text for c in "\ufffe\ufeff\uffff")
    for config in (CONFIG_V1, CONFIG_V2, CONFIG_V3):
        result = parse_tweet(text, config)
        assert result.weighted_length == weighted_length(text, config)
        max_length = config.max_weighted_tweet_length
        assert result.valid == (0 < result.weighted_length <= max_length and not invalid)
        assert result.display_range_end == max(utf16_len - 1, 0)
        assert result.valid_range_end <= result.display_range_end


@examples
@given(text=texts)
def test_entities_point_at_their_text(text: str) -> None:
    """Entities are sorted, never overlap, and their indices point at what they name."""
    entities = extract_entities(text)
    for before, after in pairwise(entities):
        assert before.end <= after.start
    for e in entities:
        if e.kind == "url":
            # npm reports "example.org例え.jp/" as the URL "example.org/" over the whole span (an
            # IDN quirk we reproduce), so only the span's ends are sure to be the URL's.
            span = text[e.start : e.end]
            assert (span[0], span[-1]) == (e.value[0], e.value[-1])
        else:
            assert text[e.start] in {"hashtag": "#＃", "cashtag": "$"}.get(e.kind, "@＠")
            assert text[e.start + 1 : e.end] == e.value


@examples
@given(text=texts)
def test_protocol_only_mode_keeps_just_the_protocol_urls(text: str) -> None:
    """without_protocol=False (Mastodon's rule) yields the http(s) URLs of the default mode."""
    strict = extract_urls(text, without_protocol=False)
    assert all(e.value.lower().startswith(("http://", "https://")) for e in strict)
    assert strict == [
        e for e in extract_urls(text) if e.value.lower().startswith(("http://", "https://"))
    ]


# Around hash signs: what may stand before one (start, a space, a letter, &, a variation
# selector, a lone surrogate, an emoji) and after it (a tag, another sign, a keycap, ://).
HASH_PIECES = [*"#＃a1_& .:/", "\ufe0e", "\ufe0f", "\u20e3", "é", "\ud800", "😀", "://", "学"]


@examples
@given(st.lists(st.sampled_from(HASH_PIECES), max_size=40).map("".join))
def test_hashtags_are_matched_where_searching_finds_them(text: str) -> None:
    """extract_hashtags tries its pattern only at a sign and just before one: the matches are
    those that searching every character finds."""
    from eduadvocate.platforms.textcount import twitter

    searched = [(*m.span(2), m.group(3)) for m in twitter._HASHTAG.get().finditer(text)]
    assert [(*m.span(2), m.group(3)) for m in twitter._hashtag_matches(text)] == searched


# Around dots: spaces of every kind twitter-text knows, TLD letters (Latin, Cyrillic), digits.
RUN_PIECES = [*"a.o ._1/", "\t", "\n", "\u3000", "\u00a0", "\u2028", "com", "org", "рф", "é", "😀"]


@examples
@given(st.lists(st.sampled_from(RUN_PIECES), max_size=40).map("".join))
def test_dotted_runs_are_the_patterns_runs(text: str) -> None:
    """URLs are looked for in the runs of non-space characters that hold a dot before a TLD:
    found from the dots, they are the runs the look-behind pattern finds."""
    from eduadvocate.platforms.textcount import twitter

    expected = [m.span() for m in twitter._DOTTED_RUN.get().finditer(text)]
    assert list(twitter._dotted_runs(text)) == expected


@examples
@given(text=texts)
def test_protocol_urls_of_a_run_are_its_full_search_filtered(text: str) -> None:
    """A run searched for http(s) URLs only gives what the search for those alone gave (the
    full search is made once and filtered by the protocol the URL starts with)."""
    from bisect import bisect_left

    from eduadvocate.platforms.textcount import twitter

    astral = [m.start() for m in twitter._ASTRAL.get().finditer(text)]
    if astral:
        lows = [i + k + 1 for k, i in enumerate(astral)]
        before = [
            (s - bisect_left(lows, s), e - bisect_left(lows, e), twitter._from_utf16_units(u))
            for s, e, u in twitter._match_urls(twitter._to_utf16_units(text, astral), False)
        ]
    else:
        before = twitter._match_urls(text, False)
    assert list(twitter._urls_in_run.__wrapped__(text, False)) == before
    assert twitter._extract_urls(text, False) == twitter._scan_urls(text, False)


# Around a protocol: spaces of every kind twitter-text knows, protocols in any case, hosts,
# paths, queries, and what may stand right before a URL.
PROTOCOL_PIECES = [
    *["https://", "HTTP://", "http:/", "://", "ftp://", "a.org", "t.co/x", "/p", "?q=1", "&b"],
    *[" ", "\t", "\n", "\u3000", "\u00a0", "\u2028", "\u180e", ".", "@", "#", "_", "例え.jp", "😀"],
]


@examples
@given(st.lists(st.sampled_from(PROTOCOL_PIECES), max_size=30).map("".join))
def test_protocol_urls_are_found_in_the_runs_around_their_protocol(text: str) -> None:
    """The http(s) URLs are found by searching only the runs that hold a "://": what the full
    search over every dotted run finds that starts with a protocol."""
    from eduadvocate.platforms.textcount import _urlscan, twitter

    protocol = _urlscan.protocol_pattern()
    full = [url for url in twitter._scan_urls(text, True) if protocol.match(url[2])]
    assert list(twitter._protocol_urls(text)) == full
    assert twitter._extract_urls(text, False) == twitter._scan_urls(text, False)
