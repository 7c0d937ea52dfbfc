"""The outbox's publisher: each delivery becomes ``<folder>/<account>/<due>--<post>.json`` and a
Markdown twin, written atomically part by part. A part's remote id is derived from the delivery,
so sending a part again rewrites the same entry instead of adding one (exactly once by
construction), and lookup reads the file back.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eduadvocate.content.media import MediaUnreadable, duration_text, inspect
from eduadvocate.core.counts import Counts
from eduadvocate.platforms.publishing import (
    Attachment,
    OutgoingPart,
    Published,
    Publisher,
    Transient,
)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class OutboxPublisher(Publisher):
    def __init__(self, folder: Path, account: str) -> None:
        self.folder = folder / _UNSAFE.sub("-", account)
        self.account = account

    def _paths(self, part: OutgoingPart) -> tuple[Path, Path]:
        post, _, due = part.delivery_key.split("|")
        stem = f"{due[:16].replace(':', '')}--{_UNSAFE.sub('-', post)}"
        return self.folder / f"{stem}.json", self.folder / f"{stem}.md"

    def _read(self, path: Path) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return data

    def publish(self, part: OutgoingPart) -> Published:
        json_path, md_path = self._paths(part)
        remote_id = f"{part.delivery_key}#{part.index}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            data = self._read(json_path) or {
                "delivery": part.delivery_key,
                "account": self.account,
                "parts": [],
            }
            parts = [p for p in data["parts"] if p["index"] != part.index]
            entry = {
                "index": part.index,
                "id": remote_id,
                "text": part.text,
                "reply_to": part.reply_to,
                "content_warning": part.content_warning,
                "media": [_media(m) for m in part.media],
                "written_at": datetime.now(UTC).isoformat(),
            }
            if part.answers and part.index == 0:  # a reply to another's post: its address
                entry["answers"] = part.answers
            for shared in ("repost", "quote"):  # what it reposts or quotes: the address
                if getattr(part, shared):
                    entry[shared] = getattr(part, shared)
            parts.append(entry)
            data["parts"] = sorted(parts, key=lambda p: p["index"])
            _write_atomic(json_path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
            _write_atomic(md_path, _markdown(data))
        except OSError as exc:
            raise Transient(f"cannot write the outbox {self.folder}: {exc.strerror}") from exc
        return Published(remote_id=remote_id, url=json_path.as_uri())

    def lookup(self, part: OutgoingPart, since: datetime) -> Published | None:
        json_path, _ = self._paths(part)
        for entry in self._read(json_path).get("parts", []):
            if entry["index"] == part.index and entry["text"] == part.text:
                return Published(remote_id=entry["id"], url=json_path.as_uri())
        return None

    metrics_batch = 1000

    def metrics(self, remote_ids: Sequence[str]) -> dict[str, Counts]:
        """The outbox has no audience: its posts count, with no engagement."""
        return {remote_id: Counts() for remote_id in remote_ids}

    def verify(self) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        return f"writes to {self.folder}"


def _markdown(data: dict[str, Any]) -> str:
    lines = [f"# {data['delivery']}", ""]
    for part in data["parts"]:
        lines.append(f"## Part {part['index'] + 1}")
        lines.append("")
        for key, label in (
            ("answers", "In reply to"),
            ("repost", "Repost of"),
            ("quote", "Quoting"),
        ):
            if part.get(key):
                lines.append(f"{label} <{part[key]}>")
                lines.append("")
        if part["content_warning"]:
            lines.append(f"> CW: {part['content_warning']}")
            lines.append("")
        lines.append(part["text"])
        lines.extend(_media_markdown(m) for m in part["media"])
        lines.append("")
    return "\n".join(lines)


def _media(m: Attachment) -> dict[str, Any]:
    """A media item as the outbox writes it; a video also with what a platform would be told
    of it: its length, size, shape, captions and thumbnail."""
    entry: dict[str, Any] = {"path": str(m.path), "alt": m.alt}
    if not (m.mime or "").startswith("video/"):
        return entry
    try:
        info = inspect(m.path)
    except MediaUnreadable:
        info = None
    entry.update(
        type=m.mime,
        bytes=info.size if info else None,
        duration=info.duration if info else None,
        width=info.width if info else None,
        height=info.height if info else None,
        captions=[{"language": lang, "path": str(path)} for lang, path, _ in m.captions],
        no_captions=m.no_captions,
        thumbnail=str(m.thumbnail) if m.thumbnail else None,
    )
    return entry


def _media_markdown(m: dict[str, Any]) -> str:
    if "duration" not in m:  # an image (or an entry written before videos were described)
        return f"\n![{m['alt'] or ''}]({m['path']})"
    facts = [m["type"]]
    if m["duration"] is not None:
        facts.append(duration_text(m["duration"]))
    if m["width"] and m["height"]:
        facts.append(f"{m['width']}×{m['height']}")
    if m["bytes"] is not None:
        facts.append(f"{m['bytes']:,} bytes")
    captions = ", ".join(f"{c['language'] or 'file'} <{c['path']}>" for c in m["captions"])
    said = f"captions: {captions}" if captions else "no captions"
    if m["no_captions"]:
        said = "no captions (captions: none)"
    if m.get("thumbnail"):  # (an entry written before thumbnails has none)
        said += f"; thumbnail <{m['thumbnail']}>"
    return f"\nVideo: [{m['alt'] or 'no alt text'}]({m['path']}) ({', '.join(facts)}; {said})"


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
