"""``eduadvocate inbox``: pull replies, mentions, quotes, comments and reposts into the ledger, list them grouped by
the campaign post they answer, mark them handled, and open one.

Only ``inbox pull`` talks to the platforms (their SDKs are imported there, inside the adapters);
listing, ``done`` and ``open`` read and write the ledger alone.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Collection
from dataclasses import dataclass
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
from eduadvocate.ledger.base import INBOX_KINDS, Delivery, InboxGroup, InboxRow, Ledger

LIST = (
    output.Column("ID", justify="right"),
    output.Column("When"),
    output.Column("Kind", label="kind"),
    output.Column("From", label="from"),
    output.Column("Text", wrap=True),
    output.Column("Link", own_line=True),
)
NOT_OURS = "Not about a campaign post"
TEXT_LIMIT = 50  # items a text listing shows unless --limit says: a screenful or two to answer


def pull(
    config_path: str | None,
    accounts: list[str],
    fmt: str,
    clock: Clock,
    posts_since: str | None = None,
) -> int:
    from eduadvocate.delivery.publish import connector
    from eduadvocate.metrics.inbox import REPLIES_WINDOW, pull_inbox
    from eduadvocate.platforms.registry import spec_class

    ws, ledger = _ledger(config_path, clock)
    try:
        if posts_since is None:
            since: datetime | None = ws.now - REPLIES_WINDOW
        elif posts_since.strip().lower() == "all":
            since = None
        else:
            zone = ws.config.defaults.timezone or "UTC"
            since = parse_since(
                posts_since,
                ws.now,
                zone,
                "--posts-since",
                hint='write "90d", a date like 2026-09-01, or "all" for every post',
            )
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
        report = pull_inbox(
            ledger, connector(ws.config), which, ws.now, clock=clock, posts_since=since
        )
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
    limit: int | None = None,
) -> int:
    """List the inbox; at most ``limit`` items in the listing's order (0: all; None: all as
    json, :data:`TEXT_LIMIT` as text, where one line says how many more there are)."""
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
        filters = Filters(account, platform, unhandled, parse_since(since, ws.now, zone))
        if limit is None:
            limit = 0 if fmt == "json" else TEXT_LIMIT
        shown, posts = first(ledger, filters, limit) if limit else whole(ledger, filters)
    finally:
        ledger.close()
    if fmt == "json":
        output.print_json(
            {
                "version": output.JSON_VERSION,
                "items": [item_dict(r, posts) for g in shown for r in g.rows],
            }
        )
        return ExitCode.OK
    con = output.console()
    if not shown:
        con.print(
            "The inbox is empty"
            + (" for that." if account or platform or unhandled or since else ".")
            + " `eduadvocate inbox pull` fetches replies, mentions, quotes, comments and reposts."
        )
        return ExitCode.OK
    when = _labeller(ws)
    cells = [[_cells(r, when) for r in g.rows] for g in shown]
    # One layout for every group: tables only if all the items fit in one at this width.
    as_table = output.fit(LIST, [c for rows in cells for c in rows], con.width, True)
    for n, g in enumerate(shown):
        if n:
            con.print()
        cut = f" (the first {len(g.rows)} shown)" if len(g.rows) < g.items else ""
        con.print(
            Text.assemble((g.title, "bold"), f" · {plural(g.waiting, 'item')} to answer{cut}")
        )
        if as_table is None:
            con.print(output.blocks(LIST, cells[n], con.width))
        else:
            con.print(output.tabulate(LIST, cells[n], con.width))
    hidden = shown[0].total - sum(len(g.rows) for g in shown)
    if hidden:
        con.print()
        con.print(
            f"{plural(hidden, 'more item', thousands=True)} not shown"
            f" ({shown[0].total:,} in all): `--limit 0` shows every one;"
            " --unhandled, --since and --account narrow the list.",
            style="dim",
        )
    return ExitCode.OK


@dataclass(frozen=True, slots=True)
class Filters:
    """What the listing is narrowed to (the ledger's inbox filters)."""

    account: str | None
    platform: str | None
    unhandled: bool
    since: datetime | None

    def kw(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "platform": self.platform,
            "unhandled": self.unhandled,
            "since": self.since,
        }


@dataclass(slots=True)
class Group:
    """The items of one campaign post (or of none) as listed: ``rows`` those shown, ``items``
    and ``waiting`` (unhandled) of the whole group, ``total`` of the whole listing."""

    title: str
    rows: list[InboxRow]
    items: int
    waiting: int
    total: int = 0


def _group_order(title: str, waiting: int, newest: datetime) -> tuple[bool, bool, float, str]:
    """Groups about a campaign post before the rest, those with something to answer first, by
    their newest item, then by title: one rule for :func:`whole` and :func:`first`."""
    return (title == NOT_OURS, waiting == 0, -newest.timestamp(), title)


def _item_order(r: InboxRow) -> tuple[bool, float, int]:
    """Within a group: unhandled first, newest first (as the ledger's ``inbox_answering``)."""
    return (r.handled_at is not None, -r.item.created_at.timestamp(), -r.id)


def whole(ledger: Ledger, filters: Filters) -> tuple[list[Group], dict[int, Delivery]]:
    """Every item of the listing, in its groups and order."""
    rows = ledger.inbox(**filters.kw())
    posts = _posts(ledger, {r.item.delivery_id for r in rows})
    by_title: dict[str, list[InboxRow]] = {}
    for r in rows:
        by_title.setdefault(_title(r.item.delivery_id, posts), []).append(r)
    groups = []
    for title, items in by_title.items():
        items.sort(key=_item_order)
        waiting = sum(1 for r in items if r.handled_at is None)
        newest = max(r.item.created_at for r in items)
        groups.append(
            (_group_order(title, waiting, newest), Group(title, items, len(items), waiting))
        )
    groups.sort(key=lambda entry: entry[0])
    for _, g in groups:
        g.total = len(rows)
    return [g for _, g in groups], posts


def first(ledger: Ledger, filters: Filters, limit: int) -> tuple[list[Group], dict[int, Delivery]]:
    """The first ``limit`` items of the listing, in their groups, without loading the rest: the
    ledger counts the groups, and only the first groups' first items are read."""
    counted = ledger.inbox_groups(**filters.kw())
    posts = _posts(ledger, {g.delivery_id for g in counted})
    titles: dict[str, list[InboxGroup]] = {}
    for c in counted:
        titles.setdefault(_title(c.delivery_id, posts), []).append(c)
    total = sum(c.items for c in counted)
    ordered = sorted(
        titles.items(),
        key=lambda entry: _group_order(
            entry[0], sum(c.waiting for c in entry[1]), max(c.newest for c in entry[1])
        ),
    )
    shown, left = [], limit
    for title, parts in ordered:
        if left <= 0:
            break
        rows = [
            r for c in parts for r in ledger.inbox_answering(c.delivery_id, left, **filters.kw())
        ]
        rows = sorted(rows, key=_item_order)[:left]
        left -= len(rows)
        items, waiting = sum(c.items for c in parts), sum(c.waiting for c in parts)
        shown.append(Group(title, rows, items, waiting, total))
    return shown, posts


def _posts(ledger: Ledger, ids: Collection[int | None]) -> dict[int, Delivery]:
    found = {}
    for delivery_id in ids:
        if delivery_id is not None and (d := ledger.get(delivery_id)) is not None:
            found[delivery_id] = d
    return found


def _title(delivery_id: int | None, posts: dict[int, Delivery]) -> str:
    d = posts.get(delivery_id) if delivery_id is not None else None
    return f"{d.post_id} on {d.account}" if d else NOT_OURS


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
