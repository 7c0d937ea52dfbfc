"""Video before it is due (issue 16): what content/media.py reads from an MP4 or MOV (with
mutagen, bounded), each platform's video rules as check reports them at the media's file:line,
and captions (a file, a map of language to file, or ``none``). The videos are tiny real files
written by tests/mp4.py, never downloaded.
"""

from __future__ import annotations

import json
import os
import struct
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from eduadvocate.campaign.workspace import open_campaign
from eduadvocate.compose.check import analyse
from eduadvocate.config.model import AccountConfig
from eduadvocate.content.captions import captions_problem
from eduadvocate.content.media import MediaInfo, inspect
from eduadvocate.content.model import Media
from eduadvocate.core.errors import ExitCode, Location, Problem
from eduadvocate.platforms.registry import spec_class
from tests.conftest import Make
from tests.mp4 import box, video_bytes, write_video
from tests.test_cli import run

VTT = "WEBVTT\n\n00:00:00.500 --> 00:00:03.000\nVote yes on the levy.\n"
SRT = "1\n00:00:00,500 --> 00:00:03,000\nVota sí.\n"


@pytest.fixture(autouse=True)
def _fresh_inspect() -> None:
    inspect.cache_clear()  # each test writes its own files under paths that may repeat


def _check(
    make_campaign: Make, account: str, media: str, **videos: dict[str, object]
) -> list[Problem]:
    root = make_campaign({})
    inspect.cache_clear()  # a test may write a file again under the same path
    for name, facts in videos.items():
        write_video(root / "media" / name, **facts)
    (root / "posts" / "p.yaml").write_text(
        "posts:\n  - id: clip\n    at: 2026-12-03 18:00\n"
        f"    accounts: [{account}]\n    text: Hear it from the teachers\n    media: {media}\n",
        encoding="utf-8",
    )
    ws = open_campaign(None)
    return analyse(ws.config, ws.campaign, ws.now).problems


def _codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


# --- what is read from the file ----------------------------------------------------------------


def test_an_mp4s_duration_size_shape_codec_and_sound_are_read(tmp_path: Path) -> None:
    path = write_video(tmp_path / "v.mp4", seconds=31.5, width=1920, height=1080)
    assert inspect(path) == MediaInfo(
        mime="video/mp4",
        size=path.stat().st_size,
        width=1920,
        height=1080,
        duration=31.5,
        codec="h264",
        has_audio=True,
    )


def test_a_videos_length_is_its_pictures_not_its_padded_sound(make_campaign: Make) -> None:
    """An AAC track runs past the picture by its encoder's priming (1,024 samples: 64 ms at
    16 kHz, as in the example campaign's clip): a video of exactly X's 2:20 is 2:20, not over."""
    path = write_video(make_campaign({}) / "v.mp4", seconds=140, audio_seconds=140.064)
    assert inspect(path).duration == 140
    problems = _check(
        make_campaign,
        "x-main",
        "[{path: media/v.mp4, alt: A teacher speaks, captions: none}]",
        **{"v.mp4": {"seconds": 140, "audio_seconds": 140.064}},
    )
    assert _codes(problems) == []


def test_a_phones_mov_is_shown_upright_and_has_its_codec(tmp_path: Path) -> None:
    path = write_video(tmp_path / "v.mov", mov=True, rotated=True, codec=b"hvc1", audio=False)
    info = inspect(path)
    assert info is not None
    assert (info.mime, info.width, info.height, info.codec, info.has_audio) == (
        "video/quicktime",
        720,
        1280,
        "hevc",
        False,
    )


def test_a_file_that_only_starts_like_a_video_is_invalid_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "v.mp4"
    path.write_bytes(box(b"ftyp", b"isom", bytes(8)) + b"\x00\x00\x01\x00moov" + b"junk" * 10)
    info = inspect(path)
    assert info is not None and info.mime == "video/mp4" and info.invalid


@pytest.mark.parametrize(
    "body",
    [
        b"\x7f\xff\xff\xf0moov" * 200_000,  # boxes nested deeper than any reader recurses
        b"\x00\x00\x00\x08free" * 300_000,  # more boxes than a video has
    ],
    ids=["nested", "many"],
)
def test_a_hostile_video_stops_at_the_bound(tmp_path: Path, body: bytes) -> None:
    path = tmp_path / "v.mp4"
    path.write_bytes(box(b"ftyp", b"isom", bytes(8)) + body)
    info = inspect(path)
    assert info is not None and info.invalid in (
        "its boxes nest deeper than a video's",
        "it has more structure than a video has",
    )


