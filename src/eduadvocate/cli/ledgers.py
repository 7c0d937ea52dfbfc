"""``eduadvocate ledger migrate | export | import``: upgrade a shared ledger, and move a campaign's
whole history from one ledger to another (SQLite to PostgreSQL, say) as JSON Lines.

The export's first line names the format and the schema version; each further line is one row:
``{"table": "deliveries", "row": {...}}``, parents before children, so an import can check and
insert as it reads, in one transaction (all or nothing).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from eduadvocate.cli import output
from eduadvocate.errors import ExitCode, UsageError
from eduadvocate.ledger import ledger_target, open_ledger, shown
from eduadvocate.ledger.base import Ledger, LedgerError
from eduadvocate.ledger.schema import MIGRATIONS
from eduadvocate.workspace import open_campaign

FORMAT = "eduadvocate-ledger"
FORMAT_VERSION = 1


def _open(
    config_path: str | None, target: str | None, *, migrate: bool | None = None
) -> tuple[str, Ledger]:
    ws = open_campaign(config_path)
    where = target or ws.config.ledger
    return shown(ledger_target(where)), open_ledger(where, ws.config.root, migrate=migrate)


def migrate(config_path: str | None, target: str | None) -> int:
    where, ledger = _open(config_path, target, migrate=False)
    try:
        before = ledger.schema_version()
        applied = ledger.migrate()
    finally:
        ledger.close()
    latest = MIGRATIONS[-1].version
    con = output.console()
    if applied:
        con.print(f"{where}: schema {before} → {latest} (applied {', '.join(map(str, applied))})")
    else:
        con.print(f"{where}: schema {latest}, up to date")
    return ExitCode.OK


def export(config_path: str | None, target: str | None, out_path: str | None) -> int:
    where, ledger = _open(config_path, target)
    counts: dict[str, int] = {}
    try:
        with _writer(out_path) as out:
            header = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "schema": ledger.schema_version(),
            }
            out.write(json.dumps(header) + "\n")
            for table, row in ledger.export_rows():
                out.write(json.dumps({"table": table, "row": row}, ensure_ascii=False) + "\n")
                counts[table] = counts.get(table, 0) + 1
    finally:
        ledger.close()
    summary = ", ".join(f"{n} {t}" for t, n in counts.items()) or "nothing"
    print(f"exported {summary} from {where}", file=sys.stderr)
    return ExitCode.OK


def import_(config_path: str | None, target: str | None, in_path: str) -> int:
    where, ledger = _open(config_path, target)
    try:
        with _reader(in_path) as lines:
            counts = ledger.import_rows(_rows(lines, in_path, ledger.schema_version()))
    finally:
        ledger.close()
    summary = ", ".join(f"{n} {t}" for t, n in counts.items())
    output.console().print(f"imported into {where}: {summary}")
    return ExitCode.OK


def _rows(lines: IO[str], name: str, schema: int) -> Iterator[tuple[str, dict[str, Any]]]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            raise UsageError(
                f"{name}:{number}: not a line of a ledger export (invalid JSON)"
            ) from None
        if number == 1:
            if not isinstance(item, dict) or item.get("format") != FORMAT:
                raise UsageError(
                    f"{name}:1: not a ledger export",
                    hint="make one with `eduadvocate ledger export`",
                )
            if int(item.get("schema", 0)) > schema:
                raise LedgerError(
                    f"{name} comes from a newer ledger (schema {item['schema']}, this one has {schema}):"
                    " upgrade eduadvocate, or run `eduadvocate ledger migrate` on the target first"
                )
            continue
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
