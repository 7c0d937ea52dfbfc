"""When posts go out: the `at`, `from`/`until` and `every` values of a post, as UTC instants.

One-off times are resolved strictly: a local time that a DST change skips or repeats is an
error naming both instants the user could mean. Recurrences (cron or plain English) run on local
wall-clock time like cronie: a time in a DST gap fires when the gap ends, one in an overlap fires
once, on its first pass. Standard library only, because `eduadvocate check` imports this module
on start-up; croniter, dateutil and APScheduler would each cost more than the whole check.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "AmbiguousLocalTime",
    "MissingZone",
    "NonexistentLocalTime",
    "Now",
    "Recurrence",
    "TimeSpecError",
    "load_zone",
    "parse_at",
    "parse_date_or_time",
    "parse_every",
    "resolve_local",
]

# Patterns stay strings: `re` compiles and caches them on first use, keeping import time low.
_STAMP = (
    r"(\d{4}-\d{2}-\d{2})(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?"
)
_DATE = r"\d{4}-\d{2}-\d{2}"
_CRONISH = r"[\d*][\w*,/-]*"
_CLOCK = (
    r"(?:\bat\s+)?(?<![\w:])(?P<clock>(?P<h12>\d{1,2})(?::(?P<m12>\d{2}))?\s*(?P<half>[ap])\.?m\b"
    r"\.?|(?P<h24>\d{1,2}):(?P<m24>\d{2})\b|(?P<word>noon|midnight)\b)"
)
_WORD = r"[a-z]+|\d+(?:st|nd|rd|th)?|\S"
_ORDINAL = r"(\d+)(?:st|nd|rd|th)?"

_ZERO = timedelta(0)
_MINUTE = timedelta(minutes=1)
_TICK = timedelta(microseconds=1)
_TIME_FORMS = 'a local time like "2026-12-03 18:00" or an instant like "2026-12-03T18:00-06:00"'
_EVERY_FORMS = 'write a cron expression like "0 9 * * MON" or e.g. "weekly on Monday 09:00"'


class TimeSpecError(ValueError):
    """A time, date, zone or recurrence that cannot be used; the message says what to write."""


class NonexistentLocalTime(TimeSpecError):
    """A local time skipped by a clock change; `candidates` are the instants around the gap."""

    def __init__(self, message: str, candidates: tuple[datetime, datetime]) -> None:
        super().__init__(message)
        self.candidates = candidates


class AmbiguousLocalTime(TimeSpecError):
    """A local time that happens twice; `candidates` are both instants, earlier first."""

    def __init__(self, message: str, candidates: tuple[datetime, datetime]) -> None:
        super().__init__(message)
        self.candidates = candidates


class MissingZone(TimeSpecError):
    """A local time or date was written, but the campaign has no time zone to read it in."""


@dataclass(frozen=True)
class Now:
    """The value of `at: now`: publish on the next run rather than at a fixed instant."""


def load_zone(name: str) -> ZoneInfo:
    """Return the IANA zone `name`, or raise TimeSpecError suggesting the closest real name."""
    key = name.strip()
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        # ValueError and OSError cover keys that are not relative paths or name a directory.
        raise TimeSpecError(_unknown_zone(key)) from exc


def _unknown_zone(key: str) -> str:
    import difflib
    import zoneinfo

    # Listing every zone reads the tzdata tree (tens of ms), so only an error pays for it.
    names = {name.lower(): name for name in zoneinfo.available_timezones()}
    cities = {name.rpartition("/")[2].lower(): name for name in names.values()}
    lowered = key.lower().replace(" ", "_")
    guess = names.get(lowered) or cities.get(lowered)
    if guess is None:
        close = difflib.get_close_matches(lowered, names, n=1, cutoff=0.75)
        guess = names[close[0]] if close else None
    if guess is not None:
        return f'unknown time zone "{key}": did you mean "{guess}"?'
    return f'unknown time zone "{key}": use an IANA name like "America/Chicago" or "Europe/Berlin"'


def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    hours, rest = divmod(abs(minutes), 60)
    return f"{'-' if minutes < 0 else '+'}{hours:02d}:{rest:02d}"


def _clock(moment: datetime) -> str:
    return f"{moment:%H:%M:%S}" if moment.second else f"{moment:%H:%M}"


def _wall(moment: datetime, day: date) -> str:
    """A wall time as HH:MM, with its date only if that is not `day` (Samoa skipped a day)."""
    return _clock(moment) if moment.date() == day else f"{moment:%Y-%m-%d} {_clock(moment)}"


def _label(instant: datetime, zone: ZoneInfo, day: date) -> str:
    """'01:59 CST (-06:00)': a candidate instant as wall time, zone abbreviation and offset."""
    local = instant.astimezone(zone)
    offset = _offset_text(local.utcoffset() or _ZERO)
    name = local.tzname() or ""
    # Zones without an abbreviation (Lord Howe's "+1030") would just repeat the offset.
    label = f"{_wall(local, day)} {name}" if name[:1].isalpha() else _wall(local, day)
    return f"{label} ({offset})"


def _instant_text(instant: datetime, zone: ZoneInfo) -> str:
    """'2026-11-01T01:30-05:00': an instant as `at:` reads it back, in the zone's wall time."""
    local = instant.astimezone(zone)
    return f"{local:%Y-%m-%d}T{_clock(local)}{_offset_text(local.utcoffset() or _ZERO)}"


