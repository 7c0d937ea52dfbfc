"""Makes the example campaign's sample video, media/reserve-chart.mp4: four seconds of an animated
bar chart (the state's guideline for a school district's reserve fund, 6% of spending, then
Springfield's, 18%) with a chime as each bar stops, in H.264 and AAC in MP4, 320×180 at 15
frames a second, a few tens of KB. Its captions, media/reserve-chart.en.vtt, are written by hand
beside it: the chimes are the only sound.

The committed file is what the example uses: nothing runs this script at run time or in the
tests. It is here to say how the file was made and to make it again, in a throwaway virtual
environment (PyAV's wheels bundle FFmpeg with libx264; Pillow draws the frames with its
built-in font, so no system font is needed):

    python3 -m venv /tmp/video-venv && /tmp/video-venv/bin/pip install ".[sample-media]"
    /tmp/video-venv/bin/python scripts/make_sample_video.py

Made with PyAV 18.1 and Pillow 13. x264 runs on one thread and the muxer in bitexact mode, so
the same versions make the same bytes.
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent.parent / "media" / "reserve-chart.mp4"
WIDTH, HEIGHT, FPS, SECONDS = 320, 180, 15, 4
RATE = 16_000  # audio samples a second: chimes need no more
# (label, percent, colour, when its bar starts and stops growing, its chime's pitch in Hz)
BARS = [
    ("State guideline", 6, (150, 150, 150), 0.3, 1.3, 660.0),
    ("Springfield", 18, (31, 90, 166), 1.5, 2.8, 990.0),
]
SCALE = 6  # pixels per percent: 18% is 108 of the 180 rows, below the title


def frame(t: float, font: Any, small: Any) -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.text((10, 6), "School reserve fund, % of spending", fill=(0, 0, 0), font=font)
    base = HEIGHT - 22
    draw.line((20, base, WIDTH - 20, base), fill=(0, 0, 0), width=1)
    for i, (label, percent, colour, start, stop, _) in enumerate(BARS):
        grown = min(max((t - start) / (stop - start), 0.0), 1.0)
        left = 50 + i * 130
        top = base - round(percent * SCALE * grown)
        if top < base:
            draw.rectangle((left, top, left + 90, base - 1), fill=colour)
        draw.text((left, base + 4), label, fill=(0, 0, 0), font=small)
        if grown >= 1.0:
            draw.text((left + 30, top - 18), f"{percent}%", fill=(0, 0, 0), font=font)
    return image


def chimes(n: int) -> list[float]:
    """The sound track: a decaying sine as each bar stops growing."""
    samples = [0.0] * n
    for *_, stop, pitch in BARS:
        first = round(stop * RATE)
        for k in range(min(n - first, RATE)):
            samples[first + k] += (
                0.4 * math.exp(-4 * k / RATE) * math.sin(2 * math.pi * pitch * k / RATE)
            )
    return samples


def main() -> None:
    font = ImageFont.load_default(size=15)
    small = ImageFont.load_default(size=12)
    with av.open(str(OUT), "w", options={"movflags": "+faststart", "fflags": "+bitexact"}) as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.options = {"crf": "30", "preset": "veryslow", "profile": "main", "threads": "1"}
        audio = out.add_stream("aac", rate=RATE)
        audio.layout, audio.bit_rate = "mono", 16_000
        for i in range(FPS * SECONDS):
            picture = av.VideoFrame.from_image(frame(i / FPS, font, small))
            picture.pts, picture.time_base = i, Fraction(1, FPS)
            out.mux(video.encode(picture))
        out.mux(video.encode(None))
        sound = chimes(RATE * SECONDS)
        chunk = 1024  # AAC's frame
        for at in range(0, len(sound), chunk):
            part = sound[at : at + chunk]
            piece = av.AudioFrame(format="flt", layout="mono", samples=len(part))
            piece.planes[0].update(struct.pack(f"<{len(part)}f", *part))
            piece.sample_rate, piece.pts, piece.time_base = RATE, at, Fraction(1, RATE)
            out.mux(audio.encode(piece))
        out.mux(audio.encode(None))
    print(f"{OUT}: {OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
