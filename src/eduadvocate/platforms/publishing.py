"""The publishing side of a platform adapter: what dispatch hands an adapter, what it gets back,
and the one set of errors every adapter maps its SDK's exceptions to (inside the adapter, with
``raise … from exc``), so dispatch decides retries without knowing any SDK.

Messages of these errors must never contain a secret: adapters build them from the platform's
error text and status, never from request headers or the client's repr.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    import requests

from eduadvocate.core.counts import Counts
from eduadvocate.core.errors import ErrorKind
from eduadvocate.platforms.textcount.facets import Facet


@dataclass(frozen=True, slots=True)
class Attachment:
    path: Path
    alt: str | None
    mime: str | None
    relative: str = ""  # as written in the post: relative to the campaign folder
    # A video's captions files: (language or None, absolute path, as written); ``no_captions``:
    # the post said ``captions: none``.
    captions: tuple[tuple[str | None, Path, str], ...] = ()
    no_captions: bool = False
    # A video's thumbnail (an image; absolute path, through the same media-folder lock) and its
    # type as read from its first bytes.
    thumbnail: Path | None = None
    thumbnail_mime: str | None = None


@dataclass(frozen=True, slots=True)
class OutgoingPart:
    """One part of a delivery, ready to send."""

    delivery_key: str
    index: int
    count: int
    text: str
    idempotency_key: str  # deterministic per delivery and part
    reply_to: str | None = None  # remote id of the previous part
    root: str | None = None  # remote id of the first part
    media: tuple[Attachment, ...] = ()
    facets: tuple[Facet, ...] = ()
    content_warning: str | None = None
    language: str | None = None
    card_url: str | None = None  # show this link as a card (Bluesky's external embed)
    link: str | None = None  # the post's link (first part only): Facebook sends it as ``link``
    # The address of another's post the delivery answers (``reply_to:``), on every part: the
    # first part replies to it (``Publisher.resolve_reply``), the later ones to our previous
    # part as in any thread.
    answers: str | None = None
    # The address of another's post the delivery reposts (its one part, with no text) or quotes
    # (its first part embeds it; a quote's later parts follow it as in any thread).
    repost: str | None = None
    quote: str | None = None
    reel: bool = False  # ``facebook: {as: reel}``: Facebook posts the video as a Reel


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """The post a reply answers, as the account's own server knows it: ``remote_id`` is what a
    reply names (Bluesky: the at:// URI; Mastodon: the status id on our instance), ``root`` its
    thread's first post, and ``version``/``root_version`` what Bluesky's strong refs add (CIDs)."""

    remote_id: str
    root: str | None = None
    version: str | None = None
    root_version: str | None = None


@dataclass(frozen=True, slots=True)
class Published:
    remote_id: str
    url: str | None = None
    hold_until: datetime | None = (
        None  # the platform said this was the last post allowed until then
    )
    warning: str | None = None  # it went out, but something was left out (a link card, say)


@dataclass(frozen=True, slots=True)
class Incoming:
    """A reply, mention, quote, comment or repost another account made, as a platform reports
    it. ``answers`` is the remote id of the post it answers (a reply's parent, a quote's or a
    repost's subject) and ``root`` its thread's first post, whoever wrote them: the caller
    matches them to ours."""

    remote_id: str
    kind: str  # reply | mention | quote | comment | repost
    author_handle: str
    author_name: str | None
    author_url: str | None
    text: str
    url: str | None
    created_at: datetime
    answers: str | None = None
    root: str | None = None


@dataclass(frozen=True, slots=True)
class InboxPage:
    """One page of an account's inbox, newest first; ``cursor`` asks for the next (older) page,
    None when there is no more."""

    items: list[Incoming]
    cursor: str | None


class PublishError(Exception):
    """Base of the errors adapters raise; ``kind`` is stored in the ledger."""

    kind: ErrorKind = ErrorKind.ERROR
    retryable = False


class RateLimited(PublishError):
    """Try again later; ``retry_at`` is when the platform said, if it did."""

    kind = ErrorKind.RATE_LIMITED
    retryable = True

    def __init__(self, message: str, retry_at: datetime | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class AuthFailed(PublishError):
    """The credentials are wrong, expired or lack a permission: a person must act."""

    kind = ErrorKind.AUTH


class Rejected(PublishError):
    """The platform refused this content (too long, policy, invalid media, duplicate)."""

    kind = ErrorKind.REJECTED

    def __init__(self, message: str, *, duplicate: bool = False) -> None:
        super().__init__(message)
        self.duplicate = duplicate


class Transient(PublishError):
    """Network trouble or a server error before the platform acted: safe to retry."""

    kind = ErrorKind.TRANSIENT
    retryable = True


class InDoubt(PublishError):
    """The request may have been acted on (timeout or dropped connection after sending)."""

    kind = ErrorKind.IN_DOUBT


class MetricsRefused(PublishError):
    """The platform will not give counts to this account (its tier or a missing permission):
    reported once, then not asked again until the user says so."""

    kind = ErrorKind.REFUSED


class InboxUnsupported(PublishError):
    """This platform's inbox cannot be read yet (said once per pull, not an error)."""

    kind = ErrorKind.REFUSED


class InboxRefused(PublishError):
    """The platform will not let this account read its inbox (its API tier, a missing
    permission): reported by the pull, as ``metrics pull`` reports a refusal, and not an error;
    the message names what a person must change."""

    kind = ErrorKind.REFUSED


class Publisher(ABC):
    """A connected client for one account."""

    @abstractmethod
    def publish(self, part: OutgoingPart) -> Published:
        """Send one part. Raises one of the errors above."""

    @abstractmethod
    def lookup(self, part: OutgoingPart, since: datetime) -> Published | None:
        """Find a part that may already have been published since ``since`` (reconciliation).

        Returns it, or None if it is certainly not there; raises :class:`InDoubt` if the platform
        cannot tell (then the delivery becomes ``unknown`` and nothing is re-sent)."""

    def verify(self) -> str:
        """Check the credentials without posting; returns a description of the account."""
        return "ok"

    def resolve_reply(self, url: str, what: str = "answer") -> ReplyTarget:
        """The post at ``url`` (a ``reply_to:``, ``repost:`` or ``quote:`` address), asked of
        the account's own server: read-only and idempotent, so repeating it after a crash is
        safe. A post that cannot be found (deleted, unknown host) is :class:`Rejected` with the
        reason; ``what`` (answer, repost, quote) is what the messages say is done with it."""
        raise Rejected("replies are not supported on this platform yet")

    def schedule(self, part: OutgoingPart, at: datetime) -> Published:
        """Hand a post to the platform's own scheduler, to go live at ``at`` (Facebook Pages)."""
        raise Rejected("this platform has no native scheduling")

    def can_schedule(self, part: OutgoingPart) -> bool:
        """Whether :meth:`schedule` takes this part: text only, unless the platform says more
        (a Facebook Page schedules a video too)."""
        return not part.media

    def delete(self, remote_id: str) -> bool:
        """Delete a post (used to cancel or move one waiting in the platform's scheduler).
        Returns False when the platform no longer had it (someone deleted it there already)."""
        raise Rejected("deleting is not supported for this platform")

    def scheduled_ids(self) -> set[str] | None:
        """Ids of the posts waiting in the platform's scheduler (None: not supported)."""
        return None

    metrics_batch = 1  # how many ids one ``metrics`` call can take

    def metrics(self, remote_ids: Sequence[str]) -> dict[str, Counts]:
        """Current counts of these published posts (at most ``metrics_batch``); a post the
        platform no longer has is left out. Raises :class:`MetricsRefused` if the account may not
        read them, or the usual errors (rate limits: :class:`RateLimited`)."""
        raise MetricsRefused("this platform reports no engagement counts")

    inbox_source = (
        ""  # the name of what ``inbox`` reads (its cursor is kept per account and source)
    )

    def inbox(self, cursor: str | None, limit: int) -> InboxPage:
        """One page (at most ``limit`` items asked for) of replies, mentions, quotes and
        comments, newest first, from ``cursor`` (None: the newest). Raises
        :class:`InboxUnsupported` where the platform's inbox cannot be read yet."""
        raise InboxUnsupported("reading this platform's inbox is not supported yet")

    reads_replies = False  # ``replies`` is implemented: the pull asks it for each post

    def replies(self, target: str, cursor: str | None, limit: int) -> InboxPage:
        """One page (at most ``limit`` asked for) of what others wrote under one of this
        account's published posts (``target``: the remote id of a delivery's first part): the
        replies in its thread at any depth, or its comments. The account's own posts are left
        out. Any order; ``cursor`` as for ``inbox``. This finds the replies that notify nobody
        (a reply to a reply, a comment) and the comments of platforms with no notifications
        list. Raises :class:`InboxUnsupported` where the platform cannot read them."""
        raise InboxUnsupported("reading the replies under a post is not supported yet")

    def close(self) -> None:  # noqa: B027 - optional hook: most publishers hold nothing to release
        """Release connections."""


@contextmanager
def opened(item: Attachment) -> Iterator[BinaryIO]:
    """A media file opened for upload; one that vanished since check is a rejection, not a crash."""
    try:
        fh = item.path.open("rb")
    except OSError as exc:
        raise Rejected(f"cannot read the media file {item.path.name}: {exc.strerror}") from exc
    with fh:
        yield fh


def settle_environment(session: requests.Session, url: str) -> None:
    """Read proxy and CA settings from the environment once per session, not per request
    (``requests`` scans the whole environment and ~/.netrc on every request while ``trust_env``
    is on, which adds up over hundreds of posts)."""
    import os

    import requests as _requests

    session.proxies.update(_requests.utils.get_environ_proxies(url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False


class Backoff:
    """The waits between reads of something a platform is still processing (a video): each of
    ``delays`` in turn, the last repeating, none ending past ``deadline`` (``time.monotonic()``).
    """

    def __init__(self, deadline: float, delays: Sequence[float]) -> None:
        self.deadline = deadline
        self._delays = iter(delays)
        self._delay = next(self._delays)

    def wait(self) -> bool:
        """Sleep until the next read; False, without sleeping, where it would end past the
        deadline (the caller gives up: the platform is still processing)."""
        if time.monotonic() + self._delay > self.deadline:
            return False
        time.sleep(self._delay)
        self._delay = next(self._delays, self._delay)
        return True
