"""Shared fixtures: an isolated environment (no real HOME, config or credentials), a clock, and a
builder for small campaign folders."""

from __future__ import annotations

import os
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytest_plugins = ["tests.fakes.mastodon", "tests.fakes.bluesky", "tests.fakes.postgres"]

REPO = Path(__file__).resolve().parent.parent
NOW = "2026-11-28T12:00:00Z"
# Modules that start many processes or servers (the crash harness, workers, outages, browsers):
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
        "test_report_html",
        "test_examples",
        "test_secrets",
        "test_twitter_vs_npm",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.stem in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the developer's HOME, config, secrets or terminal."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name in (
        "EDUADVOCATE_CONFIG",
        "EDUADVOCATE_TRACEBACK",
        "X_CONSUMER_KEY",
        "BLUESKY_APP_PASSWORD",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EDUADVOCATE_NOW", NOW)
    # The loopback servers the tests fetch link cards from are private addresses, which
    # eduadvocate refuses to fetch unless told (never by default).
    monkeypatch.setenv("EDUADVOCATE_ALLOW_PRIVATE_ADDRESSES", "1")
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
