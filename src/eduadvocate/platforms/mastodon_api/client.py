"""Publishing to Mastodon through Mastodon.py (imported only here).

Exactly once through Mastodon's ``Idempotency-Key``: every part is sent with a key derived from
the delivery and the part, so sending it again (after a crash or a dropped answer) returns the
status created the first time instead of a second one. Mastodon keeps keys for an hour; past
that, :meth:`lookup` reads the account's recent statuses back (their plain-text source).

The inbox (``eduadvocate inbox pull``) reads ``/api/v1/notifications`` of types ``mention``,
``quote`` and ``reblog`` (a boost, stored as a ``repost``), page by page through its Link
header. A mention whose status replies to one of the account's own statuses is a reply. A reply
that names nobody, or that answers someone else's reply, makes no notification for the account,
so each published status's context is read too (``/api/v1/statuses/:id/context``, its
descendants, the account's own left out). Favourites are engagement, counted by ``metrics
pull``; follows are about no post.

The instance's character limit is read from ``/api/v2/instance`` once per run and enforced before
sending. Mastodon.py's exceptions are mapped to the project's here, and nothing from the request
(the token) ever goes into a message.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import IO, Any

from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from eduadvocate.config.model import AccountConfig
from eduadvocate.core.clock import Clock, system_clock
from eduadvocate.core.counts import Counts
from eduadvocate.platforms.posturl import post_address
from eduadvocate.platforms.publishing import (
    Attachment,
    AuthFailed,
    Backoff,
    InboxPage,
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
from eduadvocate.platforms.textcount.unicode import mastodon_length, mastodon_prepared

VIDEO_TIMEOUT_S = 300  # default ``video_timeout``: how long a video may take to process
# Between polls of a file still processing: quick at first (a short clip takes seconds), then
# every 10 s. The last delay repeats.
POLL_DELAYS_S: tuple[float, ...] = (0.5, 1, 2, 4, 8, 10)
IDEMPOTENCY_WINDOW = timedelta(minutes=50)  # Mastodon keeps keys 1 h; stay well inside it
TIMEOUT_S = 30


class MastodonPublisher(Publisher):
    def __init__(self, account: AccountConfig) -> None:
        self.account = account
        # (``media_timeout``: its first name, still read)
        self.video_timeout = account.get_positive_int(
            "video_timeout", account.get_positive_int("media_timeout", VIDEO_TIMEOUT_S)
        )
        instance = account.get("instance") or ""
        self.client = Mastodon(
            access_token=account.secret("access_token"),
            api_base_url=instance.rstrip("/"),
            ratelimit_method="throw",
            request_timeout=TIMEOUT_S,
            version_check_mode="none",
        )
        self._limit: int | None = None
        self._me: str | None = None
        self._version_known = False
        # How old an attempt is decides between resending under its key and reading back: the
        # dispatcher sets its own clock here (core.clock.Timed), the one ``since`` comes from.
        self.clock: Clock = system_clock

    @property
    def limit(self) -> int:
        if self._limit is None:
            with _mapped(self.client, sending=False):
                info = self.client.instance_v2()
            try:
                self._limit = int(info.configuration.statuses.max_characters)
            except (AttributeError, TypeError, ValueError):
                self._limit = self.account.get_int("limit", 500)
        return self._limit

    def publish(self, part: OutgoingPart) -> Published:
        if part.repost:
            return self._boost(part.repost)
        length = mastodon_length(part.text, part.content_warning or "")
        if length > self.limit:
            raise Rejected(f"{length} characters, the instance allows {self.limit}")
        media_ids = [self._upload(item) for item in part.media]
        # Sent as Mastodon stores it, so what was counted is what goes out and what lookup reads.
        warning = mastodon_prepared(part.content_warning or "") or None
        in_reply_to = part.reply_to
        if part.answers and part.index == 0:
            in_reply_to = self.resolve_reply(part.answers).remote_id
        quoted = None
        if part.quote:
            self._quotes_supported()
            quoted = self.resolve_reply(part.quote, "quote").remote_id
        with _mapped(self.client, sending=True):
            status = self.client.status_post(
                mastodon_prepared(part.text),
                in_reply_to_id=in_reply_to,
                media_ids=media_ids or None,
                spoiler_text=warning,
                language=part.language,
                idempotency_key=part.idempotency_key,
                quoted_status_id=quoted,
            )
        return Published(str(status.id), getattr(status, "url", None), hold_until=self._exhausted())

    def _version_read(self) -> None:
        """Read the instance's version once, where a failure is a clean error. Mastodon.py 2.3.3
        recurses without end when it could not read it: ``verify_minimum_version`` (which
        ``media_post`` and ``search_v2`` call) asks ``retrieve_mastodon_version`` again, which
        asks ``verify_minimum_version``, while the instance cannot be reached."""
        if self._version_known:
            return
        try:
            self.client.retrieve_mastodon_version(fail_hard=True)
        except MastodonError as exc:
            cause = exc.__cause__
            with _mapped(self.client, sending=False):
                if isinstance(cause, MastodonError):
                    raise cause from None
            raise Transient(f"cannot read the instance's version: {type(exc).__name__}") from exc
        self._version_known = True

    def _upload(self, item: Attachment) -> Any:
        """Upload one file and wait until the instance has processed it: a video or audio file
        is accepted at once (202, no ``url``) and processed in the background, ``GET
        /api/v1/media/:id`` answering 206 until it is done and 422 if it failed. Polled here
        within ``video_timeout`` seconds (a poll lost on the way is asked again), not with
        Mastodon.py's ``synchronous=True``, which waits without end and takes any error while it
        waits (a dropped connection too) for a file that cannot be processed. Nothing is posted yet: a file still processing at the
        deadline is Transient (the next run uploads it again; the instance deletes unused
        uploads), one the instance could not process is Rejected. A video's thumbnail goes in
        the same request (``thumbnail``, see :meth:`_thumbnail`)."""
        if not item.path.is_file():
            raise Rejected(f"cannot read the media file {item.path.name}")
        self._version_read()
        with (
            _mapped(self.client, sending=False),
            item.path.open("rb") as fh,
            self._thumbnail(item) as thumbnail,
        ):
            media = self.client.media_post(
                fh,
                mime_type=item.mime,
                description=item.alt,
                file_name=item.path.name,
                thumbnail=thumbnail,
                thumbnail_mime_type=item.thumbnail_mime if thumbnail else None,
            )
        timeout = self.video_timeout
        backoff = Backoff(time.monotonic() + timeout, POLL_DELAYS_S)
        while getattr(media, "url", None) is None:
            if not backoff.wait():
                raise Transient(
                    f"the instance was still processing {item.path.name} after {timeout} s"
                    " (video_timeout): it is uploaded again at the next run"
                )
            try:
                with _mapped(self.client, sending=False):
                    media = self.client.media(media.id)
            except Transient:
                continue  # a poll lost on the way: ask again, within the deadline
            except Rejected as exc:
                raise Rejected(f"the instance could not process {item.path.name}: {exc}") from exc
        return media.id

    @contextmanager
    def _thumbnail(self, item: Attachment) -> Iterator[IO[bytes] | None]:
        """The video's thumbnail, open for Mastodon.py to send as the ``thumbnail`` form part of
        ``POST /api/v2/media`` (docs.joinmastodon.org/methods/media; added in Mastodon 3.2.0).
        Mastodon.py refuses it to an older instance, and a file without a type, with errors our
        mapping would take for passing ones and retry for ever: Rejected here instead, with the
        reason, and nothing uploaded."""
        if item.thumbnail is None:
            yield None
            return
        if not item.thumbnail.is_file() or item.thumbnail_mime is None:
            raise Rejected(f"cannot read the thumbnail {item.thumbnail.name} as an image")
        if not self.client.verify_minimum_version("3.2.0", cached=True):
            raise Rejected(
                f"a video thumbnail needs Mastodon 3.2 or later; {self.client.api_base_url}"
                f" runs {self.client.mastodon_major}.{self.client.mastodon_minor}"
            )
        with item.thumbnail.open("rb") as fh:
            yield fh

    def _boost(self, url: str) -> Published:
        """A boost (``POST /api/v1/statuses/:id/reblog``) of the status at ``url`` as this
        instance knows it. Mastodon keeps one boost per account and status: boosting again
        answers the boost made before, so a repeat after a crash creates nothing."""
        target = self.resolve_reply(url, "boost").remote_id
        with _mapped(self.client, sending=True):
            boost = self.client.status_reblog(target)
        return Published(str(boost.id), _boosted_url(boost, url), hold_until=self._exhausted())

    def _quotes_supported(self) -> None:
        """Quote posts came with Mastodon 4.5; an older server would drop ``quoted_status_id``
        and post the text alone, so it is refused before anything is sent."""
        with _mapped(self.client, sending=False):
            info = self.client.instance_v2()
        version = str(getattr(info, "version", "") or "")
        numbers = [int(n) for n in re.findall(r"\d+", version.split("+", maxsplit=1)[0])[:2]]
        if len(numbers) < 2 or tuple(numbers) < (4, 5):
            raise Rejected(
                f"quote posts need Mastodon 4.5 or later; {self.client.api_base_url} runs"
                f" {version[:40] or 'an unknown version'}"
            )

    def resolve_reply(self, url: str, what: str = "answer") -> ReplyTarget:
        """A status address, of this instance or another, as this instance's id for it: the
        instance's search with ``resolve`` (it fetches a remote status itself, under its own
        rules; nothing is fetched from the address here). Read-only and idempotent."""
        address = post_address(url)
        if address is None or address.platform != "mastodon":
            raise Rejected(f"{url[:200]} is not the address of a Mastodon status")
        self._version_read()
        with _mapped(self.client, sending=False):
            found = self.client.search_v2(url, resolve=True, result_type="statuses")
        for status in getattr(found, "statuses", None) or ():
            seen = {str(getattr(status, key, None) or "").rstrip("/") for key in ("url", "uri")}
            if url.rstrip("/") in seen:
                return ReplyTarget(str(status.id))
        raise Rejected(
            f"the status to {what} ({url[:200]}) cannot be found from {self.client.api_base_url}:"
            " deleted, private, or on an instance this one cannot reach"
        )

    def _exhausted(self) -> datetime | None:
        """Mastodon's X-RateLimit-Remaining reached 0: nothing more until its reset."""
        remaining = getattr(self.client, "ratelimit_remaining", None)
        reset = getattr(self.client, "ratelimit_reset", None)
        if remaining == 0 and isinstance(reset, (int, float)):
            return datetime.fromtimestamp(reset, UTC)
        return None

    def lookup(self, part: OutgoingPart, since: datetime) -> Published | None:
        if part.repost:  # the status's own "reblogged" flag says whether we boosted it
            try:
                target = self.resolve_reply(part.repost, "boost").remote_id
                with _mapped(self.client, sending=False):
                    boosted = bool(getattr(self.client.status(target), "reblogged", False))
                # Boosting again answers the boost made before: its id, nothing new.
                return self._boost(part.repost) if boosted else None
            except (Transient, RateLimited) as exc:
                raise InDoubt(f"cannot reach the instance to reconcile: {exc}") from exc
        if self.clock() - since < IDEMPOTENCY_WINDOW:
            # Sending again with the same key is the platform's own reconciliation.
            try:
                return self.publish(part)
            except (Transient, RateLimited) as exc:
                raise InDoubt(f"cannot reach the instance to reconcile: {exc}") from exc
        with _mapped(self.client, sending=False):
            statuses = self.client.account_statuses(self._who(), limit=40)
            for status in statuses:
                created = status.created_at
                if created is not None and created.astimezone(UTC) < since:
                    break
                source = self.client.status_source(status.id)
                if source.text == mastodon_prepared(part.text):
                    return Published(str(status.id), getattr(status, "url", None))
        return None

    def metrics(self, remote_ids: Sequence[str]) -> dict[str, Counts]:
        """Favourites, boosts and replies, one status at a time (``metrics_batch`` 1); a status
        deleted on the instance is left out."""
        out = {}
        for remote_id in remote_ids:
            try:
                with _mapped(self.client, sending=False):
                    status = self.client.status(remote_id)
            except Rejected:  # 404: gone
                continue
            except AuthFailed as exc:
                if "(403)" in str(exc):  # the token lacks the read:statuses scope
                    raise MetricsRefused(f"cannot read the account's posts: {exc}") from exc
                raise
            out[remote_id] = Counts(
                likes=status.favourites_count,
                reposts=status.reblogs_count,
                replies=status.replies_count,
            )
        return out

    inbox_source = "notifications"

    def inbox(self, cursor: str | None, limit: int) -> InboxPage:
        """A page of mentions, quotes and boosts, newest first; the cursor is the Link header's
        ``max_id`` (see the module)."""
        with _mapped(self.client, sending=False):
            me = self._who()
            page = self.client.notifications(
                types=list(INBOX_TYPES), max_id=cursor, limit=max(1, min(limit, 80))
            )
            following = self.client.get_pagination_info(page, "next") if page else None
        items = [
            _boost(n) if n.type == "reblog" else _incoming(n, me)
            for n in page
            if n.type in INBOX_TYPES and n.status
        ]
        after = following.get("max_id") if following else None
        return InboxPage(items, str(after) if after is not None else None)

    reads_replies = True

    def replies(self, target: str, cursor: str | None, limit: int) -> InboxPage:
        """Every status under ``target`` at any depth (its context's descendants): a reply to
        someone else's reply, or one naming nobody, notifies nobody here. The account's own
        statuses are left out. One page; a status deleted since (404) has none."""
        with _mapped(self.client, sending=False):
            me = self._who()
            try:
                context = self.client.status_context(target)
            except MastodonNotFoundError:
                return InboxPage([], None)
        items = [
            _from_status(s, "reply", s.in_reply_to_id, target)
            for s in context.descendants
            if str(s.account.id) != me
        ]
        return InboxPage(items, None)

    def _who(self) -> str:
        """The account's own id (asked once)."""
        if self._me is None:
            self._me = str(self.client.account_verify_credentials().id)
        return self._me

    def verify(self) -> str:
        with _mapped(self.client, sending=False):
            me = self.client.account_verify_credentials()
        return f"@{me.acct} on {self.client.api_base_url}, limit {self.limit} characters"


