"""``eduadvocate inbox``: pull replies, mentions and quotes into the ledger, list them grouped by
the campaign post they answer, mark them handled, and open one.

Only ``inbox pull`` talks to the platforms (their SDKs are imported there, inside the adapters);
listing, ``done`` and ``open`` read and write the ledger alone.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rich.text import Text

from eduadvocate.cli import output
from eduadvocate.cli.publishing import _labeller, _ledger
from eduadvocate.cli.reports import parse_since
from eduadvocate.core.clock import Clock
from eduadvocate.core.errors import ExitCode, UsageError
from eduadvocate.core.suggest import did_you_mean
from eduadvocate.core.words import plural
from eduadvocate.ledger.base import INBOX_KINDS, Delivery, InboxRow, Ledger

LIST = (
    output.Column("ID", justify="right"),
    output.Column("When"),
    output.Column("Kind", label="kind"),
    output.Column("From", label="from"),
    output.Column("Text", wrap=True),
    output.Column("Link", own_line=True),
)
NOT_OURS = "Not about a campaign post"


def pull(config_path: str | None, accounts: list[str], fmt: str, clock: Clock) -> int:
    from eduadvocate.delivery.publish import connector
    from eduadvocate.metrics.inbox import pull_inbox
    from eduadvocate.platforms.registry import spec_class

    ws, ledger = _ledger(config_path, clock)
    try:
        for name in accounts:
            ws.config.account(name)  # an unknown account is a usage error, with a suggestion
        chosen = accounts or sorted(ws.config.accounts)
        which = {
            name: (
                ws.config.accounts[name].platform,
                spec_class(ws.config.accounts[name].platform).reads_inbox,
            )
            for name in chosen
        }
        report = pull_inbox(ledger, connector(ws.config), which, ws.now, clock=clock)
    finally:
        ledger.close()
    failed = any(r.failed for r in report)
    if fmt == "json":
        output.print_json(
            {
                "version": output.JSON_VERSION,
                "accounts": [
                    {
                        "account": r.account,
                        "platform": r.platform,
                        "new": len(r.new),
                        "by_kind": r.by_kind(),
                        "unsupported": r.unsupported,
                        "refused": r.refused,
                        "failed": r.failed,
                    }
                    for r in report
                ],
            }
        )
        return ExitCode.DELIVERIES_FAILED if failed else ExitCode.OK
    con = output.console()
    unsupported = [r for r in report if r.unsupported]
    for r in report:
        if r.unsupported:
            continue
        if r.refused:  # as `metrics pull` says it: no error, a person must change something
            con.print(
                Text.assemble(
                    ("refused ", "yellow"),
                    f"{r.account}: {r.refused}. ",
                    ("Asked again at the next pull.", "dim"),
                ),
                soft_wrap=True,  # one line, however long: the terminal wraps it
            )
            continue
        if r.failed:
            con.print(
                Text.assemble(
                    ("failed ", "red"),
                    f"{r.account}: {r.failed} (the next pull resumes where this one stopped)",
                )
            )
            if not r.new:
                continue
        kinds = r.by_kind()
        detail = ", ".join(plural(kinds[k], k) for k in INBOX_KINDS if k in kinds)
        con.print(f"{r.account}: {len(r.new)} new ({detail})" if r.new else f"{r.account}: 0 new")
    if unsupported:
        names = ", ".join(f"{r.account} ({r.platform})" for r in unsupported)
        con.print(f"Not read: the inbox of {names} cannot be read yet.", style="dim")
    return ExitCode.DELIVERIES_FAILED if failed else ExitCode.OK


def show(
    config_path: str | None,
    account: str | None,
    platform: str | None,
    unhandled: bool,
    since: str | None,
    fmt: str,
    clock: Clock,
) -> int:
    ws, ledger = _ledger(config_path, clock)
    try:
        if account is not None:
            ws.config.account(account)
        if platform is not None:
            from eduadvocate.platforms.registry import platform_names

            if platform not in platform_names():
                raise UsageError(
                    f'unknown platform "{platform}"', hint=did_you_mean(platform, platform_names())
                )
        zone = ws.config.defaults.timezone or "UTC"
        rows = ledger.inbox(
            account=account,
            platform=platform,
            unhandled=unhandled,
            since=parse_since(since, ws.now, zone),
        )
        posts = _posts(ledger, rows)
    finally:
        ledger.close()
    groups = grouped(rows, posts)
    if fmt == "json":
        output.print_json(
            {
                "version": output.JSON_VERSION,
                "items": [item_dict(r, posts) for _, items in groups for r in items],
            }
        )
        return ExitCode.OK
    con = output.console()
    if not rows:
        con.print(
            "The inbox is empty"
            + (" for that." if account or platform or unhandled or since else ".")
            + " `eduadvocate inbox pull` fetches replies, mentions and quotes."
        )
        return ExitCode.OK
    when = _labeller(ws)
    cells = {title: [_cells(r, when) for r in items] for title, items in groups}
    # One layout for every group: tables only if all the items fit in one at this width.
    as_table = output.fit(LIST, [c for rows in cells.values() for c in rows], con.width, True)
    for n, (title, items) in enumerate(groups):
        if n:
            con.print()
        waiting = sum(1 for r in items if r.handled_at is None)
        con.print(Text.assemble((title, "bold"), f" · {plural(waiting, 'item')} to answer"))
        if as_table is None:
            con.print(output.blocks(LIST, cells[title], con.width))
        else:
            con.print(output.tabulate(LIST, cells[title], con.width))
    return ExitCode.OK


def _posts(ledger: Ledger, rows: list[InboxRow]) -> dict[int, Delivery]:
    found = {}
    for delivery_id in {r.item.delivery_id for r in rows if r.item.delivery_id is not None}:
        d = ledger.get(delivery_id)
        if d is not None:
            found[delivery_id] = d
    return found


def _title(r: InboxRow, posts: dict[int, Delivery]) -> str:
    d = posts.get(r.item.delivery_id) if r.item.delivery_id is not None else None
    return f"{d.post_id} on {d.account}" if d else NOT_OURS


def grouped(rows: list[InboxRow], posts: dict[int, Delivery]) -> list[tuple[str, list[InboxRow]]]:
    """By campaign post (the items about none last), unhandled first, newest first: groups with
    something to answer before the rest, each by its newest item."""
    groups: dict[str, list[InboxRow]] = {}
    for r in rows:
        groups.setdefault(_title(r, posts), []).append(r)
    for items in groups.values():
        items.sort(key=lambda r: (r.handled_at is not None, -r.item.created_at.timestamp(), -r.id))

    def order(entry: tuple[str, list[InboxRow]]) -> tuple[bool, bool, float]:
        title, items = entry
        return (
            title == NOT_OURS,
            all(r.handled_at is not None for r in items),
            -max(r.item.created_at.timestamp() for r in items),
        )

    return sorted(groups.items(), key=order)


def _cells(r: InboxRow, when: Callable[[datetime | None], str]) -> list[output.Cell]:
    it = r.item
    who = f"@{it.author_handle}" + (f" ({it.author_name})" if it.author_name else "")
    kind = Text(it.kind) if r.handled_at is None else Text(f"{it.kind} (done)", style="dim")
    return [str(r.id), when(it.created_at), kind, who, it.text, it.url or ""]


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def item_dict(r: InboxRow, posts: dict[int, Delivery]) -> dict[str, Any]:
    it = r.item
    d = posts.get(it.delivery_id) if it.delivery_id is not None else None
    part = next((p for p in d.parts if p.index == it.part_index), None) if d else None
    return {
        "id": r.id,
        "platform": it.platform,
        "account": it.account,
        "kind": it.kind,
        "author": {"handle": it.author_handle, "name": it.author_name, "url": it.author_url},
        "text": it.text,
        "url": it.url,
        "created_at": _iso(it.created_at),
        "remote_id": it.remote_id,
        "answers": (
            {
                "post": d.post_id,
                "delivery": d.id,
                "part": it.part_index,
                "url": part.url if part else None,
            }
            if d
            else None
        ),
        "answers_remote_id": it.answers_remote_id,
        "handled_at": _iso(r.handled_at),
        "handled_by": r.handled_by,
    }


def done(config_path: str | None, items: list[int], by: str | None, clock: Clock) -> int:
    ws, ledger = _ledger(config_path, clock)
    try:
        found = ledger.mark_handled(items, ws.now, by or _who())
    finally:
        ledger.close()
    missing = sorted(set(items) - set(found))
    if missing:
        raise UsageError(
            f"no inbox item {', '.join(map(str, missing))}"
            + (f" (marked {plural(len(found), 'other')} handled)" if found else ""),
            hint="`eduadvocate inbox` lists the items with their ids",
        )
    output.console().print(f"Marked {plural(len(found), 'item')} handled.")
    return ExitCode.OK


def open_item(config_path: str | None, item: int, clock: Clock) -> int:
    _, ledger = _ledger(config_path, clock)
    try:
        row = ledger.inbox_item(item)
    finally:
        ledger.close()
    if row is None:
        raise UsageError(
            f"no inbox item {item}", hint="`eduadvocate inbox` lists the items with their ids"
        )
    if not row.item.url:
        raise UsageError(f"inbox item {item} has no link", hint=f"it is {row.item.remote_id}")
    output.console().print(row.item.url, soft_wrap=True)
    return ExitCode.OK


def _who() -> str:
    """Who marks items handled, unless ``--by`` says: the login name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "someone"
