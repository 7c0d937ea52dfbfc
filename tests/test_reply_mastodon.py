"""Answering on Mastodon, through the CLI against the loopback Mastodon (tests/fakes/mastodon.py):
a post's ``reply_to:`` becomes a real reply (``in_reply_to_id``, the status's id on our
instance, found by the instance's search), ``reply ITEM`` answers a pulled inbox item exactly
once and marks it handled, and a hostile address makes no request anywhere but the instance."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, Make
from tests.fakes.mastodon import MastodonFake
from tests.test_cli import run

CAMPAIGN = """\
posts:
  - id: levy
    at: now
    text: "The levy vote is Tuesday. #FundOurSchools"
"""


def _config(fake: MastodonFake) -> str:
    return (
        "defaults: {timezone: America/Chicago, accounts: [masto]}\n"
        "accounts:\n"
        f"  masto: {{platform: mastodon, instance: '{fake.base_url}',"
        " access_token: '${MASTO_TOKEN}'}\n"
    )


def _reply_post(url: str, text: str = "Thank you, see you Tuesday!") -> str:
    return f"  - id: answer\n    at: now\n    text: {json.dumps(text)}\n    reply_to: '{url}'\n"


@pytest.fixture
def ally_status(mastodon_fresh: MastodonFake, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("MASTO_TOKEN", mastodon_fresh.token)
    ally = mastodon_fresh.client(mastodon_fresh.token2)
    return ally.status_post("Will the levy fund the new library?")


def test_reply_to_is_a_real_reply_on_the_instance(
    make_campaign: Make, mastodon_fresh: MastodonFake, ally_status: Any
) -> None:
    root = make_campaign(CAMPAIGN + _reply_post(ally_status.url), config=_config(mastodon_fresh))
    published = run("publish", cwd=root)
    assert published.returncode == 0, published.stdout + published.stderr
    ours = {s.content: s for s in mastodon_fresh.statuses()}
    (answer,) = [s for t, s in ours.items() if "see you Tuesday" in t]
    (levy,) = [s for t, s in ours.items() if "levy vote" in t]
    assert str(answer.in_reply_to_id) == str(ally_status.id)
    assert levy.in_reply_to_id is None  # the other posts are no replies
    again = run("publish", cwd=root)
    assert again.returncode == 0 and len(mastodon_fresh.statuses()) == 2


def test_a_thread_reply_answers_with_its_first_part_and_threads_the_rest(
    make_campaign: Make, mastodon_fresh: MastodonFake, ally_status: Any
) -> None:
    posts = (
        "posts:\n  - id: answer\n    at: now\n    thread: [First, Second]\n"
        f"    reply_to: '{ally_status.url}'\n"
    )
    root = make_campaign(posts, config=_config(mastodon_fresh))
    assert run("publish", cwd=root).returncode == 0
    second, first = mastodon_fresh.statuses()
    assert str(first.in_reply_to_id) == str(ally_status.id)
    assert str(second.in_reply_to_id) == str(first.id)


def test_a_status_that_cannot_be_found_fails_with_one_line(
    make_campaign: Make, mastodon_fresh: MastodonFake, ally_status: Any
) -> None:
    gone = ally_status.url.rsplit("/", 1)[0] + "/99999999"
    root = make_campaign(_reply_post(gone).join(["posts:\n", ""]), config=_config(mastodon_fresh))
    published = run("publish", "--format", "json", cwd=root)
    assert published.returncode == 5
    (failed,) = json.loads(published.stdout)["deliveries"]
    assert failed["state"] == "failed" and failed["error_kind"] == "rejected"
    assert "cannot be found" in failed["error"] and "\n" not in failed["error"]
    assert mastodon_fresh.statuses() == []


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


def test_a_hostile_address_reaches_nothing_but_the_instance(
    make_campaign: Make,
    mastodon_fresh: MastodonFake,
    ally_status: Any,
    internal_server: tuple[str, list[str]],
) -> None:
    """An address shaped like a status on an internal host is only a search term for our own
    instance: we never fetch it (the instance decides what it may fetch)."""
    internal, hits = internal_server
    root = make_campaign(
        _reply_post(f"{internal}/@admin/1").join(["posts:\n", ""]), config=_config(mastodon_fresh)
    )
    mastodon_fresh.seen.clear()
    published = run("publish", "--format", "json", cwd=root)
    assert published.returncode == 5
    (failed,) = json.loads(published.stdout)["deliveries"]
    assert failed["error_kind"] == "rejected"
    assert hits == []
    assert "/api/v2/search" in [s.path for s in mastodon_fresh.seen]  # asked of the instance
    assert [s.path for s in mastodon_fresh.seen if s.method == "POST"] == []  # nothing posted


# -- reply ITEM ------------------------------------------------------------------------------------


@pytest.fixture
def pulled(
    make_campaign: Make, mastodon_fresh: MastodonFake, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, dict[str, Any]]:
    """A published campaign post, an ally's reply naming the account, pulled into the inbox."""
    monkeypatch.setenv("MASTO_TOKEN", mastodon_fresh.token)
    root = make_campaign(CAMPAIGN, config=_config(mastodon_fresh))
    assert run("publish", cwd=root).returncode == 0
    (ours,) = mastodon_fresh.statuses()
    ally = mastodon_fresh.client(mastodon_fresh.token2)
    ally.status_post("@advocate Which day exactly?", in_reply_to_id=ours.id)
    assert run("inbox", "pull", cwd=root).returncode == 0
    (item,) = json.loads(run("inbox", "--format", "json", cwd=root).stdout)["items"]
    return root, item


