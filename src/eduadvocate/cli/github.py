"""``eduadvocate github comment``: post the preview on a pull request, or update the one posted
before, so each push edits one comment instead of adding another.

Two endpoints of GitHub's REST API, with the workflow's token: the pull request's issue comments
(``GET /repos/{owner}/{repo}/issues/{n}/comments``, every page) to find the earlier comment by its
hidden marker, then ``PATCH /repos/{owner}/{repo}/issues/comments/{id}`` or ``POST`` a new one.
requests is imported only here, when the command runs. The token goes in the Authorization
header to the API's own origin and nowhere else (a pagination link elsewhere is refused), and no
message quotes it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

from eduadvocate import __version__
from eduadvocate.cli.preview import COMMENT_LIMIT, MARKER, width
from eduadvocate.core.errors import EduError, ExitCode, UsageError

if TYPE_CHECKING:
    import requests

DEFAULT_API = "https://api.github.com"
TIMEOUT_S = (10, 30)  # connect, read
PER_PAGE = 100
MAX_PAGES = 100  # 10,000 comments: a pull request with more is not worth reading to the end
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
FORBIDDEN = (
    "the token lacks pull-requests: write (a pull request from a fork gets a read-only token:"
    " no comment, the annotations still show)"
)


class GitHubError(EduError):
    """GitHub refused the comment or could not be reached: the comment was not delivered."""

    exit_code = ExitCode.DELIVERIES_FAILED

    def __init__(self, message: str, *, hint: str = "", status: int = 0) -> None:
        self.status = status  # GitHub's HTTP status (0: no answer)
        super().__init__(message, hint=hint)


def comment(file: str, pr: int | None) -> int:
    """Post ``file`` as the preview comment of pull request ``pr`` (else the event's), or
    update the comment posted before. Prints what it did and the comment's address."""
    token = os.environ.get("GITHUB_TOKEN", "")
    if not token.strip():
        raise UsageError(
            "GITHUB_TOKEN is not set",
            hint="in the workflow's step: env: GITHUB_TOKEN: ${{ github.token }}",
        )
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    if not _REPOSITORY.fullmatch(repository):
        raise UsageError(
            f'GITHUB_REPOSITORY is "{repository}", not owner/name',
            hint="GitHub Actions sets it; elsewhere set it to the repository, e.g. pta/campaign",
        )
    api = (os.environ.get("GITHUB_API_URL") or DEFAULT_API).rstrip("/")
    if urlsplit(api).scheme not in ("http", "https") or not urlsplit(api).netloc:
        raise UsageError(
            f'GITHUB_API_URL is "{api}", not a web address',
            hint=f"leave it unset for {DEFAULT_API}",
        )
    number = pr if pr is not None else _event_number()
    body = _body(file)

    import requests

    issue = f"{api}/repos/{repository}/issues/{number}"
    with requests.Session() as session:
        session.headers.update(
            {
                "Authorization": f"Bearer {token.strip()}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": f"eduadvocate/{__version__}",
            }
        )
        earlier, by_bot = _find(session, api, f"{issue}/comments?per_page={PER_PAGE}", number)
        done: Any = None
        said = "updated the preview on"
        if earlier is not None:
            url = f"{api}/repos/{repository}/issues/comments/{earlier}"
            try:
                done = _call(session, "PATCH", url, number, {"body": body})
            except GitHubError as exc:
                # Someone else's comment that starts with the marker (the token cannot edit
                # it): post ours. A bot's comment is ours, so its refusal is the token's.
                if by_bot or exc.status != 403:
                    raise
                earlier = None
        if earlier is None:
            done = _call(session, "POST", f"{issue}/comments", number, {"body": body})
            said = "posted the preview on"
    link = done.get("html_url") if isinstance(done, dict) else None
    print(f"eduadvocate: {said} pull request #{number}" + (f": {link}" if link else ""))
    return ExitCode.OK


def _event_number() -> int:
    path = os.environ.get("GITHUB_EVENT_PATH")
    hint = "pass --pr N, or run it in a workflow started by pull_request"
    if not path:
        raise UsageError("no pull request number: GITHUB_EVENT_PATH is not set", hint=hint)
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"cannot read the event file {path}: {type(exc).__name__}", hint=hint
        ) from None
    number = (event.get("pull_request") or {}).get("number") if isinstance(event, dict) else None
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise UsageError(f"the event in {path} is not a pull request's", hint=hint)
    return number


