"""The remembered readings of `at`/`from`/`until`/`every` (timing/timespec.py) give what reading
afresh gives, for any order of calls: the same value for the same text and zone, the error again
(with its message) for one that cannot be read, and never another zone's or another bound's
value. The uncached readers are the functions under the caches (``__wrapped__``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduadvocate.timing import timespec
from eduadvocate.timing.timespec import Now, TimeSpecError

FAST = settings(database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Zones whose offsets differ at the same wall time, and one with a DST gap and overlap in the
# texts below (Chicago: 2026-03-08 02:30 does not exist, 2026-11-01 01:30 happens twice).
ZONES = [
    None,
    ZoneInfo("America/Chicago"),
    ZoneInfo("Europe/Berlin"),
    ZoneInfo("Australia/Lord_Howe"),
]
TIMES = [
    "2026-12-03 18:00",
    " 2026-12-03 18:00 ",
    "2026-12-03T18:00-06:00",
    "2026-12-03 18:00 UTC",
    "2026-03-08 02:30",
    "2026-11-01 01:30",
    "2026-02-30 09:00",
    "2026-12-03",
    "2026-12-31",
    "now",
    " NOW",
    "tomorrow",
    "2026-12-03 24:00",
    "2026-12-03 09:00+15:00",
]
EVERIES = [
    "weekly on Monday 09:00",
    "weekly on monday 09:00",
    "0 9 * * MON",
    "0 9 31 2 *",
    "@daily",
    "@often",
    "every 7 hours",
    "every weekday at 5pm",
    "every day at 9",
    "monthly on the 1st at 09:00",
    "daily",
]


def outcome(read: Callable[[], object]) -> tuple[str, object]:
    """What one reading gives: its value, or its error's class and message."""
    try:
        return "value", read()
    except TimeSpecError as exc:
        return type(exc).__name__, str(exc)


def fresh_at(text: str, zone: ZoneInfo | None) -> datetime | Now:
    return timespec._parse_at.__wrapped__(text, zone)


def fresh_date_or_time(text: str, zone: ZoneInfo | None, end_of_day: bool) -> datetime:
    return timespec._parse_date_or_time.__wrapped__(text, zone, end_of_day)


calls = st.one_of(
    st.tuples(st.just("at"), st.sampled_from(TIMES), st.sampled_from(ZONES), st.just(False)),
    st.tuples(st.just("date"), st.sampled_from(TIMES), st.sampled_from(ZONES), st.booleans()),
    st.tuples(st.just("every"), st.sampled_from(EVERIES), st.just(None), st.just(False)),
    # Texts no list above has: the caches must not answer for a text they have not read.
    st.tuples(
        st.sampled_from(["at", "date", "every"]),
        st.text(alphabet="0123456789-: TZ+now@*", max_size=20),
        st.sampled_from(ZONES),
        st.booleans(),
    ),
)


def readings(
    kind: str, text: str, zone: ZoneInfo | None, end_of_day: bool
) -> tuple[tuple[str, object], tuple[str, object]]:
    """One call through the cache and the same call read afresh."""
    if kind == "at":
        return (
            outcome(lambda: timespec.parse_at(text, zone)),
            outcome(lambda: fresh_at(text, zone)),
        )
    if kind == "date":
        return (
            outcome(lambda: timespec.parse_date_or_time(text, zone, end_of_day=end_of_day)),
            outcome(lambda: fresh_date_or_time(text, zone, end_of_day)),
        )
    return (
        outcome(lambda: timespec.parse_every(text)),
        outcome(lambda: timespec._parse_every.__wrapped__(text)),
    )


@FAST
@given(st.lists(calls, min_size=1, max_size=40))
def test_remembered_readings_are_the_fresh_ones(
    sequence: list[tuple[str, str, ZoneInfo | None, bool]],
) -> None:
    for kind, text, zone, end_of_day in sequence:
        got, want = readings(kind, text, zone, end_of_day)
        assert got == want, (kind, text, zone, end_of_day)
        if kind == "every" and got[0] == "value":
            # Recurrence compares by its text only: its rule and summary must match too.
            rule, fresh = got[1], want[1]
            assert isinstance(rule, timespec.Recurrence) and isinstance(fresh, timespec.Recurrence)
            assert rule.description == fresh.description
            assert vars_of(rule._rule) == vars_of(fresh._rule)


def vars_of(rule: object) -> dict[str, object]:
    return {name: getattr(rule, name) for name in type(rule).__slots__}  # type: ignore[attr-defined]


def test_an_unreadable_time_is_an_error_every_time() -> None:
    """No error is remembered as a value: each post that has it is told."""
    for _ in range(2):
        assert outcome(lambda: timespec.parse_at("2026-03-08 02:30", ZONES[1]))[0] == (
            "NonexistentLocalTime"
        )
