"""The Bluesky adapter end to end: publish → ledger, through the real atproto SDK, against the
reference PDS on loopback (records read back with listRecords)."""

from __future__ import annotations

import json
import shutil
import stat

import pytest

from eduadvocate.campaign.workspace import open_campaign
from eduadvocate.delivery.publish import publish_due
from tests.conftest import REPO, Make
from tests.fakes.bluesky import Account, BlueskyPDS
from tests.test_cli import run

POST = "app.bsky.feed.post"


def _config(pds: BlueskyPDS, account: Account) -> str:
    return (
        "defaults: {timezone: UTC, accounts: [bsky]}\naccounts:\n"
        f"  bsky: {{platform: bluesky, handle: {account.handle}, app_password: '${{BSKY_PW}}', service: '{pds.url}'}}\n"
    )


@pytest.fixture
def account(pds: BlueskyPDS, bsky_account: Account, monkeypatch: pytest.MonkeyPatch) -> Account:
    monkeypatch.setenv("BSKY_PW", bsky_account.app_password)
    return bsky_account


def test_thread_with_facets_image_and_alt_text(
    pds: BlueskyPDS, account: Account, make_campaign: Make
) -> None:
    other = pds.create_account()
    root = make_campaign(
        "utm: false\nlanguage: en\nposts:\n  - id: t\n    at: now\n"
        f"    thread: ['Ask @{other.handle} about #FundOurSchools: https://example.org/p', 'Part two']\n"
        "    media: [{path: m.png, alt: A bar chart}]\n",
        config=_config(pds, account),
    )
    shutil.copy(REPO / "media" / "budget-chart.png", root / "m.png")
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert outcome.state == "published", outcome.error
    second, first = pds.records(account.did, POST)  # newest first
    value = first["value"]
    assert value["langs"] == ["en"]
    features = {f["features"][0]["$type"].rsplit("#", 1)[1]: f for f in value["facets"]}
    assert features["mention"]["features"][0]["did"] == other.did
    assert features["tag"]["features"][0]["tag"] == "FundOurSchools"
    assert features["link"]["features"][0]["uri"] == "https://example.org/p"
    text = value["text"].encode()
    link = features["link"]["index"]
    assert text[link["byteStart"] : link["byteEnd"]] == b"https://example.org/p"
    (image,) = value["embed"]["images"]
    assert image["alt"] == "A bar chart"
    reply = second["value"]["reply"]
    assert reply["parent"]["uri"] == first["uri"] == reply["root"]["uri"]
    assert [p[0] for p in outcome.parts] == [first["uri"], second["uri"]]


def test_session_is_kept_private_and_reused_without_the_password(
    pds: BlueskyPDS, account: Account, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_campaign(
        "posts:\n  - id: a\n    at: now\n    text: First\n", config=_config(pds, account)
    )
    assert publish_due(open_campaign(None)).outcomes[0].state == "published"
    session = root / ".eduadvocate" / "sessions" / "bsky.session"
    assert stat.S_IMODE(session.stat().st_mode) == 0o600
    monkeypatch.delenv("BSKY_PW")  # the next run must not need it: no second login
    (root / "posts" / "more.yaml").write_text("posts:\n  - id: b\n    at: now\n    text: Second\n")
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert outcome.state == "published", outcome.error
    assert len(pds.records(account.did, POST)) == 2


def test_a_repeat_finds_the_record_by_its_key(
    pds: BlueskyPDS, account: Account, make_campaign: Make
) -> None:
    """What a restart after a crash does: the same delivery sent again finds its record."""
    from eduadvocate.campaign.workspace import load_config
    from eduadvocate.platforms.bluesky.client import BlueskyPublisher
    from eduadvocate.platforms.publishing import OutgoingPart

    root = make_campaign("posts: []\n", config=_config(pds, account))
    publisher = BlueskyPublisher(load_config(None).accounts["bsky"], root)
    part = OutgoingPart("p|bsky|2026-11-28T12:00:00.000000Z", 0, 1, "Once only", "k")
    first = publisher.publish(part)
    again = publisher.publish(part)
    publisher.close()
    assert again == first
    assert len(pds.records(account.did, POST)) == 1


def test_big_image_is_downscaled_under_a_megabyte(
    pds: BlueskyPDS, account: Account, make_campaign: Make
) -> None:
    from PIL import Image

    root = make_campaign(
        "posts:\n  - id: big\n    at: now\n    text: Big photo\n    media: [{path: big.png, alt: Noise}]\n",
        config=_config(pds, account),
    )
    Image.effect_noise((1400, 1400), 80).convert("RGB").save(root / "big.png")
    assert (root / "big.png").stat().st_size > 1_000_000
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert outcome.state == "published", outcome.error
    (record,) = pds.records(account.did, POST)
    (image,) = record["value"]["embed"]["images"]
    assert image["image"]["size"] <= 1_000_000
    assert image["image"]["mimeType"] == "image/jpeg"


def test_wrong_app_password_fails_and_never_shows(
    pds: BlueskyPDS, account: Account, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_campaign(
        "posts:\n  - id: a\n    at: now\n    text: Hi\n", config=_config(pds, account)
    )
    monkeypatch.setenv("BSKY_PW", "wrong-app-password-xyz")
    result = run("publish", "--format", "json")
    assert result.returncode == 5
    (d,) = json.loads(result.stdout)["deliveries"]
    assert (d["state"], d["error_kind"]) == ("failed", "auth")
    seen = (
        result.stdout
        + result.stderr
        + (root / ".eduadvocate" / "ledger.sqlite3").read_bytes().decode("latin-1")
    )
    assert "wrong-app-password-xyz" not in seen
    assert account.app_password not in seen


def test_accounts_verify(pds: BlueskyPDS, account: Account, make_campaign: Make) -> None:
    make_campaign("posts: []\n", config=_config(pds, account))
    result = run("accounts", "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert account.did in result.stdout


def test_link_card_from_the_pages_opengraph_tags(
    pds: BlueskyPDS, account: Account, make_campaign: Make
) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    png = (REPO / "media" / "budget-chart.png").read_bytes()
    page = (
        b"<html><head><title>Fallback</title><meta property='og:title' content='Sign the petition'>"
        b"<meta property='og:description' content='2,000 names puts class sizes on the agenda'>"
        b"<meta property='og:image' content='/card.png'></head><body></body></html>"
    )

    class Site(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, kind = (png, "image/png") if self.path == "/card.png" else (page, "text/html")
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{site.server_port}/petition"
        make_campaign(
            f"utm: false\nposts:\n  - id: c\n    at: now\n    text: Sign today\n    link: {url}\n    card: true\n",
            config=_config(pds, account),
        )
        (outcome,) = publish_due(open_campaign(None)).outcomes
    finally:
        site.shutdown()
        site.server_close()
    assert outcome.state == "published", outcome.error
    (record,) = pds.records(account.did, POST)
    external = record["value"]["embed"]["external"]
    assert (external["uri"], external["title"], external["description"]) == (
        url,
        "Sign the petition",
        "2,000 names puts class sizes on the agenda",
    )
    assert external["thumb"]["mimeType"] == "image/png"


def test_card_needs_a_link(make_campaign: Make) -> None:
    from eduadvocate.compose.check import analyse

    make_campaign(
        "posts:\n  - id: c\n    at: now\n    accounts: [bsky]\n    text: No link here\n    card: true\n"
    )
    ws = open_campaign(None)
    assert [p.code for p in analyse(ws.config, ws.campaign, ws.now).problems] == [
        "card-without-link"
    ]
