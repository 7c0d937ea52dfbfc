"""Every check rule: the code, severity and location it reports."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from eduadvocate.campaign.workspace import open_campaign
from eduadvocate.compose.check import analyse, is_readable_hashtag
from eduadvocate.core.errors import Problem
from tests.conftest import REPO, Make
from tests.mp4 import video_bytes


def _problems(make: Make, posts: str | dict[str, str], **kw: str) -> list[Problem]:
    make(posts, **kw)
    ws = open_campaign(None)
    return analyse(ws.config, ws.campaign, ws.now).problems


def _codes(problems: list[Problem]) -> list[tuple[str, str, int, str | None]]:
    return [(p.code, p.severity, p.location.line if p.location else 0, p.account) for p in problems]


def test_clean_post_has_no_problems(make_campaign: Make) -> None:
    assert (
        _problems(
            make_campaign,
            "posts:\n  - id: a\n    at: 2026-12-03 18:00\n    text: Fund our schools.\n",
        )
        == []
    )


def test_over_limit_on_each_platform_with_part_and_hint(make_campaign: Make) -> None:
    problems = _problems(
        make_campaign,
        """
        posts:
          - id: a
            at: 2026-12-03 18:00
            accounts: [x-main, bsky, fb]
            split: never
            text: "{}"
        """.format(("word " * 70).strip()),
    )
    over = [p for p in problems if p.code == "over-limit"]
    assert [(p.account, p.message) for p in over] == [
        ("bsky", "349 characters, Bluesky allows 300"),
        ("x-main", "349 characters, X allows 280"),
    ]
    assert over[0].location is not None and over[0].location.line == 7
    assert over[0].hint == "shorten it, or set split: auto to post it as a thread"


def test_platform_without_threads_reports_instead_of_splitting(make_campaign: Make) -> None:
    problems = _problems(
        make_campaign,
        "posts:\n  - id: a\n    at: 2026-12-03 18:00\n    accounts: [ig]\n    text: '%s'\n    media: [{path: m.jpg, alt: A photo}]\n"
        % ("x " * 1200),
    )
    over = [p for p in problems if p.code == "over-limit"]
    assert len(over) == 1
    assert "Instagram has no threads" in over[0].hint


def test_bluesky_byte_limit(make_campaign: Make) -> None:
    text = "🏫" * 250  # 250 graphemes, 1,000 bytes: fine; then 3,000+ bytes below
    assert not [
        p
        for p in _problems(
            make_campaign,
            f"posts:\n  - id: a\n    at: 2026-12-03 18:00\n    accounts: [bsky]\n    text: '{text}'\n",
        )
        if p.code == "over-limit"
    ]


@pytest.mark.parametrize(
    ("media", "code", "severity"),
    [
        ("[{path: media/ok.jpg}]", "alt-missing", "error"),
        ("[{path: media/ok.jpg, alt: ' '}]", "alt-empty", "error"),
        ("[{path: media/nope.jpg, alt: A photo}]", "media-missing", "error"),
        ("[{path: media/fake.jpg, alt: A photo}]", "media-type", "error"),
    ],
)
def test_media_rules(make_campaign: Make, media: str, code: str, severity: str) -> None:
    root = make_campaign({})
    (root / "media").mkdir()
    shutil.copy(REPO / "media" / "testimonial-garcia.jpg", root / "media" / "ok.jpg")
    (root / "media" / "fake.jpg").write_text("not an image")
    (root / "posts" / "p.yaml").write_text(
        f"posts:\n  - id: a\n    at: 2026-12-03 18:00\n    accounts: [x-main]\n    text: Hi\n    media: {media}\n"
    )
    ws = open_campaign(None)
    problems = analyse(ws.config, ws.campaign, ws.now).problems
    assert [(p.code, p.severity) for p in problems] == [(code, severity)]
    assert problems[0].location is not None and problems[0].location.line == 6


def test_instagram_needs_jpeg_media_in_its_aspect_range(make_campaign: Make) -> None:
    root = make_campaign({})
    (root / "media").mkdir()
    shutil.copy(REPO / "media" / "budget-chart.png", root / "media" / "chart.png")
    (root / "posts" / "p.yaml").write_text(
        "posts:\n"
        "  - id: none\n    at: 2026-12-03 18:00\n    accounts: [ig]\n    text: Hi\n"
        "  - id: png\n    at: 2026-12-03 18:00\n    accounts: [ig]\n    text: Hi\n    media: [{path: media/chart.png, alt: A chart}]\n"
    )
    ws = open_campaign(None)
    codes = {(p.post, p.code) for p in analyse(ws.config, ws.campaign, ws.now).problems}
    assert codes == {("none", "media-required"), ("png", "media-type")}


def test_instagram_hashtag_cap_counts_text_and_drops_campaign_tags(make_campaign: Make) -> None:
    root = make_campaign({})
    (root / "media").mkdir()
    shutil.copy(REPO / "media" / "testimonial-garcia.jpg", root / "media" / "p.jpg")
    (root / "posts" / "p.yaml").write_text(
        "hashtags: [Extra]\nposts:\n"
        "  - id: many\n    at: 2026-12-03 18:00\n    accounts: [ig]\n    text: '#A1 #B2 #C3 #D4 #E5 #F6'\n"
        "    media: [{path: media/p.jpg, alt: A teacher}]\n"
    )
    ws = open_campaign(None)
    problems = analyse(ws.config, ws.campaign, ws.now).problems
    assert {(p.code, p.severity) for p in problems} == {
        ("too-many-hashtags", "error"),
        ("hashtag-dropped", "warning"),
    }


def test_unknown_account_variable_and_person_with_suggestions(make_campaign: Make) -> None:
    problems = _problems(
        make_campaign,
        """
        vars: {petition: https://example.org/p}
        posts:
          - id: a
            at: 2026-12-03 18:00
            accounts: [x-mian]
            text: Sign {petiton} and tell {@lopes}
        """,
    )
    by_code = {p.code: p for p in problems}
    assert by_code["unknown-account"].hint == 'did you mean "x-main"?'
    assert (
        by_code["unknown-account"].location is not None
        and by_code["unknown-account"].location.line == 6
    )


def test_unknown_variable_and_person_reported_once_per_post(make_campaign: Make) -> None:
    problems = _problems(
        make_campaign,
        """
        vars: {petition: https://example.org/p}
        posts:
          - id: a
            at: 2026-12-03 18:00
            text: Sign {petiton} and tell {@lopes}
        """,
    )
    assert [(p.code, p.hint, p.account) for p in problems] == [
        ("unknown-person", 'did you mean "lopez"?', None),
        ("unknown-variable", 'did you mean "petition"?', None),
    ]


def test_unknown_key_duplicate_id_and_missing_id(make_campaign: Make) -> None:
    problems = _problems(
        make_campaign,
        {
            "a.yaml": "posts:\n  - id: a\n    at: 2026-12-03 18:00\n    txt: hi\n    text: hi\n  - at: now\n    text: no id\n",
            "b.yaml": "posts:\n  - id: a\n    at: now\n    text: again\n",
        },
    )
    assert [(p.code, str(p.location)) for p in problems] == [
        ("unknown-key", "posts/a.yaml:4"),
        ("missing-id", "posts/a.yaml:6"),
        ("duplicate-id", "posts/b.yaml:2"),
    ]
    assert problems[0].hint == 'did you mean "text"?'
    assert "posts/a.yaml:2" in problems[2].message


def test_broken_yaml_in_one_file_does_not_hide_the_others(make_campaign: Make) -> None:
    problems = _problems(
        make_campaign,
        {
            "bad.yaml": "posts:\n  - id: a\n   text: x\n",
            "good.yaml": "posts:\n  - id: b\n    at: now\n    text: '%s'\n    split: never\n"
            % ("y" * 300),
        },
    )
    assert [(p.code, str(p.location)) for p in problems][:1] == [
        ("invalid-yaml", "posts/bad.yaml:3")
    ]
    assert {p.code for p in problems[1:]} == {"over-limit"}


@pytest.mark.parametrize(
    ("when", "code"),
    [
        ("at: 2027-03-14 02:30", "time-nonexistent"),
        ("at: 2026-11-01 01:30", "time-ambiguous"),
        ("at: next tuesday", "time-invalid"),
        ("every: fortnightly-ish", "time-invalid"),
        ("at: 2026-01-01 09:00", "time-past"),
    ],
)
def test_time_rules(make_campaign: Make, when: str, code: str) -> None:
    problems = _problems(make_campaign, f"posts:\n  - id: a\n    {when}\n    text: hi\n")
    assert [p.code for p in problems] == [code]
    assert problems[0].location is not None and problems[0].location.line == 3


def test_dst_problems_name_both_candidate_instants(make_campaign: Make) -> None:
    (p,) = _problems(make_campaign, "posts:\n  - id: a\n    at: 2026-11-01 01:30\n    text: hi\n")
    assert "CDT" in p.message and "CST" in p.message


def test_local_time_without_zone_is_an_error(make_campaign: Make) -> None:
    config = "accounts:\n  x-main: {platform: x}\ndefaults:\n  accounts: [x-main]\n"
    problems = _problems(
        make_campaign, "posts:\n  - id: a\n    at: 2026-12-03 18:00\n    text: hi\n", config=config
    )
    assert [p.code for p in problems] == ["time-no-zone"]
    # An instant with an offset needs no zone.
    assert (
        _problems(
            make_campaign,
            "posts:\n  - id: a\n    at: 2026-12-03T18:00:00-06:00\n    text: hi\n",
            config=config,
        )
        == []
    )


def test_bad_timezone_is_reported_with_suggestion(make_campaign: Make) -> None:
    problems = _problems(
        make_campaign,
        "timezone: America/Chicgo\nposts:\n  - id: a\n    at: 2026-12-03 18:00\n    text: hi\n",
    )
    assert problems[0].code == "bad-timezone"
    assert "America/Chicago" in problems[0].message
    assert problems[0].location is not None and problems[0].location.line == 1


def test_same_text_on_two_accounts_of_one_platform_warns(make_campaign: Make) -> None:
    config = "defaults: {timezone: UTC}\naccounts:\n  x1: {platform: x}\n  x2: {platform: x}\n"
    problems = _problems(
        make_campaign,
        "posts:\n  - id: a\n    at: 2026-12-03 18:00\n    accounts: [x1, x2]\n    text: hi\n",
        config=config,
    )
    assert [(p.code, p.severity, p.message) for p in problems] == [
        ("duplicate-text", "warning", "the same text goes to 2 x accounts (x1, x2)")
    ]


def test_hashtag_case_rule() -> None:
    assert not is_readable_hashtag("fundourschools")
    assert is_readable_hashtag("FundOurSchools")
    assert is_readable_hashtag("education")  # one word
    assert is_readable_hashtag("NEA")
    assert not is_readable_hashtag("FUNDOURSCHOOLS")


def test_malformed_links(make_campaign: Make) -> None:
    problems = _problems(
        make_campaign,
        "posts:\n  - id: a\n    at: 2026-12-03 18:00\n    accounts: [outbox]\n    text: see https//example.org\n    link: example dot org\n",
    )
    assert sorted(p.code for p in problems) == ["link-malformed", "link-malformed"]


def test_severity_can_be_configured(make_campaign: Make, tmp_path: Path) -> None:
    config = "defaults: {timezone: UTC, accounts: [x-main]}\naccounts:\n  x-main: {platform: x}\ncheck:\n  severity: {time-past: off, alt-missing: warning}\n"
    problems = _problems(
        make_campaign,
        "posts:\n  - id: a\n    at: 2020-01-01 09:00\n    text: hi\n    media: [{path: missing.jpg}]\n",
        config=config,
    )
    assert {(p.code, p.severity) for p in problems} == {
        ("alt-missing", "warning"),
        ("media-missing", "error"),
    }


def test_example_campaign_is_clean() -> None:
    import os

    os.chdir(REPO)
    ws = open_campaign("config.example.yaml")
    result = analyse(ws.config, ws.campaign, ws.now)
    assert [p.one_line() for p in result.problems if p.severity == "error"] == []
    assert len(ws.campaign.posts) >= 10
    platforms = {r.platform for r in result.renderings}
    assert platforms == {"x", "bluesky", "mastodon", "facebook", "instagram", "outbox"}


def test_hashtag_swallowed_as_yaml_comment_warns(make_campaign: Make) -> None:
    problems = _problems(
        make_campaign,
        "posts:\n  - id: a\n    at: 2026-12-03 18:00\n    text: Fund them #FundOurSchools now\n",
    )
    assert [(p.code, p.severity, str(p.location)) for p in problems] == [
        ("yaml-comment", "warning", "posts/posts.yaml:4")
    ]
    assert '"#FundOurSchools now"' in problems[0].message


def test_bluesky_plain_mention_and_long_tag(make_campaign: Make) -> None:
    tag = "A" + "b" * 70
    problems = _problems(
        make_campaign,
        f"posts:\n  - id: a\n    at: 2026-12-03 18:00\n    accounts: [bsky]\n    text: 'Hi @ChairLopez and @lopez.bsky.social #{tag}'\n",
    )
    assert [(p.code, p.severity) for p in problems] == [
        ("hashtag-too-long", "error"),
        ("mention-plain", "warning"),
    ]
    assert (
        problems[1].message == "@ChairLopez is not a Bluesky handle, so it will not notify anyone"
    )


def _jpeg(width: int, height: int, size: int = 200) -> bytes:
    """A JPEG header with the given dimensions (enough for the type and size sniffing)."""
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = (
        b"\xff\xc0\x00\x11\x08"
        + height.to_bytes(2, "big")
        + width.to_bytes(2, "big")
        + b"\x03"
        + b"\x00" * 9
    )
    body = head + sof
    return body + b"\x00" * max(0, size - len(body))


MP4 = video_bytes(audio=False)  # a real (tiny) MP4: check reads its boxes


@pytest.mark.parametrize(
    ("account", "files", "media", "codes"),
    [
        (
            "x-main",
            {"big.jpg": _jpeg(100, 100, 5_000_001)},
            "[{path: big.jpg, alt: A}]",
            ["media-too-large"],
        ),
        (
            "x-main",
            {f"{i}.jpg": _jpeg(10, 10) for i in range(5)},
            "[" + ", ".join(f"{{path: {i}.jpg, alt: A}}" for i in range(5)) + "]",
            ["media-too-many"],
        ),
        (
            "x-main",
            {"a.jpg": _jpeg(10, 10), "v.mp4": MP4},
            "[{path: a.jpg, alt: A}, {path: v.mp4, alt: V}]",
            ["media-mix"],
        ),
        ("ig", {"wide.jpg": _jpeg(2000, 1000)}, "[{path: wide.jpg, alt: A}]", ["media-aspect"]),
        ("ig", {"ok.jpg": _jpeg(1080, 1350)}, "[{path: ok.jpg, alt: A}]", []),
        (
            "x-main",
            {"a.jpg": _jpeg(10, 10)},
            "[{path: a.jpg, alt: '%s'}]" % ("d" * 1001),
            ["alt-too-long"],
        ),
        (
            "bsky",
            {"a.jpg": _jpeg(10, 10, 1_000_001)},
            "[{path: a.jpg, alt: A}]",
            ["media-downscaled"],
        ),
        ("bsky", {"a.mp4": MP4}, "[{path: a.mp4, alt: A clip}]", []),
    ],
)
def test_media_limits_per_platform(
    make_campaign: Make, account: str, files: dict[str, bytes], media: str, codes: list[str]
) -> None:
    root = make_campaign({})
    for name, data in files.items():
        (root / name).write_bytes(data)
    (root / "posts" / "p.yaml").write_text(
        f"posts:\n  - id: a\n    at: 2026-12-03 18:00\n    accounts: [{account}]\n    text: Hi\n    media: {media}\n"
    )
    ws = open_campaign(None)
    assert [p.code for p in analyse(ws.config, ws.campaign, ws.now).problems] == codes


@pytest.mark.parametrize(
    ("post", "codes"),
    [
        ("  - id: a\n    at: now\n", ["no-text"]),
        ("  - id: a\n    at: now\n    text: hi\n    thread: [a, b]\n", ["text-and-thread"]),
        ("  - id: a\n    at: now\n    text: ' '\n", ["empty-text"]),
        ("  - id: a\n    text: hi\n", ["time-missing"]),
        ("  - id: a\n    at: now\n    every: daily at 9:00\n    text: hi\n", ["time-conflict"]),
        ("  - id: a\n    at: now\n    from: 2026-12-01\n    text: hi\n", ["time-conflict"]),
        (
            "  - id: a\n    every: daily at 9:00\n    from: 2027-01-02\n    until: 2027-01-01\n    text: hi\n",
            ["time-conflict"],
        ),
        ("  - id: a\n    at: now\n    accounts: []\n    text: hi\n", ["no-accounts"]),
        ("  - id: a b\n    at: now\n    text: hi\n", ["invalid-id"]),
        ("  - id: a\n    at: now\n    text: [1, 2]\n", ["no-text", "wrong-type"]),
        ("  - id: a\n    at: now\n    split: sometimes\n    text: hi\n", ["wrong-type"]),
        ("  - id: a\n    at: now\n    text: hi\n    hashtags:\n      - #Oops\n", ["wrong-type"]),
        ("  - id: a\n    at: now\n    text: hi\n    threads: {text: x}\n", ["unknown-key"]),
        ("  - id: a\n    at: now\n    text: hi\n    x: {txt: x}\n", ["unknown-key"]),
    ],
)
def test_structure_rules(make_campaign: Make, post: str, codes: list[str]) -> None:
    config = "defaults: {timezone: UTC, accounts: [outbox]}\naccounts:\n  outbox: {platform: outbox}\n  x-main: {platform: x}\n"
    problems = _problems(make_campaign, "posts:\n" + post, config=config)
    assert sorted(p.code for p in problems) == codes


@pytest.mark.parametrize(
    "timing",
    [
        "at: 2027-13-01 09:00",
        "at: 2027-02-30 09:00",
        "at: 2027-01-05 24:00",
        "at: 2027-01-05 09:00+15:00",
        "at: next tuesday",
        "at: 2027-03-14 02:30",
        "at: 2027-11-07 01:30",
        "every: weekly on Funday 09:00",
        "every: 61 9 * * *",
        "every: daily at 9:00\n    from: 2027-02-30",
        "every: daily at 9:00\n    until: someday",
        "every: daily at 9:00\n    from: 2027-01-02\n    until: 2027-01-01",
        "at: now\n    every: daily at 9:00",
        "at: now\n    from: 2026-12-01",
        "text: no time",
    ],
)
def test_every_timing_problem_says_what_to_write(make_campaign: Make, timing: str) -> None:
    """A time that cannot be used names the line and what to write instead: a hint, or a
    message that says it ("write …"), never only what is wrong."""
    post = f"  - id: a\n    {timing}\n    text: hi\n".replace(
        "text: no time\n    text: hi", "text: hi"
    )
    config = "defaults: {timezone: America/Chicago, accounts: [outbox]}\naccounts:\n  outbox: {platform: outbox}\n"
    problems = [
        p
        for p in _problems(make_campaign, "posts:\n" + post, config=config)
        if p.code.startswith("time-")
    ]
    assert problems, timing
    for p in problems:
        assert p.location is not None and p.location.line, p
        assert p.hint or "write" in p.message, p


def test_instagram_mention_cap(make_campaign: Make) -> None:
    root = make_campaign({})
    (root / "p.jpg").write_bytes(_jpeg(1080, 1080))
    mentions = " ".join(f"@user{i}" for i in range(21))
    (root / "posts" / "p.yaml").write_text(
        f"posts:\n  - id: a\n    at: 2026-12-03 18:00\n    accounts: [ig]\n    text: '{mentions}'\n    media: [{{path: p.jpg, alt: A}}]\n"
    )
    ws = open_campaign(None)
    assert [p.code for p in analyse(ws.config, ws.campaign, ws.now).problems] == [
        "too-many-mentions"
    ]


def test_missing_posts_folder(make_campaign: Make) -> None:
    root = make_campaign({})
    (root / "posts").rmdir()
    ws = open_campaign(None)
    assert [p.code for p in ws.campaign.problems] == ["no-posts-folder"]


def test_instagram_media_must_map_under_media_base_url(make_campaign: Make, tmp_path: Path) -> None:
    """A file outside the campaign folder is refused everywhere (media-outside); one that a
    wider media_root allows still has no address under Instagram's media_base_url."""
    root = make_campaign({})
    (tmp_path / "outside.jpg").write_bytes(_jpeg(1080, 1080))
    (root / "posts" / "p.yaml").write_text(
        "posts:\n  - id: a\n    at: 2026-12-03 18:00\n    accounts: [ig]\n    text: Hi\n    media: [{path: ../outside.jpg, alt: A}]\n"
    )
    ws = open_campaign(None)
    assert [p.code for p in analyse(ws.config, ws.campaign, ws.now).problems] == ["media-outside"]
    (root / "config.yaml").write_text((root / "config.yaml").read_text() + "media_root: ..\n")
    ws = open_campaign(None)
    assert [p.code for p in analyse(ws.config, ws.campaign, ws.now).problems] == ["media-url"]


@pytest.mark.parametrize(
    ("ratio", "written"),
    [(3, "3:1"), (1 / 3, "1:3"), (0.8, "4:5"), (9 / 16, "9:16"), (1.91, "1.91:1"),
     (0.01, "1:100"), (10, "10:1"), (0.56, "1:1.79"), (1, "1:1")],
)  # fmt: skip
def test_a_shape_is_written_as_people_write_it(ratio: float, written: str) -> None:
    from eduadvocate.compose.checkmedia import ratio_text

    assert ratio_text(ratio) == written
