"""What a run of the command takes from outside the arguments: the clock, and the probe the
crash-safety tests kill the process with. The root command builds the real one (the system's
clock, a probe that does nothing) unless the caller hands one in as Click's ``obj``, which only
the test suite does.

``$EDUADVOCATE_NOW`` is a user's preview, not a clock: ``check``, ``render`` and ``calendar``
show the campaign as of that moment (:meth:`Runtime.preview`). Nothing that records or sends
reads it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from eduadvocate.core.clock import Clock, fixed_clock, system_clock

PREVIEW_ENV = "EDUADVOCATE_NOW"


def no_probe(point: str) -> None:
    """Production: nothing happens at any point."""


@dataclass(frozen=True)
class Runtime:
    """The clock every command reads and the probe the dispatcher calls at its named points."""

    clock: Clock = system_clock
    probe: Callable[[str], None] = no_probe

    def preview(self) -> Clock:
        """The clock of the read-only commands: ``$EDUADVOCATE_NOW`` (an ISO instant) when set,
        else the run's."""
        from eduadvocate.core.errors import UsageError

        value = os.environ.get(PREVIEW_ENV)
        if not value:
            return self.clock
        hint = "e.g. 2026-12-01T09:00:00Z"
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise UsageError(f"{PREVIEW_ENV}={value} is not an ISO instant", hint=hint) from None
        if moment.tzinfo is None:
            raise UsageError(f"{PREVIEW_ENV}={value} has no UTC offset", hint=hint)
        return fixed_clock(moment)
