"""The config: durations (``grace``, ``lease``), account names, where ``${VAR}`` may be used."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from eduadvocate.config import DEFAULT_GRACE, DEFAULT_LEASE, load_config
from eduadvocate.errors import ConfigError
from tests.conftest import Make
from tests.test_cli import run

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


# -- account names ----------------------------------------------------------------------------------
ALLOWED = (
    'letters, digits, ".", "_" and "-", starting with a letter or digit, at most 64 characters'
)


@pytest.mark.parametrize(
    "name",
    [
        "../../outside",
        "a/b",
        ".hidden",
        "-dash-first",
        "two words",
        "tab\there",
        "école",
        "x" * 65,
        "",
    ],
)
def test_an_unsafe_account_name_is_refused_in_one_line_naming_the_line(
    make_campaign: Make, name: str
) -> None:
    """Account names become file names (Bluesky sessions, the outbox) and ledger keys: only a
    safe character set is taken, before anything reads or writes a file."""
    root = make_campaign(
        "posts: []\n",
        config=f"defaults: {{timezone: UTC}}\naccounts:\n  ok: {{platform: outbox}}\n  {json.dumps(name)}: {{platform: outbox}}\n",
    )
    result = run("check")
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr == (
        f"eduadvocate: error: config.yaml:4: the account name {json.dumps(name, ensure_ascii=False)} may only use"
        f" {ALLOWED}. rename the account here and in the posts that name it\n"
    )
    assert not (root / ".eduadvocate").exists()


@pytest.mark.parametrize("name", ["x-main", "pta.bsky", "Union_2026", "9to5", "a" * 64])
def test_safe_account_names_are_taken(tmp_path: Path, name: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"accounts:\n  {name}: {{platform: outbox}}\n")
    assert list(load_config(str(path)).accounts) == [name]
