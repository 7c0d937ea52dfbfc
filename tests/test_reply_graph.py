"""Answering on a Facebook Page and on Instagram, through the CLI against the loopback Graph API
fake (tests/fakes/graph_api.py): ``reply ITEM`` on a pulled Facebook comment, Instagram comment
and Instagram reply writes the Page's or the account's own comment under the right parent,
exactly once, and marks the item handled; ``reply_to:`` in a posts file answers a Page post, a
Facebook comment (its permalink) and an Instagram media; a token that may not comment is one
line naming the permission, and no token is shown; a deleted comment is one line. The addresses
are read offline (``graph_target``, ``comment_address`` and ``post_address`` swept and
round-tripped)."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from eduadvocate.config.model import AccountConfig
from eduadvocate.core.errors import Location
from eduadvocate.platforms.facebook_page.address import graph_target
from eduadvocate.platforms.facebook_page.spec import FacebookPlatform
from eduadvocate.platforms.instagram import client as instagram_client
from eduadvocate.platforms.instagram.client import comment_address
from eduadvocate.platforms.instagram.spec import InstagramPlatform
from eduadvocate.platforms.posturl import post_address
from tests.conftest import REPO, Make
from tests.fakes.graph_api import DEFAULT_SCOPES, Comment, GraphFake, IgUser, Page
from tests.test_cli import run

MEDIA_BASE = "https://m.example/c/"
POSTS = """\
posts:
  - id: hearing
    at: now
    text: Budget hearing Thursday #FundOurSchools
    media: [{path: m.jpg, alt: A full hearing room}]
"""


@dataclass
class World:
    root: Path
    graph: GraphFake
    page: Page
    ig: IgUser
    post_id: str  # the campaign post on the Page
    media_id: str  # and on Instagram
    ann: Comment  # a comment on the Page post
    bo: Comment  # a reply to it
    ig_ann: Comment  # a comment on the media
    ig_bo: Comment  # a reply to it


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
        start = graph.now() - 3600
        ann = graph.add_comment(post.id, "When does it start?", author="Ann Ally", created_at=start)
        bo = graph.add_comment(
            post.id, "And where?", author="Bo Parent", reply_to=ann.id, created_at=start + 60
        )
        ig_ann = graph.add_comment(media.id, "Love this", author="ann.ally", created_at=start)
        ig_bo = graph.add_comment(
            media.id, "Which room?", author="bo.parent", reply_to=ig_ann.id, created_at=start + 60
        )
        yield World(root, graph, page, ig, post.id, media.id, ann, bo, ig_ann, ig_bo)


def _items(root: Path) -> dict[str, dict[str, Any]]:
    listed = run("inbox", "--format", "json", cwd=root)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    return {i["remote_id"]: i for i in json.loads(listed.stdout)["items"]}


def _own(w: World, text: str) -> list[Comment]:
    return [c for c in w.graph.comments() if c.own and c.message == text]


@pytest.fixture
def pulled(world: World) -> World:
    got = run("inbox", "pull", cwd=world.root)
    assert got.returncode == 0, got.stdout + got.stderr
    return world


@pytest.mark.parametrize(
    ("which", "parent", "under"),
    [
        ("ann", "ann", "post_id"),  # a Facebook comment: a reply in its thread
        ("bo", "ann", "post_id"),  # a reply to it: in the same thread (one level deep)
        ("ig_ann", "ig_ann", "media_id"),  # an Instagram comment: a reply to it
        ("ig_bo", "ig_ann", "media_id"),  # an Instagram reply: under its top comment
    ],
)
def test_reply_item_answers_a_comment_once_under_the_right_parent(
    pulled: World, which: str, parent: str, under: str
) -> None:
    w = pulled
    comment: Comment = getattr(w, which)
    item = _items(w.root)[comment.id]
    text = f"Thursday at 7pm, room 4 ({which})."
    answered = run("reply", str(item["id"]), text, cwd=w.root)
    assert answered.returncode == 0, answered.stdout + answered.stderr
    assert w.page.access_token not in answered.stdout + answered.stderr
    (mine,) = _own(w, text)
    assert mine.parent_id == getattr(w, parent).id and mine.object_id == getattr(w, under)
    items = _items(w.root)
    assert items[comment.id]["handled_at"] is not None
    assert [i for i, v in items.items() if v["handled_at"] is not None] == [comment.id]

    status = json.loads(run("status", "--format", "json", cwd=w.root).stdout)
    (delivery,) = [d for d in status["deliveries"] if d["post"] == f"reply-{item['id']}"]
    assert delivery["state"] == "published"

    twice = run("reply", str(item["id"]), text, cwd=w.root)
    assert twice.returncode == 2 and "has an answer already" in twice.stderr
    assert run("publish", cwd=w.root).returncode == 0
    assert len(_own(w, text)) == 1
    pulled_again = run("inbox", "pull", cwd=w.root)  # our own answer is no inbox item
    assert pulled_again.returncode == 0 and "0 new" in pulled_again.stdout


def test_an_instagram_item_links_to_its_comment_and_reply_to_reads_it(pulled: World) -> None:
    w = pulled
    items = _items(w.root)
    media = items[w.ig_ann.id]["url"]
    assert media.startswith("https://www.instagram.com/p/") and media.endswith(f"/c/{w.ig_ann.id}/")
    reply = items[w.ig_bo.id]["url"]
    assert reply.endswith(f"/c/{w.ig_ann.id}/r/{w.ig_bo.id}/")
    found = post_address(reply)
    assert found is not None and (found.comment, found.reply) == (w.ig_ann.id, w.ig_bo.id)


def _write(w: World, posts: str) -> None:
    """A posts file beside the campaign's, dated back (publish waits for files still settling)."""
    path = w.root / "posts" / "answers.yaml"
    path.write_text("posts:\n" + posts, encoding="utf-8")
    past = time.time() - 60
    os.utime(path, (past, past))


