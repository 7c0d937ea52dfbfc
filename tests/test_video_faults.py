"""Issue 16's exactly-once promise for video, platform by platform: "the crash harness and the
fakes cover video uploads (an upload interrupted halfway, processing that fails, processing that
never finishes)". Each case goes through ``eduadvocate publish`` against the platform's fake
(X, Mastodon, the Graph fake as a Facebook Page and as Instagram; Bluesky's PDS fallback against
the reference PDS), each post carrying a video:

- an upload interrupted halfway: nothing is posted, the delivery waits (transient), and the next
  run uploads anew and posts once (Instagram fetches the file itself: its "upload" is the
  container request, lost on the way, or its download timing out, 2207003);
- processing that fails: one line naming the file, the delivery failed (a person must change
  the file), nothing posted, and nothing posted by a later run either;
- processing that never finishes: nothing posted within the platform's deadline (X's
  ``video_timeout``, each platform's setting), the
  delivery transient, and once processing works again a later run posts once. Facebook processes
  a video after posting it: a video still processing is posted once, with a warning.
- SIGKILL while the video is being uploaded or processed, and after the post was answered but
  before it was recorded, through the crash harness (tests/crash_support.py): the restart after
  the dead run's lease posts once (looked up, not uploaded again, when it was out).

The Bluesky video service's own cases are in tests/test_bluesky_video.py; the Instagram
container's every documented subcode in tests/test_instagram_video.py.
"""

from __future__ import annotations

import dataclasses
import json
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from eduadvocate.platforms.facebook_page import client as fb_client
from eduadvocate.platforms.instagram import client as ig_client
from eduadvocate.platforms.mastodon_api import client as masto_client
from tests.conftest import Make
from tests.crash_support import (
    PdsProxy,
    Post,
    Target,
    _PdsProxyHandler,
    campaign,
    check_exactly_once,
    cli,
    open_target,
    start,
    wait_for,
)
from tests.crash_support import _bluesky as _bluesky_target
from tests.crash_support import _graph as _graph_target
from tests.crash_support import _mastodon as _mastodon_target
from tests.crash_support import _x as _x_target
from tests.fakes.bluesky_video import STATUS, FakeVideoService, serving
from tests.fakes.graph_api import GraphFake
from tests.fakes.mastodon import MastodonFake
from tests.fakes.x_api import XFake
from tests.test_cli import run

LATER = "2026-11-28T12:06:00Z"  # past a killed run's lease (5 minutes) and the first back-off
POSTS = [Post("clip", "now", ("The board vote, in 30 seconds #FundOurSchools",))]
ALL = ["x", "mastodon", "facebook_video", "instagram"]


@dataclass
class Faults:
    """How to make one platform's next video fail (see the module docstring)."""

    server: Any  # the fake
    interrupt: Callable[[], None]  # the next upload stops halfway
    fail: Callable[[], None]  # processing fails
    stall: Callable[[], None]  # processing never finishes
    unstall: Callable[[], None]  # processing works again
    stalled: Callable[[], bool]  # a video is being processed (for a kill)
    failed_words: str  # what the one line of a failed processing says
    timeout: str | None = None  # the account's setting bounding the wait for processing
    shortest: int = 1  # the least of it that lets processing finish (X's fake: 2 polls, 1 s apart)
    stall_posts: bool = False  # the platform posts first and processes afterwards (Facebook)


def timed(target: Target, faults: Faults, seconds: int) -> Target:
    """``target`` with the account waiting at most ``seconds`` for processing."""
    if faults.timeout is None:
        return target
    config = target.config.rstrip()
    if config.endswith("}"):  # the account's line, {…}, ends the file
        head, _, _ = config.rpartition("}")
        return dataclasses.replace(target, config=f"{head}, {faults.timeout}: {seconds}}}\n")
    # The account's keys, one a line, end the file.
    return dataclasses.replace(target, config=f"{config}\n    {faults.timeout}: {seconds}\n")


def _x_faults(fake: XFake, monkeypatch: pytest.MonkeyPatch) -> Faults:
    def stall() -> None:
        fake.media_processing = 10**6

    def unstall() -> None:
        fake.media_processing, fake.media_fails = 0, None

    def fail() -> None:
        fake.media_fails = "Unsupported video format"

    return Faults(
        fake,
        # The first chunk lost after the upload was initialized (a dropped connection).
        interrupt=lambda: fake.inject("POST", r"/2/media/upload/\d+/append$", "drop"),
        fail=fail,
        stall=stall,
        unstall=unstall,
        stalled=lambda: any(m.state in ("pending", "in_progress") for m in fake.media.values()),
        failed_words="X could not process m.mp4: Unsupported video format",
        timeout="video_timeout",
        shortest=3,
    )