# --- check: each rule at the media's line ---------------------------------------------------------


def test_a_video_over_xs_length_is_reported_at_its_line(make_campaign: Make) -> None:
    problems = _check(
        make_campaign,
        "x-main",
        "[{path: media/v.mp4, alt: A teacher speaks, captions: none}]",
        **{"v.mp4": {"seconds": 151.27}},
    )
    assert _codes(problems) == ["video-too-long"]
    (p,) = problems
    assert p.location.line == 6 and p.location.file.endswith("p.yaml")
    assert p.message == "media/v.mp4 lasts 2:31.27, X takes videos up to 2:20"
    assert p.hint == "trim it to 2:20 or less"


@pytest.mark.parametrize(
    ("account", "facts", "codes"),
    [
        ("bsky", {"size": 100_000_001}, ["media-too-large"]),
        ("bsky", {"seconds": 181}, ["video-too-long"]),
        ("bsky", {"seconds": 180}, []),
        ("x-main", {"width": 1600, "height": 400}, ["video-aspect"]),
        ("x-main", {"width": 1200, "height": 400}, []),
        ("x-main", {"seconds": 0.4}, ["video-too-short"]),
        ("ig", {"seconds": 2}, ["video-too-short", "alt-unsent"]),
        (
            "ig",
            {"width": 1080, "height": 1920},
            ["alt-unsent"],
        ),  # a Reel's 9:16, refused for images
        ("ig", {"codec": b"vp09"}, ["video-codec", "alt-unsent"]),
        ("masto", {"width": 7680, "height": 4320}, ["video-too-large"]),
        ("masto", {"seconds": 3600}, []),
        ("fb", {"seconds": 4 * 3600 + 1}, ["video-too-long"]),
        ("outbox", {"seconds": 10_000, "width": 10, "height": 1000}, []),
    ],
)
def test_each_platforms_video_rules(
    make_campaign: Make, account: str, facts: dict[str, object], codes: list[str]
) -> None:
    media = "[{path: media/v.mp4, alt: A clip, captions: none}]"
    assert _codes(_check(make_campaign, account, media, **{"v.mp4": facts})) == codes


def test_a_videos_alt_text_where_the_platform_takes_none_is_said_not_dropped(
    make_campaign: Make,
) -> None:
    """Instagram takes alt text for images only (a Reel has none): the video goes without it,
    and check says so at the item, once, as a warning (the alt stays required: other
    platforms read it)."""
    problems = _check(
        make_campaign,
        "ig",
        "[{path: media/v.mp4, alt: A teacher speaks, captions: none}]",
        **{"v.mp4": {"width": 1080, "height": 1920}},
    )
    (p,) = problems
    assert (p.code, p.severity, p.location.line) == ("alt-unsent", "warning", 6)
    assert p.message == (
        "Instagram takes no alt text for a video: media/v.mp4 goes without its alt text"
    )
    assert p.hint == "say what the video shows in the post's text"


def test_too_many_videos_and_images_with_a_video(make_campaign: Make) -> None:
    root = make_campaign({})
    (root / "media").mkdir()
    (root / "media" / "a.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + (10).to_bytes(4, "big") * 2 + bytes(20)
    )
    problems = _check(
        make_campaign,
        "bsky",
        "[{path: media/a.mp4, alt: A, captions: none}, {path: media/b.mp4, alt: B, captions: none},"
        " {path: media/a.png, alt: C}]",
        **{"a.mp4": {}, "b.mp4": {}},
    )
    assert sorted(_codes(problems)) == ["media-mix", "media-too-many"]
    assert "2 videos, Bluesky takes 1" in [p.message for p in problems]


def test_a_video_needs_alt_text_like_an_image(make_campaign: Make) -> None:
    problems = _check(
        make_campaign, "bsky", "[{path: media/v.mp4, captions: none}]", **{"v.mp4": {}}
    )
    assert _codes(problems) == ["alt-missing"]


