"""Publishing to Bluesky through the atproto SDK (imported only here).

- Logs in with the handle and an app password against the account's ``service`` (PDS), then
  reuses the session: it is kept in ``.eduadvocate/sessions/<account>.session`` (mode 0600; it
  holds tokens) and refreshed by the SDK, because logins are rate-limited (~30 per 5 minutes).
  A session file others can read is tightened, with a warning.
- Exactly once by construction: each part is created with a deterministic record key (a valid
  TID derived from the delivery and the part), and is looked up with ``getRecord`` before being
  sent, so a repeat after a crash finds the record instead of creating another. (A second
  ``createRecord`` with the same key is answered 500 by the PDS, not 409, so we never rely on it.)
- Facets (links, mentions resolved to DIDs, tags) at UTF-8 byte offsets, images with alt text
  (downscaled below 1 MB with Pillow when it is installed), replies with root and parent refs,
  language tags.
- The inbox (``eduadvocate inbox pull``): ``app.bsky.notification.listNotifications``, which the
  PDS proxies to the AppView, page by page; replies, mentions, quotes and reposts (which ask no
  answer) are kept. Likes are engagement (counted by ``metrics pull``), and follows are not
  about a post: neither is an inbox item. Then, for each published post, its thread
  (``app.bsky.feed.getPostThread``): a reply to a reply notifies only its parent's author, so
  the thread is where it shows.
- A video (``app.bsky.embed.video``, with its alt text) is uploaded as Bluesky's apps do: a
  service-auth token from the account's PDS (``getServiceAuth``: audience the PDS's own DID,
  method ``com.atproto.repo.uploadBlob``, because the video service uploads the processed file
  to the PDS in the account's name), the bytes to the video service's ``uploadVideo`` (the
  account's ``video_service``, default https://video.bsky.app), then ``getJobStatus`` until the
  job is completed (its blob goes into the post) or failed (Rejected), within ``video_timeout``
  seconds (then Transient: nothing was posted, the next run uploads again). Where the service is
  turned off (``video_service: none``) or cannot take the upload, the file goes to the PDS's
  ``uploadBlob`` as it is, and the post says so in its warning. The token is never printed.
- Link cards (``card: true``) through :mod:`linkcard`, which fetches only from public addresses
  within the account's ``card_max_html``, ``card_max_image``, ``card_timeout`` and
  ``card_ports``: a card that cannot be made is left out, and the post goes out with a warning.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from atproto import Client, models
from atproto_client import exceptions as ax

from eduadvocate.config.model import AccountConfig, ConfigWarning
from eduadvocate.content.captions import as_webvtt as _as_webvtt
from eduadvocate.content.media import MediaInfo, MediaUnreadable, inspect, sniff
from eduadvocate.core.counts import Counts
from eduadvocate.core.errors import ConfigError
from eduadvocate.platforms.bluesky.linkcard import CardLimits, read_card
from eduadvocate.platforms.posturl import post_address
from eduadvocate.platforms.publishing import (
    Attachment,
    AuthFailed,
    Backoff,
    InboxPage,
    Incoming,
    InDoubt,
    OutgoingPart,
    Published,
    Publisher,
    RateLimited,
    Rejected,
    ReplyTarget,
    Transient,
)
from eduadvocate.platforms.safefetch import Guard, Refused

T = TypeVar("T")
POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"
MAX_BLOB = 1_000_000
MAX_VIDEO = 100_000_000  # the spec's MediaRules.max_video_bytes, what check holds a video to
VIDEO_SERVICE = "https://video.bsky.app"  # default ``video_service``
VIDEO_OFF = frozenset({"", "none", "off"})  # ``video_service`` values that turn the service off
VIDEO_TIMEOUT_S = 300  # default ``video_timeout``: how long the service may take to process
VIDEO_TOKEN_S = 30 * 60  # the service-auth token's life, as Bluesky's docs advise for uploads
VIDEO_TOKEN_MAX_S = 60 * 60  # the longest life the reference PDS grants a service-auth token
# Between polls of a job still processing: quick at first (a short clip takes seconds), then
# every 5 s. The last delay repeats.
POLL_DELAYS_S: tuple[float, ...] = (0.5, 1, 2, 4, 5)
VIDEO_HTTP_TIMEOUT_S = 120  # one request to the video service (an upload of up to 100 MB)
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
WHAT = "Bluesky"


def tid_for(key: str, index: int, due: datetime) -> str:
    """A valid TID (13 base32-sortable characters) that depends only on the delivery and the part:
    the due time (sortable, to the second), a hash of the delivery key in the microseconds and the
    clock id, and the part index, so parts of a thread (up to 100) never collide and deliveries due
    in the same second almost never do (about 1 in 10 million per pair)."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    micros = int(due.timestamp()) * 1_000_000 + (digest % 10_000) * 100 + min(index, 99)
    clock_id = (digest >> 16) % 1024
    value = (micros << 10) | clock_id
    value &= (1 << 63) - 1  # the top bit is always 0
    return "".join(TID_ALPHABET[(value >> (60 - 5 * i)) & 31] for i in range(13))


