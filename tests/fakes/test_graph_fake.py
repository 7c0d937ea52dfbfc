"""What the fake Graph API does, seen through the real ``facebook.GraphAPI`` (facebook-sdk 3.1).

These pin the behaviour the Facebook and Instagram adapters' tests rely on: Page posts, photos
with alt text, multi-photo posts, native scheduling and its window, Graph's error bodies (190,
506, 324, 2207xxx), Instagram containers, publishing and its quota, the faults, and how an
adapter reads the HTTP status and usage headers facebook-sdk drops; for ``metrics pull``:
``get_objects`` over several ids, Page post and Instagram media insights with their permissions,
metric rules per media product type and version, and ``engage``; for ``inbox pull``: the
comments under Page posts and Instagram media, their replies, paging and permissions.  Every
client is built the way the adapter builds it (version "3.1", then ``v21.0``) on a session sent
through ``rewrite_session``; teardown checks the fake saw every request.
"""

from __future__ import annotations

import io
import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import facebook
import pytest
import requests

from tests.fakes.graph_api import (
    DAY,
    DEFAULT_SCOPES,
    GraphFake,
    IgUser,
    LastResponse,
    Page,
    UnexpectedHost,
    capture_last_response,
    rewrite_session,
)

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f6a3c30000000049454e44ae426082"
)
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
MEDIA = "https://media.example.org/pta/"
MAINTYPE = "Maintype was not text, image, or querystring"
Connect = Callable[..., facebook.GraphAPI]
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy


def graph_api(token: str, base_url: str, **options: Any) -> tuple[facebook.GraphAPI, Any]:
    """A client as the adapter builds one (facebook-sdk stops at 3.1, so the version is set
    afterwards), sent to the fake; and the rewriting adapter."""
    session = requests.Session()
    adapter = rewrite_session(session, base_url)
    graph = facebook.GraphAPI(token, version="3.1", session=session, **options)
    graph.version = "v21.0"
    return graph, adapter


@pytest.fixture
def fake() -> Iterator[GraphFake]:
    with GraphFake() as running:
        yield running


@pytest.fixture
def page(fake: GraphFake) -> Page:
    return fake.add_page(name="Springfield PTA")


@pytest.fixture
def ig(fake: GraphFake, page: Page) -> IgUser:
    return fake.add_ig_user(page=page, username="springfieldpta", media_base_url=MEDIA)


@pytest.fixture
def connect(fake: GraphFake) -> Iterator[Connect]:
    """Builds clients wired to the fake; afterwards, every request sent reached it."""
    adapters: list[Any] = []

    def build(token: str, **options: Any) -> facebook.GraphAPI:
        graph, adapter = graph_api(token, fake.base_url, **options)
        adapters.append(adapter)
        return graph

    yield build
    sent = [url for adapter in adapters for url in adapter.sent]
    assert all(url.startswith(fake.base_url + "/v21.0/") for url in sent)
    _wait_for(lambda: len(fake.requests) == len(sent))


@pytest.fixture
def graph(connect: Connect, page: Page) -> facebook.GraphAPI:
    return connect(page.access_token)


@pytest.fixture
def last(graph: facebook.GraphAPI) -> LastResponse:
    return capture_last_response(graph.session)


def _wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def _error(excinfo: pytest.ExceptionInfo[facebook.GraphAPIError]) -> dict[str, Any]:
    result = excinfo.value.result
    assert isinstance(result, dict)
    error: dict[str, Any] = result["error"]
    assert error["type"] and error["fbtrace_id"]
    return error


# -- Pages: posts ---------------------------------------------------------------------------


