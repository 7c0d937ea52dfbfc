"""Shared fixtures: an isolated environment (no real HOME, config, ledger, credentials or
network), a clock, a builder for small campaign folders, and the markers that pick the suite's
fast subset."""

from __future__ import annotations

import os
import re
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from eduadvocate.platforms import safefetch
from tests.launch import ALLOW_PRIVATE_ENV

pytest_plugins = [
    "tests.fakes.mastodon",
    "tests.fakes.bluesky",
    "tests.fakes.bluesky_network",
    "tests.fakes.postgres",
    "tests.fakes.graph_fixtures",
]

REPO = Path(__file__).resolve().parent.parent
NOW = "2026-11-28T12:00:00Z"
# Modules that start many processes or servers (the crash harness, workers, outages):
# `pytest -m "not slow"` leaves them out for a quick edit-test loop; CI runs everything.
SLOW_MODULES = frozenset(
    {
        "test_crash",
        "test_workers",
        "test_pg_outage",
        "test_pg_reconnect",
        "test_guarantees",
        "test_schedule",
        "test_native_schedule",
        "test_examples",
        "test_secrets",
        "test_twitter_vs_npm",
    }
)
# A test that uses one of these fixtures (itself or through another fixture) needs that service,
# which scripts/test installs and `scripts/test --fast` leaves out. A test that needs Chromium is
# marked `browser` where it is written.
SERVICE_FIXTURES = {
    "postgres": frozenset({"postgres_server", "postgres_cluster"}),  # tests/fakes/postgres.py
    "pds": frozenset({"pds"}),  # tests/fakes/bluesky.py: the reference PDS, on Node
    # tests/fakes/bluesky_network.py: the reference PDS and AppView, on Node 22 and PostgreSQL
    "appview": frozenset({"bluesky_network"}),
    "node": frozenset({"twitter_oracle"}),  # tests/platforms/conftest.py: npm twitter-text
}
# What a test must not inherit from the shell that started pytest, besides every EDUADVOCATE_*
# variable: proxies (the clients would send loopback calls to them), CA bundles, libpq's defaults
# (PGHOST, PGPASSWORD, ...), and the credentials config.example.yaml names (X_CONSUMER_KEY, ...).
_CLEARED = re.compile(
    r"EDUADVOCATE_.*|PG[A-Z]+|(?i:[a-z]+_proxy)|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|SSL_CERT_(FILE|DIR)"
)
_CREDENTIALS = frozenset(
    re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (REPO / "config.example.yaml").read_text(encoding="utf-8"))
)
# Its sitecustomize keeps the Python processes tests start on loopback (pytest-socket guards only
# this one).
NETGUARD = Path(__file__).resolve().parent / "netguard"


def pytest_configure(config: pytest.Config) -> None:
    # In the environment itself, not per test: the session's servers are started from it too.
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if str(NETGUARD) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(NETGUARD), *filter(None, paths)])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.stem in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
        used = set(getattr(item, "fixturenames", ()))
        # The ledger tests take their backend as a parameter and ask for postgres_url themselves.
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "postgres" in params.values():
            used.add("postgres_server")
        for marker, fixtures in SERVICE_FIXTURES.items():
            if used & fixtures:
                item.add_marker(marker)
    if hasattr(config, "workerinput"):
        # A pytest-xdist worker (each collects the same order): the slow modules start first and
        # the quick tests fill in after them, so that no worker is left alone with a long test at
        # the end (scripts/test's --dist worksteal moves queued tests to an idle worker).
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the developer's HOME, config, ledger, secrets, proxies or terminal."""
    for name in list(os.environ):
        if _CLEARED.fullmatch(name) or name in _CREDENTIALS:
            monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    # What libraries read for their caches and settings (platformdirs, fontconfig, Chromium):
    # inside the temporary HOME, as the XDG defaults would be.
    for name, folder in (
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        monkeypatch.setenv(name, str(home / folder))
    monkeypatch.setenv("EDUADVOCATE_NOW", NOW)
    # The loopback servers the tests fetch link cards from are private addresses, which
    # eduadvocate refuses to fetch unless the test suite says so (production never does): here,
    # and for processes through tests/launch.py, which reads this variable.
    monkeypatch.setenv(ALLOW_PRIVATE_ENV, "1")
    monkeypatch.setattr(safefetch._Allowance, "private", True)
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")


CONFIG = """\
defaults:
  timezone: America/Chicago
  accounts: [x-main, bsky, masto]
accounts:
  x-main: {platform: x}
  bsky: {platform: bluesky, handle: pta.bsky.social}
  masto: {platform: mastodon, instance: https://mastodon.example}
  fb: {platform: facebook, page_id: "1"}
  ig: {platform: instagram, ig_user_id: "2", media_base_url: https://example.org/media/}
  outbox: {platform: outbox}
"""

PEOPLE = """\
lopez:
  name: Chair Maria Lopez
  x: ChairLopez
  bluesky: lopez.bsky.social
  mastodon: lopez@mastodon.education
"""

Make = Callable[..., Path]


@pytest.fixture
def make_campaign(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Make:
    """Write a campaign folder (config, people, posts files) and chdir into it."""

    def make(posts: dict[str, str] | str, *, config: str = CONFIG, people: str = PEOPLE) -> Path:
        root = tmp_path / "campaign"
        (root / "posts").mkdir(parents=True, exist_ok=True)
        (root / "config.yaml").write_text(textwrap.dedent(config), encoding="utf-8")
        (root / "people.yaml").write_text(textwrap.dedent(people), encoding="utf-8")
        files = {"posts.yaml": posts} if isinstance(posts, str) else posts
        for name, text in files.items():
            path = root / "posts" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        # Dated a minute back: publish and schedule wait for files written in the last second
        # to settle (an editor may still be writing them), which would slow every test down.
        past = time.time() - 60
        for path in root.rglob("*.y*ml"):
            os.utime(path, (past, past))
        monkeypatch.chdir(root)
        return root

    return make


@pytest.fixture(autouse=True)
def _tests_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """A campaign opened in this process without a clock reads the tests' (``$EDUADVOCATE_NOW``
    at each tick, as tests/launch.py's processes do), not the system's."""
    from tests.launch import env_clock

    monkeypatch.setattr("eduadvocate.campaign.workspace.system_clock", env_clock)


def forbid_private_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Link cards as in production: no private addresses, in this process and in the ones the
    test starts through tests/launch.py."""
    monkeypatch.delenv(ALLOW_PRIVATE_ENV, raising=False)
    monkeypatch.setattr(safefetch._Allowance, "private", False)
