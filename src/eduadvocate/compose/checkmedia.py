"""The rules about a post's media on one account: how many and which kinds, alt text, each
file's size, shape and type, a video's length, codec and shape, its captions and its thumbnail,
each reported at the media item's (or its captions' or thumbnail's) file:line.

Part of ``check`` (``check_rendering`` calls :func:`check_media` for each rendering). Reads the
files' headers only (``content.media.inspect``), never a path outside the media folder.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

from eduadvocate.compose.render import Rendering
from eduadvocate.content.captions import captions_problem
from eduadvocate.content.media import (
    MediaInfo,
    MediaUnreadable,
    duration_text,
    inspect,
    outside_reason,
)
from eduadvocate.content.model import Media, Post
from eduadvocate.core.errors import Findings, Location, Problem, Severity
from eduadvocate.core.suggest import shown
from eduadvocate.platforms.base import PlatformSpec

_NO_FORM_PROBLEMS = PlatformSpec.form_problems  # (the base: no form asks anything)


def _text_only(post: Post, spec: PlatformSpec) -> tuple[str, str, str] | None:
    """(code, message, hint) where this post takes no media on ``spec``'s platform: a reply that
    is a comment (Facebook, Instagram), a quote that shares a link (Facebook); else None."""
    if spec.replies_are_comments and post.reply_to is not None:
        return (
            "reply-media",
            f"a reply on {spec.title} is a comment, which carries text only",
            "remove media: from the reply, or link to the picture in its text",
        )
    if spec.shares_links and post.quote is not None:
        return (
            "quote-media",
            f"a quote on {spec.title} shares the quoted post's link, which takes no media",
            "remove media: from the quote, or write a post with the picture and the link",
        )
    return None


def check_media(
    rendering: Rendering,
    spec: PlatformSpec,
    root: Path,
    media: tuple[Media, ...],
    loc: Location,
    media_folder: Path | None = None,
) -> list[Problem]:
    """Alt text and the platform's media rules for each attached file; a file outside
    ``media_folder`` (default: ``root``) is refused and not even read."""
    rules = spec.media
    if not media and not rules.required and type(spec).form_problems is _NO_FORM_PROBLEMS:
        # Nothing below reports on a post without media then: the text-only rules and the
        # counts speak of media it has, and the base ``form_problems`` of none (most posts:
        # bench/check_speed.py's have none, and the checks below cost ~2% of check's analysis).
        return []
    post = rendering.post
    out = Findings(post.id, rendering.account.name, loc)
    add = out.add

    if (text_only := _text_only(post, spec)) is not None:  # no media rules apply: none allowed
        if media:
            add(text_only[0], text_only[1], loc, text_only[2])
        return out
    if rules.required and not media:
        add(
            "media-required",
            f"{spec.title} needs at least one image or video",
            loc,
            "add media: [{path: …, alt: …}]",
        )
    if len(media) > rules.max_items:
        add(
            "media-too-many",
            f"{len(media)} files, {spec.title} takes at most {rules.max_items}",
            loc,
        )
    seen: list[tuple[Media, MediaInfo]] = []
    for item in media:
        for code, message, where, hint in _alt_text(item, spec):
            add(code, message, where, hint)
        outside = outside_reason(item.path, root, media_folder or root)
        if outside is not None:
            add(
                "media-outside",
                f"{shown(item.path, 80)} {outside}, so it is not published",
                item.loc,
                "keep media inside the campaign folder (or set media_root in the config)",
            )
            continue
        problem = spec.media_problem(item.path)
        if problem:
            add(
                "media-url",
                problem,
                item.loc,
                "keep media inside the campaign folder, e.g. media/photo.jpg",
            )
        try:
            info = inspect(root / item.path)
        except MediaUnreadable as exc:
            add("media-unreadable", f"cannot read {item.path}: {exc}", item.loc)
            continue
        if info is None:
            add(
                "media-missing",
                f"{item.path} does not exist",
                item.loc,
                f"paths are relative to the campaign folder {root.name}/",
            )
            continue
        if info.mime is None or info.invalid is not None:
            add(*_not_media(item, info))
            continue
        seen.append((item, info))
        allowed = rules.video_types if info.is_video else rules.image_types
        if info.mime not in allowed:
            add(
                "media-type",
                f"{item.path} is {info.mime}, {spec.title} takes {', '.join(sorted(allowed))}",
                item.loc,
                "convert it",
            )
            continue
        limit = rules.max_video_bytes if info.is_video else rules.max_image_bytes
        if info.size > limit and not info.is_video and rules.downscale_images:
            out.append(
                Problem(
                    "media-downscaled",
                    "warning",
                    f"{item.path} is {info.size:,} bytes: it will be shrunk to fit {spec.title}'s {limit:,}",
                    item.loc,
                    "make it smaller yourself to choose how it looks",
                    post=post.id,
                    account=rendering.account.name,
                )
            )
        elif info.size > limit:
            add(
                "media-too-large",
                f"{item.path} is {info.size:,} bytes, {spec.title} takes {limit:,}",
                item.loc,
                "make it smaller",
            )
        out.extend(_shape_and_captions(rendering, item, info, spec, root, media_folder or root))
    videos = [(item, info) for item, info in seen if info.is_video]
    if len(videos) > rules.max_videos:
        add(
            "media-too-many",
            f"{len(videos)} videos, {spec.title} takes {rules.max_videos}",
            loc,
        )
    if videos and len(videos) < len(seen) and not rules.mix_images_and_video:
        add("media-mix", f"{spec.title} takes images or a video in one post, not both", loc)
    for code, message, where, hint in spec.form_problems(post, videos):
        add(code, message, where, hint)
    return out


def ratio_text(ratio: float) -> str:
    """A shape as people write it: 3 → "3:1", 1/3 → "1:3", 0.8 → "4:5", 1.91 → "1.91:1",
    0.56 → "1:1.79" (small whole numbers where they are exact)."""
    simple = Fraction(ratio).limit_denominator(20)
    if abs(float(simple) - ratio) < 1e-9:
        return f"{simple.numerator}:{simple.denominator}"
    if ratio >= 1:
        return f"{ratio:.3g}:1"
    return f"1:{1 / ratio:.3g}"


def _not_media(item: Media, info: MediaInfo) -> tuple[str, str, Location, str]:
    if info.invalid is not None:
        return (
            "media-invalid",
            f"{item.path} starts like a video but cannot be read as one: {info.invalid}",
            item.loc,
            "export it again as MP4 (H.264 video, AAC sound)",
        )
    return (
        "media-type",
        f"{item.path} is not an image or video eduadvocate recognises",
        item.loc,
        "use JPEG, PNG, GIF, WebP or MP4",
    )


def _shape_and_captions(
    rendering: Rendering,
    item: Media,
    info: MediaInfo,
    spec: PlatformSpec,
    root: Path,
    folder: Path,
) -> list[Problem]:
    """An image's shape, a video's rules, and any item's captions, located at the item (or its
    captions)."""
    rules = spec.media
    found: list[tuple[str, str, Location | None, str, Severity]] = []
    if info.is_video:
        found.extend((c, m, None, h, s) for c, m, h, s in _video_rules(item, info, spec))
        if item.alt and item.alt.strip() and not rules.takes_video_alt:
            found.append(
                (
                    "alt-unsent",
                    f"{spec.title} takes no alt text for a video: {item.path} goes without"
                    " its alt text",
                    item.alt_loc,
                    "say what the video shows in the post's text",
                    "warning",
                )
            )
    elif (
        info.aspect is not None
        and rules.aspect_min is not None
        and rules.aspect_max is not None
        and not (rules.aspect_min - 0.005 <= info.aspect <= rules.aspect_max + 0.005)
    ):
        found.append(
            (
                "media-aspect",
                f"{item.path} is {info.width}×{info.height}; {spec.title} takes shapes from"
                f" {ratio_text(rules.aspect_min)} (portrait) to {ratio_text(rules.aspect_max)}"
                " (landscape)",
                None,
                "crop it",
                "error",
            )
        )
    found.extend(_captions(item, info, spec, root, folder, rendering.post.language))
    found.extend(_thumbnail(item, info, spec, root, folder))
    return [
        Problem(
            code,
            severity,
            message,
            where or item.loc,
            hint,
            post=rendering.post.id,
            account=rendering.account.name,
        )
        for code, message, where, hint, severity in found
    ]


def _video_rules(
    item: Media, info: MediaInfo, spec: PlatformSpec
) -> list[tuple[str, str, str, Severity]]:
    """The platform's rules for one video: length, shape, pixels and codec family."""
    rules = spec.media
    out: list[tuple[str, str, str, Severity]] = []
    seconds = info.duration
    if seconds is not None:
        # Shown to the hundredth, and never rounded onto the limit: "lasts 2:20.01" is over 2:20.
        if rules.video_seconds_max is not None and seconds > rules.video_seconds_max:
            hundredths = max(round(seconds * 100), math.floor(rules.video_seconds_max * 100) + 1)
            shown_length = duration_text(hundredths / 100)
            limit = duration_text(rules.video_seconds_max)
            out.append(
                (
                    "video-too-long",
                    f"{item.path} lasts {shown_length}, {spec.title} takes videos up to {limit}",
                    f"trim it to {limit} or less",
                    "error",
                )
            )
        if rules.video_seconds_min is not None and seconds < rules.video_seconds_min:
            hundredths = min(round(seconds * 100), math.ceil(rules.video_seconds_min * 100) - 1)
            shown_length = duration_text(hundredths / 100)
            out.append(
                (
                    "video-too-short",
                    f"{item.path} lasts {shown_length}, {spec.title} takes videos of at least"
                    f" {duration_text(rules.video_seconds_min)}",
                    "use a longer clip",
                    "error",
                )
            )
    width, height = info.width, info.height
    if width and height:
        low, high = rules.video_aspect_min, rules.video_aspect_max
        # Exact for any real size: two shapes of whole pixels up to 65535 differ by far more
        # than a float's rounding, so w / h and the bound compare as the fractions would.
        if (low is not None and width / height < low) or (
            high is not None and width / height > high
        ):
            out.append(
                (
                    "video-aspect",
                    f"{item.path} is {width}×{height}, {spec.title} takes videos from"
                    f" {ratio_text(low or 0.0001)} (tall) to {ratio_text(high or 10_000)} (wide)",
                    "crop it",
                    "error",
                )
            )
        if rules.video_pixels_max is not None and width * height > rules.video_pixels_max:
            out.append(
                (
                    "video-too-large",
                    f"{item.path} is {width}×{height}, {spec.title} takes at most"
                    f" {rules.video_pixels_max:,} pixels (3840×2160)",
                    "export it at a smaller size, e.g. 1920×1080",
                    "error",
                )
            )
    if rules.video_codecs is not None and info.codec not in rules.video_codecs:
        out.append(
            (
                "video-codec",
                f"{item.path} is {info.codec or 'an unknown'} video, {spec.title} takes"
                f" {' or '.join(sorted(c.upper() for c in rules.video_codecs))}",
                "export it again as H.264",
                "error",
            )
        )
    return out


