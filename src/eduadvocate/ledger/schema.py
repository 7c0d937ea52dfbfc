"""The ledger's numbered migrations. Never edit one that has shipped: add the next number.

Instants are stored as fixed-width UTC ISO text (``2026-12-04T00:00:00.000000Z``), so ordering
and comparison are the same in every backend.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sqlite: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "deliveries, parts, attempts",
        (
            """CREATE TABLE deliveries (
                id INTEGER PRIMARY KEY,
                key TEXT NOT NULL UNIQUE,
                post_id TEXT NOT NULL,
                account TEXT NOT NULL,
                platform TEXT NOT NULL,
                due_at TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'claimed', 'published', 'failed', 'unknown', 'skipped', 'cancelled')),
                content_hash TEXT NOT NULL,
                published_hash TEXT,
                lease_owner TEXT,
                lease_expires TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at TEXT,
                last_error TEXT,
                error_kind TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            "CREATE INDEX deliveries_due ON deliveries (state, due_at)",
            "CREATE INDEX deliveries_post ON deliveries (post_id)",
            """CREATE TABLE parts (
                delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
                part_index INTEGER NOT NULL,
                remote_id TEXT NOT NULL,
                url TEXT,
                published_at TEXT NOT NULL,
                PRIMARY KEY (delivery_id, part_index)
            )""",
            """CREATE TABLE attempts (
                id INTEGER PRIMARY KEY,
                delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
                part_index INTEGER NOT NULL,
                worker TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                started_at TEXT NOT NULL,
                finished_at TEXT,
                outcome TEXT,
                error TEXT
            )""",
            "CREATE INDEX attempts_delivery ON attempts (delivery_id)",
            "CREATE TABLE now_posts (post_id TEXT PRIMARY KEY, fixed_at TEXT NOT NULL)",
            "CREATE TABLE account_holds (account TEXT PRIMARY KEY, until TEXT NOT NULL, reason TEXT NOT NULL)",
        ),
    ),
    Migration(
        2,
        "deliveries handed to the platform's own scheduler",
        ("ALTER TABLE deliveries ADD COLUMN scheduled_for TEXT",),
    ),
)
