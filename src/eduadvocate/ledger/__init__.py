"""The ledger: what was published, what is due, and every attempt in between.

:func:`open_ledger` opens the ledger :func:`choose_ledger` picks: the ``--ledger`` option, else
the ``EDUADVOCATE_LEDGER`` environment variable, else the config's ``ledger:``. A
``postgresql://`` URL selects PostgreSQL, anything else is an SQLite file path relative to the
campaign folder. ``${VAR}`` in it is expanded from the environment, so a password can stay out of
the file.

May import: ``config``, ``core`` (a sibling of ``platforms``: neither imports the other).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote

from eduadvocate.config.env import expand_env
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
    """The target as it may be printed: a URL's password replaced by ``***``, whatever it holds.

    A password that was not percent-encoded (``#``, ``?``, ``/``, ``@`` typed as they are) makes
    a URL ambiguous, so this masks too much rather than too little: everything from the first
    ``:`` after the scheme to the last ``@`` (the user part), and every ``password=`` value of the
    query up to the next ``&name=``.
    """
    if not is_postgres(target):
        # A libpq "key=value" string is not taken as a URL (it would be an SQLite file name),
        # but it is never shown with its password either.
        return _KV_PASSWORD.sub(r"\1***", target)
    scheme, rest = target.split("://", 1)
    spans = _password_spans(rest)
    out, end = [], 0
    for start, stop in spans:
        out += [rest[end:start], "***"]
        end = stop
    return f"{scheme}://{''.join(out)}{rest[end:]}"


_MIN_SCRUBBED = 6  # a shorter one would mask ordinary words ("db", "5432") in a message
_KV_PASSWORD = re.compile(r"(password\s*=).*", re.IGNORECASE | re.DOTALL)
_QUERY_PASSWORD = re.compile(r"[?&]password=", re.IGNORECASE)
_NEXT_PARAM = re.compile(r"&[A-Za-z_]+=")
_MALFORMED_HINT = (
    "percent-encode the password's special characters (@ as %40, / as %2F, # as %23, ? as %3F,"
    " % as %25, & as %26)"
)


def _password_spans(rest: str) -> list[tuple[int, int]]:
    """Where passwords may be in a URL after ``scheme://``, merged: sorted, not overlapping."""
    spans = []
    at, colon = rest.rfind("@"), rest.find(":")
    if 0 <= colon < at:
        spans.append((colon + 1, at))
    for match in _QUERY_PASSWORD.finditer(rest):
        following = _NEXT_PARAM.search(rest, match.end())
        spans.append((match.end(), following.start() if following else len(rest)))
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(stop, merged[-1][1]))
        else:
            merged.append((start, stop))
    return merged


def _passwords(target: str) -> set[str]:
    """Every form a URL's password may take in a message: as written and decoded."""
    rest = target.split("://", 1)[1]
    found = set()
    for start, stop in _password_spans(rest):
        raw = rest[start:stop]
        found |= {raw, unquote(raw)}
    return {p for p in found if len(p) >= _MIN_SCRUBBED}


def _checked_url(target: str, source: str) -> None:
    """A LedgerError, quoting nothing of the password, if libpq would not read ``target`` as the
    user meant it: a user part with an unencoded ``/ ? # @`` (libpq would take part of the
    password as the host, port or database, and say so), or what libpq refuses to parse (its
    message quotes the offending token, which may be the password)."""
    from psycopg import Error
    from psycopg.conninfo import conninfo_to_dict

    rest = target.split("://", 1)[1]
    at = rest.rfind("@")
    userinfo = rest[:at] if at >= 0 else ""
    readable = not (":" in userinfo and any(c in userinfo for c in "/?#@"))
    if readable:
        try:
            conninfo_to_dict(target)
        except (Error, ValueError):
            readable = False
    if not readable:
        chosen = "the config's ledger:" if source == "config" else f"chosen by {source}"
        raise LedgerError(
            f"the ledger URL {shown(target)} ({chosen}) cannot be read: {_MALFORMED_HINT}"
        )


def _scrubbed(exc: LedgerError, target: str) -> LedgerError:
    """``exc`` with any form of the URL's password masked (libpq's own words should not hold it,
    but the message is shown, so it is made sure of here)."""
    message, hint = exc.message, exc.hint
    for password in sorted(_passwords(target), key=len, reverse=True):
        message, hint = message.replace(password, "***"), hint.replace(password, "***")
    return LedgerError(message, hint=hint)


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

    choice = choose_ledger(target, flag)
    resolved = choice.target
    latest = MIGRATIONS[-1].version
    if is_postgres(resolved):
        try:
            from eduadvocate.ledger.postgres import PostgresLedger
        except ImportError:
            raise LedgerError(
                "a PostgreSQL ledger needs psycopg: pip install 'eduadvocate[postgres]'"
            ) from None

        _checked_url(resolved, choice.source)
        try:
            ledger: Ledger = PostgresLedger(resolved, shown(resolved))
            version = ledger.schema_version()
            if migrate or (migrate is None and version == 0):
                ledger.migrate()  # one transaction: workers starting together wait, then see it all
                version = ledger.schema_version()
        except LedgerError as exc:
            raise _scrubbed(exc, resolved) from None
        if migrate is None and version < latest:
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
