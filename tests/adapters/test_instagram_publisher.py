"""How the Instagram publisher classifies Instagram's Content Publishing errors, called directly
through its real HTTP session against the loopback Graph API fake: each documented code/subcode
is injected at the step that answers it (container, status polling, ``media_publish``).

Source of every code, subcode and meaning below, unless a row says otherwise: the Instagram
Platform "Error Codes" reference,
https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes
(container states: the "IG Container" reference, ``status_code``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from eduadvocate.config.model import AccountConfig
from eduadvocate.core.errors import Location
from eduadvocate.platforms.instagram import client as ig_client
from eduadvocate.platforms.instagram.client import InstagramPublisher
from eduadvocate.platforms.publishing import (
    Attachment,
    AuthFailed,
    InDoubt,
    OutgoingPart,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
)
from tests.conftest import REPO
from tests.fakes.graph_api import GraphFake, IgUser

BASE = "https://media.fundspringfieldschools.example/campaign/"
IMAGE = Attachment(REPO / "media" / "testimonial-garcia.jpg", "A teacher", "image/jpeg", "a.jpg")
PUBLISH, CONTAINER = r"/media_publish$", r"/media$"
QUOTA_WAIT = timedelta(hours=1)  # the adapter re-checks a used-up 24-hour quota hourly


@pytest.fixture
def graph() -> Iterator[GraphFake]:
    with GraphFake() as fake:
        yield fake


@pytest.fixture
def ig(graph: GraphFake) -> IgUser:
    page = graph.add_page(name="Springfield PTA")
    return graph.add_ig_user(page=page, media_base_url=BASE, username="springfieldpta")


@pytest.fixture(autouse=True)
def _quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ig_client, "POLL_DELAYS_S", (0.01,))


def publisher(graph: GraphFake, ig: IgUser) -> InstagramPublisher:
    token = graph.pages[ig.page_id].access_token
    settings: dict[str, str | int | bool] = {"ig_user_id": ig.id, "access_token": token,
                                             "media_base_url": BASE, "base_url": graph.base_url}  # fmt: skip
    return InstagramPublisher(AccountConfig("ig", "instagram", settings, Location("config.yaml")))


def publish(graph: GraphFake, ig: IgUser) -> PublishError:
    part = OutgoingPart("p|ig|2026-11-28T12:00:00Z", 0, 1, "Thank a teacher", "k", media=(IMAGE,))
    insta = publisher(graph, ig)
    try:
        insta.publish(part)
    except PublishError as exc:
        return exc
    finally:
        insta.close()
    raise AssertionError("published without an error")


# (code, subcode, the step that answers it, expected error); sending: media_publish creates the
# post, so a server error there may have published it (in doubt: looked up by caption first).
ROWS = [
    # "You reached maximum number of posts…": the daily publishing limit, "try again the
    # following day"; the quota is a rolling 24 hours, so it is re-checked hourly.
    (9, 2207042, PUBLISH, RateLimited),
    # "The media is not ready for publishing, please wait for a moment".
    (9007, 2207027, PUBLISH, Transient),
    # "The media builder … does not exist or has been expired": "temporary error publishing a
    # container. Try again…, generate a new container ID".
    (24, 2207008, PUBLISH, Transient),
    # "The media you are trying to access has expired": "generate a new container ID".
    (-2, 2207020, PUBLISH, Transient),
    # "The media with {id} cannot be found": "generate a new container and try again".
    (24, 2207006, CONTAINER, Transient),
    # "Instagram server error. Try again." On media_publish it may have published: in doubt.
    (-1, 2207001, PUBLISH, InDoubt),
    (-1, 2207001, CONTAINER, Transient),
    # "It takes too long to download the media": "a timeout…, try again".
    (-2, 2207003, CONTAINER, Transient),
    # "Create media fail, please try to re-create media".
    (-1, 2207032, CONTAINER, Transient),
    # "unknown upload error": "generate a new container and use it to try again".
    (-1, 2207053, CONTAINER, Transient),
    # "We restrict certain activity to protect our community": suspected spam, a temporary
    # restriction of the account (code 4: Graph's app-level throttle).
    (4, 2207051, PUBLISH, RateLimited),
    # "The Instagram account is restricted": inactive, checkpointed or restricted; the user must
    # sign in to the Instagram app and act.
    (25, 2207050, PUBLISH, AuthFailed),
    # Permanent for this content: fix the media or the caption.
    (36000, 2207004, CONTAINER, Rejected),  # image too large (over 8 MiB)
    (36001, 2207005, CONTAINER, Rejected),  # image format not supported
    (36003, 2207009, CONTAINER, Rejected),  # aspect ratio not supported
    (36004, 2207010, CONTAINER, Rejected),  # caption too long (over 2,200)
    (100, 2207023, CONTAINER, Rejected),  # media type unknown
    (352, 2207026, CONTAINER, Rejected),  # video format not supported
    (100, 2207028, CONTAINER, Rejected),  # carousel of 2 to 10
    (9004, 2207052, CONTAINER, Rejected),  # the media could not be fetched from the URI
    (1, 2207057, CONTAINER, Rejected),  # thumbnail offset out of the video: code 1, yet permanent
]


@pytest.mark.parametrize(
    ("code", "subcode", "where", "expected"),
    [pytest.param(*row, id=f"{row[0]}/{row[1]} on {row[2][1:-1]}") for row in ROWS],
)
def test_content_publishing_error_codes_are_classified_as_documented(
    graph: GraphFake,
    ig: IgUser,
    code: int,
    subcode: int,
    where: str,
    expected: type[PublishError],
) -> None:
    graph.inject("POST", where, "graph_error", code=code, subcode=subcode)
    error = publish(graph, ig)
    assert type(error) is expected, error
    assert f"{code}/{subcode}" in str(error)
    if subcode == 2207042:
        assert isinstance(error, RateLimited) and error.retry_at is not None
        assert error.retry_at - datetime.now(UTC) == pytest.approx(QUOTA_WAIT, abs=timedelta(minutes=1))  # fmt: skip
    if expected is not InDoubt:
        assert graph.ig_media(ig) == []


def test_instagram_throttling_waits_as_the_usage_headers_say(graph: GraphFake, ig: IgUser) -> None:
    """80002: "There have been too many calls to this Instagram account" (Graph API "Rate
    Limiting", Instagram business use case); ``estimated_time_to_regain_access`` minutes."""
    graph.inject("POST", PUBLISH, "graph_error", code=80002, regain_minutes=40)
    error = publish(graph, ig)
    assert isinstance(error, RateLimited) and error.retry_at is not None
    wait = error.retry_at - datetime.now(UTC)
    assert wait == pytest.approx(timedelta(minutes=40), abs=timedelta(minutes=1))


@pytest.mark.parametrize(
    ("subcode", "status", "expected"),
    [
        # ERROR: "the container failed to complete the publishing process"; its ``status`` names
        # the error code, handled as the same code answered directly would be.
        pytest.param(2207026, "ERROR", Rejected, id="ERROR 2207026 video format"),
        pytest.param(2207052, "ERROR", Rejected, id="ERROR 2207052 cannot fetch"),
        pytest.param(2207001, "ERROR", Transient, id="ERROR 2207001 server error"),
        pytest.param(2207003, "ERROR", Transient, id="ERROR 2207003 download timeout"),
        pytest.param(2207053, "ERROR", Transient, id="ERROR 2207053 unknown upload error"),
        # EXPIRED: "not published within 24 hours": a new container is made on the next try.
        pytest.param(0, "EXPIRED", Transient, id="EXPIRED"),
    ],
)
def test_container_states_from_polling_are_classified_as_documented(
    graph: GraphFake, ig: IgUser, subcode: int, status: str, expected: type[PublishError]
) -> None:
    graph.inject("POST", CONTAINER, "container_error", subcode=subcode, status=status)
    error = publish(graph, ig)
    assert type(error) is expected, error
    assert not any(r.path.endswith("/media_publish") for r in graph.requests)
    assert graph.ig_media(ig) == []


@pytest.mark.parametrize(
    ("method", "where", "code", "subcode", "expected"),
    [
        # Graph's own codes on Instagram's calls ("Handling Errors", Graph API): the token ...
        pytest.param("GET", r"/content_publishing_limit$", 190, 463, AuthFailed, id="190/463 quota"),
        pytest.param("POST", CONTAINER, 10, None, AuthFailed, id="10 permission on container"),
        # ... temporary trouble: transient while reading or making a container, in doubt on
        # media_publish (it may have published) ...
        pytest.param("POST", CONTAINER, 1, None, Transient, id="1 on container"),
        pytest.param("POST", PUBLISH, 2, None, InDoubt, id="2 on media_publish"),
        # ... and the app-level throttle.
        pytest.param("POST", CONTAINER, 4, None, RateLimited, id="4 on container"),
    ],
)  # fmt: skip
def test_graph_codes_on_instagram_calls_are_classified_as_documented(
    graph: GraphFake,
    ig: IgUser,
    method: str,
    where: str,
    code: int,
    subcode: int | None,
    expected: type[PublishError],
) -> None:
    graph.inject(method, where, "graph_error", code=code, subcode=subcode)
    error = publish(graph, ig)
    assert type(error) is expected, error


@pytest.mark.parametrize("fault", ["graph_error", "drop", "html_5xx"])
def test_a_status_read_lost_while_polling_is_read_again(
    graph: GraphFake, ig: IgUser, fault: str
) -> None:
    """Code 2 (temporary), a dropped connection or a front end's 5xx while reading the
    container's status: nothing is posted by a read, so it is read again within video_timeout
    (it used to fail the delivery and make a new container at the next run)."""
    opts = {"code": 2} if fault == "graph_error" else {}
    graph.inject("GET", r"/\d+$", fault, times=2, **opts)
    part = OutgoingPart("p|ig|2026-11-28T12:00:00Z", 0, 1, "Thank a teacher", "k", media=(IMAGE,))
    insta = publisher(graph, ig)
    try:
        insta.publish(part)
    finally:
        insta.close()
    assert len(graph.ig_media(ig)) == 1 and len(graph.containers(ig)) == 1
