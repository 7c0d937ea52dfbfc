"""Publishing to Instagram through the Graph API (``platforms.graph_api``).

Instagram fetches media itself from a public URL: each file's URL is the account's
``media_base_url`` joined with its path in the campaign folder. A post is a media container
(one image or video, or a carousel of 2–10), polled until ``FINISHED``, then ``media_publish``:
only that last call creates the post, and an attempt in doubt is looked up among the account's
recent media by its caption. The 24-hour publishing quota is read first, and a full quota defers
the delivery instead of failing it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from eduadvocate.config.model import AccountConfig
from eduadvocate.core.counts import Counts
from eduadvocate.platforms.graph_api import QUOTA_RECHECK, Graph, denied, instagram_error
from eduadvocate.platforms.instagram.media import media_url
from eduadvocate.platforms.publishing import (
    Attachment,
    AuthFailed,
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
_STATUS_CODE = re.compile(r"\b(2207\d{3})\b")  # "Error: Media upload has failed with error code N"


class InstagramPublisher(Publisher):
    def __init__(self, account: AccountConfig) -> None:
        self.account = account
        self.user = account.get("ig_user_id") or ""
        self.base = account.get("media_base_url") or ""
        self.graph = Graph(account)
        self.poll_interval = 2.0

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
