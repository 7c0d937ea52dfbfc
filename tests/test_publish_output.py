"""What publish says (issue 14): a line per delivery as it is done (problems on stderr), a
one-line summary that ends with when the next post is due, ``--quiet`` for cron, ``--dry-run``
in the conditional, and a progress bar only on a terminal (a real process under a
pseudo-terminal)."""

from __future__ import annotations

import json
import os
import pty
import re
from datetime import timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from eduadvocate.cli.progress import in_words
from tests import launch
from tests.conftest import Make
from tests.test_cli import run, run_process

# The campaign's zone is Chicago (CST, UTC-6): the tests' NOW, Sat 12:00Z, is 06:00 there.
CONFIG = """\
defaults: {timezone: America/Chicago, accounts: [outbox]}
accounts:
  outbox: {platform: outbox}
  x-main: {platform: x}
"""
# x-main has no credentials: its delivery fails (auth) and the run goes on.
POSTS = """\
posts:
  - id: rally
    at: now
    text: Come to the rally
  - id: budget-vote
    at: now
    accounts: [outbox, x-main]
    text: The budget vote is tonight
  - id: monday
    at: 2026-11-30 09:00
    text: Call your representative
"""
NEXT = "next post due at Mon 2026-11-30 09:00 CST (in 2 days 3 h)"
LINE = re.compile(r"^(\d\d:\d\d|\d{4}-\d\d-\d\d \d\d:\d\d)  (✓ published|✗ failed)  (\S+)  (\S+)  ")


def test_a_line_per_delivery_then_a_summary_with_the_next_post(make_campaign: Make) -> None:
    make_campaign(POSTS, config=CONFIG)
    result = run("publish")
    assert result.returncode == 5, result.stderr
    *lines, summary = result.stdout.splitlines()
    assert sorted(line.split("  file://")[0] for line in lines) == [
        "06:00  ✓ published  budget-vote  outbox",
        "06:00  ✓ published  rally  outbox",
    ]
    assert all(line.endswith(".json") for line in lines)  # the outbox's link to what it wrote
    assert summary == f"Published 2 of 3 due (1 failed: x-main budget-vote); {NEXT}."
    (failed,) = result.stderr.splitlines()
    assert failed.startswith("06:00  ✗ failed  budget-vote  x-main  config.yaml:4: ")
    assert "consumer_key" in failed


def test_every_line_is_one_line_at_any_width(make_campaign: Make) -> None:
    make_campaign(POSTS, config=CONFIG)
    result = run("publish", env={"COLUMNS": "40"})
    *lines, summary = result.stdout.splitlines()
    assert len(lines) == 2 and all(LINE.match(line) for line in lines), result.stdout
    assert summary.endswith(f"{NEXT}.")
    assert LINE.match(result.stderr) and result.stderr.count("\n") == 1


def test_nothing_due_says_when_the_next_post_is(make_campaign: Make) -> None:
    make_campaign(POSTS, config=CONFIG)
    run("publish")
    again = run("publish")
    assert (again.returncode, again.stdout, again.stderr) == (0, f"Nothing was due; {NEXT}.\n", "")


def test_nothing_due_and_nothing_scheduled(make_campaign: Make) -> None:
    make_campaign("posts:\n  - id: old\n    at: 2026-11-01 09:00\n    text: Past\n", config=CONFIG)
    result = run("publish")
    # The post was missed long ago: skipped, and nothing is due later.
    assert result.stdout.splitlines()[-1] == "Published 0 of 1 due (1 skipped: outbox old)."
    assert result.stderr.startswith("2026-11-01 09:00  ✗ skipped  old  outbox  missed")
    assert run("publish").stdout == "Nothing was due.\n"


def test_one_delivery_is_said_in_the_singular(make_campaign: Make) -> None:
    make_campaign(
        "posts:\n  - id: p\n    at: now\n    text: Hi\n"
        "  - id: q\n    at: 2026-11-28 06:30\n    text: Soon\n",
        config=CONFIG,
    )
    result = run("publish")
    assert result.stdout.splitlines()[-1] == (
        "Published 1 of 1 due; next post due at Sat 2026-11-28 06:30 CST (in 30 min)."
    )


def test_quiet_prints_nothing_on_a_clean_run(make_campaign: Make) -> None:
    make_campaign("posts:\n  - id: p\n    at: now\n    text: Hi\n", config=CONFIG)
    result = run("publish", "--quiet")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert len(json.loads(run("status", "--format", "json").stdout)["deliveries"]) == 1


