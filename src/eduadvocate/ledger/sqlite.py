"""The embedded ledger: SQLite (stdlib ``sqlite3``) in WAL mode, created on first use.

One connection per ledger object, shared by the process's threads under a lock. Transactions
start with ``BEGIN IMMEDIATE``, so two processes serialise instead of failing half-way; single
statements commit on their own. The logic is :class:`~eduadvocate.ledger.sql.SQLLedger`'s.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eduadvocate.ledger.base import LedgerError
from eduadvocate.ledger.schema import Migration
from eduadvocate.ledger.sql import SQLLedger

BUSY_TIMEOUT_S = 30.0
MIN_VERSION = (3, 35)  # RETURNING


class SQLiteLedger(SQLLedger):
    """A ledger in one SQLite file (``:memory:`` for tests)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if sqlite3.sqlite_version_info < MIN_VERSION:
            raise LedgerError(
                f"this Python's SQLite is {sqlite3.sqlite_version}; the ledger needs 3.35 or newer"
            )
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            # NORMAL in WAL mode: every commit survives the process being killed (the crash-safety
            # contract); only a power cut can lose the last commits, for a large speed gain.
            self._db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot open the ledger {self.path}: {exc}") from None
        self._lock = threading.RLock()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _write(self, sql: str, args: Sequence[Any]) -> int:
        with self._lock:
            return self._db.execute(sql, args).rowcount

    def _claim(self, sql: str, args: Sequence[Any]) -> list[sqlite3.Row]:
        return self._rows(sql, args)  # one statement: SQLite's write lock serialises claimers

    def _statements(self, migration: Migration) -> tuple[str, ...]:
        return migration.sqlite

    def _has_schema(self) -> bool:
        return bool(self._rows("SELECT name FROM sqlite_master WHERE name = 'schema_migrations'"))

    def close(self) -> None:
        with self._lock:
            self._db.close()
