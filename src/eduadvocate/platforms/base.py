"""The platform interface: what every adapter declares (identity, limits, its exact length rule,
media rules, account settings, how a person is mentioned) and the shapes render and check
exchange with it. The publishing half is :mod:`eduadvocate.platforms.publishing`.

This module is on the start-up path of ``check``: it imports no SDK. Publishing parts of the
adapters import their client libraries inside the methods that need them.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

# Setting and Facet belong to the layers below (the config reads settings, textcount finds
# facets); they are named here too because they are part of what an adapter implements.
from eduadvocate.config.accounts import Setting
from eduadvocate.platforms.textcount import pieces
from eduadvocate.platforms.textcount.facets import Facet, FacetKind

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from eduadvocate.config.model import AccountConfig
    from eduadvocate.content.media import MediaInfo
    from eduadvocate.content.model import Media, Person, Post
    from eduadvocate.core.errors import Location
    from eduadvocate.platforms.publishing import Publisher

__all__ = [
    "MAX_IDENTIFIER",
    "Facet",
    "FacetKind",
    "Finding",
    "MediaRules",
    "PlatformSpec",
    "Setting",
    "identifier_problem",
    "strip_sign",
    "word_hashtag_problem",
]


@dataclass(frozen=True, slots=True)
class MediaRules:
    """What media a platform accepts. Sizes in bytes; types as MIME types."""

    max_items: int = 4
    image_types: frozenset[str] = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
    video_types: frozenset[str] = frozenset({"video/mp4", "video/quicktime"})
    max_image_bytes: int = 5_000_000
    max_video_bytes: int = 512_000_000
    max_videos: int = 1
    mix_images_and_video: bool = False
    alt_max: int = 1000  # characters of alt text
    aspect_min: float | None = None  # width / height, of images
    aspect_max: float | None = None
    # Videos (MP4 and MOV, as content/media.py reads them): seconds, width / height as shown,
    # width × height, codec families ("h264", "hevc"; None: any), and whether a captions file
    # is sent with the video (where not, check says the captions stay behind).
    video_seconds_min: float | None = None
    video_seconds_max: float | None = None
    video_aspect_min: float | None = None
    video_aspect_max: float | None = None
    video_pixels_max: int | None = None
    video_codecs: frozenset[str] | None = None
    takes_captions: bool = False
    captions_need_language: bool = True  # each file labelled (its own, else the post's language:)
    # A video's ``thumbnail:`` is sent with it, held to image_types and max_image_bytes (where
    # not, check says the platform picks its own picture).
    takes_thumbnail: bool = False
    # A video's ``alt:`` is sent with it (where not, check says the video goes without it).
    takes_video_alt: bool = True
    required: bool = False
    downscale_images: bool = False  # an image over max_image_bytes is shrunk when sent, not refused


# An identifier longer than any post cannot be meant; refusing it first also keeps every
# platform's pattern below cheap on a multi-megabyte value.
# ``joined_length(left, left_length, gap, right, right_length)`` for one content warning.
Joiner = Callable[[str, int, str, str, int], "int | None"]


MAX_IDENTIFIER = 280
_JOINERS = frozenset("\u200c\u200d")  # parts of emoji and of some scripts' words


def identifier_problem(value: str, *, at_inside: bool = False) -> str | None:
    """What no platform takes in a handle or (without its #) a hashtag: emptiness, whitespace,
    a web address, a control or invisible character, ``#`` or ``@`` inside. None: none of them."""
    if not value:
        return "is empty"
    if len(value) > MAX_IDENTIFIER:
        return f"is {len(value):,} characters long"
    if any(ch.isspace() for ch in value):
        return "has a space or line break in it"
    if "://" in value or value.lower().startswith("www."):
        return "is a web address"
    for ch in value:
        if unicodedata.category(ch)[0] == "C" and ch not in _JOINERS:
            return f"has an invisible or control character in it (U+{ord(ch):04X})"
    if any(ch in "#＃" for ch in value) or (not at_inside and any(ch in "@＠" for ch in value)):
        return "has # or @ inside"
    return None


def word_hashtag_problem(tag: str, title: str) -> str | None:
    """Facebook's and Instagram's tags: letters, digits and _, at least one letter (neither
    publishes a pattern; this is what both link)."""
    import regex

    problem = identifier_problem(tag)
    if problem is None and not (
        regex.fullmatch(r"[\p{L}\p{M}\p{Nd}_]+", tag) and regex.search(r"[\p{L}\p{M}]", tag)
    ):
        problem = f"would not become a hashtag on {title} (letters, digits and _, with a letter)"
    return problem


def strip_sign(value: str, signs: str) -> str:
    """``value`` without one leading ``#``/``@`` (as people write them either way)."""
    return value[1:] if value[:1] and value[0] in signs else value


@dataclass(frozen=True, slots=True)
class Finding:
    """A platform-specific problem with one rendered part, turned into a located Problem by check."""

    code: str
    message: str
    hint: str = ""
    severity: Literal["error", "warning"] = "error"


class PlatformSpec:
    """Rules of one platform for one account. Subclasses set the class variables and override
    :meth:`length`; the defaults suit a plain-text platform that counts code points."""

    name: ClassVar[str]
    title: ClassVar[str]
    default_limit: ClassVar[int]
    supports_threads: ClassVar[bool] = True
    byte_limit: ClassVar[int | None] = None
    media: ClassVar[MediaRules] = MediaRules()
    settings: ClassVar[dict[str, Setting]] = {}
    mention_prefix: ClassVar[str] = "@"
    reads_inbox: ClassVar[bool] = False  # its Publisher implements ``inbox`` (issue 15)
    # The platforms whose posts this one can answer (``reply_to:``, platforms/posturl.py); its
    # Publisher then implements ``resolve_reply``. "*": any (the outbox writes the address down).
    answers: ClassVar[frozenset[str]] = frozenset()
    # A reply here is a comment (Facebook, Instagram): text only, and needs no media.
    replies_are_comments: ClassVar[bool] = False
    reply_limit: ClassVar[int | None] = None  # a reply's length limit, where not ``limit``'s

    def reply_problem(self, url: str) -> str | None:
        """Why this account cannot answer the post at ``url``, whose shape names this platform,
        read offline (say, an address that holds no id); None when it can."""
        return None

    def item_address(self, url: str | None, remote_id: str) -> str:
        """The ``reply_to:`` that answers an inbox item: its link, else its id."""
        return url or remote_id

    # The platforms whose posts it can repost (``repost:``) and quote (``quote:``): its
    # Publisher's ``publish`` then does so for a part that carries ``repost`` or ``quote``.
    reposts: ClassVar[frozenset[str]] = frozenset()
    quotes: ClassVar[frozenset[str]] = frozenset()
    # A repost or quote here is a post of its own that shares the address as its link (Facebook
    # Pages: the Graph API has no share of another's post), so a quote takes no media.
    shares_links: ClassVar[bool] = False

    def __init__(self, account: AccountConfig) -> None:
        self.account = account

    @property
    def limit(self) -> int:
        """The length limit for this account (a config ``limit`` overrides the platform default)."""
        return self.account.get_int("limit", self.default_limit)

    def limit_of(self, *, reply: bool) -> int:
        """The limit of a post, or of a reply (``reply_limit``, where lower: a Facebook comment)."""
        if reply and self.reply_limit is not None:
            return min(self.limit, self.reply_limit)
        return self.limit

    def length(self, text: str, content_warning: str | None = None) -> int:
        """The length as the platform counts it."""
        return len(text) + len(content_warning or "")

    # How ``joined_length`` adds lengths up: None (it cannot: the joined text is measured),
    # "code points" (every space, tab and line break counts one) or "graphemes" (a CR LF one).
    adds_up: ClassVar[Literal["code points", "graphemes"] | None] = None

    def joined_length(
        self,
        left: str,
        left_length: int,
        gap: str,
        right: str,
        right_length: int,
        content_warning: str | None = None,
    ) -> int | None:
        """``length(left + gap + right, content_warning)`` from the lengths of ``left`` and
        ``right`` (each measured with the same content warning), where ``gap`` is spaces, tabs
        and line breaks, without measuring the joined text again; None where this rule cannot
        tell (then the joined text is measured). Rendering asks it as it packs sentences into a
        thread's parts, numbers them and adds hashtags. Rules that add up across spaces say so
        in ``adds_up`` (nothing they count spans a space: see ``textcount.pieces``)."""
        if self.adds_up is None:
            return None
        return pieces.joined_length(
            left, left_length, gap, right, right_length, graphemes=self.adds_up == "graphemes"
        )

    def joiner(self, content_warning: str | None = None) -> Joiner | None:
        """``joined_length`` for one content warning as a function of the other five arguments,
        called without the method's layers (packing a thread asks it for every sentence: the
        two frames were ~1.5% of check's analysis on the bench); None where it always answers
        None (``adds_up`` is None). A rule that overrides ``joined_length`` gets its own."""
        if type(self).joined_length is not PlatformSpec.joined_length:
            return functools.partial(self.joined_length, content_warning=content_warning)
        if self.adds_up is None:
            return None
        return functools.partial(pieces.joined_length, graphemes=self.adds_up == "graphemes")

    def mention(self, person: Person) -> str:
        """How ``{@person}`` is written on this platform: the handle, else the display name."""
        handle = person.handles.get(self.name)
        if not handle:
            return person.name
        return handle if handle.startswith(self.mention_prefix) else self.mention_prefix + handle

    def facets(self, text: str) -> tuple[Facet, ...]:
        """Rich-text facets for the text, for platforms that need them sent explicitly."""
        return ()

    @classmethod
    def handle_problem(cls, handle: str) -> str | None:
        """Why ``handle`` (a person's, from people.yaml) is no account name here; None if it is.
        The sentence continues 'the handle "…" ', e.g. "has a space in it"."""
        return identifier_problem(strip_sign(handle, "@＠"))

    @classmethod
    def hashtag_problem(cls, tag: str) -> str | None:
        """Why ``tag`` (without its #) would not become one hashtag here; None if it would."""
        return identifier_problem(tag)

    def findings(self, text: str, part_index: int) -> list[Finding]:
        """Extra rules for one rendered part (hashtag caps and the like)."""
        return []

    def form_problems(
        self, post: Post, videos: Sequence[tuple[Media, MediaInfo]]
    ) -> list[tuple[str, str, Location, str]]:
        """What the post's platform-specific form (Facebook: ``facebook: {as: reel}``) asks of
        its media beyond :attr:`media`, given its videos as read: (code, message, where, hint)
        for each problem, all errors."""
        return []

    def captions_language_problem(self, language: str) -> str | None:
        """Why captions in ``language`` cannot be labelled for the platform (Facebook: no locale
        for it); None when they can."""
        return None

    def media_problem(self, path: str) -> str | None:
        """Why this media path cannot be sent to the platform (Instagram: no public URL)."""
        return None

    @property
    def native_schedule(self) -> bool:
        """Posts due 10 minutes to 30 days ahead are handed to the platform's own scheduler."""
        return False

    @property
    def daily_cap(self) -> int | None:
        """Posts allowed per 24 hours (``daily_cap`` in the account's config), None: no cap."""
        value = self.account.get_int("daily_cap", 0)
        return value or None

    def connect(self, root: Path) -> Publisher:
        """A client that publishes to this account (imports the platform's SDK only now).
        ``root`` is the campaign folder. Raises ConfigError for missing settings or secrets."""
        from eduadvocate.core.errors import ConfigError

        raise ConfigError(
            f'publishing to {self.title} is not supported by this version (account "{self.account.name}")',
            hint="use check and render for it, or publish to another account",
        )
