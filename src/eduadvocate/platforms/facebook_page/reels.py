"""A video posted as a Facebook Reel (``facebook: {as: reel}``), by the Reels Publishing API
(developers.facebook.com/docs/video-api/guides/reels-publishing).

Three steps: ``POST /{page-id}/video_reels`` with ``upload_phase=start`` answers the ``video_id``;
the file goes in one request to ``rupload.facebook.com/video-upload/{version}/{video_id}`` with
the token as ``Authorization: OAuth …`` and the headers ``offset`` and ``file_size``; then
``upload_phase=finish`` with ``video_state=PUBLISHED`` (or ``SCHEDULED`` and
``scheduled_publish_time``) and the ``description`` publishes it. Nothing is on the Page before
``finish``: a failure until then is :class:`Transient` and the next attempt starts a new upload.
After it, Facebook processes the Reel and then publishes it: ``GET /{video-id}?fields=status``
says how far (``processing_phase``, ``publishing_phase``), asked until publishing is complete or
processing failed, for at most the account's ``video_timeout`` seconds (default
:data:`WAIT_S`). A Reel still processing then is published, with a
warning: ``finish`` was accepted and its id is known, so sending it again would post it twice.

A Reel in doubt (a crash or lost answer around ``finish``) is looked up among the Page's Reels
(``GET /{page-id}/video_reels``, newest first) by its description.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from eduadvocate.platforms.graph_api import RUPLOAD_HOST, Graph, GraphError, parse_time
from eduadvocate.platforms.publishing import (
    Attachment,
    InDoubt,
    OutgoingPart,
    Published,
    PublishError,
    Rejected,
    Transient,
    opened,
)

WHAT = "Facebook"
EDGE = "video_reels"
WAIT_S = 120  # default video_timeout: how long publishing waits for Facebook to publish a Reel
POLL_S = 2.0
LOOKUP_LIMIT = "50"  # the Page's newest Reels searched for one in doubt


def reel_link(video_id: str) -> str:
    return f"https://www.facebook.com/reel/{video_id}"


def publish_reel(
    graph: Graph,
    page: str,
    part: OutgoingPart,
    item: Attachment,
    at: datetime | None,
    wait_s: float = WAIT_S,
) -> Published:
    """Upload and publish (or, ``at``, schedule) the Reel, waiting at most ``wait_s`` seconds for
    Facebook to publish it; see the module docstring."""
    with graph.mapped(sending=False, what=WHAT):
        began = graph.post(f"{page}/{EDGE}", {"upload_phase": "start"})
    video_id = str(began["video_id"])
    _upload(graph, video_id, item)
    finish = {
        "upload_phase": "finish",
        "video_id": video_id,
        "video_state": "PUBLISHED",
        "description": part.text,
    }
    if at is not None:
        finish |= {"video_state": "SCHEDULED", "scheduled_publish_time": str(int(at.timestamp()))}
    with graph.mapped(sending=True, what=WHAT):
        done = graph.post(f"{page}/{EDGE}", finish)
    if not done.get("success"):
        raise InDoubt(f"{WHAT} answered the Reel's finish without success: {done}")
    warning = _wait(graph, video_id, at is not None, wait_s)
    return Published(video_id, reel_link(video_id), warning=warning)


def _upload(graph: Graph, video_id: str, item: Attachment) -> None:
    """The whole file in one request to the upload host (``offset`` 0): a Reel is at most 90
    seconds, well within one request."""
    url = f"{RUPLOAD_HOST}/video-upload/{graph.version}/{video_id}"
    size = item.path.stat().st_size
    headers = {
        "Authorization": f"OAuth {graph.token}",
        "offset": "0",
        "file_size": str(size),
        "Content-Type": "application/octet-stream",
    }
    with opened(item) as fh, graph.mapped(sending=False, what=WHAT):
        response = graph.session.post(url, data=fh, headers=headers)
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        debug = body.get("debug_info") if isinstance(body, dict) else None
        if response.status_code >= 400 and isinstance(debug, dict):  # the upload host's own
            refused = Transient if debug.get("retriable") else Rejected
            raise refused(f"{WHAT} refused the Reel's upload: {debug.get('message') or debug}")
        if response.status_code >= 400 or not isinstance(body, dict):
            raise GraphError(response, body)
    if not body.get("success"):
        debug = body.get("debug_info") or {}
        reason = debug.get("message") if isinstance(debug, dict) else None
        raise Transient(f"{WHAT} did not take the Reel's upload: {reason or body}")


def _wait(graph: Graph, video_id: str, scheduled: bool, wait_s: float) -> str | None:
    """Until the Reel is published (or, scheduled, waiting for its time): None; a Reel still
    processing at the deadline, or whose status cannot be read: a warning. Processing that
    failed is refused: the Reel never shows.

    The status (the Reels Publishing guide's "Get upload session status", and the VideoStatus
    fields of Meta's business SDKs): ``{"video_status": "processing", "uploading_phase":
    {"status": "complete"}, "processing_phase": {"status": "not_started"}, "publishing_phase":
    {"status": "not_started"}}``, each phase's status going on to "complete" or "error"."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            with graph.mapped(sending=False, what=WHAT):
                found = graph.get(video_id, fields="status")
        except PublishError:
            return f"{WHAT} took the Reel but its status could not be read; look at the Page"
        status = found.get("status") or {}
        processing = status.get("processing_phase") or {}
        publishing = status.get("publishing_phase") or {}
        if status.get("video_status") == "error" or processing.get("status") == "error":
            errors = processing.get("errors") or [{}]
            reason = errors[0].get("message") if isinstance(errors[0], dict) else None
            detail = f": {reason}" if reason else ""
            raise Rejected(f"{WHAT} could not process the Reel{detail}; try another file")
        if publishing.get("status") == "complete":
            return None
        if scheduled and publishing.get("publish_status") == "scheduled":
            return None
        if time.monotonic() + POLL_S > deadline:
            return f"{WHAT} is still processing the Reel; it shows on the Page once done"
        time.sleep(POLL_S)


def lookup_reel(graph: Graph, page: str, part: OutgoingPart, start: int) -> Published | None:
    """A Reel made since ``start`` (epoch seconds) with this description, among the Page's
    newest."""
    with graph.mapped(sending=False, what=WHAT):
        reels = graph.get(
            f"{page}/{EDGE}", fields="id,description,created_time", limit=LOOKUP_LIMIT
        )
    for reel in reels.get("data", []):
        if not isinstance(reel, dict) or parse_time(reel.get("created_time")).timestamp() < start:
            continue
        if (reel.get("description") or "").strip() == part.text.strip():
            return Published(str(reel["id"]), reel_link(str(reel["id"])))
    return None


def waiting(reel: dict[str, Any]) -> bool:
    """A Reel handed to Facebook's scheduler and not yet published."""
    publishing = (reel.get("status") or {}).get("publishing_phase") or {}
    return publishing.get("publish_status") == "scheduled"