def _answers(w: World, *targets: tuple[str, str, str]) -> None:
    """Add reply_to: posts (id, account, address) to the campaign."""
    _write(
        w,
        "".join(
            f"  - id: {post_id}\n    at: now\n    accounts: [{account}]\n"
            f"    text: 'Answer {post_id}'\n    reply_to: '{url}'\n"
            for post_id, account, url in targets
        ),
    )


def test_reply_to_in_posts_answers_a_page_post_a_comment_and_a_media(world: World) -> None:
    w = world
    permalink = (  # what Graph gives as the comment's permalink_url
        f"https://www.facebook.com/{w.page.id}/posts/{w.post_id.split('_')[1]}/"
        f"?comment_id={w.ann.id.split('_')[1]}"
    )
    (media,) = w.graph.ig_media(w.ig)
    shortcode = media.shortcode
    _answers(
        w,
        ("on-post", "fb", f"https://www.facebook.com/{w.post_id}"),
        ("on-comment", "fb", permalink),
        ("on-media", "ig", f"https://www.instagram.com/p/{shortcode}/"),
        ("on-ig-comment", "ig", f"https://www.instagram.com/p/{shortcode}/c/{w.ig_ann.id}/"),
    )
    checked = run("check", cwd=w.root)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    published = run("publish", cwd=w.root)
    assert published.returncode == 0, published.stdout + published.stderr
    (on_post,) = _own(w, "Answer on-post")
    assert (on_post.object_id, on_post.parent_id) == (w.post_id, None)
    (on_comment,) = _own(w, "Answer on-comment")
    assert (on_comment.object_id, on_comment.parent_id) == (w.post_id, w.ann.id)
    (on_media,) = _own(w, "Answer on-media")
    assert (on_media.object_id, on_media.parent_id) == (w.media_id, None)
    (on_ig,) = _own(w, "Answer on-ig-comment")
    assert (on_ig.object_id, on_ig.parent_id) == (w.media_id, w.ig_ann.id)
    assert run("publish", cwd=w.root).returncode == 0
    assert len([c for c in w.graph.comments() if c.own]) == 4  # nothing sent twice


