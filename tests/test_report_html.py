"""The HTML report is one self-contained page: nothing loads from anywhere, every user string is
escaped, an empty report still renders, and every post is named by its id and first words. How a
real browser lays it out on a phone and a laptop: tests/test_report_html_browser.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import escape

from hypothesis import given
from hypothesis import strategies as st

from eduadvocate.compose.render import Part, Rendering
from eduadvocate.config.defaults import Defaults
from eduadvocate.config.model import AccountConfig
from eduadvocate.content.model import Content, Post
from eduadvocate.core.counts import Counts
from eduadvocate.core.errors import Location
from eduadvocate.ledger.base import Delivery, InboxItem, Snapshot
from eduadvocate.metrics.charts import text_width, wrap
from eduadvocate.metrics.html import render_html
from eduadvocate.metrics.report import Report, build
from tests.rows import published

NOW = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)
CHARTS = ("chart-platform", "chart-hashtag", "chart-heatmap", "chart-timeline")
EVIL_TEXT = 'Vote <script>alert(1)</script> & "come" #FundOurSchools'
EVIL_URL = "javascript:alert(1)"

# (post, account, platform, days before NOW, UTC hour, text, likes, reposts, replies, reach)
Row = tuple[str, str, str, int, int, str, int, int, int, int | None]
POSTS: list[Row] = [
    (
        "budget",
        "x-main",
        "x",
        6,
        14,
        "Budget hearing tonight #FundOurSchools #K12",
        40,
        12,
        5,
        None,
    ),
    ("budget", "bsky", "bluesky", 6, 15, "Budget hearing tonight #FundOurSchools", 25, 6, 3, None),
    ("budget", "fb", "facebook", 5, 17, "Budget hearing recap #FundOurSchools", 80, 9, 14, 2400),
    ("teachers", "masto", "mastodon", 5, 13, "Thank a teacher today #TeachersRock", 18, 7, 2, None),
    (
        "teachers",
        "ig",
        "instagram",
        4,
        19,
        "Thank a teacher today #TeachersRock #K12",
        120,
        0,
        9,
        3100,
    ),
    ("buses", "x-main", "x", 4, 22, "Bus routes are changing #Transit", 8, 1, 6, None),
    ("buses", "bsky", "bluesky", 3, 12, "Bus routes are changing #Transit", 5, 2, 1, None),
    ("meals", "fb", "facebook", 3, 16, "Free school meals for all #SchoolMeals", 64, 20, 11, 1800),
    ("meals", "x-main", "x", 2, 14, "Free school meals for all #SchoolMeals #K12", 33, 15, 4, None),
    ("board", "masto", "mastodon", 2, 1, "Board meeting agenda is out #SchoolBoard", 3, 1, 0, None),
    ("board", "ig", "instagram", 1, 18, "Board meeting agenda is out #SchoolBoard", 47, 0, 3, 900),
    ("evil", "x-main<b>", "x", 1, 15, EVIL_TEXT, 2, 0, 1, None),
]


def _rendering(post_id: str, account: str, platform: str, text: str) -> Rendering:
    loc = Location("posts/posts.yaml", 1, 1)
    post = Post(
        id=post_id,
        loc=loc,
        file="posts/posts.yaml",
        defaults=Defaults(campaign="Fund Our Schools 2026"),
        content=Content(text=text),
        overrides={},
    )
    part = Part(text=text, length=len(text), limit=500, bytes=len(text.encode()))
    return Rendering(post, AccountConfig(account, platform, {}, loc), platform, [part])


def _delivery(
    id_: int, post_id: str, account: str, platform: str, at: datetime, url: str | None
) -> Delivery:
    return published(id_, post_id, account, platform, at, [url])


def sample_report(posts: list[Row] = POSTS, *, late: bool = True) -> Report:
    """Twelve posts on five platforms over six days, each pulled twice, plus one not yet pulled
    (``posts`` others; ``late=False``: none waiting for counts)."""
    deliveries, snapshots, renderings = [], [], {}
    for i, (post, account, platform, ago, hour, text, likes, reposts, replies, reach) in enumerate(
        posts, start=1
    ):
        at = (NOW - timedelta(days=ago)).replace(hour=hour, minute=5)
        url = EVIL_URL if post == "evil" else f"https://{platform}.example/{account}/{i}?a=1&b=2"
        deliveries.append(_delivery(i, post, account, platform, at, url))
        renderings[(post, account)] = _rendering(post, account, platform, text)
        for taken, share in ((at + timedelta(hours=1), 2), (at + timedelta(hours=24), 1)):
            counts = Counts(
                likes // share, reposts // share, replies // share, 0, None, None, reach
            )
            snapshots.append(Snapshot(i, 0, taken, counts))
    if late:
        deliveries.append(_delivery(99, "late", "bsky", "bluesky", NOW - timedelta(hours=1), None))
    return build(deliveries, snapshots, renderings, NOW, timezone="America/Chicago", inbox=INBOX)


def _heard(n: int, handle: str, kind: str, name: str | None, url: str | None) -> InboxItem:
    return InboxItem(
        platform="mastodon" if "@" in handle else "bluesky",
        account="masto" if "@" in handle else "bsky",
        remote_id=str(n),
        kind=kind,
        author_handle=handle,
        author_name=name,
        author_url=url,
        text="",
        url=None,
        created_at=NOW - timedelta(hours=n),
        delivery_id=1 + n % 3,
    )


# Who engaged: a long handle, a hostile name and link, and someone with no profile link.
INBOX = [
    _heard(n, handle, kind, name, url)
    for n, (handle, kind, name, url) in enumerate(
        [
            ("teachers-union-local-42-of-springfield.bsky.social", "repost", None, None),
            ("teachers-union-local-42-of-springfield.bsky.social", "quote", None, None),
            ("ally.bsky.social", "reply", "An Ally", "https://bsky.app/profile/ally.bsky.social"),
            ("evil@mastodon.example", "mention", EVIL_TEXT, EVIL_URL),
            ("parent@mastodon.example", "repost", "A Parent", "https://mastodon.example/@parent"),
        ]
    )
]


def test_sample_report_covers_what_the_page_draws() -> None:
    report = sample_report()
    assert len(report.posts) == 12 and report.unmeasured == 1
    assert len(report.by_platform) == 5 and len(report.by_day) >= 5 and len(report.heatmap) >= 8
    assert all(r.growth is not None for r in report.posts)


def test_page_references_nothing_outside_itself() -> None:
    """Only the posts' own links point anywhere; no src, no @import, no url(), no script."""
    report = sample_report()
    page = render_html(report)
    links = {r.url for r in report.posts if r.url and r.url.startswith("https://")}
    links |= {a.url for a in report.amplifiers if a.url and a.url.startswith("https://")}
    assert re.search(r"\bsrc\s*=", page, re.IGNORECASE) is None
    assert "@import" not in page and "url(" not in page.lower()
    assert "<script" not in page.lower() and "<link" not in page.lower()
    hrefs = re.findall(r"<(\w+)[^>]*\bhref=\"([^\"]*)\"", page)
    assert hrefs
    for tag, href in hrefs:
        assert tag == "a" and href.replace("&amp;", "&") in links
    assert {h.replace("&amp;", "&") for _, h in hrefs} == links
    # No other address on the page (http-equiv is the CSP's meta tag).
    assert len(re.findall(r"https?:", page)) == page.count('href="http')


