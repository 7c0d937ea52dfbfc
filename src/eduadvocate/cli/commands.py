"""The offline commands (check, render, calendar, init, schema): each opens the campaign, calls
the core, and prints. They return the exit status; :mod:`eduadvocate.cli.main` raises it.
"""

from __future__ import annotations

import atexit
import gc
import json
import shlex
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from eduadvocate.campaign.workspace import Workspace, open_campaign, open_posts_file
from eduadvocate.cli import plain
from eduadvocate.compose.check import SHARED, Analysis, analyse, analyse_folder, collecting_later
from eduadvocate.compose.render import Rendering
from eduadvocate.config.load import ConfigInvalid, ConfigReport, problem_order
from eduadvocate.config.model import Config
from eduadvocate.content.media import MediaInfo, MediaUnreadable, inspect, outside_reason, summary
from eduadvocate.content.model import Media
from eduadvocate.core.clock import Clock
from eduadvocate.core.errors import ExitCode, PostsInvalid, UsageError
from eduadvocate.core.suggest import did_you_mean
from eduadvocate.core.words import plural
from eduadvocate.timing.timespec import local_label

if TYPE_CHECKING:  # Rich is imported by the text output alone: JSON and GitHub's need none
    from eduadvocate.cli import output


def check(
    config_path: str | None, folder: str | None, fmt: str, clock: Clock, *, online: bool = False
) -> int:
    """Check the campaign, or (``folder`` names a file) that one posts file within it. Mistakes
    in the config are listed with the posts' problems (as far as the config lets the posts be
    read), then raised: the command exits 3 with the first of them on stderr."""
    with collecting_later():  # (it loads, analyses, prints and exits: see there)
        try:
            return _check(config_path, folder, fmt, clock, online=online)
        finally:
            _collected_at_exit(last=not online)


def _collected_at_exit(*, last: bool) -> None:
    """Check's end, for the cycle collector: what the run left alive (the renderer's caches
    above all) is moved to the oldest generation without a walk, and (``last``) the
    interpreter's exit does not walk it all once more only to have it freed anyway. Each walk
    cost ~50 ms or more of the bench's ~3.5 s: the first young pass once collection resumed
    went over everything allocated while it was paused, and the exit's last pass over the lot.
    Objects are still freed as their last reference goes; only cycles alive at exit stay, to
    the end of the process: check holds no file open by then, and --online, whose clients
    may hold connections, keeps the last pass."""
    gc.freeze()
    gc.unfreeze()  # (back into the oldest generation: collected as any other in a long run)
    if last:
        atexit.unregister(gc.freeze)  # (once, however many checks a process runs)
        atexit.register(gc.freeze)


def _check(
    config_path: str | None, folder: str | None, fmt: str, clock: Clock, *, online: bool
) -> int:
    invalid: ConfigInvalid | None = None
    # Without --online, check shows only problems and counts: it keeps no rendering and (the
    # folder, not one file) reads the posts files in the processes that analyse them.
    lean = not online
    folder_wide = lean and not (folder is not None and Path(folder).is_file())
    try:
        ws: Workspace | None = _open_checked(config_path, folder, clock, None, folder_wide)
    except ConfigInvalid as exc:
        invalid = exc
        config = exc.report.config
        ws = (
            _open_checked(config_path, folder, clock, config, folder_wide)
            if config is not None
            else None
        )
    # A large campaign is spread over the cores (the result is the same: compose/check.py).
    # Only --online reads the renderings (their links); without it, none are kept or sent back.
    files = 0
    if ws is None:
        result = Analysis()
    elif folder_wide:
        result, shown_files = analyse_folder(ws.config, ws.campaign, ws.now)
        files = len(shown_files)
    else:
        result = analyse(
            ws.config, ws.campaign, ws.now, workers=None, renderings=online and invalid is None
        )
        files = len(ws.campaign.files)
    if invalid is not None:
        result = _with_config_problems(result, invalid.report)
    elif online and ws is not None:
        from eduadvocate.compose.check import add_problems
        from eduadvocate.delivery.online import resolve_addresses
        from eduadvocate.delivery.publish import connector

        found = resolve_addresses(result.renderings, connector(ws.config))
        add_problems(result, found, ws.config.severity)
    status = ExitCode.INVALID_POSTS if result.errors else ExitCode.OK
    deliveries = result.deliveries
    if fmt == "json":
        plain.print_json(
            {
                "version": plain.JSON_VERSION,
                "ok": not result.errors,
                "summary": {
                    "errors": result.errors,
                    "warnings": result.warnings,
                    "posts": result.posts,
                    "deliveries": deliveries,
                    "files": files,
                },
                "problems": [plain.problem_dict(p) for p in result.problems],
            }
        )
        return _checked(status, invalid)
    if fmt == "github":
        for p in result.problems:
            print(plain.github_annotation(p))
        print(
            "".join(plain.summary(result.errors, result.warnings, result.posts, deliveries, files))
        )
        return _checked(status, invalid)
    from eduadvocate.cli import output

    con = output.console()
    if result.problems:
        con.print(output.problems_table(result.problems, con.width))
        con.print()
    con.print(output.summary_line(result.errors, result.warnings, result.posts, deliveries, files))
    return _checked(status, invalid)


