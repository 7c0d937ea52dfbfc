"""Bluesky record keys: valid TIDs, deterministic per delivery and part, distinct otherwise."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from eduadvocate.platforms.bluesky.client import tid_for

TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
DUE = datetime(2026, 12, 4, tzinfo=UTC)


def test_same_delivery_and_part_same_key() -> None:
    key = "post|acct|2026-12-04T00:00:00.000000Z"
    assert tid_for(key, 0, DUE) == tid_for(key, 0, DUE)


@given(st.text(min_size=1, max_size=40), st.integers(0, 24), st.integers(0, 10**9))
def test_always_a_valid_tid(key: str, index: int, seconds: int) -> None:
    assert TID.match(tid_for(key, index, DUE + timedelta(seconds=seconds)))


def test_parts_and_deliveries_at_the_same_instant_differ() -> None:
    keys = {tid_for(f"post-{i}|acct|x", part, DUE) for i in range(300) for part in range(3)}
    assert len(keys) == 900


def test_keys_sort_by_due_time() -> None:
    assert tid_for("a", 0, DUE) < tid_for("a", 0, DUE + timedelta(seconds=1))
