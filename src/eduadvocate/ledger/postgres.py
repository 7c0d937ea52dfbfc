"""The shared ledger: PostgreSQL through psycopg 3 (imported only when a ``postgresql://`` ledger
is used), for several workers on one or many machines.

- Claims run in one transaction that takes a transaction-level advisory lock (claim decisions
  are short and never overlap, so an account is never claimed by two workers at once) and pick
  their rows with ``FOR UPDATE … SKIP LOCKED`` (rows another worker is writing are passed over,
  not waited for).
- Leases last ``lease`` and are renewed by each worker's heartbeat; a worker that dies loses its
  claims when they expire, and the next worker to claim them reconciles their open attempts.
- One connection per ledger object, shared by the process's threads under a lock, in autocommit
  mode (single statements commit on their own).
- The server may restart or the connection drop: the connection is opened again with back-off,
  for up to ``outage_limit`` seconds, while the other threads wait their turn at the lock. A
  single statement is then run again; a transaction cut off in the middle fails (it was rolled
  back) unless it is a claim, which is run again. The outage is logged in two lines, when it
  begins and when it ends; once back, the beats missed meanwhile are made up before anything
  else, so the claims this process works on are not taken over by a worker that was quicker.
- The schema is created on first use of an empty database; upgrading a shared one is explicit
  (``eduadvocate ledger migrate``), so workers of different versions never race to alter it.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row

from eduadvocate.ledger.base import LedgerError, iso
from eduadvocate.ledger.schema import Migration
from eduadvocate.ledger.sql import SQLLedger

CONNECT_TIMEOUT_S = 10
OUTAGE_LIMIT_S = 120.0  # how long calls wait for an unreachable ledger before they fail
BACKOFF_FIRST_S = 0.2
BACKOFF_MAX_S = 5.0
RERUNS = 5  # a statement that loses its connection each time it runs fails after this many
# pg_advisory_xact_lock keys: "edua" + a purpose, so they stay clear of other applications'.
CLAIM_LOCK_KEY = 0x65647561_00000001
MIGRATE_LOCK_KEY = 0x65647561_00000002
# SQLSTATEs of a session that is gone rather than a statement refused: the server shutting
# down, crashed, or starting up (class 08, connection exceptions, is gone too).
_GONE = frozenset({"57P01", "57P02", "57P03"})

log = logging.getLogger("eduadvocate.ledger")

Conn = psycopg.Connection[dict[str, Any]]
T = TypeVar("T")


@lru_cache(maxsize=256)
def _pg(sql: str) -> str:
    """Our SQL's ``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _Tx:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> psycopg.Cursor[dict[str, Any]]:
        return self.conn.execute(_pg(sql), args)


@dataclass(frozen=True, slots=True)
class _Outage:
    since: float  # time.monotonic()
    reason: str


