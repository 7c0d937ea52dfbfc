"""The Graph API client the Facebook Page and Instagram adapters share, and the mapping of Graph's
errors to the project's.

:class:`Graph` is a small client on ``requests``: a session the project owns (no automatic
retries, a timeout, Graph's host, its video host and the Reels upload host redirected to
``base_url``: ``platforms.http``), the API version in every path and the token in Graph's
``access_token`` parameter. Every answer that is not a
JSON object without ``error`` raises :class:`GraphError`, which keeps the whole response (status,
headers, body): the mapping reads Graph's code and subcode, the status of an HTML error page, and
the usage headers (``X-App-Usage``, ``X-Page-Usage``, ``X-Business-Use-Case-Usage``) that say how
long to wait.

Not facebook-sdk: its last release (3.1.0, 2018) accepts API versions up to 3.1 only, keeps the
body of a failed call but not its status or headers, and turns an HTML error page into "Maintype
was not text, image, or querystring"; keeping them took a response hook and a thread-local. All
it did for us was join the URL and add the token, which :meth:`Graph.call` does in a few lines.

Reading comments (``inbox pull``): :func:`comments_page` reads one page of a comment listing and
maps a missing read permission to one message naming the permission to grant (and
:func:`may_not_comment` a missing permission to answer one);
:func:`next_cursor` follows Graph's cursor paging; :func:`parse_time` reads Graph's times.

Graph sends the access token as a query or form parameter, so no message here ever includes a
URL or a ``requests`` exception's text (they would carry the token); Graph's own message is kept,
with the token cut out ("Malformed access token …" repeats it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from eduadvocate.config.model import AccountConfig
from eduadvocate.platforms.http import prepare_session
from eduadvocate.platforms.publishing import (
    AuthFailed,
    InboxRefused,
    InDoubt,
    RateLimited,
    Rejected,
    Transient,
)

GRAPH_HOST = "https://graph.facebook.com"
VIDEO_HOST = "https://graph-video.facebook.com"  # where the Video API takes uploads
RUPLOAD_HOST = "https://rupload.facebook.com"  # where a Reel's bytes go (Reels Publishing API)
DEFAULT_VERSION = "v21.0"
TIMEOUT_S = 60
MAX_LIMIT = 100  # items one page of a Graph listing can hold
# Graph API "Handling Errors" (developers.facebook.com/docs/graph-api/guides/error-handling):
# 1 API Unknown and 2 API Service are temporary ("wait and retry"); 3 (capability), 10 and
# 200-299 (permissions), 102 and 190 (session, token; with subcodes 458-467, 492) need a person;
# 4, 17 and 341 are throttling, as are 32, 613 and the business use case codes 800xx of
# "Rate Limiting" (developers.facebook.com/docs/graph-api/overview/rate-limiting); 368 is
# "temporarily blocked for policies violations: wait and retry"; 506 a duplicate post.
SERVER = frozenset({1, 2})
THROTTLING = frozenset(
    {4, 17, 32, 341, 613, 80001, 80002, 80003, 80004, 80005, 80006, 80008, 80009, 80014}
)
AUTH = frozenset({3, 10, 102, 190})
POLICY_BLOCK, DUPLICATE = 368, 506
DEFAULT_WAIT = timedelta(minutes=15)
POLICY_WAIT = timedelta(hours=1)  # 368 gives no time: look again in an hour
OBJECT_MISSING = 33  # subcode of (#100) "Object with ID … does not exist" (GraphMethodException)
MISSING_ALIASES = 803  # "(#803) Some of the aliases you requested do not exist: A,B"
# Instagram Content Publishing subcodes (Instagram Platform "Error Codes",
# developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes).
# Nothing was published and a new container may work: download timeout, expired or missing
# container, "media is not ready for publishing".
IG_RETRY = frozenset({2207003, 2207006, 2207008, 2207020, 2207027})
IG_SERVER = frozenset({2207001, 2207032, 2207053})  # "server error, try again": like code 1 and 2
IG_QUOTA = 2207042  # the 24-hour publishing limit ("try again the following day")
IG_SPAM = 2207051  # "we restrict certain activity": a temporary restriction of the account
IG_ACCOUNT = 2207050  # the account is inactive, checkpointed or restricted: the user must act
QUOTA_RECHECK = timedelta(hours=1)  # the quota is a rolling 24 hours: look again hourly
_TOKEN_LIKE = re.compile(r"EA[A-Za-z0-9]{20,}")  # Graph echoes a malformed token in its message


class GraphError(Exception):
    """An answer that is not a result: Graph's error body, an HTTP error status, or something
    that is not Graph's JSON (a front end's HTML page). Keeps the whole response; ``str()`` names
    the status and code only, never the URL (it carries the token)."""

    def __init__(self, response: requests.Response, body: object) -> None:
        self.response = response
        self.status = response.status_code
        self.body = body  # the parsed JSON, or None when the body is not JSON
        error = body.get("error") if isinstance(body, dict) else None
        self.error: dict[str, Any] = error if isinstance(error, dict) else {}
        super().__init__(f"HTTP {self.status}, Graph error {self.code}/{self.subcode}")

    @property
    def code(self) -> object:
        return self.error.get("code")

    @property
    def subcode(self) -> object:
        return self.error.get("error_subcode")


class Graph:
    """Graph API calls for one account, on a session of its own (closed by :meth:`close`)."""

    def __init__(self, account: AccountConfig) -> None:
        self.token = account.secret("access_token")
        version = account.get("graph_version") or DEFAULT_VERSION
        self.version = version if version.startswith("v") else f"v{version}"
        self.session = requests.Session()
        hosts = (GRAPH_HOST, VIDEO_HOST, RUPLOAD_HOST)
        prepare_session(self.session, hosts, account.get("base_url"), TIMEOUT_S)

    def call(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        files: dict[str, Any] | None = None,
        host: str = GRAPH_HOST,
    ) -> dict[str, Any]:
        """One request to ``/{version}/{path}``; the token goes in the form of a POST, else in
        the query. Raises :class:`GraphError` or ``requests``' own exceptions."""
        token = {"access_token": self.token}
        if data is not None:
            data = data | token
        else:
            params = (params or {}) | token
        response = self.session.request(
            method, f"{host}/{self.version}/{path}", params=params, data=data, files=files
        )
        try:
            body = response.json()
        except ValueError:  # an HTML error page, an empty or cut-off answer
            body = None
        if response.status_code >= 400 or not isinstance(body, dict) or body.get("error"):
            raise GraphError(response, body)
        return body

    def get(self, path: str, **params: str) -> dict[str, Any]:
        return self.call("GET", path, params=params)

    def post(
        self,
        path: str,
        data: dict[str, str],
        files: dict[str, Any] | None = None,
        host: str = GRAPH_HOST,
    ) -> dict[str, Any]:
        return self.call("POST", path, data=data, files=files, host=host)

    def delete(self, path: str) -> None:
        self.call("DELETE", path)

    def close(self) -> None:
        self.session.close()

    @contextmanager
    def mapped(self, *, sending: bool, what: str) -> Iterator[None]:
        """Graph errors → ours. ``sending``: the call may create a post, so an ambiguous failure
        after it left is in doubt."""
        try:
            yield
        except GraphError as exc:
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

    def _classify(self, exc: GraphError, *, sending: bool, what: str) -> Exception:
        status, code, subcode = exc.status, exc.code, exc.subcode
        message = self._redact(str(exc.error.get("message") or ""))
        if code is None:  # an HTML error page, or something else that is not Graph's JSON
            if status >= 500 or status < 300:  # a 2xx that cannot be read may have posted
                label = f"{what} answered {status}"
                return InDoubt(f"{label} while posting") if sending else Transient(label)
            return Rejected(f"{what} answered {status}")
        codes = f"{code}/{subcode}" if subcode else f"{code}"
        if isinstance(subcode, int) and 2207000 <= subcode <= 2207999:
            return instagram_error(subcode, f"{what} ({codes}): {message}", sending, exc.response)
        if code in AUTH or (isinstance(code, int) and 200 <= code <= 299):
            hint = "renew the Page access token (Graph API Explorer or your app's long-lived token)"
            return AuthFailed(f"{what} refused the token ({codes}): {message}. {hint}")
        if code in THROTTLING:
            return RateLimited(f"{what} is throttling ({codes}): {message}", retry_at(exc.response))
        if code == POLICY_BLOCK:
            return RateLimited(
                f"{what} has temporarily blocked posting ({codes}): {message}",
                retry_at(exc.response, POLICY_WAIT),
            )
        if code == DUPLICATE:
            return Rejected(f"{what} refused a duplicate ({codes}): {message}", duplicate=True)
        if code in SERVER or status >= 500 or exc.error.get("is_transient"):
            label = f"{what} ({codes}): {message}"
            return InDoubt(label) if sending else Transient(label)
        return Rejected(f"{what} refused it ({codes}): {message}")

    def _redact(self, text: str) -> str:
        if self.token:
            text = text.replace(self.token, "[token]")
        return _TOKEN_LIKE.sub("[token]", text)


