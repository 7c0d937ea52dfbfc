"""``reply_to:`` on X, through the CLI against the X fake (tests/fakes/x_api.py): the address
names the post's id, so nothing is asked before the reply (``in_reply_to_tweet_id``); a thread's
later parts follow our first; a post that is gone is X's refusal, one line, not retried."""

from __future__ import annotations

import json

from tests.conftest import Make
from tests.fakes.x_api import Account, XFake
from tests.test_cli import run


def _config(fake: XFake) -> str:
    return (
        "defaults: {timezone: America/Chicago, accounts: [x-main]}\n"
        "accounts:\n"
        "  x-main:\n"
        "    platform: x\n"
        "    username: FundSpfldSchools\n"
        "    consumer_key: ${X_KEY}\n"
        "    consumer_secret: ${X_SECRET}\n"
        "    access_token: ${X_TOKEN}\n"
        "    access_token_secret: ${X_TOKEN_SECRET}\n"
        f"    base_url: {fake.base_url}\n"
    )


def _posts(url: str) -> str:
    return (
        "posts:\n  - id: answer\n    at: now\n    thread: ['Yes, it does.', 'Details Tuesday.']\n"
        f"    reply_to: '{url}'\n"
    )


def test_a_reply_on_x_answers_the_post_its_address_names(
    x_fake: XFake, x_account: Account, make_campaign: Make
) -> None:
    ally = x_fake.add_account("LibraryFriends")
    asked = x_fake.add_post(ally, "Will the levy fund the library?")
    root = make_campaign(
        _posts(f"https://x.com/LibraryFriends/status/{asked.id}"), config=_config(x_fake)
    )
    published = run("publish", cwd=root)
    assert published.returncode == 0, published.stdout + published.stderr
    first, second = x_fake.posts(x_account)
    assert first.in_reply_to_tweet_id == asked.id
    assert second.in_reply_to_tweet_id == first.id
    assert run("publish", cwd=root).returncode == 0
    assert len(x_fake.posts(x_account)) == 2


def test_a_reply_to_a_post_that_is_gone_fails_with_xs_reason(
    x_fake: XFake, x_account: Account, make_campaign: Make
) -> None:
    root = make_campaign(_posts("https://x.com/Nobody/status/424242"), config=_config(x_fake))
    published = run("publish", "--format", "json", cwd=root)
    assert published.returncode == 5
    (failed,) = json.loads(published.stdout)["deliveries"]
    assert (failed["state"], failed["error_kind"]) == ("failed", "rejected")
    assert "deleted or not visible" in failed["error"] and "\n" not in failed["error"]
    assert x_fake.posts(x_account) == []
