"""``eduadvocate inbox`` on a Facebook Page and on Instagram, against the loopback Graph API fake
(tests/fakes/graph_api.py): the real CLI publishes a campaign post to both, other people comment
on it and reply to a comment, the Page and the Instagram account answer too; ``inbox pull`` then
``inbox`` show exactly the others' comments, each tied to the campaign post (a reply to the
comment it answers). Pulling twice adds nothing; long comment lists are read page by page (and
an Instagram comment's many replies beyond the nested page; a property over any conversation
and page size); a token that may not read comments is one line naming the permission while the
other account is still pulled, as is a throttled read until the next pull; a deleted post is no
failure; no token is ever shown or stored."""

from __future__ import annotations

import json
import shutil
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eduadvocate.config.model import AccountConfig
from eduadvocate.core.errors import Location
from eduadvocate.platforms.facebook_page.client import FacebookPublisher
from eduadvocate.platforms.instagram.client import InstagramPublisher
from eduadvocate.platforms.publishing import Publisher
from tests.conftest import REPO, Make
from tests.fakes.graph_api import DEFAULT_SCOPES, GraphFake, IgUser, Page
from tests.test_cli import run

MEDIA_BASE = "https://m.example/c/"
POSTS = """\
posts:
  - id: hearing
    at: now
    text: Budget hearing Thursday #FundOurSchools
    media: [{path: m.jpg, alt: A full hearing room}]
"""
FB_REFUSAL = (
    "refused fb: the token may not read comments (#10): grant pages_read_user_content and "
    "renew it. Asked again at the next pull."
)
IG_REFUSAL = (
    "refused ig: the token may not read comments (#10): grant instagram_manage_comments and "
    "renew it. Asked again at the next pull."
)


@dataclass
class World:
    root: Path
    graph: GraphFake
    page: Page
    ig: IgUser
    post_id: str  # the campaign post on the Page
    media_id: str  # and on Instagram