def instagram_error(
    subcode: int, label: str, sending: bool, response: requests.Response | None = None
) -> Exception:
    """An Instagram Content Publishing subcode (2207xxx) as the project's error: what the Error
    Codes reference recommends (see ``IG_RETRY`` and the others); any other is about the media or
    the caption, permanent for this content."""
    if subcode in IG_RETRY:
        return Transient(label)
    if subcode in IG_SERVER:
        return InDoubt(label) if sending else Transient(label)
    if subcode == IG_QUOTA:
        return RateLimited(
            f"{label}: the 24-hour publishing quota is used up", datetime.now(UTC) + QUOTA_RECHECK
        )
    if subcode == IG_SPAM:
        return RateLimited(label, retry_at(response))
    if subcode == IG_ACCOUNT:
        return AuthFailed(f"{label}: sign in to the Instagram app and do what it asks")
    return Rejected(label)


def graph_cause(exc: BaseException) -> GraphError | None:
    """The Graph answer one of our errors was mapped from (by :meth:`Graph.mapped`), if any."""
    cause = exc.__cause__
    return cause if isinstance(cause, GraphError) else None


def denied(exc: Exception) -> bool:
    """An error we mapped from Graph's permission errors (code 10, or 200-299): the token lacks a
    permission, such as ``read_insights``, rather than being wrong."""
    found = graph_cause(exc)
    code = found.code if found is not None else None
    return isinstance(code, int) and (code == 10 or 200 <= code <= 299)


