"""``render --format markdown``: the posts as each platform will show them, as one GitHub comment.

Presentation only: built from what ``render --format json`` prints (its delivery dicts) and the
problems ``check`` finds, never by rendering again. Problems come first (errors, then warnings),
then each post: where it is written, when it goes out in the campaign's zone, and per account
every part in a fenced block with its length against the limit, its media and alt text.

Everything shown comes from the pull request's files and is untrusted: a post text goes in a
fence longer than any run of backticks in it, so it cannot close the block; every other value is
escaped (the punctuation markdown and HTML use is backslashed, so none takes effect) or put in a
code span, and ``@`` and ``#`` get a zero-width space after them, because GitHub links mentions
and issue references in rendered text (and notifies whoever is mentioned) even when escaped.
"""

from __future__ import annotations

import re
import string
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from eduadvocate import __version__
from eduadvocate.campaign.workspace import Workspace
from eduadvocate.cli.changes import Changes
from eduadvocate.compose.check import SHARED, Analysis
from eduadvocate.content.media import duration_text
from eduadvocate.core.errors import ExitCode, Problem
from eduadvocate.core.words import plural
from eduadvocate.timing.timespec import local_label

MARKER = "<!-- eduadvocate-preview -->"  # how `eduadvocate github comment` finds its comment
# GitHub refuses a comment body over 65,536 characters; counted here in UTF-16 code units (an
# emoji is two), which is never fewer than GitHub counts, with room for the closing lines.
COMMENT_LIMIT = 65_536
_RESERVE = 1_000
_PROBLEMS_SHARE = 0.4  # the problems may fill this much of the comment; the posts get the rest
PART_TEXT_MAX = 5_000  # a longer part is cut in the comment (render shows it whole)
_ZWSP = "\u200b"
# ASCII punctuation CommonMark lets a backslash escape, less what starts nothing (kept readable);
# "-" and "." start something only at the beginning of a line.
_PUNCTUATION = frozenset(string.punctuation) - frozenset(",;:'\"/?%=")
_BACKTICKS = re.compile("`+")


@dataclass(frozen=True)
class PostRef:
    """A post the preview shows, even one with no delivery (no account resolved)."""

    id: str
    file: str
    line: int


def show(
    ws: Workspace,
    result: Analysis,
    deliveries: list[dict[str, Any]],
    changes: Changes | None,
    zone: ZoneInfo,
    selected: set[str] | None,
) -> int:
    """Print the preview of the ``selected`` posts (None: all). Exit 0 once it is written,
    whatever it shows: ``check`` is what fails a pull request; the preview describes it."""
    refs: dict[str, PostRef] = {}
    for post in ws.campaign.posts:
        if (selected is None or post.id in selected) and post.id not in refs:
            refs[post.id] = PostRef(post.id, post.loc.file, post.loc.line)
    # Problems of posts not shown (unchanged ones) are left out; those of no post (a file that
    # cannot be read, people.yaml) always stay.
    problems = [p for p in result.problems if p.post is None or p.post in refs]
    out = preview(deliveries, problems, list(refs.values()), zone=zone, now=ws.now, changes=changes)
    sys.stdout.write(out)
    return ExitCode.OK


def text(value: str) -> str:
    """``value`` as literal text on one line of markdown: no markup, HTML, mention or reference."""
    out = []
    for index, char in enumerate(" ".join(value.split())):
        if char in "-." and index:
            out.append(char)
        elif char in _PUNCTUATION:
            out.append("\\" + char)
            if char in "@#":
                out.append(_ZWSP)
        elif char.isprintable():
            out.append(char)
        else:
            out.append("\N{REPLACEMENT CHARACTER}")
    return "".join(out)


