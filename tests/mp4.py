"""Tiny MP4 and MOV files for tests, written box by box (ISO/IEC 14496-12): ``ftyp``, then
``moov`` with ``mvhd`` and one ``trak`` per track (``tkhd``; ``mdia`` with ``mdhd``, ``hdlr``
(``vide``/``soun``) and ``minf/stbl/stsd`` with one ``avc1``/``hvc1``/``mp4a`` sample entry), then
an ``mdat``. No frames are in it: what ``check`` reads is the boxes, and a few hundred bytes is
all they take. ``write_video`` can make the file look as large as a test needs (a sparse ``mdat``
that costs no disk).
"""

from __future__ import annotations

import struct
from pathlib import Path

_MATRIX = struct.pack(">9i", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
# The matrix of a phone held upright: the picture is stored landscape and turned a quarter.
_ROTATED = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)


def box(name: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), name) + body


def _tkhd(
    track_id: int, duration: int, width: int, height: int, audio: bool, rotated: bool
) -> bytes:
    return box(
        b"tkhd",
        struct.pack(">I5I", 3, 0, 0, track_id, 0, duration),
        bytes(8),
        struct.pack(">hhHH", 0, 0, 0x0100 if audio else 0, 0),
        _ROTATED if rotated else _MATRIX,
        struct.pack(">II", width << 16, height << 16),
    )


def _trak(
    track_id: int,
    kind: bytes,
    entry: bytes,
    duration: int,
    width: int = 0,
    height: int = 0,
    rotated: bool = False,
) -> bytes:
    timescale = 1000
    return box(
        b"trak",
        _tkhd(track_id, duration, width, height, kind == b"soun", rotated),
        box(
            b"mdia",
            box(b"mdhd", struct.pack(">I4IHH", 0, 0, 0, timescale, duration, 0x55C4, 0)),
            box(b"hdlr", struct.pack(">II4s12x", 0, 0, kind), b"handler\0"),
            box(b"minf", box(b"stbl", box(b"stsd", struct.pack(">II", 0, 1), entry))),
        ),
    )


def _visual(fourcc: bytes, width: int, height: int) -> bytes:
    return box(
        fourcc,
        bytes(6),
        struct.pack(">H", 1),
        bytes(16),
        struct.pack(">HHIII", width, height, 0x480000, 0x480000, 0),
        struct.pack(">H", 1),
        bytes(32),
        struct.pack(">Hh", 0x18, -1),
    )


def _mp4a() -> bytes:
    # AAC LC, 48 kHz, stereo: an ES descriptor holding its decoder config (ISO/IEC 14496-1).
    specific = bytes([0x05, 2, 0x11, 0x90])
    config = (
        bytes([0x04, 13 + len(specific), 0x40, 0x15])
        + bytes(3)
        + struct.pack(">II", 128000, 128000)
    )
    es = (
        bytes([0x03, 3 + len(config) + len(specific) + 3, 0, 1, 0])
        + config
        + specific
        + bytes([0x06, 1, 2])
    )
    esds = box(b"esds", struct.pack(">I", 0), es)
    fields = struct.pack(">HHHHI", 2, 16, 0, 0, 48000 << 16)
    return box(b"mp4a", bytes(6), struct.pack(">H", 1), bytes(8), fields, esds)


def video_bytes(
    *,
    seconds: float = 5.0,
    width: int = 1280,
    height: int = 720,
    audio: bool = True,
    codec: bytes = b"avc1",
    mov: bool = False,
    rotated: bool = False,
    audio_seconds: float | None = None,
) -> bytes:
    """An MP4 (or with ``mov`` a QuickTime MOV) of ``seconds``, ``width``×``height`` as stored
    (``rotated``: displayed the other way up), with a sound track if ``audio``, as long as the
    picture or ``audio_seconds`` (an AAC track runs a little longer: its encoder's priming)."""
    duration = round(seconds * 1000)
    sound = duration if audio_seconds is None else round(audio_seconds * 1000)
    brand = b"qt  " if mov else b"isom"
    ftyp = box(b"ftyp", brand, struct.pack(">I", 0x200), brand, b"mp41")
    traks = [_trak(1, b"vide", _visual(codec, width, height), duration, width, height, rotated)]
    if audio:
        traks.append(_trak(2, b"soun", _mp4a(), sound))
    mvhd = box(
        b"mvhd",
        struct.pack(">I4I", 0, 0, 0, 1000, max(duration, sound if audio else 0)),
        struct.pack(">IH10x", 0x10000, 0x0100),
        _MATRIX,
        bytes(24),
        struct.pack(">I", len(traks) + 1),
    )
    return ftyp + box(b"moov", mvhd, *traks)


def write_video(path: Path, *, size: int | None = None, **facts: object) -> Path:
    """``video_bytes(**facts)`` and an ``mdat`` at ``path``; ``size``: the file's size in bytes
    (the ``mdat`` grows to it, sparse)."""
    head = video_bytes(**facts)  # type: ignore[arg-type]
    total = max(size or 0, len(head) + 16)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        fh.write(head)
        fh.write(struct.pack(">I4s", total - len(head), b"mdat"))
        fh.truncate(total)
    return path
