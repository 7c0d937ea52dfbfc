"""The shared ledger: PostgreSQL through psycopg 3 (imported only when a ``postgresql://`` ledger
is used), for several workers on one or many machines.

- Claims run in one transaction that takes a transaction-level advisory lock (claim decisions
  are short and never overlap, so an account is never claimed by two workers at once) and pick
  their rows with ``FOR UPDATE … SKIP LOCKED`` (rows another worker is writing are passed over,
  not waited for).
- Leases last ``lease`` and are renewed by each worker's heartbeat; a worker that dies loses its
  claims when they expire, and the next worker to claim them reconciles their open attempts.
- One connection per ledger object, shared by the process's threads under a lock, in autocommit
  mode (single statements commit on their own); a broken connection is reopened on next use.
- The schema is created on first use of an empty database; upgrading a shared one is explicit
  (``eduadvocate ledger migrate``), so workers of different versions never race to alter it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.rows import dict_row

from eduadvocate.ledger.base import LedgerError
from eduadvocate.ledger.schema import Migration
from eduadvocate.ledger.sql import SQLLedger

CONNECT_TIMEOUT_S = 10
# pg_advisory_xact_lock keys: "edua" + a purpose, so they stay clear of other applications'.
CLAIM_LOCK_KEY = 0x65647561_00000001
MIGRATE_LOCK_KEY = 0x65647561_00000002


@lru_cache(maxsize=256)
def _pg(sql: str) -> str:
    """Our SQL's ``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _Tx:
    def __init__(self, conn: psycopg.Connection[dict[str, Any]]) -> None:
        self.conn = conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> psycopg.Cursor[dict[str, Any]]:
        return self.conn.execute(_pg(sql), args)


class PostgresLedger(SQLLedger):
    GREATEST = "GREATEST"
    LEAST = "LEAST"
    CLAIM_LOCK = " FOR UPDATE OF d SKIP LOCKED"

    def __init__(self, url: str, shown: str) -> None:
        self.url = url
        self.shown = shown  # the URL without its password, for messages
        self._lock = threading.RLock()
        self._conn = self._connect()

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        try:
            return psycopg.connect(
                self.url,
                autocommit=True,
                row_factory=dict_row,
                connect_timeout=CONNECT_TIMEOUT_S,
                application_name="eduadvocate",
            )
        except psycopg.Error as exc:
            raise LedgerError(f"cannot open the ledger {self.shown}: {_reason(exc)}") from None

    def _live(self) -> psycopg.Connection[dict[str, Any]]:
        if self._conn.closed or self._conn.broken:
            self._conn = self._connect()
        return self._conn

    @contextmanager
    def _tx(self) -> Iterator[_Tx]:
        with self._lock:
            conn = self._live()
            try:
                with conn.transaction():
                    yield _Tx(conn)
            except psycopg.OperationalError as exc:
                raise LedgerError(f"the ledger {self.shown} failed: {_reason(exc)}") from None

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            try:
                cur = self._live().execute(_pg(sql), args)
                return cur.fetchall() if cur.description else []
            except psycopg.OperationalError as exc:
                raise LedgerError(f"the ledger {self.shown} failed: {_reason(exc)}") from None

    def _write(self, sql: str, args: Sequence[Any]) -> int:
        with self._lock:
            try:
                return self._live().execute(_pg(sql), args).rowcount
            except psycopg.OperationalError as exc:
                raise LedgerError(f"the ledger {self.shown} failed: {_reason(exc)}") from None

    def _claim(self, sql: str, args: Sequence[Any]) -> list[dict[str, Any]]:
        with self._tx() as db:
            db.execute("SELECT pg_advisory_xact_lock(?)", (CLAIM_LOCK_KEY,))
            return list(db.execute(sql, args).fetchall())

    def _statements(self, migration: Migration) -> tuple[str, ...]:
        return migration.postgres if migration.postgres is not None else migration.sqlite

    def _lock_migrations(self, db: Any) -> None:
        db.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATE_LOCK_KEY,))

    def _after_import(self, db: Any) -> None:
        for table in ("deliveries", "attempts", "snapshots"):
            db.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )

    def _has_schema(self) -> bool:
        rows = self._rows("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
        return bool(rows[0]["present"])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _reason(exc: psycopg.Error) -> str:
    """The server's or libpq's own words, first line only (they never carry the password)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