def _offsets(wall: datetime, zone: ZoneInfo) -> tuple[timedelta, timedelta]:
    """UTC offsets for fold=0 and fold=1: equal except in a gap (0 < 1) or overlap (0 > 1)."""
    first = wall.replace(tzinfo=zone, fold=0)
    return first.utcoffset() or _ZERO, first.replace(fold=1).utcoffset() or _ZERO


def _as_utc(wall: datetime, offset: timedelta) -> datetime:
    return (wall - offset).replace(tzinfo=UTC)


def _transition(earlier: datetime, later: datetime, zone: ZoneInfo) -> datetime:
    """The instant in (earlier, later] where `zone` takes up the offset it has at `later`."""
    target = later.astimezone(zone).utcoffset()
    low, high = int(earlier.timestamp() // 1), -int(-later.timestamp() // 1)
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == target:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def resolve_local(naive: datetime, zone: ZoneInfo) -> datetime:
    """Aware UTC instant of a local wall time, refusing times a clock change skips or repeats."""
    if naive.tzinfo is not None:
        raise ValueError("resolve_local needs a naive datetime")
    before, after = _offsets(naive, zone)
    if before == after:
        return _as_utc(naive, before)
    day = naive.date()
    stamp = f"{day} {_clock(naive)}"
    if after > before:
        change = _transition(_as_utc(naive, after), _as_utc(naive, before), zone)
        gap = (change - _MINUTE, change)
        first, second = (_label(moment, zone, day) for moment in gap)
        jump = f"clocks jump from {_wall(change + before, day)} to {_wall(change + after, day)}"
        # The hint ends in a value `at:` takes: a label like "03:00 CDT (-05:00)" is not one.
        raise NonexistentLocalTime(
            f"{stamp} does not exist in {zone} ({jump}): write {first} or {second} "
            f'as an instant with its offset, e.g. "{_instant_text(change, zone)}"',
            gap,
        )
    both = (_as_utc(naive, before), _as_utc(naive, after))
    change = _transition(*both, zone)
    first, second = (_label(moment, zone, day) for moment in both)
    back = f"clocks go back from {_wall(change + before, day)} to {_wall(change + after, day)}"
    example = _instant_text(both[0], zone)
    raise AmbiguousLocalTime(
        f"{stamp} happens twice in {zone} ({back}): write {first} or {second} "
        f'as an instant with its offset, e.g. "{example}"',
        both,
    )


def _resolve_lenient(wall: datetime, zone: ZoneInfo) -> datetime:
    """Like cronie: a time in a gap means the gap's end, one in an overlap its first pass."""
    before, after = _offsets(wall, zone)
    if before >= after:
        return _as_utc(wall, before)
    return _transition(_as_utc(wall, after), _as_utc(wall, before), zone)


def _fixed_offset(text: str) -> timezone:
    if text.upper() in ("Z", "UTC"):
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if minutes > 59 or hours * 60 + minutes > 14 * 60:
        raise ValueError(f"UTC offset {text} is out of range (-12:00 to +14:00)")
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if text[0] == "-" else offset)


