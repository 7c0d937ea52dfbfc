"""How the X publisher classifies X API v2 errors: each row sends a real request through the
adapter and the real tweepy Client to the loopback X fake, which answers with the documented
status and body (the fake's own checks where it makes them: signatures, duplicates, length, the
24-hour cap; an injected ``error`` otherwise), and the resulting error class is checked.

Sources: X API "Response codes and errors"
(https://docs.x.com/x-api/fundamentals/response-codes-and-errors: status codes, problem types,
e.g. ``client-forbidden``, ``usage-capped``), the X API v1.1/v2 troubleshooting index
(https://developer.x.com/en/support/x-api/error-troubleshooting: 503 "over capacity", the
duplicate and "not permitted" 403s) and "Rate limits"
(https://docs.x.com/x-api/fundamentals/rate-limits: ``x-rate-limit-reset``,
``x-user-limit-24hour-reset``, epoch seconds).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from eduadvocate.config.model import AccountConfig
from eduadvocate.core.errors import Location
from eduadvocate.platforms.publishing import (
    AuthFailed,
    InDoubt,
    OutgoingPart,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
)
from eduadvocate.platforms.x.client import XPublisher
from tests.adapters.raised import raised
from tests.fakes.x_api import DUPLICATE, REPLY_GONE, TOO_LONG, Account, XFake

TWEETS, ME = r"^/2/tweets$", r"^/2/users/me$"
PROBLEMS = "https://api.twitter.com/2/problems/"


@pytest.fixture
def x_fake() -> Iterator[XFake]:
    with XFake() as fake:
        yield fake


@pytest.fixture
def account(x_fake: XFake) -> Account:
    return x_fake.add_account("FundSpfldSchools")


def publisher(fake: XFake, account: Account, **override: str) -> XPublisher:
    settings: dict[str, str | int | bool] = {
        "username": account.username,
        "consumer_key": account.consumer_key,
        "consumer_secret": account.consumer_secret,
        "access_token": account.access_token,
        "access_token_secret": account.access_token_secret,
        "base_url": fake.base_url,
        **override,
    }
    return XPublisher(AccountConfig("x", "x", settings, Location("config.yaml")))


def post_error(fake: XFake, account: Account, text: str = "Budget hearing Thursday", **kw: Any) -> PublishError:  # fmt: skip
    """Create a post (``POST /2/tweets``: it may create one)."""
    part = OutgoingPart("p|x|2026-11-28T12:00:00Z", 0, 1, text, "k", **kw)
    return raised(publisher(fake, account), lambda x: x.publish(part))


def read_error(fake: XFake, account: Account) -> PublishError:
    """Read the signed-in account (``GET /2/users/me``: it cannot create anything)."""
    return raised(publisher(fake, account), lambda x: x.verify())


def problem(kind: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": PROBLEMS + kind, "title": title, "detail": detail, **extra}


# (HTTP status, the body X sends (None: X's generic ``about:blank`` problem), class when posting,
# class when reading, whether the error carries a reset time)
ROWS: list[tuple[str, int, dict[str, Any] | None, type[PublishError], type[PublishError], bool]] = [
    # 400 Bad Request: "invalid JSON, malformed query, missing required parameters".
    ("400 invalid-request", 400, problem("invalid-request", "Invalid Request",
     "One or more parameters to your request was invalid.",
     errors=[{"message": "Your media IDs are invalid."}]), Rejected, Rejected, False),
    # 401 Unauthorized: "invalid or missing authentication credentials".
    ("401 unauthorized", 401, None, AuthFailed, AuthFailed, False),
    # 403 Forbidden, "valid auth but no permission": the app is not attached to a Project or
    # lacks the access level (client-forbidden, reason client-not-enrolled) ...
    ("403 client-forbidden", 403, problem("client-forbidden", "Client Forbidden",
     "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens "
     "from a Twitter developer App that is attached to a Project.",
     reason="client-not-enrolled", required_enrollment="Appropriate Level of API Access"),
     AuthFailed, AuthFailed, False),
    # ... the endpoint needs user context (unsupported-authentication) ...
    ("403 unsupported-authentication", 403, problem("unsupported-authentication",
     "Unsupported Authentication", "Authenticating with OAuth 2.0 Application-Only is forbidden "
     "for this endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 "
     "User Context]."), AuthFailed, AuthFailed, False),
    # ... or the app's permissions do not include writing.
    ("403 not permitted", 403, {"detail": "You are not permitted to perform this action.",
     "type": "about:blank", "title": "Forbidden", "status": 403}, AuthFailed, AuthFailed, False),
    # 404 Not Found: "resource doesn't exist or has been deleted".
    ("404 not found", 404, None, Rejected, Rejected, False),
    # 429 Too Many Requests: "rate limit or usage cap exceeded"; x-rate-limit-reset says when.
    ("429 rate limit", 429, None, RateLimited, RateLimited, True),
    ("429 usage-capped", 429, problem("usage-capped", "UsageCapExceeded",
     "Usage cap exceeded: Monthly product cap", period="Monthly", scope="Product"),
     RateLimited, RateLimited, True),
    # 5xx: "wait and retry"; 503 "X is overloaded" (v1.1's code 130 "Over capacity"). While
    # posting X may have acted before failing: in doubt, looked up before a retry.
    ("500 internal", 500, None, InDoubt, Transient, False),
    ("502 bad gateway", 502, None, InDoubt, Transient, False),
    ("503 over capacity", 503, {"errors": [{"code": 130, "message": "Over capacity"}]},
     InDoubt, Transient, False),
    ("504 gateway timeout", 504, None, InDoubt, Transient, False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("status", "body", "posting", "reading", "reset"),
    [pytest.param(*row[1:], id=row[0]) for row in ROWS],
)
def test_x_error_statuses_and_types_are_classified_as_documented(
    x_fake: XFake,
    account: Account,
    status: int,
    body: dict[str, Any] | None,
    posting: type[PublishError],
    reading: type[PublishError],
    reset: bool,
) -> None:
    options: dict[str, Any] = {"status": status, "body": body} | (
        {"reset_in": 600} if reset else {}
    )
    x_fake.inject("POST", TWEETS, "error", **options)
    x_fake.inject("GET", ME, "error", **options)
    sent, read = post_error(x_fake, account), read_error(x_fake, account)
    assert (type(sent), type(read)) == (posting, reading), (sent, read)
    assert x_fake.posts(account) == []
    for error in (sent, read):
        if reset:
            assert isinstance(error, RateLimited) and error.retry_at is not None
            expected = datetime.fromtimestamp(int(x_fake.now() + 600), UTC)
            assert abs((error.retry_at - expected).total_seconds()) <= 2


def test_bad_credentials_are_the_fakes_own_401(x_fake: XFake, account: Account) -> None:
    x = publisher(x_fake, account, access_token_secret="not-the-secret")
    with pytest.raises(AuthFailed) as caught:
        x.publish(OutgoingPart("p|x|2026-11-28T12:00:00Z", 0, 1, "Hello", "k"))
    x.close()
    assert "not-the-secret" not in str(caught.value)


def test_403_duplicate_content_is_a_duplicate(x_fake: XFake, account: Account) -> None:
    """403 "You are not allowed to create a Tweet with duplicate content.": a rejection marked as
    a duplicate, so dispatch looks for an earlier attempt that went out."""
    x_fake.add_post(account, "Budget hearing Thursday")
    error = post_error(x_fake, account)
    assert isinstance(error, Rejected) and error.duplicate, error
    assert DUPLICATE in str(error)


@pytest.mark.parametrize(
    ("text", "reply_to", "detail"),
    [
        pytest.param("x" * 281, None, TOO_LONG, id="400 too long"),
        pytest.param(
            "A reply", "1460323737035677698", REPLY_GONE, id="403 reply to a deleted post"
        ),
    ],
)
def test_content_refusals_are_rejections(
    x_fake: XFake, account: Account, text: str, reply_to: str | None, detail: str
) -> None:
    error = post_error(x_fake, account, text, reply_to=reply_to)
    assert type(error) is Rejected and not error.duplicate, error
    assert detail in str(error)


def test_the_24_hour_post_cap_waits_for_its_own_reset(x_fake: XFake, account: Account) -> None:
    """429 with ``x-user-limit-24hour-remaining: 0``: wait until ``x-user-limit-24hour-reset``,
    not the 15-minute window's reset."""
    x_fake.add_post(account, "Earlier today", created_at=x_fake.now() - 3600)
    x_fake.set_daily_limit(account, 1)
    error = post_error(x_fake, account)
    assert isinstance(error, RateLimited) and error.retry_at is not None
    expected = datetime.fromtimestamp(int(x_fake.now() - 3600 + 86_400), UTC)
    assert abs((error.retry_at - expected).total_seconds()) <= 2