def test_user_strings_are_escaped_and_only_http_links_are_links() -> None:
    page = render_html(sample_report())
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "x-main&lt;b&gt;" in page and "<b>" not in page
    assert "&quot;come&quot;" in page
    assert "javascript:" not in page


def test_page_has_the_sections_and_accessible_charts() -> None:
    page = render_html(sample_report())
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert "<title>Engagement report</title>" in page
    for id_ in (*CHARTS, "posts-table"):
        assert page.count(f'id="{id_}"') == 1
    labelled = r'<svg [^>]*role="img" aria-label="[^"]+"><title>[^<]+</title><desc>[^<]+</desc>'
    # Each chart twice: wide for a laptop, narrow for a phone (the stylesheet shows one).
    assert page.count("<svg") == len(re.findall(labelled, page)) == 8
    assert page.count('<svg class="wide"') == page.count('<svg class="narrow"') == 4
    assert "1 published post has no counts yet" in page and "eduadvocate metrics pull" in page
    assert "Best posts" in page and "Weakest posts" in page
    assert page.count('id="amplifiers"') == 1


def test_the_amplifiers_section_tells_who_engaged() -> None:
    report = sample_report()
    assert [a.total for a in report.amplifiers] == [2, 1, 1, 1]
    page = render_html(report)
    section = page[page.index('id="amplifiers"') :]
    assert "teachers-union-local-42-of-springfield.bsky.social" in section
    assert "<strong>2 in all</strong>: 1 repost, 1 quote" in section
    assert "ally.bsky.social (An Ally)" in section and "not in people.yaml yet" in section
    assert "&lt;script&gt;" in section and "javascript:" not in section


