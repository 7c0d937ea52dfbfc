"""A run that is a searched run and a query after its last URL (what tracking parameters make
of every link) is given its URLs from that run's (``twitter._with_query``); this holds them equal
to a full search of the run, over runs made to break it: junk before the protocol, t.co links,
ports, paths ending in punctuation, queries ending where the pattern would not end them, a
second "?" or "#", IDN and over-long links (each guard of ``_with_query`` fails it when taken out)."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from eduadvocate.compose.render import add_utm
from eduadvocate.platforms.textcount import twitter

PREFIXES = ["", " ", "\n", "x", "(", "@", "-", ".", "/", "https://a.org/x,", "#"]
PROTOCOLS = ["https://", "http://", "HTTPS://", "", "htps://", "ftp://"]
DOMAINS = [
    "example.org", "t.co", "a.b", "xn--bcher-kva.de", "localhost", "1.2.3.4", "example.co.uk",
    "ex-ample.org", "exa_mple.org", "fundspringfieldschools.org", "a" * 70 + ".com", "EXAMPLE.ORG",
]  # fmt: skip
PATHS = ["", "/", "/petition", "/a/b.html", "/p(1)", "/p)", "/p.", "/p,", "/p!", "/~u", "/%20x",
         "/abc123DEF", "/p#frag", ":8080/p", ":80"]  # fmt: skip
QUERY = st.text(
    alphabet=st.sampled_from([*"abcXYZ019_-=&.~%+!#$'()*,/:;@[]|?^`{}\"<>\\", "é"]),
    max_size=30,
)


@st.composite
def runs(draw: st.DrawFn) -> str:
    head = (
        draw(st.sampled_from(PREFIXES))
        + draw(st.sampled_from(PROTOCOLS))
        + draw(st.sampled_from(DOMAINS))
        + draw(st.sampled_from(PATHS))
    )
    tail = "?" + draw(QUERY)
    if draw(st.booleans()):  # as add_utm writes it
        values = draw(st.lists(QUERY, min_size=1, max_size=4))
        params = {f"utm_{i}": v for i, v in enumerate(values)}
        tagged = add_utm(head.lstrip(" \n"), params)
        return head[: len(head) - len(head.lstrip(" \n"))] + tagged
    return head + tail + draw(st.sampled_from(["", "x" * 4100]))


@settings(max_examples=3000, deadline=None)
@given(runs())
@example(" https://fundspringfieldschools.org/petition?utm_source=x&utm_content=post-17")
@example(" https://t.co/abcdef?utm_source=x")
@example(" https://example.org/p?utm_source=x.")
@example(" xhttps://example.org/p?a=b")
@example(" https://example.org/p?a=b?c=d")
@example(" https://example.org/p?a=(b)")
@example(" https://example.org:8080?a=b")
def test_a_query_after_a_searched_run_finds_what_a_search_finds(run: str) -> None:
    if " " in run.strip(" ") or "\n" in run.strip(" \n"):
        return  # a run holds no space but the one before it
    twitter._urls_in_run.cache_clear()
    assert twitter._urls_in_run(run, True) == twitter._scan_run(run)


def test_a_tracked_link_is_found_from_the_link_without_a_new_search() -> None:
    """Not vacuous: the campaign's link, tracked, comes from the run before its "?"."""
    twitter._urls_in_run.cache_clear()
    run = " https://fundspringfieldschools.org/petition?utm_source=x&utm_content=post-17"
    assert twitter._with_query(run) == ((1, len(run), run[1:]),)
