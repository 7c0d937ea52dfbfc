"""When each post goes out: reads ``at``/``every``/``from``/``until`` in the post's time zone and
lists occurrences; a delivery is one (post, account, occurrence).

Pure: a function of the posts and a clock. ``at: now`` resolves to the clock's ``now`` here; the
ledger fixes the instant when a publish run first sees the post.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Literal
from zoneinfo import ZoneInfo

from eduadvocate.content.model import Post
from eduadvocate.core.errors import Location, Problem
from eduadvocate.timing.timespec import (
    AmbiguousLocalTime,
    MissingZone,
    NonexistentLocalTime,
    Now,
    Recurrence,
    TimeSpecError,
    load_zone,
    parse_at,
    parse_date_or_time,
    parse_every,
)

When = Literal["once", "now", "recurring"]


@dataclass(frozen=True, slots=True)
class Schedule:
    """A post's timing, parsed."""

    when: When
    zone: ZoneInfo | None
    at: datetime | None = None  # once
    recurrence: Recurrence | None = None
    start: datetime | None = None
    until: datetime | None = None

    def __reduce__(self) -> tuple[type[Schedule], tuple[object, ...]]:
        return type(self), _SCHEDULE_FIELDS(self)

    def occurrences(self, start: datetime, end: datetime, now: datetime) -> Iterator[datetime]:
        """Instants in [start, end): the one-shot instant, ``now`` for ``at: now``, or the recurrence."""
        if self.when == "now":
            if start <= now < end:
                yield now
            return
        if self.when == "once":
            assert self.at is not None
            if start <= self.at < end:
                yield self.at
            return
        assert self.recurrence is not None and self.zone is not None
        lo = max(start, self.start) if self.start else start
        hi = min(end, self.until + timedelta(microseconds=1)) if self.until else end
        if lo < hi:
            yield from self.recurrence.occurrences(self.zone, lo, hi)

    def next_after(
        self, moment: datetime, now: datetime, horizon_days: int = 800
    ) -> datetime | None:
        return next(self.occurrences(moment, moment + timedelta(days=horizon_days), now), None)


# Pickled as its fields and rebuilt by ``__init__``, as core/errors.py's problems are: check's
# worker processes send every post's schedule back.
_SCHEDULE_FIELDS = attrgetter(*(f.name for f in fields(Schedule)))


def zone_of(post: Post, problems: list[Problem]) -> ZoneInfo | None:
    name = post.defaults.timezone
    if not name:
        return None
    try:
        return load_zone(name)
    except TimeSpecError as exc:
        problems.append(
            Problem(
                "bad-timezone",
                "error",
                str(exc),
                post.defaults.timezone_loc or post.loc,
                post=post.id,
            )
        )
        return None


# What to write, where a time's message says only what is wrong with it.
_WRITE = {
    "at": 'write a date and time that exist, e.g. at: "2026-12-03 18:00", or at: now',
    "from": 'write a date that exists, e.g. from: "2026-12-01", or a time like "2026-12-01 09:00"',
    "until": 'write a date that exists, e.g. until: "2026-12-31", or a time like "2026-12-31 18:00"',
    "every": 'write e.g. every: "weekly on Monday 09:00" or a cron expression like "0 9 * * MON"',
}


def schedule_of(post: Post, problems: list[Problem]) -> Schedule | None:
    """Parse the post's timing; every problem is appended (None when it cannot be scheduled)."""
    zone = zone_of(post, problems)

    def bad(exc: TimeSpecError, loc: Location | None, what: str) -> None:
        code = "time-invalid"
        # Most messages say what to write; one that names a value out of range (a 13th month,
        # a 31st of April) says what is wrong, and the hint what would do.
        hint = "" if "write" in str(exc) else _WRITE.get(what, "")
        if isinstance(exc, NonexistentLocalTime):
            code = "time-nonexistent"
        elif isinstance(exc, AmbiguousLocalTime):
            code = "time-ambiguous"
        elif isinstance(exc, MissingZone):
            code = "time-no-zone"
            hint = "timezone: goes at the top of the posts file or under defaults: in the config"
        problems.append(
            Problem(code, "error", f"{what}: {exc}", loc or post.loc, hint, post=post.id)
        )

    if post.at is not None and post.every is not None:
        problems.append(
            Problem(
                "time-conflict",
                "error",
                "a post has either at: (once) or every: (repeating), not both",
                post.every_loc or post.loc,
                "keep at: for one post, or every: for a repeating one",
                post=post.id,
            )
        )
        return None
    if post.at is None and post.every is None:
        problems.append(
            Problem(
                "time-missing",
                "error",
                "the post has no at: or every:",
                post.loc,
                'add at: 2026-12-03 18:00 (once), at: now, or every: "weekly on Monday 09:00"',
                post=post.id,
            )
        )
        return None
    if post.at is not None:
        if post.start is not None or post.until is not None:
            problems.append(
                Problem(
                    "time-conflict",
                    "error",
                    "from:/until: only apply to every:",
                    post.start_loc or post.until_loc or post.loc,
                    "remove them, or write every: instead of at: for a repeating post",
                    post=post.id,
                )
            )
        try:
            at = parse_at(post.at, zone)
        except TimeSpecError as exc:
            bad(exc, post.at_loc, "at")
            return None
        if isinstance(at, Now):
            return Schedule("now", zone)
        return Schedule("once", zone, at=at)
    assert post.every is not None
    try:
        recurrence = parse_every(post.every)
    except TimeSpecError as exc:
        bad(exc, post.every_loc, "every")
        return None
    if zone is None:
        bad(MissingZone("a repeating post needs the campaign's time zone"), post.every_loc, "every")
        return None
    start = until = None
    try:
        if post.start is not None:
            start = parse_date_or_time(post.start, zone)
    except TimeSpecError as exc:
        bad(exc, post.start_loc, "from")
        return None
    try:
        if post.until is not None:
            until = parse_date_or_time(post.until, zone, end_of_day=True)
    except TimeSpecError as exc:
        bad(exc, post.until_loc, "until")
        return None
    if start and until and until < start:
        problems.append(
            Problem(
                "time-conflict",
                "error",
                "until: is before from:",
                post.until_loc,
                "make until: the later of the two",
                post=post.id,
            )
        )
        return None
    return Schedule("recurring", zone, recurrence=recurrence, start=start, until=until)
