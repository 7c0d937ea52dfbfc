"""The publishing commands (publish, status, retry, cancel, accounts verify): thin wrappers that
open the campaign and the ledger, call the core, and print."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from rich.text import Text

from eduadvocate.campaign.workspace import Workspace, open_campaign
from eduadvocate.cli import output
from eduadvocate.core.errors import ExitCode, UsageError
from eduadvocate.core.words import plural
from eduadvocate.delivery.planning import Outcome, cannot_read
from eduadvocate.ledger import open_ledger
from eduadvocate.ledger.base import Delivery, Ledger, LedgerError, State
from eduadvocate.platforms.publishing import PublishError

if TYPE_CHECKING:
    from collections.abc import Callable

    from eduadvocate.cli.progress import Follower
    from eduadvocate.cli.runtime import Runtime
    from eduadvocate.core.clock import Clock
    from eduadvocate.delivery.publish import RunReport

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


def _labeller(ws: Workspace, utc: bool = False) -> Callable[[datetime | None], str]:
    """Times for the text tables, as ``calendar`` shows them: the campaign's zone (or UTC) to
    the minute. JSON keeps ISO UTC with microseconds, its documented contract."""
    from eduadvocate.cli.commands import display_zone
    from eduadvocate.timing.timespec import local_label

    zone = ZoneInfo("UTC") if utc else display_zone(ws)

    def label(moment: datetime | None) -> str:
        return local_label(moment, zone) if moment else ""

    return label


def publish(
    config_path: str | None,
    accounts: list[str],
    dry_run: bool,
    fmt: str,
    runtime: Runtime,
    quiet: bool = False,
    posts: set[str] | None = None,
) -> int:
    from eduadvocate.cli.commands import display_zone
    from eduadvocate.cli.progress import Follower, summary
    from eduadvocate.core.stopping import Stop
    from eduadvocate.delivery.publish import Watch, publish_due

    ws = open_campaign(config_path, settle=True, require=True, clock=runtime.clock)
    _known_accounts(ws, accounts)
    con = output.console()
    err = output.console(stderr=True)
    text = fmt != "json"
    # The bar shares the screen with the lines: only when both streams are that screen.
    bar = text and not quiet and not dry_run and con.is_terminal and err.is_terminal
    follower = Follower(con, err, display_zone(ws), ws.now, quiet=quiet, bar=bar)
    stop = Stop()
    with stop.installed(), follower:
        report = publish_due(
            ws,
            accounts=set(accounts) or None,
            dry_run=dry_run,
            stop=stop,
            probe=runtime.probe,
            watch=Watch(follower.delivered, follower.started) if text else None,
            posts=posts,
        )
    if not text:
        output.print_json(
            {
                "version": output.JSON_VERSION,
                "dry_run": dry_run,
                "locked": report.locked,
                "exit_code": int(report.exit_code),
                "deliveries": [_outcome_dict(o) for o in report.outcomes],
                "held": [_outcome_dict(o) for o in report.held],
                "unreadable": [output.problem_dict(p) for p in report.unreadable],
                "skipped": report.skipped,
                "cancelled": report.cancelled,
                "reinstated": report.reinstated,
                "drifted": report.drifted,
                "withdrawn": report.withdrawn,
                "warnings": report.warnings,
                "taken_over": [{"worker": r.worker, "claims": r.claims} for r in report.taken_over],
                "interrupted": _signal_name(report.interrupted),
            }
        )
        _interrupted_line(report)
        return report.exit_code
    if report.locked:
        if not quiet:
            con.print("Another publish run holds the lock on this ledger; nothing to do.")
        return ExitCode.OK
    _say_after(report, follower, dry_run)
    if not quiet or report.exit_code != ExitCode.OK:
        said = summary(report, follower.zone, ws.now, dry_run=dry_run, expected=follower.expected)
        con.print(said, soft_wrap=True)
    _interrupted_line(report)
    return report.exit_code


def _say_after(report: RunReport, follower: Follower, dry_run: bool) -> None:
    """What the run says after its deliveries' lines (which were said as they were done)."""
    from eduadvocate.cli.progress import skipped_outcome

    say = follower.say
    for problem in report.unreadable:
        say(Text(cannot_read(problem), style="red"), True)
    for row in report.taken_over:
        say(
            Text(
                f"freed {plural(row.claims, 'claim')} of {row.worker}, which had stopped; anything it"
                " left in flight is looked up before it is sent again",
                style="yellow",
            ),
            False,
        )
    if dry_run:  # nothing was done, so nothing was said as it went
        follower.say_all(report.outcomes)
    follower.say_all(report.held)
    for key in report.skipped:
        found = skipped_outcome(key)
        if found is not None:
            post, account, at = found
            follower.delivered(
                Outcome(
                    key, post, account, "", at, "skipped", error="missed beyond the grace window"
                )
            )
    for key in report.drifted:
        say(Text(f"edited after publishing, not re-posted: {key}", style="yellow"), False)
    for key in report.cancelled:
        say(Text(f"cancelled (no longer in the files): {key}", style="dim"), False)
    for key in report.reinstated:
        say(Text(f"back in the files, pending again: {key}", style="dim"), False)
    for warning in report.warnings:
        say(Text(f"warning: {warning}", style="yellow"), True)


