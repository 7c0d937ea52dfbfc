"""``metrics pull`` and ``report`` end to end: the real CLI publishes to the loopback platforms,
other accounts engage with the posts there, and two pulls later the report shows the counts and
what they grew by. Refusals are recorded once; rate limits only skip one pull."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Make
from tests.fakes.bluesky import Account, BlueskyPDS
from tests.fakes.mastodon import MastodonFake
from tests.test_cli import run

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
    assert posts[("class-sizes", "out")]["engagement"] == 0
    assert report["best"][0] == bsky["delivery"]
    assert report["total"]["posts"] == 6
    assert report["total"]["engagement"] == 8 and report["total"]["growth"] == 6
    assert {g["key"]: g["posts"] for g in report["by_hashtag"]} == {
        "#FundOurSchools": 3,
        "#Levy2026": 3,
        "#ClassSizes": 3,
    }
    assert report["by_platform"][0]["key"] == "bluesky"
    assert report["by_campaign"][0]["key"] == "Fund Our Schools"
    assert report["heatmap"] == [{"weekday": "Sat", "hour": 6, "posts": 6, "engagement": 8}]

    text = run("report", cwd=root, env={"EDUADVOCATE_NOW": TWO})
    assert text.returncode == 0, text.stderr
    for heading in (
        "6 posts",
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
    assert len(rows.stdout.splitlines()) == 7
    page = run("report", "--html", "report.html", cwd=root, env={"EDUADVOCATE_NOW": TWO})
    assert page.returncode == 0, page.stderr
    assert "wrote report.html" in page.stderr
    html = (root / "report.html").read_text()
    assert all(f'id="{i}"' in html for i in ("chart-platform", "chart-heatmap", "posts-table"))
    assert "Read this" not in html and "The levy vote is Tuesday." in html
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