class PostgresLedger(SQLLedger):
    GREATEST = "GREATEST"
    LEAST = "LEAST"
    CLAIM_LOCK = " FOR UPDATE OF d SKIP LOCKED"

    def __init__(self, url: str, shown: str, *, outage_limit: float = OUTAGE_LIMIT_S) -> None:
        self.url = url
        self.shown = shown  # the URL without its password, for messages
        self.outage_limit = outage_limit
        self._lock = threading.RLock()
        self._outage: _Outage | None = None
        # Each worker's last heartbeat through this ledger: when, and until when its lease ran.
        self._beats: dict[str, tuple[float, datetime]] = {}
        self._stop_waiting = threading.Event()
        self._conn = self._connect()

    # -- the connection ------------------------------------------------------------------------
    def _open(self, timeout: float = CONNECT_TIMEOUT_S) -> Conn:
        return psycopg.connect(
            self.url,
            autocommit=True,
            row_factory=dict_row,
            connect_timeout=max(2, math.ceil(timeout)),  # libpq's least
            application_name="eduadvocate",
        )

    def _connect(self) -> Conn:
        try:
            return self._open()
        except psycopg.Error as exc:
            raise LedgerError(f"cannot open the ledger {self.shown}: {_reason(exc)}") from None

    def _live(self) -> Conn:
        """The connection: opened again at once after ``close()``, and with back-off after an
        outage (a connection that broke)."""
        if self._outage is not None or self._conn.broken:
            return self._reconnect()
        if self._conn.closed:
            self._conn = self._connect()
        return self._conn

    def _lost(self, conn: Conn, exc: psycopg.Error) -> None:
        """After ``exc``: return if the connection is gone (the outage has begun), else raise (a
        statement the server refused stays the caller's error, as it would be on any retry)."""
        state = exc.sqlstate or ""
        # libpq marks a connection it lost as closed; a session the server ended may not be yet.
        if not (conn.closed or state.startswith("08") or state in _GONE):
            if isinstance(exc, psycopg.OperationalError):
                raise LedgerError(f"the ledger {self.shown} failed: {_reason(exc)}") from None
            raise exc
        if self._outage is None:
            self._outage = _Outage(time.monotonic(), _reason(exc))
            log.warning("the ledger %s is unreachable (%s): reconnecting", self.shown, _reason(exc))
        with suppress(psycopg.Error):
            conn.close()

    def _reconnect(self) -> Conn:
        """Open the connection again, backing off (with jitter, holding the lock so the other
        threads wait instead of reconnecting too) until the outage limit; past it, one try."""
        outage = self._outage
        if outage is None:  # broken without a statement noticing (not expected): say so too
            outage = self._outage = _Outage(time.monotonic(), "the connection broke")
            log.warning(
                "the ledger %s is unreachable (%s): reconnecting", self.shown, outage.reason
            )
        delay = BACKOFF_FIRST_S
        while True:
            left = outage.since + self.outage_limit - time.monotonic()
            try:
                conn = self._open(min(CONNECT_TIMEOUT_S, left))
                break
            except psycopg.OperationalError as exc:
                left = outage.since + self.outage_limit - time.monotonic()
                if left <= 0 or self._stop_waiting.is_set():
                    raise LedgerError(
                        f"the ledger {self.shown} has been unreachable for"
                        f" {_seconds(time.monotonic() - outage.since)} ({_reason(exc)}):"
                        " is the server running and reachable?"
                    ) from None
            self._stop_waiting.wait(min(left, delay * (0.5 + random.random())))  # jitter
            delay = min(delay * 2, BACKOFF_MAX_S)
        self._conn, self._outage = conn, None
        log.warning(
            "the ledger %s is back after %s", self.shown, _seconds(time.monotonic() - outage.since)
        )
        self._make_up_beats()
        return self._conn

    def stop_waiting(self) -> None:
        """The process is stopping: a call waiting for an unreachable ledger fails now, and
        later ones try once instead of waiting (else a stop during an outage waits out the
        limit). Not under the lock: the waiting thread holds it."""
        self._stop_waiting.set()

    def _again(self, work: Callable[[Conn], T]) -> T:
        """``work`` (one statement) on the connection; if the connection is gone, on a new one
        once the ledger is back. A statement whose commit was in flight may have taken effect:
        the lease-guarded writes then touch nothing and say LeaseLost."""
        with self._lock:
            for _ in range(RERUNS):
                conn = self._live()
                try:
                    return work(conn)
                except psycopg.Error as exc:
                    self._lost(conn, exc)
            raise self._flapping()

    def _flapping(self) -> LedgerError:
        return LedgerError(
            f"the ledger {self.shown} lost the connection {RERUNS} times in a row during one"
            " call: see the server's log"
        )

    # -- what SQLLedger needs ------------------------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[_Tx]:
        with self._lock:
            conn = self._again(_begin)  # a connection lost before it began: found again
            try:
                yield _Tx(conn)
                conn.execute("COMMIT")
            except BaseException as exc:
                _rollback(conn)
                if not isinstance(exc, psycopg.Error):
                    raise
                self._lost(conn, exc)
                raise LedgerError(
                    f"the ledger {self.shown} went away during a transaction ({_reason(exc)}):"
                    " try again"
                ) from None

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        def run(conn: Conn) -> list[dict[str, Any]]:
            cur = conn.execute(_pg(sql), args)
            return cur.fetchall() if cur.description else []

        return self._again(run)

    def _write(self, sql: str, args: Sequence[Any]) -> int:
        return self._again(lambda conn: conn.execute(_pg(sql), args).rowcount)

    def _claim(self, sql: str, args: Sequence[Any]) -> list[dict[str, Any]]:
        """The claim is whole in itself: cut off, it is run again once the ledger is back. If
        the cut came while its commit was on the way, the server says whether it took effect
        (then the rows are ours already, and claiming again would find none of them)."""
        with self._lock:
            for _ in range(RERUNS):
                conn = self._again(_begin)
                mark: dict[str, Any] | None = None
                rows: list[dict[str, Any]] = []
                try:
                    mark = conn.execute(
                        "SELECT pg_current_xact_id()::text AS xid, pg_backend_pid() AS pid,"
                        " pg_advisory_xact_lock(%s)::text AS locked",
                        (CLAIM_LOCK_KEY,),
                    ).fetchone()
                    rows = conn.execute(_pg(sql), args).fetchall()
                    conn.execute("COMMIT")
                    return rows
                except BaseException as exc:
                    _rollback(conn)
                    if not isinstance(exc, psycopg.Error):
                        raise
                    self._lost(conn, exc)
                if rows and mark is not None and self._committed(mark["xid"], mark["pid"]):
                    return rows
            raise self._flapping()

    def _committed(self, xid: str, pid: int) -> bool:
        """Whether transaction ``xid``, whose connection broke as it committed, took effect. If
        the server still has it open (the network failed, not the server), its session is ended
        first: it holds the claim lock and would otherwise wait for a client that is gone."""
        for _ in range(50):
            (row,) = self._rows(
                "SELECT pg_xact_status(?::xid8) AS status, pg_terminate_backend(a.pid) AS ended"
                " FROM (SELECT 1) one LEFT JOIN pg_stat_activity a"
                " ON a.pid = ? AND a.backend_xid = xid(?::xid8)",
                (xid, pid, xid),
            )
            if row["status"] != "in progress":
                return bool(row["status"] == "committed")
            time.sleep(0.1)
        raise LedgerError(f"the ledger {self.shown} cannot say whether a claim went through")

    # -- heartbeats, made up after an outage ---------------------------------------------------
    def heartbeat(
        self, worker: str, now: datetime, lease_until: datetime, *more: Any, **named: Any
    ) -> int:
        with self._lock:
            self._beats[worker] = (time.monotonic(), lease_until)
            return super().heartbeat(worker, now, lease_until, *more, **named)

    def leave(self, worker: str) -> None:
        with self._lock:
            self._beats.pop(worker, None)
        super().leave(worker)

    def _make_up_beats(self) -> None:
        """Right after an outage, before the call that found the ledger back: every claim of
        each worker that beats through this ledger lasts again as long as its last beat gave it,
        counted from now. A lease that ran out meanwhile is still the worker's unless another
        worker took it; one made after the last beat is renewed too. A claim no dispatcher works
        on any more gets this one lease more, then the beats leave it to expire."""
        for worker, (at, lease_until) in list(self._beats.items()):
            late = timedelta(seconds=time.monotonic() - at)
            self._write(
                "UPDATE deliveries SET lease_expires = ? WHERE state = 'claimed' AND lease_owner = ?",
                (iso(lease_until + late), worker),
            )

    # -- schema and import ---------------------------------------------------------------------
    def _statements(self, migration: Migration) -> tuple[str, ...]:
        return migration.postgres if migration.postgres is not None else migration.sqlite

    def _lock_migrations(self, db: Any) -> None:
        db.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATE_LOCK_KEY,))

    def _after_import(self, db: Any) -> None:
        for table in ("deliveries", "attempts", "snapshots", "inbox_items"):
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


def _begin(conn: Conn) -> Conn:
    conn.execute("BEGIN")
    return conn


def _rollback(conn: Conn) -> None:
    """Undo what a failed transaction did, if its connection can still say so."""
    if not conn.closed:
        with suppress(psycopg.Error):
            conn.execute("ROLLBACK")


def _seconds(elapsed: float) -> str:
    return f"{round(elapsed)} s" if elapsed >= 1 else "less than a second"


def _reason(exc: psycopg.Error) -> str:
    """The server's or libpq's own words, first line only (they never carry the password)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
