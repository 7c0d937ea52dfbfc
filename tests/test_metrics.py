"""``metrics pull`` and ``report`` end to end: the real CLI publishes to the loopback platforms,
other accounts engage with the posts there, and two pulls later the report shows the counts and
what they grew by. Refusals are recorded once; rate limits only skip one pull."""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, Make
from tests.fakes.bluesky import Account, BlueskyPDS
from tests.fakes.graph_api import GraphFake
from tests.fakes.mastodon import MastodonFake
from tests.fakes.x_api import X_CONFIG_KEYS, XFake, credentials_env
from tests.test_cli import run
from tests.test_report_html import CHARTS
from tests.test_report_html_browser import load_in_chromium

POSTS = """\
posts:
  - id: levy
    at: now
    text: "The levy vote is Tuesday. #FundOurSchools #Levy2026"
  - id: class-sizes
    at: now
    text: "35 kids in one grade 6 room. #ClassSizes"
"""
NOON, ONE, TWO = "2026-11-28T12:00:00Z", "2026-11-28T13:00:00Z", "2026-11-28T14:00:00Z"


@pytest.fixture
def campaign(
    make_campaign: Make,
    pds: BlueskyPDS,
    mastodon_fresh: MastodonFake,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Path, Account]:
    author = pds.create_account()
    monkeypatch.setenv("BSKY_PW", author.app_password)
    monkeypatch.setenv("MASTO_TOKEN", mastodon_fresh.token)
    config = (
        "defaults: {timezone: America/Chicago, campaign: Fund Our Schools, accounts: [bsky, masto, out]}\n"
        "accounts:\n"
        f"  bsky: {{platform: bluesky, handle: {author.handle}, app_password: '${{BSKY_PW}}', service: '{pds.url}'}}\n"
        f"  masto: {{platform: mastodon, instance: '{mastodon_fresh.base_url}', access_token: '${{MASTO_TOKEN}}'}}\n"
        "  out: {platform: outbox}\n"
    )
    root = make_campaign(POSTS, config=config)
    published = run("publish", cwd=root)
    assert published.returncode == 0, published.stderr
    return root, author


def _json(result: Any) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _bluesky_post(pds: BlueskyPDS, author: Account, text: str) -> tuple[str, str]:
    record = next(
        r
        for r in pds.records(author.did, "app.bsky.feed.post")
        if r["value"]["text"].startswith(text)
    )
    return record["uri"], record["cid"]


@pytest.mark.browser  # the report's page, loaded in Chromium
def test_two_pulls_then_the_report_shows_counts_and_growth(
    campaign: tuple[Path, Account], pds: BlueskyPDS, mastodon_fresh: MastodonFake
) -> None:
    root, author = campaign
    fans = [pds.create_account(), pds.create_account()]
    levy = _bluesky_post(pds, author, "The levy vote")
    pds.like(fans[0], *levy)
    masto_levy = next(s for s in mastodon_fresh.statuses() if "levy" in s.content)
    mastodon_fresh.client(mastodon_fresh.token2).status_favourite(masto_levy.id)

    first = _json(
        run("metrics", "pull", "--format", "json", cwd=root, env={"EDUADVOCATE_NOW": ONE})
    )
    assert first["posts"] == 6 and first["snapshots"] == 6
    assert first["accounts"] == ["bsky", "masto", "out"]
    assert first["refused"] == {} and first["failed"] == {}

    pds.like(fans[1], *levy)
    pds.repost(fans[0], *levy)
    pds.reply(fans[1], *levy, text="Voting yes!")
    pds.quote(fans[0], *levy, text="Read this")
    fan = mastodon_fresh.client(mastodon_fresh.token2)
    fan.status_reblog(masto_levy.id)
    fan.status_post("Count me in", in_reply_to_id=masto_levy.id)
    second = _json(
        run("metrics", "pull", "--format", "json", cwd=root, env={"EDUADVOCATE_NOW": TWO})
    )
    assert second["snapshots"] == 6

    report = _json(run("report", "--format", "json", cwd=root, env={"EDUADVOCATE_NOW": TWO}))
    posts = {(p["post"], p["account"]): p for p in report["posts"]}
    bsky = posts[("levy", "bsky")]
    assert (bsky["likes"], bsky["reposts"], bsky["replies"], bsky["quotes"]) == (2, 1, 1, 1)
    assert bsky["engagement"] == 5 and bsky["growth"] == 4 and bsky["snapshots"] == 2
    assert bsky["url"].startswith("https://bsky.app/profile/")
    masto = posts[("levy", "masto")]
    assert (masto["likes"], masto["reposts"], masto["replies"]) == (1, 1, 1)
    assert masto["growth"] == 2
    assert ("class-sizes", "out") not in posts  # the outbox has no engagement to count
    assert report["no_engagement"] == 2
    assert report["best"][0] == bsky["delivery"]
    assert report["total"]["posts"] == 4
    assert report["total"]["engagement"] == 8 and report["total"]["growth"] == 6
    assert {g["key"]: g["posts"] for g in report["by_hashtag"]} == {
        "#FundOurSchools": 2,
        "#Levy2026": 2,
        "#ClassSizes": 2,
    }
    assert report["by_platform"][0]["key"] == "bluesky"
    assert report["by_campaign"][0]["key"] == "Fund Our Schools"
    assert report["heatmap"] == [{"weekday": "Sat", "hour": 6, "posts": 4, "engagement": 8}]

    text = run("report", cwd=root, env={"EDUADVOCATE_NOW": TWO})
    assert text.returncode == 0, text.stderr
    for heading in (
        "4 posts",
        "2 outbox deliveries not counted: the outbox has no engagement.",
        "Platform",
        "Hashtag",
        "#Levy2026",
        "weekday and hour",
        "Best posts",
    ):
        assert heading in text.stdout
    rows = run("report", "--format", "csv", cwd=root, env={"EDUADVOCATE_NOW": TWO})
    assert rows.stdout.splitlines()[0].startswith(
        "delivery,post,account,platform,campaign,hashtags"
    )
    assert len(rows.stdout.splitlines()) == 5
    page = run("report", "--html", "report.html", cwd=root, env={"EDUADVOCATE_NOW": TWO})
    assert page.returncode == 0, page.stderr
    assert "wrote report.html" in page.stderr
    html = (root / "report.html").read_text()
    assert all(f'id="{i}"' in html for i in ("chart-platform", "chart-heatmap", "posts-table"))
    assert "Read this" not in html and "The levy vote is Tuesday." in html
    # The page this campaign produced, in the real browser: it loads clean and draws its charts.
    (root / "browser").mkdir()
    seen = load_in_chromium(root / "report.html", root / "browser")
    assert seen.errors == [] and all(u.startswith("file://") for u in seen.requests)
    assert all(seen.boxes[i]["shown"] and seen.boxes[i]["height"] >= 100 for i in CHARTS)
    only = _json(
        run("report", "-f", "json", "--campaign", "Other", cwd=root, env={"EDUADVOCATE_NOW": TWO})
    )
    assert only["posts"] == []


