"""A stateful fake of the X API v2 on loopback, for tests that go through the real ``tweepy``.

Owns: accounts and their credentials (OAuth 1.0a HMAC-SHA1 signatures verified, or OAuth 2.0 user
bearer tokens) and access tier, posts (``/2/tweets``, user timelines), chunked media upload (with
``media_processing``/``media_fails`` for how processing ends) with
alt text, engagement counts, rate limit and 24-hour post cap headers, fault injection, a settable
clock, and JSON persistence so a fake in another process (``python -m tests.fakes.x_api --port N
--state FILE``) can be inspected.  The server is standard library only; ``rewrite_session`` points
a ``requests`` session at it.

Shapes and messages follow what X sends: RFC 7807 problem bodies, ``200`` with an ``errors`` list
for missing posts, ``t.co`` links and ``&amp;``/``&lt;``/``&gt;`` in returned text.  Times in
headers, posts and ids come from the fake's clock (real time plus ``clock_offset``).

Engagement: ``GET /2/tweets?ids=1,2,3&tweet.fields=public_metrics`` (tweepy's ``get_tweets``)
takes 1 to 100 ids (a repeated id is answered once) and answers, with HTTP 200, ``data`` for the
posts it has, in the order asked, and an ``errors`` entry for each missing or deleted one
(``"title": "Not Found Error"``, ``"detail": "Could not find tweet with ids: [ID]."``,
``"parameter": "ids"``, ``resource_type``, ``resource_id``, ``value``).  More than 100 ids is a
400 "Invalid Request" with X's message "The number of values in the `ids` query parameter list
[N] is not between 1 and 100".  ``public_metrics`` (``retweet_count``, ``reply_count``,
``like_count``, ``quote_count``, ``bookmark_count``, ``impression_count``) grow with the post's
age (:func:`public_metrics`) plus what :meth:`XFake.engage` added; ``reply_count`` also counts
stored replies.

Mentions (``inbox pull``): ``GET /2/users/:id/mentions`` (tweepy's ``get_users_mentions``) lists,
newest first, the 800 most recent posts by other accounts that name the user (``@username`` in
their text) or reply to one of its posts (X writes the ``@`` of whom a reply answers into its
text; the fake keeps the text as written and counts the reply all the same).  A quote is listed
only when it names the user, as on X.  Paged like the user timeline: ``max_results`` 5 to 100
(default 10), ``pagination_token`` from ``meta.next_token``, ``meta`` with ``result_count``,
``newest_id`` and ``oldest_id``; ``since_id``, ``until_id``, ``start_time`` and ``end_time``
filter.  ``expansions=author_id`` adds ``includes.users`` (``id``, ``name``, ``username``);
``tweet.fields`` as for any read (``referenced_tweets`` gives ``replied_to`` and ``quoted``).
Its rate limit is 180 requests per user per 15 minutes.  :meth:`XFake.add_post` with
``in_reply_to`` or ``quote_of`` stores another account's reply or quote (or ``POST /2/tweets``
with ``reply.in_reply_to_tweet_id`` or ``quote_tweet_id`` as that account).

Retweets: ``POST /2/users/:id/retweets`` (tweepy's ``retweet``) answers
``{"data": {"retweeted": true}}`` with no id, once or again (one retweet per user and post);
the retweet is on the user's timeline as ``RT @author: text`` with ``referenced_tweets`` type
``retweeted`` (``exclude=retweets`` leaves it out), never in anyone's mentions.

Access tiers: an account is ``free``, ``basic`` (the default) or ``pro``.  A ``free`` account may
post, delete, upload and call ``/2/users/me``, but reading posts (``GET /2/tweets``,
``GET /2/tweets/:id``, ``GET /2/users/:id/tweets``, ``GET /2/users/:id/mentions``) answers 403
with X's ``client-not-enrolled`` body (:data:`CLIENT_FORBIDDEN`); ``basic`` and ``pro`` read
alike.  The tier does not change the
24-hour post cap: set that with :meth:`XFake.set_daily_limit`.

Test API over HTTP (for a fake in another process): ``POST /_fake/accounts`` (``add_account``
arguments, ``tier`` included), ``/_fake/tier`` (``account``, ``tier``), ``/_fake/posts`` (``add_post``
arguments: ``account``, ``text``, ``in_reply_to``, ``quote_of``), ``/_fake/engage``
(``tweet_id`` and counts), ``/_fake/faults``, ``/_fake/daily_limit``, ``/_fake/clock``
(``seconds``), ``/_fake/reset``; ``GET /_fake/state``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import html
import json
import math
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple, Self
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

from eduadvocate.platforms.textcount.twitter import extract_mentions, extract_urls, parse_tweet

X_HOSTS = frozenset({"api.x.com", "api.twitter.com", "upload.x.com", "upload.twitter.com"})
PUBLIC_BASES = ("https://api.x.com", "https://api.twitter.com")
DAY = 86_400
WINDOW = 900  # X counts its rate limits per 15-minute window
DEFAULT_DAILY_LIMIT = 2_400
# Requests per user per 15 minutes, roughly as X documents them for the paid tiers.
RATE_LIMITS = {"create_tweet": 100, "delete_tweet": 50, "get_me": 75, "user_tweets": 900,
               "user_mentions": 180, "retweet": 50, "retweeted_by": 75}  # fmt: skip
DEFAULT_RATE_LIMIT = 500
TWITTER_EPOCH_MS = 1_288_834_974_657
FAULT_OPTIONS = {"429": {"reset_in"}, "500": set(), "503": set(), "slow": {"seconds"},
                 "error": {"status", "body", "reset_in"}, "store_then_wait": {"seconds"},
                 "store_then_drop": set(), "store_then_malformed": set(), "drop": set()}  # fmt: skip

INVALID_REQUEST = "https://api.twitter.com/2/problems/invalid-request"
NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"
TIERS = ("free", "basic", "pro")
DEFAULT_TIER = "basic"
MAX_LOOKUP_IDS = 100
TIMELINE_DEPTH = 3200  # X serves a user's 3,200 most recent posts
MENTIONS_DEPTH = 800  # and the 800 most recent posts that mention a user
# What the free tier may not do.
READ_ROUTES = frozenset({"get_tweets", "get_tweet", "user_tweets", "user_mentions", "retweeted_by"})
# X's 403 for an endpoint the app's access level does not include (``client_id`` is added per app).
CLIENT_FORBIDDEN = {
    "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and "
    "tokens from a Twitter developer App that is attached to a Project. You can create a project "
    "via the developer portal.",
    "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
    "title": "Client Forbidden",
    "required_enrollment": "Appropriate Level of API Access",
    "reason": "client-not-enrolled",
    "type": "https://api.twitter.com/2/problems/client-forbidden",
}
# ``XFake.engage`` keyword → ``public_metrics`` key.
ENGAGEMENT = {"likes": "like_count", "retweets": "retweet_count", "replies": "reply_count",
              "quotes": "quote_count", "bookmarks": "bookmark_count",
              "impressions": "impression_count"}  # fmt: skip
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
TOO_LONG = (
    "Your Tweet text is too long. For more information on how Twitter determines text length "
    "see https://github.com/twitter/twitter-text."
)
REPLY_GONE = "You attempted to reply to a Tweet that is deleted or not visible to you."
QUOTE_GONE = "The quoted Tweet is deleted or not visible to you."  # the fake's wording
RETWEET_GONE = "You cannot retweet a Tweet that is deleted or not visible to you."  # (the fake's)
TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
          409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error",
          502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}  # fmt: skip
MEDIA_KEY_PREFIX = {
    "tweet_image": "3",
    "tweet_gif": "16",
    "tweet_video": "7",
    "amplify_video": "13",
    "subtitles": "18",
}
MAX_BYTES = {"tweet_image": 5_242_880, "tweet_gif": 15_728_640, "subtitles": 512_000}
SUBTITLE_TYPES = frozenset({"text/srt", "text/vtt"})
MAX_VIDEO_BYTES = 536_870_912


class UnexpectedHost(RuntimeError):
    """A test tried to reach a host that is neither X nor the fake."""


class ApiError(Exception):
    """An error answer: status, JSON body, extra headers."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status, body)
        self.status, self.body, self.headers = status, body, headers or {}


