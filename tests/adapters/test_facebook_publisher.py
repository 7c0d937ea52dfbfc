"""The Facebook Page publisher called directly, through the real facebook-sdk, against the loopback
Graph API fake: the Page's scheduler read to the end, deleting a post that is already gone, and
the post's link sent in Graph's ``link`` field."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eduadvocate.config import AccountConfig
from eduadvocate.errors import Location
from eduadvocate.platforms.facebook_client import FacebookPublisher
from eduadvocate.platforms.publishing import Attachment, OutgoingPart
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