def test_quiet_prints_only_the_problems_and_the_summary(make_campaign: Make) -> None:
    make_campaign(POSTS, config=CONFIG)
    result = run("publish", "-q")
    assert result.returncode == 5
    assert result.stdout == f"Published 2 of 3 due (1 failed: x-main budget-vote); {NEXT}.\n"
    assert result.stderr.startswith("06:00  ✗ failed  budget-vote  x-main  ")


def test_dry_run_says_what_would_go_out_in_the_conditional(make_campaign: Make) -> None:
    make_campaign(POSTS, config=CONFIG)
    result = run("publish", "--dry-run")
    assert result.returncode == 0, result.stderr
    *lines, summary = result.stdout.splitlines()
    assert sorted(lines) == [
        "06:00  → would publish  budget-vote  outbox",
        "06:00  → would publish  budget-vote  x-main",
        "06:00  → would publish  rally  outbox",
    ]
    assert summary == f"Would publish 3 of 3 due; {NEXT}."
    assert not (Path("outbox")).exists()


def test_held_posts_are_named_in_the_summary(make_campaign: Make) -> None:
    make_campaign(
        "posts:\n  - id: ok\n    at: now\n    text: Fine\n"
        "  - id: broken\n    at: now\n    text: ''\n",
        config=CONFIG,
    )
    result = run("publish")
    assert result.returncode == 4
    assert result.stdout.splitlines()[-1] == "Published 1 of 2 due (1 held: outbox broken)."
    assert result.stderr.startswith("06:00  ! held  broken  outbox  the post has errors")


def test_json_is_unchanged(make_campaign: Make) -> None:
    """The documented contract: the same keys, no lines, no summary."""
    make_campaign(POSTS, config=CONFIG)
    result = run("publish", "--format", "json")
    data = json.loads(result.stdout)
    assert set(data) == {
        "version", "dry_run", "locked", "exit_code", "deliveries", "held", "unreadable",
        "skipped", "cancelled", "reinstated", "drifted", "withdrawn", "warnings", "taken_over",
        "interrupted",
    }  # fmt: skip
    assert result.stderr == ""


