"""Bluesky link cards (``card: true``) on the reference PDS: the page and its ``og:image`` are
fetched only from public addresses, within size and time limits; a card that cannot be made is
left out, the post goes out without it and the delivery keeps a warning. And the session file
that holds the account's tokens stays private.

The test suite allows private addresses (tests/conftest.py sets
safefetch.allow_private_addresses, because these sites listen on loopback); the refusal tests
unset it. A test that needs a "public" host uses the publisher's seams: a resolver that answers
a loopback address for a made-up name, and an address check that calls that one address public.
"""

from __future__ import annotations

import io
import ipaddress
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from eduadvocate.campaign.workspace import load_config, open_campaign
from eduadvocate.config.model import ConfigWarning
from eduadvocate.delivery.publish import publish_due
from eduadvocate.platforms.bluesky.client import BlueskyPublisher
from eduadvocate.platforms.publishing import OutgoingPart, Published
from tests.conftest import REPO, Make, forbid_private_addresses
from tests.fakes.bluesky import Account, BlueskyPDS
from tests.test_cli import run
from tests.websites import (
    Site,
    counting,
    endless,
    gif_far_frame,
    image,
    og_page,
    page,
    png_bomb,
    redirect,
    trickle,
)

POST = "app.bsky.feed.post"
PNG = (REPO / "media" / "budget-chart.png").read_bytes()
LEFT_OUT = "the link card was left out: "


def _config(pds: BlueskyPDS, account: Account) -> str:
    return (
        "defaults: {timezone: UTC, accounts: [bsky]}\naccounts:\n"
        f"  bsky: {{platform: bluesky, handle: {account.handle}, app_password: '${{BSKY_PW}}', service: '{pds.url}'}}\n"
    )


Card = Callable[..., tuple[Published, dict[str, Any]]]


@pytest.fixture
def publisher(
    pds: BlueskyPDS, bsky_account: Account, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., BlueskyPublisher]]:
    """Builds the adapter for a fresh account; keyword arguments are account settings."""
    monkeypatch.setenv("BSKY_PW", bsky_account.app_password)
    root = make_campaign("posts: []\n", config=_config(pds, bsky_account))
    made: list[BlueskyPublisher] = []

    def build(**settings: Any) -> BlueskyPublisher:
        account = load_config(None).accounts["bsky"]
        account = replace(account, settings={**account.settings, **settings})
        made.append(BlueskyPublisher(account, root))
        return made[-1]

    yield build
    for p in made:
        p.close()


@pytest.fixture
def card(
    pds: BlueskyPDS, bsky_account: Account, publisher: Callable[..., BlueskyPublisher]
) -> Card:
    """Post a card for ``url``; returns what the adapter answered and the record as stored."""
    count = iter(range(100))

    def post(
        url: str, *, adapter: BlueskyPublisher | None = None, **settings: Any
    ) -> tuple[Published, dict[str, Any]]:
        adapter = adapter or publisher(**settings)
        n = next(count)
        part = OutgoingPart(f"c{n}|bsky|2026-11-28T12:00:0{n}.000000Z", 0, 1, "Read it", "k",
                            card_url=url)  # fmt: skip
        published = adapter.publish(part)
        (record,) = [
            r for r in pds.records(bsky_account.did, POST) if r["uri"] == published.remote_id
        ]
        return published, record["value"]

    return post


def _left_out(published: Published, value: dict[str, Any], *reason: str) -> str:
    assert "embed" not in value, value["embed"]
    assert published.warning is not None and published.warning.startswith(LEFT_OUT)
    for words in reason:
        assert words in published.warning, published.warning
    return published.warning


def _public(
    *addresses: str,
) -> Callable[[ipaddress.IPv4Address | ipaddress.IPv6Address], str | None]:
    """The address check, except that these (loopback) addresses count as public."""
    from eduadvocate.platforms.safefetch import address_refusal

    allowed = {ipaddress.ip_address(a) for a in addresses}
    return lambda ip: None if ip in allowed else address_refusal(ip)