def test_a_reply_on_instagram_needs_no_image_and_may_not_carry_one(world: World) -> None:
    w = world
    (media,) = w.graph.ig_media(w.ig)
    _write(
        w,
        "  - id: pic\n    at: now\n    accounts: [ig]\n    text: Look\n"
        f"    reply_to: 'https://www.instagram.com/p/{media.shortcode}/'\n"
        "    media: [{path: m.jpg, alt: A room}]\n"
        "  - id: plain\n    at: now\n    accounts: [ig]\n    text: Thanks\n"
        f"    reply_to: 'https://www.instagram.com/p/{media.shortcode}/'\n",
    )
    checked = run("check", cwd=w.root)
    assert checked.returncode == 4
    assert "reply-media" in checked.stdout + checked.stderr
    shown = checked.stdout + checked.stderr
    assert "media-required" not in shown and shown.count("reply-media") == 1


@pytest.mark.parametrize(
    ("secret", "scope", "which"),
    [
        ("FB_TOKEN", "pages_manage_engagement", "ann"),
        ("IG_TOKEN", "instagram_manage_comments", "ig_ann"),
    ],
)
def test_a_token_that_may_not_comment_is_one_line_naming_the_permission(
    pulled: World, monkeypatch: pytest.MonkeyPatch, secret: str, scope: str, which: str
) -> None:
    w = pulled
    token = w.graph.add_token(w.page, scopes=tuple(s for s in DEFAULT_SCOPES if s != scope))
    monkeypatch.setenv(secret, token)
    comment_id = getattr(w, which).id
    item = _items(w.root)[comment_id]
    answered = run("reply", str(item["id"]), "Thanks!", "--format", "json", cwd=w.root)
    assert answered.returncode == 5, answered.stdout + answered.stderr
    (failed,) = json.loads(answered.stdout)["deliveries"]
    assert f"may not comment (#10): grant {scope}" in failed["error"] or (
        f"may not comment (#200): grant {scope}" in failed["error"]
    )
    assert "\n" not in failed["error"]
    shown = answered.stdout + answered.stderr
    assert token not in shown and w.page.access_token not in shown
    assert "Traceback" not in shown
    assert _own(w, "Thanks!") == []
    assert _items(w.root)[comment_id]["handled_at"] is None
    ledger = b"".join(p.read_bytes() for p in (w.root / ".eduadvocate").glob("ledger.sqlite3*"))
    assert ledger and token.encode() not in ledger


def test_a_deleted_comment_fails_with_one_line(pulled: World) -> None:
    w = pulled
    item = _items(w.root)[w.ig_ann.id]
    with w.graph._lock:  # the comment is deleted on Instagram
        del w.graph._comments[w.ig_bo.id]
        del w.graph._comments[w.ig_ann.id]
    answered = run("reply", str(item["id"]), "Thanks!", "--format", "json", cwd=w.root)
    assert answered.returncode == 5, answered.stdout + answered.stderr
    (failed,) = json.loads(answered.stdout)["deliveries"]
    assert failed["error_kind"] == "rejected" and "is gone" in failed["error"]
    assert "\n" not in failed["error"] and _own(w, "Thanks!") == []


PAGE = "100000000000001"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"https://www.facebook.com/{PAGE}_55", ("post", f"{PAGE}_55")),
        (f"https://www.facebook.com/{PAGE}/posts/55/", ("post", f"{PAGE}_55")),
        ("https://www.facebook.com/SpringfieldPTA/posts/55", ("post", f"{PAGE}_55")),
        (f"https://www.facebook.com/permalink.php?story_fbid=55&id={PAGE}", ("post", f"{PAGE}_55")),
        (f"https://www.facebook.com/{PAGE}/posts/55/?comment_id=77", ("comment", "55_77")),
        (
            f"https://www.facebook.com/{PAGE}/posts/55/?comment_id=77&reply_comment_id=88",
            ("comment", "55_88"),
        ),
        ("https://www.facebook.com/photo.php?fbid=55&set=a.1&comment_id=77", ("comment", "55_77")),
        ("https://www.facebook.com/55_77", ("comment", "55_77")),
        (f"https://www.facebook.com/{PAGE}/videos/55/?comment_id=77", ("comment", "55_77")),
        ("https://www.facebook.com/SpringfieldPTA/posts/pfbid0abc?comment_id=77", None),
        (f"https://www.facebook.com/{PAGE}/posts/55/?comment_id=x", None),
        (f"https://www.facebook.com/{PAGE}/posts/55/?comment_id=1&comment_id=2", None),
        ("https://www.facebook.com/SpringfieldPTA", None),
        ("https://www.facebook.com/", None),
        ("https://www.facebook.com/" + "1" * 3000, None),
        ("https://evil.example/55_77", None),
        ("http://www.facebook.com/55_77", None),
    ],
)
def test_facebook_addresses_are_read_offline(url: str, expected: Any) -> None:
    if expected is not None and "evil" not in url:  # an address check reads as Facebook's
        found = post_address(url)
        assert found is not None and found.platform == "facebook"
    assert graph_target(url, PAGE) == expected


