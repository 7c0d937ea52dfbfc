"""The test suite's way into the command: ``python -m tests.launch ARGS`` is ``eduadvocate ARGS``
run with the tests' Runtime, for the tests that need a real process (signals, kill -9, locks,
workers, outages); :func:`tests.test_cli.run` uses the same Runtime in-process.

The Runtime is read from the test's environment, which production code never reads:

- ``EDUADVOCATE_NOW`` (an ISO instant; unset or empty: the real time) is every command's clock,
  ``publish`` and ``schedule`` included. It is read at each tick, so a test can move it.
- ``EDUADVOCATE_CRASH_AT`` names a point of a delivery (``between-parts``, ``before-call``,
  ``after-response``: :data:`eduadvocate.delivery.dispatch.Probe`) where the process kills
  itself with SIGKILL (no cleanup, no flush) the first time it gets there.
- ``EDUADVOCATE_ALLOW_PRIVATE_ADDRESSES=1`` lets link cards be fetched from the loopback sites
  (:func:`eduadvocate.platforms.safefetch.allow_private_addresses`).

The real entry point (``python -m eduadvocate``) ignores both for anything that records or sends;
tests/test_cli.py pins that.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from eduadvocate.cli.runtime import Runtime

NOW_ENV = "EDUADVOCATE_NOW"
CRASH_ENV = "EDUADVOCATE_CRASH_AT"
ALLOW_PRIVATE_ENV = "EDUADVOCATE_ALLOW_PRIVATE_ADDRESSES"  # link cards from loopback sites
REPO = Path(__file__).resolve().parent.parent


def env_clock() -> datetime:
    """The test's now: ``$EDUADVOCATE_NOW`` as it is at this call, else the real time."""
    value = os.environ.get(NOW_ENV)
    if not value:
        return datetime.now(UTC)
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{NOW_ENV}={value} has no UTC offset")
    return moment.astimezone(UTC)


def crash_probe(point: str) -> None:
    """SIGKILL this process at the point ``$EDUADVOCATE_CRASH_AT`` names."""
    if os.environ.get(CRASH_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def runtime() -> Runtime:
    """The tests' Runtime: conftest's clock; crashes where the test asks."""
    return Runtime(clock=env_clock, probe=crash_probe)


def command(*args: str) -> list[str]:
    """The argv of ``eduadvocate ARGS`` through this launcher (give it :func:`environment`)."""
    return [sys.executable, "-m", "tests.launch", *args]


def environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's environment) with the repository on the import path:
    the launcher runs in a campaign folder, where ``tests`` is not importable otherwise."""
    merged = dict(os.environ if env is None else env)
    path = merged.get("PYTHONPATH")
    merged["PYTHONPATH"] = (path + os.pathsep if path else "") + str(REPO)
    return merged


if __name__ == "__main__":
    from eduadvocate.cli.main import run
    from eduadvocate.platforms.safefetch import allow_private_addresses

    allow_private_addresses(os.environ.get(ALLOW_PRIVATE_ENV) == "1")
    run(sys.argv[1:], runtime=runtime())
