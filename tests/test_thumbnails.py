"""A video's ``thumbnail:`` (issue 16): an image inside the media folder, refused at its own
file:line when it is on an image, missing, not an image or outside the campaign; sent to
Mastodon with the video (``POST /api/v2/media`` ``thumbnail``, through the loopback fake, which
refuses what a real instance refuses); elsewhere ``check`` says it stays behind
(``thumbnail-unsent``); shown by render (text and JSON) and written down by the outbox.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from mastodon.errors import MastodonAPIError

from eduadvocate.campaign.workspace import open_campaign
from eduadvocate.compose.check import analyse
from eduadvocate.content.media import inspect, outside_reason
from eduadvocate.core.errors import Problem
from eduadvocate.platforms.mastodon_api import client as masto_client
from tests.conftest import Make
from tests.fakes.mastodon import MastodonFake
from tests.mp4 import video_bytes, write_video
from tests.test_cli import run

THUMB_LINE = 10  # where _post puts thumbnail:
_POST = """\
posts:
  - id: clip
    at: {at}
    accounts: [{account}]
    text: Hear it from the teachers
    media:
      - path: {path}
        alt: A teacher speaks
        captions: none
        thumbnail: {thumbnail}
"""


def _jpeg(width: int = 64, height: int = 36) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _fresh_inspect() -> None:
    inspect.cache_clear()  # each test writes its own files under paths that may repeat


def _campaign(
    make_campaign: Make,
    account: str,
    thumbnail: str = "media/frame.jpg",
    *,
    path: str = "media/v.mp4",
    at: str = "2026-12-03 18:00",
    config: str | None = None,
) -> Path:
    root = make_campaign({}, **({"config": config} if config else {}))
    write_video(root / "media" / "v.mp4", seconds=31.5, width=720, height=1280)
    (root / "media" / "frame.jpg").write_bytes(_jpeg())
    (root / "media" / "photo.jpg").write_bytes(_jpeg(1080, 1080))
    (root / "posts" / "p.yaml").write_text(
        _POST.format(at=at, account=account, path=path, thumbnail=thumbnail), encoding="utf-8"
    )
    return root


def _problems(root: Path) -> list[Problem]:
    inspect.cache_clear()
    ws = open_campaign(None)
    return analyse(ws.config, ws.campaign, ws.now).problems


def _found(problems: list[Problem]) -> list[tuple[str, str, int]]:
    return [(p.code, p.severity, p.location.line if p.location else 0) for p in problems]


# --- check: each mistake at the thumbnail's own line ---------------------------------------------


def test_a_thumbnail_on_mastodon_is_fine(make_campaign: Make) -> None:
    assert _problems(_campaign(make_campaign, "masto")) == []


def test_a_thumbnail_on_an_image_is_an_error_at_its_line(make_campaign: Make) -> None:
    (p,) = _problems(_campaign(make_campaign, "masto", path="media/photo.jpg"))
    assert (p.code, p.severity, p.location.line) == ("thumbnail-unused", "error", THUMB_LINE)
    assert p.location.file.endswith("p.yaml")
    assert p.message == "media/photo.jpg is not a video: only a video takes a thumbnail"
    assert p.hint == "remove thumbnail: from this item"


@pytest.mark.parametrize(
    ("thumbnail", "code", "message"),
    [
        ("media/nope.jpg", "thumbnail-missing", "thumbnail media/nope.jpg does not exist"),
        ("media/v.mp4", "thumbnail-invalid", "thumbnail media/v.mp4 is video/mp4"),
        (
            "media/notes.txt",
            "thumbnail-invalid",
            "thumbnail media/notes.txt is not an image eduadvocate recognises",
        ),
        ('""', "thumbnail-missing", "thumbnail: is empty"),
        (
            "/etc/hostname",
            "thumbnail-outside",
            "thumbnail /etc/hostname is an absolute path, so it is not read",
        ),
    ],
)
def test_a_thumbnail_that_is_no_image_here_is_an_error_at_its_line(
    make_campaign: Make, thumbnail: str, code: str, message: str
) -> None:
    root = _campaign(make_campaign, "masto", thumbnail)
    (root / "media" / "notes.txt").write_text("a frame, in words", encoding="utf-8")
    (p,) = _problems(root)
    assert (p.code, p.severity, p.location.line, p.message) == (code, "error", THUMB_LINE, message)


def test_a_thumbnail_outside_the_campaign_is_refused_and_not_read(
    make_campaign: Make, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(_jpeg())
    os.chmod(secret, 0)  # were it read, check would say it cannot be
    try:
        (p,) = _problems(_campaign(make_campaign, "masto", f"../{secret.name}"))
    finally:
        os.chmod(secret, 0o600)
    assert (p.code, p.location.line) == ("thumbnail-outside", THUMB_LINE)
    assert p.message == (
        f"thumbnail ../{secret.name} climbs out of the media folder with .., so it is not read"
    )


def test_a_thumbnail_written_as_a_list_is_one_clear_error(make_campaign: Make) -> None:
    (p,) = _problems(_campaign(make_campaign, "masto", "[media/frame.jpg]"))
    assert (p.code, p.location.line) == ("wrong-type", THUMB_LINE)
    assert p.message.startswith("thumbnail must be text")


@pytest.mark.parametrize(
    ("account", "title"),
    [("bsky", "Bluesky"), ("x-main", "X"), ("fb", "Facebook Page"), ("ig", "Instagram")],
)
def test_a_platform_that_takes_no_thumbnail_says_it_stays_behind(
    make_campaign: Make, account: str, title: str
) -> None:
    root = _campaign(make_campaign, account)
    if account == "ig":  # Instagram fetches media from its public address: make it a Reel's
        write_video(root / "media" / "v.mp4", seconds=31.5, width=1080, height=1920)
    unsent = [p for p in _problems(root) if p.code.startswith("thumbnail")]
    assert _found(unsent) == [("thumbnail-unsent", "warning", THUMB_LINE)]
    assert unsent[0].message == (
        f"{title} takes no thumbnail: media/v.mp4 goes without media/frame.jpg"
        f" ({title} picks its own picture)"
    )


def test_the_outbox_writes_a_thumbnail_down_without_a_warning(make_campaign: Make) -> None:
    assert _problems(_campaign(make_campaign, "outbox")) == []


def test_mastodons_image_rules_hold_for_a_thumbnail(make_campaign: Make) -> None:
    """IMAGE_MIME_TYPES and IMAGE_LIMIT (16 MB) of Mastodon's media_attachment.rb."""
    root = _campaign(make_campaign, "masto", "media/frame.bmp")
    (root / "media" / "frame.bmp").write_bytes(b"BM" + bytes(16) + (4).to_bytes(4, "little") * 2)
    (p,) = _problems(root)
    assert (p.code, p.location.line) == ("thumbnail-type", THUMB_LINE)
    assert p.message.startswith("thumbnail media/frame.bmp is image/bmp, Mastodon takes image/")
    with (root / "media" / "frame.jpg").open("r+b") as fh:
        fh.truncate(16_000_001)  # sparse: no disk
    (root / "posts" / "p.yaml").write_text(
        (root / "posts" / "p.yaml").read_text().replace("frame.bmp", "frame.jpg")
    )
    (p,) = _problems(root)
    assert (p.code, p.message) == (
        "thumbnail-too-large",
        "thumbnail media/frame.jpg is 16,000,001 bytes, Mastodon takes 16,000,000",
    )


