"""``reply_to:`` at check time, through the CLI: the address's shape names the platform (nothing
is fetched), the post goes only to the accounts there, and a wrong address or account is one
error at its line. Addresses of every shape, and hostile ones, swept."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eduadvocate.platforms.posturl import MAX_LENGTH, post_address
from tests.conftest import Make
from tests.test_cli import run

BSKY = "https://bsky.app/profile/ally.bsky.social/post/3kabcdefghi2a"
MASTO = "https://mastodon.example/@ally/109876543210"


def _post(reply_to: str, accounts: str = "") -> str:
    return (
        "posts:\n"
        "  - id: answer\n"
        "    at: 2026-12-01 18:00\n"
        '    text: "Thank you for coming to the hearing!"\n'
        f"    reply_to: '{reply_to}'\n" + (f"    accounts: {accounts}\n" if accounts else "")
    )


def _check(make_campaign: Make, posts: str) -> tuple[int, list[dict[str, str]]]:
    make_campaign(posts)
    result = run("check", "--format", "json")
    assert result.returncode in (0, 4), result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout)["problems"]


def _accounts(make_campaign: Make, posts: str) -> list[str]:
    make_campaign(posts)
    result = run("render", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    return sorted(r["account"] for r in json.loads(result.stdout)["deliveries"])


@pytest.mark.parametrize(
    ("url", "accounts"),
    [
        (BSKY, ["bsky"]),
        ("at://did:plc:abcdefghijklmnopqrstuvwx/app.bsky.feed.post/3kabcdefghi2a", ["bsky"]),
        (MASTO, ["masto"]),
        ("https://other.social/users/ally/statuses/109876543210", ["masto"]),
        ("https://x.com/ally/status/1234567890", ["x-main"]),
        ("https://twitter.com/ally/status/1234567890", ["x-main"]),
    ],
)
def test_a_reply_goes_only_to_the_accounts_on_its_posts_platform(
    make_campaign: Make, url: str, accounts: list[str]
) -> None:
    """The defaults name X, Bluesky and Mastodon: a reply goes to the platform of its address."""
    assert _accounts(make_campaign, _post(url)) == accounts


def test_the_outbox_takes_a_reply_to_any_platform(make_campaign: Make) -> None:
    assert _accounts(make_campaign, _post(BSKY, "[bsky, outbox]")) == ["bsky", "outbox"]


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/some/page",
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
        "https://bsky.app/profile/localhost/post/3kabc",
        "at://127.0.0.1/app.bsky.feed.post/3kabc",
        "https://bsky.app/profile/ally.bsky.social/post/3kabc?x=1",
        "gopher://mastodon.example/@ally/1",
        "https://mastodon.example/@ally/1\u202e",
        "https://mastodon.example/@ally/" + "1" * 5000,
    ],
)
def test_an_address_of_no_known_shape_is_an_error_at_its_line(
    make_campaign: Make, url: str
) -> None:
    status, problems = _check(make_campaign, _post(url))
    assert status == 4
    (found,) = [p for p in problems if p["code"] == "reply-to-unknown"]
    assert (found["severity"], found["file"], found["line"]) == ("error", "posts/posts.yaml", 5)
    assert len(found["message"]) < 200  # a very long address is cut short in the message


def test_an_account_on_another_platform_listed_explicitly_is_an_error(
    make_campaign: Make,
) -> None:
    status, problems = _check(make_campaign, _post(BSKY, "[bsky, masto]"))
    assert status == 4
    (found,) = [p for p in problems if p["severity"] == "error"]
    assert found["code"] == "reply-to-platform"
    assert found["line"] == 6
    assert '"masto" is on Mastodon, but reply_to: is a post on Bluesky' in found["message"]


@pytest.mark.parametrize(
    ("url", "account"),
    [
        ("https://www.facebook.com/SpringfieldPTA/posts/55", "fb"),
        ("https://www.instagram.com/p/C1a2b3c4d5e/", "ig"),
        ("https://www.instagram.com/p/C1a2b3c4d5e/c/17858000000000001/", "ig"),
    ],
)
def test_replies_on_facebook_and_instagram_are_comments_and_pass_check(
    make_campaign: Make, url: str, account: str
) -> None:
    """A comment: text only, so Instagram's rule that a post needs an image does not apply."""
    status, problems = _check(make_campaign, _post(url, f"[{account}]"))
    assert status == 0, problems
    assert [p for p in problems if p["severity"] == "error"] == []


def test_a_reply_none_of_whose_accounts_is_on_its_platform_is_an_error(
    make_campaign: Make,
) -> None:
    """The file's accounts (the defaults of its posts) hold no Mastodon account."""
    status, problems = _check(make_campaign, "accounts: [bsky]\n" + _post(MASTO))
    assert status == 4
    (found,) = [p for p in problems if p["severity"] == "error"]
    assert (found["code"], found["line"]) == ("reply-no-account", 6)
    assert (
        found["message"] == "reply_to: is a post on Mastodon, and none of this post's accounts is"
    )


def test_check_errors_are_one_line_with_file_and_line(make_campaign: Make) -> None:
    make_campaign(_post("https://example.org/not-a-post"))
    result = run("check")
    assert result.returncode == 4
    lines = [line for line in result.stdout.splitlines() if "reply-to-unknown" in line]
    assert len(lines) == 1 and "posts/posts.yaml:5" in lines[0]


# -- the shapes, swept --------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_read_without_error_and_a_match_is_of_a_known_platform(text: str) -> None:
    found = post_address(text)
    if found is not None:
        assert found.platform in {"bluesky", "mastodon", "x", "facebook", "instagram"}
        assert found.url == text and text.isascii() and text.isprintable()


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([BSKY, MASTO, "https://x.com/ally/status/12"]),
    st.text(alphabet=" \t\n\r\x00\u202e/\\@#?", min_size=1, max_size=5),
)
def test_an_address_with_anything_appended_or_prepended_is_not_read_as_another(
    url: str, junk: str
) -> None:
    """Whole addresses only: a shape never matches part of the text."""
    expected = post_address(url)
    assert expected is not None
    for text in (junk + url, url + junk):
        found = post_address(text)
        assert found is None or (found.url == text and found.platform == expected.platform)


def test_nothing_longer_than_the_limit_is_read() -> None:
    assert post_address(MASTO) is not None
    assert post_address(MASTO[:-1] + "1" * (MAX_LENGTH - len(MASTO) + 1)) is None


def test_the_outbox_writes_down_the_address_it_answers(make_campaign: Make) -> None:
    root = make_campaign(_post(BSKY, "[outbox]").replace("2026-12-01 18:00", "now"))
    published = run("publish")
    assert published.returncode == 0, published.stdout + published.stderr
    (written,) = (root / "outbox" / "outbox").glob("*.json")
    (part,) = json.loads(written.read_text())["parts"]
    assert part["answers"] == BSKY and part["reply_to"] is None
    assert f"In reply to <{BSKY}>" in written.with_suffix(".md").read_text()


def test_render_shows_the_address_a_reply_answers(make_campaign: Make) -> None:
    """In the JSON and in the pull-request preview (as code: an address is not made a link)."""
    make_campaign(_post(BSKY))
    rendered = run("render", "--format", "json")
    (delivery,) = json.loads(rendered.stdout)["deliveries"]
    assert delivery["reply_to"] == BSKY
    preview = run("render", "--format", "markdown")
    assert preview.returncode == 0, preview.stderr
    assert f"In reply to `{BSKY}`" in preview.stdout
