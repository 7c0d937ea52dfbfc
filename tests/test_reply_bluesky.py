"""``eduadvocate reply ITEM`` end to end on Bluesky's reference stack (PLC, PDS and the real
AppView, tests/fakes/bluesky_network.py): the CLI publishes a campaign post, another account
replies to it, ``inbox pull`` stores the reply, and ``reply ITEM`` answers it: a real reply in
that conversation (parent: the ally's reply; root: our post), found through the AppView's
``getPosts``, sent once however often it is asked, and the item marked handled."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import Make
from tests.test_cli import run

if TYPE_CHECKING:  # the fixture comes from the tests.fakes.bluesky_network plugin
    from tests.fakes.bluesky import Account, StrongRef
    from tests.fakes.bluesky_network import BlueskyNetwork

pytestmark = [pytest.mark.appview, pytest.mark.timeout(240)]

POSTS = """\
posts:
  - id: levy
    at: now
    text: "The levy vote is Tuesday. #FundOurSchools"
"""
POST = "app.bsky.feed.post"


def _json(result: Any) -> Any:
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_reply_answers_a_pulled_reply_in_its_conversation_once(
    make_campaign: Make, bluesky_network: BlueskyNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = bluesky_network
    author, ally = net.create_account(), net.create_account()
    monkeypatch.setenv("BSKY_PW", author.app_password)
    config = (
        "defaults: {timezone: America/Chicago, accounts: [bsky-pta]}\n"
        "accounts:\n"
        f"  bsky-pta: {{platform: bluesky, handle: {author.handle}, app_password: '${{BSKY_PW}}',"
        f" service: '{net.url}'}}\n"
    )
    root = make_campaign(POSTS, config=config)
    assert run("publish", cwd=root).returncode == 0
    ours = _record(net, author, _json(run("status", "--format", "json", cwd=root)))
    net.process_all()  # indexed before anyone answers it (else no reply notification)
    asked = net.reply(ally, ours, "Which day exactly?")
    net.process_all()
    assert run("inbox", "pull", cwd=root).returncode == 0
    (item,) = _json(run("inbox", "--format", "json", cwd=root))["items"]
    assert item["remote_id"] == asked.uri

    answered = run("reply", str(item["id"]), "Tuesday at 7pm, at the high school.", cwd=root)
    assert answered.returncode == 0, answered.stdout + answered.stderr
    again = run("reply", str(item["id"]), "Tuesday at 7pm, at the high school.", cwd=root)
    assert again.returncode == 2 and "has an answer already" in again.stderr
    assert run("publish", cwd=root).returncode == 0

    records = net.xrpc(
        "com.atproto.repo.listRecords", params={"repo": author.did, "collection": POST}
    )["records"]
    (answer,) = [r for r in records if "7pm" in r["value"]["text"]]
    reply = answer["value"]["reply"]
    assert (reply["parent"]["uri"], reply["parent"]["cid"]) == (asked.uri, asked.cid)
    assert (reply["root"]["uri"], reply["root"]["cid"]) == (ours.uri, ours.cid)
    (handled,) = _json(run("inbox", "--format", "json", cwd=root))["items"]
    assert handled["handled_by"] == f"reply reply-{item['id']}"


def _record(net: BlueskyNetwork, author: Account, status: dict[str, Any]) -> StrongRef:
    from tests.fakes.bluesky import StrongRef

    (ours,) = status["deliveries"]
    uri = ours["parts"][0]["id"]
    got = net.xrpc(
        "com.atproto.repo.getRecord",
        params={"repo": author.did, "collection": POST, "rkey": uri.split("/")[-1]},
    )
    return StrongRef(got["uri"], got["cid"])