def _checked(status: int, invalid: ConfigInvalid | None) -> int:
    """The status of a check, or (the config has mistakes) its error, which exits 3."""
    if invalid is not None:
        raise invalid
    return status


def _open_checked(
    config_path: str | None,
    folder: str | None,
    clock: Clock,
    config: Config | None = None,
    people_only: bool = False,
) -> Workspace:
    """Open the campaign, or (``folder`` names one posts file) only that file's posts in it.
    ``people_only``: no posts file read yet (``check``'s ``analyse_folder`` reads them)."""
    if folder is not None and Path(folder).is_file():
        return open_posts_file(config_path, folder, clock=clock, config=config)
    if folder is not None and not Path(folder).exists():
        raise UsageError(f"{folder} does not exist", hint="name a posts file or a campaign folder")
    return open_campaign(config_path, folder, clock=clock, config=config, posts=not people_only)


def _with_config_problems(result: Analysis, report: ConfigReport) -> Analysis:
    """The posts' problems and the config's, sorted by file and line. An account written wrong
    is left out of the config, so a post naming it would also read "no account named": the
    config's own problem already says what is wrong with it."""
    unknown = {f'no account named "{name}" in the config' for name in report.broken_accounts}
    posts = [
        p for p in result.problems if not (p.code == "unknown-account" and p.message in unknown)
    ]
    return replace(result, problems=sorted(report.problems + posts, key=problem_order))


def _opened(config_path: str | None, folder: str | None, clock: Clock) -> Workspace:
    """Open the campaign; refuse (exit 4) when the files themselves are broken."""
    ws = _open_checked(config_path, folder, clock)
    if ws.campaign.has_errors:
        raise PostsInvalid([p for p in ws.campaign.problems if p.severity == "error"])
    return ws