def _json(result: Any) -> Any:
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def world(make_campaign: Make, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with GraphFake() as graph:
        page = graph.add_page(name="Springfield PTA")
        ig = graph.add_ig_user(page=page, media_base_url=MEDIA_BASE, username="springfieldpta")
        monkeypatch.setenv("FB_TOKEN", page.access_token)
        monkeypatch.setenv("IG_TOKEN", page.access_token)
        config = (
            "defaults: {timezone: UTC, accounts: [fb, ig]}\naccounts:\n"
            f"  fb: {{platform: facebook, page_id: '{page.id}', access_token: '${{FB_TOKEN}}',"
            f" base_url: '{graph.base_url}'}}\n"
            f"  ig: {{platform: instagram, ig_user_id: '{ig.id}', access_token: '${{IG_TOKEN}}',"
            f" media_base_url: '{MEDIA_BASE}', base_url: '{graph.base_url}'}}\n"
        )
        root = make_campaign(POSTS, config=config)
        shutil.copy(REPO / "media" / "testimonial-okoro.jpg", root / "m.jpg")
        published = run("publish", cwd=root)
        assert published.returncode == 0, published.stdout + published.stderr
        (post,) = [p for p in graph.posts(page) if p.published]
        (media,) = graph.ig_media(ig)
        yield World(root, graph, page, ig, post.id, media.id)


def _converse(w: World) -> dict[str, dict[str, str]]:
    """Others comment and reply on both platforms, and the campaign's accounts answer; a post
    that is not the campaign's gets a comment too. The others' comment ids → what they answer."""
    g = w.graph
    start = g.now() - 3600
    ann = g.add_comment(w.post_id, "I'll be there", author="Ann Ally", created_at=start)
    g.add_comment(w.post_id, "Thanks Ann!", own=True, reply_to=ann.id, created_at=start + 60)
    bo = g.add_comment(
        w.post_id, "Me too", author="Bo Parent", reply_to=ann.id, created_at=start + 120
    )
    g.add_comment(w.post_id, "Room 4, 7pm", own=True, created_at=start + 180)
    elsewhere = g.add_post(w.page, "Not a campaign post").id
    g.add_comment(elsewhere, "Off topic", author="Cy Voter")

    ig_ann = g.add_comment(w.media_id, "Love this", author="ann.ally", created_at=start)
    g.add_comment(w.media_id, "Thank you!", own=True, reply_to=ig_ann.id, created_at=start + 60)
    ig_bo = g.add_comment(
        w.media_id, "Same here", author="bo.parent", reply_to=ig_ann.id, created_at=start + 120
    )
    return {
        "fb": {ann.id: w.post_id, bo.id: ann.id},
        "ig": {ig_ann.id: w.media_id, ig_bo.id: ig_ann.id},
    }


def test_pull_then_list_shows_exactly_the_others_comments(world: World) -> None:
    expected = _converse(world)
    pulled = run("inbox", "pull", cwd=world.root)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert pulled.stdout.splitlines() == ["fb: 2 new (2 comments)", "ig: 2 new (2 comments)"]

    items = _json(run("inbox", "--format", "json", cwd=world.root))["items"]
    got: dict[str, dict[str, str]] = {"fb": {}, "ig": {}}
    for item in items:
        got[item["account"]][item["remote_id"]] = item["answers_remote_id"]
        assert item["kind"] == "comment" and item["handled_at"] is None
        assert item["answers"]["post"] == "hearing"
        assert item["answers"]["delivery"] is not None and item["answers"]["part"] == 0
    assert got == expected
    by_id = {i["remote_id"]: i for i in items}
    ann = world.graph.comments(world.post_id)[0]
    fb_ann = by_id[ann.id]
    assert fb_ann["platform"] == "facebook" and fb_ann["text"] == "I'll be there"
    assert fb_ann["author"] == {"handle": ann.author_id, "name": "Ann Ally", "url": None}
    post_number, comment_number = world.post_id.split("_")[1], ann.id.split("_")[1]
    assert fb_ann["url"] == (
        f"https://www.facebook.com/{world.page.id}/posts/{post_number}/?comment_id={comment_number}"
    )
    ig_ann = next(i for i in items if i["text"] == "Love this")
    assert ig_ann["platform"] == "instagram"
    assert ig_ann["author"] == {
        "handle": "ann.ally", "name": None, "url": "https://www.instagram.com/ann.ally/"
    }  # fmt: skip
    assert ig_ann["url"].startswith("https://www.instagram.com/p/")  # the media's: see the client
    assert ig_ann["created_at"].endswith("Z")

    again = _json(run("inbox", "pull", "--format", "json", cwd=world.root))
    assert [(a["account"], a["new"], a["failed"]) for a in again["accounts"]] == [
        ("fb", 0, None), ("ig", 0, None)
    ]  # fmt: skip
    world.graph.add_comment(world.post_id, "See you there", author="Di Teacher")
    later = run("inbox", "pull", cwd=world.root)
    assert later.stdout.splitlines() == ["fb: 1 new (1 comment)", "ig: 0 new"]
    listed = run("inbox", "--unhandled", cwd=world.root)
    assert "hearing on fb · 3 items to answer" in listed.stdout
    assert "hearing on ig · 2 items to answer" in listed.stdout


def test_long_comment_lists_are_read_page_by_page(world: World) -> None:
    g = world.graph
    start = g.now() - 7200
    for n in range(120):  # three pages of 50
        g.add_comment(world.post_id, f"fb {n}", author=f"Person {n % 7}", created_at=start + n)
    first = g.add_comment(world.media_id, "ig first", author="ann.ally", created_at=start)
    for n in range(30):  # beyond the 25 replies nested in a comment listing
        g.add_comment(
            world.media_id,
            f"ig reply {n}",
            author="bo",
            reply_to=first.id,
            created_at=start + 1 + n,
        )
    for n in range(54):  # two pages of comments
        g.add_comment(world.media_id, f"ig {n}", author=f"p{n % 5}", created_at=start + 100 + n)
    pulled = run("inbox", "pull", cwd=world.root)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert pulled.stdout.splitlines() == ["fb: 120 new (120 comments)", "ig: 85 new (85 comments)"]
    texts = {i["text"] for i in _json(run("inbox", "-f", "json", cwd=world.root))["items"]}
    assert {f"fb {n}" for n in range(120)} | {f"ig reply {n}" for n in range(30)} <= texts
    reads = [
        r for r in g.requests if r.method == "GET" and r.path.endswith(("/comments", "/replies"))
    ]
    fb_reads = [r for r in reads if world.post_id in r.path]
    assert [r.params.get("after") is not None for r in fb_reads] == [False, True, True]
    assert {r.params["filter"] for r in fb_reads} == {"stream"}
    assert sum(1 for r in reads if r.path.endswith(f"/{first.id}/replies")) == 1
    again = _json(run("inbox", "pull", "-f", "json", cwd=world.root))
    assert [a["new"] for a in again["accounts"]] == [0, 0]


@pytest.mark.parametrize(
    ("lacking", "refusal", "still"),
    [
        ("pages_read_user_content", FB_REFUSAL, "ig: 2 new (2 comments)"),
        ("instagram_manage_comments", IG_REFUSAL, "fb: 2 new (2 comments)"),
    ],
    ids=["facebook", "instagram"],
)
def test_a_token_that_may_not_read_comments_is_one_line_and_the_other_account_is_pulled(
    world: World, monkeypatch: pytest.MonkeyPatch, lacking: str, refusal: str, still: str
) -> None:
    _converse(world)
    scopes = tuple(s for s in DEFAULT_SCOPES if s != lacking)
    narrow = world.graph.add_token(world.page, scopes=scopes)
    monkeypatch.setenv("FB_TOKEN" if lacking.startswith("pages") else "IG_TOKEN", narrow)
    pulled = run("inbox", "pull", cwd=world.root)
    # A refusal is no error (as metrics pull's and X's free tier): a person must grant it.
    assert pulled.returncode == 0, pulled.stdout
    assert sorted(pulled.stdout.splitlines()) == sorted([refusal, still])
    assert pulled.stderr == ""
    shown = pulled.stdout + pulled.stderr
    for secret in (narrow, world.page.access_token):
        assert secret not in shown and urllib.parse.quote(secret) not in shown
    report = run("inbox", "pull", "-f", "json", cwd=world.root)
    assert report.returncode == 0
    refused = {a["account"]: a["refused"] for a in json.loads(report.stdout)["accounts"]}
    assert [name for name, why in refused.items() if why] == [
        refusal.split(":", maxsplit=1)[0].removeprefix("refused ")
    ]
    assert not any(a["failed"] for a in json.loads(report.stdout)["accounts"])


def test_a_throttled_read_stops_that_account_until_the_next_pull(world: World) -> None:
    """Graph's Page throttling (80001, with the usage headers saying when) stops the Facebook
    account's pull with the time to come back; Instagram is still read; the next pull gets it."""
    _converse(world)
    world.graph.inject("GET", rf"/{world.post_id}/comments$", "graph_error", code=80001,
                       regain_minutes=7)  # fmt: skip
    pulled = run("inbox", "pull", "-f", "json", cwd=world.root)
    assert pulled.returncode == 5
    accounts = {a["account"]: a for a in json.loads(pulled.stdout)["accounts"]}
    assert accounts["fb"]["failed"].startswith("rate-limited until ")
    assert "(80001)" in accounts["fb"]["failed"] and accounts["ig"]["new"] == 2
    again = _json(run("inbox", "pull", "-f", "json", cwd=world.root))
    assert [(a["account"], a["new"]) for a in again["accounts"]] == [("fb", 2), ("ig", 0)]


def test_a_post_deleted_on_facebook_is_no_failure(world: World) -> None:
    _converse(world)
    request = urllib.request.Request(
        f"{world.graph.base_url}/v21.0/{world.post_id}?access_token={world.page.access_token}",
        method="DELETE",
    )
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request) as answer:
        assert json.load(answer) == {"success": True}
    pulled = run("inbox", "pull", cwd=world.root)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert pulled.stdout.splitlines() == ["fb: 0 new", "ig: 2 new (2 comments)"]


