"""A video posted as a Facebook Reel (``facebook: {as: reel}``, issue 16), through ``eduadvocate
publish`` against the loopback Graph fake, whose upload host stands in for rupload.facebook.com:
start, upload, finish and the status read until published; processing that takes a while, never
ends (published, said so) or fails (refused); an upload that fails (sent anew, posted once); the
answer to finish lost (found among the Page's Reels, not sent again); handed to Facebook's
scheduler; captions after it; the Reel rules check holds a post to, at their file:line; and a
kill -9 after the finish, reconciled by the next run (real processes, as tests/test_crash.py)."""

from __future__ import annotations

import json
import signal
import struct
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eduadvocate.ledger.base import State
from eduadvocate.platforms.facebook_page import reels
from tests.conftest import Make
from tests.crash_support import cli, rows, start, wait_for
from tests.fakes.graph_api import GraphFake, Page
from tests.mp4 import video_bytes
from tests.test_cli import run
from tests.test_facebook_video import VTT, config, deliveries, in_hours

LATER = "2026-11-28T12:06:00Z"  # past a killed run's lease (5 minutes)
TEXT = "Thirty seconds with Ms. Rivera before the board vote. #FundOurSchools"
_DATA = bytes(range(256)) * 40  # 10 KB in the mdat: Graph wants at least 1 KB


def reel_bytes(**facts: Any) -> bytes:
    shape = {"seconds": 30.0, "width": 1080, "height": 1920, "audio": False} | facts
    return video_bytes(**shape) + struct.pack(">I4s", 8 + len(_DATA), b"mdat") + _DATA


REEL = reel_bytes()


@pytest.fixture(autouse=True)
def _quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reels, "POLL_S", 0.0)  # the fake's processing moves on each read


def posts(at: str = "now", media: str = "[{path: media/reel.mp4, alt: A teacher speaks}]") -> str:
    return (
        f'posts:\n  - id: reel\n    at: {at}\n    text: "{TEXT}"\n    media: {media}\n'
        "    facebook: {as: reel}\n"
    )


def campaign(
    make_campaign: Make, graph: GraphFake, page: Page, text: str, data: bytes = REEL, **kw: Any
) -> Path:
    root = make_campaign(text, config=config(graph, page, **kw))
    (root / "media").mkdir()
    (root / "media" / "reel.mp4").write_bytes(data)
    return root


def reel_calls(graph: GraphFake) -> list[str]:
    """What the Reel's publishing asked, in order."""
    out = []
    for r in graph.requests:
        if r.path.endswith("/video_reels") and r.method == "POST":
            out.append(r.params.get("upload_phase", "?"))
        elif r.path.startswith("/video-upload/"):
            out.append("upload")
        elif r.method == "GET" and r.params.get("fields") == "status":
            out.append("status")
    return out