# -- refused destinations -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("http://127.0.0.1:{port}/secret", "127.0.0.1"),
        ("http://localhost:{port}/secret", "localhost"),
        ("http://[::ffff:127.0.0.1]:{port}/secret", "::ffff:127.0.0.1"),
        ("http://2130706433:{port}/secret", "127.0.0.1"),  # 127.0.0.1 written as one number
        ("http://0.0.0.0:{port}/secret", "0.0.0.0"),  # Linux connects that to loopback
    ],
    ids=["loopback", "localhost", "ipv4-mapped", "decimal", "unspecified"],
)
def test_a_link_to_an_internal_address_is_never_fetched(
    card: Card, monkeypatch: pytest.MonkeyPatch, link: str, reason: str
) -> None:
    """Without the test-only allowance, a card link to loopback (by address, by a name that
    resolves there, IPv4-mapped, as a decimal number, 0.0.0.0) is refused before connecting,
    even on a port it is allowed to use: the post goes out without the card, with a warning."""
    forbid_private_addresses(monkeypatch)
    with Site({"/secret": og_page("Internal admin", description="db password")}) as internal:
        url = link.format(port=internal.port)
        published, value = card(url, card_ports=str(internal.port))
    assert internal.hits == []
    _left_out(published, value, reason, "not a public address")


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.org/file", "only http and https"),
        ("gopher://example.org:70/", "only http and https"),
        ("http://example.org:8080/", "port 8080"),
        ("https://example.org:22/", "port 22"),
        ("http://user:secret@example.org/", "a user name or password"),
    ],
)
def test_other_schemes_ports_and_credentials_are_refused_before_any_lookup(
    card: Card, publisher: Callable[..., BlueskyPublisher], monkeypatch: pytest.MonkeyPatch,
    link: str, reason: str,
) -> None:  # fmt: skip
    forbid_private_addresses(monkeypatch)
    adapter = publisher()
    resolve, asked = counting({})
    adapter.card_guard = replace(adapter.card_guard, resolver=resolve)
    published, value = card(link, adapter=adapter)
    _left_out(published, value, reason)
    assert asked == []  # refused from the address alone


@pytest.mark.parametrize("hops", [1, 3])
def test_a_public_page_that_redirects_to_an_internal_address_is_refused_at_that_hop(
    card: Card,
    publisher: Callable[..., BlueskyPublisher],
    monkeypatch: pytest.MonkeyPatch,
    hops: int,
) -> None:
    forbid_private_addresses(monkeypatch)
    with (
        Site({"/secret": og_page("Internal admin")}) as internal,
        Site(host="127.0.0.2") as public,
    ):
        target = internal.url("/secret")
        for i in range(hops):  # /r0 -> /r1 -> ... -> the internal address
            last = i == hops - 1
            public.routes[f"/r{i}"] = redirect(target if last else f"/r{i + 1}")
        adapter = publisher(card_ports=f"{public.port}, {internal.port}")
        resolve, _ = counting({"news.example": ["127.0.0.2"]})
        adapter.card_guard = replace(
            adapter.card_guard, resolver=resolve, refuse=_public("127.0.0.2")
        )
        published, value = card(public.url("/r0", host="news.example"), adapter=adapter)
    assert [path for path, *_ in public.hits] == [f"/r{i}" for i in range(hops)]
    assert internal.hits == []
    _left_out(published, value, "127.0.0.1", "not a public address")


def test_a_public_og_image_that_redirects_inside_is_refused(
    card: Card, publisher: Callable[..., BlueskyPublisher], monkeypatch: pytest.MonkeyPatch
) -> None:
    forbid_private_addresses(monkeypatch)
    with Site({"/img": image(PNG)}) as internal, Site(host="127.0.0.2") as public:
        public.routes["/page"] = og_page("Vote", image="/img")
        public.routes["/img"] = redirect(internal.url("/img", host="localhost"), 307)
        adapter = publisher(card_ports=f"{public.port},{internal.port}")
        resolve, _ = counting({"news.example": ["127.0.0.2"], "localhost": ["127.0.0.1"]})
        adapter.card_guard = replace(
            adapter.card_guard, resolver=resolve, refuse=_public("127.0.0.2")
        )
        published, value = card(public.url("/page", host="news.example"), adapter=adapter)
    assert internal.hits == []
    _left_out(published, value, "localhost", "127.0.0.1")


def test_at_most_five_redirects(card: Card) -> None:
    with Site() as site:
        for i in range(6):
            site.routes[f"/r{i}"] = redirect(f"/r{i + 1}", 301 if i % 2 else 308)
        site.routes["/r5"] = og_page("Five hops")  # /r0 → … → /r5: five redirects
        published, value = card(site.url("/r0"))
        assert published.warning is None
        assert value["embed"]["external"]["title"] == "Five hops"
        assert value["embed"]["external"]["uri"] == site.url("/r0")  # the link as written

        site.routes["/r5"] = redirect("/r6")
        site.routes["/r6"] = og_page("Six hops")
        published, value = card(site.url("/r0"))
    _left_out(published, value, "more than 5 redirects")


def test_relative_og_image_is_resolved_against_the_page_it_was_found_on(card: Card) -> None:
    """After redirects the page's address is the last one: ``img/card.png`` on
    ``/articles/2026/levy`` is ``/articles/2026/img/card.png``."""
    with Site() as site:
        site.routes["/go"] = redirect("/articles/2026/levy")
        site.routes["/articles/2026/levy"] = og_page("The levy", image="img/card.png")
        site.routes["/articles/2026/img/card.png"] = image(PNG)
        published, value = card(site.url("/go"))
    assert published.warning is None
    external = value["embed"]["external"]
    assert external["title"] == "The levy"
    assert external["thumb"]["mimeType"] == "image/png"