def test_no_token_is_shown_or_stored(world: World) -> None:
    _converse(world)
    token = world.page.access_token
    outputs = [
        run("inbox", "pull", cwd=world.root),
        run("inbox", "--format", "json", cwd=world.root),
        run("inbox", cwd=world.root),
    ]
    world.graph.expire_token(token)  # Graph's 190 message, which the adapter quotes
    outputs.append(run("inbox", "pull", cwd=world.root))
    assert outputs[-1].returncode == 5 and "190" in outputs[-1].stdout
    forms = {token, urllib.parse.quote(token), urllib.parse.quote_plus(token)}
    for result in outputs:
        for form in forms:
            assert form not in result.stdout + result.stderr
    for path in world.root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(form.encode() in data for form in forms), path


# A conversation: top-level comments, each by someone else or by the account itself (True), with
# a number of replies (a few, or around Instagram's nested page of 25) of which the account
# wrote every third if the last flag says so.
CONVERSATIONS = st.lists(
    st.tuples(st.booleans(), st.one_of(st.integers(0, 3), st.integers(24, 30)), st.booleans()),
    max_size=6,
)


@settings(max_examples=30, deadline=None)
@given(conversation=CONVERSATIONS, limit=st.integers(1, 5), instagram=st.booleans())
def test_the_reader_returns_every_other_comment_once_whatever_the_paging(
    graph: GraphFake, conversation: list[tuple[bool, int, bool]], limit: int, instagram: bool
) -> None:
    """Walking ``replies`` page by page (any page size) yields each comment and reply by others
    exactly once, answering its comment (or the post), and none of the account's own."""
    page = next(iter(graph.pages.values()))
    ig = next(iter(graph.ig_users.values()))
    target = graph.add_ig_media(ig, "m").id if instagram else graph.add_post(page, "p").id
    start, expected = graph.now() - 3600, {}
    for n, (own, replies, answered) in enumerate(conversation):
        top = graph.add_comment(target, f"c{n}", author=f"a{n}", own=own, created_at=start + n)
        if not own:
            expected[top.id] = target
        for m in range(replies):
            own_reply = answered and m % 3 == 0
            reply = graph.add_comment(target, f"r{n}.{m}", author=f"b{m}", own=own_reply,
                                      reply_to=top.id, created_at=start + 100 + m)  # fmt: skip
            if not own_reply:
                expected[reply.id] = top.id
    reader = _publisher(graph, page, ig, instagram)
    seen: list[tuple[str, str | None]] = []
    cursor: str | None = None
    try:
        for _ in range(500):
            got = reader.replies(target, cursor, limit)
            seen += [(i.remote_id, i.answers) for i in got.items]
            assert all(i.root == target and i.kind == "comment" for i in got.items)
            if got.cursor is None:
                break
            cursor = got.cursor
    finally:
        reader.close()
    assert sorted(seen) == sorted(expected.items())


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphFake]:
    with GraphFake() as fake:
        page = fake.add_page(name="Springfield PTA")
        fake.add_ig_user(page=page, media_base_url=MEDIA_BASE, username="springfieldpta")
        yield fake


def _publisher(graph: GraphFake, page: Page, ig: IgUser, instagram: bool) -> Publisher:
    common: dict[str, str | int | bool] = {
        "access_token": page.access_token,
        "base_url": graph.base_url,
    }
    if instagram:
        values = common | {"ig_user_id": ig.id, "media_base_url": MEDIA_BASE}
        return InstagramPublisher(AccountConfig("ig", "instagram", values, Location("c.yaml")))
    values = common | {"page_id": page.id}
    return FacebookPublisher(AccountConfig("fb", "facebook", values, Location("c.yaml")))