def test_a_refusal_is_recorded_once_and_asked_again_only_on_request(
    campaign: tuple[Path, Account], mastodon_fresh: MastodonFake
) -> None:
    root, _ = campaign
    mastodon_fresh.inject("GET", r"^/api/v1/statuses/\d+$", "status", times=None, status=403)
    first = run("metrics", "pull", cwd=root, env={"EDUADVOCATE_NOW": ONE})
    assert first.returncode == 0, first.stderr  # a refusal is news, not a failure
    assert "refused masto:" in first.stdout
    assert "Not asked again" in first.stdout
    mastodon_fresh.seen.clear()
    second = _json(run("metrics", "pull", "-f", "json", cwd=root, env={"EDUADVOCATE_NOW": TWO}))
    assert "masto" in second["skipped_refused"] and second["refused"] == {}
    assert not [s for s in mastodon_fresh.seen if s.path.startswith("/api/v1/statuses/")]
    assert second["posts"] == 4  # Bluesky and the outbox are counted all the same
    mastodon_fresh.clear_faults()
    again = _json(
        run(
            "metrics",
            "pull",
            "-f",
            "json",
            "--retry-refused",
            cwd=root,
            env={"EDUADVOCATE_NOW": TWO},
        )
    )
    assert again["skipped_refused"] == {} and again["posts"] == 6


def test_a_rate_limit_skips_the_account_for_one_pull(
    campaign: tuple[Path, Account], mastodon_fresh: MastodonFake
) -> None:
    root, _ = campaign
    mastodon_fresh.inject("GET", r"^/api/v1/statuses/\d+$", "ratelimit", times=1, reset_in=300)
    limited = run("metrics", "pull", "-f", "json", cwd=root, env={"EDUADVOCATE_NOW": ONE})
    assert limited.returncode == 5
    data = json.loads(limited.stdout)
    assert data["failed"]["masto"].startswith("rate-limited")
    assert data["posts"] == 4
    later = _json(run("metrics", "pull", "-f", "json", cwd=root, env={"EDUADVOCATE_NOW": TWO}))
    assert later["failed"] == {} and later["posts"] == 6


