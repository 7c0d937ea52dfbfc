"""A fake Bluesky AppView on loopback, for the reference PDS of tests/fakes/bluesky.py to proxy to.

A PDS passes every ``app.bsky.*`` call on to its AppView with a service-auth token signed for the
AppView's DID; this fake accepts any token (the real AppView's reads need none). It answers the
reads the project makes, worked out on every request from the records on the PDS (a repo is read
again only when its revision moved), so the answers follow what test accounts do:

- ``app.bsky.feed.getPosts``: post views with like, repost, reply and quote counts, in the order
  asked, unknown URIs left out, at most 25 URIs. No embed views or viewer state; no labels.
- ``app.bsky.actor.getProfile``: DID and handle only.

Anything else is 501 MethodNotImplemented. The counts follow the real AppView: one like and one
repost per account and post, replies counted on their direct parent, quotes on the post a
``record`` or ``recordWithMedia`` embed points at.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

MAX_URIS = 25
POST, LIKE, REPOST = "app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.feed.repost"
COLLECTIONS = (POST, LIKE, REPOST)
# Loopback only: never route the fake's calls to the PDS through a proxy from the environment.
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class XrpcError(Exception):
    """An XRPC error answer: HTTP status, error name, message."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error


@dataclass
class _Tally:
    """What one scan of the PDS found: posts by URI, and who engaged with which post."""

    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    likers: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    reposters: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    replies: Counter[str] = field(default_factory=Counter)
    quotes: Counter[str] = field(default_factory=Counter)


class FakeAppView:
    """The AppView's server: ``url`` goes to the PDS when it starts, ``pds_url`` is set once it
    runs. Use it as a context manager to serve on a background thread."""

    def __init__(self) -> None:
        self.pds_url = ""
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.appview = self
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._indexed: dict[str, str] = {}
        # DID → (revision, records by collection): the session's PDS gathers accounts, and a
        # full scan for every call would grow with them
        self._seen: dict[str, tuple[str, dict[str, list[dict[str, Any]]]]] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> FakeAppView:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def get_posts(self, uris: list[str]) -> dict[str, Any]:
        """``app.bsky.feed.getPosts``: a view of each post found, counted from every repo."""
        if not uris:
            raise XrpcError(400, "InvalidRequest", 'Error: Params must have the property "uris"')
        if len(uris) > MAX_URIS:
            message = f"Error: Params/uris must not have more than {MAX_URIS} elements"
            raise XrpcError(400, "InvalidRequest", message)
        for n, uri in enumerate(uris):
            if not uri.startswith("at://"):
                raise XrpcError(
                    400, "InvalidRequest", f"Error: Params/uris/{n} must be a valid at-uri"
                )
        tally = self._scan()
        views = []
        for uri in dict.fromkeys(uris):
            post = tally.posts.get(uri)
            if post is None:
                continue
            author = self._query("com.atproto.repo.describeRepo", {"repo": uri.split("/")[2]})
            views.append(
                {
                    "uri": uri,
                    "cid": post["cid"],
                    "author": {"did": author["did"], "handle": author["handle"], "labels": []},
                    "record": post["value"],
                    "indexedAt": self._indexed_at(uri),
                    "likeCount": len(tally.likers[uri]),
                    "repostCount": len(tally.reposters[uri]),
                    "replyCount": tally.replies[uri],
                    "quoteCount": tally.quotes[uri],
                    "labels": [],
                }
            )
        return {"posts": views}

    def get_profile(self, actor: str) -> dict[str, Any]:
        """``app.bsky.actor.getProfile`` by handle or DID: just who it is."""
        try:
            repo = self._query("com.atproto.repo.describeRepo", {"repo": actor})
        except XrpcError as exc:
            raise XrpcError(400, "InvalidRequest", "Profile not found") from exc
        return {"did": repo["did"], "handle": repo["handle"], "labels": []}

    def _scan(self) -> _Tally:
        tally = _Tally()
        for did, records in self._repos():
            for post in records[POST]:
                tally.posts[post["uri"]] = post
                value = post["value"]
                parent = value.get("reply", {}).get("parent", {}).get("uri")
                if parent:
                    tally.replies[parent] += 1
                quoted = _quoted(value.get("embed") or {})
                if quoted:
                    tally.quotes[quoted] += 1
            for collection, by_post in ((LIKE, tally.likers), (REPOST, tally.reposters)):
                for item in records[collection]:
                    by_post[item["value"]["subject"]["uri"]].add(did)
        return tally

    def _repos(self) -> list[tuple[str, dict[str, list[dict[str, Any]]]]]:
        """The records of every active repo, read again where the revision moved."""
        repos: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self._query("com.atproto.sync.listRepos", {"limit": "1000", "cursor": cursor})
            repos += [repo for repo in page["repos"] if repo.get("active", True)]
            cursor = page.get("cursor")
            if not cursor or not page["repos"]:
                break
        with self._lock:
            for repo in repos:
                did, rev = repo["did"], repo["rev"]
                if self._seen.get(did, ("",))[0] != rev:  # records read after this are as new
                    self._seen[did] = (rev, {c: self._records(did, c) for c in COLLECTIONS})
            return [(repo["did"], self._seen[repo["did"]][1]) for repo in repos]

    def _records(self, did: str, collection: str) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"repo": did, "collection": collection, "limit": "100", "cursor": cursor}
            page = self._query("com.atproto.repo.listRecords", params)
            records += page["records"]
            cursor = page.get("cursor")
            if not cursor or not page["records"]:
                return records

    def _indexed_at(self, uri: str) -> str:
        """When the fake first saw the post, as the real AppView stamps the time it indexed it."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        with self._lock:
            return self._indexed.setdefault(uri, now)

    def _query(self, nsid: str, params: dict[str, str | None]) -> dict[str, Any]:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        try:
            with _LOOPBACK.open(f"{self.pds_url}/xrpc/{nsid}?{query}", timeout=30) as response:
                result: dict[str, Any] = json.load(response)
                return result
        except urllib.error.HTTPError as exc:
            detail = json.loads(exc.read() or b"{}")
            raise XrpcError(exc.code, detail.get("error", ""), detail.get("message", "")) from exc


def _quoted(embed: dict[str, Any]) -> str | None:
    """The URI a post's embed quotes, if it is a record embed (alone or with media)."""
    kind = embed.get("$type")
    if kind == "app.bsky.embed.record":
        return str(embed["record"]["uri"])
    if kind == "app.bsky.embed.recordWithMedia":
        return str(embed["record"]["record"]["uri"])
    return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    appview: FakeAppView


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # the PDS keeps its connections to the AppView open

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        appview = self.server.appview
        try:
            if url.path == "/xrpc/app.bsky.feed.getPosts":
                body = appview.get_posts(query.get("uris", []))
            elif url.path == "/xrpc/app.bsky.actor.getProfile":
                body = appview.get_profile(query.get("actor", [""])[0])
            else:
                raise XrpcError(501, "MethodNotImplemented", "Method Not Implemented")
        except XrpcError as exc:
            self._answer(exc.status, {"error": exc.error, "message": str(exc)})
        else:
            self._answer(200, body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(501, {"error": "MethodNotImplemented", "message": "Method Not Implemented"})

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
