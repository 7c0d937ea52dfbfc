"""The ledger: what was published, what is due, and every attempt in between.

:func:`open_ledger` picks the backend from the config's ``ledger:`` value (a path: SQLite).
"""

from __future__ import annotations

from pathlib import Path

from eduadvocate.ledger.base import Ledger, LedgerError


def open_ledger(target: str, root: Path) -> Ledger:
    """Open (creating and migrating as needed) the ledger named by ``target``."""
    if target.startswith(("postgresql://", "postgres://")):
        raise LedgerError("the PostgreSQL ledger is not available yet: use a file path for SQLite")
    from eduadvocate.ledger.sqlite import SQLiteLedger

    path = target if target == ":memory:" else str((root / target).resolve())
    ledger = SQLiteLedger(path)
    ledger.migrate()
    return ledger
