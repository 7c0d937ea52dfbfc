"""``eduadvocate inbox`` end to end on Bluesky's reference stack (PLC, PDS and the AppView that
serves notifications; tests/fakes/bluesky_network.py): the real CLI publishes a campaign post
from account A, account B replies to it, quotes it, likes and reposts it and mentions A, and
``inbox pull`` then ``inbox`` show exactly the reply, the quote, the mention and the repost (stored
handled: a repost asks no answer; likes are engagement, counted by ``metrics pull``). Pulling
twice adds nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import Make
from tests.test_cli import run

if TYPE_CHECKING:  # the fixture comes from the tests.fakes.bluesky_network plugin
    from tests.fakes.bluesky import Account
    from tests.fakes.bluesky_network import BlueskyNetwork

pytestmark = [pytest.mark.appview, pytest.mark.timeout(240)]

POSTS = """\
posts:
  - id: levy
    at: now
    text: "The levy vote is Tuesday. #FundOurSchools"
"""


def _json(result: Any) -> Any:
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def engaged(
    make_campaign: Make, bluesky_network: BlueskyNetwork, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Account, Account, dict[str, str]]:
    """A campaign whose post went out through `eduadvocate publish`, and another account's
    engagement with it: the uris of what that account made, by kind."""
    net = bluesky_network
    author, ally = net.create_account(), net.create_account()
    monkeypatch.setenv("BSKY_PW", author.app_password)
    config = (
        "defaults: {timezone: America/Chicago, accounts: [bsky-pta, out]}\n"
        "accounts:\n"
        f"  bsky-pta: {{platform: bluesky, handle: {author.handle}, app_password: '${{BSKY_PW}}',"
        f" service: '{net.url}'}}\n"
        "  out: {platform: outbox}\n"
    )
    root = make_campaign(POSTS, config=config)
    published = run("publish", cwd=root)
    assert published.returncode == 0, published.stdout + published.stderr
    status = _json(run("status", "--format", "json", cwd=root))
    (ours,) = [d for d in status["deliveries"] if d["account"] == "bsky-pta"]
    uri = ours["parts"][0]["id"]
    got = net.xrpc(
        "com.atproto.repo.getRecord",
        params={"repo": author.did, "collection": "app.bsky.feed.post", "rkey": uri.split("/")[-1]},
    )
    from tests.fakes.bluesky import StrongRef

    post = StrongRef(got["uri"], got["cid"])
    net.process_all()  # indexed before anyone answers it (else no reply notification)
    made = {
        "reply": net.reply(ally, post, "Voting yes!").uri,
        "quote": net.quote(ally, post, "Read this before Tuesday").uri,
        "mention": net.mention(ally, author, "Thanks to").uri,
    }
    net.like(ally, post)
    made["repost"] = net.repost(ally, post).uri
    net.process_all()
    return root, author, ally, made


def test_pull_then_list_shows_exactly_the_reply_quote_mention_and_repost(
    engaged: tuple[Path, Account, Account, dict[str, str]],
) -> None:
    root, _, ally, made = engaged
    pulled = run("inbox", "pull", cwd=root)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert pulled.stdout.splitlines() == [
        "bsky-pta: 4 new (1 reply, 1 mention, 1 quote, 1 repost)",
        "Not read: the inbox of out (outbox) cannot be read yet.",
    ]

    listed = _json(run("inbox", "--format", "json", cwd=root))
    assert listed["version"] == 1
    items = {i["kind"]: i for i in listed["items"]}
    assert set(items) == {"reply", "quote", "mention", "repost"}
    assert {k: i["remote_id"] for k, i in items.items()} == made
    repost = items.pop("repost")
    assert repost["answers"]["post"] == "levy" and repost["text"] == ""
    assert repost["url"] == f"https://bsky.app/profile/{ally.handle}"  # no post of its own
    assert repost["handled_by"] == "inbox pull" and repost["handled_at"].endswith("Z")
    for item in items.values():
        assert item["author"]["handle"] == ally.handle
        assert item["author"]["url"] == f"https://bsky.app/profile/{ally.handle}"
        assert item["url"].startswith(f"https://bsky.app/profile/{ally.handle}/post/")
        assert item["platform"] == "bluesky" and item["account"] == "bsky-pta"
        assert item["handled_at"] is None and item["created_at"].endswith("Z")
    assert items["reply"]["text"] == "Voting yes!"
    assert items["reply"]["answers"]["post"] == "levy"
    assert items["quote"]["answers"]["post"] == "levy"
    assert items["reply"]["answers"]["url"].startswith("https://bsky.app/profile/")
    assert items["mention"]["answers"] is None
    # The campaign post's items first (the handled repost last of them), then the mention.
    assert [i["kind"] for i in listed["items"]][-2:] == ["repost", "mention"]

    again = run("inbox", "pull", "--format", "json", cwd=root)
    assert _json(again)["accounts"][0] == {
        "account": "bsky-pta",
        "platform": "bluesky",
        "new": 0,
        "by_kind": {},
        "unsupported": False,
        "refused": None,
        "failed": None,
    }
    assert len(_json(run("inbox", "--format", "json", cwd=root))["items"]) == 4


def test_listing_done_and_open(engaged: tuple[Path, Account, Account, dict[str, str]]) -> None:
    root, _, ally, _ = engaged
    assert run("inbox", "pull", cwd=root).returncode == 0
    items = {
        i["kind"]: i for i in _json(run("inbox", "list", "--format", "json", cwd=root))["items"]
    }

    text = run("inbox", cwd=root, env={"COLUMNS": "120"})
    assert text.returncode == 0, text.stderr
    assert "levy on bsky-pta · 2 items to answer" in text.stdout
    assert "Not about a campaign post · 1 item to answer" in text.stdout
    assert text.stdout.index("levy on bsky-pta") < text.stdout.index("Not about a campaign post")
    assert f"@{ally.handle}" in text.stdout and "Voting yes!" in text.stdout

    reply = items["reply"]["id"]
    done = run("inbox", "done", str(reply), "--by", "sam", cwd=root)
    assert done.returncode == 0 and done.stdout == "Marked 1 item handled.\n"
    unhandled = _json(run("inbox", "--unhandled", "--format", "json", cwd=root))["items"]
    assert sorted(i["kind"] for i in unhandled) == ["mention", "quote"]
    (marked,) = [
        i for i in _json(run("inbox", "-f", "json", cwd=root))["items"] if i["id"] == reply
    ]
    assert marked["handled_by"] == "sam" and marked["handled_at"].endswith("Z")

    opened = run("inbox", "open", str(reply), cwd=root)
    assert opened.returncode == 0 and opened.stdout == items["reply"]["url"] + "\n"
    missing = run("inbox", "open", "999", cwd=root)
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1 and "no inbox item 999" in missing.stderr


def test_the_bluesky_reader_pages_through_notifications_by_cursor(
    engaged: tuple[Path, Account, Account, dict[str, str]],
) -> None:
    """One item a page, following the AppView's cursor to the end; likes (which are
    notifications too) are left out of every page."""
    from eduadvocate.campaign.workspace import load_config
    from eduadvocate.platforms.bluesky.client import BlueskyPublisher

    root, _, _, made = engaged
    publisher = BlueskyPublisher(load_config(None).accounts["bsky-pta"], root)
    seen, cursors, cursor = [], [], None
    try:
        for _ in range(10):
            page = publisher.inbox(cursor, 1)
            seen += [(i.kind, i.remote_id) for i in page.items]
            if page.cursor is None:
                break
            cursors.append(page.cursor)
            cursor = page.cursor
    finally:
        publisher.close()
    assert sorted(seen) == sorted((kind, uri) for kind, uri in made.items())
    assert len(cursors) >= 3 and len(set(cursors)) == len(cursors)  # five notifications, one a page


def test_replies_deeper_in_the_thread_are_read_from_the_thread(
    engaged: tuple[Path, Account, Account, dict[str, str]], bluesky_network: BlueskyNetwork
) -> None:
    """A reply to a reply notifies the replier's parent's author, not us: only the campaign
    post's thread (getPostThread) shows it. Our own answer in the thread is not an item, but
    what others reply to it is; pulling twice adds nothing."""
    from tests.fakes.bluesky import StrongRef

    root, author, _, made = engaged
    net = bluesky_network
    carol = net.create_account()
    ally_reply = StrongRef(made["reply"], _cid(net, made["reply"]))
    deeper = net.reply(carol, ally_reply, "Me too, and my neighbours")
    ours = net.reply(author, ally_reply, "Thank you!")  # our own answer: not an item
    under_ours = net.reply(carol, ours, "See you there")
    net.process_all()

    pulled = _json(run("inbox", "pull", "--format", "json", cwd=root))["accounts"][0]
    assert pulled["failed"] is None and pulled["by_kind"]["reply"] == 3
    items = {i["remote_id"]: i for i in _json(run("inbox", "-f", "json", cwd=root))["items"]}
    assert ours.uri not in items
    assert set(items) == {*made.values(), deeper.uri, under_ours.uri}
    for uri, parent in ((deeper.uri, ally_reply.uri), (under_ours.uri, ours.uri)):
        assert items[uri]["kind"] == "reply" and items[uri]["answers"]["post"] == "levy"
        assert items[uri]["author"]["handle"] == carol.handle
        assert items[uri]["answers_remote_id"] == parent
    assert items[deeper.uri]["text"] == "Me too, and my neighbours"
    assert _json(run("inbox", "pull", "--format", "json", cwd=root))["accounts"][0]["new"] == 0
    assert len(_json(run("inbox", "-f", "json", cwd=root))["items"]) == len(made) + 2


def test_the_thread_reader_leaves_out_our_posts_and_finds_no_thread_for_a_deleted_post(
    engaged: tuple[Path, Account, Account, dict[str, str]], bluesky_network: BlueskyNetwork
) -> None:
    from eduadvocate.campaign.workspace import load_config
    from eduadvocate.platforms.bluesky.client import BlueskyPublisher

    root, author, _, made = engaged
    net = bluesky_network
    gone = net.post(author, "A post deleted before anyone reads its thread")
    net.process_all()
    net.delete(author, gone.uri)
    net.process_all()
    (ours,) = [
        d
        for d in _json(run("status", "--format", "json", cwd=root))["deliveries"]
        if d["account"] == "bsky-pta"
    ]
    target = ours["parts"][0]["id"]
    publisher = BlueskyPublisher(load_config(None).accounts["bsky-pta"], root)
    try:
        page = publisher.replies(target, None, 50)
        assert page.cursor is None
        assert [(i.kind, i.remote_id, i.answers, i.root) for i in page.items] == [
            ("reply", made["reply"], target, target)
        ]
        assert publisher.replies(gone.uri, None, 50).items == []
    finally:
        publisher.close()


def _cid(net: BlueskyNetwork, uri: str) -> str:
    did, collection, rkey = uri.removeprefix("at://").split("/")
    got = net.xrpc(
        "com.atproto.repo.getRecord", params={"repo": did, "collection": collection, "rkey": rkey}
    )
    return str(got["cid"])


def test_people_suggest_sees_exactly_the_ally_on_the_reference_stack(
    engaged: tuple[Path, Account, Account, dict[str, str]],
) -> None:
    """The ally who replied, quoted, mentioned and reposted is the one amplifier, with each
    kind once (the like is a count, not an item); the campaign's own account never is."""
    root, _, ally, _ = engaged
    assert run("inbox", "pull", cwd=root).returncode == 0
    got = _json(run("people", "suggest", "--format", "json", cwd=root))
    (who,) = got["amplifiers"]
    assert (who["platform"], who["handle"], who["person"]) == ("bluesky", ally.handle, None)
    assert who["counts"] == {"repost": 1, "quote": 1, "reply": 1, "mention": 1, "comment": 0}
    assert who["total"] == 4 and who["posts"] == 1
    snippet = run("people", "suggest", "--format", "yaml", cwd=root)
    assert f'  bluesky: "{ally.handle}"' in snippet.stdout
