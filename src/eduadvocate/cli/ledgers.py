"""``eduadvocate ledger migrate | export | import``: upgrade a shared ledger, and move a campaign's
whole history from one ledger to another (SQLite to PostgreSQL, say) as JSON Lines.

The export's first line names the format and the schema version; each further line is one row:
``{"table": "deliveries", "row": {...}}``, parents before children, so an import can check and
insert as it reads, in one transaction (all or nothing).
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from eduadvocate.campaign.workspace import open_campaign
from eduadvocate.cli import output
from eduadvocate.core.errors import ExitCode, UsageError
from eduadvocate.ledger import (
    FLAG,
    LedgerChoice,
    choose_ledger,
    is_postgres,
    open_ledger,
    shown,
    sqlite_path,
)
from eduadvocate.ledger.base import Ledger, LedgerError
from eduadvocate.ledger.schema import MIGRATIONS

FORMAT = "eduadvocate-ledger"
FORMAT_VERSION = 1
CHECKPOINT_WAIT_S = 10.0  # a writer finishing its transaction; a running process fails it anyway


def _open(
    config_path: str | None, flag: str | None, *, migrate: bool | None = None
) -> tuple[LedgerChoice, Ledger]:
    ws = open_campaign(config_path)
    choice = choose_ledger(ws.config.ledger, flag)
    return choice, open_ledger(ws.config.ledger, ws.config.root, flag=flag, migrate=migrate)


def migrate(config_path: str | None, flag: str | None) -> int:
    choice, ledger = _open(config_path, flag, migrate=False)
    try:
        before = ledger.schema_version()
        applied = ledger.migrate()
    finally:
        ledger.close()
    latest = MIGRATIONS[-1].version
    where = shown(choice.target)
    con = output.console()
    if applied:
        con.print(f"{where}: schema {before} → {latest} (applied {', '.join(map(str, applied))})")
    else:
        con.print(f"{where}: schema {latest}, up to date")
    return ExitCode.OK


def checkpoint(config_path: str | None, flag: str | None) -> int:
    """Fold an SQLite ledger's write-ahead log into its file, so that the file alone (what a git
    commit takes) holds everything; a PostgreSQL ledger has no file, so nothing to do."""
    ws = open_campaign(config_path)
    choice = choose_ledger(ws.config.ledger, flag)
    where = shown(choice.target)
    con = output.console()
    if is_postgres(choice.target) or choice.target == ":memory:":
        con.print(f"{where}: a PostgreSQL ledger has no file to checkpoint: nothing to do")
        return ExitCode.OK
    path = Path(sqlite_path(choice.target, ws.config.root))
    if not path.is_file():
        raise LedgerError(f"there is no ledger at {where} ({choice.why()}): nothing to checkpoint")
    _fold_wal(path, where)
    con.print(
        f"{where}: the write-ahead log is folded in and no -wal or -shm file is left:"
        " ready to commit"
    )
    return ExitCode.OK


def _fold_wal(path: Path, where: str) -> None:
    import sqlite3

    try:
        db = sqlite3.connect(path, timeout=CHECKPOINT_WAIT_S, isolation_level=None)
        try:
            busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        finally:
            db.close()  # the last connection to close removes the -wal and -shm files
    except sqlite3.Error as exc:
        raise LedgerError(f"cannot checkpoint the ledger {where}: {exc}") from None
    left = [f"{where}{suffix}" for suffix in ("-wal", "-shm") if Path(f"{path}{suffix}").exists()]
    if busy or left:
        raise LedgerError(
            f"{' and '.join(left) or where} {'are' if len(left) > 1 else 'is'} still there:"
            " another process has the ledger open (a running `schedule` or `publish`?); stop it,"
            " then run `eduadvocate ledger checkpoint` again"
        )


def export(config_path: str | None, flag: str | None, out_path: str | None) -> int:
    choice, ledger = _open(config_path, flag)
    counts: dict[str, int] = {}
    try:
        rows = ledger.export_rows()
        first = next(rows, None)  # deliveries come first: none means there is no history
        if first is None or first[0] != "deliveries":
            another = "" if choice.source == FLAG else "; pass --ledger to export another"
            raise LedgerError(
                f"the ledger {shown(choice.target)} holds no deliveries: nothing to export"
                f" ({choice.why()}{another})"
            )
        with _writer(out_path) as out:
            header = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "schema": ledger.schema_version(),
            }
            out.write(json.dumps(header) + "\n")
            for table, row in itertools.chain([first], rows):
                out.write(json.dumps({"table": table, "row": row}, ensure_ascii=False) + "\n")
                counts[table] = counts.get(table, 0) + 1
    finally:
        ledger.close()
    summary = ", ".join(f"{n} {t}" for t, n in counts.items())
    # On stderr: stdout may be the export itself.
    output.console(stderr=True).print(f"exported {summary} from {shown(choice.target)}")
    return ExitCode.OK


def import_(config_path: str | None, flag: str | None, in_path: str) -> int:
    with _reader(in_path) as lines:
        items = _items(lines, in_path)
        schema = _header(next(items, None), in_path)
        first = next(items, None)
        if first is None:  # found before the ledger is opened: an SQLite one is not created
            ws = open_campaign(config_path)
            where = shown(choose_ledger(ws.config.ledger, flag).target)
            raise LedgerError(
                f"{in_path} holds no rows: nothing to import into {where} (export the ledger that"
                " holds the history with `eduadvocate ledger export --ledger …`)"
            )
        choice, ledger = _open(config_path, flag)
        try:
            if schema > ledger.schema_version():
                raise LedgerError(
                    f"{in_path} comes from a newer ledger (schema {schema}, this one has"
                    f" {ledger.schema_version()}): upgrade eduadvocate, or run `eduadvocate"
                    " ledger migrate` on the target first"
                )
            counts = ledger.import_rows(_rows(itertools.chain([first], items), in_path))
        finally:
            ledger.close()
    summary = ", ".join(f"{n} {t}" for t, n in counts.items())
    output.console().print(f"imported into {shown(choice.target)}: {summary}")
    return ExitCode.OK


def _items(lines: IO[str], name: str) -> Iterator[tuple[int, Any]]:
    """Each non-blank line, parsed, with its line number."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except ValueError:
            raise UsageError(
                f"{name}:{number}: not a line of a ledger export (invalid JSON)"
            ) from None


def _header(item: tuple[int, Any] | None, name: str) -> int:
    """The schema version the first line names (0 for an empty file)."""
    if item is None:
        return 0
    number, header = item
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise UsageError(
            f"{name}:{number}: not a ledger export",
            hint="make one with `eduadvocate ledger export`",
        )
    return int(header.get("schema", 0))


def _rows(items: Iterator[tuple[int, Any]], name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for number, item in items:
        if not isinstance(item, dict) or not isinstance(item.get("row"), dict):
            raise UsageError(f'{name}:{number}: expected {{"table": …, "row": {{…}}}}')
        yield str(item.get("table")), item["row"]


@contextmanager
def _writer(path: str | None) -> Iterator[IO[str]]:
    if path in (None, "-"):
        yield sys.stdout
        return
    try:
        with Path(path).open("w", encoding="utf-8") as fh:
            yield fh
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


@contextmanager
def _reader(path: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdin
        return
    try:
        with Path(path).open(encoding="utf-8") as fh:
            yield fh
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