def _inbox(root: Path) -> dict[str, Any]:
    (item,) = json.loads(run("inbox", "--format", "json", cwd=root).stdout)["items"]
    return item  # type: ignore[no-any-return]


def test_reply_answers_the_item_once_and_marks_it_handled(
    pulled: tuple[Path, dict[str, Any]], mastodon_fresh: MastodonFake
) -> None:
    root, item = pulled
    answered = run("reply", str(item["id"]), "Tuesday at 7pm, at the high school.", cwd=root)
    assert answered.returncode == 0, answered.stdout + answered.stderr
    path = root / "posts" / "replies" / f"reply-{item['id']}.yaml"
    assert f"Wrote posts/replies/reply-{item['id']}.yaml" in answered.stdout
    assert path.is_file() and item["url"] in path.read_text()
    replies = [s for s in mastodon_fresh.statuses() if "7pm" in s.content]
    assert len(replies) == 1
    assert str(replies[0].in_reply_to_id) == item["remote_id"]
    assert _inbox(root)["handled_at"] is not None

    status = json.loads(run("status", "--format", "json", cwd=root).stdout)
    (delivery,) = [d for d in status["deliveries"] if d["post"] == f"reply-{item['id']}"]
    assert delivery["state"] == "published"

    twice = run("reply", str(item["id"]), "Tuesday at 7pm, at the high school.", cwd=root)
    assert twice.returncode == 2
    assert twice.stderr.count("\n") == 1 and "has an answer already" in twice.stderr
    assert run("publish", cwd=root).returncode == 0
    assert len([s for s in mastodon_fresh.statuses() if "7pm" in s.content]) == 1


def test_a_reply_with_errors_writes_and_sends_nothing(
    pulled: tuple[Path, dict[str, Any]], mastodon_fresh: MastodonFake
) -> None:
    root, item = pulled
    before = len(mastodon_fresh.statuses())
    # (A text over the limit is no error: it goes out as a thread, as any post does.)
    refused = run("reply", str(item["id"]), "Thank you, {@nobody}!", cwd=root)
    assert refused.returncode == 4
    assert refused.stderr.count("\n") == 1
    assert refused.stderr.startswith(
        "eduadvocate: error: the reply's text: {@nobody} is not in people.yaml"
    ), refused.stderr
    assert not (root / "posts" / "replies").exists()
    assert len(mastodon_fresh.statuses()) == before
    assert _inbox(root)["handled_at"] is None


def test_reply_from_a_file_with_an_error_names_the_files_line(
    pulled: tuple[Path, dict[str, Any]],
) -> None:
    root, item = pulled
    draft = root / "draft.yaml"
    draft.write_text("# my answer\ntext: Thanks!\nmedia:\n  - path: media/missing.png\n")
    refused = run("reply", str(item["id"]), "--file", "draft.yaml", cwd=root)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert refused.stderr.startswith("eduadvocate: error: draft.yaml:4: "), refused.stderr
    assert refused.stderr.count("\n") == 1 and "; and draft.yaml:4: " in refused.stderr
    assert not (root / "posts" / "replies").exists()


