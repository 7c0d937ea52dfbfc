"""``eduadvocate metrics pull`` and ``eduadvocate report``: output for people (Rich tables and
bar charts), spreadsheets (CSV) and programs (JSON), and the HTML page."""

from __future__ import annotations

import csv
import sys
from datetime import datetime, time
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text

from eduadvocate.campaign.workspace import Workspace, open_campaign
from eduadvocate.cli import output
from eduadvocate.config.load import parse_duration
from eduadvocate.core.clock import Clock
from eduadvocate.core.errors import ConfigError, ExitCode, UsageError
from eduadvocate.core.words import plural
from eduadvocate.metrics.amplifiers import CSV_COLUMNS as AMPLIFIER_CSV_COLUMNS
from eduadvocate.metrics.amplifiers import Amplifier, csv_row
from eduadvocate.metrics.report import (
    CSV_COLUMNS,
    RATE_MEANS,
    WEEKDAYS,
    Group,
    PostRow,
    Report,
    as_dict,
    first_words,
    no_amplifiers_note,
    no_engagement_note,
    post_dict,
)

BAR = 28
TOP_AMPLIFIERS = 10  # the report's; `people suggest` lists them all
MIN_BAR = 8  # shorter, bars of different groups can hardly be told apart


def parse_since(
    text: str | None, now: datetime, zone: str, option: str = "--since", hint: str = ""
) -> datetime | None:
    """``--since`` (or ``option``): a duration back from now ("7d", "24h") or a date or time
    ("2026-11-01"); ``hint`` replaces the usage error's hint."""
    if text is None:
        return None
    back = parse_duration(text)
    if back is not None:
        return now - back
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time())
        except ValueError:
            raise UsageError(
                f'{option} "{text}" is neither a duration nor a date',
                hint=hint or 'write "7d", "24h" or a date like 2026-11-01',
            ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


def _zone(ws: Workspace) -> str:
    return ws.config.defaults.timezone or "UTC"


def pull(
    config_path: str | None,
    since: str | None,
    accounts: list[str],
    retry_refused: bool,
    fmt: str,
    clock: Clock,
) -> int:
    from eduadvocate.delivery.publish import connector
    from eduadvocate.ledger import open_ledger
    from eduadvocate.metrics.pull import pull as pull_counts

    ws = open_campaign(config_path, clock=clock)
    for name in accounts:
        ws.config.account(name)  # an unknown account is a usage error, with a suggestion
    ledger = open_ledger(ws.config.ledger, ws.config.root)
    try:
        if retry_refused:
            ledger.clear_metrics_refusals(set(accounts) or None)
        report = pull_counts(
            ledger,
            connector(ws.config),
            ws.now,
            since=parse_since(since, ws.now, _zone(ws)),
            accounts=set(accounts) or None,
            clock=clock,
        )
    finally:
        ledger.close()
    failed = bool(report.failed)
    if fmt == "json":
        output.print_json(
            {
                "version": output.JSON_VERSION,
                "snapshots": report.snapshots,
                "posts": report.posts,
                "accounts": report.accounts,
                "missing": report.missing,
                "refused": report.refused,
                "skipped_refused": report.skipped_refused,
                "failed": report.failed,
            }
        )
        return ExitCode.DELIVERIES_FAILED if failed else ExitCode.OK
    con = output.console()
    con.print(
        f"Counted {plural(report.posts, 'published post')} "
        f"({plural(report.snapshots, 'part')}) on "
        f"{plural(len(report.accounts), 'account')}."
    )
    if report.missing:
        con.print(f"{report.missing} no longer on their platform (deleted there).")
    for account, reason in report.refused.items():
        con.print(
            Text.assemble(
                ("refused ", "yellow"),
                f"{account}: {reason}. ",
                ("Not asked again; ", "dim"),
                ("`metrics pull --retry-refused` once it is allowed.", "dim"),
            )
        )
    if report.skipped_refused:
        names = ", ".join(sorted(report.skipped_refused))
        con.print(
            f"Not asked (refused before): {names}. `--retry-refused` asks again.", style="dim"
        )
    for account, reason in report.failed.items():
        con.print(
            Text.assemble(
                ("failed ", "red"),
                f"reading {account}'s counts: {reason} (the next pull tries again)",
            )
        )
    return ExitCode.DELIVERIES_FAILED if failed else ExitCode.OK


def report(
    config_path: str | None,
    since: str | None,
    campaign: str | None,
    fmt: str,
    html: str | None,
    clock: Clock,
    table: str = "posts",
) -> int:
    from eduadvocate.compose.check import analyse
    from eduadvocate.delivery.publish import renderings_by_delivery
    from eduadvocate.ledger import open_ledger
    from eduadvocate.metrics.report import build

    if table != "posts" and fmt != "csv":
        raise UsageError(
            f"--table {table} goes with --format csv",
            hint="add --format csv (the other formats hold every table already)",
        )
    ws = open_campaign(config_path, clock=clock)
    zone = _zone(ws)
    start = parse_since(since, ws.now, zone)
    analysis = analyse(ws.config, ws.campaign, ws.now)
    ledger = open_ledger(ws.config.ledger, ws.config.root)
    try:
        data = build(
            ledger.deliveries(),
            ledger.snapshots(),
            renderings_by_delivery(analysis),
            ws.now,
            timezone=zone,
            since=start,
            campaign=campaign,
            inbox=(r.item for r in ledger.inbox()),
            people=ws.campaign.people,
            servers=instance_hosts(ws),
            own=own_handles(ws),
        )
    finally:
        ledger.close()
    if html is not None:
        from eduadvocate.metrics.html import render_html

        try:
            Path(html).write_text(render_html(data), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {html}: {exc.strerror}") from None
        print(f"wrote {html}", file=sys.stderr)
    if fmt == "json":
        output.print_json(as_dict(data))
    elif fmt == "csv" and table == "amplifiers":
        writer = csv.DictWriter(sys.stdout, fieldnames=AMPLIFIER_CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(csv_row(a) for a in data.amplifiers)
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in data.posts:
            values = post_dict(row)
            values["hashtags"] = " ".join(row.hashtags)
            writer.writerow(values)
    elif html is None or fmt == "text":
        _print(data)
    return ExitCode.OK


def _print(data: Report) -> None:
    _print_posts(data)
    _print_amplifiers(data)


def _print_amplifiers(data: Report, shown: int = TOP_AMPLIFIERS) -> None:
    """Who engaged (the figures of ``people suggest``), the first ``shown`` of them."""
    con = output.console()
    con.print()
    con.print(Text("Amplifiers", style="bold"))
    if not data.amplifiers:
        con.print(no_amplifiers_note(data))
        return
    zone = ZoneInfo(data.timezone)
    cells = [amplifier_cells(a, zone) for a in data.amplifiers[:shown]]
    con.print(output.tabulate(AMPLIFIERS, cells, con.width))
    if len(data.amplifiers) > shown:
        con.print(
            f"{len(data.amplifiers) - shown} more: `eduadvocate people suggest --limit 0`.",
            style="dim",
        )


def _print_posts(data: Report) -> None:
    con = output.console()
    scope = f" for {data.campaign}" if data.campaign else ""
    period = f" since {data.since:%Y-%m-%d %H:%M}" if data.since else ""
    if not data.posts:
        con.print(
            f"Nothing to report{scope}{period} yet: publish, then run `eduadvocate metrics pull`."
            + (f" ({_no_counts(data.unmeasured)}.)" if data.unmeasured else "")
        )
        if data.no_engagement:
            con.print(no_engagement_note(data.no_engagement), style="dim")
        return
    t = data.total
    rate = f", engagement rate {t.rate:.1%}" if t.rate is not None else ""
    growth = f", +{t.growth} since the pull before" if t.growth else ""
    con.print(
        Text.assemble(
            (f"{plural(t.posts, 'post')}{scope}{period}", "bold"),
            f": {plural(t.engagement, 'engagement')}, {t.per_post:.1f} per post{rate}{growth}",
        )
    )
    if t.rate is not None:
        con.print(RATE_MEANS, style="dim")
    if data.unmeasured:
        con.print(f"{_no_counts(data.unmeasured)}: `eduadvocate metrics pull`.", style="dim")
    if data.no_engagement:
        con.print(no_engagement_note(data.no_engagement), style="dim")
    for title, groups in (
        ("Campaign", data.by_campaign),
        ("Platform", data.by_platform),
        ("Account", data.by_account),
        ("Hashtag", data.by_hashtag[:15]),
    ):
        if title == "Campaign" and len(groups) < 2:
            continue
        con.print()
        con.print(_groups_table(title, groups, con.width))
    con.print()
    con.print(Text(f"Engagement per post by weekday and hour ({data.timezone})", style="bold"))
    con.print(_heatmap(data))
    for title, rows in (("Best posts", data.best), ("Worst posts", data.worst)):
        if not rows:
            continue
        con.print()
        con.print(Text(title, style="bold"))
        cells: list[list[output.Cell]] = [
            [str(r.engagement), _named(r), r.account, f"{r.local:%a %d %b %H:%M}", r.url or ""]
            for r in rows
        ]
        con.print(output.tabulate(RANKED, cells, con.width))


# A block: ``engagement 42  alice  Tue 03 Dec 18:00``, then the post named, then its link.
RANKED = (
    output.Column("Engagement", justify="right", label="engagement"),
    output.Column("Post", wrap=True),
    output.Column("Account"),
    output.Column("When"),
    output.Column("Link", own_line=True),
)


def _named(row: PostRow, words: int = 6) -> str:
    """A post by its id and first words: ``levy: "The levy vote is Tuesday. …"``."""
    start = first_words(row.text, words)
    return f'{row.post}: "{start}"' if start else row.post


def _no_counts(n: int) -> str:
    return f"{plural(n, 'published post')} {'has' if n == 1 else 'have'} no counts yet"


def _groups_table(title: str, groups: list[Group], width: int) -> Table | output.Laid:
    """Posts, engagement, per post and rate for each group, with a bar as long as the width
    leaves room for (up to ``BAR``), or none when there is too little room to compare."""
    columns = [
        output.Column(title),
        output.Column("Posts", justify="right", label="posts"),
        output.Column("Engagement", justify="right", label="engagement"),
        output.Column("Per post", justify="right", label="per post"),
        output.Column("Rate", justify="right", label="rate"),
    ]
    rows: list[list[output.Cell]] = [
        [
            g.key,
            str(g.posts),
            str(g.engagement),
            f"{g.per_post:.1f}",
            f"{g.rate:.1%}" if g.rate is not None else "",
        ]
        for g in groups
    ]
    widths = output.fit(columns, rows, width)
    bar = min(BAR, width - sum(widths) - output.GAP * len(columns)) if widths else 0
    if bar >= MIN_BAR:
        columns.append(output.Column("", own_line=True))
        top = max((g.per_post for g in groups), default=0.0) or 1.0
        for row, g in zip(rows, groups, strict=True):
            row.append(
                Text("█" * max(1 if g.per_post else 0, round(bar * g.per_post / top)), style="cyan")
            )
    return output.tabulate(columns, rows, width)


def _heatmap(data: Report) -> Table:
    """Engagement per post by weekday and hour (local time), as shaded cells."""
    cells = {(c.weekday, c.hour): c for c in data.heatmap}
    top = max((c.per_post for c in data.heatmap), default=0.0) or 1.0
    shades = " ░▒▓█"
    table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 0))
    table.add_column("")
    for hour in range(24):
        table.add_column("" if hour % 3 else f"{hour:02d}", justify="left", width=2)
    for day, name in enumerate(WEEKDAYS):
        row = [f"{name} "]
        for hour in range(24):
            cell = cells.get((day, hour))
            if cell is None:
                row.append("· ")
            else:
                row.append(shades[max(1, round(4 * cell.per_post / top))] * 2)
        table.add_row(*row)
    return table


# ``people suggest``'s table and the report's amplifiers: one row per account.
AMPLIFIERS = (
    output.Column("Account"),
    output.Column("Platform"),
    output.Column("Total", justify="right", label="total"),
    # A kind a line in a table (``1 repost`` never parts), joined on its own line in a block.
    output.Column("Kinds", own_line=True, join=", "),
    output.Column("Posts", justify="right", label="posts"),
    output.Column("First seen", label="first"),
    output.Column("Last seen", label="last"),
    output.Column("people.yaml", label="people.yaml"),
)


def amplifier_cells(a: Amplifier, zone: ZoneInfo) -> list[output.Cell]:
    return [
        a.handle,
        a.platform,
        str(a.total),
        "\n".join(plural(n, kind) for kind, n in a.counts if n),
        str(a.posts),
        f"{a.first_seen.astimezone(zone):%Y-%m-%d}",
        f"{a.last_seen.astimezone(zone):%Y-%m-%d}",
        a.person or Text("not yet", style="yellow"),
    ]


def instance_hosts(ws: Workspace) -> dict[str, str]:
    """Each Mastodon account's instance host: a notification names an account of the same
    instance as ``user``, without the server people.yaml needs."""
    hosts = {}
    for name, account in ws.config.accounts.items():
        if account.platform != "mastodon":
            continue
        try:
            host = urlparse(account.get("instance") or "").hostname
        except (ConfigError, ValueError):
            continue
        if host:
            hosts[name] = host
    return hosts


def own_handles(ws: Workspace) -> set[tuple[str, str]]:
    """The campaign's own accounts as (platform, handle), where the config names their handle."""
    own = set()
    for account in ws.config.accounts.values():
        for setting in ("handle", "username"):
            try:
                value = account.get(setting)
            except ConfigError:
                value = None
            if value:
                own.add((account.platform, value))
    return own
