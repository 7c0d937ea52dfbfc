"""The ledger: what was published, what is due, and every attempt in between.

:func:`open_ledger` opens the ledger :func:`choose_ledger` picks: the ``--ledger`` option, else
the ``EDUADVOCATE_LEDGER`` environment variable, else the config's ``ledger:``. A
``postgresql://`` URL selects PostgreSQL, anything else is an SQLite file path relative to the
campaign folder. ``${VAR}`` in it is expanded from the environment, so a password can stay out of
the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

from eduadvocate.ledger.base import Ledger, LedgerError

ENV = "EDUADVOCATE_LEDGER"
FLAG = "--ledger"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class LedgerChoice(NamedTuple):
    """The ledger to use (``${VAR}`` expanded: may hold a password, print :func:`shown`) and who
    chose it: ``--ledger``, ``EDUADVOCATE_LEDGER`` or ``config``."""

    target: str
    source: str

    def why(self) -> str:
        """Where the choice came from, for messages about the wrong ledger being used."""
        if self.source == "config":
            return "it is the config's `ledger:`"
        return f"it was chosen by {self.source}"


def choose_ledger(configured: str, flag: str | None = None) -> LedgerChoice:
    """``--ledger`` beats ``EDUADVOCATE_LEDGER`` beats the config's ``ledger:``; an empty value
    counts as unset (an unset CI secret maps to one)."""
    from eduadvocate.config import expand_env

    def missing(name: str) -> str:
        raise LedgerError(
            f"the ledger setting needs ${{{name}}}, and it is not set: export it first"
        )

    env = os.environ.get(ENV)
    if flag:
        return LedgerChoice(expand_env(flag, missing), FLAG)
    if env:
        return LedgerChoice(expand_env(env, missing), ENV)
    return LedgerChoice(expand_env(configured, missing), "config")


def ledger_target(configured: str, flag: str | None = None) -> str:
    """The ledger to use (see :func:`choose_ledger`), ``${VAR}`` expanded."""
    return choose_ledger(configured, flag).target


def is_postgres(target: str) -> bool:
    return target.startswith(POSTGRES_SCHEMES)


def shown(target: str) -> str:
    """The target as it may be printed: a URL's password replaced by ``***``."""
    if not is_postgres(target):
        return target
    parts = urlsplit(target)
    if parts.password is None:
        return target
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def sqlite_path(target: str, root: Path) -> str:
    """Where an SQLite ledger lives: a relative path is in the campaign folder."""
    return target if target == ":memory:" else str((root / target).resolve())


def open_ledger(
    target: str, root: Path, *, flag: str | None = None, migrate: bool | None = None
) -> Ledger:
    """Open the ledger :func:`choose_ledger` picks from ``target`` (the config's value) and
    ``flag`` (``--ledger``). SQLite is created and migrated as needed. PostgreSQL is created in an
    empty database, but a shared one at an older schema is refused: only ``eduadvocate ledger
    migrate`` upgrades it. ``migrate``: True to upgrade now, False to open as it is (the migrate
    command, which reports before it upgrades)."""
    from eduadvocate.ledger.schema import MIGRATIONS

    resolved = ledger_target(target, flag)
    latest = MIGRATIONS[-1].version
    if is_postgres(resolved):
        try:
            from eduadvocate.ledger.postgres import PostgresLedger
        except ImportError:
            raise LedgerError(
                "a PostgreSQL ledger needs psycopg: pip install 'eduadvocate[postgres]'"
            ) from None

        ledger: Ledger = PostgresLedger(resolved, shown(resolved))
        version = ledger.schema_version()
        if migrate or (migrate is None and version == 0):
            ledger.migrate()  # one transaction: workers starting together wait, then see it all
            version = ledger.schema_version()
        elif migrate is None and version < latest:
            ledger.close()
            raise LedgerError(
                f"the ledger {shown(resolved)} has schema version {version} and this eduadvocate "
                f"needs {latest}: run `eduadvocate ledger migrate` once (with the workers stopped)"
            )
    else:
        from eduadvocate.ledger.sqlite import SQLiteLedger

        ledger = SQLiteLedger(sqlite_path(resolved, root))
        version = ledger.schema_version()
        if version <= latest and migrate is not False:
            ledger.migrate()
    if version > latest:
        ledger.close()
        raise LedgerError(
            f"the ledger {shown(resolved)} was written by a newer eduadvocate (schema version "
            f"{version}, this one knows {latest}): upgrade eduadvocate"
        )
    return ledger
