"""How the Bluesky publisher classifies XRPC errors: each row sends a real request through the
adapter and the real atproto SDK to a loopback PDS that answers with the documented status, error
name and headers, and the resulting error class is checked.

The reference PDS (tests/fakes/bluesky.py) cannot be made to answer most of these on demand, so
the rows use the small XRPC stub below (it logs anyone in, then answers each method as told);
one row uses the reference PDS itself, for the login it refuses.

Sources: the XRPC specification (https://atproto.com/specs/xrpc, "Summary of HTTP Status Codes":
400 InvalidRequest, 401 AuthenticationRequired, 403 Forbidden, 413 PayloadTooLarge, 429
RateLimitExceeded, 500 InternalServerError, 502 UpstreamFailure, 503 NotEnoughResources, 504
UpstreamTimeout), the PDS's session errors (``ExpiredToken`` 400 and ``InvalidToken`` 401,
com.atproto.server lexicons) and Bluesky's "Rate Limits"
(https://docs.bsky.app/docs/advanced-guides/rate-limits: ``ratelimit-reset``, epoch seconds).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from eduadvocate.config.model import AccountConfig
from eduadvocate.core.errors import Location
from eduadvocate.platforms.bluesky.client import BlueskyPublisher
from eduadvocate.platforms.publishing import (
    Attachment,
    AuthFailed,
    InDoubt,
    OutgoingPart,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
)
from tests.adapters.raised import raised
from tests.conftest import REPO
from tests.fakes.bluesky import Account, BlueskyPDS

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
LOGIN, GET, CREATE, BLOB = (
    "com.atproto.server.createSession",
    "com.atproto.repo.getRecord",
    "com.atproto.repo.createRecord",
    "com.atproto.repo.uploadBlob",
)
IMAGE = Attachment(REPO / "media" / "budget-chart.png", "A bar chart", "image/png")


def _b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _jwt(scope: str, seconds: int) -> str:
    now = int(time.time())
    claims = {"scope": scope, "sub": DID, "iat": now, "exp": now + seconds, "aud": "did:web:stub"}
    return f"{_b64({'typ': 'at+jwt', 'alg': 'ES256K'})}.{_b64(claims)}.{_b64(b'unsigned')}"


Answer = tuple[int, dict[str, Any], dict[str, str]]


class XrpcStub(ThreadingHTTPServer):
    """A PDS on loopback: ``answers`` (method NSID → status, body, headers) replace its normal
    answers: a session for anyone, RecordNotFound for getRecord, success for the rest."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _StubHandler)
        self.answers: dict[str, Answer] = {}
        self.calls: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, method: str) -> Answer:
        self.calls.append(method)
        if method in self.answers:
            return self.answers[method]
        if method == LOGIN:
            session = {"did": DID, "handle": "pta.stub.test", "active": True,
                       "accessJwt": _jwt("com.atproto.access", 7200),
                       "refreshJwt": _jwt("com.atproto.refresh", 86400)}  # fmt: skip
            return 200, session, {}
        if method == GET:
            return 400, {"error": "RecordNotFound", "message": "Could not locate record"}, {}
        if method == BLOB:
            blob = {"$type": "blob", "ref": {"$link": "bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"},
                    "mimeType": "image/png", "size": 15001}  # fmt: skip
            return 200, {"blob": blob}, {}
        uri = f"at://{DID}/app.bsky.feed.post/3kabcdefghijk"
        return 200, {"uri": uri, "cid": "bafyreia"}, {}


class _StubHandler(BaseHTTPRequestHandler):
    server: XrpcStub
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        method = self.path.partition("?")[0].removeprefix("/xrpc/")
        status, body, headers = self.server.answer(method)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[XrpcStub]:
    server = XrpcStub()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()  # fmt: skip
    yield server
    server.shutdown()
    server.server_close()


def publish_error(service: str, root: Path, *, handle: str = "pta.stub.test", password: str = "app-pass-1234", media: tuple[Attachment, ...] = ()) -> PublishError:  # fmt: skip
    settings: dict[str, str | int | bool] = {"handle": handle, "app_password": password,
                                             "service": service}  # fmt: skip
    bsky = BlueskyPublisher(AccountConfig("bsky", "bluesky", settings, Location("c.yaml")), root)
    part = OutgoingPart("p|bsky|2026-11-28T12:00:00Z", 0, 1, "Budget hearing", "k", media=media)
    return raised(bsky, lambda b: b.publish(part))


