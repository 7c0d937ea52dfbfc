"""The reference Bluesky PDS on loopback, for tests that go through the real ``atproto`` SDK.

``tests/pds/launch.js`` runs ``@atproto/pds`` with an in-memory ``@did-plc/server`` beside it, so
accounts get real ``did:plc`` identities without the internet, and the PDS proxies ``app.bsky.*``
calls to the fake AppView of tests/fakes/bluesky_appview.py, which counts engagement from the
PDS's records. ``scripts/install-pds`` installs the npm packages once into a cache outside the
clone; this module finds them by the same rule (the sha256 of ``tests/pds/package-lock.json``).
Read-back (``records``) and the engagement other accounts make (``like``, ``repost``, ``reply``,
``quote``) go over plain HTTP, past the SDK, so a test sees what the PDS stored rather than what
the SDK parsed. Load it as a pytest plugin (``pytest_plugins`` in tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import select
import shutil
import signal
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.fakes.bluesky_appview import FakeAppView

if TYPE_CHECKING:
    from atproto import Client

PDS_DIR = Path(__file__).resolve().parent.parent / "pds"
POST, LIKE, REPOST = "app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.feed.repost"
_STARTUP_SECONDS = 60.0
_STOP_SECONDS = 10.0
# Read when the plugin loads: tests/conftest.py points HOME at a temporary folder in every test
# and clears every EDUADVOCATE_* variable.
_CACHE = os.environ.get("EDUADVOCATE_PDS_CACHE") or Path.home() / ".cache" / "eduadvocate-pds"
# Loopback only: never route the fixture's own calls through a proxy from the environment.
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def xrpc(
    url: str,
    nsid: str,
    body: dict[str, Any] | None = None,
    *,
    params: dict[str, str | None] | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """Call a PDS at ``url`` over plain HTTP, past the SDK: a procedure when ``body`` is given,
    else a query (shared with tests/fakes/bluesky_network.py)."""
    query = urllib.parse.urlencode({k: v for k, v in (params or {}).items() if v is not None})
    request = urllib.request.Request(f"{url}/xrpc/{nsid}?{query}")
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with _LOOPBACK.open(request, timeout=30) as response:
            result: dict[str, Any] = json.load(response)
            return result
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise RuntimeError(f"{nsid} answered {exc.code}: {detail}") from exc


def install_dir() -> Path:
    """Where ``scripts/install-pds`` puts the PDS for the current lockfile (same rule)."""
    digest = hashlib.sha256((PDS_DIR / "package-lock.json").read_bytes()).hexdigest()
    return Path(_CACHE) / digest


@dataclass(frozen=True)
class Account:
    """An account on the loopback PDS: ``client()`` logs in with the app password, as we do."""

    handle: str
    did: str
    password: str
    app_password: str


@dataclass(frozen=True)
class StrongRef:
    """A record as written (a ``com.atproto.repo.strongRef``): its AT URI and its CID."""

    uri: str
    cid: str


class BlueskyPDS:
    """The running PDS: its URL, accounts, logged-in SDK clients, read-back and engagement."""

    def __init__(self, url: str, plc_url: str, admin_password: str, appview: FakeAppView) -> None:
        self.url = url
        self.plc_url = plc_url
        self.admin_password = admin_password
        self.appview = appview
        self.accounts: dict[str, Account] = {}
        self._tokens: dict[str, str] = {}  # DID → access token of the account's own session
        self._clients: list[Client] = []
        self._names = (f"user{n}" for n in itertools.count(1))

    def create_account(self, name: str | None = None) -> Account:
        """A new account ``<name>.test`` (``.test`` is the PDS's handle domain on localhost)."""
        handle = f"{name or next(self._names)}.test"
        password = f"{handle}-password"
        body = {"handle": handle, "email": f"{handle}@example.com", "password": password}
        created = self.xrpc("com.atproto.server.createAccount", body)
        app = self.xrpc(
            "com.atproto.server.createAppPassword",
            {"name": "eduadvocate"},
            token=created["accessJwt"],
        )
        account = Account(handle, created["did"], password, app["password"])
        self.accounts[handle] = account
        self._tokens[account.did] = created["accessJwt"]
        return account

    def client(
        self, handle: str | None = None, *, client_class: type[Client] | None = None
    ) -> Client:
        """An ``atproto.Client`` (or ``client_class``) for this PDS, logged in as ``handle`` with
        its app password when a handle is given. It is closed when the session ends.

        The login skips the profile fetch, as the Bluesky adapter does: ``client.me`` stays None.
        """
        from atproto import Client
        from atproto_client.request import Request

        client = (client_class or Client)(base_url=self.url, request=Request(trust_env=False))
        self._clients.append(client)
        if handle:
            client.login(handle, self.accounts[handle].app_password, fetch_bsky_profile=False)
        return client

    def close_clients(self) -> None:
        """Close every client handed out (their pooled connections would warn when collected)."""
        for client in self._clients:
            client.request.close()
        self._clients.clear()

    def records(self, did: str, collection: str) -> list[dict[str, Any]]:
        """Every record of ``collection`` in the repo, newest first, as the PDS's JSON."""
        out: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"repo": did, "collection": collection, "limit": "100"}
            page = self.xrpc("com.atproto.repo.listRecords", params={**params, "cursor": cursor})
            out += page["records"]
            cursor = page.get("cursor")
            if not cursor or not page["records"]:
                return out

    def post(self, by: Account, text: str, **fields: Any) -> StrongRef:
        """A post by ``by``; ``fields`` (``reply``, ``embed``, ...) go into the record as given."""
        return self.write(by, POST, {"text": text, **fields})

    def like(self, by: Account, uri: str, cid: str) -> StrongRef:
        """``by`` likes the record at ``uri`` (version ``cid``)."""
        return self.write(by, LIKE, {"subject": {"uri": uri, "cid": cid}})

    def repost(self, by: Account, uri: str, cid: str) -> StrongRef:
        """``by`` reposts the post at ``uri``."""
        return self.write(by, REPOST, {"subject": {"uri": uri, "cid": cid}})

    def reply(self, by: Account, uri: str, cid: str, text: str = "A reply") -> StrongRef:
        """``by`` replies to the post at ``uri``, in its thread (the root is the parent's root)."""
        did, collection, rkey = uri.removeprefix("at://").split("/")
        params: dict[str, str | None] = {"repo": did, "collection": collection, "rkey": rkey}
        parent = self.xrpc("com.atproto.repo.getRecord", params=params)["value"]
        ref = {"uri": uri, "cid": cid}
        return self.post(
            by, text, reply={"root": parent.get("reply", {}).get("root", ref), "parent": ref}
        )

    def quote(self, by: Account, uri: str, cid: str, text: str = "A quote") -> StrongRef:
        """``by`` quotes the post at ``uri`` (an ``app.bsky.embed.record`` embed)."""
        embed = {"$type": "app.bsky.embed.record", "record": {"uri": uri, "cid": cid}}
        return self.post(by, text, embed=embed)

    def write(self, by: Account, collection: str, record: dict[str, Any]) -> StrongRef:
        """Create a record in ``by``'s repo, stamped with ``$type`` and ``createdAt`` (now)."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        value = {"$type": collection, "createdAt": now, **record}
        body = {"repo": by.did, "collection": collection, "record": value}
        created = self.xrpc("com.atproto.repo.createRecord", body, token=self._tokens[by.did])
        return StrongRef(created["uri"], created["cid"])

    def delete(self, by: Account, uri: str) -> None:
        """Delete one of ``by``'s records: an unlike, an undone repost, a deleted reply."""
        did, collection, rkey = uri.removeprefix("at://").split("/")
        body = {"repo": did, "collection": collection, "rkey": rkey}
        self.xrpc("com.atproto.repo.deleteRecord", body, token=self._tokens[by.did])

    def xrpc(
        self,
        nsid: str,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, str | None] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """Call the PDS over plain HTTP: a procedure when ``body`` is given, else a query."""
        return xrpc(self.url, nsid, body, params=params, token=token)

    @contextlib.contextmanager
    def dropping(self, *, after: bool) -> Iterator[str]:
        """A loopback URL whose every request ends with the connection closed and no answer.

        ``after=True`` first passes the request on to the PDS (the write is stored, the client
        never hears so); ``after=False`` drops it unseen. Point a logged-in client at it with
        ``client.update_base_url(url)``.
        """
        server = _DropServer(("127.0.0.1", 0), _DropHandler)
        server.target = self.url if after else None
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()


