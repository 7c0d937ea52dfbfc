"""Bluesky: 300 graphemes and 3,000 UTF-8 bytes, URLs counted in full, facets at byte offsets.

Publishing is in ``client`` (atproto), imported only when an account connects.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from eduadvocate.platforms.base import (
    Facet,
    Finding,
    MediaRules,
    PlatformSpec,
    Setting,
    identifier_problem,
    strip_sign,
)
from eduadvocate.platforms.textcount.unicode import (
    BSKY_TAG_MAX,
    bluesky_facets,
    graphemes,
    long_tags,
    plain_mentions,
)

if TYPE_CHECKING:
    from eduadvocate.platforms.publishing import Publisher

# atproto's handle syntax (atproto.com/specs/handle): ASCII labels of 1-63 letters, digits and
# inner hyphens, at least two, the last not starting with a digit; 253 characters at most.
_HANDLE = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
)
HANDLE_MAX = 253
# Valid syntax, but refused for registration across atproto (@atproto/syntax DISALLOWED_TLDS).
DISALLOWED_TLDS = frozenset(
    {"local", "arpa", "invalid", "localhost", "internal", "example", "alt", "onion"}
)

# Where a tag over BSKY_TAG_MAX characters may start: a sign and more characters than that with
# no ASCII whitespace among them (a tag holds none: [^\s…] in Bluesky's pattern, in
# textcount.unicode). One scan in C, where ``long_tags`` tries Bluesky's pattern at each sign.
_LONG_TAG_START = re.compile(rf"[#\uff03][^ \t\n\r\f\v]{{{BSKY_TAG_MAX + 1}}}")


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
        # Video: one per post, up to 3 minutes and 100 MB since March 2025 (Bluesky's
        # announcement, https://bsky.app/profile/bsky.app/post/3lk26lxn6sk2u; before: 1 minute).
        # Guides also give a 1 s minimum and shapes 1:3 to 3:1 (ayrshare.com/docs/media-guidelines/
        # bluesky): not confirmed by Bluesky's own documents, so not checked. Captions: the
        # video embed's ``captions`` (app.bsky.embed.video lexicon).
        max_video_bytes=100_000_000,
        video_seconds_max=180,
        takes_captions=True,
        takes_thumbnail=False,  # app.bsky.embed.video has no thumbnail: the video service makes one
        alt_max=2000,
    )
    reads_inbox: ClassVar[bool] = True
    answers: ClassVar[frozenset[str]] = frozenset({"bluesky"})
    reposts: ClassVar[frozenset[str]] = frozenset({"bluesky"})
    quotes: ClassVar[frozenset[str]] = frozenset({"bluesky"})
    settings: ClassVar[dict[str, Setting]] = {
        "handle": Setting("the account's handle, e.g. pta.bsky.social", required=True),
        "app_password": Setting("an app password (Settings → App passwords)", secret=True),
        "service": Setting("PDS address (default https://bsky.social)", kind="url"),
        "card_max_html": Setting("bytes of a link card's page read (default 1000000)", kind="int"),
        "card_max_image": Setting("bytes of a link card's picture (default 5000000)", kind="int"),
        "card_timeout": Setting(
            "seconds for a link card's page and picture together (default 10)", kind="int"
        ),
        "card_ports": Setting("ports besides 80/443 a link card may be fetched from, e.g. 8080"),
        "video_service": Setting(
            "the video service videos are processed by (default https://video.bsky.app;"
            " none: upload them to the PDS as they are)",
            kind="url",
        ),
        "video_timeout": Setting(
            "seconds to wait for the video service to process a video (default 300)", kind="int"
        ),
    }

    def length(self, text: str, content_warning: str | None = None) -> int:
        return graphemes(text)

    adds_up = "graphemes"

    def facets(self, text: str) -> tuple[Facet, ...]:
        return bluesky_facets(text)

    @classmethod
    def handle_problem(cls, handle: str) -> str | None:
        name = strip_sign(handle, "@＠")
        problem = identifier_problem(name)
        if problem is None and (len(name) > HANDLE_MAX or not _HANDLE.fullmatch(name)):
            problem = "is not a Bluesky handle (a domain name such as name.bsky.social)"
        tld = name.rsplit(".", 1)[-1].lower()
        if problem is None and tld in DISALLOWED_TLDS:
            problem = f"ends in .{tld}, which no Bluesky handle can use"
        return problem

    @classmethod
    def hashtag_problem(cls, tag: str) -> str | None:
        """What Bluesky's facet detection makes a tag: starts with a letter or emoji, no trailing
        punctuation, at most 64 characters (hashtags.md in bluesky-social/atproto)."""
        problem = identifier_problem(tag)
        if problem is None and len(tag) > BSKY_TAG_MAX:
            problem = f"is over {BSKY_TAG_MAX} characters, so Bluesky would not make it a tag"
        if problem is None:
            found = bluesky_facets("#" + tag)
            if [(f.kind, f.value) for f in found] != [("tag", tag)]:
                problem = (
                    "would not become a hashtag on Bluesky (it must start with a letter or emoji"
                    " and not end in punctuation)"
                )
        return problem

    def findings(self, text: str, part_index: int) -> list[Finding]:
        """Check the facets: an @name that is not a Bluesky handle stays plain text (no link, no
        notification), and a tag over 64 characters is not a tag."""
        facets = bluesky_facets(text)
        mentions = tags = 0
        for facet in facets:
            if facet.kind == "mention":
                mentions += 1
            elif facet.kind == "tag":
                tags += 1
        out = []
        # Each mention and tag starts at its own @ or # (full-width ＃ too), where a facet of
        # its kind starts unless it is plain or too long: with as many facets as signs, none is.
        if text.count("@") > mentions:
            # A mention facet's text is "@" and its handle (``bluesky_facets`` makes it so): read
            # from the facet's value, not decoded from its byte offsets again.
            covered = {"@" + f.value for f in facets if f.kind == "mention"}
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
        if text.count("#") + text.count("\uff03") > tags and _LONG_TAG_START.search(text):
            out += [
                Finding(
                    "hashtag-too-long",
                    f"#{tag[:20]}… is over {BSKY_TAG_MAX} characters, so Bluesky will not make it a tag",
                )
                for tag in long_tags(text)
            ]
        return out

    def connect(self, root: Path) -> Publisher:
        from eduadvocate.platforms.bluesky.client import BlueskyPublisher

        return BlueskyPublisher(self.account, root)
