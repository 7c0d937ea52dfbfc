"""How the Facebook Page publisher classifies Graph API errors: each row sends a real request
through the adapter and its ``requests`` session to the loopback Graph fake, which answers with the
documented error body (and usage headers), and the resulting error class is checked.

Sources: Graph API "Handling Errors"
(https://developers.facebook.com/docs/graph-api/guides/error-handling) for the codes, their
recovery tactics and the authentication subcodes; Graph API "Rate Limiting"
(https://developers.facebook.com/docs/graph-api/overview/rate-limiting) for the throttling codes
and ``estimated_time_to_regain_access``. Instagram's subcodes are in test_instagram_publisher.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from eduadvocate.config.model import AccountConfig
from eduadvocate.core.errors import Location
from eduadvocate.platforms.facebook_page.client import FacebookPublisher
from eduadvocate.platforms.publishing import (
    AuthFailed,
    InDoubt,
    OutgoingPart,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
)
from tests.adapters.raised import raised
from tests.fakes.graph_api import GraphFake, Page

FEED = r"/feed$"
SCHEDULED = r"/scheduled_posts$"


@pytest.fixture
def graph() -> Iterator[GraphFake]:
    with GraphFake() as fake:
        yield fake


@pytest.fixture
def page(graph: GraphFake) -> Page:
    return graph.add_page(name="Springfield PTA")


def publisher(graph: GraphFake, page: Page) -> FacebookPublisher:
    settings: dict[str, str | int | bool] = {
        "page_id": page.id,
        "access_token": page.access_token,
        "base_url": graph.base_url,
    }
    return FacebookPublisher(AccountConfig("fb", "facebook", settings, Location("config.yaml")))


def post_error(graph: GraphFake, page: Page) -> PublishError:
    """Publish one text post (``POST /{page}/feed``: it may create a post)."""
    part = OutgoingPart("p|fb|2026-11-28T12:00:00Z", 0, 1, "Budget hearing", "k")
    return raised(publisher(graph, page), lambda fb: fb.publish(part))


def read_error(graph: GraphFake, page: Page) -> PublishError:
    """Read the Page's scheduler (a GET: it cannot create anything)."""
    return raised(publisher(graph, page), lambda fb: fb.scheduled_ids())


# (options of the injected graph_error, class when posting, class when reading, minutes to wait)
ROWS: list[tuple[str, dict[str, Any], type[PublishError], type[PublishError], int | None]] = [
    # 1 API Unknown, 2 API Service: "temporary issue due to downtime. Wait and retry". While
    # posting Graph may have created the post anyway: in doubt, looked up before a retry.
    ("1 unknown", {"code": 1}, InDoubt, Transient, None),
    ("2 service", {"code": 2}, InDoubt, Transient, None),
    ("1 with HTTP 500", {"code": 1, "status": 500}, InDoubt, Transient, None),
    # A JSON error of any code with HTTP 5xx is a server failure too.
    ("100 with HTTP 503", {"code": 100, "status": 503}, InDoubt, Transient, None),
    # 3 API Method: "capability or permissions issue"; 10 and 200-299 API Permission: "permission
    # not granted or removed"; 102 API Session and 190 "access token has expired": a person acts.
    ("3 capability", {"code": 3}, AuthFailed, AuthFailed, None),
    ("10 permission", {"code": 10}, AuthFailed, AuthFailed, None),
    ("200 permission", {"code": 200}, AuthFailed, AuthFailed, None),
    ("210 permission", {"code": 210}, AuthFailed, AuthFailed, None),
    ("299 permission", {"code": 299}, AuthFailed, AuthFailed, None),
    ("102 session", {"code": 102}, AuthFailed, AuthFailed, None),
    ("190 token", {"code": 190}, AuthFailed, AuthFailed, None),
    # Authentication subcodes: 458 app not installed, 459 user checkpointed, 460 password
    # changed, 463 expired, 464 unconfirmed user, 467 invalid access token, 492 invalid session.
    *[
        (f"190/{sub}", {"code": 190, "subcode": sub}, AuthFailed, AuthFailed, None)
        for sub in (458, 459, 460, 463, 464, 467, 492)
    ],
    # 4 API Too Many Calls, 17 API User Too Many Calls, 341 Application limit reached; "Rate
    # Limiting": 32 Page request limit, 613 rate limit, 80001 Pages business use case: wait as the
    # usage headers' estimated_time_to_regain_access says.
    ("4 app throttle", {"code": 4, "regain_minutes": 30}, RateLimited, RateLimited, 30),
    ("17 user throttle", {"code": 17, "regain_minutes": 20}, RateLimited, RateLimited, 20),
    ("32 page throttle", {"code": 32, "regain_minutes": 45}, RateLimited, RateLimited, 45),
    ("341 app limit", {"code": 341, "regain_minutes": 10}, RateLimited, RateLimited, 10),
    ("613 rate limit", {"code": 613, "regain_minutes": 5}, RateLimited, RateLimited, 5),
    ("80001 pages BUC", {"code": 80001, "regain_minutes": 12}, RateLimited, RateLimited, 12),
    # 368 "Temporarily blocked for policies violations: wait and retry the operation" (no time is
    # given: an hour).
    ("368 policy block", {"code": 368}, RateLimited, RateLimited, 60),
    # 100 invalid parameter (33: the object does not exist or is not visible), 1609005 "Error
    # posting link": permanent for this content.
    ("100 invalid", {"code": 100}, Rejected, Rejected, None),
    ("100/33 missing object", {"code": 100, "subcode": 33}, Rejected, Rejected, None),
    ("1609005 link", {"code": 1609005}, Rejected, Rejected, None),
]