def _mastodon_faults(fake: MastodonFake, monkeypatch: pytest.MonkeyPatch) -> Faults:
    monkeypatch.setattr(masto_client, "POLL_DELAYS_S", (0.01,))

    def fail() -> None:
        fake.media_processing, fake.media_fails = 1, True

    def stall() -> None:
        fake.media_processing = 10**6

    def unstall() -> None:
        fake.media_processing, fake.media_fails = 0, False

    return Faults(
        fake,
        interrupt=lambda: fake.inject("POST", r"^/api/v2/media$", "drop"),
        fail=fail,
        stall=stall,
        unstall=unstall,
        stalled=lambda: any(s.path.startswith("/api/v1/media/") for s in fake.seen),
        failed_words="the instance could not process m.mp4",
        timeout="video_timeout",
    )


def _facebook_faults(graph: GraphFake, monkeypatch: pytest.MonkeyPatch) -> Faults:
    monkeypatch.setattr(fb_client, "SIMPLE_UPLOAD_MAX", 1000)  # the resumable upload, in 1 KB
    graph.video_chunk = 1024

    def status(value: str) -> Callable[[], None]:
        def setter() -> None:
            graph.video_status = value

        return setter

    return Faults(
        graph,
        interrupt=lambda: graph.fail_upload("transfer", after=1),  # the second chunk fails
        fail=status("error"),
        stall=status("processing"),
        unstall=status("ready"),
        stalled=lambda: bool(graph.upload_sessions()),
        failed_words="Facebook could not process the video",
        stall_posts=True,
    )


def _instagram_faults(graph: GraphFake, monkeypatch: pytest.MonkeyPatch) -> Faults:
    monkeypatch.setattr(ig_client, "POLL_DELAYS_S", (0.01,))

    def stall() -> None:
        graph.set_container_delay(10**6)

    def unstall() -> None:
        graph.set_container_delay(0)

    def polled() -> bool:
        made = {c.id for c in graph.containers()}
        return any(r.method == "GET" and r.path.rsplit("/", 1)[-1] in made for r in graph.requests)

    return Faults(
        graph,
        # Instagram downloads the file itself: the container request is lost on the way.
        interrupt=lambda: graph.inject("POST", r"/media$", "drop"),
        fail=lambda: graph.inject("POST", r"/media$", "container_error", subcode=2207026),
        stall=stall,
        unstall=unstall,
        stalled=polled,
        failed_words="Instagram could not take m.mp4: the video format is not supported (2207026)",
        timeout="video_timeout",
    )


@pytest.fixture(params=ALL)
def platform(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Target, Faults]]:
    """A target of the crash harness whose every post carries a video (m.mp4), and its faults."""
    name = request.param
    if name == "x":
        with XFake() as fake:
            yield dataclasses.replace(_x_target(fake, monkeypatch), video=True), _x_faults(fake, monkeypatch)  # fmt: skip
    elif name == "mastodon":
        masto: MastodonFake = request.getfixturevalue("mastodon_fresh")
        target = dataclasses.replace(_mastodon_target(masto, monkeypatch), video=True)
        yield target, _mastodon_faults(masto, monkeypatch)
    else:
        with GraphFake() as graph:
            target = dataclasses.replace(
                _graph_target(graph, name, monkeypatch), media=False, video=True
            )
            if name == "instagram":
                yield target, _instagram_faults(graph, monkeypatch)
            else:
                yield target, _facebook_faults(graph, monkeypatch)


def _delivery() -> dict[str, Any]:
    shown = run("status", "--format", "json")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    (found,) = json.loads(shown.stdout)["deliveries"]
    return dict(found)


def _at_next_attempt() -> Any:
    waiting = _delivery()
    assert waiting["next_attempt"], waiting
    return run("publish", env={"EDUADVOCATE_NOW": waiting["next_attempt"]})


def test_an_upload_interrupted_halfway_posts_nothing_then_once(
    platform: tuple[Target, Faults], make_campaign: Make
) -> None:
    target, faults = platform
    root = campaign(make_campaign, target, {"posts.yaml": POSTS})
    faults.interrupt()
    first = run("publish")
    assert "Traceback" not in first.stderr, first.stderr
    assert target.stored() == []
    waiting = _delivery()
    assert waiting["state"] != "published" and waiting["error_kind"] == "transient", waiting
    again = _at_next_attempt()
    assert again.returncode == 0, again.stdout + again.stderr
    check_exactly_once(target, root, POSTS)
    assert run("publish", env={"EDUADVOCATE_NOW": "2026-11-29T12:00:00Z"}).returncode == 0
    check_exactly_once(target, root, POSTS)


