"""Tests for eduadvocate.timing.timespec: reading `at`/`from`/`until`/`every` and DST-correct occurrences.

Cron results are cross-checked against a brute-force reference that walks every UTC minute, so
the fast day-by-day iteration in the module is never its own oracle.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time as stopwatch
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduadvocate.timing import timespec
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
    resolve_local,
)

CHICAGO = ZoneInfo("America/Chicago")
BERLIN = ZoneInfo("Europe/Berlin")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
UTC_ZONE = ZoneInfo("UTC")
MINUTE = timedelta(minutes=1)
GENERIC = 'write a cron expression like "0 9 * * MON" or e.g. "weekly on Monday 09:00"'
TIME_FORMS = 'a local time like "2026-12-03 18:00" or an instant like "2026-12-03T18:00-06:00"'
# No example database: tests must not write outside the temporary directories.
FAST = settings(database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def utc(*parts: int) -> datetime:
    year, month, day, hour, minute, second, micro = (*parts, 0, 0, 0, 0)[:7]
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def fire(text: str, zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    return list(parse_every(text).occurrences(zone, start, end))


def offset(moment: datetime, zone: ZoneInfo) -> timedelta:
    return moment.astimezone(zone).utcoffset() or timedelta(0)


def walls(instants: list[datetime], zone: ZoneInfo) -> list[str]:
    return [f"{moment.astimezone(zone):%Y-%m-%d %H:%M %z}" for moment in instants]


# --- load_zone ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["America/Chicago", " Europe/Berlin ", "UTC", "US/Central"])
def test_load_zone_returns_the_named_zone(name: str) -> None:
    assert load_zone(name) == ZoneInfo(name.strip())


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("America/Chicgo", "America/Chicago"),
        ("america/chicago", "America/Chicago"),
        ("Chicago", "America/Chicago"),
        ("new york", "America/New_York"),
        ("Europe/Berln", "Europe/Berlin"),
        ("US/Pacifc", "US/Pacific"),
    ],
)
def test_load_zone_suggests_the_closest_real_name(name: str, suggestion: str) -> None:
    with pytest.raises(TimeSpecError) as caught:
        load_zone(name)
    assert str(caught.value) == f'unknown time zone "{name}": did you mean "{suggestion}"?'


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "America", "../etc/passwd", "/etc/x"])
def test_load_zone_without_a_close_match_shows_the_expected_form(name: str) -> None:
    with pytest.raises(TimeSpecError) as caught:
        load_zone(name)
    assert str(caught.value) == (
        f'unknown time zone "{name}": use an IANA name like "America/Chicago" or "Europe/Berlin"'
    )


# --- parse_at ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["now", " NOW ", "Now"])
def test_at_now_is_the_now_sentinel(text: str) -> None:
    assert parse_at(text, CHICAGO) == Now()
    assert parse_at(text, None) == Now()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-03T18:00:00-06:00", utc(2026, 12, 4, 0, 0)),
        ("2026-12-03 18:00Z", utc(2026, 12, 3, 18, 0)),
        ("2026-12-03t18:00z", utc(2026, 12, 3, 18, 0)),
        ("2026-12-03 18:00 UTC", utc(2026, 12, 3, 18, 0)),
        ("2026-12-03T18:00+0530", utc(2026, 12, 3, 12, 30)),
        ("2026-12-03T18:00+05", utc(2026, 12, 3, 13, 0)),
        ("2026-12-03T09:05:30-05:00", utc(2026, 12, 3, 14, 5, 30)),
        ("  2026-12-03T18:00-00:00  ", utc(2026, 12, 3, 18, 0)),
    ],
)
def test_at_instant_with_offset_needs_no_zone_and_comes_back_in_utc(
    text: str, expected: datetime
) -> None:
    for zone in (None, BERLIN):
        result = parse_at(text, zone)
        assert result == expected
        assert isinstance(result, datetime)
        assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-03 18:00", utc(2026, 12, 4, 0, 0)),  # CST, -06:00
        ("2026-12-03T18:00", utc(2026, 12, 4, 0, 0)),
        ("2026-12-03 18:00:30", utc(2026, 12, 4, 0, 0, 30)),
        ("2026-12-03   9:05", utc(2026, 12, 3, 15, 5)),
        ("2026-07-03 18:00", utc(2026, 7, 3, 23, 0)),  # CDT, -05:00
        ("2027-03-14 01:59", utc(2027, 3, 14, 7, 59)),  # just before the gap
        ("2027-03-14 03:00", utc(2027, 3, 14, 8, 0)),  # the gap's end
        ("2026-11-01 00:59", utc(2026, 11, 1, 5, 59)),  # just before the overlap
        ("2026-11-01 02:00", utc(2026, 11, 1, 8, 0)),  # just after it
    ],
)
def test_at_local_time_resolves_in_the_campaign_zone(text: str, expected: datetime) -> None:
    result = parse_at(text, CHICAGO)
    assert result == expected
    assert isinstance(result, datetime)
    assert result.tzinfo is UTC


def test_at_local_time_without_a_zone_raises_missing_zone() -> None:
    with pytest.raises(MissingZone) as caught:
        parse_at("2026-12-03 18:00", None)
    message = str(caught.value)
    assert message.startswith(
        '"2026-12-03 18:00" is a local time but the campaign has no time zone'
    )
    assert "timezone:" in message
    assert '"2026-12-03T18:00-06:00"' in message


@pytest.mark.parametrize(
    "text",
    [
        "tomorrow",
        "2026-12-03",
        "18:00",
        "2026/12/03 18:00",
        "",
        "2026-12-03 18:00 America/Chicago",
        "2026-12-03 6pm",
        "2026-12-03T18:00:00.5Z",
    ],
)
def test_at_garbage_shows_the_accepted_forms(text: str) -> None:
    with pytest.raises(TimeSpecError) as caught:
        parse_at(text, CHICAGO)
    assert str(caught.value) == f'cannot read "{text}" as a time: write "now", {TIME_FORMS}'


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2026-13-03 18:00", "month must be in 1..12"),
        ("2026-02-30 18:00", "day is out of range for month"),
        ("2026-12-03 24:00", "hour must be in 0..23"),
        ("2026-12-03 18:60", "minute must be in 0..59"),
        ("2026-12-03 18:00+15:00", "UTC offset +15:00 is out of range (-12:00 to +14:00)"),
        ("2026-12-03 18:00-05:75", "UTC offset -05:75 is out of range (-12:00 to +14:00)"),
    ],
)
def test_at_invalid_values_name_the_bad_part(text: str, problem: str) -> None:
    with pytest.raises(TimeSpecError) as caught:
        parse_at(text, CHICAGO)
    assert str(caught.value) == f'cannot read "{text}" as a time: {problem}'


GAPS = [
    (
        CHICAGO,
        "2027-03-14 02:30",
        "2027-03-14 02:30 does not exist in America/Chicago (clocks jump from 02:00 to 03:00): "
        "write 01:59 CST (-06:00) or 03:00 CDT (-05:00) as an instant with its offset, "
        'e.g. "2027-03-14T03:00-05:00"',
        (utc(2027, 3, 14, 7, 59), utc(2027, 3, 14, 8, 0)),
    ),
    (
        CHICAGO,
        "2027-03-14 02:00",
        "2027-03-14 02:00 does not exist in America/Chicago (clocks jump from 02:00 to 03:00): "
        "write 01:59 CST (-06:00) or 03:00 CDT (-05:00) as an instant with its offset, "
        'e.g. "2027-03-14T03:00-05:00"',
        (utc(2027, 3, 14, 7, 59), utc(2027, 3, 14, 8, 0)),
    ),
    (
        BERLIN,
        "2027-03-28 02:30:15",
        "2027-03-28 02:30:15 does not exist in Europe/Berlin (clocks jump from 02:00 to 03:00): "
        "write 01:59 CET (+01:00) or 03:00 CEST (+02:00) as an instant with its offset, "
        'e.g. "2027-03-28T03:00+02:00"',
        (utc(2027, 3, 28, 0, 59), utc(2027, 3, 28, 1, 0)),
    ),
    (
        LORD_HOWE,
        "2026-10-04 02:15",
        "2026-10-04 02:15 does not exist in Australia/Lord_Howe (clocks jump from 02:00 to 02:30): "
        "write 01:59 (+10:30) or 02:30 (+11:00) as an instant with its offset, "
        'e.g. "2026-10-04T02:30+11:00"',
        (utc(2026, 10, 3, 15, 29), utc(2026, 10, 3, 15, 30)),
    ),
    (
        ZoneInfo("Pacific/Apia"),
        "2011-12-30 12:00",
        "2011-12-30 12:00 does not exist in Pacific/Apia (clocks jump from 00:00 to "
        "2011-12-31 00:00): write 2011-12-29 23:59 (-10:00) or 2011-12-31 00:00 (+14:00) "
        'as an instant with its offset, e.g. "2011-12-31T00:00+14:00"',
        (utc(2011, 12, 30, 9, 59), utc(2011, 12, 30, 10, 0)),
    ),
]


@pytest.mark.parametrize(("zone", "text", "message", "candidates"), GAPS)
def test_at_time_in_a_dst_gap_names_the_instants_around_it(
    zone: ZoneInfo, text: str, message: str, candidates: tuple[datetime, datetime]
) -> None:
    with pytest.raises(NonexistentLocalTime) as caught:
        parse_at(text, zone)
    assert str(caught.value) == message
    assert caught.value.candidates == candidates
    assert all(moment.tzinfo is UTC for moment in caught.value.candidates)
    assert isinstance(caught.value, TimeSpecError)
    assert isinstance(caught.value, ValueError)


OVERLAPS = [
    (
        CHICAGO,
        "2026-11-01 01:30",
        "2026-11-01 01:30 happens twice in America/Chicago (clocks go back from 02:00 to 01:00): "
        "write 01:30 CDT (-05:00) or 01:30 CST (-06:00) as an instant with its offset, "
        'e.g. "2026-11-01T01:30-05:00"',
        (utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 7, 30)),
    ),
    (
        CHICAGO,
        "2026-11-01 01:00",
        "2026-11-01 01:00 happens twice in America/Chicago (clocks go back from 02:00 to 01:00): "
        "write 01:00 CDT (-05:00) or 01:00 CST (-06:00) as an instant with its offset, "
        'e.g. "2026-11-01T01:00-05:00"',
        (utc(2026, 11, 1, 6, 0), utc(2026, 11, 1, 7, 0)),
    ),
    (
        BERLIN,
        "2026-10-25 02:30",
        "2026-10-25 02:30 happens twice in Europe/Berlin (clocks go back from 03:00 to 02:00): "
        "write 02:30 CEST (+02:00) or 02:30 CET (+01:00) as an instant with its offset, "
        'e.g. "2026-10-25T02:30+02:00"',
        (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),
    ),
    (
        LORD_HOWE,
        "2027-04-04 01:45",
        "2027-04-04 01:45 happens twice in Australia/Lord_Howe (clocks go back from 02:00 to "
        "01:30): write 01:45 (+11:00) or 01:45 (+10:30) as an instant with its offset, "
        'e.g. "2027-04-04T01:45+11:00"',
        (utc(2027, 4, 3, 14, 45), utc(2027, 4, 3, 15, 15)),
    ),
]


@pytest.mark.parametrize(("zone", "text", "message", "candidates"), OVERLAPS)
def test_at_time_in_a_dst_overlap_names_both_instants(
    zone: ZoneInfo, text: str, message: str, candidates: tuple[datetime, datetime]
) -> None:
    with pytest.raises(AmbiguousLocalTime) as caught:
        parse_at(text, zone)
    assert str(caught.value) == message
    assert caught.value.candidates == candidates
    assert all(moment.tzinfo is UTC for moment in caught.value.candidates)


@pytest.mark.parametrize(("zone", "text", "message", "candidates"), OVERLAPS)
def test_overlap_candidates_are_what_writing_the_offset_gives(
    zone: ZoneInfo, text: str, message: str, candidates: tuple[datetime, datetime]
) -> None:
    for candidate in candidates:
        offset = candidate.astimezone(zone).strftime("%z")
        assert parse_at(f"{text}{offset}", None) == candidate


def test_resolve_local_is_the_strict_resolution() -> None:
    assert resolve_local(datetime(2026, 12, 3, 18, 0), CHICAGO) == utc(2026, 12, 4, 0, 0)
    with pytest.raises(NonexistentLocalTime):
        resolve_local(datetime(2027, 3, 14, 2, 30), CHICAGO)
    with pytest.raises(AmbiguousLocalTime):
        resolve_local(datetime(2026, 11, 1, 1, 30, fold=1), CHICAGO)


def test_resolve_local_refuses_an_aware_datetime_as_a_programming_error() -> None:
    with pytest.raises(ValueError, match="naive") as caught:
        resolve_local(utc(2026, 12, 3, 18, 0), CHICAGO)
    assert not isinstance(caught.value, TimeSpecError)


# --- parse_date_or_time ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "text", "start", "end"),
    [
        (CHICAGO, "2026-12-01", utc(2026, 12, 1, 6), utc(2026, 12, 2, 5, 59, 59, 999999)),
        # The fall-back day is 25 hours long, the spring-forward day 23.
        (CHICAGO, "2026-11-01", utc(2026, 11, 1, 5), utc(2026, 11, 2, 5, 59, 59, 999999)),
        (CHICAGO, "2027-03-14", utc(2027, 3, 14, 6), utc(2027, 3, 15, 4, 59, 59, 999999)),
        (BERLIN, "2026-07-01", utc(2026, 6, 30, 22), utc(2026, 7, 1, 21, 59, 59, 999999)),
        # Midnight is skipped here: the day starts when the clocks resume at 01:00.
        (ZoneInfo("America/Santiago"), "2026-09-06", utc(2026, 9, 6, 4), None),
        (ZoneInfo("America/Havana"), "2026-03-08", utc(2026, 3, 8, 5), None),
    ],
)
def test_a_date_is_the_start_or_inclusive_end_of_the_local_day(
    zone: ZoneInfo, text: str, start: datetime, end: datetime | None
) -> None:
    assert parse_date_or_time(text, zone) == start
    if end is not None:
        assert parse_date_or_time(f" {text} ", zone, end_of_day=True) == end


def test_from_and_until_accept_times_like_at() -> None:
    assert parse_date_or_time("2026-12-03 18:00", CHICAGO) == utc(2026, 12, 4, 0, 0)
    assert parse_date_or_time("2026-12-03 18:00", CHICAGO, end_of_day=True) == utc(2026, 12, 4)
    assert parse_date_or_time("2026-12-03T18:00Z", None) == utc(2026, 12, 3, 18, 0)
    with pytest.raises(AmbiguousLocalTime):
        parse_date_or_time("2026-11-01 01:30", CHICAGO)


def test_from_and_until_refuse_now() -> None:
    with pytest.raises(TimeSpecError) as caught:
        parse_date_or_time("now", CHICAGO)
    assert str(caught.value) == (
        f'"now" only works for `at`: write a date like "2026-12-01", {TIME_FORMS}'
    )


def test_a_date_without_a_zone_raises_missing_zone() -> None:
    with pytest.raises(MissingZone, match=r'^"2026-12-01" is a local date but the campaign has no'):
        parse_date_or_time("2026-12-01", None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-02-30", 'cannot read "2026-02-30" as a date: day is out of range for month'),
        (
            "next week",
            f'cannot read "next week" as a time: write a date like "2026-12-01", {TIME_FORMS}',
        ),
        (
            "2026-12",
            f'cannot read "2026-12" as a time: write a date like "2026-12-01", {TIME_FORMS}',
        ),
    ],
)
def test_from_and_until_errors_show_the_accepted_forms(text: str, message: str) -> None:
    with pytest.raises(TimeSpecError) as caught:
        parse_date_or_time(text, CHICAGO)
    assert str(caught.value) == message


# --- parse_every: accepted forms ---------------------------------------------------------------

ENGLISH = [
    ("daily at 18:00", "0 18 * * *", "every day at 18:00"),
    ("every day at 6pm", "0 18 * * *", "every day at 18:00"),
    ("  DAILY   at  6 PM ", "0 18 * * *", "every day at 18:00"),
    ("daily at midnight", "0 0 * * *", "every day at 00:00"),
    ("every day at 12am", "0 0 * * *", "every day at 00:00"),
    ("every day at 12:30 a.m.", "30 0 * * *", "every day at 00:30"),
    ("every day at 12pm", "0 12 * * *", "every day at 12:00"),
    ("weekly on Monday 09:00", "0 9 * * 1", "every Monday at 09:00"),
    ("weekly on Mon at 9:00", "0 9 * * 1", "every Monday at 09:00"),
    ("every week on Monday at 9am", "0 9 * * 1", "every Monday at 09:00"),
    ("every Monday at 9am", "0 9 * * 1", "every Monday at 09:00"),
    ("Every monday AT 9AM", "0 9 * * 1", "every Monday at 09:00"),
    ("at 9am every Monday", "0 9 * * 1", "every Monday at 09:00"),
    ("Mondays at noon", "0 12 * * 1", "every Monday at 12:00"),
    ("every Tuesday and Thursday at 7:30", "30 7 * * 2,4", "every Tuesday and Thursday at 07:30"),
    ("every Tue & Thu at 7:30", "30 7 * * 2,4", "every Tuesday and Thursday at 07:30"),
    ("every tues, thurs at 7:30 pm", "30 19 * * 2,4", "every Tuesday and Thursday at 19:30"),
    ("every Sunday at 9:30 pm", "30 21 * * 0", "every Sunday at 21:30"),
    ("weekdays at 07:00", "0 7 * * 1-5", "every weekday at 07:00"),
    ("every weekday at 7am", "0 7 * * 1-5", "every weekday at 07:00"),
    ("on weekdays at 7am", "0 7 * * 1-5", "every weekday at 07:00"),
    ("weekends at 10:00", "0 10 * * 0,6", "every Saturday and Sunday at 10:00"),
    ("every weekend day at 10am", "0 10 * * 0,6", "every Saturday and Sunday at 10:00"),
    ("monthly on the 1st at 09:00", "0 9 1 * *", "on the 1st of every month at 09:00"),
    (
        "monthly on the 1st and 15th at 9am",
        "0 9 1,15 * *",
        "on the 1st and 15th of every month at 09:00",
    ),
    ("every month on day 15 at 12:00", "0 12 15 * *", "on the 15th of every month at 12:00"),
    ("every month on the 22nd at 12:00", "0 12 22 * *", "on the 22nd of every month at 12:00"),
    ("hourly", "0 * * * *", "every hour"),
    ("every hour", "0 * * * *", "every hour"),
    ("every 2 hours", "0 */2 * * *", "every 2 hours"),
    ("every 6 hrs", "0 */6 * * *", "every day at 00:00, 06:00, 12:00 and 18:00"),
    ("every 30 minutes", "*/30 * * * *", "every 30 minutes"),
    ("every 15 min", "*/15 * * * *", "every 15 minutes"),
    ("every minute", "* * * * *", "every minute"),
    ("every 60 minutes", "0 * * * *", "every hour"),
]


@pytest.mark.parametrize(("text", "cron", "description"), ENGLISH)
def test_plain_english_forms_read_like_their_cron_equivalent(
    text: str, cron: str, description: str
) -> None:
    rule = parse_every(text)
    assert isinstance(rule, Recurrence)
    assert rule.source == text
    assert rule.description == description
    # Both DST changes in Chicago, where a wrong reading of local time would show.
    for start in (utc(2026, 3, 7, 12), utc(2026, 10, 31, 12)):
        end = start + timedelta(days=2)
        assert list(rule.occurrences(CHICAGO, start, end)) == fire(cron, CHICAGO, start, end)


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("0 9 * * MON", "every Monday at 09:00"),
        ("0 9 * * mon-fri", "every weekday at 09:00"),
        ("*/15 * * * *", "every 15 minutes"),
        ("15 * * * *", "every hour at :15"),
        ("0 */2 * * 1-5", "every 2 hours on weekdays"),
        ("0,30 9 * * *", "every day at 09:00 and 09:30"),
        ("0 9 13 * FRI", "on the 13th of every month and every Friday at 09:00"),
        ("0 0 31 2 *", "on the 31st of February at 00:00"),
        ("30 8 * jan,JUL *", "every day in January and July at 08:30"),
        ("0 9 * DEC SAT", "every Saturday in December at 09:00"),
        ("@yearly", "on the 1st of January at 00:00"),
        ("@weekly", "every Sunday at 00:00"),
        ("*/7 * * * *", 'cron "*/7 * * * *"'),
        ("0 9 */2 * MON", 'cron "0 9 */2 * MON"'),
        ("0  9-17  *  *  *", 'cron "0 9-17 * * *"'),
    ],
)
def test_cron_expressions_get_a_plain_english_description(text: str, description: str) -> None:
    assert parse_every(text).description == description


@pytest.mark.parametrize(
    ("alias", "cron"),
    [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@DAILY", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
    ],
)
def test_cron_aliases(alias: str, cron: str) -> None:
    start, end = utc(2026, 1, 1), utc(2027, 1, 2)
    assert fire(alias, UTC_ZONE, start, end) == fire(cron, UTC_ZONE, start, end)


@pytest.mark.parametrize(
    ("cron", "minutes"),
    [
        ("*/15 * * * *", [0, 15, 30, 45]),
        ("1-5/2 * * * *", [1, 3, 5]),
        ("5/20 * * * *", [5, 25, 45]),
        ("50-59/4,1 * * * *", [1, 50, 54, 58]),
        ("0,30 * * * *", [0, 30]),
        ("7 * * * *", [7]),
    ],
)
def test_cron_minute_steps_lists_and_ranges(cron: str, minutes: list[int]) -> None:
    hour = fire(cron, UTC_ZONE, utc(2026, 5, 5, 10), utc(2026, 5, 5, 11))
    assert [moment.minute for moment in hour] == minutes


@pytest.mark.parametrize(
    ("cron", "weekdays"),
    [
        ("0 9 * * MON-FRI", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("0 9 * * 0", ["Sun"]),
        ("0 9 * * 7", ["Sun"]),
        ("0 9 * * sun", ["Sun"]),
        ("0 9 * * 5-7", ["Fri", "Sat", "Sun"]),
        ("0 9 * * FRI-SUN", ["Fri", "Sat", "Sun"]),
        ("0 9 * * 1-5/2", ["Mon", "Wed", "Fri"]),
        ("0 9 * * */3", ["Sun", "Wed", "Sat"]),
        ("0 9 * * Tue,thu", ["Tue", "Thu"]),
    ],
)
def test_cron_weekdays_names_and_sunday_as_0_or_7(cron: str, weekdays: list[str]) -> None:
    week = fire(cron, UTC_ZONE, utc(2026, 6, 1), utc(2026, 6, 8))  # Monday to Monday
    assert sorted(f"{moment:%a}" for moment in week) == sorted(weekdays)


def test_cron_hours_and_months() -> None:
    year = fire("0 8-17/3 1 jan,Jul *", UTC_ZONE, utc(2026, 1, 1), utc(2027, 1, 1))
    assert [f"{moment:%m-%d %H}" for moment in year] == [
        "01-01 08",
        "01-01 11",
        "01-01 14",
        "01-01 17",
        "07-01 08",
        "07-01 11",
        "07-01 14",
        "07-01 17",
    ]


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days)]


def test_cron_fires_on_either_day_field_when_both_are_restricted() -> None:
    fired = {
        moment.date() for moment in fire("0 9 13 * FRI", UTC_ZONE, utc(2026, 1, 1), utc(2027, 1, 1))
    }
    expected = {
        d
        for d in days_between(date(2026, 1, 1), date(2027, 1, 1))
        if d.day == 13 or d.isoweekday() == 5
    }
    assert fired == expected
    assert date(2026, 2, 13) in fired  # a Friday the 13th fires once
    assert len(fire("0 9 13 * FRI", UTC_ZONE, utc(2026, 2, 13), utc(2026, 2, 14))) == 1


def test_a_day_field_starting_with_a_star_is_unrestricted_like_cronie() -> None:
    # "*/2" counts as unrestricted, so both fields must match: odd days that are Mondays.
    anded = {
        moment.date()
        for moment in fire("0 9 */2 * MON", UTC_ZONE, utc(2026, 1, 1), utc(2027, 1, 1))
    }
    ored = {
        moment.date()
        for moment in fire("0 9 1-31/2 * MON", UTC_ZONE, utc(2026, 1, 1), utc(2027, 1, 1))
    }
    every_day = days_between(date(2026, 1, 1), date(2027, 1, 1))
    assert anded == {d for d in every_day if d.day % 2 == 1 and d.isoweekday() == 1}
    assert ored == {d for d in every_day if d.day % 2 == 1 or d.isoweekday() == 1}


def test_only_the_restricted_day_field_counts_when_the_other_is_a_star() -> None:
    every_day = days_between(date(2026, 1, 1), date(2027, 1, 1))
    mondays = {m.date() for m in fire("0 9 * * MON", UTC_ZONE, utc(2026, 1, 1), utc(2027, 1, 1))}
    thirteenths = {m.date() for m in fire("0 9 13 * *", UTC_ZONE, utc(2026, 1, 1), utc(2027, 1, 1))}
    assert mondays == {d for d in every_day if d.isoweekday() == 1}
    assert thirteenths == {d for d in every_day if d.day == 13}


# --- parse_every: errors -----------------------------------------------------------------------

CRON = "as a cron expression: "


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("61 * * * *", "minute 61 is out of range 0-59"),
        ("0 24 * * *", "hour 24 is out of range 0-23"),
        ("0 0 0 * *", "day-of-month 0 is out of range 1-31"),
        ("0 0 * 13 *", "month 13 is out of range 1-12"),
        ("0 0 * * 8", "day-of-week 8 is out of range 0-7"),
        ("0 9 * * Funday", '"Funday" is not a valid day-of-week'),
        ("0 9 * * 1-Funday", '"Funday" is not a valid day-of-week in "1-Funday"'),
        ("0 9 * foo *", '"foo" is not a valid month'),
        ("0 9 ,5 * *", '"" is not a valid day-of-month in ",5"'),
        ("*/0 * * * *", 'the step in "*/0" must be a whole number of at least 1'),
        ("*/x * * * *", 'the step in "*/x" must be a whole number of at least 1'),
        ("0 9 * * 5-1", 'the day-of-week range "5-1" runs backwards'),
        ("0 17-9 * * *", 'the hour range "17-9" runs backwards'),
        (
            "0 9 * *",
            "it has 4 fields, not the 5 of minute hour day-of-month month day-of-week, "
            'e.g. "0 9 * * MON"',
        ),
        (
            "0 9 * * * *",
            "it has 6 fields, not the 5 of minute hour day-of-month month "
            'day-of-week, e.g. "0 9 * * MON"',
        ),
    ],
)
def test_invalid_cron_names_the_bad_part(text: str, problem: str) -> None:
    with pytest.raises(TimeSpecError) as caught:
        parse_every(text)
    assert str(caught.value) == f'cannot read "{text}" {CRON}{problem}'


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("whenever", GENERIC),
        ("", GENERIC),
        ("every blue moon", GENERIC),
        ("daily at 9am on Mondays", GENERIC),
        ("every 2 days at 9am", GENERIC),
        ("monthly on the first at 9am", GENERIC),
        ("@reboot", "the cron shortcuts are @hourly, @daily, @weekly, @monthly and @yearly"),
        (
            "every Funday at 9am",
            '"Funday" is not a day of the week: write e.g. Monday, Mon or weekdays',
        ),
        (
            "every Monday and Frday at 9am",
            '"Frday" is not a day of the week: write e.g. Monday, Mon or weekdays',
        ),
        ("daily", 'say what time, e.g. "daily at 9am"'),
        ("every  Monday", 'say what time, e.g. "every Monday at 9am"'),
        ("weekly at 9am", 'say which day, e.g. "weekly on Monday 09:00"'),
        ("monthly at 9am", 'say which day of the month, e.g. "monthly on the 1st at 09:00"'),
        ("monthly on the 32nd at 9am", 'there is no day "32nd" in a month: write 1st to 31st'),
        ("daily at 18:61", '"18:61" is not a valid time: minutes go up to 59'),
        ("daily at 25:00", '"25:00" is not a valid time: hours go up to 23'),
        ("13pm daily", '"13pm" is not a valid time: with am or pm, hours go from 1 to 12'),
        ("daily at 0am", '"0am" is not a valid time: with am or pm, hours go from 1 to 12'),
        ("every Monday at 9", '"at 9" is unclear: write 9am, 9pm or 09:00'),
        (
            "every day at 9am and 5pm",
            'give one time per rule, or a cron expression like "0 9,17 * * *"',
        ),
        (
            "every 2 hours at 9am",
            '"every 2 hours" starts on the hour by itself: leave out the time',
        ),
        (
            "every 5 hours",
            "every 5 hours does not divide the day evenly: use 1, 2, 3, 4, 6, 8 or 12 "
            "hours, or a cron expression",
        ),
        (
            "every 45 minutes",
            "every 45 minutes does not divide the hour evenly: use 1, 2, 3, 4, 5, 6, "
            "10, 12, 15, 20 or 30 minutes, or a cron expression",
        ),
        (
            "every 0 minutes",
            "every 0 minutes does not divide the hour evenly: use 1, 2, 3, 4, 5, 6, "
            "10, 12, 15, 20 or 30 minutes, or a cron expression",
        ),
    ],
)
def test_unreadable_recurrences_say_what_to_write(text: str, problem: str) -> None:
    with pytest.raises(TimeSpecError) as caught:
        parse_every(text)
    assert str(caught.value) == f'cannot read "{text}" as a recurrence: {problem}'


def test_recurrences_compare_by_source_and_hide_their_rule_in_repr() -> None:
    assert parse_every("daily at 9am") == parse_every("daily at 9am")
    assert parse_every("daily at 9am") != parse_every("daily at 09:00")
    assert repr(parse_every("daily at 9am")) == (
        "Recurrence(source='daily at 9am', description='every day at 09:00')"
    )


# --- occurrences -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "start", "utc_hours"),
    [
        (CHICAGO, utc(2026, 3, 1), [15, 14, 14, 14, 14]),  # CST, then CDT from 8 March
        (CHICAGO, utc(2026, 10, 26), [14, 15, 15, 15, 15]),  # CDT, then CST from 1 November
        (BERLIN, utc(2026, 3, 23), [8, 7, 7, 7, 7]),  # CET, then CEST from 29 March
    ],
)
def test_weekly_rule_keeps_local_wall_time_across_dst(
    zone: ZoneInfo, start: datetime, utc_hours: list[int]
) -> None:
    mondays = fire("every Monday at 9am", zone, start, start + timedelta(weeks=5))
    assert [moment.hour for moment in mondays] == utc_hours
    assert {f"{moment.astimezone(zone):%a %H:%M}" for moment in mondays} == {"Mon 09:00"}


def test_lord_howe_keeps_local_time_across_its_half_hour_shift() -> None:
    days = fire("daily at 18:00", LORD_HOWE, utc(2026, 10, 2), utc(2026, 10, 6))
    assert walls(days, LORD_HOWE) == [
        "2026-10-02 18:00 +1030",
        "2026-10-03 18:00 +1030",
        "2026-10-04 18:00 +1100",
        "2026-10-05 18:00 +1100",
    ]


@pytest.mark.parametrize(
    ("zone", "rule", "start", "end", "expected"),
    [
        # A time in the gap fires when the gap ends; the days around it are untouched.
        (
            CHICAGO,
            "30 2 * * *",
            utc(2027, 3, 13),
            utc(2027, 3, 16),
            ["2027-03-13 02:30 -0600", "2027-03-14 03:00 -0500", "2027-03-15 02:30 -0500"],
        ),
        (
            BERLIN,
            "daily at 2:30",
            utc(2027, 3, 27),
            utc(2027, 3, 30),
            ["2027-03-27 02:30 +0100", "2027-03-28 03:00 +0200", "2027-03-29 02:30 +0200"],
        ),
        (
            LORD_HOWE,
            "15 2 * * *",
            utc(2026, 10, 2),
            utc(2026, 10, 5),
            ["2026-10-03 02:15 +1030", "2026-10-04 02:30 +1100", "2026-10-05 02:15 +1100"],
        ),
        # Several wall times in one gap collapse into one firing at its end.
        (
            CHICAGO,
            "*/30 * * * *",
            utc(2027, 3, 14, 7),
            utc(2027, 3, 14, 9),
            [
                "2027-03-14 01:00 -0600",
                "2027-03-14 01:30 -0600",
                "2027-03-14 03:00 -0500",
                "2027-03-14 03:30 -0500",
            ],
        ),
        (
            LORD_HOWE,
            "*/15 * * * *",
            utc(2026, 10, 3, 15, 15),
            utc(2026, 10, 3, 16),
            ["2026-10-04 01:45 +1030", "2026-10-04 02:30 +1100", "2026-10-04 02:45 +1100"],
        ),
    ],
)
def test_recurring_time_in_a_dst_gap_fires_when_the_gap_ends(
    zone: ZoneInfo, rule: str, start: datetime, end: datetime, expected: list[str]
) -> None:
    assert walls(fire(rule, zone, start, end), zone) == expected


@pytest.mark.parametrize(
    ("zone", "rule", "start", "end", "expected"),
    [
        (
            CHICAGO,
            "30 1 * * *",
            utc(2026, 10, 31),
            utc(2026, 11, 3),
            ["2026-10-31 01:30 -0500", "2026-11-01 01:30 -0500", "2026-11-02 01:30 -0600"],
        ),
        (
            BERLIN,
            "daily at 2:30",
            utc(2026, 10, 24),
            utc(2026, 10, 26),
            ["2026-10-24 02:30 +0200", "2026-10-25 02:30 +0200"],
        ),
        (
            LORD_HOWE,
            "45 1 * * *",
            utc(2027, 4, 2),
            utc(2027, 4, 5),
            ["2027-04-03 01:45 +1100", "2027-04-04 01:45 +1100", "2027-04-05 01:45 +1030"],
        ),
        # Hourly and quarter-hourly rules skip the repeated wall times.
        (
            CHICAGO,
            "hourly",
            utc(2026, 11, 1, 4),
            utc(2026, 11, 1, 10),
            [
                "2026-10-31 23:00 -0500",
                "2026-11-01 00:00 -0500",
                "2026-11-01 01:00 -0500",
                "2026-11-01 02:00 -0600",
                "2026-11-01 03:00 -0600",
            ],
        ),
        (
            LORD_HOWE,
            "*/15 * * * *",
            utc(2027, 4, 3, 14, 15),
            utc(2027, 4, 3, 16, 1),
            [
                "2027-04-04 01:15 +1100",
                "2027-04-04 01:30 +1100",
                "2027-04-04 01:45 +1100",
                "2027-04-04 02:00 +1030",
                "2027-04-04 02:15 +1030",
                "2027-04-04 02:30 +1030",
            ],
        ),
    ],
)
def test_recurring_time_in_a_dst_overlap_fires_once_on_the_first_pass(
    zone: ZoneInfo, rule: str, start: datetime, end: datetime, expected: list[str]
) -> None:
    assert walls(fire(rule, zone, start, end), zone) == expected


def test_a_gap_firing_is_found_when_the_window_starts_at_the_gaps_end() -> None:
    # Samoa skipped 2011-12-30 entirely; noon that day fires at the first instant of the 31st.
    apia = ZoneInfo("Pacific/Apia")
    fired = fire("0 12 * * *", apia, utc(2011, 12, 30, 10), utc(2011, 12, 31))
    assert walls(fired, apia) == ["2011-12-31 00:00 +1400", "2011-12-31 12:00 +1400"]
    assert fire("30 2 * * *", CHICAGO, utc(2027, 3, 14, 8), utc(2027, 3, 14, 9)) == [
        utc(2027, 3, 14, 8)
    ]


def test_window_is_half_open_and_accepts_any_aware_timezone() -> None:
    rule = parse_every("daily at 18:00")
    first, second = utc(2026, 12, 4, 0), utc(2026, 12, 5, 0)
    assert list(rule.occurrences(CHICAGO, first, second)) == [first]
    assert list(rule.occurrences(CHICAGO, first, second + MINUTE)) == [first, second]
    plus_five = timezone(timedelta(hours=5))
    assert list(rule.occurrences(CHICAGO, first.astimezone(plus_five), second)) == [first]
    assert list(rule.occurrences(CHICAGO, second, first)) == []
    assert list(rule.occurrences(CHICAGO, first, first)) == []


def test_occurrences_refuse_naive_bounds() -> None:
    with pytest.raises(ValueError, match="aware"):
        list(parse_every("hourly").occurrences(CHICAGO, datetime(2026, 1, 1), utc(2026, 1, 2)))


@pytest.mark.parametrize(
    "rule", ["0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30-31 feb *"]
)
def test_a_rule_that_never_fires_ends_at_once(rule: str) -> None:
    started = stopwatch.perf_counter()
    far = datetime.max.replace(tzinfo=UTC)
    assert fire(rule, CHICAGO, utc(2026, 1, 1), far) == []
    assert stopwatch.perf_counter() - started < 0.05


def test_rare_rules_still_fire() -> None:
    leap = fire("0 0 29 2 *", UTC_ZONE, utc(2026, 1, 1), utc(2033, 1, 1))
    assert leap == [utc(2028, 2, 29), utc(2032, 2, 29)]
    # With a weekday as well, cron's either-day rule makes "31 February" fire on February Mondays.
    mondays = fire("0 0 31 2 MON", UTC_ZONE, utc(2026, 1, 1), utc(2027, 1, 1))
    assert [moment.day for moment in mondays] == [2, 9, 16, 23]


def test_open_ended_windows_work_with_islice() -> None:
    far = datetime.max.replace(tzinfo=UTC)
    first = next(parse_every("0 0 29 2 *").occurrences(LORD_HOWE, utc(2026, 1, 1), far))
    assert walls([first], LORD_HOWE) == ["2028-02-29 00:00 +1100"]
    end_of_time = list(parse_every("@daily").occurrences(UTC_ZONE, utc(9999, 12, 28), far))
    assert end_of_time[0] == utc(9999, 12, 28)


def test_a_year_of_a_daily_rule_takes_under_10_ms() -> None:
    rule = parse_every("daily at 18:00")
    timings = []
    for _ in range(5):
        started = stopwatch.perf_counter()
        count = sum(1 for _ in rule.occurrences(CHICAGO, utc(2026, 1, 1), utc(2027, 1, 1)))
        timings.append(stopwatch.perf_counter() - started)
    assert count == 365
    assert min(timings) < 0.010


def test_import_stays_off_heavy_modules() -> None:
    """`eduadvocate check` imports this module on start-up: no scheduler, no zone listing."""
    src = Path(timespec.__file__).resolve().parents[1]
    code = (
        "import sys, eduadvocate.timing.timespec; "
        "print(sorted(m for m in ('apscheduler', 'croniter', 'dateutil', 'difflib') "
        "if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "[]"


# --- properties, and a brute-force reference for cron ------------------------------------------


@dataclass(frozen=True)
class Cron:
    """A random cron expression together with the sets it should mean, built side by side."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    either_day: bool

    def matches(self, wall: datetime) -> bool:
        if wall.minute not in self.minutes or wall.hour not in self.hours:
            return False
        if wall.month not in self.months:
            return False
        on_day, on_weekday = wall.day in self.days, wall.isoweekday() % 7 in self.weekdays
        return (on_day or on_weekday) if self.either_day else (on_day and on_weekday)


MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


@st.composite
def cron_field(
    draw: st.DrawFn, low: int, high: int, names: list[str] | None = None
) -> tuple[str, set[int]]:
    parts: list[str] = []
    values: set[int] = set()

    def name(number: int) -> str:
        if names and number - low < len(names) and draw(st.booleans()):
            return draw(st.sampled_from([str.lower, str.upper, str.title]))(names[number - low])
        return str(number)

    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(["*", "*", "*", "*/n", "a", "a-b", "a-b/n", "a/n"]))
        a, b = sorted(draw(st.lists(st.integers(low, high), min_size=2, max_size=2)))
        step = draw(st.integers(1, max(1, (high - low) // 2)))
        if kind == "*":
            parts.append("*")
            values.update(range(low, high + 1))
        elif kind == "*/n":
            parts.append(f"*/{step}")
            values.update(range(low, high + 1, step))
        elif kind == "a":
            parts.append(name(a))
            values.add(a)
        elif kind == "a-b":
            parts.append(f"{name(a)}-{name(b)}")
            values.update(range(a, b + 1))
        elif kind == "a-b/n":
            parts.append(f"{a}-{b}/{step}")
            values.update(range(a, b + 1, step))
        else:
            parts.append(f"{a}/{step}")
            values.update(range(a, high + 1, step))
    return ",".join(parts), values


@st.composite
def crons(draw: st.DrawFn) -> Cron:
    minute, minutes = draw(cron_field(0, 59))
    hour, hours = draw(cron_field(0, 23))
    day, days = draw(cron_field(1, 31))
    month, months = draw(cron_field(1, 12, MONTHS))
    weekday, weekdays = draw(cron_field(0, 7, WEEKDAYS))
    return Cron(
        text=f"{minute} {hour} {day} {month} {weekday}",
        minutes=frozenset(minutes),
        hours=frozenset(hours),
        days=frozenset(days),
        months=frozenset(months),
        weekdays=frozenset(number % 7 for number in weekdays),
        either_day=not day.startswith("*") and not weekday.startswith("*"),
    )


def brute_force(cron: Cron, zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """Every UTC minute in [start, end) on which cron should fire, checked one by one."""
    fired = []
    moment = start.replace(second=0, microsecond=0)
    moment += MINUTE if moment < start else timedelta(0)
    before = (moment - MINUTE).astimezone(zone)
    while moment < end:
        here = moment.astimezone(zone)
        wall = here.replace(tzinfo=None)
        hit = here.fold == 0 and cron.matches(wall)  # the second pass of an overlap never fires
        skipped = before.replace(tzinfo=None) + MINUTE
        while not hit and skipped < wall:  # clocks jumped forward: those wall times fire now
            hit = cron.matches(skipped)
            skipped += MINUTE
        if hit:
            fired.append(moment)
        before, moment = here, moment + MINUTE
    return fired


TRANSITIONS = {
    CHICAGO: [utc(2026, 3, 8, 8), utc(2026, 11, 1, 7), utc(2027, 3, 14, 8)],
    BERLIN: [utc(2026, 3, 29, 1), utc(2026, 10, 25, 1)],
    LORD_HOWE: [utc(2026, 10, 3, 15, 30), utc(2027, 4, 3, 15)],
    UTC_ZONE: [utc(2026, 6, 1)],
}


def near_transition(
    zone: ZoneInfo, hours: int, count: int = 1
) -> st.SearchStrategy[list[datetime]]:
    """`count` sorted instants within `hours` of one of the zone's clock changes."""
    return st.builds(
        lambda change, minutes: [change + timedelta(minutes=n) for n in sorted(minutes)],
        st.sampled_from(TRANSITIONS[zone]),
        st.lists(st.integers(-hours * 60, hours * 60), min_size=count, max_size=count),
    )


@settings(FAST, max_examples=40)
@given(cron=crons(), start=st.integers(0, 3 * 365 * 24 * 60))
def test_cron_matches_brute_force_in_utc(cron: Cron, start: int) -> None:
    begin = utc(2025, 1, 1) + timedelta(minutes=start)
    end = begin + timedelta(days=3)
    assert fire(cron.text, UTC_ZONE, begin, end) == brute_force(cron, UTC_ZONE, begin, end)


@settings(FAST, max_examples=40)
@given(data=st.data(), cron=crons(), zone=st.sampled_from([CHICAGO, BERLIN, LORD_HOWE]))
def test_cron_matches_brute_force_across_dst_changes(
    data: st.DataObject, cron: Cron, zone: ZoneInfo
) -> None:
    [begin] = data.draw(near_transition(zone, 30))
    end = begin + timedelta(hours=36)
    assert fire(cron.text, zone, begin, end) == brute_force(cron, zone, begin, end)


RULES = [text for text, _, _ in ENGLISH] + ["0 9 13 * FRI", "*/20 1-3 * * *", "@hourly"]


@settings(FAST, max_examples=60)
@given(
    data=st.data(),
    zone=st.sampled_from(list(TRANSITIONS)),
    cron=crons(),
    english=st.sampled_from(RULES),
    use_cron=st.booleans(),
)
def test_occurrence_properties(
    data: st.DataObject, zone: ZoneInfo, cron: Cron, english: str, use_cron: bool
) -> None:
    a, b, c = data.draw(near_transition(zone, 24, count=3))
    rule = parse_every(cron.text if use_cron else english)
    whole = list(rule.occurrences(zone, a, c))
    assert all(earlier < later for earlier, later in itertools.pairwise(whole))
    assert all(a <= moment < c and moment.tzinfo is UTC for moment in whole)
    assert whole == list(rule.occurrences(zone, a, b)) + list(rule.occurrences(zone, b, c))
    if use_cron:
        for moment in whole:
            here = moment.astimezone(zone)
            if not (here.fold == 0 and cron.matches(here.replace(tzinfo=None))):
                # Only a firing moved to the end of a DST gap may show another wall time.
                assert offset(moment, zone) > offset(moment - MINUTE, zone)