def test_a_video_with_sound_and_no_captions_warns_and_none_silences_it(make_campaign: Make) -> None:
    (p,) = _check(make_campaign, "bsky", "[{path: media/v.mp4, alt: A}]", **{"v.mp4": {}})
    assert (p.code, p.severity, p.message) == (
        "video-captions",
        "warning",
        "media/v.mp4 has sound and no captions",
    )
    assert "captions: none" in p.hint
    assert (
        _check(
            make_campaign, "bsky", "[{path: media/v.mp4, alt: A, captions: none}]", **{"v.mp4": {}}
        )
        == []
    )
    # No sound track: nothing to caption.
    assert (
        _check(
            make_campaign, "bsky", "[{path: media/v.mp4, alt: A}]", **{"v.mp4": {"audio": False}}
        )
        == []
    )


def test_captions_files_in_each_language_are_checked(make_campaign: Make) -> None:
    root = make_campaign({})
    (root / "media").mkdir()
    (root / "media" / "en.vtt").write_text(VTT, encoding="utf-8")
    (root / "media" / "es.srt").write_text(SRT, encoding="utf-8")
    (root / "media" / "fr.vtt").write_bytes(
        "WEBVTT\n\n00:01.000 --> 00:02.000\nVotez oui à l'été\n".encode("latin-1")
    )
    problems = _check(
        make_campaign,
        "bsky",
        "[{path: media/v.mp4, alt: A, captions: {en: media/en.vtt, es: media/es.srt, fr: media/fr.vtt, de: media/de.vtt}}]",
        **{"v.mp4": {}},
    )
    assert [(p.code, p.message.split(" ", 2)[1]) for p in problems] == [
        ("captions-invalid", "media/fr.vtt"),
        ("captions-missing", "media/de.vtt"),
    ]
    assert "is not UTF-8 text" in problems[0].message
    assert problems[0].hint == "captions are a WebVTT (.vtt) or SubRip (.srt) file, UTF-8"
    assert problems[1].hint == f"paths are relative to the campaign folder {root.name}/"


def test_a_captions_file_outside_the_campaign_is_refused_and_not_read(
    make_campaign: Make, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.vtt"
    secret.write_text(VTT, encoding="utf-8")
    os.chmod(secret, 0)  # were it read, check would say it cannot be
    try:
        (p,) = _check(
            make_campaign,
            "bsky",
            f"[{{path: media/v.mp4, alt: A, captions: {{en: ../{secret.name}}}}}]",
            **{"v.mp4": {}},
        )
    finally:
        os.chmod(secret, 0o600)
    assert p.code == "captions-outside"
    assert (
        p.message
        == f"captions ../{secret.name} climbs out of the media folder with .., so they are not read"
    )


def test_captions_where_the_platform_takes_none_and_on_an_image(make_campaign: Make) -> None:
    root = make_campaign({})
    (root / "media").mkdir()
    (root / "media" / "en.vtt").write_text(VTT, encoding="utf-8")
    problems = _check(
        make_campaign,
        "masto",
        "[{path: media/v.mp4, alt: A, captions: media/en.vtt}]",
        **{"v.mp4": {}},
    )
    assert [(p.code, p.severity) for p in problems] == [("captions-unsent", "warning")]
    assert problems[0].message.startswith("Mastodon takes no captions file")


def test_a_garbage_mp4_is_one_error_at_its_line(make_campaign: Make) -> None:
    root = make_campaign({})
    (root / "media").mkdir()
    (root / "media" / "v.mp4").write_bytes(
        box(b"ftyp", b"isom", bytes(8)) + b"\x00\x00\x01\x00moovjunk"
    )
    problems = _check(make_campaign, "bsky", "[{path: media/v.mp4, alt: A}]")
    assert _codes(problems) == ["media-invalid"]
    assert problems[0].location.line == 6
    assert problems[0].hint == "export it again as MP4 (H.264 video, AAC sound)"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (VTT, None),
        (SRT, None),
        ("\ufeff" + VTT, None),
        ("WEBVTT\n\n00:00:01,000 --> 00:00:02,000\nx\n", "line 3 that is not WebVTT"),
        ("1\n00:00:01.000 --> 00:00:02.000\nx\n", "line 2 that is not SRT"),
        ("Hello, this is a transcript.\n", "has no cues"),
        ("", "has no cues"),
    ],
)
def test_captions_are_webvtt_or_srt(tmp_path: Path, text: str, problem: str | None) -> None:
    path = tmp_path / "c.vtt"
    path.write_text(text, encoding="utf-8")
    found = captions_problem(path)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_a_huge_captions_file_is_not_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "c.vtt"
    with path.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    assert "is over 2 MB" in (captions_problem(path) or "")


# --- the class: a finding iff outside the limits ----------------------------------------------------