def test_check_names_the_thumbnails_file_and_line(make_campaign: Make) -> None:
    _campaign(make_campaign, "masto", "media/nope.jpg")
    result = run("check", env={"COLUMNS": "200"})
    assert result.returncode != 0
    assert f"posts/p.yaml:{THUMB_LINE}" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    data = json.loads(run("check", "--format", "json").stdout)
    (problem,) = data["problems"]
    assert (problem["code"], problem["line"]) == ("thumbnail-missing", THUMB_LINE)


def test_the_schema_takes_a_thumbnail_as_a_path() -> None:
    import jsonschema

    from eduadvocate.content.schema import json_schema
    from eduadvocate.platforms.registry import platform_names

    schema = json_schema(sorted(platform_names()))

    def post(thumbnail: object) -> list[dict[str, object]]:
        item = {"path": "v.mp4", "alt": "A", "thumbnail": thumbnail}
        return [{"id": "a", "text": "Hi", "media": [item]}]

    jsonschema.validate(post("media/frame.jpg"), schema)
    for bad in (["media/frame.jpg"], {"en": "frame.jpg"}, 3):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(post(bad), schema)


# --- the class: whatever the path's shape, one located answer, and nothing outside is read --------


def _quoted(text: str) -> str:
    """``text`` as a YAML double-quoted scalar: what cannot stand in it raw, escaped."""
    escaped = (ch if ch.isprintable() and ch not in '"\\' else f"\\U{ord(ch):08x}" for ch in text)
    return f'"{"".join(escaped)}"'


