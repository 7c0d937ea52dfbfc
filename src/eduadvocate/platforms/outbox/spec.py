"""The local outbox: writes what would be sent into a folder instead of a network. The default
account, so the whole tool can be tried with no account anywhere. Its length limit is configurable.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from eduadvocate.platforms.base import MediaRules, PlatformSpec, Setting

if TYPE_CHECKING:
    from eduadvocate.platforms.publishing import Publisher


class OutboxPlatform(PlatformSpec):
    name = "outbox"
    title = "Outbox"
    default_limit = 100_000
    media = MediaRules(
        max_items=20,
        image_types=frozenset(
            {
                "image/jpeg",
                "image/png",
                "image/gif",
                "image/webp",
                "image/heic",
                "image/avif",
                "image/bmp",
                "image/tiff",
            }
        ),
        video_types=frozenset({"video/mp4", "video/quicktime", "video/webm"}),
        max_image_bytes=100_000_000,
        max_video_bytes=10_000_000_000,
        max_videos=20,
        mix_images_and_video=True,
        takes_captions=True,  # written down with the video
        captions_need_language=False,
        takes_thumbnail=True,  # written down with the video
        alt_max=10_000,
    )
    answers: ClassVar[frozenset[str]] = frozenset({"*"})  # it writes the address down
    reposts: ClassVar[frozenset[str]] = frozenset({"*"})
    quotes: ClassVar[frozenset[str]] = frozenset({"*"})
    settings: ClassVar[dict[str, Setting]] = {
        "folder": Setting("where to write, relative to the campaign folder (default outbox)"),
    }

    def connect(self, root: Path) -> Publisher:
        from eduadvocate.platforms.outbox.writer import OutboxPublisher

        return OutboxPublisher(root / (self.account.get("folder") or "outbox"), self.account.name)
