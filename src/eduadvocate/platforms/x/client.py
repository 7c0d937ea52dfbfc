"""Publishing to X through tweepy's v2 ``Client`` (imported only here).

- Auth: OAuth 1.0a user context (four keys) or an OAuth 2.0 user access token.
- Threads reply to the previous part; images go up through X's v2 media upload (initialize /
  append / finalize, status polling, ``POST /2/media/metadata`` for alt text), which tweepy 4.17
  lacks, so it is done here on tweepy's own session and auth.
- The session never retries a POST by itself (``max_retries=0``), has a timeout, and
  ``wait_on_rate_limit`` stays off: dispatch decides about retries.
- ``base_url`` (config) redirects every request, so tests and proxies can stand in for X.
- The inbox (``eduadvocate inbox pull``): the account's mentions timeline
  (``GET /2/users/:id/mentions``), page by page by ``pagination_token``. A post that replies to
  one of the account's posts is a reply, one that quotes a post a quote, any other a mention;
  replies and quotes name the post they answer (thread root: ``conversation_id``). X lists only
  posts that name the account (replies do: X writes in whom they answer), so a quote that does
  not is not read. The free API tier cannot read posts: that is a refusal naming the tier.
- X has no idempotency key: an attempt in doubt is looked up among the account's recent posts.
  X rewrites every URL to a ``t.co`` link and escapes ``&<>`` as HTML entities, so texts are
  compared with URLs masked and entities decoded.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import tweepy

from eduadvocate.config.model import AccountConfig
from eduadvocate.core.counts import Counts
from eduadvocate.platforms.http import prepare_session
from eduadvocate.platforms.posturl import post_address
from eduadvocate.platforms.publishing import (
    Attachment,
    AuthFailed,
    InboxPage,
    InboxRefused,
    Incoming,
    InDoubt,
    MetricsRefused,
    OutgoingPart,
    Published,
    Publisher,
    RateLimited,
    Rejected,
    ReplyTarget,
    Transient,
)
from eduadvocate.platforms.textcount import twitter

API_HOSTS = ("https://api.twitter.com", "https://api.x.com")
TIMEOUT_S = 30
CHUNK = 4 * 1024 * 1024
MEDIA_POLL_LIMIT_S = 120
LOOKUP_PAGES = 3
_URL_MARK = "\x00URL\x00"


def install_transport(session: requests.Session, base_url: str | None) -> None:
    prepare_session(session, API_HOSTS, base_url, TIMEOUT_S)


class XPublisher(Publisher):
    def __init__(self, account: AccountConfig) -> None:
        self.account = account
        self.video_timeout = account.get_positive_int("video_timeout", MEDIA_POLL_LIMIT_S)
        self.username = (account.get("username") or "").lstrip("@") or None
        if account.settings.get("oauth2_token") is not None:
            self.client = tweepy.Client(
                bearer_token=account.secret("oauth2_token"), return_type=requests.Response
            )
            self.user_auth = False
        else:
            self.client = tweepy.Client(
                consumer_key=account.secret("consumer_key"),
                consumer_secret=account.secret("consumer_secret"),
                access_token=account.secret("access_token"),
                access_token_secret=account.secret("access_token_secret"),
                return_type=requests.Response,
            )
            self.user_auth = True
        install_transport(self.client.session, account.get("base_url"))
        self._me: str | None = None

    # -- publishing ----------------------------------------------------------------------------
    def publish(self, part: OutgoingPart) -> Published:
        if part.repost:
            return self._retweet(part.repost)
        media_ids = [self._upload(item, part.language) for item in part.media]
        in_reply_to = part.reply_to
        if part.answers and part.index == 0:
            in_reply_to = self.resolve_reply(part.answers).remote_id
        quoted = self.resolve_reply(part.quote, "quote").remote_id if part.quote else None
        with _mapped(sending=True):
            response = self.client.create_tweet(
                text=part.text,
                in_reply_to_tweet_id=in_reply_to,
                quote_tweet_id=quoted,
                media_ids=media_ids or None,
                user_auth=self.user_auth,
            )
        tweet_id = str(response.json()["data"]["id"])
        return Published(
            tweet_id, self._url(tweet_id), hold_until=_daily_exhausted(response.headers)
        )

    def _retweet(self, url: str) -> Published:
        """A repost (``POST /2/users/:id/retweets``). X answers ``retweeted: true`` without an
        id, and the same again for a post already retweeted (one retweet per user and post, so
        a repeat creates nothing): the retweet's id is read back from the account's timeline."""
        target = self.resolve_reply(url, "repost").remote_id
        with _mapped(sending=True):
            response = self.client.retweet(target, user_auth=self.user_auth)
        try:
            found = self._find_retweet(target, None)
        except (Rejected, AuthFailed) as exc:  # e.g. the free tier, which reads no timeline
            raise InDoubt(f"X took the repost, but its id cannot be read back: {exc}") from exc
        if found is None:  # done, but not listed yet: the dispatcher looks it up again
            raise InDoubt("X took the repost but does not list it on the timeline yet")
        return Published(found.remote_id, found.url, hold_until=_daily_exhausted(response.headers))

    def _find_retweet(self, target: str, since: datetime | None) -> Published | None:
        """The account's retweet of ``target`` among its recent posts (None: not there)."""
        for tweet in self._recent_tweets(since, "referenced_tweets", "repost"):
            refs = tweet.get("referenced_tweets") or ()
            if any(r.get("type") == "retweeted" and str(r.get("id")) == target for r in refs):
                return Published(str(tweet["id"]), self._url(str(tweet["id"])))
        return None

    def _recent_tweets(
        self, since: datetime | None, fields: str, what: str
    ) -> Iterator[dict[str, Any]]:
        """The account's posts since ``since`` (30 s of clock skew allowed; None: its latest),
        newest first, page by page, for a lookup of a ``what``: a page that cannot be read, or
        more pages than :data:`LOOKUP_PAGES`, leave the lookup in doubt."""
        me = self._user_id()
        params: dict[str, Any] = {"max_results": 100, "tweet.fields": fields}
        if since is not None:
            start = since - timedelta(seconds=30)
            params["start_time"] = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for _ in range(LOOKUP_PAGES):
            try:
                page = self._request("GET", f"/2/users/{me}/tweets", params=params).json()
            except (Transient, RateLimited) as exc:
                raise InDoubt(f"cannot read the account's recent posts to check: {exc}") from exc
            yield from page.get("data", [])
            token = page.get("meta", {}).get("next_token")
            if not token:
                return
            params["pagination_token"] = token
        raise InDoubt(f"too many recent posts to be sure the {what} is not among them")

    def resolve_reply(self, url: str, what: str = "answer") -> ReplyTarget:
        """An x.com (or twitter.com) status address names the post's id itself: nothing is
        asked. X refuses the reply if that post is gone or hidden from the account (a
        rejection, with X's reason), and may refuse replies to accounts that did not mention
        or quote ours."""
        address = post_address(url)
        if address is None or address.platform != "x" or not address.post:
            raise Rejected(f"{url[:200]} is not the address of a post on X")
        return ReplyTarget(address.post)

    def _url(self, tweet_id: str) -> str:
        return f"https://x.com/{self.username or 'i'}/status/{tweet_id}"

    def _request(self, method: str, route: str, **kwargs: Any) -> requests.Response:
        """A signed request on tweepy's session, mapped like tweepy's own."""
        headers = {"User-Agent": self.client.user_agent}
        auth = None
        if self.user_auth:
            auth = tweepy.OAuth1UserHandler(
                self.client.consumer_key,
                self.client.consumer_secret,
                self.client.access_token,
                self.client.access_token_secret,
            ).apply_auth()
        else:
            headers["Authorization"] = f"Bearer {self.client.bearer_token}"
        try:
            response: requests.Response = self.client.session.request(
                method, API_HOSTS[0] + route, headers=headers, auth=auth, **kwargs
            )
        except requests.RequestException as exc:
            raise Transient(f"cannot reach X: {type(exc).__name__}") from exc
        _raise_for(response)
        return response

    def _upload(self, item: Attachment, language: str | None = None) -> str:
        """X's v2 media upload; returns the media id. Uploads are not posts: a repeat after a
        crash only leaves an unused upload behind, which X discards."""
        try:
            data = item.path.read_bytes()
        except OSError as exc:
            raise Rejected(f"cannot read the media file {item.path.name}: {exc.strerror}") from exc
        mime = item.mime or "application/octet-stream"
        category = (
            "tweet_video"
            if mime.startswith("video/")
            else "tweet_gif"
            if mime == "image/gif"
            else "tweet_image"
        )
        init = self._request(
            "POST",
            "/2/media/upload/initialize",
            json={"media_type": mime, "total_bytes": len(data), "media_category": category},
        )
        media_id = str(init.json()["data"]["id"])
        for index, start in enumerate(range(0, len(data), CHUNK)):
            self._request(
                "POST",
                f"/2/media/upload/{media_id}/append",
                data={"segment_index": str(index)},
                files={"media": ("chunk", data[start : start + CHUNK], "application/octet-stream")},
            )
        final = self._request("POST", f"/2/media/upload/{media_id}/finalize").json().get("data", {})
        self._wait_processed(
            media_id, final.get("processing_info"), item.relative or item.path.name
        )
        if item.alt:
            self._request(
                "POST",
                "/2/media/metadata",
                json={"id": media_id, "metadata": {"alt_text": {"text": item.alt}}},
            )
        if mime.startswith("video/"):
            for own, path, written in item.captions:  # (a file without one: the post's)
                self._subtitles(media_id, own or language, path, written)
        return media_id

    def _subtitles(self, video_id: str, language: str | None, path: Path, written: str) -> None:
        """A captions file as the video's subtitles: uploaded with ``media_category=subtitles``
        (SRT or WebVTT, as X takes both), then ``POST /2/media/subtitles`` ties it to the video
        before the post is made (docs.x.com/x-api/media/create-media-subtitles). X wants a
        two-letter language: a file without one is Rejected, as check says."""
        if not language or not re.fullmatch(r"[A-Za-z]{2}", language.split("-")[0]):
            raise Rejected(f"{written}: X needs the captions' language (captions: {{en: …}})")
        code = language.split("-")[0].upper()
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise Rejected(f"cannot read the captions file {written}: {exc.strerror}") from exc
        mime = "text/vtt" if data.lstrip(b"\xef\xbb\xbf").startswith(b"WEBVTT") else "text/srt"
        init = self._request(
            "POST",
            "/2/media/upload/initialize",
            json={"media_type": mime, "total_bytes": len(data), "media_category": "subtitles"},
        )
        upload = str(init.json()["data"]["id"])
        self._request(
            "POST",
            f"/2/media/upload/{upload}/append",
            data={"segment_index": "0"},
            files={"media": ("captions", data, "application/octet-stream")},
        )
        self._request("POST", f"/2/media/upload/{upload}/finalize")
        self._request(
            "POST",
            "/2/media/subtitles",
            json={
                "id": video_id,
                "media_category": "TweetVideo",
                "subtitles": {"id": upload, "language_code": code, "display_name": code},
            },
        )

    def _wait_processed(self, media_id: str, info: Mapping[str, Any] | None, name: str) -> None:
        """Until X has processed the upload ``name`` (``processing_info.state``: "pending ->
        in_progress -> [failed|succeeded]", X's media STATUS reference), polling as often as
        ``check_after_secs`` asks, for at most ``video_timeout`` seconds (default
        :data:`MEDIA_POLL_LIMIT_S`). Nothing is posted
        yet: a video still processing then is Transient (the next run uploads it again), a
        poll lost on the way is asked again, a failed one is Rejected with X's reason."""
        limit = self.video_timeout
        deadline = time.monotonic() + limit
        while info and info.get("state") in ("pending", "in_progress"):
            delay = min(float(info.get("check_after_secs", 1)), 10.0)
            if time.monotonic() + delay > deadline:
                raise Transient(
                    f"X was still processing {name} after {limit} s (video_timeout); nothing"
                    " was posted, it is uploaded again at the next run"
                )
            time.sleep(delay)
            try:
                status = self._request(
                    "GET", "/2/media/upload", params={"command": "STATUS", "media_id": media_id}
                )
            except Transient:
                continue  # a poll lost on the way (or a 5xx): ask again, within the deadline
            info = status.json().get("data", {}).get("processing_info")
        if info and info.get("state") == "failed":
            error = info.get("error", {}).get("message", "processing failed")
            raise Rejected(f"X could not process {name}: {error}")

    # -- engagement -------------------------------------------------------------------------------
    metrics_batch = 100  # ids per GET /2/tweets

    def metrics(self, remote_ids: Sequence[str]) -> dict[str, Counts]:
        """``public_metrics`` of up to 100 posts. X's free tier may not read posts at all (403,
        "client-not-enrolled"): that is a refusal, reported once. Deleted posts come back as
        errors and are left out."""
        try:
            with _mapped(sending=False):
                response = self.client.get_tweets(
                    ids=list(remote_ids), tweet_fields=["public_metrics"], user_auth=self.user_auth
                )
        except (Rejected, AuthFailed) as exc:
            if "(403)" in str(exc):
                raise MetricsRefused(
                    f"X does not let this account read posts' counts (its API tier?): {exc}"
                ) from exc
            raise
        out = {}
        for tweet in response.json().get("data") or []:
            m = tweet.get("public_metrics") or {}
            out[str(tweet["id"])] = Counts(
                likes=m.get("like_count"),
                reposts=m.get("retweet_count"),
                replies=m.get("reply_count"),
                quotes=m.get("quote_count"),
                saves=m.get("bookmark_count"),
                impressions=m.get("impression_count"),
            )
        return out

    # -- inbox ---------------------------------------------------------------------------------
    inbox_source = "mentions"

    def inbox(self, cursor: str | None, limit: int) -> InboxPage:
        """A page of the account's mentions timeline (see the module), newest first."""
        me = self._user_id()
        with _mapped(sending=False):
            try:
                response = self.client.get_users_mentions(
                    me,
                    max_results=max(5, min(limit, 100)),  # X takes 5 to 100
                    pagination_token=cursor,
                    expansions=["author_id"],
                    tweet_fields=[
                        "created_at",
                        "conversation_id",
                        "referenced_tweets",
                        "in_reply_to_user_id",
                    ],
                    user_fields=["username", "name"],
                    user_auth=self.user_auth,
                )
            except tweepy.Forbidden as exc:
                if _problem(exc.response) == "client-forbidden":  # the app's access level
                    raise InboxRefused(self._tier_refusal(exc.response)) from exc
                raise
        page = response.json()
        users = {str(u["id"]): u for u in (page.get("includes") or {}).get("users") or []}
        items = [incoming(t, users, me) for t in page.get("data") or []]
        return InboxPage(items, (page.get("meta") or {}).get("next_token") or None)

    reads_replies = True

    def replies(self, target: str, cursor: str | None, limit: int) -> InboxPage:
        """Who reposted one of the account's posts (``GET /2/tweets/:id/retweeted_by``), as
        ``repost`` items: X lists no reposts among mentions, and ``people suggest`` counts who
        amplifies. Replies need no walk here: a reply names whom it answers, so the mentions
        timeline has it. X gives no time for a repost, so an item's time is when the pull first
        saw it. A post that is gone has none (a page with no items)."""
        with _mapped(sending=False):
            response = self.client.get_retweeters(
                target,
                max_results=max(1, min(limit, 100)),
                pagination_token=cursor,
                user_fields=["username", "name"],
                user_auth=self.user_auth,
            )
        page = response.json()
        seen = datetime.now(UTC)
        items = [
            Incoming(
                remote_id=f"retweet:{u['id']}:{target}",
                kind="repost",
                author_handle=str(u.get("username") or u["id"]),
                author_name=u.get("name") or None,
                author_url=f"https://x.com/{u['username']}" if u.get("username") else None,
                text="",
                url=f"https://x.com/{u['username']}" if u.get("username") else None,
                created_at=seen,
                answers=target,
                root=target,
            )
            for u in page.get("data") or []
            if isinstance(u, dict) and "id" in u and str(u["id"]) != self._user_id()
        ]
        return InboxPage(items, (page.get("meta") or {}).get("next_token") or None)

    def _tier_refusal(self, response: requests.Response) -> str:
        """X's 403 for an endpoint the app's access level lacks, named by the configured tier."""
        body = _body(response)
        reason = body.get("reason") if isinstance(body, dict) else None
        why = f"403 {reason or _problem(response)}"
        tier = (self.account.get("tier") or "free").lower()
        if tier == "free":
            return (
                f"X's free API tier cannot read mentions ({why}): move the app to Basic or above "
                "in the developer portal, then set `tier: basic` in the account's config"
            )
        return (
            f"X refused to read mentions ({why}) although the config says `tier: {tier}`: "
            "check the app's access level in the developer portal"
        )

    # -- reconciliation ---------------------------------------------------------------------------
    def lookup(self, part: OutgoingPart, since: datetime) -> Published | None:
        if part.repost:
            return self._find_retweet(self.resolve_reply(part.repost, "repost").remote_id, since)
        wanted = comparable(part.text)
        fields = "created_at,text,conversation_id,in_reply_to_user_id"
        for tweet in self._recent_tweets(since, fields, "post"):
            shown = comparable(tweet["text"])
            if part.media and shown.endswith(_URL_MARK):  # X appends a link to the media
                shown = shown[: -len(_URL_MARK)].rstrip()
            if shown == wanted:
                return Published(str(tweet["id"]), self._url(str(tweet["id"])))
        return None

    def _user_id(self) -> str:
        if self._me is None:
            me = self._request("GET", "/2/users/me").json()["data"]
            self._me = str(me["id"])
            self.username = self.username or me.get("username")
        return self._me

    def verify(self) -> str:
        self._user_id()
        return f"@{self.username} (id {self._me})"

    def close(self) -> None:
        self.client.session.close()


