"""Render's draft (templates filled, links tagged, facets found) computed the cheap way gives
exactly what the plain way gave: each shortcut held to a frozen copy of the code it replaced,
over inputs made to break it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from eduadvocate.compose.render import _TEMPLATE, _utm_params, _utm_tagger, add_utm, tag_links
from eduadvocate.config.defaults import Defaults
from eduadvocate.config.utm import UtmSettings, fill_utm, fill_utm_around
from eduadvocate.content.model import Content, Post
from eduadvocate.core.errors import Location
from eduadvocate.platforms.textcount import _urlscan, twitter
from eduadvocate.platforms.textcount.facets import Facet, FacetKind
from eduadvocate.platforms.textcount.unicode import (
    _BSKY_MENTION,
    _BSKY_TAG,
    _HANDLE,
    BSKY_TAG_MAX,
    _from_signs,
    _without_trailing_punct,
    bluesky_facets,
)

# Template pieces: the four fields, braces doubled and single, refused fields, plain text.
_TEMPLATE_BITS = [
    "{post}",
    "{platform}",
    "{campaign}",
    "{account}",
    "{{",
    "}}",
    "{",
    "}",
    "{post:>3}",
    "{nope}",
    "{}",
    "x",
    "é ",
    "-",
]
_templates = st.lists(st.sampled_from(_TEMPLATE_BITS), max_size=8).map("".join)
_values = st.text(alphabet="ab{}é &=+-#", max_size=6)


@settings(max_examples=400, deadline=None)
@given(
    _templates,
    st.dictionaries(st.sampled_from(["platform", "campaign", "account", "post"]), _values),
    _values,
)
def test_a_template_filled_around_post_is_the_template_filled(
    template: str, values: dict[str, str], post: str
) -> None:
    """Joining the texts around ``{post}`` with the post's id is what filling the whole template
    gives, whatever the values hold (braces, "{post}" itself)."""
    around = fill_utm_around(template, values, "post")
    assert post.join(around) == fill_utm(template, {**values, "post": post})


def _utm_params_as_before(
    utm: UtmSettings, platform: str, post: Post, account: str
) -> dict[str, str] | None:
    """``_utm_params`` as it was: every template filled for every rendering (the reference)."""
    if not utm.enabled:
        return None
    fields = {
        "platform": platform,
        "campaign": _slug_as_before(post.defaults.campaign or "campaign"),
        "post": post.id,
        "account": account,
    }
    return {
        key: fill_utm(template, fields)
        for key, template in (
            ("utm_source", utm.source),
            ("utm_medium", utm.medium),
            ("utm_campaign", utm.campaign),
            ("utm_content", utm.content),
        )
        if template
    }


def _slug_as_before(name: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "campaign"


_BASE_POST = Post(
    id="p",
    loc=Location("posts/a.yaml", 1),
    file="posts/a.yaml",
    defaults=Defaults(),
    content=Content(text="t"),
    overrides={},
)


_utm_settings = st.builds(
    UtmSettings, st.booleans(), _templates, _templates, _templates, _templates
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(_utm_settings, min_size=1, max_size=3),
    st.lists(
        st.tuples(
            st.sampled_from(["x", "bluesky", "mastodon"]),
            st.sampled_from(["acct", "a{post}", "é"]),
            st.sampled_from([None, "", "Fund Our Schools!", "{post}", "Ünïcode"]),
            _values,
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_tracking_parameters_are_those_filled_for_each_post(
    settings_drawn: list[UtmSettings], drawn: list
) -> None:
    """The templates filled and encoded once per settings, platform, account and campaign and
    the post's id put in for each post give the parameters filled whole for each post, and
    the links tagged with them as ``add_utm`` tags them: each post on each account with each
    setting, twice over (the plans are remembered between them)."""
    for _ in range(2):
        for utm in settings_drawn:
            for platform, account, name, post_id in drawn:
                post = replace(_BASE_POST, id=post_id, defaults=Defaults(campaign=name))
                expected = _utm_params_as_before(utm, platform, post, account)
                params = _utm_params(utm, platform, post, account)
                assert params == expected
                if params is None or expected is None:
                    continue
                # The tail for a link with none of them: encoded as urlencode encodes them.
                assert params.tail == urlencode(list(expected.items()))
                tag = _utm_tagger(params, ())
                for url in _SOME_LINKS:
                    assert tag(url) == add_utm(url, dict(expected))


_SOME_LINKS = ("https://e.org/a", "https://e.org/a?utm_medium=x#f", "https://e.org/?b=1")


_urls = st.lists(
    st.sampled_from(
        [
            "https://example.org/a",
            "https://example.org/a?utm_source=mail",
            "https://example.org/a?ref=1&utm_content=z#top",
            "http://other.net/?q=a+b",
            "https://sub.example.org",
            "mailto:a@b.org",
            "https://",
        ]
    ),
    max_size=6,
)
_params = st.dictionaries(
    st.sampled_from(["utm_source", "utm_medium", "utm_content", "ref"]),
    st.text(alphabet="ab é&=+#/", max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(_urls, _params, st.sampled_from([(), ("example.org",)]))
def test_a_rendering_tags_each_link_as_add_utm_does(
    urls: list[str], params: dict[str, str], domains: tuple[str, ...]
) -> None:
    """A rendering encodes its parameters once per set of names its links have already: each
    link comes out as ``add_utm`` writes it, in any order and repeated."""
    tag = _utm_tagger(params, domains)
    for url in urls:
        assert tag(url) == add_utm(url, params, domains)


_URL_BITS = [
    "https://",
    "HTTP://",
    "http:/",
    "://",
    "example.org",
    "e.co",
    "t.co/abc",
    "www.example.com",
    "a.b.c",
    ".org",
    ".",
    "..",
    "/path",
    "?q=1",
    "&utm_source=x",
    "#frag",
    "(",
    ")",
    "@",
    "@name",
    "#tag",
    "＃",
    "$",
    ",",
    ":",
    "é",
    "\u0301",  # a combining mark: after a space it joins it
    "\u200d",
    "\u0600",  # a Prepend character: before a space it joins it
    "学校",
    "🎨",
    "x",
    "1.2",
    " ",
    "  ",
    "\n",
    "\t",
    "\r\n",
    "\u00a0",  # spaces to twitter-text that are no gaps here
    "\u3000",
    "\x0b",
    "\x85",
    "\u2028",
]
_link = st.tuples(
    st.sampled_from(["https://", "HTTP://", "http://"]),
    st.sampled_from(["example.org", "e.co", "www.example.com", "a.b.c", "x", "学校.jp"]),
    st.sampled_from(["", "/path", "?q=1", "#frag", ")", ".", "/a.b"]),
).map("".join)
_url_texts = st.lists(st.one_of(st.sampled_from(_URL_BITS), _link), max_size=24).map("".join)


@settings(max_examples=1500, deadline=None)
@given(_url_texts)
def test_links_found_around_their_protocol_are_those_of_the_whole_search(text: str) -> None:
    """Searching the runs around each "://" (what render tags) finds the URLs written with
    their protocol that the whole search finds, at the same places: over texts of links,
    dots, protocols, combining marks beside spaces and twitter-text's other spaces."""
    assert twitter.extract_urls(text, without_protocol=False) == _protocol_urls_of_all(text)
    assert twitter.extract_urls(text, without_protocol=False) == _protocol_urls_of_all(text)


