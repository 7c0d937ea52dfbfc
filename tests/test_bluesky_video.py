"""A video on Bluesky (issue 16), through ``eduadvocate publish`` against the reference PDS
(tests/fakes/bluesky.py) and the loopback video service (tests/fakes/bluesky_video.py): the
post's record has an ``app.bsky.embed.video`` with the blob and the alt text, whether the video
went through the video service (a service-auth token from the PDS, the job polled until done)
or, with the service turned off or refusing, to the PDS's ``uploadBlob``. A job that fails is a
one-line failure; one still processing at ``video_timeout`` posts nothing and goes out once at a
later run. The token is never shown. And a run killed after the post went out, before it was
recorded, is reconciled at the restart: the post is there once (the crash harness,
tests/crash_support.py)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from eduadvocate.platforms.bluesky import client as bsky_client
from eduadvocate.platforms.bluesky.spec import BlueskyPlatform
from tests.conftest import Make
from tests.crash_support import (
    PdsProxy,
    Post,
    _PdsProxyHandler,
    campaign,
    check_exactly_once,
    cli,
    open_target,
    start,
)
from tests.fakes.bluesky import POST, Account, BlueskyPDS
from tests.fakes.bluesky_video import STATUS, UPLOAD, FakeVideoService, serving
from tests.mp4 import video_bytes
from tests.test_cli import run

MP4 = video_bytes(audio=False)  # a real, tiny MP4 (tests/mp4.py): check reads it
ALT = "Ms. Rivera speaks at the board meeting"
POSTS = f"""\
posts:
  - id: testimony
    at: now
    text: "Ms. Rivera's testimony before the board vote. #FundOurSchools"
    media: [{{path: media/testimony.mp4, alt: {ALT}}}]