def test_reply_dry_run_renders_and_writes_nothing(
    pulled: tuple[Path, dict[str, Any]], mastodon_fresh: MastodonFake
) -> None:
    root, item = pulled
    before = len(mastodon_fresh.statuses())
    shown = run("reply", str(item["id"]), "See you there!", "--dry-run", cwd=root)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[-1] == "See you there!"
    assert item["url"] in shown.stdout
    assert not (root / "posts" / "replies").exists()
    assert len(mastodon_fresh.statuses()) == before


def test_reply_to_an_unknown_item_is_a_usage_error(pulled: tuple[Path, dict[str, Any]]) -> None:
    root, _ = pulled
    wrong = run("reply", "999", "Hi", cwd=root)
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("eduadvocate: error: no inbox item 999")


def test_a_reply_written_in_the_posts_folder_marks_the_item_handled(
    pulled: tuple[Path, dict[str, Any]], mastodon_fresh: MastodonFake
) -> None:
    """The path a team reviews in a pull request: the same post, written by hand."""
    root, item = pulled
    (root / "posts" / "answers.yaml").write_text(
        "posts:\n  - id: answer\n    at: now\n    accounts: [masto]\n"
        f"    text: Tuesday at 7pm.\n    reply_to: '{item['url']}'\n"
    )
    published = run("publish", cwd=root)
    assert published.returncode == 0, published.stdout + published.stderr
    (answer,) = [s for s in mastodon_fresh.statuses() if "7pm" in s.content]
    assert str(answer.in_reply_to_id) == item["remote_id"]
    handled = _inbox(root)
    assert handled["handled_at"] is not None and handled["handled_by"] == "reply answer"


def test_reply_from_a_file_sends_its_fields(
    pulled: tuple[Path, dict[str, Any]], mastodon_fresh: MastodonFake
) -> None:
    """A --file holds a post's fields: its text, hashtags and an image with alt text."""
    root, item = pulled
    (root / "media").mkdir()
    shutil.copy(REPO / "media" / "budget-chart.png", root / "media" / "chart.png")
    (root / "draft.yaml").write_text(
        "---\ntext: |-\n  Tuesday at 7pm.\n  Bring a friend!\nhashtags: [LevyVote]\n"
        "media:\n  - path: media/chart.png\n    alt: The levy's budget, as a bar chart\n"
    )
    answered = run("reply", str(item["id"]), "--file", "draft.yaml", cwd=root)
    assert answered.returncode == 0, answered.stdout + answered.stderr
    (answer,) = [s for s in mastodon_fresh.statuses() if "Bring a friend" in s.content]
    assert str(answer.in_reply_to_id) == item["remote_id"]
    assert "LevyVote" in answer.content
    (image,) = answer.media_attachments
    assert image.description == "The levy's budget, as a bar chart"


def test_a_reply_is_found_by_lookup_after_the_idempotency_window(
    make_campaign: Make, mastodon_fresh: MastodonFake, ally_status: Any
) -> None:
    """Past the hour Mastodon keeps a key, reconciliation reads the account's statuses back by
    their text: a reply is found there like any post (and not sent again)."""
    from datetime import UTC, datetime, timedelta

    from eduadvocate.campaign.workspace import load_config
    from eduadvocate.platforms.mastodon_api.client import MastodonPublisher
    from eduadvocate.platforms.publishing import OutgoingPart

    root = make_campaign(
        _reply_post(ally_status.url).join(["posts:\n", ""]), config=_config(mastodon_fresh)
    )
    assert run("publish", cwd=root).returncode == 0
    (ours,) = mastodon_fresh.statuses()
    later = datetime.now(UTC) + timedelta(hours=2)
    publisher = MastodonPublisher(load_config(None).accounts["masto"])
    publisher.clock = lambda: later
    part = OutgoingPart(
        "answer|masto|2026-11-28T12:00:00.000000Z", 0, 1, "Thank you, see you Tuesday!", "k",
        answers=ally_status.url,
    )  # fmt: skip
    found = publisher.lookup(part, datetime.now(UTC) - timedelta(minutes=5))
    assert found is not None and found.remote_id == str(ours.id)
    assert len(mastodon_fresh.statuses()) == 1