def test_a_reel_is_started_uploaded_finished_and_read_until_published(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    campaign(make_campaign, graph, page, posts())
    checked = run("check")
    assert checked.returncode == 0, checked.stdout
    done = run("publish")
    assert done.returncode == 0, done.stdout + done.stderr
    (reel,) = graph.reels(page)
    assert (reel.video_state, reel.description, bytes(reel.received)) == ("PUBLISHED", TEXT, REEL)
    assert reel_calls(graph) == ["start", "upload", "finish", "status"]
    finish = next(r for r in graph.requests if r.params.get("upload_phase") == "finish")
    assert finish.params["video_id"] == reel.id
    assert graph.videos(page) == [] and graph.posts(page) == []
    (d,) = deliveries()
    assert (d["state"], d["parts"][0]["id"]) == ("published", reel.id)
    assert d["parts"][0]["url"] == f"https://www.facebook.com/reel/{reel.id}"
    assert not d.get("warning")


def test_a_reel_still_processing_is_read_again_until_it_is_published(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    graph.reel_processing_reads = 2
    campaign(make_campaign, graph, page, posts())
    done = run("publish")
    assert done.returncode == 0, done.stdout + done.stderr
    assert reel_calls(graph) == ["start", "upload", "finish", "status", "status", "status"]
    (d,) = deliveries()
    assert d["state"] == "published" and not d.get("warning"), d


def test_a_reel_that_never_finishes_processing_is_published_once_and_said_so(
    graph: GraphFake, page: Page, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the deadline the Reel is still processing: Facebook accepted it and its id is known,
    so it is recorded published with a warning; sending it again would post it twice."""
    monkeypatch.setattr(reels, "POLL_S", 0.2)
    graph.reel_status = "processing"
    campaign(make_campaign, graph, page, posts(), wait=1)  # video_timeout: 1
    done = run("publish")
    assert done.returncode == 0, done.stdout + done.stderr
    (d,) = deliveries()
    assert d["state"] == "published" and "still processing the Reel" in d["warning"], d
    assert run("publish").returncode == 0
    assert len(graph.reels(page)) == 1


def test_a_reel_facebook_could_not_process_fails_in_one_line(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    graph.reel_status = "error"
    campaign(make_campaign, graph, page, posts())
    done = run("publish")
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if "could not process the Reel" in line]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    (d,) = deliveries()
    assert d["state"] == "failed"


@pytest.mark.parametrize("kind", ["html_5xx", "drop", "graph_error"])
def test_an_upload_that_fails_is_sent_anew_and_the_reel_posted_once(
    graph: GraphFake, page: Page, make_campaign: Make, kind: str
) -> None:
    """Nothing is on the Page before finish: an upload the upload host fails (a 5xx, a dropped
    connection, an error) is transient, and the next run starts a new Reel."""
    opts = {"code": 1, "message": "An unknown error occurred"} if kind == "graph_error" else {}
    graph.inject("POST", r"^/video-upload/", kind, **opts)
    campaign(make_campaign, graph, page, posts())
    run("publish")
    (waiting,) = deliveries()
    assert waiting["state"] != "published" and waiting["error_kind"] == "transient", waiting
    again = run("publish", env={"EDUADVOCATE_NOW": waiting["next_attempt"]})
    assert again.returncode == 0, again.stdout + again.stderr
    started, finished = graph.reels(page)
    assert started.video_state is None and finished.video_state == "PUBLISHED"
    assert bytes(finished.received) == REEL
    (d,) = deliveries()
    assert (d["state"], d["parts"][0]["id"]) == ("published", finished.id)


def test_a_reel_whose_finish_answer_was_lost_is_found_again_not_sent_twice(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    """Facebook took the finish and the connection broke before its answer: the attempt is in
    doubt, and the Reel is looked up among the Page's Reels by its description."""
    graph.inject("POST", r"/video_reels$", "slow", times=1, seconds=0)  # the start goes through
    graph.inject("POST", r"/video_reels$", "store_then_drop")  # the finish is lost
    campaign(make_campaign, graph, page, posts())
    done = run("publish")
    assert done.returncode == 0, done.stdout + done.stderr
    (reel,) = graph.reels(page)
    assert reel.video_state == "PUBLISHED"
    listed = [r for r in graph.requests if r.method == "GET" and r.path.endswith("/video_reels")]
    assert len(listed) == 1
    (d,) = deliveries()
    assert (d["state"], d["parts"][0]["id"]) == ("published", reel.id)
    assert run("publish").returncode == 0
    assert len(graph.reels(page)) == 1


def test_a_natively_scheduled_reel_waits_in_facebooks_scheduler(
    graph: GraphFake, page: Page, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDUADVOCATE_NOW")  # Facebook's window is judged on the real clock
    at = in_hours(3)
    campaign(make_campaign, graph, page, posts(at=at), native=True)
    done = run("publish")
    assert done.returncode == 0, done.stdout + done.stderr
    (reel,) = graph.reels(page)
    assert reel.video_state == "SCHEDULED" and reel.scheduled_publish_time is not None
    (d,) = deliveries()
    assert (d["state"], d["parts"][0]["id"]) == ("scheduled", reel.id)
    assert run("publish").returncode == 0
    assert len(graph.reels(page)) == 1
    (d,) = deliveries()
    assert d["state"] == "scheduled"  # found waiting among the Page's Reels, not taken as deleted
    import requests

    requests.delete(
        f"{graph.base_url}/v21.0/{reel.id}", params={"access_token": page.access_token}, timeout=10
    )
    (d,) = deliveries()
    assert d["state"] == "cancelled"


def test_a_reels_captions_follow_it(graph: GraphFake, page: Page, make_campaign: Make) -> None:
    media = "[{path: media/reel.mp4, alt: A teacher speaks, captions: {en: media/reel.vtt}}]"
    root = campaign(make_campaign, graph, page, posts(media=media))
    (root / "media" / "reel.vtt").write_text(VTT, encoding="utf-8")
    done = run("publish")
    assert done.returncode == 0, done.stdout + done.stderr
    (reel,) = graph.reels(page)
    assert list(reel.captions) == ["en_US"] and reel.default_locale == "en_US"


@pytest.mark.parametrize(
    ("facts", "code", "words"),
    [
        ({"seconds": 2.0}, "reel-length", "lasts 0:02, a Facebook Reel lasts 0:03 to 1:30"),
        ({"seconds": 91.0}, "reel-length", "lasts 1:31"),
        ({"width": 1920, "height": 1080}, "reel-aspect", "is 1920×1080, a Facebook Reel is 9:16"),
        ({"width": 1080, "height": 1440}, "reel-aspect", "1080×1440"),
        ({"width": 360, "height": 640}, "reel-too-small", "at least 540×960"),
    ],
)
def test_check_holds_a_reel_to_facebooks_reel_rules_at_the_video(
    graph: GraphFake, page: Page, make_campaign: Make, facts: dict[str, Any], code: str, words: str
) -> None:
    campaign(make_campaign, graph, page, posts(), data=reel_bytes(**facts))
    checked = run("check", "--format", "json")
    assert checked.returncode != 0
    (problem,) = [p for p in json.loads(checked.stdout)["problems"] if p["severity"] == "error"]
    assert problem["code"] == code and words in problem["message"], problem
    assert (problem["file"], problem["line"]) == ("posts/posts.yaml", 5)
    assert run("publish").returncode != 0
    assert graph.reels(page) == []


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        ('posts:\n  - id: reel\n    at: now\n    text: "Hi"\n    facebook: {as: reel}\n',
         "reel-video", 5),
        ('posts:\n  - id: reel\n    at: now\n    text: "Hi"\n    facebook: {as: story}\n',
         "facebook-as", 5),
    ],
)  # fmt: skip
def test_a_reel_without_a_video_or_another_form_is_refused_at_check(
    graph: GraphFake, page: Page, make_campaign: Make, text: str, code: str, line: int
) -> None:
    campaign(make_campaign, graph, page, text)
    checked = run("check", "--format", "json")
    assert checked.returncode != 0
    (problem,) = [p for p in json.loads(checked.stdout)["problems"] if p["severity"] == "error"]
    assert (problem["code"], problem["file"], problem["line"]) == (code, "posts/posts.yaml", line)
    assert run("publish").returncode != 0
    assert graph.reels(page) == [] and graph.posts(page) == []


def test_a_reels_counts_and_comments_are_pulled_like_a_videos(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    """A Reel is a Video node: its counts ask what a Video has, its comments come in."""
    campaign(make_campaign, graph, page, posts())
    assert run("publish").returncode == 0
    (reel,) = graph.reels(page)
    graph.add_comment(reel.id, "Thank you, Ms. Rivera!")
    later = {"EDUADVOCATE_NOW": "2026-11-28T14:00:00Z"}
    pulled = run("metrics", "pull", env=later)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert "error" not in pulled.stdout.lower(), pulled.stdout
    inbox = run("inbox", "pull", env=later)
    assert inbox.returncode == 0, inbox.stdout + inbox.stderr
    listed = run("inbox", "--format", "json", env=later)
    assert "Thank you, Ms. Rivera!" in listed.stdout, listed.stdout + listed.stderr


@pytest.mark.parametrize("kind", ["error", "offset"], ids=["retriable", "final"])
def test_the_upload_hosts_own_errors_are_read(
    graph: GraphFake, page: Page, make_campaign: Make, kind: str
) -> None:
    """The upload host answers in its own shape (``debug_info`` with ``retriable``), not Graph's:
    a retriable one is sent anew at a later run, a final one fails the delivery in one line
    with its message. Nothing is posted either way before finish."""
    graph.fail_upload("rupload", kind=kind)
    campaign(make_campaign, graph, page, posts())
    done = run("publish")
    (d,) = deliveries()
    assert graph.reels(page)[0].video_state is None
    if kind == "offset":
        assert done.returncode != 0 and d["state"] == "failed", d
        lines = [x for x in done.stderr.splitlines() if "refused the Reel's upload" in x]
        assert len(lines) == 1 and "Expected offset 0" in lines[0], done.stderr
        return
    assert d["error_kind"] == "transient", d
    again = run("publish", env={"EDUADVOCATE_NOW": d["next_attempt"]})
    assert again.returncode == 0, again.stdout + again.stderr
    assert [r.video_state for r in graph.reels(page)] == [None, "PUBLISHED"]


@pytest.mark.parametrize("point", ["after-response", "stored-before-response"])
def test_a_reel_killed_after_the_finish_is_looked_up_and_exists_once(
    graph: GraphFake, page: Page, make_campaign: Make, point: str
) -> None:
    """kill -9 with the Reel finished and not recorded (after its answer, or with the answer
    held back), through real processes: the restart looks it up among the Page's Reels by its
    description and records it; nothing is uploaded or finished again."""
    campaign(make_campaign, graph, page, "utm: false\n" + posts())
    if point == "stored-before-response":
        graph.inject("POST", r"/video_reels$", "slow", times=1, seconds=0)  # the start goes on
        graph.inject("POST", r"/video_reels$", "store_then_wait", seconds=20)  # the finish waits
        proc = start("publish")
        wait_for(lambda: any(r.video_state for r in graph.reels(page)))
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=20)
        graph.clear_faults()
    else:
        proc = start("publish", env={"EDUADVOCATE_CRASH_AT": point})
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err

    restart = cli("publish", now=LATER)
    assert restart.returncode == 0, restart.stdout + restart.stderr
    assert cli("publish", now="2026-11-28T12:07:00Z").returncode == 0
    (reel,) = graph.reels(page)
    assert reel.video_state == "PUBLISHED"
    assert reel_calls(graph).count("start") == 1 and reel_calls(graph).count("finish") == 1
    row = rows(Path.cwd())["reel"]
    assert row.state == State.PUBLISHED and row.lease_owner is None
    assert [p.remote_id for p in row.parts] == [reel.id]


@settings(max_examples=200, deadline=None)
@given(
    seconds=st.floats(0.1, 200.0),
    width=st.integers(100, 4000),
    height=st.integers(100, 4000),
)
def test_the_reel_rules_hold_exactly_at_their_bounds(
    seconds: float, width: int, height: int
) -> None:
    """For any length and size: ``reel-length`` exactly outside 3 to 90 s, ``reel-aspect``
    exactly off 9:16 by more than the slack, ``reel-too-small`` exactly under 540×960."""
    from eduadvocate.config.model import AccountConfig
    from eduadvocate.content.media import MediaInfo
    from eduadvocate.content.model import Media
    from eduadvocate.core.errors import Location
    from eduadvocate.platforms.facebook_page import spec

    fb = spec.FacebookPlatform(AccountConfig("fb", "facebook", {"page_id": "1"}, Location("c")))
    post = _reel_post()
    info = MediaInfo("video/mp4", 10_000, width, height, seconds, "h264", False)
    found = {
        code for code, *_ in fb.form_problems(post, [(Media("m.mp4", "a", Location("p")), info)])
    }
    assert ("reel-length" in found) == (not 3.0 <= seconds <= 90.0)
    assert ("reel-aspect" in found) == (abs(width / height - 9 / 16) > spec.REEL_ASPECT_SLACK)
    assert ("reel-too-small" in found) == (width < 540 or height < 960)
    assert (
        fb.form_problems(replace(post, reel_loc=None), [(Media("m.mp4", "a", Location("p")), info)])
        == []
    )


def _reel_post() -> Any:
    from eduadvocate.config.defaults import Defaults
    from eduadvocate.content.model import Content, Post
    from eduadvocate.core.errors import Location

    where = Location("posts/posts.yaml", 5)
    return Post("reel", where, "posts/posts.yaml", Defaults(), Content(), {}, reel_loc=where)