def test_processing_that_fails_is_one_line_and_posts_nothing(
    platform: tuple[Target, Faults], make_campaign: Make
) -> None:
    target, faults = platform
    campaign(make_campaign, target, {"posts.yaml": POSTS})
    faults.fail()
    done = run("publish")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if faults.failed_words in line]
    assert len(lines) == 1, done.stdout + done.stderr
    found = _delivery()
    assert found["state"] == "failed" and found["error_kind"] == "rejected", found
    if not faults.stall_posts:  # (Facebook: the video was posted, then failed processing)
        assert target.stored() == []
        assert run("publish", env={"EDUADVOCATE_NOW": "2026-11-29T12:00:00Z"}).returncode == 0
        assert target.stored() == []


def test_processing_that_never_finishes_posts_nothing_then_once(
    platform: tuple[Target, Faults], make_campaign: Make
) -> None:
    target, faults = platform
    target = timed(target, faults, faults.shortest)
    root = campaign(make_campaign, target, {"posts.yaml": POSTS})
    faults.stall()
    first = run("publish")
    said = first.stdout + first.stderr
    assert "Traceback" not in first.stderr, first.stderr
    if faults.stall_posts:  # Facebook posts the video and processes it afterwards
        assert first.returncode == 0, said
        assert "still processing" in said
        check_exactly_once(target, root, POSTS)
        return
    assert "m.mp4" in said and "processing" in said, said
    assert target.stored() == []
    waiting = _delivery()
    assert waiting["state"] != "published" and waiting["error_kind"] == "transient", waiting
    faults.unstall()
    again = _at_next_attempt()
    assert again.returncode == 0, again.stdout + again.stderr
    check_exactly_once(target, root, POSTS)
    assert run("publish", env={"EDUADVOCATE_NOW": "2026-11-29T12:00:00Z"}).returncode == 0
    check_exactly_once(target, root, POSTS)


# -- SIGKILL (real processes, tests/crash_support.py) -------------------------------------------
# Facebook's video target is in tests/test_crash.py's own matrix (TARGETS: facebook_video).
KILLED = ["x", "mastodon", "instagram"]


def test_a_wait_of_zero_seconds_is_one_line_naming_the_config_and_sends_nothing(
    platform: tuple[Target, Faults], make_campaign: Make
) -> None:
    """Each platform that waits for processing bounds it with the same setting, video_timeout
    (Mastodon's first name for it, media_timeout, is still read), and 0 could never be met."""
    target, faults = platform
    if faults.timeout is None:
        pytest.skip(f"{target.name} does not wait for processing")
    campaign(make_campaign, timed(target, faults, 0), {"posts.yaml": POSTS})
    done = run("publish")
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode != 0 and len(lines) == 1, done.stdout + done.stderr
    assert "config.yaml" in lines[0] and "video_timeout must be at least 1, not 0" in lines[0]
    assert target.stored() == []


def test_mastodons_first_name_for_the_wait_is_still_read(
    make_campaign: Make, mastodon_fresh: MastodonFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = dataclasses.replace(_mastodon_target(mastodon_fresh, monkeypatch), video=True)
    faults = dataclasses.replace(
        _mastodon_faults(mastodon_fresh, monkeypatch), timeout="media_timeout"
    )
    campaign(make_campaign, timed(target, faults, 0), {"posts.yaml": POSTS})
    done = run("publish")
    assert "media_timeout must be at least 1, not 0" in done.stderr, done.stdout + done.stderr


@pytest.mark.parametrize("point", ["before-call", "after-response"])
@pytest.mark.parametrize("platform", KILLED, indirect=True)
def test_killed_around_a_video_post_then_restarted_posts_it_once(
    platform: tuple[Target, Faults], make_campaign: Make, point: str
) -> None:
    """Killed with the attempt recorded and nothing sent, or with the post answered and not
    yet recorded: the restart posts it (or finds it) once."""
    target, _ = platform
    root = campaign(make_campaign, target, {"posts.yaml": POSTS})
    proc = start("publish", env={"EDUADVOCATE_CRASH_AT": point})
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err
    restart = cli("publish", now=LATER)
    assert restart.returncode == 0, restart.stdout + restart.stderr
    check_exactly_once(target, root, POSTS)


@pytest.mark.parametrize("platform", KILLED, indirect=True)
def test_killed_while_the_video_is_processed_then_restarted_posts_it_once(
    platform: tuple[Target, Faults], make_campaign: Make
) -> None:
    """SIGKILL while the platform is still processing the uploaded video: nothing was posted;
    the restart uploads again and posts once (the first upload is never posted)."""
    target, faults = platform
    root = campaign(make_campaign, timed(target, faults, 60), {"posts.yaml": POSTS})
    faults.stall()
    proc = start("publish")
    wait_for(faults.stalled, timeout=30)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=20)
    assert proc.returncode == -signal.SIGKILL
    assert target.stored() == []
    faults.unstall()
    restart = cli("publish", now=LATER)
    assert restart.returncode == 0, restart.stdout + restart.stderr
    check_exactly_once(target, root, POSTS)


