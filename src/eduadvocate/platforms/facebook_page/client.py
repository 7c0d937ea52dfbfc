"""Publishing to a Facebook Page through the Graph API (``platforms.graph_api``).

Text goes to ``/{page-id}/feed``, with the post's link in Graph's ``link`` field (the preview card;
the message keeps the link as rendered); one photo to ``/{page-id}/photos`` with its caption and
``alt_text_custom``; several photos are uploaded unpublished and attached to one feed post
(``attached_media``). Photo posts carry their link in the message only: the photos endpoint has no
``link`` field. Facebook has no idempotency key: an attempt in doubt is looked up among
the Page's recent posts by its exact message.

A video goes to ``/{page-id}/videos`` (:meth:`FacebookPublisher._video`) with the text as its
``description``, in one request up to :data:`SIMPLE_UPLOAD_MAX`, else through the resumable
upload (start, transfer, finish); its remote id is the video's id, and a video in doubt is looked
up among the Page's videos by its description. Natively scheduled videos wait in the Page's video
list, not among its scheduled posts: :meth:`~FacebookPublisher.scheduled_ids` reads both. Its
captions files follow the upload, as SRT, each named for its Facebook locale
(:meth:`FacebookPublisher._captions`); one that fails is a warning on a published video.
With ``facebook: {as: reel}`` the video goes out as a Reel instead (``reels.py``), captions
after it likewise.

``inbox pull`` reads the comments under each published post (:meth:`FacebookPublisher.replies`):
``/{post-id}/comments`` with ``filter=stream``, so replies to comments come in the same list, each
with its ``parent``; the Page's own comments are left out. Facebook has no list of notifications
a Page token may read, so ``inbox`` stays unsupported.

Answering (``reply_to:``, :meth:`FacebookPublisher.resolve_reply`): a Page post is answered with a
comment (``POST /{post-id}/comments``), a comment with a reply in its thread
(``POST /{comment-id}/comments`` on the thread's top comment: Facebook keeps replies one level
deep). The address is read offline by :func:`graph_target`; the token needs
``pages_manage_engagement``. As for posts, an answer in doubt is looked up by its exact message
among the Page's own comments in that thread.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from eduadvocate.config.model import AccountConfig
from eduadvocate.content.captions import as_srt
from eduadvocate.core.counts import Counts
from eduadvocate.platforms.facebook_page.address import graph_target
from eduadvocate.platforms.facebook_page.locales import facebook_locale
from eduadvocate.platforms.facebook_page.reels import WAIT_S, lookup_reel, publish_reel, waiting
from eduadvocate.platforms.graph_api import (
    MAX_LIMIT,
    VIDEO_HOST,
    Graph,
    comments_page,
    denied,
    graph_cause,
    may_not_comment,
    missing_aliases,
    missing_object,
    next_cursor,
    parse_time,
)
from eduadvocate.platforms.publishing import (
    Attachment,
    AuthFailed,
    InboxPage,
    Incoming,
    InDoubt,
    MetricsRefused,
    OutgoingPart,
    Published,
    Publisher,
    PublishError,
    Rejected,
    ReplyTarget,
    Transient,
    opened,
)

WHAT = "Facebook"
NEEDED = frozenset({"pages_manage_posts"})
MAX_PAGES = 100  # of the scheduler's listing: 10,000 waiting posts
# "Publish with the Video API" (developers.facebook.com/docs/video-api/guides/publishing) posts
# videos on the graph-video host. Its non-resumable upload (``source``, one multipart request)
# takes files up to 1 GB and 20 minutes; anything larger goes through the resumable upload on the
# same edge: ``upload_phase=start`` with ``file_size`` answers ``video_id``,
# ``upload_session_id``, ``start_offset`` and ``end_offset``; each ``transfer`` sends the bytes
# from ``start_offset`` to ``end_offset`` as ``video_file_chunk`` and answers the next pair (Graph
# chooses the chunk size), until they are equal; ``finish`` carries the description.
SIMPLE_UPLOAD_MAX = 1_000_000_000
# Video API "Error Codes" (developers.facebook.com/docs/video-api/reference/error-codes): upload
# timeout, "problem uploading … try again", a start offset the server did not expect (it says
# which it wants), and 6000 "try again" at the start: a new upload may work. 1363022/1363023
# (too small, over 2 GB) are the file's and stay refusals.
VIDEO_RETRY = frozenset({6000, 1363019, 1363030, 1363037})
# Graph API reference, Video Captions (developers.facebook.com/docs/graph-api/reference/video/
# captions): "The file size limit for video captions is 200K"; the file is SRT.
CAPTIONS_MAX = 200_000
COMMENT_FIELDS = "id,from{id,name},message,created_time,permalink_url,parent{id}"
READ_COMMENTS = "pages_read_user_content"  # with pages_read_engagement, which posting needs
COMMENT = "pages_manage_engagement"  # what commenting as the Page needs
LOOKUP_PAGES = 5  # of a thread's newest comments, 100 a page, searched for an answer in doubt


class FacebookPublisher(Publisher):
    def __init__(self, account: AccountConfig) -> None:
        self.account = account
        self.page = account.get("page_id") or ""
        self.graph = Graph(account)
        self.video_timeout = account.get_positive_int("video_timeout", WAIT_S)

    def publish(self, part: OutgoingPart) -> Published:
        if part.answers:
            return self._comment(part, self.resolve_reply(part.answers))
        shared = part.repost or part.quote
        if shared:  # a share: a post of the Page's own with the address as its link
            share = {"message": part.text, "link": shared} if part.text else {"link": shared}
            with self.graph.mapped(sending=True, what=WHAT):
                result = self.graph.post(f"{self.page}/feed", share)
            post_id = str(result["id"])
            return Published(post_id, _permalink(post_id))
        if video := _only_video(part.media):
            return self._video(part, video, None)
        if part.reel:  # check refuses a Reel without a video; this is the second lock
            raise Rejected(f"a Reel on {WHAT} is one video")
        if len(part.media) == 1:
            return self._photo(part, part.media[0])
        data: dict[str, str] = {"message": part.text}
        if part.media:
            ids = [self._unpublished_photo(item) for item in part.media]
            for i, media_id in enumerate(ids):
                data[f"attached_media[{i}]"] = json.dumps({"media_fbid": media_id})
        elif part.link:
            data["link"] = part.link  # a preview card; with photos it would replace them
        with self.graph.mapped(sending=True, what=WHAT):
            result = self.graph.post(f"{self.page}/feed", data)
        post_id = str(result["id"])
        return Published(post_id, _permalink(post_id))

    def resolve_reply(self, url: str, what: str = "answer") -> ReplyTarget:
        """The Page post or comment at ``url``: ``remote_id`` is where the answer goes (the post,
        or the top comment of the comment's thread), ``root`` the Page post. Two reads, no
        writes: the object exists, and the post is the Page's own (a Page answers under its own
        posts)."""
        found = graph_target(url, self.page)
        if found is None:
            raise Rejected(
                f"cannot tell a Page post's or comment's id from {url}: answer one from"
                " `eduadvocate inbox`, or copy the post's own address (its time's link)"
            )
        kind, object_id = found
        if kind == "post":
            self._read(object_id, "id", "the Page post it answers")
            return ReplyTarget(object_id, root=object_id)
        comment = self._read(object_id, "id,parent{id}", "the comment it answers")
        thread = str((comment.get("parent") or {}).get("id") or comment.get("id") or object_id)
        post = f"{self.page}_{object_id.partition('_')[0]}"
        self._read(post, "id", "the Page post of the comment it answers")
        return ReplyTarget(thread, root=post)

    def _read(self, object_id: str, fields: str, what: str) -> dict[str, Any]:
        """``GET /{object_id}``; one that is gone (or not this Page's) is a one-line refusal."""
        try:
            with self.graph.mapped(sending=False, what=WHAT):
                return self.graph.get(object_id, fields=fields)
        except Rejected as exc:
            if not missing_object(exc):
                raise
        with self.graph.mapped(sending=False, what=WHAT):
            self.graph.get(self.page, fields="id")  # the token still reads the Page: it is gone
        raise Rejected(f"{what} is gone from {WHAT} (deleted, or not under this Page's posts)")

    def _comment(self, part: OutgoingPart, target: ReplyTarget) -> Published:
        if part.media:  # check refuses it; this is the second lock
            raise Rejected("a comment on Facebook carries text only")
        try:
            with self.graph.mapped(sending=True, what=WHAT):
                result = self.graph.post(f"{target.remote_id}/comments", {"message": part.text})
        except AuthFailed as exc:
            if denied(exc):
                raise may_not_comment(exc, WHAT, COMMENT) from exc
            raise
        comment_id = str(result["id"])
        return Published(comment_id, _comment_link(self.page, target, comment_id))

    def _photo(self, part: OutgoingPart, item: Attachment) -> Published:
        with opened(item) as fh, self.graph.mapped(sending=True, what=WHAT):
            result = self.graph.post(
                f"{self.page}/photos",
                {"message": part.text, "alt_text_custom": item.alt or ""},
                files={"source": fh},
            )
        post_id = str(result.get("post_id") or result["id"])
        return Published(post_id, _permalink(post_id))

    def _unpublished_photo(self, item: Attachment) -> str:
        with opened(item) as fh, self.graph.mapped(sending=False, what=WHAT):
            result = self.graph.post(
                f"{self.page}/photos",
                {"published": "false", "alt_text_custom": item.alt or ""},
                files={"source": fh},
            )
        return str(result["id"])

    def _video(self, part: OutgoingPart, item: Attachment, at: datetime | None) -> Published:
        """One video, published now or handed to the Page's scheduler (``at``). Facebook goes on
        processing it after the answer: the post exists meanwhile, so that is published, with a
        warning; a video it already failed to process is refused."""
        if part.reel:
            reel = publish_reel(self.graph, self.page, part, item, at, self.video_timeout)
            warnings = [reel.warning, self._captions(reel.remote_id, item, part.language)]
            return replace(reel, warning="; ".join(w for w in warnings if w) or None)
        data = {"description": part.text}
        if at is not None:
            data |= {"published": "false", "scheduled_publish_time": str(int(at.timestamp()))}
        with opened(item) as fh, _video_errors():
            size = item.path.stat().st_size
            if size <= SIMPLE_UPLOAD_MAX:
                with self.graph.mapped(sending=True, what=WHAT):
                    result = self.graph.post(
                        f"{self.page}/videos", data, files={"source": fh}, host=VIDEO_HOST
                    )
                video_id = str(result["id"])
            else:
                video_id = self._resumable(fh, size, data)
        warnings = [self._processing(video_id), self._captions(video_id, item, part.language)]
        warning = "; ".join(w for w in warnings if w) or None
        return Published(video_id, _permalink(video_id), warning=warning)

    def _captions(self, video_id: str, item: Attachment, language: str | None) -> str | None:
        """The video's captions files, each as SRT named for its Facebook locale
        (``POST /{video-id}/captions`` with ``captions_file``; the first also sets
        ``default_locale``): see :mod:`~eduadvocate.platforms.facebook_page.locales`. The video
        is on the Page already, so a file that cannot go (unreadable, over Graph's 200 KB, no
        locale, refused, a network failure) is said in the warning and the post stays published:
        sending the video again for its captions would post it twice."""
        left: list[str] = []
        default: str | None = None
        for own, path, written in item.captions:
            tongue = own or language  # a file without one takes the post's language
            locale = facebook_locale(tongue) if tongue else None
            if locale is None:
                left.append(f"{written} (no Facebook locale for its language)")
                continue
            try:
                data = as_srt(path.read_text(encoding="utf-8")).encode("utf-8")
            except (OSError, UnicodeDecodeError):
                left.append(f"{written} (unreadable)")
                continue
            if len(data) > CAPTIONS_MAX:
                left.append(f"{written} (over {WHAT}'s {CAPTIONS_MAX // 1000} KB for captions)")
                continue
            form = {"default_locale": locale} if default is None else {}
            name = f"captions.{locale}.srt"  # Graph reads the locale from the name alone
            try:
                with self.graph.mapped(sending=False, what=WHAT):
                    self.graph.post(
                        f"{video_id}/captions",
                        form,
                        files={"captions_file": (name, data, "application/x-subrip")},
                    )
            except PublishError as exc:
                left.append(f"{written} ({exc})")
                continue
            default = default or locale
        return f"captions not attached: {', '.join(left)}" if left else None

    def _resumable(self, fh: BinaryIO, size: int, data: dict[str, str]) -> str:
        """The resumable upload (see :data:`SIMPLE_UPLOAD_MAX`). Nothing is posted before
        ``finish``: a failure before it is :class:`Transient` and the next attempt starts anew."""
        edge = f"{self.page}/videos"
        with self.graph.mapped(sending=False, what=WHAT):
            began = self.graph.post(
                edge, {"upload_phase": "start", "file_size": str(size)}, host=VIDEO_HOST
            )
            session, video_id = str(began["upload_session_id"]), str(began["video_id"])
            start, end = int(began["start_offset"]), int(began["end_offset"])
            while start < end:
                fh.seek(start)
                chunk = fh.read(end - start)
                sent = self.graph.post(
                    edge,
                    {"upload_phase": "transfer", "upload_session_id": session,
                     "start_offset": str(start)},
                    files={"video_file_chunk": ("chunk", chunk, "application/octet-stream")},
                    host=VIDEO_HOST,
                )  # fmt: skip
                start, end = int(sent["start_offset"]), int(sent["end_offset"])
        finish = {"upload_phase": "finish", "upload_session_id": session} | data
        with self.graph.mapped(sending=True, what=WHAT):
            done = self.graph.post(edge, finish, host=VIDEO_HOST)
        if not done.get("success"):
            raise Rejected(f"{WHAT} did not accept the uploaded video (finish answered {done})")
        return video_id

    def _processing(self, video_id: str) -> str | None:
        """Whether Facebook is still processing the video (a warning) or has failed it
        (``status.video_status`` ``error``: refused). The video is posted already, so a failure
        to ask is no reason to post it again: then nothing is said."""
        try:
            with self.graph.mapped(sending=False, what=WHAT):
                found = self.graph.get(video_id, fields="status")
        except (Transient, Rejected, AuthFailed):
            return None
        status = found.get("status") or {}
        state = status.get("video_status")
        if state == "error":
            errors = (status.get("processing_phase") or {}).get("errors") or [{}]
            reason = errors[0].get("message") if isinstance(errors[0], dict) else None
            detail = f": {reason}" if reason else ""
            raise Rejected(f"{WHAT} could not process the video{detail}; try another file")
        if state in ("processing", "upload_complete", "uploading"):
            return f"{WHAT} is still processing the video; it shows on the Page once done"
        return None

    def can_schedule(self, part: OutgoingPart) -> bool:
        """Text, or one video (photos would need the photos endpoint's own scheduling)."""
        media = part.media
        return not media or (len(media) == 1 and (media[0].mime or "").startswith("video/"))

    def schedule(self, part: OutgoingPart, at: datetime) -> Published:
        if video := _only_video(part.media):
            return self._video(part, video, at)
        data = {
            "message": part.text,
            "published": "false",
            "scheduled_publish_time": str(int(at.timestamp())),
        }
        if part.link and not part.media:
            data["link"] = part.link
        with self.graph.mapped(sending=True, what=WHAT):
            result = self.graph.post(f"{self.page}/feed", data)
        post_id = str(result["id"])
        return Published(post_id, _permalink(post_id))

    def delete(self, remote_id: str) -> bool:
        try:
            with self.graph.mapped(sending=False, what=WHAT):
                self.graph.delete(remote_id)
        except Rejected as exc:
            if not missing_object(exc):
                raise
            # Subcode 33 also stands for "missing permissions": only when the token still reads
            # the Page is the post gone rather than out of this token's sight.
            with self.graph.mapped(sending=False, what=WHAT):
                self.graph.get(self.page, fields="id")
            return False
        return True

    def scheduled_ids(self) -> set[str] | None:
        """Every post waiting in the Page's scheduler: Graph gives at most 100 a page, and pages
        go on while ``paging.next`` is there (an empty page may still have one: Graph API
        "Paginated Results", developers.facebook.com/docs/graph-api/results)."""
        found = {str(p["id"]) for p in self._every("scheduled_posts", "id")}
        # A scheduled video is a video with a publish time ahead, not a scheduled post.
        videos = self._every("videos", "id,published,scheduled_publish_time")
        found.update(str(v["id"]) for v in videos if _waiting_video(v))
        found.update(str(r["id"]) for r in self._every("video_reels", "id,status") if waiting(r))
        return found

    def _every(self, edge: str, fields: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        after: str | None = None
        for _ in range(MAX_PAGES):
            args = {"fields": fields, "limit": "100"} | ({"after": after} if after else {})
            with self.graph.mapped(sending=False, what=WHAT):
                waiting = self.graph.get(f"{self.page}/{edge}", **args)
            items.extend(p for p in waiting.get("data", []) if isinstance(p, dict))
            paging = waiting.get("paging") or {}
            following = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not following or following == after:
                return items
            after = str(following)
        raise Transient(f"{WHAT} lists more than {MAX_PAGES * 100} {edge.replace('_', ' ')}")

    def lookup(self, part: OutgoingPart, since: datetime) -> Published | None:
        if part.answers:
            return self._lookup_comment(part, self.resolve_reply(part.answers))
        start = int((since - timedelta(minutes=1)).astimezone(UTC).timestamp())
        shared = part.repost or part.quote
        fields = "id,message,created_time" + (",attachments" if shared else "")
        if _only_video(part.media):
            if part.reel:
                return lookup_reel(self.graph, self.page, part, start)
            return self._lookup_video(part, start)
        with self.graph.mapped(sending=False, what=WHAT):
            feed = self.graph.get(f"{self.page}/feed", fields=fields, since=str(start), limit="50")
        for post in feed.get("data", []):
            if (post.get("message") or "").strip() != part.text.strip():
                continue
            if shared and shared not in _shared_links(post):
                continue  # a repost has no words of its own: its link tells it
            return Published(str(post["id"]), _permalink(str(post["id"])))
        return None

    def _lookup_comment(self, part: OutgoingPart, target: ReplyTarget) -> Published | None:
        """The Page's own comment with exactly this message in the answer's thread (the newest
        first): Facebook has no idempotency key."""
        after: str | None = None
        for _ in range(LOOKUP_PAGES):
            params = {
                "fields": "id,message,from{id}",
                "order": "reverse_chronological",
                "limit": str(MAX_LIMIT),
            } | ({"after": after} if after else {})
            with self.graph.mapped(sending=False, what=WHAT):
                got = self.graph.get(f"{target.remote_id}/comments", **params)
            for found in got.get("data", []):
                if (
                    str((found.get("from") or {}).get("id")) == self.page
                    and (found.get("message") or "").strip() == part.text.strip()
                ):
                    comment_id = str(found["id"])
                    return Published(comment_id, _comment_link(self.page, target, comment_id))
            after = next_cursor(got, after)
            if after is None:
                return None
        raise InDoubt(
            f"{WHAT}: more than {LOOKUP_PAGES * MAX_LIMIT} comments in the thread; look for the"
            " answer there"
        )

    def _lookup_video(self, part: OutgoingPart, start: int) -> Published | None:
        """A video uploaded since ``start`` with this description, published, processing or
        scheduled (the Page's video list has them all, newest first)."""
        with self.graph.mapped(sending=False, what=WHAT):
            videos = self.graph.get(
                f"{self.page}/videos", fields="id,description,created_time", limit="50"
            )
        for video in videos.get("data", []):
            created = parse_time(video.get("created_time"))
            if created.timestamp() < start:
                continue
            if (video.get("description") or "").strip() == part.text.strip():
                return Published(str(video["id"]), _permalink(str(video["id"])))
        return None

    # -- engagement -------------------------------------------------------------------------------
    metrics_batch = 50  # ids per multi-object GET (Graph's limit)
    _insights = True  # False once the token turned out to lack read_insights

    def metrics(self, remote_ids: Sequence[str]) -> dict[str, Counts]:
        """Reactions, comments and shares, and impressions and reach from the post's insights
        (those need ``read_insights``: without it the counts come without them). A video (its
        id is one number; a Page post's is ``{page-id}_{post-id}``) has reactions and comments
        only: Graph's Video node has no ``shares`` or post insights, and asking for them would
        fail the whole batch."""
        videos = [r for r in remote_ids if "_" not in r]
        posts = [r for r in remote_ids if "_" in r]
        found = self._video_metrics(videos) if videos else {}
        return found | (self._post_metrics(posts) if posts else {})

    def _video_metrics(self, remote_ids: Sequence[str]) -> dict[str, Counts]:
        basic = "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)"
        try:
            with self.graph.mapped(sending=False, what=WHAT):
                found = self.graph.get("", ids=",".join(remote_ids), fields=basic)
        except (AuthFailed, Rejected) as exc:
            rest = [r for r in remote_ids if r not in missing_aliases(exc)]
            if len(rest) < len(remote_ids):
                return self._video_metrics(rest) if rest else {}
            if denied(exc):
                raise MetricsRefused(f"cannot read the Page's videos: {exc}") from exc
            raise
        return {
            str(key): replace(_counts(video), reposts=None)
            for key, video in found.items()
            if isinstance(video, dict)
        }

    def _post_metrics(self, remote_ids: Sequence[str]) -> dict[str, Counts]:
        basic = (
            "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),shares"
        )
        insights = ",insights.metric(post_impressions,post_impressions_unique)"
        try:
            with self.graph.mapped(sending=False, what=WHAT):
                found = self.graph.get(
                    "",
                    ids=",".join(remote_ids),
                    fields=basic + (insights if self._insights else ""),
                )
        except (AuthFailed, Rejected) as exc:
            rest = [r for r in remote_ids if r not in missing_aliases(exc)]
            if len(rest) < len(remote_ids):  # Graph fails a whole batch for one deleted post
                return self._post_metrics(rest) if rest else {}
            if not denied(exc):
                raise
            if not self._insights:
                raise MetricsRefused(f"cannot read the Page's posts: {exc}") from exc
            self._insights = False  # try once more without impressions and reach
            return self._post_metrics(remote_ids)
        return {str(key): _counts(post) for key, post in found.items() if isinstance(post, dict)}

    # -- inbox ------------------------------------------------------------------------------------
    reads_replies = True

    def replies(self, target: str, cursor: str | None, limit: int) -> InboxPage:
        """A page of the comments under the Page post ``target``, oldest first, with the replies
        to them (``filter=stream``): a reply answers its parent comment, within the post."""
        params = {"fields": COMMENT_FIELDS, "filter": "stream", "limit": str(min(limit, MAX_LIMIT))}
        if cursor:
            params["after"] = cursor
        got = comments_page(
            self.graph,
            f"{target}/comments",
            params,
            what=WHAT,
            owner=self.page,
            grant=READ_COMMENTS,
        )
        if got is None:  # the post is gone from the Page, and its comments with it
            return InboxPage([], None)
        items = [
            _comment(c, target)
            for c in got.get("data", [])
            if isinstance(c, dict) and str((c.get("from") or {}).get("id")) != self.page
        ]
        return InboxPage(items, next_cursor(got, cursor))

    def verify(self) -> str:
        """The Page is reachable with this token, and the token may post (``pages_manage_posts``)."""
        with self.graph.mapped(sending=False, what=WHAT):
            page = self.graph.get(self.page, fields="id,name")
            info = self.graph.get("debug_token", input_token=self.graph.token).get("data", {})
        missing = sorted(NEEDED - set(info.get("scopes") or []))
        if not info.get("is_valid", True) or missing:
            raise AuthFailed(
                f"the token for Page {page.get('name', self.page)} lacks {', '.join(missing) or 'validity'}:"
                " grant pages_manage_posts and create a new Page token"
            )
        return f"Page {page.get('name', '?')} ({page.get('id')}), may post"

    def close(self) -> None:
        self.graph.close()


def _shared_links(post: dict[str, Any]) -> set[str]:
    """The addresses a feed post shares, from its ``attachments`` (``url``, ``target.url``)."""
    found = set()
    for item in (post.get("attachments") or {}).get("data") or []:
        if isinstance(item, dict):
            for url in (item.get("url"), (item.get("target") or {}).get("url")):
                if isinstance(url, str):
                    found.add(url)
    return found


def _only_video(media: Sequence[Attachment]) -> Attachment | None:
    """The post's video; a post with one never has photos too (``check`` refuses the mix)."""
    videos = [m for m in media if (m.mime or "").startswith("video/")]
    if videos and len(media) > 1:
        raise Rejected(f"{WHAT} takes one video, or photos, in a post: not both or several")
    return videos[0] if videos else None


def _waiting_video(video: dict[str, Any]) -> bool:
    return bool(video.get("scheduled_publish_time")) and not video.get("published", False)


@contextmanager
def _video_errors() -> Iterator[None]:
    """The Video API's "try the upload again" codes (:data:`VIDEO_RETRY`) are transient:
    nothing was posted, so a new upload on the next run is safe."""
    try:
        yield
    except Rejected as exc:
        found = graph_cause(exc)
        # The subcode says what happened where there is one (6000 comes with "too large" too).
        if found is not None and (found.subcode or found.code) in VIDEO_RETRY:
            raise Transient(str(exc)) from exc
        raise


def _permalink(post_id: str) -> str:
    return f"https://www.facebook.com/{post_id}"


def _comment_link(page: str, target: ReplyTarget, comment_id: str) -> str:
    """A comment's address in the shape its permalink has (``graph_target`` reads it back)."""
    post = (target.root or "").rpartition("_")[2]
    thread = target.remote_id.rpartition("_")[2]
    own = comment_id.rpartition("_")[2]
    link = f"https://www.facebook.com/{page}/posts/{post}/?comment_id="
    if target.remote_id == target.root:  # a comment under the post
        return link + own
    return f"{link}{thread}&reply_comment_id={own}"


def _comment(found: dict[str, Any], post_id: str) -> Incoming:
    """A comment as an inbox item. Facebook has no handle: the author's id (app-scoped, so it
    opens no profile) stands for one, and the name is shown beside it."""
    author = found.get("from") or {}
    parent = (found.get("parent") or {}).get("id")
    return Incoming(
        remote_id=str(found["id"]),
        kind="comment",
        author_handle=str(author.get("id") or "unknown"),
        author_name=author.get("name") or None,
        author_url=None,
        text=str(found.get("message") or ""),
        url=found.get("permalink_url") or None,
        created_at=parse_time(found.get("created_time")),
        answers=str(parent) if parent else post_id,
        root=post_id,
    )


def _counts(post: dict[str, Any]) -> Counts:
    def total(name: str) -> int | None:
        summary = (post.get(name) or {}).get("summary") or {}
        value = summary.get("total_count")
        return int(value) if value is not None else None

    insights = {
        item.get("name"): (item.get("values") or [{}])[0].get("value")
        for item in (post.get("insights") or {}).get("data", [])
    }
    impressions, reach = insights.get("post_impressions"), insights.get("post_impressions_unique")
    return Counts(
        likes=total("reactions"),
        replies=total("comments"),
        reposts=int((post.get("shares") or {}).get("count", 0)),  # left out until someone shares
        impressions=int(impressions) if isinstance(impressions, int) else None,
        reach=int(reach) if isinstance(reach, int) else None,
    )
