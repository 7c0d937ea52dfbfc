"""Publishing to Instagram through the Graph API (``platforms.graph_api``).

Instagram fetches media itself from a public URL: each file's URL is the account's
``media_base_url`` joined with its path in the campaign folder. A post is a media container
(one image or video, or a carousel of 2–10), polled until ``FINISHED``, then ``media_publish``:
only that last call creates the post, and an attempt in doubt is looked up among the account's
recent media by its caption. The 24-hour publishing quota is read first, and a full quota defers
the delivery instead of failing it.

Processing (Instagram fetches the file, then transcodes a video): each item of a carousel is
waited for before the carousel is made, so a failure names its file, and the whole post waits at
most ``video_timeout`` seconds. A container still ``IN_PROGRESS`` then is left unpublished (a
container nobody publishes expires in 24 hours) and the delivery fails Transient: nothing was
posted, so the next run makes new containers. A lost status read is read again within the
deadline. A container in ``ERROR`` carries a documented subcode in ``status``, mapped as the
same subcode answered directly would be (``graph_api.instagram_error``), with what to change
in the file (:data:`SUBCODES`); ``EXPIRED`` is Transient.

``inbox pull`` reads the comments under each published media (:meth:`InstagramPublisher.replies`)
and the replies to them; the account's own are left out. Instagram has no list of notifications
the API may read, so ``inbox`` stays unsupported. Graph gives a comment no address: an item's
link is its media's address with ``c/{comment-id}/`` (a reply: ``c/{comment-id}/r/{reply-id}/``)
added, which ``reply_to:`` reads back (``platforms.posturl``).

Answering (``reply_to:``, :meth:`InstagramPublisher.resolve_reply`): a media is answered with a
comment (``POST /{ig-media-id}/comments``), a comment with a reply
(``POST /{ig-comment-id}/replies`` on the top comment: Instagram keeps replies one level deep);
text only, no publishing quota, and the token needs ``instagram_manage_comments``. An answer in
doubt is looked up by the account's username and its exact text in that thread.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from eduadvocate.config.model import AccountConfig
from eduadvocate.core.counts import Counts
from eduadvocate.platforms.graph_api import (
    MAX_LIMIT,
    QUOTA_RECHECK,
    Graph,
    comments_page,
    denied,
    graph_cause,
    instagram_error,
    may_not_comment,
    missing_object,
    next_cursor,
    parse_time,
)
from eduadvocate.platforms.instagram.media import media_url
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
    PublishError,
    RateLimited,
    Rejected,
    ReplyTarget,
    Transient,
)

WHAT = "Instagram"
IG_METRICS = "reach,likes,comments,saved,shares"  # valid for feed posts and reels (v21)
VIDEO_TIMEOUT_S = 300  # default ``video_timeout``: how long a post's containers may process
# Between status reads of a container still IN_PROGRESS: quick at first (an image, a short clip
# take seconds), then every 5 s; the last delay repeats, and none runs past the deadline.
POLL_DELAYS_S: tuple[float, ...] = (0.5, 1, 2, 4, 5)
REPLY_FIELDS = "id,username,text,timestamp"
# Replies come nested in the comment listing (one request a page) rather than from
# ``/{comment-id}/replies`` for every comment (one more request per comment, most of them empty);
# only a comment whose nested replies say ``paging.next`` is followed on that edge.
COMMENT_FIELDS = f"{REPLY_FIELDS},replies{{{REPLY_FIELDS}}}"
READ_COMMENTS = "instagram_manage_comments"  # with instagram_basic, which publishing needs
MAX_REPLY_PAGES = 100  # of one comment's replies: 10,000
MEDIA_PAGES = 20  # of the account's media searched for a shortcode: its 2,000 newest
LOOKUP_PAGES = 5  # of a media's newest comments searched for an answer in doubt
UNKNOWN_EDGE = 2500  # "Unknown path components: /comments": asked of a comment, not a media
# A container in ERROR: the IG Container reference says ``status`` is then the error subcode;
# Graph sends it in a sentence ("Error: Media upload has failed with error code 2207026").
_STATUS_CODE = re.compile(r"\b(2207\d{3})\b")
# Reels, the kind a video is published as: Meta's "Reel specifications" in the IG User Media
# reference (developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media),
# as quoted at justin.searls.co/posts/a-script-to-validate-videos-for-the-instagram-api.
REELS_SPEC = (
    "MP4 or MOV with the moov atom at the front (ffmpeg -movflags +faststart) and no edit lists,"
    " H.264 or HEVC video (progressive, 4:2:0) at 23-60 fps and at most 1920 px wide, AAC audio"
    " at most 48 kHz, 3 s to 15 min, at most 300 MB"
)
NEW_CONTAINER = "nothing was posted; the next run tries again with a new container"
# Each documented Content Publishing subcode that names a file's problem (Instagram Platform
# "Error Codes", developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/
# error-codes: its "User Message" and "Recommended Solution"): what went wrong, and what the
# volunteer can do. Whether it is retried is ``graph_api.instagram_error``'s (Transient for the
# temporary ones, whose fix says so; Rejected for the file's own). {url}: the address fetched.
SUBCODES: dict[int, tuple[str, str]] = {
    2207001: ("Instagram server error", NEW_CONTAINER),
    2207003: (
        "downloading it from {url} took too long",
        f"{NEW_CONTAINER} (a smaller file, or a faster host for media_base_url, helps)",
    ),
    2207004: ("the image is over 8 MiB", "make it smaller"),
    2207005: ("the image format is not supported", "save it as a JPEG"),
    2207009: ("the image's aspect ratio is not supported", "crop it to between 4:5 and 1.91:1"),
    2207010: ("the caption is over 2,200 characters", "shorten the post's text"),
    2207020: ("the media expired before it was published", NEW_CONTAINER),
    2207026: (
        "the video format is not supported",
        f"re-encode it as Instagram's Reels specification asks: {REELS_SPEC}",
    ),
    2207032: ("Instagram failed to create the media", NEW_CONTAINER),
    2207052: (
        "Instagram could not fetch it from {url}",
        "publish the campaign folder at media_base_url so that this address serves the file",
    ),
    2207053: ("unknown upload error", NEW_CONTAINER),
    2207057: ("the thumbnail offset is outside the video", "check the video's length"),
}


class InstagramPublisher(Publisher):
    def __init__(self, account: AccountConfig) -> None:
        self.account = account
        self.user = account.get("ig_user_id") or ""
        self.base = account.get("media_base_url") or ""
        self.graph = Graph(account)
        self.video_timeout = account.get_positive_int("video_timeout", VIDEO_TIMEOUT_S)
        self._username: str | None = None  # the account's own, to leave its comments out
        self._permalinks: dict[str, str | None] = {}

    def publish(self, part: OutgoingPart) -> Published:
        if part.answers:
            return self._answer(part, self.resolve_reply(part.answers))
        self._check_quota()
        if not part.media:
            raise Rejected("Instagram needs an image or a video")
        deadline = time.monotonic() + self.video_timeout
        if len(part.media) == 1:
            item = part.media[0]
            container = self._container(item, caption=part.text)
            self._wait_finished(container, _relative(item), self._url(item), deadline)
        else:
            # Each item is processed before the carousel is made of them: a failure names its
            # file, and the carousel container is made of finished items only.
            children = []
            for item in part.media:
                child = self._container(item, carousel_item=True)
                self._wait_finished(child, _relative(item), self._url(item), deadline)
                children.append(child)
            with self.graph.mapped(sending=False, what=WHAT):
                created = self.graph.post(
                    f"{self.user}/media",
                    {
                        "media_type": "CAROUSEL",
                        "children": ",".join(children),
                        "caption": part.text,
                    },
                )
            container = str(created["id"])
            self._wait_finished(container, "the carousel", None, deadline)
        with self.graph.mapped(sending=True, what=WHAT):
            result = self.graph.post(f"{self.user}/media_publish", {"creation_id": container})
        media_id = str(result["id"])
        return Published(media_id, self._permalink(media_id))

    def resolve_reply(self, url: str, what: str = "answer") -> ReplyTarget:
        """The media or comment at ``url``: ``remote_id`` is where the answer goes (the media,
        or the top comment of the comment's thread), ``root`` the media. Read-only: a comment is
        read by its id (one of another account's media is not this token's to read), a media
        found by its shortcode among the account's own."""
        address = post_address(url)
        if address is None or address.platform != "instagram" or address.post is None:
            raise Rejected(f"{url} is not the address of an Instagram media or comment")
        if address.comment is None:
            media = self._media_by_shortcode(address.post)
            return ReplyTarget(media, root=media)
        asked = address.reply or address.comment
        comment = self._read(asked, "id,parent_id,media", "the comment it answers")
        media = str((comment.get("media") or {}).get("id") or "")
        if not media:
            raise Rejected(f"{WHAT} gives no media for the comment {asked}")
        return ReplyTarget(str(comment.get("parent_id") or comment.get("id") or asked), root=media)

    def _read(self, object_id: str, fields: str, what: str) -> dict[str, Any]:
        """``GET /{object_id}``; one that is gone (or not this account's) is one line, as is a
        token that may not read comments (answering needs the same permission)."""
        try:
            with self.graph.mapped(sending=False, what=WHAT):
                return self.graph.get(object_id, fields=fields)
        except AuthFailed as exc:
            if denied(exc):
                raise may_not_comment(exc, WHAT, READ_COMMENTS) from exc
            raise
        except Rejected as exc:
            if not missing_object(exc):
                raise
        with self.graph.mapped(sending=False, what=WHAT):
            self.graph.get(self.user, fields="id")  # the token still reads the account: it is gone
        raise Rejected(f"{what} is gone from {WHAT} (deleted, or not under this account's media)")

    def _media_by_shortcode(self, shortcode: str) -> str:
        after: str | None = None
        for _ in range(MEDIA_PAGES):
            params = {"fields": "id,shortcode", "limit": str(MAX_LIMIT)}
            if after:
                params["after"] = after
            with self.graph.mapped(sending=False, what=WHAT):
                got = self.graph.get(f"{self.user}/media", **params)
            for media in got.get("data", []):
                if media.get("shortcode") == shortcode:
                    return str(media["id"])
            after = next_cursor(got, after)
            if after is None:
                break
        raise Rejected(
            f"the media {shortcode} is not among this account's {WHAT} media (deleted, or"
            " another account's)"
        )

    def _answer(self, part: OutgoingPart, target: ReplyTarget) -> Published:
        if part.media:  # check refuses it; this is the second lock
            raise Rejected("a comment on Instagram carries text only")
        edge = "comments" if target.remote_id == target.root else "replies"
        try:
            with self.graph.mapped(sending=True, what=WHAT):
                result = self.graph.post(f"{target.remote_id}/{edge}", {"message": part.text})
        except AuthFailed as exc:
            if denied(exc):
                raise may_not_comment(exc, WHAT, READ_COMMENTS) from exc
            raise
        comment_id = str(result["id"])
        return Published(comment_id, self._comment_link(target, comment_id))

    def _comment_link(self, target: ReplyTarget, comment_id: str) -> str | None:
        """The address this project gives a comment (the media's, ``c/ID/`` or ``c/ID/r/ID/``)."""
        media = target.root or target.remote_id
        if media not in self._permalinks:
            self._permalinks[media] = self._permalink(media)
        return comment_address(
            self._permalinks[media],
            target.remote_id if target.remote_id != media else None,
            comment_id,
        )

    def _lookup_answer(self, part: OutgoingPart, target: ReplyTarget) -> Published | None:
        """The account's own comment with exactly this text in the answer's thread: a comment's
        replies (oldest first, all of them), or a media's comments (newest first)."""
        on_media = target.remote_id == target.root
        edge, pages = ("comments", LOOKUP_PAGES) if on_media else ("replies", MAX_REPLY_PAGES)
        own = self._own_username()
        after: str | None = None
        for _ in range(pages):
            params = {"fields": REPLY_FIELDS, "limit": str(MAX_LIMIT)}
            if after:
                params["after"] = after
            with self.graph.mapped(sending=False, what=WHAT):
                got = self.graph.get(f"{target.remote_id}/{edge}", **params)
            for found in got.get("data", []):
                if (found.get("username") or "") == own and (
                    found.get("text") or ""
                ).strip() == part.text.strip():
                    comment_id = str(found["id"])
                    return Published(comment_id, self._comment_link(target, comment_id))
            after = next_cursor(got, after)
            if after is None:
                return None
        raise InDoubt(
            f"{WHAT}: more than {pages * MAX_LIMIT} comments to search; look for the answer there"
        )

    def _url(self, item: Attachment) -> str | None:
        return media_url(self.base, _relative(item))

    def _container(
        self, item: Attachment, *, caption: str | None = None, carousel_item: bool = False
    ) -> str:
        relative = _relative(item)
        url = self._url(item)
        if url is None:
            raise Rejected(f"{relative} cannot be mapped under media_base_url")
        data: dict[str, str] = {}
        if item.mime and item.mime.startswith("video/"):
            # No alt_text: Instagram takes it "for image posts", "Reels and stories are not
            # supported" (Content Publishing guide, developers.facebook.com/docs/instagram-
            # platform/content-publishing, March 2025).
            data.update(media_type="REELS" if not carousel_item else "VIDEO", video_url=url)
        else:
            data.update(alt_text=item.alt or "", image_url=url)
        if caption is not None:
            data["caption"] = caption
        if carousel_item:
            data["is_carousel_item"] = "true"
        try:
            with self.graph.mapped(sending=False, what=WHAT):
                created = self.graph.post(f"{self.user}/media", data)
        except (Rejected, Transient) as exc:  # an image is fetched while the request waits
            found = graph_cause(exc)
            if found is None or not isinstance(found.subcode, int):
                raise
            codes = f"{found.code}/{found.subcode}"
            raise _explained(exc, found.subcode, codes, relative, url) from found
        return str(created["id"])

    def _wait_finished(self, container: str, name: str, url: str | None, deadline: float) -> None:
        """Until the container (of the file ``name``, fetched from ``url``) is ``FINISHED``
        (IG Container reference, ``status_code``), or ``deadline`` (``time.monotonic()``)."""
        backoff = Backoff(deadline, POLL_DELAYS_S)
        while True:
            try:
                with self.graph.mapped(sending=False, what=WHAT):
                    status = self.graph.get(container, fields="status_code,status")
            except Transient:
                status = {}  # a read lost on the way (or a 5xx): read again, within the deadline
            code = status.get("status_code")
            if code == "FINISHED":
                return
            if code == "PUBLISHED":  # never before media_publish: a post may exist, look it up
                raise InDoubt(f"{WHAT} says the container of {name} is already published")
            if code == "EXPIRED":  # not published within 24 hours
                raise Transient(f"{WHAT}'s container of {name} expired; {NEW_CONTAINER}")
            if code == "ERROR":  # "failed to complete the publishing process"; status says why
                detail = str(status.get("status") or code)
                found = _STATUS_CODE.search(detail)
                if found is None:
                    raise Rejected(f"{WHAT} could not process {name}: {detail}")
                subcode = int(found.group(1))
                error = instagram_error(subcode, detail, sending=False)
                if not isinstance(error, (Rejected, Transient)):
                    raise error
                raise _explained(error, subcode, str(subcode), name, url)
            if not backoff.wait():
                raise Transient(
                    f"{WHAT} was still processing {name} after {self.video_timeout} s"
                    f" (video_timeout); {NEW_CONTAINER}"
                )

    def _check_quota(self) -> None:
        with self.graph.mapped(sending=False, what=WHAT):
            limit = self.graph.get(
                f"{self.user}/content_publishing_limit", fields="quota_usage,config"
            )
        for entry in limit.get("data", []):
            used = int(entry.get("quota_usage", 0))
            total = entry.get("config", {}).get("quota_total")
            if total is not None and used >= int(total):
                raise RateLimited(
                    f"Instagram's 24-hour publishing quota is used up ({used}/{total})",
                    datetime.now(UTC) + QUOTA_RECHECK,
                )

    def _permalink(self, media_id: str) -> str | None:
        try:
            with self.graph.mapped(sending=False, what=WHAT):
                return (
                    str(self.graph.get(media_id, fields="permalink").get("permalink") or "") or None
                )
        except (Transient, Rejected):
            return None

    def lookup(self, part: OutgoingPart, since: datetime) -> Published | None:
        if part.answers:
            return self._lookup_answer(part, self.resolve_reply(part.answers))
        with self.graph.mapped(sending=False, what=WHAT):
            recent = self.graph.get(
                f"{self.user}/media", fields="id,caption,timestamp,permalink", limit="25"
            )
        for media in recent.get("data", []):
            if (media.get("caption") or "").strip() == part.text.strip():
                return Published(str(media["id"]), media.get("permalink"))
        return None

    # -- engagement -------------------------------------------------------------------------------
    def metrics(self, remote_ids: Sequence[str]) -> dict[str, Counts]:
        """Each media's insights (reach, likes, comments, saves, shares): one request each, and
        the token needs ``instagram_manage_insights``."""
        out = {}
        for media_id in remote_ids:
            try:
                with self.graph.mapped(sending=False, what=WHAT):
                    found = self.graph.get(f"{media_id}/insights", metric=IG_METRICS)
            except (AuthFailed, Rejected) as exc:
                if denied(exc):
                    raise MetricsRefused(f"cannot read the account's insights: {exc}") from exc
                raise
            values = {
                item.get("name"): (item.get("values") or [{}])[0].get("value")
                for item in found.get("data", [])
            }

            def number(name: str, values: dict[object, object] = values) -> int | None:
                value = values.get(name)
                return int(value) if isinstance(value, int) else None

            out[media_id] = Counts(
                likes=number("likes"),
                replies=number("comments"),
                reposts=number("shares"),
                saves=number("saved"),
                reach=number("reach"),
            )
        return out

    # -- inbox ------------------------------------------------------------------------------------
    reads_replies = True

    def replies(self, target: str, cursor: str | None, limit: int) -> InboxPage:
        """A page of the comments under the media ``target`` with all the replies to them (a
        reply answers its comment, within the media); may hold more than ``limit`` items."""
        params = {"fields": COMMENT_FIELDS, "limit": str(min(limit, MAX_LIMIT))}
        if cursor:
            params["after"] = cursor
        try:
            got = self._comments(f"{target}/comments", params)
        except Rejected as exc:
            if not _no_comments_edge(exc):
                raise
            # ``target`` is no media but one of our answers (a comment, which has no comments
            # edge): the replies to it are read under the media it answers.
            return InboxPage([], None)
        if got is None:  # the media is gone, and its comments with it
            return InboxPage([], None)
        found: list[tuple[dict[str, Any], str | None]] = []
        for comment in got.get("data", []):
            if not isinstance(comment, dict):
                continue
            found.append((comment, None))
            found += [(r, str(comment["id"])) for r in self._all_replies(comment)]
        own = self._own_username() if found else None
        items = [
            self._incoming(c, target, parent)
            for c, parent in found
            if (c.get("username") or "") != own
        ]
        return InboxPage(items, next_cursor(got, cursor))

    def _comments(self, path: str, params: dict[str, str]) -> dict[str, Any] | None:
        return comments_page(
            self.graph, path, params, what=WHAT, owner=self.user, grant=READ_COMMENTS
        )

    def _all_replies(self, comment: dict[str, Any]) -> list[dict[str, Any]]:
        """The nested replies, and the rest of them from ``/{comment-id}/replies`` when the
        nested page says more follow."""
        nested = comment.get("replies") or {}
        out = [r for r in nested.get("data", []) if isinstance(r, dict)]
        after = next_cursor(nested, None)
        for _ in range(MAX_REPLY_PAGES):
            if after is None:
                break
            params = {"fields": REPLY_FIELDS, "limit": str(MAX_LIMIT), "after": after}
            more = self._comments(f"{comment['id']}/replies", params)
            if more is None:  # deleted since the listing
                break
            out += [r for r in more.get("data", []) if isinstance(r, dict)]
            after = next_cursor(more, after)
        return out

    def _own_username(self) -> str:
        if self._username is None:
            with self.graph.mapped(sending=False, what=WHAT):
                self._username = str(self.graph.get(self.user, fields="username").get("username"))
        return self._username

    def _incoming(self, comment: dict[str, Any], media_id: str, parent: str | None) -> Incoming:
        username = str(comment.get("username") or "")
        if media_id not in self._permalinks:
            self._permalinks[media_id] = self._permalink(media_id)
        # The Graph API gives a comment no link and Instagram documents no address for one: the
        # item's is its media's with the comment's id (``reply_to:`` reads it back).
        permalink = self._permalinks[media_id]
        return Incoming(
            remote_id=str(comment["id"]),
            kind="comment",
            author_handle=username or "unknown",
            author_name=None,
            author_url=f"https://www.instagram.com/{username}/" if username else None,
            text=str(comment.get("text") or ""),
            url=comment_address(permalink, parent, str(comment["id"])),
            created_at=parse_time(comment.get("timestamp")),
            answers=parent or media_id,
            root=media_id,
        )

    def verify(self) -> str:
        """The Instagram account is reachable with this token; reports its 24-hour quota."""
        with self.graph.mapped(sending=False, what=WHAT):
            user = self.graph.get(self.user, fields="id,username")
            limit = self.graph.get(
                f"{self.user}/content_publishing_limit", fields="quota_usage,config"
            )
        quota = ""
        for entry in limit.get("data", []):
            total = entry.get("config", {}).get("quota_total")
            quota = (
                f", {entry.get('quota_usage', 0)} of {total} posts used in 24 h"
                if total is not None
                else ""
            )
        return f"@{user.get('username', '?')} ({user.get('id')}){quota}"

    def close(self) -> None:
        self.graph.close()


def _no_comments_edge(exc: Exception) -> bool:
    """Graph's answer to ``/{id}/comments`` asked of a comment: "Unknown path components"
    (2500), or "(#100) Tried accessing nonexisting field (comments)"."""
    cause = graph_cause(exc)
    if cause is None:
        return False
    message = str(cause.error.get("message") or "")
    return cause.code == UNKNOWN_EDGE or (cause.code == 100 and "nonexisting field" in message)


def comment_address(permalink: str | None, parent: str | None, comment_id: str) -> str | None:
    """The address eduadvocate gives a comment: its media's ``permalink`` with ``c/ID/``, a reply
    with ``c/PARENT/r/ID/`` (``platforms.posturl`` reads both); None without a permalink."""
    if not permalink:
        return None
    base = permalink.split("?", 1)[0].rstrip("/")
    if parent:
        return f"{base}/c/{parent}/r/{comment_id}/"
    return f"{base}/c/{comment_id}/"


def _explained(
    error: PublishError, subcode: int, codes: str, name: str, url: str | None
) -> PublishError:
    """``error`` (Rejected or Transient, mapped from ``subcode``) as one line naming the file and
    what to do about it (:data:`SUBCODES`); a subcode not listed there keeps Graph's words."""
    known = SUBCODES.get(subcode)
    if known is None:
        said = str(error)
        shown = said if codes in said else f"{said} ({codes})"
        return type(error)(f"{WHAT} could not take {name}: {shown}")
    reason, fix = known[0].format(url=url or "media_base_url"), known[1]
    return type(error)(f"{WHAT} could not take {name}: {reason} ({codes}); {fix}")


def _relative(item: Attachment) -> str:
    return item.relative or item.path.name
