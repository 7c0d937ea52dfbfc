"""How the Mastodon publisher classifies the instance's errors: each row sends a real request
through the adapter and the real Mastodon.py to the loopback Mastodon (mastodon-mock behind our
proxy), which answers with the documented status and ``{"error": …}`` body, and the resulting
error class is checked.

Sources: Mastodon's API guidelines and method pages
(https://docs.joinmastodon.org/methods/statuses/#create: 401 "The access token is invalid",
422 "Validation failed: …"; https://docs.joinmastodon.org/entities/Error/ for the body; 403
"This action is not allowed", 404 "Record not found" on the same pages) and "Rate limits"
(https://docs.joinmastodon.org/api/rate-limits/: 429 with ``X-RateLimit-Reset``, an ISO 8601
time). Server errors follow HTTP: the instance or its proxy failed.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from eduadvocate.config.model import AccountConfig
from eduadvocate.core.errors import Location
from eduadvocate.platforms.mastodon_api.client import MastodonPublisher
from eduadvocate.platforms.publishing import (
    AuthFailed,
    InDoubt,
    OutgoingPart,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
)
from tests.adapters.raised import raised
from tests.fakes.mastodon import MastodonFake

STATUSES, INSTANCE = r"^/api/v1/statuses$", r"^/api/v2/instance/?$"


def publish_error(fake: MastodonFake, token: str | None = None) -> PublishError:
    """Publish one status: the instance's limit is read first (``GET /api/v2/instance``), then
    ``POST /api/v1/statuses`` (it may create one)."""
    settings: dict[str, str | int | bool] = {
        "instance": fake.base_url,
        "access_token": token or fake.token,
    }
    masto = MastodonPublisher(AccountConfig("masto", "mastodon", settings, Location("c.yaml")))
    part = OutgoingPart("p|masto|2026-11-28T12:00:00Z", 0, 1, "Budget hearing", "k")
    return raised(masto, lambda m: m.publish(part))


# (the injected fault's options, class when posting, class when reading)
ROWS: list[tuple[str, dict[str, Any], type[PublishError], type[PublishError]]] = [
    ("401 invalid token", {"status": 401, "error": "The access token is invalid"},
     AuthFailed, AuthFailed),
    ("403 not allowed", {"status": 403, "error": "This action is not allowed"},
     AuthFailed, AuthFailed),
    ("403 login disabled", {"status": 403, "error": "Your login is currently disabled"},
     AuthFailed, AuthFailed),
    ("404 not found", {"status": 404, "error": "Record not found"}, Rejected, Rejected),
    ("422 validation", {"status": 422, "error": "Validation failed: Text can't be blank"},
     Rejected, Rejected),
    # 5xx: the instance (or the proxy in front of it) failed; a POST may have been acted on.
    ("500 internal", {"status": 500}, InDoubt, Transient),
    ("502 bad gateway", {"status": 502}, InDoubt, Transient),
    ("503 unavailable", {"status": 503}, InDoubt, Transient),
    ("504 gateway timeout", {"status": 504}, InDoubt, Transient),
]  # fmt: skip


@pytest.mark.parametrize(
    ("options", "posting", "reading"), [pytest.param(*row[1:], id=row[0]) for row in ROWS]
)
def test_mastodon_errors_are_classified_as_documented(
    mastodon_fresh: MastodonFake,
    options: dict[str, Any],
    posting: type[PublishError],
    reading: type[PublishError],
) -> None:
    mastodon_fresh.inject("POST", STATUSES, "status", **options)
    sent = publish_error(mastodon_fresh)
    mastodon_fresh.inject("GET", INSTANCE, "status", **options)
    read = publish_error(mastodon_fresh)
    assert (type(sent), type(read)) == (posting, reading), (sent, read)
    assert mastodon_fresh.statuses() == []
    for error in (sent, read):
        assert mastodon_fresh.token not in str(error)


@pytest.mark.parametrize("path", [STATUSES, INSTANCE], ids=["posting", "reading"])
def test_429_waits_until_x_ratelimit_reset(mastodon_fresh: MastodonFake, path: str) -> None:
    mastodon_fresh.inject("*", path, "ratelimit", reset_in=120)
    error = publish_error(mastodon_fresh)
    assert isinstance(error, RateLimited) and error.retry_at is not None
    assert error.retry_at.timestamp() == pytest.approx(time.time() + 120, abs=3)
    assert mastodon_fresh.statuses() == []


def test_a_wrong_token_is_the_instances_own_401(mastodon_fresh: MastodonFake) -> None:
    error = publish_error(mastodon_fresh, token="not-a-token-of-this-instance")
    assert isinstance(error, AuthFailed), error
    assert "not-a-token-of-this-instance" not in str(error)


def test_over_the_instances_limit_is_refused_before_sending(mastodon_fresh: MastodonFake) -> None:
    """The instance's own 422 for a long status is never needed: the limit read from
    ``/api/v2/instance`` is applied first."""
    mastodon_fresh.max_characters = 10
    error = publish_error(mastodon_fresh)
    assert type(error) is Rejected and "the instance allows 10" in str(error)
    assert not [s for s in mastodon_fresh.seen if s.path == "/api/v1/statuses"]