def comparable(text: str) -> str:
    """The text as X shows it back, made comparable: URLs masked (X swaps them for t.co links),
    HTML entities decoded, whitespace at the ends ignored."""
    text = html.unescape(text)
    out, pos = [], 0
    for url in twitter.extract_urls(text):
        out.append(text[pos : url.start])
        out.append(_URL_MARK)
        pos = url.end
    out.append(text[pos:])
    return "".join(out).strip()


def incoming(tweet: Mapping[str, Any], users: Mapping[str, Any], me: str) -> Incoming:
    """One post of the mentions timeline as an inbox item (``users``: ``includes.users`` by id;
    ``me``: the account's user id): a reply to one of ``me``'s posts is a reply, a quote a
    quote, anything else a mention; X's escaped ``&<>`` are decoded once."""
    refs = {str(r.get("type")): str(r.get("id")) for r in tweet.get("referenced_tweets") or []}
    replied, quoted = refs.get("replied_to"), refs.get("quoted")
    kind: str
    answers: str | None
    if replied and str(tweet.get("in_reply_to_user_id")) == me:
        kind, answers = "reply", replied
    elif quoted:
        kind, answers = "quote", quoted
    else:  # it names the account, answering someone else's post if any
        kind, answers = "mention", replied
    author = users.get(str(tweet.get("author_id"))) or {}
    handle = str(author.get("username") or tweet.get("author_id") or "")
    tweet_id = str(tweet["id"])
    created = tweet.get("created_at")
    return Incoming(
        remote_id=tweet_id,
        kind=kind,
        author_handle=handle,
        author_name=author.get("name") or None,
        author_url=f"https://x.com/{handle}" if author.get("username") else None,
        text=html.unescape(str(tweet.get("text") or "")),
        url=f"https://x.com/{handle if author.get('username') else 'i'}/status/{tweet_id}",
        created_at=(
            datetime.fromisoformat(created.replace("Z", "+00:00")).astimezone(UTC)
            if created
            else _snowflake_time(tweet_id)
        ),
        answers=answers,
        root=str(tweet["conversation_id"]) if tweet.get("conversation_id") else None,
    )


