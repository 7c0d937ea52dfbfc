"""Content rules people trip on (issue 14): an empty text is an error, not a post of hashtags;
Mastodon lengths are counted on the text as Mastodon keeps it (stripped), the same text the
adapter sends; an error says "error" once; a DST hint suggests a time ``at:`` accepts."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduadvocate.compose.check import check_rendering
from eduadvocate.compose.render import Renderer
from eduadvocate.config.defaults import Defaults
from eduadvocate.config.model import AccountConfig
from eduadvocate.content.model import Content, Post
from eduadvocate.core.errors import Location
from eduadvocate.platforms.mastodon_api.client import MastodonPublisher
from eduadvocate.platforms.mastodon_api.spec import MastodonPlatform
from eduadvocate.platforms.publishing import OutgoingPart
from eduadvocate.platforms.textcount.unicode import graphemes, mastodon_countable
from tests.conftest import Make
from tests.fakes.mastodon import MastodonFake
from tests.test_cli import run

AT = "2026-12-03 18:00"  # after the tests' clock: no time-past warning


def _problems(*args: str) -> tuple[int, list[dict[str, Any]]]:
    result = run("check", "--format", "json", *args)
    return result.returncode, json.loads(result.stdout)["problems"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('text: ""', "text: is empty"),
        ("text: '   '", "text: is empty"),
        ('text: "\\0 "', "text: is empty"),  # NUL: Mastodon strips it and refuses a blank status
        ("text: |\n      \n", "text: is empty"),
        ("thread: [One, '  ']", "thread part 2 of 2 is empty"),
        ("thread: ['', Two]", "thread part 1 of 2 is empty"),
    ],
)
def test_an_empty_text_is_an_error_even_with_hashtags(
    make_campaign: Make, content: str, message: str
) -> None:
    """Today hashtags fill the rendered part, so "" went out as "#FundOurSchools" alone."""
    make_campaign(f"hashtags: [FundOurSchools]\nposts:\n  - id: a\n    at: {AT}\n    {content}\n")
    status, problems = _problems()
    assert status == 4
    assert {(p["file"], p["line"], p["account"], p["code"]) for p in problems} == {
        ("posts/posts.yaml", 5, account, "empty-text") for account in ("x-main", "bsky", "masto")
    }
    assert {p["message"] for p in problems} == {message}
    assert all("write some text" in p["hint"] for p in problems)


def test_an_empty_text_for_one_platform_names_that_account(make_campaign: Make) -> None:
    make_campaign(f"posts:\n  - id: a\n    at: {AT}\n    text: Hi\n    x: {{text: ' '}}\n")
    status, problems = _problems()
    assert status == 4
    assert [(p["line"], p["account"], p["code"]) for p in problems] == [(5, "x-main", "empty-text")]


def _ruby_strip(text: str) -> str:
    """Ruby's String#strip, which Mastodon's Status#prepare_contents applies to the text and
    the content warning before StatusLengthValidator counts them."""
    return text.strip(" \t\n\v\f\r\0")


def _as_mastodon_counts(text: str, spoiler: str) -> int:
    return graphemes(_ruby_strip(spoiler) + mastodon_countable(_ruby_strip(text)))


def test_check_counts_a_mastodon_content_warning_as_mastodon_keeps_it(
    make_campaign: Make,
) -> None:
    """490 characters and "CW" between spaces: 492 on the server, so not over its 500."""
    make_campaign(
        f"posts:\n  - id: a\n    at: {AT}\n    accounts: [masto]\n"
        f"    content_warning: '          CW          '\n    text: {'a' * 490}\n"
    )
    assert _problems() == (0, [])
    result = run("render", "--format", "json")
    assert result.returncode == 0, result.stderr
    ((part,),) = [d["parts"] for d in json.loads(result.stdout)["deliveries"]]
    assert (part["length"], part["limit"]) == (492, 500)


_PIECES = [
    "a",
    "Fund our schools",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\v",
    "\f",
    "\0",
    "\u00a0",
    "\u2003",
    "\x1c",
    "👍🏽",
    "🏳️‍🌈",
    "é",
    "https://example.org/budget",
    "@lopez@mastodon.education",
    "#Budget",
]
_TEXTS = st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)
_SERIAL = itertools.count()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    text=_TEXTS.filter(lambda t: bool(t.replace("\0", "").strip())), warning=_TEXTS
)  # check passes
def test_the_length_check_reports_is_what_mastodon_counts_of_what_is_sent(
    mastodon_server: MastodonFake, text: str, warning: str
) -> None:
    """Through the renderer and check to the adapter and the real Mastodon.py, to the loopback
    Mastodon: what it stores, counted as Mastodon counts it, is the length check reported."""
    settings_: dict[str, str | int | bool] = {
        "instance": mastodon_server.base_url,
        "access_token": mastodon_server.token,
    }
    account = AccountConfig("masto", "mastodon", settings_, Location("c.yaml"))
    post = Post(
        id="p",
        loc=Location("posts/p.yaml", 1),
        file="posts/p.yaml",
        defaults=Defaults(),
        content=Content(text=text, content_warning=warning or None, split="never"),
        overrides={},
    )
    spec = MastodonPlatform(account)
    rendering = Renderer({}).render(post, spec)
    (part,) = rendering.parts
    over = [p for p in check_rendering(rendering, spec, Path(".")) if p.code == "over-limit"]
    assert bool(over) == (part.length > part.limit)
    outgoing = OutgoingPart(
        "p|masto|x",
        0,
        1,
        part.text,
        f"b14-{next(_SERIAL)}",
        content_warning=rendering.content_warning,
    )
    published = MastodonPublisher(account).publish(outgoing)
    stored = mastodon_server.client().status_source(published.remote_id)
    assert part.length == _as_mastodon_counts(stored.text, stored.spoiler_text or "")
    # Sent as Mastodon keeps it: its own strip changes nothing, so lookup compares like with like.
    assert (stored.text, stored.spoiler_text or "") == (
        _ruby_strip(stored.text),
        _ruby_strip(stored.spoiler_text or ""),
    )


def test_an_error_without_a_file_says_error_once(make_campaign: Make) -> None:
    root = make_campaign({})
    shutil.rmtree(root / "posts")
    result = run("render")
    assert result.returncode == 4
    assert result.stderr == (
        "eduadvocate: error: there is no posts folder at posts. "
        "create it, or set posts: in the config to where your posts are\n"
    )


@pytest.mark.parametrize(
    ("at", "code"),
    [
        ("2027-03-14 02:30", "time-nonexistent"),
        ("2027-03-14 02:00", "time-nonexistent"),
        ("2026-11-01 01:30", "time-ambiguous"),
    ],
)
@pytest.mark.parametrize("quote", ["", '"'])
def test_the_dst_hint_suggests_a_time_that_loads(
    make_campaign: Make, at: str, code: str, quote: str
) -> None:
    """The suggested text, pasted into at: (quoted or not), loads without that error."""
    make_campaign(f"posts:\n  - id: a\n    at: {at}\n    accounts: [x-main]\n    text: Hi\n")
    status, problems = _problems()
    assert status == 4
    (problem,) = problems
    assert problem["code"] == code
    suggested = re.search(r'e\.g\. "([^"]+)"', problem["message"] + (problem["hint"] or ""))
    assert suggested is not None, problem
    make_campaign(
        f"posts:\n  - id: a\n    at: {quote}{suggested.group(1)}{quote}\n"
        "    accounts: [x-main]\n    text: Hi\n"
    )
    status, problems = _problems()
    assert [p["code"] for p in problems if p["severity"] == "error"] == []
    assert status == 0
