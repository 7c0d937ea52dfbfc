"""Campaign files are untrusted input (volunteers' pull requests, checked by CI): hostile values are
refused as located problems through the real ``eduadvocate check``/``render``, never a traceback,
a huge allocation or a leaked object in a public post."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import REPO, Make
from tests.test_cli import run

HEAD = "posts:\n  - id: a\n    at: 2026-12-03 18:00\n"


def _check(*args: str) -> tuple[int, list[tuple[str, str, str]], dict[str, Any]]:
    """``check --format json``: exit status, (code, severity, file:line) of each problem, the JSON."""
    result = run("check", "--format", "json", *args)
    assert "Traceback" not in result.stderr, result.stderr
    if not result.stdout.startswith("{"):
        return result.returncode, [], {"stderr": result.stderr}
    data = json.loads(result.stdout)
    found = [(p["code"], p["severity"], f"{p['file']}:{p['line']}") for p in data["problems"]]
    return result.returncode, found, data


# -- 1. UTM and link templates ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("{platform:>30000000}", "format"),
        ("{nosuch}", "nosuch"),
        ("{post.__class__}", "attribute"),
        ("{post!r}", "conversion"),
        ("{post[0]}", "index"),
        ("{platform", "brace"),
    ],
)
def test_utm_template_is_refused_with_file_and_line(
    make_campaign: Make, template: str, words: str
) -> None:
    make_campaign(
        f"utm:\n  medium: social\n  source: '{template}'\n{HEAD}    text: See https://example.org/x\n"
    )
    started = time.monotonic()
    status, found, data = _check()
    assert time.monotonic() - started < 20
    assert status == 4
    assert ("utm-template", "error", "posts/posts.yaml:3") in found
    message = next(p["message"] for p in data["problems"] if p["code"] == "utm-template")
    assert words in message


def test_utm_attribute_access_never_reaches_a_post(make_campaign: Make) -> None:
    make_campaign(
        f"utm:\n  content: '{{post.__class__}}{{post.__init__.__globals__}}'\n{HEAD}    accounts: [outbox]\n    text: See https://example.org/x\n"
    )
    result = run("render", "--format", "json")
    assert "Traceback" not in result.stderr
    assert "class" not in result.stdout and "globals" not in result.stdout.replace("__", "")


def test_utm_template_in_the_config_is_a_config_error(make_campaign: Make) -> None:
    config = "defaults:\n  timezone: UTC\n  accounts: [outbox]\n  utm:\n    source: '{nosuch}'\naccounts:\n  outbox: {platform: outbox}\n"
    make_campaign(f"{HEAD}    text: hi\n", config=config)
    result = run("check")
    assert result.returncode == 3
    assert result.stderr.startswith("eduadvocate: error: config.yaml:5: ")
    assert "nosuch" in result.stderr and "Traceback" not in result.stderr


def test_known_utm_fields_and_literal_braces_still_work(make_campaign: Make) -> None:
    make_campaign(
        "campaign: Budget\nutm:\n  source: '{platform}-{account}'\n  content: '{post}{{x}}'\n"
        f"{HEAD}    accounts: [x-main]\n    text: See https://example.org/x\n"
    )
    result = run("render", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    text = json.dumps(json.loads(result.stdout))
    assert "utm_source=x-x-main" in text
    assert "utm_content=a%7Bx%7D" in text


def test_variables_that_multiply_are_refused_not_expanded(make_campaign: Make) -> None:
    ten = "".join("{b}" for _ in range(40))
    make_campaign(
        "vars:\n"
        f"  a: '{ten}'\n"
        f"  b: '{ten.replace('b', 'c')}'\n"
        f"  c: '{ten.replace('b', 'd')}'\n"
        f"  d: '{ten.replace('b', 'e')}'\n"
        f"  e: '{ten.replace('b', 'f')}'\n"
        "  f: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'\n"
        f"{HEAD}    accounts: [outbox]\n    text: '{{a}}'\n"
    )
    started = time.monotonic()
    status, found, _ = _check()
    assert time.monotonic() - started < 20
    assert status == 4
    assert ("template-too-large", "error", "posts/posts.yaml:12") in found


# -- 2. Deep nesting --------------------------------------------------------------------------


def _flow(depth: int) -> str:
    return "[" * depth + "]" * depth


def _block(depth: int) -> str:
    return "".join("  " * i + "-\n" for i in range(depth)) + "  " * depth + "- x\n"


@pytest.mark.parametrize("deep", [_flow(300), _flow(900), "\n" + _block(400)])
def test_deep_nesting_in_a_posts_file_is_refused(make_campaign: Make, deep: str) -> None:
    make_campaign({"deep.yaml": f"vars: {deep}\n" if deep.startswith("[") else f"vars:{deep}"})
    status, found, _ = _check()
    assert status == 4
    assert next(f for f in found if f[0] == "nesting-too-deep")[2].startswith("posts/deep.yaml:")


def test_deep_nesting_through_aliases_is_refused(make_campaign: Make) -> None:
    lines = ["l0: &l0 " + _flow(40)]
    lines += [f"l{i}: &l{i} " + "[" * 40 + f"*l{i - 1}" + "]" * 40 for i in range(1, 12)]
    make_campaign({"alias.yaml": "\n".join(lines) + "\nposts: []\n"})
    status, found, _ = _check()
    assert status == 4
    assert "nesting-too-deep" in {f[0] for f in found}


def test_deep_nesting_in_people_yaml_is_refused(make_campaign: Make) -> None:
    make_campaign(f"{HEAD}    text: hi\n", people="lopez: " + _flow(500) + "\n")
    status, found, _ = _check()
    assert status == 4
    assert ("nesting-too-deep", "error", "people.yaml:1") in found


@pytest.mark.parametrize("deep", [_flow(500), _flow(5000)])
def test_deep_nesting_in_the_config_is_a_config_error(make_campaign: Make, deep: str) -> None:
    make_campaign(f"{HEAD}    text: hi\n", config=f"accounts: {deep}\n")
    result = run("check")
    assert result.returncode == 3
    assert result.stderr.startswith("eduadvocate: error: config.yaml:1: ")
    assert "nested" in result.stderr
    assert len(result.stderr.splitlines()) == 1


# -- 3. Patterns anchored at the real end -------------------------------------------------------


@pytest.mark.parametrize(
    ("posts", "people", "code", "where"),
    [
        (
            'posts:\n  - id: "trail\\n"\n    at: 2026-12-03 18:00\n    text: hi\n',
            None,
            "invalid-id",
            "posts/posts.yaml:2",
        ),
        (
            f"{HEAD}    text: hi\n",
            'lopez: {name: L}\n"lopez\\n": {name: M}\n',
            "invalid-id",
            "people.yaml:2",
        ),
        (
            f'vars:\n  "petition\\n": x\n{HEAD}    text: hi\n',
            None,
            "invalid-id",
            "posts/posts.yaml:2",
        ),
        (
            f'{HEAD}    text: hi\n    link: "https://example.org/x\\n"\n',
            None,
            "link-malformed",
            "posts/posts.yaml:5",
        ),
        (
            f'{HEAD}    accounts: [x-main]\n    text: hi\n    hashtags: ["Fund\\nSchools"]\n',
            None,
            "invalid-hashtag",
            "posts/posts.yaml:6",
        ),
        (
            f"{HEAD}    accounts: [x-main]\n    text: hi {{@lopez}}\n",
            'lopez:\n  name: L\n  x: "ChairLopez\\n"\n',
            "invalid-handle",
            "people.yaml:3",
        ),
    ],
)
def test_a_final_newline_does_not_pass_a_pattern(
    make_campaign: Make, posts: str, people: str | None, code: str, where: str
) -> None:
    make_campaign(posts, **({"people": people} if people is not None else {}))
    status, found, _ = _check()
    assert status == 4
    assert (code, "error", where) in found


# -- 4. Media paths -----------------------------------------------------------------------------


def _jpeg() -> bytes:
    return (REPO / "media" / "testimonial-garcia.jpg").read_bytes()


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "symlink-file", "symlink-folder"])
def test_media_outside_the_campaign_is_refused(
    make_campaign: Make, tmp_path: Path, kind: str
) -> None:
    root = make_campaign({})
    secret = tmp_path / "outside" / "secret.jpg"
    secret.parent.mkdir()
    secret.write_bytes(_jpeg())
    (root / "media").mkdir()
    path = {
        "absolute": str(secret),
        "dotdot": "../outside/secret.jpg",
        "symlink-file": "media/link.jpg",
        "symlink-folder": "media/shared/secret.jpg",
    }[kind]
    (root / "media" / "link.jpg").symlink_to(secret)
    (root / "media" / "shared").symlink_to(secret.parent)
    (root / "posts" / "p.yaml").write_text(
        f"{HEAD}    accounts: [x-main]\n    text: hi\n    media: [{{path: '{path}', alt: A photo}}]\n"
    )
    status, found, data = _check()
    assert status == 4
    assert found == [("media-outside", "error", "posts/p.yaml:6")]
    assert str(tmp_path) not in json.dumps(data) or kind == "absolute"


def test_media_inside_the_campaign_and_a_widened_media_root_are_fine(
    make_campaign: Make, tmp_path: Path
) -> None:
    root = make_campaign({})
    (root / "media").mkdir()
    (root / "media" / "a.jpg").write_bytes(_jpeg())
    (root / "media" / "same.jpg").symlink_to(root / "media" / "a.jpg")
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "b.jpg").write_bytes(_jpeg())
    post = (
        f"{HEAD}    accounts: [x-main]\n    text: hi\n    media: [{{path: '%s', alt: A photo}}]\n"
    )
    (root / "posts" / "p.yaml").write_text(post % "media/same.jpg")
    assert _check()[:2] == (0, [])
    (root / "posts" / "p.yaml").write_text(post % "../shared/b.jpg")
    assert _check()[1] == [("media-outside", "error", "posts/p.yaml:6")]
    config = (root / "config.yaml").read_text()
    (root / "config.yaml").write_text(config + "media_root: ..\n")
    assert _check()[:2] == (0, [])


# -- 5. Handles and hashtags per platform --------------------------------------------------------

BAD_PEOPLE = """\
lopez:
  name: Chair Lopez
  x: chair lopez
  bluesky: https://bsky.app/profile/lopez
  mastodon: lopez
  instagram: "chair#lopez"
  facebook: "@lopez https://evil.example"
