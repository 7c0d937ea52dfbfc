"""The embedded ledger: SQLite (stdlib ``sqlite3``) in WAL mode, created on first use.

One connection per ledger object, shared by the process's threads under a lock. Transactions
start with ``BEGIN IMMEDIATE``, so two processes serialise instead of failing half-way; single
statements commit on their own, except the two writes every part of every delivery makes
(beginning an attempt, recording a part sent): each is one transaction, not two and three
commits (fewer locks and WAL frames per delivery, and each is whole). The logic is
:class:`~eduadvocate.ledger.sql.SQLLedger`'s.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from eduadvocate.ledger.base import LeaseLost, LedgerError
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

    def begin_attempt(
        self,
        delivery_id: int,
        part_index: int,
        worker: str,
        idempotency_key: str,
        now: datetime,
        lease_until: datetime | None = None,
    ) -> int:
        # The lease check and the attempt in one commit. Safe: the attempt is still recorded
        # before the platform is called (the caller gets its id only after the commit), and a
        # crash before the commit leaves neither, as a crash before the call did.
        with self._tx():
            return super().begin_attempt(
                delivery_id, part_index, worker, idempotency_key, now, lease_until
            )

    def part_sent(
        self,
        delivery_id: int,
        index: int,
        remote_id: str,
        url: str | None,
        now: datetime,
        attempt_id: int,
        *,
        worker: str,
        published_hash: str | None = None,
    ) -> None:
        # The part, its attempt closed and (last part) the delivery published: one commit, not
        # three. Safe: a crash before the commit leaves the attempt open with no part, which is
        # the state a crash just after the platform answered leaves, and is reconciled the same
        # way (looked up before anything is sent again); after it, all three hold.
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                super().part_sent(
                    delivery_id,
                    index,
                    remote_id,
                    url,
                    now,
                    attempt_id,
                    worker=worker,
                    published_hash=published_hash,
                )
            except LeaseLost:
                # Only the finish was refused (another worker has the delivery now): the part and
                # its closed attempt are kept, so that worker never sends it again.
                self._db.execute("COMMIT")
                raise
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
