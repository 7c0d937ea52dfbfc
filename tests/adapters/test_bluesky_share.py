"""``repost:`` and ``quote:`` on Bluesky, through the CLI against the reference PDS
(tests/fakes/bluesky.py): a repost is an ``app.bsky.feed.repost`` record whose subject is the
post's strong ref, a quote a post embedding it (``app.bsky.embed.record``, or
``recordWithMedia`` beside its images); each is sent once however often publish runs; a post
that is not there fails with one line; status shows what went out."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import REPO, Make
from tests.fakes.bluesky import Account, BlueskyPDS
from tests.test_cli import run

POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"


def _config(pds: BlueskyPDS, account: Account) -> str:
    return (
        "defaults: {timezone: UTC, accounts: [bsky]}\naccounts:\n"
        f"  bsky: {{platform: bluesky, handle: {account.handle}, app_password: '${{BSKY_PW}}',"
        f" service: '{pds.url}'}}\n"
    )


@pytest.fixture
def account(pds: BlueskyPDS, bsky_account: Account, monkeypatch: pytest.MonkeyPatch) -> Account:
    monkeypatch.setenv("BSKY_PW", bsky_account.app_password)
    return bsky_account


def _app_url(by: Account, uri: str) -> str:
    return f"https://bsky.app/profile/{by.handle}/post/{uri.rsplit('/', 1)[1]}"


def _ref(value: dict[str, str]) -> dict[str, str]:
    return {"uri": value["uri"], "cid": value["cid"]}


@pytest.mark.parametrize("shape", ["bsky.app", "at-uri"])
def test_a_repost_is_a_repost_record_of_the_post_once(
    pds: BlueskyPDS, account: Account, make_campaign: Make, shape: str
) -> None:
    ally = pds.create_account()
    theirs = pds.post(ally, "The levy vote is Tuesday: come!")
    address = _app_url(ally, theirs.uri) if shape == "bsky.app" else theirs.uri
    root = make_campaign(
        f"posts:\n  - id: boost\n    at: now\n    repost: '{address}'\n",
        config=_config(pds, account),
    )
    published = run("publish", cwd=root)
    assert published.returncode == 0, published.stdout + published.stderr
    (repost,) = pds.records(account.did, REPOST)
    assert _ref(repost["value"]["subject"]) == {"uri": theirs.uri, "cid": theirs.cid}
    assert pds.records(account.did, POST) == []  # a repost, not a post of ours
    status = json.loads(run("status", "--format", "json", cwd=root).stdout)
    (delivery,) = status["deliveries"]
    assert delivery["state"] == "published"
    assert delivery["parts"][0]["id"] == repost["uri"]
    assert run("publish", cwd=root).returncode == 0
    assert len(pds.records(account.did, REPOST)) == 1  # exactly once
    pulled = run("metrics", "pull", cwd=root)  # a repost has no counts of its own: none asked
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr


def test_a_quote_embeds_the_post_with_the_text(
    pds: BlueskyPDS, account: Account, make_campaign: Make
) -> None:
    ally = pds.create_account()
    theirs = pds.post(ally, "Our library hours were cut.")
    root = make_campaign(
        "posts:\n  - id: quoted\n    at: now\n"
        f"    quote: '{_app_url(ally, theirs.uri)}'\n    text: 'This is why the levy matters.'\n",
        config=_config(pds, account),
    )
    published = run("publish", cwd=root)
    assert published.returncode == 0, published.stdout + published.stderr
    (ours,) = pds.records(account.did, POST)
    assert ours["value"]["text"] == "This is why the levy matters."
    embed = ours["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.record"
    assert _ref(embed["record"]) == {"uri": theirs.uri, "cid": theirs.cid}
    assert "reply" not in ours["value"]
    assert run("publish", cwd=root).returncode == 0
    assert len(pds.records(account.did, POST)) == 1


def test_a_quote_with_an_image_embeds_both(
    pds: BlueskyPDS, account: Account, make_campaign: Make
) -> None:
    ally = pds.create_account()
    theirs = pds.post(ally, "Bus routes are changing.")
    root = make_campaign(
        "posts:\n  - id: quoted\n    at: now\n"
        f"    quote: '{theirs.uri}'\n    text: 'See the map.'\n"
        "    media: [{path: media/map.png, alt: The new bus routes}]\n",
        config=_config(pds, account),
    )
    (root / "media").mkdir(exist_ok=True)
    shutil.copy(REPO / "media" / "budget-chart.png", root / "media" / "map.png")
    published = run("publish", cwd=root)
    assert published.returncode == 0, published.stdout + published.stderr
    (ours,) = pds.records(account.did, POST)
    embed = ours["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.recordWithMedia"
    assert _ref(embed["record"]["record"]) == {"uri": theirs.uri, "cid": theirs.cid}
    (image,) = embed["media"]["images"]
    assert image["alt"] == "The new bus routes"


@pytest.mark.parametrize("field", ["repost", "quote"])
def test_a_post_that_is_not_there_fails_with_one_line(
    pds: BlueskyPDS, account: Account, make_campaign: Make, field: str
) -> None:
    ally = pds.create_account()
    gone = pds.post(ally, "Soon deleted")
    pds.delete(ally, gone.uri)
    text = "    text: Look.\n" if field == "quote" else ""
    root = make_campaign(
        f"posts:\n  - id: shared\n    at: now\n    {field}: '{_app_url(ally, gone.uri)}'\n{text}",
        config=_config(pds, account),
    )
    published = run("publish", "--format", "json", cwd=root)
    assert published.returncode == 5
    (failed,) = json.loads(published.stdout)["deliveries"]
    assert (failed["state"], failed["error_kind"]) == ("failed", "rejected")
    assert "\n" not in failed["error"] and f"the post to {field}" in failed["error"]
    assert pds.records(account.did, POST) == [] and pds.records(account.did, REPOST) == []


@pytest.mark.parametrize("field", ["repost", "quote"])
def test_a_hostile_address_makes_no_request_but_to_the_pds(
    pds: BlueskyPDS, account: Account, make_campaign: Make, field: str
) -> None:
    """A did:web naming a loopback server (an internal address) is only a name we give our PDS:
    this process never fetches it, and nothing is created."""
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
    text = "    text: Look.\n" if field == "quote" else ""
    try:
        did = f"did:web:127.0.0.1%3A{server.server_port}"
        root = make_campaign(
            f"posts:\n  - id: shared\n    at: now\n    {field}: 'at://{did}/{POST}/3kabcdefghi2a'\n"
            + text,
            config=_config(pds, account),
        )
        published = run("publish", "--format", "json", cwd=root)
    finally:
        server.shutdown()
        server.server_close()
    assert published.returncode == 5, published.stdout + published.stderr
    (failed,) = json.loads(published.stdout)["deliveries"]
    assert failed["error_kind"] == "rejected" and "\n" not in failed["error"]
    assert hits == []
    assert pds.records(account.did, POST) == [] and pds.records(account.did, REPOST) == []
