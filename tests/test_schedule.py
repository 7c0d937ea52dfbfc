"""`eduadvocate schedule`: publishes on time, reloads edited files, keeps going through errors,
and stops cleanly on SIGTERM (the part in flight is finished and recorded, exit 143)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest

from eduadvocate.ledger import open_ledger
from tests import launch
from tests.conftest import Make
from tests.fakes.x_api import X_CONFIG_KEYS, XFake, credentials_env

CONFIG = """\
defaults: {timezone: UTC, accounts: [outbox]}
accounts:
  outbox: {platform: outbox}
"""


def _at(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def realtime(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scheduler runs on the real clock."""
    monkeypatch.delenv("EDUADVOCATE_NOW")


def _start(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        launch.command("schedule", *args),
        cwd=root,
        env=launch.environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _outbox(root: Path) -> list[Path]:
    return sorted((root / "outbox" / "outbox").glob("*.json")) if (root / "outbox").exists() else []


@pytest.fixture
def stop() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_publishes_when_due_reloads_and_stops_cleanly(
    realtime: None, make_campaign: Make, stop: list[subprocess.Popen[str]]
) -> None:
    root = make_campaign(
        f"posts:\n  - id: soon\n    at: {_at(3)}\n    text: Due in three seconds\n", config=CONFIG
    )
    proc = _start(root)
    stop.append(proc)
    _wait_for(lambda: len(_outbox(root)) == 1)
    # An edit while it runs: the new post is picked up without a restart.
    (root / "posts" / "more.yaml").write_text(
        f"posts:\n  - id: added\n    at: {_at(4)}\n    text: Added later\n"
    )
    _wait_for(lambda: len(_outbox(root)) == 2)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err  # stopped by SIGTERM, cleanly
    lines = out.splitlines()
    assert lines[0].startswith(
        "Loaded 1 post from 1 file for 1 account (ledger: .eduadvocate/ledger.sqlite3);"
        " next post due at "
    ), out
    assert re.search(r"^\d\d:\d\d  ✓ published  soon  outbox  file://", out, re.M), out
    assert re.search(r"^\d\d:\d\d  ✓ published  added  outbox  file://", out, re.M), out
    assert "posts/more.yaml changed: 1 post added (added)" in out
    assert out.rstrip().endswith("stopped")
    ledger = open_ledger(".eduadvocate/ledger.sqlite3", root)
    assert sorted((d.post_id, str(d.state)) for d in ledger.deliveries()) == [
        ("added", "published"),
        ("soon", "published"),
    ]
    ledger.close()


def test_sigterm_mid_thread_finishes_the_part_in_flight(
    realtime: None,
    make_campaign: Make,
    monkeypatch: pytest.MonkeyPatch,
    stop: list[subprocess.Popen[str]],
) -> None:
    with XFake() as fake:
        account = fake.add_account("coalition")
        for name, value in credentials_env(account).items():
            monkeypatch.setenv(name, value)
        config = (
            "defaults: {timezone: UTC, accounts: [acct]}\naccounts:\n  acct:\n    platform: x\n"
            f"{X_CONFIG_KEYS}    base_url: {fake.base_url}\n"
        )
        root = make_campaign(
            f"posts:\n  - id: t\n    at: {_at(2)}\n    thread: [One, Two, Three]\n", config=config
        )
        fake.inject("POST", r"^/2/tweets$", "slow", times=None, seconds=1.5)
        proc = _start(root, "--quiet")
        stop.append(proc)
        _wait_for(lambda: len(fake.posts(account)) == 1)  # a part is in flight (the 1st or the 2nd)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 143, err  # stopped by SIGTERM, cleanly
        sent = [p.submitted for p in fake.posts(account)]
        # The part in flight went out and was recorded; nothing after it was started.
        assert sent in (["One"], ["One", "Two"])
        ledger = open_ledger(".eduadvocate/ledger.sqlite3", root)
        (d,) = ledger.deliveries()
        assert (str(d.state), [p.remote_id for p in d.parts]) == (
            "pending",
            [p.id for p in fake.posts(account)],
        )
        assert ledger.open_attempts(d.id) == []
        ledger.close()
        # The next run finishes the thread, replying to the last part.
        fake.clear_faults()
        result = subprocess.run(
            launch.command("publish", "--format", "json"),
            cwd=root,
            env=launch.environment(),
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        posts = fake.posts(account)
        assert [p.submitted for p in posts] == ["One", "Two", "Three"]
        assert posts[2].in_reply_to_tweet_id == posts[1].id
        assert json.loads(result.stdout)["deliveries"][0]["state"] == "published"


def test_pulls_engagement_counts_as_posts_reach_their_ages(
    realtime: None, make_campaign: Make, stop: list[subprocess.Popen[str]]
) -> None:
    config = CONFIG + "metrics: {pull_after: [3s, 1h]}\n"
    root = make_campaign(
        f"posts:\n  - id: soon\n    at: {_at(1)}\n    text: Due in a second\n", config=config
    )
    proc = _start(root)
    stop.append(proc)
    _wait_for(lambda: len(_outbox(root)) == 1)

    def snapshots() -> int:
        ledger = open_ledger(".eduadvocate/ledger.sqlite3", root)
        try:
            return len(ledger.snapshots())
        finally:
            ledger.close()

    # The pull job runs at start and every few minutes: restart so it looks again now.
    time.sleep(3.5)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    again = _start(root)
    stop.append(again)
    _wait_for(lambda: snapshots() == 1)
    time.sleep(1)
    again.send_signal(signal.SIGTERM)
    out, err = again.communicate(timeout=30)
    assert again.returncode == 143, err
    assert "metrics: counted 1 post" in out
    assert snapshots() == 1  # the next mark (1 h) has not come: not pulled twice


def test_a_broken_file_keeps_its_posts_and_the_others_go_out(
    realtime: None, make_campaign: Make, stop: list[subprocess.Popen[str]]
) -> None:
    """A posts file saved broken while schedule runs: its posts wait (not cancelled), the error
    is shown with file:line, other files' posts go out; once fixed, the waiting post goes out."""
    a_text = f"posts:\n  - id: a\n    at: {_at(7)}\n    text: From file a\n"
    root = make_campaign(
        {"a.yaml": a_text, "b.yaml": f"posts:\n  - id: b\n    at: {_at(6)}\n    text: From b\n"},
        config=CONFIG,
    )
    proc = _start(root, "--quiet")
    stop.append(proc)

    def state(post: str) -> str | None:
        ledger = open_ledger(".eduadvocate/ledger.sqlite3", root)
        try:
            found = ledger.deliveries(post_id=post)
            return str(found[0].state) if found else None
        finally:
            ledger.close()

    _wait_for(lambda: state("a") == "pending")
    (root / "posts" / "a.yaml").write_text("posts:\n  - id: a\n    text: [unclosed\n")
    _wait_for(lambda: len(_outbox(root)) == 1)  # b, on time
    time.sleep(3)  # a's time has passed: it waits for its file
    assert state("a") == "pending"
    assert [p.name.split("--")[1] for p in _outbox(root)] == ["b.json"]
    (root / "posts" / "a.yaml").write_text(a_text)
    _wait_for(lambda: len(_outbox(root)) == 2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert "cannot read posts/a.yaml:" in err  # even with --quiet
    assert "Traceback" not in err
    assert state("a") == "published"


class _Lines:
    """What a running process printed so far, line by line (read by a thread: a test waits on
    what it says, never a fixed time)."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def said(self, start: str) -> Callable[[], bool]:
        return lambda: any(line.startswith(start) for line in self.lines)


MARCH = """\
posts:
  - id: rally
    at: 2026-11-28 18:00
    text: Come to the rally
  - id: old
    at: 2026-11-29 09:00
    text: An old post
"""


def test_says_what_it_loaded_and_what_each_edit_changed(
    make_campaign: Make, stop: list[subprocess.Popen[str]]
) -> None:
    """At start: how much it loaded and when the next post is due; after an edit, the posts
    added, changed and removed, by id and content: moving a post in its file changes none."""
    root = make_campaign({"march.yaml": MARCH}, config=CONFIG)
    proc = _start(root)
    stop.append(proc)
    assert proc.stdout is not None
    out = _Lines(proc.stdout)
    _wait_for(out.said("Loaded "))
    assert out.lines[0] == (
        "Loaded 2 posts from 1 file for 1 account (ledger: .eduadvocate/ledger.sqlite3);"
        " next post due at Sat 2026-11-28 18:00 UTC (in 6 h)."
    )
    march = root / "posts" / "march.yaml"
    march.write_text(
        "posts:\n"
        "  - id: budget-vote\n    at: 2026-11-28 15:30\n    text: The budget vote\n"
        "  - id: rally\n    at: 2026-11-28 18:00\n    text: Come to the rally!\n"
    )
    _wait_for(out.said("posts/march.yaml changed: "))
    assert out.lines[-1] == (
        "posts/march.yaml changed: 1 post added (budget-vote), 1 changed (rally), 1 removed"
        " (old); next post due at Sat 2026-11-28 15:30 UTC (in 3 h 30 min)."
    )
    seen = len(out.lines)
    # The same posts, in another order and with a comment: nothing about them changed.
    march.write_text(
        "# reordered\nposts:\n"
        "  - id: rally\n    at: 2026-11-28 18:00\n    text: Come to the rally!\n"
        "  - id: budget-vote\n    at: 2026-11-28 15:30\n    text: The budget vote\n"
    )
    _wait_for(lambda: len(out.lines) > seen)
    assert out.lines[-1] == (
        "posts/march.yaml changed: no post added, changed or removed;"
        " next post due at Sat 2026-11-28 15:30 UTC (in 3 h 30 min)."
    )
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
