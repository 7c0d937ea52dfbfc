"""``eduadvocate people suggest``: who amplifies the campaign, from the inbox in the ledger, with
who of them ``people.yaml`` already has, and the others as ``people.yaml`` entries.

It reads the ledger and the campaign's files alone: no network (``inbox pull`` fetched the
items). The figures are :func:`eduadvocate.metrics.amplifiers.amplifiers`', the same the report's
"amplifiers" section shows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from rich.text import Text

from eduadvocate.campaign.workspace import Workspace
from eduadvocate.cli import output
from eduadvocate.cli.publishing import _ledger
from eduadvocate.cli.reports import (
    AMPLIFIERS,
    amplifier_cells,
    instance_hosts,
    own_handles,
    parse_since,
)
from eduadvocate.core.clock import Clock
from eduadvocate.core.errors import ConfigError, ExitCode, UsageError
from eduadvocate.core.suggest import did_you_mean
from eduadvocate.core.words import plural
from eduadvocate.metrics.amplifiers import (
    Amplifier,
    amplifier_dict,
    amplifiers,
    people_snippet,
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
        con.print(
            EMPTY
            if platform is None
            else f"No {platform} items in the inbox: `eduadvocate inbox pull` fetches them."
        )
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
    cells = [amplifier_cells(a, ZoneInfo(zone)) for a in shown]
    con.print(output.tabulate(AMPLIFIERS, cells, con.width))
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
    return head + people_snippet(new, ws.campaign.people, _handle_problem())


def _handle_problem() -> Callable[[str, str], str | None]:
    """Why a platform's people.yaml rule would refuse a handle (None: it takes it)."""
    from eduadvocate.platforms.registry import spec_class

    def problem(platform: str, handle: str) -> str | None:
        try:
            return spec_class(platform).handle_problem(handle)
        except ConfigError:
            return None

    return problem


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
