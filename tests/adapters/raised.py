"""The error a publisher's call raises, for the adapters' error-code tables: each table row
sends one real request through the adapter and checks the class of what comes back."""

from __future__ import annotations

from collections.abc import Callable

from eduadvocate.platforms.publishing import Publisher, PublishError


def raised(publisher: Publisher, call: Callable[[Publisher], object]) -> PublishError:
    """Run ``call`` on ``publisher`` (closed afterwards); the PublishError it raised."""
    try:
        call(publisher)
    except PublishError as exc:
        return exc
    finally:
        publisher.close()
    raise AssertionError("the call succeeded: expected an error")
