"""The campaign as loaded from its files: posts and people (the defaults in force for each post
are :class:`~eduadvocate.config.defaults.Defaults`, shared with the config).

Plain dataclasses, no behaviour beyond small lookups. Every value that a check can complain about
keeps the :class:`~eduadvocate.core.errors.Location` it was written at. The loader makes each
Post and Content with :func:`new_post` and :func:`new_content`: the same objects, made faster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eduadvocate.config.defaults import Defaults
from eduadvocate.core.errors import Location, Problem, unfrozen_twin


@dataclass(frozen=True, slots=True)
class Captions:
    """A video's captions file (WebVTT or SRT), relative to the campaign folder; ``language``
    when written as ``captions: {en: …}``, else None (the post's language)."""

    path: str
    language: str | None
    loc: Location


@dataclass(frozen=True, slots=True)
class Media:
    """An image or video attached to a post; ``path`` is relative to the campaign folder.
    ``captions``: the video's captions files; ``no_captions``: ``captions: none`` (it needs
    none, e.g. no one speaks); ``thumbnail``: a video's picture shown before it plays (an image
    file, relative to the campaign folder like ``path``)."""

    path: str
    alt: str | None
    loc: Location
    alt_loc: Location | None = None
    captions: tuple[Captions, ...] = ()
    no_captions: bool = False
    thumbnail: str | None = None
    thumbnail_loc: Location | None = None


@dataclass(frozen=True, slots=True)
class Content:
    """What a post says; the post's own content and each per-platform override have this shape.

    ``None`` means "not given here" so an override can inherit from the post.
    """

    text: str | None = None
    thread: tuple[str, ...] | None = None
    media: tuple[Media, ...] | None = None
    link: str | None = None
    hashtags: tuple[str, ...] | None = None
    split: str | None = None  # "auto" | "never"
    numbering: bool | None = None
    content_warning: str | None = None
    card: bool | None = None
    loc: Location | None = None
    text_loc: Location | None = None
    link_loc: Location | None = None
    hashtags_loc: Location | None = None


@dataclass(frozen=True, slots=True)
class Post:
    """One post as written. ``id`` is its identity forever; ``defaults`` are those in force for it."""

    id: str
    loc: Location
    file: str
    defaults: Defaults
    content: Content
    overrides: dict[str, Content]
    at: str | None = None
    at_loc: Location | None = None
    every: str | None = None
    every_loc: Location | None = None
    start: str | None = None  # `from`
    start_loc: Location | None = None
    until: str | None = None
    until_loc: Location | None = None
    accounts: tuple[str, ...] | None = None
    accounts_loc: Location | None = None
    vars: dict[str, str] = field(default_factory=dict)
    language: str | None = None
    reply_to: str | None = None  # the address of a post this one answers (untrusted text)
    reply_to_loc: Location | None = None
    repost: str | None = None  # the address of another's post to repost or boost (no content)
    repost_loc: Location | None = None
    quote: str | None = None  # the address of another's post this one quotes
    quote_loc: Location | None = None
    reel_loc: Location | None = None  # where ``facebook: {as: reel}`` is written; None: not a Reel

    @property
    def shares(self) -> tuple[str, str, Location | None] | None:
        """What the post does with another's post: its field (``reply_to``, ``repost`` or
        ``quote``), the address and where it is written; the first set, if several are."""
        for name, url, loc in (
            ("reply_to", self.reply_to, self.reply_to_loc),
            ("repost", self.repost, self.repost_loc),
            ("quote", self.quote, self.quote_loc),
        ):
            if url is not None:
                return name, url, loc
        return None

    @property
    def account_names(self) -> tuple[str, ...]:
        if self.accounts is not None:
            return self.accounts
        return self.defaults.accounts or ()


_UnfrozenContent = unfrozen_twin(Content)
_UnfrozenPost = unfrozen_twin(Post)


def new_content(
    *,
    text: str | None,
    thread: tuple[str, ...] | None,
    media: tuple[Media, ...] | None,
    link: str | None,
    hashtags: tuple[str, ...] | None,
    split: str | None,
    numbering: bool | None,
    content_warning: str | None,
    card: bool | None,
    loc: Location | None,
    text_loc: Location | None,
    link_loc: Location | None,
    hashtags_loc: Location | None,
) -> Content:
    """``Content(...)`` with every field given, made without its frozen ``__init__`` (the
    loader makes one a post and one an override); test_load_fast.py holds it to the class."""
    content: Any = _UnfrozenContent()
    content.text = text
    content.thread = thread
    content.media = media
    content.link = link
    content.hashtags = hashtags
    content.split = split
    content.numbering = numbering
    content.content_warning = content_warning
    content.card = card
    content.loc = loc
    content.text_loc = text_loc
    content.link_loc = link_loc
    content.hashtags_loc = hashtags_loc
    content.__class__ = Content
    return content  # type: ignore[no-any-return]


def new_post(
    *,
    id: str,
    loc: Location,
    file: str,
    defaults: Defaults,
    content: Content,
    overrides: dict[str, Content],
    at: str | None,
    at_loc: Location | None,
    every: str | None,
    every_loc: Location | None,
    start: str | None,
    start_loc: Location | None,
    until: str | None,
    until_loc: Location | None,
    accounts: tuple[str, ...] | None,
    accounts_loc: Location | None,
    vars: dict[str, str],
    language: str | None,
    reply_to: str | None,
    reply_to_loc: Location | None,
    repost: str | None,
    repost_loc: Location | None,
    quote: str | None,
    quote_loc: Location | None,
    reel_loc: Location | None,
) -> Post:
    """``Post(...)`` with every field given, made without its frozen ``__init__`` (as
    :func:`new_content`)."""
    post: Any = _UnfrozenPost()
    post.id = id
    post.loc = loc
    post.file = file
    post.defaults = defaults
    post.content = content
    post.overrides = overrides
    post.at = at
    post.at_loc = at_loc
    post.every = every
    post.every_loc = every_loc
    post.start = start
    post.start_loc = start_loc
    post.until = until
    post.until_loc = until_loc
    post.accounts = accounts
    post.accounts_loc = accounts_loc
    post.vars = vars
    post.language = language
    post.reply_to = reply_to
    post.reply_to_loc = reply_to_loc
    post.repost = repost
    post.repost_loc = repost_loc
    post.quote = quote
    post.quote_loc = quote_loc
    post.reel_loc = reel_loc
    post.__class__ = Post
    return post  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Person:
    """A decision-maker or ally who can be mentioned as ``{@key}``."""

    key: str
    name: str
    handles: dict[str, str]
    loc: Location
    handle_locs: dict[str, Location] = field(default_factory=dict)  # where each handle is written


@dataclass(slots=True)
class Campaign:
    """Everything loaded from a campaign folder, plus the problems met while loading it."""

    root: Path
    posts: list[Post] = field(default_factory=list)
    people: dict[str, Person] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)
