"""A video's captions on X (issue 16: "attach subtitles when a captions file is given"),
through ``eduadvocate publish`` against the X fake: each captions file is uploaded as
``subtitles`` and tied to the video (``POST /2/media/subtitles``) before the post; a file with
no language takes the post's ``language:``, and with neither, check says so at its line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Make
from tests.fakes.x_api import Account, XFake
from tests.mp4 import video_bytes
from tests.test_cli import run

SRT = "1\n00:00:00,000 --> 00:00:02,000\nThank you, board members.\n"
VTT = "WEBVTT\n\n00:00.000 --> 00:02.000\nGracias, miembros de la junta.\n"


def _campaign(make: Make, fake: XFake, captions: str, language: str = "") -> Path:
    config = (
        "defaults: {timezone: America/Chicago, accounts: [x-main]}\n"
        "accounts:\n  x-main:\n    platform: x\n    username: FundSpfldSchools\n"
        "    consumer_key: ${X_KEY}\n    consumer_secret: ${X_SECRET}\n"
        "    access_token: ${X_TOKEN}\n    access_token_secret: ${X_TOKEN_SECRET}\n"
        f"    base_url: {fake.base_url}\n"
    )
    posts = (
        "posts:\n  - id: testimony\n    at: now\n    text: Ms. Rivera's testimony.\n"
        f"{language}"
        f"    media: [{{path: media/t.mp4, alt: A teacher speaks, captions: {captions}}}]\n"
    )
    root = make(posts, config=config)
    (root / "media").mkdir(exist_ok=True)
    (root / "media" / "t.mp4").write_bytes(video_bytes(seconds=10))
    (root / "media" / "en.srt").write_text(SRT, encoding="utf-8")
    (root / "media" / "es.vtt").write_text(VTT, encoding="utf-8")
    return root


def test_each_captions_file_goes_with_the_video_as_subtitles(
    x_fake: XFake, x_account: Account, make_campaign: Make
) -> None:
    root = _campaign(make_campaign, x_fake, "{en: media/en.srt, es: media/es.vtt}")
    done = run("publish", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    (video,) = [m for m in x_fake.media.values() if m.category == "tweet_video"]
    tracks = {code: x_fake.media[upload].media_type for code, upload in video.subtitles.items()}
    assert tracks == {"EN": "text/srt", "ES": "text/vtt"}


def test_a_file_without_a_language_takes_the_posts_and_with_neither_check_says_so(
    x_fake: XFake, x_account: Account, make_campaign: Make
) -> None:
    root = _campaign(make_campaign, x_fake, "media/en.srt", language="    language: en\n")
    assert run("check", cwd=root).returncode == 0
    done = run("publish", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    (video,) = [m for m in x_fake.media.values() if m.category == "tweet_video"]
    assert set(video.subtitles) == {"EN"}
    bare = _campaign(make_campaign, x_fake, "media/en.srt")
    checked = run("check", "--format", "json", cwd=bare)
    assert checked.returncode == 4
    (problem,) = [p for p in json.loads(checked.stdout)["problems"] if p["severity"] == "error"]
    assert problem["code"] == "captions-language" and problem["line"] == 5  # its media: line
