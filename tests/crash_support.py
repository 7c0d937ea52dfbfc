"""The crash harness's platforms and tools (tests/test_crash.py): each of the seven targets behind
one interface (what it stored, how to slow it, fail it, hold or garble its answers), a campaign
builder, real ``eduadvocate`` processes, and the exactly-once check against the server.

The reference PDS has no fault injection, so Bluesky runs through :class:`PdsProxy`, a loopback
proxy that can slow or refuse ``createRecord``. The outbox cannot be slowed at all: it writes a
part in about a millisecond, so a test that must catch a run in the middle gives it hundreds of
posts, or freezes the process (SIGSTOP) once its first part is written.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from eduadvocate.ledger import open_ledger
from eduadvocate.ledger.base import Delivery, State
from tests import launch
from tests.conftest import REPO, Make
from tests.fakes.graph_api import GraphFake
from tests.fakes.mastodon import MastodonFake
from tests.fakes.x_api import X_CONFIG_KEYS, XFake, credentials_env
from tests.mp4 import video_bytes

LEDGER = ".eduadvocate/ledger.sqlite3"
MP4 = video_bytes(audio=False) + struct.pack(">I4s", 8 + 2048, b"mdat") + bytes(range(256)) * 8
# facebook_video: the Graph fake as a Facebook Page, every post with a video (/videos).
TARGETS = ["x", "mastodon", "facebook", "facebook_video", "instagram", "bluesky", "outbox"]
Stored = tuple[str, str, str | None]  # (id on the platform, text as sent, id it replies to)
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _nothing() -> None:
    pass


@dataclass
class Target:
    """One platform under test: its config, what it stored, and the faults it can be given.

    ``slow``: every post call takes ``seconds`` longer (None: the target cannot be slowed).
    ``fail_next``: the next call a post needs fails before anything is stored, so the post
    waits for a retry (on the outbox: every write, until ``clear``). ``malformed(n)``: the
    next ``n`` post calls (None: all) store the post, then answer without its id. ``secret``:
    the environment variable holding the credential the config references.
    """

    name: str
    config: str
    stored: Callable[[], list[Stored]]
    clear: Callable[[], None]
    fail_next: Callable[[], None]
    slow: Callable[[float], None] | None = None
    hold_answers: Callable[[], None] | None = None  # the next post is stored, its answer held
    malformed: Callable[[int | None], None] | None = None
    secret: str | None = None
    any_stored: Callable[[], bool] | None = None  # a cheap ``bool(stored())``
    requests: Callable[[], list[str]] = list  # what the platform was asked, "METHOD path status"
    threads: bool = True  # Facebook and Instagram have none: a thread goes as one long post
    # Another account's post, made on the server to be answered (``reply_to:``): its address,
    # and its id as a reply's stored "replies to" names it. None: no replies on this platform.
    others_post: Callable[[], tuple[str, str]] | None = None
    # What our account shared of others' posts, on the server: for each repost (a record, a
    # boost), and for each post of ours, (its id, the id of the post it reposts or quotes, as
    # ``others_post`` gives it). None: no reposts or quotes on this platform.
    reposts: Callable[[], list[tuple[str, str]]] | None = None
    quotes: Callable[[], list[tuple[str, str | None]]] | None = None
    media: bool = False  # Instagram needs an image on every post
    video: bool = False  # every post carries a video (m.mp4)

    def texts(self, post: Post) -> list[str]:
        """What the platform should hold of ``post``, in order."""
        if self.threads or len(post.parts) == 1:
            return list(post.parts)
        return ["\n\n".join(post.parts)]

    def first_stored(self) -> bool:
        return self.any_stored() if self.any_stored else bool(self.stored())


@dataclass(frozen=True)
class Post:
    """A post of a test campaign: one part is a ``text``, more are a ``thread``."""

    id: str
    at: str
    parts: tuple[str, ...]
    extra: tuple[str, ...] = ()  # more YAML lines of the post, e.g. "card: true"


def single(post_id: str, at: str = "2026-11-28 11:58") -> Post:
    return Post(post_id, at, (f"Post {post_id}: fund our schools, keep classes small",))


THREAD = Post(
    "thread",
    "2026-11-28 11:57",
    ("Why the levy matters, a thread", "Class sizes: 35 in grade 6", "Sign: https://example.org/p"),
)


def posts_file(target: Target, posts: Sequence[Post]) -> str:
    lines = ["utm: false", "posts:"]
    for post in posts:
        lines += [f"  - id: {post.id}", f"    at: {post.at}"]
        if len(post.parts) == 1:
            lines.append(f"    text: {json.dumps(post.parts[0])}")
        elif post.parts:  # (none: a repost)
            lines.append(f"    thread: {json.dumps(list(post.parts))}")
        if target.media:
            lines.append("    media: [{path: m.jpg, alt: A classroom}]")
        elif target.video:
            lines.append("    media: [{path: m.mp4, alt: A teacher speaks}]")
        lines += [f"    {extra}" for extra in post.extra]
    return "\n".join(lines) + "\n"


def campaign(make_campaign: Make, target: Target, files: dict[str, Sequence[Post]]) -> Path:
    """The campaign folder, its files dated as if saved a while ago (see :func:`settled`)."""
    root = make_campaign(
        {name: posts_file(target, posts) for name, posts in files.items()}, config=target.config
    )
    shutil.copy(REPO / "media" / "testimonial-okoro.jpg", root / "m.jpg")
    (root / "m.mp4").write_bytes(MP4)
    settled(root)
    return root


def settled(root: Path) -> None:
    """Date the campaign's files a minute back. ``publish`` first waits until no file was written
    in the last second (an editor may be saving it); these files are whole, so it need not."""
    past = time.time() - 60
    for path in [root / "config.yaml", root / "people.yaml", *(root / "posts").rglob("*.yaml")]:
        os.utime(path, (past, past))


# -- processes ---------------------------------------------------------------------------------
def start(
    *args: str, now: str | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """``eduadvocate ARGS`` in the current folder (through tests/launch.py), at ``now`` (default:
    conftest's clock)."""
    return subprocess.Popen(
        launch.command(*args),
        env=launch.environment(
            {**os.environ, **({"EDUADVOCATE_NOW": now} if now else {}), **(env or {})}
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def cli(
    *args: str, now: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    proc = start(*args, now=now, env=env)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def wait_for(condition: Callable[[], bool], timeout: float = 20, poll: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(poll)


def start_caught(
    target: Target, *args: str, freeze: bool = False
) -> tuple[subprocess.Popen[str], Callable[[], None]]:
    """Start ``publish`` and return once its first part is on the platform, with the rest still
    to go, and a function that lets it go on. A slowed target is caught in a slow call. The
    outbox cannot be slowed: it is caught within a part or two (it writes one in about a
    millisecond), and with ``freeze`` stopped there (SIGSTOP, which ``go_on`` undoes)."""
    proc = start("publish", *args)
    if target.slow is not None:
        wait_for(target.first_stored)
        return proc, _nothing
    wait_for(target.first_stored, poll=0.0005)
    if not freeze:
        return proc, _nothing
    proc.send_signal(signal.SIGSTOP)
    return proc, lambda: proc.send_signal(signal.SIGCONT)


# -- the ledger and the server -------------------------------------------------------------------
def rows(root: Path, ledger: str = LEDGER) -> dict[str, Delivery]:
    opened = open_ledger(ledger, root)
    try:
        return {d.post_id: d for d in opened.deliveries()}
    finally:
        opened.close()


def states(root: Path, ledger: str = LEDGER) -> dict[str, str]:
    return {post: str(d.state) for post, d in rows(root, ledger).items()}


def open_attempts(root: Path, ledger: str = LEDGER) -> list[object]:
    opened = open_ledger(ledger, root)
    try:
        return [a for d in opened.deliveries() for a in opened.open_attempts(d.id)]
    finally:
        opened.close()


def texts_on(target: Target) -> Counter[str]:
    return Counter(text for _, text, _ in target.stored())


def check_exactly_once(
    target: Target, root: Path, posts: Sequence[Post], ledger: str = LEDGER
) -> None:
    """On the server: every post exactly once, nothing else, threads chained part to part. In
    the ledger: each published with the server's ids, nothing claimed."""
    stored = target.stored()
    expected = Counter(text for post in posts for text in target.texts(post))
    assert Counter(text for _, text, _ in stored) == expected, stored
    by_text = {text: (sid, reply) for sid, text, reply in stored}
    found = rows(root, ledger)
    for post in posts:
        ids = [by_text[text][0] for text in target.texts(post)]
        if target.threads:
            assert [by_text[text][1] for text in target.texts(post)] == [None, *ids[:-1]], post
        row = found[post.id]
        assert row.state == State.PUBLISHED, (post.id, row.state, row.last_error)
        assert [p.remote_id for p in row.parts] == ids, post.id
        assert row.lease_owner is None


def check_recorded(target: Target, root: Path, posts: Sequence[Post], ledger: str = LEDGER) -> None:
    """Whatever is on the server is in the ledger (each part under the server's id, a delivery
    published only when all of it is there), nothing twice, nothing claimed."""
    stored = target.stored()
    assert all(n == 1 for n in Counter(text for _, text, _ in stored).values()), stored
    by_text = {text: (sid, reply) for sid, text, reply in stored}
    found = rows(root, ledger)
    for post in posts:
        out = [by_text[text] for text in target.texts(post) if text in by_text]
        ids = [sid for sid, _ in out]
        if target.threads:  # a thread half out is its first parts, chained
            assert [reply for _, reply in out] == [None, *ids][: len(ids)], post
        row = found[post.id]
        assert row.state != State.CLAIMED, post.id
        assert [p.remote_id for p in row.parts] == ids, (post.id, row.state)
        whole = len(out) == len(target.texts(post))
        assert (row.state == State.PUBLISHED) == whole, (post.id, row.state, out)


# -- the targets -------------------------------------------------------------------------------
@contextlib.contextmanager
def open_target(
    name: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Target]:
    """The target ``name``, its server running until the block ends."""
    if name == "outbox":
        yield _outbox(tmp_path / "campaign")
    elif name == "bluesky":
        pds = request.getfixturevalue("pds")
        with PdsProxy(pds.url) as proxy:
            yield _bluesky(pds, proxy, monkeypatch)
    elif name in ("facebook", "facebook_video", "instagram"):
        with GraphFake() as graph:
            yield _graph(graph, name, monkeypatch)
    elif name == "x":
        with XFake() as fake:
            yield _x(fake, monkeypatch)
    else:
        yield _mastodon(request.getfixturevalue("mastodon_fresh"), monkeypatch)


def _outbox(root: Path) -> Target:
    folder = root / "out" / "acct"

    def written() -> list[Stored]:
        entries = []
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            with contextlib.suppress(ValueError):  # a corrupt file is not a post
                entries.append(json.loads(path.read_text()))
        return [(p["id"], p["text"], p["reply_to"]) for e in entries for p in e["parts"]]

    def any_written() -> bool:
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            return any(e.name.endswith(".json") and e.name[0] != "." for e in entries)
        return False

    def block() -> None:  # the account's folder cannot be made: writing fails (Transient)
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.write_text("not a folder")

    def unblock() -> None:
        if folder.is_file():
            folder.unlink()

    config = "defaults: {timezone: UTC, accounts: [acct]}\naccounts:\n  acct: {platform: outbox, folder: out}\n"
    return Target("outbox", config, written, unblock, block, any_stored=any_written)


def _x(fake: XFake, monkeypatch: pytest.MonkeyPatch) -> Target:
    account = fake.add_account("coalition")
    for key, value in credentials_env(account).items():
        monkeypatch.setenv(key, value)
    tweets = r"^/2/tweets$"
    config = (
        "defaults: {timezone: UTC, accounts: [acct]}\naccounts:\n  acct:\n    platform: x\n"
        f"{X_CONFIG_KEYS}    base_url: {fake.base_url}\n"
    )
    return Target(
        "x",
        config,
        lambda: [(p.id, p.submitted, p.in_reply_to_tweet_id) for p in fake.posts(account)],
        fake.clear_faults,
        lambda: fake.inject("POST", tweets, "503"),
        slow=lambda s: fake.inject("POST", tweets, "slow", times=None, seconds=s),
        hold_answers=lambda: fake.inject("POST", tweets, "store_then_wait", seconds=20),
        malformed=lambda n: fake.inject("POST", tweets, "store_then_malformed", times=n),
        secret="X_SECRET",
        requests=lambda: [f"{r.method} {r.path} {r.status}" for r in fake.requests],
        others_post=lambda: _x_others_post(fake),
        reposts=lambda: [
            (p.id, p.retweeted_tweet_id) for p in fake.posts(account) if p.retweeted_tweet_id
        ],
        quotes=lambda: [
            (p.id, p.quoted_tweet_id) for p in fake.posts(account) if not p.retweeted_tweet_id
        ],
    )


def _x_others_post(fake: XFake) -> tuple[str, str]:
    post = fake.add_post(fake.add_account("ally"), "Will the levy fund the library?")
    return f"https://x.com/ally/status/{post.id}", post.id


def _graph(graph: GraphFake, name: str, monkeypatch: pytest.MonkeyPatch) -> Target:
    page = graph.add_page(name="PTA")
    monkeypatch.setenv("FB_TOKEN", page.access_token)
    head = "defaults: {timezone: UTC, accounts: [acct]}\naccounts:\n"
    if name in ("facebook", "facebook_video"):
        config = (
            f"{head}  acct: {{platform: facebook, page_id: '{page.id}', access_token: '${{FB_TOKEN}}',"
            f" base_url: '{graph.base_url}'}}\n"
        )
        first = posting = r"/feed$" if name == "facebook" else r"/videos$"

        def stored() -> list[Stored]:
            posts = [(p.id, p.message, None) for p in graph.posts(page)]
            return posts + [(v.id, v.description, None) for v in graph.videos(page)]
    else:
        ig = graph.add_ig_user(page=page, media_base_url="https://m.example/c/")
        config = (
            f"{head}  acct: {{platform: instagram, ig_user_id: '{ig.id}', access_token: '${{FB_TOKEN}}',"
            f" media_base_url: 'https://m.example/c/', base_url: '{graph.base_url}'}}\n"
        )
        first, posting = r"/media$", r"/media_publish$"  # the container, then the post

        def stored() -> list[Stored]:
            return [(m.id, m.caption, None) for m in graph.ig_media(ig) if m.parent_id is None]

    return Target(
        name,
        config,
        stored,
        graph.clear_faults,
        lambda: graph.inject("POST", first, "graph_error", code=2),  # transient, documented
        slow=lambda s: graph.inject("POST", posting, "slow", times=None, seconds=s),
        hold_answers=lambda: graph.inject("POST", posting, "store_then_wait", seconds=20),
        malformed=lambda n: graph.inject("POST", posting, "store_then_malformed", times=n),
        secret="FB_TOKEN",
        requests=lambda: [f"{r.method} {r.path} {r.status}" for r in graph.requests],
        threads=False,
        media=name == "instagram",
        video=name == "facebook_video",
    )


def _mastodon(masto: MastodonFake, monkeypatch: pytest.MonkeyPatch) -> Target:
    monkeypatch.setenv("MASTO_TOKEN", masto.token)
    statuses = r"^/api/v1/statuses$"
    config = (
        "defaults: {timezone: UTC, accounts: [acct]}\naccounts:\n"
        f"  acct: {{platform: mastodon, instance: '{masto.base_url}', access_token: '${{MASTO_TOKEN}}'}}\n"
    )

    def stored() -> list[Stored]:
        return [
            (str(s.id), _plain(s.content), str(s.in_reply_to_id) if s.in_reply_to_id else None)
            for s in reversed(masto.statuses())
        ]

    return Target(
        "mastodon",
        config,
        stored,
        masto.clear_faults,
        # A failed post is re-sent at once under its idempotency key (reconciliation): fail
        # the instance read before it instead, which waits for a retry.
        lambda: masto.inject("GET", r"^/api/v2/instance", "status", status=503),
        slow=lambda s: masto.inject("POST", statuses, "delay", times=None, seconds=s),
        hold_answers=lambda: masto.inject("POST", statuses, "delay", seconds=20),
        malformed=lambda n: masto.inject("POST", statuses, "store_then_malformed", times=n),
        secret="MASTO_TOKEN",
        # The instance's description is public: it is answered whatever the token.
        requests=lambda: [f"{r.method} {r.path}" for r in masto.seen if "/instance" not in r.path],
        others_post=lambda: _mastodon_others_post(masto),
        reposts=lambda: [(str(s.id), str(s.reblog.id)) for s in masto.statuses() if s.reblog],
        quotes=lambda: [
            (str(s.id), str(s.quote.quoted_status.id) if s.quote else None)
            for s in masto.statuses()
            if not s.reblog
        ],
    )


def _mastodon_others_post(masto: MastodonFake) -> tuple[str, str]:
    status = masto.client(masto.token2).status_post("Will the levy fund the library?")
    return status.url, str(status.id)


def _plain(content: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", content))


def _bluesky(pds: Any, proxy: PdsProxy, monkeypatch: pytest.MonkeyPatch) -> Target:
    account = pds.create_account()
    monkeypatch.setenv("BSKY_PW", account.app_password)
    config = (
        "defaults: {timezone: UTC, accounts: [acct]}\naccounts:\n"
        f"  acct: {{platform: bluesky, handle: {account.handle}, app_password: '${{BSKY_PW}}',"
        f" service: '{proxy.url}'}}\n"
    )

    def stored() -> list[Stored]:
        return [
            (r["uri"], r["value"]["text"], r["value"].get("reply", {}).get("parent", {}).get("uri"))
            for r in reversed(pds.records(account.did, "app.bsky.feed.post"))
        ]

    def fail_next() -> None:
        proxy.refuse = 1

    def slow(seconds: float) -> None:
        proxy.delay = seconds

    return Target(
        "bluesky",
        config,
        stored,
        proxy.clear,
        fail_next,
        slow=slow,
        secret="BSKY_PW",
        requests=lambda: list(proxy.seen),
        others_post=lambda: _bluesky_others_post(pds),
        reposts=lambda: [
            (r["uri"], r["value"]["subject"]["uri"])
            for r in pds.records(account.did, "app.bsky.feed.repost")
        ],
        quotes=lambda: [
            (r["uri"], r["value"].get("embed", {}).get("record", {}).get("uri"))
            for r in pds.records(account.did, "app.bsky.feed.post")
        ],
    )


def _bluesky_others_post(pds: Any) -> tuple[str, str]:
    asked = pds.post(pds.create_account(), "Will the levy fund the library?")
    return asked.uri, asked.uri


class PdsProxy(ThreadingHTTPServer):
    """Loopback, in front of the reference PDS: ``createRecord`` can be slowed (``delay``) or
    refused with a 503 before the PDS sees it (``refuse``, a count). The DID document passed on
    names the proxy as the PDS, so the SDK keeps talking through it after logging in."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _PdsProxyHandler)
        self.upstream = upstream.rstrip("/")
        self.url = f"http://127.0.0.1:{self.server_port}"
        self.delay = 0.0
        self.refuse = 0
        self.seen: list[str] = []  # "METHOD path status" of each request passed on

    def clear(self) -> None:
        self.delay, self.refuse = 0.0, 0

    def __enter__(self) -> PdsProxy:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class _PdsProxyHandler(BaseHTTPRequestHandler):
    server: PdsProxy
    _SKIP = frozenset({"host", "connection", "content-length", "accept-encoding", "keep-alive"})

    def do_GET(self) -> None:
        self._relay()

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _relay(self) -> None:
        proxy = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/xrpc/com.atproto.repo.createRecord"):
            if proxy.refuse > 0:
                proxy.refuse -= 1
                self._answer(503, {}, b'{"error":"Unavailable","message":"try again"}')
                return
            time.sleep(proxy.delay)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in self._SKIP}
        request = urllib.request.Request(
            proxy.upstream + self.path,
            body if self.command == "POST" else None,
            headers,
            method=self.command,
        )
        try:
            with _LOOPBACK.open(request, timeout=30) as response:
                status, answer, data = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            status, answer, data = exc.code, dict(exc.headers), exc.read()
        proxy.seen.append(f"{self.command} {self.path.partition('?')[0]} {status}")
        self._answer(status, answer, data.replace(proxy.upstream.encode(), proxy.url.encode()))

    def _answer(self, status: int, headers: dict[str, str], data: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in self._SKIP | {"transfer-encoding", "date", "server"}:
                self.send_header(name, value)
        if not any(k.lower() == "content-type" for k in headers):
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class CardPage(ThreadingHTTPServer):
    """A loopback web page for a Bluesky link card: ``/page`` names ``/img`` as its og:image;
    ``image`` is what ``/img`` serves as image/png (by default over 1 MB of bytes that are no
    image)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _CardHandler)
        self.url = f"http://127.0.0.1:{self.server_port}/page"
        self.image: bytes | None = b"\x00not an image\xff" * 100_000

    def __enter__(self) -> CardPage:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class _CardHandler(BaseHTTPRequestHandler):
    server: CardPage

    def do_GET(self) -> None:
        image = self.server.image
        if self.path == "/img" and image is not None:
            self._send("image/png", image)  # says it is a picture: Pillow finds out it is not
        else:
            meta = '<meta property="og:image" content="/img">' if image is not None else ""
            page = f"<html><head><title>Vote</title>{meta}</head><body>Vote</body></html>"
            self._send("text/html; charset=utf-8", page.encode())

    def _send(self, content_type: str, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass
