"""Mastodon: the instance's limit (default 500) counted as Mastodon's StatusLengthValidator does.

Mastodon.py's ``get_status_length`` implements the same rule but counts graphemes with the
``grapheme`` package (Unicode 13), so newer emoji sequences count wrong there; we count with
current Unicode rules (``tests/platforms/test_unicode.py`` pins where they agree).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import regex

from eduadvocate.content.model import Person
from eduadvocate.platforms.base import (
    MediaRules,
    PlatformSpec,
    Setting,
    identifier_problem,
    strip_sign,
)
from eduadvocate.platforms.textcount.unicode import (
    RUBY_WHITESPACE,
    mastodon_length,
    mastodon_prepared,
    mastodon_warning_length,
)

if TYPE_CHECKING:
    from eduadvocate.platforms.publishing import Publisher

# Mastodon's Account::USERNAME_RE, and a server name after the @ (MENTION_RE takes word
# characters there, so internationalised domains too).
_USERNAME = regex.compile(r"[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*", regex.IGNORECASE)
_SERVER = regex.compile(r"[\w-]+(?:\.[\w-]+)+")
# Mastodon's Tag::Naming::HASHTAG_NAME_RE, with Onigmo's Unicode [[:word:]] (letters, marks,
# decimal digits, connector punctuation) and [[:alpha:]] (letters and marks) spelled out.
_W = r"\p{L}\p{M}\p{Nd}\p{Pc}"
_A = r"\p{L}\p{M}"
_SEP = "_\u00b7\u30fb\u200c"
_HASHTAG_NAME = regex.compile(
    rf"[{_W}][{_W}{_SEP}]*[{_A}{_SEP}][{_W}{_SEP}]*[{_W}]"  # HASHTAG_FIRST_SEQUENCE
    rf"|[{_W}]*[{_A}][{_W}]*"  # HASHTAG_LAST_SEQUENCE
)


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
        # Each instance sets its own limits (its /api/v2/instance configuration.media_attachments);
        # these are mastodon.social's and Mastodon's defaults: video_size_limit 99 MiB (rounded
        # down here), video_matrix_limit 8,294,400 pixels (3840×2160), no length limit. Mastodon
        # takes no captions file: burn captions into the picture.
        max_video_bytes=99_000_000,
        video_pixels_max=8_294_400,
        alt_max=1500,
        # POST /api/v2/media ``thumbnail`` (docs.joinmastodon.org/methods/media, since 3.2.0): an
        # image of IMAGE_MIME_TYPES under IMAGE_LIMIT, on audio or video only (media_attachment.rb).
        takes_thumbnail=True,
    )
    reads_inbox: ClassVar[bool] = True
    answers: ClassVar[frozenset[str]] = frozenset({"mastodon"})
    reposts: ClassVar[frozenset[str]] = frozenset({"mastodon"})
    quotes: ClassVar[frozenset[str]] = frozenset({"mastodon"})
    settings: ClassVar[dict[str, Setting]] = {
        "instance": Setting(
            "the server's address, e.g. https://mastodon.education", required=True, kind="url"
        ),
        "access_token": Setting("an access token (Preferences → Development)", secret=True),
        "video_timeout": Setting(
            "seconds to wait for the instance to process a video (default 300)", kind="int"
        ),
        "media_timeout": Setting("video_timeout's first name, still read", kind="int"),
    }

    def length(self, text: str, content_warning: str | None = None) -> int:
        return mastodon_length(text, content_warning or "")

    adds_up = "graphemes"  # (content warnings and stripped ends: see joined_length)

    def joined_length(
        self,
        left: str,
        left_length: int,
        gap: str,
        right: str,
        right_length: int,
        content_warning: str | None = None,
    ) -> int | None:
        # Mastodon strips a text's ends (NUL, VT and FF too), which must stay its ends.
        ends = left[-1:] + right[:1]
        if len(ends) < 2 or any(c in RUBY_WHITESPACE for c in ends):
            return None
        if not mastodon_prepared(left) or not mastodon_prepared(right):
            return None
        # A content warning is counted with the text, so each length holds it once: the
        # joined text's holds it once too (left's), where right's first character does not
        # join the warning's last (an ASCII one never does, but after a Prepend character).
        warning = 0
        if content_warning and mastodon_prepared(content_warning):
            share = mastodon_warning_length(content_warning)
            if share is None or not right[0].isascii():
                return None
            warning = share
        return super().joined_length(left, left_length, gap, right, right_length - warning)

    @classmethod
    def handle_problem(cls, handle: str) -> str | None:
        name = strip_sign(handle, "@＠")
        problem = identifier_problem(name, at_inside=True)
        user, at, server = name.partition("@")
        if problem is None and not at:
            problem = (
                "is not a Mastodon address: write it as user@server, e.g. lopez@mastodon.education"
            )
        elif problem is None and not _USERNAME.fullmatch(user):
            problem = "does not start with a Mastodon username (letters, digits, _ . -)"
        elif problem is None and not _SERVER.fullmatch(server):
            problem = "has no server name after the @ (e.g. mastodon.education)"
        return problem

    @classmethod
    def hashtag_problem(cls, tag: str) -> str | None:
        problem = identifier_problem(tag)
        if problem is None and not _HASHTAG_NAME.fullmatch(tag):
            problem = (
                "would not become a hashtag on Mastodon (letters, digits and _, with a letter)"
            )
        return problem

    def mention(self, person: Person) -> str:
        handle = person.handles.get(self.name)
        if not handle:
            return person.name
        return "@" + handle.lstrip("@")

    def connect(self, root: Path) -> Publisher:
        from eduadvocate.platforms.mastodon_api.client import MastodonPublisher

        return MastodonPublisher(self.account)
