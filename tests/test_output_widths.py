"""Every text table the CLI prints reads at 60, 80 and 120 columns: no line runs past the width
unless what runs past is one unbroken token (a URL, an id), nothing is cut with "…", every fix
text and error appears whole, and no URL is broken across lines. A table that does not fit
becomes one block per item (``cli/output.py``'s ``tabulate``), whatever the command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.text import Text

from eduadvocate.cli import output
from eduadvocate.core.counts import Counts
from eduadvocate.core.errors import Location, Problem
from eduadvocate.ledger import open_ledger
from eduadvocate.ledger.base import Desired, Snapshot, State
from tests.conftest import Make
from tests.test_cli import run

WIDTHS = (60, 80, 120)
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LONG_ID = "the-district-budget-vote-reminder-for-every-parent-teacher-group"
ACCOUNT = "outbox-for-the-whole-district-campaign"
WORKER = "district-office-server.example.org:4242-abc123def456"
LONG_URL = (
    "https://example.org/district/budget/2026-2027/"
    "full-proposal-with-appendices-tables-and-the-superintendent-letter.pdf"
)
POSTED_URL = "https://x.com/DistrictPTA/status/1864023456789012345678901234567890"
ERROR = (
    "the platform refused the post: the text is a duplicate of one posted in the last day; "
    f"see {LONG_URL} for the rules and change a word before retrying :warning:"
)
CONFIG = f"""\
defaults:
  timezone: UTC
  accounts: [x-main, {ACCOUNT}]
accounts:
  x-main: {{platform: x}}
  {ACCOUNT}: {{platform: outbox}}
"""
POSTS = f"""\
posts:
  - id: {LONG_ID}
    at: 2026-12-03 18:00
    text: "Read the whole budget at {LONG_URL} and tell the board what you think, {{@nobody}}"
  - id: hearing
    at: 2026-11-01 18:00
    text: The hearing is on Tuesday evening; bring a friend and a sign.
  - id: thanks
    at: 2026-12-01 09:00
    accounts: [x-main]
    text: Thank you {{@nobody}} for every signature on the petition this week.
  - id: wrong
    at: 2026-12-02 09:00
    accounts: [x-mian]
    text: Fund our schools.