@pytest.fixture
def graph_and_x(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, XFake, GraphFake, Any, Any]]:
    with XFake() as x, GraphFake() as graph:
        account = x.add_account("coalition")
        for name, value in credentials_env(account).items():
            monkeypatch.setenv(name, value)
        page = graph.add_page(name="PTA")
        ig = graph.add_ig_user(page=page, media_base_url="https://m.example/c/")
        monkeypatch.setenv("FB_TOKEN", page.access_token)
        config = (
            "defaults: {timezone: UTC, accounts: [x-main, fb, ig]}\naccounts:\n"
            f"  x-main:\n    platform: x\n{X_CONFIG_KEYS}    base_url: {x.base_url}\n"
            f"  fb: {{platform: facebook, page_id: '{page.id}', access_token: '${{FB_TOKEN}}', base_url: '{graph.base_url}'}}\n"
            f"  ig: {{platform: instagram, ig_user_id: '{ig.id}', access_token: '${{FB_TOKEN}}',"
            f" media_base_url: 'https://m.example/c/', base_url: '{graph.base_url}'}}\n"
        )
        posts = (
            "posts:\n"
            "  - id: hearing\n    at: now\n    text: Budget hearing Thursday #FundOurSchools\n"
            "    media: [{path: m.jpg, alt: A full hearing room}]\n"
            "  - id: thanks\n    at: now\n    text: Thank you, teachers #TeachersRock\n"
            "    media: [{path: m.jpg, alt: Teachers at the rally}]\n"
        )
        root = make_campaign(posts, config=config)
        shutil.copy(REPO / "media" / "testimonial-okoro.jpg", root / "m.jpg")
        published = run("publish", cwd=root)
        assert published.returncode == 0, published.stderr + published.stdout
        yield root, x, graph, account, page


def test_x_facebook_and_instagram_counts(
    graph_and_x: tuple[Path, XFake, GraphFake, Any, Any],
) -> None:
    root, x, graph, account, page = graph_and_x
    tweets = {p.submitted.split(" #")[0]: p.id for p in x.posts(account)}
    fb = {p.message.split(" #")[0]: p.id for p in graph.posts(page)}
    ig = {m.caption.split(" #")[0]: m.id for m in graph.ig_media() if m.parent_id is None}
    x.engage(
        tweets["Budget hearing Thursday"], likes=7, retweets=2, replies=1, quotes=1, impressions=500
    )
    graph.engage(
        fb["Budget hearing Thursday"], reactions=9, comments=3, shares=2, impressions=400, reach=300
    )
    graph.engage(ig["Thank you, teachers"], reactions=12, comments=4, saves=5, reach=250)
    first = _json(run("metrics", "pull", "-f", "json", cwd=root, env={"EDUADVOCATE_NOW": ONE}))
    assert (first["posts"], first["refused"], first["failed"]) == (6, {}, {})

    x.engage(tweets["Budget hearing Thursday"], likes=3)
    graph.engage(fb["Budget hearing Thursday"], reactions=1)
    _json(run("metrics", "pull", "-f", "json", cwd=root, env={"EDUADVOCATE_NOW": TWO}))
    report = _json(run("report", "-f", "json", cwd=root, env={"EDUADVOCATE_NOW": TWO}))
    posts = {(p["post"], p["account"]): p for p in report["posts"]}
    tweet = posts[("hearing", "x-main")]
    assert (tweet["likes"], tweet["reposts"], tweet["replies"], tweet["quotes"]) == (10, 2, 1, 1)
    assert tweet["impressions"] == 500 and tweet["growth"] == 3
    assert tweet["rate"] == round(14 / 500, 4)
    page_post = posts[("hearing", "fb")]
    assert (page_post["likes"], page_post["replies"], page_post["reposts"]) == (10, 3, 2)
    assert (page_post["impressions"], page_post["reach"]) == (400, 300)
    assert page_post["rate"] == round(15 / 300, 4)
    media = posts[("thanks", "ig")]
    assert (media["likes"], media["replies"], media["saves"], media["reach"]) == (12, 4, 5, 250)


def test_x_free_tier_is_refused_and_facebook_without_insights_still_counts(
    graph_and_x: tuple[Path, XFake, GraphFake, Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, x, graph, account, page = graph_and_x
    x.set_tier(account, "free")
    monkeypatch.setenv(
        "FB_TOKEN", graph.add_token(page, scopes=("pages_manage_posts", "pages_read_engagement"))
    )
    doomed = graph.posts(page)[0].id  # deleted on Facebook: Graph then fails a whole batch
    request = urllib.request.Request(
        f"{graph.base_url}/v21.0/{doomed}?access_token={page.access_token}", method="DELETE"
    )
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request) as answer:
        assert json.load(answer) == {"success": True}
    pulled = _json(run("metrics", "pull", "-f", "json", cwd=root, env={"EDUADVOCATE_NOW": ONE}))
    assert set(pulled["refused"]) == {"x-main", "ig"}
    assert "client" in pulled["refused"]["x-main"].lower() or "403" in pulled["refused"]["x-main"]
    assert pulled["failed"] == {}
    report = _json(run("report", "-f", "json", cwd=root, env={"EDUADVOCATE_NOW": ONE}))
    fb_rows = [p for p in report["posts"] if p["account"] == "fb"]
    assert len(fb_rows) == 1  # the other one is gone from the Page
    assert fb_rows[0]["impressions"] is None and fb_rows[0]["likes"] is not None
    assert pulled["missing"] == 1
