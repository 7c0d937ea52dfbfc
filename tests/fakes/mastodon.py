"""A loopback Mastodon for tests: the ``mastodon-mock`` server (PyPI) in a subprocess, behind a
small proxy of ours.

The mock already keeps statuses, threads, media descriptions and ``Idempotency-Key`` (per
account, never expiring), and sends ``X-RateLimit-*`` headers once its rate limiter is on. The
proxy adds what it lacks: faults that strike *after* a status is stored (the crash cases of an
exactly-once publisher), faults that any process can set over HTTP, Mastodon's own length rule
with a settable limit, and ``X-RateLimit-Reset`` in the ISO 8601 form a real instance sends.
MASTODON_MOCK.md says what was checked and how to use it.
"""

from __future__ import annotations

import email.policy
import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from http import HTTPStatus
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import pytest
from mastodon import Mastodon

TOKEN = "advocate-token"
TOKEN2 = "ally-token"
DEFAULT_MAX_CHARACTERS = 500
# before the mock sees the request: status, ratelimit, drop, hold; after it has stored it: the rest
KINDS = ("status", "ratelimit", "drop", "hold", "delay", "status_after", "drop_after",
         "exhaust_after", "store_then_malformed")  # fmt: skip
_OPTIONS = {"status", "seconds", "reset_in", "limit", "error", "skip"}
_HOLD_SECONDS = 30.0  # a held request is let go after this even if the test never releases it
# content-length is recomputed because the proxy may rewrite a body
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}
_STATUS_WRITE = re.compile(r"^/api/v1/statuses(/\d+)?/?$")
_STATUS_URL = re.compile(r"https?://[^/]+/(?:@[^/]+|users/[^/]+/statuses)/(?P<id>\d+)/?")
_INSTANCE = re.compile(r"^/api/v[12]/instance/?$")  # Mastodon.py adds the slash
_MEDIA = re.compile(r"/api/v1/media/(\d+)")
_MEDIA_POST = re.compile(r"^/api/v[12]/media/?$")
# What Mastodon takes as a thumbnail (app/models/media_attachment.rb: IMAGE_MIME_TYPES, under
# IMAGE_LIMIT, and only on audio or video), each type with the first bytes such a file has (its
# spoof detection compares the two).
_THUMBNAIL_TYPES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "image/heic": (b"",),
    "image/heif": (b"",),
    "image/avif": (b"",),
}
THUMBNAIL_LIMIT = 16 * 1024 * 1024
_STARTUP_SECONDS = 20.0

# The limit is far above any test's traffic: it only makes the mock send X-RateLimit-* headers
# on every answer, as Mastodon does. Tests get their 429s from the "ratelimit" fault instead.
_CONFIG = """\
media_storage_path = {media}
[database]
path = ":memory:"
[ratelimit]
enabled = true
limit = 100000
window_seconds = 300
[[seed.accounts]]
username = "advocate"
display_name = "Education Advocate"
access_token = "{token}"
[[seed.accounts]]
username = "ally"
display_name = "Ally"
access_token = "{token2}"
"""

# The mock rejects statuses over 500 *code points*, hard-coded. The proxy applies Mastodon's rule
# (URLs count 23, graphemes, content warning included) with a settable limit instead, so the
# mock's own check is lifted before its real CLI starts.
_LAUNCH = """\
import sys
import mastodon_mock.routers.statuses as statuses
if not hasattr(statuses, "MAX_STATUS_CHARACTERS"):
    sys.exit("mastodon-mock moved MAX_STATUS_CHARACTERS: update tests/fakes/mastodon.py")
statuses.MAX_STATUS_CHARACTERS = 10**9
from mastodon_mock.cli import main
main(["serve", *sys.argv[1:]])
"""


@dataclass
class Fault:
    """One injected fault: what it matches, what it does, how many more times."""

    method: str
    path: re.Pattern[str]
    kind: str
    times: int | None
    options: dict[str, Any]

    def describe(self) -> dict[str, Any]:
        """The fault as JSON, for ``GET /_fake/faults``."""
        fields = {"method": self.method, "path_regex": self.path.pattern, "kind": self.kind}
        return {**fields, "times": self.times, **self.options}


@dataclass(frozen=True)
class Thumbnail:
    """The ``thumbnail`` part of a media upload, as it arrived."""

    filename: str | None
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Seen:
    """One request that reached the proxy."""

    method: str
    path: str
    idempotency_key: str | None
    query: str = ""  # the query string as sent (a page's cursor, say)


