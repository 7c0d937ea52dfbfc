"""A video on a Facebook Page (issue 16), through ``eduadvocate publish`` against the loopback
Graph fake: a small file in one request, a large one through the resumable upload (the
threshold lowered here, not a gigabyte file), handed to the Page's scheduler and reconciled
from there, a transfer that fails halfway (the next run uploads anew and posts once), a crash
after the upload found again by its description, a video Facebook could not process, photos
with a video refused at check, and the video's captions (SRT by Facebook locale; one that fails
leaves the video published once, with a warning). Reels: ``test_facebook_reels.py``."""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eduadvocate.config.model import AccountConfig
from eduadvocate.core.errors import Location
from eduadvocate.platforms.facebook_page import client as fb_client
from eduadvocate.platforms.publishing import Attachment, OutgoingPart
from tests.conftest import Make
from tests.fakes.graph_api import GraphFake, Page
from tests.mp4 import video_bytes
from tests.test_cli import run

# A real (frameless) MP4 for check, and 10 KB in its mdat for the upload (Graph wants 1 KB).
_DATA = bytes(range(256)) * 40
MP4 = video_bytes(audio=False) + struct.pack(">I4s", 8 + len(_DATA), b"mdat") + _DATA
TEXT = "Ms. Rivera's testimony before the board vote. #FundOurSchools"


def config(graph: GraphFake, page: Page, *, native: bool = False, wait: int | None = None) -> str:
    waiting = f", video_timeout: {wait}" if wait is not None else ""
    return (
        "defaults: {timezone: UTC, accounts: [fb]}\naccounts:\n"
        f"  fb: {{platform: facebook, page_id: '{page.id}', access_token: '${{FB_TOKEN}}',"
        f" native_schedule: {str(native).lower()}, base_url: '{graph.base_url}'{waiting}}}\n"
    )


def posts(
    at: str = "now", media: str = "[{path: media/testimony.mp4, alt: A teacher speaks}]"
) -> str:
    return f'posts:\n  - id: testimony\n    at: {at}\n    text: "{TEXT}"\n    media: {media}\n'


def campaign(make_campaign: Make, graph: GraphFake, page: Page, text: str, **kw: bool) -> Path:
    root = make_campaign(text, config=config(graph, page, **kw))
    (root / "media").mkdir()
    (root / "media" / "testimony.mp4").write_bytes(MP4)
    (root / "media" / "hall.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    return root


def deliveries() -> list[dict[str, Any]]:
    shown = run("status", "--format", "json")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    found: list[dict[str, Any]] = json.loads(shown.stdout)["deliveries"]
    return found


def video_calls(graph: GraphFake) -> list[str]:
    """The upload phases asked, in order (``source`` for a one-request upload)."""
    return [
        r.params.get("upload_phase", "source")
        for r in graph.requests
        if r.method == "POST" and r.path.endswith("/videos")
    ]


@pytest.fixture
def resumable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fb_client, "SIMPLE_UPLOAD_MAX", 1000)  # MP4 is 10 KB: three chunks


