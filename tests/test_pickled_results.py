"""What check's worker processes send back arrives whole: a Location, a Problem or a Schedule
pickled as its fields (core/errors.py, timing/occurrences.py) is what the dataclass's own slots
pickling (``__getstate__``/``__setstate__``, kept here as the old path) would give, field by
field, for any values, under every pickle protocol from 2 (a recurrence's rule has slots, which
protocols 0 and 1 cannot pickle; multiprocessing uses the default, 4 or 5)."""

from __future__ import annotations

import pickle
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduadvocate.core.errors import Location, Problem
from eduadvocate.timing.occurrences import Schedule
from eduadvocate.timing.timespec import parse_every

FAST = settings(database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])

texts = st.text(max_size=30)
optional = st.none() | texts
locations = st.builds(
    Location, texts, st.integers(min_value=0, max_value=10**6), st.integers(0, 500)
)
problems = st.builds(
    Problem,
    texts,
    st.sampled_from(["error", "warning"]),
    texts,
    st.none() | locations,
    texts,
    post=optional,
    account=optional,
)
zones = st.none() | st.sampled_from([ZoneInfo("America/Chicago"), ZoneInfo("Asia/Kolkata")])
moments = st.none() | st.datetimes(timezones=st.just(UTC))
schedules = st.builds(
    Schedule,
    st.sampled_from(["once", "now", "recurring"]),
    zones,
    moments,
    st.none() | st.sampled_from(["weekly on Monday 09:00", "0 9 * * MON-FRI"]).map(parse_every),
    moments,
    moments,
)


def old_copy(value: Any) -> Any:
    """The round trip as the dataclass's own pickling made it: its state, set on a new object."""
    cls = type(value)
    clone = object.__new__(cls)
    cls.__setstate__(clone, cls.__getstate__(value))
    return clone


def same_fields(got: Any, want: Any) -> None:
    assert type(got) is type(want)
    for f in fields(want):
        a, b = getattr(got, f.name), getattr(want, f.name)
        assert type(a) is type(b), f.name
        assert a == b, f.name
        if isinstance(b, datetime):
            assert a.tzinfo is b.tzinfo, f.name


@FAST
@given(
    st.lists(st.one_of(problems, schedules, locations), max_size=8),
    st.integers(2, pickle.HIGHEST_PROTOCOL),
)
def test_results_pickle_as_the_dataclass_pickling_did(values: list[Any], protocol: int) -> None:
    # One pickle for all, as a worker sends them: shared objects (a post's location under
    # several problems) come back shared.
    back = pickle.loads(pickle.dumps(values, protocol=protocol))
    for got, value in zip(back, values, strict=True):
        same_fields(got, old_copy(value))
        assert hash(got) == hash(value)


def test_a_shared_location_stays_shared() -> None:
    where = Location("posts/a.yaml", 3, 5)
    first, second = pickle.loads(
        pickle.dumps([Problem("a", "error", "m", where), Problem("b", "warning", "n", where)])
    )
    assert first.location is second.location
