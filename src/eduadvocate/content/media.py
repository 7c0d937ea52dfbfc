"""What a media file really is: its type from its first bytes (not its name), its size, and for
images its pixel dimensions, read from the headers with the standard library; and whether a
media path from a posts file stays inside the folder media may come from.
"""

from __future__ import annotations

import functools
import ntpath
import posixpath
import struct
from dataclasses import dataclass
from pathlib import Path

_HEAD = 64 * 1024


@dataclass(frozen=True, slots=True)
class MediaInfo:
    mime: str | None  # None: not a type we recognise
    size: int
    width: int | None = None
    height: int | None = None

    @property
    def is_video(self) -> bool:
        return bool(self.mime and self.mime.startswith("video/"))

    @property
    def aspect(self) -> float | None:
        if self.width and self.height:
            return self.width / self.height
        return None


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
    width, height = dims if dims else (None, None)
    return MediaInfo(mime=mime, size=size, width=width, height=height)


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