"""


@pytest.fixture
def video(pds: BlueskyPDS) -> Iterator[FakeVideoService]:
    did = str(pds.xrpc("com.atproto.server.describeServer")["did"])
    with serving(FakeVideoService(pds.url, did)) as fake:
        yield fake


def _campaign(
    make: Make, pds: BlueskyPDS, account: Account, monkeypatch: pytest.MonkeyPatch, extra: str
) -> Path:
    monkeypatch.setenv("BSKY_PW", account.app_password)
    monkeypatch.setattr(bsky_client, "POLL_DELAYS_S", (0.01,))  # (the fake processes by polls)
    config = (
        "defaults: {timezone: America/Chicago, accounts: [bsky]}\n"
        "accounts:\n"
        f"  bsky: {{platform: bluesky, handle: {account.handle}, app_password: '${{BSKY_PW}}',"
        f" service: '{pds.url}', {extra}}}\n"
    )
    root = make(POSTS, config=config)
    (root / "media").mkdir()
    (root / "media" / "testimony.mp4").write_bytes(MP4)
    return root


def _status(root: Path, env: dict[str, str] | None = None) -> Any:
    shown = run("status", "--format", "json", cwd=root, env=env)
    (delivery,) = json.loads(shown.stdout)["deliveries"]
    return delivery


_WATCHING: list[set[int]] = []  # the ports connected to while a _connections block runs


def _watch(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect" and _WATCHING and isinstance(args[1], tuple):
        _WATCHING[-1].add(args[1][1])


@contextlib.contextmanager
def _connections() -> Iterator[set[int]]:
    """The ports this process connects to inside the block (``run`` publishes in-process)."""
    if _watch not in _HOOKED:  # an audit hook cannot be removed: add it once
        sys.addaudithook(_watch)
        _HOOKED.append(_watch)
    _WATCHING.append(set())
    try:
        yield _WATCHING[-1]
    finally:
        _WATCHING.pop()


_HOOKED: list[Any] = []


def _no_token(video: FakeVideoService, root: Path, shown: str) -> None:
    """The service-auth tokens (bearer credentials for the account's PDS) are in nothing a
    command printed and nothing it left in the campaign (ledger, session file): neither whole
    nor their signature."""
    for job in video.jobs.values():
        for secret in (job.token, job.token.rsplit(".", 1)[1]):
            assert secret not in shown
            for path in root.rglob("*"):
                if path.is_file():
                    assert secret.encode() not in path.read_bytes(), path


def _embed(pds: BlueskyPDS, account: Account) -> dict[str, Any]:
    (record,) = pds.records(account.did, POST)
    embed: dict[str, Any] = record["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.video"
    assert embed["alt"] == ALT
    assert embed["video"]["mimeType"] == "video/mp4" and embed["video"]["size"] == len(MP4)
    ratio = {k: v for k, v in embed["aspectRatio"].items() if k != "$type"}
    assert ratio == {"width": 1280, "height": 720}  # read from the file
    return embed


pytestmark = pytest.mark.timeout(180)


@pytest.mark.pds
def test_the_video_goes_through_the_video_service_and_the_post_embeds_its_blob(
    make_campaign: Make,
    pds: BlueskyPDS,
    bsky_account: Account,
    video: FakeVideoService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    video.processing = 3
    root = _campaign(make_campaign, pds, bsky_account, monkeypatch, f"video_service: '{video.url}'")
    with _connections() as reached:
        done = run("publish", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    # Nothing but the account's PDS and the video service is contacted.
    assert reached == {urlsplit(pds.url).port, urlsplit(video.url).port}
    (job,) = video.jobs.values()
    assert job.state == "JOB_STATE_COMPLETED" and job.did == bsky_account.did
    assert _embed(pds, bsky_account)["video"] == job.blob  # the blob the service stored
    assert video.seen.count(("GET", STATUS)) == 4  # three while encoding, then completed
    delivery = _status(root)
    assert delivery["state"] == "published" and not delivery.get("warning")
    _no_token(video, root, done.stdout + done.stderr)


@pytest.mark.pds
def test_with_the_service_turned_off_the_video_goes_to_the_pds(
    make_campaign: Make,
    pds: BlueskyPDS,
    bsky_account: Account,
    video: FakeVideoService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = _campaign(make_campaign, pds, bsky_account, monkeypatch, "video_service: none")
    done = run("publish", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    _embed(pds, bsky_account)
    assert video.seen == []
    assert not _status(root).get("warning")


@pytest.mark.pds
@pytest.mark.parametrize("fault", ["drop", "503", "unreachable"])
def test_a_video_service_that_cannot_take_the_upload_falls_back_to_the_pds(
    make_campaign: Make,
    pds: BlueskyPDS,
    bsky_account: Account,
    video: FakeVideoService,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:
    url = video.url
    if fault == "unreachable":
        with serving(FakeVideoService(pds.url, "did:web:gone")) as gone:
            url = gone.url  # a port nothing listens on any more
    else:
        video.inject(UPLOAD, fault)
    root = _campaign(make_campaign, pds, bsky_account, monkeypatch, f"video_service: '{url}'")
    done = run("publish", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    _embed(pds, bsky_account)
    assert video.jobs == {}
    warning = _status(root)["warning"]
    assert "video service" in warning and "testimony.mp4 went to the PDS unprocessed" in warning


class _NoServiceAuth(_PdsProxyHandler):
    """A PDS that does not implement ``getServiceAuth`` (an older or another implementation)."""

    def _relay(self) -> None:
        if self.path.startswith("/xrpc/com.atproto.server.getServiceAuth"):
            body = b'{"error":"MethodNotImplemented","message":"Method Not Implemented"}'
            self._answer(501, {}, body)
            return
        super()._relay()


@pytest.mark.pds
def test_a_pds_that_gives_no_service_token_takes_the_video_itself(
    make_campaign: Make,
    pds: BlueskyPDS,
    bsky_account: Account,
    video: FakeVideoService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with PdsProxy(pds.url) as proxy:
        proxy.RequestHandlerClass = _NoServiceAuth
        extra = f"video_service: '{video.url}'"
        root = _campaign(make_campaign, pds, bsky_account, monkeypatch, extra)
        config = root / "config.yaml"
        config.write_text(config.read_text().replace(pds.url, proxy.url))
        done = run("publish", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    _embed(pds, bsky_account)
    assert video.seen == []
    assert "the PDS gave no token for the video service" in _status(root)["warning"]


@pytest.mark.pds
def test_a_lost_poll_is_asked_again(
    make_campaign: Make,
    pds: BlueskyPDS,
    bsky_account: Account,
    video: FakeVideoService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    video.inject(STATUS, "drop")
    video.inject(STATUS, "502")
    root = _campaign(make_campaign, pds, bsky_account, monkeypatch, f"video_service: '{video.url}'")
    done = run("publish", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _embed(pds, bsky_account)["video"] == video.jobs["job1"].blob
    assert video.uploads() == 1


@pytest.mark.pds
def test_a_job_the_service_fails_is_one_line_and_the_delivery_failed(
    make_campaign: Make,
    pds: BlueskyPDS,
    bsky_account: Account,
    video: FakeVideoService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    video.fails = "Video is too long"
    root = _campaign(make_campaign, pds, bsky_account, monkeypatch, f"video_service: '{video.url}'")
    done = run("publish", cwd=root)
    assert done.returncode != 0
    problems = [line for line in done.stderr.splitlines() if "testimony" in line]
    assert len(problems) == 1, done.stderr
    assert "could not process testimony.mp4: Video is too long" in problems[0]
    assert "Traceback" not in done.stderr
    assert pds.records(bsky_account.did, POST) == []
    assert _status(root)["state"] == "failed"  # a person must change the file
    _no_token(video, root, done.stdout + done.stderr)


@pytest.mark.pds
def test_a_job_still_processing_at_the_deadline_posts_nothing_and_goes_out_later_once(
    make_campaign: Make,
    pds: BlueskyPDS,
    bsky_account: Account,
    video: FakeVideoService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    video.processing = 10**6
    extra = f"video_service: '{video.url}', video_timeout: 1"
    root = _campaign(make_campaign, pds, bsky_account, monkeypatch, extra)
    first = run("publish", cwd=root)
    assert "still processing testimony.mp4 after 1 s" in first.stdout + first.stderr
    assert pds.records(bsky_account.did, POST) == []
    waiting = _status(root)
    assert waiting["state"] != "published"
    assert "video_timeout" in waiting["error"] and waiting["error_kind"] == "transient"
    video.processing = 0  # the next upload is processed at once
    later = {"EDUADVOCATE_NOW": waiting["next_attempt"]}
    again = run("publish", cwd=root, env=later)
    assert again.returncode == 0, again.stdout + again.stderr
    assert _embed(pds, bsky_account)["video"] == video.jobs["job2"].blob
    assert run("publish", cwd=root, env=later).returncode == 0
    assert len(pds.records(bsky_account.did, POST)) == 1
    assert video.uploads() == 2


@pytest.mark.pds
def test_killed_after_the_video_post_went_out_the_restart_finds_it_and_posts_nothing_more(
    make_campaign: Make,
    request: pytest.FixtureRequest,
    video: FakeVideoService,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """SIGKILL after ``createRecord`` answered and before the ledger recorded it: the restart
    (after the dead run's lease) looks the post up instead of uploading and posting again."""
    with open_target("bluesky", request, monkeypatch, tmp_path) as plain:
        head, _, _ = plain.config.rstrip().rpartition("}")  # the account's line ends the file
        config = f"{head}, video_service: '{video.url}'}}\n"
        target = dataclasses.replace(plain, config=config)
        media = f"media: [{{path: m.mp4, alt: {ALT}}}]"
        posts = [Post("clip", "now", ("The board vote, in 30 seconds",), extra=(media,))]
        root = campaign(make_campaign, target, {"posts.yaml": posts})
        (root / "m.mp4").write_bytes(MP4)
        proc = start("publish", env={"EDUADVOCATE_CRASH_AT": "after-response"})
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL, err
        assert video.uploads() == 1 and len(target.stored()) == 1  # out, not recorded
        restart = cli("publish", now="2026-11-28T12:06:00Z")
        assert restart.returncode == 0, restart.stdout + restart.stderr
        check_exactly_once(target, root, posts)
        assert video.uploads() == 1  # found, not uploaded again


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("video_service: 'ftp://video.example'", "video_service must be an https:// address"),
        ("video_service: 'https://user@video.example'", "video_service must be an https://"),
        ("video_service: video.bsky.app", "video_service must be an https:// address"),
        ("video_timeout: 0", "video_timeout must be at least 1, not 0"),
    ],
)
def test_a_wrong_video_setting_is_one_line_naming_the_config(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch, setting: str, said: str
) -> None:
    monkeypatch.setenv("BSKY_PW", "not-used")
    config = (
        "defaults: {timezone: America/Chicago, accounts: [bsky]}\n"
        "accounts:\n"
        "  bsky: {platform: bluesky, handle: pta.bsky.social, app_password: '${BSKY_PW}',"
        f" service: 'http://127.0.0.1:9', {setting}}}\n"
    )
    root = make_campaign(POSTS, config=config)
    (root / "media").mkdir()
    (root / "media" / "testimony.mp4").write_bytes(MP4)
    done = run("publish", cwd=root)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and said in lines[0] and "config.yaml:3" in lines[0], done.stderr