INBOX_TYPES = ("mention", "quote", "reblog")


def _boost(n: Any) -> Incoming:
    """A boost of one of the account's statuses: a ``repost`` answering it. The notification
    names the booster and our status, not the boost's own status, so the item's id is the
    booster's and the status's: boosting again after an undo is not a second item."""
    created = n.created_at
    if isinstance(created, datetime) and created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    who = n.account
    return Incoming(
        remote_id=f"reblog:{who.id}:{n.status.id}",
        kind="repost",
        author_handle=str(who.acct),
        author_name=getattr(who, "display_name", None) or None,
        author_url=getattr(who, "url", None),
        text="",
        url=getattr(who, "url", None),
        created_at=created.astimezone(UTC),
        answers=str(n.status.id),
    )


def _boosted_url(boost: Any, url: str) -> str | None:
    """A boost has no page of its own: the boosted status's address is shown."""
    original = getattr(boost, "reblog", None)
    return str(getattr(original, "url", None) or url) or None


def _incoming(n: Any, me: str) -> Incoming:
    status = n.status
    replying_to = getattr(status, "in_reply_to_id", None)
    to_us = str(getattr(status, "in_reply_to_account_id", None) or "") == me
    if n.type == "quote":
        kind = "quote"
        quoted = getattr(getattr(status, "quote", None), "quoted_status", None)
        answers = getattr(quoted, "id", None)
    else:
        kind = "reply" if replying_to is not None and to_us else "mention"
        answers = replying_to
    return _from_status(status, kind, answers, None, n.created_at)


