"""What a media file really is: its type from its first bytes (not its name), its size, for
images its pixel dimensions (read from the headers with the standard library), for MP4 and MOV
videos their duration, displayed dimensions, codec family and whether they have sound (read with
mutagen, imported only when a video is inspected); and whether a media path from a posts file
stays inside the folder media may come from.
"""

from __future__ import annotations

import functools
import io
import ntpath
import posixpath
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from mutagen.mp4._atom import Atom

_HEAD = 64 * 1024
# What reading a video's boxes may cost, whatever the file says about itself: mutagen reads each
# box's 8-byte header and the few small boxes it needs, so a real video (however long) stays far
# below both; a hostile file of millions of tiny boxes, or one whose box claims gigabytes that
# would be read whole, stops here as "not a readable video".
_VIDEO_READ_BYTES = 16 * 1024 * 1024
_VIDEO_READ_CALLS = 200_000
# The sample entry's four-character code, as the family platforms name in their rules.
_CODECS = {
    b"avc1": "h264",
    b"avc3": "h264",
    b"hvc1": "hevc",
    b"hev1": "hevc",
    b"av01": "av1",
    b"vp09": "vp9",
    b"vp08": "vp8",
    b"mp4v": "mpeg4",
    b"apcn": "prores",
    b"apch": "prores",
    b"apcs": "prores",
    b"apco": "prores",
    b"ap4h": "prores",
}


@dataclass(frozen=True, slots=True)
class MediaInfo:
    mime: str | None  # None: not a type we recognise
    size: int
    width: int | None = None  # for a video, as displayed (a phone's rotation applied)
    height: int | None = None
    duration: float | None = None  # seconds; videos only
    codec: str | None = None  # the video track's family ("h264", "hevc", …); videos only
    has_audio: bool | None = None  # has a sound track; None: not known (not a video, or WebM)
    invalid: str | None = None  # why a file that starts like a video cannot be read as one

    @property
    def is_video(self) -> bool:
        return bool(self.mime and self.mime.startswith("video/"))

    @property
    def aspect(self) -> float | None:
        if self.width and self.height:
            return self.width / self.height
        return None


def duration_text(seconds: float) -> str:
    """A length as people read it: 140 → "2:20", 0.5 → "0:00.5", 151.27 → "2:31.27"."""
    hundredths = round(seconds * 100)
    minutes, rest = divmod(hundredths, 6000)
    whole, fraction = divmod(rest, 100)
    tail = f".{fraction:02d}".rstrip("0") if fraction else ""
    return f"{minutes}:{whole:02d}{tail}"


def summary(info: MediaInfo) -> str:
    """What render and the outbox say of a file: "video/mp4, 0:31.5, 1280×720, 741 bytes"."""
    facts = [info.mime or "unknown type"]
    if info.duration is not None:
        facts.append(duration_text(info.duration))
    if info.width and info.height:
        facts.append(f"{info.width}×{info.height}")
    facts.append(f"{info.size:,} bytes")
    return ", ".join(facts)


class MediaUnreadable(Exception):
    """The file exists but cannot be read."""


def outside_reason(path: str, root: Path, folder: Path) -> str | None:
    """Why the media ``path`` (relative to the campaign folder ``root``) may not be published:
    it is absolute, or it resolves (``..``, symbolic links followed) outside ``folder``. None when
    it stays inside. Posts files are untrusted: this keeps a pull request from publishing
    ``/home/…/.ssh/id_rsa`` or what a link in the folder points at."""
    if "\0" in path:
        return "has a NUL character in it"
    if posixpath.isabs(path) or ntpath.isabs(path) or ntpath.splitdrive(path)[0]:
        return "is an absolute path"
    try:
        inside = folder.resolve()
        resolved = (root / path).resolve()
    except (OSError, RuntimeError, ValueError):
        return "cannot be resolved to a file"
    if resolved.is_relative_to(inside):
        return None
    if ".." in Path(path).parts:
        return "climbs out of the media folder with .."
    return "leads outside the media folder through a symbolic link"


