"""Whether a captions file is one: UTF-8 text in WebVTT (W3C) or SubRip (SRT) form, with at
least one cue and every cue timing line well formed.

This is a bounded check, not a parser: the platforms parse the file themselves, and what a
volunteer gets wrong is the file (a Word document renamed .vtt, Latin-1 text, a timing written
``00:01.5``). The registry's maintained parsers either read one of the two forms only (pysrt,
last released 2020) or are not in it (webvtt-py), and neither bounds what it reads; a regular
expression per line does both forms in linear time over at most ``MAX_BYTES``.

The two forms into each other, for the platforms that take only one (:func:`as_webvtt` for
Bluesky, :func:`as_srt` for Facebook): they differ in the header, the decimal comma, numbered
cues and WebVTT's own blocks, settings and voice tags.
"""

from __future__ import annotations

import re
from pathlib import Path

MAX_BYTES = 2 * 1024 * 1024  # a four-hour talk's subtitles are well under 1 MB
_VTT_TIME = r"(?:\d{2,}:)?[0-5]\d:[0-5]\d\.\d{3}"
_SRT_TIME = r"\d{2,}:[0-5]\d:[0-5]\d,\d{3}"
_VTT_CUE = re.compile(rf"{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}(?:[ \t].*)?")
_SRT_CUE = re.compile(rf"{_SRT_TIME}[ \t]*-->[ \t]*{_SRT_TIME}(?:[ \t].*)?")
_VTT_HEADER = re.compile(r"WEBVTT(?:[ \t].*)?")


def captions_problem(path: Path) -> str | None:
    """Why ``path`` is no WebVTT or SRT file (a phrase: "is not UTF-8 text"); None if it is one.
    Raises OSError when it cannot be read."""
    with path.open("rb") as fh:
        data = fh.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return f"is over {MAX_BYTES // (1024 * 1024)} MB, more than any captions file"
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        return f"is not UTF-8 text (byte {exc.start + 1}): save it as UTF-8"
    lines = text.splitlines()
    vtt = bool(lines) and _VTT_HEADER.fullmatch(lines[0]) is not None
    cue = _VTT_CUE if vtt else _SRT_CUE
    cues = 0
    for number, line in enumerate(lines, 1):
        if "-->" not in line:
            continue
        if not cue.fullmatch(line.strip()):
            form = "00:00:01.000 --> 00:00:04.000" if vtt else "00:00:01,000 --> 00:00:04,000"
            return f"has a cue timing at line {number} that is not {'WebVTT' if vtt else 'SRT'} ({form})"
        cues += 1
    if cues == 0:
        if not vtt and lines and lines[0].strip().upper().startswith("WEBVTT"):
            return "starts with a malformed WEBVTT line"
        return "has no cues (neither WebVTT, starting WEBVTT, nor SRT)"
    return None


_SRT_STAMP = re.compile(r"(\d{2,}:\d{2}:\d{2}),(\d{3})")
_VTT_STAMP = re.compile(r"^(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})$")
_VTT_TAG = re.compile(r"</?(?!/?[biu]>)[^>]*>")  # SRT keeps <b>, <i> and <u>; the rest is WebVTT's


def as_webvtt(text: str) -> str:
    """A captions file as WebVTT: as it is if it is one, else (SRT) with the WEBVTT header and
    its times' decimal commas made points."""
    text = text.lstrip("\ufeff")
    if text.startswith("WEBVTT"):
        return text
    return "WEBVTT\n\n" + _SRT_STAMP.sub(r"\1.\2", text)


def as_srt(text: str) -> str:
    """A captions file as SRT: as it is if it is not WebVTT, else its cues numbered from 1, each
    timing as ``HH:MM:SS,mmm --> HH:MM:SS,mmm`` (hours added, cue settings dropped) and its text
    without WebVTT's tags (voices, classes, inner timestamps); the header, ``NOTE``, ``STYLE``
    and ``REGION`` blocks and cue identifiers are left out (W3C WebVTT, section 4)."""
    text = text.lstrip("\ufeff")
    if not text.startswith("WEBVTT"):
        return text
    cues: list[str] = []
    blocks = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    for block in blocks[1:]:  # the first is the header
        lines = block.strip("\n").split("\n")
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is None:
            continue  # NOTE, STYLE, REGION: no timing line
        start, _, rest = lines[timing].partition("-->")
        end = rest.split()[0] if rest.split() else ""
        body = [_VTT_TAG.sub("", line) for line in lines[timing + 1 :]]
        times = f"{_srt_time(start.strip())} --> {_srt_time(end)}"
        cues.append(f"{len(cues) + 1}\n{times}\n" + "\n".join(body))
    return "\n\n".join(cues) + "\n"


def _srt_time(stamp: str) -> str:
    """``01:02.500`` or ``00:01:02.500`` as ``00:01:02,500``; a stamp that is neither is kept
    (check refuses such a file before it is sent)."""
    found = _VTT_STAMP.match(stamp)
    if found is None:
        return stamp
    hours, minutes, seconds, millis = found.groups()
    return f"{int(hours or 0):02d}:{minutes}:{seconds},{millis}"
