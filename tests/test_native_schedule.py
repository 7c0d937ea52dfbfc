"""Posts waiting in a Facebook Page's own scheduler are part of the ledger: moved, edited or
removed in the files, they are withdrawn there exactly once and handed over anew; ``cancel``
copes with one already deleted there; ``status`` works offline and with an expired token; and
every page of the scheduler is read. Through the CLI in a real process, against the loopback
Graph fake, on the real clock (Facebook's window is judged on it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.conftest import Make
from tests.fakes.graph_api import GraphFake, Page
from tests.test_cli import run


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphFake]:
    monkeypatch.delenv("EDUADVOCATE_NOW")
    with GraphFake() as fake:
        yield fake


def config(graph: GraphFake, page: Page) -> str:
    return (
        "defaults: {timezone: UTC, accounts: [fb]}\naccounts:\n"
        f"  fb: {{platform: facebook, page_id: '{page.id}', access_token: '${{FB_TOKEN}}',"
        f" native_schedule: true, base_url: '{graph.base_url}'}}\n"
    )


START = datetime.now(UTC).replace(second=0, microsecond=0)


def hours(n: float) -> datetime:
    """A time ``n`` hours after the tests' start (fixed: a test that crosses a minute boundary
    still compares the same instants), whole minutes."""
    return START + timedelta(hours=n)


def post(at: datetime, text: str = "Budget hearing next week", post_id: str = "hearing") -> str:
    return f"posts:\n  - id: {post_id}\n    at: {at:%Y-%m-%dT%H:%M:%SZ}\n    text: {text}\n"


def waiting(graph: GraphFake, page: Page) -> list[tuple[str, float | None]]:
    return [
        (p.message, p.scheduled_publish_time)
        for p in graph.posts(page)
        if p.scheduled_publish_time and not p.published
    ]


def status(*args: str) -> dict[str, Any]:
    result = run("status", "--format", "json", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_moving_a_waiting_post_reschedules_it_once(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    root = make_campaign(post(hours(2)), config=config(graph, page))
    assert run("publish").returncode == 0
    assert waiting(graph, page) == [("Budget hearing next week", hours(2).timestamp())]
    (root / "posts" / "posts.yaml").write_text(post(hours(3)))
    moved = run("publish", "--format", "json")
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert len(json.loads(moved.stdout)["withdrawn"]) == 1
    assert waiting(graph, page) == [("Budget hearing next week", hours(3).timestamp())]
    shown = sorted(d["state"] for d in status()["deliveries"])
    assert shown == ["cancelled", "scheduled"]
    assert run("publish").returncode == 0  # nothing more to do
    assert len(waiting(graph, page)) == 1


def test_editing_a_waiting_posts_text_replaces_it(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    root = make_campaign(post(hours(2)), config=config(graph, page))
    assert run("publish").returncode == 0
    (root / "posts" / "posts.yaml").write_text(post(hours(2), "Budget hearing moved to room 4"))
    assert run("publish").returncode == 0
    assert waiting(graph, page) == [("Budget hearing moved to room 4", hours(2).timestamp())]
    (d,) = status()["deliveries"]
    assert (d["state"], d["drifted"]) == ("scheduled", False)


def test_removing_a_waiting_post_deletes_it_there(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    root = make_campaign(
        {"a.yaml": post(hours(2)), "b.yaml": post(hours(5), "Another", "other")},
        config=config(graph, page),
    )
    assert run("publish").returncode == 0
    assert len(waiting(graph, page)) == 2
    (root / "posts" / "a.yaml").write_text("posts: []\n")
    result = run("publish")
    assert result.returncode == 0, result.stdout + result.stderr
    assert [m for m, _ in waiting(graph, page)] == ["Another"]
    states = {d["post"]: d["state"] for d in status()["deliveries"]}
    assert states == {"hearing": "cancelled", "other": "scheduled"}


def test_a_post_whose_file_cannot_be_read_stays_in_facebooks_scheduler(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    root = make_campaign(post(hours(2)), config=config(graph, page))
    assert run("publish").returncode == 0
    (root / "posts" / "posts.yaml").write_text("posts: [unclosed\n")
    assert run("publish").returncode == 3
    assert len(waiting(graph, page)) == 1
    assert [d["state"] for d in status()["deliveries"]] == ["scheduled"]


def test_a_move_while_facebook_cannot_delete_hands_nothing_new_over(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    root = make_campaign(post(hours(2)), config=config(graph, page))
    assert run("publish").returncode == 0
    (root / "posts" / "posts.yaml").write_text(post(hours(3)))
    graph.inject("DELETE", r".", "html_5xx", times=None)
    result = run("publish")
    assert "could not take it out of the platform's scheduler" in result.stderr
    assert waiting(graph, page) == [("Budget hearing next week", hours(2).timestamp())]
    graph.clear_faults()
    assert run("publish").returncode == 0
    assert waiting(graph, page) == [("Budget hearing next week", hours(3).timestamp())]


def test_cancel_of_a_post_already_deleted_in_facebook_succeeds_and_says_so(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    make_campaign(post(hours(2)), config=config(graph, page))
    assert run("publish").returncode == 0
    (d,) = status()["deliveries"]
    remote = d["parts"][0]["id"]
    requests.delete(
        f"{graph.base_url}/v21.0/{remote}", params={"access_token": page.access_token}, timeout=10
    )
    result = run("cancel", str(d["id"]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "already been deleted" in result.stdout
    assert [x["state"] for x in status()["deliveries"]] == ["cancelled"]


def test_status_works_offline_and_with_an_expired_token(
    graph: GraphFake, page: Page, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_campaign(post(hours(2)), config=config(graph, page))
    assert run("publish").returncode == 0
    monkeypatch.setenv("FB_TOKEN", "an-expired-token")
    expired = run("status")
    assert expired.returncode == 0, expired.stdout + expired.stderr
    assert "could not refresh" in expired.stderr and "scheduled" in expired.stdout
    monkeypatch.setenv("FB_TOKEN", page.access_token)
    graph.stop()  # offline
    offline = run("status", "--format", "json")
    assert offline.returncode == 0, offline.stdout + offline.stderr
    data = json.loads(offline.stdout)
    assert [d["state"] for d in data["deliveries"]] == ["scheduled"]
    assert "could not refresh" in data["warnings"][0]


def test_status_reads_every_page_of_facebooks_scheduler(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    start = hours(2)
    posts = "posts:\n" + "".join(
        f"  - id: p{i}\n    at: {start + timedelta(minutes=i):%Y-%m-%dT%H:%M:%SZ}\n"
        f"    text: Reminder number {i}\n"
        for i in range(130)
    )
    make_campaign(posts, config=config(graph, page))
    assert run("publish").returncode == 0
    assert len(waiting(graph, page)) == 130
    states = [d["state"] for d in status()["deliveries"]]
    assert states == ["scheduled"] * 130  # none wrongly taken for deleted
