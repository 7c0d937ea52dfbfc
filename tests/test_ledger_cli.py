"""`eduadvocate ledger migrate | export | import`, and choosing the ledger from the command line
or the environment: a campaign moved from SQLite to a real PostgreSQL keeps its whole history."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from eduadvocate.ledger import open_ledger
from eduadvocate.ledger.base import Desired
from tests.conftest import Make
from tests.test_cli import run

OUTBOX = "defaults: {timezone: UTC, accounts: [outbox]}\naccounts:\n  outbox: {platform: outbox}\n"
POSTS = "posts:\n  - id: first\n    at: now\n    text: Fund our schools\n  - id: second\n    at: now\n    thread: [One, Two]\n"


def _status(root: Path, **env: str) -> dict:  # type: ignore[type-arg]
    result = run("status", "--format", "json", cwd=root, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_a_campaign_moves_from_sqlite_to_postgres_with_its_history(
    make_campaign: Make, postgres_url: str
) -> None:
    root = make_campaign(POSTS, config=OUTBOX)
    assert run("publish", cwd=root).returncode == 0
    before = _status(root)
    assert {d["state"] for d in before["deliveries"]} == {"published"}

    exported = run("ledger", "export", "-o", "history.jsonl", cwd=root)
    assert exported.returncode == 0, exported.stderr
    assert "exported 2 deliveries, 3 parts" in exported.stderr
    imported = run("ledger", "import", "history.jsonl", "--ledger", postgres_url, cwd=root)
    assert imported.returncode == 0, imported.stderr

    after = _status(root, EDUADVOCATE_LEDGER=postgres_url)
    assert after["deliveries"] == before["deliveries"]
    # Nothing is published again from the new ledger: the history says it all went out.
    again = run("publish", "--format", "json", cwd=root, env={"EDUADVOCATE_LEDGER": postgres_url})
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["deliveries"] == []
    assert len(list((root / "outbox").rglob("*.json"))) == 2

    twice = run("ledger", "import", "history.jsonl", "--ledger", postgres_url, cwd=root)
    assert twice.returncode == 3
    assert twice.stderr.count("\n") == 1
    assert "new, empty ledger" in twice.stderr


def test_bad_export_files_are_one_line_errors(make_campaign: Make) -> None:
    root = make_campaign(POSTS, config=OUTBOX)
    (root / "junk.jsonl").write_text(
        '{"format": "eduadvocate-ledger", "version": 1, "schema": 3}\nnot json\n'
    )
    (root / "other.jsonl").write_text('{"hello": 1}\n')
    for name, expected in (
        ("junk.jsonl", "junk.jsonl:2: not a line of a ledger export"),
        ("other.jsonl", "other.jsonl:1: not a ledger export"),
        ("missing.jsonl", "cannot read missing.jsonl"),
    ):
        result = run("ledger", "import", name, "--ledger", "new.sqlite3", cwd=root)
        assert result.returncode == 2, result.stderr
        assert expected in result.stderr
        assert "Traceback" not in result.stderr
    # All or nothing: the failed imports left the new ledger empty.
    assert _status(root, EDUADVOCATE_LEDGER="new.sqlite3")["deliveries"] == []


def test_workers_refuse_an_old_shared_schema_until_migrated(
    make_campaign: Make, postgres_url: str
) -> None:
    root = make_campaign(POSTS, config=OUTBOX)
    env = {"EDUADVOCATE_LEDGER": postgres_url}
    assert run("ledger", "migrate", cwd=root, env=env).returncode == 0
    with psycopg.connect(postgres_url, autocommit=True) as conn:  # as the previous release left it
        conn.execute("ALTER TABLE deliveries DROP COLUMN warning")
        conn.execute("DROP TABLE inbox_items")
        conn.execute("DROP TABLE inbox_cursors")
        conn.execute("DELETE FROM schema_migrations WHERE version >= 6")
    refused = run("publish", cwd=root, env=env)
    assert refused.returncode == 3
    assert "run `eduadvocate ledger migrate` once" in refused.stderr
    migrated = run("ledger", "migrate", cwd=root, env=env)
    assert migrated.returncode == 0, migrated.stderr
    from eduadvocate.ledger.schema import MIGRATIONS

    latest = MIGRATIONS[-1].version  # (each new migration is applied here too)
    applied = ", ".join(str(v) for v in range(6, latest + 1))
    assert f"schema 5 → {latest} (applied {applied})" in migrated.stdout
    assert run("publish", cwd=root, env=env).returncode == 0
    assert {d["state"] for d in _status(root, **env)["deliveries"]} == {"published"}


def test_the_password_in_a_ledger_url_is_never_shown(make_campaign: Make) -> None:
    root = make_campaign(POSTS, config=OUTBOX)
    env = {
        "EDUADVOCATE_LEDGER": "postgresql://edu:${LEDGER_PW}@127.0.0.1:1/c",
        "LEDGER_PW": "pw-9f8e7d",
    }
    for args in (("status",), ("publish",), ("ledger", "migrate"), ("ledger", "export")):
        result = run(*args, cwd=root, env=env)
        assert result.returncode == 3, (args, result.stderr)
        assert "pw-9f8e7d" not in result.stdout + result.stderr
        assert "postgresql://edu:***@127.0.0.1:1/c" in result.stderr
    unset = run("status", cwd=root, env={"EDUADVOCATE_LEDGER": "postgresql://edu:${NOPE_PW}@h/c"})
    assert unset.returncode == 3
    assert "${NOPE_PW}" in unset.stderr


def test_status_shows_which_worker_holds_which_claim(
    make_campaign: Make, postgres_url: str
) -> None:
    root = make_campaign(POSTS, config=OUTBOX)
    env = {"EDUADVOCATE_LEDGER": postgres_url}
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    ledger = open_ledger(postgres_url, root)
    try:
        ledger.sync([Desired("first", "outbox", "outbox", now, "h")], now)
        ledger.heartbeat("host-a:4242-abc123", now, now + timedelta(seconds=60), ())
        five_ago = now - timedelta(minutes=5)
        ledger.heartbeat("host-b:99-def456", five_ago, five_ago + timedelta(minutes=1), ())
        assert len(ledger.claim_due("host-a:4242-abc123", now, timedelta(seconds=60))) == 1
    finally:
        ledger.close()

    data = _status(root, **env)
    (row,) = data["deliveries"]
    assert row["state"] == "claimed" and row["claimed_by"] == "host-a:4242-abc123"
    assert row["lease_expires"] == "2026-11-28T12:01:00Z"
    workers = {w["id"]: w for w in data["workers"]}
    assert workers["host-a:4242-abc123"]["claims"] == 1
    assert workers["host-b:99-def456"]["last_seen"] == "2026-11-28T11:55:00Z"
    text = run("status", cwd=root, env=env)
    assert "(claimed by host-a:4242-abc123 until Sat 2026-11-28 12:01 UTC)" in text.stdout
    assert "host-b:99-def456" in text.stdout and "silent" in text.stdout


def _with_password(url: str, password: str) -> str:
    """The test server trusts loopback, so a URL with any password still connects."""
    parts = urlsplit(url)
    user, host = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


def test_ledger_flag_beats_the_environment_which_beats_the_config(make_campaign: Make) -> None:
    root = make_campaign(POSTS, config="ledger: from-config.sqlite3\n" + OUTBOX)

    def migrated(*args: str, **env: str) -> str:
        result = run("ledger", "migrate", *args, cwd=root, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout.split(":")[0]

    assert migrated() == "from-config.sqlite3"
    assert migrated(EDUADVOCATE_LEDGER="from-env.sqlite3") == "from-env.sqlite3"
    assert migrated(EDUADVOCATE_LEDGER="") == "from-config.sqlite3"  # empty is unset (CI secrets)
    flagged = migrated("--ledger", "from-flag.sqlite3", EDUADVOCATE_LEDGER="from-env.sqlite3")
    assert flagged == "from-flag.sqlite3"
    assert sorted(p.name for p in root.glob("*.sqlite3")) == [
        "from-config.sqlite3",
        "from-env.sqlite3",
        "from-flag.sqlite3",
    ]


def test_the_readme_recipe_exports_sqlite_while_the_environment_names_postgres(
    make_campaign: Make, postgres_url: str
) -> None:
    """README "Several workers": EDUADVOCATE_LEDGER already points at PostgreSQL, and
    `ledger export --ledger <the SQLite file>` must read that file, not the empty database."""
    root = make_campaign(POSTS, config=OUTBOX)
    assert run("publish", cwd=root).returncode == 0
    before = _status(root)["deliveries"]
    env = {"EDUADVOCATE_LEDGER": postgres_url}
    assert run("ledger", "migrate", cwd=root, env=env).returncode == 0

    exported = run(
        "ledger", "export", "--ledger", ".eduadvocate/ledger.sqlite3", "-o", "history.jsonl",
        cwd=root, env=env,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr == (
        "exported 2 deliveries, 3 parts, 3 attempts, 2 now_posts from .eduadvocate/ledger.sqlite3\n"
    )
    imported = run("ledger", "import", "history.jsonl", cwd=root, env=env)
    assert imported.returncode == 0, imported.stderr
    assert _status(root, **env)["deliveries"] == before


@pytest.mark.parametrize(
    ("args", "env", "why"),
    [
        ((), {}, "it is the config's `ledger:`; pass --ledger to export another"),
        (
            (),
            {"EDUADVOCATE_LEDGER": "empty.sqlite3"},
            "it was chosen by EDUADVOCATE_LEDGER; pass --ledger to export another",
        ),
        (("--ledger", "empty.sqlite3"), {}, "it was chosen by --ledger"),
    ],
)
def test_exporting_a_ledger_without_deliveries_says_which_ledger_and_why(
    make_campaign: Make, args: tuple[str, ...], env: dict[str, str], why: str
) -> None:
    root = make_campaign(POSTS, config="ledger: empty.sqlite3\n" + OUTBOX)
    result = run("ledger", "export", *args, "-o", "history.jsonl", cwd=root, env=env)
    assert result.returncode == 3
    assert result.stderr == (
        "eduadvocate: error: the ledger empty.sqlite3 holds no deliveries: nothing to export"
        f" ({why})\n"
    )
    assert not (root / "history.jsonl").exists()


def test_exporting_an_empty_postgres_ledger_names_it_without_its_password(
    make_campaign: Make, postgres_url: str
) -> None:
    root = make_campaign(POSTS, config=OUTBOX)
    assert run("publish", cwd=root).returncode == 0  # the SQLite ledger is not empty
    url = _with_password(postgres_url, "pw-5e4d3c")
    result = run("ledger", "export", cwd=root, env={"EDUADVOCATE_LEDGER": url})
    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr == (
        f"eduadvocate: error: the ledger {_with_password(postgres_url, '***')} holds no"
        " deliveries: nothing to export (it was chosen by EDUADVOCATE_LEDGER; pass --ledger to"
        " export another)\n"
    )


@pytest.mark.parametrize(
    "content", ["", '{"format": "eduadvocate-ledger", "version": 1, "schema": 5}\n\n']
)
def test_importing_a_file_without_rows_is_an_error(make_campaign: Make, content: str) -> None:
    root = make_campaign(POSTS, config=OUTBOX)
    (root / "history.jsonl").write_text(content)
    result = run("ledger", "import", "history.jsonl", "--ledger", "new.sqlite3", cwd=root)
    assert result.returncode == 3
    assert result.stderr == (
        "eduadvocate: error: history.jsonl holds no rows: nothing to import into new.sqlite3"
        " (export the ledger that holds the history with `eduadvocate ledger export --ledger …`)\n"
    )
    assert not (root / "new.sqlite3").exists()


def test_checkpoint_folds_a_killed_runs_wal_into_the_file_and_leaves_no_wal_or_shm(
    make_campaign: Make, tmp_path: Path
) -> None:
    """After `ledger checkpoint`, the ledger file alone (what a git commit takes) holds every
    record, including those of a run that was SIGKILLed with its write-ahead log still open."""
    root = make_campaign(POSTS, config=OUTBOX)
    killed = run("publish", cwd=root, env={"EDUADVOCATE_CRASH_AT": "after-response"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    ledger = root / ".eduadvocate" / "ledger.sqlite3"
    assert Path(f"{ledger}-wal").exists()
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(ledger, alone / "before.sqlite3")  # without its WAL, the file misses the run

    result = run("ledger", "checkpoint", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        ".eduadvocate/ledger.sqlite3: the write-ahead log is folded in and no -wal or -shm file"
        " is left: ready to commit\n"
    )
    assert sorted(p.name for p in ledger.parent.glob("ledger.sqlite3*")) == [
        "ledger.sqlite3",
        "ledger.sqlite3.lock",
    ]
    shutil.copy(ledger, alone / "after.sqlite3")
    deliveries = _status(root)["deliveries"]
    assert [d["post"] for d in deliveries] == ["first", "second"]  # the killed run's claims
    assert (
        _status(root, EDUADVOCATE_LEDGER=str(alone / "after.sqlite3"))["deliveries"] == deliveries
    )
    assert _status(root, EDUADVOCATE_LEDGER=str(alone / "before.sqlite3"))["deliveries"] == []


def test_checkpoint_refuses_while_another_process_has_the_ledger_open(make_campaign: Make) -> None:
    root = make_campaign(POSTS, config=OUTBOX)
    assert run("publish", cwd=root).returncode == 0
    other = sqlite3.connect(root / ".eduadvocate" / "ledger.sqlite3")
    try:
        other.execute("SELECT count(*) FROM deliveries").fetchone()
        result = run("ledger", "checkpoint", cwd=root)
    finally:
        other.close()
    assert result.returncode == 3
    assert result.stderr == (
        "eduadvocate: error: .eduadvocate/ledger.sqlite3-wal and .eduadvocate/ledger.sqlite3-shm"
        " are still there: another process has the ledger open (a running `schedule` or"
        " `publish`?); stop it, then run `eduadvocate ledger checkpoint` again\n"
    )
    assert run("ledger", "checkpoint", cwd=root).returncode == 0


def test_checkpoint_names_a_missing_ledger_and_what_chose_it(make_campaign: Make) -> None:
    root = make_campaign(POSTS, config=OUTBOX)
    result = run("ledger", "checkpoint", "--ledger", "nowhere.sqlite3", cwd=root)
    assert result.returncode == 3
    assert result.stderr == (
        "eduadvocate: error: there is no ledger at nowhere.sqlite3 (it was chosen by --ledger):"
        " nothing to checkpoint\n"
    )
    assert not (root / "nowhere.sqlite3").exists()


def test_checkpoint_of_a_postgres_ledger_has_nothing_to_do(
    make_campaign: Make, postgres_url: str
) -> None:
    root = make_campaign(POSTS, config=OUTBOX)
    env = {"EDUADVOCATE_LEDGER": _with_password(postgres_url, "pw-1a2b3c")}
    assert run("publish", cwd=root, env=env).returncode == 0
    result = run("ledger", "checkpoint", cwd=root, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"{_with_password(postgres_url, '***')}: a PostgreSQL ledger has no file to checkpoint:"
        " nothing to do\n"
    )
    assert not (root / ".eduadvocate" / "ledger.sqlite3").exists()
