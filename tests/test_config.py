"""Config settings that are durations: ``grace`` and ``lease``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from eduadvocate.config import DEFAULT_GRACE, DEFAULT_LEASE, load_config
from eduadvocate.errors import ConfigError

ACCOUNTS = "accounts: {o: {platform: outbox}}\n"


def _load(tmp_path: Path, text: str) -> tuple[timedelta, timedelta]:
    path = tmp_path / "config.yaml"
    path.write_text(text + ACCOUNTS)
    config = load_config(str(path))
    return config.grace, config.lease


def test_defaults(tmp_path: Path) -> None:
    assert _load(tmp_path, "") == (DEFAULT_GRACE, DEFAULT_LEASE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("2m", timedelta(minutes=2)),
        ("1h 30m", timedelta(minutes=90)),
    ],
)
def test_lease_takes_hours_minutes_and_seconds(
    tmp_path: Path, text: str, expected: timedelta
) -> None:
    assert _load(tmp_path, f"lease: {text}\ngrace: 90m\n") == (timedelta(minutes=90), expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lease: 2s", "config.yaml:1: lease must be at least 3s, not 2s"),
        ("lease: soon", 'config.yaml:1: lease must be a duration like "60s" or "2m", not "soon"'),
        (
            "grace: 3 days",
            'config.yaml:1: grace must be a duration like "3h" or "90m", not "3 days"',
        ),
    ],
)
def test_bad_durations_name_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text + "\n")
    assert caught.value.one_line() == message