def _protocol_urls_of_all(text: str) -> list[twitter.Entity]:
    """The URLs the whole search (every dotted run) finds that start with a protocol."""
    protocol = _urlscan.protocol_pattern()
    return [
        twitter.Entity("url", start, end, url)
        for start, end, url in twitter._scan_urls(text, True)
        if protocol.match(url)
    ]


@settings(max_examples=500, deadline=None)
@given(_url_texts, _params)
def test_links_are_tagged_where_the_whole_search_finds_them(
    text: str, params: dict[str, str]
) -> None:
    """``tag_links`` tags the links the whole search finds (the reference: as it was)."""

    def tag(url: str) -> str:
        return add_utm(url, params)

    assert tag_links(text, tag) == _tag_links_as_before(text, tag)


def _tag_links_as_before(text: str, tag: Callable[[str], str]) -> str:
    urls = twitter.extract_urls(text, without_protocol=False)
    if not urls:
        return text
    out, pos = [], 0
    for url in urls:
        out.append(text[pos : url.start])
        out.append(tag(text[url.start : url.end]))
        pos = url.end
    out.append(text[pos:])
    return "".join(out)


def _bluesky_facets_as_before(text: str) -> tuple[Facet, ...]:
    """``bluesky_facets`` as it was: the whole text searched at once (the reference)."""
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
    for start, end, kind, value in found:
        if start < last_end:
            continue
        last_end = end
        facets.append(
            Facet(kind, len(text[:start].encode("utf-8")), len(text[:end].encode("utf-8")), value)
        )
    return tuple(facets)


