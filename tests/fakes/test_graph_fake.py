"""What the fake Graph API does, seen through the real ``facebook.GraphAPI`` (facebook-sdk 3.1).

These pin the behaviour the Facebook and Instagram adapters' tests rely on: Page posts, photos
with alt text, multi-photo posts, native scheduling and its window, Graph's error bodies (190,
506, 324, 2207xxx), Instagram containers, publishing and its quota, the faults, and how an
adapter reads the HTTP status and usage headers facebook-sdk drops.  Every client is built the
way the adapter builds it (version "3.1", then ``v21.0``) on a session sent through
``rewrite_session``; teardown checks the fake saw every request.
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