class BlueskyPublisher(Publisher):
    def __init__(self, account: AccountConfig, root: Path) -> None:
        self.account = account
        self.handle = (account.get("handle") or "").lstrip("@")
        self.service = (account.get("service") or "https://bsky.social").rstrip("/")
        self.session_file = root / ".eduadvocate" / "sessions" / f"{account.name}.session"
        self.client = Client(base_url=self.service)
        self.client.on_session_change(self._changed)  # login, import and every refresh
        self._did: str | None = None
        self._from_file = False  # the session came from the saved file (it may have been revoked)
        self.card_guard = Guard.for_process(ports=_ports(account, "card_ports"))
        defaults = CardLimits()
        self.card_limits = CardLimits(
            max_html=account.get_positive_int("card_max_html", defaults.max_html),
            max_image=account.get_positive_int("card_max_image", defaults.max_image),
            timeout=account.get_positive_int("card_timeout", int(defaults.timeout)),
        )
        self.video_service = _video_service(account)
        self.video_timeout = account.get_positive_int("video_timeout", VIDEO_TIMEOUT_S)

    # -- session -----------------------------------------------------------------------------------
    def _login(self) -> str:
        if self._did is not None:
            return self._did
        saved = _read_private(self.session_file)
        with _mapped(sending=False):
            if saved:
                try:
                    self.client.login(session_string=saved, fetch_bsky_profile=False)
                    self._from_file = True
                except (ax.UnauthorizedError, ax.BadRequestError):
                    saved = None  # expired beyond refresh: log in again below
            if not saved:
                self.client.login(
                    self.handle, self.account.secret("app_password"), fetch_bsky_profile=False
                )
        if self._did is None:
            raise AuthFailed(f"{WHAT} gave no session for @{self.handle}")
        return self._did

    def _changed(self, event: object, session: Any) -> None:
        """Keep the session (tokens: mode 0600) so the next run does not log in again."""
        self._did = str(session.did)
        _write_private(self.session_file, session.encode())

    # -- publishing ----------------------------------------------------------------------------------
    def _rkey(self, part: OutgoingPart) -> str:
        due = datetime.fromisoformat(part.delivery_key.rsplit("|", 1)[1].replace("Z", "+00:00"))
        return tid_for(part.delivery_key, part.index, due)

    def publish(self, part: OutgoingPart) -> Published:
        return self._fresh_on_revoke(lambda: self._publish(part))

    def _fresh_on_revoke(self, call: Callable[[], T]) -> T:
        """Run ``call``; if a saved session turns out revoked, log in with the password once more."""
        try:
            return call()
        except AuthFailed:
            if not self._from_file:
                raise
            self.session_file.unlink(missing_ok=True)
            self._did, self._from_file = None, False
            return call()

    def _publish(self, part: OutgoingPart) -> Published:
        did = self._login()
        rkey = self._rkey(part)
        collection = REPOST if part.repost else POST
        existing = self._get(did, rkey, collection, part)
        if existing is not None:  # a repeat after a crash: the record is already there
            return existing
        if part.repost:
            return self._repost(did, rkey, part.repost)
        record: dict[str, Any] = {
            "$type": POST,
            "text": part.text,
            "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        facets = self._facets(part)
        if facets:
            record["facets"] = facets
        if part.language:
            record["langs"] = [part.language]
        if part.answers and part.index == 0:
            record["reply"] = self._reply_refs(part.answers)
        elif part.reply_to:
            record["reply"] = {
                "root": self._root_ref(part.root or part.reply_to),
                "parent": self._ref(part.reply_to),
            }
        warning = None
        videos = [m for m in part.media if (m.mime or "").startswith("video/")]
        if videos:
            if len(part.media) > 1:
                raise Rejected(
                    f"{WHAT} takes one video per post, without images: split {videos[0].path.name}"
                    " and the rest into separate posts"
                )
            record["embed"], warning = self._video(videos[0], part.language)
        elif part.media:
            record["embed"] = {
                "$type": "app.bsky.embed.images",
                "images": [self._image(m) for m in part.media],
            }
        elif part.card_url:
            try:
                record["embed"] = self._card(part.card_url)
            except (Refused, Rejected) as exc:  # the post goes out; the delivery keeps why
                warning = f"the link card was left out: {exc}"
        if part.quote:
            record["embed"] = self._quote_embed(part.quote, record.get("embed"))
        with _mapped(sending=True):
            self.client.com.atproto.repo.create_record(
                {"repo": did, "collection": POST, "rkey": rkey, "record": record}
            )
        return Published(f"at://{did}/{POST}/{rkey}", self._url(rkey), warning=warning)

    def _repost(self, did: str, rkey: str, url: str) -> Published:
        """An ``app.bsky.feed.repost`` record of the post at ``url`` (a strong ref: its URI and
        CID, asked of our PDS), under the part's deterministic record key like any post."""
        target = self.resolve_reply(url, "repost")
        record = {
            "$type": REPOST,
            "subject": {"uri": target.remote_id, "cid": target.version},
            "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        with _mapped(sending=True):
            self.client.com.atproto.repo.create_record(
                {"repo": did, "collection": REPOST, "rkey": rkey, "record": record}
            )
        return Published(f"at://{did}/{REPOST}/{rkey}", _web(url))

    def _quote_embed(self, url: str, media: dict[str, Any] | None) -> dict[str, Any]:
        """The quoted post as an embed (``app.bsky.embed.record``), with the part's images or
        link card beside it (``recordWithMedia``) when it has them."""
        target = self.resolve_reply(url, "quote")
        quoted = {
            "$type": "app.bsky.embed.record",
            "record": {"uri": target.remote_id, "cid": target.version},
        }
        if media is None:
            return quoted
        return {"$type": "app.bsky.embed.recordWithMedia", "record": quoted, "media": media}

    def _url(self, rkey: str) -> str:
        return f"https://bsky.app/profile/{self.handle}/post/{rkey}"

    def _get(
        self, did: str, rkey: str, collection: str = POST, part: OutgoingPart | None = None
    ) -> Published | None:
        try:
            with _mapped(sending=False):
                self.client.com.atproto.repo.get_record(
                    {"repo": did, "collection": collection, "rkey": rkey}
                )
        except NotFound:
            return None
        if collection == REPOST:  # a repost has no page of its own: the post it shares has
            return Published(f"at://{did}/{REPOST}/{rkey}", _web(part.repost if part else None))
        return Published(f"at://{did}/{POST}/{rkey}", self._url(rkey))

    def _ref(self, uri: str) -> dict[str, str]:
        _, _, rest = uri.partition("at://")
        repo, _, rkey = rest.partition(f"/{POST}/")
        with _mapped(sending=False):
            got = self.client.com.atproto.repo.get_record(
                {"repo": repo, "collection": POST, "rkey": rkey}
            )
        return {"uri": uri, "cid": str(got.cid)}

    def _root_ref(self, uri: str) -> dict[str, str]:
        """The root of a thread whose first part is ``uri``: that part, unless it is itself a
        reply to another's post (``reply_to:``), whose thread it then belongs to."""
        _, _, rest = uri.partition("at://")
        repo, _, rkey = rest.partition(f"/{POST}/")
        with _mapped(sending=False):
            got = self.client.com.atproto.repo.get_record(
                {"repo": repo, "collection": POST, "rkey": rkey}
            )
        root = _field(got.value, "reply", "root")
        uri_, cid = _field(root, "uri"), _field(root, "cid")
        if isinstance(uri_, str) and isinstance(cid, str):
            return {"uri": uri_, "cid": cid}
        return {"uri": uri, "cid": str(got.cid)}

    def _reply_refs(self, url: str) -> dict[str, dict[str, str]]:
        target = self.resolve_reply(url)
        assert target.version is not None and target.root is not None
        return {
            "root": {"uri": target.root, "cid": target.root_version or target.version},
            "parent": {"uri": target.remote_id, "cid": target.version},
        }

    def resolve_reply(self, url: str, what: str = "answer") -> ReplyTarget:
        """The post at a bsky.app or at:// address through the account's own PDS: its handle
        resolved to a DID (``resolveHandle``), then the post read with ``getPosts`` (which the
        PDS answers through its AppView) for its CID and its thread's root. Nothing is fetched
        from the address itself. ``what`` is what we do with it, for the messages."""
        address = post_address(url)
        if address is None or address.platform != "bluesky" or not address.actor:
            raise Rejected(f"{url[:200]} is not the address of a Bluesky post")
        self._login()
        actor = address.actor
        if not actor.startswith("did:"):
            try:  # network trouble stays Transient: tried again later, like any send
                with _mapped(sending=False):
                    got = self.client.com.atproto.identity.resolve_handle({"handle": actor})
            except Rejected as exc:
                raise Rejected(
                    f"the author of the post to {what}, @{actor[:100]}, is not on {WHAT}: {exc}"
                ) from exc
            actor = str(got.did)
        uri = f"at://{actor}/{POST}/{address.post}"
        with _mapped(sending=False):
            found = self.client.app.bsky.feed.get_posts({"uris": [uri]})
        if not found.posts:
            raise Rejected(
                f"the post to {what} ({url[:200]}) is not on {WHAT}: deleted, or a wrong address"
            )
        post = found.posts[0]
        root = _field(post.record, "reply", "root")
        root_uri, root_cid = _field(root, "uri"), _field(root, "cid")
        if isinstance(root_uri, str) and isinstance(root_cid, str):
            return ReplyTarget(str(post.uri), root_uri, str(post.cid), root_cid)
        return ReplyTarget(str(post.uri), str(post.uri), str(post.cid), str(post.cid))

    def _facets(self, part: OutgoingPart) -> list[dict[str, Any]]:
        out = []
        for facet in part.facets:
            feature: dict[str, Any]
            if facet.kind == "link":
                feature = {"$type": "app.bsky.richtext.facet#link", "uri": facet.value}
            elif facet.kind == "tag":
                feature = {"$type": "app.bsky.richtext.facet#tag", "tag": facet.value}
            else:
                did = self._resolve(facet.value)
                if did is None:
                    continue  # an unknown handle stays plain text
                feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
            out.append(
                {
                    "index": {"byteStart": facet.byte_start, "byteEnd": facet.byte_end},
                    "features": [feature],
                }
            )
        return out

    def _resolve(self, handle: str) -> str | None:
        try:
            with _mapped(sending=False):
                return str(self.client.com.atproto.identity.resolve_handle({"handle": handle}).did)
        except (Rejected, Transient):
            return None

    def _image(self, item: Attachment) -> dict[str, Any]:
        try:
            data = item.path.read_bytes()
        except OSError as exc:
            raise Rejected(f"cannot read the media file {item.path.name}: {exc.strerror}") from exc
        mime = item.mime or "application/octet-stream"
        if len(data) > MAX_BLOB:
            data, mime = _downscale(data, item.path.name), "image/jpeg"
        # The SDK's upload_blob passes the bytes as httpx's deprecated data=; content= is the same.
        with _mapped(sending=False):
            raw = self.client.invoke_procedure(
                "com.atproto.repo.uploadBlob", content=data, headers={"Content-Type": mime}
            )
        blob = models.get_or_create(raw.content["blob"], models.blob_ref.BlobRef)
        image: dict[str, Any] = {"alt": item.alt or "", "image": blob}
        # Without its aspect ratio an app shows the image cropped to a square until it loads.
        _, dims = sniff(data)  # of the bytes sent: a downscaled image keeps its shape anyway
        if dims is not None and dims[0] > 0 and dims[1] > 0:  # app.bsky.embed.defs#aspectRatio
            image["aspectRatio"] = {"width": dims[0], "height": dims[1]}
        return image

    def _video(self, item: Attachment, language: str | None) -> tuple[dict[str, Any], str | None]:
        """An ``app.bsky.embed.video`` for one file (with its ``aspectRatio``, read from the
        file, and its captions), and a warning when the video service could not take it (the
        file then went to the PDS as it is) or a captions file could not go with it."""
        name = item.path.name
        try:
            data = item.path.read_bytes()
        except OSError as exc:
            raise Rejected(f"cannot read the media file {name}: {exc.strerror}") from exc
        if len(data) > MAX_VIDEO:
            raise Rejected(f"{name} is over {WHAT}'s {MAX_VIDEO // 1_000_000} MB video limit")
        warning = None
        blob: Any = None
        if self.video_service is not None:
            try:
                blob = self._processed(name, data, self.video_service)
            except _Unavailable as exc:
                warning = f"{exc}: {name} went to the PDS unprocessed"
        if blob is None:
            blob = self._upload_blob(data, item.mime or "video/mp4")
        embed: dict[str, Any] = {"$type": "app.bsky.embed.video", "video": blob}
        if item.alt:
            embed["alt"] = item.alt
        facts = _video_facts(item.path)
        if facts is not None and facts.width and facts.height:
            # Without it an app sizes the player only once the video has loaded.
            embed["aspectRatio"] = {"width": facts.width, "height": facts.height}
        captions, left_out = self._captions(item, language)
        if captions:
            embed["captions"] = captions
        if left_out:
            warning = "; ".join(filter(None, [warning, left_out]))
        return embed, warning

    def _captions(
        self, item: Attachment, post_language: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The video's captions as ``app.bsky.embed.video#caption`` (a language and a WebVTT
        blob, at most 20 KB, by the lexicon); an SRT file is sent as WebVTT (the two differ in
        their header and the decimal comma). A file with no language, or too large, is left out
        and said in the warning: the video goes out without it."""
        out: list[dict[str, Any]] = []
        left: list[str] = []
        for own, path, written in item.captions:
            language = own or post_language  # a file without one takes the post's language:
            if not language:
                left.append(f"{written} (no language: write captions: {{en: {written}}})")
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                left.append(f"{written} (unreadable)")
                continue
            data = _as_webvtt(text).encode("utf-8")
            if len(data) > MAX_CAPTIONS:
                left.append(f"{written} (over {WHAT}'s {MAX_CAPTIONS // 1000} KB for captions)")
                continue
            out.append({"lang": language, "file": self._upload_blob(data, "text/vtt")})
        said = f"captions left out: {', '.join(left)}" if left else None
        return out, said

    def _upload_blob(self, data: bytes, mime: str) -> Any:
        """``com.atproto.repo.uploadBlob`` to the account's PDS: its blob ref."""
        with _mapped(sending=False):
            raw = self.client.invoke_procedure(
                "com.atproto.repo.uploadBlob", content=data, headers={"Content-Type": mime}
            )
        return models.get_or_create(raw.content["blob"], models.blob_ref.BlobRef)

    def _processed(self, name: str, data: bytes, service: str) -> Any:
        """The video processed by the video service, as the blob ref the service stored on the
        PDS (see the module). Raises _Unavailable where the service did not take the upload (the
        caller falls back to the PDS), Rejected for a job that failed, Transient at the deadline
        (the token and the job are dropped; the next run uploads again)."""
        did = self._login()
        # Alive until the service may still upload (the PDS gives at most an hour).
        life = min(VIDEO_TOKEN_MAX_S, max(VIDEO_TOKEN_S, self.video_timeout + 300))
        try:
            with _mapped(sending=False):
                pds = str(self.client.com.atproto.server.describe_server().did)
                token = self.client.com.atproto.server.get_service_auth(
                    {
                        "aud": pds,
                        "lxm": "com.atproto.repo.uploadBlob",
                        "exp": int(time.time()) + life,  # the PDS's clock, not the campaign's
                    }
                ).token
        except (Rejected, Transient) as exc:  # a PDS without service auth: upload it there
            raise _Unavailable(f"the PDS gave no token for the video service ({exc})") from exc
        where = f"{WHAT}'s video service ({urlsplit(service).netloc})"
        with httpx.Client(base_url=service, timeout=VIDEO_HTTP_TIMEOUT_S) as http:
            try:
                answer = http.post(
                    "/xrpc/app.bsky.video.uploadVideo",
                    params={"did": did, "name": name},
                    content=data,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "video/mp4"},
                )
            except httpx.HTTPError as exc:
                raise _Unavailable(f"{where} could not be reached ({type(exc).__name__})") from exc
            job = _job(answer)
            job_id = job.get("jobId")
            # Whatever the status code, an answer naming a job is that job (an upload of a file
            # the service already has may be answered with an error and the existing job).
            if not isinstance(job_id, str) or not job_id:
                why = job.get("message") or job.get("error") or answer.reason_phrase
                raise _Unavailable(f"{where} refused the upload ({answer.status_code} {why})")
            backoff = Backoff(time.monotonic() + self.video_timeout, POLL_DELAYS_S)
            while True:
                state = job.get("state")
                if state == "JOB_STATE_COMPLETED" and isinstance(job.get("blob"), dict):
                    return models.get_or_create(job["blob"], models.blob_ref.BlobRef)
                if state == "JOB_STATE_FAILED":
                    why = job.get("error") or job.get("message") or "no reason given"
                    raise Rejected(f"{where} could not process {name}: {why}")
                if not backoff.wait():
                    raise Transient(
                        f"{where} was still processing {name} after {self.video_timeout} s"
                        " (video_timeout): it is uploaded again at the next run"
                    )
                try:
                    polled = http.get("/xrpc/app.bsky.video.getJobStatus", params={"jobId": job_id})
                except httpx.HTTPError:
                    continue  # a poll lost on the way: ask again, within the deadline
                if polled.status_code == 200:
                    job = _job(polled)
                # Anything else (a 5xx, a 404 of a job it forgot) is asked again until the
                # deadline, where the whole upload is done again at the next run.

    def _card(self, url: str) -> dict[str, Any]:
        """A link card: title, description and picture from the page's OpenGraph tags. Raises
        Refused (or Rejected, for a picture that cannot be made small enough or that the PDS
        refuses): the caller then posts without it."""
        card = read_card(url, self.card_guard, self.card_limits)
        external: dict[str, Any] = {
            "uri": card.url,
            "title": card.title,
            "description": card.description,
        }
        if card.picture is not None and card.picture_type is not None:
            data, mime = card.picture, card.picture_type
            if len(data) > MAX_BLOB:
                data, mime = _downscale(data, "the card's picture"), "image/jpeg"
            with _mapped(sending=False):
                raw = self.client.invoke_procedure(
                    "com.atproto.repo.uploadBlob", content=data, headers={"Content-Type": mime}
                )
            external["thumb"] = models.get_or_create(raw.content["blob"], models.blob_ref.BlobRef)
        return {"$type": "app.bsky.embed.external", "external": external}

    def lookup(self, part: OutgoingPart, since: datetime) -> Published | None:
        collection = REPOST if part.repost else POST
        return self._fresh_on_revoke(
            lambda: self._get(self._login(), self._rkey(part), collection, part)
        )

    metrics_batch = 25  # URIs per app.bsky.feed.getPosts

    def metrics(self, remote_ids: Sequence[str]) -> dict[str, Counts]:
        """Like, repost, reply and quote counts from ``app.bsky.feed.getPosts``, which the PDS
        answers through the AppView; a deleted post is left out."""

        # A repost record has no counts of its own (getPosts reads posts): it is not asked.
        uris = [uri for uri in remote_ids if f"/{POST}/" in uri]
        if not uris:
            return {}

        def get() -> dict[str, Counts]:
            self._login()
            with _mapped(sending=False):
                found = self.client.app.bsky.feed.get_posts({"uris": uris})
            return {
                post.uri: Counts(
                    likes=post.like_count,
                    reposts=post.repost_count,
                    replies=post.reply_count,
                    quotes=post.quote_count,
                )
                for post in found.posts
            }

        return self._fresh_on_revoke(get)

    inbox_source = "notifications"

    def inbox(self, cursor: str | None, limit: int) -> InboxPage:
        """A page of ``listNotifications``: replies, mentions, quotes and reposts (see the module)."""

        def get() -> InboxPage:
            self._login()
            params: dict[str, Any] = {"limit": max(1, min(limit, 100))}
            if cursor:
                params["cursor"] = cursor
            with _mapped(sending=False):
                page = self.client.app.bsky.notification.list_notifications(params)
            items = [
                _repost(n) if n.reason == "repost" else _incoming(n)
                for n in page.notifications
                if n.reason in INBOX_REASONS
            ]
            return InboxPage(items, page.cursor or None)

        return self._fresh_on_revoke(get)

    reads_replies = True
    thread_depth = 1000  # getPostThread's maximum: a real thread is never deeper

    def replies(self, target: str, cursor: str | None, limit: int) -> InboxPage:
        """Everything others wrote in the thread under ``target`` (``getPostThread``), at any
        depth: replies to replies notify their parent's author, not us, so only the thread
        shows them. The account's own posts are left out but their replies are not; blocked
        and deleted posts are left out. One page: the AppView gives the thread whole. A thread
        whose first post is gone (NotFound) is an empty page."""

        def get() -> InboxPage:
            me = self._login()
            params = {"uri": target, "depth": self.thread_depth, "parent_height": 0}
            try:
                with _mapped(sending=False):
                    got = self.client.app.bsky.feed.get_post_thread(params)
            except NotFound:
                return InboxPage([], None)
            found: list[Incoming] = []
            below = list(_field(got.thread, "replies") or [])
            while below:
                node = below.pop()
                post = _field(node, "post")
                if post is None:  # notFoundPost, blockedPost: nothing to read, nothing below
                    continue
                below += list(_field(node, "replies") or [])
                if str(post.author.did) != me:
                    found.append(_reply(post, target))
            return InboxPage(found, None)

        return self._fresh_on_revoke(get)

    def close(self) -> None:
        self.client.request.close()

    def verify(self) -> str:
        did = self._login()
        return f"@{self.handle} ({did}) on {self.service}"


INBOX_REASONS = frozenset({"reply", "mention", "quote", "repost"})
APP = "https://bsky.app/profile"


def _field(value: Any, *path: str) -> Any:
    """``value.a.b`` along ``path``, for SDK models and plain dicts alike (a notification's
    record is either, by how the SDK knows its type); None where something is missing."""
    for name in path:
        if value is None:
            return None
        if isinstance(value, dict):
            value = value.get(name) or value.get(_camel(name))
        else:
            value = getattr(value, name, None)
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def _quoted(record: Any) -> str | None:
    """The post a record quotes: an ``embed.record``'s, or the record of ``recordWithMedia``."""
    embed = _field(record, "embed")
    uri = _field(embed, "record", "uri")
    if isinstance(uri, str):
        return uri
    nested = _field(embed, "record", "record", "uri")
    return nested if isinstance(nested, str) else None


def _repost(n: Any) -> Incoming:
    """A repost of one of the account's posts: an item answering it (``reasonSubject``), with
    no text and no post of its own to open, so its link is the reposter's profile."""
    handle = str(n.author.handle)
    created = _when(_field(n.record, "created_at"), n.indexed_at)
    subject = _field(n.record, "subject", "uri") or n.reason_subject
    return Incoming(
        remote_id=str(n.uri),
        kind="repost",
        author_handle=handle,
        author_name=n.author.display_name or None,
        author_url=f"{APP}/{handle}",
        text="",
        url=f"{APP}/{handle}",
        created_at=created.astimezone(UTC),
        answers=str(subject) if subject else None,
    )


def _incoming(n: Any) -> Incoming:
    record = n.record
    handle = str(n.author.handle)
    if n.reason == "reply":
        answers = _field(record, "reply", "parent", "uri")
    elif n.reason == "quote":
        answers = _quoted(record) or n.reason_subject
    else:
        answers = None
    root = _field(record, "reply", "root", "uri")
    rkey = str(n.uri).rsplit("/", 1)[-1]
    return Incoming(
        remote_id=str(n.uri),
        kind=str(n.reason),
        author_handle=handle,
        author_name=n.author.display_name or None,
        author_url=f"{APP}/{handle}",
        text=str(_field(record, "text") or ""),
        url=f"{APP}/{handle}/post/{rkey}",
        created_at=_when(_field(record, "created_at"), n.indexed_at),
        answers=str(answers) if answers else None,
        root=str(root) if root else None,
    )


def _reply(post: Any, root: str) -> Incoming:
    """A post of a thread (a PostView) as a reply to its parent, in the thread of ``root``."""
    record = post.record
    handle = str(post.author.handle)
    parent = _field(record, "reply", "parent", "uri")
    rkey = str(post.uri).rsplit("/", 1)[-1]
    return Incoming(
        remote_id=str(post.uri),
        kind="reply",
        author_handle=handle,
        author_name=post.author.display_name or None,
        author_url=f"{APP}/{handle}",
        text=str(_field(record, "text") or ""),
        url=f"{APP}/{handle}/post/{rkey}",
        created_at=_when(_field(record, "created_at"), post.indexed_at),
        answers=str(parent) if parent else None,
        root=root,
    )


def _when(written: Any, indexed: Any) -> datetime:
    """When a post was written (its record says), else when the AppView saw it; in UTC."""
    try:
        created = datetime.fromisoformat(str(written or indexed).replace("Z", "+00:00"))
    except ValueError:
        created = datetime.fromisoformat(str(indexed).replace("Z", "+00:00"))
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return created.astimezone(UTC)


def _downscale(data: bytes, name: str) -> bytes:
    """Re-encode an image as JPEG until it is under Bluesky's 1 MB blob limit."""
    try:
        from PIL import Image
    except ImportError:
        raise Rejected(
            f"{name} is over Bluesky's 1 MB limit: make it smaller (or install Pillow)"
        ) from None
    try:
        image = Image.open(io.BytesIO(data)).convert("RGB")
    except (OSError, SyntaxError, EOFError, ValueError, Image.DecompressionBombError) as exc:
        raise Rejected(f"{name} cannot be read as an image ({type(exc).__name__}: {exc})") from exc
    for scale in (1.0, 0.85, 0.7, 0.55, 0.4, 0.3):
        size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
        out = io.BytesIO()
        image.resize(size).save(out, "JPEG", quality=82, optimize=True)
        if out.tell() <= MAX_BLOB:
            return out.getvalue()
    raise Rejected(f"{name} stays over Bluesky's 1 MB limit even when downscaled")


def _web(url: str | None) -> str | None:
    """A repost's address to show: the shared post's page, when it was given as one."""
    return url if url and url.startswith("https://") else None


class _Unavailable(Exception):
    """The video service did not take the upload (turned off, unreachable, refusing): the video
    goes to the PDS instead."""


def _job(answer: httpx.Response) -> dict[str, Any]:
    """The job status in an answer of the video service: ``{"jobStatus": {...}}`` as the lexicon
    says, else the body itself (an error body, which may still name a job at its top level);
    empty when the body is not a JSON object."""
    try:
        body = answer.json()
    except ValueError:
        return {}
    if not isinstance(body, dict):
        return {}
    status = body.get("jobStatus", body)
    return status if isinstance(status, dict) else {}


def _video_service(account: AccountConfig) -> str | None:
    """``video_service``: the video service's address (default https://video.bsky.app), or None
    when it is turned off (``none``, or empty)."""
    text = (account.get("video_service", VIDEO_SERVICE) or "").strip()
    if text.lower() in VIDEO_OFF:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username is not None:
        raise ConfigError(
            f'account "{account.name}": video_service must be an https:// address like'
            f' {VIDEO_SERVICE}, or none to upload videos to the PDS directly, not "{text[:200]}"',
            location=account.loc,
        )
    return text.rstrip("/")


class NotFound(Rejected):
    """getRecord of a record that is not there (the PDS answers 400 RecordNotFound), or
    getPostThread of a post the AppView does not have (400 NotFound)."""


SESSION_ERRORS = frozenset(
    {"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"}
)


def _error_name(exc: ax.RequestErrorBase) -> str | None:
    content = exc.response.content if exc.response is not None else None
    error = getattr(content, "error", None)
    if error is None and isinstance(content, dict):
        error = content.get("error")
    return str(error) if error else None


def _ports(account: AccountConfig, key: str) -> list[int]:
    """``card_ports: 8080, 8443``: ports a card may be fetched from besides 80 and 443."""
    text = account.get(key) or ""
    try:
        ports = [int(p) for p in text.replace(",", " ").split()]
    except ValueError:
        ports = [0]
    if any(not 0 < p < 65536 for p in ports):
        raise ConfigError(
            f'account "{account.name}": {key} must be port numbers, like "8080, 8443", not "{text}"',
            location=account.loc,
        )
    return ports


def _tighten(path: Path) -> None:
    """A session file others may read (it holds tokens) is made 0600, with a warning."""
    try:
        mode = stat.S_IMODE(path.lstat().st_mode)
    except OSError:
        return
    if path.is_symlink() or not mode & 0o077:
        return
    try:
        path.chmod(0o600)
        done = "it is 0600 now"
    except OSError as exc:  # not ours to change: say so, and still go on
        done = f"it could not be made 0600 ({exc.strerror}): chmod 600 it"
    warnings.warn(
        f"{path} could be read by other users (mode {mode:04o}) and holds the account's tokens:"
        f" {done}. If others could use this machine, revoke the app password and make a new one",
        ConfigWarning,
        stacklevel=2,
    )


def _read_private(path: Path) -> str | None:
    """The saved session; a symlink in its place is not followed (the campaign folder comes from
    other people) and counts as no session."""
    _tighten(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd) as fh:
        return fh.read().strip() or None


def _write_private(path: Path, text: str) -> None:
    """Write tokens for the owner's eyes only: a new file created 0600 (mkstemp), then renamed
    over the old one, so no moment shows them to others, a crash never leaves half a session,
    and a symlink planted there is replaced instead of written through."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _tighten(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


@contextmanager
def _mapped(*, sending: bool) -> Iterator[None]:
    """atproto's and httpx's exceptions → ours (httpx's RemoteProtocolError, a dropped
    connection, is not wrapped by the SDK)."""
    try:
        yield
    except ax.RateLimitExceededError as exc:
        reset = getattr(exc, "reset_at", None)
        retry_at = datetime.fromtimestamp(reset, UTC) if isinstance(reset, (int, float)) else reset
        raise RateLimited(
            f"{WHAT}'s rate limit: {exc}", retry_at if isinstance(retry_at, datetime) else None
        ) from exc
    except ax.UnauthorizedError as exc:
        raise AuthFailed(
            f"{WHAT} refused the login or session ({exc}): check the handle and create a new app password"
        ) from exc
    except ax.BadRequestError as exc:
        error = _error_name(exc)
        if error in ("RecordNotFound", "NotFound"):
            raise NotFound(str(exc)) from exc
        if error in SESSION_ERRORS:
            raise AuthFailed(
                f"{WHAT} ended the session ({error}): log in again with the app password"
            ) from exc
        raise Rejected(f"{WHAT} refused it: {exc}") from exc
    except ax.InvokeTimeoutError as exc:
        if sending:
            raise InDoubt(f"{WHAT} did not answer in time while posting") from exc
        raise Transient(f"{WHAT} did not answer in time") from exc
    except ax.NetworkError as exc:
        # The SDK also raises this for answers it deems worth retrying: 409, 413 and 502. Of
        # those, 413 PayloadTooLarge (XRPC spec) cannot get better by sending the same again.
        status = exc.response.status_code if exc.response is not None else None
        if status == 413:
            raise Rejected(f"{WHAT} refused it as too large: {exc}") from exc
        if status is not None:
            if sending:
                raise InDoubt(f"{WHAT} answered {exc} while posting") from exc
            raise Transient(f"{WHAT} answered {exc}") from exc
        if sending:
            raise InDoubt(f"the connection to {WHAT} broke while posting") from exc
        raise Transient(f"cannot reach {WHAT}: {exc}") from exc
    except ax.RequestException as exc:
        if sending:
            raise InDoubt(f"{WHAT} answered {exc} while posting") from exc
        raise Transient(f"{WHAT} answered {exc}") from exc
    except httpx.RemoteProtocolError as exc:  # a dropped connection: the SDK does not wrap it
        if sending:
            raise InDoubt(f"the connection to {WHAT} broke while posting") from exc
        raise Transient(f"the connection to {WHAT} broke") from exc
    except httpx.HTTPError as exc:
        raise Transient(f"cannot reach {WHAT}: {type(exc).__name__}") from exc


MAX_CAPTIONS = 20_000  # bytes of one captions file (app.bsky.embed.video#caption, maxSize)


def _video_facts(path: Path) -> MediaInfo | None:
    """The video's facts as check read them; None where they cannot be read (then sent
    without them)."""
    try:
        return inspect(path)
    except MediaUnreadable:
        return None
