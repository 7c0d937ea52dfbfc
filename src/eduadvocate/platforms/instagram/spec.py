"""Instagram (through the Graph API): 2,200 characters, at most 5 hashtags (configurable) and 20
mentions, no threads, and every post needs an image or a video at a public URL.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from eduadvocate.platforms.base import (
    Finding,
    MediaRules,
    PlatformSpec,
    Setting,
    identifier_problem,
    strip_sign,
    word_hashtag_problem,
)
from eduadvocate.platforms.instagram.media import media_url
from eduadvocate.platforms.posturl import post_address
from eduadvocate.platforms.textcount import twitter

if TYPE_CHECKING:
    from eduadvocate.platforms.publishing import Publisher

MAX_MENTIONS = 20
DEFAULT_MAX_HASHTAGS = 5  # Instagram's cap since December 2025
# Instagram usernames: up to 30 letters, digits, _ and ., no two periods together, none at the end.
_USERNAME = re.compile(r"(?!.*\.\.)[A-Za-z0-9._]{0,29}[A-Za-z0-9_]")
# A comment's part of an address eduadvocate gives it (instagram/client.py comment_address).
_COMMENT_TAIL = re.compile(r"/c/[^/]+(?:/r/[^/]+)?$")


class InstagramPlatform(PlatformSpec):
    name = "instagram"
    title = "Instagram"
    default_limit = 2200
    supports_threads = False
    reads_inbox: ClassVar[bool] = True  # the comments under its posts (``replies``)
    answers: ClassVar[frozenset[str]] = frozenset({"instagram"})  # a post or comment: a comment
    replies_are_comments: ClassVar[bool] = True
    media = MediaRules(
        max_items=10,
        image_types=frozenset({"image/jpeg"}),
        video_types=frozenset({"video/mp4", "video/quicktime"}),
        max_image_bytes=8_000_000,
        max_video_bytes=300_000_000,
        max_videos=10,
        mix_images_and_video=True,
        alt_max=1000,
        aspect_min=4 / 5,
        aspect_max=1.91,
        # Reels (how the Graph API publishes a video): 3 seconds to 15 minutes, 300 MB, H.264 or
        # HEVC in MOV or MP4, 9:16 recommended (ayrshare.com/docs/media-guidelines/instagram,
        # after Meta's Reels specifications; some translations of that page say 1 GB). Meta's
        # Content Publishing reference allows shapes from 0.01:1 to 10:1: from memory, not
        # confirmed from a document at hand. No captions file: Instagram makes its own.
        video_seconds_min=3,
        video_seconds_max=15 * 60,
        video_aspect_min=0.01,
        video_aspect_max=10,
        video_codecs=frozenset({"h264", "hevc"}),
        # alt_text is "for image posts"; "Reels and stories are not supported" (Content
        # Publishing guide, developers.facebook.com/docs/instagram-platform/content-publishing).
        takes_video_alt=False,
        required=True,
        # A Reel's ``cover_url`` must be a public address Instagram fetches (ig-user/media
        # reference): not sent, so check says Instagram picks the cover (thumb_offset 0).
        takes_thumbnail=False,
    )
    settings: ClassVar[dict[str, Setting]] = {
        "ig_user_id": Setting("the Instagram professional account's id", required=True),
        "access_token": Setting("a Page access token with instagram_content_publish", secret=True),
        "media_base_url": Setting(
            "public address where the campaign's media folder is published (Instagram fetches from it)",
            required=True,
            kind="url",
        ),
        "max_hashtags": Setting("hashtag cap (default 5)", kind="int"),
        "video_timeout": Setting(
            "seconds a post's media may take to be processed by Instagram (default 300)",
            kind="int",
        ),
        "graph_version": Setting("Graph API version (default v21.0)"),
        "base_url": Setting("Graph API address (default https://graph.facebook.com)", kind="url"),
    }

    def item_address(self, url: str | None, remote_id: str) -> str:
        """The comment's own address (``…/c/ID/``). An item whose link is its media's (pulled
        before comments had addresses) gets the media's with its id: ``c/ID/`` names a reply as
        well, whose thread Graph then gives (``parent_id``)."""
        found = post_address(url) if url else None
        if found is None or found.platform != self.name:
            return url or remote_id
        if remote_id in (found.comment, found.reply):
            return found.url
        media = found.url.split("?", 1)[0].rstrip("/")
        if found.comment is not None:  # another comment's address: back to its media's
            # (the last "c/ID" or "c/ID/r/ID": a media's own code may be "c")
            media = _COMMENT_TAIL.sub("", media)
        return f"{media}/c/{remote_id}/"

    @property
    def max_hashtags(self) -> int:
        return self.account.get_int("max_hashtags", DEFAULT_MAX_HASHTAGS)

    @classmethod
    def handle_problem(cls, handle: str) -> str | None:
        name = strip_sign(handle, "@＠")
        problem = identifier_problem(name)
        if problem is None and not _USERNAME.fullmatch(name):
            problem = "is not an Instagram username (up to 30 letters, digits, _ and .)"
        return problem

    @classmethod
    def hashtag_problem(cls, tag: str) -> str | None:
        return word_hashtag_problem(tag, cls.title)

    def media_problem(self, path: str) -> str | None:
        if media_url(self.account.get("media_base_url") or "", path) is None:
            return (
                f"{path} is outside the campaign folder, so it has no address under media_base_url"
            )
        return None

    def findings(self, text: str, part_index: int) -> list[Finding]:
        out = []
        tags = twitter.extract_hashtags(text)
        if len(tags) > self.max_hashtags:
            out.append(
                Finding(
                    "too-many-hashtags",
                    f"{len(tags)} hashtags, Instagram allows {self.max_hashtags}",
                    "keep the most important ones, or set instagram: {text: …} without the rest",
                )
            )
        mentions = twitter.extract_mentions(text)
        if len(mentions) > MAX_MENTIONS:
            out.append(
                Finding(
                    "too-many-mentions",
                    f"{len(mentions)} mentions, Instagram allows {MAX_MENTIONS}",
                )
            )
        return out

    def connect(self, root: Path) -> Publisher:
        from eduadvocate.platforms.instagram.client import InstagramPublisher

        return InstagramPublisher(self.account)