def _from_status(
    status: Any, kind: str, answers: Any, root: str | None, noticed: Any = None
) -> Incoming:
    """A status someone else wrote as an inbox item; its HTML read as text."""
    created = status.created_at or noticed
    if isinstance(created, datetime) and created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    author = status.account
    return Incoming(
        remote_id=str(status.id),
        kind=kind,
        author_handle=str(author.acct),
        author_name=getattr(author, "display_name", None) or None,
        author_url=getattr(author, "url", None),
        text=plain(str(getattr(status, "content", "") or "")),
        url=getattr(status, "url", None) or getattr(status, "uri", None),
        created_at=created.astimezone(UTC),
        answers=str(answers) if answers is not None else None,
        root=root,
    )


class _Plain(HTMLParser):
    """A status's HTML as the text a person reads: paragraphs and line breaks kept, tags
    dropped, entities decoded (Mastodon sends ``content`` as HTML)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.out.append("\n")
        elif tag == "p" and self.out:
            self.out.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.out.append(data)


def plain(content: str) -> str:
    parser = _Plain()
    parser.feed(content)
    parser.close()
    return "".join(parser.out).strip()


@contextmanager
def _mapped(client: Mastodon, *, sending: bool) -> Iterator[None]:
    """Mastodon.py's exceptions → ours. ``sending``: the request may create something, so a
    failure after it left us is in doubt rather than safe to retry."""
    try:
        yield
    except MastodonRatelimitError as exc:
        reset = getattr(client, "ratelimit_reset", None)
        retry_at = datetime.fromtimestamp(reset, UTC) if isinstance(reset, (int, float)) else None
        raise RateLimited("the instance's rate limit is reached", retry_at) from exc
    except MastodonUnauthorizedError as exc:
        raise AuthFailed(
            "the instance refused the access token (401): create a new one under Preferences → Development"
        ) from exc
    except MastodonNotFoundError as exc:
        raise Rejected(f"not found on the instance: {_reason(exc)}") from exc
    except MastodonServerError as exc:
        if sending:
            raise InDoubt(
                f"the instance answered {_status(exc)} while posting: {_reason(exc)}"
            ) from exc
        raise Transient(f"the instance answered {_status(exc)}: {_reason(exc)}") from exc
    except MastodonAPIError as exc:
        status = _status(exc)
        if status in (401, 403):
            raise AuthFailed(f"the instance refused ({status}): {_reason(exc)}") from exc
        raise Rejected(f"the instance refused the post ({status}): {_reason(exc)}") from exc
    except MastodonNetworkError as exc:
        if sending and not _never_sent(exc):
            raise InDoubt(
                f"the connection to the instance broke while posting: {_cause(exc)}"
            ) from exc
        raise Transient(f"cannot reach the instance: {_cause(exc)}") from exc
    except MastodonError as exc:
        raise Transient(f"Mastodon.py: {type(exc).__name__}") from exc


def _status(exc: MastodonAPIError) -> Any:
    return exc.args[1] if len(exc.args) > 1 else "an error"


def _reason(exc: MastodonAPIError) -> str:
    parts = [str(a) for a in exc.args[2:] if a]
    return "; ".join(parts) or type(exc).__name__


def _never_sent(exc: MastodonNetworkError) -> bool:
    """A refused or unresolvable connection: the request never reached the instance."""
    import requests

    cause = exc.__cause__ or exc.__context__
    return isinstance(
        cause, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError)
    ) or (
        isinstance(cause, requests.exceptions.ConnectionError)
        and any(
            s in str(cause)
            for s in (
                "Connection refused",
                "Failed to establish a new connection",
                "Name or service not known",
            )
        )
    )


def _cause(exc: MastodonNetworkError) -> str:
    cause = exc.__cause__ or exc.__context__
    return type(cause).__name__ if cause else "network error"
