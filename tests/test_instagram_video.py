"""A video on Instagram (issue 16), through ``eduadvocate publish`` against the loopback Graph
fake (tests/fakes/graph_api.py): a Reel's container (and each video of a carousel) is polled
until ``FINISHED`` before ``media_publish``; a container that ends in ``ERROR`` fails as its
documented subcode says (Transient: nothing was posted, the next run makes a new container and
posts once; Rejected: one line naming the file and what to change in it); one that
``EXPIRED`` or is still ``IN_PROGRESS`` at ``video_timeout`` posts nothing and goes out once at a
later run; and no fault, wherever it strikes, makes a second post.

Sources: the IG Container reference (``status_code``: EXPIRED, ERROR, FINISHED, IN_PROGRESS,
PUBLISHED; ``status``: the error subcode) and the Instagram Platform "Error Codes" reference,
https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes
(each subcode's code, message and recommended solution; the fake's ``IG_ERRORS``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eduadvocate.platforms.instagram import client as ig_client
from tests.conftest import Make
from tests.fakes.graph_api import IG_ERRORS, GraphFake, IgUser
from tests.mp4 import video_bytes
from tests.test_cli import run

BASE = "https://media.fundspringfieldschools.example/campaign/"
MP4 = video_bytes(seconds=30, width=1080, height=1920)  # a 30 s upright clip: check takes it
TEXT = "Ms. Rivera's testimony before the board vote. #FundOurSchools"
REEL = "[{path: media/testimony.mp4, alt: A teacher speaks at the board meeting}]"
CONTAINER, PUBLISH, STATUS = r"/media$", r"/media_publish$", r"^/v[\d.]+/\d+$"


@pytest.fixture
def ig(graph: GraphFake, monkeypatch: pytest.MonkeyPatch) -> IgUser:
    page = graph.add_page(name="Springfield PTA")
    monkeypatch.setenv("FB_TOKEN", page.access_token)
    monkeypatch.setattr(ig_client, "POLL_DELAYS_S", (0.01,))
    return graph.add_ig_user(page=page, media_base_url=BASE, username="springfieldpta")


def campaign(
    make_campaign: Make, graph: GraphFake, ig: IgUser, media: str = REEL, timeout: int = 5
) -> Path:
    config = (
        "defaults: {timezone: UTC, accounts: [ig]}\naccounts:\n"
        f"  ig: {{platform: instagram, ig_user_id: '{ig.id}', access_token: '${{FB_TOKEN}}',"
        f" media_base_url: '{BASE}', video_timeout: {timeout}, base_url: '{graph.base_url}'}}\n"
    )
    posts = f'posts:\n  - id: testimony\n    at: now\n    text: "{TEXT}"\n    media: {media}\n'
    root = make_campaign(posts, config=config)
    (root / "media").mkdir()
    (root / "media" / "testimony.mp4").write_bytes(MP4)
    (root / "media" / "rally.jpg").write_bytes((Path(__file__).parent.parent / "media" / "testimonial-garcia.jpg").read_bytes())  # fmt: skip
    return root


def delivery(root: Path) -> dict[str, Any]:
    shown = run("status", "--format", "json", cwd=root)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    (found,) = json.loads(shown.stdout)["deliveries"]
    return dict(found)


def published(graph: GraphFake) -> int:
    return sum(1 for r in graph.requests if r.path.endswith("/media_publish") and r.status == 200)


def publish_calls(graph: GraphFake) -> int:
    return sum(1 for r in graph.requests if r.path.endswith("/media_publish"))


def one_line(done: Any, name: str = "testimony.mp4") -> str:
    """The one line of stderr naming the file; no traceback."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if name in line]
    assert len(lines) == 1, done.stdout + done.stderr
    return str(lines[0])


def later(root: Path) -> dict[str, str]:
    """The clock at the delivery's next attempt."""
    waiting = delivery(root)
    assert waiting["next_attempt"], waiting
    return {"EDUADVOCATE_NOW": waiting["next_attempt"]}


