"""What a link card shows (Bluesky's external embed, or any platform's preview we build): the
page's OpenGraph title, description and picture, fetched through :mod:`safefetch` and checked.

Both the page and the picture come from whoever controls the link, so everything here is
bounded: the page is read up to ``max_html`` bytes (the tags sit in its head), the picture up to
``max_image`` bytes and ``max_pixels`` pixels (read from its header before anything is decoded),
and only JPEG, PNG, GIF and WebP are handed to Pillow. Any problem raises
:class:`~eduadvocate.platforms.safefetch.Refused` with the reason; the caller leaves the card out.
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from html.parser import HTMLParser

from eduadvocate.content.media import sniff
from eduadvocate.platforms.safefetch import Deadline, Guard, Refused, display, fetch, join

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PICTURE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
_PILLOW_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
MAX_TITLE = 300  # characters kept of a page's title and description
MAX_DESCRIPTION = 1000


@dataclass(frozen=True)
class CardLimits:
    """How much a card may cost: bytes of page and picture, seconds for both, picture pixels."""

    max_html: int = 1_000_000
    max_image: int = 5_000_000
    timeout: float = 10.0
    max_pixels: int = 4096 * 4096


@dataclass(frozen=True)
class LinkCard:
    url: str  # the link as written (the card points there, not where it redirected)
    title: str
    description: str
    picture: bytes | None = None
    picture_type: str | None = None


def read_card(url: str, guard: Guard, limits: CardLimits) -> LinkCard:
    """Fetch the page behind ``url`` and its ``og:image``; raises Refused with the reason."""
    deadline = Deadline(limits.timeout)
    page = fetch(url, guard, accept=HTML_TYPES, max_bytes=limits.max_html,
                 deadline=deadline, truncate=True)  # fmt: skip
    meta = page_meta(page.body, page.charset)
    title = meta.get("og:title") or meta.get("title") or url
    description = meta.get("og:description") or meta.get("description") or ""
    card = LinkCard(url, _clip(title, MAX_TITLE), _clip(description, MAX_DESCRIPTION))
    image = meta.get("og:image", "").strip()
    if not image:
        return card
    where = join(page.url, image)  # relative to the page as found, after its redirects
    got = fetch(where, guard, accept=PICTURE_TYPES, max_bytes=limits.max_image, deadline=deadline)
    kind = checked_picture(got.body, limits.max_pixels, display(where))
    return LinkCard(card.url, card.title, card.description, got.body, kind)


def checked_picture(data: bytes, max_pixels: int, where: str) -> str:
    """The picture's MIME type, once its bytes are one of ours, no larger than ``max_pixels``,
    and decode (Pillow, limited to those formats); raises Refused otherwise."""
    kind, size = sniff(data)  # the whole picture: a JPEG's size may come after 64 KB of tags
    if kind not in PICTURE_TYPES:
        raise Refused(f"the picture at {where} is not a picture (no JPEG, PNG, GIF or WebP data)")
    if size is not None and size[0] * size[1] > max_pixels:
        raise Refused(_too_big(where, size, max_pixels))
    from PIL import Image

    # Pillow's errors for a picture it cannot read, named: an unknown or broken format
    # (UnidentifiedImageError is an OSError; some decoders raise SyntaxError or EOFError),
    # a value it rejects (ValueError), a bomb over twice Image.MAX_IMAGE_PIXELS (and over once,
    # where warnings are errors, as under pytest).
    unreadable = (
        OSError,
        SyntaxError,
        EOFError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    )
    try:
        with Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS) as image:
            if image.width * image.height > max_pixels:  # a size only Pillow found
                raise Refused(_too_big(where, image.size, max_pixels))
            image.load()
    except unreadable as exc:
        raise Refused(
            f"the picture at {where} cannot be read ({type(exc).__name__}: {exc})"
        ) from None
    return kind


def _too_big(where: str, size: tuple[int, int], max_pixels: int) -> str:
    return (
        f"the picture at {where} is {size[0]} x {size[1]} pixels, over the limit of "
        f"{max_pixels:,} pixels"
    )


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class _Meta(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, str] = {}
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta":
            key = values.get("property") or values.get("name")
            content = values.get("content")
            if key and content and key.lower() not in self.found:
                self.found[key.lower()] = content
        self._in_title = tag == "title"

    def handle_data(self, data: str) -> None:
        if self._in_title and data.strip() and "title" not in self.found:
            self.found["title"] = data.strip()

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False


def page_meta(html: bytes, charset: str | None = None) -> dict[str, str]:
    """The page's <meta> tags (``og:title``, ``description``, …) and its <title>; markup the
    parser cannot make sense of is skipped (html.parser does not raise on bad HTML)."""
    try:
        encoding = codecs.lookup(charset or "utf-8").name
    except LookupError:
        encoding = "utf-8"
    parser = _Meta()
    parser.feed(html.decode(encoding, errors="replace"))
    parser.close()
    return parser.found