_FACET_BITS = [
    "@lopez.bsky.social",
    "@a.b",
    "@-x.y",
    "@name.",
    "(@a.bsky.social)",
    "#FundOurSchools",
    "#tag.",
    "#1",
    "#" + "a" * 64,
    "#" + "b" * 65,
    "＃タグ",
    "#\ufe0f",
    "\u00ad",
    "\u200b",
    "!",
    "a@b.co",
    " #Budget",
    "\n＃タグ",
    " #tag!",
    " @x.bsky.social",
    " \u0301example.org",  # twitter-text starts this link at the mark, after a space
    "\u0301e.co/a",
    "?utm_source=bluesky&utm_content=post-1",
    "&utm_content=a@b.bsky.social#x",
    "?q=#tag",
    "@u.",
    " ",
    "\n",
    "\t",
    "\r\n",
]
_facet_texts = st.lists(st.one_of(st.sampled_from(_FACET_BITS), _link), max_size=24).map("".join)


@settings(max_examples=2000, deadline=None)
@given(_facet_texts)
def test_bluesky_facets_found_word_by_word_are_those_of_the_whole_search(text: str) -> None:
    """Facets found in each word that can hold one, with the gap before it, moved to the word's
    place, are the whole text's: links, mentions and tags, overlaps resolved, at the same byte
    offsets, over texts full of gaps, twitter-text's other spaces and combining marks."""
    expected = _bluesky_facets_as_before(text)
    assert bluesky_facets.__wrapped__(text) == expected
    assert bluesky_facets.__wrapped__(text) == expected  # again, with its words remembered


def test_words_too_long_to_remember_are_searched_all_the_same() -> None:
    """A word past the length remembered (untrusted text may hold a megabyte without a space)
    is searched like any other, each time."""
    long_link = "https://example.org/" + "a" * 2000
    text = f"see {long_link} and @x.bsky.social #Tag {long_link}."
    for _ in range(2):
        assert twitter.extract_urls(text, without_protocol=False) == _protocol_urls_of_all(text)
        assert bluesky_facets.__wrapped__(text) == _bluesky_facets_as_before(text)


@settings(max_examples=500)
@given(st.text(alphabet="{}@ab_.-1 \n{{}}", max_size=30))
def test_a_text_without_an_opening_brace_or_a_closing_pair_holds_no_template(text: str) -> None:
    """``Renderer._fill`` hands back a text without "{" or "}}" as it is: every match of the
    template pattern starts with "{" or is "}}", so such a text holds none."""
    for match in _TEMPLATE.finditer(text):
        assert match.group(0).startswith("{") or match.group(0) == "}}"
    if "{" not in text and "}}" not in text:
        assert _TEMPLATE.search(text) is None