class MastodonFake:
    """The running fake: its URLs and tokens, fault injection, read-back and reset."""

    def __init__(self, workdir: Path) -> None:
        self.token = TOKEN
        self.token2 = TOKEN2
        self.max_characters = DEFAULT_MAX_CHARACTERS
        self.version: str | None = None  # what /api/v2/instance says it runs, if set (quotes: 4.5)
        self.page_limit: int | None = None  # serve at most this many items a page, if set
        # Video and audio processed as a real instance does (POST /api/v2/media answers 202 with
        # no url, GET /api/v1/media/:id 206 until it is done): this many polls answer 206, None
        # processes at once (the mock's own way). ``media_fails``: processing fails (422).
        self.media_processing: int | None = None
        self.media_fails = False
        self._processing: dict[str, int] = {}  # media id -> polls left while "processing"
        self.thumbnails: dict[str, Thumbnail] = {}  # media id -> the thumbnail sent with it
        self.seen: list[Seen] = []
        self.holding = threading.Event()  # a "hold" fault has a request waiting
        self._released = threading.Event()
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._proxy = _ProxyServer(("127.0.0.1", 0), _ProxyHandler)
        self._proxy.fake = self
        self.base_url = f"http://127.0.0.1:{self._proxy.server_port}"
        self._log = (workdir / "mastodon-mock.log").open("wb")
        try:
            self._proc, self.upstream_port = _spawn_mock(
                workdir, self._proxy.server_port, self._log
            )
        except BaseException:
            self._proxy.server_close()
            self._log.close()
            raise
        self.upstream_url = f"http://127.0.0.1:{self.upstream_port}"
        threading.Thread(target=self._proxy.serve_forever, daemon=True).start()

    def client(
        self, token: str | None = None, *, upstream: bool = False, **kwargs: Any
    ) -> Mastodon:
        """A Mastodon.py client through the proxy (or straight to the mock, past any fault)."""
        options: dict[str, Any] = {"ratelimit_method": "throw", "version_check_mode": "none"}
        options.update(kwargs)
        url = self.upstream_url if upstream else self.base_url
        return Mastodon(access_token=token or self.token, api_base_url=url, **options)

    def statuses(self, token: str | None = None) -> list[Any]:
        """Every status of the token's account, newest first, read past any fault."""
        client = self.client(token, upstream=True)
        return list(client.fetch_remaining(client.account_statuses(client.me(), limit=40)))

    def inject(
        self, method: str, path_regex: str, kind: str, times: int | None = 1, **options: Any
    ) -> None:
        """Make the next ``times`` matching requests (``None``: all of them) fail as ``kind``.

        ``method`` is an HTTP method or ``*``; ``path_regex`` is searched in the path without
        the query. Options: ``status`` for the status kinds (and ``error``, the message of the
        body ``{"error": …}``, by default the status's reason phrase), ``seconds`` for ``delay``,
        ``reset_in`` (seconds) and ``limit`` for ``ratelimit``. ``store_then_malformed`` lets the
        mock act, then answers 200 with ``{}`` (no id) instead of what it said. ``hold`` keeps
        the request waiting, unanswered, until :meth:`release` (``holding`` is set meanwhile):
        a client to kill at a known point. ``skip=N`` lets the first N matching requests
        through untouched.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}: use one of {', '.join(KINDS)}")
        if unknown := sorted(set(options) - _OPTIONS):
            raise ValueError(f"unknown fault options {unknown}: use {sorted(_OPTIONS)}")
        fault = Fault(method.upper(), re.compile(path_regex), kind, times, options)
        with self._lock:
            self._faults.append(fault)

    def faults(self) -> list[dict[str, Any]]:
        """The faults still waiting to strike."""
        with self._lock:
            return [fault.describe() for fault in self._faults]

    def clear_faults(self) -> None:
        """Forget every fault not yet used."""
        with self._lock:
            self._faults.clear()

    def release(self) -> None:
        """Let held requests go on (to the mock), and later ones through."""
        self._released.set()

    def reset(self) -> None:
        """Empty the mock (the two seeded accounts and their tokens come back) and the proxy."""
        request = urllib.request.Request(f"{self.upstream_url}/api/v1/_mock/reset", method="POST")
        with _LOOPBACK.open(request, timeout=10):
            pass
        with self._lock:
            self._faults.clear()
            self.seen.clear()
        self.max_characters = DEFAULT_MAX_CHARACTERS
        self.version = None
        self.page_limit = None
        self.media_processing = None
        self.media_fails = False
        self._processing.clear()
        self.thumbnails.clear()
        self.holding.clear()
        self._released.clear()

    def close(self) -> None:
        """Stop the proxy and the mock."""
        self._proxy.shutdown()
        self._proxy.server_close()
        self._proc.terminate()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._log.close()

    def _admit(
        self, method: str, path: str, idempotency_key: str | None, query: str = ""
    ) -> Fault | None:
        """Record a request and take the first fault that matches it."""
        with self._lock:
            self.seen.append(Seen(method, path, idempotency_key, query))
            for fault in self._faults:
                if fault.method in ("*", method) and fault.path.search(path):
                    if fault.options.get("skip", 0) > 0:
                        fault.options["skip"] -= 1
                        continue
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    fake: MastodonFake

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a timeout test) is expected, not an error worth a traceback."""
        if not isinstance(sys.exc_info()[1], BrokenPipeError | ConnectionResetError):
            super().handle_error(request, client_address)


