"""The clock and the crash probe are passed in, never read from the environment by what records
or sends: the real entry point publishes on the system's clock whatever ``EDUADVOCATE_NOW``
says (it only previews ``check``, ``render`` and ``calendar``), only the tests' launcher moves
the clock or crashes, and no module under src reads a test-only variable."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from eduadvocate.campaign.workspace import open_campaign
from eduadvocate.core.clock import Timed, fixed_clock
from eduadvocate.delivery.dispatch import Dispatcher
from eduadvocate.ledger import open_ledger
from tests.conftest import REPO, Make
from tests.test_cli import run, run_installed, run_process

SRC = REPO / "src" / "eduadvocate"
TEST_ONLY = ("EDUADVOCATE_CRASH_AT", "EDUADVOCATE_ALLOW_PRIVATE_ADDRESSES", "EDUADVOCATE_TEST_")
OUTBOX = "defaults: {timezone: UTC, accounts: [out]}\naccounts:\n  out: {platform: outbox, folder: out}\n"
# Due by the test's clock, decades away by the real one.
FUTURE_POST = "posts:\n  - id: far\n    at: 2090-01-01 12:00\n    text: Fund our schools.\n"
FUTURE_NOW = "2090-01-01T12:05:00Z"


def _sent(root: Path) -> list[Path]:
    return sorted((root / "out").rglob("*.json")) if (root / "out").is_dir() else []


def test_the_real_entry_point_publishes_on_the_system_clock(make_campaign: Make) -> None:
    """``EDUADVOCATE_NOW`` in the environment of a real ``eduadvocate publish`` changes nothing:
    a post due by it, not by the real time, stays unsent (and an unreadable value is no error)."""
    root = make_campaign(FUTURE_POST, config=OUTBOX)
    for value in (FUTURE_NOW, "not a time"):
        result = run_installed("publish", env={"EDUADVOCATE_NOW": value})
        # Nothing was due by the real clock (the post is decades away, beyond what is looked at).
        assert (result.returncode, result.stdout, result.stderr) == (0, "Nothing was due.\n", "")
    assert _sent(root) == []
    assert json.loads(run_installed("status", "--format", "json").stdout)["deliveries"] == []


def test_the_tests_launcher_moves_the_clock(make_campaign: Make) -> None:
    """The same campaign through tests/launch.py, which hands the command the tests' clock."""
    root = make_campaign(FUTURE_POST, config=OUTBOX)
    result = run_process("publish", "--format", "json", env={"EDUADVOCATE_NOW": FUTURE_NOW})
    assert result.returncode == 0, result.stderr
    assert [d["state"] for d in json.loads(result.stdout)["deliveries"]] == ["published"]
    assert len(_sent(root)) == 1


def test_the_real_entry_point_previews_the_read_only_commands(make_campaign: Make) -> None:
    """The documented preview: ``check``, ``render`` and ``calendar`` as of ``EDUADVOCATE_NOW``;
    a value that is no instant is a usage error that says so."""
    make_campaign(FUTURE_POST, config=OUTBOX)
    env = {"EDUADVOCATE_NOW": "2089-12-31T12:00:00Z"}
    shown = run_installed("calendar", "--days", "2", "--format", "json", env=env)
    assert shown.returncode == 0, shown.stderr
    calendar = json.loads(shown.stdout)
    assert calendar["from"] == "2089-12-31T12:00:00Z"
    assert [d["date"] for d in calendar["days"]] == ["2090-01-01"]
    checked = run_installed("check", "--format", "json", env=env)
    assert json.loads(checked.stdout)["summary"]["warnings"] == 0  # not "in the past"
    bad = run_installed("render", env={"EDUADVOCATE_NOW": "2090-01-01 12:00"})
    assert bad.returncode == 2
    assert bad.stderr == (
        "eduadvocate: error: EDUADVOCATE_NOW=2090-01-01 12:00 has no UTC offset."
        " e.g. 2026-12-01T09:00:00Z\n"
    )


def _string_constants(path: Path) -> set[str]:
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_no_module_under_src_reads_a_test_only_variable() -> None:
    """No source module names a crash point's variable or any ``EDUADVOCATE_TEST_*`` one, and
    only the CLI's runtime names ``EDUADVOCATE_NOW`` (for the preview): whatever a module reads
    from the environment it names as a string constant somewhere in it."""
    naming_now = []
    for path in sorted(SRC.rglob("*.py")):
        constants = _string_constants(path)
        assert not [c for c in constants if c.startswith(TEST_ONLY)], path
        assert not [c for c in constants if c.startswith("tests.")], path
        if "EDUADVOCATE_NOW" in constants:
            naming_now.append(path.relative_to(SRC).as_posix())
    assert naming_now == ["cli/runtime.py"]


def test_in_process_runs_leave_the_test_process_as_they_found_it(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run`` (in this process): a publish that installs signal handlers and a warning hook,
    and a command run in another folder, leave the signal handlers, the warning settings, the root
    logger's handlers, the folder and the environment as they were."""
    import logging
    import os
    import signal
    import warnings

    root = make_campaign(FUTURE_POST, config=OUTBOX)
    monkeypatch.setenv("EDUADVOCATE_NOW", FUTURE_NOW)
    before = (
        signal.getsignal(signal.SIGINT),
        signal.getsignal(signal.SIGTERM),
        warnings.showwarning,
        list(warnings.filters),
        list(logging.getLogger().handlers),
        Path.cwd(),
        dict(os.environ),
    )
    assert run("publish").returncode == 0
    assert run("schema", cwd=REPO, env={"EDUADVOCATE_LEDGER": "elsewhere.sqlite3"}).returncode == 0
    after = (
        signal.getsignal(signal.SIGINT),
        signal.getsignal(signal.SIGTERM),
        warnings.showwarning,
        list(warnings.filters),
        list(logging.getLogger().handlers),
        Path.cwd(),
        dict(os.environ),
    )
    assert after == before
    assert len(_sent(root)) == 1


def test_the_dispatcher_hands_its_clock_to_a_publisher_that_judges_ages(
    make_campaign: Make,
) -> None:
    """Mastodon decides between resending under its idempotency key and reading back by how old
    an attempt is: it reckons that age on the dispatcher's clock, the one the ledger's times
    come from, not on its own."""
    from eduadvocate.config.model import AccountConfig
    from eduadvocate.core.errors import Location
    from eduadvocate.platforms.mastodon_api.client import MastodonPublisher

    make_campaign("posts: []\n", config=OUTBOX)
    clock = fixed_clock(datetime(2030, 5, 1, 9, 0, tzinfo=UTC))
    ws = open_campaign(None, clock=clock)
    settings: dict[str, str | int | bool] = {
        "instance": "http://127.0.0.1:9",
        "access_token": "t",
    }
    masto = MastodonPublisher(AccountConfig("masto", "mastodon", settings, Location("c.yaml")))
    assert isinstance(masto, Timed)
    ledger = open_ledger(":memory:", ws.config.root)
    try:
        dispatcher = Dispatcher(ws.config, ledger, "w", clock=ws.clock, connect=lambda _: masto)
        assert dispatcher.publisher("masto") is masto
        assert masto.clock is clock
    finally:
        ledger.close()
