"""What the Facebook Page and Instagram adapters share: a ``facebook.GraphAPI`` on a session that
never retries by itself, has a timeout and can be pointed elsewhere (``base_url``), and the mapping
of Graph errors to the project's.

facebook-sdk 3.1.0 keeps the error body of a failed call (``GraphAPIError.result``) but loses the
HTTP status and headers, and turns an HTML error page into "Maintype was not text, image, or
querystring". A response hook on the session keeps the last response per thread, so the mapping
also sees the status and the usage headers (``X-App-Usage``, ``X-Page-Usage``,
``X-Business-Use-Case-Usage``) and can tell how long to wait.

Graph sends the access token as a query or form parameter, so no message here ever includes a
URL or a ``requests`` exception's text (they would carry the token).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import facebook
import requests

from eduadvocate.config import AccountConfig
from eduadvocate.platforms.http import prepare_session
from eduadvocate.platforms.publishing import (
    AuthFailed,
    InDoubt,
    RateLimited,
    Rejected,
    Transient,
)

GRAPH_HOST = "https://graph.facebook.com"
DEFAULT_VERSION = "v21.0"
TIMEOUT_S = 60
THROTTLING = frozenset(
    {4, 17, 32, 613, 80001, 80002, 80003, 80004, 80005, 80006, 80008, 80009, 80014}
)
AUTH = frozenset({102, 190, 200, 10, 3})
DEFAULT_WAIT = timedelta(minutes=15)
OBJECT_MISSING = 33  # subcode of (#100) "Object with ID … does not exist" (GraphMethodException)


class Graph:
    """A GraphAPI client for one account, and the last HTTP response it saw (per thread)."""

    def __init__(self, account: AccountConfig, token_key: str = "access_token") -> None:
        self.session = requests.Session()
        prepare_session(self.session, (GRAPH_HOST,), account.get("base_url"), TIMEOUT_S)
        self._last = threading.local()
        self.session.hooks["response"].append(self._keep)
        self.api = facebook.GraphAPI(
            access_token=account.secret(token_key), version="3.1", session=self.session
        )
        version = account.get("graph_version") or DEFAULT_VERSION
        self.api.version = (
            version if version.startswith("v") else f"v{version}"
        )  # the SDK only knows up to 3.1

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last.response = response

    @property
    def last(self) -> requests.Response | None:
        return getattr(self._last, "response", None)

    def get(self, path: str, **args: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.api.request(f"{self.api.version}/{path}", args)
        return result

    def post(
        self, path: str, data: dict[str, str], files: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        result: dict[str, Any] = self.api.request(
            f"{self.api.version}/{path}", post_args=dict(data), files=files, method="POST"
        )
        return result

    def delete(self, path: str) -> None:
        self.api.request(f"{self.api.version}/{path}", method="DELETE")

    @contextmanager
    def mapped(self, *, sending: bool, what: str) -> Iterator[None]:
        """Graph errors → ours. ``sending``: the call may create a post, so an ambiguous failure
        after it left is in doubt."""
        try:
            yield
        except facebook.GraphAPIError as exc:
            raise self._classify(exc, sending=sending, what=what) from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise Transient(f"cannot connect to {what} (timeout)") from exc
        except requests.exceptions.ConnectionError as exc:
            refused = any(
                s in str(exc)
                for s in ("Connection refused", "Failed to establish a new connection")
            )
            if sending and not refused:
                raise InDoubt(f"the connection to {what} broke while posting") from exc
            raise Transient(f"cannot connect to {what}") from exc
        except requests.exceptions.Timeout as exc:
            if sending:
                raise InDoubt(f"{what} did not answer in time while posting") from exc
            raise Transient(f"{what} did not answer in time") from exc
        except requests.RequestException as exc:
            raise Transient(f"cannot reach {what}: {type(exc).__name__}") from exc

    def _classify(self, exc: facebook.GraphAPIError, *, sending: bool, what: str) -> Exception:
        response = self.last
        status = response.status_code if response is not None else None
        error = exc.result.get("error", {}) if isinstance(exc.result, dict) else {}
        code = error.get("code") if isinstance(error, dict) else None
        subcode = error.get("error_subcode") if isinstance(error, dict) else None
        message = str(
            error.get("message")
            if isinstance(error, dict) and error.get("message")
            else exc.message
        )
        if code is None:  # an HTML error page, or something else that is not Graph JSON
            if status is None or status >= 500:
                label = f"{what} answered {status or 'something unreadable'}"
                return InDoubt(f"{label} while posting") if sending else Transient(label)
            return Rejected(f"{what} answered {status}")
        if code in AUTH or code == 190:
            hint = "renew the Page access token (Graph API Explorer or your app's long-lived token)"
            return AuthFailed(
                f"{what} refused the token ({code}{f'/{subcode}' if subcode else ''}): {message}. {hint}"
            )
        if code in THROTTLING:
            return RateLimited(f"{what} is throttling ({code}): {message}", retry_at(response))
        if code in (1, 2) or (status is not None and status >= 500):
            return InDoubt(f"{what}: {message}") if sending else Transient(f"{what}: {message}")
        return Rejected(f"{what} refused it ({code}{f'/{subcode}' if subcode else ''}): {message}")


def denied(exc: Exception) -> bool:
    """An error we mapped from Graph's permission errors (code 10, or 200-299): the token lacks a
    permission, such as ``read_insights``, rather than being wrong."""
    cause = exc.__cause__
    result = getattr(cause, "result", None)
    error = result.get("error") if isinstance(result, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return isinstance(code, int) and (code == 10 or 200 <= code <= 299)


def missing_object(exc: Exception) -> bool:
    """An error we mapped from Graph's "Unsupported … request. Object with ID '…' does not exist,
    cannot be loaded due to missing permissions, or does not support this operation": code 100,
    subcode 33 (``GraphMethodException``), what deleting a post that is already gone answers."""
    cause = exc.__cause__
    result = getattr(cause, "result", None)
    error = result.get("error") if isinstance(result, dict) else None
    if not isinstance(error, dict):
        return False
    return error.get("code") == 100 and error.get("error_subcode") == OBJECT_MISSING


def retry_at(response: requests.Response | None) -> datetime:
    """When to try again, from Graph's usage headers (``estimated_time_to_regain_access`` minutes)."""
    now = datetime.now(UTC)
    if response is None:
        return now + DEFAULT_WAIT
    minutes = 0
    for name in ("X-Business-Use-Case-Usage", "X-Page-Usage", "X-App-Usage"):
        raw = response.headers.get(name)
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        for entry in _usage_entries(data):
            value = entry.get("estimated_time_to_regain_access")
            if isinstance(value, (int, float)):
                minutes = max(minutes, int(value))
    return now + (timedelta(minutes=minutes) if minutes else DEFAULT_WAIT)


def _usage_entries(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, dict):
        yield data
        for value in data.values():
            yield from _usage_entries(value)
    elif isinstance(data, list):
        for item in data:
            yield from _usage_entries(item)