def may_not_comment(exc: Exception, what: str, grant: str) -> AuthFailed:
    """An answer (a comment, a reply) refused for a missing permission (:func:`denied`): one
    line naming ``grant``, the permission to give the token."""
    found = graph_cause(exc)
    code = found.code if found is not None else "?"
    return AuthFailed(
        f"{what} refused the answer: the token may not comment (#{code}): grant {grant} and"
        " renew the token"
    )


def missing_object(exc: Exception) -> bool:
    """An error we mapped from Graph's "Unsupported … request. Object with ID '…' does not exist,
    cannot be loaded due to missing permissions, or does not support this operation": code 100,
    subcode 33 (``GraphMethodException``), what deleting a post that is already gone answers."""
    found = graph_cause(exc)
    return found is not None and found.code == 100 and found.subcode == OBJECT_MISSING


def missing_aliases(exc: Exception) -> set[str]:
    """The ids of Graph's "(#803) Some of the aliases you requested do not exist: A,B", which
    fails a whole multi-id request for one deleted object."""
    found = graph_cause(exc)
    if found is None or found.code != MISSING_ALIASES:
        return set()
    listed = str(found.error.get("message", "")).rpartition(":")[2]
    return {part.strip() for part in listed.split(",") if part.strip()}


def retry_at(response: requests.Response | None, default: timedelta = DEFAULT_WAIT) -> datetime:
    """When to try again, from Graph's usage headers (``estimated_time_to_regain_access`` minutes)."""
    now = datetime.now(UTC)
    if response is None:
        return now + default
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
    return now + (timedelta(minutes=minutes) if minutes else default)


def _usage_entries(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, dict):
        yield data
        for value in data.values():
            yield from _usage_entries(value)
    elif isinstance(data, list):
        for item in data:
            yield from _usage_entries(item)


def comments_page(
    graph: Graph, path: str, params: dict[str, str], *, what: str, owner: str, grant: str
) -> dict[str, Any] | None:
    """One page of a comment listing (``path``: ``{post-id}/comments`` and the like), or None when
    the post is gone. A token that may not read comments (Graph's permission errors, code 10 or
    200-299, whichever permission Graph's message names) is :class:`InboxRefused` naming
    ``grant``, the permission to give the token: reported, and no error, as ``metrics pull``
    reports a token that may not read counts and ``inbox pull`` X's free tier."""
    try:
        with graph.mapped(sending=False, what=what):
            return graph.get(path, **params)
    except (AuthFailed, Rejected) as exc:
        if denied(exc):
            found = graph_cause(exc)
            code = found.code if found is not None else "?"
            # Short: the pull's line names the account and says that the next pull resumes.
            raise InboxRefused(
                f"the token may not read comments (#{code}): grant {grant} and renew it"
            ) from exc
        if not missing_object(exc):
            raise
    # Subcode 33 also stands for "missing permissions": only when the token still reads the
    # account (``owner``: the Page, the Instagram account) is the post gone rather than out of
    # this token's sight.
    with graph.mapped(sending=False, what=what):
        graph.get(owner, fields="id")
    return None


def next_cursor(answer: dict[str, Any], current: str | None) -> str | None:
    """The ``after`` cursor of the next page, None at the end: pages go on while ``paging.next``
    is there (Graph API "Paginated Results", developers.facebook.com/docs/graph-api/results);
    a cursor that does not move ends them too."""
    paging = answer.get("paging") or {}
    following = (paging.get("cursors") or {}).get("after")
    if not paging.get("next") or not following or following == current:
        return None
    return str(following)


def parse_time(value: object) -> datetime:
    """Graph's ``2026-12-06T11:46:02+0000`` (``created_time``, Instagram's ``timestamp``); the
    epoch when missing or unreadable, so one odd item does not stop a pull."""
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)
    except ValueError:
        return datetime.fromtimestamp(0, UTC)
