"""What ``publish`` and ``schedule`` say as they go: one line per delivery in a fixed form you
can grep, the run's one-line summary ending with when the next post is due, and publish's
progress bar on a terminal.

A delivery line is ``TIME  MARK STATE  POST  ACCOUNT  DETAIL``, fields two spaces apart:
``TIME`` is the due time in the campaign's zone (``HH:MM``, with the date in front when it is
not today's), ``MARK STATE`` one of ``✓ published``, ``✓ scheduled``, ``→ would publish``,
``… waiting``, ``– cancelled`` (said on stdout) or ``✗ failed``, ``? in doubt``, ``! held``,
``✗ skipped`` (problems: said on stderr), and ``DETAIL`` the links, or the reason.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rich.text import Text

from eduadvocate.core.errors import ErrorKind
from eduadvocate.core.words import plural
from eduadvocate.delivery.planning import is_untimed
from eduadvocate.timing.timespec import local_label

if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import TracebackType
    from zoneinfo import ZoneInfo

    from rich.console import Console
    from rich.progress import Progress, TaskID

    from eduadvocate.delivery.planning import Outcome
    from eduadvocate.delivery.publish import RunReport


@dataclass(frozen=True, slots=True)
class Mark:
    words: str  # the mark and the state, as printed ("✓ published")
    style: str
    problem: bool  # said on stderr, and even with --quiet


MARKS = {
    "published": Mark("✓ published", "green", False),
    "scheduled": Mark("✓ scheduled", "green", False),
    "would-publish": Mark("→ would publish", "cyan", False),
    "pending": Mark("… waiting", "yellow", False),
    "cancelled": Mark("– cancelled", "dim", False),
    "failed": Mark("✗ failed", "red", True),
    "unknown": Mark("? in doubt", "red", True),
    # Claimed at the end of a run: the ledger could not record what happened; the claim expires
    # and the next run looks the post up first.
    "claimed": Mark("? in doubt", "red", True),
    "held": Mark("! held", "red", True),
    "skipped": Mark("✗ skipped", "magenta", True),
}


def mark_of(state: str) -> Mark:
    return MARKS.get(state, Mark(state, "", False))


def clock_label(moment: datetime, zone: ZoneInfo, now: datetime) -> str:
    """``HH:MM`` in ``zone``, with the date in front when it is not ``now``'s day there."""
    local = moment.astimezone(zone)
    if local.date() == now.astimezone(zone).date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def delivery_line(o: Outcome, zone: ZoneInfo, now: datetime) -> Text:
    """One delivery as one line (see the module docstring)."""
    mark = mark_of(o.state)
    if o.state in ("published", "scheduled", "would-publish"):
        detail = ", ".join(url or rid for rid, url in o.parts)
        if o.warning:
            detail += f" (warning: {o.warning})"
    else:
        detail = o.error or ""
        if o.next_attempt and o.state == "pending":
            detail += f" (next try {clock_label(o.next_attempt, zone, now)})"
    # A post held because its time cannot be read has no due time to show.
    when = "--:--" if is_untimed(o.key) else clock_label(o.at, zone, now)
    fields = [when, mark.words, o.post, o.account, detail.strip()]
    line = Text("  ".join(f for f in fields if f))
    line.stylize(mark.style, len(fields[0]) + 2, len(fields[0]) + 2 + len(mark.words))
    return line


def skipped_outcome(key: str) -> tuple[str, str, datetime] | None:
    """(post, account, due) of a delivery key (``post|account|ISO``); None if it is not one."""
    post, _, rest = key.partition("|")
    account, _, at = rest.rpartition("|")
    try:
        return post, account, datetime.fromisoformat(at)
    except ValueError:
        return None