@functools.lru_cache(maxsize=4096)
def inspect(path: Path) -> MediaInfo | None:
    """Type, size and dimensions; None if the file does not exist."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise MediaUnreadable("not a file")
        with path.open("rb") as fh:
            head = fh.read(_HEAD)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise MediaUnreadable(exc.strerror or type(exc).__name__) from None
    mime, dims = sniff(head)
    if mime in ("video/mp4", "video/quicktime"):
        return _video(path, mime, size)
    width, height = dims if dims else (None, None)
    return MediaInfo(mime=mime, size=size, width=width, height=height)


class _TooMuch(ValueError):
    """A video asked more reading of than any real one (not an OSError: mutagen would take that
    for a failing disk, and so would ``inspect``)."""


class _Bounded(io.RawIOBase):
    """A read-only file that refuses to read more than ``_VIDEO_READ_BYTES`` in all or to be
    read more than ``_VIDEO_READ_CALLS`` times."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._bytes = 0
        self._calls = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        self._calls += 1
        self._bytes += len(buffer)
        if self._calls > _VIDEO_READ_CALLS or self._bytes > _VIDEO_READ_BYTES:
            raise _TooMuch("it has more structure than a video has")
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _video(path: Path, mime: str, size: int) -> MediaInfo:
    """An MP4 or MOV's facts through mutagen's box tree: the first video track's length, displayed
    size and codec, and whether a sound track is there (mutagen reads audio and tags, not picture
    facts: those few fields are read from the boxes it found, ISO/IEC 14496-12 ``mdhd``, ``tkhd``
    and ``stsd``). The length is the picture's: mutagen's is the sound's, which an AAC encoder's
    priming makes longer (a 4-second clip read 4.064), and platforms time the picture. Where the
    video track gives none, mutagen's (the sound's, else the movie's)."""
    from mutagen import MutagenError
    from mutagen.mp4 import MP4
    from mutagen.mp4._atom import AtomError, Atoms

    try:
        with path.open("rb") as raw:
            info = MP4(_Bounded(raw)).info  # type: ignore[no-untyped-call]
            length = info.length if info is not None else 0.0
            raw.seek(0)
            bounded = _Bounded(raw)
            moov = Atoms(bounded)[b"moov"]
            facts = _tracks(moov, bounded)
    except RecursionError:
        return MediaInfo(mime=mime, size=size, invalid="its boxes nest deeper than a video's")
    except (MutagenError, AtomError, KeyError, ValueError, struct.error) as exc:
        # mutagen's own words ("truncated data", "not a MP4 file"): what is wrong with the file.
        reason = str(exc).strip("'\"") or "its boxes are broken"
        return MediaInfo(mime=mime, size=size, invalid=reason)
    except OSError as exc:
        raise MediaUnreadable(exc.strerror or str(exc)) from None
    width, height, codec, has_audio, seconds = facts
    if seconds is not None:
        length = seconds
    if width is None:
        return MediaInfo(mime=mime, size=size, invalid="it has no video track")
    return MediaInfo(
        mime=mime,
        size=size,
        width=width,
        height=height,
        duration=float(length),
        codec=codec,
        has_audio=has_audio,
    )


def _tracks(
    moov: Atom, fh: _Bounded
) -> tuple[int | None, int | None, str | None, bool, float | None]:
    width = height = None
    codec = None
    has_audio = False
    seconds = None
    for trak in moov.findall(b"trak"):  # type: ignore[no-untyped-call]
        kind = _read(trak[b"mdia", b"hdlr"], fh)[8:12]
        if kind == b"soun":
            has_audio = True
        elif kind == b"vide" and width is None:
            tkhd = _read(trak[b"tkhd",], fh)
            if len(tkhd) < 84:
                raise ValueError("its video track header is cut short")
            # The last 8 bytes are width and height (16.16 fixed point), the 36 before them the
            # display matrix: a portrait phone video is stored landscape with a quarter turn.
            width, height = (v >> 16 for v in struct.unpack(">II", tkhd[-8:]))
            a, b = struct.unpack(">ii", tkhd[-44:-36])
            if a == 0 and b != 0:
                width, height = height, width
            stsd = _read(trak[b"mdia", b"minf", b"stbl", b"stsd"], fh)
            fourcc = stsd[12:16]
            codec = _CODECS.get(fourcc, fourcc.decode("latin-1").strip() or None)
            seconds = _media_seconds(_read(trak[b"mdia", b"mdhd"], fh))
    return width, height, codec, has_audio, seconds


def _media_seconds(mdhd: bytes) -> float | None:
    """A track's length from its ``mdhd`` body (version 0: 32-bit times, 1: 64-bit), or None
    where it says none (a zero time scale, or the all-ones "unknown" duration)."""
    if mdhd[:1] == b"\x01" and len(mdhd) >= 32:
        scale, duration = struct.unpack(">IQ", mdhd[20:32])
        unknown = 0xFFFFFFFFFFFFFFFF
    elif len(mdhd) >= 20:
        scale, duration = struct.unpack(">II", mdhd[12:20])
        unknown = 0xFFFFFFFF
    else:
        return None
    if not scale or duration == unknown:
        return None
    return float(duration) / float(scale)


def _read(atom: Atom, fh: _Bounded) -> bytes:
    ok, data = atom.read(fh)  # type: ignore[no-untyped-call]
    if not ok:
        raise ValueError(f"its {atom.name.decode('latin-1')} box is cut short")
    return bytes(data)


def sniff(head: bytes) -> tuple[str | None, tuple[int, int] | None]:
    """MIME type and (width, height) from a file's first bytes."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", _jpeg_size(head)
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24:
        return "image/png", struct.unpack(">II", head[16:24])
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        return "image/gif", struct.unpack("<HH", head[6:10])
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", _webp_size(head)
    if head[:2] == b"BM" and len(head) >= 26:
        width, height = struct.unpack("<ii", head[18:26])
        return "image/bmp", (width, abs(height))
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff", None
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1"):
            return "image/heic", None
        if brand in (b"avif", b"avis"):
            return "image/avif", None
        return ("video/quicktime" if brand == b"qt  " else "video/mp4"), None
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm", None
    return None, None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None