def _captions(
    item: Media,
    info: MediaInfo,
    spec: PlatformSpec,
    root: Path,
    folder: Path,
    language: str | None = None,
) -> list[tuple[str, str, Location | None, str, Severity]]:
    """A video's captions: there (or ``captions: none``) when it has sound, files inside the media
    folder that are WebVTT or SRT, and sent by the platform."""
    out: list[tuple[str, str, Location | None, str, Severity]] = []
    if not info.is_video:
        if item.captions:
            out.append(
                (
                    "captions-unused",
                    f"{item.path} is not a video: its captions are not sent",
                    item.captions[0].loc,
                    "remove captions: from this item",
                    "warning",
                )
            )
        return out
    if not item.captions:
        # "Has sound" stands in for "has speech": check cannot hear it, so captions: none says so.
        if info.has_audio and not item.no_captions:
            out.append(
                (
                    "video-captions",
                    f"{item.path} has sound and no captions",
                    item.loc,
                    "add captions: a .vtt or .srt file (or captions: none if no one speaks)",
                    "warning",
                )
            )
        return out
    if not spec.media.takes_captions:
        out.append(
            (
                "captions-unsent",
                f"{spec.title} takes no captions file: {item.path} goes without its captions",
                item.captions[0].loc,
                "burn the captions into the picture if it needs them there",
                "warning",
            )
        )
    for captions in item.captions:
        if (
            spec.media.takes_captions
            and spec.name != "outbox"
            and not (captions.language or language)
        ):
            out.append(
                (
                    "captions-language",
                    f"{spec.title} labels each captions file with its language: give"
                    f" {shown(captions.path, 80)} one, or the post a language:",
                    captions.loc,
                    "write captions: {en: path/to/file.vtt}, or language: en on the post",
                    "error",
                )
            )
        tongue = captions.language or language
        unlabelled = spec.captions_language_problem(tongue) if tongue else None
        if spec.media.takes_captions and unlabelled is not None:
            out.append(
                (
                    "captions-locale",
                    f"{unlabelled}: {shown(captions.path, 80)} cannot be labelled",
                    captions.loc,
                    f"write its language with a country (pt-BR, en-GB), one {spec.title} knows",
                    "error",
                )
            )
        outside = outside_reason(captions.path, root, folder)
        if outside is not None:
            out.append(
                (
                    "captions-outside",
                    f"captions {shown(captions.path, 80)} {outside}, so they are not read",
                    captions.loc,
                    "keep captions inside the campaign folder (or set media_root in the config)",
                    "error",
                )
            )
            continue
        try:
            problem = captions_problem(root / captions.path)
        except FileNotFoundError:
            problem = "does not exist"
            code = "captions-missing"
        except OSError as exc:
            problem = f"cannot be read: {exc.strerror or type(exc).__name__}"
            code = "captions-invalid"
        else:
            code = "captions-invalid"
        if problem is not None:
            out.append(
                (
                    code,
                    f"captions {captions.path} {problem}",
                    captions.loc,
                    f"paths are relative to the campaign folder {root.name}/"
                    if code == "captions-missing"
                    else "captions are a WebVTT (.vtt) or SubRip (.srt) file, UTF-8",
                    "error",
                )
            )
    return out