def _body(file: str) -> str:
    try:
        body = Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"{file} does not exist", hint="write it with render --format markdown"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"cannot read {file}: {type(exc).__name__}", hint="name a text file"
        ) from None
    if MARKER not in body.split("\n", 1)[0]:
        body = f"{MARKER}\n{body}"  # so the next run finds this comment to update
    if width(body) > COMMENT_LIMIT:
        raise UsageError(
            f"{file} is {width(body):,} characters, over GitHub's {COMMENT_LIMIT:,} for a comment",
            hint="render --format markdown keeps under it: post its output",
        )
    return body


def _find(
    session: requests.Session, api: str, url: str | None, number: int
) -> tuple[int | None, bool]:
    """The id of the earlier preview comment (a bot's first, else anyone's) and whether a bot
    wrote it, following every page of the pull request's comments. GitHub Actions' token
    writes as github-actions[bot]; a personal token writes as its person."""
    found: int | None = None
    for _ in range(MAX_PAGES):
        if url is None:
            break
        response = _request(session, "GET", url, number, None)
        page = _json(response, "GET", number)
        if not isinstance(page, list):
            _fail(response, "GET", number, "an answer that is not a list of comments")
        for item in page:
            if not isinstance(item, dict) or not str(item.get("body") or "").startswith(MARKER):
                continue
            mine = str((item.get("user") or {}).get("login", "")).endswith("[bot]")
            if isinstance(item.get("id"), int) and (found is None or mine):
                found = item["id"]
                if mine:
                    return found, True
        url = response.links.get("next", {}).get("url")
        if url is not None and not _same_origin(url, api):
            _fail(response, "GET", number, "a next-page link to another host (not followed)")
    return found, False


def _same_origin(url: str, api: str) -> bool:
    a, b = urlsplit(url), urlsplit(api)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


def _call(
    session: requests.Session, method: str, url: str, number: int, payload: dict[str, Any]
) -> Any:
    return _json(_request(session, method, url, number, payload), method, number)


def _request(
    session: requests.Session, method: str, url: str, number: int, payload: dict[str, Any] | None
) -> requests.Response:
    import requests

    try:
        response = session.request(
            method, url, json=payload, timeout=TIMEOUT_S, allow_redirects=False
        )
    except requests.RequestException as exc:
        # The exception's text holds the URL (never the token); the kind is what helps here.
        raise GitHubError(
            f"could not reach GitHub at {urlsplit(url).netloc} ({type(exc).__name__})",
            hint="check GITHUB_API_URL and the runner's network, then run the job again",
        ) from None
    if response.status_code >= 300:
        _fail(response, method, number)
    return response


def _json(response: requests.Response, method: str, number: int) -> Any:
    try:
        return response.json()
    except ValueError:
        _fail(response, method, number, "an answer that is not JSON")


def _fail(response: requests.Response, method: str, number: int, what: str = "") -> NoReturn:
    status = response.status_code
    said = _said(response)
    if what:
        raise GitHubError(
            f"GitHub answered {method} with {what}", hint="check GITHUB_API_URL", status=status
        ) from None
    if status == 401:
        raise GitHubError(
            f"GitHub refused the token (401{said})",
            hint="set GITHUB_TOKEN to the workflow's token: ${{ github.token }}",
            status=status,
        )
    if status == 403 and response.headers.get("x-ratelimit-remaining") == "0":
        raise GitHubError(
            f"GitHub's rate limit for this token is used up (403{said})",
            hint="run the job again later",
            status=status,
        )
    if status == 403:
        raise GitHubError(
            f"GitHub refused to {'read' if method == 'GET' else 'write'} the comment (403{said}):"
            f" {FORBIDDEN}",
            hint="give the commenting job permissions: pull-requests: write",
            status=status,
        )
    if status == 404:
        raise GitHubError(
            f"GitHub has no pull request #{number} in {os.environ.get('GITHUB_REPOSITORY')}"
            f" that this token can see (404{said})",
            hint="check --pr and GITHUB_REPOSITORY",
            status=status,
        )
    raise GitHubError(
        f"GitHub answered {method} with HTTP {status}{said}",
        hint="run the job again; if it persists, see https://www.githubstatus.com",
        status=status,
    )


def _said(response: requests.Response) -> str:
    """GitHub's own message, short and on one line (it never holds the token)."""
    try:
        message = response.json().get("message")
    except (ValueError, AttributeError):
        return ""
    if not isinstance(message, str) or not message.strip():
        return ""
    message = " ".join(message.split())
    return f": {message[:200]}"
