"""Facebook Page and Instagram adapters end to end, through their real HTTP sessions, against the
loopback Graph API fake (tokens checked, containers, quotas, Graph error bodies, HTML 5xx pages)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from eduadvocate.campaign.workspace import open_campaign
from eduadvocate.delivery.publish import publish_due
from eduadvocate.ledger import open_ledger
from eduadvocate.platforms.graph_api import Graph, graph_cause
from eduadvocate.platforms.publishing import InDoubt, PublishError, RateLimited, Transient
from tests import launch
from tests.conftest import REPO, Make
from tests.fakes.graph_api import GraphFake, IgUser, Page
from tests.mp4 import video_bytes
from tests.test_cli import run

BASE = "https://media.fundspringfieldschools.example/campaign/"


@pytest.fixture
def graph() -> Iterator[GraphFake]:
    with GraphFake() as fake:
        fake.set_container_delay(0)
        yield fake


@pytest.fixture
def page(graph: GraphFake, monkeypatch: pytest.MonkeyPatch) -> Page:
    page = graph.add_page(name="Springfield PTA")
    monkeypatch.setenv("FB_TOKEN", page.access_token)
    return page


@pytest.fixture
def ig(graph: GraphFake, page: Page) -> IgUser:
    return graph.add_ig_user(page=page, media_base_url=BASE, username="springfieldpta")


def _config(graph: GraphFake, page: Page, ig: IgUser | None = None) -> str:
    text = (
        "defaults: {timezone: UTC, accounts: [fb]}\naccounts:\n"
        f"  fb: {{platform: facebook, page_id: '{page.id}', access_token: '${{FB_TOKEN}}', base_url: '{graph.base_url}'}}\n"
    )
    if ig is not None:
        text += (
            f"  ig: {{platform: instagram, ig_user_id: '{ig.id}', access_token: '${{FB_TOKEN}}',"
            f" media_base_url: '{BASE}', base_url: '{graph.base_url}'}}\n"
        )
    return text


def _media(root: Path, *names: str) -> None:
    (root / "media").mkdir(exist_ok=True)
    for name in names:
        shutil.copy(REPO / "media" / "testimonial-garcia.jpg", root / "media" / name)


def test_text_post_and_permalink(graph: GraphFake, page: Page, make_campaign: Make) -> None:
    make_campaign(
        "utm: false\nposts:\n  - id: p\n    at: now\n    text: Budget hearing Thursday https://example.org\n",
        config=_config(graph, page),
    )
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert outcome.state == "published", outcome.error
    (post,) = graph.posts(page)
    assert post.message == "Budget hearing Thursday https://example.org"
    assert outcome.parts == [(post.id, f"https://www.facebook.com/{post.id}")]


def test_photo_and_multi_photo_posts_keep_alt_text(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    root = make_campaign(
        "posts:\n"
        "  - id: one\n    at: now\n    text: One photo\n    media: [{path: media/a.jpg, alt: A teacher}]\n"
        "  - id: two\n    at: now\n    text: Two photos\n"
        "    media: [{path: media/a.jpg, alt: A teacher}, {path: media/b.jpg, alt: A classroom}]\n",
        config=_config(graph, page),
    )
    _media(root, "a.jpg", "b.jpg")
    outcomes = publish_due(open_campaign(None)).outcomes
    assert sorted(o.state for o in outcomes) == ["published", "published"]
    alts = sorted(p.alt_text_custom for p in graph.photos(page))
    assert alts == ["A classroom", "A teacher", "A teacher"]
    messages = sorted(p.message for p in graph.posts(page))
    assert "Two photos" in messages


def test_expired_token_fails_with_a_renewal_hint(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    root = make_campaign(
        "posts:\n  - id: p\n    at: now\n    text: Hi\n", config=_config(graph, page)
    )
    graph.expire_token(page.access_token)
    result = run("publish", "--format", "json")
    assert result.returncode == 5
    (d,) = json.loads(result.stdout)["deliveries"]
    assert (d["state"], d["error_kind"]) == ("failed", "auth")
    assert "renew the Page access token" in d["error"]
    everything = (
        result.stdout
        + result.stderr
        + (root / ".eduadvocate" / "ledger.sqlite3").read_bytes().decode("latin-1")
    )
    assert page.access_token not in everything


def test_throttling_waits_as_the_usage_headers_say(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    root = make_campaign(
        "posts:\n  - id: p\n    at: now\n    text: Hi\n", config=_config(graph, page)
    )
    graph.inject("POST", r"/feed$", "graph_error", code=32, regain_minutes=45)
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert (outcome.state, outcome.error_kind) == ("pending", "rate-limited")
    ledger = open_ledger(".eduadvocate/ledger.sqlite3", root)
    held = ledger.account_deferred_until("fb", open_campaign(None).now)
    ledger.close()
    assert held is not None


def test_html_error_page_is_in_doubt_then_reconciled(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    make_campaign(
        "posts:\n  - id: p\n    at: now\n    text: Rally at noon\n", config=_config(graph, page)
    )
    graph.inject("POST", r"/feed$", "html_5xx", status=503)
    (outcome,) = publish_due(open_campaign(None)).outcomes
    # Nothing was stored, so the lookup finds nothing and it is sent again later.
    assert (outcome.state, outcome.error_kind) == ("pending", "transient")
    assert graph.posts(page) == []


def test_stored_then_dropped_is_found_on_the_page(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    make_campaign(
        "posts:\n  - id: p\n    at: now\n    text: Rally at noon\n", config=_config(graph, page)
    )
    graph.inject("POST", r"/feed$", "store_then_drop")
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert outcome.state == "published", outcome.error
    assert len(graph.posts(page)) == 1


def test_instagram_single_and_carousel(
    graph: GraphFake, page: Page, ig: IgUser, make_campaign: Make
) -> None:
    root = make_campaign(
        "defaults_ignored: 1\n"
        if False
        else "accounts: [ig]\nposts:\n"
        "  - id: one\n    at: now\n    text: 'Thank a teacher #ThankATeacher'\n    media: [{path: media/a.jpg, alt: A teacher}]\n"
        "  - id: car\n    at: now\n    text: Our classrooms\n"
        "    media: [{path: media/a.jpg, alt: A teacher}, {path: media/b.jpg, alt: A classroom}]\n",
        config=_config(graph, page, ig),
    )
    _media(root, "a.jpg", "b.jpg")
    outcomes = {o.post: o for o in publish_due(open_campaign(None)).outcomes}
    assert {k: o.state for k, o in outcomes.items()} == {"one": "published", "car": "published"}, (
        outcomes
    )
    top = [m for m in graph.ig_media(ig) if m.parent_id is None]
    assert sorted(m.caption for m in top) == ["Our classrooms", "Thank a teacher #ThankATeacher"]
    urls = sorted(c.url for c in graph.containers(ig) if c.url)
    assert urls[0] == BASE + "media/a.jpg"


def test_instagram_quota_defers(
    graph: GraphFake, page: Page, ig: IgUser, make_campaign: Make
) -> None:
    root = make_campaign(
        "accounts: [ig]\nposts:\n  - id: one\n    at: now\n    text: Hi\n    media: [{path: media/a.jpg, alt: A}]\n",
        config=_config(graph, page, ig),
    )
    _media(root, "a.jpg")
    graph.set_publishing_limit(ig, 0)
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert (outcome.state, outcome.error_kind) == ("pending", "rate-limited")
    assert graph.ig_media(ig) == []


def test_instagram_in_doubt_publish_is_found_by_caption(
    graph: GraphFake, page: Page, ig: IgUser, make_campaign: Make
) -> None:
    root = make_campaign(
        "accounts: [ig]\nposts:\n  - id: one\n    at: now\n    text: Found by caption\n    media: [{path: media/a.jpg, alt: A}]\n",
        config=_config(graph, page, ig),
    )
    _media(root, "a.jpg")
    graph.inject("POST", r"/media_publish$", "store_then_drop")
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert outcome.state == "published", outcome.error
    assert len(graph.ig_media(ig)) == 1


def test_accounts_verify(graph: GraphFake, page: Page, ig: IgUser, make_campaign: Make) -> None:
    make_campaign("posts: []\n", config=_config(graph, page, ig))
    result = run("accounts", "verify", "--format", "json")
    assert result.returncode == 0, result.stdout
    details = {a["account"]: a["detail"] for a in json.loads(result.stdout)["accounts"]}
    assert details["fb"].startswith("Page Springfield PTA")
    assert details["ig"].startswith("@springfieldpta")


def test_verify_refuses_a_token_that_cannot_post(
    graph: GraphFake, page: Page, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    weak = graph.add_token(page, scopes=("pages_show_list",))
    monkeypatch.setenv("FB_TOKEN", weak)
    make_campaign("posts: []\n", config=_config(graph, page))
    result = run("accounts", "verify", "--format", "json")
    assert result.returncode == 3
    (acc,) = json.loads(result.stdout)["accounts"]
    assert "pages_manage_posts" in acc["detail"]
    assert weak not in result.stdout


def _in(hours: float) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_native_scheduling_hands_posts_to_facebook_and_cancel_deletes_them(
    graph: GraphFake, page: Page, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDUADVOCATE_NOW")  # Facebook's window is judged on the real clock
    config = _config(graph, page).replace("base_url:", "native_schedule: true, base_url:")
    root = make_campaign(
        "posts:\n"
        f"  - id: later\n    at: {_in(2)}\n    text: Hearing in two hours\n"
        f"  - id: photo\n    at: {_in(3)}\n    text: With a photo\n    media: [{{path: media/a.jpg, alt: A}}]\n"
        f"  - id: soon\n    at: {_in(0.1)}\n    text: Too soon for Facebook's scheduler\n"
        f"  - id: far\n    at: {_in(24 * 40)}\n    text: Beyond 30 days\n",
        config=config,
    )
    _media(root, "a.jpg")
    result = run("publish", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    states = {d["post"]: d["state"] for d in json.loads(result.stdout)["deliveries"]}
    # photo: published when due; soon: too soon for Facebook, published when due too
    assert states == {"later": "scheduled", "photo": "pending", "soon": "pending"}
    assert all(not p.published for p in graph.posts(page))
    waiting = [p for p in graph.posts(page) if p.scheduled_publish_time]
    assert [p.message for p in waiting] == ["Hearing in two hours"]

    status = json.loads(run("status", "--format", "json").stdout)["deliveries"]
    later = next(d for d in status if d["post"] == "later")
    assert later["state"] == "scheduled"
    assert later["scheduled_for"] is not None

    again = run("publish", "--format", "json")
    assert json.loads(again.stdout)["deliveries"] == []  # nothing handed over twice

    assert run("cancel", str(later["id"])).returncode == 0
    assert [p for p in graph.posts(page) if p.scheduled_publish_time] == []
    after = {
        d["post"]: d["state"]
        for d in json.loads(run("status", "--format", "json").stdout)["deliveries"]
    }
    assert after["later"] == "cancelled"


def test_status_notices_a_scheduled_post_deleted_on_facebook(
    graph: GraphFake, page: Page, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDUADVOCATE_NOW")
    config = _config(graph, page).replace("base_url:", "native_schedule: true, base_url:")
    make_campaign(
        f"posts:\n  - id: later\n    at: {_in(5)}\n    text: Will be deleted there\n", config=config
    )
    assert run("publish").returncode == 0
    (waiting,) = [p for p in graph.posts(page) if p.scheduled_publish_time]
    import requests

    requests.delete(
        f"{graph.base_url}/v21.0/{waiting.id}",
        params={"access_token": page.access_token},
        timeout=10,
    )
    (d,) = json.loads(run("status", "--format", "json").stdout)["deliveries"]
    assert d["state"] == "cancelled"


def test_instagram_video_goes_out_as_a_reel(
    graph: GraphFake, page: Page, ig: IgUser, make_campaign: Make
) -> None:
    root = make_campaign(
        "accounts: [ig]\nposts:\n  - id: reel\n    at: now\n    text: Our rally in 30 seconds\n"
        "    media: [{path: media/rally.mp4, alt: Parents marching}]\n",
        config=_config(graph, page, ig),
    )
    (root / "media").mkdir()
    # A real (tiny) MP4, silent: check reads its boxes and holds a broken one.
    (root / "media" / "rally.mp4").write_bytes(video_bytes(audio=False) + bytes(2000))
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert outcome.state == "published", outcome.error
    (container,) = graph.containers(ig)
    assert (container.media_type, container.url) == ("REELS", BASE + "media/rally.mp4")
    (media,) = graph.ig_media(ig)
    assert (media.product_type, media.caption) == ("REELS", "Our rally in 30 seconds")


def test_schedule_hands_posts_to_facebook_ahead_too(
    graph: GraphFake, page: Page, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal
    import subprocess
    import time

    monkeypatch.delenv("EDUADVOCATE_NOW")  # a long-running worker on the real clock
    config = _config(graph, page).replace("base_url:", "native_schedule: true, base_url:")
    root = make_campaign(
        "posts:\n"
        f"  - id: later\n    at: {_in(2)}\n    text: Hearing in two hours\n"
        f"  - id: next-week\n    at: {_in(24 * 7)}\n    text: A week from now\n",
        config=config,
    )
    proc = subprocess.Popen(
        launch.command("schedule"),
        cwd=root,
        env=launch.environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len([p for p in graph.posts(page) if p.scheduled_publish_time]) < 2:
            assert time.monotonic() < deadline, "nothing handed to Facebook's scheduler"
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err  # stopped by SIGTERM
    assert sorted(p.message for p in graph.posts(page) if p.scheduled_publish_time) == [
        "A week from now",
        "Hearing in two hours",
    ]
    status = json.loads(run("status", "--format", "json").stdout)["deliveries"]
    assert {d["post"]: d["state"] for d in status} == {
        "later": "scheduled",
        "next-week": "scheduled",
    }


# -- the Graph client: what a mapped error keeps ---------------------------------------------------
def _graph(graph: GraphFake, page: Page, make_campaign: Make) -> Graph:
    make_campaign("posts: []\n", config=_config(graph, page))
    return Graph(open_campaign(None).config.accounts["fb"])


def _mapped(client: Graph, call: Callable[[], object], *, sending: bool) -> PublishError:
    try:
        with client.mapped(sending=sending, what="Facebook"):
            call()
    except PublishError as exc:
        return exc
    finally:
        client.close()
    raise AssertionError("the call succeeded: expected an error")


def test_a_graph_error_keeps_the_status_the_error_body_and_the_usage_headers(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    """The error an adapter raises was mapped from a GraphError that holds Graph's whole answer,
    on this call's own response (no shared "last response")."""
    client = _graph(graph, page, make_campaign)
    graph.inject("POST", r"/feed$", "graph_error", code=4, regain_minutes=30, status=403)
    error = _mapped(client, lambda: client.post(f"{page.id}/feed", {"message": "Hi"}), sending=True)
    assert isinstance(error, RateLimited)
    found = graph_cause(error)
    assert found is not None
    assert (found.status, found.code) == (403, 4)
    assert isinstance(found.body, dict) and found.body["error"]["fbtrace_id"]
    assert "x-app-usage" in {name.lower() for name in found.response.headers}
    assert page.access_token not in str(found) and page.access_token not in str(error)


