"""publish: exactly once through the ledger, resume after a crash, errors per delivery, the
outbox adapter, and the CLI around it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from eduadvocate.campaign.workspace import open_campaign
from eduadvocate.delivery.planning import Outcome
from eduadvocate.delivery.publish import RunReport, publish_due, run_lock
from eduadvocate.ledger import open_ledger
from eduadvocate.ledger.base import State
from eduadvocate.platforms.publishing import (
    InDoubt,
    OutgoingPart,
    Published,
    Publisher,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
)
from tests.conftest import Make
from tests.test_cli import run

CONFIG = """\
defaults: {timezone: America/Chicago, accounts: [outbox]}
accounts:
  outbox: {platform: outbox}
  x-main: {platform: x}
  other: {platform: outbox, folder: other-outbox}
"""


class Platform(Publisher):
    """An in-memory platform behind our own Publisher interface (the real client libraries are
    exercised against their fakes in tests/adapters). ``script`` lists what each call does."""

    def __init__(self, script: list[str] | None = None) -> None:
        self.posts: list[OutgoingPart] = []
        self.script = list(script or [])
        self.lookups = 0
        self.undecidable = False

    def publish(self, part: OutgoingPart) -> Published:
        action = self.script.pop(0) if self.script else "ok"
        if action == "crash":
            raise KeyboardInterrupt  # the process dies mid-run
        if action == "store-then-crash":
            self.posts.append(part)
            raise KeyboardInterrupt
        if action == "in-doubt-stored":
            self.posts.append(part)
            raise InDoubt("connection dropped after sending")
        if action == "in-doubt-lost":
            raise InDoubt("connection dropped")
        if action == "in-doubt-undecidable":
            self.undecidable = True
            raise InDoubt("connection dropped")
        errors: dict[str, PublishError] = {
            "transient": Transient("503 from the platform"),
            "rejected": Rejected("text too long"),
            "duplicate": Rejected("duplicate content", duplicate=True),
            "rate": RateLimited(
                "429", datetime(2030, 1, 1, tzinfo=datetime.now().astimezone().tzinfo)
            ),
        }
        if action in errors:
            raise errors[action]
        self.posts.append(part)
        return Published(f"id-{len(self.posts)}", f"https://example.social/{len(self.posts)}")

    def lookup(self, part: OutgoingPart, since: datetime) -> Published | None:
        self.lookups += 1
        if self.undecidable:
            raise InDoubt("the platform's timeline cannot be read")
        for i, p in enumerate(self.posts, 1):
            if p.delivery_key == part.delivery_key and p.index == part.index:
                return Published(f"id-{i}", f"https://example.social/{i}")
        return None


def _publish(root: Path, platform: Platform, **kw: object) -> RunReport:
    ws = open_campaign(None)
    return publish_due(ws, connect=lambda name: platform, **kw)  # type: ignore[arg-type]


def _states(root: Path) -> dict[str, str]:
    ledger = open_ledger(".eduadvocate/ledger.sqlite3", root)
    try:
        return {f"{d.post_id}@{d.account}": str(d.state) for d in ledger.deliveries()}
    finally:
        ledger.close()


POSTS = """\
posts:
  - id: urgent
    at: now
    text: Room change for the hearing.
  - id: thread
    at: 2026-11-28 05:00
    thread: [One, Two, Three]
  - id: future
    at: 2026-12-03 18:00
    text: Not yet.