okafor:
  name: Okafor
  x: "@SupOkafor"
  bluesky: okafor.bsky.social
  mastodon: "@okafor@mastodon.education"
  instagram: sup.okafor
  facebook: Springfield Public Schools
"""


def test_bad_handles_in_people_yaml_are_errors_at_their_line(make_campaign: Make) -> None:
    make_campaign(f"{HEAD}    text: hi\n", people=BAD_PEOPLE)
    status, found, _ = _check()
    assert status == 4
    assert sorted(found) == [
        ("invalid-handle", "error", f"people.yaml:{line}") for line in (3, 4, 5, 6, 7)
    ]


def test_a_post_mentioning_a_bad_handle_is_held(make_campaign: Make) -> None:
    make_campaign(f"{HEAD}    accounts: [x-main]\n    text: Tell {{@lopez}}\n", people=BAD_PEOPLE)
    _, _, data = _check()
    mine = [p for p in data["problems"] if p["code"] == "invalid-handle" and p["post"] == "a"]
    assert [(p["file"], p["line"], p["account"]) for p in mine] == [("people.yaml", 3, "x-main")]


@pytest.mark.parametrize(
    ("tag", "accounts", "bad"),
    [
        ("Fund Our Schools", "[x-main, bsky, masto, fb, outbox]", 5),
        ("https://evil.example", "[x-main, bsky, masto, fb]", 4),
        ("Fund#Schools", "[x-main, bsky, masto, fb, outbox]", 5),
        ("Fund@Schools", "[x-main, bsky, masto, fb, outbox]", 5),
        ("Fund-Schools", "[x-main, bsky, masto, fb]", 3),  # Bluesky takes the hyphen
        ("2026", "[x-main, bsky, masto, fb]", 4),
        ("FundOurSchools", "[x-main, bsky, masto, fb, outbox]", 0),
        ("学校を守ろう", "[x-main, bsky, masto, fb, outbox]", 0),
    ],
)
def test_hashtags_follow_each_platforms_syntax(
    make_campaign: Make, tag: str, accounts: str, bad: int
) -> None:
    make_campaign(f"{HEAD}    accounts: {accounts}\n    text: hi\n    hashtags: ['{tag}']\n")
    _, found, _ = _check()
    assert [f for f in found if f[0] == "invalid-hashtag"] == [
        ("invalid-hashtag", "error", "posts/posts.yaml:6")
    ] * bad


# -- 6. Bidi controls, invisible characters and look-alike letters ------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Vote \u202eloohcs\u202c now", "bidi-control"),
        ("Vote\u2066 now\u2069", "bidi-control"),
        ("Fund\u200bOur schools", "invisible-character"),
        ("Join #FundОurSchools today", "mixed-script"),  # a Cyrillic О
        ("See https://exаmple.org/petition", "mixed-script"),  # a Cyrillic а
        ("Ask @ChаirLopez now", "mixed-script"),
    ],
)
def test_deceptive_characters_warn(make_campaign: Make, text: str, code: str) -> None:
    make_campaign(f"{HEAD}    accounts: [outbox]\n    text: '{text}'\n")
    status, found, _ = _check()
    assert status == 0
    assert found == [(code, "warning", "posts/posts.yaml:5")]


@pytest.mark.parametrize(
    "text",
    [
        "Teachers 👩🏽‍🏫 and families 👨‍👩‍👧 #FundOurSchools",  # ZWJ inside emoji
        "مدارسنا تحتاج التمويل\u200f today",  # an RLM in mixed Arabic and English
        "#学校をFundしよう and #ΣχολείαΤώρα",  # Japanese with Latin; all-Greek
        "Шкoлы",  # prose is not checked for look-alikes, only handles, hashtags and links
    ],
)
def test_ordinary_multilingual_text_does_not_warn(make_campaign: Make, text: str) -> None:
    make_campaign(f"{HEAD}    accounts: [outbox]\n    text: '{text}'\n")
    assert _check()[:2] == (0, [])


def test_mixed_script_handle_in_people_yaml_warns(make_campaign: Make) -> None:
    people = "lopez:\n  name: L\n  mastodon: lopez@mastodon.еducation\n"  # a Cyrillic е
    make_campaign(f"{HEAD}    text: hi\n", people=people)
    status, found, _ = _check()
    assert (status, found) == (0, [("mixed-script", "warning", "people.yaml:3")])


# -- 7. Links from templates --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ok"),
    [("https://example.org/p", True), ("example dot org", False), ("javascript:alert(1)", False)],
)
def test_link_from_a_template_is_validated_after_expansion(
    make_campaign: Make, value: str, ok: bool
) -> None:
    make_campaign(
        f"vars:\n  petition: '{value}'\n{HEAD}    accounts: [outbox]\n    text: Sign\n    link: '{{petition}}'\n"
    )
    status, found, _ = _check()
    assert (status, found) == (
        (0, []) if ok else (4, [("link-malformed", "error", "posts/posts.yaml:8")])
    )


def test_a_huge_link_is_checked_quickly(make_campaign: Make) -> None:
    make_campaign(
        f"{HEAD}    accounts: [outbox]\n    text: hi\n    link: 'https://{'a.' * 200_000} x'\n"
    )
    started = time.monotonic()
    status, found, _ = _check()
    assert time.monotonic() - started < 20
    assert (status, found) == (4, [("link-malformed", "error", "posts/posts.yaml:6")])


# -- Unit rules behind the checks above ---------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "good", "bad"),
    [
        (
            "x",
            ["ChairLopez", "@sup_okafor", "a" * 15],
            ["a" * 16, "chair.lopez", "ChairLopez\n", ""],
        ),
        (
            "bluesky",
            ["lopez.bsky.social", "@pta.example.org", "4chan.org", "a.test"],
            ["lopez", "lopez.bsky.social.", "-a.bsky.social", "a.123", "a.local", "lopéz.social"],
        ),
        (
            "mastodon",
            ["lopez@mastodon.education", "@lo.pez@m.example", "x@bücher.example"],
            ["lopez", "lopez@", "@lopez@", "lo pez@m.example", "lopez@m", "a@b@c.org"],
        ),
        ("instagram", ["chair.lopez", "_lopez_", "a" * 30], ["a" * 31, "lopez.", "a..b", "lo-pez"]),
        (
            "facebook",
            ["Springfield School Board", "springfield.schools"],
            ["a" * 76, "Board\nhttps://evil.example", "#Board", "@Board", "www.example.org"],
        ),
        ("outbox", ["anything-goes_here"], ["two words", "https://x.example", "a#b"]),
    ],
)
def test_handle_syntax_per_platform(platform: str, good: list[str], bad: list[str]) -> None:
    from eduadvocate.platforms.registry import spec_class

    spec = spec_class(platform)
    assert [h for h in good if spec.handle_problem(h) is not None] == []
    assert [h for h in bad if spec.handle_problem(h) is None] == []


@pytest.mark.parametrize(
    ("platform", "good", "bad"),
    [
        ("x", ["Fund_Our_Schools", "学校", "é2026"], ["2026", "Fund-Schools", "Fund.", "a b"]),
        (
            "bluesky",
            ["Fund-Schools", "🦋fly", "t_a-g"],
            ["2026", "Fund.", "tag_", "a" * 65],
        ),
        ("mastodon", ["Fund_Schools", "Fund·Schools", "学校"], ["2026", "Fund-Schools", "_"]),
        ("instagram", ["FundOurSchools", "fund_2026"], ["2026", "Fund-Schools", "Fund!"]),
    ],
)
def test_hashtag_syntax_per_platform(platform: str, good: list[str], bad: list[str]) -> None:
    from eduadvocate.platforms.registry import spec_class

    spec = spec_class(platform)
    assert [t for t in good if spec.hashtag_problem(t) is not None] == []
    assert [t for t in bad if spec.hashtag_problem(t) is None] == []


def test_utm_templates_fill_known_fields_only() -> None:
    from eduadvocate.config.utm import fill_utm, utm_template_problems

    values = {"platform": "x", "post": "a"}
    assert fill_utm("{platform}-{{post}}-{post}", values) == "x-{post}-a"
    assert fill_utm("{post.__class__}{x:>9}", values) == "{post.__class__}{x:>9}"
    assert utm_template_problems("{platform}{{ }}") == []
    assert len(utm_template_problems("{a}{b.c}{d!r}{e[0]}{f:>9}}")) == 6


@settings(max_examples=500)
@given(
    st.lists(st.sampled_from([*"{}{}{}ab:!.[]x", "post", "platform", "é"]), max_size=20).map(
        "".join
    ),
    st.dictionaries(st.sampled_from(["platform", "post", "a", "x", ""]), st.text(max_size=5)),
)
def test_a_utm_template_fills_as_one_substitution_over_it_does(
    template: str, values: dict[str, str]
) -> None:
    """fill_utm splits a template once and fills the pieces: the same as substituting each
    token in turn (its first form)."""
    import re

    from eduadvocate.config.utm import fill_utm

    def sub(match: re.Match[str]) -> str:
        whole, name = match.group(0), match.group(1)
        if whole in ("{{", "}}"):
            return whole[0]
        return values[name] if name is not None and name in values else whole

    token = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
    assert fill_utm(template, values) == token.sub(sub, template)


def test_mixed_scripts_follow_uts39() -> None:
    from eduadvocate.content.textsafety import mixed_scripts

    assert mixed_scripts("FundОurSchools") == ["Cyrillic", "Latin"]
    assert mixed_scripts("ΣχολείαΤώρα") == []
    assert mixed_scripts("学校をFundしよう") == []  # Japanese with Latin
    assert mixed_scripts("Schoolथा") == []  # Latin with one other script that looks unlike it
    assert mixed_scripts("Αlpha") == ["Greek", "Latin"]  # a Greek capital alpha
