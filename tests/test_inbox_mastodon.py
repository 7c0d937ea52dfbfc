"""``eduadvocate inbox`` on Mastodon, against the loopback Mastodon (mastodon-mock behind our
proxy, tests/fakes/mastodon.py): the real CLI publishes a campaign status, another account
replies naming the campaign's account, mentions it, replies without naming it, favourites and
boosts it; ``inbox pull`` stores exactly the reply, the mention and the boost (a repost, stored
handled: it asks no answer; a reply that names nobody makes no notification on Mastodon). Pulling twice adds nothing; the reader pages by Link."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Make
from tests.fakes.mastodon import MastodonFake
from tests.test_cli import run

POSTS = """\
posts:
  - id: levy
    at: now
    text: "The levy vote is Tuesday. #FundOurSchools"
"""


def _json(result: Any) -> Any:
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def engaged(
    make_campaign: Make, mastodon_fresh: MastodonFake, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, dict[str, str]]:
    monkeypatch.setenv("MASTO_TOKEN", mastodon_fresh.token)
    config = (
        "defaults: {timezone: America/Chicago, accounts: [masto]}\n"
        "accounts:\n"
        f"  masto: {{platform: mastodon, instance: '{mastodon_fresh.base_url}',"
        " access_token: '${MASTO_TOKEN}'}\n"
    )
    root = make_campaign(POSTS, config=config)
    published = run("publish", cwd=root)
    assert published.returncode == 0, published.stdout + published.stderr
    (ours,) = mastodon_fresh.statuses()
    ally = mastodon_fresh.client(mastodon_fresh.token2)
    made = {
        "reply": str(ally.status_post("@advocate Voting yes!", in_reply_to_id=ours.id).id),
        "mention": str(ally.status_post("Thanks to @advocate &amp; friends").id),
    }
    ally.status_post("A reply that names nobody", in_reply_to_id=ours.id)
    ally.status_favourite(ours.id)
    boost = ally.status_reblog(ours.id)
    made["repost"] = f"reblog:{boost.account.id}:{ours.id}"
    return root, made


def test_pull_then_list_shows_the_reply_and_the_mention(
    engaged: tuple[Path, dict[str, str]],
) -> None:
    root, made = engaged
    pulled = run("inbox", "pull", cwd=root)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert pulled.stdout.splitlines() == ["masto: 3 new (1 reply, 1 mention, 1 repost)"]

    items = {i["kind"]: i for i in _json(run("inbox", "--format", "json", cwd=root))["items"]}
    assert {k: i["remote_id"] for k, i in items.items()} == made
    assert items["reply"]["answers"]["post"] == "levy"
    assert items["mention"]["answers"] is None
    assert items["repost"]["answers"]["post"] == "levy"
    assert items["repost"]["handled_by"] == "inbox pull" and items["repost"]["text"] == ""
    assert items["reply"]["handled_at"] is None and items["mention"]["handled_at"] is None
    assert items["reply"]["text"].endswith("Voting yes!")  # HTML read as text
    assert "<" not in items["mention"]["text"] and "&amp; friends" in items["mention"]["text"]
    for item in items.values():
        assert item["platform"] == "mastodon" and item["account"] == "masto"
        assert item["author"]["handle"] == "ally"
    assert _json(run("inbox", "pull", "--format", "json", cwd=root))["accounts"][0]["new"] == 0
    assert len(_json(run("inbox", "--platform", "mastodon", "-f", "json", cwd=root))["items"]) == 3
    unhandled = _json(run("inbox", "--unhandled", "-f", "json", cwd=root))["items"]
    assert sorted(i["kind"] for i in unhandled) == ["mention", "reply"]


def test_the_mastodon_reader_pages_by_the_link_header(
    engaged: tuple[Path, dict[str, str]],
) -> None:
    from eduadvocate.campaign.workspace import load_config
    from eduadvocate.platforms.mastodon_api.client import MastodonPublisher

    _, made = engaged
    publisher = MastodonPublisher(load_config(None).accounts["masto"])
    seen, cursor, pages = [], None, 0
    for _ in range(10):
        page = publisher.inbox(cursor, 1)
        pages += 1
        seen += [(i.kind, i.remote_id) for i in page.items]
        if page.cursor is None:
            break
        cursor = page.cursor
    assert sorted(seen) == sorted(made.items())
    assert pages == 4  # one item a page, then the empty page that ends the list


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_the_listing_fits_the_width(engaged: tuple[Path, dict[str, str]], columns: int) -> None:
    """Every line fits, but for one word too long for any line (a link), which runs past whole."""
    root, _ = engaged
    assert run("inbox", "pull", cwd=root).returncode == 0
    shown = run("inbox", cwd=root, env={"COLUMNS": str(columns)})
    assert shown.returncode == 0, shown.stderr
    assert "levy on masto · 1 item to answer" in shown.stdout
    for line in shown.stdout.splitlines():
        assert len(line) <= columns or len(line.split()) == 1, line


def test_an_unknown_platform_or_item_is_a_usage_error(engaged: tuple[Path, dict[str, str]]) -> None:
    root, _ = engaged
    wrong = run("inbox", "--platform", "mastodn", cwd=root)
    assert wrong.returncode == 2
    assert wrong.stderr == (
        'eduadvocate: error: unknown platform "mastodn". did you mean "mastodon"?\n'
    )
    done = run("inbox", "done", "41", cwd=root)
    assert done.returncode == 2 and "no inbox item 41" in done.stderr