def problem(
    status: int, detail: str | None = None, headers: dict[str, str] | None = None
) -> ApiError:
    """X's generic problem body, e.g. ``{"detail", "type": "about:blank", "title", "status"}``."""
    title = TITLES[status]
    body = {"detail": detail or title, "type": "about:blank", "title": title, "status": status}
    return ApiError(status, body, headers)


def invalid(parameter: str, value: Any, message: str) -> ApiError:
    """X's 400 for a bad parameter."""
    values = value if isinstance(value, list) else [value]
    errors = [{"parameters": {parameter: values}, "message": message}]
    detail = "One or more parameters to your request was invalid."
    body = {"errors": errors, "title": "Invalid Request", "detail": detail, "type": INVALID_REQUEST}
    return ApiError(400, body)


def client_forbidden(account: Account) -> ApiError:
    """X's 403 when the app's access level does not include the endpoint (the free tier reading)."""
    digest = hashlib.sha256(account.consumer_key.encode()).hexdigest()
    client_id = str(int(digest[:12], 16) % 90_000_000 + 10_000_000)  # X's app ids are numbers
    return ApiError(403, {"client_id": client_id, **CLIENT_FORBIDDEN})


def not_found(kind: str, value: str, parameter: str = "id") -> dict[str, str]:
    """One entry of the ``errors`` list X returns, with status 200, for a missing post or user
    (``parameter``: ``id`` for a lookup by path, ``ids`` for the ``?ids=`` batch)."""
    return {"value": value, "detail": f"Could not find {kind} with {parameter}: [{value}].",
            "title": "Not Found Error", "resource_type": kind, "parameter": parameter,
            "resource_id": value, "type": NOT_FOUND}  # fmt: skip


@dataclass
class Account:
    """One X user and the credentials that act as it."""

    username: str
    user_id: str
    name: str
    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str
    oauth2_token: str
    tier: str = DEFAULT_TIER  # free | basic | pro: free may post but not read posts


X_ENV = ("X_KEY", "X_SECRET", "X_TOKEN", "X_TOKEN_SECRET")
X_CONFIG_KEYS = (
    "    consumer_key: ${X_KEY}\n    consumer_secret: ${X_SECRET}\n"
    "    access_token: ${X_TOKEN}\n    access_token_secret: ${X_TOKEN_SECRET}\n"
)


def credentials_env(account: Account) -> dict[str, str]:
    """The account's four OAuth 1.0a keys under the names ``X_CONFIG_KEYS`` refers to."""
    values = (
        account.consumer_key,
        account.consumer_secret,
        account.access_token,
        account.access_token_secret,
    )
    return dict(zip(X_ENV, values, strict=True))


@dataclass
class Post:
    """A stored post: ``text`` as X keeps it (t.co links, not escaped), ``submitted`` as sent."""

    id: str
    author_id: str
    text: str
    submitted: str
    created_at: float
    conversation_id: str
    in_reply_to_tweet_id: str | None = None
    in_reply_to_user_id: str | None = None
    media_ids: list[str] = field(default_factory=list)
    urls: list[dict[str, Any]] = field(default_factory=list)
    quoted_tweet_id: str | None = None
    retweeted_tweet_id: str | None = None  # a retweet: the post it shares


@dataclass
class Media:
    """An upload; ``state`` is uploading, then (videos, GIFs) pending → in_progress → succeeded."""

    id: str
    owner_id: str
    media_type: str
    category: str
    total_bytes: int
    created_at: float
    segments: dict[str, int] = field(default_factory=dict)  # segment index → bytes
    state: str = "uploading"
    alt_text: str | None = None
    # A video's subtitles (POST /2/media/subtitles): language code → the subtitle upload's id.
    subtitles: dict[str, str] = field(default_factory=dict)
    polls_left: int = 0  # STATUS polls it stays in_progress past the first (media_processing)
    error: str | None = None  # processing ends failed with this message (media_fails)

    @property
    def key(self) -> str:
        return f"{MEDIA_KEY_PREFIX[self.category]}_{self.id}"


class Seen(NamedTuple):
    """One request the fake answered; ``status`` is None when it dropped the connection."""

    method: str
    path: str
    status: int | None


@dataclass
class Fault:
    method: str
    path_regex: str
    kind: str
    times: int | None
    opts: dict[str, Any]


@dataclass
class Reply:
    status: int
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


@dataclass
class _Call:
    """One authenticated API request, as the route handlers see it."""

    account: Account
    args: tuple[str, ...]
    query: dict[str, str]
    content_type: str
    body: bytes

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise invalid("body", "", "Request body must be a JSON object.")
        return data

    def fields(self) -> dict[str, Any]:
        """Query plus JSON, form or multipart fields; only a multipart ``media`` stays bytes."""
        out: dict[str, Any] = dict(self.query)
        if self.content_type.startswith("application/x-www-form-urlencoded"):
            out.update(parse_qsl(self.body.decode(), keep_blank_values=True))
        elif self.content_type.startswith("multipart/form-data"):
            parts = _multipart(self.content_type, self.body)
            out.update({k: v if k == "media" else v.decode() for k, v in parts.items()})
        elif self.content_type.startswith("application/json"):
            out.update(self.json())
        return out


def _multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    found = re.search(r'boundary="?([^";]+)"?', content_type)
    if not found:
        raise invalid("body", "", "Malformed multipart body.")
    fields = {}
    for chunk in body.split(b"--" + found.group(1).encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, value = chunk.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        if name:
            fields[name.group(1).decode()] = value.removesuffix(b"\r\n")
    return fields


def _enc(value: str) -> str:
    return quote(value, safe="~")


def oauth1_signature(method: str, url: str, params: list[tuple[str, str]], key: str) -> str:
    """RFC 5849 HMAC-SHA1 over ``url`` (no query) and ``params`` (query, oauth_*, form)."""
    normalized = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in params))
    base = "&".join((method.upper(), _enc(url), _enc(normalized)))
    digest = hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def public_metrics(post: Post, now: float, replies: int) -> dict[str, int]:
    """Engagement that grows with the post's age and settles after two days, the same every run
    (``replies``: the stored replies; :meth:`XFake.engage` adds to all of these)."""
    minutes = max(now - post.created_at, 0.0) // 60  # nothing in the first minute
    grown = math.sqrt(min(minutes / 60, 48.0))
    seed = int(post.id) % 5 + 1
    likes = int(seed * 3 * grown)
    return {"retweet_count": likes // 4, "reply_count": replies, "like_count": likes,
            "quote_count": likes // 10, "bookmark_count": likes // 5,
            "impression_count": int(seed * 150 * grown)}  # fmt: skip