def test_a_small_video_goes_up_in_one_request(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    campaign(make_campaign, graph, page, posts())
    done = run("publish")
    assert done.returncode == 0, done.stdout + done.stderr
    (video,) = graph.videos(page)
    assert (video.description, video.size, video.resumable) == (TEXT, len(MP4), False)
    assert video_calls(graph) == ["source"]
    assert graph.photos(page) == [] and graph.posts(page) == []
    (d,) = deliveries()
    assert (d["state"], d["parts"][0]["id"]) == ("published", video.id)


@pytest.mark.usefixtures("resumable")
def test_a_large_video_goes_up_in_chunks_graph_sizes(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    graph.video_chunk = 4096
    campaign(make_campaign, graph, page, posts())
    done = run("publish")
    assert done.returncode == 0, done.stdout + done.stderr
    (video,) = graph.videos(page)
    assert (video.description, video.size, video.resumable) == (TEXT, len(MP4), True)
    assert video_calls(graph) == ["start", "transfer", "transfer", "transfer", "finish"]
    (session,) = graph.upload_sessions()
    assert bytes(session.received) == MP4
    (d,) = deliveries()
    assert d["parts"][0]["id"] == video.id == session.video_id


@pytest.mark.usefixtures("resumable")
@pytest.mark.parametrize("kind", ["error", "expired", "offset"])
def test_a_transfer_failing_halfway_is_uploaded_anew_and_posted_once(
    graph: GraphFake, page: Page, make_campaign: Make, kind: str
) -> None:
    """Nothing is posted before ``finish``: a failed transfer (Graph's "try again", a session
    that timed out, an offset it did not expect) is transient, and the next run starts a new
    upload session instead of guessing where the old one stood."""
    graph.fail_upload("transfer", after=1, kind=kind)
    campaign(make_campaign, graph, page, posts())
    first = run("publish")
    assert graph.videos(page) == []
    (waiting,) = deliveries()
    assert waiting["state"] != "published" and waiting["error_kind"] == "transient", waiting
    assert "Facebook" in waiting["error"] and "Traceback" not in first.stderr
    later = {"EDUADVOCATE_NOW": waiting["next_attempt"]}
    again = run("publish", env=later)
    assert again.returncode == 0, again.stdout + again.stderr
    (video,) = graph.videos(page)
    assert video.size == len(MP4)
    assert len(graph.upload_sessions()) == 2
    assert run("publish", env=later).returncode == 0
    assert len(graph.videos(page)) == 1


def test_a_video_whose_answer_was_lost_is_found_again_not_uploaded_twice(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    """Facebook stored the video and the connection broke before its answer: the attempt is in
    doubt, and it is looked up among the Page's videos by its description before anything is
    sent again."""
    graph.inject("POST", r"/videos$", "store_then_drop")
    campaign(make_campaign, graph, page, posts())
    done = run("publish")
    assert done.returncode == 0, done.stdout + done.stderr
    (video,) = graph.videos(page)
    assert video_calls(graph) == ["source"]
    asked = [r for r in graph.requests if r.method == "GET" and r.path.endswith("/videos")]
    assert len(asked) == 1
    (d,) = deliveries()
    assert (d["state"], d["parts"][0]["id"]) == ("published", video.id)
    assert run("publish").returncode == 0
    assert len(graph.videos(page)) == 1


def test_a_videos_counts_and_comments_are_pulled_like_a_posts(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    """A video's id is not a Page post's: the counts ask it only what Graph's Video node has
    (reactions and comments; no shares, no post insights), and its comments are read from it, so
    one video does not fail the account's whole pull."""
    campaign(make_campaign, graph, page, posts())
    assert run("publish").returncode == 0
    (video,) = graph.videos(page)
    graph.add_comment(video.id, "Thank you, Ms. Rivera!")
    later = {"EDUADVOCATE_NOW": "2026-11-28T14:00:00Z"}
    pulled = run("metrics", "pull", env=later)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    asked = [r for r in graph.requests if r.path.endswith("/v21.0/") and "ids" in r.params]
    assert asked and "shares" not in asked[-1].params["fields"]
    inbox = run("inbox", "pull", env=later)
    assert inbox.returncode == 0, inbox.stdout + inbox.stderr
    listed = run("inbox", "--format", "json", env=later)
    assert "Thank you, Ms. Rivera!" in listed.stdout, listed.stdout + listed.stderr


def test_a_video_still_processing_is_published_and_said_so(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    graph.video_status = "processing"
    campaign(make_campaign, graph, page, posts())
    done = run("publish")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "still processing the video" in done.stdout + done.stderr
    (d,) = deliveries()
    assert d["state"] == "published"


def test_a_video_facebook_could_not_process_fails_in_one_line(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    graph.video_status = "error"
    campaign(make_campaign, graph, page, posts())
    done = run("publish")
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if "could not process" in line]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "The video could not be processed" in lines[0]
    (d,) = deliveries()
    assert d["state"] == "failed"


def test_a_token_that_may_not_post_is_refused_before_any_upload(
    graph: GraphFake, page: Page, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    weak = graph.add_token(page, scopes=("pages_show_list", "pages_read_engagement"))
    monkeypatch.setenv("FB_TOKEN", weak)
    campaign(make_campaign, graph, page, posts())
    done = run("publish")
    assert done.returncode != 0
    assert "refused the token" in done.stderr and "Traceback" not in done.stderr
    assert graph.videos(page) == []


def test_photos_and_a_video_in_one_post_are_refused_at_check(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    both = "[{path: media/testimony.mp4, alt: A teacher speaks}, {path: media/hall.png, alt: The hall}]"
    campaign(make_campaign, graph, page, posts(media=both))
    checked = run("check")
    assert checked.returncode != 0
    assert "posts/posts.yaml:2" in checked.stdout and "media-mix" in checked.stdout
    assert "Facebook Page takes images or a video in one post, not both" in checked.stdout
    assert run("publish").returncode != 0
    assert graph.videos(page) == [] and graph.photos(page) == []


def in_hours(n: float) -> str:
    at = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=n)
    return f"{at:%Y-%m-%dT%H:%M:%SZ}"


@pytest.mark.parametrize("large", [False, True], ids=["simple", "resumable"])
def test_a_natively_scheduled_video_waits_in_the_pages_scheduler(
    graph: GraphFake,
    page: Page,
    make_campaign: Make,
    monkeypatch: pytest.MonkeyPatch,
    large: bool,
) -> None:
    """Handed to Facebook with ``scheduled_publish_time``; ``status`` finds it waiting among
    the Page's videos (not its scheduled posts) rather than taking it for deleted there, and a
    second publish hands over nothing more. Deleted on Facebook, the delivery is cancelled."""
    monkeypatch.delenv("EDUADVOCATE_NOW")  # Facebook's window is judged on the real clock
    if large:
        monkeypatch.setattr(fb_client, "SIMPLE_UPLOAD_MAX", 1000)
    at = in_hours(3)
    campaign(make_campaign, graph, page, posts(at=at), native=True)
    done = run("publish")
    assert done.returncode == 0, done.stdout + done.stderr
    (video,) = graph.videos(page)
    assert video.published is False and video.resumable is large
    assert video.scheduled_publish_time == datetime.fromisoformat(at).timestamp()
    (d,) = deliveries()
    assert (d["state"], d["parts"][0]["id"]) == ("scheduled", video.id)
    assert run("publish").returncode == 0
    assert len(graph.videos(page)) == 1
    import requests

    requests.delete(
        f"{graph.base_url}/v21.0/{video.id}", params={"access_token": page.access_token}, timeout=10
    )
    (d,) = deliveries()
    assert d["state"] == "cancelled"


@settings(max_examples=30, deadline=None)
@given(
    size=st.integers(1024, 9000),
    chunk=st.integers(200, 5000),
    limit=st.integers(0, 10_000),
    published_ahead=st.booleans(),
)
def test_any_file_arrives_whole_whichever_way_and_chunking(
    tmp_path_factory: pytest.TempPathFactory,
    size: int,
    chunk: int,
    limit: int,
    published_ahead: bool,
) -> None:
    """The class behind a resumable upload's defects (an off-by-one offset, a last chunk cut
    short or sent twice): for any file size, chunk size Graph picks and one-request limit, the
    video Facebook holds is the file, byte for byte, under the id the publisher reports."""
    data = (MP4 * (size // len(MP4) + 1))[:size]
    path = tmp_path_factory.mktemp("v") / "v.mp4"
    path.write_bytes(data)
    part = OutgoingPart("p|fb|t", 0, 1, TEXT, "k", media=(Attachment(path, "x", "video/mp4"),))
    with GraphFake() as fake:
        page = fake.add_page()
        fake.video_chunk = chunk
        settings_ = {
            "page_id": page.id,
            "access_token": page.access_token,
            "base_url": fake.base_url,
        }
        fb = fb_client.FacebookPublisher(AccountConfig("fb", "facebook", settings_, Location("c")))
        old, fb_client.SIMPLE_UPLOAD_MAX = fb_client.SIMPLE_UPLOAD_MAX, limit
        try:
            if published_ahead:
                at = datetime.fromtimestamp(fake.now() + 3600, UTC)
                done = fb.schedule(part, at)
            else:
                done = fb.publish(part)
        finally:
            fb_client.SIMPLE_UPLOAD_MAX = old
            fb.close()
        (video,) = fake.videos(page)
        assert (video.id, video.size, video.resumable) == (done.remote_id, size, size > limit)
        assert video.published is not published_ahead
        if size > limit:
            (session,) = fake.upload_sessions()
            assert bytes(session.received) == data
            transfers = sum(r.params.get("upload_phase") == "transfer" for r in fake.requests)
            assert transfers == -(-size // chunk)


# -- captions (issue 16) ----------------------------------------------------------------------

VTT = "WEBVTT\n\nintro\n00:01.000 --> 00:04.000 line:90%\n<v Ms. Rivera>Our schools need you.\n"
SRT = "1\n00:00:01,000 --> 00:00:04,000\nNuestras escuelas los necesitan.\n"
CAPTIONED = (
    "[{path: media/testimony.mp4, alt: A teacher speaks,"
    " captions: {en: media/testimony.en.vtt, es: media/testimony.es.srt}}]"
)


def captioned(make_campaign: Make, graph: GraphFake, page: Page, text: str, **kw: bool) -> Path:
    root = campaign(make_campaign, graph, page, text, **kw)
    (root / "media" / "testimony.en.vtt").write_text(VTT, encoding="utf-8")
    (root / "media" / "testimony.es.srt").write_text(SRT, encoding="utf-8")
    return root


def test_captions_go_with_the_video_as_srt_named_for_their_locale(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    """Issue 16: a video's captions are sent to Facebook (``POST /{video-id}/captions``), each as
    SRT (WebVTT converted) in a file named for its Facebook locale; check no longer says they
    stay behind."""
    captioned(make_campaign, graph, page, posts(media=CAPTIONED))
    checked = run("check", "--format", "json")
    codes = [p["code"] for p in json.loads(checked.stdout)["problems"]]
    assert "captions-unsent" not in codes and checked.returncode == 0, checked.stdout
    done = run("publish")
    assert done.returncode == 0, done.stdout + done.stderr
    (video,) = graph.videos(page)
    assert sorted(video.captions) == ["en_US", "es_LA"] and video.default_locale == "en_US"
    assert video.captions["en_US"] == ("1\n00:00:01,000 --> 00:00:04,000\nOur schools need you.\n")
    assert video.captions["es_LA"] == SRT
    (d,) = deliveries()
    assert d["state"] == "published" and not d.get("warning"), d


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "graph_error", "code": 100, "message": "Invalid parameter"},
        {"kind": "html_5xx", "status": 502},
        {"kind": "drop"},
    ],
    ids=["refused", "server-down", "connection-lost"],
)
def test_captions_that_fail_after_the_video_leave_it_published_once_with_a_warning(
    graph: GraphFake, page: Page, make_campaign: Make, fault: dict[str, Any]
) -> None:
    """The video is on the Page before its captions go: a captions upload that fails records the
    post published with a warning naming the file; nothing is sent again."""
    kind = fault.pop("kind")
    graph.inject("POST", r"/captions$", kind, times=None, **fault)
    captioned(make_campaign, graph, page, posts(media=CAPTIONED))
    done = run("publish")
    assert done.returncode == 0, done.stdout + done.stderr
    (d,) = deliveries()
    assert d["state"] == "published", d
    assert "captions not attached: media/testimony.en.vtt" in d["warning"], d
    assert "media/testimony.es.srt" in d["warning"]
    assert run("publish").returncode == 0
    (video,) = graph.videos(page)
    assert video.captions == {}


def test_a_scheduled_video_gets_its_captions_when_handed_to_the_scheduler(
    graph: GraphFake, page: Page, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDUADVOCATE_NOW")  # Facebook's window is judged on the real clock
    captioned(make_campaign, graph, page, posts(at=in_hours(3), media=CAPTIONED), native=True)
    done = run("publish")
    assert done.returncode == 0, done.stdout + done.stderr
    (video,) = graph.videos(page)
    assert video.published is False and sorted(video.captions) == ["en_US", "es_LA"]
    (d,) = deliveries()
    assert d["state"] == "scheduled"


@pytest.mark.parametrize(
    ("language", "locale"),
    [("en", "en_US"), ("en-GB", "en_GB"), ("pt", "pt_BR"), ("pt-PT", "pt_PT"), ("es", "es_LA"),
     ("es-419", "es_LA"), ("zh-Hant-TW", "zh_TW"), ("zh-Hant", "zh_TW"), ("ar-EG", "ar_AR"),
     ("tlh", None), ("EN_us", "en_US")],
)  # fmt: skip
def test_a_language_is_the_facebook_locale_its_readers_use(
    language: str, locale: str | None
) -> None:
    from eduadvocate.platforms.facebook_page.locales import facebook_locale

    assert facebook_locale(language) == locale


def test_captions_in_a_language_facebook_has_no_locale_for_are_refused_at_check(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    media = "[{path: media/testimony.mp4, alt: A teacher speaks, captions: {tlh: media/t.vtt}}]"
    root = campaign(make_campaign, graph, page, posts(media=media))
    (root / "media" / "t.vtt").write_text(VTT, encoding="utf-8")
    checked = run("check", "--format", "json")
    assert checked.returncode != 0
    (problem,) = [p for p in json.loads(checked.stdout)["problems"] if p["severity"] == "error"]
    assert problem["code"] == "captions-locale", problem
    assert (problem["file"], problem["line"]) == ("posts/posts.yaml", 5)
    assert "'tlh'" in problem["message"] and "media/t.vtt" in problem["message"]
    assert run("publish").returncode != 0
    assert graph.videos(page) == []


def test_every_facebook_locale_is_reached_and_every_answer_is_one() -> None:
    """The class behind a wrong label: a locale written as a language tag is itself, and what
    any two-letter language gives is one of Facebook's locales or nothing."""
    import itertools
    import string

    from eduadvocate.platforms.facebook_page.locales import LOCALES, facebook_locale

    for locale in LOCALES:
        assert facebook_locale(locale.replace("_", "-")) == locale
    for pair in itertools.product(string.ascii_lowercase, repeat=2):
        found = facebook_locale("".join(pair))
        assert found is None or found in LOCALES
