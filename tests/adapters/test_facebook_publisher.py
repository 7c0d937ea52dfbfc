"""The Facebook Page publisher called directly, through its real HTTP session, against the loopback
Graph API fake: the Page's scheduler read to the end, deleting a post that is already gone, and
the post's link sent in Graph's ``link`` field."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eduadvocate.config.model import AccountConfig
from eduadvocate.core.errors import Location
from eduadvocate.platforms.facebook_page.client import FacebookPublisher
from eduadvocate.platforms.publishing import (
    Attachment,
    AuthFailed,
    OutgoingPart,
    RateLimited,
    Rejected,
    Transient,
)
from tests.conftest import REPO
from tests.fakes.graph_api import GraphFake, Page


@pytest.fixture
def graph() -> Iterator[GraphFake]:
    with GraphFake() as fake:
        yield fake


@pytest.fixture
def page(graph: GraphFake) -> Page:
    return graph.add_page(name="Springfield PTA")


def publisher(graph: GraphFake, page: Page, token: str | None = None) -> FacebookPublisher:
    settings: dict[str, str | int | bool] = {
        "page_id": page.id,
        "access_token": token or page.access_token,
        "base_url": graph.base_url,
    }
    return FacebookPublisher(AccountConfig("fb", "facebook", settings, Location("config.yaml")))


def part(text: str, *, link: str | None = None, media: tuple[Attachment, ...] = ()) -> OutgoingPart:
    return OutgoingPart("p|fb|2026-11-28T12:00:00Z", 0, 1, text, "k", media=media, link=link)


def test_scheduled_ids_reads_every_page_of_the_scheduler(graph: GraphFake, page: Page) -> None:
    """250 posts wait in the Page's scheduler: all of them are reported, not the first 100 (the
    rest would be taken for deleted on Facebook and their deliveries cancelled)."""
    start = graph.now() + 3600
    waiting = {
        graph.add_post(page, f"post {i}", scheduled_for=start + i * 60).id for i in range(250)
    }
    graph.add_post(page, "already live")
    fb = publisher(graph, page)
    assert fb.scheduled_ids() == waiting
    fb.close()
    asked = [r for r in graph.requests if r.path.endswith("/scheduled_posts")]
    assert len(asked) == 3 and all(r.params["limit"] == "100" for r in asked)


def test_delete_is_true_then_false_once_the_post_is_gone(graph: GraphFake, page: Page) -> None:
    """Graph answers deleting a post that is not there (any more) with ``(#100)`` subcode 33,
    "Unsupported delete request. Object with ID … does not exist": that is "already gone"."""
    waiting = graph.add_post(page, "Hearing moved", scheduled_for=graph.now() + 7200)
    fb = publisher(graph, page)
    assert fb.delete(waiting.id) is True
    assert graph.posts(page) == []
    assert fb.delete(waiting.id) is False  # deleted already (here: by us; or by hand on the Page)
    assert fb.delete(f"{page.id}_122000000000000001") is False  # never existed
    fb.close()


def test_delete_with_another_pages_token_is_not_taken_for_gone(
    graph: GraphFake, page: Page
) -> None:
    """Subcode 33 also means "cannot be loaded due to missing permissions": when the Page itself
    cannot be read with the token, the post is not declared gone."""
    post = graph.add_post(page, "Still scheduled", scheduled_for=graph.now() + 7200)
    other = graph.add_page(name="Another Page")
    fb = publisher(graph, page, token=other.access_token)
    with pytest.raises(Rejected):
        fb.delete(post.id)
    fb.close()
    assert [p.id for p in graph.posts(page)] == [post.id]


@pytest.mark.parametrize(
    ("code", "subcode", "expected"),
    [
        pytest.param(190, 463, AuthFailed, id="190/463 token expired"),
        pytest.param(200, None, AuthFailed, id="200 permission"),
        pytest.param(2, None, Transient, id="2 service unavailable"),
        pytest.param(32, None, RateLimited, id="32 page request limit"),
        pytest.param(100, None, Rejected, id="100 without subcode 33"),
    ],
)
def test_other_delete_errors_still_map(
    graph: GraphFake, page: Page, code: int, subcode: int | None, expected: type[Exception]
) -> None:
    post = graph.add_post(page, "Scheduled", scheduled_for=graph.now() + 7200)
    graph.inject("DELETE", post.id, "graph_error", code=code, subcode=subcode)
    fb = publisher(graph, page)
    with pytest.raises(expected):
        fb.delete(post.id)
    fb.close()
    assert len(graph.posts(page)) == 1


LINK = "https://fundspringfieldschools.org/testify?utm_source=facebook"
TEXT = f"Testify at the budget hearing {LINK}"


def test_a_text_post_sends_its_link_in_the_link_field(graph: GraphFake, page: Page) -> None:
    """Graph shows a preview card for ``link``; the message stays as rendered."""
    fb = publisher(graph, page)
    published = fb.publish(part(TEXT, link=LINK))
    fb.close()
    (post,) = graph.posts(page)
    assert (post.id, post.message, post.link) == (published.remote_id, TEXT, LINK)
    (sent,) = [r for r in graph.requests if r.method == "POST"]
    assert (sent.path.endswith("/feed"), sent.params["link"]) == (True, LINK)


def test_a_post_without_a_link_sends_no_link_field(graph: GraphFake, page: Page) -> None:
    fb = publisher(graph, page)
    fb.publish(part("No link today"))
    fb.close()
    (sent,) = [r for r in graph.requests if r.method == "POST"]
    assert "link" not in sent.params
    assert graph.posts(page)[0].link is None


def test_natively_scheduled_post_sends_its_link_too(graph: GraphFake, page: Page) -> None:
    from datetime import UTC, datetime, timedelta

    fb = publisher(graph, page)
    at = datetime.now(UTC) + timedelta(hours=2)
    scheduled = fb.schedule(part(TEXT, link=LINK), at)
    fb.close()
    (post,) = graph.posts(page)
    assert (post.id, post.message, post.link, post.published) == (
        scheduled.remote_id,
        TEXT,
        LINK,
        False,
    )
    assert post.scheduled_publish_time == int(at.timestamp())


@pytest.mark.parametrize("photos", [1, 2])
def test_photo_posts_keep_the_link_in_the_message_only(
    graph: GraphFake, page: Page, photos: int
) -> None:
    """The photos endpoint has no ``link`` field, and a link on a multi-photo feed post would
    replace the photos with a link card."""
    image = Attachment(REPO / "media" / "testimonial-garcia.jpg", "A teacher", "image/jpeg")
    fb = publisher(graph, page)
    fb.publish(part(TEXT, link=LINK, media=(image,) * photos))
    fb.close()
    assert all("link" not in r.params for r in graph.requests)
    (post,) = graph.posts(page)
    assert (post.message, post.link, len(post.photo_ids)) == (TEXT, None, photos)
