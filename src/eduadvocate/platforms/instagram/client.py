"""Publishing to Instagram through the Graph API (``platforms.graph_api``).

Instagram fetches media itself from a public URL: each file's URL is the account's
``media_base_url`` joined with its path in the campaign folder. A post is a media container
(one image or video, or a carousel of 2–10), polled until ``FINISHED``, then ``media_publish``:
only that last call creates the post, and an attempt in doubt is looked up among the account's
recent media by its caption. The 24-hour publishing quota is read first, and a full quota defers
the delivery instead of failing it.

``inbox pull`` reads the comments under each published media (:meth:`InstagramPublisher.replies`)
and the replies to them; the account's own are left out. Instagram has no list of notifications
the API may read, so ``inbox`` stays unsupported.
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
    instagram_error,
    next_cursor,
    parse_time,
)
from eduadvocate.platforms.instagram.media import media_url
from eduadvocate.platforms.publishing import (
    Attachment,
    AuthFailed,
    InboxPage,
    Incoming,
    MetricsRefused,
    OutgoingPart,
    Published,
    Publisher,
    RateLimited,
    Rejected,
    Transient,
)

WHAT = "Instagram"
IG_METRICS = "reach,likes,comments,saved,shares"  # valid for feed posts and reels (v21)
POLL_LIMIT_S = 300
REPLY_FIELDS = "id,username,text,timestamp"
# Replies come nested in the comment listing (one request a page) rather than from
# ``/{comment-id}/replies`` for every comment (one more request per comment, most of them empty);
# only a comment whose nested replies say ``paging.next`` is followed on that edge.
COMMENT_FIELDS = f"{REPLY_FIELDS},replies{{{REPLY_FIELDS}}}"
READ_COMMENTS = "instagram_manage_comments"  # with instagram_basic, which publishing needs
MAX_REPLY_PAGES = 100  # of one comment's replies: 10,000
_STATUS_CODE = re.compile(r"\b(2207\d{3})\b")  # "Error: Media upload has failed with error code N"


class InstagramPublisher(Publisher):
    def __init__(self, account: AccountConfig) -> None:
        self.account = account
        self.user = account.get("ig_user_id") or ""
        self.base = account.get("media_base_url") or ""
        self.graph = Graph(account)
        self.poll_interval = 2.0
        self._username: str | None = None  # the account's own, to leave its comments out
        self._permalinks: dict[str, str | None] = {}

    def publish(self, part: OutgoingPart) -> Published:
        self._check_quota()
        if not part.media:
            raise Rejected("Instagram needs an image or a video")
        if len(part.media) == 1:
            container = self._container(part.media[0], caption=part.text)
        else:
            children = [self._container(item, carousel_item=True) for item in part.media]
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
        self._wait_finished(container)
        with self.graph.mapped(sending=True, what=WHAT):
            result = self.graph.post(f"{self.user}/media_publish", {"creation_id": container})
        media_id = str(result["id"])
        return Published(media_id, self._permalink(media_id))

    def _container(
        self, item: Attachment, *, caption: str | None = None, carousel_item: bool = False
    ) -> str:
        relative = _relative(item)
        url = media_url(self.base, relative)
        if url is None:
            raise Rejected(f"{relative} cannot be mapped under media_base_url")
        data = {"alt_text": item.alt or ""}
        if item.mime and item.mime.startswith("video/"):
            data.update(media_type="REELS" if not carousel_item else "VIDEO", video_url=url)
        else:
            data["image_url"] = url
        if caption is not None:
            data["caption"] = caption
        if carousel_item:
            data["is_carousel_item"] = "true"
        with self.graph.mapped(sending=False, what=WHAT):
            created = self.graph.post(f"{self.user}/media", data)
        return str(created["id"])

    def _wait_finished(self, container: str) -> None:
        deadline = time.monotonic() + POLL_LIMIT_S
        while True:
            with self.graph.mapped(sending=False, what=WHAT):
                status = self.graph.get(container, fields="status_code,status")
            code = status.get("status_code")
            if code in ("FINISHED", "PUBLISHED"):
                return
            if code == "EXPIRED":  # not published within 24 hours: a new one on the next try
                raise Transient("Instagram's media container expired before it was published")
            if code == "ERROR":  # "failed to complete the publishing process"; status says why
                detail = str(status.get("status") or code)
                found = _STATUS_CODE.search(detail)
                label = f"Instagram could not process the media: {detail}"
                if found is None:
                    raise Rejected(label)
                raise instagram_error(int(found.group(1)), label, sending=False)
            if time.monotonic() > deadline:
                raise Transient("Instagram is still processing the media")
            time.sleep(self.poll_interval)

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
        got = self._comments(f"{target}/comments", params)
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
        # item links to its media, where the comment shows.
        permalink = self._permalinks[media_id]
        return Incoming(
            remote_id=str(comment["id"]),
            kind="comment",
            author_handle=username or "unknown",
            author_name=None,
            author_url=f"https://www.instagram.com/{username}/" if username else None,
            text=str(comment.get("text") or ""),
            url=permalink,
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


def _relative(item: Attachment) -> str:
    return item.relative or item.path.name
