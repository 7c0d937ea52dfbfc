"""Sharing on a Facebook Page (issue 15: "Facebook shares a link"): a ``repost:`` of a
Facebook post is a Page post with that post's address as its link and no words of its own; a
``quote:`` the same with the quote's text. Through ``eduadvocate publish`` against the loopback
Graph API fake; once however often publish runs; a crash after the send is reconciled by the
link, not sent again. Instagram cannot share through its API: a content error with the reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from eduadvocate.config.model import AccountConfig
from eduadvocate.core.errors import Location
from eduadvocate.platforms.facebook_page.client import FacebookPublisher
from eduadvocate.platforms.publishing import OutgoingPart
from tests.conftest import Make
from tests.fakes.graph_api import GraphFake, Page
from tests.test_cli import run

ALLY = "https://www.facebook.com/springfieldteachers/posts/pfbid02abcDEF"
POSTS = f"""\
posts:
  - id: share
    at: now
    repost: {ALLY}
  - id: quoted
    at: now
    quote: {ALLY}
    text: The teachers say it best. Come Thursday.
"""


@pytest.fixture
def page_world(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, GraphFake, Page]]:
    with GraphFake() as graph:
        page = graph.add_page(name="Springfield PTA")
        monkeypatch.setenv("FB_TOKEN", page.access_token)
        config = (
            "defaults: {timezone: UTC, accounts: [fb]}\naccounts:\n"
            f"  fb: {{platform: facebook, page_id: '{page.id}', access_token: '${{FB_TOKEN}}',"
            f" base_url: '{graph.base_url}'}}\n"
        )
        yield make_campaign(POSTS, config=config), graph, page


def test_a_repost_and_a_quote_are_page_posts_that_share_the_link_once(
    page_world: tuple[Path, GraphFake, Page],
) -> None:
    root, graph, page = page_world
    checked = run("check", cwd=root)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for _ in range(2):
        done = run("publish", cwd=root)
        assert done.returncode == 0, done.stdout + done.stderr
    posts = sorted(graph.posts(page), key=lambda p: p.message)
    assert [(p.message, p.link) for p in posts] == [
        ("", ALLY),
        ("The teachers say it best. Come Thursday.", ALLY),
    ]
    states = {
        d["post"]: d["state"]
        for d in json.loads(run("status", "-f", "json", cwd=root).stdout)["deliveries"]
    }
    assert states == {"share": "published", "quoted": "published"}


def test_a_share_in_doubt_is_found_by_its_link(page_world: tuple[Path, GraphFake, Page]) -> None:
    """Reconciliation after a crash: a repost has no words to find it by, so its link does."""
    root, graph, page = page_world
    assert run("publish", cwd=root).returncode == 0
    account = AccountConfig(
        "fb",
        "facebook",
        {"page_id": page.id, "access_token": page.access_token, "base_url": graph.base_url},
        Location("config.yaml"),
    )
    publisher = FacebookPublisher(account)
    part = OutgoingPart("share|fb", 0, 1, "", "k", repost=ALLY)
    from datetime import UTC, datetime, timedelta

    found = publisher.lookup(part, datetime.now(UTC) - timedelta(hours=1))
    (shared,) = [p for p in graph.posts(page) if not p.message]
    assert found is not None and found.remote_id == shared.id
    other = OutgoingPart("share|fb", 0, 1, "", "k", repost=ALLY.replace("pfbid02", "pfbid09"))
    assert publisher.lookup(other, datetime.now(UTC) - timedelta(hours=1)) is None


def test_instagram_cannot_share_and_says_why(make_campaign: Make) -> None:
    config = (
        "defaults: {timezone: UTC}\naccounts:\n"
        "  ig: {platform: instagram, ig_user_id: '1', access_token: t,"
        " media_base_url: 'https://m.example/'}\n"
    )
    root = make_campaign(
        "posts:\n  - id: s\n    at: now\n    accounts: [ig]\n"
        "    repost: https://www.instagram.com/p/ABC123/\n",
        config=config,
    )
    checked = run("check", cwd=root)
    assert checked.returncode == 4
    assert "reposts on Instagram are not supported yet" in checked.stdout


def test_a_quote_on_facebook_takes_no_media(page_world: tuple[Path, GraphFake, Page]) -> None:
    root, _, _ = page_world
    (root / "posts" / "posts.yaml").write_text(
        POSTS + "    media: [{path: m.jpg, alt: The hearing room}]\n", encoding="utf-8"
    )
    (root / "m.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    checked = run("check", "--format", "json", cwd=root)
    assert checked.returncode == 4
    codes = {p["code"] for p in json.loads(checked.stdout)["problems"]}
    assert "quote-media" in codes