"""


def test_publishes_due_once_and_never_again(make_campaign: Make) -> None:
    root = make_campaign(POSTS, config=CONFIG)
    platform = Platform()
    report = _publish(root, platform)
    assert sorted((o.post, o.state) for o in report.outcomes) == [
        ("thread", "published"),
        ("urgent", "published"),
    ]
    assert [p.text for p in platform.posts] == [
        "One",
        "Two",
        "Three",
        "Room change for the hearing.",
    ]
    # Threads reply to the previous part and know the root.
    assert [(p.reply_to, p.root) for p in platform.posts[:3]] == [
        (None, None),
        ("id-1", "id-1"),
        ("id-2", "id-1"),
    ]
    again = _publish(root, platform)
    assert again.outcomes == []
    assert len(platform.posts) == 4
    assert _states(root) == {"urgent@outbox": "published", "thread@outbox": "published"}


def test_dry_run_sends_and_records_nothing(make_campaign: Make) -> None:
    root = make_campaign(POSTS, config=CONFIG)
    platform = Platform()
    report = _publish(root, platform, dry_run=True)
    assert sorted((o.post, o.state) for o in report.outcomes) == [
        ("thread", "would-publish"),
        ("urgent", "would-publish"),
    ]
    assert platform.posts == []
    assert _states(root) == {}


def test_crash_mid_thread_resumes_after_the_last_recorded_part(make_campaign: Make) -> None:
    root = make_campaign(
        "posts:\n  - id: thread\n    at: now\n    thread: [One, Two, Three]\n", config=CONFIG
    )
    platform = Platform(["ok", "crash"])
    with pytest.raises(KeyboardInterrupt):
        _publish(root, platform)
    assert [p.text for p in platform.posts] == ["One"]
    # The claim's lease must expire before another run takes the delivery over.
    later = (datetime.fromisoformat("2026-11-28T12:00:00+00:00") + timedelta(minutes=6)).isoformat()
    import os

    os.environ["EDUADVOCATE_NOW"] = later
    report = _publish(root, platform)
    assert [o.state for o in report.outcomes] == ["published"]
    assert [p.text for p in platform.posts] == ["One", "Two", "Three"]
    assert platform.posts[1].reply_to == "id-1"


def test_crash_after_the_platform_stored_it_is_reconciled_not_resent(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_campaign("posts:\n  - id: p\n    at: now\n    text: Hello\n", config=CONFIG)
    platform = Platform(["store-then-crash"])
    with pytest.raises(KeyboardInterrupt):
        _publish(root, platform)
    monkeypatch.setenv("EDUADVOCATE_NOW", "2026-11-28T12:06:00Z")
    report = _publish(root, platform)
    assert [o.state for o in report.outcomes] == ["published"]
    assert len(platform.posts) == 1
    assert platform.lookups == 1
    ledger = open_ledger(".eduadvocate/ledger.sqlite3", root)
    (d,) = ledger.deliveries()
    assert [a.outcome for a in ledger.attempts(d.id)] == ["found"]
    ledger.close()


@pytest.mark.parametrize(
    ("script", "state", "kind"),
    [
        (["in-doubt-stored"], "published", None),  # looked up at once: it is there
        (["in-doubt-lost"], "pending", "transient"),  # certainly not there: sent again later
        (["in-doubt-undecidable"], "unknown", "in-doubt"),  # cannot tell: never re-sent blindly
        (["transient"], "pending", "transient"),  # back off and retry later
        (["rejected"], "failed", "rejected"),
        (["rate"], "pending", "rate-limited"),
    ],
)
def test_errors_become_states(
    make_campaign: Make, script: list[str], state: str, kind: str | None
) -> None:
    root = make_campaign("posts:\n  - id: p\n    at: now\n    text: Hello\n", config=CONFIG)
    platform = Platform(script)
    (outcome,) = _publish(root, platform).outcomes
    assert (outcome.state, outcome.error_kind) == (state, kind)
    assert len(platform.posts) == (1 if script[0] == "in-doubt-stored" else 0)
    if state == "pending":
        assert outcome.next_attempt is not None


def test_duplicate_after_in_doubt_counts_as_published(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_campaign("posts:\n  - id: p\n    at: now\n    text: Hello\n", config=CONFIG)
    platform = Platform(["store-then-crash"])
    with pytest.raises(KeyboardInterrupt):
        _publish(root, platform)
    # The lookup misses it (as X's timeline can lag), the repeat is refused as a duplicate, and the
    # second lookup finds it.
    real_lookup = platform.lookup
    calls = iter([None])
    platform.lookup = lambda part, since: next(calls, None) or real_lookup(part, since)  # type: ignore[method-assign]
    platform.script = ["duplicate"]
    monkeypatch.setenv("EDUADVOCATE_NOW", "2026-11-28T12:06:00Z")
    (outcome,) = _publish(root, platform).outcomes
    assert outcome.state == "published"
    assert len(platform.posts) == 1


def test_one_bad_account_does_not_stop_the_others(make_campaign: Make) -> None:
    make_campaign(
        "posts:\n  - id: p\n    at: now\n    accounts: [x-main, outbox]\n    text: Hello\n",
        config=CONFIG,
    )
    ws = open_campaign(None)
    report = publish_due(ws)  # real connectors: outbox works, X has no credentials
    by_account = {o.account: o for o in report.outcomes}
    assert by_account["outbox"].state == "published"
    assert by_account["x-main"].state == "failed"
    assert by_account["x-main"].error_kind == "auth"
    assert report.failed


def test_missed_beyond_grace_is_skipped_and_reported(make_campaign: Make) -> None:
    root = make_campaign(
        "posts:\n  - id: old\n    at: 2026-11-27 09:00\n    text: Too late\n", config=CONFIG
    )
    report = _publish(root, Platform())
    assert report.skipped == ["old|outbox|2026-11-27T15:00:00.000000Z"]
    assert report.failed
    assert _states(root) == {"old@outbox": "skipped"}


def test_recurring_post_goes_out_inside_the_grace_window(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_campaign(
        "posts:\n  - id: weekly\n    every: weekly on Saturday 05:00\n    text: Reminder\n",
        config=CONFIG,
    )
    platform = Platform()
    (outcome,) = _publish(root, platform).outcomes  # due 05:00 CST = 11:00Z, now 12:00Z: 1 h late
    assert (outcome.post, outcome.state, outcome.at.isoformat()) == (
        "weekly",
        "published",
        "2026-11-28T11:00:00+00:00",
    )
    monkeypatch.setenv("EDUADVOCATE_NOW", "2026-12-05T11:30:00Z")
    (outcome,) = _publish(root, platform).outcomes
    assert outcome.at.isoformat() == "2026-12-05T11:00:00+00:00"
    assert len(platform.posts) == 2


def test_edit_after_publishing_is_reported_not_reposted(make_campaign: Make) -> None:
    root = make_campaign("posts:\n  - id: p\n    at: now\n    text: Hello\n", config=CONFIG)
    platform = Platform()
    _publish(root, platform)
    (root / "posts" / "posts.yaml").write_text(
        "posts:\n  - id: p\n    at: now\n    text: Hello, edited\n"
    )
    report = _publish(root, platform)
    assert report.outcomes == []
    assert report.drifted == ["p|outbox|2026-11-28T12:00:00.000000Z"]
    assert len(platform.posts) == 1


def test_posts_with_errors_are_held_not_dropped(make_campaign: Make) -> None:
    root = make_campaign(
        "posts:\n  - id: p\n    at: now\n    text: Tell {@nobody}\n", config=CONFIG
    )
    report = _publish(root, Platform())
    assert [(o.post, o.state) for o in report.held] == [("p", "held")]
    assert report.outcomes == []
    assert report.exit_code == 4  # a due post with content errors


def test_lock_keeps_overlapping_runs_apart(make_campaign: Make) -> None:
    root = make_campaign(POSTS, config=CONFIG)
    with run_lock(".eduadvocate/ledger.sqlite3", root) as got:
        assert got
        report = _publish(root, Platform())
    assert report.locked
    assert report.outcomes == []


def test_outbox_writes_json_and_markdown(make_campaign: Make) -> None:
    root = make_campaign("posts:\n  - id: p\n    at: now\n    thread: [One, Two]\n", config=CONFIG)
    result = run("publish", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    (delivery,) = data["deliveries"]
    assert delivery["state"] == "published"
    assert [p["id"] for p in delivery["parts"]] == [
        "p|outbox|2026-11-28T12:00:00.000000Z#0",
        "p|outbox|2026-11-28T12:00:00.000000Z#1",
    ]
    (json_file,) = (root / "outbox" / "outbox").glob("*.json")
    written = json.loads(json_file.read_text())
    assert [p["text"] for p in written["parts"]] == ["One", "Two"]
    assert json_file.with_suffix(".md").read_text().startswith("# p|outbox|")


def test_status_retry_cancel_cli(make_campaign: Make) -> None:
    make_campaign(
        "posts:\n  - id: p\n    at: now\n    accounts: [x-main]\n    text: Hello\n", config=CONFIG
    )
    assert run("publish").returncode == 5
    status = json.loads(run("status", "--format", "json").stdout)
    (d,) = status["deliveries"]
    assert {k: d[k] for k in ("post", "account", "platform", "at", "state", "error_kind")} == {
        "post": "p",
        "account": "x-main",
        "platform": "x",
        "at": "2026-11-28T12:00:00Z",
        "state": "failed",
        "error_kind": "auth",
    }
    assert "needs" in d["error"] or "no consumer_key" in d["error"] or "not supported" in d["error"]
    assert run("retry", str(d["id"])).returncode == 0
    assert (
        json.loads(run("status", "--format", "json", "--state", "pending").stdout)["deliveries"][0][
            "id"
        ]
        == d["id"]
    )
    assert run("cancel", str(d["id"])).returncode == 0
    assert run("cancel", "999").returncode == 2
    failed = run("retry", str(d["id"]) + "0")
    assert failed.returncode == 2


def test_nothing_due(make_campaign: Make) -> None:
    make_campaign("posts:\n  - id: f\n    at: 2026-12-03 18:00\n    text: later\n", config=CONFIG)
    result = run("publish")
    assert (result.returncode, result.stdout) == (
        0,
        "Nothing was due; next post due at Thu 2026-12-03 18:00 CST (in 5 days 12 h).\n",
    )


_ = (Outcome, State, Callable)


def test_accounts_verify(make_campaign: Make) -> None:
    make_campaign("posts: []\n", config=CONFIG)
    ok = run("accounts", "verify", "--account", "outbox", "--format", "json")
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["accounts"][0]["ok"] is True
    bad = run("accounts", "verify", "--format", "json")
    assert bad.returncode == 3
    results = {a["account"]: a for a in json.loads(bad.stdout)["accounts"]}
    assert results["x-main"]["ok"] is False
    assert results["other"]["ok"] is True


def test_readme_first_command_publishes_the_example_into_the_outbox(tmp_path: Path) -> None:
    import shutil

    from tests.conftest import REPO

    for name in ("config.example.yaml", "people.yaml", "posts", "media"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name)
        else:
            shutil.copy(source, tmp_path / name)
    result = run("publish", "--config", "config.example.yaml", "--account", "outbox", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hearing-room-change" in result.stdout
    assert list((tmp_path / "outbox" / "outbox").glob("*--hearing-room-change.json"))
    again = run("publish", "--config", "config.example.yaml", "--account", "outbox", cwd=tmp_path)
    assert again.returncode == 0
    assert again.stdout.startswith("Nothing was due"), again.stdout


def test_many_accounts_publish_from_several_processes_exactly_once(make_campaign: Make) -> None:
    """With enough accounts, publish forks one process per core; the ledger's claims keep the
    processes apart and every delivery goes out once."""
    names = [f"o{i}" for i in range(8)]
    config = "defaults: {{timezone: UTC, accounts: [{}]}}\naccounts:\n".format(", ".join(names))
    config += "".join(f"  {n}: {{platform: outbox, folder: out}}\n" for n in names)
    posts = "posts:\n" + "".join(
        f"  - id: p{i}\n    at: now\n    text: Post {i}\n" for i in range(10)
    )
    root = make_campaign(posts, config=config)
    result = run("publish", "--format", "json")
    assert result.returncode == 0, result.stderr
    deliveries = json.loads(result.stdout)["deliveries"]
    assert len(deliveries) == 80
    assert {d["state"] for d in deliveries} == {"published"}
    assert sum(len(list((root / "out" / n).glob("*.json"))) for n in names) == 80
    assert run("publish").stdout == "Nothing was due.\n"