def _signal_name(signum: int | None) -> str | None:
    import signal

    return signal.Signals(signum).name if signum else None


def _interrupted_line(report: RunReport) -> None:
    """One line on stderr: what an interrupted run left, and how to resume."""
    if not report.interrupted:
        return
    left = f"{report.released} not started were given back; " if report.released else ""
    print(
        f"eduadvocate: interrupted ({_signal_name(report.interrupted)}): the post in flight was"
        f" finished and recorded; {left}run `eduadvocate publish` again to resume",
        file=sys.stderr,
    )


def _known_accounts(ws: Workspace, accounts: list[str]) -> None:
    from eduadvocate.core.suggest import did_you_mean

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
        "warning": o.warning,
    }


def _ledger(config_path: str | None, clock: Clock) -> tuple[Workspace, Ledger]:
    ws = open_campaign(config_path, require=True, clock=clock)
    try:
        return ws, open_ledger(ws.config.ledger, ws.config.root)
    except LedgerError as exc:
        from eduadvocate.core.errors import ConfigError

        raise ConfigError(str(exc)) from None


def delivery_dict(d: Delivery, now: datetime, stranded: bool = False) -> dict[str, Any]:
    return {
        "id": d.id,
        "key": d.key,
        "post": d.post_id,
        "account": d.account,
        "platform": d.platform,
        "at": _iso(d.due_at),
        "state": "stranded" if stranded else d.shown_state(now),
        "scheduled_for": _iso(d.scheduled_for),
        "attempts": d.attempts,
        "parts": [{"index": p.index, "id": p.remote_id, "url": p.url} for p in d.parts],
        "error": d.last_error if d.state != State.PUBLISHED else None,
        "error_kind": d.error_kind if d.state != State.PUBLISHED else None,
        "next_attempt": _iso(d.next_attempt_at),
        "claimed_by": d.lease_owner,
        "lease_expires": _iso(d.lease_expires),
        "drifted": d.drifted,
        "warning": d.warning,
    }


_NO_SHARES: dict[str, str | None] = {"repost": None, "quote": None}


def _shares(ws: Workspace) -> dict[str, dict[str, str | None]]:
    """What each repost or quote shares, from the posts as written (the ledger keeps no
    address): status's JSON fields ``repost`` and ``quote``, as render's."""
    return {p.id: {"repost": p.repost, "quote": p.quote} for p in ws.campaign.posts}


def _shared_note(what: dict[str, str | None]) -> str:
    if what["repost"]:
        return f" (repost of {what['repost']})"
    return f" (quoting {what['quote']})" if what["quote"] else ""


def _stranded(ledger: Ledger, rows: list[Delivery], now: datetime, me: str) -> set[int]:
    """Claims whose worker is gone (its lease ran out, or its process on this host died)."""
    from eduadvocate.delivery.heartbeat import gone

    started = {c.worker: c.started_at for c in ledger.claims()}
    return {
        d.id
        for d in rows
        if d.state == State.CLAIMED
        and d.lease_owner is not None
        and (
            (d.lease_expires is not None and d.lease_expires <= now)
            or gone(d.lease_owner, started.get(d.lease_owner), me=me)
        )
    }


