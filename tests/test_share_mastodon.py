"""``repost:`` (a boost) and ``quote:`` on Mastodon, through the CLI against the loopback
Mastodon (tests/fakes/mastodon.py): the status is found by the instance's own search, a boost is
``POST /api/v1/statuses/:id/reblog`` (one per account and status: publishing again, or a
reconciliation after a crash, finds the same boost), a quote a status with
``quoted_status_id``; a status that is not there fails with one line, and an instance older than
Mastodon 4.5 is refused a quote before anything is sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.conftest import Make
from tests.fakes.mastodon import MastodonFake
from tests.test_cli import run


def _config(fake: MastodonFake) -> str:
    return (
        "defaults: {timezone: America/Chicago, accounts: [masto]}\n"
        "accounts:\n"
        f"  masto: {{platform: mastodon, instance: '{fake.base_url}',"
        " access_token: '${MASTO_TOKEN}'}\n"
    )


@pytest.fixture
def ally_status(mastodon_fresh: MastodonFake, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("MASTO_TOKEN", mastodon_fresh.token)
    ally = mastodon_fresh.client(mastodon_fresh.token2)
    return ally.status_post("The library's hours were cut again.")


@pytest.fixture
def internal_server() -> Iterator[tuple[str, list[str]]]:
    """A loopback server standing for an internal address: it records every request."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", hits
    finally:
        server.shutdown()
        server.server_close()


def _ours_of(fake: MastodonFake, status_id: Any) -> Any:
    """The ally's status as our account sees it (``reblogged`` is per viewer)."""
    return fake.client(fake.token, upstream=True).status(status_id)


def test_a_repost_is_a_boost_made_once(
    make_campaign: Make, mastodon_fresh: MastodonFake, ally_status: Any
) -> None:
    root = make_campaign(
        f"posts:\n  - id: boost\n    at: now\n    repost: '{ally_status.url}'\n",
        config=_config(mastodon_fresh),
    )
    published = run("publish", cwd=root)
    assert published.returncode == 0, published.stdout + published.stderr
    (boost,) = mastodon_fresh.statuses()
    assert str(boost.reblog.id) == str(ally_status.id)
    seen = _ours_of(mastodon_fresh, ally_status.id)
    assert seen.reblogged and seen.reblogs_count == 1
    (delivery,) = json.loads(run("status", "--format", "json", cwd=root).stdout)["deliveries"]
    assert delivery["state"] == "published"
    assert delivery["parts"][0]["id"] == str(boost.id)
    assert run("publish", cwd=root).returncode == 0
    assert len(mastodon_fresh.statuses()) == 1
    assert _ours_of(mastodon_fresh, ally_status.id).reblogs_count == 1


def test_a_quote_is_a_status_quoting_the_other(
    make_campaign: Make, mastodon_fresh: MastodonFake, ally_status: Any
) -> None:
    root = make_campaign(
        "posts:\n  - id: quoted\n    at: now\n"
        f"    quote: '{ally_status.url}'\n    text: 'This is why the levy matters.'\n",
        config=_config(mastodon_fresh),
    )
    published = run("publish", cwd=root)
    assert published.returncode == 0, published.stdout + published.stderr
    (ours,) = mastodon_fresh.statuses()
    assert "This is why the levy matters." in ours.content
    assert str(ours.quote.quoted_status.id) == str(ally_status.id)
    assert ours.in_reply_to_id is None and ours.reblog is None
    assert run("publish", cwd=root).returncode == 0
    assert len(mastodon_fresh.statuses()) == 1


@pytest.mark.parametrize("field", ["repost", "quote"])
def test_a_status_that_cannot_be_found_fails_with_one_line(
    make_campaign: Make, mastodon_fresh: MastodonFake, ally_status: Any, field: str
) -> None:
    gone = ally_status.url.rsplit("/", 1)[0] + "/99999999"
    text = "    text: Look.\n" if field == "quote" else ""
    root = make_campaign(
        f"posts:\n  - id: shared\n    at: now\n    {field}: '{gone}'\n{text}",
        config=_config(mastodon_fresh),
    )
    published = run("publish", "--format", "json", cwd=root)
    assert published.returncode == 5
    (failed,) = json.loads(published.stdout)["deliveries"]
    assert (failed["state"], failed["error_kind"]) == ("failed", "rejected")
    assert "cannot be found" in failed["error"] and "\n" not in failed["error"]
    assert mastodon_fresh.statuses() == []


def test_an_instance_before_mastodon_4_5_is_refused_a_quote(
    make_campaign: Make, mastodon_fresh: MastodonFake, ally_status: Any
) -> None:
    """It would drop ``quoted_status_id`` and post the text alone: nothing is sent."""
    mastodon_fresh.version = "4.3.2"
    root = make_campaign(
        f"posts:\n  - id: quoted\n    at: now\n    quote: '{ally_status.url}'\n    text: Look.\n",
        config=_config(mastodon_fresh),
    )
    published = run("publish", "--format", "json", cwd=root)
    assert published.returncode == 5, published.stdout + published.stderr
    (failed,) = json.loads(published.stdout)["deliveries"]
    assert failed["error_kind"] == "rejected"
    assert (
        "quote posts need Mastodon 4.5 or later" in failed["error"] and "4.3.2" in failed["error"]
    )
    assert mastodon_fresh.statuses() == []


@pytest.mark.parametrize("field", ["repost", "quote"])
def test_a_hostile_address_reaches_nothing_but_the_instance(
    make_campaign: Make,
    mastodon_fresh: MastodonFake,
    ally_status: Any,
    internal_server: tuple[str, list[str]],
    field: str,
) -> None:
    """An address shaped like a status on an internal host is only a search term for our own
    instance: we never fetch it, and nothing is boosted or posted."""
    internal, hits = internal_server
    text = "    text: Look.\n" if field == "quote" else ""
    root = make_campaign(
        f"posts:\n  - id: shared\n    at: now\n    {field}: '{internal}/@admin/1'\n{text}",
        config=_config(mastodon_fresh),
    )
    mastodon_fresh.seen.clear()
    published = run("publish", "--format", "json", cwd=root)
    assert published.returncode == 5
    (failed,) = json.loads(published.stdout)["deliveries"]
    assert failed["error_kind"] == "rejected"
    assert hits == []
    assert "/api/v2/search" in [s.path for s in mastodon_fresh.seen]
    assert [s.path for s in mastodon_fresh.seen if s.method == "POST"] == []