_digits = st.from_regex(r"[1-9][0-9]{0,18}", fullmatch=True)


@given(
    post=_digits,
    comment=_digits,
    reply=st.none() | _digits,
    query=st.sampled_from(["", "&__cft__=x", "&notif_id=1"]),
)
def test_any_facebook_comment_permalink_names_its_graph_id(
    post: str, comment: str, reply: str | None, query: str
) -> None:
    url = f"https://www.facebook.com/{PAGE}/posts/{post}/?comment_id={comment}" + (
        f"&reply_comment_id={reply}" if reply else ""
    )
    assert graph_target(url + query, PAGE) == ("comment", f"{post}_{reply or comment}")


@given(
    kind=st.sampled_from(["p", "reel", "tv"]),
    code=st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
    parent=st.none() | _digits,
    comment=_digits,
)
def test_any_instagram_comment_address_reads_back(
    kind: str, code: str, parent: str | None, comment: str
) -> None:
    url = comment_address(f"https://www.instagram.com/{kind}/{code}/", parent, comment)
    assert url is not None
    found = post_address(url)
    assert found is not None and found.platform == "instagram" and found.post == code
    assert (found.comment, found.reply) == ((parent, comment) if parent else (comment, None))


def test_a_facebook_address_holding_no_id_is_an_error_at_check(world: World) -> None:
    _answers(
        w := world, ("share", "fb", "https://www.facebook.com/SpringfieldPTA/posts/pfbid02abc")
    )
    checked = run("check", "--format", "json", cwd=w.root)
    assert checked.returncode == 4, checked.stdout + checked.stderr
    problems = json.loads(checked.stdout)["problems"]
    (found,) = [p for p in problems if p["severity"] == "error"]
    assert (
        found["code"] == "reply-to-unknown"
        and "holds no post's or comment's id" in found["message"]
    )
    assert [c for c in w.graph.comments() if c.own] == []


