"""A post's tagged links (a link and its tracking parameters: a new word in every post, for every
platform) are cheap for each per-word rule, with every answer as before: ``twitter.query_free``
and ``_with_query`` (X's and Mastodon's counts, Bluesky's facets, URL search) from a cache of
the text before the "?" and an ASCII query pattern without IGNORECASE, and check's broken-link
rule (``_has_malformed_url``) tried only where a match can start. Each is held here to a frozen
copy of the function it replaced, over words made to break it."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from eduadvocate.compose import check
from eduadvocate.compose.render import add_utm
from eduadvocate.platforms.textcount import _urlscan, twitter

# -- frozen copies of the former functions ----------------------------------------------------


def _old_with_query(chunk: str) -> tuple[tuple[int, int, str], ...] | None:
    at = chunk.find("?")
    if at <= 0 or not chunk.isascii() or _urlscan.query_pattern().fullmatch(chunk, at) is None:
        return None
    head = chunk[:at]
    found = twitter._scan_run(head)  # (what ``_urls_in_run(head, True)`` was: no "?" in it)
    if not found:
        return None
    start, end, url = found[-1]
    protocol = _urlscan.protocol_pattern().match(url)
    if end != at or protocol is None:
        return None
    whole = url + chunk[at:]
    if len(protocol.group()) + len(whole) > 4096:
        return None
    return (*found[:-1], (start, len(chunk), whole))


def _old_query_free(text: str) -> str | None:
    at = text.find("?")
    if at <= 0:
        return None
    found = _old_with_query(text)
    if found is None or found[-1][0] != (1 if text[0] in " \t\r\n" else 0):
        return None
    return text[:at]


_OLD_MALFORMED_URL = re.compile(
    r"\b(?:https?:/(?!/)|https?//|htps?://|htt?p?s?:\\\\)", re.IGNORECASE
)


def _old_has_malformed_url(word: str) -> bool:
    return _OLD_MALFORMED_URL.search(word) is not None


# -- words made to break them -----------------------------------------------------------------

GAPS = ["", " ", "\t", "\r", "\n"]
BEFORE = ["", "@u.", "@u@", "x", "(", "Å", "-", ".", "/", "https://a.org/x,", "#", "ht", "h"]
PROTOCOLS = ["https://", "http://", "HTTPS://", "hTtP://", "", "htps://", "http:/", "https//",
             "http:\\\\", "ftp://", "xhttps://"]  # fmt: skip
DOMAINS = ["example.org", "t.co", "a.b", "xn--bcher-kva.de", "bücher.de", "localhost", "1.2.3.4",
           "EXAMPLE.ORG", "fundspringfieldschools.org", "a" * 70 + ".com", "ex-ample.org",
           "user@example.org", "例え.jp", "a.b.c.d.e.f.g.h.io"]  # fmt: skip
PATHS = ["", "/", "/petition", "/a/b.html", "/p(1)", "/p)", "/p.", "/p,", "/p!", "/~u", "/%20x",
         "/p#frag", ":8080/p", ":80", "/é", "/p@q", "/a.b.c", "/HTTP:/x", "/" + "p" * 4090]  # fmt: skip
QUERY_CHARS = [*string.printable.replace(" ", "").replace("\t", ""), "é", "\u200b", "😀", "ſ"]
QUERY = st.text(alphabet=st.sampled_from(QUERY_CHARS), max_size=24)


@st.composite
def words(draw: st.DrawFn) -> str:
    """A gap (or none), junk, a link's parts, then a query: as render tags it (``add_utm``) or
    anything, with a second "?" or "#", a fragment, unicode, or past the length cap."""
    gap = draw(st.sampled_from(GAPS))
    head = (
        draw(st.sampled_from(BEFORE))
        + draw(st.sampled_from(PROTOCOLS))
        + draw(st.sampled_from(DOMAINS))
        + draw(st.sampled_from(PATHS))
    )
    if draw(st.booleans()):
        values = draw(st.lists(QUERY, min_size=1, max_size=4))
        word = add_utm(head, {f"utm_{i}": v for i, v in enumerate(values)})
    else:
        word = head + "?" + draw(QUERY) + draw(st.sampled_from(["", "#f", "?x", "x" * 4100]))
    return gap + word


# What each guard or shortcut turned wrong fails on (see the planted bugs in the report).
EXAMPLES = [
    " https://fundspringfieldschools.org/petition?utm_source=x&utm_content=post-17",
    "https://example.org/a?Utm_Source=X",  # uppercase in the query
    " HTTPS://EXAMPLE.ORG/P?A=B",
    " @u.https://example.org/p?a=b",  # a mention before the URL
    " xhttps://example.org/p?a=b",
    "\thttps://example.org/p?a=b.",  # a query the pattern ends before the word does
    " https://example.org/p?a=b?c=d",
    " https://example.org/p?a=b#f",
    " https://example.org:8080?a=b",
    " https://t.co/abcdef?a=b",
    " https://example.org/é?a=b",
    " https://example.org/p?a=é",
    " https://example.org/" + "p" * 4060 + "?a=bcdefghijklmnopqrstuvwxyz",  # over the cap
    " https://example.org/" + "p" * 4064 + "?a=b",  # the protocol twice: 4,096, the cap
    " https://example.org/" + "p" * 4065 + "?a=b",  # one over
    "https://example.org/" + "p" * 4065 + "?a=b",
]


@settings(max_examples=4000, deadline=None)
@given(words(), st.booleans())
@example(" https://example.org/p?a=b", True)
def test_a_tagged_word_is_query_free_as_before(word: str, forget: bool) -> None:
    """Caches kept across examples (a head seen before, with another query) and emptied."""
    if forget:
        twitter._HEADS.clear()
    assert twitter.query_free(word) == _old_query_free(word)
    assert twitter._with_query(word) == _old_with_query(word)


@pytest.mark.parametrize("word", EXAMPLES)
def test_the_examples_are_query_free_as_before(word: str) -> None:
    for _ in range(2):  # a head not known yet, then known
        assert twitter.query_free(word) == _old_query_free(word)
        assert twitter._with_query(word) == _old_with_query(word)


def test_a_tracked_link_is_found_from_its_known_head() -> None:
    """Not vacuous: the campaign's link, tagged for another post, takes its head's URLs."""
    twitter._HEADS.clear()
    link = " https://fundspringfieldschools.org/petition?utm_source=x&utm_content=post-"
    assert twitter.query_free(link + "1") == " https://fundspringfieldschools.org/petition"
    assert list(twitter._HEADS) == [" https://fundspringfieldschools.org/petition"]
    assert twitter.query_free(link + "2") == " https://fundspringfieldschools.org/petition"
    assert len(twitter._HEADS) == 1


def test_the_ascii_query_pattern_matches_what_the_generated_one_does() -> None:
    """Every query of one and two ASCII characters (all that ``\\?[A]*[B]`` can tell apart:
    the end and one before it), and the bench's."""
    fast, slow = twitter._ascii_query(), _urlscan.query_pattern()
    ascii_chars = [chr(c) for c in range(128)]
    for a in ascii_chars:
        assert bool(fast.fullmatch("?" + a)) == bool(slow.fullmatch("?" + a)), a
        for b in ascii_chars:
            query = "?" + a + b
            assert bool(fast.fullmatch(query)) == bool(slow.fullmatch(query)), query
    assert fast.fullmatch("?utm_source=x&utm_medium=social&utm_content=post-1")


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_ascii_queries_match_alike(query: str) -> None:
    fast, slow = twitter._ascii_query(), _urlscan.query_pattern()
    for text in (query, "?" + query, "x?" + query):
        assert bool(fast.fullmatch(text, text.find("?") if "?" in text else 0)) == bool(
            slow.fullmatch(text, text.find("?") if "?" in text else 0)
        )


