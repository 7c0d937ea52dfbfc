"""The publishing commands (publish, status, retry, cancel, accounts verify): thin wrappers that
open the campaign and the ledger, call the core, and print."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.table import Table
from rich.text import Text

from eduadvocate.cli import output
from eduadvocate.dispatch import Outcome
from eduadvocate.errors import ExitCode, UsageError
from eduadvocate.ledger import open_ledger
from eduadvocate.ledger.base import Delivery, Ledger, LedgerError, State
from eduadvocate.platforms.publishing import PublishError
from eduadvocate.workspace import Workspace, open_campaign

_STYLE = {
    "published": "green",
    "scheduled": "green",
    "would-publish": "cyan",
    "pending": "yellow",
    "claimed": "yellow",
    "failed": "red",
    "unknown": "red",
    "held": "red",
    "skipped": "magenta",
    "cancelled": "dim",
}


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def publish(config_path: str | None, accounts: list[str], dry_run: bool, fmt: str) -> int:
    from eduadvocate.publish import publish_due

    ws = open_campaign(config_path)
    _known_accounts(ws, accounts)
    report = publish_due(ws, accounts=set(accounts) or None, dry_run=dry_run)
    if fmt == "json":
        output.print_json(
            {
                "version": output.JSON_VERSION,
                "dry_run": dry_run,
                "locked": report.locked,
                "deliveries": [_outcome_dict(o) for o in report.outcomes],
                "skipped": report.skipped,
                "cancelled": report.cancelled,
                "drifted": report.drifted,
            }
        )
        return ExitCode.DELIVERIES_FAILED if report.failed else ExitCode.OK
    con = output.console()
    if report.locked:
        con.print("Another publish run holds the lock on this ledger; nothing to do.")
        return ExitCode.OK
    if report.outcomes:
        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("Post", "Account", "Due", "State", "Link or error"):
            table.add_column(column, overflow="fold")
        for o in report.outcomes:
            detail = o.error or ", ".join(url or rid for rid, url in o.parts) or ""
            if o.next_attempt:
                detail += f" (next try {_iso(o.next_attempt)})"
            table.add_row(
                o.post,
                o.account,
                _iso(o.at) or "",
                Text(o.state, style=_STYLE.get(o.state, "")),
                detail,
            )
        con.print(table)
    else:
        con.print("Nothing is due.")
    for key in report.skipped:
        con.print(Text(f"skipped (missed beyond the grace window): {key}", style="magenta"))
    for key in report.drifted:
        con.print(Text(f"edited after publishing, not re-posted: {key}", style="yellow"))
    for key in report.cancelled:
        con.print(Text(f"cancelled (no longer in the files): {key}", style="dim"))
    return ExitCode.DELIVERIES_FAILED if report.failed else ExitCode.OK


def _known_accounts(ws: Workspace, accounts: list[str]) -> None:
    from eduadvocate.config import did_you_mean

    for name in accounts:
        if name not in ws.config.accounts:
            raise UsageError(
                f'no account named "{name}"', hint=did_you_mean(name, ws.config.accounts)
            )


def _outcome_dict(o: Outcome) -> dict[str, Any]:
    return {
        "key": o.key,
        "post": o.post,
        "account": o.account,
        "platform": o.platform,
        "at": _iso(o.at),
        "state": o.state,
        "parts": [{"id": rid, "url": url} for rid, url in o.parts],
        "error": o.error,
        "error_kind": o.error_kind,
        "next_attempt": _iso(o.next_attempt),
    }


def _ledger(config_path: str | None) -> tuple[Workspace, Ledger]:
    ws = open_campaign(config_path)
    try:
        return ws, open_ledger(ws.config.ledger, ws.config.root)
    except LedgerError as exc:
        from eduadvocate.errors import ConfigError

        raise ConfigError(str(exc)) from None


def delivery_dict(d: Delivery, now: datetime) -> dict[str, Any]:
    return {
        "id": d.id,
        "key": d.key,
        "post": d.post_id,
        "account": d.account,
        "platform": d.platform,
        "at": _iso(d.due_at),
        "state": d.shown_state(now),
        "scheduled_for": _iso(d.scheduled_for),
        "attempts": d.attempts,
        "parts": [{"index": p.index, "id": p.remote_id, "url": p.url} for p in d.parts],
        "error": d.last_error if d.state != State.PUBLISHED else None,
        "error_kind": d.error_kind if d.state != State.PUBLISHED else None,
        "next_attempt": _iso(d.next_attempt_at),
        "claimed_by": d.lease_owner,
        "lease_expires": _iso(d.lease_expires),
        "drifted": d.drifted,
    }


def status(config_path: str | None, post: str | None, state: str | None, fmt: str) -> int:
    from eduadvocate.publish import reconcile_scheduled

    ws, ledger = _ledger(config_path)
    try:
        rows = ledger.deliveries(post_id=post, state=State(state) if state else None)
        rows = reconcile_scheduled(ws, ledger, rows)
        workers = ledger.workers()
    except PublishError as exc:
        raise UsageError(f"cannot compare with the platform's scheduler: {exc}") from None
    finally:
        ledger.close()
    if fmt == "json":
        output.print_json(
            {
                "version": output.JSON_VERSION,
                "deliveries": [delivery_dict(d, ws.now) for d in rows],
                "workers": [
                    {
                        "id": w.id,
                        "started_at": _iso(w.started_at),
                        "last_seen": _iso(w.last_seen),
                        "claims": w.claims,
                    }
                    for w in workers
                ],
            }
        )
        return ExitCode.OK
    con = output.console()
    if not rows:
        con.print(
            "The ledger has no deliveries yet"
            + (" matching that." if post or state else ": run `eduadvocate publish`.")
        )
        return ExitCode.OK
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("ID", "Post", "Account", "Due", "State", "Link, error or next try"):
        table.add_column(column, overflow="fold")
    for d in rows:
        detail = ", ".join(p.url or p.remote_id for p in d.parts)
        if d.state != State.PUBLISHED and d.last_error:
            detail = d.last_error
        if d.next_attempt_at and d.state == State.PENDING:
            detail += f" (next try {_iso(d.next_attempt_at)})"
        if d.drifted:
            detail += " (edited since: not re-posted)"
        if d.lease_owner:
            detail += f" (claimed by {d.lease_owner})"
        table.add_row(
            str(d.id),
            d.post_id,
            d.account,
            _iso(d.due_at) or "",
            Text(d.shown_state(ws.now), style=_STYLE.get(d.shown_state(ws.now), "")),
            detail,
        )
    con.print(table)
    if workers:
        con.print()
        shown = Table(box=None, pad_edge=False, header_style="bold", title_justify="left")
        for column in ("Worker", "Started", "Last heartbeat", "Claims"):
            shown.add_column(column)
        for w in workers:
            silent = (ws.now - w.last_seen).total_seconds()
            seen = _iso(w.last_seen) or ""
            if silent > ws.config.lease.total_seconds():
                seen += " (silent: its claims expire, others take them over)"
            shown.add_row(w.id, _iso(w.started_at) or "", seen, str(w.claims))
        con.print(shown)
    return ExitCode.OK


def change(config_path: str | None, delivery_id: int, action: str) -> int:
    from eduadvocate.publish import cancel_delivery

    ws, ledger = _ledger(config_path)
    try:
        found = ledger.get(delivery_id)
        if found is None:
            raise UsageError(
                f"no delivery with id {delivery_id}", hint="see the IDs with `eduadvocate status`"
            )
        try:
            row = (
                ledger.retry(delivery_id, ws.now)
                if action == "retry"
                else cancel_delivery(ws, ledger, found)
            )
        except (LedgerError, PublishError) as exc:
            raise UsageError(str(exc)) from None
    finally:
        ledger.close()
    output.console().print(f"{row.post_id} → {row.account}: {row.shown_state(ws.now)}")
    return ExitCode.OK


def verify_accounts(config_path: str | None, accounts: list[str], fmt: str) -> int:
    from eduadvocate.platforms.publishing import PublishError
    from eduadvocate.publish import connector

    ws = open_campaign(config_path)
    _known_accounts(ws, accounts)
    connect = connector(ws.config)
    results = []
    for name in accounts or list(ws.config.accounts):
        try:
            publisher = connect(name)
            try:
                results.append((name, True, publisher.verify()))
            finally:
                publisher.close()
        except PublishError as exc:
            results.append((name, False, str(exc)))
    if fmt == "json":
        output.print_json(
            {
                "version": output.JSON_VERSION,
                "accounts": [{"account": n, "ok": ok, "detail": d} for n, ok, d in results],
            }
        )
    else:
        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("Account", "Platform", "Result"):
            table.add_column(column, overflow="fold")
        for name, ok, detail in results:
            table.add_row(
                name,
                ws.config.accounts[name].platform,
                Text(("ok: " if ok else "failed: ") + detail, style="green" if ok else "red"),
            )
        output.console().print(table)
    return ExitCode.OK if all(ok for _, ok, _ in results) else ExitCode.CONFIG


def schedule(config_path: str | None, quiet: bool) -> int:
    from eduadvocate.scheduler import Scheduler

    con = output.console()
    err = output.console(stderr=True)

    def report(o: Outcome) -> None:
        failed = o.state in ("failed", "unknown", "held")
        if quiet and not failed:
            return
        stamp = datetime.now(UTC).strftime("%H:%M:%S")
        detail = o.error or ", ".join(url or rid for rid, url in o.parts)
        line = Text.assemble(
            (stamp, "dim"),
            " ",
            (o.state, _STYLE.get(o.state, "")),
            f" {o.post} → {o.account} ",
            detail or "",
        )
        (err if failed else con).print(line)

    def notice(message: str) -> None:
        if not quiet:
            con.print(Text(f"{datetime.now(UTC):%H:%M:%S} {message}", style="dim"))

    Scheduler(config_path, report=report, notice=notice).run()
    return ExitCode.OK
