"""What differs between the backends: how each is chosen and opened, PostgreSQL's explicit
upgrade of a shared database, and passwords kept out of every message."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from eduadvocate.ledger import ENV, ledger_target, open_ledger, shown
from eduadvocate.ledger.base import LedgerError
from eduadvocate.ledger.postgres import PostgresLedger
from eduadvocate.ledger.schema import MIGRATIONS
from eduadvocate.ledger.sqlite import SQLiteLedger

LATEST = MIGRATIONS[-1].version
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_a_url_selects_postgres_and_a_path_sqlite(postgres_url: str, tmp_path: Path) -> None:
    pg = open_ledger(postgres_url, tmp_path)
    lite = open_ledger("ledger.sqlite3", tmp_path)
    assert isinstance(pg, PostgresLedger)
    assert isinstance(lite, SQLiteLedger)
    assert (tmp_path / "ledger.sqlite3").is_file()
    assert pg.schema_version() == lite.schema_version() == LATEST
    pg.close()
    lite.close()


def test_environment_overrides_the_config_and_fills_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEDGER_PW", "s3cret")
    assert ledger_target("postgresql://edu:${LEDGER_PW}@db/c") == "postgresql://edu:s3cret@db/c"
    monkeypatch.setenv(ENV, "/srv/other.sqlite3")
    assert ledger_target("postgresql://edu:${LEDGER_PW}@db/c") == "/srv/other.sqlite3"
    monkeypatch.delenv(ENV)
    monkeypatch.delenv("LEDGER_PW")
    with pytest.raises(LedgerError, match=r"\$\{LEDGER_PW\}"):
        ledger_target("postgresql://edu:${LEDGER_PW}@db/c")


def test_passwords_never_shown() -> None:
    assert (
        shown("postgresql://edu:s3cret@db.example:5432/c")
        == "postgresql://edu:***@db.example:5432/c"
    )
    assert shown("postgresql://edu@db/c") == "postgresql://edu@db/c"
    assert shown("ledger.sqlite3") == "ledger.sqlite3"


def test_a_wrong_password_is_one_line_without_the_password(postgres_server: object) -> None:
    # Nothing listens on port 1: the connection fails, and the message must not echo the URL's secret.
    with pytest.raises(LedgerError) as caught:
        open_ledger("postgresql://edu:topsecret-pw@127.0.0.1:1/nope", Path("."))
    assert "topsecret-pw" not in str(caught.value)
    assert "***" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_shared_database_is_upgraded_only_on_request(postgres_url: str, tmp_path: Path) -> None:
    open_ledger(postgres_url, tmp_path).close()  # an empty database gets the whole schema
    with psycopg.connect(postgres_url, autocommit=True) as conn:  # as release 5 left it
        conn.execute("ALTER TABLE deliveries DROP COLUMN warning")
        conn.execute("DROP TABLE leases")
        conn.execute("DROP TABLE inbox_items")
        conn.execute("DROP TABLE inbox_cursors")
        conn.execute("DELETE FROM schema_migrations WHERE version >= 5")
    with pytest.raises(LedgerError, match="eduadvocate ledger migrate"):
        open_ledger(postgres_url, tmp_path)
    upgraded = open_ledger(postgres_url, tmp_path, migrate=True)
    assert upgraded.schema_version() == LATEST
    assert upgraded.take_lease("metrics", "w1", T0, T0 + timedelta(minutes=5))
    assert upgraded.deliveries() == []  # the warning column is back: rows read
    assert upgraded.inbox() == []  # and the inbox's tables
    upgraded.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_newer_schema_is_refused(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    where = request.getfixturevalue("postgres_url") if backend == "postgres" else "l.sqlite3"
    ledger = open_ledger(where, tmp_path)
    ledger._write(  # type: ignore[attr-defined]
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 'x')",
        (LATEST + 1,),
    )
    ledger.close()
    with pytest.raises(LedgerError, match="newer eduadvocate"):
        open_ledger(where, tmp_path)


def _open_and_report(url: str, queue: multiprocessing.Queue[str]) -> None:
    try:
        ledger = open_ledger(url, Path("."))
        queue.put(f"ok {ledger.schema_version()}")
        ledger.close()
    except LedgerError as exc:
        queue.put(f"error {exc}")


def test_workers_starting_together_on_an_empty_database_all_see_the_whole_schema(
    postgres_server: Any,
) -> None:
    ctx = multiprocessing.get_context("spawn")
    for _ in range(3):
        url = postgres_server.new_database()
        queue: multiprocessing.Queue[str] = ctx.Queue()
        procs = [ctx.Process(target=_open_and_report, args=(url, queue)) for _ in range(6)]
        for p in procs:
            p.start()
        results = [queue.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        assert results == [f"ok {LATEST}"] * len(procs)