def status(
    config_path: str | None,
    post: str | None,
    state: str | None,
    fmt: str,
    clock: Clock,
    utc: bool = False,
) -> int:
    from eduadvocate.delivery.planning import unreadable
    from eduadvocate.delivery.publish import reconcile_scheduled, worker_id

    ws, ledger = _ledger(config_path, clock)
    try:
        rows = ledger.deliveries(post_id=post, state=State(state) if state else None)
        rows, warnings = reconcile_scheduled(ws, ledger, rows)
        workers = ledger.workers()
        stranded = _stranded(ledger, rows, ws.now, worker_id())
    finally:
        ledger.close()
    problems = unreadable(ws)
    shared = _shares(ws)
    if fmt == "json":
        output.print_json(
            {
                "version": output.JSON_VERSION,
                "deliveries": [
                    delivery_dict(d, ws.now, d.id in stranded) | shared.get(d.post_id, _NO_SHARES)
                    for d in rows
                ],
                "workers": [
                    {
                        "id": w.id,
                        "started_at": _iso(w.started_at),
                        "last_seen": _iso(w.last_seen),
                        "claims": w.claims,
                    }
                    for w in workers
                ],
                "unreadable": [output.problem_dict(p) for p in problems],
                "warnings": warnings,
            }
        )
        return ExitCode.OK
    con = output.console()
    err = output.console(stderr=True)
    for problem in problems:
        err.print(Text(cannot_read(problem), style="red"))
    for warning in warnings:
        err.print(Text(f"warning: {warning}", style="yellow"))
    if not rows:
        con.print(
            "The ledger has no deliveries yet"
            + (" matching that." if post or state else ": run `eduadvocate publish`.")
        )
        return ExitCode.OK
    when = _labeller(ws, utc)
    cells: list[list[output.Cell]] = []
    for d in rows:
        shown = "stranded" if d.id in stranded else d.shown_state(ws.now)
        detail = ", ".join(p.url or p.remote_id for p in d.parts)
        if d.state != State.PUBLISHED and d.last_error:
            detail = d.last_error
        if d.next_attempt_at and d.state == State.PENDING:
            detail += f" (next try {when(d.next_attempt_at)})"
        if d.drifted:
            detail += " (edited since: not re-posted)"
        detail += _shared_note(shared.get(d.post_id, _NO_SHARES))
        if d.warning:
            detail += f" (warning: {d.warning})"
        if d.id in stranded:
            detail = (
                f"claimed by {d.lease_owner}, which has stopped (lease until"
                f" {when(d.lease_expires)}): the next run takes it over"
            )
        elif d.lease_owner:
            detail += f" (claimed by {d.lease_owner} until {when(d.lease_expires)})"
        cells.append(
            [
                str(d.id),
                d.post_id,
                d.account,
                when(d.due_at),
                Text(shown, style=_STYLE.get(shown, "")),
                detail.strip(),
            ]
        )
    con.print(output.tabulate(STATUS, cells, con.width))
    if workers:
        con.print()
        listed: list[list[output.Cell]] = []
        for w in workers:
            silent = (ws.now - w.last_seen).total_seconds()
            seen = when(w.last_seen)
            if silent > ws.config.lease.total_seconds():
                seen += " (silent: its claims expire, others take them over)"
            listed.append([w.id, when(w.started_at), seen, str(w.claims)])
        con.print(output.tabulate(WORKERS, listed, con.width))
    return ExitCode.OK


# Blocks put the short fields on a first line (``12  post budget-vote  x-main  Sat 2026-11-28
# 18:00 UTC  failed``), the link, error or next try under it.
STATUS = (
    output.Column("ID", justify="right"),
    output.Column("Post", label="post"),
    output.Column("Account"),
    output.Column("Due"),
    output.Column("State"),
    output.Column("Link, error or next try", wrap=True),
)
WORKERS = (
    output.Column("Worker", label="worker"),
    output.Column("Started", label="started"),
    output.Column("Last heartbeat", wrap=True, label="last heartbeat"),
    output.Column("Claims", label="claims", justify="right"),
)