def in_words(delta: timedelta) -> str:
    """How long until then, as people say it: "in 2 h 5 min", "in 3 days 4 h" (to the minute,
    rounded down; "in less than a minute" below one)."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes == 0:
        return "in less than a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"in {plural(days, 'day')}" + (f" {hours} h" if hours else "")
    if hours:
        return f"in {hours} h" + (f" {minutes} min" if minutes else "")
    return f"in {minutes} min"


def next_due_words(at: datetime | None, zone: ZoneInfo, now: datetime) -> str:
    """ "next post due at Mon 2026-12-07 09:00 CST (in 2 h 5 min)", or "" when none is."""
    if at is None:
        return ""
    return f"next post due at {local_label(at, zone)} ({in_words(at - now)})"


def _named(items: list[str], most: int = 3) -> str:
    """Up to ``most`` names, then how many more ("" stands for one never claimed, unnamed)."""
    known = [i for i in items if i][:most]
    more = len(items) - len(known)
    return ", ".join(known) + (f" and {more} more" if more else "")


@dataclass(slots=True)
class Tally:
    """The deliveries of one run, by what became of them."""

    done: list[str]  # published (or, in a dry run, would be)
    ahead: list[str]  # handed to a platform's scheduler before they are due
    problems: dict[str, list[str]]  # "failed", "in doubt", ... → "account post"

    @property
    def due(self) -> int:
        return len(self.done) + sum(len(v) for v in self.problems.values())


# The order the summary names them in, and what each is called there.
GROUPS = ("failed", "in doubt", "to retry", "not started", "held", "skipped", "cancelled")


def tally(report: RunReport) -> Tally:
    out = Tally([], [], {g: [] for g in GROUPS})
    for o in [*report.held, *report.outcomes]:
        who = f"{o.account} {o.post}"
        if o.state in ("published", "would-publish"):
            out.done.append(who)
        elif o.state == "scheduled":
            out.ahead.append(who)
        elif o.state == "pending" and o.error_kind == ErrorKind.WAITING:
            continue  # claimed ahead for a platform's scheduler, published when due: not due
        elif o.state == "pending":
            out.problems["not started" if o.error_kind == ErrorKind.STOPPED else "to retry"].append(
                who
            )
        elif o.state in ("unknown", "claimed"):
            out.problems["in doubt"].append(who)
        elif o.state in out.problems:
            out.problems[o.state].append(who)
        else:
            out.problems["failed"].append(who)
    for key in report.skipped:
        found = skipped_outcome(key)
        out.problems["skipped"].append(f"{found[1]} {found[0]}" if found else key)
    return out


def summary(
    report: RunReport, zone: ZoneInfo, now: datetime, *, dry_run: bool, expected: int = 0
) -> str:
    """The run in one line: "Published 3 of 4 due (1 failed: x-main budget-vote); next post due
    at Mon 2026-12-07 09:00 CST (in 2 h 5 min)." ``expected``: how many were due when it
    started; a stopped run counts the ones it never claimed as not started."""
    counted = tally(report)
    if report.interrupted and expected > counted.due:
        unnamed = expected - counted.due
        named = counted.problems["not started"]
        counted.problems["not started"] = named + [""] * unnamed
    clauses = []
    if counted.due == 0 and report.elsewhere:
        # "Nothing was due" would hide them.
        workers = ", ".join(sorted({d.lease_owner or "?" for d in report.elsewhere}))
        n = len(report.elsewhere)
        clauses.append(
            f"Nothing for this run: {n} deliver{'ies are' if n != 1 else 'y is'} claimed by"
            f" {workers} (see `eduadvocate status`; a run for their accounts takes over any"
            " whose worker has stopped)"
        )
    elif counted.due == 0:
        clauses.append("Nothing is due" if dry_run else "Nothing was due")
    else:
        verb = "Would publish" if dry_run else "Published"
        told = [
            f"{len(names)} {group}" + (f": {_named(names)}" if any(names) else "")
            for group, names in counted.problems.items()
            if names
        ]
        clauses.append(
            f"{verb} {len(counted.done)} of {counted.due} due"
            + (f" ({'; '.join(told)})" if told else "")
        )
    if counted.ahead:
        n = len(counted.ahead)
        clauses.append(f"{plural(n, 'post')} handed to the platform's scheduler")
    later = next_due_words(report.next_due, zone, now)
    if later:
        clauses.append(later)
    return "; ".join(clauses) + "."


class Follower:
    """A run's deliveries as they are done: a line each (problems on stderr), and on a terminal
    a transient progress bar on stderr with the lines printed above it. Publishing threads call
    :meth:`delivered` at once, hence the lock."""

    def __init__(
        self,
        con: Console,
        err: Console,
        zone: ZoneInfo,
        now: datetime,
        *,
        quiet: bool = False,
        bar: bool = False,
    ) -> None:
        self.con, self.err = con, err
        self.zone, self.now = zone, now
        self.quiet = quiet
        self.expected = 0  # how many were due when the run started
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if bar:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._progress = Progress(
                TextColumn("publishing"),
                BarColumn(),
                MofNCompleteColumn(),
                console=err,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )

    def __enter__(self) -> Follower:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def started(self, total: int) -> None:
        self.expected = total
        if self._progress is not None:
            self._task = self._progress.add_task("publishing", total=max(total, 1))

    def delivered(self, outcome: Outcome) -> None:
        with self._lock:
            if self._progress is not None and self._task is not None:
                self._progress.advance(self._task)
            self.say(delivery_line(outcome, self.zone, self.now), mark_of(outcome.state).problem)

    def say_all(self, outcomes: Iterable[Outcome]) -> None:
        for outcome in outcomes:
            self.delivered(outcome)

    def say(self, line: Text, problem: bool) -> None:
        """A line, whole (never folded: one line per delivery, however narrow the terminal)."""
        if self.quiet and not problem:
            return
        if self._progress is not None:
            self._progress.console.print(line, soft_wrap=True)  # above the bar
        else:
            (self.err if problem else self.con).print(line, soft_wrap=True)