# -- bounded --------------------------------------------------------------------------------------
def test_a_huge_page_is_read_only_up_to_the_cap(card: Card) -> None:
    """A 300 MB page (generated as it is sent) is cut at card_max_html: the card comes from what
    was read, in well under the time the whole page would take."""
    head = b"<html><head><title>Huge</title><meta property='og:title' content='Big page'>"
    with Site({"/big": endless(head, 300_000_000)}) as site:
        started = time.monotonic()
        published, value = card(site.url("/big"), card_max_html="200000")
        took = time.monotonic() - started
    assert published.warning is None
    assert value["embed"]["external"]["title"] == "Big page"
    assert took < 10


def test_a_page_that_trickles_hits_the_deadline(card: Card) -> None:
    """One byte every 0.2 s never trips a read timeout; the overall deadline (card_timeout) does."""
    with Site({"/slow": trickle(0.2, 30)}) as site:
        started = time.monotonic()
        published, value = card(site.url("/slow"), card_timeout="1")
        took = time.monotonic() - started
    _left_out(published, value, "1 s")
    assert took < 6  # the PDS calls included


@pytest.mark.parametrize(
    ("routes", "reason"),
    [
        ({"/p": page("{}", "application/json")}, "application/json"),
        ({"/p": page("<html>", "")}, "no content type"),
        ({"/p": og_page("Vote", image="/i"), "/i": image(PNG, "text/html")}, "text/html"),
        ({"/p": og_page("Vote", image="/i"), "/i": image(b"<svg/>", "image/svg+xml")}, "svg"),
    ],
    ids=["json-page", "no-type", "html-image", "svg-image"],
)
def test_the_wrong_content_type_is_refused(card: Card, routes: dict[str, Any], reason: str) -> None:
    with Site(routes) as site:
        published, value = card(site.url("/p"))
    _left_out(published, value, reason)


def test_an_image_over_card_max_image_is_left_out(card: Card) -> None:
    with Site({"/p": og_page("Vote", image="/i"), "/i": image(PNG)}) as site:
        published, value = card(site.url("/p"), card_max_image=str(len(PNG) - 1))
    _left_out(published, value, f"{len(PNG) - 1:,}")


def _noise_png(size: tuple[int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise(size, 80).convert("RGB").save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (png_bomb(20_000, 20_000), "pixels"),  # Pillow's DecompressionBombError (over 2 x 89 MP)
        (png_bomb(5_000, 5_000), "pixels"),  # 25 MP: under Pillow's limit, over ours
        (gif_far_frame(60_000), "DecompressionBombError"),  # 3.6 GP that the header hides
        (gif_far_frame(4_900), "pixels"),  # 25 MP that the header hides: our check after Pillow's
        (b"\x00not an image\xff" * 1000, "not a picture"),
        (PNG[:33] + b"\x00garbage" * 100, "picture"),  # a PNG header, then no image data
        (b"\x89PNG\r\n\x1a\n" + b"\xff" * 2_000_000, "picture"),  # over 1 MB: Pillow must read it
    ],
    ids=[
        "bomb-400MP",
        "bomb-25MP",
        "gif-3.6GP",
        "gif-25MP",
        "garbage",
        "truncated-png",
        "big-garbage",
    ],
)
def test_an_image_that_cannot_be_read_safely_leaves_the_card_out(
    card: Card, data: bytes, reason: str
) -> None:
    with Site({"/p": og_page("Vote", image="/i"), "/i": image(data)}) as site:
        published, value = card(site.url("/p"))
    _left_out(published, value, reason)


def test_a_big_image_is_still_downscaled_into_the_card(card: Card) -> None:
    big = _noise_png((1400, 1400))
    assert len(big) > 1_000_000
    with Site({"/p": og_page("Vote", image="/i"), "/i": image(big)}) as site:
        published, value = card(site.url("/p"))
    assert published.warning is None
    thumb = value["embed"]["external"]["thumb"]
    assert thumb["mimeType"] == "image/jpeg" and thumb["size"] <= 1_000_000


def test_an_unreachable_page_leaves_the_card_out(card: Card) -> None:
    with Site() as site:
        url = site.url("/gone")
    published, value = card(url)  # the site is closed: connection refused
    _left_out(published, value, "could not connect")
    with Site() as site:
        published, value = card(site.url("/missing"))
    _left_out(published, value, "404")


