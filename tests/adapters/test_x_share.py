"""``repost:`` and ``quote:`` on X, through the CLI against the X fake (tests/fakes/x_api.py):
a repost is ``POST /2/users/:id/retweets`` (X gives no id: it is read back from the account's
timeline; retweeting again is answered the same and stores nothing), a quote a post with
``quote_tweet_id``; each goes out once; a post that is gone is X's refusal in one line."""

from __future__ import annotations

import json

import pytest
import tweepy

from tests.adapters.test_x_reply import _config
from tests.conftest import Make
from tests.fakes.x_api import Account, XFake, rewrite_session
from tests.test_cli import run


def test_a_repost_is_one_retweet_read_back_from_the_timeline(
    x_fake: XFake, x_account: Account, make_campaign: Make
) -> None:
    ally = x_fake.add_account("LibraryFriends")
    theirs = x_fake.add_post(ally, "The library's hours were cut again.")
    root = make_campaign(
        "posts:\n  - id: boost\n    at: now\n"
        f"    repost: 'https://x.com/LibraryFriends/status/{theirs.id}'\n",
        config=_config(x_fake),
    )
    published = run("publish", cwd=root)
    assert published.returncode == 0, published.stdout + published.stderr
    (retweet,) = x_fake.posts(x_account)
    assert retweet.retweeted_tweet_id == theirs.id
    (delivery,) = json.loads(run("status", "--format", "json", cwd=root).stdout)["deliveries"]
    assert delivery["state"] == "published" and delivery["parts"][0]["id"] == retweet.id
    assert run("publish", cwd=root).returncode == 0
    assert len(x_fake.posts(x_account)) == 1


def test_the_fake_answers_a_second_retweet_as_x_does(x_fake: XFake, x_account: Account) -> None:
    """Through tweepy: ``retweeted: true`` both times, one retweet stored."""
    theirs = x_fake.add_post(x_fake.add_account("LibraryFriends"), "Hours cut.")
    client = tweepy.Client(
        consumer_key=x_account.consumer_key,
        consumer_secret=x_account.consumer_secret,
        access_token=x_account.access_token,
        access_token_secret=x_account.access_token_secret,
    )
    rewrite_session(client.session, x_fake.base_url)
    for _ in range(2):
        answer = client.retweet(theirs.id, user_auth=True)
        assert answer.data == {"retweeted": True}
    assert len(x_fake.posts(x_account)) == 1


def test_a_quote_is_a_post_with_quote_tweet_id(
    x_fake: XFake, x_account: Account, make_campaign: Make
) -> None:
    ally = x_fake.add_account("LibraryFriends")
    theirs = x_fake.add_post(ally, "The library's hours were cut again.")
    root = make_campaign(
        "posts:\n  - id: quoted\n    at: now\n"
        f"    quote: 'https://twitter.com/LibraryFriends/status/{theirs.id}'\n"
        "    text: This is why the levy matters.\n",
        config=_config(x_fake),
    )
    published = run("publish", cwd=root)
    assert published.returncode == 0, published.stdout + published.stderr
    (ours,) = x_fake.posts(x_account)
    assert (ours.submitted, ours.quoted_tweet_id) == ("This is why the levy matters.", theirs.id)
    assert run("publish", cwd=root).returncode == 0
    assert len(x_fake.posts(x_account)) == 1


@pytest.mark.parametrize("field", ["repost", "quote"])
def test_a_post_that_is_gone_fails_with_xs_reason(
    x_fake: XFake, x_account: Account, make_campaign: Make, field: str
) -> None:
    text = "    text: Look.\n" if field == "quote" else ""
    root = make_campaign(
        f"posts:\n  - id: shared\n    at: now\n    {field}: 'https://x.com/Nobody/status/424242'\n"
        + text,
        config=_config(x_fake),
    )
    published = run("publish", "--format", "json", cwd=root)
    assert published.returncode == 5
    (failed,) = json.loads(published.stdout)["deliveries"]
    assert (failed["state"], failed["error_kind"]) == ("failed", "rejected")
    assert "\n" not in failed["error"]
    if field == "repost":  # (a gone quote is a 400 whose detail X words generically)
        assert "deleted or not visible" in failed["error"]
    assert x_fake.posts(x_account) == []