def _under_a_terminal(root: Path, *args: str) -> tuple[int, str]:
    """``eduadvocate ARGS`` in a real process whose stdout and stderr are a pseudo-terminal:
    everything it wrote there (escapes included), read until it exits, and its exit status."""
    env = launch.environment({**os.environ, "TERM": "xterm-256color", "COLUMNS": "80"})
    env.pop("NO_COLOR", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec the command on the terminal
        os.chdir(root)
        argv = launch.command(*args)
        os.execve(argv[0], argv, env)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal (it exited)
            break
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode()


ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


def test_a_terminal_shows_a_progress_bar_then_the_lines_and_the_summary(
    make_campaign: Make,
) -> None:
    root = make_campaign(POSTS, config=CONFIG)
    status, screen = _under_a_terminal(root, "publish")
    assert status == 5, screen
    assert "publishing" in screen and "━" in screen  # the bar (Rich's), drawn then cleared
    assert "\x1b[" in screen
    text = ESCAPE.sub("", screen)
    assert "✓ published  rally  outbox" in text
    assert "✗ failed  budget-vote  x-main" in text
    assert f"Published 2 of 3 due (1 failed: x-main budget-vote); {NEXT}." in text


def test_a_pipe_gets_no_bar_and_no_escapes(make_campaign: Make) -> None:
    make_campaign(POSTS, config=CONFIG)
    result = run_process("publish")
    assert result.returncode == 5
    assert "\x1b" not in result.stdout + result.stderr
    assert "publishing" not in result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith("Published 2 of 3 due")


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_in_words_reads_back_to_the_minute(delta: timedelta) -> None:
    """Whatever the wait, "in …" names it to the minute below, in the singular where it is one."""
    said = in_words(delta)
    minutes = int(delta.total_seconds() // 60)
    if minutes == 0:
        assert said == "in less than a minute"
        return
    found = {unit: int(n) for n, unit in re.findall(r"(\d+) (days?|h|min)\b", said)}
    assert found.get("day", 0) in (0, 1) and found.get("days", 0) != 1
    total = (found.get("days", 0) + found.get("day", 0)) * 1440
    total += found.get("h", 0) * 60 + found.get("min", 0)
    # Days are said with hours only: at most the minutes below an hour are left unsaid.
    assert 0 <= minutes - total < (60 if found.get("days") or found.get("day") else 1), said
    assert re.fullmatch(r"in (\d+ days?( \d+ h)?|\d+ h( \d+ min)?|\d+ min)", said), said


STATES = ["published", "failed", "unknown", "held", "pending", "skipped", "scheduled"]


@given(st.lists(st.sampled_from(STATES), max_size=12), st.booleans())
def test_the_summary_counts_every_delivery_once(states: list[str], later: bool) -> None:
    """Whatever became of the deliveries, the summary's numbers add up, every group is named
    (three names at most, then how many more), and a count of one is said in the singular."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from eduadvocate.cli.progress import summary
    from eduadvocate.delivery.planning import Outcome
    from eduadvocate.delivery.publish import RunReport

    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    report = RunReport(next_due=now + timedelta(hours=1) if later else None)
    for i, state in enumerate(states):
        key = f"p{i}|a{i}|2026-11-28T12:00:00.000000Z"
        if state == "skipped":
            report.skipped.append(key)
            continue
        o = Outcome(key, f"p{i}", f"a{i}", "outbox", now, state, error="why")
        (report.held if state == "held" else report.outcomes).append(o)
    said = summary(report, ZoneInfo("America/Chicago"), now, dry_run=False)
    due = sum(1 for s in states if s != "scheduled")
    published = states.count("published")
    if due:
        assert said.startswith(f"Published {published} of {due} due"), said
    else:
        assert said.startswith("Nothing was due"), said
    groups = {"failed": "failed", "unknown": "in doubt", "held": "held", "pending": "to retry"}
    groups["skipped"] = "skipped"
    for state, word in groups.items():
        n = states.count(state)
        if n:
            assert f"{n} {word}: " in said, said
            named = said.split(f"{n} {word}: ")[1].split(";")[0].split(")")[0]
            assert named.count(", ") == min(n, 3) - 1 and ("more" in named) == (n > 3), said
        else:
            assert f" {word}: " not in said, said
    ahead = states.count("scheduled")
    if ahead:
        noun = "post" if ahead == 1 else "posts"
        assert f"{ahead} {noun} handed to the platform's scheduler" in said
    assert ("next post due at Sat 2026-11-28 07:00 CST (in 1 h)" in said) is later
    assert said.endswith(".") and "\n" not in said


def test_a_stopped_run_counts_what_it_never_claimed_as_not_started() -> None:
    """Ctrl-C after one of ten: the summary says ten were due, not the two it had claimed."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from eduadvocate.cli.progress import summary
    from eduadvocate.core.errors import ErrorKind
    from eduadvocate.delivery.planning import Outcome
    from eduadvocate.delivery.publish import RunReport

    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    given_back = Outcome("k2", "p2", "a", "outbox", now, "pending", error="the worker stopped")
    given_back.error_kind = ErrorKind.STOPPED
    report = RunReport(
        outcomes=[Outcome("k1", "p1", "a", "outbox", now, "published"), given_back],
        interrupted=2,
    )
    said = summary(report, ZoneInfo("UTC"), now, dry_run=False, expected=10)
    assert said == "Published 1 of 10 due (9 not started: a p2 and 8 more)."


@given(
    st.dictionaries(st.sampled_from("abcdef"), st.tuples(st.sampled_from("xy"), st.integers(0, 2))),
    st.dictionaries(st.sampled_from("abcdef"), st.tuples(st.sampled_from("xy"), st.integers(0, 2))),
)
def test_schedule_names_each_post_an_edit_touched_once(
    before: dict[str, tuple[str, int]], after: dict[str, tuple[str, int]]
) -> None:
    """What schedule says after an edit (post id → (file, content)): every post added, changed
    or removed is named exactly once, under the file it is in (a removed one: was in), and a
    post whose content is the same is not named, whatever file it moved to."""
    from eduadvocate.delivery.scheduler import compare

    changes = compare(dict(before), dict(after))
    named = [
        (c.file, kind, post)
        for c in changes.values()
        for kind in ("added", "changed", "removed")
        for post in getattr(c, kind)
    ]
    expected = sorted(
        [(after[k][0], "added", k) for k in after.keys() - before.keys()]
        + [(before[k][0], "removed", k) for k in before.keys() - after.keys()]
        + [
            (after[k][0], "changed", k)
            for k in before.keys() & after.keys()
            if before[k][1] != after[k][1]
        ]
    )
    assert sorted(named) == expected
    assert all(c.file == f for f, c in changes.items())