# -- end to end: the delivery keeps the warning ---------------------------------------------------
def test_publish_records_the_warning_on_the_delivery_and_status_shows_it(
    pds: BlueskyPDS, bsky_account: Account, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BSKY_PW", bsky_account.app_password)
    forbid_private_addresses(monkeypatch)
    with Site({"/p": og_page("Internal")}) as internal:
        url = internal.url("/p")
        make_campaign(
            f"utm: false\nposts:\n  - id: c\n    at: now\n    text: Sign today\n    link: {url}\n    card: true\n",
            config=_config(pds, bsky_account),
        )
        (outcome,) = publish_due(open_campaign(None)).outcomes
    assert outcome.state == "published", outcome.error
    assert outcome.warning is not None and outcome.warning.startswith(LEFT_OUT)
    assert internal.hits == []
    (record,) = pds.records(bsky_account.did, POST)
    assert "embed" not in record["value"] and url in record["value"]["text"]
    result = run("status", "--format", "json")
    (delivery,) = json.loads(result.stdout)["deliveries"]
    assert delivery["warning"] == outcome.warning


def test_the_real_command_ignores_the_test_suites_allowance_in_its_environment(
    pds: BlueskyPDS, bsky_account: Account, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``EDUADVOCATE_ALLOW_PRIVATE_ADDRESSES=1`` is read by the tests' launcher, never by
    eduadvocate: the installed command, with it set, still refuses a card from loopback."""
    monkeypatch.setenv("BSKY_PW", bsky_account.app_password)
    with Site({"/p": og_page("Internal")}) as internal:
        url = internal.url("/p")
        make_campaign(
            f"utm: false\nposts:\n  - id: c\n    at: now\n    text: Sign today\n    link: {url}\n    card: true\n",
            config=_config(pds, bsky_account),
        )
        env = {**os.environ, "EDUADVOCATE_ALLOW_PRIVATE_ADDRESSES": "1"}
        env.pop("EDUADVOCATE_NOW", None)  # at: now on the real clock
        result = subprocess.run(
            [sys.executable, "-m", "eduadvocate", "publish", "--format", "json"],
            capture_output=True, text=True, env=env, check=False, timeout=120,
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    (delivery,) = json.loads(result.stdout)["deliveries"]
    assert delivery["state"] == "published"
    assert (delivery["warning"] or "").startswith(LEFT_OUT), delivery
    assert internal.hits == []


# -- the session file -----------------------------------------------------------------------------
def _session(root: Path) -> Path:
    return root / ".eduadvocate" / "sessions" / "bsky.session"


def test_a_session_file_others_can_read_is_tightened_with_a_warning(
    pds: BlueskyPDS, bsky_account: Account, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BSKY_PW", bsky_account.app_password)
    root = make_campaign(
        "posts:\n  - id: a\n    at: now\n    text: First\n", config=_config(pds, bsky_account)
    )
    assert publish_due(open_campaign(None)).outcomes[0].state == "published"
    session = _session(root)
    assert stat.S_IMODE(session.stat().st_mode) == 0o600
    session.chmod(0o644)
    (root / "posts" / "more.yaml").write_text("posts:\n  - id: b\n    at: now\n    text: Second\n")
    with pytest.warns(ConfigWarning, match=r"bsky\.session.*0644.*0600"):
        (outcome,) = publish_due(open_campaign(None)).outcomes
    assert outcome.state == "published", outcome.error
    assert stat.S_IMODE(session.stat().st_mode) == 0o600


def test_a_new_session_file_is_private_from_its_first_byte(
    publisher: Callable[..., BlueskyPublisher], tmp_path: Path
) -> None:
    """Written under a umask of 0: still 0600 (it is created so, never chmod-ed after writing),
    and a symlink planted where it goes is replaced, not written through."""
    adapter = publisher()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    adapter.session_file.parent.mkdir(parents=True, exist_ok=True)
    adapter.session_file.symlink_to(victim)
    old = os.umask(0)
    try:
        adapter.verify()  # logs in: the session is saved
    finally:
        os.umask(old)
    assert victim.read_text() == "keep me"
    assert not adapter.session_file.is_symlink()
    assert stat.S_IMODE(adapter.session_file.stat().st_mode) == 0o600


@pytest.mark.parametrize("where", ["http://[::1", "http://[oops]/", "//[x", "http://a:99999/"])
def test_a_malformed_og_image_or_redirect_leaves_the_card_out(card: Card, where: str) -> None:
    """Addresses Python's URL parser rejects (an unclosed IPv6 bracket, a port out of range), in
    the page's og:image or in a redirect's Location: a warning, never a crash."""
    with Site({"/p": og_page("Vote", image=where), "/r": redirect(where)}) as site:
        for path in ("/p", "/r"):
            published, value = card(site.url(path))
            _left_out(published, value, "not a valid web address")
