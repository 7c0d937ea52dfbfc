"""A video on Mastodon, processed as a real instance processes it (issue 16): the upload is
accepted at once (202, no url) and ``GET /api/v1/media/:id`` answers 206 until it is done, 422
when processing failed. Against the loopback Mastodon in that mode (tests/fakes/mastodon.py
``media_processing``), through ``eduadvocate publish``: the status goes out once the video is
ready, with its description; a failed video is a clear failure; one still processing at
``video_timeout`` posts nothing and is sent at a later run, once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eduadvocate.platforms.mastodon_api import client as masto_client
from tests.conftest import Make
from tests.fakes.mastodon import MastodonFake
from tests.mp4 import video_bytes
from tests.test_cli import run

MP4 = video_bytes(audio=False)  # a real, tiny MP4 (tests/mp4.py): check reads it
POSTS = """\
posts:
  - id: testimony
    at: now
    text: "Ms. Rivera's testimony before the board vote. #FundOurSchools"
    media: [{path: media/testimony.mp4, alt: A teacher speaks at the board meeting}]
"""


@pytest.fixture
def campaign(
    make_campaign: Make, mastodon_fresh: MastodonFake, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv("MASTO_TOKEN", mastodon_fresh.token)
    monkeypatch.setattr(masto_client, "POLL_DELAYS_S", (0.01,))  # (the fake processes by polls)
    config = (
        "defaults: {timezone: America/Chicago, accounts: [masto]}\n"
        "accounts:\n"
        f"  masto: {{platform: mastodon, instance: '{mastodon_fresh.base_url}',"
        " access_token: '${MASTO_TOKEN}', video_timeout: 5}\n"
    )
    root = make_campaign(POSTS, config=config)
    (root / "media").mkdir()
    (root / "media" / "testimony.mp4").write_bytes(MP4)
    return root


def _status(root: Path) -> Any:
    shown = run("status", "--format", "json", cwd=root)
    (delivery,) = json.loads(shown.stdout)["deliveries"]
    return delivery


def _polls(fake: MastodonFake) -> int:
    return sum(1 for s in fake.seen if s.method == "GET" and s.path.startswith("/api/v1/media/"))


def test_the_status_waits_for_the_video_to_be_processed(
    campaign: Path, mastodon_fresh: MastodonFake
) -> None:
    mastodon_fresh.media_processing = 3
    done = run("publish", cwd=campaign)
    assert done.returncode == 0, done.stdout + done.stderr
    (status,) = mastodon_fresh.statuses()
    (media,) = status.media_attachments
    assert media.description == "A teacher speaks at the board meeting"
    assert _polls(mastodon_fresh) == 4  # three 206, then 200
    assert _status(campaign)["state"] == "published"


def test_a_poll_lost_on_the_way_is_asked_again(
    campaign: Path, mastodon_fresh: MastodonFake
) -> None:
    """A dropped connection while waiting is no reason to give the video up (Mastodon.py's
    synchronous upload took it for a file that cannot be processed)."""
    mastodon_fresh.media_processing = 2
    mastodon_fresh.inject("GET", r"^/api/v1/media/\d+$", "drop")
    done = run("publish", cwd=campaign)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(mastodon_fresh.statuses()) == 1


def test_a_video_the_instance_cannot_process_fails_in_one_line_and_posts_nothing(
    campaign: Path, mastodon_fresh: MastodonFake
) -> None:
    mastodon_fresh.media_processing = 2
    mastodon_fresh.media_fails = True
    done = run("publish", cwd=campaign)
    assert done.returncode != 0
    problems = [line for line in done.stderr.splitlines() if "testimony" in line]
    assert len(problems) == 1, done.stderr
    assert "could not process testimony.mp4" in problems[0]
    assert "Error processing" in problems[0] and "Traceback" not in done.stderr
    assert mastodon_fresh.statuses() == []
    assert _status(campaign)["state"] == "failed"  # a person must change the file


def test_a_video_still_processing_at_the_deadline_posts_nothing_and_goes_out_later_once(
    campaign: Path, mastodon_fresh: MastodonFake
) -> None:
    """Bounded: publish does not wait past video_timeout (Mastodon.py's synchronous upload
    waited for ever). Nothing was posted, so the delivery waits for the next run, which uploads
    again; the status goes out once."""
    mastodon_fresh.media_processing = 10**6
    (campaign / "config.yaml").write_text(
        (campaign / "config.yaml").read_text().replace("video_timeout: 5", "video_timeout: 1")
    )
    first = run("publish", cwd=campaign)
    assert "still processing testimony.mp4 after 1 s" in first.stdout + first.stderr
    assert mastodon_fresh.statuses() == []
    assert _status(campaign)["state"] != "published"
    waiting = _status(campaign)
    assert "still processing" in waiting["error"] and waiting["error_kind"] == "transient"
    mastodon_fresh.media_processing = 0  # the next upload is processed at once
    later = {"EDUADVOCATE_NOW": waiting["next_attempt"]}
    again = run("publish", cwd=campaign, env=later)
    assert again.returncode == 0, again.stdout + again.stderr
    (status,) = mastodon_fresh.statuses()
    assert len(status.media_attachments) == 1
    assert run("publish", cwd=campaign, env=later).returncode == 0
    assert len(mastodon_fresh.statuses()) == 1


def test_an_instance_that_cannot_be_reached_is_a_clean_transient_failure(
    campaign: Path,
) -> None:
    """Mastodon.py 2.3.3 recursed without end when it could not read the instance's version
    (media_post and search_v2 ask it): the upload reads it first, where a failure is clean."""
    config = (campaign / "config.yaml").read_text()
    start = config.index("instance: '") + len("instance: '")
    end = config.index("'", start)
    (campaign / "config.yaml").write_text(config[:start] + "http://127.0.0.1:9" + config[end:])
    done = run("publish", cwd=campaign)
    assert "unexpected error" not in done.stderr and "Recursion" not in done.stderr
    delivery = _status(campaign)
    assert (
        delivery["error_kind"] == "transient" and "cannot reach the instance" in delivery["error"]
    )
