"""``repost:`` and ``quote:`` at check and render time, through the CLI: the address's shape
names the platform (nothing is fetched), the post goes only to the accounts there that can
repost or quote it, a repost carries nothing of its own, at most one of reply_to/repost/quote,
and every combination a platform cannot do is one error at its line with the reason. Each
field, each platform and each content field swept."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Make
from tests.test_cli import run

BSKY = "https://bsky.app/profile/ally.bsky.social/post/3kabcdefghi2a"
MASTO = "https://mastodon.example/@ally/109876543210"
XPOST = "https://x.com/ally/status/1234567890"
FB = "https://www.facebook.com/SpringfieldPTA/posts/pfbid02abc"
IG = "https://www.instagram.com/p/C1a2b3c4d5e/"


def _post(field: str, url: str, accounts: str = "", extra: str = "") -> str:
    text = "" if field == "repost" else '    text: "Read this, then come on Tuesday."\n'
    return (
        "posts:\n"
        "  - id: shared\n"
        "    at: 2026-12-01 18:00\n"
        f"    {field}: '{url}'\n"
        + text
        + (f"    accounts: {accounts}\n" if accounts else "")
        + extra
    )


def _check(make_campaign: Make, posts: str) -> tuple[int, list[dict[str, str]]]:
    make_campaign(posts)
    result = run("check", "--format", "json")
    assert result.returncode in (0, 4), result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout)["problems"]


def _errors(problems: list[dict[str, str]]) -> list[dict[str, str]]:
    return [p for p in problems if p["severity"] == "error"]


def _rendered(make_campaign: Make, posts: str) -> list[dict[str, object]]:
    make_campaign(posts)
    result = run("render", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    deliveries: list[dict[str, object]] = json.loads(result.stdout)["deliveries"]
    return deliveries


@pytest.mark.parametrize(
    ("field", "url", "accounts"),
    [
        ("repost", BSKY, ["bsky"]),
        ("repost", MASTO, ["masto"]),
        ("quote", BSKY, ["bsky"]),
        ("quote", MASTO, ["masto"]),
        ("repost", XPOST, ["x-main"]),
        ("quote", XPOST, ["x-main"]),
    ],
)
def test_a_share_goes_only_to_the_accounts_on_its_posts_platform(
    make_campaign: Make, field: str, url: str, accounts: list[str]
) -> None:
    """The defaults name X, Bluesky and Mastodon: the share goes to its address's platform."""
    deliveries = _rendered(make_campaign, _post(field, url))
    assert sorted(str(d["account"]) for d in deliveries) == accounts
    assert all(d[field] == url and d["reply_to"] is None for d in deliveries)


def test_a_repost_renders_as_one_empty_part_without_campaign_hashtags(
    make_campaign: Make,
) -> None:
    (delivery,) = _rendered(make_campaign, "hashtags: [FundOurSchools]\n" + _post("repost", BSKY))
    (part,) = delivery["parts"]  # type: ignore[misc]
    assert (part["text"], part["length"], part["media"]) == ("", 0, [])
    assert delivery["quote"] is None


def test_a_quote_is_rendered_and_checked_like_any_post(make_campaign: Make) -> None:
    (delivery,) = _rendered(make_campaign, "hashtags: [FundOurSchools]\n" + _post("quote", BSKY))
    (part,) = delivery["parts"]  # type: ignore[misc]
    assert part["text"] == "Read this, then come on Tuesday.\n\n#FundOurSchools"
    long = _post("quote", BSKY, "[bsky]").replace("Read this", "Read this " + "very " * 80)
    status, problems = _check(make_campaign, long.replace("at: 2026", "split: never\n    at: 2026"))
    assert status == 4 and [p["code"] for p in _errors(problems)] == ["over-limit"]


@pytest.mark.parametrize(
    ("extra", "field", "line"),
    [
        ('    text: "Look!"\n', "text", 5),
        ("    thread: [one, two]\n", "thread", None),
        ("    media: [{path: media/a.png, alt: A}]\n", "media", None),
        ("    link: https://example.org\n", "link", 5),
        ("    hashtags: [Levy]\n", "hashtags", 5),
        ("    content_warning: politics\n", "content_warning", None),
        ("    card: true\n", "card", None),
        ('    bluesky: {text: "Look!"}\n', "text", 5),
    ],
)
def test_a_repost_with_content_of_its_own_is_an_error_naming_the_field(
    make_campaign: Make, extra: str, field: str, line: int | None
) -> None:
    status, problems = _check(make_campaign, _post("repost", BSKY, extra=extra))
    assert status == 4
    (found,) = _errors(problems)
    assert found["code"] == "repost-content" and found["file"] == "posts/posts.yaml"
    assert found["message"].startswith(f"a repost has no {field}:")
    assert "quote:" in found["hint"]
    if line is not None:
        assert found["line"] == line