"""


def _campaign(make_campaign: Make) -> Path:
    """A campaign with long ids, a long URL, long hints, errors and warnings, and a ledger
    holding deliveries published, failed, pending with a next try, claimed and cancelled."""
    root = make_campaign(POSTS, config=CONFIG)
    ledger = open_ledger(".eduadvocate/ledger.sqlite3", root)
    try:
        later = NOW + timedelta(days=1)
        ledger.sync(
            [
                Desired(LONG_ID, "x-main", "x", NOW - timedelta(hours=2), "a"),
                Desired("hearing", "x-main", "x", NOW - timedelta(hours=1), "b"),
                Desired("hearing", ACCOUNT, "outbox", NOW - timedelta(minutes=30), "c"),
                Desired("thanks", "x-main", "x", NOW - timedelta(minutes=10), "d"),
                Desired(LONG_ID, ACCOUNT, "outbox", later, "e"),
                Desired("wrong", "x-main", "x", later, "f"),
            ],
            NOW,
        )
        published, failed, pending, claimed = ledger.claim_due(WORKER, NOW, timedelta(hours=1))
        attempt = ledger.begin_attempt(published.id, 0, WORKER, "k", NOW)
        ledger.part_sent(
            published.id, 0, "1864", POSTED_URL, NOW, attempt, worker=WORKER, published_hash="a"
        )
        ledger.finish(failed.id, WORKER, State.FAILED, NOW, error=ERROR, error_kind="refused")
        ledger.release(
            pending.id, WORKER, NOW + timedelta(minutes=5), NOW, error=ERROR, error_kind="refused"
        )
        ledger.heartbeat(WORKER, NOW, NOW + timedelta(hours=1), ())
        assert claimed.post_id == "thanks"
        (cancelled,) = ledger.deliveries(post_id="wrong")
        ledger.cancel(cancelled.id, NOW)
        ledger.add_snapshots(
            [Snapshot(published.id, 0, NOW, Counts(likes=40, reposts=2, impressions=900))]
        )
    finally:
        ledger.close()
    return root


COMMANDS = {
    "check": ("check",),
    "render": ("render",),
    "calendar": ("calendar", "--days", "10"),
    "status": ("status",),
    "status --utc": ("status", "--utc"),
    "report": ("report",),
    "accounts verify": ("accounts", "verify"),
    "retry": ("retry", "--failed"),
    "ledger migrate": ("ledger", "migrate"),
    "ledger checkpoint": ("ledger", "checkpoint"),
    "ledger export": ("ledger", "export", "-o", "history.jsonl"),
}
# Whole in the output, whatever the width (after collapsing spaces and line breaks).
WHOLE = {
    "check": [
        "change the time, or delete the post once it is no longer needed",
        "add them to people.yaml",
        'no account named "x-mian" in the config',
    ],
    "render": ["Read the whole budget at", "and tell the board what you think,"],
    "calendar": [
        "Thank you {@nobody} for every signature on the petition this week.",
        "Read the whole budget at",
    ],
    "status": [ERROR, POSTED_URL, WORKER],
    "status --utc": [ERROR, POSTED_URL, WORKER],
    "report": [POSTED_URL, f'{LONG_ID}: "Read the whole budget at'],
    "retry": [],
    "accounts verify": [],
    "ledger migrate": [],
    "ledger checkpoint": [],
    "ledger export": [],
}


# What may stand on a line before a word too long for any line: a block's arrow before what to
# do, a field's label, the edge of an unboxed post.
LABELS = {"→", "──", "post", "worker"}


def _readable(text: str, width: int) -> None:
    """What every text output at ``width`` must be: nothing cut with "…", and a line longer than
    the width only for one word that would not fit on any line."""
    assert "…" not in text.replace(' …"', ""), text  # the report names a post by its first words
    for line in text.splitlines():
        if len(line) > width:
            words = line.split()
            longest = max(words, key=len)
            rest = [w for w in words if w is not longest]
            assert set(rest) <= LABELS, f"over {width}: {line!r}\n{text}"
            assert len(line) - len(longest) < width - 1, f"could have been broken: {line!r}"


def _flat(text: str) -> str:
    return " ".join(text.split())


def _whole(part: str, text: str) -> bool:
    """``part`` is in ``text`` word for word and in order, no word broken: its words are a
    subsequence of the text's (a table's other columns come between the lines of a column)."""
    words = iter(text.split())
    return all(any(word == seen for seen in words) for word in part.split())


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_table_reads_at_the_width(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch, command: str, width: int
) -> None:
    root = _campaign(make_campaign)
    if command == "render":  # render refuses a campaign with errors in its files; check lists them
        (root / "posts" / "posts.yaml").write_text(
            POSTS.split("  - id: thanks", maxsplit=1)[0], encoding="utf-8"
        )
    monkeypatch.setenv("COLUMNS", str(width))
    result = run(*COMMANDS[command], cwd=root)
    assert result.returncode in (0, 3, 4), result.stderr
    text = result.stdout + result.stderr
    assert text.strip(), command
    _readable(text, width)
    for whole in WHOLE[command]:
        assert _whole(whole, text), (whole, text)
    for url in (LONG_URL, POSTED_URL):
        if url in _flat(text):
            assert any(url in line for line in text.splitlines()), f"{url} broken:\n{text}"


@pytest.mark.parametrize("width", WIDTHS)
def test_ledger_import_reads_at_the_width(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    root = _campaign(make_campaign)
    assert run("ledger", "export", "-o", "history.jsonl", cwd=root).returncode == 0
    monkeypatch.setenv("COLUMNS", str(width))
    target = "an-empty-ledger-for-the-whole-district-campaign-history.sqlite3"
    result = run("ledger", "import", "history.jsonl", "--ledger", target, cwd=root)
    assert result.returncode == 0, result.stderr
    _readable(result.stdout, width)
    assert _whole(f"imported into {target}: 6 deliveries,", result.stdout)


@pytest.mark.parametrize("width", WIDTHS)
def test_cancel_lines_read_at_the_width(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    root = _campaign(make_campaign)
    monkeypatch.setenv("COLUMNS", str(width))
    result = run("cancel", "--post", LONG_ID, cwd=root)
    assert result.returncode == 0, result.stderr
    _readable(result.stdout, width)
    assert f"{LONG_ID} → {ACCOUNT}: cancelled" in _flat(result.stdout)


def test_a_wide_terminal_keeps_the_table(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks are the fallback: where everything fits, the table with its headers stays."""
    make_campaign(
        "posts:\n  - id: a\n    at: 2026-12-03 18:00\n    accounts: [x-main]\n    text: Tell {@lopes}\n"
    )
    monkeypatch.setenv("COLUMNS", "160")
    lines = run("check").stdout.splitlines()
    # No account in any row: the table leaves the column out.
    assert lines[0].split() == ["Where", "Post", "Problem", "What", "to", "do"]
    monkeypatch.setenv("COLUMNS", "60")
    lines = run("check").stdout.splitlines()
    assert lines[0] == "posts/posts.yaml:5  post a"
    assert lines[1].startswith("  error unknown-person: ")