def error(status: int, name: str, message: str = "") -> tuple[int, dict[str, Any]]:
    return status, {"error": name, "message": message or name}


# (the XRPC method that fails, its status and error body, the expected class)
ROWS: list[tuple[str, str, tuple[int, dict[str, Any]], type[PublishError]]] = [
    # 400 InvalidRequest: "the request was invalid"; permanent for this record.
    ("400 InvalidRequest on createRecord", CREATE,
     error(400, "InvalidRequest", "Invalid app.bsky.feed.post record: text too long"), Rejected),
    # The PDS's session errors: an expired (400) or unverifiable (401) access token.
    ("400 ExpiredToken on createRecord", CREATE, error(400, "ExpiredToken", "Token has expired"),
     AuthFailed),
    ("401 InvalidToken on createRecord", CREATE,
     error(401, "InvalidToken", "Token could not be verified"), AuthFailed),
    # 401 AuthenticationRequired: the login itself is refused (a wrong app password).
    ("401 AuthenticationRequired on createSession", LOGIN,
     error(401, "AuthenticationRequired", "Invalid identifier or password"), AuthFailed),
    # 403 Forbidden: "the client lacks permission" (e.g. a taken-down account).
    ("403 Forbidden on createRecord", CREATE, error(403, "Forbidden"), AuthFailed),
    # 413 PayloadTooLarge: the image is over the PDS's limit; sending it again cannot help.
    ("413 PayloadTooLarge on uploadBlob", BLOB, error(413, "PayloadTooLarge"), Rejected),
    # 5xx: the PDS or what is behind it failed. While creating the record it may have been
    # written: in doubt (the record key is fixed, so the lookup is exact). Before: transient.
    ("500 InternalServerError on createRecord", CREATE, error(500, "InternalServerError"), InDoubt),
    ("502 UpstreamFailure on createRecord", CREATE, error(502, "UpstreamFailure"), InDoubt),
    ("503 NotEnoughResources on createRecord", CREATE, error(503, "NotEnoughResources"), InDoubt),
    ("504 UpstreamTimeout on createRecord", CREATE, error(504, "UpstreamTimeout"), InDoubt),
    ("500 InternalServerError on getRecord", GET, error(500, "InternalServerError"), Transient),
    ("502 UpstreamFailure on getRecord", GET, error(502, "UpstreamFailure"), Transient),
    ("503 NotEnoughResources on getRecord", GET, error(503, "NotEnoughResources"), Transient),
    ("504 UpstreamTimeout on uploadBlob", BLOB, error(504, "UpstreamTimeout"), Transient),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "answer", "expected"), [pytest.param(*row[1:], id=row[0]) for row in ROWS]
)
def test_xrpc_errors_are_classified_as_documented(
    stub: XrpcStub,
    tmp_path: Path,
    method: str,
    answer: tuple[int, dict[str, Any]],
    expected: type[PublishError],
) -> None:
    stub.answers[method] = (*answer, {})
    failed = publish_error(stub.url, tmp_path, media=(IMAGE,) if method == BLOB else ())
    assert type(failed) is expected, failed
    assert stub.calls[-1] == method
    assert "app-pass-1234" not in str(failed)


@pytest.mark.parametrize("method", [LOGIN, GET, CREATE])
def test_429_rate_limit_exceeded_waits_until_ratelimit_reset(
    stub: XrpcStub, tmp_path: Path, method: str
) -> None:
    reset = int(time.time()) + 300
    headers = {"ratelimit-limit": "30", "ratelimit-remaining": "0",
               "ratelimit-reset": str(reset), "ratelimit-policy": "30;w=300"}  # fmt: skip
    stub.answers[method] = (*error(429, "RateLimitExceeded", "Rate Limit Exceeded"), headers)
    failed = publish_error(stub.url, tmp_path)
    assert isinstance(failed, RateLimited), failed
    assert failed.retry_at == datetime.fromtimestamp(reset, UTC)


def test_the_reference_pds_refuses_a_wrong_app_password(
    pds: BlueskyPDS, bsky_account: Account, tmp_path: Path
) -> None:
    failed = publish_error(pds.url, tmp_path, handle=bsky_account.handle, password="wrong-1234")
    assert isinstance(failed, AuthFailed), failed
    assert "wrong-1234" not in str(failed)