def test_a_repost_with_card_false_asks_for_nothing(make_campaign: Make) -> None:
    status, problems = _check(make_campaign, _post("repost", BSKY, extra="    card: false\n"))
    assert status == 0, problems


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"reply_to": BSKY, "repost": BSKY}, "reply_to: and repost:"),
        ({"repost": BSKY, "quote": BSKY}, "repost: and quote:"),
        ({"reply_to": BSKY, "quote": BSKY}, "reply_to: and quote:"),
    ],
)
def test_at_most_one_of_reply_to_repost_and_quote(
    make_campaign: Make, fields: dict[str, str], named: str
) -> None:
    written = "".join(f"    {k}: '{v}'\n" for k, v in fields.items())
    text = "" if "repost" in fields else "    text: Hello\n"
    status, problems = _check(
        make_campaign, f"posts:\n  - id: both\n    at: 2026-12-01 18:00\n{written}{text}"
    )
    assert status == 4
    found = [p for p in problems if p["code"] == "share-conflict"]
    assert len(found) == 1 and found[0]["line"] == 5
    assert named in found[0]["message"]


@pytest.mark.parametrize(
    ("field", "url", "account", "message"),
    [
        ("repost", IG, "ig", 'reposts on Instagram are not supported yet (account "ig")'),
        ("quote", IG, "ig", 'quotes on Instagram are not supported yet (account "ig")'),
    ],
)
def test_what_a_platform_cannot_do_is_an_error_with_the_reason(
    make_campaign: Make, field: str, url: str, account: str, message: str
) -> None:
    status, problems = _check(make_campaign, _post(field, url, f"[{account}]"))
    assert status == 4
    (found,) = _errors(problems)
    assert found["code"] == f"{field}-unsupported"
    assert (found["message"], found["line"]) == (message, 4)
    assert "link:" in found["hint"]  # what to do instead: share the address as a link


@pytest.mark.parametrize("field", ["repost", "quote"])
def test_a_facebook_page_shares_a_facebook_post_as_a_link(make_campaign: Make, field: str) -> None:
    """Issue 15: "Facebook shares a link" (tests/test_share_facebook.py publishes it)."""
    status, problems = _check(make_campaign, _post(field, FB, "[fb]"))
    assert _errors(problems) == [] and status == 0


@pytest.mark.parametrize("field", ["repost", "quote"])
def test_an_account_on_another_platform_listed_explicitly_is_an_error(
    make_campaign: Make, field: str
) -> None:
    status, problems = _check(make_campaign, _post(field, BSKY, "[bsky, masto]"))
    assert status == 4
    (found,) = _errors(problems)
    line = 5 if field == "repost" else 6  # (a repost has no text: line)
    assert (found["code"], found["line"]) == (f"{field}-platform", line)
    assert f'"masto" is on Mastodon, but {field}: is a post on Bluesky' in found["message"]


@pytest.mark.parametrize("field", ["repost", "quote"])
def test_a_share_none_of_whose_accounts_is_on_its_platform_is_an_error(
    make_campaign: Make, field: str
) -> None:
    status, problems = _check(make_campaign, "accounts: [bsky]\n" + _post(field, MASTO))
    assert status == 4
    (found,) = _errors(problems)
    assert (found["code"], found["line"]) == (f"{field}-no-account", 5)


@pytest.mark.parametrize("field", ["repost", "quote"])
@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/some/page",
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
        "at://127.0.0.1/app.bsky.feed.post/3kabc",
        "https://mastodon.example/@ally/1\u202e",
        "https://mastodon.example/@ally/" + "1" * 5000,
    ],
)
def test_an_address_of_no_known_shape_is_one_error_at_its_line(
    make_campaign: Make, field: str, url: str
) -> None:
    """Hostile addresses are read by their shape and refused; none is ever fetched (check makes
    no request at all: the suite refuses any connection beyond loopback, and there is none)."""
    make_campaign(_post(field, url))
    result = run("check")
    assert result.returncode == 4
    lines = [line for line in result.stdout.splitlines() if f"{field}-unknown" in line]
    assert len(lines) == 1 and "posts/posts.yaml:4" in lines[0]