# The limits as documented (the specs' comments cite them), written here on their own so the
# property checks the specs against them rather than against themselves.
DOCUMENTED: dict[str, dict[str, object]] = {
    "x": {"seconds": (Fraction(1, 2), 140), "aspect": (Fraction(1, 3), Fraction(3))},
    "bluesky": {"seconds": (None, 180)},
    "mastodon": {"pixels": 3840 * 2160},
    "facebook": {"seconds": (None, 4 * 3600)},
    "instagram": {"seconds": (3, 15 * 60), "aspect": (Fraction(1, 100), Fraction(10))},
    "outbox": {},
}


def _expected(platform: str, seconds: Fraction, width: int, height: int) -> set[str]:
    rules = DOCUMENTED[platform]
    out = set()
    low, high = rules.get("seconds", (None, None))  # type: ignore[misc]
    if high is not None and seconds > high:
        out.add("video-too-long")
    if low is not None and seconds < low:
        out.add("video-too-short")
    if "aspect" in rules:
        low_a, high_a = rules["aspect"]  # type: ignore[misc]
        if not low_a <= Fraction(width, height) <= high_a:
            out.add("video-aspect")
    if "pixels" in rules and width * height > rules["pixels"]:  # type: ignore[operator]
        out.add("video-too-large")
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    platform=st.sampled_from(sorted(DOCUMENTED)),
    milliseconds=st.integers(1, 20_000_000),
    width=st.integers(1, 8000),
    height=st.integers(1, 8000),
)
@example(platform="x", milliseconds=140_000, width=400, height=1200)  # on every edge
@example(platform="x", milliseconds=140_001, width=399, height=1200)
@example(platform="x", milliseconds=499, width=3601, height=1200)
@example(platform="instagram", milliseconds=3000, width=80, height=8000)
@example(platform="instagram", milliseconds=2999, width=8000, height=799)
@example(platform="mastodon", milliseconds=1, width=3840, height=2160)
@example(platform="mastodon", milliseconds=1, width=3841, height=2160)
@example(platform="bluesky", milliseconds=180_001, width=1, height=8000)
def test_video_findings_iff_outside_the_documented_limits(
    platform: str, milliseconds: int, width: int, height: int
) -> None:
    from eduadvocate.compose.checkmedia import _video_rules

    spec = spec_class(platform)(
        AccountConfig(name="a", platform=platform, settings={}, loc=Location("config.yaml"))
    )
    info = MediaInfo(
        mime="video/mp4",
        size=1,
        width=width,
        height=height,
        duration=milliseconds / 1000,
        codec="h264",
        has_audio=False,
    )
    item = Media(path="v.mp4", alt="A", loc=Location("p.yaml", 1))
    found = {code for code, *_ in _video_rules(item, info, spec)}
    assert found == _expected(platform, Fraction(milliseconds, 1000), width, height)


# --- through the CLI -----------------------------------------------------------------------------


def test_check_at_80_columns_names_the_video_and_what_to_do(make_campaign: Make) -> None:
    root = make_campaign({})
    write_video(root / "media" / "testimony.mp4", seconds=200)
    (root / "posts" / "p.yaml").write_text(
        "posts:\n  - id: clip\n    at: 2026-12-03 18:00\n    accounts: [x-main]\n"
        "    text: Hear it from the teachers\n    media: [{path: media/testimony.mp4, alt: A teacher}]\n",
        encoding="utf-8",
    )
    result = run("check", env={"COLUMNS": "80"})
    assert result.returncode == ExitCode.INVALID_POSTS, result.stdout + result.stderr
    out = " ".join((result.stdout + result.stderr).split())
    assert "media/testimony.mp4 lasts 3:20, X takes videos up to 2:20" in out
    assert "trim it to 2:20 or less" in out
    assert "has sound and no captions" in out
    assert "Traceback" not in out
    assert all(len(line) <= 80 for line in result.stdout.splitlines())


def test_check_json_carries_the_video_problems(make_campaign: Make) -> None:
    root = make_campaign({})
    write_video(root / "media" / "v.mp4", seconds=200)
    (root / "posts" / "p.yaml").write_text(
        "posts:\n  - id: clip\n    at: 2026-12-03 18:00\n    accounts: [bsky]\n"
        "    text: Hi\n    media: [{path: media/v.mp4, alt: A, captions: none}]\n",
        encoding="utf-8",
    )
    result = run("check", "--format", "json")
    found = json.loads(result.stdout)
    codes = [p["code"] for p in found["problems"]]
    assert codes == ["video-too-long"], found