def render(
    config_path: str | None,
    folder: str | None,
    accounts: list[str],
    posts: list[str],
    fmt: str,
    clock: Clock,
    changed_since: str | None = None,
) -> int:
    # The markdown preview shows a file that cannot be read as a problem instead of refusing:
    # it is what a pull request's comment most needs to say.
    markdown = fmt == "markdown"
    ws = (
        _open_checked(config_path, folder, clock)
        if markdown
        else _opened(config_path, folder, clock)
    )
    for name in accounts:
        if name not in ws.config.accounts:
            raise UsageError(
                f'no account named "{name}"', hint=did_you_mean(name, ws.config.accounts)
            )
    known = {p.id for p in ws.campaign.posts}
    for post_id in posts:
        if post_id not in known:
            raise UsageError(f'no post with id "{post_id}"', hint=did_you_mean(post_id, known))
    selected = set(posts) or None
    changes = None
    if changed_since is not None:
        from eduadvocate.cli.changes import changes_since

        changes = changes_since(ws, changed_since)
        selected = changes.changed & (selected or changes.changed)
    # A large campaign over the cores, as check does (render and calendar run no other thread).
    result = analyse(
        ws.config,
        ws.campaign,
        ws.now,
        post_ids=selected,
        accounts=set(accounts) or None,
        workers=None,
    )
    items = [_delivery(r, result, ws) for r in result.renderings]
    if markdown:
        from eduadvocate.cli import preview

        return preview.show(ws, result, items, changes, display_zone(ws, result), selected)
    if fmt == "json":
        extra = {"changed_since": changes.as_dict()} if changes is not None else {}
        plain.print_json({"version": plain.JSON_VERSION, "deliveries": items, **extra})
        return ExitCode.OK
    from rich.text import Text

    from eduadvocate.cli import output

    con = output.console()
    for r, item in zip(result.renderings, items, strict=True):
        when = (
            _local_label(item["at"], result.schedules[r.post.id].zone)
            if item["at"]
            else "not scheduled"
        )
        if item["when"] == "now":
            when = "now (when publish next runs)"
        elif item["when"] == "recurring":
            when = f"next {when} ({item['recurrence']})"
        con.print(
            Text.assemble(
                (r.post.id, "bold"), " → ", (r.account.name, "cyan"), f" ({r.platform}), {when}"
            )
        )
        shares = r.post.shares
        if shares is not None:  # as plain text: an address from a posts file is no markup
            con.print(Text(f"{SHARED[shares[0]]} {shares[1]}"))
        if r.post.repost is not None:  # shared as it is: no text of its own to show
            con.print()
            continue
        total = len(r.parts)
        for index, part in enumerate(r.parts, 1):
            style = "red" if part.over else "green"
            title = f"{index}/{total} " if total > 1 else ""
            subtitle = Text.assemble((f"{part.length}/{part.limit}", style))
            media = "".join(_media_line(m, ws) for m in part.media)
            con.print(output.boxed(Text(part.text + media), title or None, subtitle, con.width))
        con.print()
    # What check would say of the posts shown (a link left untracked, text over a limit, a
    # missing alt text), so a look at render alone does not miss it.
    shown = {(r.post.id, r.account.name) for r in result.renderings}
    found = [
        p
        for p in result.problems
        if p.post is not None
        and any(post == p.post and p.account in (None, name) for post, name in shown)
    ]
    if found:
        errors = sum(p.severity == "error" for p in found)
        con.print(
            Text(
                f"{plural(errors, 'error')} and {plural(len(found) - errors, 'warning')}"
                " in these posts (`eduadvocate check` checks them all):",
                style="red" if errors else "yellow",
            )
        )
        con.print(output.problems_table(found, con.width))
    if changes is not None:
        con.print(Text(changes.summary(), style="dim"))
    return ExitCode.OK


def _media_info(m: Media, ws: Workspace) -> MediaInfo | None:
    """The file's facts, if it is one inside the media folder (check says why not, and a file
    outside is never read, not even to be described)."""
    root = ws.config.root
    if outside_reason(m.path, root, ws.config.media_folder) is not None:
        return None
    try:
        return inspect(root / m.path)
    except MediaUnreadable:
        return None


def _captions_said(m: Media) -> str:
    if m.no_captions:
        return "captions: none"
    if not m.captions:
        return "no captions"
    return "captions: " + ", ".join(
        f"{c.language} {c.path}" if c.language else c.path for c in m.captions
    )


def _media_line(m: Media, ws: Workspace) -> str:
    info = _media_info(m, ws)
    line = f"\n[media] {m.path} (alt: {m.alt or 'MISSING'})"
    if info is not None and info.is_video:
        line = (
            f"\n[video] {m.path} (alt: {m.alt or 'MISSING'}) {summary(info)}; {_captions_said(m)}"
        )
        if m.thumbnail is not None:
            line += f"; thumbnail: {m.thumbnail}"
    return line


def _media_json(m: Media, ws: Workspace) -> dict[str, Any]:
    """A media item in render's JSON: its path and alt text; for a video also its type, bytes,
    length in seconds, shape, captions and thumbnail (null where the file cannot be read, or
    there is no thumbnail)."""
    entry: dict[str, Any] = {"path": m.path, "alt": m.alt}
    info = _media_info(m, ws)
    if info is None or not info.is_video:
        return entry
    entry.update(
        type=info.mime,
        bytes=info.size,
        duration=info.duration,
        width=info.width,
        height=info.height,
        captions=[{"language": c.language, "path": c.path} for c in m.captions],
        no_captions=m.no_captions,
        thumbnail=m.thumbnail,
    )
    return entry


