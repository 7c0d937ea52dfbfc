"""Bluesky: 300 graphemes and 3,000 UTF-8 bytes, URLs counted in full, facets at byte offsets.

Publishing through atproto is added by the platform adapter issue; atproto is imported only there.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from eduadvocate.platforms.base import Facet, Finding, MediaRules, PlatformSpec, Setting
from eduadvocate.platforms.textcount.unicode import (
    BSKY_TAG_MAX,
    bluesky_facets,
    graphemes,
    long_tags,
    plain_mentions,
)

if TYPE_CHECKING:
    from eduadvocate.platforms.publishing import Publisher


class BlueskyPlatform(PlatformSpec):
    name = "bluesky"
    title = "Bluesky"
    default_limit = 300
    byte_limit = 3000
    media = MediaRules(
        max_items=4,
        image_types=frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"}),
        video_types=frozenset({"video/mp4"}),
        max_image_bytes=1_000_000,
        downscale_images=True,
        max_video_bytes=100_000_000,
        alt_max=2000,
    )
    settings: ClassVar[dict[str, Setting]] = {
        "handle": Setting("the account's handle, e.g. pta.bsky.social", required=True),
        "app_password": Setting("an app password (Settings → App passwords)", secret=True),
        "service": Setting("PDS address (default https://bsky.social)", kind="url"),
    }

    def length(self, text: str, content_warning: str | None = None) -> int:
        return graphemes(text)

    def facets(self, text: str) -> tuple[Facet, ...]:
        return bluesky_facets(text)

    def findings(self, text: str, part_index: int) -> list[Finding]:
        """Check the facets: an @name that is not a Bluesky handle stays plain text (no link, no
        notification), and a tag over 64 characters is not a tag."""
        facets = bluesky_facets(text)
        data = text.encode("utf-8")
        covered = {
            data[f.byte_start : f.byte_end].decode("utf-8") for f in facets if f.kind == "mention"
        }
        out = [
            Finding(
                "mention-plain",
                f"{word} is not a Bluesky handle, so it will not notify anyone",
                "write {@person} with a bluesky: handle in people.yaml, or the full handle (name.bsky.social)",
                "warning",
            )
            for word in dict.fromkeys(plain_mentions(text))
            if word not in covered
        ]
        out += [
            Finding(
                "hashtag-too-long",
                f"#{tag[:20]}… is over {BSKY_TAG_MAX} characters, so Bluesky will not make it a tag",
            )
            for tag in long_tags(text)
        ]
        return out

    def connect(self, root: Path) -> Publisher:
        from eduadvocate.platforms.bluesky_client import BlueskyPublisher

        return BlueskyPublisher(self.account, root)
