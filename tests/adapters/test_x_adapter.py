"""The X adapter end to end: publish → ledger, through the real tweepy Client, against the
loopback X fake (OAuth 1.0a signatures checked, t.co links, duplicates, caps, faults)."""

from __future__ import annotations

import json
import shutil

import pytest

from eduadvocate.campaign.workspace import open_campaign
from eduadvocate.delivery.publish import publish_due
from eduadvocate.ledger import open_ledger
from eduadvocate.platforms.x.client import comparable
from tests.conftest import REPO, Make
from tests.fakes.x_api import Account, XFake
from tests.test_cli import run

TWEETS = r"^/2/tweets$"


def _config(fake: XFake, extra: str = "") -> str:
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
        f"    base_url: {fake.base_url}\n" + extra
    )


def test_thread_with_image_and_alt_text(
    x_fake: XFake, x_account: Account, make_campaign: Make
) -> None:
    root = make_campaign(
        "utm: false\nposts:\n  - id: t\n    at: now\n    thread: ['Sign: https://example.org/p & share', Two]\n"
        "    media: [{path: media/p.png, alt: A bar chart}]\n",
        config=_config(x_fake),
    )
    (root / "media").mkdir()
    shutil.copy(REPO / "media" / "budget-chart.png", root / "media" / "p.png")
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert outcome.state == "published", outcome.error
    first, second = x_fake.posts(x_account)
    assert first.submitted == "Sign: https://example.org/p & share"
    assert "https://t.co/" in first.text
    assert second.in_reply_to_tweet_id == first.id
    (media_id,) = first.media_ids
    assert x_fake.media[media_id].alt_text == "A bar chart"
    assert outcome.parts[0] == (first.id, f"https://x.com/FundSpfldSchools/status/{first.id}")


def test_stored_then_dropped_is_found_by_lookup_not_resent(
    x_fake: XFake, x_account: Account, make_campaign: Make
) -> None:
    make_campaign(
        "utm: false\nposts:\n  - id: p\n    at: now\n    text: 'Vote <yes> & https://example.org/levy'\n",
        config=_config(x_fake),
    )
    x_fake.inject("POST", TWEETS, "store_then_drop")
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert outcome.state == "published", outcome.error
    (post,) = x_fake.posts(x_account)
    assert outcome.parts[0][0] == post.id
    assert [r for r in x_fake.requests if r[0] == "POST" and r[1] == "/2/tweets"][-1][2] is None


