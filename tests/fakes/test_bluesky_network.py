"""What Bluesky's reference stack (tests/fakes/bluesky_network.py) shows an account, seen through
the ``atproto`` SDK: the notifications and the thread that another account's engagement makes.
This is what the inbox (issue 15) will read."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the fixture comes from the tests.fakes.bluesky_network plugin
    from tests.fakes.bluesky_network import BlueskyNetwork

pytestmark = [pytest.mark.appview, pytest.mark.timeout(240)]


def test_another_accounts_engagement_is_notified_and_threaded(
    bluesky_network: BlueskyNetwork,
) -> None:
    net = bluesky_network
    alice, bob = net.create_account("campaigner"), net.create_account("ally")
    post = net.post(alice, "Fund our schools")
    # Indexed before anyone answers it: a reply indexed first would make no notification.
    net.process_all()

    reply = net.reply(bob, post, "Agreed!")
    quote = net.quote(bob, post, "Read this")
    repost = net.repost(bob, post)
    like = net.like(bob, post)
    mention = net.mention(bob, alice, "Thanks to")
    net.process_all()

    client = net.client(alice.handle)
    listed = client.app.bsky.notification.list_notifications({"limit": 50})
    seen = {(n.reason, n.uri, n.author.did, n.reason_subject) for n in listed.notifications}
    assert seen == {
        ("reply", reply.uri, bob.did, post.uri),
        ("quote", quote.uri, bob.did, post.uri),
        ("repost", repost.uri, bob.did, post.uri),
        ("like", like.uri, bob.did, post.uri),
        ("mention", mention.uri, bob.did, None),
    }
    assert {n.author.handle for n in listed.notifications} == {bob.handle}
    # isRead is left alone: until the account first calls updateSeen, the AppView counts only
    # the newest notification as unread (and any that share its time), so the inbox must keep
    # "handled" itself.

    thread = client.app.bsky.feed.get_post_thread({"uri": post.uri}).thread
    assert thread.post.uri == post.uri
    assert thread.post.reply_count == 1
    assert thread.post.repost_count == 1
    assert thread.post.like_count == 1
    assert thread.post.quote_count == 1
    assert [(r.post.uri, r.post.author.did, r.post.record.text) for r in thread.replies] == [
        (reply.uri, bob.did, "Agreed!")
    ]


def test_a_reply_thread_shows_its_parent(bluesky_network: BlueskyNetwork) -> None:
    net = bluesky_network
    alice, bob = net.create_account(), net.create_account()
    post = net.post(alice, "Board meeting on Tuesday")
    net.process_all()
    reply = net.reply(bob, post, "I will be there")
    net.process_all()

    thread = net.client(alice.handle).app.bsky.feed.get_post_thread({"uri": reply.uri}).thread
    assert thread.post.uri == reply.uri
    assert thread.parent.post.uri == post.uri
    assert thread.post.record.reply.root.uri == post.uri
