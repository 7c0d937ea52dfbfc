"""Facebook Pages: 63,206 characters, no threads; a person is named, not @-mentioned (tagging a
Page needs its numeric id, which campaigns rarely have). Publishing is ``client``'s, imported
only when an account connects.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from eduadvocate.content.media import duration_text
from eduadvocate.content.model import Person
from eduadvocate.platforms.base import (
    MediaRules,
    PlatformSpec,
    Setting,
    identifier_problem,
    word_hashtag_problem,
)
from eduadvocate.platforms.facebook_page.address import graph_target
from eduadvocate.platforms.facebook_page.locales import facebook_locale

if TYPE_CHECKING:
    from eduadvocate.content.media import MediaInfo
    from eduadvocate.content.model import Media, Post
    from eduadvocate.core.errors import Location
    from eduadvocate.platforms.publishing import Publisher

NAME_MAX = 75  # Facebook's limit for a Page name; usernames are shorter
# A Reel, by the Reels Publishing API's video specifications
# (developers.facebook.com/docs/video-api/guides/reels-publishing): MP4 recommended (MOV is among
# the formats Meta's sample lists), 9:16, at least 540×960 (1080×1920 recommended), 3 to 90
# seconds. The frame rate (24 to 60) is not checked: check reads no frames.
REEL_SECONDS = (3.0, 90.0)
REEL_ASPECT = 9 / 16
REEL_ASPECT_SLACK = 0.01  # a phone's 1080×1918 is still 9:16; 3:4 (0.75) is not
REEL_MIN_PIXELS = (540, 960)


class FacebookPlatform(PlatformSpec):
    name = "facebook"
    title = "Facebook Page"
    default_limit = 63_206
    supports_threads = False
    reads_inbox: ClassVar[bool] = True  # the comments under its posts (``replies``)
    answers: ClassVar[frozenset[str]] = frozenset({"facebook"})  # a post or comment: a comment
    replies_are_comments: ClassVar[bool] = True
    # A Page shares another Facebook post as a post of its own with the address as its link,
    # the quote's text as its message (the Graph API has no share of another's post).
    reposts: ClassVar[frozenset[str]] = frozenset({"facebook"})
    quotes: ClassVar[frozenset[str]] = frozenset({"facebook"})
    shares_links: ClassVar[bool] = True
    reply_limit: ClassVar[int | None] = 8000  # a comment's, where a Page post holds 63,206
    media = MediaRules(
        max_items=10,
        image_types=frozenset(
            {"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff"}
        ),
        video_types=frozenset({"video/mp4", "video/quicktime"}),
        max_image_bytes=10_000_000,
        # Page video: up to 4 hours per guides (ayrshare.com/docs/media-guidelines/facebook_pages;
        # Meta's own page for Page videos was not at hand to confirm it). The 1 GB above is the
        # Graph API's simple upload; the client sends larger files through the resumable upload
        # (client.py), unused while this limit stays at 1 GB. Captions go to /{video-id}/captions
        # as SRT named for a Facebook locale (client.py, locales.py): each needs a language.
        max_video_bytes=1_000_000_000,
        video_seconds_max=4 * 60 * 60,
        takes_captions=True,
        # /{page-id}/videos takes ``thumb`` (Graph API reference, page/videos; 10 MB per
        # video/thumbnails): not sent yet, so check says the thumbnail stays behind.
        takes_thumbnail=False,
        alt_max=1000,
    )
    settings: ClassVar[dict[str, Setting]] = {
        "page_id": Setting("the Page's id", required=True),
        "access_token": Setting("a Page access token", secret=True),
        "graph_version": Setting("Graph API version (default v21.0)"),
        "base_url": Setting("Graph API address (default https://graph.facebook.com)", kind="url"),
        "native_schedule": Setting(
            "hand posts due 10 min–30 days ahead to Facebook's scheduler", kind="bool"
        ),
        "video_timeout": Setting(
            "seconds to wait for Facebook to publish a Reel before it is recorded published"
            " with a warning (default 120)",
            kind="int",
        ),
    }

    def reply_problem(self, url: str) -> str | None:
        if graph_target(url, self.account.get("page_id") or "") is not None:
            return None
        return (
            "this Facebook address holds no post's or comment's id (a share link, a profile):"
            " copy the post's own link (its time) or the comment's (`eduadvocate inbox` shows it)"
        )

    def item_address(self, url: str | None, remote_id: str) -> str:
        """The comment's link when it names the comment, else its Graph id as an address
        (``facebook.com/POSTID_COMMENTID``, which ``graph_target`` reads)."""
        page = self.account.get("page_id") or ""
        if url and graph_target(url, page) == ("comment", remote_id):
            return url
        return f"https://www.facebook.com/{remote_id}"

    def form_problems(
        self, post: Post, videos: Sequence[tuple[Media, MediaInfo]]
    ) -> list[tuple[str, str, Location, str]]:
        """A Reel (``facebook: {as: reel}``) is one video of :data:`REEL_SECONDS`, 9:16, at
        least :data:`REEL_MIN_PIXELS` (what the Page video rules leave open)."""
        if post.reel_loc is None:
            return []
        if not videos:
            return [("reel-video", "a Reel is one video: this post has none", post.reel_loc,
                     "add the video to media:, or remove as: reel")]  # fmt: skip
        out = []
        low, high = REEL_SECONDS
        for item, info in videos:
            seconds, width, height = info.duration, info.width, info.height
            if seconds is not None and not low <= seconds <= high:
                out.append(("reel-length",
                            f"{item.path} lasts {duration_text(seconds)}, a Facebook Reel lasts"
                            f" {duration_text(low)} to {duration_text(high)}", item.loc,
                            "trim it, or remove as: reel to post it as a Page video"))  # fmt: skip
            if not (width and height):
                continue
            if abs(width / height - REEL_ASPECT) > REEL_ASPECT_SLACK:
                out.append(("reel-aspect",
                            f"{item.path} is {width}×{height}, a Facebook Reel is 9:16 (upright)",
                            item.loc, "crop it to 9:16, e.g. 1080×1920"))  # fmt: skip
            min_width, min_height = REEL_MIN_PIXELS
            if width < min_width or height < min_height:
                out.append(("reel-too-small",
                            f"{item.path} is {width}×{height}, a Facebook Reel is at least"
                            f" {min_width}×{min_height}", item.loc,
                            "export it at 1080×1920"))  # fmt: skip
        return out

    def captions_language_problem(self, language: str) -> str | None:
        if facebook_locale(language) is None:
            return f"Facebook has no captions locale for the language {language!r}"
        return None

    def mention(self, person: Person) -> str:
        return person.handles.get(self.name) or person.name

    @classmethod
    def handle_problem(cls, handle: str) -> str | None:
        """The value is written as is, as plain text (tagging needs a numeric id): a username
        or a Page's name, so spaces are fine, but no line break, link, # or @."""
        problem = identifier_problem(handle.strip().replace(" ", "_"))
        if problem is None and len(handle) > NAME_MAX:
            problem = f"is over {NAME_MAX} characters, longer than a Facebook name"
        return problem

    @classmethod
    def hashtag_problem(cls, tag: str) -> str | None:
        return word_hashtag_problem(tag, cls.title)

    @property
    def native_schedule(self) -> bool:
        return self.account.get_bool("native_schedule")

    def connect(self, root: Path) -> Publisher:
        from eduadvocate.platforms.facebook_page.client import FacebookPublisher

        return FacebookPublisher(self.account)