def test_an_x_status_poll_lost_on_the_way_is_asked_again(make_campaign: Make) -> None:
    """A dropped connection while X processes the video is no reason to give the upload up (it
    failed the delivery, which uploaded the video again at the next run)."""
    with XFake() as fake, pytest.MonkeyPatch.context() as patch:
        target = dataclasses.replace(_x_target(fake, patch), video=True)
        target = timed(target, _x_faults(fake, patch), 10)  # three polls a second apart
        root = campaign(make_campaign, target, {"posts.yaml": POSTS})
        fake.inject("GET", r"^/2/media/upload$", "drop")
        done = run("publish")
        assert done.returncode == 0, done.stdout + done.stderr
        check_exactly_once(target, root, POSTS)
        assert sum(1 for m in fake.media.values() if m.category == "tweet_video") == 1


# -- Bluesky (the reference PDS) ----------------------------------------------------------------
class _HalfAnUpload(_PdsProxyHandler):
    """The PDS's ``uploadBlob`` cut off once: half the file arrives, then the connection
    closes without an answer."""

    cut = 0

    def _relay(self) -> None:
        if self.path.startswith("/xrpc/com.atproto.repo.uploadBlob") and not _HalfAnUpload.cut:
            _HalfAnUpload.cut += 1
            self.rfile.read(int(self.headers.get("Content-Length") or 0) // 2)
            self.close_connection = True
            return
        super()._relay()


@pytest.mark.pds
@pytest.mark.timeout(180)
def test_a_bluesky_video_whose_pds_upload_is_cut_off_posts_nothing_then_once(
    make_campaign: Make,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The PDS fallback (``video_service: none``): the blob upload interrupted halfway."""
    _HalfAnUpload.cut = 0
    pds = request.getfixturevalue("pds")
    with PdsProxy(pds.url) as proxy:
        proxy.RequestHandlerClass = _HalfAnUpload
        plain = _bluesky_target(pds, proxy, monkeypatch)
        head, _, _ = plain.config.rstrip().rpartition("}")
        target = dataclasses.replace(plain, config=f"{head}, video_service: none}}\n", video=True)
        root = campaign(make_campaign, target, {"posts.yaml": POSTS})
        first = run("publish")
        assert "Traceback" not in first.stderr, first.stderr
        assert _HalfAnUpload.cut == 1 and target.stored() == []
        waiting = _delivery()
        assert waiting["state"] != "published" and waiting["error_kind"] == "transient", waiting
        again = _at_next_attempt()
        assert again.returncode == 0, again.stdout + again.stderr
        check_exactly_once(target, root, POSTS)


@pytest.mark.pds
@pytest.mark.timeout(180)
def test_a_bluesky_video_killed_while_the_service_processes_it_posts_once_at_the_restart(
    make_campaign: Make,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    pds = request.getfixturevalue("pds")
    did = str(pds.xrpc("com.atproto.server.describeServer")["did"])
    with (
        serving(FakeVideoService(pds.url, did)) as video,
        open_target("bluesky", request, monkeypatch, tmp_path) as plain,
    ):
        head, _, _ = plain.config.rstrip().rpartition("}")
        config = f"{head}, video_service: '{video.url}'}}\n"
        target = dataclasses.replace(plain, config=config, video=True)
        root = campaign(make_campaign, target, {"posts.yaml": POSTS})
        video.processing = 10**6
        proc = start("publish")
        wait_for(lambda: ("GET", STATUS) in video.seen, timeout=60)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=20)
        assert proc.returncode == -signal.SIGKILL and target.stored() == []
        video.processing = 0
        restart = cli("publish", now=LATER)
        assert restart.returncode == 0, restart.stdout + restart.stderr
        check_exactly_once(target, root, POSTS)
        assert video.uploads() == 2  # the first job is never posted