_SHAPES = [
    *("media/frame.jpg", "media/link.jpg", "media", "../outside.jpg", "/etc/hostname"),
    *("media/../../outside.jpg", "nope.jpg", "C:\\x.jpg", "media/./frame.jpg", "~/frame.jpg"),
    *("media/frame.jpg/", "media//frame.jpg", "\\\\server\\share\\x.jpg", "media/v.mp4"),
]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.one_of(
        st.sampled_from(_SHAPES),
        st.text(st.characters(blacklist_categories=["Cs"]), max_size=30),
    )
)
@example(path="media/link.jpg")
@example(path="a\x00b")
def test_any_thumbnail_path_gets_one_located_answer(
    make_campaign: Make, tmp_path_factory: pytest.TempPathFactory, path: str
) -> None:
    root = _campaign(make_campaign, "masto", _quoted(path))
    outside = tmp_path_factory.mktemp("elsewhere") / "outside.jpg"
    outside.write_bytes(_jpeg())
    link = root / "media" / "link.jpg"
    if not link.is_symlink():
        link.symlink_to(outside)
    found = _problems(root)
    assert len(found) <= 1, found
    assert all(p.location.line == THUMB_LINE for p in found), found
    codes = [p.code for p in found]
    if outside_reason(path, root, root) is not None:
        assert codes == ["thumbnail-outside"]
    else:
        assert "thumbnail-outside" not in codes
        assert codes in ([], ["thumbnail-missing"], ["thumbnail-invalid"], ["wrong-type"])


# --- render and the outbox ----------------------------------------------------------------------


def test_render_shows_the_thumbnail_with_the_video(make_campaign: Make) -> None:
    _campaign(make_campaign, "masto")
    (delivery,) = json.loads(run("render", "--format", "json").stdout)["deliveries"]
    (media,) = delivery["parts"][0]["media"]
    assert (media["type"], media["thumbnail"]) == ("video/mp4", "media/frame.jpg")
    text = " ".join(run("render", env={"COLUMNS": "200"}).stdout.split())
    assert "captions: none; thumbnail: media/frame.jpg" in text


def test_render_json_says_null_for_a_video_without_a_thumbnail(make_campaign: Make) -> None:
    root = _campaign(make_campaign, "masto")
    post = root / "posts" / "p.yaml"
    post.write_text(post.read_text().replace("        thumbnail: media/frame.jpg\n", ""))
    (delivery,) = json.loads(run("render", "--format", "json").stdout)["deliveries"]
    assert delivery["parts"][0]["media"][0]["thumbnail"] is None