@pytest.mark.parametrize(
    ("options", "posting", "reading", "minutes"),
    [pytest.param(*row[1:], id=row[0]) for row in ROWS],
)
def test_graph_error_codes_are_classified_as_documented(
    graph: GraphFake,
    page: Page,
    options: dict[str, Any],
    posting: type[PublishError],
    reading: type[PublishError],
    minutes: int | None,
) -> None:
    graph.inject("POST", FEED, "graph_error", **options)
    graph.inject("GET", SCHEDULED, "graph_error", **options)
    sent, read = post_error(graph, page), read_error(graph, page)
    assert (type(sent), type(read)) == (posting, reading), (sent, read)
    assert graph.posts(page) == []
    for error in (sent, read):
        assert page.access_token not in str(error)
        if minutes is not None:
            assert isinstance(error, RateLimited) and error.retry_at is not None
            wait = error.retry_at - datetime.now(UTC)
            assert wait == pytest.approx(timedelta(minutes=minutes), abs=timedelta(minutes=1))


def test_506_duplicate_post_is_a_duplicate(graph: GraphFake, page: Page) -> None:
    """506 "Duplicate Post: duplicate posts cannot be published consecutively": a rejection marked
    as a duplicate, so dispatch looks for an earlier attempt that went out."""
    graph.add_post(page, "Budget hearing")  # the fake answers 506 itself, as Graph does
    error = post_error(graph, page)
    assert isinstance(error, Rejected) and error.duplicate, error
    assert len(graph.posts(page)) == 1


def test_html_error_page_is_in_doubt_while_posting_and_transient_while_reading(
    graph: GraphFake, page: Page
) -> None:
    """A front end's HTML 502/503 page, not Graph's JSON: classified by the HTTP status."""
    graph.inject("POST", FEED, "html_5xx", status=502)
    graph.inject("GET", SCHEDULED, "html_5xx", status=503)
    assert type(post_error(graph, page)) is InDoubt
    assert type(read_error(graph, page)) is Transient


def test_a_malformed_token_echoed_by_graph_never_reaches_the_message(
    graph: GraphFake, page: Page
) -> None:
    """Graph's 190 for a malformed token repeats the token in its message."""
    echoed = f"Malformed access token {page.access_token}"
    graph.inject("POST", FEED, "graph_error", code=190, message=echoed)
    error = post_error(graph, page)
    assert isinstance(error, AuthFailed)
    assert page.access_token not in str(error) and "Malformed access token" in str(error)