# -- check's broken web addresses -------------------------------------------------------------

BROKEN_BITS = ["http", "https", "HTTP", "hTtPs", "htp", "htps", "htt", "ht", "h", "t", ":", "/",
               "//", ":/", "://", ":\\\\", "\\", "s", "S", "p", "x", "_", "-", ".", "é", "İ",
               "ſ", "K", "1", "@", "#", "?", "&"]  # fmt: skip


@settings(max_examples=4000, deadline=None)
@given(st.lists(st.sampled_from(BROKEN_BITS), max_size=10).map("".join))
@example("xhttp:/a")  # no \b before the "h": a cut string would have one
@example("_https//a")
@example("htps://a")
@example("ahttp:/a http:/b")
@example("https://example.org/a?utm_source=x&utm_content=post-1")
@example("İhttp:/a")  # not ASCII: its lowercase is longer
def test_a_broken_web_address_is_found_as_before(word: str) -> None:
    assert check._has_malformed_url(word) == _old_has_malformed_url(word)
    assert check._MALFORMED_URL.pattern == _OLD_MALFORMED_URL.pattern


@settings(max_examples=1000, deadline=None)
@given(words())
def test_a_tagged_link_has_a_broken_web_address_as_before(word: str) -> None:
    word = word.strip()
    assert check._has_malformed_url(word) == _old_has_malformed_url(word)


def test_only_h_and_t_match_an_h_and_a_t_whatever_their_case() -> None:
    """What ``_has_malformed_url`` rests on: no other code point matches an "h" or a "t" under
    IGNORECASE (unlike "s", which "ſ" matches, or "k", which the Kelvin sign does)."""
    h, t = re.compile("h", re.IGNORECASE), re.compile("t", re.IGNORECASE)
    found = {chr(c) for c in range(0x110000) if h.fullmatch(chr(c)) or t.fullmatch(chr(c))}
    assert found == {"h", "H", "t", "T"}