def test_render_shows_what_a_repost_and_a_quote_share(make_campaign: Make) -> None:
    """In the text view and the pull-request preview (as code: an address is not a link)."""
    posts = _post("repost", BSKY) + (
        f"  - id: quoted\n    at: 2026-12-01 19:00\n    quote: '{MASTO}'\n    text: Read this.\n"
    )
    make_campaign(posts)
    text = run("render")
    assert text.returncode == 0, text.stderr
    assert f"Reposts {BSKY}" in text.stdout and f"Quotes {MASTO}" in text.stdout
    preview = run("render", "--format", "markdown")
    assert preview.returncode == 0, preview.stderr
    assert f"Reposts `{BSKY}`" in preview.stdout and "a repost" in preview.stdout
    assert f"Quotes `{MASTO}`" in preview.stdout and "Read this." in preview.stdout


def test_the_outbox_writes_down_what_it_reposts_and_quotes_and_status_shows_it(
    make_campaign: Make,
) -> None:
    posts = _post("repost", BSKY, "[outbox]").replace("2026-12-01 18:00", "now") + (
        f"  - id: quoted\n    at: now\n    quote: '{MASTO}'\n    text: Read this.\n"
        "    accounts: [outbox]\n"
    )
    root = make_campaign(posts)
    published = run("publish")
    assert published.returncode == 0, published.stdout + published.stderr
    written = {
        json.loads(p.read_text())["delivery"].split("|")[0]: p
        for p in (root / "outbox" / "outbox").glob("*.json")
    }
    (repost,) = json.loads(written["shared"].read_text())["parts"]
    (quote,) = json.loads(written["quoted"].read_text())["parts"]
    assert (repost["repost"], repost["text"]) == (BSKY, "")
    assert (quote["quote"], quote["text"]) == (MASTO, "Read this.")
    assert f"Quoting <{MASTO}>" in written["quoted"].with_suffix(".md").read_text()
    status = json.loads(run("status", "--format", "json").stdout)["deliveries"]
    assert {d["post"]: (d["repost"], d["quote"]) for d in status} == {
        "shared": (BSKY, None),
        "quoted": (None, MASTO),
    }
    text = " ".join(run("status").stdout.split())  # (the table wraps long addresses)
    assert f"(repost of {BSKY})" in text and f"(quoting {MASTO})" in text


# -- the class: any mix of the three fields and of content, generated ---------------------------
CONTENT = {
    "text": "text: Hi",
    "thread": "thread: [one, two]",
    "media": "media: [{path: media/a.png, alt: A}]",
    "link": "link: https://example.org",
    "hashtags": "hashtags: [Levy]",
    "content_warning": "content_warning: cw",
    "card": "card: true",
}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fields=st.sets(st.sampled_from(["reply_to", "repost", "quote"]), min_size=1),
    content=st.sets(st.sampled_from(sorted(CONTENT))),
    url=st.sampled_from([BSKY, MASTO, XPOST, FB]),
)
def test_any_mix_is_one_conflict_at_most_and_a_repost_error_per_content_field(
    make_campaign: Make, fields: set[str], content: set[str], url: str
) -> None:
    """share-conflict exactly when more than one field is written; repost-content once per
    content field on a repost and never otherwise; a repost that goes out is one empty part."""
    lines = [f"{f}: '{url}'" for f in sorted(fields)] + [CONTENT[c] for c in sorted(content)]
    posts = "posts:\n  - id: mix\n    at: 2026-12-01 18:00\n" + "".join(
        f"    {line}\n" for line in lines
    )
    _, problems = _check(make_campaign, posts)
    codes = [p["code"] for p in problems]
    assert codes.count("share-conflict") == (len(fields) > 1)
    assert codes.count("repost-content") == (len(content) if "repost" in fields else 0)
    if fields == {"repost"}:
        rendered = json.loads(run("render", "--format", "json").stdout)["deliveries"]
        assert all([p["text"] for p in d["parts"]] == [""] for d in rendered)