def _snowflake_time(tweet_id: str) -> datetime:
    """When a post was made, from its id (X's ids start with milliseconds since 2010-11-04)."""
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + 1_288_834_974_657) / 1000, UTC)


def _daily_exhausted(headers: Mapping[str, str]) -> datetime | None:
    """X's per-user 24-hour cap or the endpoint's 15-minute window used up: when it resets."""
    for prefix in ("x-user-limit-24hour", "x-rate-limit"):
        if headers.get(f"{prefix}-remaining") == "0":
            reset = headers.get(f"{prefix}-reset")
            if reset and reset.isdigit():
                return datetime.fromtimestamp(int(reset), UTC)
    return None


def _retry_at(headers: Mapping[str, str]) -> datetime | None:
    daily = _daily_exhausted(headers)
    if daily is not None:
        return daily
    reset = headers.get("x-rate-limit-reset")
    return datetime.fromtimestamp(int(reset), UTC) if reset and reset.isdigit() else None


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _detail(response: requests.Response) -> str:
    body = _body(response)
    if isinstance(body, dict):
        if body.get("detail"):
            return str(body["detail"])
        errors = body.get("errors") or []
        if errors and isinstance(errors[0], dict):
            return str(errors[0].get("message") or errors[0].get("detail") or errors[0])
    return f"HTTP {response.status_code}"