def test_reply_item_names_a_facebook_comment_by_its_id_when_its_link_holds_none(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Facebook may give a comment a link with no ids (a ``pfbid…`` one): ``reply ITEM`` then
    writes the comment's Graph id as its address, and the answer still lands in its thread."""
    w = world
    shown = GraphFake._fb_comment_of

    def obfuscated(self: GraphFake, comment: Comment, fields: dict[str, str]) -> dict[str, Any]:
        out = shown(self, comment, fields)
        if "permalink_url" in out:
            out["permalink_url"] = "https://www.facebook.com/SpringfieldPTA/posts/pfbid0xyz"
        return out

    monkeypatch.setattr(GraphFake, "_fb_comment_of", obfuscated)
    assert run("inbox", "pull", cwd=w.root).returncode == 0
    item = _items(w.root)[w.ann.id]
    answered = run("reply", str(item["id"]), "At 7pm.", cwd=w.root)
    assert answered.returncode == 0, answered.stdout + answered.stderr
    written = (w.root / "posts" / "replies" / f"reply-{item['id']}.yaml").read_text()
    assert f'reply_to: "https://www.facebook.com/{w.ann.id}"' in written
    (mine,) = _own(w, "At 7pm.")
    assert mine.parent_id == w.ann.id
    assert _items(w.root)[w.ann.id]["handled_at"] is not None


def test_reply_item_on_an_instagram_item_linked_to_its_media_answers_that_comment_only(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Items pulled before comments had addresses of their own link to their media: answering
    one must answer its comment (not the media), and mark only that item handled."""
    w = world
    monkeypatch.setattr(instagram_client, "comment_address", lambda link, parent, own: link)
    assert run("inbox", "pull", cwd=w.root).returncode == 0
    items = _items(w.root)
    assert items[w.ig_bo.id]["url"] == items[w.ig_ann.id]["url"]  # the media's, for both
    answered = run("reply", str(items[w.ig_bo.id]["id"]), "Room 4.", cwd=w.root)
    assert answered.returncode == 0, answered.stdout + answered.stderr
    (mine,) = _own(w, "Room 4.")
    assert mine.parent_id == w.ig_ann.id  # in the reply's thread, not on the media
    handled = [i for i, v in _items(w.root).items() if v["handled_at"] is not None]
    assert handled == [w.ig_bo.id]


@example(code="c", kind="p", linked="other", own="1", other="2")  # a media coded "c"
@example(code="r", kind="reel", linked="reply-own", own="1", other="2")
@given(
    code=st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
    kind=st.sampled_from(["p", "reel"]),
    linked=st.sampled_from(["media", "own", "other", "reply-own", "none"]),
    own=_digits,
    other=_digits,
)
def test_reply_item_on_instagram_always_names_the_item_s_comment(
    code: str, kind: str, linked: str, own: str, other: str
) -> None:
    """Whatever an Instagram item links to (its media, its own address, another comment's), the
    address ``reply ITEM`` writes names that item's comment, on the same media."""
    spec = InstagramPlatform(AccountConfig("ig", "instagram", {}, Location("config.yaml")))
    media = f"https://www.instagram.com/{kind}/{code}/"
    url = {
        "media": media,
        "own": f"{media}c/{own}/",
        "other": f"{media}c/{other}/",
        "reply-own": f"{media}c/{other}/r/{own}/",
        "none": None,
    }[linked]
    written = spec.item_address(url, own)
    if url is None:
        assert written == own
        return
    found = post_address(written)
    assert found is not None and found.platform == "instagram" and found.post == code
    assert own in (found.comment, found.reply)


@given(
    post=_digits,
    own=_digits,
    linked=st.sampled_from(["permalink", "other", "pfbid", "none"]),
)
def test_reply_item_on_facebook_always_names_the_item_s_comment(
    post: str, own: str, linked: str
) -> None:
    spec = FacebookPlatform(
        AccountConfig("fb", "facebook", {"page_id": PAGE}, Location("config.yaml"))
    )
    url = {
        "permalink": f"https://www.facebook.com/{PAGE}/posts/{post}/?comment_id={own}",
        "other": f"https://www.facebook.com/{PAGE}/posts/{post}/?comment_id=1{own}",
        "pfbid": "https://www.facebook.com/SpringfieldPTA/posts/pfbid0xyz",
        "none": None,
    }[linked]
    written = spec.item_address(url, f"{post}_{own}")
    assert graph_target(written, PAGE) == ("comment", f"{post}_{own}")
    assert spec.reply_problem(written) is None


def test_a_facebook_answer_is_held_to_a_comment_s_8000_characters(world: World) -> None:
    """A Page post may hold 63,206 characters, a comment 8,000: an answer over that is a content
    error at check, not Graph's refusal at publish."""
    w = world
    long = "word " * 1700  # 8,500 characters
    _answers(w, ("long", "fb", f"https://www.facebook.com/{w.post_id}"))
    path = w.root / "posts" / "answers.yaml"
    path.write_text(path.read_text().replace("'Answer long'", f"'{long.strip()}'"))
    past = time.time() - 60
    os.utime(path, (past, past))
    checked = run("check", "--format", "json", cwd=w.root)
    assert checked.returncode == 4, checked.stdout + checked.stderr
    (found,) = [p for p in json.loads(checked.stdout)["problems"] if p["severity"] == "error"]
    assert found["code"] == "over-limit" and "allows 8000" in found["message"]