def test_an_html_page_keeps_its_status_and_text(
    graph: GraphFake, page: Page, make_campaign: Make
) -> None:
    client = _graph(graph, page, make_campaign)
    graph.inject("GET", r"/scheduled_posts$", "html_5xx", status=502)
    error = _mapped(client, lambda: client.get(f"{page.id}/scheduled_posts"), sending=False)
    assert type(error) is Transient
    found = graph_cause(error)
    assert found is not None and (found.status, found.body, found.code) == (502, None, None)
    assert "Sorry, something went wrong" in found.response.text


@pytest.mark.parametrize(("sending", "expected"), [(True, InDoubt), (False, Transient)])
def test_a_2xx_answer_that_is_not_graph_json_is_in_doubt_while_posting(
    graph: GraphFake,
    page: Page,
    make_campaign: Make,
    sending: bool,
    expected: type[PublishError],
) -> None:
    """Whatever answered 200 may have passed the post on: looked up before a retry, never
    marked failed while it may be on the Page."""
    client = _graph(graph, page, make_campaign)
    graph.inject("*", r"/feed$", "html_5xx", status=200)
    if sending:
        error = _mapped(
            client, lambda: client.post(f"{page.id}/feed", {"message": "Hi"}), sending=True
        )
    else:
        error = _mapped(client, lambda: client.get(f"{page.id}/feed"), sending=False)
    assert type(error) is expected, error
    assert str(error) == "Facebook answered 200" + (" while posting" if sending else "")
