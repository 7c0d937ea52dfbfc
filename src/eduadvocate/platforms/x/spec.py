"""X (Twitter): the weighted twitter-text v3 length rule, media limits, and account settings.

Publishing is in ``client`` (tweepy), imported only when an account connects.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from eduadvocate.platforms.base import (
    MediaRules,
    PlatformSpec,
    Setting,
    identifier_problem,
    strip_sign,
)
from eduadvocate.platforms.textcount import twitter

if TYPE_CHECKING:
    from eduadvocate.platforms.publishing import Publisher

TIER_CAPS = {"free": 17, "basic": 100, "pro": 10_000}
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")  # X's rule for usernames (used with fullmatch)


class XPlatform(PlatformSpec):
    name = "x"
    title = "X"
    default_limit = 280
    media = MediaRules(
        max_items=4,
        image_types=frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"}),
        video_types=frozenset({"video/mp4", "video/quicktime"}),
        max_image_bytes=5_000_000,
        # Video: X's media best practices (docs.x.com/x-api/media/quickstart/best-practices):
        # 512 MB, 0.5 to 140 seconds for most accounts (Premium accounts may post longer: not
        # checked, as check cannot know), shapes 1:3 to 3:1. H.264 is recommended, not required,
        # so the codec is not checked. Subtitles (SRT) attach to the video.
        max_video_bytes=512_000_000,
        video_seconds_min=0.5,
        video_seconds_max=140,
        video_aspect_min=1 / 3,
        video_aspect_max=3,
        takes_captions=True,
        takes_thumbnail=False,  # X's media upload takes no picture for a video: X picks a frame
        alt_max=1000,
    )
    reads_inbox: ClassVar[bool] = True
    answers: ClassVar[frozenset[str]] = frozenset({"x"})  # the address names the post's id
    reposts: ClassVar[frozenset[str]] = frozenset({"x"})  # POST /2/users/:id/retweets
    quotes: ClassVar[frozenset[str]] = frozenset({"x"})  # quote_tweet_id, the address's id
    settings: ClassVar[dict[str, Setting]] = {
        "username": Setting("the account's @name, for links and reconciliation"),
        "consumer_key": Setting("OAuth 1.0a API key", secret=True),
        "consumer_secret": Setting("OAuth 1.0a API key secret", secret=True),
        "access_token": Setting("OAuth 1.0a access token", secret=True),
        "access_token_secret": Setting("OAuth 1.0a access token secret", secret=True),
        "oauth2_token": Setting(
            "OAuth 2.0 user access token (instead of the four OAuth 1.0a keys)", secret=True
        ),
        "tier": Setting(
            "API tier for quotas: free (17 posts/24 h), basic (100) or pro (10,000); default free"
        ),
        "daily_cap": Setting("posts per 24 hours, instead of the tier's", kind="int"),
        "video_timeout": Setting(
            "seconds to wait for X to process a video (default 120)", kind="int"
        ),
        "base_url": Setting("API address (default https://api.x.com)", kind="url"),
    }

    def length(self, text: str, content_warning: str | None = None) -> int:
        return twitter.weighted_length(text)

    adds_up = "code points"  # every space, tab and line break weighs one; no URL spans one

    @classmethod
    def handle_problem(cls, handle: str) -> str | None:
        name = strip_sign(handle, "@＠")
        problem = identifier_problem(name)
        if problem is None and not _USERNAME.fullmatch(name):
            problem = "is not an X username (1 to 15 letters A-Z, digits or _)"
        return problem

    @classmethod
    def hashtag_problem(cls, tag: str) -> str | None:
        """twitter-text's rule: letters, marks, digits, _ and a few joiners, at least one letter."""
        problem = identifier_problem(tag)
        if problem is None and not twitter.is_valid_hashtag("#" + tag):
            problem = "would not become a hashtag on X (letters, digits and _, with a letter)"
        return problem

    @property
    def daily_cap(self) -> int | None:
        """Per-user posts per 24 hours by API tier (X's published caps; ``daily_cap`` overrides)."""
        configured = self.account.get_int("daily_cap", 0)
        if configured:
            return configured
        tier = (self.account.get("tier") or "free").lower()
        return TIER_CAPS.get(tier, TIER_CAPS["free"])

    def connect(self, root: Path) -> Publisher:
        from eduadvocate.platforms.x.client import XPublisher

        return XPublisher(self.account)