# --- render and the outbox show what goes out ------------------------------------------------------

_VIDEO_POST = (
    "posts:\n  - id: clip\n    at: {at}\n    accounts: [{account}]\n    text: Hear it from the teachers\n"
    "    media:\n      - path: media/v.mp4\n        alt: A teacher speaks\n"
    "        captions: {{en: media/en.vtt, es: media/es.srt}}\n"
)


def _video_campaign(make_campaign: Make, account: str, at: str = "2026-12-03 18:00") -> Path:
    root = make_campaign({})
    write_video(root / "media" / "v.mp4", seconds=31.5, width=720, height=1280)
    (root / "media" / "en.vtt").write_text(VTT, encoding="utf-8")
    (root / "media" / "es.srt").write_text(SRT, encoding="utf-8")
    (root / "posts" / "p.yaml").write_text(
        _VIDEO_POST.format(at=at, account=account), encoding="utf-8"
    )
    return root


def test_render_shows_a_videos_length_size_shape_and_captions(make_campaign: Make) -> None:
    root = _video_campaign(make_campaign, "bsky")
    size = (root / "media" / "v.mp4").stat().st_size
    data = json.loads(run("render", "--format", "json").stdout)
    (delivery,) = data["deliveries"]
    assert delivery["parts"][0]["media"] == [
        {
            "path": "media/v.mp4",
            "alt": "A teacher speaks",
            "type": "video/mp4",
            "bytes": size,
            "duration": 31.5,
            "width": 720,
            "height": 1280,
            "captions": [
                {"language": "en", "path": "media/en.vtt"},
                {"language": "es", "path": "media/es.srt"},
            ],
            "no_captions": False,
            "thumbnail": None,
        }
    ]
    text = " ".join(run("render", env={"COLUMNS": "160"}).stdout.split())
    assert (
        f"[video] media/v.mp4 (alt: A teacher speaks) video/mp4, 0:31.5, 720×1280, {size:,} bytes;"
        " captions: en media/en.vtt, es media/es.srt"
    ) in text


def test_render_does_not_read_a_video_outside_the_campaign(
    make_campaign: Make, tmp_path: Path
) -> None:
    root = make_campaign({})
    write_video(tmp_path / "elsewhere.mp4")
    (root / "posts" / "p.yaml").write_text(
        "posts:\n  - id: clip\n    at: 2026-12-03 18:00\n    accounts: [bsky]\n    text: Hi\n"
        "    media: [{path: ../elsewhere.mp4, alt: A}]\n",
        encoding="utf-8",
    )
    data = json.loads(run("render", "--format", "json").stdout)
    assert data["deliveries"][0]["parts"][0]["media"] == [{"path": "../elsewhere.mp4", "alt": "A"}]


def test_the_outbox_writes_a_video_with_its_facts_and_captions(make_campaign: Make) -> None:
    root = _video_campaign(make_campaign, "outbox", at="now")
    result = run("publish", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    (json_file,) = (root / "outbox" / "outbox").glob("*.json")
    (media,) = json.loads(json_file.read_text())["parts"][0]["media"]
    assert {k: media[k] for k in ("type", "duration", "width", "height", "no_captions")} == {
        "type": "video/mp4",
        "duration": 31.5,
        "width": 720,
        "height": 1280,
        "no_captions": False,
    }
    assert [(c["language"], Path(c["path"]).name) for c in media["captions"]] == [
        ("en", "en.vtt"),
        ("es", "es.srt"),
    ]
    markdown = json_file.with_suffix(".md").read_text()
    assert "Video: [A teacher speaks](" in markdown
    assert "(video/mp4, 0:31.5, 720×1280, " in markdown
    assert "captions: en <" in markdown and "es <" in markdown


# --- how captions are written ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("captions", "message"),
    [
        ("[media/en.vtt]", "captions must be a file or a map of language to file"),
        ("{english!: media/en.vtt}", 'captions: "english!" is not a language code'),
    ],
)
def test_captions_written_wrong_are_one_clear_error(
    make_campaign: Make, captions: str, message: str
) -> None:
    problems = _check(
        make_campaign,
        "bsky",
        f"[{{path: media/v.mp4, alt: A, captions: {captions}}}]",
        **{"v.mp4": {}},
    )
    assert [(p.code, p.message) for p in problems if p.severity == "error"] == [
        ("wrong-type", message)
    ]
    assert all(p.location.line == 6 for p in problems)


