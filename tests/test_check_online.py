"""``check --online`` (issue 15: a share's or reply's address "resolved to the platform's id at
check time when online"): each address is asked of each account's own server as publish will
ask it, against the loopback Mastodon; a post that is not there is an error at its line, a
server that cannot be asked a warning; ``check`` alone asks nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Make
from tests.fakes.mastodon import MastodonFake
from tests.test_cli import run


def _config(instance: str) -> str:
    return (
        "defaults: {timezone: America/Chicago, accounts: [masto]}\n"
        "accounts:\n"
        f"  masto: {{platform: mastodon, instance: '{instance}', access_token: '${{MASTO_TOKEN}}'}}\n"
    )


def _posts(found: str, gone: str) -> str:
    return (
        "posts:\n"
        "  - id: boost\n    at: 2026-12-01 18:00\n"
        f"    repost: '{found}'\n"
        "  - id: answer\n    at: 2026-12-01 18:00\n    text: See you Tuesday!\n"
        f"    reply_to: '{gone}'\n"
    )


def _check(root: Path, *args: str) -> tuple[int, Any]:
    result = run("check", "--format", "json", *args, cwd=root)
    assert result.returncode in (0, 4), result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout)


@pytest.fixture
def campaign(
    make_campaign: Make, mastodon_fresh: MastodonFake, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv("MASTO_TOKEN", mastodon_fresh.token)
    ally = mastodon_fresh.client(mastodon_fresh.token2)
    status = ally.status_post("The library needs the levy.")
    gone = status.url.rsplit("/", 1)[0] + "/99999999"
    return make_campaign(_posts(status.url, gone), config=_config(mastodon_fresh.base_url))


def test_online_a_post_the_server_cannot_find_is_an_error_at_its_line(
    campaign: Path, mastodon_fresh: MastodonFake
) -> None:
    mastodon_fresh.seen.clear()
    status, offline = _check(campaign)
    assert status == 0 and offline["problems"] == []
    assert mastodon_fresh.seen == []  # check alone asks nothing
    status, online = _check(campaign, "--online")
    assert status == 4
    (problem,) = online["problems"]
    assert (problem["code"], problem["post"], problem["line"]) == (
        "reply-to-not-found",
        "answer",
        8,
    )
    assert "99999999" in problem["message"]
    assert all(s.path.startswith("/api/") for s in mastodon_fresh.seen)  # its own server only


def test_online_a_server_that_cannot_be_asked_is_a_warning(
    make_campaign: Make, mastodon_fresh: MastodonFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTO_TOKEN", mastodon_fresh.token)
    down = "http://127.0.0.1:9"  # nothing listens there
    url = f"{mastodon_fresh.base_url}/@ally/1"
    root = make_campaign(_posts(url, url), config=_config(down))
    status, online = _check(root, "--online")
    assert status == 0
    assert {p["code"] for p in online["problems"]} == {"online-unchecked"}
    assert all(p["severity"] == "warning" for p in online["problems"])