def test_a_reel_is_polled_until_finished_then_published_once(
    make_campaign: Make, graph: GraphFake, ig: IgUser
) -> None:
    graph.set_container_delay(0.2)  # IN_PROGRESS for a few polls
    root = campaign(make_campaign, graph, ig)
    done = run("publish", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    (media,) = graph.ig_media(ig)
    assert (media.media_type, media.product_type) == ("VIDEO", "REELS")
    assert media.media_url == BASE + "media/testimony.mp4" and media.caption == TEXT
    # alt_text is for images only ("Reels and stories are not supported": Content Publishing).
    (made,) = [r for r in graph.requests if r.method == "POST" and r.path.endswith("/media")]
    assert "alt_text" not in made.params and made.params["media_type"] == "REELS"
    polls = [r for r in graph.requests if r.method == "GET" and r.path.endswith(graph.containers(ig)[0].id)]  # fmt: skip
    assert len(polls) > 1  # IN_PROGRESS at first: media_publish waited for FINISHED
    assert delivery(root)["state"] == "published"


# Each documented subcode a container can end in ERROR with, as its ``status`` names it: what
# the delivery becomes, and the words of the fix the one line must carry.
PERMANENT = {
    2207026: "re-encode it as Instagram's Reels specification asks: MP4 or MOV with the moov atom",
    2207052: f"could not fetch it from {BASE}media/testimony.mp4",
    2207057: "thumbnail offset",
    2207004: "over 8 MiB",
    2207005: "save it as a JPEG",
    2207009: "crop it to between 4:5 and 1.91:1",
}
TEMPORARY = {
    2207001: "Instagram server error",
    2207003: f"downloading it from {BASE}media/testimony.mp4 took too long",
    2207020: "expired",
    2207032: "failed to create the media",
    2207053: "unknown upload error",
}


@pytest.mark.parametrize("subcode", sorted(PERMANENT), ids=str)
def test_a_container_failed_for_its_file_is_one_line_saying_what_to_change(
    make_campaign: Make, graph: GraphFake, ig: IgUser, subcode: int
) -> None:
    graph.inject("POST", CONTAINER, "container_error", subcode=subcode)
    root = campaign(make_campaign, graph, ig)
    done = run("publish", cwd=root)
    assert done.returncode != 0
    line = one_line(done)
    assert "Instagram could not take media/testimony.mp4" in line and str(subcode) in line
    assert PERMANENT[subcode] in line, line
    assert publish_calls(graph) == 0 and graph.ig_media(ig) == []
    found = delivery(root)
    assert found["state"] == "failed" and found["error_kind"] == "rejected", found
    # Nothing retries it by itself: a person changes the file first.
    assert run("publish", cwd=root, env={"EDUADVOCATE_NOW": "2026-11-29T12:00:00Z"}).returncode == 0  # fmt: skip
    assert publish_calls(graph) == 0


@pytest.mark.parametrize("subcode", sorted(TEMPORARY), ids=str)
def test_a_container_failed_for_a_passing_reason_goes_out_once_at_a_later_run(
    make_campaign: Make, graph: GraphFake, ig: IgUser, subcode: int
) -> None:
    graph.inject("POST", CONTAINER, "container_error", subcode=subcode)
    root = campaign(make_campaign, graph, ig)
    first = run("publish", cwd=root)
    assert TEMPORARY[subcode] in first.stdout + first.stderr
    assert "the next run tries again with a new container" in first.stdout + first.stderr
    assert publish_calls(graph) == 0 and graph.ig_media(ig) == []
    waiting = delivery(root)
    assert waiting["state"] != "published" and waiting["error_kind"] == "transient", waiting
    again = run("publish", cwd=root, env=later(root))
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(graph.ig_media(ig)) == 1 and len(graph.containers(ig)) == 2
    assert run("publish", cwd=root, env={"EDUADVOCATE_NOW": "2026-11-30T12:00:00Z"}).returncode == 0
    assert len(graph.ig_media(ig)) == 1 and published(graph) == 1
    assert delivery(root)["state"] == "published"


def test_an_expired_container_is_made_anew_at_the_next_run(
    make_campaign: Make, graph: GraphFake, ig: IgUser
) -> None:
    graph.inject("POST", CONTAINER, "container_error", status="EXPIRED")
    root = campaign(make_campaign, graph, ig)
    first = run("publish", cwd=root)
    assert "container of media/testimony.mp4 expired" in first.stdout + first.stderr
    assert publish_calls(graph) == 0
    assert delivery(root)["error_kind"] == "transient"
    again = run("publish", cwd=root, env=later(root))
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(graph.ig_media(ig)) == 1


def test_a_reel_still_processing_at_video_timeout_posts_nothing_and_goes_out_later_once(
    make_campaign: Make, graph: GraphFake, ig: IgUser
) -> None:
    """Bounded by ``video_timeout``; the container left IN_PROGRESS is never published (it
    expires on Instagram's side), so the next run's new container is the only post."""
    graph.set_container_delay(10**6)
    root = campaign(make_campaign, graph, ig, timeout=1)
    first = run("publish", cwd=root)
    said = first.stdout + first.stderr
    assert "still processing media/testimony.mp4 after 1 s (video_timeout)" in said, said
    assert "Traceback" not in first.stderr
    assert publish_calls(graph) == 0 and graph.ig_media(ig) == []
    waiting = delivery(root)
    assert waiting["state"] != "published" and waiting["error_kind"] == "transient", waiting
    stuck = graph.containers(ig)[0]
    graph.set_container_delay(0)
    again = run("publish", cwd=root, env=later(root))
    assert again.returncode == 0, again.stdout + again.stderr
    (media,) = graph.ig_media(ig)
    assert media.container_id != stuck.id and graph.container_status(stuck) == "IN_PROGRESS"
    assert published(graph) == 1 and delivery(root)["state"] == "published"


def test_a_carousel_waits_for_its_video_and_a_failed_one_is_named(
    make_campaign: Make, graph: GraphFake, ig: IgUser
) -> None:
    """The video item is processed before the carousel is made of it; its failure names the
    file, and no carousel container is made."""
    media = "[{path: media/testimony.mp4, alt: A teacher speaks}, {path: media/rally.jpg, alt: The rally}]"  # fmt: skip
    graph.inject("POST", CONTAINER, "container_error", subcode=2207026)  # the first: the video
    root = campaign(make_campaign, graph, ig, media=media)
    done = run("publish", cwd=root)
    line = one_line(done)
    assert "could not take media/testimony.mp4: the video format is not supported" in line
    assert [c.media_type for c in graph.containers(ig)] == ["VIDEO"]  # the image not even made
    assert publish_calls(graph) == 0


def test_a_carousel_with_a_video_goes_out_once_it_is_processed(
    make_campaign: Make, graph: GraphFake, ig: IgUser
) -> None:
    media = "[{path: media/rally.jpg, alt: The rally}, {path: media/testimony.mp4, alt: A teacher speaks}]"  # fmt: skip
    graph.set_container_delay(0.1)
    root = campaign(make_campaign, graph, ig, media=media)
    done = run("publish", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    (post,) = graph.ig_media(ig)
    assert post.media_type == "CAROUSEL_ALBUM" and len(post.children) == 2
    kinds = [c.media_type for c in graph.containers(ig)]
    assert kinds == ["IMAGE", "VIDEO", "CAROUSEL"]


def test_a_video_instagram_refuses_outright_says_what_to_change(
    make_campaign: Make, graph: GraphFake, ig: IgUser
) -> None:
    """352/2207026 answered to the container request itself (Instagram has read the file)."""
    graph.inject("POST", CONTAINER, "graph_error", subcode=2207026)
    root = campaign(make_campaign, graph, ig)
    line = one_line(run("publish", cwd=root))
    assert "352/2207026" in line and "re-encode it as Instagram's Reels specification" in line
    assert delivery(root)["error_kind"] == "rejected"


@pytest.mark.parametrize(
    ("where", "fault"),
    [
        # The container request lost on the way, or its answer: a stray container at most.
        (CONTAINER, "drop"),
        (CONTAINER, "store_then_drop"),
        # A status read lost: read again at once.
        (STATUS, "drop"),
        # media_publish's answer lost: in doubt, found again by its caption.
        (PUBLISH, "store_then_drop"),
        (PUBLISH, "drop"),
    ],
)
def test_a_request_lost_anywhere_on_the_way_ends_in_one_post(
    make_campaign: Make, graph: GraphFake, ig: IgUser, where: str, fault: str
) -> None:
    graph.inject("*", where, fault)
    root = campaign(make_campaign, graph, ig)
    first = run("publish", cwd=root)
    assert "Traceback" not in first.stderr
    for _ in range(3):  # as many later runs as it takes, each at the next attempt
        if delivery(root)["state"] == "published":
            break
        run("publish", cwd=root, env=later(root))
    assert delivery(root)["state"] == "published"
    assert len(graph.ig_media(ig)) == 1  # (a dropped answer's request is not counted 200)


# Every documented subcode, wherever it may strike (the container, its status, media_publish):
# never a second post, and nothing posted at all unless media_publish was answered or in doubt.
STEPS = ["container", "status", "publish"]


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("subcode", sorted(IG_ERRORS), ids=str)
def test_no_documented_failure_anywhere_posts_twice(
    make_campaign: Make, graph: GraphFake, ig: IgUser, subcode: int, step: str
) -> None:
    if step == "status":
        graph.inject("POST", CONTAINER, "container_error", subcode=subcode)
    else:
        graph.inject("POST", CONTAINER if step == "container" else PUBLISH, "graph_error", subcode=subcode)  # fmt: skip
    root = campaign(make_campaign, graph, ig)
    first = run("publish", cwd=root)
    assert "Traceback" not in first.stderr and "unexpected error" not in first.stderr
    if step != "publish":
        assert publish_calls(graph) == 0
    found = delivery(root)
    assert found["state"] != "claimed"
    if found["state"] != "published" and found.get("next_attempt"):
        run("publish", cwd=root, env=later(root))
    run("publish", cwd=root, env={"EDUADVOCATE_NOW": "2026-12-05T12:00:00Z"})
    assert len(graph.ig_media(ig)) <= 1
    assert (delivery(root)["state"] == "published") == (len(graph.ig_media(ig)) == 1)


def test_a_video_timeout_under_a_second_is_one_line_naming_the_config(
    make_campaign: Make, graph: GraphFake, ig: IgUser
) -> None:
    root = campaign(make_campaign, graph, ig, timeout=0)
    done = run("publish", cwd=root)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if "video_timeout" in line]
    assert "config.yaml" in line and "video_timeout must be at least 1, not 0" in line, line
    assert graph.containers(ig) == []