def test_the_outbox_writes_the_thumbnail_with_the_video(make_campaign: Make) -> None:
    root = _campaign(make_campaign, "outbox", at="now")
    result = run("publish", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    (json_file,) = (root / "outbox" / "outbox").glob("*.json")
    (media,) = json.loads(json_file.read_text())["parts"][0]["media"]
    assert Path(media["thumbnail"]) == (root / "media" / "frame.jpg").resolve()
    markdown = json_file.with_suffix(".md").read_text()
    assert f"no captions (captions: none); thumbnail <{media['thumbnail']}>)" in markdown


# --- Mastodon: the thumbnail goes with the video ---------------------------------------------------


def _masto_config(fake: MastodonFake) -> str:
    return (
        "defaults: {timezone: America/Chicago, accounts: [masto]}\n"
        "accounts:\n"
        f"  masto: {{platform: mastodon, instance: '{fake.base_url}',"
        " access_token: '${MASTO_TOKEN}', video_timeout: 5}\n"
    )


@pytest.fixture
def masto_campaign(
    make_campaign: Make, mastodon_fresh: MastodonFake, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv("MASTO_TOKEN", mastodon_fresh.token)
    monkeypatch.setattr(masto_client, "POLL_DELAYS_S", (0.01,))  # (the fake processes by polls)
    return _campaign(make_campaign, "masto", at="now", config=_masto_config(mastodon_fresh))


def test_the_thumbnail_arrives_with_the_video_on_mastodon(
    masto_campaign: Path, mastodon_fresh: MastodonFake
) -> None:
    mastodon_fresh.media_processing = 2  # as a real instance: 202, then 206 until done
    done = run("publish", cwd=masto_campaign)
    assert done.returncode == 0, done.stdout + done.stderr
    (status,) = mastodon_fresh.statuses()
    (media,) = status.media_attachments
    assert media.type == "video" and media.description == "A teacher speaks"
    thumbnail = mastodon_fresh.thumbnails[str(media.id)]
    assert thumbnail.content_type == "image/jpeg"
    assert thumbnail.data == (masto_campaign / "media" / "frame.jpg").read_bytes()
    uploads = [s for s in mastodon_fresh.seen if s.method == "POST" and "media" in s.path]
    assert [s.path for s in uploads] == ["/api/v2/media"]  # in the one upload, not a second call


def test_an_instance_older_than_3_2_is_refused_before_anything_is_sent(
    masto_campaign: Path, mastodon_fresh: MastodonFake
) -> None:
    """Mastodon.py would refuse the thumbnail itself (MastodonVersionError, a Transient here
    otherwise): a clear failure instead, and the video is not sent without its thumbnail."""
    mastodon_fresh.version = "3.1.4"
    done = run("publish", cwd=masto_campaign)
    assert done.returncode != 0
    assert "a video thumbnail needs Mastodon 3.2 or later" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert mastodon_fresh.statuses() == []
    assert not [s for s in mastodon_fresh.seen if s.method == "POST" and "media" in s.path]


def _upload(fake: MastodonFake, file: bytes, mime: str, thumbnail: bytes, thumb_mime: str) -> Any:
    client = fake.client()
    client.retrieve_mastodon_version()
    return client.media_post(
        io.BytesIO(file),
        mime_type=mime,
        thumbnail=io.BytesIO(thumbnail),
        thumbnail_mime_type=thumb_mime,
    )


@pytest.mark.parametrize(
    ("file", "mime", "thumbnail", "thumb_mime", "error"),
    [
        ("jpeg", "image/jpeg", "jpeg", "image/jpeg", "Thumbnail must be blank"),
        ("mp4", "video/mp4", "text", "image/jpeg", "Thumbnail content type is invalid"),
        ("mp4", "video/mp4", "jpeg", "image/bmp", "Thumbnail content type is invalid"),
    ],
    ids=["on-an-image", "not-what-it-says", "not-a-type-mastodon-takes"],
)
def test_the_fake_refuses_a_thumbnail_as_mastodon_does(
    mastodon_fresh: MastodonFake, file: str, mime: str, thumbnail: str, thumb_mime: str, error: str
) -> None:
    data = {"jpeg": _jpeg(), "mp4": video_bytes(audio=False), "text": b"not an image"}
    with pytest.raises(MastodonAPIError) as refused:
        _upload(mastodon_fresh, data[file], mime, data[thumbnail], thumb_mime)
    assert refused.value.args[1] == 422 and error in str(refused.value)
    assert mastodon_fresh.thumbnails == {}


def test_the_fake_keeps_a_good_thumbnail_under_the_new_media(mastodon_fresh: MastodonFake) -> None:
    media = _upload(mastodon_fresh, video_bytes(audio=False), "video/mp4", _jpeg(), "image/jpeg")
    assert mastodon_fresh.thumbnails[str(media.id)].data == _jpeg()


# --- the dispatcher's second lock -------------------------------------------------------------------


def test_a_thumbnail_outside_the_campaign_is_never_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even if a post with one reached the dispatcher (check holds it), the file is not read and
    nothing goes out: the delivery fails with the reason."""
    from eduadvocate.delivery.dispatch import Dispatcher
    from eduadvocate.ledger import open_ledger
    from eduadvocate.ledger.base import Desired
    from tests.test_guarantee_properties import FULL, T0, Platform, campaign

    secret = tmp_path / "secret.jpg"
    secret.write_bytes(_jpeg())
    monkeypatch.setenv("EDUADVOCATE_NOW", T0.isoformat())
    with campaign({}) as root:
        write_video(root / "media" / "v.mp4")
        thumbnail = os.path.relpath(secret, root)
        (root / "posts" / "a.yaml").write_text(
            FULL.replace(
                "    text: Budget hearing Thursday, come early\n",
                "    text: Budget hearing Thursday, come early\n"
                f"    media: [{{path: media/v.mp4, alt: A, thumbnail: {thumbnail}}}]\n",
            )
        )
        platform = Platform()
        ws = open_campaign(str(root / "config.yaml"))
        analysis = analyse(ws.config, ws.campaign, T0)
        assert "thumbnail-outside" in {p.code for p in analysis.problems}
        renderings = {(r.post.id, r.account.name): r for r in analysis.renderings}
        ledger = open_ledger(".eduadvocate/ledger.sqlite3", root)
        try:
            ledger.sync([Desired("a1", "box", "outbox", T0, "h")], T0)
            dispatcher = Dispatcher(
                ws.config, ledger, "w", clock=lambda: T0, connect=lambda n: platform
            )
            (outcome,) = dispatcher.run(renderings)
        finally:
            ledger.close()
        assert outcome.state == "failed" and "outside the campaign" in (outcome.error or "")
        assert platform.posts == []