class _ProxyHandler(BaseHTTPRequestHandler):
    server: _ProxyServer
    server_version = "Mastodon"
    sys_version = ""

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _handle(self) -> None:
        fake = self.server.fake
        path = urlsplit(self.path).path
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if path.startswith("/_fake/"):
            self._control(fake, path, body)
            return
        query = urlsplit(self.path).query
        fault = fake._admit(self.command, path, self.headers.get("Idempotency-Key"), query)
        kind, options = (fault.kind, fault.options) if fault else ("", {})
        if kind == "drop":
            return  # no answer: the server closes the connection
        if kind == "hold":
            fake.holding.set()
            fake._released.wait(_HOLD_SECONDS)
        if fake.page_limit is not None and self.command == "GET":
            self.path = _capped(self.path, fake.page_limit)
        if kind == "status":
            self._send_error(int(options.get("status", 503)), options.get("error"))
        elif kind == "ratelimit":
            self._send_ratelimit(
                float(options.get("reset_in", 1.0)), int(options.get("limit", 300))
            )
        elif error := self._length_error(fake.max_characters, path, body):
            self._send_json(422, {"error": error})
        elif (found := self._resolved(fake.upstream_port, path)) is not None:
            self._send_json(200, found)
        elif (processing := self._processing_media(fake, path)) is not None:
            self._send_json(*processing)
        elif (refused := self._thumbnail_refused(path, body)) is not None:
            self._send_json(422, {"error": refused})
        else:
            status, headers, data = self._forward(fake.upstream_port, body)
            if kind == "drop_after":
                return
            if kind == "status_after":
                self._send_error(int(options.get("status", 504)), options.get("error"))
                return
            if kind == "store_then_malformed" and 200 <= status < 300:  # acted; no id in the answer
                headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
                headers.append(("Content-Type", "application/json; charset=utf-8"))
                status, data = 200, b"{}"
            if kind == "delay":
                time.sleep(float(options.get("seconds", 1.0)))
            if kind == "exhaust_after":  # it went through, and that used up the window
                reset = datetime.now(UTC) + timedelta(seconds=float(options.get("reset_in", 300)))
                headers = [(k, v) for k, v in headers if not k.lower().startswith("x-ratelimit-")]
                headers += [("X-RateLimit-Limit", str(options.get("limit", 300))),
                            ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", _iso(reset))]  # fmt: skip
            if status == 200 and _INSTANCE.match(path):
                data = _with_max_characters(data, fake.max_characters, fake.version)
            if status == 200 and _MEDIA_POST.match(path):
                data = self._thumbnail_kept(fake, body, data)
            if status == 200 and path == "/api/v2/media" and fake.media_processing is not None:
                status, data = self._accepted(fake, data)
            self._relay(status, headers, data)

    def _upload_parts(self, body: bytes) -> dict[str, Thumbnail]:
        """A media upload's multipart form parts by name."""
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data"):
            return {}
        message = BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        parts = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                data = part.get_payload(decode=True)
                parts[name] = Thumbnail(
                    part.get_filename(),
                    part.get_content_type(),
                    data if isinstance(data, bytes) else b"",
                )
        return parts

    def _thumbnail_refused(self, path: str, body: bytes) -> str | None:
        """Why Mastodon refuses a media upload's ``thumbnail`` (422, the model's validation
        messages); None when there is none or it is fine."""
        if self.command != "POST" or not _MEDIA_POST.match(path):
            return None
        parts = self._upload_parts(body)
        thumbnail, file = parts.get("thumbnail"), parts.get("file")
        if thumbnail is None:
            return None
        if file is None or not file.content_type.startswith(("video/", "audio/")):
            return "Validation failed: Thumbnail must be blank"
        magic = _THUMBNAIL_TYPES.get(thumbnail.content_type)
        if magic is None or not thumbnail.data.startswith(magic):
            return "Validation failed: Thumbnail content type is invalid, Thumbnail is invalid"
        if len(thumbnail.data) >= THUMBNAIL_LIMIT:
            return "Validation failed: Thumbnail file size must be less than 16 MB"
        return None

    def _thumbnail_kept(self, fake: MastodonFake, body: bytes, data: bytes) -> bytes:
        """Record the thumbnail an upload carried (the mock ignores it) under the new media's
        id, and answer with a ``preview_url`` of its own, as Mastodon does."""
        thumbnail = self._upload_parts(body).get("thumbnail")
        if thumbnail is None:
            return data
        media = json.loads(data)
        with fake._lock:
            fake.thumbnails[str(media["id"])] = thumbnail
        return json.dumps({**media, "preview_url": f"{media['url']}#thumbnail"}).encode()

    def _accepted(self, fake: MastodonFake, data: bytes) -> tuple[int, bytes]:
        """An uploaded video or audio file as Mastodon's v2 answers it while it processes:
        202 Accepted, ``url`` null (Api::V2::MediaController#create)."""
        media = json.loads(data)
        if media.get("type") not in ("video", "gifv", "audio"):
            return 200, data
        with fake._lock:
            fake._processing[str(media["id"])] = fake.media_processing or 0
        return 202, json.dumps({**media, "url": None}).encode()

    def _processing_media(self, fake: MastodonFake, path: str) -> tuple[int, Any] | None:
        """``GET /api/v1/media/:id`` of a file still processing: 206 with ``url`` null, or 422
        when its processing failed (Api::V1::MediaController#show, #check_processing); None
        when done (then forwarded: the mock answers 200 with its url)."""
        match = _MEDIA.fullmatch(path)
        if self.command != "GET" or match is None:
            return None
        media_id = match.group(1)
        with fake._lock:
            left = fake._processing.get(media_id)
            if left is None:
                return None
            if fake.media_fails:
                return 422, {"error": "Error processing thumbnail for uploaded media"}
            if left <= 0:
                del fake._processing[media_id]
                return None
            fake._processing[media_id] = left - 1
        status, _, data = self._forward(fake.upstream_port, b"")
        return (206, {**json.loads(data), "url": None}) if status == 200 else (status, {})

    def _resolved(self, port: int, path: str) -> dict[str, Any] | None:
        """``GET /api/v2/search?resolve=true&q=<a status URL>`` as Mastodon answers it: the
        status that URL names (the mock's search only matches text). Only this instance's
        statuses can be found (a real one would fetch a remote status itself): any other
        address finds nothing. None: not such a search, forwarded as it is."""
        query = parse_qs(urlsplit(self.path).query)
        # Rails reads "1" (what Mastodon.py sends), "true" and the like as true
        resolve = (query.get("resolve") or [""])[0].lower() in ("1", "true", "t", "on")
        if path != "/api/v2/search" or not resolve:
            return None
        q = (query.get("q") or [""])[0]
        shape = _STATUS_URL.fullmatch(q)
        empty: dict[str, Any] = {"accounts": [], "statuses": [], "hashtags": []}
        if shape is None:
            return empty
        connection = HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            headers = {"Authorization": self.headers.get("Authorization", "")}
            connection.request("GET", f"/api/v1/statuses/{shape['id']}", headers=headers)
            response = connection.getresponse()
            status, data = response.status, response.read()
        finally:
            connection.close()
        if status != 200:
            return empty
        found = json.loads(data)
        if q.rstrip("/") not in (found.get("url"), found.get("uri")):
            return empty
        return {**empty, "statuses": [found]}

    def _control(self, fake: MastodonFake, path: str, body: bytes) -> None:
        if path != "/_fake/faults":
            self._send_json(404, {"error": "Record not found"})
        elif self.command == "GET":
            self._send_json(200, fake.faults())
        elif self.command == "DELETE":
            fake.clear_faults()
            self._send_json(200, {"ok": True})
        else:
            try:
                fake.inject(**json.loads(body or b"{}"))
            except (TypeError, ValueError) as exc:
                self._send_json(422, {"error": str(exc)})
            else:
                self._send_json(200, {"ok": True})

    def _length_error(self, max_characters: int, path: str, body: bytes) -> str | None:
        if self.command not in ("POST", "PUT") or not _STATUS_WRITE.match(path):
            return None
        params = _params(body, self.headers.get("Content-Type", ""))
        text, spoiler = str(params.get("status") or ""), str(params.get("spoiler_text") or "")
        if Mastodon.get_status_length(text, spoiler) <= max_characters:
            return None
        return f"Validation failed: Text character limit of {max_characters} exceeded"

    def _forward(self, port: int, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        skip = {*_HOP_BY_HOP, "content-length"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
        connection = HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request(self.command, self.path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def _relay(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.send_response_only(status)
        for name, value in headers:
            lowered = name.lower()
            if lowered in _HOP_BY_HOP or lowered == "content-length":
                continue
            if lowered == "x-ratelimit-reset" and value.isdigit():
                self.send_header(name, _iso(datetime.fromtimestamp(int(value), UTC)))
            else:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, status: int, error: str | None = None) -> None:
        self._send_json(status, {"error": error or HTTPStatus(status).phrase})

    def _send_ratelimit(self, reset_in: float, limit: int) -> None:
        reset = _iso(datetime.now(UTC) + timedelta(seconds=reset_in))
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0"}
        headers["X-RateLimit-Reset"] = reset
        self._send_json(429, {"error": "Too many requests"}, headers)

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


# Loopback only: never route the fake's own calls through a proxy from the environment.
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _iso(moment: datetime) -> str:
    """A time as Mastodon writes it in X-RateLimit-Reset: ISO 8601, microseconds, Z."""
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _params(body: bytes, content_type: str) -> dict[str, Any]:
    """Form or JSON parameters of a status post (Mastodon.py sends JSON only with polls)."""
    if content_type.startswith("application/json"):
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    pairs = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in pairs.items()}


def _capped(target: str, page_limit: int) -> str:
    """The request with its ``limit`` at most ``page_limit`` (a server that pages smaller than
    asked, as Mastodon does past its own maximum)."""
    parts = urlsplit(target)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    asked = next((int(v) for k, v in pairs if k == "limit" and v.isdigit()), page_limit)
    pairs = [(k, v) for k, v in pairs if k != "limit"] + [("limit", str(min(asked, page_limit)))]
    return parts._replace(query=urlencode(pairs)).geturl()


def _with_max_characters(data: bytes, max_characters: int, version: str | None) -> bytes:
    document = json.loads(data)
    document["configuration"]["statuses"]["max_characters"] = max_characters
    if version is not None:
        document["version"] = version
    return json.dumps(document).encode()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _spawn_mock(
    workdir: Path, proxy_port: int, log: Any, attempts: int = 3
) -> tuple[subprocess.Popen[bytes], int]:
    """Start the mock on a free port and wait until it answers; retry if the port was taken."""
    config = workdir / "mastodon-mock.toml"
    media = json.dumps(str(workdir / "media"))
    config.write_text(_CONFIG.format(media=media, token=TOKEN, token2=TOKEN2), encoding="utf-8")
    for _ in range(attempts):
        port = _free_port()
        args = ["--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
        # links in statuses and accounts then point at the proxy, as a client would see them
        args += ["--domain", f"127.0.0.1:{proxy_port}", "--log-level", "warning"]
        proc = subprocess.Popen(
            [sys.executable, "-c", _LAUNCH, *args], cwd=workdir, stdout=log, stderr=log
        )
        if _wait_until_up(proc, f"http://127.0.0.1:{port}/health"):
            return proc, port
        proc.kill()
        proc.wait()
    tail = (workdir / "mastodon-mock.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"mastodon-mock did not start; its log ends:\n{tail}")


def _wait_until_up(proc: subprocess.Popen[bytes], health_url: str) -> bool:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with _LOOPBACK.open(health_url, timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


@pytest.fixture(scope="session")
def mastodon_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MastodonFake]:
    """One fake per test session: call ``reset()`` (or use ``mastodon_fresh``) between tests."""
    fake = MastodonFake(tmp_path_factory.mktemp("mastodon"))
    try:
        yield fake
    finally:
        fake.close()


@pytest.fixture
def mastodon_fresh(mastodon_server: MastodonFake) -> MastodonFake:
    """The session's fake, emptied: no statuses, no faults, default limit."""
    mastodon_server.reset()
    return mastodon_server