def _problem(response: requests.Response) -> str:
    """The last part of an RFC 7807 ``type``, e.g. ``client-forbidden`` (``""`` if none)."""
    body = _body(response)
    kind = body.get("type") if isinstance(body, dict) else None
    return str(kind).rstrip("/").rpartition("/")[2] if kind else ""


# X API "Response codes and errors" (docs.x.com/x-api/fundamentals/response-codes-and-errors):
# 403s that a person must fix in the developer portal (the app's Project, access level, or the
# kind of authentication), not the content.
AUTH_PROBLEMS = frozenset({"client-forbidden", "unsupported-authentication"})


def _raise_for(response: requests.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    detail = _detail(response)
    if status == 429:
        raise RateLimited(f"X's rate limit: {detail}", _retry_at(response.headers))
    if status == 401:
        raise AuthFailed(
            f"X refused the credentials (401): {detail}. Regenerate the keys in the developer portal"
        )
    if status == 403:
        duplicate = "duplicate" in detail.lower()
        if duplicate:
            raise Rejected(f"X refused a duplicate: {detail}", duplicate=True)
        if (
            _problem(response) in AUTH_PROBLEMS
            or "oauth" in detail.lower()
            or "permission" in detail.lower()
            or "not permitted" in detail.lower()
        ):
            raise AuthFailed(f"X refused (403): {detail}")
        raise Rejected(f"X refused the post (403): {detail}")
    if status >= 500:
        raise Transient(f"X answered {status}: {detail}")
    raise Rejected(f"X refused the post ({status}): {detail}")


@contextmanager
def _mapped(*, sending: bool) -> Iterator[None]:
    """tweepy's and requests' exceptions → ours. A failure after a POST left is in doubt."""
    try:
        yield
    except tweepy.HTTPException as exc:
        response = exc.response
        if sending and response.status_code >= 500:
            raise InDoubt(f"X answered {response.status_code} while posting") from exc
        _raise_for(response)
        raise Transient(f"X answered {response.status_code}") from exc
    except requests.exceptions.ConnectTimeout as exc:
        raise Transient("cannot connect to X (timeout)") from exc
    except requests.exceptions.ConnectionError as exc:
        text = str(exc)
        if (
            not sending
            or "Connection refused" in text
            or "Failed to establish a new connection" in text
        ):
            raise Transient("cannot connect to X") from exc
        raise InDoubt("the connection to X broke while posting") from exc
    except requests.exceptions.Timeout as exc:
        if sending:
            raise InDoubt("X did not answer in time while posting") from exc
        raise Transient("X did not answer in time") from exc
    except requests.RequestException as exc:
        raise Transient(f"cannot reach X: {type(exc).__name__}") from exc