words = st.text(alphabet="abcdefghij-/:.", min_size=1, max_size=30) | st.text(
    alphabet="abcdefghij-/:.", min_size=40, max_size=70
)
prose = st.lists(words, min_size=0, max_size=25).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(
    width=st.integers(40, 160),
    problems=st.lists(
        st.tuples(words, words, words, prose, prose, st.sampled_from(["error", "warning"])),
        min_size=1,
        max_size=4,
    ),
)
def test_problems_read_at_any_width(
    width: int, problems: list[tuple[str, str, str, str, str, str]]
) -> None:
    """The class: whatever the width and the words, the problems table or its blocks keep every
    word whole, never cut, and past the width only a word that alone is wider than a line."""
    found = [
        Problem(
            message=message or "m",
            hint=hint,
            location=Location(f"posts/{file}.yaml", 12),
            post=post,
            account=account,
            code="time-past",
            severity=severity,  # type: ignore[arg-type]
        )
        for file, post, account, message, hint, severity in problems
    ]
    con = output.console()
    con.width = width
    with con.capture() as captured:
        con.print(output.problems_table(found, width))
    text = captured.get()
    _readable(text, width)
    for p in found:
        assert _whole(p.message, text) and _whole(p.hint, text)
        assert str(p.location) in text.split()
        if not text.startswith("Where"):  # blocks: a label stays with its value
            assert f"post {p.post}" in text
            assert not p.hint.split() or f"→ {p.hint.split()[0]}" in text


def test_the_readme_sample_is_what_check_prints_at_80_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    sample = readme.split("$ COLUMNS=80 eduadvocate check\n", 1)[1].split("```", 1)[0]
    assert run("init", "drive", cwd=tmp_path).returncode == 0
    (tmp_path / "drive" / "posts" / "march.yaml").write_text(
        "posts:\n"
        "  - id: budget-vote\n    at: 2026-12-01 18:00\n    accounts: [outbox]\n"
        "    text: Tell {@chiar} the budget vote is Tuesday.\n"
        "  - id: hearing-reminder\n    at: 2026-11-20 09:00\n    accounts: [outbox]\n"
        "    text: The hearing is at 6pm.\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("COLUMNS", "80")
    assert run("check", cwd=tmp_path / "drive").stdout == sample


@settings(max_examples=300, deadline=None)
@given(width=st.integers(10, 160), text=st.lists(prose, min_size=1, max_size=3).map("\n".join))
def test_wrapping_breaks_only_at_spaces(width: int, text: str) -> None:
    """The console's own wrapping: every word whole and in order, a line wider than the width
    only for a word wider than it, every line of the text starting a line of the output."""
    lines = [line.plain for line in output.wrap(Text(text), width, "  ")]
    assert " ".join(lines).split() == text.split()
    for line in lines:
        assert line.startswith("  ")
        assert len(line) <= width or len(line.split()) == 1
    assert len(lines) >= len(text.split("\n"))


@pytest.mark.parametrize(
    "args",
    [
        ("check", "--format", "json"),
        ("check", "--format", "github"),
        ("status", "--format", "json"),
        ("calendar", "--format", "json"),
        ("report", "--format", "json"),
    ],
)
def test_json_and_github_output_do_not_depend_on_the_width(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    root = _campaign(make_campaign)
    outputs = set()
    for width in (40, 160):
        monkeypatch.setenv("COLUMNS", str(width))
        outputs.add(run(*args, cwd=root).stdout)
    assert len(outputs) == 1
    if "github" in args:
        assert all(line.startswith(("::", "✗")) for line in outputs.pop().splitlines())