def test_no_amplifiers_is_said_in_one_line() -> None:
    quiet = build([], [], {}, NOW)
    assert "None yet: `eduadvocate inbox pull` fetches" in render_html(quiet)
    later = NOW + timedelta(minutes=1)  # after the newest item
    since = build([], [], {}, NOW, since=later, inbox=INBOX)
    assert f"No account engaged since {later:%Y-%m-%d %H:%M}." in render_html(since)


def test_empty_report_says_there_is_nothing_yet() -> None:
    report = build([], [], {}, NOW, campaign="Quiet <campaign>")
    page = render_html(report)
    assert "Nothing to report yet" in page and "eduadvocate metrics pull" in page
    assert "Quiet &lt;campaign&gt;" in page
    assert "<svg" not in page and 'id="posts-table"' not in page


def test_single_day_and_no_hashtags_render() -> None:
    report = sample_report()
    report.by_day, report.by_hashtag = report.by_day[:1], []
    page = render_html(report)
    assert "No post used a hashtag." in page and page.count("<svg") == 6


def test_timeline_shows_days_without_posts_as_zero() -> None:
    report = sample_report()
    first, last = report.by_day[0], report.by_day[-1]
    report.by_day = [first, last]
    page = render_html(report)
    assert (first.key, last.key) == ("2026-11-22", "2026-11-27")
    assert page.count(": 0 engagement, 0 posts</title>") == 2 * 4  # Nov 23 to 26, in both drawings


def test_all_posts_names_each_post_by_id_and_first_words() -> None:
    """The table's first column is the post: its id, then its first six words as the text
    report names it (cli/reports.py), the rest of a longer text left to "…"."""
    report = sample_report()
    page = render_html(report)
    table = page[page.index('id="posts-table"') :]
    assert re.search(
        r"<thead><tr><th scope=\"col\">Post</th><th scope=\"col\">Published</th>", table
    )
    cells = re.findall(r'<td class="t" data-label="Post">(.*?)</td>', table)
    assert len(cells) == len(report.posts) == 12
    for cell, row in zip(cells, report.posts, strict=True):
        words = row.text.split()
        named = " ".join(words[:6]) + (" …" if len(words) > 6 else "")
        assert cell == f"<strong>{escape(row.post)}</strong>“{escape(named)}”"
    assert "<strong>budget</strong>“Budget hearing tonight #FundOurSchools #K12”" in cells
    evil = "Vote &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;come&quot; #FundOurSchools"
    assert f"<strong>evil</strong>“{evil}”" in cells
    assert "<strong>meals</strong>“Free school meals for all #SchoolMeals …”" in cells


def test_a_card_leaves_out_what_the_platform_did_not_report() -> None:
    """A count the platform did not report is "—" in the table and marked to be left out of the
    post's card on a narrow screen; a zero it reported stays."""
    page = render_html(sample_report())
    assert '<td class="n x" data-label="Saves">—</td>' in page
    assert '<td class="n" data-label="Quotes">0</td>' in page
    assert "#posts-table td.x{display:none}" in page


def test_one_post_is_told_in_the_singular() -> None:
    one = [("levy", "x-main", "x", 1, 15, "The levy vote is Tuesday #VoteYes", 1, 0, 0, None)]
    page = render_html(sample_report(one, late=False))
    assert "1 post, best first" in page and "1.0 per post · 1 post<" in page
    assert re.search(r"\b1 (post|time|hashtag|day|engagement)s\b", page) is None


@given(
    label=st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=120),
    room=st.integers(20, 400),
    size=st.sampled_from([11, 12, 13]),
)
def test_a_chart_label_is_wrapped_never_cut(label: str, room: int, size: int) -> None:
    """Joined, the lines are the label (spaces run together); each fits the room, but for a
    single character wider than it."""
    lines = wrap(label, room, size)
    assert "".join(lines) == " ".join(label.split())
    for line in lines:
        assert text_width(line.rstrip(), size) <= room or len(line.strip()) == 1, (line, room)
