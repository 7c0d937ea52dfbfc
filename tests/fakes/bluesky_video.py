"""A loopback fake of Bluesky's video service (video.bsky.app): ``app.bsky.video.uploadVideo``
and ``app.bsky.video.getJobStatus``, for tests that publish a video through the real PDS of
tests/fakes/bluesky.py.

What it checks, as the real service does: the upload carries ``Authorization: Bearer <JWT>``, a
service-auth token whose payload names the uploading account as issuer (``iss`` equals the
``did`` query parameter), the PDS as audience (``aud`` equals the PDS's DID, since the service
uploads the processed file there in the account's name) and ``com.atproto.repo.uploadBlob`` as
its method (``lxm``), and has not expired (``exp``); the body is ``video/mp4`` and not empty.
Anything else is answered 401 (token) or 400 (body). What it does not check: the token's
signature (the PDS does, when the fake uses the token to upload the file there, as the real
service does), the service's daily limits, and the file itself (nothing is transcoded: the
bytes uploaded are the bytes stored).

Jobs: each upload is a job that stays ``JOB_STATE_ENCODING`` for ``processing`` polls of
``getJobStatus``, then either fails (``fails``: ``JOB_STATE_FAILED`` with that error) or is
uploaded to the PDS with the caller's token (``com.atproto.repo.uploadBlob``) and completes with
the blob the PDS returned. ``getJobStatus`` needs no token (the real one does not ask for one).
Faults: ``inject(nsid, fault)`` makes the next request to that method end with the connection
dropped (``"drop"``) or a status code (``"503"``), once each.
``seen`` lists (method, nsid) of every request, never the token.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

UPLOAD, STATUS = "app.bsky.video.uploadVideo", "app.bsky.video.getJobStatus"
LXM = "com.atproto.repo.uploadBlob"
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Job:
    id: str
    did: str
    data: bytes
    token: str
    polls_left: int
    state: str = "JOB_STATE_ENCODING"
    blob: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class FakeVideoService:
    """The service's state; ``url`` once it is serving (see :func:`serving`)."""

    pds_url: str
    pds_did: str
    processing: int = 1
    fails: str | None = None
    url: str = ""
    jobs: dict[str, Job] = field(default_factory=dict)
    seen: list[tuple[str, str]] = field(default_factory=list)
    faults: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(self, nsid: str, fault: str) -> None:
        self.faults.append((nsid, fault))

    def _fault(self, nsid: str) -> str | None:
        with self.lock:
            for i, (name, fault) in enumerate(self.faults):
                if name == nsid:
                    del self.faults[i]
                    return fault
        return None

    def uploads(self) -> int:
        return sum(1 for _, nsid in self.seen if nsid == UPLOAD)

    def token_problem(self, header: str | None, did: str | None) -> str | None:
        """Why the upload's token is refused, or None (see the module for what is checked)."""
        if not header or not header.startswith("Bearer "):
            return "AuthMissing"
        try:
            payload = header.removeprefix("Bearer ").split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (IndexError, ValueError):
            return "InvalidToken: not a JWT"
        if claims.get("iss") != did:
            return "InvalidToken: the issuer is not the uploading account"
        if claims.get("aud") != self.pds_did:
            return "InvalidToken: the audience is not the account's PDS"
        if claims.get("lxm") != LXM:
            return f"InvalidToken: the token is not for {LXM}"
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
            return "ExpiredToken"
        return None

    def advance(self, job: Job) -> None:
        """One poll of a job still being processed."""
        if job.state != "JOB_STATE_ENCODING":
            return
        if job.polls_left > 0:
            job.polls_left -= 1
            return
        if self.fails is not None:
            job.state, job.error = "JOB_STATE_FAILED", self.fails
            return
        request = urllib.request.Request(
            f"{self.pds_url}/xrpc/{LXM}",
            job.data,
            {"Authorization": f"Bearer {job.token}", "Content-Type": "video/mp4"},
        )
        try:
            with _LOOPBACK.open(request, timeout=30) as answer:
                job.blob = json.load(answer)["blob"]
                job.state = "JOB_STATE_COMPLETED"
        except urllib.error.HTTPError as exc:
            job.state, job.error = "JOB_STATE_FAILED", f"pds_upload_failure ({exc.code})"


def status_of(job: Job) -> dict[str, Any]:
    out: dict[str, Any] = {"jobId": job.id, "did": job.did, "state": job.state}
    if job.blob is not None:
        out["blob"] = job.blob
    if job.error is not None:
        out["error"] = job.error
    return out


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeVideoService


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _start(self) -> tuple[str, dict[str, str]] | None:
        url = urllib.parse.urlsplit(self.path)
        nsid = url.path.removeprefix("/xrpc/")
        params = dict(urllib.parse.parse_qsl(url.query))
        fake = self.server.fake
        with fake.lock:
            fake.seen.append((self.command, nsid))
        fault = fake._fault(nsid)
        if fault == "drop":
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.close_connection = True  # no status line: the connection just ends
            return None
        if fault is not None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._answer(int(fault), {"error": "InternalServerError", "message": "injected"})
            return None
        return nsid, params

    def do_POST(self) -> None:
        started = self._start()
        if started is None:
            return
        nsid, params = started
        fake = self.server.fake
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if nsid != UPLOAD:
            self._answer(404, {"error": "MethodNotImplemented", "message": nsid})
            return
        problem = fake.token_problem(self.headers.get("Authorization"), params.get("did"))
        if problem is not None:
            error, _, message = problem.partition(": ")
            self._answer(401, {"error": error, "message": message or error})
            return
        if self.headers.get("Content-Type") != "video/mp4" or not data:
            self._answer(400, {"error": "InvalidRequest", "message": "expected video/mp4 bytes"})
            return
        token = str(self.headers["Authorization"]).removeprefix("Bearer ")
        with fake.lock:
            job = Job(f"job{len(fake.jobs) + 1}", params["did"], data, token, fake.processing)
            fake.jobs[job.id] = job
        self._answer(200, {"jobStatus": status_of(job)})

    def do_GET(self) -> None:
        started = self._start()
        if started is None:
            return
        nsid, params = started
        fake = self.server.fake
        if nsid != STATUS:
            self._answer(404, {"error": "MethodNotImplemented", "message": nsid})
            return
        with fake.lock:
            job = fake.jobs.get(params.get("jobId", ""))
        if job is None:
            self._answer(404, {"error": "NotFound", "message": "no such job"})
            return
        fake.advance(job)
        self._answer(200, {"jobStatus": status_of(job)})


@contextlib.contextmanager
def serving(fake: FakeVideoService) -> Iterator[FakeVideoService]:
    """Serve ``fake`` on a loopback port (its ``url``) until the block ends."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = fake
    fake.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