def _missing_zone(text: str, kind: str) -> MissingZone:
    return MissingZone(
        f'"{text}" is a local {kind} but the campaign has no time zone: set timezone: (an IANA '
        'name like "America/Chicago") or write an instant with its offset, '
        'e.g. "2026-12-03T18:00-06:00"'
    )


def _parse_stamp(text: str, zone: ZoneInfo | None, forms: str) -> datetime:
    match = re.fullmatch(_STAMP, text.strip(), re.IGNORECASE)
    if match is None:
        raise TimeSpecError(f'cannot read "{text}" as a time: write {forms}')
    day, hour, minute, second, offset = match.groups()
    try:
        clock = time(int(hour), int(minute), int(second or 0))
        wall = datetime.combine(date.fromisoformat(day), clock)
        fixed = None if offset is None else _fixed_offset(offset)
    except ValueError as exc:
        raise TimeSpecError(f'cannot read "{text}" as a time: {exc}') from exc
    if fixed is not None:
        return wall.replace(tzinfo=fixed).astimezone(UTC)
    if zone is None:
        raise _missing_zone(text, "time")
    return resolve_local(wall, zone)


# What is read is remembered (bounded): a campaign repeats its `every` values and often its
# times, and `check` reads every post's. A value that cannot be read is read again each time
# (functools.lru_cache keeps no exception), so each post gets its own error. The results are
# immutable, so posts may share them.
_REMEMBERED = 4096


def parse_at(text: str, zone: ZoneInfo | None) -> datetime | Now:
    """Read an `at` value: "now", an instant with an offset, or a local time in `zone`."""
    return _parse_at(text, zone)


@functools.lru_cache(maxsize=_REMEMBERED)
def _parse_at(text: str, zone: ZoneInfo | None) -> datetime | Now:
    if text.strip().lower() == "now":
        return Now()
    return _parse_stamp(text, zone, f'"now", {_TIME_FORMS}')


def parse_date_or_time(text: str, zone: ZoneInfo | None, *, end_of_day: bool = False) -> datetime:
    """Read a `from`/`until` value: a local date, or a time as `parse_at` reads it (not "now").

    A date means the first instant of that local day, or with `end_of_day` its last microsecond,
    so `until` stays an inclusive bound. A midnight that a DST change skips (Santiago, Havana)
    is taken to be when the clocks resume.
    """
    return _parse_date_or_time(text, zone, end_of_day)


@functools.lru_cache(maxsize=_REMEMBERED)
def _parse_date_or_time(text: str, zone: ZoneInfo | None, end_of_day: bool) -> datetime:
    stripped = text.strip()
    if re.fullmatch(_DATE, stripped):
        try:
            day = date.fromisoformat(stripped)
            following = day + timedelta(days=1)
        except (ValueError, OverflowError) as exc:
            raise TimeSpecError(f'cannot read "{text}" as a date: {exc}') from exc
        if zone is None:
            raise _missing_zone(text, "date")
        if end_of_day:
            return _resolve_lenient(datetime.combine(following, time()), zone) - _TICK
        return _resolve_lenient(datetime.combine(day, time()), zone)
    forms = f'a date like "2026-12-01", {_TIME_FORMS}'
    if stripped.lower() == "now":
        raise TimeSpecError(f'"now" only works for `at`: write {forms}')
    return _parse_stamp(text, zone, forms)