class XFake:
    """The fake API: ``with XFake() as fake: fake.base_url``; see the module docstring."""

    def __init__(
        self,
        *,
        port: int = 0,
        state_path: str | Path | None = None,
        public_bases: tuple[str, ...] = PUBLIC_BASES,
        daily_limit: int = DEFAULT_DAILY_LIMIT,
    ) -> None:
        self._port = port
        self._state_path = Path(state_path) if state_path else None
        self.public_bases = public_bases  # where clients sign their URLs
        self.default_daily_limit = daily_limit
        self._lock = threading.RLock()
        self._faults: list[Fault] = []
        self._release = threading.Event()  # set by clear_faults: held answers go at once
        self._held = 0
        self._server: _Server | None = None
        self.accounts: dict[str, Account] = {}
        self._clear()
        if self._state_path and self._state_path.exists():
            self._load(json.loads(self._state_path.read_text()))

    def _clear(self) -> None:
        self.clock_offset = 0.0
        self.requests: list[Seen] = []
        self.media: dict[str, Media] = {}
        # What processing makes of the next videos and GIFs: ``media_processing`` more STATUS
        # polls in_progress (10**6: it never finishes), then succeeded, or with ``media_fails``
        # failed with that message (X's shape: code 1, name InvalidMedia).
        self.media_processing = 0
        self.media_fails: str | None = None
        self._posts: dict[str, Post] = {}
        self._seq = 0
        self._daily_limits: dict[str, int] = {}
        self._engaged: dict[str, dict[str, int]] = {}  # post id → public_metrics key → added
        self._created: dict[str, list[float]] = {}  # user id → post times, deleted ones too
        self._windows: dict[str, list[float]] = {}  # "user route" → [window start, count]
        self._faults.clear()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> XFake:
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.fake = self
        quick_stop = {"poll_interval": 0.01}
        threading.Thread(target=server.serve_forever, kwargs=quick_stop, daemon=True).start()
        self._server = server
        with self._lock:
            self._save()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- test API ----------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock on (posts age, windows and the 24-hour cap roll over)."""
        with self._lock:
            self.clock_offset += seconds
            self._save()

    def add_account(
        self,
        username: str,
        user_id: str | None = None,
        *,
        name: str | None = None,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        access_token: str | None = None,
        access_token_secret: str | None = None,
        oauth2_token: str | None = None,
        tier: str = DEFAULT_TIER,
    ) -> Account:
        """A user; unset credentials are derived from the name, so they differ per account.

        ``tier``: ``free`` (may post, may not read posts), ``basic`` or ``pro``."""
        _check_tier(tier)
        with self._lock:
            uid = user_id or self._snowflake(self.now())
            secret = hashlib.sha256(f"{username}:{uid}".encode()).hexdigest()
            account = Account(
                username=username,
                user_id=uid,
                name=name or username,
                consumer_key=consumer_key or f"ck{secret[:20]}",
                consumer_secret=consumer_secret or f"cs{secret[20:40]}",
                access_token=access_token or f"{uid}-{secret[40:56]}",
                access_token_secret=access_token_secret or f"ats{secret[:16]}",
                oauth2_token=oauth2_token or f"o2{secret[16:40]}",
                tier=tier,
            )
            self.accounts[uid] = account
            self._save()
            return account

    def account(self, who: Account | str) -> Account:
        """An account by object, username or user id."""
        if isinstance(who, Account):
            return who
        for account in self.accounts.values():
            if who in (account.username, account.user_id):
                return account
        raise KeyError(who)

    def posts(self, account: Account | str | None = None) -> list[Post]:
        """What is stored (deleted posts are gone), oldest first; all accounts by default."""
        with self._lock:
            uid = self.account(account).user_id if account is not None else None
            found = [p for p in self._posts.values() if uid in (None, p.author_id)]
            return sorted(found, key=lambda p: int(p.id))

    def add_post(
        self,
        account: Account | str,
        text: str,
        *,
        created_at: float | None = None,
        in_reply_to: str | None = None,
        quote_of: str | None = None,
    ) -> Post:
        """Store a post without HTTP or caps, e.g. one published before a crash, or another
        account's reply (``in_reply_to``), quote (``quote_of``) or mention (``@name`` in the
        text) of a campaign post, for the mentions timeline."""
        with self._lock:
            post = self._create_post(
                self.account(account), text, in_reply_to, [], created_at, quote_of
            )
            self._save()
            return post

    def add_retweet(self, account: Account | str, tweet_id: str) -> Post:
        """Store ``account``'s retweet of ``tweet_id`` without HTTP (as ``POST
        /2/users/:id/retweets`` stores one), for ``retweeted_by``."""
        with self._lock:
            post = self._store_retweet(self.account(account), self._posts[tweet_id], self.now())
            self._save()
            return post

    def _store_retweet(self, who: Account, original: Post, now: datetime) -> Post:
        """``who``'s retweet of ``original``, stored as X shows it (``RT @author: text``)."""
        author = next(
            (a.username for a in self.accounts.values() if a.user_id == original.author_id), "i"
        )
        post_id = self._snowflake(now)
        self._posts[post_id] = Post(
            id=post_id,
            author_id=who.user_id,
            text=f"RT @{author}: {original.text}",
            submitted="",
            created_at=now,
            conversation_id=post_id,
            retweeted_tweet_id=original.id,
        )
        return self._posts[post_id]

    def set_tier(self, account: Account | str, tier: str) -> None:
        """Move the account to another access tier (``free``, ``basic`` or ``pro``)."""
        _check_tier(tier)
        with self._lock:
            self.account(account).tier = tier
            self._save()

    def engage(
        self,
        tweet_id: str,
        *,
        likes: int = 0,
        retweets: int = 0,
        replies: int = 0,
        quotes: int = 0,
        bookmarks: int = 0,
        impressions: int = 0,
    ) -> dict[str, int]:
        """Add to a stored post's ``public_metrics`` on top of what its age gives (negative
        numbers take away; a count never shows below 0).  Returns the counts as of now."""
        added = {"likes": likes, "retweets": retweets, "replies": replies, "quotes": quotes,
                 "bookmarks": bookmarks, "impressions": impressions}  # fmt: skip
        with self._lock:
            post = self._posts.get(str(tweet_id))
            if post is None:
                raise KeyError(f"no stored post {tweet_id}")
            extra = self._engaged.setdefault(post.id, {})
            for name, amount in added.items():
                extra[ENGAGEMENT[name]] = extra.get(ENGAGEMENT[name], 0) + int(amount)
            self._save()
            return self._metrics(post)

    def set_daily_limit(self, account: Account | str, limit: int) -> None:
        """The account's 24-hour post cap (X's per-tier limit, e.g. 17 on the free tier)."""
        with self._lock:
            self._daily_limits[self.account(account).user_id] = limit
            self._save()

    def inject(
        self, method: str, path_regex: str, kind: str, times: int | None = 1, **opts: Any
    ) -> None:
        """Answer the next ``times`` matching requests (``None``: all) with a fault.

        ``kind``: ``"429"`` (``reset_in`` seconds, default 60), ``"500"``, ``"503"``, ``"error"``
        (answer ``status``, default 400, with ``body``, default X's generic problem body for the
        status; ``reset_in`` also sends ``x-rate-limit-remaining: 0`` and that reset), ``"slow"``
        (sleep ``seconds``, default 1, then act and answer), ``"store_then_wait"`` (act, then
        sleep ``seconds`` before answering: a client killed meanwhile never hears of it),
        ``"store_then_drop"`` (act, then close the connection without an answer),
        ``"store_then_malformed"`` (act, then answer 200 ``{"data": {}}``: no id) or ``"drop"``
        (close without acting).
        ``method`` may be ``"*"``; ``path_regex`` is searched in the path without the query.
        """
        if kind not in FAULT_OPTIONS:
            raise ValueError(f"unknown fault kind {kind!r}: use one of {', '.join(FAULT_OPTIONS)}")
        if unknown := sorted(set(opts) - FAULT_OPTIONS[kind]):
            raise ValueError(f"unknown options {unknown} for fault {kind!r}")
        with self._lock:
            self._faults.append(Fault(method.upper(), path_regex, kind, times, opts))

    def clear_faults(self) -> None:
        """Forget every injected fault (posts and accounts stay); answers a ``store_then_wait``
        fault holds back go now."""
        with self._lock:
            self._faults.clear()
            self._release.set()
            self._release = threading.Event()

    @property
    def held(self) -> int:
        """How many answers ``store_then_wait`` faults are holding back."""
        with self._lock:
            return self._held

    def reset(self) -> None:
        """Forget posts, media, counters, faults, requests and the clock; keep the accounts."""
        with self._lock:
            self._clear()
            self._save()

    # -- persistence -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The whole state as JSON-able data (what ``--state`` files and ``/_fake/state`` hold)."""
        with self._lock:
            return {
                "accounts": [asdict(a) for a in self.accounts.values()],
                "posts": [asdict(p) for p in self._posts.values()],
                "media": [asdict(m) for m in self.media.values()],
                "seq": self._seq,
                "clock_offset": self.clock_offset,
                "daily_limits": self._daily_limits,
                "engaged": self._engaged,
                "created": self._created,
                "windows": self._windows,
                "requests": [list(r) for r in self.requests],
            }

    def _load(self, data: dict[str, Any]) -> None:
        self.accounts = {a["user_id"]: Account(**a) for a in data.get("accounts", [])}
        self._posts = {p["id"]: Post(**p) for p in data.get("posts", [])}
        self.media = {m["id"]: Media(**m) for m in data.get("media", [])}
        self._seq = data.get("seq", 0)
        self.clock_offset = data.get("clock_offset", 0.0)
        self._daily_limits = data.get("daily_limits", {})
        self._engaged = data.get("engaged", {})
        self._created = data.get("created", {})
        self._windows = data.get("windows", {})
        self.requests = [Seen(*r) for r in data.get("requests", [])]

    def _save(self) -> None:
        if self._state_path is None:
            return
        tmp = self._state_path.with_name(self._state_path.name + ".tmp")
        tmp.write_text(json.dumps(self.snapshot(), indent=1))
        os.replace(tmp, self._state_path)  # a reader never sees half a file

    # -- request handling --------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        """One HTTP exchange (``headers`` with lower-case names); the server thread calls it."""
        path, _, query = target.partition("?")
        if path.startswith("/_fake/"):
            return self._control(method, path.removeprefix("/_fake/"), body)
        fault = self._take_fault(method, path)
        if fault is not None and fault.kind == "slow":
            time.sleep(float(fault.opts.get("seconds", 1.0)))
        with self._lock:
            reply = self._respond(fault, method, path, query, headers, body)
            self.requests.append(Seen(method, path, None if reply.drop else reply.status))
            self._save()
        if fault is not None and fault.kind == "store_then_wait":  # acted; the answer is late
            with self._lock:
                self._held += 1
                release = self._release
            release.wait(float(fault.opts.get("seconds", 1.0)))
            with self._lock:
                self._held -= 1
        return reply

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method in ("*", method) and re.search(fault.path_regex, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def _respond(
        self,
        fault: Fault | None,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
    ) -> Reply:
        route, args = _route(method, path)
        limit = RATE_LIMITS.get(route, DEFAULT_RATE_LIMIT)
        now = self.now()
        kind = fault.kind if fault is not None else ""
        if kind == "drop":
            return Reply(0, None, drop=True)
        rate = _rate_headers(limit, limit, now + WINDOW)
        try:
            if fault is not None and kind in {"429", "500", "503", "error"}:
                status = int(fault.opts.get("status", 400) if kind == "error" else kind)
                reset_in = float(fault.opts.get("reset_in", 60))
                throttled = kind == "429" or (kind == "error" and "reset_in" in fault.opts)
                remaining, reset = (0, now + reset_in) if throttled else (limit, now + WINDOW)
                headers = _rate_headers(limit, remaining, reset)
                if kind == "error" and fault.opts.get("body") is not None:
                    raise ApiError(status, dict(fault.opts["body"]), headers)
                raise problem(status, headers=headers)
            if route == "unknown":
                page = {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}
                raise ApiError(404, page)
            account = self._authenticate(method, path, query, headers, body)
            if account.tier == "free" and route in READ_ROUTES:
                raise client_forbidden(account)
            rate = self._count(account.user_id, route, limit, now)
            params = dict(parse_qsl(query, keep_blank_values=True))
            call = _Call(account, args, params, headers.get("content-type", ""), body)
            reply: Reply = getattr(self, "_" + route)(call)
        except ApiError as exc:
            reply = Reply(exc.status, exc.body, exc.headers)
        reply.headers = {**rate, **reply.headers}
        reply.drop = kind == "store_then_drop"
        if kind == "store_then_malformed" and reply.status < 400:  # acted; the answer lacks the id
            reply.status, reply.body = 200, {"data": {}}
        return reply

    def _authenticate(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Account:
        auth = headers.get("authorization", "")
        if auth.startswith("Bearer "):
            token = auth.removeprefix("Bearer ").strip()
            for account in self.accounts.values():
                if hmac.compare_digest(account.oauth2_token, token):
                    return account
        elif auth.startswith("OAuth "):
            oauth = {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', auth)}
            signer = next(
                (a for a in self.accounts.values() if a.access_token == oauth.get("oauth_token")),
                None,
            )
            required = {"oauth_consumer_key", "oauth_nonce", "oauth_timestamp", "oauth_signature"}
            if (
                signer is not None
                and required <= oauth.keys()
                and oauth["oauth_consumer_key"] == signer.consumer_key
                and oauth.get("oauth_signature_method") == "HMAC-SHA1"
                and oauth.get("oauth_version", "1.0") == "1.0"
            ):
                params = [(k, v) for k, v in oauth.items() if k not in ("oauth_signature", "realm")]
                params += parse_qsl(query, keep_blank_values=True)
                if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                    params += parse_qsl(body.decode(), keep_blank_values=True)
                key = f"{_enc(signer.consumer_secret)}&{_enc(signer.access_token_secret)}"
                # The client signed X's public URL; the transport rewrote it only afterwards.
                for base in self.public_bases:
                    expected = oauth1_signature(method, base + path, params, key)
                    if hmac.compare_digest(expected, oauth["oauth_signature"]):
                        return signer
        raise problem(401)

    def _count(self, user_id: str, route: str, limit: int, now: float) -> dict[str, str]:
        window = self._windows.get(f"{user_id} {route}")
        if window is None or now >= window[0] + WINDOW:
            window = [now, 0]
        window[1] += 1
        self._windows[f"{user_id} {route}"] = window
        headers = _rate_headers(limit, max(limit - int(window[1]), 0), window[0] + WINDOW)
        if window[1] > limit:
            raise problem(429, headers=headers)
        return headers

    def _control(self, method: str, name: str, body: bytes) -> Reply:
        """``/_fake/*``: the test API over HTTP, for a fake in another process."""
        args = json.loads(body or b"{}")
        if method == "GET" and name == "state":
            return Reply(200, self.snapshot())
        if method != "POST":
            return Reply(405, {"error": "use POST, or GET /_fake/state"})
        if name == "accounts":
            return Reply(201, asdict(self.add_account(**args)))
        actions: dict[str, Callable[..., object]] = {
            "faults": self.inject,
            "daily_limit": self.set_daily_limit,
            "tier": self.set_tier,
            "engage": self.engage,
            "posts": self.add_post,
            "clock": self.advance,
            "reset": self.reset,
        }
        if name not in actions:
            return Reply(404, {"error": f"no control endpoint {name!r}"})
        try:
            actions[name](**args)
        except ApiError as exc:  # what X would answer, e.g. a quote of a missing post
            return Reply(exc.status, exc.body)
        except (TypeError, ValueError, KeyError) as exc:
            return Reply(400, {"error": str(exc)})
        return Reply(200, {"ok": True})

    # -- posts -------------------------------------------------------------------------------

    def _snowflake(self, at: float) -> str:
        """An id like X's: milliseconds since Twitter's epoch, then a sequence number."""
        self._seq += 1
        return str(((int(at * 1000) - TWITTER_EPOCH_MS) << 22) | (self._seq & 0x3FFFFF))

    def _create_post(
        self,
        account: Account,
        text: str,
        reply_to: str | None,
        media_ids: list[str],
        created_at: float | None = None,
        quote_of: str | None = None,
    ) -> Post:
        now = self.now() if created_at is None else created_at
        if not text and not media_ids:
            raise invalid("text", text, "Post text or media is required.")
        if text and parse_tweet(text).weighted_length > 280:
            raise problem(400, TOO_LONG)
        if text and any(
            p.author_id == account.user_id and p.submitted == text and now - p.created_at < DAY
            for p in self._posts.values()
        ):
            raise problem(403, DUPLICATE)
        parent = self._posts.get(str(reply_to)) if reply_to is not None else None
        if reply_to is not None and parent is None:
            raise problem(403, REPLY_GONE)
        if quote_of is not None and str(quote_of) not in self._posts:
            raise invalid("quote_tweet_id", str(quote_of), QUOTE_GONE)
        if len(media_ids) > 4 or not all(self._usable(account, m) for m in media_ids):
            raise invalid("media.media_ids", media_ids, "Your media IDs are invalid.")
        stored, urls = self._shorten(text)
        if media_ids:  # X appends one link that stands for all the attached media
            link = self._tco("media:" + ",".join(media_ids))
            stored = f"{stored} {link}" if stored else link
            span = {"start": len(stored) - len(link), "end": len(stored), "url": link}
            urls += [span | {"media_key": self.media[m].key} for m in media_ids]
        post_id = self._snowflake(now)
        post = Post(
            id=post_id,
            author_id=account.user_id,
            text=stored,
            submitted=text,
            created_at=now,
            conversation_id=parent.conversation_id if parent else post_id,
            in_reply_to_tweet_id=parent.id if parent else None,
            in_reply_to_user_id=parent.author_id if parent else None,
            media_ids=list(media_ids),
            urls=urls,
            quoted_tweet_id=str(quote_of) if quote_of is not None else None,
        )
        self._posts[post_id] = post
        self._created.setdefault(account.user_id, []).append(now)
        return post

    def _usable(self, account: Account, media_id: str) -> bool:
        media = self.media.get(str(media_id))
        return (
            media is not None and media.owner_id == account.user_id and media.state == "succeeded"
        )

    def _tco(self, seed: str) -> str:
        self._seq += 1
        digest = hashlib.sha256(f"{self._seq}:{seed}".encode()).digest()
        alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        return "https://t.co/" + "".join(alphabet[b % 62] for b in digest[:10])

    def _shorten(self, text: str) -> tuple[str, list[dict[str, Any]]]:
        """Every URL becomes a t.co link, as X stores it; entities index the result."""
        pieces: list[str] = []
        urls: list[dict[str, Any]] = []
        last = 0
        for entity in extract_urls(text):
            pieces.append(text[last : entity.start])
            start = sum(map(len, pieces))
            link = self._tco(entity.value)
            expanded = entity.value if "://" in entity.value else "http://" + entity.value
            urls.append({"start": start, "end": start + len(link), "url": link,
                         "expanded_url": expanded, "display_url": expanded.split("://", 1)[1]})  # fmt: skip
            pieces.append(link)
            last = entity.end
        pieces.append(text[last:])
        return "".join(pieces), urls

    def _daily(self, account: Account, now: float, *, check: bool) -> dict[str, str]:
        """The 24-hour post cap as headers; a 429 when ``check`` finds it used up."""
        limit = self._daily_limits.get(account.user_id, self.default_daily_limit)
        recent = [t for t in self._created.get(account.user_id, []) if now - t < DAY]
        reset = (min(recent) if recent else now) + DAY
        headers = {"x-user-limit-24hour-limit": str(limit),
                   "x-user-limit-24hour-remaining": str(max(limit - len(recent), 0)),
                   "x-user-limit-24hour-reset": str(int(reset))}  # fmt: skip
        if check and len(recent) >= limit:
            raise problem(429, headers=headers)
        return headers

    def _render(self, post: Post, fields: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": post.id,
            "text": html.escape(post.text, quote=False),
            "edit_history_tweet_ids": [post.id],
        }
        if "created_at" in fields:
            out["created_at"] = datetime.fromtimestamp(post.created_at, UTC).strftime(
                "%Y-%m-%dT%H:%M:%S.000Z"
            )
        if "author_id" in fields:
            out["author_id"] = post.author_id
        if "conversation_id" in fields:
            out["conversation_id"] = post.conversation_id
        if "in_reply_to_user_id" in fields and post.in_reply_to_user_id:
            out["in_reply_to_user_id"] = post.in_reply_to_user_id
        refs = (("replied_to", post.in_reply_to_tweet_id), ("quoted", post.quoted_tweet_id),
                ("retweeted", post.retweeted_tweet_id))  # fmt: skip
        referenced = [{"type": kind, "id": ref} for kind, ref in refs if ref]
        if "referenced_tweets" in fields and referenced:
            out["referenced_tweets"] = referenced
        if "attachments" in fields and post.media_ids:
            out["attachments"] = {"media_keys": [self.media[m].key for m in post.media_ids]}
        if "entities" in fields and post.urls:
            out["entities"] = {"urls": post.urls}
        if "public_metrics" in fields:
            out["public_metrics"] = self._metrics(post)
        return out

    def _metrics(self, post: Post) -> dict[str, int]:
        replies = sum(p.in_reply_to_tweet_id == post.id for p in self._posts.values())
        grown = public_metrics(post, self.now(), replies)
        extra = self._engaged.get(post.id, {})
        return {k: max(v + extra.get(k, 0), 0) for k, v in grown.items()}

    def _create_tweet(self, call: _Call) -> Reply:
        body = call.json()
        text = body.get("text") or ""
        media_ids = [str(m) for m in (body.get("media") or {}).get("media_ids", [])]
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        quote_of = body.get("quote_tweet_id")
        self._daily(call.account, self.now(), check=True)
        post = self._create_post(call.account, text, reply_to, media_ids, quote_of=quote_of)
        headers = self._daily(call.account, post.created_at, check=False)
        return Reply(201, {"data": self._render(post, set())}, headers)

    def _retweet(self, call: _Call) -> Reply:
        """``POST /2/users/:id/retweets`` with ``{"tweet_id"}``: ``{"data": {"retweeted": true}}``
        and no id (X gives none: the retweet shows on the user's timeline, ``referenced_tweets``
        type ``retweeted``). Retweeting again is answered the same and stores nothing: one
        retweet per user and post. It counts toward the 24-hour post cap, as on X."""
        account = call.account
        if call.args[0] != account.user_id:
            raise problem(403, "You are not permitted to perform this action.")
        tweet_id = str((call.json() or {}).get("tweet_id") or "")
        original = self._posts.get(tweet_id)
        if original is None:
            raise problem(403, RETWEET_GONE)
        if any(
            p.author_id == account.user_id and p.retweeted_tweet_id == tweet_id
            for p in self._posts.values()
        ):
            return Reply(200, {"data": {"retweeted": True}})
        now = self.now()
        self._daily(account, now, check=True)
        self._store_retweet(account, original, now)
        self._created.setdefault(account.user_id, []).append(now)
        return Reply(200, {"data": {"retweeted": True}}, self._daily(account, now, check=False))

    def _delete_tweet(self, call: _Call) -> Reply:
        post = self._posts.get(call.args[0])
        if post is None:
            return Reply(200, {"data": {"deleted": False}})
        if post.author_id != call.account.user_id:
            raise problem(403, "You are not permitted to perform this action.")
        del self._posts[post.id]
        return Reply(200, {"data": {"deleted": True}})

    def _lookup(self, ids: list[str], fields: set[str], parameter: str = "id") -> dict[str, Any]:
        found = [self._render(self._posts[i], fields) for i in ids if i in self._posts]
        errors = [not_found("tweet", i, parameter) for i in ids if i not in self._posts]
        return ({"data": found} if found else {}) | ({"errors": errors} if errors else {})

    def _get_tweet(self, call: _Call) -> Reply:
        result = self._lookup([call.args[0]], _fields(call.query))
        if "data" in result:
            result["data"] = result["data"][0]
        return Reply(200, result)

    def _get_tweets(self, call: _Call) -> Reply:
        raw = call.query.get("ids", "")
        ids = [i.strip() for i in raw.split(",") if i.strip()]
        if not ids:
            raise invalid("ids", raw, "The `ids` query parameter can not be empty")
        if len(ids) > MAX_LOOKUP_IDS:
            message = (
                f"The number of values in the `ids` query parameter list [{len(ids)}] "
                f"is not between 1 and {MAX_LOOKUP_IDS}"
            )
            raise invalid("ids", raw, message)
        for value in ids:
            if not re.fullmatch(r"[0-9]{1,19}", value):
                message = (
                    f"The `ids` query parameter value [{value}] does not match ^[0-9]{{1,19}}$"
                )
                raise invalid("ids", value, message)
        return Reply(200, self._lookup(list(dict.fromkeys(ids)), _fields(call.query), "ids"))

    def _get_me(self, call: _Call) -> Reply:
        me = call.account
        return Reply(200, {"data": {"id": me.user_id, "name": me.name, "username": me.username}})

    def _user_tweets(self, call: _Call) -> Reply:
        q, user_id = call.query, call.args[0]
        if user_id not in self.accounts:
            return Reply(200, {"errors": [not_found("user", user_id)]})
        posts = [p for p in self._posts.values() if p.author_id == user_id]
        if "replies" in q.get("exclude", "").split(","):
            posts = [p for p in posts if p.in_reply_to_tweet_id is None]
        if "retweets" in q.get("exclude", "").split(","):
            posts = [p for p in posts if p.retweeted_tweet_id is None]
        return self._timeline(q, posts, TIMELINE_DEPTH)

    def _user_mentions(self, call: _Call) -> Reply:
        q, user_id = call.query, call.args[0]
        if user_id not in self.accounts:
            return Reply(200, {"errors": [not_found("user", user_id)]})
        return self._timeline(q, self._mentioning(self.accounts[user_id]), MENTIONS_DEPTH)

    def _retweeted_by(self, call: _Call) -> Reply:
        """``GET /2/tweets/:id/retweeted_by`` (tweepy's ``get_retweeters``): the users who
        retweeted the post, the latest first, as user objects (``id``, ``name``, ``username``);
        ``max_results`` 1-100 (default 100) and ``pagination_token``; a post that is not there
        answers 200 with ``errors`` (as X does for a missing resource on a lookup)."""
        q, tweet_id = call.query, call.args[0]
        if tweet_id not in self._posts:
            return Reply(200, {"errors": [not_found("tweet", tweet_id)]})
        size = int(q.get("max_results", "100"))
        if not 1 <= size <= 100:
            message = f"The `max_results` query parameter value [{size}] is not between 1 and 100"
            raise invalid("max_results", str(size), message)
        sharing = sorted(
            (p for p in self._posts.values() if p.retweeted_tweet_id == tweet_id),
            key=lambda p: int(p.id),
            reverse=True,
        )
        start = int(_untoken(q["pagination_token"])[1]) if "pagination_token" in q else 0
        page = sharing[start : start + size]
        users = [self.accounts[p.author_id] for p in page if p.author_id in self.accounts]
        meta: dict[str, Any] = {"result_count": len(users)}
        if start + size < len(sharing):
            meta["next_token"] = _token("n", str(start + size))
        data = [{"id": u.user_id, "name": u.name, "username": u.username} for u in users]
        return Reply(200, ({"data": data} if data else {}) | {"meta": meta})

    def _mentioning(self, account: Account) -> list[Post]:
        """Other accounts' posts that name ``account`` or reply to one of its posts."""
        name = account.username.lower()
        return [
            p
            for p in self._posts.values()
            if p.author_id != account.user_id
            and p.retweeted_tweet_id is None  # a retweet is no mention of the author
            and (
                p.in_reply_to_user_id == account.user_id
                or any(m.value.lower() == name for m in extract_mentions(p.submitted))
            )
        ]

    def _timeline(self, q: dict[str, str], posts: list[Post], depth: int) -> Reply:
        """One page of ``posts``, newest first, as X's timelines page them (at most ``depth``
        of the most recent, ``pagination_token`` both ways)."""
        size = int(q.get("max_results", "10"))
        if not 5 <= size <= 100:
            message = f"The `max_results` query parameter value [{size}] is not between 5 and 100"
            raise invalid("max_results", str(size), message)
        for keep in _timeline_filters(q):
            posts = [p for p in posts if keep(p)]
        posts = sorted(posts, key=lambda p: int(p.id), reverse=True)[:depth]
        kind, edge = _untoken(q["pagination_token"]) if "pagination_token" in q else ("", 0)
        if kind == "p":  # a previous_token: the page just newer than ``edge``
            page = [p for p in posts if int(p.id) > edge][-size:]
        else:
            page = [p for p in posts if kind != "n" or int(p.id) < edge][:size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta |= {"newest_id": page[0].id, "oldest_id": page[-1].id}
            if any(int(p.id) < int(page[-1].id) for p in posts):
                meta["next_token"] = _token("n", page[-1].id)
            if kind:
                meta["previous_token"] = _token("p", page[0].id)
        expand = "author_id" in q.get("expansions", "").split(",")
        data = [self._render(p, _fields(q) | ({"author_id"} if expand else set())) for p in page]
        out: dict[str, Any] = {"data": data} if data else {}
        if data and expand:  # the tweets name their author, whose user object is included
            authors = dict.fromkeys(p.author_id for p in page)
            users = [self.accounts[a] for a in authors if a in self.accounts]
            out["includes"] = {
                "users": [{"id": u.user_id, "name": u.name, "username": u.username} for u in users]
            }
        return Reply(200, out | {"meta": meta})

    # -- media -------------------------------------------------------------------------------

    def _new_media(self, account: Account, fields: dict[str, Any]) -> Media:
        media_type = str(fields.get("media_type", ""))
        subtitles = fields.get("media_category") == "subtitles"
        if subtitles and media_type not in SUBTITLE_TYPES:
            raise invalid("media_type", media_type, "Subtitles must be text/srt or text/vtt.")
        if not subtitles and not media_type.startswith(("image/", "video/")):
            raise invalid("media_type", media_type, f"Unsupported media_type {media_type!r}.")
        try:
            total = int(fields["total_bytes"])
        except (KeyError, ValueError):
            raise invalid(
                "total_bytes", fields.get("total_bytes"), "total_bytes is required"
            ) from None
        guess = (
            "tweet_gif" if media_type == "image/gif" else "tweet_" + media_type.partition("/")[0]
        )
        category = fields.get("media_category") or guess
        if category not in MEDIA_KEY_PREFIX:
            raise invalid("media_category", category, f"Unsupported media_category {category!r}.")
        if total > MAX_BYTES.get(category, MAX_VIDEO_BYTES):
            raise invalid(
                "total_bytes", total, "File size exceeds the limit for its media_category."
            )
        now = self.now()
        media = Media(self._snowflake(now), account.user_id, media_type, category, total, now)
        self.media[media.id] = media
        return media

    def _owned(self, account: Account, media_id: str) -> Media:
        media = self.media.get(str(media_id))
        if media is None or media.owner_id != account.user_id:
            raise invalid("media_id", media_id, f"Invalid media_id {media_id}.")
        return media

    def _append(self, media: Media, fields: dict[str, Any]) -> None:
        if media.state != "uploading":
            raise invalid("media_id", media.id, "The media upload has already been finalized.")
        try:
            index = int(fields["segment_index"])
        except (KeyError, ValueError):
            raise invalid(
                "segment_index", fields.get("segment_index"), "segment_index is required"
            ) from None
        if not 0 <= index <= 999:
            raise invalid("segment_index", index, "segment_index must be between 0 and 999")
        if "media" in fields:
            chunk, encoded = fields["media"], isinstance(fields["media"], str)
        elif "media_data" in fields:
            chunk, encoded = fields["media_data"], True
        else:
            raise invalid("media", "", "media is required")
        if encoded:  # JSON bodies and ``media_data`` carry base64
            try:
                chunk = base64.b64decode(chunk, validate=True)
            except (binascii.Error, ValueError):
                raise invalid("media", "", "media is not valid base64") from None
        media.segments[str(index)] = len(chunk)

    def _finalize(self, media: Media) -> dict[str, Any]:
        if media.state == "uploading":
            if sum(media.segments.values()) != media.total_bytes:
                raise problem(400, "Segments do not add up to provided total file size.")
            media.state = (
                "succeeded" if media.category in ("tweet_image", "subtitles") else "pending"
            )
            if media.state == "pending":
                media.polls_left, media.error = self.media_processing, self.media_fails
        return self._media_data(media)

    def _media_data(self, media: Media) -> dict[str, Any]:
        expires = max(int(media.created_at + DAY - self.now()), 0)
        data: dict[str, Any] = {"id": media.id, "media_key": media.key,
                                "size": media.total_bytes, "expires_after_secs": expires}  # fmt: skip
        if media.state in {"pending", "in_progress"}:
            percent = 0 if media.state == "pending" else 50
            data["processing_info"] = {
                "state": media.state,
                "check_after_secs": 1,
                "progress_percent": percent,
            }
        elif media.state == "failed":  # X's example of a failed STATUS answer
            data["processing_info"] = {
                "state": "failed",
                "progress_percent": 12,
                "error": {"code": 1, "name": "InvalidMedia", "message": media.error},
            }
        elif media.category != "tweet_image":
            data["processing_info"] = {"state": "succeeded", "progress_percent": 100}
        return data

    def _initialized(self, media: Media) -> Reply:
        return Reply(
            200, {"data": {"id": media.id, "media_key": media.key, "expires_after_secs": DAY}}
        )

    def _appended(self) -> Reply:
        return Reply(200, {"data": {"expires_at": int(self.now() + DAY)}})

    def _media_initialize(self, call: _Call) -> Reply:
        return self._initialized(self._new_media(call.account, call.fields()))

    def _media_append(self, call: _Call) -> Reply:
        self._append(self._owned(call.account, call.args[0]), call.fields())
        return self._appended()

    def _media_finalize(self, call: _Call) -> Reply:
        return Reply(200, {"data": self._finalize(self._owned(call.account, call.args[0]))})

    def _media_status(self, call: _Call) -> Reply:
        """``command=STATUS``; each poll moves processing one step: pending → in_progress →
        succeeded (or failed, with ``media_fails``), ``media_processing`` more polls in_progress
        (X's STATUS reference: "pending -> in_progress -> [failed|succeeded]")."""
        if call.query.get("command", "STATUS") != "STATUS":
            raise invalid("command", call.query.get("command"), "command must be STATUS")
        media = self._owned(call.account, call.query.get("media_id", ""))
        if media.state == "uploading":
            raise invalid("media_id", media.id, "The media upload has not been finalized.")
        if media.state == "in_progress" and media.polls_left > 0:
            media.polls_left -= 1
        else:
            done = "failed" if media.error is not None else "succeeded"
            media.state = {"pending": "in_progress", "in_progress": done}.get(
                media.state, media.state
            )
        return Reply(200, {"data": self._media_data(media)})

    def _media_legacy(self, call: _Call) -> Reply:
        """The older single endpoint: ``command=INIT|APPEND|FINALIZE``, or one shot with ``media``."""
        fields = call.fields()
        command = fields.get("command")
        if command == "INIT":
            return self._initialized(self._new_media(call.account, fields))
        if command == "APPEND":
            self._append(self._owned(call.account, fields.get("media_id", "")), fields)
            return self._appended()
        if command == "FINALIZE":
            media = self._owned(call.account, fields.get("media_id", ""))
            return Reply(200, {"data": self._finalize(media)})
        if command is None and "media" in fields:
            raw = fields["media"]
            size = len(raw) if isinstance(raw, bytes) else len(base64.b64decode(raw))
            media = self._new_media(
                call.account, {"media_type": "image/jpeg", **fields, "total_bytes": size}
            )
            self._append(media, {"segment_index": 0, "media": raw})
            return Reply(200, {"data": self._finalize(media)})
        raise invalid("command", command, "command must be INIT, APPEND or FINALIZE")

    def _media_subtitles(self, call: _Call) -> Reply:
        """``POST /2/media/subtitles`` {id (the video), media_category, subtitles: {id (a
        ``subtitles`` upload), language_code, display_name}}: the subtitles go with the video
        (docs.x.com/x-api/media/create-media-subtitles)."""
        body = call.json() or {}
        video = self._owned(call.account, str(body.get("id", "")))
        if not video.category.endswith("video"):
            raise invalid("id", video.id, "Subtitles go with a video.")
        track = body.get("subtitles") or {}
        upload = self._owned(call.account, str(track.get("id", "")))
        language = str(track.get("language_code") or "")
        if upload.category != "subtitles" or upload.state != "succeeded":
            raise invalid("subtitles.id", upload.id, "Not a finished subtitles upload.")
        if not re.fullmatch(r"[A-Za-z]{2}", language):
            raise invalid("subtitles.language_code", language, "A two-letter language code.")
        video.subtitles[language.upper()] = upload.id
        subtitles = {"id": upload.id, "language_code": language.upper(),
                     "display_name": track.get("display_name")}  # fmt: skip
        return Reply(200, {"data": {"id": video.id, "media_category": body.get("media_category"),
                                    "associated_subtitles": [subtitles]}})  # fmt: skip

    def _media_metadata(self, call: _Call) -> Reply:
        body = call.json()
        media = self._owned(call.account, str(body.get("id", "")))
        alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
        if not isinstance(alt, str) or len(alt) > 1000:
            raise invalid(
                "metadata.alt_text.text", alt, "Alt text must be at most 1000 characters."
            )
        media.alt_text = alt
        associated = {"alt_text": {"text": alt}}
        return Reply(200, {"data": {"id": media.id, "associated_metadata": associated}})


_ROUTES = [
    ("POST", r"/2/tweets", "create_tweet"),
    ("GET", r"/2/tweets", "get_tweets"),
    ("GET", r"/2/tweets/(\d+)", "get_tweet"),
    ("DELETE", r"/2/tweets/(\d+)", "delete_tweet"),
    ("GET", r"/2/users/me", "get_me"),
    ("GET", r"/2/users/(\d+)/tweets", "user_tweets"),
    ("GET", r"/2/users/(\d+)/mentions", "user_mentions"),
    ("POST", r"/2/users/(\d+)/retweets", "retweet"),
    ("GET", r"/2/tweets/(\d+)/retweeted_by", "retweeted_by"),
    ("POST", r"/2/media/upload/initialize", "media_initialize"),
    ("POST", r"/2/media/upload/(\d+)/append", "media_append"),
    ("POST", r"/2/media/upload/(\d+)/finalize", "media_finalize"),
    ("GET", r"/2/media/upload", "media_status"),
    ("POST", r"/2/media/upload", "media_legacy"),
    ("POST", r"/2/media/metadata", "media_metadata"),
    ("POST", r"/2/media/subtitles", "media_subtitles"),
]


def _check_tier(tier: str) -> None:
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}: use one of {', '.join(TIERS)}")


def _route(method: str, path: str) -> tuple[str, tuple[str, ...]]:
    for verb, pattern, name in _ROUTES:
        found = re.fullmatch(pattern, path)
        if verb == method and found:
            return name, found.groups()
    return "unknown", ()


def _rate_headers(limit: int, remaining: int, reset: float) -> dict[str, str]:
    return {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(int(reset))}  # fmt: skip


def _fields(query: dict[str, str]) -> set[str]:
    return set(query.get("tweet.fields", "").split(",")) - {""}


def _token(kind: str, post_id: str) -> str:
    return base64.b32encode(f"{kind}{post_id}".encode()).decode().lower().rstrip("=")


def _untoken(token: str) -> tuple[str, int]:
    try:
        raw = base64.b32decode(token.upper() + "=" * (-len(token) % 8)).decode()
        return raw[0], int(raw[1:])
    except (binascii.Error, ValueError, IndexError, UnicodeDecodeError):
        message = f"The `pagination_token` query parameter value [{token}] is not valid"
        raise invalid("pagination_token", token, message) from None


def _timeline_filters(q: dict[str, str]) -> Iterator[Callable[[Post], bool]]:
    def epoch(name: str) -> float:
        try:
            return datetime.fromisoformat(q[name]).timestamp()
        except ValueError:
            raise invalid(name, q[name], f"Invalid {name}: {q[name]}") from None

    if "since_id" in q:
        since = int(q["since_id"])
        yield lambda p: int(p.id) > since
    if "until_id" in q:
        until = int(q["until_id"])
        yield lambda p: int(p.id) < until
    if "start_time" in q:
        start = epoch("start_time")
        yield lambda p: p.created_at >= start
    if "end_time" in q:
        end = epoch("end_time")
        yield lambda p: p.created_at < end


class _Server(ThreadingHTTPServer):
    fake: XFake
    block_on_close = False  # a "slow" fault must not hold up stop()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that gave up
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart
    timeout = 30  # an idle keep-alive connection gives its thread back eventually

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.server.fake.handle(self.command, self.path, headers, body)
        if reply.drop:
            self.close_connection = True  # no status line: the client sees the connection drop
            return
        data = json.dumps(reply.body).encode() if reply.body is not None else b""
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


def rewrite_session(session: Any, base_url: str, hosts: frozenset[str] = X_HOSTS) -> Any:
    """Send every request of a ``requests`` session to the fake at ``base_url``.

    X's hosts are rewritten (path and query kept) after auth has signed the public URL; any
    other host raises :class:`UnexpectedHost`, so a test cannot reach the internet.  Returns the
    mounted adapter: its ``sent`` list holds every URL it delivered.
    """
    from requests.adapters import HTTPAdapter  # keeps the server itself standard library only

    target = urlsplit(base_url)

    class RewritingAdapter(HTTPAdapter):
        sent: list[str]

        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            url = urlsplit(request.url)
            if url.netloc != target.netloc:
                if url.hostname not in hosts:
                    raise UnexpectedHost(f"a test tried to reach {url.hostname}")
                request.url = urlunsplit((target.scheme, target.netloc, url.path, url.query, ""))
            kwargs["proxies"] = {}  # loopback never goes through a proxy from the environment
            self.sent.append(request.url)
            return super().send(request, *args, **kwargs)

    adapter = RewritingAdapter()
    adapter.sent = []
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return adapter


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGTERM or SIGINT; print the base URL on the first line of stdout."""
    parser = argparse.ArgumentParser(description="Serve the fake X API until SIGTERM.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state", type=Path, help="JSON file: loaded at start, saved on change")
    args = parser.parse_args(argv)
    fake = XFake(port=args.port, state_path=args.state)
    # Blocked before the server thread starts, so it inherits the mask and only sigwait sees them.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    fake.start()
    print(fake.base_url, flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    fake.stop()


if __name__ == "__main__":
    main()
