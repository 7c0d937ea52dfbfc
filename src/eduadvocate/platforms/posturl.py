"""The address of a post on some platform (a post's ``reply_to:``), read by its shape alone.

``check`` uses it offline to name the platform a reply goes to, and the adapters use the same
reading at publish time to know what to ask their own server. An address is untrusted text from
a posts file: it is never fetched here, only matched against the shapes below (whole, with
``fullmatch``), and nothing longer than :data:`MAX_LENGTH` is read at all. Whatever an adapter
then asks goes to the account's own server (Bluesky's PDS, the Mastodon instance), never to the
host the address names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LENGTH = 2048  # longer is no post's address; nothing of it is matched
# A DNS name of at least two labels whose last is not numeric (atproto handles, Mastodon hosts),
# with an optional port for Mastodon (loopback instances in tests, self-hosted ones).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = rf"(?:{_LABEL}\.)+[A-Za-z](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?"
_DID = r"did:(?:plc:[a-z2-7]{24}|web:[A-Za-z0-9.%-]{1,253})"
_RKEY = r"[A-Za-z0-9._:~-]{1,512}"
_HOST = rf"(?:{_DOMAIN}|\d{{1,3}}(?:\.\d{{1,3}}){{3}})(?::\d{{1,5}})?"
_USER = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}"

_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bluesky", re.compile(rf"https://bsky\.app/profile/(?P<actor>{_DID}|{_DOMAIN})/post/(?P<id>{_RKEY})/?")),
    ("bluesky", re.compile(rf"at://(?P<actor>{_DID}|{_DOMAIN})/app\.bsky\.feed\.post/(?P<id>{_RKEY})")),
    ("x", re.compile(rf"https://(?:www\.|mobile\.)?(?:x|twitter)\.com/(?P<actor>{_USER})/status/(?P<id>\d{{1,20}})/?(?:\?[^\s#]{{0,200}})?")),
    ("facebook", re.compile(r"https://(?:www\.|m\.|web\.)?(?:facebook\.com|fb\.com|fb\.watch)/[^\s#]{1,500}")),
    # Instagram: a media, or one of its comments as eduadvocate names it (.../c/ID/, a reply to
    # it .../c/ID/r/ID/): Graph gives a comment no address of its own.
    ("instagram", re.compile(r"https://(?:www\.)?instagram\.com/(?:p|reel|tv)/(?P<id>[A-Za-z0-9_-]{1,64})(?:/c/(?P<comment>\d{1,30})(?:/r/(?P<reply>\d{1,30}))?)?/?(?:\?[^\s#]{0,200})?")),
    # Mastodon (and what federates with its URLs): https://HOST/@user/ID or .../users/u/statuses/ID
    ("mastodon", re.compile(rf"https?://(?P<host>{_HOST})/@(?P<actor>{_USER}(?:@{_DOMAIN})?)/(?P<id>\d{{1,20}})/?")),
    ("mastodon", re.compile(rf"https?://(?P<host>{_HOST})/users/(?P<actor>{_USER})/statuses/(?P<id>\d{{1,20}})/?")),
)  # fmt: skip
TITLES = {
    "bluesky": "Bluesky",
    "x": "X",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "mastodon": "Mastodon",
}
EXAMPLES = (
    "https://bsky.app/profile/HANDLE/post/ID, at://DID/app.bsky.feed.post/ID,"
    " https://INSTANCE/@USER/ID, https://x.com/USER/status/ID"
)


@dataclass(frozen=True, slots=True)
class PostAddress:
    """A post's address read by its shape: its platform, the author as written (a handle, a DID,
    a user name), the post's id on its platform (a Bluesky record key, a status id, an Instagram
    shortcode), for Mastodon the host that wrote it, and for an Instagram comment its id."""

    platform: str
    url: str
    actor: str | None
    post: str | None
    host: str | None = None
    # An Instagram comment's id (and the reply's, under it), when the address names one.
    comment: str | None = None
    reply: str | None = None

    @property
    def title(self) -> str:
        return TITLES.get(self.platform, self.platform)


def post_address(url: str) -> PostAddress | None:
    """What ``url`` names, or None when it has no shape known here (or is longer than
    :data:`MAX_LENGTH`, or is not plain printable text)."""
    if len(url) > MAX_LENGTH or not url.isascii() or not url.isprintable():
        return None
    for platform, shape in _SHAPES:
        match = shape.fullmatch(url)
        if match is not None:
            found = match.groupdict()
            return PostAddress(
                platform,
                url,
                found.get("actor"),
                found.get("id"),
                found.get("host"),
                found.get("comment"),
                found.get("reply"),
            )
    return None