RETRYABLE = (State.FAILED, State.UNKNOWN, State.SKIPPED, State.CANCELLED)


def retry(config_path: str | None, delivery_ids: list[int], failed: bool, clock: Clock) -> int:
    """Put the named deliveries (or, ``failed``, every failed one) back in the queue. Every named
    one is looked up first: an unknown ID or one that cannot be retried changes nothing."""
    if failed == bool(delivery_ids):
        raise UsageError(
            "name delivery IDs or --failed, not both" if failed else "name a delivery ID",
            hint="see the IDs with `eduadvocate status`, or retry every failed one with --failed",
        )
    ws, ledger = _ledger(config_path, clock)
    con = output.console()
    try:
        if failed:
            rows = ledger.deliveries(state=State.FAILED)
            if not rows:
                con.print("No failed deliveries.")
                return ExitCode.OK
        else:
            rows = [_found(ledger, i) for i in dict.fromkeys(delivery_ids)]
            stuck = [d for d in rows if d.state not in RETRYABLE]
            if stuck:
                listed = ", ".join(f"{d.id} is {d.state}" for d in stuck)
                raise UsageError(
                    f"nothing retried: {listed}",
                    hint="only failed, unknown, skipped or cancelled deliveries can be retried",
                )
        for d in rows:
            try:
                row = ledger.retry(d.id, ws.now)
            except LedgerError as exc:
                raise UsageError(str(exc)) from None
            con.print(f"{row.post_id} → {row.account}: {row.shown_state(ws.now)}")
    finally:
        ledger.close()
    return ExitCode.OK


def _found(ledger: Ledger, delivery_id: int) -> Delivery:
    found = ledger.get(delivery_id)
    if found is None:
        raise UsageError(
            f"no delivery with id {delivery_id}", hint="see the IDs with `eduadvocate status`"
        )
    return found


def cancel(config_path: str | None, delivery_id: int | None, post: str | None, clock: Clock) -> int:
    """Cancel one delivery, or every delivery of ``post`` that is not published (one waiting in
    the platform's scheduler is deleted there first); the rest are listed as left alone."""
    from eduadvocate.core.suggest import did_you_mean, shown
    from eduadvocate.delivery.publish import cancel_delivery

    if (delivery_id is None) == (post is None):
        raise UsageError(
            "name a delivery ID or --post, not both"
            if post is not None
            else "name a delivery ID or --post POST",
            hint="see the IDs and posts with `eduadvocate status`",
        )
    ws, ledger = _ledger(config_path, clock)
    lines: list[str] = []
    try:
        if delivery_id is not None:
            targets, left = [_found(ledger, delivery_id)], []
        else:
            assert post is not None
            rows = ledger.deliveries(post_id=post)
            if not rows:
                known = {d.post_id for d in ledger.deliveries()}
                in_files = any(p.id == post for p in ws.campaign.posts)
                raise UsageError(
                    f'no deliveries of post "{shown(post)}" in the ledger'
                    + (" (it has not been due yet)" if in_files else ""),
                    hint="to stop it, remove it from its posts file or change its time"
                    if in_files
                    else did_you_mean(post, known, list_choices=False)
                    or "see the posts with `eduadvocate status`",
                )
            targets = [d for d in rows if _cancellable(d, ws.now)]
            left = [d for d in rows if not _cancellable(d, ws.now)]
            if not targets:
                states = ", ".join(sorted({d.shown_state(ws.now) for d in left}))
                raise UsageError(
                    f'nothing to cancel: the {len(left)} deliveries of post "{shown(post)}"'
                    f" are {states}",
                    hint="see them with `eduadvocate status --post`",
                )
        for d in targets:
            try:
                row, note = cancel_delivery(ws, ledger, d)
            except (LedgerError, PublishError) as exc:
                raise UsageError(str(exc)) from None
            lines.append(
                f"{row.post_id} → {row.account}: {row.shown_state(ws.now)}"
                + (f" ({note})" if note else "")
            )
        lines += [
            f"{d.post_id} → {d.account}: {d.shown_state(ws.now)} (left as it is)" for d in left
        ]
    finally:
        ledger.close()
    for line in lines:
        output.console().print(line)
    return ExitCode.OK