def _sample(mime: str) -> tuple[str, bytes]:
    """A small file of ``mime``: a picture drawn with Pillow, or the MP4 above."""
    if mime == "video/mp4":
        return "mp4", MP4
    from PIL import Image

    kind = mime.removeprefix("image/").upper()
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, kind)
    return {"JPEG": "jpg"}.get(kind, kind.lower()), out.getvalue()


@pytest.mark.pds
@pytest.mark.parametrize(
    "mime", sorted(BlueskyPlatform.media.image_types | BlueskyPlatform.media.video_types)
)
def test_every_media_type_check_accepts_goes_out_in_the_embed_made_for_it(
    make_campaign: Make,
    pds: BlueskyPDS,
    bsky_account: Account,
    monkeypatch: pytest.MonkeyPatch,
    mime: str,
) -> None:
    """The class of the bug this file began with (a video embedded as an image): whatever type
    ``check`` lets through for Bluesky, the PDS takes in the embed made for it."""
    extension, data = _sample(mime)
    root = _campaign(make_campaign, pds, bsky_account, monkeypatch, "video_service: none")
    posts = root / "posts" / "posts.yaml"
    posts.write_text(posts.read_text().replace("media/testimony.mp4", f"media/sample.{extension}"))
    (root / "media" / f"sample.{extension}").write_bytes(data)
    checked = run("check", cwd=root)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    done = run("publish", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    (record,) = pds.records(bsky_account.did, POST)
    embed = record["value"]["embed"]
    if mime.startswith("video/"):
        assert embed["$type"] == "app.bsky.embed.video" and embed["alt"] == ALT
        assert embed["video"]["mimeType"] == mime
    else:
        assert embed["$type"] == "app.bsky.embed.images"
        (image,) = embed["images"]
        assert image["alt"] == ALT and image["image"]["mimeType"] == mime


def test_publish_holds_a_video_to_the_size_check_holds_it_to() -> None:
    assert BlueskyPlatform.media.max_video_bytes == bsky_client.MAX_VIDEO


@pytest.mark.pds
def test_captions_go_with_the_video_as_webvtt_in_their_language(
    make_campaign: Make,
    pds: BlueskyPDS,
    bsky_account: Account,
    video: FakeVideoService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 16: a captions: file is sent where the platform takes captions. An SRT file goes
    as WebVTT (Bluesky takes only that); one with no language is left out, said in the
    delivery's warning, and the video still goes out."""
    root = _campaign(make_campaign, pds, bsky_account, monkeypatch, f"video_service: '{video.url}'")
    (root / "media" / "en.srt").write_text(
        "1\n00:00:00,000 --> 00:00:02,500\nThank you, board members.\n", encoding="utf-8"
    )
    (root / "media" / "es.vtt").write_text(
        "WEBVTT\n\n00:00.000 --> 00:02.500\nGracias, miembros de la junta.\n", encoding="utf-8"
    )
    posts = (root / "posts" / "posts.yaml").read_text()
    (root / "posts" / "posts.yaml").write_text(
        posts.replace(
            f"alt: {ALT}}}]",
            f"alt: {ALT}, captions: {{en: media/en.srt, es: media/es.vtt}}}}]",
        ),
        encoding="utf-8",
    )
    checked = run("check", cwd=root)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    done = run("publish", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    embed = _embed(pds, bsky_account)
    assert [c["lang"] for c in embed["captions"]] == ["en", "es"]
    for caption in embed["captions"]:
        assert caption["file"]["mimeType"] == "text/vtt"
    assert bsky_client._as_webvtt("1\n00:00:00,000 --> 00:00:02,500\nHi\n").startswith(
        "WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.500"
    )