def test_text_and_link_post_answers_page_scoped_id_and_is_stored(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    answer = graph.put_object(
        page.id, "feed", message="Budget hearing Tuesday", link="https://pta.example/b"
    )
    assert set(answer) == {"id"} and answer["id"].startswith(f"{page.id}_")
    (post,) = fake.posts(page)
    assert (post.id, post.message, post.link, post.published) == (
        answer["id"], "Budget hearing Tuesday", "https://pta.example/b", True
    )  # fmt: skip
    assert fake.requests[-1].params == {
        "message": "Budget hearing Tuesday",
        "link": "https://pta.example/b",
    }


def test_feed_lists_recent_posts_newest_first_with_default_fields(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    fake.add_post(page, "older", created_at=fake.now() - 3600)
    graph.put_object(page.id, "feed", message="newer")
    feed = graph.get_connections(page.id, "feed")
    assert [p["message"] for p in feed["data"]] == ["newer", "older"]
    assert set(feed["data"][0]) == {"id", "message", "created_time"}
    assert feed["data"][0]["created_time"].endswith("+0000")
    posts = graph.get_connections(page.id, "posts", fields="message", limit=1)
    assert posts["data"] == [{"message": "newer", "id": feed["data"][0]["id"]}]


def test_feed_pages_with_cursors_and_filters_by_since(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    start = fake.now() - 5 * 3600
    for hour in range(5):
        fake.add_post(page, f"update {hour}", created_at=start + hour * 3600)
    paged = list(graph.get_all_connections(page.id, "feed", fields="message", limit=2))
    assert [p["message"] for p in paged] == [f"update {h}" for h in (4, 3, 2, 1, 0)]
    recent = graph.get_connections(page.id, "feed", since=int(start + 2.5 * 3600))
    assert [p["message"] for p in recent["data"]] == ["update 4", "update 3"]


def test_consecutive_duplicate_message_is_error_506(graph: facebook.GraphAPI, page: Page) -> None:
    graph.put_object(page.id, "feed", message="Same words")
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.put_object(page.id, "feed", message="Same words")
    assert _error(caught)["code"] == 506
    assert caught.value.message == "(#506) Duplicate status message"


def test_empty_post_is_missing_message_or_attachment(graph: facebook.GraphAPI, page: Page) -> None:
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.put_object(page.id, "feed")
    assert _error(caught)["code"] == 100
    assert caught.value.message == "(#100) Missing message or attachment"


def test_delete_removes_the_post_and_a_second_delete_is_unsupported(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    post_id = graph.put_object(page.id, "feed", message="Oops")["id"]
    assert graph.delete_object(post_id) == {"success": True}
    assert fake.posts(page) == []
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.delete_object(post_id)
    error = _error(caught)
    assert (error["code"], error["error_subcode"], error["type"]) == (
        100, 33, "GraphMethodException"
    )  # fmt: skip
    assert error["message"].startswith(f"Unsupported delete request. Object with ID '{post_id}'")


def test_deleting_an_id_that_never_existed_is_the_same_unsupported_delete(
    graph: facebook.GraphAPI, page: Page, last: LastResponse
) -> None:
    """What Graph answers for a post that is not there: HTTP 400, ``GraphMethodException``, code
    100, subcode 33 (as for one deleted already)."""
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.delete_object(f"{page.id}_122000000000000001")
    error = _error(caught)
    assert (last.status_code, error["code"], error["error_subcode"]) == (400, 100, 33)
    assert "does not exist, cannot be loaded due to missing permissions" in error["message"]


def test_engagement_and_insights_grow_with_age(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    post_id = graph.put_object(page.id, "feed", message="Thank a teacher")["id"]
    fields = "reactions.summary(total_count).limit(0),comments.summary(true).limit(0),shares"
    fresh = graph.get_object(post_id, fields=fields)
    assert fresh["reactions"] == {"data": [], "summary": {"total_count": 0}}
    assert "shares" not in fresh  # Graph leaves shares out until someone shares
    fake.advance(6 * 3600)
    later = graph.get_object(post_id, fields=fields)
    assert later["reactions"]["summary"]["total_count"] > 0
    assert later["comments"]["summary"]["total_count"] >= 0
    assert later["shares"]["count"] > 0
    insights = graph.get_connections(post_id, "insights", metric="post_impressions,post_clicks")
    assert [m["name"] for m in insights["data"]] == ["post_impressions", "post_clicks"]
    assert insights["data"][0]["values"][0]["value"] > 0
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.get_connections(post_id, "insights", metric="post_vibes")
    assert caught.value.message == "(#100) The value must be a valid insights metric"


def test_unknown_field_is_refused_like_graph(graph: facebook.GraphAPI, page: Page) -> None:
    post_id = graph.put_object(page.id, "feed", message="Hi")["id"]
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.get_object(post_id, fields="message,link")
    assert caught.value.message == (
        "(#100) Tried accessing nonexisting field (link) on node type (PagePost)"
    )


# -- Pages: photos --------------------------------------------------------------------------


def test_photo_upload_is_multipart_with_alt_text_and_makes_a_post(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    answer = graph.put_photo(
        io.BytesIO(PNG),
        album_path=f"{page.id}/photos",
        caption="Science fair winners",
        alt_text_custom="Three students holding a ribbon",
    )
    assert set(answer) == {"id", "post_id"} and answer["post_id"].startswith(f"{page.id}_")
    (photo,) = fake.photos(page)
    assert (photo.size, photo.alt_text_custom, photo.post_id) == (
        len(PNG), "Three students holding a ribbon", answer["post_id"]
    )  # fmt: skip
    seen = graph.get_object(answer["id"], fields="alt_text_custom,name,page_story_id")
    assert seen == {"alt_text_custom": "Three students holding a ribbon", "name": "Science fair winners",
                    "page_story_id": answer["post_id"], "id": answer["id"]}  # fmt: skip
    assert graph.get_object(answer["post_id"])["message"] == "Science fair winners"


def test_photo_upload_refuses_what_is_not_an_image(graph: facebook.GraphAPI, page: Page) -> None:
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.put_photo(io.BytesIO(b"%PDF-1.4"), album_path=f"{page.id}/photos", caption="x")
    assert (_error(caught)["code"], caught.value.message) == (
        324, "(#324) Missing or invalid image file"
    )  # fmt: skip


def test_multi_photo_post_attaches_unpublished_photos(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    ids = [
        graph.put_photo(io.BytesIO(data), album_path=f"{page.id}/photos", published="false")
        for data in (PNG, JPEG)
    ]
    assert all(set(answer) == {"id"} for answer in ids)  # unpublished: no post yet
    assert fake.posts(page) == []
    attached = {
        f"attached_media[{i}]": json.dumps({"media_fbid": a["id"]}) for i, a in enumerate(ids)
    }
    post_id = graph.put_object(page.id, "feed", message="Field day!", **attached)["id"]
    (post,) = fake.posts(page)
    assert post.photo_ids == [a["id"] for a in ids]
    album = graph.get_object(post_id, fields="attachments,status_type")
    assert album["status_type"] == "added_photos"
    subs = album["attachments"]["data"][0]["subattachments"]["data"]
    assert [s["target"]["id"] for s in subs] == [a["id"] for a in ids]


def test_attached_media_must_be_an_unpublished_photo_of_the_page(
    graph: facebook.GraphAPI, page: Page
) -> None:
    published = graph.put_photo(io.BytesIO(PNG), album_path=f"{page.id}/photos", caption="x")
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.put_object(
            page.id, "feed", **{"attached_media[0]": json.dumps({"media_fbid": published["id"]})}
        )
    assert _error(caught)["code"] == 100


# -- Pages: native scheduling ---------------------------------------------------------------


# -- Pages: videos (the Video API) ------------------------------------------------------------

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 8


def _video(graph: facebook.GraphAPI, page: Page, **args: str) -> Any:
    """A POST to the videos edge (facebook-sdk's ``request`` takes the version in the path)."""
    return graph.request(f"v21.0/{page.id}/videos", post_args=args, method="POST")


def test_a_video_in_one_request_is_stored_with_its_description(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    answer = graph.request(
        f"v21.0/{page.id}/videos",
        post_args={"description": "Ms. Rivera's testimony"},
        files={"source": ("t.mp4", MP4, "video/mp4")},
        method="POST",
    )
    (video,) = fake.videos(page)
    assert answer == {"id": video.id} and (video.size, video.published) == (len(MP4), True)
    seen = graph.get_object(video.id, fields="description,status,published")
    assert seen == {"id": video.id, "description": "Ms. Rivera's testimony",
                    "status": {"video_status": "ready"}, "published": True}  # fmt: skip
    listed = graph.get_object(f"{page.id}/videos", fields="id,description")["data"]
    assert listed == [{"id": video.id, "description": "Ms. Rivera's testimony"}]


def test_a_resumable_upload_goes_in_the_chunks_graph_names(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    fake.video_chunk = 1000
    began = _video(graph, page, upload_phase="start", file_size=str(len(MP4)))
    assert set(began) == {"video_id", "upload_session_id", "start_offset", "end_offset"}
    start, end, session = began["start_offset"], began["end_offset"], began["upload_session_id"]
    assert (start, end) == ("0", "1000")
    chunks = 0
    while start != end:
        sent = graph.request(
            f"v21.0/{page.id}/videos",
            post_args={"upload_phase": "transfer", "upload_session_id": session,
                       "start_offset": start},
            files={"video_file_chunk": ("chunk", MP4[int(start) : int(end)])},
            method="POST",
        )  # fmt: skip
        start, end, chunks = sent["start_offset"], sent["end_offset"], chunks + 1
    assert (chunks, start) == (3, str(len(MP4)))
    done = _video(graph, page, upload_phase="finish", upload_session_id=session,
                  description="Testimony", published="false",
                  scheduled_publish_time=str(int(fake.now() + 3600)))  # fmt: skip
    assert done == {"success": True}
    (video,) = fake.videos(page)
    assert (video.id, video.description, video.published) == (began["video_id"], "Testimony", False)
    waiting = graph.get_object(video.id, fields="published,scheduled_publish_time")
    assert waiting["published"] is False and waiting["scheduled_publish_time"] > fake.now()


def test_a_wrong_offset_says_which_offsets_graph_wants(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    fake.video_chunk = 1000
    session = _video(graph, page, upload_phase="start", file_size=str(len(MP4)))
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.request(
            f"v21.0/{page.id}/videos",
            post_args={"upload_phase": "transfer", "start_offset": "500",
                       "upload_session_id": session["upload_session_id"]},
            files={"video_file_chunk": ("chunk", MP4[500:1500])},
            method="POST",
        )  # fmt: skip
    error = _error(caught)
    assert (error["code"], error["error_subcode"]) == (6001, 1363037)
    assert error["error_data"] == {"start_offset": "0", "end_offset": "1000"}


def test_an_expired_session_times_out_and_an_unfinished_one_cannot_finish(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    session = _video(graph, page, upload_phase="start", file_size=str(len(MP4)))
    sid = session["upload_session_id"]
    with pytest.raises(facebook.GraphAPIError) as caught:
        _video(graph, page, upload_phase="finish", upload_session_id=sid)
    assert _error(caught)["error_subcode"] == 1363019  # bytes are missing
    fake.advance(3 * 3600)
    with pytest.raises(facebook.GraphAPIError) as caught:
        _video(graph, page, upload_phase="transfer", upload_session_id=sid, start_offset="0")
    assert _error(caught)["error_subcode"] == 1363030
    assert "Video Upload Timeout" in caught.value.message
    assert fake.videos(page) == []


@pytest.mark.parametrize(
    ("size", "subcode"), [(100, 1363022), (2_000_000_001, 1363023)], ids=["small", "large"]
)
def test_a_video_too_small_or_too_large_is_refused_at_start(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page, size: int, subcode: int
) -> None:
    with pytest.raises(facebook.GraphAPIError) as caught:
        _video(graph, page, upload_phase="start", file_size=str(size))
    assert _error(caught)["error_subcode"] == subcode
    assert fake.upload_sessions() == []


def test_a_video_over_the_one_request_limit_must_go_resumable(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    fake.simple_video_max = 1500
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.request(f"v21.0/{page.id}/videos", files={"source": ("t.mp4", MP4, "video/mp4")},
                      post_args={}, method="POST")  # fmt: skip
    assert _error(caught)["error_subcode"] == 1363023
    assert fake.videos(page) == []


def test_a_video_needs_pages_manage_posts(fake: GraphFake, connect: Connect, page: Page) -> None:
    reader = connect(fake.add_token(page, scopes=("pages_read_engagement",)))
    with pytest.raises(facebook.GraphAPIError) as caught:
        _video(reader, page, upload_phase="start", file_size=str(len(MP4)))
    assert _error(caught)["code"] == 200


def test_processing_states_show_in_the_status_and_a_deleted_video_is_gone(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    fake.video_status = "error"
    answer = graph.request(f"v21.0/{page.id}/videos", files={"source": ("t.mp4", MP4, "video/mp4")},
                           post_args={"description": "x"}, method="POST")  # fmt: skip
    status = graph.get_object(answer["id"], fields="status")["status"]
    assert status["video_status"] == "error"
    assert status["processing_phase"]["errors"][0]["message"]
    assert graph.request(f"v21.0/{answer['id']}", method="DELETE") == {"success": True}
    assert fake.videos(page) == []


def test_scheduled_post_waits_in_scheduled_posts_then_goes_live(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    when = int(fake.now() + 3600)
    post_id = graph.put_object(
        page.id,
        "feed",
        message="Board vote tonight",
        published="false",
        scheduled_publish_time=when,
    )["id"]
    assert graph.get_connections(page.id, "feed")["data"] == []
    waiting = graph.get_connections(
        page.id, "scheduled_posts", fields="message,scheduled_publish_time,is_published"
    )
    assert waiting["data"] == [{"message": "Board vote tonight", "scheduled_publish_time": when,
                                "is_published": False, "id": post_id}]  # fmt: skip
    fake.advance(3601)
    assert graph.get_connections(page.id, "scheduled_posts")["data"] == []
    (live,) = graph.get_connections(page.id, "feed", fields="message,is_published")["data"]
    assert live == {"message": "Board vote tonight", "is_published": True, "id": post_id}


@pytest.mark.parametrize(
    ("ahead", "accepted"),
    [
        pytest.param(595, False, id="just under 10 minutes"),
        pytest.param(605, True, id="just over 10 minutes"),
        pytest.param(30 * DAY - 5, True, id="just under 30 days"),
        pytest.param(30 * DAY + 5, False, id="just over 30 days"),
        pytest.param(-60, False, id="in the past"),
    ],
)
def test_scheduling_window_is_10_minutes_to_30_days(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page, ahead: int, accepted: bool
) -> None:
    when = int(fake.now()) + ahead
    send = {"message": f"in {ahead}s", "published": "false", "scheduled_publish_time": when}
    if accepted:
        assert graph.put_object(page.id, "feed", **send)["id"]
        return
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.put_object(page.id, "feed", **send)
    assert (_error(caught)["code"], caught.value.message) == (
        100, "(#100) The specified scheduled publish time is invalid."
    )  # fmt: skip
    assert fake.posts(page) == []


def test_schedule_needs_published_false_and_takes_iso_times(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.put_object(
            page.id, "feed", message="x", scheduled_publish_time=int(fake.now() + 3600)
        )
    assert caught.value.message == (
        "(#100) You cannot specify a scheduled publish time on a published post"
    )
    iso = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(fake.now() + 7200))
    graph.put_object(page.id, "feed", message="y", published="false", scheduled_publish_time=iso)
    (post,) = fake.posts(page)
    assert post.scheduled_publish_time == pytest.approx(fake.now() + 7200, abs=2)


def test_deleting_a_scheduled_post_unschedules_it(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    when = int(fake.now() + 3600)
    post_id = graph.put_object(
        page.id, "feed", message="Cancelled", published="false", scheduled_publish_time=when
    )["id"]
    graph.delete_object(post_id)
    assert graph.get_connections(page.id, "scheduled_posts")["data"] == []
    fake.advance(7200)
    assert graph.get_connections(page.id, "feed")["data"] == []


def test_scheduled_posts_page_with_cursors_at_most_100_at_a_time(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    """Graph's cursor paging: ``limit`` (at most 100), ``paging.cursors.after`` and a ``next``
    link on every page but the last."""
    start = fake.now() + 3600
    made = [fake.add_post(page, f"waiting {i}", scheduled_for=start + i * 60) for i in range(250)]
    first = graph.get_connections(page.id, "scheduled_posts", fields="id", limit=500)
    assert len(first["data"]) == 100  # the limit is capped at 100
    assert first["paging"]["next"].startswith(f"https://graph.facebook.com/v21.0/{page.id}/")
    seen, after, pages = [p["id"] for p in first["data"]], first["paging"]["cursors"]["after"], 1
    while True:
        more = graph.get_connections(
            page.id, "scheduled_posts", fields="id", after=after, limit=100
        )
        seen += [p["id"] for p in more["data"]]
        pages += 1
        if "next" not in more["paging"]:
            break
        after = more["paging"]["cursors"]["after"]
    assert (pages, len(more["data"])) == (3, 50)
    assert seen == [p.id for p in made]  # soonest first, each once
    walked = list(graph.get_all_connections(page.id, "scheduled_posts", fields="id", limit=100))
    assert len(walked) == 250


# -- tokens and errors ----------------------------------------------------------------------


def test_me_page_fields_and_debug_token(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    assert graph.get_object("me") == {"name": "Springfield PTA", "id": page.id}
    assert graph.get_object(page.id, fields="name,access_token") == {
        "name": "Springfield PTA", "access_token": page.access_token, "id": page.id
    }  # fmt: skip
    debug = graph.debug_access_token(page.access_token, fake.app_id, fake.app_secret)["data"]
    assert (debug["is_valid"], debug["type"], debug["profile_id"]) == (True, "PAGE", page.id)
    assert {"pages_manage_posts", "instagram_content_publish"} <= set(debug["scopes"])
    unknown = graph.debug_access_token("EAAnope", fake.app_id, fake.app_secret)["data"]
    assert unknown["is_valid"] is False and unknown["error"]["code"] == 190


def test_unknown_token_is_oauth_exception_190_with_http_400(
    fake: GraphFake, connect: Connect, page: Page
) -> None:
    stranger = connect("EAAnot-a-real-token")
    last = capture_last_response(stranger.session)
    with pytest.raises(facebook.GraphAPIError) as caught:
        stranger.put_object(page.id, "feed", message="hello")
    error = _error(caught)
    assert (error["code"], error["type"], caught.value.code) == (190, "OAuthException", 190)
    assert error["message"] == "Invalid OAuth access token - Cannot parse access token"
    assert "error_subcode" not in error
    assert last.status_code == 400
    assert fake.posts() == []


def test_expired_token_is_190_with_subcode_463(
    fake: GraphFake, connect: Connect, page: Page
) -> None:
    token = fake.add_token(page, expires_in=3600)
    graph = connect(token)
    assert graph.get_object("me")["id"] == page.id
    fake.advance(3601)
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.get_object("me")
    error = _error(caught)
    assert (error["code"], error["error_subcode"]) == (190, 463)
    assert error["message"].startswith("Error validating access token: Session has expired on ")
    debug = graph.debug_access_token(token, fake.app_id, fake.app_secret)["data"]
    assert debug["is_valid"] is False and debug["error"]["subcode"] == 463


def test_token_without_pages_manage_posts_gets_permission_error_200(
    fake: GraphFake, connect: Connect, page: Page
) -> None:
    reader = connect(fake.add_token(page, scopes=("pages_read_engagement",)))
    with pytest.raises(facebook.GraphAPIError) as caught:
        reader.put_object(page.id, "feed", message="hi")
    assert _error(caught)["code"] == 200


def test_another_pages_token_cannot_see_the_page(
    fake: GraphFake, connect: Connect, page: Page
) -> None:
    other = connect(fake.add_page(name="Other PTA").access_token)
    with pytest.raises(facebook.GraphAPIError) as caught:
        other.put_object(page.id, "feed", message="hi")
    assert (_error(caught)["code"], _error(caught)["error_subcode"]) == (100, 33)


# -- usage headers and what facebook-sdk drops ----------------------------------------------


def test_an_adapter_reads_status_and_usage_headers_through_a_response_hook(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page, last: LastResponse
) -> None:
    """facebook-sdk returns only the JSON body; a ``requests`` response hook on the session
    (``capture_last_response``) keeps the status and headers of the last answer."""
    graph.put_object(page.id, "feed", message="Counted")
    assert last.status_code == 200
    usage = last.usage()
    assert set(usage["x-app-usage"]) == {"call_count", "total_cputime", "total_time"}
    assert usage["x-page-usage"]["estimated_time_to_regain_access"] == 0
    assert usage["x-business-use-case-usage"][page.id][0]["type"] == "pages"
    fake.set_usage(call_count=85, total_time=40)
    graph.get_object("me")
    assert last.usage()["x-app-usage"]["call_count"] == 85
    assert last.usage()["x-business-use-case-usage"][page.id][0]["total_time"] == 40


def test_throttling_error_sends_usage_at_100_percent(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page, last: LastResponse
) -> None:
    fake.inject("POST", r"/feed$", "graph_error", code=80001, regain_minutes=12)
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.put_object(page.id, "feed", message="Too fast")
    error = _error(caught)
    assert (error["code"], error["is_transient"]) == (80001, True)
    assert error["message"].startswith("(#80001) There have been too many calls to this Page")
    buc = last.usage()["x-business-use-case-usage"][page.id][0]
    assert (buc["call_count"], buc["estimated_time_to_regain_access"]) == (100, 12)
    assert last.usage()["x-app-usage"]["call_count"] == 100
    assert fake.posts() == []
    graph.put_object(page.id, "feed", message="Later")  # one time only
    assert last.usage()["x-app-usage"]["call_count"] < 100


# -- faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [502, 503])
def test_html_5xx_becomes_the_maintype_error_and_stores_nothing(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page, last: LastResponse, status: int
) -> None:
    fake.inject("POST", r"/feed$", "html_5xx", status=status)
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.put_object(page.id, "feed", message="During an outage")
    assert caught.value.message == MAINTYPE and caught.value.result == MAINTYPE
    assert last.status_code == status
    assert last.response.headers["Content-Type"].startswith("text/html")
    assert fake.posts() == []


def test_store_then_drop_loses_the_answer_but_keeps_the_post(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    fake.inject("POST", r"/feed$", "store_then_drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        graph.put_object(page.id, "feed", message="Did it go out?")
    assert [p.message for p in fake.posts(page)] == ["Did it go out?"]
    assert fake.requests[-1].status is None
    recent = graph.get_connections(page.id, "feed", fields="message")["data"]
    assert [p["message"] for p in recent] == ["Did it go out?"]


def test_store_then_malformed_stores_the_post_and_answers_200_without_an_id(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page, last: LastResponse
) -> None:
    fake.inject("POST", r"/feed$", "store_then_malformed")
    assert graph.put_object(page.id, "feed", message="Acted on") == {}
    assert last.status_code == 200
    (post,) = fake.posts(page)
    assert post.message == "Acted on"
    recent = graph.get_connections(page.id, "feed", fields="message")["data"]
    assert recent == [{"message": "Acted on", "id": post.id}]
    assert graph.get_object(post.id, fields="message")["message"] == "Acted on"


def test_store_then_malformed_on_media_publish_publishes_the_media(
    fake: GraphFake, graph: facebook.GraphAPI, ig: IgUser
) -> None:
    container = graph.put_object(ig.id, "media", image_url=MEDIA + "a.jpg", caption="Ours")
    fake.inject("POST", r"/media_publish$", "store_then_malformed")
    assert graph.put_object(ig.id, "media_publish", creation_id=container["id"]) == {}
    (media,) = fake.ig_media(ig)
    listed = graph.get_connections(ig.id, "media", fields="caption")["data"]
    assert listed == [{"caption": "Ours", "id": media.id}]


def test_drop_loses_the_request(fake: GraphFake, graph: facebook.GraphAPI, page: Page) -> None:
    fake.inject("*", r"/feed$", "drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        graph.put_object(page.id, "feed", message="Never arrives")
    assert fake.posts() == []


def test_slow_answer_times_the_client_out_after_the_post_is_stored(
    fake: GraphFake, connect: Connect, page: Page
) -> None:
    impatient = connect(page.access_token, timeout=0.2)
    fake.inject("POST", r"/feed$", "slow", seconds=0.6)
    with pytest.raises(requests.exceptions.Timeout):
        impatient.put_object(page.id, "feed", message="Slowly")
    _wait_for(lambda: len(fake.posts()) == 1)


def test_faults_can_be_set_over_http(fake: GraphFake, graph: facebook.GraphAPI, page: Page) -> None:
    fault = {"method": "POST", "path_regex": "/feed$", "kind": "graph_error", "code": 368}
    request = urllib.request.Request(
        fake.base_url + "/_fake/faults", data=json.dumps(fault).encode(), method="POST"
    )
    with _LOOPBACK.open(request) as answer:
        assert json.load(answer) == {"ok": True}
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.put_object(page.id, "feed", message="Flagged")
    assert _error(caught)["code"] == 368


def test_pages_and_ig_users_can_be_added_over_http(fake: GraphFake, connect: Connect) -> None:
    def post(name: str, args: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{fake.base_url}/_fake/{name}", data=json.dumps(args).encode(), method="POST"
        )
        with _LOOPBACK.open(request) as answer:
            assert answer.status == 201
            return dict(json.load(answer))

    page = post("pages", {"page_id": "4242", "name": "Remote PTA", "token": "EAAremote"})
    ig = post("ig_users", {"page": page["id"], "media_base_url": MEDIA})
    assert connect("EAAremote").get_object("me") == {"name": "Remote PTA", "id": "4242"}
    assert ig["page_id"] == "4242" and ig["id"] in fake.ig_users


def test_unknown_fault_kind_or_option_is_refused(fake: GraphFake) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        fake.inject("POST", "/feed", "500")
    with pytest.raises(ValueError, match="unknown options"):
        fake.inject("POST", "/feed", "html_5xx", code=190)


def test_reset_forgets_posts_and_faults_but_keeps_pages(
    fake: GraphFake, page: Page, ig: IgUser
) -> None:
    graph, _ = graph_api(page.access_token, fake.base_url)  # reset also forgets the request log
    graph.put_object(page.id, "feed", message="Before")
    fake.inject("*", ".", "drop", times=None)
    fake.reset()
    assert fake.posts() == [] and fake.requests == []
    assert graph.get_object("me")["id"] == page.id and ig.id in fake.ig_users


def test_the_rewrite_refuses_any_other_host(fake: GraphFake) -> None:
    session = requests.Session()
    rewrite_session(session, fake.base_url)
    with pytest.raises(UnexpectedHost, match=r"www\.facebook\.com"):
        session.get("https://www.facebook.com/")


# -- Instagram ------------------------------------------------------------------------------


def test_single_image_container_polls_to_finished_then_publishes(
    fake: GraphFake, graph: facebook.GraphAPI, ig: IgUser
) -> None:
    fake.set_container_delay(30)
    container = graph.put_object(
        ig.id,
        "media",
        image_url=MEDIA + "fair.jpg",
        caption="Science fair #STEM",
        alt_text="A booth",
    )
    assert set(container) == {"id"}
    status = graph.get_object(container["id"], fields="status_code,status")
    assert status == {"status_code": "IN_PROGRESS", "status": "In Progress: Media is still being processed.",
                      "id": container["id"]}  # fmt: skip
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.put_object(ig.id, "media_publish", creation_id=container["id"])
    error = _error(caught)
    assert (error["code"], error["error_subcode"], error["message"]) == (
        9007, 2207027, "Media ID is not available"
    )  # fmt: skip
    fake.advance(30)
    assert graph.get_object(container["id"], fields="status_code")["status_code"] == "FINISHED"
    media_id = graph.put_object(ig.id, "media_publish", creation_id=container["id"])["id"]
    media = graph.get_object(
        media_id, fields="caption,timestamp,permalink,like_count,comments_count,media_type,alt_text"
    )
    assert (media["caption"], media["media_type"], media["alt_text"]) == (
        "Science fair #STEM", "IMAGE", "A booth"
    )  # fmt: skip
    assert media["permalink"].startswith("https://www.instagram.com/p/")
    assert (media["like_count"], media["comments_count"]) == (0, 0)
    fake.advance(4 * 3600)
    assert graph.get_object(media_id, fields="like_count")["like_count"] > 0
    assert graph.get_object(container["id"], fields="status_code")["status_code"] == "PUBLISHED"


def test_carousel_publishes_its_children_as_one_album(
    fake: GraphFake, graph: facebook.GraphAPI, ig: IgUser
) -> None:
    items = [
        graph.put_object(ig.id, "media", image_url=MEDIA + f"{n}.jpg", is_carousel_item="true")[
            "id"
        ]
        for n in range(3)
    ]
    album = graph.put_object(
        ig.id, "media", media_type="CAROUSEL", children=",".join(items), caption="Field day"
    )
    media_id = graph.put_object(ig.id, "media_publish", creation_id=album["id"])["id"]
    media = graph.get_object(media_id, fields="media_type,children,caption")
    assert (media["media_type"], len(media["children"]["data"])) == ("CAROUSEL_ALBUM", 3)
    assert [m.id for m in fake.ig_media(ig)] == [media_id]  # children are not listed
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.put_object(ig.id, "media", media_type="CAROUSEL", children=items[0])
    assert (_error(caught)["code"], _error(caught)["error_subcode"]) == (100, 2207028)


def test_media_url_outside_media_base_url_fails_as_an_unfetchable_uri(
    fake: GraphFake, graph: facebook.GraphAPI, ig: IgUser
) -> None:
    url = "https://elsewhere.example/fair.jpg"
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.put_object(ig.id, "media", image_url=url, caption="x")
    error = _error(caught)
    assert (error["code"], error["error_subcode"], error["is_transient"]) == (9004, 2207052, False)
    assert error["error_user_msg"] == f"The media could not be fetched from this uri: {url}"
    assert fake.containers(ig) == []


def test_reels_video_is_fetched_later_and_its_failure_shows_in_the_status(
    fake: GraphFake, graph: facebook.GraphAPI, ig: IgUser
) -> None:
    good = graph.put_object(ig.id, "media", media_type="REELS", video_url=MEDIA + "clip.mp4")
    bad = graph.put_object(ig.id, "media", media_type="REELS", video_url="https://x.example/c.mp4")
    assert graph.get_object(bad["id"], fields="status_code,status") == {
        "status_code": "ERROR", "status": "Error: Media upload has failed with error code 2207052",
        "id": bad["id"],
    }  # fmt: skip
    media_id = graph.put_object(ig.id, "media_publish", creation_id=good["id"])["id"]
    reel = graph.get_object(media_id, fields="media_type,media_product_type,permalink")
    assert (reel["media_type"], reel["media_product_type"]) == ("VIDEO", "REELS")
    assert "/reel/" in reel["permalink"]


def test_injected_container_error_ends_the_container_in_error(
    fake: GraphFake, graph: facebook.GraphAPI, ig: IgUser
) -> None:
    fake.inject("POST", r"/media$", "container_error", subcode=2207026)
    container = graph.put_object(ig.id, "media", image_url=MEDIA + "a.jpg")
    assert fake.container_status(container["id"]) == "ERROR"
    status = graph.get_object(container["id"], fields="status")["status"]
    assert status == "Error: Media upload has failed with error code 2207026"
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.put_object(ig.id, "media_publish", creation_id=container["id"])
    assert _error(caught)["code"] == 9007


def test_injected_container_expiry_makes_an_expired_container(
    fake: GraphFake, graph: facebook.GraphAPI, ig: IgUser
) -> None:
    fake.inject("POST", r"/media$", "container_error", status="EXPIRED")
    container = graph.put_object(ig.id, "media", image_url=MEDIA + "a.jpg")
    status = graph.get_object(container["id"], fields="status_code,status")
    assert status["status_code"] == "EXPIRED"
    assert status["status"] == "Expired: Media was not published within 24 hours."
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.put_object(ig.id, "media_publish", creation_id=container["id"])
    assert (_error(caught)["code"], _error(caught)["error_subcode"]) == (24, 2207008)


@pytest.mark.parametrize(
    ("subcode", "code", "message"),
    [
        (2207042, 9, "You reached maximum number of posts that is allowed to be published by "
         "Content Publishing API."),
        (2207027, 9007, "The media is not ready for publishing, please wait for a moment"),
        (2207001, -1, "Instagram server error. Try again."),
        (2207051, 4, "We restrict certain activity to protect our community. Tell us if you "
         "think we made a mistake."),
        (2207009, 36003, "The submitted image with aspect ratio 0.5 cannot be published."),
    ],
)  # fmt: skip
def test_an_instagram_subcode_fault_carries_its_documented_code_and_message(
    fake: GraphFake,
    graph: facebook.GraphAPI,
    ig: IgUser,
    last: LastResponse,
    subcode: int,
    code: int,
    message: str,
) -> None:
    fake.inject("POST", r"/media_publish$", "graph_error", subcode=subcode)
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.put_object(ig.id, "media_publish", creation_id="1")
    error = _error(caught)
    assert (last.status_code, error["code"], error["error_subcode"]) == (400, code, subcode)
    assert error["message"] == error["error_user_msg"] == message
    throttled = last.usage()["x-app-usage"]["call_count"] == 100
    assert throttled == (code == 4)  # code 4 is an app-level throttle: usage at 100 %


def test_publishing_limit_is_a_rolling_24_hour_quota(
    fake: GraphFake, graph: facebook.GraphAPI, ig: IgUser
) -> None:
    fake.set_publishing_limit(ig, 1)

    def publish(caption: str) -> dict[str, Any]:
        container = graph.put_object(ig.id, "media", image_url=MEDIA + "a.jpg", caption=caption)
        return graph.put_object(ig.id, "media_publish", creation_id=container["id"])

    publish("first")
    usage = graph.get_connections(ig.id, "content_publishing_limit", fields="quota_usage,config")
    assert usage == {
        "data": [{"quota_usage": 1, "config": {"quota_total": 1, "quota_duration": 86400}}]
    }
    with pytest.raises(facebook.GraphAPIError) as caught:
        publish("second")
    assert (_error(caught)["code"], _error(caught)["error_subcode"]) == (9, 2207042)
    fake.advance(DAY)
    assert publish("next day")["id"]
    default = graph.get_connections(ig.id, "content_publishing_limit")
    assert default == {"data": [{"quota_usage": 1}]}


def test_recent_media_can_be_matched_by_caption(
    fake: GraphFake, graph: facebook.GraphAPI, ig: IgUser
) -> None:
    fake.add_ig_media(ig, "Published before the crash", created_at=fake.now() - 600)
    container = graph.put_object(ig.id, "media", image_url=MEDIA + "a.jpg", caption="Just now")
    graph.put_object(ig.id, "media_publish", creation_id=container["id"])
    recent = graph.get_connections(ig.id, "media", fields="caption,timestamp,permalink", limit=10)
    assert [m["caption"] for m in recent["data"]] == ["Just now", "Published before the crash"]
    assert set(recent["data"][0]) == {"id", "caption", "timestamp", "permalink"}
    assert graph.get_connections(ig.id, "media")["data"][0] == {"id": recent["data"][0]["id"]}


def test_instagram_publishing_needs_instagram_content_publish(
    fake: GraphFake, connect: Connect, page: Page, ig: IgUser
) -> None:
    reader = connect(fake.add_token(page, scopes=("instagram_basic",)))
    with pytest.raises(facebook.GraphAPIError) as caught:
        reader.put_object(ig.id, "media", image_url=MEDIA + "a.jpg")
    assert _error(caught)["code"] == 10


def test_page_reports_its_instagram_account(
    graph: facebook.GraphAPI, page: Page, ig: IgUser
) -> None:
    found = graph.get_object(page.id, fields="instagram_business_account")
    assert found["instagram_business_account"] == {"id": ig.id}
    assert graph.get_object(ig.id, fields="username")["username"] == "springfieldpta"


# -- engagement: several objects at once, insights, engage -----------------------------------

COUNTS = "reactions.summary(true).limit(0),comments.summary(true).limit(0),shares"
FB_INSIGHTS = "insights.metric(post_impressions,post_impressions_unique)"
IG_INSIGHTS = "reach,likes,comments,saved,shares"
NO_PERMISSION = "(#10) Application does not have permission for this action"


def _totals(post: dict[str, Any]) -> tuple[int, int, int]:
    """Reactions, comments and shares (Graph leaves ``shares`` out while there are none)."""
    reactions = post["reactions"]["summary"]["total_count"]
    comments = post["comments"]["summary"]["total_count"]
    return reactions, comments, post.get("shares", {}).get("count", 0)


def _insight_values(answer: dict[str, Any]) -> dict[str, int]:
    return {m["name"]: m["values"][0]["value"] for m in answer["data"]}


def test_get_objects_reads_several_posts_with_counts_and_insights_in_one_request(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page, last: LastResponse
) -> None:
    ids = [fake.add_post(page, f"post {n}").id for n in range(3)]
    fresh = graph.get_objects(ids, fields=f"{COUNTS},{FB_INSIGHTS}")
    assert list(fresh) == ids and all(fresh[i]["id"] == i for i in ids)
    assert [_totals(fresh[i]) for i in ids] == [(0, 0, 0)] * 3
    assert fake.requests[-1].path == "/v21.0/" and fake.requests[-1].params["ids"] == ",".join(ids)
    assert last.usage()["x-app-usage"]["call_count"] == round(100 * 3 / 200)  # one call per id
    fake.advance(6 * 3600)
    grown = graph.get_objects(ids, fields=f"{COUNTS},{FB_INSIGHTS}")
    assert all(_totals(grown[i])[0] > 0 for i in ids)
    insights = grown[ids[0]]["insights"]["data"]
    assert [m["name"] for m in insights] == ["post_impressions", "post_impressions_unique"]
    assert insights[0]["period"] == "lifetime" and insights[0]["values"][0]["value"] > 0


def test_engage_changes_facebook_counts_by_exactly_what_was_added(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    post_id = graph.put_object(page.id, "feed", message="Levy vote Tuesday")["id"]
    fake.advance(49 * 3600)  # settled: age adds no more, so the sums below are exact
    fields = f"{COUNTS},{FB_INSIGHTS}"
    before = graph.get_objects([post_id], fields=fields)[post_id]
    counts = fake.engage(post_id, reactions=7, comments=2, shares=1, impressions=50, reach=30)
    after = graph.get_objects([post_id], fields=fields)[post_id]
    reactions, comments, shares = _totals(before)
    assert _totals(after) == (reactions + 7, comments + 2, shares + 1)
    assert _totals(after) == (counts["reactions"], counts["comments"], counts["shares"])
    impressions = [m["values"][0]["value"] for m in after["insights"]["data"]]
    assert impressions == [counts["impressions"], counts["reach"]]
    edge = graph.get_connections(post_id, "insights", metric="post_impressions")
    assert _insight_values(edge) == {"post_impressions": counts["impressions"]}
    with pytest.raises(ValueError, match="no saves"):
        fake.engage(post_id, saves=1)
    with pytest.raises(KeyError):
        fake.engage(f"{page.id}_1", reactions=1)


def test_get_objects_refuses_more_than_50_ids_and_unknown_ids_fail_the_request(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page, last: LastResponse
) -> None:
    kept = fake.add_post(page, "kept").id
    gone = graph.put_object(page.id, "feed", message="deleted")["id"]
    graph.delete_object(gone)
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.get_objects([kept] + [f"{page.id}_{n}" for n in range(50)], fields="message")
    assert _error(caught)["code"] == 100
    assert caught.value.message == "(#100) Too many IDs. Maximum: 50. Provided: 51."
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.get_objects([kept, gone, "999"], fields="message")
    assert (_error(caught)["code"], last.status_code) == (803, 404)
    assert caught.value.message == (
        f"(#803) Some of the aliases you requested do not exist: {gone},999"
    )
    other = fake.add_page(name="Other PTA")
    theirs = fake.add_post(other, "not yours").id
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.get_objects([kept, theirs], fields="message")
    assert (_error(caught)["code"], _error(caught)["error_subcode"]) == (100, 33)
    assert graph.get_objects([kept], fields="message") == {kept: {"id": kept, "message": "kept"}}


def test_insights_need_read_insights_and_without_it_the_whole_request_fails(
    fake: GraphFake, connect: Connect, page: Page
) -> None:
    post_id = fake.add_post(page, "Counts, not insights").id
    scopes = ("pages_show_list", "pages_read_engagement", "pages_manage_posts")
    reader = connect(fake.add_token(page, scopes=scopes))
    for read in (
        lambda: reader.get_objects([post_id], fields=f"{COUNTS},{FB_INSIGHTS}"),
        lambda: reader.get_object(post_id, fields=FB_INSIGHTS),
        lambda: reader.get_connections(post_id, "insights", metric="post_impressions"),
    ):
        with pytest.raises(facebook.GraphAPIError) as caught:
            read()
        assert (_error(caught)["code"], caught.value.message) == (10, NO_PERMISSION)
    counted = reader.get_objects([post_id], fields=COUNTS)[post_id]
    assert set(counted) == {"id", "reactions", "comments"}  # no shares yet, and no insights


def test_instagram_counts_and_insights_grow_with_age_and_engage(
    fake: GraphFake, graph: facebook.GraphAPI, ig: IgUser
) -> None:
    media_id = fake.add_ig_media(ig, "Back to school night").id

    def insights() -> dict[str, int]:
        path = f"{graph.version}/{media_id}/insights"  # the version in the path, as Graph wants
        return _insight_values(graph.request(path, {"metric": IG_INSIGHTS}))

    fresh = graph.get_object(media_id, fields="like_count,comments_count")
    assert (fresh["like_count"], fresh["comments_count"]) == (0, 0)
    assert insights() == dict.fromkeys(IG_INSIGHTS.split(","), 0)
    fake.advance(49 * 3600)  # settled
    before = insights()
    assert before["reach"] > 0 and before["likes"] > 0
    fake.engage(media_id, reactions=3, comments=2, saves=4, shares=1, reach=10)
    added = {"reach": 10, "likes": 3, "comments": 2, "saved": 4, "shares": 1}
    assert insights() == {k: v + added[k] for k, v in before.items()}
    answer = graph.get_connections(media_id, "insights", metric="likes")["data"][0]
    assert (answer["period"], answer["id"]) == ("lifetime", f"{media_id}/insights/likes/lifetime")
    both = graph.get_objects(
        [media_id], fields="like_count,comments_count,insights.metric(reach,saved)"
    )[media_id]
    assert (both["like_count"], both["comments_count"]) == (
        before["likes"] + 3,
        before["comments"] + 2,
    )
    assert _insight_values(both["insights"]) == {
        "reach": before["reach"] + 10,
        "saved": before["saved"] + 4,
    }
    with pytest.raises(ValueError, match="no clicks"):
        fake.engage(media_id, clicks=1)


def test_instagram_metrics_follow_the_media_product_type_and_the_version(
    fake: GraphFake, page: Page, ig: IgUser
) -> None:
    v21, _ = graph_api(page.access_token, fake.base_url)
    v22, _ = graph_api(page.access_token, fake.base_url)
    v22.version = "v22.0"
    feed = fake.add_ig_media(ig, "a photo").id
    reel = fake.add_ig_media(ig, "a reel", product_type="REELS").id
    story = fake.add_ig_media(ig, "a story", product_type="STORY").id

    def fails(graph: facebook.GraphAPI, media_id: str, metric: str) -> str:
        with pytest.raises(facebook.GraphAPIError) as caught:
            graph.get_connections(media_id, "insights", metric=metric)
        assert _error(caught)["code"] == 100
        return str(caught.value.message)

    reel_insights = v21.get_connections(reel, "insights", metric=IG_INSIGHTS)
    assert [m["name"] for m in reel_insights["data"]] == IG_INSIGHTS.split(",")
    v21.get_connections(feed, "insights", metric="impressions,views")  # v21 still has impressions
    unsupported = (
        "The Media Insights API does not support the {} metric for this media product type."
    )
    assert fails(v21, reel, "reach,impressions") == "(#100) " + unsupported.format("impressions")
    assert fails(v21, story, "reach,saved") == "(#100) " + unsupported.format("saved")
    message = fails(v22, feed, "reach,impressions")
    assert message.startswith("(#100) metric[1] must be one of the following values: comments, ")
    assert "views" in message and "impressions" not in message
    assert fails(v21, feed, "vibes").startswith("(#100) metric[0] must be one of the following")
    assert fails(v21, feed, "").startswith("(#100) The parameter metric is required")


def test_instagram_insights_need_instagram_manage_insights(
    fake: GraphFake, connect: Connect, page: Page, ig: IgUser
) -> None:
    media_id = fake.add_ig_media(ig, "No insights for you").id
    reader = connect(fake.add_token(page, scopes=("instagram_basic",)))
    for read in (
        lambda: reader.get_connections(media_id, "insights", metric="reach"),
        lambda: reader.get_objects([media_id], fields="like_count,insights.metric(reach)"),
    ):
        with pytest.raises(facebook.GraphAPIError) as caught:
            read()
        assert (_error(caught)["code"], caught.value.message) == (10, NO_PERMISSION)
    assert reader.get_object(media_id, fields="like_count")["like_count"] == 0


def test_engage_works_over_http(fake: GraphFake, page: Page) -> None:
    post_id = fake.add_post(page, "From another process").id
    request = urllib.request.Request(
        f"{fake.base_url}/_fake/engage",
        data=json.dumps({"object_id": post_id, "reactions": 2}).encode(),
        method="POST",
    )
    with _LOOPBACK.open(request, timeout=5) as response:
        assert json.loads(response.read()) == {"ok": True}
    assert fake.engage(post_id)["reactions"] == 2


# -- comments (for inbox pull) ---------------------------------------------------------------

FB_COMMENT = "id,from{id,name},message,created_time,permalink_url,parent{id}"
IG_COMMENT = "id,username,text,timestamp,replies{id,username,text,timestamp}"


def test_page_post_comments_stream_replies_with_their_parent(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    post_id = fake.add_post(page, "Budget hearing Tuesday").id
    start = fake.now() - 600
    first = fake.add_comment(post_id, "I'll be there", author="Ann Ally", created_at=start)
    fake.add_comment(post_id, "Thanks Ann!", own=True, reply_to=first.id, created_at=start + 60)
    again = fake.add_comment(
        post_id, "Me too", author="Bo Parent", reply_to=first.id, created_at=start + 120
    )
    last = fake.add_comment(post_id, "What room?", author="Cy Voter", created_at=start + 180)
    stream = graph.get_connections(post_id, "comments", fields=FB_COMMENT, filter="stream")
    assert [c["message"] for c in stream["data"]] == [
        "I'll be there", "Thanks Ann!", "Me too", "What room?"
    ]  # fmt: skip
    ann, ours, reply, _ = stream["data"]
    assert set(ann) == {"id", "from", "message", "created_time", "permalink_url"}
    assert ann["from"] == {"id": first.author_id, "name": "Ann Ally"}
    assert ours["from"] == {"id": page.id, "name": "Springfield PTA"}
    assert reply["parent"] == {"id": first.id} and reply["id"] == again.id
    assert reply["id"].startswith(post_id.split("_")[1] + "_")
    assert ann["permalink_url"] == (
        f"https://www.facebook.com/{page.id}/posts/{post_id.split('_')[1]}/"
        f"?comment_id={first.id.split('_')[1]}"
    )
    assert ann["created_time"].endswith("+0000")
    assert (
        set(stream["paging"]["cursors"]) == {"before", "after"} and "next" not in stream["paging"]
    )
    toplevel = graph.get_connections(post_id, "comments")["data"]  # the default filter
    assert [c["id"] for c in toplevel] == [first.id, last.id]
    assert set(toplevel[0]) == {"id", "from", "message", "created_time"}
    newest = graph.get_connections(
        post_id, "comments", filter="stream", order="reverse_chronological"
    )
    assert [c["message"] for c in newest["data"]] == [
        "What room?", "Me too", "Thanks Ann!", "I'll be there"
    ]  # fmt: skip
    replies = graph.get_connections(first.id, "comments", fields="message")["data"]
    assert [c["message"] for c in replies] == ["Thanks Ann!", "Me too"]
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.get_connections(post_id, "comments", filter="everything")
    assert _error(caught)["code"] == 100


def test_comments_page_with_cursors_and_a_new_comment_moves_no_page(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page, ig: IgUser
) -> None:
    post_id = fake.add_post(page, "Many voices").id
    media_id = fake.add_ig_media(ig, "Many voices").id
    start = fake.now() - 3600
    for n in range(7):
        fake.add_comment(post_id, f"fb {n}", author=f"P{n}", created_at=start + n)
        fake.add_comment(media_id, f"ig {n}", author=f"p{n}", created_at=start + n)
    first = graph.get_connections(post_id, "comments", filter="stream", limit=3)
    assert [c["message"] for c in first["data"]] == ["fb 0", "fb 1", "fb 2"]
    assert "next" in first["paging"]
    fake.add_comment(post_id, "fb late", author="Late", created_at=start + 100)
    after = first["paging"]["cursors"]["after"]
    second = graph.get_connections(post_id, "comments", filter="stream", limit=3, after=after)
    assert [c["message"] for c in second["data"]] == ["fb 3", "fb 4", "fb 5"]
    after = second["paging"]["cursors"]["after"]
    third = graph.get_connections(post_id, "comments", filter="stream", limit=3, after=after)
    assert [c["message"] for c in third["data"]] == ["fb 6", "fb late"]
    assert "next" not in third["paging"]
    walked = graph.get_all_connections(media_id, "comments", fields="text", limit=2)
    assert [c["text"] for c in walked] == [f"ig {n}" for n in range(6, -1, -1)]  # newest first


def test_instagram_comments_carry_their_replies_nested_with_paging(
    fake: GraphFake, graph: facebook.GraphAPI, ig: IgUser
) -> None:
    media_id = fake.add_ig_media(ig, "Back to school night").id
    start = fake.now() - 600
    top = fake.add_comment(media_id, "Love this", author="ann.ally", created_at=start)
    for n in range(3):
        fake.add_comment(
            media_id, f"reply {n}", author="bo.parent", reply_to=top.id, created_at=start + 10 + n
        )
    ours = fake.add_comment(media_id, "Thank you!", own=True, created_at=start + 60)
    nested = fake.add_comment(
        media_id, "+1", author="cy", reply_to=f"{fake.comments(media_id)[1].id}"
    )
    assert nested.parent_id == top.id  # a reply to a reply is filed under the comment
    listed = graph.get_connections(media_id, "comments", fields=IG_COMMENT)["data"]
    assert [c["text"] for c in listed] == ["Thank you!", "Love this"]
    assert listed[0] == {
        "id": ours.id, "username": "springfieldpta", "text": "Thank you!",
        "timestamp": listed[0]["timestamp"],
    }  # fmt: skip
    replies = listed[1]["replies"]
    assert [r["text"] for r in replies["data"]] == ["reply 0", "reply 1", "reply 2", "+1"]
    assert set(replies["data"][0]) == {"id", "username", "text", "timestamp"}
    assert "paging" in replies and "next" not in replies["paging"]
    short = graph.get_connections(media_id, "comments", fields="id,replies.limit(2){id,text}")
    assert "next" in short["data"][1]["replies"]["paging"]
    after = short["data"][1]["replies"]["paging"]["cursors"]["after"]
    rest = graph.get_connections(top.id, "replies", fields="text,username", after=after)["data"]
    assert [(r["text"], r["username"]) for r in rest] == [("reply 2", "bo.parent"), ("+1", "cy")]
    own = graph.get_object(ours.id, fields="id,user,username")
    assert own == {"id": ours.id, "user": {"id": ig.id}, "username": "springfieldpta"}
    assert "user" not in graph.get_object(top.id, fields="id,user")


def test_reading_comments_needs_pages_read_user_content_or_instagram_manage_comments(
    fake: GraphFake, connect: Connect, page: Page, ig: IgUser
) -> None:
    post_id = fake.add_post(page, "Closed to readers").id
    media_id = fake.add_ig_media(ig, "Closed to readers").id
    scopes = ("pages_show_list", "pages_read_engagement", "pages_manage_posts", "instagram_basic")
    reader = connect(fake.add_token(page, scopes=scopes))
    with pytest.raises(facebook.GraphAPIError) as caught:
        reader.get_connections(post_id, "comments", filter="stream")
    error = _error(caught)
    assert (error["code"], error["type"]) == (10, "OAuthException")
    assert error["message"].startswith(
        "(#10) This endpoint requires the 'pages_read_user_content' permission"
    )
    assert fake.requests[-1].status == 400
    with pytest.raises(facebook.GraphAPIError) as caught:
        reader.get_connections(media_id, "comments")
    assert (_error(caught)["code"], caught.value.message) == (
        10, "(#10) Requires instagram_manage_comments permission to manage the object"
    )  # fmt: skip


def test_comments_can_be_added_over_http_and_go_with_their_post(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page
) -> None:
    post_id = fake.add_post(page, "From another process").id
    request = urllib.request.Request(
        f"{fake.base_url}/_fake/comments",
        data=json.dumps({"on": post_id, "text": "Hi", "author": "Di"}).encode(),
        method="POST",
    )
    with _LOOPBACK.open(request, timeout=5) as response:
        made = json.loads(response.read())
    assert (made["message"], made["author"], made["object_id"]) == ("Hi", "Di", post_id)
    assert [c.id for c in fake.comments(post_id)] == [made["id"]]
    graph.delete_object(post_id)
    assert fake.comments() == []
    with pytest.raises(facebook.GraphAPIError) as caught:
        graph.get_connections(post_id, "comments")
    assert (_error(caught)["code"], _error(caught)["error_subcode"]) == (100, 33)


def test_answering_writes_the_page_s_and_the_account_s_own_comments(
    fake: GraphFake, graph: facebook.GraphAPI, page: Page, ig: IgUser
) -> None:
    """POST /{post-id}/comments, /{comment-id}/comments, /{ig-media-id}/comments and
    /{ig-comment-id}/replies answer {"id": ...}; the comments read back as the Page's or the
    account's own, under the right parent."""
    post_id = fake.add_post(page, "Budget hearing Tuesday").id
    ann = fake.add_comment(post_id, "When?", author="Ann Ally")
    bo = fake.add_comment(post_id, "Where?", author="Bo Parent", reply_to=ann.id)
    on_post = graph.put_object(post_id, "comments", message="Tuesday, 7pm")
    on_comment = graph.put_object(ann.id, "comments", message="At 7pm, Ann")
    on_reply = graph.put_object(bo.id, "comments", message="Room 4, Bo")  # filed under Ann's
    assert set(on_post) == {"id"} and on_post["id"].startswith(post_id.split("_")[1] + "_")
    stream = graph.get_connections(
        post_id, "comments", fields="id,from,message,parent", filter="stream"
    )
    shown = {c["id"]: c for c in stream["data"]}
    assert shown[on_post["id"]]["from"] == {"id": page.id, "name": "Springfield PTA"}
    assert "parent" not in shown[on_post["id"]]
    assert shown[on_comment["id"]]["parent"]["id"] == ann.id
    assert shown[on_reply["id"]]["parent"]["id"] == ann.id

    media_id = fake.add_ig_media(ig, "Back to school night").id
    top = fake.add_comment(media_id, "Love this", author="ann.ally")
    reply = fake.add_comment(media_id, "Same", author="bo.parent", reply_to=top.id)
    on_media = graph.put_object(media_id, "comments", message="Thank you!")
    on_top = graph.put_object(top.id, "replies", message="Thanks Ann")
    assert set(on_media) == set(on_top) == {"id"}
    replies = graph.get_connections(top.id, "replies", fields="id,text,username")["data"]
    assert {"id": on_top["id"], "text": "Thanks Ann", "username": "springfieldpta"} in replies
    with pytest.raises(facebook.GraphAPIError) as refused:  # replies are one level deep
        graph.put_object(reply.id, "replies", message="No")
    assert _error(refused)["code"] == 100
    with pytest.raises(facebook.GraphAPIError) as empty:
        graph.put_object(post_id, "comments", message=" ")
    assert _error(empty)["code"] == 100


@pytest.mark.parametrize(
    ("scope", "code"), [("pages_manage_engagement", 200), ("instagram_manage_comments", 10)]
)
def test_answering_without_the_permission_is_refused_and_writes_nothing(
    fake: GraphFake, connect: Connect, page: Page, ig: IgUser, scope: str, code: int
) -> None:
    lacking = connect(fake.add_token(page, scopes=tuple(s for s in DEFAULT_SCOPES if s != scope)))
    post_id = fake.add_post(page, "Budget hearing Tuesday").id
    media_id = fake.add_ig_media(ig, "Back to school night").id
    on = post_id if scope.startswith("pages") else media_id
    with pytest.raises(facebook.GraphAPIError) as refused:
        lacking.put_object(on, "comments", message="Thanks")
    assert _error(refused)["code"] == code and scope in _error(refused)["message"]
    assert fake.comments() == []