def fenced(body: str, info: str = "text") -> str:
    """``body`` in a fenced code block it cannot leave: the fence is longer than any backtick run
    in it (and at least three). Line ends are made ``\n`` (a lone ``\r`` ends a line too)."""
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    longest = max((len(m) for m in _BACKTICKS.findall(body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{body}\n{fence}"


def width(markdown: str) -> int:
    """The length GitHub's limit is measured against (UTF-16 units: never an undercount)."""
    return len(markdown.encode("utf-16-le")) // 2


def preview(
    deliveries: list[dict[str, Any]],
    problems: list[Problem],
    posts: list[PostRef],
    *,
    zone: ZoneInfo,
    now: datetime,
    changes: Changes | None,
    limit: int = COMMENT_LIMIT,
) -> str:
    """The whole comment, at most ``limit`` long: problems, then every post, then how it was made."""
    by_post: dict[str, list[dict[str, Any]]] = {p.id: [] for p in posts}
    for item in deliveries:
        by_post.setdefault(item["post"], []).append(item)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    head = [MARKER, _heading(len(posts), len(deliveries), errors, warnings, changes), ""]
    footer = ["", "---", _footer(changes, zone, now)]
    budget = limit - width("\n".join(head + footer)) - _RESERVE

    body: list[str] = []
    if errors or warnings:
        body += ["### Problems", ""]
        lines = [_problem_line(p) for p in (*errors, *warnings)]
        shown = _fitting(lines, int(budget * _PROBLEMS_SHARE))
        body += lines[:shown]
        if shown < len(lines):
            body.append(
                f"- … and {len(lines) - shown} more: `eduadvocate check` lists every problem"
            )
        body.append("")
    if changes is not None and changes.removed:
        body += [f"### Removed ({len(changes.removed)})", ""]
        removed = [f"- {_code(r.id)} (was at {_code(str(r.location))})" for r in changes.removed]
        shown = _fitting(removed, int(budget * _PROBLEMS_SHARE))
        body += removed[:shown]
        if shown < len(removed):
            body.append(f"- … and {len(removed) - shown} more")
        body.append("")
    left = budget - width("\n".join(body))
    blocks = [_post_block(ref, by_post.get(ref.id, []), problems, zone, changes) for ref in posts]
    shown = _fitting(blocks, left)
    body += blocks[:shown]
    if shown < len(blocks):
        body.append(
            f"**{plural(len(blocks) - shown, 'more post')} left out"
            " to stay under GitHub's comment limit:** `eduadvocate render` shows them all."
        )
    if not posts:
        body.append(
            "No post changed." if changes is not None else "There are no posts in this campaign."
        )
    return "\n".join(head + body + footer) + "\n"


def _fitting(blocks: list[str], budget: int) -> int:
    """How many of ``blocks`` (from the first, one per line) fit in ``budget``."""
    used = 0
    for count, block in enumerate(blocks):
        used += width(block) + 1
        if used > budget:
            return count
    return len(blocks)


def _heading(
    posts: int,
    deliveries: int,
    errors: list[Problem],
    warnings: list[Problem],
    changes: Changes | None,
) -> str:
    what = plural(posts, "post")
    if changes is not None:
        new, edited = len(changes.new), len(changes.edited)
        what += f" changed since {_code(changes.ref)} ({new} new, {edited} edited"
        what += f", {len(changes.removed)} removed)"
    state = f"✗ {plural(len(errors), 'error')}" if errors else "✓ no errors"
    state += f", {plural(len(warnings), 'warning')}"
    return f"## eduadvocate preview: {what}, {plural(deliveries, 'delivery')} · {state}"


def _footer(changes: Changes | None, zone: ZoneInfo, now: datetime) -> str:
    command = "eduadvocate render --format markdown"
    if changes is not None:
        command += f" --changed-since {changes.ref}"
    return (
        f"<sub>Made by eduadvocate {text(__version__)} with {_code(command)} as of"
        f" {text(local_label(now, zone))}. Times are in {text(str(zone))}. `eduadvocate render`"
        " and `eduadvocate check` show the same locally.</sub>"
    )


def _code(value: str) -> str:
    """``value`` as inline code on one line (a code span: no mention, link or markup)."""
    value = " ".join(value.split())
    longest = max((len(m) for m in _BACKTICKS.findall(value)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") or not value.strip() else ""
    return f"{ticks}{pad}{value}{pad}{ticks}"


def _problem_line(p: Problem) -> str:
    where = f"{_code(str(p.location))}: " if p.location else ""
    who = ", ".join(
        x
        for x in (
            f"post {_code(p.post)}" if p.post else "",
            f"account {_code(p.account)}" if p.account else "",
        )
        if x
    )
    line = f"- **{p.severity}** {_code(p.code)} {where}{text(p.message)}"
    if who:
        line += f" ({who})"
    if p.hint:
        line += f". {text(p.hint)}"
    return line


def _when(item: dict[str, Any], zone: ZoneInfo) -> str:
    if item["when"] == "now":
        return "now (when publish next runs)"
    if not item["at"]:
        return "not scheduled"
    label = local_label(datetime.fromisoformat(item["at"].replace("Z", "+00:00")), zone)
    if item["when"] == "recurring":
        return f"next {label} ({item['recurrence']})"
    return label


def _post_block(
    ref: PostRef,
    items: list[dict[str, Any]],
    problems: list[Problem],
    zone: ZoneInfo,
    changes: Changes | None,
) -> str:
    state = ""
    if changes is not None:
        state = " · new" if ref.id in changes.new else " · edited"
    counts = _counts(p for p in problems if p.post == ref.id)
    about = [_code(f"{ref.file}:{ref.line}")]
    about.append(
        f"goes out {text(_when(items[0], zone))}" if items else "goes to no account (see Problems)"
    )
    if counts:
        about.append(f"**{counts}** (see Problems)")
    lines = [f"### {_code(ref.id)}{state}", "", " · ".join(about)]
    for item in items:
        total = len(item["parts"])
        head = f"**{text(item['account'])}** ({text(item['platform'])})"
        if _when(item, zone) != _when(items[0], zone):  # an account's own time
            head += f", {text(_when(item, zone))}"
        if item.get("repost"):
            head += " · a repost"
        elif total == 1:
            head += f" · {_size(item['parts'][0])}"
        elif total > 1:
            head += f" · a thread of {total} parts"
        lines += ["", head]
        # Shown as code: an address from a posts file is not a link.
        shared = [(f, item[f]) for f in ("reply_to", "repost", "quote") if item.get(f)]
        for field, address in shared:
            lines += ["", f"{SHARED[field]} {_code(address)}"]
        if item.get("repost"):  # shared as it is: no text of its own
            continue
        if item["content_warning"]:
            lines += ["", f"Content warning: {text(item['content_warning'])}"]
        for index, part in enumerate(item["parts"], 1):
            if total > 1:
                lines += ["", f"Part {index}/{total} · {_size(part)}"]
            body = part["text"]
            if len(body) > PART_TEXT_MAX:
                cut = len(body) - PART_TEXT_MAX
                body = f"{body[:PART_TEXT_MAX]}\n… ({cut} more characters: eduadvocate render shows them)"
            lines.append(fenced(body))
            for media in part["media"]:
                lines.append(_media_line(media))
    lines.append("")
    return "\n".join(lines)


def _media_line(media: dict[str, Any]) -> str:
    """One media item as render's JSON gives it: its path and alt text, and for a video its
    length, shape, size, captions and thumbnail (paths as code: they come from posts files)."""
    alt = f"alt: {text(media['alt'])}" if media["alt"] else "**no alt text**"
    if not str(media.get("type") or "").startswith("video/"):
        return f"- media {_code(media['path'])} ({alt})"
    facts = []
    if media.get("duration") is not None:
        facts.append(duration_text(media["duration"]))
    if media.get("width") and media.get("height"):
        facts.append(f"{media['width']}×{media['height']}")
    facts.append(f"{media['bytes']:,} bytes")
    if media.get("no_captions"):
        captions = "captions: none"
    elif media.get("captions"):
        captions = "captions: " + ", ".join(
            f"{text(c['language'])} {_code(c['path'])}" if c["language"] else _code(c["path"])
            for c in media["captions"]
        )
    else:
        captions = "**no captions**"
    line = f"- video {_code(media['path'])} ({alt}) · {', '.join(facts)} · {captions}"
    if media.get("thumbnail"):
        line += f" · thumbnail {_code(media['thumbnail'])}"
    return line


def _size(part: dict[str, Any]) -> str:
    size = f"{part['length']}/{part['limit']}"
    if part["length"] > part["limit"]:
        return f"✗ {size}, {part['length'] - part['limit']} over the limit"
    return f"✓ {size}"


def _counts(found: Iterable[Problem]) -> str:
    found = list(found)
    errors = sum(p.severity == "error" for p in found)
    warnings = sum(p.severity == "warning" for p in found)
    said = []
    if errors:
        said.append(plural(errors, "error"))
    if warnings:
        said.append(plural(warnings, "warning"))
    return ", ".join(said)