def _cancellable(d: Delivery, now: datetime) -> bool:
    """What the ledger's cancel accepts: not yet published (or waiting in a platform's
    scheduler), and not in flight or already cancelled."""
    waiting = d.state == State.PUBLISHED and d.scheduled_for is not None and d.scheduled_for > now
    return d.state in (State.PENDING, State.FAILED, State.UNKNOWN, State.SKIPPED) or waiting


def verify_accounts(config_path: str | None, accounts: list[str], fmt: str) -> int:
    from eduadvocate.delivery.publish import connector
    from eduadvocate.platforms.publishing import PublishError

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
        con = output.console()
        cells: list[list[output.Cell]] = [
            [
                name,
                ws.config.accounts[name].platform,
                Text(("ok: " if ok else "failed: ") + detail, style="green" if ok else "red"),
            ]
            for name, ok, detail in results
        ]
        con.print(output.tabulate(VERIFIED, cells, con.width))
    return ExitCode.OK if all(ok for _, ok, _ in results) else ExitCode.CONFIG


VERIFIED = (
    output.Column("Account"),
    output.Column("Platform"),
    output.Column("Result", wrap=True),
)


def schedule(config_path: str | None, quiet: bool, runtime: Runtime) -> int:
    from eduadvocate.cli.commands import display_zone
    from eduadvocate.cli.progress import delivery_line, mark_of, next_due_words
    from eduadvocate.delivery.scheduler import LoadReport, Scheduler

    con = output.console()
    err = output.console(stderr=True)
    zones: dict[int, ZoneInfo] = {}

    def zone() -> ZoneInfo:
        ws = scheduler.ws  # a reload may change the config's zone (said only once it runs)
        if id(ws) not in zones:
            zones.clear()
            zones[id(ws)] = display_zone(ws)
        return zones[id(ws)]

    def report(o: Outcome) -> None:
        problem = mark_of(o.state).problem
        if quiet and not problem:
            return
        (err if problem else con).print(delivery_line(o, zone(), scheduler.clock()), soft_wrap=True)

    def loaded(r: LoadReport) -> None:
        if quiet:
            return
        later = next_due_words(r.next_due, zone(), scheduler.clock()) or "no post is due later"
        held = f" ({r.errors} with errors: held)" if r.errors else ""
        if r.first:
            con.print(
                f"Loaded {_count(r.posts, 'post')}{held} from {_count(r.files, 'file')} for"
                f" {_count(r.accounts, 'account')} (ledger: {r.ledger}); {later}.",
                soft_wrap=True,
            )
            return
        for change in r.changes:
            groups = [
                (what, ids)
                for what, ids in (
                    ("added", change.added),
                    ("changed", change.changed),
                    ("removed", change.removed),
                )
                if ids
            ]
            # "1 post added (budget-vote), 2 changed (rally, vote)": the noun once, first.
            told = [
                f"{_count(len(ids), 'post') if n == 0 else len(ids)} {what} ({', '.join(ids)})"
                for n, (what, ids) in enumerate(groups)
            ]
            last = change is r.changes[-1]
            con.print(
                f"{change.file} changed: "
                + (", ".join(told) if told else "no post added, changed or removed")
                + (f"{held}; {later}." if last else ""),
                soft_wrap=True,
            )

    def stamp() -> str:
        """The time of a notice, in the zone the delivery lines use."""
        return f"{datetime.now(UTC).astimezone(zone()):%H:%M:%S}"

    def notice(message: str) -> None:
        if not quiet:
            con.print(Text(f"{stamp()} {message}", style="dim"))

    def warn(message: str) -> None:
        err.print(Text(f"{stamp()} {message}", style="yellow"))

    scheduler = Scheduler(
        config_path,
        report=report,
        notice=notice,
        warn=warn,
        loaded=loaded,
        clock=runtime.clock,
        probe=runtime.probe,
    )
    return scheduler.run()


def _count(n: int, noun: str) -> str:
    return plural(n, noun)
