"""``eduadvocate people suggest``: who amplifies the campaign, from the inbox in the ledger, with
who of them ``people.yaml`` already has, and the others as ``people.yaml`` entries.

It reads the ledger and the campaign's files alone: no network (``inbox pull`` fetched the
items). The figures are :func:`eduadvocate.metrics.amplifiers.amplifiers`', the same the report's
"amplifiers" section shows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from rich.text import Text

from eduadvocate.campaign.workspace import Workspace
from eduadvocate.cli import output
from eduadvocate.cli.publishing import _ledger
from eduadvocate.cli.reports import parse_since
from eduadvocate.core.clock import Clock
from eduadvocate.core.errors import ConfigError, ExitCode, UsageError
from eduadvocate.core.suggest import did_you_mean
from eduadvocate.core.words import plural
from eduadvocate.metrics.amplifiers import Amplifier, amplifiers, people_snippet

TABLE = (
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
EMPTY = (
    "The inbox is empty: `eduadvocate inbox pull` fetches who replied to, mentioned, quoted and"
    " reposted the campaign's accounts."
)


def suggest(
    config_path: str | None,
    since: str | None,
    platform: str | None,
    limit: int,
    fmt: str,
    clock: Clock,
) -> int:
    if limit < 0:
        raise UsageError(f"--limit {limit} is negative", hint="give 0 for all, or how many to show")
    ws, ledger = _ledger(config_path, clock)
    try:
        if platform is not None:
            _known_platform(platform)
        zone = ws.config.defaults.timezone or "UTC"
        start = parse_since(since, ws.now, zone)
        rows = ledger.inbox(platform=platform)
    finally:
        ledger.close()
    found = amplifiers(
        (r.item for r in rows),
        ws.campaign.people,
        since=start,
        servers=instance_hosts(ws),
        own=own_handles(ws),
    )
    shown = found[:limit] if limit else found
    if fmt == "json":
        output.print_json(
            {
                "version": output.JSON_VERSION,
                "since": _iso(start),
                "platform": platform,
                "accounts": len(found),
                "amplifiers": [amplifier_dict(a) for a in shown],
            }
        )
        return ExitCode.OK
    if fmt == "yaml":
        print(_yaml(shown, ws, bool(rows)), end="")
        return ExitCode.OK
    con = output.console()
    if not rows:
        con.print(EMPTY if platform is None else f"No {platform} items in the inbox. " + EMPTY)
        return ExitCode.OK
    period = f" since {start.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M}" if start else ""
    if not found:
        con.print(f"No account engaged{period}: the inbox has nothing of theirs then.")
        return ExitCode.OK
    tagged = sum(1 for a in found if a.person is not None)
    con.print(
        Text.assemble(
            (f"{plural(len(found), 'account')} engaged{period}", "bold"),
            f"; {tagged} already in people.yaml.",
        )
    )
    cells = [_cells(a, ZoneInfo(zone)) for a in shown]
    con.print(output.tabulate(TABLE, cells, con.width))
    if len(shown) < len(found):
        con.print(f"{len(found) - len(shown)} more: --limit 0 shows all.", style="dim")
    if tagged < len(found):
        con.print(
            "`eduadvocate people suggest --format yaml` writes the others as people.yaml entries.",
            style="dim",
        )
    return ExitCode.OK


def _known_platform(platform: str) -> None:
    from eduadvocate.platforms.registry import platform_names

    if platform not in platform_names():
        raise UsageError(
            f'unknown platform "{platform}"', hint=did_you_mean(platform, platform_names())
        )


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


def _cells(a: Amplifier, zone: ZoneInfo) -> list[output.Cell]:
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


def kinds_text(a: Amplifier) -> str:
    """``3 reposts, 1 reply``: the kinds it did, in the order of ``KINDS``."""
    return ", ".join(plural(n, kind) for kind, n in a.counts if n)


def amplifier_dict(a: Amplifier) -> dict[str, Any]:
    """One amplifier in ``people suggest --format json`` and ``report --format json``."""
    return {
        "platform": a.platform,
        "handle": a.handle,
        "name": a.name,
        "url": a.url,
        "total": a.total,
        "counts": dict(a.counts),
        "posts": a.posts,
        "first_seen": _iso(a.first_seen),
        "last_seen": _iso(a.last_seen),
        "person": a.person,
    }


def _yaml(shown: list[Amplifier], ws: Workspace, any_items: bool) -> str:
    if not any_items:
        return f"# {EMPTY}\n"
    new = [a for a in shown if a.person is None]
    if not new:
        return "# Everyone listed is in people.yaml already.\n"
    head = (
        f"# {plural(len(new), 'account')} that engaged with the campaign, not in people.yaml yet"
        f" (eduadvocate people suggest, {ws.now:%Y-%m-%d}).\n"
        "# Check each name, then paste these under the people in people.yaml.\n\n"
    )
    return head + people_snippet(new, ws.campaign.people, _handle_problem(ws))


def _handle_problem(ws: Workspace) -> Callable[[str, str], str | None]:
    from eduadvocate.platforms.registry import spec_class

    def problem(platform: str, handle: str) -> str | None:
        try:
            return spec_class(platform).handle_problem(handle)
        except ConfigError:
            return None

    return problem


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
