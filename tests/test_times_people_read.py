"""Times as people read them (issue 14): ``status`` and ``publish`` in the campaign's zone to the
minute (``--utc`` for UTC), an ``at: now`` post that went out shown as published rather than due
again, and ``check``'s time-past warning agreeing with what ``publish`` will do."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Make
from tests.test_cli import run

# The campaign's zone is Chicago (CST, UTC-6): the tests' NOW, 12:00Z, is 06:00 there.
CHICAGO_OUTBOX = (
    "defaults: {timezone: America/Chicago, accounts: [outbox]}\n"
    "accounts:\n  outbox: {platform: outbox}\n"
)
NOW_POST = "posts:\n  - id: first\n    at: now\n    text: Fund our schools\n"
AN_HOUR_LATER = {"EDUADVOCATE_NOW": "2026-11-28T13:00:00Z"}


@pytest.mark.parametrize("columns", ["160", "80"])
def test_status_shows_due_times_in_the_campaign_zone_to_the_minute(
    make_campaign: Make, columns: str
) -> None:
    root = make_campaign(NOW_POST, config=CHICAGO_OUTBOX)
    assert run("publish", cwd=root).returncode == 0
    shown = run("status", cwd=root, env={"COLUMNS": columns})
    assert shown.returncode == 0, shown.stderr
    assert "Sat 2026-11-28 06:00 CST" in shown.stdout
    assert "2026-11-28T12:00:00" not in shown.stdout


@pytest.mark.parametrize("columns", ["160", "80"])
def test_status_utc_shows_due_times_in_utc(make_campaign: Make, columns: str) -> None:
    root = make_campaign(NOW_POST, config=CHICAGO_OUTBOX)
    assert run("publish", cwd=root).returncode == 0
    shown = run("status", "--utc", cwd=root, env={"COLUMNS": columns})
    assert shown.returncode == 0, shown.stderr
    assert "Sat 2026-11-28 12:00 UTC" in shown.stdout
    assert "CST" not in shown.stdout


def test_status_json_keeps_its_iso_utc_times(make_campaign: Make) -> None:
    root = make_campaign(NOW_POST, config=CHICAGO_OUTBOX)
    assert run("publish", cwd=root).returncode == 0
    data = json.loads(run("status", "--format", "json", cwd=root).stdout)
    assert [d["at"] for d in data["deliveries"]] == ["2026-11-28T12:00:00Z"]


@pytest.mark.parametrize("columns", ["160", "80"])
def test_publish_due_column_is_in_the_campaign_zone(make_campaign: Make, columns: str) -> None:
    root = make_campaign(NOW_POST, config=CHICAGO_OUTBOX)
    dry = run("publish", "--dry-run", cwd=root, env={"COLUMNS": columns})
    assert dry.returncode == 0, dry.stderr
    # A line per delivery starts with its due time in Chicago (06:00), not in UTC (12:00).
    assert dry.stdout.startswith("06:00  → would publish  first  outbox\n"), dry.stdout
    assert "12:00" not in dry.stdout


def test_a_published_now_post_is_not_due_again_in_a_dry_run(make_campaign: Make) -> None:
    root = make_campaign(NOW_POST, config=CHICAGO_OUTBOX)
    assert run("publish", cwd=root).returncode == 0
    dry = run("publish", "--dry-run", "--format", "json", cwd=root, env=AN_HOUR_LATER)
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["deliveries"] == []
    text = run("publish", "--dry-run", cwd=root, env=AN_HOUR_LATER)
    assert "Nothing is due." in text.stdout


@pytest.mark.parametrize("columns", ["160", "80"])
def test_a_published_now_post_shows_as_published_in_the_calendar(
    make_campaign: Make, columns: str
) -> None:
    root = make_campaign(NOW_POST, config=CHICAGO_OUTBOX)
    before = run("calendar", "--days", "2", cwd=root)
    assert "first" in before.stdout and "published" not in before.stdout
    assert not (root / ".eduadvocate" / "ledger.sqlite3").exists()  # calendar creates none
    assert run("publish", cwd=root).returncode == 0
    later = run("calendar", "--days", "2", cwd=root, env={**AN_HOUR_LATER, "COLUMNS": columns})
    assert later.returncode == 0, later.stderr
    line = next(x for x in later.stdout.splitlines() if "first" in x)
    # At the instant it went out (06:00 Chicago), not at the calendar's now (07:00).
    assert "06:00" in line and "published" in line, later.stdout
    data = json.loads(
        run("calendar", "--days", "2", "--format", "json", cwd=root, env=AN_HOUR_LATER).stdout
    )
    (row,) = [r for d in data["days"] for r in d["deliveries"]]
    assert (row["at"], row["local"], row["post"]) == ("2026-11-28T12:00:00Z", "06:00", "first")


def _time_past(root_posts: str, make_campaign: Make) -> str:
    make_campaign(root_posts, config=CHICAGO_OUTBOX)
    result = run("check", "--format", "json")
    found = [p for p in json.loads(result.stdout)["problems"] if p["code"] == "time-past"]
    assert len(found) == 1, result.stdout
    return str(found[0]["message"])


def test_check_time_past_inside_the_grace_window_says_it_still_goes_out(
    make_campaign: Make,
) -> None:
    # 05:00 Chicago is an hour before NOW; the default grace window is 3 hours.
    message = _time_past(
        "posts:\n  - id: late\n    at: 2026-11-28 05:00\n    text: Hearing today\n", make_campaign
    )
    assert "will not be published" not in message
    assert "publish still sends it until Sat 2026-11-28 08:00 CST" in message


def test_check_time_past_outside_the_grace_window_says_it_is_skipped(make_campaign: Make) -> None:
    message = _time_past(
        "posts:\n  - id: old\n    at: 2026-11-28 02:00\n    text: Hearing today\n", make_campaign
    )
    # Beyond the window publish skips it (planning marks it missed): the message says so.
    assert message == "at: 2026-11-28 02:00 is in the past, so it will not be published"


def test_publish_agrees_with_check_inside_the_grace_window(make_campaign: Make) -> None:
    root = make_campaign(
        "posts:\n  - id: late\n    at: 2026-11-28 05:00\n    text: Hearing today\n",
        config=CHICAGO_OUTBOX,
    )
    data = json.loads(run("publish", "--format", "json", cwd=root).stdout)
    assert [(d["post"], d["state"]) for d in data["deliveries"]] == [("late", "published")]


@pytest.mark.parametrize("columns", ["160", "80"])
def test_check_text_names_the_grace_window(make_campaign: Make, columns: str) -> None:
    make_campaign(
        "posts:\n  - id: late\n    at: 2026-11-28 05:00\n    text: Hearing today\n",
        config=CHICAGO_OUTBOX,
    )
    result = run("check", env={"COLUMNS": columns})
    assert "grace window" in " ".join(result.stdout.split()), result.stdout