def _month_length(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


class _Rule:
    """A cron rule as value sets (weekday 0 is Sunday); a plain class to keep import cheap."""

    __slots__ = ("days", "either_day", "hours", "minutes", "months", "weekdays")

    def __init__(
        self,
        minutes: Iterable[int],
        hours: Iterable[int],
        days: Iterable[int] = range(1, 32),
        *,
        months: Iterable[int] = range(1, 13),
        weekdays: Iterable[int] = range(7),
        either_day: bool = False,
    ) -> None:
        self.minutes, self.hours = tuple(sorted(minutes)), tuple(sorted(hours))
        self.days, self.months = frozenset(days), frozenset(months)
        self.weekdays = frozenset(weekdays)
        # Cron's rule: when both day fields are restricted, a day matching either one fires.
        self.either_day = either_day

    def matches_day(self, day: date) -> bool:
        in_month = day.day in self.days
        on_weekday = day.isoweekday() % 7 in self.weekdays
        return (in_month or on_weekday) if self.either_day else (in_month and on_weekday)

    def never_fires(self) -> bool:
        # Every date of a month falls on every weekday in some year, so only days of the month
        # that none of the chosen months has ("0 0 31 2 *") can keep a rule silent forever.
        return not self.either_day and all(
            day > _month_length(2000, month) for month in self.months for day in self.days
        )


@dataclass(frozen=True)
class Recurrence:
    """A parsed `every` value: what the user wrote, a plain-English summary, and its rule."""

    source: str
    description: str
    _rule: _Rule = field(repr=False, compare=False)  # follows from `source`

    def occurrences(self, zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[datetime]:
        """Aware UTC instants in [start, end), in order, on local wall-clock time in `zone`."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("occurrences needs aware start and end datetimes")
        rule = self._rule
        if start >= end or rule.never_fires():
            return
        clocks = [time(hour, minute) for hour in rule.hours for minute in rule.minutes]
        # Start two local days early: a gap's end can fall on a later date than the skipped wall
        # time (Samoa skipped all of 2011-12-30). The bounds stay clear of year 1 and 9999.
        ordinal = max(_local_date(start, zone).toordinal() - 2, 2)
        last = min(_local_date(end, zone).toordinal() + 1, date(9999, 12, 30).toordinal())
        previous = None
        while ordinal <= last:
            day = date.fromordinal(ordinal)
            if day.month not in rule.months:
                ordinal += _month_length(day.year, day.month) - day.day + 1
                continue
            ordinal += 1
            if not rule.matches_day(day):
                continue
            for clock in clocks:
                # Wall times map to non-decreasing instants; those in one gap share its end.
                instant = _resolve_lenient(datetime.combine(day, clock), zone)
                if instant >= end:
                    return
                if instant >= start and instant != previous:
                    previous = instant
                    yield instant


def _local_date(moment: datetime, zone: ZoneInfo) -> date:
    try:
        return moment.astimezone(zone).date()
    except OverflowError:
        return date.max if moment.year > 1 else date.min


_WEEKDAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_MONTH_NAMES = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)
_CRON_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day-of-month", 1, 31),
    ("month", 1, 12),
    ("day-of-week", 0, 7),
)
_CRON_NAMES: tuple[dict[str, int], ...] = (
    {},
    {},
    {},
    {name[:3].lower(): number for number, name in enumerate(_MONTH_NAMES, 1)},
    {name[:3].lower(): number for number, name in enumerate(_WEEKDAY_NAMES)},
)
_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def parse_every(text: str) -> Recurrence:
    """Read an `every` value: a 5-field cron expression, an @alias, or a plain-English rule."""
    return _parse_every(text)


@functools.lru_cache(maxsize=_REMEMBERED)
def _parse_every(text: str) -> Recurrence:
    words = text.split()
    if words and words[0].startswith("@"):
        expression = _ALIASES.get(text.strip().lower())
        if expression is None:
            raise TimeSpecError(
                f'cannot read "{text}" as a recurrence: the cron shortcuts are @hourly, @daily, '
                "@weekly, @monthly and @yearly"
            )
        rule = _parse_cron(expression, text)
    elif len(words) >= 2 and all(re.fullmatch(_CRONISH, word) for word in words[:2]):
        rule = _parse_cron(text, text)
    else:
        rule = _parse_english(text)
    description = _describe(rule) or f'cron "{" ".join(words)}"'
    return Recurrence(source=text, description=description, _rule=rule)


def _parse_cron(expression: str, source: str) -> _Rule:
    fields = expression.split()
    if len(fields) != 5:
        raise TimeSpecError(
            f'cannot read "{source}" as a cron expression: it has {len(fields)} fields, not the 5 '
            'of minute hour day-of-month month day-of-week, e.g. "0 9 * * MON"'
        )
    minutes, hours, days, months, weekdays = (
        _cron_field(text, index, source) for index, text in enumerate(fields)
    )
    weekdays = {day % 7 for day in weekdays}  # cron also numbers Sunday 7
    # cronie counts a day field as restricted unless it starts with "*" ("*/2" does not count).
    either_day = not fields[2].startswith("*") and not fields[4].startswith("*")
    return _Rule(minutes, hours, days, months=months, weekdays=weekdays, either_day=either_day)


def _cron_field(text: str, index: int, source: str) -> set[int]:
    name, low, high = _CRON_FIELDS[index]

    def bad(problem: str) -> TimeSpecError:
        return TimeSpecError(f'cannot read "{source}" as a cron expression: {problem}')

    def value(token: str) -> int:
        if token.isascii() and token.isdigit():
            if not low <= int(token) <= high:
                raise bad(f"{name} {int(token)} is out of range {low}-{high}")
            return int(token)
        if token.lower() in _CRON_NAMES[index]:
            return _CRON_NAMES[index][token.lower()]
        raise bad(f'"{token}" is not a valid {name}' + (f' in "{text}"' if token != text else ""))

    values: set[int] = set()
    for item in text.split(","):
        body, slash, step_text = item.partition("/")
        step = int(step_text) if step_text.isascii() and step_text.isdigit() else 0
        if slash and step < 1:
            raise bad(f'the step in "{item}" must be a whole number of at least 1')
        if body == "*":
            first, last = low, high
        else:
            start, dash, stop = body.partition("-")
            first = value(start)
            # "5/15" runs from 5 to the end of the range in steps of 15, as in cronie.
            last = value(stop) if dash else (high if slash else first)
            if index == 4 and dash and last == 0 < first:
                last = 7  # "FRI-SUN" runs through Sunday, which cron also numbers 7
            if last < first:
                raise bad(f'the {name} range "{body}" runs backwards')
        values.update(range(first, last + 1, step or 1))
    return values


_FILLER = frozenset({"at", "on", "the", "and", ",", "&", "."})
_DAY_WORDS: dict[str, frozenset[int]] = {
    "weekday": frozenset(range(1, 6)),
    "weekdays": frozenset(range(1, 6)),
    "weekend": frozenset({0, 6}),
    "weekends": frozenset({0, 6}),
    "tues": frozenset({2}),
    "weds": frozenset({3}),
    "thur": frozenset({4}),
    "thurs": frozenset({4}),
}
for _number, _name in enumerate(_WEEKDAY_NAMES):
    for _key in (_name.lower(), f"{_name.lower()}s", _name[:3].lower()):
        _DAY_WORDS[_key] = frozenset({_number})
_HOUR_WORDS = frozenset({"hour", "hours", "hr", "hrs", "h"})
_MINUTE_WORDS = frozenset({"minute", "minutes", "min", "mins", "m"})


def _every_error(text: str, problem: str = _EVERY_FORMS) -> TimeSpecError:
    return TimeSpecError(f'cannot read "{text}" as a recurrence: {problem}')


def _parse_english(text: str) -> _Rule:
    clocks = list(re.finditer(_CLOCK, text, re.IGNORECASE))
    if len(clocks) > 1:
        raise _every_error(text, 'give one time per rule, or a cron expression like "0 9,17 * * *"')
    clock = _read_clock(clocks[0], text) if clocks else None
    bare = None if clocks else re.search(r"\bat\s+(\d{1,2})\b(?!:)", text, re.IGNORECASE)
    if bare is not None:
        hour = int(bare[1])
        raise _every_error(
            text, f'"{bare[0]}" is unclear: write {hour}am, {hour}pm or {hour:02d}:00'
        )
    rest = text if not clocks else text[: clocks[0].start()] + " " + text[clocks[0].end() :]
    words = [word for word in re.findall(_WORD, rest, re.IGNORECASE) if word.lower() not in _FILLER]
    keys = [word.lower() for word in words]
    every = keys[:1] == ["every"]
    if every:
        words, keys = words[1:], keys[1:]
    if not keys:
        raise _every_error(text)

    if keys == ["hourly"] or (every and keys == ["hour"]):
        return _interval_rule(1, "hour", clock, text)
    if every and keys == ["minute"]:
        return _interval_rule(1, "minute", clock, text)
    if every and len(keys) == 2 and keys[0].isdigit():
        if keys[1] in _HOUR_WORDS:
            return _interval_rule(int(keys[0]), "hour", clock, text)
        if keys[1] in _MINUTE_WORDS:
            return _interval_rule(int(keys[0]), "minute", clock, text)
        raise _every_error(text)

    days: Iterable[int] = range(1, 32)
    weekdays: Iterable[int] = range(7)
    if keys[0] == ("day" if every else "daily"):
        if keys[1:]:
            raise _every_error(text)
    elif keys[0] == ("month" if every else "monthly"):
        days = _month_days(words[1:], text)
    elif keys[0] == ("week" if every else "weekly"):
        weekdays = _weekdays(words[1:], text)
    elif every or keys[0] in _DAY_WORDS:
        weekdays = _weekdays(words, text)
    else:
        raise _every_error(text)
    if clock is None:
        raise _every_error(text, f'say what time, e.g. "{" ".join(text.split())} at 9am"')
    return _Rule([clock.minute], [clock.hour], days, weekdays=weekdays)


def _read_clock(match: re.Match[str], text: str) -> time:
    if match["word"] is not None:
        return time(12 if match["word"].lower() == "noon" else 0)
    hour, minute = int(match["h12"] or match["h24"]), int(match["m12"] or match["m24"] or 0)
    invalid = f'"{match["clock"]}" is not a valid time'
    if minute > 59:
        raise _every_error(text, f"{invalid}: minutes go up to 59")
    if match["half"] is None:
        if hour > 23:
            raise _every_error(text, f"{invalid}: hours go up to 23")
        return time(hour, minute)
    if not 1 <= hour <= 12:
        raise _every_error(text, f"{invalid}: with am or pm, hours go from 1 to 12")
    return time(hour % 12 + (12 if match["half"].lower() == "p" else 0), minute)


def _interval_rule(count: int, unit: str, clock: time | None, text: str) -> _Rule:
    span = 24 if unit == "hour" else 60
    name = f"every {count} {unit}s" if count != 1 else f"every {unit}"
    if clock is not None:
        raise _every_error(text, f'"{name}" starts on the hour by itself: leave out the time')
    # Cron-style steps restart every day (or hour), so only divisors of it give even spacing.
    if not 1 <= count <= span or span % count:
        divisors = [str(number) for number in range(1, span) if span % number == 0]
        raise _every_error(
            text,
            f"{name} does not divide the {'day' if span == 24 else 'hour'} evenly: use "
            f"{_join(divisors, 'or')} {unit}s, or a cron expression",
        )
    steps = range(0, span, count)
    return _Rule([0], steps) if unit == "hour" else _Rule(steps, range(24))


def _weekdays(words: list[str], text: str) -> frozenset[int]:
    found: set[int] = set()
    for word in words:
        key = word.lower()
        if key in ("day", "days"):
            continue  # "every weekend day"
        if key in _DAY_WORDS:
            found |= _DAY_WORDS[key]
        elif key.endswith(("day", "days")) or key[:3] in _CRON_NAMES[4]:
            problem = f'"{word}" is not a day of the week: write e.g. Monday, Mon or weekdays'
            raise _every_error(text, problem)
        else:
            raise _every_error(text)
    if not found:
        raise _every_error(text, 'say which day, e.g. "weekly on Monday 09:00"')
    return frozenset(found)


def _month_days(words: list[str], text: str) -> frozenset[int]:
    found: set[int] = set()
    for word in words:
        if word.lower() in ("day", "days"):
            continue  # "every month on day 15"
        match = re.fullmatch(_ORDINAL, word, re.IGNORECASE)
        if match is None:
            raise _every_error(text)
        if not 1 <= int(match[1]) <= 31:
            raise _every_error(text, f'there is no day "{word}" in a month: write 1st to 31st')
        found.add(int(match[1]))
    if not found:
        raise _every_error(text, 'say which day of the month, e.g. "monthly on the 1st at 09:00"')
    return frozenset(found)


def _join(items: Iterable[str], conjunction: str = "and") -> str:
    *head, tail = items
    return f"{', '.join(head)} {conjunction} {tail}" if head else tail


def _ordinal(number: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{'th' if 11 <= number % 100 <= 13 else suffix}"


def _describe(rule: _Rule) -> str | None:
    """A plain-English summary ("every Monday at 09:00"), or None if it would not be brief."""
    days = _describe_days(rule)
    if days is None:
        return None
    every, on = days
    if len(rule.hours) * len(rule.minutes) <= 4:
        clocks = [f"{hour:02d}:{minute:02d}" for hour in rule.hours for minute in rule.minutes]
        return f"{every} at {_join(clocks)}"
    if rule.minutes == (0,) and len(rule.hours) > 1:
        step, span, values, unit = rule.hours[1] - rule.hours[0], 24, rule.hours, "hour"
    elif rule.hours == tuple(range(24)) and len(rule.minutes) == 1:
        return f"every hour at :{rule.minutes[0]:02d} {on}".rstrip()
    elif rule.hours == tuple(range(24)):
        step = rule.minutes[1] - rule.minutes[0]
        span, values, unit = 60, rule.minutes, "minute"
    else:
        return None
    if span % step or values != tuple(range(0, span, step)):
        return None
    return f"{'every ' + unit if step == 1 else f'every {step} {unit}s'} {on}".rstrip()


def _describe_days(rule: _Rule) -> tuple[str, str] | None:
    """The rule's days as read before "at 09:00" and after "every 2 hours"; None if too long."""
    every_month = len(rule.months) == 12
    months = _join(_MONTH_NAMES[month - 1] for month in sorted(rule.months))
    in_months = "" if every_month else f" in {months}"
    of_months = "of every month" if every_month else f"of {months}"
    all_days, all_weekdays = len(rule.days) == 31, len(rule.weekdays) == 7
    dates = _join(_ordinal(day) for day in sorted(rule.days)) if len(rule.days) <= 4 else None
    named = [_WEEKDAY_NAMES[day] for day in sorted(rule.weekdays, key=lambda day: (day - 1) % 7)]
    if rule.weekdays == _DAY_WORDS["weekdays"]:
        every_week, on_week = "every weekday", "on weekdays"
    else:
        every_week, on_week = f"every {_join(named)}", f"on {_join(f'{n}s' for n in named)}"
    if rule.either_day:
        dated = f"on the {dates} {of_months}"
        return None if dates is None else (f"{dated} and {every_week}", f"{dated} and {on_week}")
    if not all_days:
        return None if dates is None or not all_weekdays else (f"on the {dates} {of_months}",) * 2
    if not all_weekdays:
        return f"{every_week}{in_months}", f"{on_week}{in_months}"
    return f"every day{in_months}", in_months.strip()


def local_label(moment: datetime, zone: ZoneInfo | None) -> str:
    """An instant as people read it: weekday, date and minute in ``zone`` (UTC without one)."""
    return moment.astimezone(zone or UTC).strftime("%a %Y-%m-%d %H:%M %Z")
