"""The ledger's logic in SQL, shared by the SQLite and PostgreSQL backends.

Each backend supplies a connection and its dialect (:class:`SQLLedger`'s few abstract methods);
everything else (the state machine, claims, leases, attempts, sync, export and import) is written
once here, in SQL both understand (``?`` placeholders; PostgreSQL's backend translates them).

Writes on the publishing hot path are single statements guarded by the lease (``WHERE state =
'claimed' AND lease_owner = ?``): atomic on their own, and a lost claim shows as no row touched.
Schema changes are the numbered migrations in :mod:`eduadvocate.ledger.schema`, each applied in
its own transaction and recorded in ``schema_migrations``.
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, Protocol

from eduadvocate.core.counts import COUNT_FIELDS, Counts
from eduadvocate.ledger.base import (
    ALREADY_OUT,
    ANSWERED_BY,
    FINAL,
    NO_ANSWER_KINDS,
    REMOVED,
    REMOVED_MESSAGE,
    AttemptRow,
    ClaimRow,
    Delivery,
    Desired,
    InboxGroup,
    InboxItem,
    InboxRow,
    LeaseLost,
    Ledger,
    LedgerError,
    PartRow,
    Snapshot,
    State,
    SyncReport,
    WorkerRow,
    iso,
    parse_iso,
)
from eduadvocate.ledger.schema import EXPORTED_TABLES, MIGRATIONS, Migration

Row = Any  # sqlite3.Row or psycopg's dict row: both are read by column name
WITHDRAW_MARGIN = timedelta(minutes=2)


class Tx(Protocol):
    """What a transaction offers: ``execute`` returning a cursor (fetchone, fetchall, rowcount)."""

    def execute(self, sql: str, args: Sequence[Any] = ..., /) -> Any: ...


class SQLLedger(Ledger):
    """The ledger over a SQL connection; subclasses give the connection and the dialect."""

    _lock: threading.RLock  # guards the connection; the subclass makes it
    GREATEST = "MAX"  # the two-argument maximum: MAX in SQLite, GREATEST in PostgreSQL
    # Deliveries ``d`` that may be claimed; parameters: now, due by, now, now.
    _CLAIMABLE = (
        "LEFT JOIN account_holds h ON h.account = d.account AND h.until > ?"
        " WHERE h.account IS NULL AND d.due_at <= ? AND ("
        "   (d.state = 'pending' AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?))"
        "   OR (d.state = 'claimed' AND d.lease_expires <= ?))"
    )
    LEAST = "MIN"
    CLAIM_LOCK = ""  # row locking for the claim's selection (PostgreSQL: FOR UPDATE SKIP LOCKED)

    # -- what a backend provides -----------------------------------------------------------------
    @abstractmethod
    def _tx(self) -> AbstractContextManager[Tx]:
        """One transaction that takes the write lock at once (rolled back on an exception)."""

    @abstractmethod
    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """One statement outside any explicit transaction; its rows."""

    @abstractmethod
    def _write(self, sql: str, args: Sequence[Any]) -> int:
        """One statement in its own transaction; the number of rows it touched. The write lock
        is held for that statement only (never while the thread waits for the GIL)."""

    @abstractmethod
    def _claim(self, sql: str, args: Sequence[Any]) -> list[Row]:
        """Run the claim statement (an UPDATE … RETURNING) so no two workers claim at once."""

    @abstractmethod
    def _statements(self, migration: Migration) -> tuple[str, ...]: ...

    def _lock_migrations(self, db: Tx) -> None:
        """Inside a migration's transaction: keep other processes from migrating at once."""

    def _after_import(self, db: Tx) -> None:
        """After rows were imported with their ids: let new rows continue after them."""

    # -- schema ----------------------------------------------------------------------------------
    def migrate(self) -> list[int]:
        """Apply every pending migration in one transaction, under a lock: another process
        sees the schema as it was or as it is after all of them, never half-way."""
        applied = []
        with self._tx() as db:
            self._lock_migrations(db)
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            done = {
                r["version"] for r in db.execute("SELECT version FROM schema_migrations").fetchall()
            }
            for migration in MIGRATIONS:
                if migration.version in done:
                    continue
                for statement in self._statements(migration):
                    db.execute(statement)
                db.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, iso(datetime.now().astimezone())),
                )
                applied.append(migration.version)
        return applied

    @abstractmethod
    def _has_schema(self) -> bool:
        """Whether ``schema_migrations`` exists (a ledger never migrated has none)."""

    def schema_version(self) -> int:
        if not self._has_schema():
            return 0
        rows = self._rows("SELECT MAX(version) AS v FROM schema_migrations")
        return int(rows[0]["v"] or 0)

    # -- desired state -----------------------------------------------------------------------------
    def fix_now(self, post_id: str, now: datetime) -> datetime:
        with self._tx() as db:
            db.execute(
                "INSERT INTO now_posts (post_id, fixed_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (post_id, iso(now.replace(microsecond=0))),
            )
            row = db.execute(
                "SELECT fixed_at FROM now_posts WHERE post_id = ?", (post_id,)
            ).fetchone()
        return parse_iso(row["fixed_at"])

    def sync(
        self,
        desired: list[Desired],
        now: datetime,
        *,
        until: datetime | None = None,
        scope: set[str] | None = None,
        keep: Callable[[str, str], bool] | None = None,
    ) -> SyncReport:
        report = SyncReport()
        wanted = {d.key: d for d in desired}
        stamp = iso(now)
        # A post waiting in the platform's scheduler this close to going live is left alone:
        # deleting it there would race the platform.
        waiting_after = iso(now + WITHDRAW_MARGIN)
        with self._tx() as db:
            existing = {
                r["key"]: r
                for r in db.execute(
                    "SELECT id, key, post_id, state, content_hash, published_hash, account, due_at,"
                    " error_kind, last_error, scheduled_for FROM deliveries"
                )
            }
            # One-shot posts that went out (or are going out) already, at whatever time.
            out_once = {
                (r["post_id"], r["account"]): key
                for key, r in existing.items()
                if r["state"] in _OUT and not _waiting(r, waiting_after)
            }
            # In key order, so workers syncing the same files at once take row locks in one order.
            for key, d in sorted(wanted.items()):
                row = existing.get(key)
                went = out_once.get((d.post_id, d.account))
                if not d.repeats and went is not None and went != key:
                    # Its time was edited after it went out: not again. Recorded as cancelled
                    # (once: reported as drift like an edit after publishing, then quiet).
                    if row is None or row["error_kind"] != ALREADY_OUT:
                        self._already_out(db, d, row, went, stamp)
                        report.drifted.append(key)
                    continue
                if row is None:
                    added = db.execute(
                        "INSERT INTO deliveries (key, post_id, account, platform, due_at, state, content_hash, attempts, created_at, updated_at)"
                        " VALUES (?, ?, ?, ?, ?, 'pending', ?, 0, ?, ?) ON CONFLICT (key) DO NOTHING",
                        (
                            key,
                            d.post_id,
                            d.account,
                            d.platform,
                            iso(d.due_at),
                            d.content_hash,
                            stamp,
                            stamp,
                        ),
                    )
                    if added.rowcount:  # else another worker added it a moment ago
                        report.added.append(key)
                    continue
                if row["state"] == State.CANCELLED and _removed(row):
                    # Cancelled because the post had left the files: it is back.
                    db.execute(
                        "UPDATE deliveries SET state = 'pending', content_hash = ?, next_attempt_at = NULL,"
                        " last_error = NULL, error_kind = NULL, updated_at = ? WHERE id = ? AND state = 'cancelled'",
                        (d.content_hash, stamp, row["id"]),
                    )
                    report.reinstated.append(key)
                    continue
                if row["content_hash"] == d.content_hash:
                    continue
                if _waiting(row, waiting_after):  # edited while in the platform's scheduler
                    report.withdraw.append(row["id"])
                    continue
                db.execute(
                    "UPDATE deliveries SET content_hash = ?, updated_at = ? WHERE key = ?",
                    (d.content_hash, stamp, key),
                )
                if row["state"] == State.PUBLISHED:
                    report.drifted.append(key)
                elif row["state"] not in FINAL:
                    report.changed.append(key)
            for key, row in existing.items():
                if key in wanted or row["state"] not in (State.PENDING, State.PUBLISHED):
                    continue
                if scope is not None and row["account"] not in scope:
                    continue
                if until is not None and row["due_at"] > iso(until):
                    continue
                if keep is not None and keep(row["post_id"], row["account"]):
                    continue
                if row["state"] == State.PUBLISHED:
                    if _waiting(row, waiting_after):  # moved or removed: delete it there first
                        report.withdraw.append(row["id"])
                    continue
                db.execute(
                    "UPDATE deliveries SET state = 'cancelled', last_error = ?, error_kind = ?, updated_at = ?"
                    " WHERE key = ? AND state = 'pending'",
                    (REMOVED_MESSAGE, REMOVED, stamp, key),
                )
                report.cancelled.append(key)
        report.withdraw.sort()
        return report

    def _already_out(self, db: Tx, d: Desired, row: Row | None, went: str, stamp: str) -> None:
        reason = (
            f"it went out at another time already ({went.rpartition('|')[2]}):"
            " edited after publishing, not re-posted"
        )
        if row is None:
            db.execute(
                "INSERT INTO deliveries (key, post_id, account, platform, due_at, state, content_hash, attempts,"
                " last_error, error_kind, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 'cancelled', ?, 0, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                (
                    d.key,
                    d.post_id,
                    d.account,
                    d.platform,
                    iso(d.due_at),
                    d.content_hash,
                    reason,
                    ALREADY_OUT,
                    stamp,
                    stamp,
                ),
            )
        elif row["state"] in (State.PENDING, State.CANCELLED):
            db.execute(
                "UPDATE deliveries SET state = 'cancelled', last_error = ?, error_kind = ?, updated_at = ?"
                " WHERE id = ? AND state IN ('pending', 'cancelled')",
                (reason, ALREADY_OUT, stamp, row["id"]),
            )

    def mark_skipped(self, keys: list[str], now: datetime, reason: str) -> list[str]:
        done = []
        with self._tx() as db:
            for key in keys:
                cur = db.execute(
                    "UPDATE deliveries SET state = 'skipped', last_error = ?, updated_at = ?"
                    " WHERE key = ? AND state = 'pending'",
                    (reason, iso(now), key),
                )
                if cur.rowcount:
                    done.append(key)
        return done

    # -- work --------------------------------------------------------------------------------------
    def claim_due(
        self,
        worker: str,
        now: datetime,
        lease: timedelta,
        *,
        limit: int = 100,
        accounts: set[str] | None = None,
        due_by: datetime | None = None,
        exclude_posts: Collection[str] = (),
    ) -> list[Delivery]:
        stamp, expires = iso(now), iso(now + lease)
        horizon = iso(due_by or now)
        only = ""
        args: list[Any] = [worker, expires, stamp, stamp, horizon, stamp, stamp, worker, stamp]
        if accounts is not None:
            only = f" AND d.account IN ({','.join('?' * len(accounts))})"
            args += sorted(accounts)
        if exclude_posts:
            only += f" AND d.post_id NOT IN ({','.join('?' * len(exclude_posts))})"
            args += sorted(exclude_posts)
        # Chosen and claimed in one statement. An account another live worker holds claims of is
        # left to that worker, so one account's posts still go out one at a time, in order.
        claimed = self._claim(
            "UPDATE deliveries SET state = 'claimed', lease_owner = ?, lease_expires = ?, attempts = attempts + 1, updated_at = ?"
            f" WHERE id IN (SELECT d.id FROM deliveries d {self._CLAIMABLE}"
            " AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.account = d.account AND o.state = 'claimed'"
            "   AND o.lease_owner <> ? AND o.lease_expires > ?)"
            + only
            + f" ORDER BY d.due_at, d.id LIMIT ?{self.CLAIM_LOCK}) RETURNING id, due_at",
            (*args, limit),
        )
        ids = [r["id"] for r in sorted(claimed, key=lambda r: (r["due_at"], r["id"]))]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        found = {
            r["id"]: r for r in self._rows(f"SELECT * FROM deliveries WHERE id IN ({marks})", ids)
        }
        parts = self._parts(ids)
        return [self._delivery(found[i], parts.get(i, ())) for i in ids if i in found]

    def due_accounts(self, now: datetime) -> list[str]:
        stamp = iso(now)
        rows = self._rows(
            "SELECT d.account, MIN(d.due_at) AS oldest FROM deliveries d"
            f" {self._CLAIMABLE} GROUP BY d.account ORDER BY oldest, d.account",
            (stamp, stamp, stamp, stamp),
        )
        return [r["account"] for r in rows]

    def renew(self, delivery_id: int, worker: str, until: datetime) -> None:
        touched = self._write(
            "UPDATE deliveries SET lease_expires = ? WHERE id = ? AND state = 'claimed' AND lease_owner = ?",
            (iso(until), delivery_id, worker),
        )
        _held(touched, delivery_id, worker)

    def begin_attempt(
        self,
        delivery_id: int,
        part_index: int,
        worker: str,
        idempotency_key: str,
        now: datetime,
        lease_until: datetime | None = None,
    ) -> int:
        with self._lock:  # one turn at the connection for both statements
            # The lease must still run (else another worker may take the delivery over and
            # reconcile while this call is in flight), and it is extended for the call.
            touched = self._write(
                "UPDATE deliveries SET lease_expires = COALESCE(?, lease_expires)"
                " WHERE id = ? AND state = 'claimed' AND lease_owner = ? AND lease_expires > ?",
                (iso(lease_until) if lease_until else None, delivery_id, worker, iso(now)),
            )
            _held(touched, delivery_id, worker)
            rows = self._rows(
                "INSERT INTO attempts (delivery_id, part_index, worker, idempotency_key, started_at)"
                " SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM deliveries WHERE id = ? AND state = 'claimed' AND lease_owner = ?)"
                " RETURNING id",
                (delivery_id, part_index, worker, idempotency_key, iso(now), delivery_id, worker),
            )
        _held(len(rows), delivery_id, worker)
        return int(rows[0]["id"])

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
        # One turn at the connection: other threads of this process wait once, not thrice.
        with self._lock:
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

    def finish_attempt(
        self, attempt_id: int, outcome: str, now: datetime, error: str | None = None
    ) -> None:
        self._write(
            "UPDATE attempts SET outcome = ?, error = ?, finished_at = ? WHERE id = ?",
            (outcome, error, iso(now), attempt_id),
        )

    def record_part(
        self, delivery_id: int, index: int, remote_id: str, url: str | None, now: datetime
    ) -> None:
        self._write(
            "INSERT INTO parts (delivery_id, part_index, remote_id, url, published_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (delivery_id, part_index) DO UPDATE SET remote_id = excluded.remote_id, url = excluded.url",
            (delivery_id, index, remote_id, url, iso(now)),
        )

    def finish(
        self,
        delivery_id: int,
        worker: str,
        state: State,
        now: datetime,
        *,
        error: str | None = None,
        error_kind: str | None = None,
        published_hash: str | None = None,
        scheduled_for: datetime | None = None,
    ) -> None:
        touched = self._write(
            "UPDATE deliveries SET state = ?, lease_owner = NULL, lease_expires = NULL, last_error = ?, error_kind = ?,"
            " published_hash = COALESCE(?, published_hash), scheduled_for = COALESCE(?, scheduled_for),"
            " next_attempt_at = NULL, updated_at = ? WHERE id = ? AND state = 'claimed' AND lease_owner = ?",
            (
                str(state),
                error,
                error_kind,
                published_hash,
                iso(scheduled_for) if scheduled_for is not None else None,
                iso(now),
                delivery_id,
                worker,
            ),
        )
        _held(touched, delivery_id, worker)

    def release(
        self,
        delivery_id: int,
        worker: str,
        next_attempt_at: datetime,
        now: datetime,
        *,
        error: str,
        error_kind: str,
    ) -> None:
        touched = self._write(
            "UPDATE deliveries SET state = 'pending', lease_owner = NULL, lease_expires = NULL, next_attempt_at = ?,"
            " last_error = ?, error_kind = ?, updated_at = ? WHERE id = ? AND state = 'claimed' AND lease_owner = ?",
            (iso(next_attempt_at), error, error_kind, iso(now), delivery_id, worker),
        )
        _held(touched, delivery_id, worker)

    def warn(self, delivery_id: int, warning: str) -> None:
        self._write("UPDATE deliveries SET warning = ? WHERE id = ?", (warning, delivery_id))

    def unschedule(self, delivery_id: int, now: datetime, *, cancel: bool) -> bool:
        stamp = iso(now)
        with self._tx() as db:
            changed = db.execute(
                "UPDATE deliveries SET state = ?, published_hash = NULL, scheduled_for = NULL,"
                " last_error = ?, error_kind = ?, next_attempt_at = NULL, updated_at = ?"
                " WHERE id = ? AND state = 'published' AND scheduled_for > ?",
                (
                    State.CANCELLED if cancel else State.PENDING,
                    REMOVED_MESSAGE if cancel else None,
                    REMOVED if cancel else None,
                    stamp,
                    delivery_id,
                    stamp,
                ),
            ).rowcount
            if changed:
                db.execute("DELETE FROM parts WHERE delivery_id = ?", (delivery_id,))
        return bool(changed)

    def open_attempts(self, delivery_id: int) -> list[AttemptRow]:
        return [
            _attempt(r)
            for r in self._rows(
                "SELECT * FROM attempts WHERE delivery_id = ? AND outcome IS NULL ORDER BY id",
                (delivery_id,),
            )
        ]

    # -- reading and user actions ------------------------------------------------------------------
    def get(self, delivery_id: int) -> Delivery | None:
        rows = self._rows("SELECT * FROM deliveries WHERE id = ?", (delivery_id,))
        return self._delivery(rows[0]) if rows else None

    def deliveries(
        self, *, post_id: str | None = None, state: State | None = None, account: str | None = None
    ) -> list[Delivery]:
        sql = "SELECT * FROM deliveries WHERE 1 = 1"
        args: list[Any] = []
        for column, value in (("post_id", post_id), ("state", state), ("account", account)):
            if value is not None:
                sql += f" AND {column} = ?"
                args.append(str(value))
        rows = self._rows(sql + " ORDER BY due_at, post_id, account", args)
        parts = self._parts([r["id"] for r in rows])
        return [self._delivery(r, parts.get(r["id"], ())) for r in rows]

    def attempts(self, delivery_id: int) -> list[AttemptRow]:
        return [
            _attempt(r)
            for r in self._rows(
                "SELECT * FROM attempts WHERE delivery_id = ? ORDER BY id", (delivery_id,)
            )
        ]

    def retry(self, delivery_id: int, now: datetime) -> Delivery:
        with self._tx() as db:
            row = db.execute("SELECT state FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
            if row is None:
                raise LedgerError(f"no delivery {delivery_id}")
            if row["state"] not in (State.FAILED, State.UNKNOWN, State.SKIPPED, State.CANCELLED):
                raise LedgerError(
                    f"delivery {delivery_id} is {row['state']}: only failed, unknown, skipped or cancelled ones can be retried"
                )
            db.execute(
                f"UPDATE deliveries SET state = 'pending', next_attempt_at = NULL, updated_at = ?, due_at = {self.LEAST}(due_at, ?) WHERE id = ?",
                (iso(now), iso(now), delivery_id),
            )
        result = self.get(delivery_id)
        assert result is not None
        return result

    def cancel(
        self, delivery_id: int, now: datetime, reason: str = "cancelled by the user"
    ) -> Delivery:
        with self._tx() as db:
            row = db.execute(
                "SELECT state, scheduled_for FROM deliveries WHERE id = ?", (delivery_id,)
            ).fetchone()
            if row is None:
                raise LedgerError(f"no delivery {delivery_id}")
            waiting = row["state"] == State.PUBLISHED and (row["scheduled_for"] or "") > iso(now)
            if (
                row["state"] not in (State.PENDING, State.FAILED, State.UNKNOWN, State.SKIPPED)
                and not waiting
            ):
                raise LedgerError(
                    f"delivery {delivery_id} is {row['state']} and cannot be cancelled"
                )
            db.execute(
                "UPDATE deliveries SET state = 'cancelled', last_error = ?, error_kind = 'cancelled', updated_at = ? WHERE id = ?",
                (reason, iso(now), delivery_id),
            )
        result = self.get(delivery_id)
        assert result is not None
        return result

    # -- quotas ------------------------------------------------------------------------------------
    def defer_account(self, account: str, until: datetime, reason: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO account_holds (account, until, reason) VALUES (?, ?, ?)"
                f" ON CONFLICT (account) DO UPDATE SET until = {self.GREATEST}(account_holds.until, excluded.until), reason = excluded.reason",
                (account, iso(until), reason),
            )

    def account_deferred_until(self, account: str, now: datetime) -> datetime | None:
        rows = self._rows(
            "SELECT until FROM account_holds WHERE account = ? AND until > ?", (account, iso(now))
        )
        return parse_iso(rows[0]["until"]) if rows else None

    def count_published_since(self, account: str, since: datetime) -> int:
        rows = self._rows(
            "SELECT COUNT(*) AS n FROM parts p JOIN deliveries d ON d.id = p.delivery_id WHERE d.account = ? AND p.published_at >= ?",
            (account, iso(since)),
        )
        return int(rows[0]["n"])

    # -- workers ---------------------------------------------------------------------------------
    def heartbeat(
        self, worker: str, now: datetime, lease_until: datetime, held: Collection[int]
    ) -> int:
        stamp = iso(now)
        self._write(
            "INSERT INTO workers (id, started_at, last_seen) VALUES (?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen",
            (worker, stamp, stamp),
        )
        ids = sorted(held)
        renewed = 0
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            renewed += self._write(
                "UPDATE deliveries SET lease_expires = ? WHERE state = 'claimed' AND lease_owner = ?"
                f" AND id IN ({','.join('?' * len(chunk))})",
                (iso(lease_until), worker, *chunk),
            )
        return renewed

    def claims(self) -> list[ClaimRow]:
        rows = self._rows(
            "SELECT d.lease_owner AS worker, COUNT(*) AS n, MIN(d.lease_expires) AS expires,"
            " MIN(w.started_at) AS started FROM deliveries d LEFT JOIN workers w ON w.id = d.lease_owner"
            " WHERE d.state = 'claimed' GROUP BY d.lease_owner ORDER BY d.lease_owner"
        )
        return [
            ClaimRow(
                r["worker"],
                int(r["n"]),
                parse_iso(r["expires"]),
                parse_iso(r["started"]) if r["started"] else None,
            )
            for r in rows
        ]

    def expire_claims(self, worker: str, now: datetime) -> int:
        return self._write(
            "UPDATE deliveries SET lease_expires = ? WHERE state = 'claimed' AND lease_owner = ? AND lease_expires > ?",
            (iso(now), worker, iso(now)),
        )

    def leave(self, worker: str) -> None:
        self._write("DELETE FROM workers WHERE id = ?", (worker,))

    def workers(self) -> list[WorkerRow]:
        rows = self._rows(
            "SELECT w.id, w.started_at, w.last_seen, COUNT(d.id) AS claims FROM workers w"
            " LEFT JOIN deliveries d ON d.lease_owner = w.id AND d.state = 'claimed'"
            " GROUP BY w.id, w.started_at, w.last_seen ORDER BY w.id"
        )
        return [
            WorkerRow(
                r["id"], parse_iso(r["started_at"]), parse_iso(r["last_seen"]), int(r["claims"])
            )
            for r in rows
        ]

    def take_lease(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        taken = self._write(
            "INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until"
            " WHERE leases.until <= ? OR leases.holder = excluded.holder",
            (name, holder, iso(until), iso(now)),
        )
        return taken == 1

    def drop_lease(self, name: str, holder: str) -> None:
        self._write("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    # -- engagement ------------------------------------------------------------------------------
    def add_snapshots(self, snapshots: list[Snapshot]) -> None:
        with self._tx() as db:
            for snap in snapshots:
                c = snap.counts
                db.execute(
                    f"INSERT INTO snapshots (delivery_id, part_index, taken_at, {', '.join(COUNT_FIELDS)})"
                    f" VALUES (?, ?, ?, {', '.join('?' * len(COUNT_FIELDS))})",
                    (
                        snap.delivery_id,
                        snap.part_index,
                        iso(snap.taken_at),
                        *(getattr(c, name) for name in COUNT_FIELDS),
                    ),
                )

    def snapshots(self, *, since: datetime | None = None) -> list[Snapshot]:
        rows = self._rows(
            "SELECT * FROM snapshots WHERE taken_at >= ? ORDER BY taken_at, id",
            (iso(since) if since else "",),
        )
        return [
            Snapshot(
                r["delivery_id"],
                r["part_index"],
                parse_iso(r["taken_at"]),
                Counts(**{name: r[name] for name in COUNT_FIELDS}),
            )
            for r in rows
        ]

    def last_snapshot_at(self) -> dict[int, datetime]:
        rows = self._rows(
            "SELECT delivery_id, MAX(taken_at) AS latest FROM snapshots GROUP BY delivery_id"
        )
        return {r["delivery_id"]: parse_iso(r["latest"]) for r in rows}

    def refuse_metrics(self, account: str, reason: str, now: datetime) -> None:
        self._write(
            "INSERT INTO metrics_refusals (account, reason, since) VALUES (?, ?, ?)"
            " ON CONFLICT (account) DO UPDATE SET reason = excluded.reason",
            (account, reason, iso(now)),
        )

    def metrics_refusals(self) -> dict[str, tuple[str, datetime]]:
        rows = self._rows("SELECT account, reason, since FROM metrics_refusals")
        return {r["account"]: (r["reason"], parse_iso(r["since"])) for r in rows}

    def clear_metrics_refusals(self, accounts: set[str] | None = None) -> None:
        if accounts is None:
            self._write("DELETE FROM metrics_refusals", ())
            return
        for account in sorted(accounts):
            self._write("DELETE FROM metrics_refusals WHERE account = ?", (account,))

    # -- the inbox ---------------------------------------------------------------------------------
    def add_inbox_page(
        self,
        items: list[InboxItem],
        now: datetime,
        *,
        account: str,
        source: str,
        cursor: str | None,
    ) -> list[InboxItem]:
        added = []
        with self._tx() as db:
            for it in items:
                cur = db.execute(
                    "INSERT INTO inbox_items (platform, account, remote_id, kind, author_handle,"
                    " author_name, author_url, text, url, created_at, answers_remote_id,"
                    " delivery_id, part_index, pulled_at, handled_at, handled_by)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (platform, account, remote_id) DO NOTHING",
                    (
                        it.platform,
                        it.account,
                        it.remote_id,
                        it.kind,
                        it.author_handle,
                        it.author_name,
                        it.author_url,
                        it.text,
                        it.url,
                        iso(it.created_at),
                        it.answers_remote_id,
                        it.delivery_id,
                        it.part_index,
                        iso(now),
                        *((iso(now), ANSWERED_BY) if it.kind in NO_ANSWER_KINDS else (None, None)),
                    ),
                )
                if cur.rowcount == 1:
                    added.append(it)
            db.execute(
                "INSERT INTO inbox_cursors (account, source, cursor, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (account, source) DO UPDATE SET cursor = excluded.cursor,"
                " updated_at = excluded.updated_at",
                (account, source, cursor, iso(now)),
            )
        return added

    def inbox_cursor(self, account: str, source: str) -> str | None:
        rows = self._rows(
            "SELECT cursor FROM inbox_cursors WHERE account = ? AND source = ?", (account, source)
        )
        return rows[0]["cursor"] if rows else None

    def inbox(
        self,
        *,
        account: str | None = None,
        platform: str | None = None,
        unhandled: bool = False,
        since: datetime | None = None,
    ) -> list[InboxRow]:
        where, args = _inbox_filter(account, platform, unhandled, since)
        rows = self._rows(
            f"SELECT * FROM inbox_items WHERE {where} ORDER BY created_at DESC, id DESC", args
        )
        return [_inbox_row(r) for r in rows]

    def inbox_groups(
        self,
        *,
        account: str | None = None,
        platform: str | None = None,
        unhandled: bool = False,
        since: datetime | None = None,
    ) -> list[InboxGroup]:
        where, args = _inbox_filter(account, platform, unhandled, since)
        rows = self._rows(
            "SELECT delivery_id, COUNT(*) AS items,"
            " SUM(CASE WHEN handled_at IS NULL THEN 1 ELSE 0 END) AS waiting,"
            f" MAX(created_at) AS newest FROM inbox_items WHERE {where} GROUP BY delivery_id",
            args,
        )
        return [
            InboxGroup(r["delivery_id"], int(r["items"]), int(r["waiting"]), parse_iso(r["newest"]))
            for r in rows
        ]

    def inbox_answering(
        self,
        delivery_id: int | None,
        limit: int,
        *,
        account: str | None = None,
        platform: str | None = None,
        unhandled: bool = False,
        since: datetime | None = None,
    ) -> list[InboxRow]:
        where, args = _inbox_filter(account, platform, unhandled, since)
        if delivery_id is None:
            where += " AND delivery_id IS NULL"
        else:
            where += " AND delivery_id = ?"
            args.append(delivery_id)
        rows = self._rows(
            f"SELECT * FROM inbox_items WHERE {where}"
            " ORDER BY CASE WHEN handled_at IS NULL THEN 0 ELSE 1 END, created_at DESC, id DESC"
            " LIMIT ?",
            [*args, limit],
        )
        return [_inbox_row(r) for r in rows]

    def inbox_item(self, item_id: int) -> InboxRow | None:
        rows = self._rows("SELECT * FROM inbox_items WHERE id = ?", (item_id,))
        return _inbox_row(rows[0]) if rows else None

    def mark_handled(self, item_ids: Collection[int], now: datetime, by: str) -> list[int]:
        found = []
        with self._tx() as db:
            for item_id in sorted(set(item_ids)):
                if db.execute("SELECT id FROM inbox_items WHERE id = ?", (item_id,)).fetchone():
                    found.append(item_id)
                    db.execute(
                        "UPDATE inbox_items SET handled_at = ?, handled_by = ?"
                        " WHERE id = ? AND handled_at IS NULL",
                        (iso(now), by, item_id),
                    )
        return found

    def mark_answered(self, account: str, target: str, now: datetime, by: str) -> list[int]:
        with self._tx() as db:
            rows = db.execute(
                "SELECT id FROM inbox_items WHERE account = ? AND (url = ? OR remote_id = ?)"
                " AND handled_at IS NULL ORDER BY id",
                (account, target, target),
            ).fetchall()
            ids = [int(r["id"]) for r in rows]
            for item_id in ids:
                db.execute(
                    "UPDATE inbox_items SET handled_at = ?, handled_by = ?"
                    " WHERE id = ? AND handled_at IS NULL",
                    (iso(now), by, item_id),
                )
        return ids

    # -- moving a campaign between ledgers -----------------------------------------------------------
    def export_rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for table, order in EXPORTED_TABLES:
            for r in self._rows(f"SELECT * FROM {table} ORDER BY {order}"):
                yield table, dict(r)

    def import_rows(self, rows: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, int]:
        counts = {table: 0 for table, _ in EXPORTED_TABLES}
        with self._tx() as db:
            if db.execute("SELECT id FROM deliveries LIMIT 1").fetchone() is not None:
                raise LedgerError(
                    "this ledger already holds deliveries: import only into a new, empty ledger"
                )
            columns: dict[str, list[str]] = {}
            for table, row in rows:
                if table not in counts:
                    raise LedgerError(f'unknown table "{table}" in the export')
                known = columns.get(table)
                if known is None:
                    probe = db.execute(f"SELECT * FROM {table} LIMIT 0")
                    known = columns[table] = [c[0] for c in probe.description]
                names = [c for c in row if c in known]
                db.execute(
                    f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                    [row[c] for c in names],
                )
                counts[table] += 1
            self._after_import(db)
        return counts

    # -- rows --------------------------------------------------------------------------------------
    def _parts(self, ids: list[int]) -> dict[int, tuple[PartRow, ...]]:
        out: dict[int, list[PartRow]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self._rows(
                f"SELECT * FROM parts WHERE delivery_id IN ({marks}) ORDER BY part_index", chunk
            ):
                out.setdefault(r["delivery_id"], []).append(
                    PartRow(r["part_index"], r["remote_id"], r["url"], parse_iso(r["published_at"]))
                )
        return {k: tuple(v) for k, v in out.items()}

    def _delivery(self, r: Row, parts: tuple[PartRow, ...] | None = None) -> Delivery:
        if parts is None:
            parts = self._parts([r["id"]]).get(r["id"], ())
        return Delivery(
            id=r["id"],
            key=r["key"],
            post_id=r["post_id"],
            account=r["account"],
            platform=r["platform"],
            due_at=parse_iso(r["due_at"]),
            state=State(r["state"]),
            content_hash=r["content_hash"],
            published_hash=r["published_hash"],
            lease_owner=r["lease_owner"],
            lease_expires=parse_iso(r["lease_expires"]) if r["lease_expires"] else None,
            attempts=r["attempts"],
            next_attempt_at=parse_iso(r["next_attempt_at"]) if r["next_attempt_at"] else None,
            last_error=r["last_error"],
            error_kind=r["error_kind"],
            updated_at=parse_iso(r["updated_at"]),
            parts=parts,
            scheduled_for=parse_iso(r["scheduled_for"]) if r["scheduled_for"] else None,
            warning=r["warning"],
        )


def _attempt(r: Row) -> AttemptRow:
    return AttemptRow(
        id=r["id"],
        delivery_id=r["delivery_id"],
        part_index=r["part_index"],
        worker=r["worker"],
        idempotency_key=r["idempotency_key"],
        started_at=parse_iso(r["started_at"]),
        finished_at=parse_iso(r["finished_at"]) if r["finished_at"] else None,
        outcome=r["outcome"],
        error=r["error"],
    )


def _inbox_filter(
    account: str | None, platform: str | None, unhandled: bool, since: datetime | None
) -> tuple[str, list[Any]]:
    """The WHERE clause (and its arguments) of the inbox listing's filters."""
    where, args = ["1 = 1"], []
    if account is not None:
        where.append("account = ?")
        args.append(account)
    if platform is not None:
        where.append("platform = ?")
        args.append(platform)
    if unhandled:
        where.append("handled_at IS NULL")
    if since is not None:
        where.append("created_at >= ?")
        args.append(iso(since))
    return " AND ".join(where), args


def _inbox_row(r: Row) -> InboxRow:
    item = InboxItem(
        platform=r["platform"],
        account=r["account"],
        remote_id=r["remote_id"],
        kind=r["kind"],
        author_handle=r["author_handle"],
        author_name=r["author_name"],
        author_url=r["author_url"],
        text=r["text"],
        url=r["url"],
        created_at=parse_iso(r["created_at"]),
        answers_remote_id=r["answers_remote_id"],
        delivery_id=r["delivery_id"],
        part_index=r["part_index"],
    )
    return InboxRow(
        id=r["id"],
        item=item,
        pulled_at=parse_iso(r["pulled_at"]),
        handled_at=parse_iso(r["handled_at"]) if r["handled_at"] else None,
        handled_by=r["handled_by"],
    )


_OUT = frozenset({State.PUBLISHED, State.CLAIMED, State.UNKNOWN})  # out, going out, maybe out


def _removed(row: Row) -> bool:
    """Cancelled because the post left the files (not by a person): undone when it is back.
    Ledgers from before ``error_kind`` was set for this say it in ``last_error`` only."""
    return bool(
        row["error_kind"] == REMOVED
        or (
            row["error_kind"] is None and row["last_error"] == "the post was removed or rescheduled"
        )
    )


def _waiting(row: Row, after: str) -> bool:
    """Handed to the platform's own scheduler, and not going live in the next moments."""
    return bool(row["state"] == State.PUBLISHED and (row["scheduled_for"] or "") > after)


def _held(touched: int, delivery_id: int, worker: str) -> None:
    """A write guarded by ``state = 'claimed' AND lease_owner = worker`` touched nothing: the
    claim is gone (expired and taken over, or cancelled)."""
    if touched != 1:
        raise LeaseLost(f"delivery {delivery_id} is no longer claimed by {worker}")
