"""The clock: what "now" is, given to whatever needs it instead of read from the environment.

A command gets one :data:`Clock` (the system's, unless a test hands it a fixed one) and passes it
down: the campaign it opens, the dispatcher, the heartbeat, the scheduler and the metrics pull
all read the same one, so the times they write to the ledger and compare agree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

Clock = Callable[[], datetime]  # now, as an aware datetime in UTC


def system_clock() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


def fixed_clock(at: datetime) -> Clock:
    """A clock stopped at ``at`` (which must be aware), e.g. to preview a campaign."""
    if at.tzinfo is None:
        raise ValueError(f"{at.isoformat()} has no UTC offset")
    moment = at.astimezone(UTC)
    return lambda: moment


@runtime_checkable
class Timed(Protocol):
    """A publisher that judges an age itself (Mastodon: whether the instance still holds an
    idempotency key): whoever connects it sets ``clock`` to the run's, so the age it reckons
    and the times the ledger holds come from one clock."""

    clock: Clock