class _DropServer(ThreadingHTTPServer):
    daemon_threads = True
    target: str | None = None


class _DropHandler(BaseHTTPRequestHandler):
    server: _DropServer

    def do_GET(self) -> None:
        self._drop()

    def do_POST(self) -> None:
        self._drop()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _drop(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.target:
            skip = {"host", "connection", "content-length", "accept-encoding"}
            headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
            data = body if self.command == "POST" else None
            url = self.server.target + self.path
            request = urllib.request.Request(url, data, headers, method=self.command)
            with contextlib.suppress(urllib.error.HTTPError), _LOOPBACK.open(request, timeout=30):
                pass
        self.close_connection = True  # returning without a status line closes the socket


def _launch(
    modules: Path, data_dir: Path, log: Path, appview_url: str
) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """Start tests/pds/launch.js and wait for the one JSON line it prints when ready."""
    env = {**os.environ, "NODE_PATH": str(modules / "node_modules")}
    args = [str(data_dir), "--appview", appview_url, "--exit-with-stdin"]
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            ["node", str(PDS_DIR / "launch.js"), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
        )
    assert proc.stdout is not None
    line = b""
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([proc.stdout], [], [], _STARTUP_SECONDS)
        chunk = os.read(proc.stdout.fileno(), 4096) if ready else b""
        if not chunk:
            stop_process(proc)
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(
                f"the PDS did not start (exit {proc.returncode}); its log ends:\n{tail}"
            )
        line += chunk
    return proc, json.loads(line)


def stop_process(proc: subprocess.Popen[bytes], seconds: float = _STOP_SECONDS) -> None:
    """SIGTERM, ``seconds`` to exit, then SIGKILL; its pipes closed (shared with
    tests/fakes/bluesky_network.py)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for pipe in (proc.stdin, proc.stdout):
        if pipe:
            pipe.close()


@pytest.fixture(scope="session")
def pds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BlueskyPDS]:
    """One PDS per test session, its fake AppView, and accounts ``alice.test`` and ``bob.test``."""
    modules = install_dir()
    reason = None
    if not shutil.which("node"):
        reason = "node is not on PATH: the reference Bluesky PDS needs Node 20"
    elif not (modules / ".installed").is_file():
        reason = f"the reference Bluesky PDS is not installed in {modules}: run scripts/install-pds"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must install it)")
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("pds")
    with FakeAppView() as appview:  # the PDS is told its URL when it starts
        proc, urls = _launch(modules, workdir / "data", workdir / "pds.log", appview.url)
        try:
            appview.pds_url = urls["pds"]
            server = BlueskyPDS(urls["pds"], urls["plc"], urls["admin_password"], appview)
            server.create_account("alice")
            server.create_account("bob")
            yield server
            server.close_clients()
        finally:
            stop_process(proc)


@pytest.fixture
def bsky_account(pds: BlueskyPDS) -> Account:
    """A new, empty account for one test."""
    return pds.create_account()
