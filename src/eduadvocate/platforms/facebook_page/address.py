"""What a Facebook address names, read offline (``reply_to:``): a Page post or a comment, as
Graph's ids. Here rather than in ``client`` so that ``check`` reads it without the Graph client
(and ``requests``) loaded. Nothing is fetched."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

MAX_LENGTH = 2048  # as platforms.posturl: longer is no post's address
HOSTS = frozenset(
    f"{sub}{domain}" for sub in ("", "www.", "m.", "web.") for domain in ("facebook.com", "fb.com")
)
_NUMBER = re.compile(r"\d{1,30}")
_GRAPH_ID = re.compile(r"(\d{1,30})_(\d{1,30})")


def graph_target(url: str, page: str) -> tuple[str, str] | None:
    """What a Facebook address names, read offline: ``("post", "{page}_{n}")`` or
    ``("comment", "{n}_{c}")`` (Graph's ids), or None when it holds no id to answer. Read:
    a comment's permalink (``…/posts/N/?comment_id=C``, ``&reply_comment_id=R`` for a reply,
    ``permalink.php?story_fbid=N&id=…``, ``photo.php?fbid=N``, ``…/videos/N``), a Page post's
    (the same without ``comment_id``; ``facebook.com/PAGE_N``, what eduadvocate records) and a
    comment's Graph id as ``facebook.com/N_C``. A post is this Page's: a Page answers under its
    own posts only. ``pfbid…`` share links hold no id."""
    if len(url) > MAX_LENGTH:
        return None
    try:
        parts = urlsplit(url)
        query = parse_qs(parts.query, max_num_fields=20)
    except ValueError:
        return None
    if parts.scheme != "https" or (parts.hostname or "") not in HOSTS:
        return None
    segments = [s for s in parts.path.split("/") if s]

    def number(name: str) -> str | None:
        values = query.get(name) or []
        return values[0] if len(values) == 1 and _NUMBER.fullmatch(values[0]) else None

    post: str | None = None
    if len(segments) == 1 and (whole := _GRAPH_ID.fullmatch(segments[0])):
        if whole.group(1) != page:  # a comment's Graph id: the post's number, the comment's
            return "comment", segments[0]
        post = whole.group(2)
    elif (
        len(segments) == 3 and segments[1] in {"posts", "videos"} and _NUMBER.fullmatch(segments[2])
    ):
        post = segments[2]
    elif segments in (["permalink.php"], ["story.php"]):
        post = number("story_fbid")
    elif segments in (["photo.php"], ["photo"]):
        post = number("fbid")
    if post is None:
        return None
    comment = number("reply_comment_id") or number("comment_id")
    if "comment_id" in query and number("comment_id") is None:
        return None  # a comment_id that is no number: not a guess at the post
    if comment is not None:
        return "comment", f"{post}_{comment}"
    return "post", f"{page}_{post}"