def test_dropped_before_storing_is_retried_later(
    x_fake: XFake, x_account: Account, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_campaign("posts:\n  - id: p\n    at: now\n    text: Hello board\n", config=_config(x_fake))
    x_fake.inject("POST", TWEETS, "drop")
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert (outcome.state, outcome.error_kind) == ("pending", "transient")
    assert x_fake.posts(x_account) == []
    assert outcome.next_attempt is not None
    monkeypatch.setenv("EDUADVOCATE_NOW", (outcome.next_attempt).isoformat())
    (again,) = publish_due(open_campaign(None)).outcomes
    assert again.state == "published"
    assert len(x_fake.posts(x_account)) == 1


def test_duplicate_of_an_existing_post_counts_as_published(
    x_fake: XFake, x_account: Account, make_campaign: Make
) -> None:
    make_campaign(
        "posts:\n  - id: p\n    at: now\n    text: Already out there\n", config=_config(x_fake)
    )
    x_fake.add_post(x_account, "Already out there")
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert outcome.state == "published"
    assert len(x_fake.posts(x_account)) == 1


def test_rate_limit_holds_the_account(
    x_fake: XFake, x_account: Account, make_campaign: Make
) -> None:
    root = make_campaign(
        "posts:\n  - id: p\n    at: now\n    text: Hello\n", config=_config(x_fake)
    )
    x_fake.inject("POST", TWEETS, "429", reset_in=900)
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert (outcome.state, outcome.error_kind) == ("pending", "rate-limited")
    ledger = open_ledger(".eduadvocate/ledger.sqlite3", root)
    held = ledger.account_deferred_until("x-main", open_campaign(None).now)
    ledger.close()
    assert held is not None


def test_tier_cap_defers_without_calling_x(
    x_fake: XFake, x_account: Account, make_campaign: Make
) -> None:
    make_campaign(
        "posts:\n  - id: a\n    at: now\n    text: First\n  - id: b\n    at: now\n    text: Second\n",
        config=_config(x_fake, "    daily_cap: 1\n"),
    )
    outcomes = {o.post: o for o in publish_due(open_campaign(None)).outcomes}
    states = sorted(o.state for o in outcomes.values())
    assert states == ["pending", "published"]
    assert len(x_fake.posts(x_account)) == 1
    assert sum(1 for r in x_fake.requests if r[1] == "/2/tweets") == 1


def test_platform_daily_cap_header_holds_the_account(
    x_fake: XFake, x_account: Account, make_campaign: Make
) -> None:
    make_campaign(
        "posts:\n  - id: a\n    at: now\n    text: First\n  - id: b\n    at: now\n    text: Second\n",
        config=_config(x_fake),
    )
    x_fake.set_daily_limit(x_account, 1)
    outcomes = sorted((o.post, o.state) for o in publish_due(open_campaign(None)).outcomes)
    assert outcomes == [("a", "published"), ("b", "pending")]
    assert len(x_fake.posts(x_account)) == 1
    again = publish_due(open_campaign(None))
    assert again.outcomes == []  # the account is held until X's 24-hour reset


def test_bad_keys_fail_with_hint_and_secrets_never_show(
    x_fake: XFake, x_account: Account, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_campaign(
        "posts:\n  - id: p\n    at: now\n    text: Hello\n", config=_config(x_fake)
    )
    monkeypatch.setenv("X_TOKEN_SECRET", "not-the-real-secret-987")
    result = run("publish", "--format", "json")
    assert result.returncode == 5
    (d,) = json.loads(result.stdout)["deliveries"]
    assert (d["state"], d["error_kind"]) == ("failed", "auth")
    assert "Regenerate" in d["error"]
    verify = run("accounts", "verify")
    assert verify.returncode == 3
    seen = result.stdout + result.stderr + verify.stdout + verify.stderr
    seen += (root / ".eduadvocate" / "ledger.sqlite3").read_bytes().decode("latin-1")
    for secret in (
        "not-the-real-secret-987",
        x_account.consumer_secret,
        x_account.consumer_key,
        x_account.access_token,
    ):
        assert secret not in seen


def test_accounts_verify_ok(x_fake: XFake, x_account: Account, make_campaign: Make) -> None:
    make_campaign("posts: []\n", config=_config(x_fake))
    result = run("accounts", "verify")
    assert result.returncode == 0, result.stdout
    assert "@FundSpfldSchools" in result.stdout


def test_comparable_masks_urls_and_entities() -> None:
    assert comparable("Vote &lt;yes&gt; &amp; https://t.co/abc123") == comparable(
        "Vote <yes> & https://example.org/levy?utm_source=x"
    )
    assert comparable("a example.org") != comparable("b example.org")


def test_post_with_media_is_found_despite_the_appended_link(
    x_fake: XFake, x_account: Account, make_campaign: Make
) -> None:
    root = make_campaign(
        "posts:\n  - id: p\n    at: now\n    text: Our classrooms\n    media: [{path: m.png, alt: A classroom}]\n",
        config=_config(x_fake),
    )
    shutil.copy(REPO / "media" / "budget-chart.png", root / "m.png")
    x_fake.inject("POST", TWEETS, "store_then_drop")
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert outcome.state == "published", outcome.error
    (post,) = x_fake.posts(x_account)
    assert post.text.startswith("Our classrooms")
    assert "t.co" in post.text


def test_oauth2_user_token(
    x_fake: XFake, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = x_fake.add_account("pta", oauth2_token="user-token-abc")
    monkeypatch.setenv("X_OAUTH2", account.oauth2_token)
    config = (
        "defaults: {timezone: UTC, accounts: [x2]}\naccounts:\n"
        f"  x2: {{platform: x, oauth2_token: '${{X_OAUTH2}}', base_url: '{x_fake.base_url}'}}\n"
    )
    make_campaign("posts:\n  - id: p\n    at: now\n    text: Hello from OAuth 2\n", config=config)
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert outcome.state == "published", outcome.error
    assert [p.submitted for p in x_fake.posts(account)] == ["Hello from OAuth 2"]
