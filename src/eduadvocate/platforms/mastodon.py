"""Mastodon: the instance's limit (default 500) counted as Mastodon's StatusLengthValidator does.

Mastodon.py's ``get_status_length`` implements the same rule but counts graphemes with the
``grapheme`` package (Unicode 13), so newer emoji sequences count wrong there; we count with
current Unicode rules (``tests/platforms/test_mastodon_length.py`` pins where they agree).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from eduadvocate.content.model import Person
from eduadvocate.platforms.base import MediaRules, PlatformSpec, Setting
from eduadvocate.platforms.textcount.unicode import mastodon_length

if TYPE_CHECKING:
    from eduadvocate.platforms.publishing import Publisher


class MastodonPlatform(PlatformSpec):
    name = "mastodon"
    title = "Mastodon"
    default_limit = 500
    media = MediaRules(
        max_items=4,
        image_types=frozenset(
            {"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/avif"}
        ),
        video_types=frozenset({"video/mp4", "video/quicktime", "video/webm"}),
        max_image_bytes=16_000_000,
        max_video_bytes=99_000_000,
        alt_max=1500,
    )
    settings: ClassVar[dict[str, Setting]] = {
        "instance": Setting(
            "the server's address, e.g. https://mastodon.education", required=True, kind="url"
        ),
        "access_token": Setting("an access token (Preferences → Development)", secret=True),
    }

    def length(self, text: str, content_warning: str | None = None) -> int:
        return mastodon_length(text, content_warning or "")

    def mention(self, person: Person) -> str:
        handle = person.handles.get(self.name)
        if not handle:
            return person.name
        return "@" + handle.lstrip("@")

    def connect(self, root: Path) -> Publisher:
        from eduadvocate.platforms.mastodon_client import MastodonPublisher

        return MastodonPublisher(self.account)