def _thumbnail(
    item: Media, info: MediaInfo, spec: PlatformSpec, root: Path, folder: Path
) -> list[tuple[str, str, Location | None, str, Severity]]:
    """A video's ``thumbnail:``: an image inside the media folder (never read otherwise) that the
    platform takes, or a warning that it picks its own picture."""
    if item.thumbnail is None:
        return []
    where = item.thumbnail_loc or item.loc
    path = item.thumbnail
    if not info.is_video:
        return [
            (
                "thumbnail-unused",
                f"{item.path} is not a video: only a video takes a thumbnail",
                where,
                "remove thumbnail: from this item",
                "error",
            )
        ]
    if not path.strip():
        return [("thumbnail-missing", "thumbnail: is empty", where, _THUMB_HINT, "error")]
    outside = outside_reason(path, root, folder)
    if outside is not None:
        return [
            (
                "thumbnail-outside",
                f"thumbnail {shown(path, 80)} {outside}, so it is not read",
                where,
                "keep the thumbnail inside the campaign folder (or set media_root in the config)",
                "error",
            )
        ]
    try:
        picture = inspect(root / path)
    except MediaUnreadable as exc:
        return [("thumbnail-invalid", f"cannot read thumbnail {path}: {exc}", where, "", "error")]
    if picture is None:
        hint = f"paths are relative to the campaign folder {root.name}/"
        return [("thumbnail-missing", f"thumbnail {path} does not exist", where, hint, "error")]
    if not (picture.mime or "").startswith("image/"):
        what = picture.mime or "not an image eduadvocate recognises"
        return [("thumbnail-invalid", f"thumbnail {path} is {what}", where, _THUMB_HINT, "error")]
    rules = spec.media
    if not rules.takes_thumbnail:
        return [
            (
                "thumbnail-unsent",
                f"{spec.title} takes no thumbnail: {item.path} goes without {shown(path, 80)}"
                f" ({spec.title} picks its own picture)",
                where,
                "put the picture you want first in the video if it matters there",
                "warning",
            )
        ]
    if picture.mime not in rules.image_types:
        return [
            (
                "thumbnail-type",
                f"thumbnail {path} is {picture.mime}, {spec.title} takes"
                f" {', '.join(sorted(rules.image_types))}",
                where,
                "convert it",
                "error",
            )
        ]
    if picture.size > rules.max_image_bytes:
        return [
            (
                "thumbnail-too-large",
                f"thumbnail {path} is {picture.size:,} bytes, {spec.title} takes"
                f" {rules.max_image_bytes:,}",
                where,
                "make it smaller",
                "error",
            )
        ]
    return []


_THUMB_HINT = "a thumbnail is an image file, e.g. thumbnail: media/frame.jpg"


def _alt_text(item: Media, spec: PlatformSpec) -> list[tuple[str, str, Location | None, str]]:
    """Alt text must be there, say something, and fit the platform."""
    if item.alt is None:
        return [
            (
                "alt-missing",
                f"{item.path} has no alt text",
                item.loc,
                "add alt: describing what it shows, for people using screen readers",
            )
        ]
    if not item.alt.strip():
        return [
            (
                "alt-empty",
                f"{item.path} has empty alt text",
                item.alt_loc or item.loc,
                "describe what it shows",
            )
        ]
    if len(item.alt) > spec.media.alt_max:
        return [
            (
                "alt-too-long",
                f"alt text of {item.path} is {len(item.alt)} characters, {spec.title} takes {spec.media.alt_max}",
                item.alt_loc,
                "",
            )
        ]
    return []
