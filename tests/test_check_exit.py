"""How `check` leaves Python's cycle collector (cli/commands.py ``_collected_at_exit``): in a
process of its own, what is alive at exit is frozen, so the interpreter's last collection does
not walk it all only to free it; run in a longer-lived process (the test suite's), the collector
is left as it was, with nothing frozen. The output is the same either way (tests/test_check*)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

from tests.conftest import REPO
from tests.test_cli import run

# Registered before the command runs, so it runs after the command's own exit handlers.
PROBE = """
import atexit, gc, sys
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0, file=sys.stderr))
sys.argv = ["eduadvocate", *{args!r}]
from eduadvocate.cli import run
run()
"""


def probe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE.format(args=list(args))],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
        env={**os.environ, "EDUADVOCATE_NOW": "2026-11-28T12:00:00Z"},
    )


def test_a_check_process_leaves_what_is_alive_to_the_exit() -> None:
    result = probe("check", "--config", "config.example.yaml", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert '"ok": true' in result.stdout
    assert result.stderr.strip().splitlines()[-1] == "frozen at exit: True"


def test_a_check_that_fails_leaves_it_to_the_exit_too() -> None:
    result = probe("check", "--config", "no-such-config.yaml")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == "frozen at exit: True"


def test_other_commands_leave_the_collector_alone() -> None:
    """Only check, which holds nothing that needs finalizing (no file, no connection), skips
    the last collection."""
    result = probe("calendar", "--config", "config.example.yaml", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "frozen at exit: False"


def test_check_in_a_longer_process_leaves_the_collector_as_it_was() -> None:
    enabled = gc.isenabled()
    result = run("check", "--config", str(REPO / "config.example.yaml"), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert gc.isenabled() == enabled
    assert gc.get_freeze_count() == 0