def _delivery(r: Rendering, result: Analysis, ws: Workspace) -> dict[str, Any]:
    schedule = result.schedules.get(r.post.id)
    at = None
    if schedule is not None:
        at = (
            schedule.next_after(ws.now, ws.now)
            if schedule.when == "recurring"
            else (ws.now if schedule.when == "now" else schedule.at)
        )
    return {
        "post": r.post.id,
        "account": r.account.name,
        "platform": r.platform,
        "at": _iso(at) if at else None,
        "when": schedule.when if schedule else None,
        "recurrence": schedule.recurrence.description if schedule and schedule.recurrence else None,
        "file": r.post.loc.file,
        "line": r.post.loc.line,
        "content_warning": r.content_warning,
        "reply_to": r.post.reply_to,
        "repost": r.post.repost,
        "quote": r.post.quote,
        "parts": [
            {
                "text": p.text,
                "length": p.length,
                "limit": p.limit,
                "bytes": p.bytes,
                "facets": [
                    {
                        "type": f.kind,
                        "byteStart": f.byte_start,
                        "byteEnd": f.byte_end,
                        "value": f.value,
                    }
                    for f in p.facets
                ],
                "media": [_media_json(m, ws) for m in p.media],
            }
            for p in r.parts
        ],
        "problems": [
            plain.problem_dict(p)
            for p in result.problems
            if p.post == r.post.id and p.account in (None, r.account.name)
        ],
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _local_label(iso: str, zone: ZoneInfo | None) -> str:
    return local_label(datetime.fromisoformat(iso.replace("Z", "+00:00")), zone)


def calendar(config_path: str | None, folder: str | None, days: int, fmt: str, clock: Clock) -> int:
    from eduadvocate.delivery.planning import is_untimed, plan

    ws = _opened(config_path, folder, clock)
    result = analyse(ws.config, ws.campaign, ws.now, workers=None)

    zone = display_zone(ws, result)
    end = ws.now + timedelta(days=days)
    # The same plan publish and schedule follow; every account in the calendar's window.
    planned = plan(
        ws, result, ws.now, grace=ws.config.grace, horizon=timedelta(days=days), native=False
    )
    sent = _sent_now(ws, result)
    by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
    published: set[tuple[str, str]] = set()
    for occ in planned.occurrences:
        r = occ.rendering
        at = sent.get((r.post.id, r.account.name), occ.at) if occ.when == "now" else occ.at
        if occ.at < ws.now or occ.at >= end:
            continue
        if at != occ.at:
            published.add((r.post.id, r.account.name))
        local = at.astimezone(zone)
        by_day[local.date().isoformat()].append(
            {
                "account": r.account.name,
                "platform": r.platform,
                "post": r.post.id,
                "at": _iso(at),
                "local": local.strftime("%H:%M"),
                "when": occ.when,
                "text": r.parts[0].text if r.parts else "",
                # Why publish will not send it (the post has errors, or its file cannot be read).
                "held": planned.frozen[r.post.id][0] if r.post.id in planned.frozen else None,
            }
        )
    # Posts whose time cannot be read are on no day; publish holds them until they are fixed.
    untimed = sorted({h.post for h in planned.held if is_untimed(h.key)})
    for rows in by_day.values():
        rows.sort(key=lambda d: (d["account"], d["at"], d["post"]))
    if fmt == "json":
        plain.print_json(
            {
                "version": plain.JSON_VERSION,
                "zone": str(zone),
                "from": _iso(ws.now),
                "until": _iso(end),
                "days": [{"date": day, "deliveries": rows} for day, rows in sorted(by_day.items())],
                "untimed": untimed,
            }
        )
        return ExitCode.OK
    from rich.text import Text

    from eduadvocate.cli import output

    con = output.console()
    if untimed:
        con.print(
            Text(
                f"{plural(len(untimed), 'post')} with no time that can be read, held until fixed"
                f" ({', '.join(untimed)}): run `eduadvocate check`.",
                style="red",
            )
        )
    if not by_day:
        con.print(f"Nothing scheduled in the next {plural(days, 'day')}.")
        return ExitCode.OK
    for day, rows in sorted(by_day.items()):
        heading = datetime.fromisoformat(day).strftime("%A %d %B %Y")
        con.print(Text(heading, style="bold"))
        # The account once per group in a table; in blocks, where the texts come between the
        # rows, on every row.
        grouped = _calendar_rows(rows, published, grouped=True)
        columns = _calendar_columns()
        if output.fit(columns, grouped, con.width, header=False) is not None:
            con.print(output.tabulate(columns, grouped, con.width, header=False))
        else:
            con.print(output.blocks(columns, _calendar_rows(rows, published), con.width))
        con.print()
    con.print(
        Text(
            f"Times in {zone}. {plural(sum(len(r) for r in by_day.values()), 'delivery')}"
            f" in the next {plural(days, 'day')}.",
            style="dim",
        )
    )
    return ExitCode.OK


def _calendar_columns() -> tuple[output.Column, ...]:
    from eduadvocate.cli import output

    return (
        output.Column("Account", style="cyan"),
        output.Column("Time"),
        output.Column("Post"),
        output.Column("Text", wrap=True),
    )


def _calendar_rows(
    rows: list[dict[str, Any]], published: set[tuple[str, str]], *, grouped: bool = False
) -> list[list[output.Cell]]:
    """A day's deliveries: account, local time, post, and its first line of text whole."""
    from rich.text import Text

    cells: list[list[output.Cell]] = []
    last = None
    for row in rows:
        done = (row["post"], row["account"]) in published
        cells.append(
            [
                row["account"] if row["account"] != last or not grouped else "",
                row["local"],
                row["post"],
                Text.assemble(
                    ("published: ", "green") if done else "",
                    ("held, run `eduadvocate check`: ", "red") if row["held"] else "",
                    _first_line(row["text"]),
                ),
            ]
        )
        last = row["account"]
    return cells


def _sent_now(ws: Workspace, result: Analysis) -> dict[tuple[str, str], datetime]:
    """When each ``at: now`` post went out to each account, from the ledger: the plan without a
    ledger puts such a post at this moment, which would show it as due again. Read only: a
    SQLite ledger not created yet means nothing went out, and calendar does not create it."""
    from eduadvocate.ledger import is_postgres, ledger_target, open_ledger, sqlite_path
    from eduadvocate.ledger.base import LedgerError, State

    now_posts = [p for p, s in result.schedules.items() if s.when == "now"]
    if not now_posts:
        return {}
    try:
        target = ledger_target(ws.config.ledger)
        if not is_postgres(target) and not Path(sqlite_path(target, ws.config.root)).exists():
            return {}
        ledger = open_ledger(ws.config.ledger, ws.config.root)
    except LedgerError:
        return {}  # status and publish report an unusable ledger; the calendar still shows
    try:
        return {
            (d.post_id, d.account): d.due_at
            for post in now_posts
            for d in ledger.deliveries(post_id=post)
            if d.state == State.PUBLISHED
        }
    finally:
        ledger.close()


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def display_zone(ws: Workspace, result: Analysis | None = None) -> ZoneInfo:
    """The campaign's zone: the config's default timezone, else the first post's own zone."""
    from eduadvocate.timing.occurrences import schedule_of
    from eduadvocate.timing.timespec import TimeSpecError, load_zone

    name = ws.config.defaults.timezone
    if name:
        try:
            return load_zone(name)
        except TimeSpecError:
            pass
    schedules = (
        result.schedules.values()
        if result is not None
        else filter(None, (schedule_of(post, []) for post in ws.campaign.posts))
    )
    for schedule in schedules:
        if schedule.zone is not None:
            return schedule.zone
    return ZoneInfo("UTC")


def init(folder: str, timezone: str | None, clock: Clock) -> int:
    from eduadvocate.campaign.scaffold import scaffold
    from eduadvocate.cli import output

    con = output.console()
    created, kept = scaffold(Path(folder), timezone, clock())
    for path in created:
        con.print(f"created {path}")
    for path in kept:
        con.print(f"kept    {path} (already there)")
    if not created:  # an existing campaign, left as it was: nothing new to walk through
        return ExitCode.OK
    here = Path(folder).resolve() == Path.cwd().resolve()
    con.print(
        "\nNext: "
        + ("" if here else f"cd {shlex.quote(folder)}, then ")
        + "edit posts/, then run `eduadvocate check` and `eduadvocate calendar`."
    )
    return ExitCode.OK


def schema() -> int:
    from eduadvocate.content.schema import json_schema
    from eduadvocate.platforms.registry import platform_names

    print(json.dumps(json_schema(sorted(platform_names())), indent=2))
    return ExitCode.OK