def test_the_schema_takes_each_way_of_writing_captions() -> None:
    import jsonschema

    from eduadvocate.content.schema import json_schema
    from eduadvocate.platforms.registry import platform_names

    schema = json_schema(sorted(platform_names()))

    def post(captions: object) -> list[dict[str, object]]:
        return [
            {
                "id": "a",
                "text": "Hi",
                "media": [{"path": "v.mp4", "alt": "A", "captions": captions}],
            }
        ]

    for good in ("media/en.vtt", "none", {"en": "en.vtt", "pt-BR": "pt.srt"}):
        jsonschema.validate(post(good), schema)
    for bad in (["en.vtt"], {}, {"english!": "en.vtt"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(post(bad), schema)


def test_the_read_bound_is_what_stops_a_box_claiming_more_than_any_video(tmp_path: Path) -> None:
    # A movie header that says it is 100 MB and is there in full (sparse): mutagen reads a
    # header box whole, so without the bound it would take 100 MB into memory to look at it.
    path = tmp_path / "v.mp4"
    big = 100 * 1024 * 1024
    with path.open("wb") as fh:
        fh.write(box(b"ftyp", b"isom", bytes(8)))
        fh.write((8 + big).to_bytes(4, "big") + b"moov" + big.to_bytes(4, "big") + b"mvhd")
        fh.truncate(fh.tell() + big - 8)
    info = inspect(path)
    assert info is not None and info.invalid == "it has more structure than a video has"


_PROBE = """
import sys
sys.argv = ["eduadvocate", "check"]
from eduadvocate.cli import run
try:
    run()
except SystemExit:
    pass
print("mutagen" in sys.modules, file=sys.stderr)
"""


@pytest.mark.parametrize("video", [False, True])
def test_check_imports_mutagen_only_when_a_post_has_a_video(
    make_campaign: Make, video: bool
) -> None:
    import subprocess
    import sys

    root = make_campaign({})
    write_video(root / "media" / "v.mp4")
    media = "[{path: media/v.mp4, alt: A, captions: none}]" if video else "[]"
    (root / "posts" / "p.yaml").write_text(
        f"posts:\n  - id: a\n    at: 2026-12-03 18:00\n    accounts: [bsky]\n    text: Hi\n    media: {media}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, cwd=root, check=False
    )
    assert result.stderr.strip().splitlines()[-1] == str(video), result.stderr


# --- the class of "a hostile file": whatever the bytes, a fact or a reason, never a crash ------------


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cuts=st.lists(st.tuples(st.integers(0, 800), st.integers(0, 255)), max_size=8),
    end=st.integers(12, 900),
)
def test_a_damaged_video_is_read_or_called_invalid(
    tmp_path: Path, cuts: list[tuple[int, int]], end: int
) -> None:
    data = bytearray(video_bytes())
    for at, value in cuts:
        if 8 <= at < len(data):  # keep the ftyp's name, so it is still taken for a video
            data[at] = value
    path = tmp_path / "v.mp4"
    path.write_bytes(bytes(data[:end]))
    inspect.cache_clear()
    info = inspect(path)
    assert info is not None
    if info.mime in ("video/mp4", "video/quicktime"):
        assert (info.invalid is None) == (info.width is not None)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_any_captions_file_is_judged_without_a_crash(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "c.vtt"
    path.write_bytes(data)
    found = captions_problem(path)
    assert found is None or isinstance(found, str)


@pytest.mark.parametrize(
    ("mdhd", "seconds"),
    [
        (struct.pack(">I4I", 0, 0, 0, 1000, 140_000), 140.0),  # version 0: 32-bit times
        (struct.pack(">I2QIQ", 1 << 24, 0, 0, 90_000, 360_000), 4.0),  # version 1: 64-bit
        (struct.pack(">I4I", 0, 0, 0, 0, 140_000), None),  # no time scale
        (struct.pack(">I4I", 0, 0, 0, 1000, 0xFFFFFFFF), None),  # "unknown"
        (struct.pack(">I2I", 0, 0, 0), None),  # cut short
    ],
)
def test_a_tracks_length_is_read_from_its_media_header(mdhd: bytes, seconds: float | None) -> None:
    from eduadvocate.content.media import _media_seconds

    assert _media_seconds(mdhd) == seconds
