"""``reply_to:`` on Bluesky, through the CLI against the reference PDS (tests/fakes/bluesky.py):
the reply is a real reply (strong refs of parent and thread root, CIDs included), to a post
given by its bsky.app address or its at:// URI, at the top of a thread or deep in one; a thread
reply keeps the conversation's root on every part; a post that is not there fails with one
line; publishing again sends nothing more."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import Make
from tests.fakes.bluesky import Account, BlueskyPDS
from tests.test_cli import run

POST = "app.bsky.feed.post"


def _config(pds: BlueskyPDS, account: Account) -> str:
    return (
        "defaults: {timezone: UTC, accounts: [bsky]}\naccounts:\n"
        f"  bsky: {{platform: bluesky, handle: {account.handle}, app_password: '${{BSKY_PW}}',"
        f" service: '{pds.url}'}}\n"
    )


def _posts(reply_to: str, field: str = "text: 'Thank you for asking!'") -> str:
    return f"posts:\n  - id: answer\n    at: now\n    {field}\n    reply_to: '{reply_to}'\n"


@pytest.fixture
def account(pds: BlueskyPDS, bsky_account: Account, monkeypatch: pytest.MonkeyPatch) -> Account:
    monkeypatch.setenv("BSKY_PW", bsky_account.app_password)
    return bsky_account


def _ref(value: dict[str, str]) -> dict[str, str]:
    return {"uri": value["uri"], "cid": value["cid"]}  # (the PDS adds the strongRef's $type)


def _app_url(by: Account, uri: str) -> str:
    return f"https://bsky.app/profile/{by.handle}/post/{uri.rsplit('/', 1)[1]}"


@pytest.mark.parametrize("shape", ["bsky.app", "at-uri"])
def test_reply_to_a_post_is_a_real_reply(
    pds: BlueskyPDS, account: Account, make_campaign: Make, shape: str
) -> None:
    ally = pds.create_account()
    asked = pds.post(ally, "Will the levy fund the library?")
    address = _app_url(ally, asked.uri) if shape == "bsky.app" else asked.uri
    root = make_campaign(_posts(address), config=_config(pds, account))
    published = run("publish", cwd=root)
    assert published.returncode == 0, published.stdout + published.stderr
    (ours,) = pds.records(account.did, POST)
    reply = ours["value"]["reply"]
    assert _ref(reply["parent"]) == {"uri": asked.uri, "cid": asked.cid}
    assert _ref(reply["root"]) == {"uri": asked.uri, "cid": asked.cid}
    assert run("publish", cwd=root).returncode == 0
    assert len(pds.records(account.did, POST)) == 1  # exactly once


def test_a_thread_reply_deep_in_a_conversation_keeps_its_root(
    pds: BlueskyPDS, account: Account, make_campaign: Make
) -> None:
    ally = pds.create_account()
    top = pds.post(ally, "Levy thread")
    middle = pds.reply(ally, top.uri, top.cid, "And what about buses?")
    root = make_campaign(
        _posts(_app_url(ally, middle.uri), "thread: ['Buses too.', 'Details soon.']"),
        config=_config(pds, account),
    )
    published = run("publish", cwd=root)
    assert published.returncode == 0, published.stdout + published.stderr
    second, first = pds.records(account.did, POST)  # newest first
    assert _ref(first["value"]["reply"]["parent"]) == {"uri": middle.uri, "cid": middle.cid}
    assert _ref(first["value"]["reply"]["root"]) == {"uri": top.uri, "cid": top.cid}
    assert second["value"]["reply"]["parent"]["uri"] == first["uri"]
    assert _ref(second["value"]["reply"]["root"]) == {"uri": top.uri, "cid": top.cid}


@pytest.mark.parametrize("gone", ["deleted", "no such handle"])
def test_a_post_that_is_not_there_fails_with_one_line(
    pds: BlueskyPDS, account: Account, make_campaign: Make, gone: str
) -> None:
    ally = pds.create_account()
    asked = pds.post(ally, "Soon deleted")
    address = _app_url(ally, asked.uri)
    if gone == "deleted":
        pds.delete(ally, asked.uri)
    else:
        address = address.replace(ally.handle, "nobody-here.test")
    root = make_campaign(_posts(address), config=_config(pds, account))
    published = run("publish", "--format", "json", cwd=root)
    assert published.returncode == 5
    (failed,) = json.loads(published.stdout)["deliveries"]
    assert (failed["state"], failed["error_kind"]) == ("failed", "rejected")
    assert "\n" not in failed["error"] and "not on Bluesky" in failed["error"]
    assert pds.records(account.did, POST) == []


def test_a_hostile_address_makes_no_request_but_to_the_pds(
    pds: BlueskyPDS, account: Account, make_campaign: Make
) -> None:
    """A did:web naming a loopback server (an internal address) is only a name we give our PDS:
    this process never fetches it."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        did = f"did:web:127.0.0.1%3A{server.server_port}"
        root = make_campaign(
            _posts(f"at://{did}/{POST}/3kabcdefghi2a"), config=_config(pds, account)
        )
        published = run("publish", "--format", "json", cwd=root)
    finally:
        server.shutdown()
        server.server_close()
    assert published.returncode == 5, published.stdout + published.stderr
    (failed,) = json.loads(published.stdout)["deliveries"]
    assert failed["error_kind"] == "rejected" and "\n" not in failed["error"]
    assert hits == []
    assert pds.records(account.did, POST) == []
