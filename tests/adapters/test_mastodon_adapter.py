"""The Mastodon adapter end to end: publish → ledger, through the real Mastodon.py, against the
loopback Mastodon (mastodon-mock behind our fault-injecting proxy)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from eduadvocate.campaign.workspace import open_campaign
from eduadvocate.delivery.publish import publish_due
from eduadvocate.ledger import open_ledger
from tests.conftest import REPO, Make
from tests.fakes.mastodon import MastodonFake
from tests.test_cli import run

STATUSES = r"^/api/v1/statuses$"


def _config(fake: MastodonFake) -> str:
    return (
        "defaults: {timezone: America/Chicago, accounts: [masto]}\n"
        "accounts:\n"
        f"  masto: {{platform: mastodon, instance: '{fake.base_url}', access_token: '${{MASTO_TOKEN}}'}}\n"
    )


@pytest.fixture
def masto(
    mastodon_fresh: MastodonFake, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> MastodonFake:
    monkeypatch.setenv("MASTO_TOKEN", mastodon_fresh.token)
    return mastodon_fresh


def _texts(fake: MastodonFake) -> list[str]:
    return [s.content for s in reversed(fake.statuses())]


def test_thread_with_media_and_alt_text(masto: MastodonFake, make_campaign: Make) -> None:
    root = make_campaign(
        "posts:\n  - id: t\n    at: now\n    thread: [One, Two]\n    content_warning: Budget\n"
        "    media: [{path: media/p.png, alt: Kids reading}]\n",
        config=_config(masto),
    )
    (root / "media").mkdir()
    shutil.copy(REPO / "media" / "budget-chart.png", root / "media" / "p.png")
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert outcome.state == "published", outcome.error
    first, second = reversed(masto.statuses())
    assert (first.content, second.content) == ("<p>One</p>", "<p>Two</p>")
    assert str(second.in_reply_to_id) == str(first.id)
    assert first.spoiler_text == "Budget"
    assert [m.description for m in first.media_attachments] == ["Kids reading"]
    assert [p[0] for p in outcome.parts] == [str(first.id), str(second.id)]
    keys = [
        s.idempotency_key for s in masto.seen if s.method == "POST" and s.path == "/api/v1/statuses"
    ]
    assert len(keys) == 2
    assert len(set(keys)) == 2


@pytest.mark.parametrize("kind", ["drop_after", "status_after"])
def test_stored_then_lost_answer_is_reconciled_by_idempotency_key(
    masto: MastodonFake, make_campaign: Make, kind: str
) -> None:
    make_campaign("posts:\n  - id: p\n    at: now\n    text: Hello\n", config=_config(masto))
    masto.inject("POST", STATUSES, kind)
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert outcome.state == "published", outcome.error
    assert _texts(masto) == ["<p>Hello</p>"]
    keys = [s.idempotency_key for s in masto.seen if s.path == "/api/v1/statuses"]
    assert len(keys) == 2
    assert keys[0] == keys[1]


def test_server_error_before_storing_is_retried_with_the_same_key(
    masto: MastodonFake, make_campaign: Make
) -> None:
    make_campaign("posts:\n  - id: p\n    at: now\n    text: Hello\n", config=_config(masto))
    masto.inject("POST", STATUSES, "status", status=503)
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert outcome.state == "published"
    assert _texts(masto) == ["<p>Hello</p>"]


def test_rate_limit_holds_the_account_until_reset(masto: MastodonFake, make_campaign: Make) -> None:
    root = make_campaign("posts:\n  - id: p\n    at: now\n    text: Hello\n", config=_config(masto))
    masto.inject("POST", STATUSES, "ratelimit", reset_in=600)
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert (outcome.state, outcome.error_kind) == ("pending", "rate-limited")
    assert outcome.next_attempt is not None
    ledger = open_ledger(".eduadvocate/ledger.sqlite3", root)
    assert ledger.account_deferred_until("masto", open_campaign(None).now) is not None
    ledger.close()
    assert masto.statuses() == []


def test_wrong_token_fails_with_a_hint_and_never_shows_it(
    masto: MastodonFake, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_campaign("posts:\n  - id: p\n    at: now\n    text: Hello\n", config=_config(masto))
    monkeypatch.setenv("MASTO_TOKEN", "wrong-secret-token-123")
    result = run("publish", "--format", "json")
    assert result.returncode == 5
    (d,) = json.loads(result.stdout)["deliveries"]
    assert (d["state"], d["error_kind"]) == ("failed", "auth")
    assert "Preferences" in d["error"]
    verify = run("accounts", "verify")
    assert verify.returncode == 3
    everything = result.stdout + result.stderr + verify.stdout + verify.stderr
    everything += (root / ".eduadvocate" / "ledger.sqlite3").read_bytes().decode("latin-1")
    assert "wrong-secret-token-123" not in everything


def test_instance_limit_is_enforced_before_sending(
    masto: MastodonFake, make_campaign: Make
) -> None:
    masto.max_characters = 20
    make_campaign(
        "posts:\n  - id: p\n    at: now\n    split: never\n    text: This is longer than twenty characters\n",
        config=_config(masto),
    )
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert (outcome.state, outcome.error_kind) == ("failed", "rejected")
    assert "the instance allows 20" in (outcome.error or "")
    assert masto.statuses() == []


def test_accounts_verify_reads_the_account_and_limit(
    masto: MastodonFake, make_campaign: Make
) -> None:
    make_campaign("posts: []\n", config=_config(masto))
    result = run("accounts", "verify", "--format", "json")
    assert result.returncode == 0, result.stdout
    (acc,) = json.loads(result.stdout)["accounts"]
    assert acc["ok"]
    assert "limit 500 characters" in acc["detail"]


_ = Path


THREE = "posts:\n" + "".join(
    f"  - id: p{i}\n    at: now\n    text: Post number {i}\n" for i in range(3)
)


def _posts_sent(fake: MastodonFake) -> int:
    return sum(1 for s in fake.seen if s.method == "POST" and s.path == "/api/v1/statuses")


def test_a_used_up_window_holds_the_rest_without_asking_again(
    masto: MastodonFake, make_campaign: Make
) -> None:
    """X-RateLimit-Remaining: 0 on a success: the account waits for the reset, proactively."""
    make_campaign(THREE, config=_config(masto))
    masto.inject("POST", STATUSES, "exhaust_after", reset_in=900)
    outcomes = publish_due(open_campaign(None)).outcomes
    assert [(o.post, o.state) for o in outcomes] == [
        ("p0", "published"),
        ("p1", "pending"),
        ("p2", "pending"),
    ]
    assert {o.error_kind for o in outcomes[1:]} == {"rate-limited"}
    assert all(o.next_attempt is not None for o in outcomes[1:])
    assert _posts_sent(masto) == 1
    assert _texts(masto) == ["<p>Post number 0</p>"]


def test_a_429_in_a_batch_is_not_hammered(masto: MastodonFake, make_campaign: Make) -> None:
    make_campaign(THREE, config=_config(masto))
    masto.inject("POST", STATUSES, "ratelimit", reset_in=600)
    outcomes = publish_due(open_campaign(None)).outcomes
    assert {(o.state, o.error_kind) for o in outcomes} == {("pending", "rate-limited")}
    assert _posts_sent(masto) == 1  # the first answer said wait: the other two never asked
