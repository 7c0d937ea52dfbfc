"""A stateful fake of the Facebook Graph API on loopback, for tests that go through the real
adapters (``platforms.graph_api`` on ``requests``): Page posts, photos and videos, native
scheduling, and Instagram content publishing. Its own tests (``test_graph_fake.py``) talk to it through
facebook-sdk, a client written by others, so the fake is not shaped by our client's habits.

Owns: Pages and their access tokens (scopes, expiry, ``/me``, ``/debug_token``), Page posts
(text, link, photos, multi-photo via ``attached_media``, scheduled posts that go live when the
clock passes them), Instagram users with a ``media_base_url`` the fake pretends to fetch from,
media containers (``IN_PROGRESS`` → ``FINISHED`` after a settable delay), publishing with the
24-hour quota, comments and their replies, engagement counts and insights that grow with age,
usage headers, fault injection and a settable clock.  The server is standard library only;
``rewrite_session`` points a ``requests`` session at it and ``capture_last_response`` keeps the
last HTTP answer (status and usage headers), which facebook-sdk does not return.

Error bodies follow Graph's ``{"error": {"message", "type", "code", "error_subcode",
"fbtrace_id"}}`` with HTTP 400; Instagram errors carry the documented code/subcode pairs.  The fake
fetches nothing: a media URL is "fetched" when it starts with the IG user's ``media_base_url``.

Engagement: counts grow with age (:func:`engagement`) plus whatever :meth:`GraphFake.engage`
added.  A Page post answers ``reactions.summary(true)``, ``comments.summary(true)``, ``shares``
(left out until someone shares, as Graph does) and ``insights.metric(post_impressions,...)`` in
``fields``, and ``GET /{post-id}/insights?metric=...`` (:data:`POST_METRICS`).  Instagram media
(``add_ig_media(..., product_type="FEED" | "REELS" | "STORY")``) answer ``like_count`` and
``comments_count`` in ``fields``, and their insights (:data:`IG_METRICS`) through
``GET /{ig-media-id}/insights?metric=...`` or ``insights.metric(...)`` in ``fields``:
``reach,likes,comments,saved,shares`` works for FEED and REELS.  A metric the product type lacks
is ``(#100) The Media Insights API does not support the M metric for this media product type.``;
one the version lacks (``impressions``, ``plays``... from v22.0) or that never existed is
``(#100) metric[i] must be one of the following values: ...``.  Reading insights needs
``read_insights`` (Page posts) or ``instagram_manage_insights`` (Instagram), which the default
scopes include; a token without it fails the whole request, insights field or edge alike, with
``(#10) Application does not have permission for this action``.

Comments (what ``inbox pull`` reads): :meth:`GraphFake.add_comment` writes a comment, or a reply
to one, under a Page post or an Instagram media, by another person or by the Page or Instagram
account itself (replies stay one level deep, as on both platforms).  ``GET /{post-id}/comments``
answers Graph's ``filter`` (``toplevel``, the default, or ``stream``: replies too, each with its
``parent``) and ``order`` (``chronological``, the default, or ``reverse_chronological``), fields
``id,from{id,name},message,created_time,permalink_url,parent{id}`` and the rest of
:data:`FB_COMMENT_FIELDS`; ``GET /{comment-id}/comments`` lists a comment's replies.
``GET /{ig-media-id}/comments`` lists the top-level comments newest first, each with
``replies{...}`` as a nested edge (``.limit(n)``, 25 by default, with its own paging), and
``GET /{ig-comment-id}/replies`` the replies, oldest first; an Instagram comment shows ``user``
only when the account itself wrote it.  Pages are ``{"data": [...], "paging": {"cursors":
{"before", "after"}, "next"}}``, ``next`` only while more follow; the cursors name a comment's
place, not an index, so a comment written between two pages shifts nothing.  Reading needs
``pages_read_engagement`` and ``pages_read_user_content`` (Facebook) or
``instagram_manage_comments`` (Instagram), in the default scopes; without one, code 10 with the
message Graph gives (:data:`PAGE_READ_REFUSED`, :data:`IG_REFUSED`).  Deleting a post deletes its
comments.  Stored comments do not change the counts ``engage`` and age give.  Answering (what
``reply_to:`` sends): ``POST /{post-id}/comments`` and ``POST /{comment-id}/comments`` (Facebook,
``message``; ``pages_manage_engagement``, else ``(#200)``; a reply to a reply is filed under its
top comment) and ``POST /{ig-media-id}/comments`` and ``POST /{ig-comment-id}/replies``
(Instagram, ``message``; ``instagram_manage_comments``, else ``(#10)``; a reply's replies are
refused as unsupported) write the Page's or the account's own comment and answer
``{"id": ...}``; it reads back like any other.

Page videos (the Video API): ``POST /{page-id}/videos`` on either host takes ``source`` in one
request (up to ``simple_video_max``, 1 GB) or the resumable upload: ``upload_phase=start`` with
``file_size`` answers ``video_id``, ``upload_session_id`` and the first ``start_offset`` and
``end_offset`` (as strings, as Graph sends them); each ``transfer`` must send ``start_offset`` and
a ``video_file_chunk`` of exactly the bytes asked, and answers the next pair (``video_chunk``
bytes at a time); ``finish`` with the ``description`` (and ``published=false`` with
``scheduled_publish_time``, judged like a post's) stores the video under the promised id and
answers ``{"success": true}``. Errors are the Video API's: 1363022/1363023 (under 1 KB, over
2 GB or over the one-request limit), 1363037 with ``error_data`` naming the expected offsets,
1363030 once a session is older than :data:`UPLOAD_SESSION_TTL`, 1363019 for a finish before
every byte came; :meth:`GraphFake.fail_upload` fails a chosen phase after n good ones. A
video's ``status.video_status`` is ``video_status`` when it is stored (``ready``,
``processing`` or ``error``, the last with ``processing_phase.errors``). ``GET
/{page-id}/videos`` lists them all, newest first, scheduled ones too; ``DELETE /{video-id}``.
Reels (the Reels Publishing API): ``POST /{page-id}/video_reels`` with ``upload_phase=start``
answers ``video_id`` and ``upload_url``; the bytes go to ``/video-upload/{version}/{video_id}`` (the
upload host, rupload.facebook.com, served here at the same address) with ``Authorization: OAuth``
and the headers ``offset`` (the bytes it has) and ``file_size``; ``finish`` with ``video_state``
(``PUBLISHED``, ``SCHEDULED`` with ``scheduled_publish_time``, ``DRAFT``) and ``description``
publishes it. ``GET /{video-id}?fields=status`` answers ``video_status`` and the
``uploading_phase``, ``processing_phase`` and ``publishing_phase`` (``publish_status``):
``reel_status`` (``ready``, ``processing``: never done, ``error``) and ``reel_processing_reads``
(status reads still "in progress") decide it. ``GET /{page-id}/video_reels`` lists the finished
ones, newest first; :meth:`GraphFake.reels` shows them all.
``POST /{video-id}/captions`` takes ``captions_file`` (SRT, named ``filename.{locale}.srt`` with
a locale the fake knows, at most 200 KB) and ``default_locale``; ``GET`` lists them.
A video answers ``reactions`` and ``comments`` (with ``.summary``) as fields, and has a
``comments`` edge (``add_comment`` writes under it), but no ``shares`` or post insights: asking
for them is Graph's "nonexisting field" error.
The fake checks that a video starts with an ``ftyp`` box, nothing more.

Several objects at once: ``GET /v21.0/?ids=ID1,ID2&fields=...`` (facebook-sdk's ``get_objects``)
answers ``{"ID1": {...}, "ID2": {...}}`` in one request, each object rendered with the same
``fields`` (a field one of them lacks fails the request, as Graph does), and counts as one call per
id in the usage headers.  More than 50 ids: ``(#100) Too many IDs. Maximum: 50. Provided: N.``;
any id the fake does not have (never existed or deleted): HTTP 404 ``(#803) Some of the aliases you
requested do not exist: ID,...`` for the whole request; another Page's object: the single-object
``Unsupported get request`` error.  Unversioned paths (``graph.request("123/insights")``) are
served as ``v21.0``.

Test API over HTTP (for a fake in another process): ``POST /_fake/pages``, ``/_fake/ig_users``,
``/_fake/comments`` (``add_comment``'s arguments),
``/_fake/engage`` (``object_id`` and counts), ``/_fake/faults``, ``/_fake/clock`` (``seconds``),
``/_fake/reset``, ``/_fake/container_delay``, ``/_fake/publishing_limit``, ``/_fake/usage``;
``GET /_fake/state``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import math
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

GRAPH_HOSTS = frozenset({"graph.facebook.com", "graph-video.facebook.com", "rupload.facebook.com"})
PUBLIC_BASE = "https://graph.facebook.com"
DEFAULT_VERSION = "v21.0"
DAY = 86_400
SCHEDULE_MIN, SCHEDULE_MAX = 600, 30 * DAY  # Pages accept 10 minutes to 30 days ahead
DEFAULT_QUOTA = 100  # API-published Instagram posts per rolling 24 hours
HOURLY_CALLS = 200  # Graph's platform budget is 200 calls an hour per user of the app
CAPTION_MAX = 2200
MAX_IDS = 50  # ids in one ``?ids=`` lookup
DEFAULT_SCOPES = ("pages_show_list", "pages_read_engagement", "pages_manage_posts", "read_insights",
                  "pages_read_user_content", "pages_manage_engagement", "instagram_basic", "instagram_content_publish",
                  "instagram_manage_insights", "instagram_manage_comments",
                  "business_management")  # fmt: skip
COMMENTS_LIMIT = 25  # comments a page unless ``limit`` says (Graph's default page size)
COMMENTS_MAX = 100
# What Graph answers a Page token lacking a permission that reading a post's comments needs
# (the Pages API's "This endpoint requires the '…' permission or the 'Page Public Content
# Access' feature"), and an Instagram token lacking instagram_manage_comments ("Requires …
# permission to manage the object", Graph's wording for Instagram's permissions).
PAGE_READ_REFUSED = (
    "(#10) This endpoint requires the '{scope}' permission or the 'Page Public Content Access' "
    "feature. Refer to https://developers.facebook.com/docs/apps/review/login-permissions"
    "#manage-pages and https://developers.facebook.com/docs/apps/review/feature"
    "#reference-PAGES_ACCESS for details."
)
IG_REFUSED = "(#10) Requires {scope} permission to manage the object"
# What Graph answers a Page token that may not comment as the Page.
COMMENT_REFUSED = "(#200) This endpoint requires the '{scope}' permission"
FAULT_OPTIONS = {
    "graph_error": {"code", "subcode", "message", "status", "type", "regain_minutes"},
    "html_5xx": {"status"},
    "container_error": {"subcode", "status"},
    "slow": {"seconds"},
    "store_then_wait": {"seconds"},
    "store_then_drop": set(),
    "store_then_malformed": set(),
    "drop": set(),
}
# Graph's throttling codes ("Rate Limiting" and "Handling Errors" in the Graph API docs): app and
# user limits, Page and Instagram business use case limits, and the other BUC families.
THROTTLE_CODES = frozenset(
    {4, 17, 32, 341, 613, 80001, 80002, 80003, 80004, 80005, 80006, 80008, 80009, 80014}
)
MESSAGES = {
    1: "An unknown error occurred",
    2: "An unexpected error has occurred. Please retry your request later.",
    4: "(#4) Application request limit reached",
    10: "(#10) Application does not have permission for this action",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    190: "Invalid OAuth access token - Cannot parse access token",
    200: "(#200) If posting to a page, requires both pages_read_engagement and "
    "pages_manage_posts as an admin with sufficient administrative permission",
    368: "(#368) The action attempted has been deemed abusive or is otherwise disallowed",
    506: "(#506) Duplicate status message",
    341: "(#341) Application limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    1609005: "(#1609005) Error Posting Link",
    80001: "(#80001) There have been too many calls to this Page account. Wait a bit and try "
    "again. For more info, please refer to "
    "https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
    80002: "(#80002) There have been too many calls to this Instagram account. Wait a bit and "
    "try again. For more info, please refer to "
    "https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
}
# Instagram's documented code and user message for each subcode (Graph API error-codes page).
IG_ERRORS = {
    2207001: (-1, "Instagram server error. Try again."),
    2207003: (-2, "It takes too long to download the media."),
    2207004: (36000, "The image is too large to download. It should be less than 8 MiB."),
    2207005: (36001, "The image format is not supported. Supported formats are: JPEG"),
    2207006: (24, "The media with {id} cannot be found"),
    2207008: (24, "The media builder with creation id = {id} does not exist or has been expired."),
    2207009: (36003, "The submitted image with aspect ratio 0.5 cannot be published."),
    2207010: (
        36004,
        "The submitted image's caption was {length} characters long. The maximum "
        "number of characters permitted for a caption is 2200. Please submit media with "
        "a shorter caption.",
    ),
    2207020: (-2, "The media you are trying to access has expired. Please try to upload again."),
    2207023: (100, "The media type {media_type} is unknown."),
    2207026: (
        352,
        "The video format is not supported. Please check spec for supported video format",
    ),
    2207027: (9007, "The media is not ready for publishing, please wait for a moment"),
    2207028: (
        100,
        "Your post won't work as a carousel. Carousels need at least 2 photos/videos "
        "and no more than 10 photos/videos.",
    ),
    2207032: (-1, "Create media fail, please try to re-create media"),
    2207042: (
        9,
        "You reached maximum number of posts that is allowed to be published by "
        "Content Publishing API.",
    ),
    2207050: (25, "The Instagram account is restricted."),
    2207051: (
        4,
        "We restrict certain activity to protect our community. Tell us if you think "
        "we made a mistake.",
    ),
    2207052: (9004, "The media could not be fetched from this uri: {uri}"),
    2207053: (-1, "unknown upload error"),
    2207057: (
        1,
        "Thumbnail offset must be greater than or equal to 0 and less than video duration",
    ),
}
HTML_5XX = (
    "<!DOCTYPE html><html><head><title>Facebook | Error</title></head><body>"
    "<h1>Sorry, something went wrong.</h1><p>We're working on getting this fixed as soon as we "
    "can.</p></body></html>"
)
# Page videos, from the Video API's "Publishing" guide and "Error Codes" reference: one request
# takes up to 1 GB; a video is 1 KB to 2 GB (subcodes 1363022, 1363023); the upload-phase
# errors 1363019 ("try again"), 1363030 (timed out) and 1363037 (a start offset the server did
# not expect, with the offsets it wants in ``error_data``). Graph picks each chunk's size; the
# fake's is small so tests need no large files. Codes 6000 (start) and 6001 (transfer, finish)
# are what Graph sends with these subcodes. An upload session lasts UPLOAD_SESSION_TTL here:
# Graph documents no lifetime, only that a stale one times out (1363030).
SIMPLE_VIDEO_MAX, VIDEO_MIN, VIDEO_MAX = 1_000_000_000, 1024, 2_000_000_000
VIDEO_CHUNK = 4096
UPLOAD_SESSION_TTL = 2 * 3600
UPLOAD_FAULTS = frozenset({"error", "expired", "offset"})
# Video captions (Graph API reference, Video Captions): SRT, at most 200 KB, named for a
# Facebook locale (``ll_CC``; a few the fake knows, ar_AR and es_LA being Facebook's own).
CAPTIONS_FILE_MAX = 200_000
FB_LOCALES = frozenset({"en_US", "en_GB", "es_LA", "es_ES", "fr_FR", "fr_CA", "pt_BR", "pt_PT",
                        "de_DE", "zh_CN", "zh_TW", "ar_AR", "vi_VN", "ko_KR", "ja_JP"})  # fmt: skip
_SRT_TIMING = re.compile(r"\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}")
VIDEO_TOO_SMALL = ("The video you tried to upload is too small. The minimum size for a video is "
                   "1 KB. Please try again with a larger file.")  # fmt: skip
VIDEO_TOO_LARGE = ("The video you tried to upload is too large. The maximum size for a video is "
                   "2 GB. Please try again with a smaller file.")  # fmt: skip
VIDEO_RETRY_MESSAGE = "There was a problem uploading your video. Please try uploading it again."
VIDEO_TIMEOUT = ("Video Upload Timeout. Your video upload timed out before it could be completed. "
                 "This is probably because of a slow network connection or because the video is "
                 "too large. Please try again.")  # fmt: skip
VIDEO_UNREADABLE = (
    "There was a problem uploading your video file. Please try again with another file."
)
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")


class UnexpectedHost(RuntimeError):
    """A test tried to reach a host that is neither Graph nor the fake."""


class GraphError(Exception):
    """An error answer in Graph's shape (the ``fbtrace_id`` is added when it is sent)."""

    def __init__(
        self,
        code: int,
        message: str | None = None,
        *,
        subcode: int | None = None,
        type: str = "OAuthException",
        status: int = 400,
        is_transient: bool | None = None,
        user_title: str | None = None,
        user_msg: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.code, self.subcode, self.type, self.status = code, subcode, type, status
        self.message = message or MESSAGES.get(code, f"(#{code}) An unknown error occurred")
        self.is_transient, self.user_title, self.user_msg = is_transient, user_title, user_msg
        self.headers = headers or {}
        super().__init__(code, self.message)

    def body(self, trace: str) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        extra = {"error_subcode": self.subcode, "is_transient": self.is_transient,
                 "error_user_title": self.user_title, "error_user_msg": self.user_msg}  # fmt: skip
        error |= {k: v for k, v in extra.items() if v is not None}
        return {"error": error | {"fbtrace_id": trace}}


class UploadError(GraphError):
    """A Video API upload error; a wrong offset carries ``error_data`` with the offsets the
    server expects (Video API "Error Codes", subcode 1363037)."""

    def __init__(self, code: int, subcode: int, message: str, **error_data: int) -> None:
        super().__init__(code, message, subcode=subcode)
        self.error_data = {k: str(v) for k, v in error_data.items()}

    def body(self, trace: str) -> dict[str, Any]:
        out = super().body(trace)
        if self.error_data:
            out["error"]["error_data"] = self.error_data
        return out


def invalid(message: str, subcode: int | None = None) -> GraphError:
    """Graph's ``(#100)`` invalid-parameter error."""
    return GraphError(100, f"(#100) {message}", subcode=subcode)


def unsupported(method: str, object_id: str) -> GraphError:
    """What Graph says about an object that does not exist or that the token cannot see."""
    message = (
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation. "
        "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
    )
    return GraphError(100, message, subcode=33, type="GraphMethodException")


def ig_error(subcode: int, message: str | None = None, **values: Any) -> GraphError:
    """An Instagram content-publishing error with its documented code and user message."""
    code, template = IG_ERRORS[subcode]
    user_msg = template.format(**values) if values else template
    return GraphError(
        code, message or user_msg, subcode=subcode, is_transient=False, user_msg=user_msg
    )


@dataclass
class Token:
    """An access token: whose Page it acts as, what it may do, and until when."""

    value: str
    page_id: str | None  # None: an app token ``app_id|app_secret``
    scopes: list[str]
    issued_at: float
    expires_at: float | None = None  # None: never (a long-lived Page token)


@dataclass
class Page:
    id: str
    name: str
    access_token: str


@dataclass
class IgUser:
    """An Instagram professional account, linked to a Page whose tokens act for it."""

    id: str
    page_id: str
    username: str
    media_base_url: str | None
    quota: int = DEFAULT_QUOTA


@dataclass
class Post:
    """A Page post; a scheduled one goes live when the clock passes ``scheduled_publish_time``."""

    id: str
    page_id: str
    message: str
    created_at: float
    published: bool = True
    scheduled_publish_time: float | None = None
    link: str | None = None
    photo_ids: list[str] = field(default_factory=list)

    def live(self, now: float) -> bool:
        scheduled = self.scheduled_publish_time
        return self.published or (scheduled is not None and scheduled <= now)

    def shown_at(self, now: float) -> float:
        """``created_time``: when it went live (Graph: "initially published")."""
        scheduled = self.scheduled_publish_time
        return scheduled if scheduled is not None and scheduled <= now else self.created_at


@dataclass
class Photo:
    id: str
    page_id: str
    caption: str
    created_at: float
    published: bool
    size: int
    url: str | None = None
    alt_text_custom: str | None = None
    post_id: str | None = None


@dataclass
class Video:
    """A Page video (``/{page-id}/videos``): published, or scheduled to go live when the clock
    passes ``scheduled_publish_time``; ``status`` is what Facebook's processing made of it."""

    id: str
    page_id: str
    description: str
    created_at: float
    size: int
    published: bool = True
    scheduled_publish_time: float | None = None
    status: str = "ready"  # ready, processing or error
    resumable: bool = False
    captions: dict[str, str] = field(default_factory=dict)  # locale → the SRT file's text
    default_locale: str | None = None

    def live(self, now: float) -> bool:
        scheduled = self.scheduled_publish_time
        return self.published or (scheduled is not None and scheduled <= now)


@dataclass
class Reel:
    """A Facebook Reel (``/{page-id}/video_reels``): started (an id, no bytes), uploaded through
    the upload host, then finished as ``PUBLISHED``, ``SCHEDULED`` or ``DRAFT``. ``status`` is
    what processing makes of it (``ready``, ``processing``: never done, ``error``); it is done
    after ``processing_reads`` reads of its status."""

    id: str
    page_id: str
    created_at: float
    description: str = ""
    file_size: int = 0
    received: bytearray = field(default_factory=bytearray)
    video_state: str | None = None  # set by finish
    scheduled_publish_time: float | None = None
    status: str = "ready"
    processing_reads: int = 0
    captions: dict[str, str] = field(default_factory=dict)
    default_locale: str | None = None

    def live(self, now: float) -> bool:
        scheduled = self.scheduled_publish_time
        return self.video_state == "PUBLISHED" or (
            self.video_state == "SCHEDULED" and scheduled is not None and scheduled <= now
        )


@dataclass
class UploadSession:
    """A resumable video upload: the bytes received so far, from offset 0."""

    id: str
    video_id: str
    page_id: str
    file_size: int
    started_at: float
    received: bytearray = field(default_factory=bytearray)
    finished: bool = False


@dataclass
class Container:
    """An Instagram media container (``ShadowIGMediaBuilder``)."""

    id: str
    ig_user_id: str
    media_type: str  # IMAGE, VIDEO, REELS, STORIES or CAROUSEL
    created_at: float
    ready_at: float
    url: str | None = None
    caption: str = ""
    alt_text: str | None = None
    is_carousel_item: bool = False
    video: bool = False
    children: list[str] = field(default_factory=list)
    error_subcode: int | None = None
    media_id: str | None = None  # set once published


@dataclass
class IgMedia:
    id: str
    ig_user_id: str
    container_id: str | None
    media_type: str  # IMAGE, VIDEO or CAROUSEL_ALBUM
    product_type: str  # FEED, REELS or STORY
    caption: str
    created_at: float
    media_url: str | None = None
    alt_text: str | None = None
    children: list[str] = field(default_factory=list)
    parent_id: str | None = None

    @property
    def shortcode(self) -> str:
        digest = hashlib.sha256(self.id.encode()).digest()
        return base64.urlsafe_b64encode(digest).decode()[:11]


@dataclass
class Comment:
    """A comment under a Page post or an Instagram media, or a reply to one (``parent_id``: the
    top-level comment it answers; both platforms keep replies one level deep)."""

    id: str
    object_id: str  # the Page post or the Instagram media it is under
    author_id: str
    author: str  # a person's or the Page's name on Facebook, a username on Instagram
    message: str
    created_at: float
    parent_id: str | None = None
    own: bool = False  # written by the Page (or the Instagram account) itself
    instagram: bool = False

    def key(self) -> tuple[float, str]:
        return (self.created_at, self.id)


class Seen(NamedTuple):
    """One request the fake answered (``status`` None: dropped); ``params`` without the token."""

    method: str
    path: str
    status: int | None
    params: dict[str, str]


@dataclass
class Fault:
    method: str
    path_regex: str
    kind: str
    times: int | None
    opts: dict[str, Any]


@dataclass
class Reply:
    status: int
    body: dict[str, Any] | str | None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


@dataclass
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass
class _Call:
    """One authenticated request, as the route handlers see it."""

    method: str
    version: str
    params: dict[str, str]
    files: dict[str, Upload]
    token: Token

    def fields(self, node_type: str, default: tuple[str, ...], known: set[str]) -> dict[str, str]:
        """Requested ``fields`` (name → modifiers such as ``.summary(true)``); unknown ones fail."""
        chosen = _split_fields(self.params.get("fields", "")) or dict.fromkeys(default, "")
        for name in chosen:
            if name not in known:
                raise invalid(
                    f"Tried accessing nonexisting field ({name}) on node type ({node_type})"
                )
        return chosen

    def flag(self, name: str, default: bool) -> bool:
        value = self.params.get(name)
        return default if value is None else value.strip().lower() not in {"false", "0", ""}


def _split_fields(raw: str) -> dict[str, str]:
    out, depth, start = {}, 0, 0
    for i, char in enumerate(raw + ","):
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        elif char == "," and depth == 0:
            item, start = raw[start:i].strip(), i + 1
            if item:
                name = re.split(r"[.{]", item, maxsplit=1)[0]
                out[name] = item[len(name) :]
    return out


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, Upload]]:
    found = re.search(r'boundary="?([^";]+)"?', content_type)
    if not found:
        raise invalid("Malformed multipart body")
    fields, files = {}, {}
    for chunk in body.split(b"--" + found.group(1).encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, value = chunk.partition(b"\r\n\r\n")
        value = value.removesuffix(b"\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        if not name:
            continue
        filename = re.search(rb'filename="([^"]*)"', head)
        if filename is None:
            fields[name.group(1).decode()] = value.decode()
            continue
        ctype = re.search(rb"Content-Type:\s*([^\r\n]+)", head, re.IGNORECASE)
        kind = ctype.group(1).decode() if ctype else "application/octet-stream"
        files[name.group(1).decode()] = Upload(filename.group(1).decode(), kind, value)
    return fields, files


def graph_time(at: float) -> str:
    """Graph's timestamps: ``2026-11-28T12:00:00+0000``."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _expired_message(expired_at: float, now: float) -> str:
    def pacific(at: float) -> str:
        try:
            from zoneinfo import ZoneInfo

            return datetime.fromtimestamp(at, ZoneInfo("America/Los_Angeles")).strftime(
                "%A, %d-%b-%y %H:%M:%S %Z"
            )
        except (ImportError, KeyError, ValueError):  # no tz database: Graph's clock is Pacific
            return datetime.fromtimestamp(at, UTC).strftime("%A, %d-%b-%y %H:%M:%S UTC")

    return (
        f"Error validating access token: Session has expired on {pacific(expired_at)}. "
        f"The current time is {pacific(now)}."
    )


def _epoch(value: str, name: str) -> float:
    """A Unix timestamp or an ISO 8601 time, as Graph takes ``since``/``until``/schedules."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"The parameter {name} is not a valid time: {value}") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def engagement(object_id: str, created_at: float, now: float) -> dict[str, int]:
    """Counts that grow with the object's age, settle after two days and are the same every run."""
    minutes = max(now - created_at, 0.0) // 60  # nothing in the first minute
    grown = math.sqrt(min(minutes / 60, 48.0))
    seed = int(re.sub(r"\D", "", object_id)[-6:] or "0") % 5 + 1
    reactions = int(seed * 4 * grown)
    return {"reactions": reactions, "comments": reactions // 5, "shares": reactions // 8,
            "saves": reactions // 6, "impressions": int(seed * 120 * grown),
            "reach": int(seed * 85 * grown), "clicks": int(seed * 6 * grown)}  # fmt: skip


POST_METRICS = {  # name → (engagement key, title, description)
    "post_impressions": ("impressions", "Lifetime Post Total Impressions",
                         "Lifetime: The number of times your Page's post entered a person's screen."),
    "post_impressions_unique": ("reach", "Lifetime Post Total Reach",
                                "Lifetime: The number of people who had your Page's post enter their screen."),
    "post_clicks": ("clicks", "Lifetime Post Clicks",
                    "Lifetime: The number of clicks anywhere in your post."),
    "post_reactions_by_type_total": ("reactions", "Lifetime Total post Reactions by Type.",
                                     "Lifetime: Total post reactions by type."),
}  # fmt: skip
FEED, REELS, STORY = "FEED", "REELS", "STORY"
# Instagram media insights (Graph v21 names): name → (media product types, last API version that
# has it or 0 for all, title); values come from ``ig_metric_value``.
IG_METRICS: dict[str, tuple[frozenset[str], int, str]] = {
    "comments": (frozenset({FEED, REELS}), 0, "Comments"),
    "follows": (frozenset({FEED, STORY}), 0, "Follows"),
    "ig_reels_avg_watch_time": (frozenset({REELS}), 0, "Average watch time"),
    "ig_reels_video_view_total_time": (frozenset({REELS}), 0, "Watch time"),
    "likes": (frozenset({FEED, REELS}), 0, "Likes"),
    "navigation": (frozenset({STORY}), 0, "Navigation"),
    "profile_activity": (frozenset({FEED, STORY}), 0, "Profile activity"),
    "profile_visits": (frozenset({FEED, STORY}), 0, "Profile visits"),
    "reach": (frozenset({FEED, REELS, STORY}), 0, "Accounts reached"),
    "replies": (frozenset({STORY}), 0, "Replies"),
    "saved": (frozenset({FEED, REELS}), 0, "Saved"),
    "shares": (frozenset({FEED, REELS, STORY}), 0, "Shares"),
    "total_interactions": (frozenset({FEED, REELS, STORY}), 0, "Interactions"),
    "views": (frozenset({FEED, REELS, STORY}), 0, "Views"),
    # Deprecated in v22.0 (Graph's Instagram changelog): older versions still answer them.
    "impressions": (frozenset({FEED, STORY}), 21, "Impressions"),
    "plays": (frozenset({REELS}), 21, "Plays"),
    "clips_replays_count": (frozenset({REELS}), 21, "Replays"),
    "ig_reels_aggregated_all_plays_count": (frozenset({REELS}), 21, "Plays"),
}


def ig_metric_value(name: str, counts: dict[str, int]) -> int:
    """One Instagram media metric from the object's counts."""
    watch_ms = (counts["impressions"] % 7 + 3) * 1000 if counts["impressions"] else 0
    interactions = counts["reactions"] + counts["comments"] + counts["shares"] + counts["saves"]
    values = {"comments": counts["comments"], "replies": counts["comments"],
              "likes": counts["reactions"], "saved": counts["saves"], "shares": counts["shares"],
              "reach": counts["reach"], "views": counts["impressions"],
              "impressions": counts["impressions"], "plays": counts["impressions"],
              "clips_replays_count": counts["impressions"] // 10,
              "ig_reels_aggregated_all_plays_count": counts["impressions"] * 11 // 10,
              "navigation": counts["impressions"] // 3, "follows": counts["clicks"] // 4,
              "profile_visits": counts["clicks"] // 2, "profile_activity": counts["clicks"] // 2,
              "total_interactions": interactions, "ig_reels_avg_watch_time": watch_ms,
              "ig_reels_video_view_total_time": watch_ms * counts["impressions"]}  # fmt: skip
    return values[name]


def _major(version: str) -> int:
    found = re.match(r"v(\d+)", version)
    return int(found.group(1)) if found else 21


class GraphFake:
    """The fake API: ``with GraphFake() as fake: fake.base_url``; see the module docstring."""

    def __init__(
        self, *, port: int = 0, app_id: str = "640000000000001", app_secret: str = "fake-secret"
    ) -> None:
        self._port = port
        self.app_id, self.app_secret, self.app_name = app_id, app_secret, "eduadvocate"
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._faults: list[Fault] = []
        self.pages: dict[str, Page] = {}
        self.ig_users: dict[str, IgUser] = {}
        self.tokens: dict[str, Token] = {}
        self._ids = 0
        self._clear()

    def _clear(self) -> None:
        self.clock_offset = 0.0
        self.container_delay = 0.0
        self.requests: list[Seen] = []
        self._posts: dict[str, Post] = {}
        self._photos: dict[str, Photo] = {}
        self._videos: dict[str, Video] = {}
        self._uploads: dict[str, UploadSession] = {}
        self._reels: dict[str, Reel] = {}
        self.reel_status = "ready"  # what processing makes of the next Reels
        self.reel_processing_reads = 0  # status reads a Reel answers "in progress" before done
        self.video_status = "ready"  # what processing makes of the next videos
        self.video_chunk = VIDEO_CHUNK
        self.simple_video_max = SIMPLE_VIDEO_MAX
        self._upload_faults: list[tuple[str, int, str]] = []  # phase, after n ok, kind
        self._containers: dict[str, Container] = {}
        self._media: dict[str, IgMedia] = {}
        self._comments: dict[str, Comment] = {}
        self._published: dict[str, list[float]] = {}  # IG user id → media_publish times
        self._engaged: dict[str, dict[str, int]] = {}  # post or media id → count → added
        self._calls: list[float] = []
        self._usage: dict[str, int] = {}
        self._container_fault: tuple[int, str] | None = None  # subcode, ERROR or EXPIRED
        self._traces = 0
        self._faults.clear()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> GraphFake:
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.fake = self
        quick_stop = {"poll_interval": 0.01}
        threading.Thread(target=server.serve_forever, kwargs=quick_stop, daemon=True).start()
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> GraphFake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def app_token(self) -> str:
        """The app access token ``app_id|app_secret`` (what ``debug_access_token`` sends)."""
        return f"{self.app_id}|{self.app_secret}"

    # -- test API ----------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the clock on: containers finish, scheduled posts go live, quotas and counts roll."""
        with self._lock:
            self.clock_offset += seconds

    def _new_id(self, base: int = 100_000_000_000_000) -> str:
        self._ids += 1
        return str(base + self._ids * 7919)  # distinct, and no two objects share a suffix

    def add_page(
        self,
        page_id: str | None = None,
        name: str = "Test Page",
        token: str | None = None,
        *,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
    ) -> Page:
        """A Page and a long-lived Page token for it (derived from the id unless given)."""
        with self._lock:
            pid = page_id or self._new_id()
            value = token or "EAAP" + hashlib.sha256(f"page:{pid}".encode()).hexdigest()[:40]
            self.tokens[value] = Token(value, pid, list(scopes), self.now())
            page = Page(pid, name, value)
            self.pages[pid] = page
            return page

    def add_token(
        self,
        page: Page | str,
        token: str | None = None,
        *,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        expires_in: float | None = None,
    ) -> str:
        """Another token acting as ``page``, e.g. with fewer scopes or one that expires."""
        with self._lock:
            pid = self._page(page).id
            value = (
                token
                or "EAAP" + hashlib.sha256(f"{pid}:{len(self.tokens)}".encode()).hexdigest()[:40]
            )
            expires = None if expires_in is None else self.now() + expires_in
            self.tokens[value] = Token(value, pid, list(scopes), self.now(), expires)
            return value

    def expire_token(self, token: str) -> None:
        """From now on ``token`` answers 190 with subcode 463 (session has expired)."""
        with self._lock:
            self.tokens[token].expires_at = self.now() - 1

    def add_ig_user(
        self,
        ig_user_id: str | None = None,
        *,
        page: Page | str,
        token: str | None = None,
        media_base_url: str | None = None,
        username: str = "test_account",
    ) -> IgUser:
        """An Instagram account linked to ``page``; its Page's tokens (or ``token``) act for it.

        ``media_base_url``: image and video URLs under it count as fetched, any other fails as
        Instagram fails an unreachable URL (9004/2207052).
        """
        with self._lock:
            owner = self._page(page)
            if token is not None and token not in self.tokens:
                self.tokens[token] = Token(token, owner.id, list(DEFAULT_SCOPES), self.now())
            user = IgUser(ig_user_id or self._new_id(17_841_400_000_000_000), owner.id, username,
                          media_base_url)  # fmt: skip
            self.ig_users[user.id] = user
            return user

    def set_container_delay(self, seconds: float) -> None:
        """How long new containers stay ``IN_PROGRESS`` (fake clock; 0 = finished at once)."""
        with self._lock:
            self.container_delay = seconds

    def set_publishing_limit(self, ig_user: IgUser | str, quota: int) -> None:
        """The IG user's 24-hour publishing quota (Graph's ``quota_total``)."""
        with self._lock:
            self._ig(ig_user).quota = quota

    def set_usage(self, **percent: int) -> None:
        """Pin usage-header percentages: ``call_count``, ``total_cputime``, ``total_time``,
        ``estimated_time_to_regain_access`` (minutes); no arguments: back to counted usage."""
        allowed = {"call_count", "total_cputime", "total_time", "estimated_time_to_regain_access"}
        if unknown := sorted(set(percent) - allowed):
            raise ValueError(f"unknown usage fields {unknown}")
        with self._lock:
            self._usage = dict(percent)

    def add_post(
        self,
        page: Page | str,
        message: str,
        *,
        created_at: float | None = None,
        scheduled_for: float | None = None,
    ) -> Post:
        """Store a post without HTTP: a published one (e.g. one that went out before a crash), or
        with ``scheduled_for`` (a Unix time) one waiting in the Page's scheduler."""
        with self._lock:
            pid = self._page(page).id
            post = Post(f"{pid}_{self._new_id(122_000_000_000_000_000)}", pid, message,
                        self.now() if created_at is None else created_at,
                        published=scheduled_for is None,
                        scheduled_publish_time=scheduled_for)  # fmt: skip
            self._posts[post.id] = post
            return post

    def add_ig_media(
        self,
        ig_user: IgUser | str,
        caption: str,
        *,
        created_at: float | None = None,
        product_type: str = FEED,
    ) -> IgMedia:
        """Store published Instagram media without HTTP (it does not count against the quota):
        an image, or a video for ``product_type`` ``REELS`` (``FEED``, ``REELS`` or ``STORY``)."""
        if product_type not in {FEED, REELS, STORY}:
            raise ValueError(f"unknown media product type {product_type!r}")
        with self._lock:
            user = self._ig(ig_user)
            kind = "VIDEO" if product_type == REELS else "IMAGE"
            media = IgMedia(self._new_id(17_900_000_000_000_000), user.id, None, kind, product_type,
                            caption, self.now() if created_at is None else created_at)  # fmt: skip
            self._media[media.id] = media
            return media

    def engage(
        self,
        object_id: str,
        *,
        reactions: int = 0,
        comments: int = 0,
        shares: int = 0,
        saves: int = 0,
        impressions: int = 0,
        reach: int = 0,
        clicks: int = 0,
    ) -> dict[str, int]:
        """Add to a Page post's or Instagram media's counts on top of what its age gives
        (negative numbers take away; a count never shows below 0); returns its counts now.

        ``reactions`` are Facebook reactions or Instagram likes, ``impressions`` Instagram views;
        ``saves`` exist on Instagram only, ``clicks`` on Facebook only."""
        added = {"reactions": reactions, "comments": comments, "shares": shares, "saves": saves,
                 "impressions": impressions, "reach": reach, "clicks": clicks}  # fmt: skip
        with self._lock:
            found = self._posts.get(object_id) or self._media.get(object_id)
            if found is None:
                raise KeyError(f"no stored Page post or Instagram media {object_id}")
            lacking = "saves" if isinstance(found, Post) else "clicks"
            if added[lacking]:
                raise ValueError(f"{type(found).__name__} {object_id} has no {lacking}")
            extra = self._engaged.setdefault(object_id, {})
            for name, amount in added.items():
                extra[name] = extra.get(name, 0) + int(amount)
            created = found.shown_at(self.now()) if isinstance(found, Post) else found.created_at
            return self._counts(object_id, created)

    def add_comment(
        self,
        on: str,
        text: str,
        *,
        author: str = "Ann Ally",
        own: bool = False,
        reply_to: str | None = None,
        created_at: float | None = None,
    ) -> Comment:
        """A comment under the Page post or Instagram media ``on`` (its id), written by
        ``author`` (a name on Facebook, a username on Instagram) or, with ``own``, by the Page or
        the Instagram account itself. ``reply_to``: a comment under the same object; a reply to a
        reply is filed under its top-level comment, as both platforms show it."""
        with self._lock:
            found: Post | Video | Reel | IgMedia | None = (
                self._posts.get(on) or self._videos.get(on) or self._reels.get(on)
            ) or self._media.get(on)
            if found is None:
                raise KeyError(f"no stored Page post, Page video or Instagram media {on}")
            parent = None
            if reply_to is not None:
                parent = self._comments.get(reply_to)
                if parent is None or parent.object_id != on:
                    raise KeyError(f"no comment {reply_to} under {on}")
                parent = self._comments[parent.parent_id] if parent.parent_id else parent
            instagram = isinstance(found, IgMedia)
            if own and instagram:
                user = self.ig_users[found.ig_user_id]
                author_id, author = user.id, user.username
            elif own:
                page = self.pages[found.page_id]
                author_id, author = page.id, page.name
            else:  # an app-scoped id, the same for the same person
                digest = hashlib.sha256(f"person:{author}".encode()).hexdigest()
                author_id = str(10**15 + int(digest[:12], 16) % 10**15)
            if instagram:
                comment_id = self._new_id(17_858_000_000_000_000)
            else:
                suffix = on.rpartition("_")[2]
                comment_id = f"{suffix}_{self._new_id(1_000_000_000_000_000)}"
            comment = Comment(comment_id, on, author_id, author, text,
                              self.now() if created_at is None else created_at,
                              parent.id if parent else None, own, instagram)  # fmt: skip
            self._comments[comment.id] = comment
            return comment

    def comments(self, on: str | None = None) -> list[Comment]:
        """Stored comments and replies (under ``on`` only, if given), oldest first."""
        with self._lock:
            found = [c for c in self._comments.values() if on in (None, c.object_id)]
            return sorted(found, key=Comment.key)

    def posts(self, page: Page | str | None = None) -> list[Post]:
        """Stored posts (published, scheduled and unpublished; deleted ones are gone), oldest first."""
        with self._lock:
            pid = self._page(page).id if page is not None else None
            return [p for p in self._posts.values() if pid in (None, p.page_id)]

    def photos(self, page: Page | str | None = None) -> list[Photo]:
        with self._lock:
            pid = self._page(page).id if page is not None else None
            return [p for p in self._photos.values() if pid in (None, p.page_id)]

    def videos(self, page: Page | str | None = None) -> list[Video]:
        """Stored Page videos (published, processing, scheduled), oldest first."""
        with self._lock:
            pid = self._page(page).id if page is not None else None
            return [v for v in self._videos.values() if pid in (None, v.page_id)]

    def reels(self, page: Page | str | None = None) -> list[Reel]:
        """Stored Reels, started or finished, oldest first."""
        with self._lock:
            pid = self._page(page).id if page is not None else None
            return [r for r in self._reels.values() if pid in (None, r.page_id)]

    def upload_sessions(self) -> list[UploadSession]:
        with self._lock:
            return list(self._uploads.values())

    def fail_upload(self, phase: str, *, after: int = 0, kind: str = "error") -> None:
        """Fail the next ``transfer`` (or ``start``/``finish``) ``phase`` of a resumable upload
        once ``after`` of them have succeeded (``"rupload"``: a Reel's upload, where ``"error"`` is
        the upload host's retriable error and the others its final one): ``kind`` ``"error"``
        (1363019, "try again"),
        ``"expired"`` (the session has lapsed: every later call on it fails too), ``"offset"``
        (1363037 as if a chunk were lost)."""
        if phase not in {"start", "transfer", "finish", "rupload"} or kind not in UPLOAD_FAULTS:
            raise ValueError(f"unknown upload fault {phase!r}/{kind!r}")
        with self._lock:
            self._upload_faults.append((phase, after, kind))

    def containers(self, ig_user: IgUser | str | None = None) -> list[Container]:
        with self._lock:
            uid = self._ig(ig_user).id if ig_user is not None else None
            return [c for c in self._containers.values() if uid in (None, c.ig_user_id)]

    def ig_media(self, ig_user: IgUser | str | None = None) -> list[IgMedia]:
        """Published Instagram media (carousel children excluded), oldest first."""
        with self._lock:
            uid = self._ig(ig_user).id if ig_user is not None else None
            return [
                m
                for m in self._media.values()
                if uid in (None, m.ig_user_id) and m.parent_id is None
            ]

    def container_status(self, container: Container | str) -> str:
        """``IN_PROGRESS``, ``FINISHED``, ``ERROR``, ``EXPIRED`` or ``PUBLISHED``, as of now."""
        with self._lock:
            found = self._containers[container if isinstance(container, str) else container.id]
            return self._status(found, self.now())

    def inject(
        self, method: str, path_regex: str, kind: str, times: int | None = 1, **opts: Any
    ) -> None:
        """Answer the next ``times`` matching requests (``None``: all) with a fault.

        ``kind``: ``"graph_error"`` (``code``, ``subcode``, ``message``, ``status`` (400),
        ``type``, ``regain_minutes``; throttling codes such as 4, 17, 32, 613 and 80001 send the
        usage headers at 100 %), ``"html_5xx"`` (a 502/503 HTML page, ``status`` default 503),
        ``"container_error"`` (the container is created but ends in ``ERROR`` with ``subcode``,
        default 2207001, or with ``status="EXPIRED"`` is already 24 hours old),
        ``"slow"`` (sleep ``seconds``, default 1, then act and answer),
        ``"store_then_wait"`` (act, then sleep ``seconds`` before answering),
        ``"store_then_drop"`` (act, then close the connection unanswered),
        ``"store_then_malformed"`` (act, then answer HTTP 200 with ``{}``: no id) or ``"drop"``
        (close without acting).  ``method`` may be ``"*"``; ``path_regex`` is searched in the path.
        A ``graph_error`` with an Instagram ``subcode`` (2207xxx) carries that subcode's documented
        code and user message unless ``code`` or ``message`` is given.
        """
        if kind not in FAULT_OPTIONS:
            raise ValueError(f"unknown fault kind {kind!r}: use one of {', '.join(FAULT_OPTIONS)}")
        if unknown := sorted(set(opts) - FAULT_OPTIONS[kind]):
            raise ValueError(f"unknown options {unknown} for fault {kind!r}")
        with self._lock:
            self._faults.append(Fault(method.upper(), path_regex, kind, times, opts))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def reset(self) -> None:
        """Forget posts, photos, containers, media, faults, requests, usage and the clock; keep
        Pages, IG users and tokens."""
        with self._lock:
            self._clear()

    def snapshot(self) -> dict[str, Any]:
        """The whole state as JSON-able data (what ``GET /_fake/state`` answers)."""
        with self._lock:
            return {
                "pages": [asdict(p) for p in self.pages.values()],
                "ig_users": [asdict(u) for u in self.ig_users.values()],
                "posts": [asdict(p) for p in self._posts.values()],
                "photos": [asdict(p) for p in self._photos.values()],
                "videos": [asdict(v) for v in self._videos.values()],
                "reels": [asdict(r) | {"received": len(r.received)} for r in self._reels.values()],
                "containers": [asdict(c) for c in self._containers.values()],
                "ig_media": [asdict(m) for m in self._media.values()],
                "comments": [asdict(c) for c in self._comments.values()],
                "engaged": self._engaged,
                "clock_offset": self.clock_offset,
                "requests": [r._asdict() for r in self.requests],
            }

    def _page(self, page: Page | str) -> Page:
        return page if isinstance(page, Page) else self.pages[page]

    def _ig(self, user: IgUser | str) -> IgUser:
        return user if isinstance(user, IgUser) else self.ig_users[user]

    # -- request handling --------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        """One HTTP exchange (``headers`` with lower-case names); the server thread calls it."""
        path, _, query = target.partition("?")
        if path.startswith("/_fake/"):
            return self._control(method, path.removeprefix("/_fake/"), body)
        fault = self._take_fault(method, path)
        if fault is not None and fault.kind == "slow":
            time.sleep(float(fault.opts.get("seconds", 1.0)))
        with self._lock:
            params: dict[str, str] = {}
            reply = self._respond(fault, method, path, query, headers, body, params)
            shown = {k: v for k, v in params.items() if k != "access_token"}
            self.requests.append(Seen(method, path, None if reply.drop else reply.status, shown))
        if fault is not None and fault.kind == "store_then_wait":  # acted; the answer is late
            time.sleep(float(fault.opts.get("seconds", 1.0)))
        return reply

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method in ("*", method) and re.search(fault.path_regex, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def _respond(
        self,
        fault: Fault | None,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        params: dict[str, str],
    ) -> Reply:
        kind = fault.kind if fault is not None else ""
        if kind == "drop":
            return Reply(0, None, drop=True)
        now = self.now()
        self._calls = [t for t in self._calls if now - t < 3600] + [now]
        self._traces += 1
        digest = hashlib.sha256(f"trace{self._traces}".encode()).digest()
        trace = "A" + base64.urlsafe_b64encode(digest).decode()[:22]
        token: Token | None = None
        if fault is not None and kind == "html_5xx":  # a front end failing before Graph runs
            status = int(fault.opts.get("status", 503))
            return Reply(status, HTML_5XX, self._usage_headers(None, throttled=False))
        try:
            files: dict[str, Upload] = {}
            params.update(parse_qsl(query, keep_blank_values=True))
            ctype = headers.get("content-type", "")
            if ctype.startswith("application/x-www-form-urlencoded"):
                params.update(parse_qsl(body.decode(), keep_blank_values=True))
            elif ctype.startswith("multipart/form-data"):
                fields, files = _multipart(ctype, body)
                params.update(fields)
            elif ctype.startswith("application/json") and body:
                params.update({k: v if isinstance(v, str) else json.dumps(v)
                               for k, v in json.loads(body).items()})  # fmt: skip
            version, segments = _split_path(path)
            if fault is not None and kind == "graph_error":
                with contextlib.suppress(GraphError):  # usage headers follow the token, if valid
                    token = self._authenticate(params, headers)
                raise self._fault_error(fault.opts)
            token = self._authenticate(params, headers)
            self._container_fault = (
                (int(fault.opts.get("subcode", 2207001)), str(fault.opts.get("status", "ERROR")))
                if fault is not None and kind == "container_error"
                else None
            )
            call = _Call(method, version, params, files, token)
            if path.startswith("/video-upload/"):  # the Reels upload host, rupload.facebook.com
                reply = self._rupload(call, path, headers, body)
            else:
                reply = self._dispatch(call, segments)
        except GraphError as exc:
            throttled = exc.code in THROTTLE_CODES
            headers_out = self._usage_headers(token, throttled, exc.headers.get("regain"))
            reply = Reply(exc.status, exc.body(trace), headers_out)
        else:
            reply.headers = self._usage_headers(token, throttled=False) | reply.headers
        finally:
            self._container_fault = None
        reply.headers |= {"x-fb-trace-id": trace, "facebook-api-version": DEFAULT_VERSION}
        reply.drop = kind == "store_then_drop"
        if kind == "store_then_malformed" and reply.status < 400:  # acted; the answer lacks the id
            reply.body = {}
        return reply

    def _fault_error(self, opts: dict[str, Any]) -> GraphError:
        code, subcode, message = opts.get("code"), opts.get("subcode"), opts.get("message")
        if subcode is not None and int(subcode) in IG_ERRORS:  # its documented code and message
            error = ig_error(int(subcode), id="0", uri="", media_type="", length=0)
            error.code = error.code if code is None else int(code)
        else:
            sub = None if subcode is None else int(subcode)
            error = GraphError(1 if code is None else int(code), message, subcode=sub)
        error.message = message or error.message
        error.type = opts.get("type", error.type)
        error.status = int(opts.get("status", 400))
        if error.code in THROTTLE_CODES:
            error.is_transient = True
            error.headers["regain"] = str(opts.get("regain_minutes", 5))
        return error

    def _authenticate(self, params: dict[str, str], headers: dict[str, str]) -> Token:
        value = params.get("access_token") or ""
        auth = headers.get("authorization", "")
        if not value and auth.startswith(("Bearer ", "OAuth ")):
            value = auth.split(" ", 1)[1].strip()
        if not value:
            raise GraphError(104, "An access token is required to request this resource.")
        if value == self.app_token:
            return Token(value, None, [], 0.0)
        token = self.tokens.get(value)
        if token is None:
            raise GraphError(190)
        if token.expires_at is not None and token.expires_at <= self.now():
            raise GraphError(190, _expired_message(token.expires_at, self.now()), subcode=463)
        return token

    def _usage_headers(
        self, token: Token | None, throttled: bool, regain: str | None = None
    ) -> dict[str, str]:
        """``X-App-Usage`` on every answer; Page-token calls also get ``X-Page-Usage`` and
        ``X-Business-Use-Case-Usage`` (Pages API calls with Page tokens count as BUC)."""
        counted = min(100, round(100 * len(self._calls) / HOURLY_CALLS))
        usage = {"call_count": counted, "total_cputime": counted // 2, "total_time": counted // 2}
        usage |= {k: v for k, v in self._usage.items() if k in usage}
        regain_minutes = int(self._usage.get("estimated_time_to_regain_access", 0))
        if throttled:
            usage, regain_minutes = dict.fromkeys(usage, 100), int(regain or 5)
        out = {"x-app-usage": json.dumps(usage)}
        if token is not None and token.page_id is not None:
            page = usage | {"estimated_time_to_regain_access": regain_minutes}
            out["x-page-usage"] = json.dumps(page)
            buc = [{"type": "pages", **page}]
            out["x-business-use-case-usage"] = json.dumps({token.page_id: buc})
        return out

    def _control(self, method: str, name: str, body: bytes) -> Reply:
        """``/_fake/*``: the test API over HTTP, for a fake in another process."""
        args = json.loads(body or b"{}")
        if method == "GET" and name == "state":
            return Reply(200, self.snapshot())
        if method != "POST":
            return Reply(405, {"error": "use POST, or GET /_fake/state"})
        if name in {"pages", "ig_users", "comments"}:
            make: Callable[..., Any] = {
                "pages": self.add_page,
                "ig_users": self.add_ig_user,
                "comments": self.add_comment,
            }[name]
            try:
                made = make(**args)
            except (TypeError, KeyError) as exc:
                return Reply(400, {"error": str(exc)})
            return Reply(201, asdict(made))
        actions: dict[str, Callable[..., Any]] = {
            "faults": self.inject,
            "engage": self.engage,
            "clock": self.advance,
            "reset": self.reset,
            "container_delay": self.set_container_delay,
            "publishing_limit": self.set_publishing_limit,
            "usage": self.set_usage,
        }
        if name not in actions:
            return Reply(404, {"error": f"no control endpoint {name!r}"})
        try:
            actions[name](**args)
        except (TypeError, ValueError, KeyError) as exc:
            return Reply(400, {"error": str(exc)})
        return Reply(200, {"ok": True})

    def _dispatch(self, call: _Call, segments: list[str]) -> Reply:
        if segments == ["debug_token"] and call.method == "GET":
            return Reply(200, self._debug_token(call))
        if not segments and call.method == "GET" and "ids" in call.params:
            return Reply(200, self._objects(call))
        if not 1 <= len(segments) <= 2:
            raise GraphError(2500, f"Unknown path components: /{'/'.join(segments[1:])}")
        node = self._node(call, segments[0])
        edge = segments[1] if len(segments) == 2 else ""
        handler = _ROUTES.get((call.method, type(node).__name__, edge))
        if handler is None:
            if edge and call.method == "GET":
                raise GraphError(2500, f"Unknown path components: /{edge}")
            raise unsupported(call.method, segments[0])
        return Reply(200, handler(self, call, node))

    def _node(self, call: _Call, object_id: str) -> Any:
        """The object behind an id, if the token can see it (Graph cannot tell the two apart)."""
        if object_id == "me":
            if call.token.page_id is None:
                raise GraphError(
                    2500,
                    "An active access token must be used to query information about the current user.",
                )
            return self.pages[call.token.page_id]
        found = self._find(object_id)
        if found is None or self._owner(found) != call.token.page_id:
            raise unsupported(call.method, object_id)
        return found

    def _find(self, object_id: str) -> Any:
        return (
            self.pages.get(object_id)
            or self.ig_users.get(object_id)
            or self._posts.get(object_id)
            or self._photos.get(object_id)
            or self._videos.get(object_id)
            or self._reels.get(object_id)
            or self._containers.get(object_id)
            or self._media.get(object_id)
            or self._comments.get(object_id)
        )

    def _objects(self, call: _Call) -> dict[str, Any]:
        """``GET /?ids=a,b``: each object as ``GET /{id}`` renders it, keyed by the id asked."""
        ids = list(dict.fromkeys(i.strip() for i in call.params["ids"].split(",") if i.strip()))
        if not ids:
            raise GraphError(100, "Cannot specify an empty identifier")
        if len(ids) > MAX_IDS:
            raise invalid(f"Too many IDs. Maximum: {MAX_IDS}. Provided: {len(ids)}.")
        if missing := [i for i in ids if i != "me" and self._find(i) is None]:
            message = f"(#803) Some of the aliases you requested do not exist: {','.join(missing)}"
            raise GraphError(803, message, status=404)
        self._calls += [self._calls[-1]] * (len(ids) - 1)  # Graph counts each id as a call
        out = {}
        for object_id in ids:
            node = self._node(call, object_id)
            handler = _ROUTES.get(("GET", type(node).__name__, ""))
            if handler is None:
                raise unsupported(call.method, object_id)
            out[object_id] = handler(self, call, node)
        return out

    def _counts(self, object_id: str, since: float) -> dict[str, int]:
        """What :func:`engagement` gives for the age, plus what :meth:`engage` added."""
        grown = engagement(object_id, since, self.now())
        extra = self._engaged.get(object_id, {})
        return {k: max(v + extra.get(k, 0), 0) for k, v in grown.items()}

    def _owner(self, node: Any) -> str:
        if isinstance(node, Page):
            return node.id
        if isinstance(node, Post | Photo | Video | Reel | IgUser):
            return node.page_id
        if isinstance(node, Comment):
            under = self._find(node.object_id)
            return self._owner(under) if under is not None else ""
        return self.ig_users[node.ig_user_id].page_id  # Container, IgMedia

    def _need(self, call: _Call, scope: str, code: int, message: str | None = None) -> None:
        """Fail as Graph does when the token lacks ``scope``: ``code`` with its usual message,
        or ``message`` (``{scope}`` filled in)."""
        if scope not in call.token.scopes:
            raise GraphError(code, message.format(scope=scope) if message else None)

    def _page_of(self, page: Page, fields: dict[str, str]) -> dict[str, Any]:
        linked = next((u.id for u in self.ig_users.values() if u.page_id == page.id), None)
        values = {"id": page.id, "name": page.name, "access_token": page.access_token,
                  "category": "Nonprofit organization", "link": f"https://www.facebook.com/{page.id}",
                  "instagram_business_account": {"id": linked} if linked else None}  # fmt: skip
        return _pick(values, fields)

    def _get_page(self, call: _Call, page: Page) -> dict[str, Any]:
        known = {"id", "name", "access_token", "category", "link", "instagram_business_account"}
        return self._page_of(page, call.fields("Page", ("name", "id"), known))

    def _debug_token(self, call: _Call) -> dict[str, Any]:
        """``GET /debug_token?input_token=…``: about any token, asked with the app's or a valid one."""
        value, now = call.params.get("input_token", ""), self.now()
        token = self.tokens.get(value)
        if token is None:
            error = {"code": 190, "message": MESSAGES[190]}
            return {"data": {"error": error, "is_valid": False, "scopes": []}}
        data: dict[str, Any] = {
            "app_id": self.app_id,
            "type": "PAGE",
            "application": self.app_name,
            "data_access_expires_at": int(now + 90 * DAY),
            "expires_at": int(token.expires_at or 0),
            "is_valid": True,
            "issued_at": int(token.issued_at),
            "profile_id": token.page_id,
            "scopes": list(token.scopes),
            "granular_scopes": [{"scope": s, "target_ids": [token.page_id]} for s in token.scopes],
            "user_id": "100000000000001",
        }
        if token.expires_at is not None and token.expires_at <= now:
            message = _expired_message(token.expires_at, now)
            data |= {"is_valid": False, "error": {"code": 190, "message": message, "subcode": 463}}
        return {"data": data}

    # -- Pages -------------------------------------------------------------------------------

    def _listing(
        self, call: _Call, node_id: str, edge: str, items: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """One page of ``items`` (already newest first) with Graph's cursor paging."""
        try:
            limit = max(1, min(int(call.params.get("limit", "25")), 100))
        except ValueError:
            raise invalid("The parameter limit must be an integer") from None
        start = int(_uncursor(call.params["after"])) + 1 if "after" in call.params else 0
        page = items[start : start + limit]
        out: dict[str, Any] = {"data": page}
        if page:
            cursors = {"before": _cursor(start), "after": _cursor(start + len(page) - 1)}
            out["paging"] = {"cursors": cursors}
            if start + len(page) < len(items):
                query = {k: v for k, v in call.params.items() if k not in {"after", "before"}}
                query |= {"limit": str(limit), "after": cursors["after"]}
                out["paging"]["next"] = (
                    f"{PUBLIC_BASE}/{call.version}/{node_id}/{edge}?{urlencode(query)}"
                )
        return out

    def _window(self, call: _Call) -> tuple[float, float]:
        since = _epoch(call.params["since"], "since") if "since" in call.params else -math.inf
        until = _epoch(call.params["until"], "until") if "until" in call.params else math.inf
        return since, until

    def _post_fields(self, call: _Call) -> dict[str, str]:
        fields = call.fields("PagePost", ("created_time", "message", "id"), POST_FIELDS)
        if "insights" in fields:
            self._need(call, "read_insights", 10)
        return fields

    def _feed(self, call: _Call, page: Page) -> dict[str, Any]:
        now, (since, until) = self.now(), self._window(call)
        fields = self._post_fields(call)
        live = [p for p in self._posts.values() if p.page_id == page.id and p.live(now)]
        live = [p for p in live if since <= p.shown_at(now) < until]
        live.sort(key=lambda p: (p.shown_at(now), int(p.id.split("_")[1])), reverse=True)
        items = [self._post_of(p, fields) for p in live]
        return self._listing(call, page.id, "feed", items)

    def _scheduled_posts(self, call: _Call, page: Page) -> dict[str, Any]:
        now = self.now()
        fields = self._post_fields(call)
        waiting = [
            p
            for p in self._posts.values()
            if p.page_id == page.id and p.scheduled_publish_time is not None and not p.live(now)
        ]
        waiting.sort(key=lambda p: p.scheduled_publish_time or 0)
        items = [self._post_of(p, fields) for p in waiting]
        return self._listing(call, page.id, "scheduled_posts", items)

    def _schedule(self, call: _Call) -> tuple[bool, float | None]:
        """``published`` and ``scheduled_publish_time`` as Graph checks them."""
        published = call.flag("published", True)
        raw = call.params.get("scheduled_publish_time")
        if raw is None:
            return published, None
        if published:
            raise invalid("You cannot specify a scheduled publish time on a published post")
        try:
            when = _epoch(raw, "scheduled_publish_time")
        except GraphError:
            raise invalid("The specified scheduled publish time is invalid.") from None
        ahead = when - self.now()
        if not SCHEDULE_MIN <= ahead <= SCHEDULE_MAX:
            raise invalid("The specified scheduled publish time is invalid.")
        return published, when

    def _new_post(self, page: Page, message: str, published: bool, when: float | None) -> Post:
        post = Post(f"{page.id}_{self._new_id(122_000_000_000_000_000)}", page.id, message,
                    self.now(), published, when)  # fmt: skip
        self._posts[post.id] = post
        return post

    def _publish_feed(self, call: _Call, page: Page) -> dict[str, Any]:
        self._need(call, "pages_manage_posts", 200)
        message, link = call.params.get("message", ""), call.params.get("link")
        attached = self._attached_media(call, page)
        if not (message or link or attached):
            raise invalid("Missing message or attachment")
        published, when = self._schedule(call)
        now = self.now()
        latest = max(
            (p for p in self._posts.values() if p.page_id == page.id and p.live(now)),
            key=lambda p: p.shown_at(now),
            default=None,
        )
        if published and message and latest is not None and latest.message == message:
            raise GraphError(506)
        post = self._new_post(page, message, published, when)
        post.link, post.photo_ids = link, [p.id for p in attached]
        for photo in attached:
            photo.post_id = post.id
        return {"id": post.id}

    def _attached_media(self, call: _Call, page: Page) -> list[Photo]:
        raw: list[tuple[str, Any]] = []
        if "attached_media" in call.params:  # a JSON list in one parameter
            try:
                raw = [(f"attached_media[{i}]", v)
                       for i, v in enumerate(json.loads(call.params["attached_media"]))]  # fmt: skip
            except (ValueError, TypeError):
                raise invalid("param attached_media must be an array") from None
        keyed = [
            (k, v) for k, v in call.params.items() if re.fullmatch(r"attached_media\[\d+\]", k)
        ]
        raw += sorted(keyed, key=lambda kv: int(kv[0][15:-1]))
        photos = []
        for name, value in raw:
            try:
                spec = json.loads(value) if isinstance(value, str) else value
                fbid = str(spec["media_fbid"])
            except (ValueError, TypeError, KeyError):
                raise invalid(f"param {name} must be an object with a media_fbid") from None
            photo = self._photos.get(fbid)
            if photo is None or photo.page_id != page.id or photo.published:
                raise invalid(f"param {name} has an invalid media_fbid {fbid}")
            photos.append(photo)
        return photos

    def _publish_photo(self, call: _Call, page: Page) -> dict[str, Any]:
        self._need(call, "pages_manage_posts", 200)
        upload, url = call.files.get("source"), call.params.get("url")
        if upload is None and not url:
            raise GraphError(324, "(#324) Requires upload file")
        if upload is not None and not _is_image(upload.data):
            raise GraphError(324, "(#324) Missing or invalid image file")
        published, when = self._schedule(call)
        caption = call.params.get("caption") or call.params.get("message") or ""
        photo = Photo(self._new_id(), page.id, caption, self.now(), published,
                      len(upload.data) if upload else 0, url,
                      call.params.get("alt_text_custom"))  # fmt: skip
        self._photos[photo.id] = photo
        if not published and when is None:
            return {"id": photo.id}  # an unpublished photo, e.g. for a multi-photo post
        post = self._new_post(page, caption, published, when)
        post.photo_ids, photo.post_id = [photo.id], post.id
        return {"id": photo.id, "post_id": post.id}

    def _post_of(self, post: Post, fields: dict[str, str]) -> dict[str, Any]:
        now = self.now()
        counts = self._counts(post.id, post.shown_at(now)) if post.live(now) else None
        zero = dict.fromkeys(("reactions", "comments", "shares"), 0)
        counts = counts or zero
        photos = [self._photos[p] for p in post.photo_ids if p in self._photos]
        page = self.pages[post.page_id]
        values: dict[str, Any] = {
            "id": post.id,
            "message": post.message or None,
            "created_time": graph_time(post.shown_at(now)),
            "updated_time": graph_time(post.shown_at(now)),
            "is_published": post.live(now),
            "scheduled_publish_time": int(post.scheduled_publish_time)
            if post.scheduled_publish_time and not post.live(now)
            else None,
            "permalink_url": f"https://www.facebook.com/{post.page_id}/posts/{post.id.split('_')[1]}",
            "status_type": _status_type(post, photos),
            "from": {"name": page.name, "id": page.id},
            "full_picture": photos[0].url if photos and photos[0].url else None,
            "attachments": _attachments(post, photos) if photos or post.link else None,
        }
        for name in ("reactions", "likes", "comments"):
            if name in fields:
                total = counts["comments" if name == "comments" else "reactions"]
                values[name] = {"data": []}
                if ".summary(" in fields[name]:
                    extra = {"order": "ranked", "can_comment": True} if name == "comments" else {}
                    values[name]["summary"] = {"total_count": total, **extra}
        if counts["shares"]:  # Graph leaves ``shares`` out until someone shares
            values["shares"] = {"count": counts["shares"]}
        if "insights" in fields:
            wanted = re.search(r"metric\(([^)]*)\)", fields["insights"])
            names = wanted.group(1).split(",") if wanted else ["post_impressions"]
            values["insights"] = {"data": self._metrics(post, names)}
        return _pick(values, fields)

    def _get_post(self, call: _Call, post: Post) -> dict[str, Any]:
        return self._post_of(post, self._post_fields(call))

    def _metrics(self, post: Post, names: list[str]) -> list[dict[str, Any]]:
        now = self.now()
        counts = self._counts(post.id, post.shown_at(now)) if post.live(now) else {}
        out = []
        for name in (n.strip() for n in names if n.strip()):
            if name not in POST_METRICS:
                raise invalid("The value must be a valid insights metric")
            key, title, description = POST_METRICS[name]
            value: Any = counts.get(key, 0)
            if name == "post_reactions_by_type_total":
                value = {"like": value - value // 4, "love": value // 4} if value else {}
            out.append({"name": name, "period": "lifetime", "values": [{"value": value}],
                        "title": title, "description": description,
                        "id": f"{post.id}/insights/{name}/lifetime"})  # fmt: skip
        return out

    def _post_insights(self, call: _Call, post: Post) -> dict[str, Any]:
        self._need(call, "read_insights", 10)
        names = call.params.get("metric", "post_impressions").split(",")
        return {"data": self._metrics(post, names)}

    def _delete_post(self, call: _Call, post: Post) -> dict[str, Any]:
        self._need(call, "pages_manage_posts", 200)
        del self._posts[post.id]
        for comment in [c for c in self._comments.values() if c.object_id == post.id]:
            del self._comments[comment.id]
        for photo_id in post.photo_ids:
            if photo := self._photos.get(photo_id):
                photo.post_id = None
        return {"success": True}

    def _get_photo(self, call: _Call, photo: Photo) -> dict[str, Any]:
        known = {"id", "name", "alt_text_custom", "created_time", "link", "page_story_id"}
        fields = call.fields("Photo", ("created_time", "name", "id"), known)
        values = {"id": photo.id, "name": photo.caption or None,
                  "alt_text_custom": photo.alt_text_custom, "created_time": graph_time(photo.created_at),
                  "link": f"https://www.facebook.com/photo.php?fbid={photo.id}",
                  "page_story_id": photo.post_id}  # fmt: skip
        return _pick(values, fields)

    def _delete_photo(self, call: _Call, photo: Photo) -> dict[str, Any]:
        self._need(call, "pages_manage_posts", 200)
        del self._photos[photo.id]
        return {"success": True}

    # -- Page videos (Video API) -------------------------------------------------------------

    def _upload_fault(self, phase: str) -> str | None:
        for i, (at, after, kind) in enumerate(self._upload_faults):
            if at == phase:
                if after > 0:
                    self._upload_faults[i] = (at, after - 1, kind)
                    return None
                del self._upload_faults[i]
                return kind
        return None

    def _publish_video(self, call: _Call, page: Page) -> dict[str, Any]:
        """``POST /{page-id}/videos``: ``source`` in one request, or ``upload_phase``
        start/transfer/finish (see :data:`VIDEO_CHUNK`)."""
        self._need(call, "pages_manage_posts", 200)
        phase = call.params.get("upload_phase")
        if phase == "start":
            return self._video_start(call, page)
        if phase == "transfer":
            return self._video_transfer(call, page)
        if phase == "finish":
            return self._video_finish(call, page)
        if phase is not None:
            raise invalid("param upload_phase must be one of {start, transfer, finish, cancel}")
        upload = call.files.get("source")
        if upload is None:
            if "file_url" in call.params:
                raise invalid("The fake fetches nothing: upload the file")
            raise UploadError(6000, 1363022, VIDEO_TOO_SMALL)
        if len(upload.data) > self.simple_video_max:
            raise UploadError(6000, 1363023, VIDEO_TOO_LARGE)
        video = self._new_video(call, page, upload.data, resumable=False)
        return {"id": video.id}

    def _new_video(self, call: _Call, page: Page, data: bytes, *, resumable: bool) -> Video:
        if len(data) < VIDEO_MIN:
            raise UploadError(6000, 1363022, VIDEO_TOO_SMALL)
        if data[4:8] != b"ftyp":  # neither MP4 nor QuickTime
            raise UploadError(6000, 0, VIDEO_UNREADABLE)
        published, when = self._schedule(call)
        video = Video(self._new_id(), page.id, call.params.get("description", ""), self.now(),
                      len(data), published, when, self.video_status, resumable)  # fmt: skip
        self._videos[video.id] = video
        return video

    def _video_start(self, call: _Call, page: Page) -> dict[str, Any]:
        if self._upload_fault("start") == "error":
            raise UploadError(6000, 6000, VIDEO_RETRY_MESSAGE)
        try:
            size = int(call.params["file_size"])
        except (KeyError, ValueError):
            raise invalid("param file_size must be a positive integer") from None
        if size < VIDEO_MIN:
            raise UploadError(6000, 1363022, VIDEO_TOO_SMALL)
        if size > VIDEO_MAX:
            raise UploadError(6000, 1363023, VIDEO_TOO_LARGE)
        session = UploadSession(self._new_id(), self._new_id(), page.id, size, self.now())
        self._uploads[session.id] = session
        return {"video_id": session.video_id, "upload_session_id": session.id,
                "start_offset": "0", "end_offset": str(min(self.video_chunk, size))}  # fmt: skip

    def _session(self, call: _Call, page: Page) -> UploadSession:
        session = self._uploads.get(call.params.get("upload_session_id", ""))
        if session is None or session.page_id != page.id:
            raise invalid("param upload_session_id is not a valid upload session")
        if self.now() - session.started_at > UPLOAD_SESSION_TTL:
            raise UploadError(6001, 1363030, VIDEO_TIMEOUT)
        return session

    def _video_transfer(self, call: _Call, page: Page) -> dict[str, Any]:
        session = self._session(call, page)
        fault, have = self._upload_fault("transfer"), len(session.received)
        expected = {
            "start_offset": have,
            "end_offset": min(have + self.video_chunk, session.file_size),
        }
        if fault == "expired":
            session.started_at -= UPLOAD_SESSION_TTL + 1
            raise UploadError(6001, 1363030, VIDEO_TIMEOUT)
        if fault == "error":
            raise UploadError(6001, 1363019, VIDEO_RETRY_MESSAGE)
        chunk = call.files.get("video_file_chunk")
        offset = call.params.get("start_offset")
        if fault == "offset" or chunk is None or offset != str(have):
            raise UploadError(6001, 1363037, VIDEO_RETRY_MESSAGE, **expected)
        if have + len(chunk.data) > session.file_size:
            raise UploadError(6001, 1363037, VIDEO_RETRY_MESSAGE, **expected)
        session.received += chunk.data
        have = len(session.received)
        return {"start_offset": str(have),
                "end_offset": str(min(have + self.video_chunk, session.file_size))}  # fmt: skip

    def _video_finish(self, call: _Call, page: Page) -> dict[str, Any]:
        session = self._session(call, page)
        if self._upload_fault("finish") == "error":
            raise UploadError(6001, 1363019, VIDEO_RETRY_MESSAGE)
        if session.finished:
            raise invalid("This upload session has already been finished")
        if len(session.received) != session.file_size:
            raise UploadError(6001, 1363019, VIDEO_RETRY_MESSAGE)
        video = self._new_video(call, page, bytes(session.received), resumable=True)
        del self._videos[video.id]
        video.id = session.video_id  # the id ``start`` promised
        self._videos[video.id] = video
        session.finished = True
        return {"success": True}

    def _video_of(self, video: Video, fields: dict[str, str]) -> dict[str, Any]:
        now = self.now()
        status: dict[str, Any] = {"video_status": video.status}
        if video.status == "error":
            status["processing_phase"] = {"status": "error", "errors": [
                {"code": 1363008, "message": "The video could not be processed"}]}  # fmt: skip
        values = {"id": video.id, "description": video.description or None,
                  "created_time": graph_time(video.created_at), "published": video.live(now),
                  "scheduled_publish_time": int(video.scheduled_publish_time)
                  if video.scheduled_publish_time and not video.live(now) else None,
                  "permalink_url": f"/{video.page_id}/videos/{video.id}/", "status": status,
                  "from": {"id": video.page_id, "name": self.pages[video.page_id].name}}  # fmt: skip
        live = video.live(now)
        counts = self._counts(video.id, video.created_at) if live else {}
        return _pick(_video_edges(values, fields, counts), fields)

    def _get_video(self, call: _Call, video: Video) -> dict[str, Any]:
        fields = call.fields("Video", ("created_time", "description", "id"), VIDEO_FIELDS)
        return self._video_of(video, fields)

    def _list_videos(self, call: _Call, page: Page) -> dict[str, Any]:
        """The Page's videos, newest first; scheduled and still processing ones too (the Page's
        own token sees them)."""
        fields = call.fields("Video", ("created_time", "description", "id"), VIDEO_FIELDS)
        found = sorted((v for v in self._videos.values() if v.page_id == page.id),
                       key=lambda v: (v.created_at, int(v.id)), reverse=True)  # fmt: skip
        return self._listing(call, page.id, "videos", [self._video_of(v, fields) for v in found])

    def _delete_video(self, call: _Call, video: Video) -> dict[str, Any]:
        self._need(call, "pages_manage_posts", 200)
        del self._videos[video.id]
        return {"success": True}

    def _video_captions(self, call: _Call, video: Video | Reel) -> dict[str, Any]:
        """``POST /{video-id}/captions``: ``captions_file``, an SRT file named
        ``filename.{locale}.srt``, at most 200 KB; ``default_locale`` names the one shown first
        (Graph API reference, Video Captions)."""
        self._need(call, "pages_manage_posts", 200)
        upload = call.files.get("captions_file")
        default = call.params.get("default_locale")
        if upload is None:
            if default is None:
                raise invalid("(#100) The parameter captions_file is required")
        else:
            named = re.fullmatch(r"[^/\\]+\.([a-z]{2}_[A-Z]{2})\.srt", upload.filename)
            if named is None or named.group(1) not in FB_LOCALES:
                raise invalid("(#100) Caption file name must be in the format filename.locale.srt")
            if len(upload.data) > CAPTIONS_FILE_MAX:
                raise invalid("(#100) The caption file is too large: the limit is 200K")
            text = upload.data.decode("utf-8", "replace")
            if text.lstrip("\ufeff").startswith("WEBVTT") or not _SRT_TIMING.search(text):
                raise invalid("(#100) The caption file is not a valid SRT file")
            video.captions[named.group(1)] = text
        if default is not None:
            if default != "none" and default not in video.captions:
                raise invalid(f"(#100) default_locale {default} has no captions on this video")
            video.default_locale = None if default == "none" else default
        return {"success": True}

    def _list_captions(self, call: _Call, video: Video | Reel) -> dict[str, Any]:
        found = [{"locale": loc, "is_default": loc == video.default_locale,
                  "is_auto_generated": False} for loc in video.captions]  # fmt: skip
        return {"data": found, "paging": {}}

    # -- Reels (Reels Publishing API) --------------------------------------------------------

    def _publish_reel(self, call: _Call, page: Page) -> dict[str, Any]:
        """``POST /{page-id}/video_reels``: ``upload_phase=start`` answers a ``video_id`` and
        its ``upload_url``; ``finish`` with ``video_id``, ``video_state`` and ``description``
        (``scheduled_publish_time`` for ``SCHEDULED``) answers ``{"success": true}``."""
        self._need(call, "pages_manage_posts", 200)
        phase = call.params.get("upload_phase")
        if phase == "start":
            reel = Reel(self._new_id(), page.id, self.now())
            self._reels[reel.id] = reel
            url = f"https://rupload.facebook.com/video-upload/{call.version}/{reel.id}"
            return {"video_id": reel.id, "upload_url": url}
        if phase != "finish":
            raise invalid("param upload_phase must be one of {start, finish}")
        reel = self._reels.get(call.params.get("video_id", ""))
        if reel is None or reel.page_id != page.id:
            raise invalid("param video_id is not a Reel started on this Page")
        if reel.video_state is not None:
            raise invalid("This Reel has already been published")
        if not reel.file_size or len(reel.received) != reel.file_size:
            raise UploadError(6001, 1363019, VIDEO_RETRY_MESSAGE)
        state = call.params.get("video_state", "")
        if state not in {"PUBLISHED", "SCHEDULED", "DRAFT"}:
            raise invalid("param video_state must be one of {DRAFT, PUBLISHED, SCHEDULED}")
        if state == "SCHEDULED":
            when = _epoch(call.params.get("scheduled_publish_time", ""), "scheduled_publish_time")
            if not SCHEDULE_MIN <= when - self.now() <= SCHEDULE_MAX:
                raise invalid("The specified scheduled publish time is invalid.")
            reel.scheduled_publish_time = when
        reel.video_state, reel.description = state, call.params.get("description", "")
        reel.status, reel.processing_reads = self.reel_status, self.reel_processing_reads
        return {"success": True}

    def _rupload(self, call: _Call, path: str, headers: dict[str, str], body: bytes) -> Reply:
        """``POST /video-upload/{version}/{video_id}`` on the upload host: the bytes from the
        ``offset`` header on, of a file of ``file_size``; answers ``{"success": true}``, or
        rupload's own ``debug_info`` error (HTTP 400) for an offset or size it did not expect."""
        reel = self._reels.get(path.rstrip("/").rpartition("/")[2])
        if call.method != "POST" or reel is None or reel.page_id != call.token.page_id:
            return Reply(400, _rupload_error("Invalid video id or request"))
        try:
            offset, size = int(headers.get("offset", "")), int(headers.get("file_size", ""))
        except ValueError:
            return Reply(400, _rupload_error("The offset and file_size headers are required"))
        fault = self._upload_fault("rupload")
        if fault is not None:
            retriable = fault == "error"
            message = VIDEO_RETRY_MESSAGE if retriable else f"Expected offset {len(reel.received)}"
            return Reply(400, _rupload_error(message, retriable=retriable))
        if reel.video_state is not None or offset != len(reel.received):
            return Reply(400, _rupload_error(f"Expected offset {len(reel.received)}"))
        if size < VIDEO_MIN or offset + len(body) > size or (body[4:8] != b"ftyp" and offset == 0):
            return Reply(400, _rupload_error("The video file is not a valid video"))
        reel.file_size = size
        reel.received += body
        return Reply(200, {"success": True})

    def _reel_of(self, reel: Reel, fields: dict[str, str]) -> dict[str, Any]:
        done = reel.file_size and len(reel.received) == reel.file_size
        uploading = {"status": "complete" if done else "in_progress" if reel.received else
                     "not_started", "bytes_transferred": len(reel.received)}  # fmt: skip
        processing: dict[str, Any] = {"status": "not_started"}
        publishing: dict[str, Any] = {"status": "not_started"}
        state = "upload_complete" if done else "uploading"
        if reel.video_state is not None:
            if reel.status == "error":
                state = "error"
                processing = {"status": "error", "errors": [
                    {"code": 1363008, "message": "The video could not be processed"}]}  # fmt: skip
            elif reel.status == "processing" or reel.processing_reads > 0:
                state, processing = "processing", {"status": "in_progress"}
            else:
                state, processing = "ready", {"status": "complete"}
                live = reel.live(self.now())
                when = reel.scheduled_publish_time if not live else reel.created_at
                kind = "published" if live else reel.video_state.lower()
                publishing = {"status": "complete", "publish_status": kind,
                              "publish_time": int(when or reel.created_at)}  # fmt: skip
        status = {"video_status": state, "uploading_phase": uploading,
                  "processing_phase": processing, "publishing_phase": publishing}  # fmt: skip
        values: dict[str, Any] = {"id": reel.id, "description": reel.description or None,
                  "created_time": graph_time(reel.created_at),
                  "updated_time": graph_time(reel.created_at), "status": status,
                  "permalink_url": f"/reel/{reel.id}/"}  # fmt: skip
        counts = self._counts(reel.id, reel.created_at) if reel.live(self.now()) else {}
        return _pick(_video_edges(values, fields, counts), fields)  # a Reel is a Video

    def _get_reel(self, call: _Call, reel: Reel) -> dict[str, Any]:
        fields = call.fields("Video", ("created_time", "description", "id"), REEL_FIELDS)
        found = self._reel_of(reel, fields)
        if "status" in fields and reel.processing_reads > 0 and reel.video_state is not None:
            reel.processing_reads -= 1  # processing goes on while it is watched
        return found

    def _list_reels(self, call: _Call, page: Page) -> dict[str, Any]:
        """The Page's Reels that were finished (published, scheduled or still processing),
        newest first."""
        fields = call.fields("Video", ("created_time", "description", "id"), REEL_FIELDS)
        found = sorted((r for r in self._reels.values()
                        if r.page_id == page.id and r.video_state is not None),
                       key=lambda r: (r.created_at, int(r.id)), reverse=True)  # fmt: skip
        return self._listing(
            call, page.id, "video_reels", [self._reel_of(r, fields) for r in found]
        )

    def _delete_reel(self, call: _Call, reel: Reel) -> dict[str, Any]:
        self._need(call, "pages_manage_posts", 200)
        del self._reels[reel.id]
        return {"success": True}

    # -- Instagram ---------------------------------------------------------------------------

    def _fetchable(self, user: IgUser, url: str) -> bool:
        base = user.media_base_url
        return bool(base) and url.startswith(base or "") and url.startswith(("https://", "http://"))

    def _create_container(self, call: _Call, user: IgUser) -> dict[str, Any]:
        self._need(call, "instagram_content_publish", 10)
        p, now = call.params, self.now()
        media_type = p.get("media_type", "IMAGE").upper()
        if media_type not in {"IMAGE", "VIDEO", "REELS", "STORIES", "CAROUSEL"}:
            raise ig_error(2207023, media_type=media_type)
        caption = p.get("caption", "")
        if len(caption) > CAPTION_MAX:
            raise ig_error(2207010, length=len(caption))
        container = Container(self._new_id(17_890_000_000_000_000), user.id, media_type, now,
                              now + self.container_delay, caption=caption,
                              alt_text=p.get("alt_text"),
                              is_carousel_item=call.flag("is_carousel_item", False))  # fmt: skip
        if media_type == "CAROUSEL":
            container.children = [c.strip() for c in p.get("children", "").split(",") if c.strip()]
            if not 2 <= len(container.children) <= 10:
                raise ig_error(2207028)
            for child_id in container.children:
                child = self._containers.get(child_id)
                if child is None or child.ig_user_id != user.id or not child.is_carousel_item:
                    raise ig_error(2207006, id=child_id)
        else:
            video = media_type in {"VIDEO", "REELS"} or (
                media_type == "STORIES" and "video_url" in p
            )
            url = p.get("video_url" if video else "image_url")
            if not url:
                raise invalid(f"The parameter {'video_url' if video else 'image_url'} is required.")
            container.url, container.video = url, video
            if not self._fetchable(user, url):
                if not video:  # images are fetched while the request waits
                    message = "Only photo or video can be accepted as media type."
                    error = ig_error(2207052, message, uri=url)
                    error.user_title = (
                        "Media download has failed. The media URI doesn't meet our requirements."
                    )
                    raise error
                container.error_subcode = 2207052  # videos are fetched afterwards
        if self._container_fault is not None:
            subcode, status = self._container_fault
            if status == "EXPIRED":  # as if 24 hours had passed since it was made
                container.created_at = container.ready_at = now - DAY - 1
            else:
                container.error_subcode = subcode
        self._containers[container.id] = container
        return {"id": container.id}

    def _status(self, container: Container, now: float) -> str:
        if container.media_id is not None:
            return "PUBLISHED"
        if now - container.created_at > DAY:
            return "EXPIRED"
        children = [self._containers[c] for c in container.children if c in self._containers]
        if container.error_subcode is not None or any(
            self._status(c, now) == "ERROR" for c in children
        ):
            return "ERROR"
        if now < container.ready_at or any(self._status(c, now) != "FINISHED" for c in children):
            return "IN_PROGRESS"
        return "FINISHED"

    def _get_container(self, call: _Call, container: Container) -> dict[str, Any]:
        fields = call.fields("ShadowIGMediaBuilder", ("id",), {"id", "status_code", "status"})
        code = self._status(container, self.now())
        subcode = container.error_subcode or next(
            (self._containers[c].error_subcode for c in container.children
             if self._containers[c].error_subcode), None)  # fmt: skip
        status = {
            "IN_PROGRESS": "In Progress: Media is still being processed.",
            "FINISHED": "Finished: Media has been uploaded and it is complete.",
            "PUBLISHED": "Published: Media has been successfully published.",
            "EXPIRED": "Expired: Media was not published within 24 hours.",
            "ERROR": f"Error: Media upload has failed with error code {subcode}",
        }[code]
        return _pick({"id": container.id, "status_code": code, "status": status}, fields)

    def _recent_publishes(self, user: IgUser, since: float) -> int:
        return sum(t >= since for t in self._published.get(user.id, []))

    def _media_publish(self, call: _Call, user: IgUser) -> dict[str, Any]:
        self._need(call, "instagram_content_publish", 10)
        now, creation_id = self.now(), call.params.get("creation_id", "")
        container = self._containers.get(creation_id)
        if (
            container is None
            or container.ig_user_id != user.id
            or self._status(container, now) == "EXPIRED"
        ):
            raise ig_error(2207008, id=creation_id)
        if self._recent_publishes(user, now - DAY) >= user.quota:
            raise ig_error(2207042, "Application request limit reached")
        if container.is_carousel_item or self._status(container, now) != "FINISHED":
            raise ig_error(2207027, "Media ID is not available")
        product = {"REELS": "REELS", "STORIES": "STORY"}.get(container.media_type, "FEED")
        kind = "CAROUSEL_ALBUM" if container.children else "VIDEO" if container.video else "IMAGE"
        media = IgMedia(self._new_id(17_900_000_000_000_000), user.id, container.id, kind, product,
                        container.caption, now, container.url, container.alt_text)  # fmt: skip
        for child_id in container.children:
            child = self._containers[child_id]
            item = IgMedia(self._new_id(17_900_000_000_000_000), user.id, child.id,
                           "VIDEO" if child.video else "IMAGE", "FEED", "", now, child.url,
                           child.alt_text, parent_id=media.id)  # fmt: skip
            self._media[item.id] = item
            media.children.append(item.id)
            child.media_id = item.id
        self._media[media.id] = media
        container.media_id = media.id
        self._published.setdefault(user.id, []).append(now)
        return {"id": media.id}

    def _publishing_limit(self, call: _Call, user: IgUser) -> dict[str, Any]:
        fields = call.fields(
            "IGContentPublishingLimit", ("quota_usage",), {"quota_usage", "config"}
        )
        now = self.now()
        since = (
            max(_epoch(call.params["since"], "since"), now - DAY)
            if "since" in call.params
            else now - DAY
        )
        values = {"quota_usage": self._recent_publishes(user, since),
                  "config": {"quota_total": user.quota, "quota_duration": DAY}}  # fmt: skip
        return {"data": [{k: v for k, v in values.items() if k in fields}]}

    def _ig_media_of(
        self, media: IgMedia, fields: dict[str, str], version: str = DEFAULT_VERSION
    ) -> dict[str, Any]:
        counts = self._counts(media.id, media.created_at)
        kind = "reel" if media.product_type == "REELS" else "p"
        user = self.ig_users[media.ig_user_id]
        values = {
            "id": media.id,
            "caption": media.caption or None,
            "timestamp": graph_time(media.created_at),
            "permalink": f"https://www.instagram.com/{kind}/{media.shortcode}/",
            "shortcode": media.shortcode,
            "like_count": counts["reactions"],
            "comments_count": counts["comments"],
            "media_type": media.media_type,
            "media_product_type": media.product_type,
            "media_url": media.media_url,
            "alt_text": media.alt_text,
            "username": user.username,
            "owner": {"id": user.id},
            "is_comment_enabled": True,
            "children": {"data": [{"id": c} for c in media.children]} if media.children else None,
        }
        if "insights" in fields:
            wanted = re.search(r"metric\(([^)]*)\)", fields["insights"])
            names = wanted.group(1) if wanted else ""
            values["insights"] = {"data": self._ig_insights(media, names, version)}
        return _pick(values, fields)

    def _ig_media_fields(self, call: _Call) -> dict[str, str]:
        fields = call.fields("IGMedia", ("id",), IG_MEDIA_FIELDS)
        if "insights" in fields:
            self._need(call, "instagram_manage_insights", 10)
        return fields

    def _get_ig_media(self, call: _Call, media: IgMedia) -> dict[str, Any]:
        return self._ig_media_of(media, self._ig_media_fields(call), call.version)

    def _ig_insights(self, media: IgMedia, names: str, version: str) -> list[dict[str, Any]]:
        """Instagram media insights as Graph lists them; the first bad metric fails them all."""
        wanted = [n.strip() for n in names.split(",") if n.strip()]
        if not wanted:
            raise invalid("The parameter metric is required")
        major = _major(version)
        offered = [n for n, (_, last, _) in IG_METRICS.items() if not last or major <= last]
        for index, name in enumerate(wanted):
            if name not in offered:
                choices = ", ".join(offered)
                raise invalid(f"metric[{index}] must be one of the following values: {choices}")
            if media.product_type not in IG_METRICS[name][0]:
                raise invalid(
                    f"The Media Insights API does not support the {name} metric for this media "
                    "product type."
                )
        counts = self._counts(media.id, media.created_at)
        return [{"name": name, "period": "lifetime",
                 "values": [{"value": ig_metric_value(name, counts)}],
                 "title": IG_METRICS[name][2], "description": f"{IG_METRICS[name][2]} (lifetime)",
                 "id": f"{media.id}/insights/{name}/lifetime"} for name in wanted]  # fmt: skip

    def _ig_media_insights(self, call: _Call, media: IgMedia) -> dict[str, Any]:
        self._need(call, "instagram_manage_insights", 10)
        return {"data": self._ig_insights(media, call.params.get("metric", ""), call.version)}

    def _list_ig_media(self, call: _Call, user: IgUser) -> dict[str, Any]:
        fields = self._ig_media_fields(call)
        since, until = self._window(call)
        found = [m for m in self.ig_media(user) if since <= m.created_at < until]
        found.sort(key=lambda m: (m.created_at, int(m.id)), reverse=True)
        items = [self._ig_media_of(m, fields, call.version) for m in found]
        return self._listing(call, user.id, "media", items)

    def _get_ig_user(self, call: _Call, user: IgUser) -> dict[str, Any]:
        known = {"id", "username", "name", "media_count", "followers_count", "biography"}
        fields = call.fields("IGUser", ("id",), known)
        values = {"id": user.id, "username": user.username, "name": self.pages[user.page_id].name,
                  "media_count": len(self.ig_media(user)), "followers_count": 0, "biography": ""}  # fmt: skip
        return _pick(values, fields)

    # -- comments ----------------------------------------------------------------------------

    def _comment_page(
        self, call: _Call, node_id: str, edge: str, found: list[Comment], newest_first: bool
    ) -> tuple[list[Comment], dict[str, Any] | None]:
        """One page of ``found`` (sorted in the listing's order) and its ``paging``. The cursors
        name a comment's place (time and id), not an index, so comments written between two
        pages neither repeat nor hide older ones, as Graph's opaque cursors behave."""
        try:
            limit = max(1, min(int(call.params.get("limit", str(COMMENTS_LIMIT))), COMMENTS_MAX))
        except ValueError:
            raise invalid("The parameter limit must be an integer") from None
        if "after" in call.params:
            after = _comment_uncursor(call.params["after"])
            found = [c for c in found if (c.key() < after if newest_first else c.key() > after)]
        shown = found[:limit]
        if not shown:
            return shown, None
        cursors = {"before": _comment_cursor(shown[0]), "after": _comment_cursor(shown[-1])}
        paging: dict[str, Any] = {"cursors": cursors}
        if len(found) > limit:
            query = {k: v for k, v in call.params.items() if k not in {"after", "before"}}
            query |= {"limit": str(limit), "after": cursors["after"]}
            paging["next"] = f"{PUBLIC_BASE}/{call.version}/{node_id}/{edge}?{urlencode(query)}"
        return shown, paging

    def _replies_of(self, comment: Comment) -> list[Comment]:
        found = [c for c in self._comments.values() if c.parent_id == comment.id]
        return sorted(found, key=Comment.key)

    def _fb_comment_of(self, comment: Comment, fields: dict[str, str]) -> dict[str, Any]:
        post_id, _, own_id = comment.id.partition("_")
        under = self._posts.get(comment.object_id) or self._videos.get(comment.object_id)
        page_id = (under or self._reels[comment.object_id]).page_id
        parent = self._comments.get(comment.parent_id or "")
        values = {
            "id": comment.id,
            "from": _sub({"name": comment.author, "id": comment.author_id}, fields.get("from")),
            "message": comment.message,
            "created_time": graph_time(comment.created_at),
            "permalink_url": f"https://www.facebook.com/{page_id}/posts/{post_id}/"
            f"?comment_id={own_id}",
            "parent": self._parent_of(parent, fields.get("parent")) if parent else None,
            "like_count": 0,
            "comment_count": len(self._replies_of(comment)),
            "can_comment": comment.parent_id is None,
            "is_hidden": False,
        }
        return _pick(values, fields)

    def _parent_of(self, parent: Comment, modifiers: str | None) -> dict[str, Any]:
        whole = {"id": parent.id, "message": parent.message, "from": {"name": parent.author,
                 "id": parent.author_id}, "created_time": graph_time(parent.created_at)}  # fmt: skip
        return _sub(whole, modifiers)

    def _fb_comments(
        self, call: _Call, node_id: str, found: list[Comment], *, under_post: bool
    ) -> dict[str, Any]:
        """``GET /{post-id}/comments`` or ``/{comment-id}/comments``: ``filter=toplevel`` (the
        default: comments, not replies) or ``stream`` (replies too, each with its ``parent``),
        ``order=chronological`` (the default) or ``reverse_chronological``."""
        self._need(call, "pages_read_engagement", 10, PAGE_READ_REFUSED)
        self._need(call, "pages_read_user_content", 10, PAGE_READ_REFUSED)
        fields = call.fields(
            "Comment", ("created_time", "from", "message", "id"), FB_COMMENT_FIELDS
        )
        which = call.params.get("filter", "toplevel")
        if which not in {"toplevel", "stream"}:
            raise invalid("param filter must be one of {toplevel, stream}")
        order = call.params.get("order", "chronological")
        if order not in {"chronological", "reverse_chronological"}:
            raise invalid("param order must be one of {chronological, reverse_chronological}")
        if under_post and which == "toplevel":
            found = [c for c in found if c.parent_id is None]
        newest_first = order == "reverse_chronological"
        found = sorted(found, key=Comment.key, reverse=newest_first)
        shown, paging = self._comment_page(call, node_id, "comments", found, newest_first)
        out: dict[str, Any] = {"data": [self._fb_comment_of(c, fields) for c in shown]}
        if paging:
            out["paging"] = paging
        if call.flag("summary", False):
            out["summary"] = {"order": order, "total_count": len(found), "can_comment": True}
        return out

    def _post_comments(self, call: _Call, post: Post | Video | Reel) -> dict[str, Any]:
        under = [c for c in self._comments.values() if c.object_id == post.id]
        return self._fb_comments(call, post.id, under, under_post=True)

    def _fb_replies(self, call: _Call, comment: Comment) -> dict[str, Any]:
        """``GET /{comment-id}/comments``: the replies to a Facebook comment."""
        if comment.instagram:
            raise GraphError(2500, "Unknown path components: /comments")
        return self._fb_comments(call, comment.id, self._replies_of(comment), under_post=False)

    def _ig_replies(self, call: _Call, comment: Comment) -> dict[str, Any]:
        """``GET /{ig-comment-id}/replies``: the replies to an Instagram comment, oldest first."""
        if not comment.instagram:
            raise GraphError(2500, "Unknown path components: /replies")
        self._need(call, "instagram_manage_comments", 10, IG_REFUSED)
        fields = call.fields("IGComment", ("id", "text", "timestamp"), IG_COMMENT_FIELDS)
        found = self._replies_of(comment)
        shown, paging = self._comment_page(call, comment.id, "replies", found, False)
        out: dict[str, Any] = {"data": [self._ig_comment_of(call, c, fields) for c in shown]}
        if paging:
            out["paging"] = paging
        return out

    def _get_comment(self, call: _Call, comment: Comment) -> dict[str, Any]:
        if comment.instagram:
            self._need(call, "instagram_manage_comments", 10, IG_REFUSED)
            fields = call.fields("IGComment", ("id", "text", "timestamp"), IG_COMMENT_FIELDS)
            return self._ig_comment_of(call, comment, fields)
        self._need(call, "pages_read_user_content", 10, PAGE_READ_REFUSED)
        fields = call.fields(
            "Comment", ("created_time", "from", "message", "id"), FB_COMMENT_FIELDS
        )
        return self._fb_comment_of(comment, fields)

    def _ig_comment_of(
        self, call: _Call, comment: Comment, fields: dict[str, str]
    ) -> dict[str, Any]:
        """An Instagram comment; ``replies`` (top-level comments only) is a nested edge with its
        own paging (``replies.limit(n){fields}``; Graph's default page of 25)."""
        media = self._media[comment.object_id]
        values: dict[str, Any] = {
            "id": comment.id,
            "text": comment.message,
            "timestamp": graph_time(comment.created_at),
            "username": comment.author,
            "from": _sub({"id": comment.author_id, "username": comment.author}, fields.get("from")),
            "like_count": 0,
            "hidden": False,
            "parent_id": comment.parent_id,
            "media": {"id": media.id, "media_product_type": media.product_type},
            "user": {"id": comment.author_id} if comment.own else None,  # the app user's own only
        }
        if "replies" in fields and comment.parent_id is None:
            modifiers = fields["replies"]
            inner = re.search(r"\{(.*)\}$", modifiers)
            sub = (
                _split_fields(inner.group(1)) if inner else {"id": "", "timestamp": "", "text": ""}
            )
            for name in sub:
                if name not in IG_COMMENT_FIELDS - {"replies"}:
                    raise invalid(
                        f"Tried accessing nonexisting field ({name}) on node type (IGComment)"
                    )
            limit = re.search(r"\.limit\((\d+)\)", modifiers)
            nested = _Call(call.method, call.version,
                           {"fields": ",".join(k + v for k, v in sub.items()),
                            "limit": limit.group(1) if limit else str(COMMENTS_LIMIT)},
                           {}, call.token)  # fmt: skip
            shown, paging = self._comment_page(
                nested, comment.id, "replies", self._replies_of(comment), False
            )
            if shown:  # Graph leaves an empty nested edge out
                values["replies"] = {"data": [self._ig_comment_of(nested, c, sub) for c in shown]}
                if paging:
                    values["replies"]["paging"] = paging
        return _pick(values, fields)

    def _answer(self, call: _Call, on: str, reply_to: str | None) -> dict[str, Any]:
        """Write the Page's or the Instagram account's own comment (or reply) from ``message``,
        as Graph does: ``{"id": ...}``."""
        message = call.params.get("message", "")
        if not message.strip():
            raise invalid("Missing message or attachment")
        return {"id": self.add_comment(on, message, own=True, reply_to=reply_to).id}

    def _comment_on_post(self, call: _Call, post: Post) -> dict[str, Any]:
        """``POST /{post-id}/comments``: a comment as the Page (``pages_manage_engagement``)."""
        self._need(call, "pages_manage_engagement", 200, COMMENT_REFUSED)
        return self._answer(call, post.id, None)

    def _comment_on_comment(self, call: _Call, comment: Comment) -> dict[str, Any]:
        """``POST /{comment-id}/comments``: a reply as the Page; a reply to a reply is filed under
        its top-level comment (``add_comment``)."""
        if comment.instagram:
            raise unsupported(call.method, comment.id)
        self._need(call, "pages_manage_engagement", 200, COMMENT_REFUSED)
        return self._answer(call, comment.object_id, comment.id)

    def _ig_comment_on_media(self, call: _Call, media: IgMedia) -> dict[str, Any]:
        """``POST /{ig-media-id}/comments``: a comment as the account."""
        self._need(call, "instagram_manage_comments", 10, IG_REFUSED)
        return self._answer(call, media.id, None)

    def _ig_reply(self, call: _Call, comment: Comment) -> dict[str, Any]:
        """``POST /{ig-comment-id}/replies``: a reply as the account, to a top-level comment
        only (Instagram's replies are one level deep)."""
        if not comment.instagram:
            raise unsupported(call.method, comment.id)
        self._need(call, "instagram_manage_comments", 10, IG_REFUSED)
        if comment.parent_id is not None:
            raise unsupported(call.method, comment.id)
        return self._answer(call, comment.object_id, comment.id)

    def _ig_comments(self, call: _Call, media: IgMedia) -> dict[str, Any]:
        """``GET /{ig-media-id}/comments``: the top-level comments, newest first."""
        self._need(call, "instagram_manage_comments", 10, IG_REFUSED)
        fields = call.fields("IGComment", ("id", "text", "timestamp"), IG_COMMENT_FIELDS)
        found = [c for c in self._comments.values() if c.object_id == media.id and not c.parent_id]
        found.sort(key=Comment.key, reverse=True)
        shown, paging = self._comment_page(call, media.id, "comments", found, True)
        out: dict[str, Any] = {"data": [self._ig_comment_of(call, c, fields) for c in shown]}
        if paging:
            out["paging"] = paging
        return out


POST_FIELDS = {"id", "message", "created_time", "updated_time", "is_published",
               "scheduled_publish_time", "permalink_url", "status_type", "from", "full_picture",
               "attachments", "reactions", "likes", "comments", "shares", "insights"}  # fmt: skip
VIDEO_FIELDS = {"id", "description", "created_time", "published", "scheduled_publish_time",
                "permalink_url", "status", "from", "reactions", "likes", "comments"}  # fmt: skip
REEL_FIELDS = {"id", "description", "created_time", "updated_time", "status", "permalink_url",
               "reactions", "likes", "comments"}  # fmt: skip
IG_MEDIA_FIELDS = {"id", "caption", "timestamp", "permalink", "shortcode", "like_count",
                   "comments_count", "media_type", "media_product_type", "media_url", "alt_text",
                   "username", "owner", "is_comment_enabled", "children", "insights"}  # fmt: skip

FB_COMMENT_FIELDS = {"id", "from", "message", "created_time", "permalink_url", "parent",
                     "like_count", "comment_count", "can_comment", "is_hidden"}  # fmt: skip
IG_COMMENT_FIELDS = {"id", "text", "timestamp", "username", "from", "like_count", "hidden",
                     "parent_id", "media", "replies", "user"}  # fmt: skip

_Route = Callable[[GraphFake, _Call, Any], dict[str, Any]]
_ROUTES: dict[tuple[str, str, str], _Route] = {
    ("GET", "Page", ""): GraphFake._get_page,
    ("GET", "Page", "feed"): GraphFake._feed,
    ("GET", "Page", "posts"): GraphFake._feed,
    ("GET", "Page", "published_posts"): GraphFake._feed,
    ("GET", "Page", "scheduled_posts"): GraphFake._scheduled_posts,
    ("POST", "Page", "feed"): GraphFake._publish_feed,
    ("POST", "Page", "photos"): GraphFake._publish_photo,
    ("POST", "Page", "videos"): GraphFake._publish_video,
    ("GET", "Page", "videos"): GraphFake._list_videos,
    ("GET", "Video", ""): GraphFake._get_video,
    ("DELETE", "Video", ""): GraphFake._delete_video,
    ("GET", "Video", "comments"): GraphFake._post_comments,  # a Video's comments edge
    ("POST", "Video", "captions"): GraphFake._video_captions,
    ("POST", "Page", "video_reels"): GraphFake._publish_reel,
    ("GET", "Page", "video_reels"): GraphFake._list_reels,
    ("GET", "Reel", ""): GraphFake._get_reel,
    ("DELETE", "Reel", ""): GraphFake._delete_reel,
    ("POST", "Reel", "captions"): GraphFake._video_captions,
    ("GET", "Reel", "captions"): GraphFake._list_captions,
    ("GET", "Reel", "comments"): GraphFake._post_comments,  # a Reel is a Video
    ("GET", "Video", "captions"): GraphFake._list_captions,
    ("GET", "Post", ""): GraphFake._get_post,
    ("GET", "Post", "insights"): GraphFake._post_insights,
    ("DELETE", "Post", ""): GraphFake._delete_post,
    ("GET", "Photo", ""): GraphFake._get_photo,
    ("DELETE", "Photo", ""): GraphFake._delete_photo,
    ("GET", "IgUser", ""): GraphFake._get_ig_user,
    ("POST", "IgUser", "media"): GraphFake._create_container,
    ("GET", "IgUser", "media"): GraphFake._list_ig_media,
    ("POST", "IgUser", "media_publish"): GraphFake._media_publish,
    ("GET", "IgUser", "content_publishing_limit"): GraphFake._publishing_limit,
    ("GET", "Container", ""): GraphFake._get_container,
    ("GET", "IgMedia", ""): GraphFake._get_ig_media,
    ("GET", "IgMedia", "insights"): GraphFake._ig_media_insights,
    ("GET", "IgMedia", "comments"): GraphFake._ig_comments,
    ("GET", "Post", "comments"): GraphFake._post_comments,
    ("GET", "Comment", ""): GraphFake._get_comment,
    ("GET", "Comment", "comments"): GraphFake._fb_replies,
    ("GET", "Comment", "replies"): GraphFake._ig_replies,
    ("POST", "Post", "comments"): GraphFake._comment_on_post,
    ("POST", "Comment", "comments"): GraphFake._comment_on_comment,
    ("POST", "IgMedia", "comments"): GraphFake._ig_comment_on_media,
    ("POST", "Comment", "replies"): GraphFake._ig_reply,
}


def _rupload_error(message: str, *, retriable: bool = False) -> dict[str, Any]:
    """An error as the upload host gives one (not Graph's ``error`` shape)."""
    kind = "ProcessingFailedError"
    return {"debug_info": {"retriable": retriable, "type": kind, "message": message}}


def _split_path(path: str) -> tuple[str, list[str]]:
    """``/v21.0/123/feed`` → ``("v21.0", ["123", "feed"])``; the version prefix is optional."""
    segments = [s for s in path.split("/") if s]
    if segments and re.fullmatch(r"v\d+\.\d+", segments[0]):
        return segments[0], segments[1:]
    return DEFAULT_VERSION, segments


def _video_edges(
    values: dict[str, Any], fields: dict[str, str], counts: dict[str, int]
) -> dict[str, Any]:
    """``values`` with the edges a Video (and so a Reel) has, as asked: reactions, likes and
    comments, each with its summary's total where asked (no shares, no insights)."""
    for name in ("reactions", "likes", "comments"):
        if name in fields:
            total = counts.get("comments" if name == "comments" else "reactions", 0)
            values[name] = {"data": []}
            if ".summary(" in fields[name]:
                values[name]["summary"] = {"total_count": total}
    return values


def _pick(values: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    """The requested fields that have a value, and always ``id`` (as Graph adds it)."""
    wanted = set(fields) | {"id"}
    return {k: v for k, v in values.items() if k in wanted and v is not None}


def _sub(value: dict[str, Any], modifiers: str | None) -> dict[str, Any]:
    """A nested object with the subfields asked for (``from{id,name}``), all of them if none."""
    inner = re.search(r"\{(.*)\}$", modifiers or "")
    if inner is None:
        return value
    wanted = set(_split_fields(inner.group(1))) | {"id"}
    return {k: v for k, v in value.items() if k in wanted}


def _attachments(post: Post, photos: list[Photo]) -> dict[str, Any]:
    if len(photos) > 1:
        subs = [{"type": "photo", "target": {"id": p.id}, "description": p.caption or None}
                for p in photos]  # fmt: skip
        return {"data": [{"type": "album", "subattachments": {"data": subs}}]}
    if photos:
        return {"data": [{"type": "photo", "target": {"id": photos[0].id}}]}
    return {"data": [{"type": "share", "url": post.link, "target": {"url": post.link}}]}


def _status_type(post: Post, photos: list[Photo]) -> str:
    if photos:
        return "added_photos"
    return "shared_story" if post.link else "mobile_status_update"


def _is_image(data: bytes) -> bool:
    return data.startswith(IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"i{index}".encode()).decode().rstrip("=")


def _comment_cursor(comment: Comment) -> str:
    raw = f"c{comment.created_at!r}:{comment.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _comment_uncursor(cursor: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, comment_id = raw[1:].partition(":")
        return float(at), comment_id
    except (ValueError, UnicodeDecodeError):
        raise invalid("The after cursor is not valid") from None


def _uncursor(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()[1:])
    except (ValueError, UnicodeDecodeError):
        raise invalid("The after cursor is not valid") from None


class _Server(ThreadingHTTPServer):
    fake: GraphFake
    block_on_close = False  # a "slow" fault must not hold up stop()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that gave up
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart
    timeout = 30  # an idle keep-alive connection gives its thread back eventually

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.server.fake.handle(self.command, self.path, headers, body)
        if reply.drop:
            self.close_connection = True  # no status line: the client sees the connection drop
            return
        if isinstance(reply.body, str):
            data, ctype = reply.body.encode(), "text/html; charset=utf-8"
        else:
            data, ctype = json.dumps(reply.body).encode(), "application/json; charset=UTF-8"
        self.send_response(reply.status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


def rewrite_session(session: Any, base_url: str, hosts: frozenset[str] = GRAPH_HOSTS) -> Any:
    """Send every request of a ``requests`` session to the fake at ``base_url``.

    Graph's host is rewritten (path and query kept); any other host raises
    :class:`UnexpectedHost`, so a test cannot reach the internet.  The adapter never retries
    (``max_retries=0``), so a dropped answer surfaces as one ``ConnectionError``.  Returns the
    mounted adapter: its ``sent`` list holds every URL it delivered.
    """
    from requests.adapters import HTTPAdapter  # keeps the server itself standard library only

    target = urlsplit(base_url)

    class RewritingAdapter(HTTPAdapter):
        sent: list[str]

        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            url = urlsplit(request.url)
            if url.netloc != target.netloc:
                if url.hostname not in hosts:
                    raise UnexpectedHost(f"a test tried to reach {url.hostname}")
                request.url = urlunsplit((target.scheme, target.netloc, url.path, url.query, ""))
            kwargs["proxies"] = {}  # loopback never goes through a proxy from the environment
            self.sent.append(request.url)
            return super().send(request, *args, **kwargs)

    adapter = RewritingAdapter(max_retries=0)
    adapter.sent = []
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return adapter


@dataclass
class LastResponse:
    """The last HTTP answer a session received (facebook-sdk returns only the JSON body)."""

    response: Any = None

    @property
    def status_code(self) -> int | None:
        return None if self.response is None else self.response.status_code

    def usage(self) -> dict[str, Any]:
        """The usage headers, parsed: ``{"x-app-usage": {...}, "x-page-usage": {...}, ...}``."""
        if self.response is None:
            return {}
        names = ("x-app-usage", "x-page-usage", "x-business-use-case-usage")
        return {
            n: json.loads(self.response.headers[n]) for n in names if n in self.response.headers
        }


def capture_last_response(session: Any) -> LastResponse:
    """Keep the last response of ``session`` (status and headers) in the returned holder."""
    holder = LastResponse()

    def keep(response: Any, *args: Any, **kwargs: Any) -> Any:
        holder.response = response
        return response

    session.hooks["response"].append(keep)
    return holder


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGTERM or SIGINT; print the base URL on the first line of stdout."""
    parser = argparse.ArgumentParser(description="Serve the fake Graph API until SIGTERM.")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    fake = GraphFake(port=args.port)
    # Blocked before the server thread starts, so it inherits the mask and only sigwait sees them.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    fake.start()
    print(fake.base_url, flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    fake.stop()


if __name__ == "__main__":
    main()
