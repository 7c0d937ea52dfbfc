"""Fixtures for tests against the Graph API fake (registered in tests/conftest.py): ``graph``,
the fake on loopback, and ``page``, a Page on it whose token is in ``$FB_TOKEN`` (as the
tests' configs write it, ``'${FB_TOKEN}'``). A test module that needs them otherwise defines its
own, which pytest prefers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.graph_api import GraphFake, Page


@pytest.fixture
def graph() -> Iterator[GraphFake]:
    with GraphFake() as fake:
        yield fake


@pytest.fixture
def page(graph: GraphFake, monkeypatch: pytest.MonkeyPatch) -> Page:
    page = graph.add_page(name="Springfield PTA")
    monkeypatch.setenv("FB_TOKEN", page.access_token)
    return page
