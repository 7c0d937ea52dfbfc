"""A loopback fake of the two GitHub REST endpoints ``eduadvocate github comment`` uses.

Owns: pull requests' issue comments, by repository and number. ``GET
/repos/{owner}/{repo}/issues/{n}/comments`` answers one page (``per_page``, default 30, at most
100; ``page`` from 1) with a ``Link: <…>; rel="next"`` header while more remain, as GitHub does;
``POST`` to it adds a comment (201); ``PATCH /repos/{owner}/{repo}/issues/comments/{id}`` edits
one (200), only its author's (else 403). A comment is ``{id, body, user: {login, type}, html_url}``; the token's login is
``github-actions[bot]`` unless :meth:`GitHubFake.add_token` says otherwise.

Answers as GitHub does: 401 ``Bad credentials`` for an unknown token; 403 ``Resource not
accessible by integration`` when a read-only token writes; 404 ``Not Found`` for an unknown
repository, pull request or comment. Every request is recorded (method, path, headers, body) in
:attr:`GitHubFake.requests`. Standard library only.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class _Token:
    login: str
    write: bool


@dataclass
class GitHubFake:
    """The server's state; start it with :func:`github_fake`."""

    port: int = 0
    pulls: set[tuple[str, int]] = field(default_factory=set)  # (owner/name, number)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> comment
    where: dict[int, tuple[str, int]] = field(default_factory=dict)  # id -> pull request
    tokens: dict[str, _Token] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    next_id: int = 1000
    link_base: str | None = None  # where next-page links point (default: this server)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_pull(self, repository: str, number: int) -> None:
        self.pulls.add((repository, number))

    def add_token(
        self, token: str, *, login: str = "github-actions[bot]", write: bool = True
    ) -> None:
        self.tokens[token] = _Token(login, write)

    def add_comment(self, repository: str, number: int, body: str, login: str) -> int:
        """A comment someone else wrote (or an earlier run)."""
        with self.lock:
            return self._store(repository, number, body, login)

    def comments_on(self, repository: str, number: int) -> list[dict[str, Any]]:
        return [c for i, c in self.comments.items() if self.where[i] == (repository, number)]

    def _store(self, repository: str, number: int, body: str, login: str) -> int:
        self.next_id += 1
        cid = self.next_id
        self.comments[cid] = {
            "id": cid,
            "body": body,
            "user": {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"},
            "html_url": f"https://github.com/{repository}/pull/{number}#issuecomment-{cid}",
        }
        self.where[cid] = (repository, number)
        return cid


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _handle(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with fake.lock:
            fake.requests.append(Recorded(self.command, self.path, dict(self.headers), body))
            status, answer, headers = self._answer(fake, body)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, fake: GitHubFake, body: bytes) -> tuple[int, Any, dict[str, str]]:
        auth = self.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        who = fake.tokens.get(token) if scheme.lower() in ("bearer", "token") else None
        if who is None:
            return 401, _error("Bad credentials"), {}
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        query = dict(parse_qsl(url.query))
        if len(parts) == 6 and parts[0] == "repos" and parts[3:6:2] == ["issues", "comments"]:
            repository, number = f"{parts[1]}/{parts[2]}", parts[4]
            if not number.isdigit() or (repository, int(number)) not in fake.pulls:
                return 404, _error("Not Found"), {}
            if self.command == "GET":
                return self._page(fake, repository, int(number), query)
            if self.command == "POST":
                if not who.write:
                    return 403, _error("Resource not accessible by integration"), {}
                text = json.loads(body)["body"]
                cid = fake._store(repository, int(number), text, who.login)
                return 201, fake.comments[cid], {}
        if len(parts) == 6 and parts[0] == "repos" and parts[3:5] == ["issues", "comments"]:
            repository, cid = f"{parts[1]}/{parts[2]}", parts[5]
            found = fake.comments.get(int(cid)) if cid.isdigit() else None
            if found is None or fake.where[int(cid)][0] != repository:
                return 404, _error("Not Found"), {}
            if self.command == "PATCH":
                if not who.write or found["user"]["login"] != who.login:
                    return 403, _error("Resource not accessible by integration"), {}
                found["body"] = json.loads(body)["body"]
                return 200, found, {}
        return 404, _error("Not Found"), {}

    def _page(
        self, fake: GitHubFake, repository: str, number: int, query: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        per_page = min(100, int(query.get("per_page", 30)))
        page = int(query.get("page", 1))
        everything = fake.comments_on(repository, number)
        chunk = everything[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(everything):
            base = f"{fake.link_base or fake.url}/repos/{repository}/issues/{number}/comments"
            headers["Link"] = (
                f'<{base}?per_page={per_page}&page={page + 1}>; rel="next", '
                f'<{base}?per_page={per_page}&page=1>; rel="first"'
            )
        return 200, chunk, headers


def _error(message: str) -> dict[str, str]:
    return {"message": message, "documentation_url": "https://docs.github.com/rest"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: GitHubFake


def serve() -> Iterator[GitHubFake]:
    """Run a fake on a free loopback port for as long as the generator is open."""
    server = _Server(("127.0.0.1", 0), _Handler)
    fake = GitHubFake(port=server.server_address[1])
    server.fake = fake
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
