"""Publishing to a Facebook Page through facebook-sdk (imported only here).

Text and links go to ``/{page-id}/feed``; one photo to ``/{page-id}/photos`` with its caption and
``alt_text_custom``; several photos are uploaded unpublished and attached to one feed post
(``attached_media``). Facebook has no idempotency key: an attempt in doubt is looked up among
the Page's recent posts by its exact message.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from eduadvocate.config import AccountConfig
from eduadvocate.platforms.graph import Graph
from eduadvocate.platforms.publishing import (
    Attachment,
    AuthFailed,
    OutgoingPart,
    Published,
    Publisher,
    opened,
)

WHAT = "Facebook"
NEEDED = frozenset({"pages_manage_posts"})


class FacebookPublisher(Publisher):
    def __init__(self, account: AccountConfig) -> None:
        self.account = account
        self.page = account.get("page_id") or ""
        self.graph = Graph(account)

    def publish(self, part: OutgoingPart) -> Published:
        if len(part.media) == 1:
            return self._photo(part, part.media[0])
        data: dict[str, str] = {"message": part.text}
        if part.media:
            ids = [self._unpublished_photo(item) for item in part.media]
            for i, media_id in enumerate(ids):
                data[f"attached_media[{i}]"] = json.dumps({"media_fbid": media_id})
        with self.graph.mapped(sending=True, what=WHAT):
            result = self.graph.post(f"{self.page}/feed", data)
        post_id = str(result["id"])
        return Published(post_id, _permalink(post_id))

    def _photo(self, part: OutgoingPart, item: Attachment) -> Published:
        with opened(item) as fh, self.graph.mapped(sending=True, what=WHAT):
            result = self.graph.post(
                f"{self.page}/photos",
                {"message": part.text, "alt_text_custom": item.alt or ""},
                files={"source": fh},
            )
        post_id = str(result.get("post_id") or result["id"])
        return Published(post_id, _permalink(post_id))

    def _unpublished_photo(self, item: Attachment) -> str:
        with opened(item) as fh, self.graph.mapped(sending=False, what=WHAT):
            result = self.graph.post(
                f"{self.page}/photos",
                {"published": "false", "alt_text_custom": item.alt or ""},
                files={"source": fh},
            )
        return str(result["id"])

    def schedule(self, part: OutgoingPart, at: datetime) -> Published:
        data = {
            "message": part.text,
            "published": "false",
            "scheduled_publish_time": str(int(at.timestamp())),
        }
        with self.graph.mapped(sending=True, what=WHAT):
            result = self.graph.post(f"{self.page}/feed", data)
        post_id = str(result["id"])
        return Published(post_id, _permalink(post_id))

    def delete(self, remote_id: str) -> None:
        with self.graph.mapped(sending=False, what=WHAT):
            self.graph.delete(remote_id)

    def scheduled_ids(self) -> set[str] | None:
        with self.graph.mapped(sending=False, what=WHAT):
            waiting = self.graph.get(f"{self.page}/scheduled_posts", fields="id", limit="100")
        return {str(p["id"]) for p in waiting.get("data", [])}

    def lookup(self, part: OutgoingPart, since: datetime) -> Published | None:
        start = int((since - timedelta(minutes=1)).astimezone(UTC).timestamp())
        with self.graph.mapped(sending=False, what=WHAT):
            feed = self.graph.get(
                f"{self.page}/feed", fields="id,message,created_time", since=str(start), limit="50"
            )
        for post in feed.get("data", []):
            if (post.get("message") or "").strip() == part.text.strip():
                return Published(str(post["id"]), _permalink(str(post["id"])))
        return None

    def verify(self) -> str:
        """The Page is reachable with this token, and the token may post (``pages_manage_posts``)."""
        with self.graph.mapped(sending=False, what=WHAT):
            page = self.graph.get(self.page, fields="id,name")
            info = self.graph.get("debug_token", input_token=self.graph.api.access_token).get(
                "data", {}
            )
        missing = sorted(NEEDED - set(info.get("scopes") or []))
        if not info.get("is_valid", True) or missing:
            raise AuthFailed(
                f"the token for Page {page.get('name', self.page)} lacks {', '.join(missing) or 'validity'}:"
                " grant pages_manage_posts and create a new Page token"
            )
        return f"Page {page.get('name', '?')} ({page.get('id')}), may post"

    def close(self) -> None:
        self.graph.session.close()


def _permalink(post_id: str) -> str:
    return f"https://www.facebook.com/{post_id}"
