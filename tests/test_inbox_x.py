"""``eduadvocate inbox`` on X, against the loopback X API (tests/fakes/x_api.py) through the real
tweepy: the CLI publishes a campaign post, another account replies to it, quotes it naming the
campaign's account, and mentions the account; ``inbox pull`` stores exactly those three, tied to
the post (the mention to none). A quote that names nobody is not in X's mentions timeline, so it
is not read. Pulling twice adds nothing; pages follow ``next_token``; a pull cut off resumes.
The free tier's 403 is one line naming the tier, not an error (as in ``metrics pull``), and the
other accounts are read all the same. No credential is printed or stored."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import Make
from tests.fakes.x_api import X_CONFIG_KEYS, Account, XFake, credentials_env
from tests.test_cli import run
from tests.test_secrets import _forms

POSTS = """\
posts:
  - id: levy
    at: now
    text: "The levy vote is Tuesday. #FundOurSchools"
"""
MENTIONS = r"^/2/users/\d+/mentions$"


def _json(result: Any) -> Any:
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


class Engaged:
    """The campaign folder, the fake, the campaign's X account, its published post's id, and
    what another account did to it (kind → post id)."""

    def __init__(self, root: Path, x: XFake, account: Account, ours: str) -> None:
        self.root, self.x, self.account, self.ours = root, x, account, ours
        self.ally = x.add_account("ally", name="An Ally")
        self.made = {
            "reply": x.add_post(self.ally, "Voting yes!", in_reply_to=ours).id,
            "quote": x.add_post(self.ally, "Read this, @springfieldpta fans", quote_of=ours).id,
            "mention": x.add_post(self.ally, "Thanks @springfieldpta & friends").id,
        }
        x.add_post(self.ally, "A quote that names nobody", quote_of=ours)  # not a mention on X
        x.engage(ours, likes=3, retweets=1)  # engagement, counted by `metrics pull`


@pytest.fixture
def engaged(make_campaign: Make, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engaged]:
    with XFake() as x:
        account = x.add_account("springfieldpta", name="Springfield PTA")
        for name, value in credentials_env(account).items():
            monkeypatch.setenv(name, value)
        config = (
            "defaults: {timezone: America/Chicago, accounts: [x-main]}\naccounts:\n"
            f"  x-main:\n    platform: x\n    tier: basic\n{X_CONFIG_KEYS}"
            f"    base_url: {x.base_url}\n"
        )
        root = make_campaign(POSTS, config=config)
        published = run("publish", cwd=root)
        assert published.returncode == 0, published.stdout + published.stderr
        (ours,) = x.posts(account)
        yield Engaged(root, x, account, ours.id)


def test_pull_then_list_shows_the_reply_the_quote_and_the_mention(engaged: Engaged) -> None:
    root = engaged.root
    pulled = run("inbox", "pull", cwd=root)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert pulled.stdout.splitlines() == ["x-main: 3 new (1 reply, 1 mention, 1 quote)"]

    listed = _json(run("inbox", "--format", "json", cwd=root))
    items = {i["kind"]: i for i in listed["items"]}
    assert {k: i["remote_id"] for k, i in items.items()} == engaged.made
    for kind in ("reply", "quote"):
        assert items[kind]["answers"]["post"] == "levy"
        assert items[kind]["answers_remote_id"] == engaged.ours
        assert items[kind]["answers"]["url"].endswith(f"/status/{engaged.ours}")
    assert items["mention"]["answers"] is None and items["mention"]["answers_remote_id"] is None
    assert items["mention"]["text"] == "Thanks @springfieldpta & friends"  # X's &amp; decoded
    for kind, item in items.items():
        assert (item["platform"], item["account"]) == ("x", "x-main")
        assert item["author"] == {
            "handle": "ally",
            "name": "An Ally",
            "url": "https://x.com/ally",
        }
        assert item["url"] == f"https://x.com/ally/status/{engaged.made[kind]}"
        assert item["created_at"].endswith("Z") and item["handled_at"] is None
    # The campaign post's items first, then the mention, which answers none of them.
    assert [i["kind"] for i in listed["items"]][-1] == "mention"

    again = run("inbox", "pull", "--format", "json", cwd=root)
    assert _json(again)["accounts"] == [
        {
            "account": "x-main",
            "platform": "x",
            "new": 0,
            "by_kind": {},
            "unsupported": False,
            "refused": None,
            "failed": None,
        }
    ]
    assert len(_json(run("inbox", "--platform", "x", "-f", "json", cwd=root))["items"]) == 3
    shown = run("inbox", cwd=root)
    assert shown.returncode == 0 and "levy on x-main · 2 items to answer" in shown.stdout


def test_pages_follow_next_token_and_a_cut_off_pull_resumes(engaged: Engaged) -> None:
    """More mentions than one page holds (the pull asks 50 at a time); the second page fails
    once, so the first pull stores one page and exits 5, and the next stores the rest."""
    x, root = engaged.x, engaged.root
    crowd = x.add_account("crowd")
    for n in range(60):
        x.add_post(crowd, f"@springfieldpta count me in, number {n}")
    before = sum(1 for r in x.requests if r.path.endswith("/mentions"))
    x.inject("GET", MENTIONS, "slow", times=1, seconds=0)  # the first page goes through,
    x.inject("GET", MENTIONS, "500", times=1)  # the second fails
    cut = run("inbox", "pull", "--format", "json", cwd=root)
    assert cut.returncode == 5, cut.stdout + cut.stderr
    (account,) = json.loads(cut.stdout)["accounts"]
    assert account["new"] == 50 and account["failed"].startswith("transient: X answered 500")

    resumed = _json(run("inbox", "pull", "--format", "json", cwd=root))["accounts"][0]
    assert resumed["new"] == 13 and resumed["failed"] is None
    assert resumed["by_kind"] == {"mention": 11, "reply": 1, "quote": 1}
    assert len(_json(run("inbox", "-f", "json", cwd=root))["items"]) == 63
    assert _json(run("inbox", "pull", "--format", "json", cwd=root))["accounts"][0]["new"] == 0
    pages = [r.status for r in x.requests if r.path.endswith("/mentions")][before:]
    assert pages == [200, 500, 200, 200, 200]  # cut; the rest from the cursor, then the top


def test_the_x_reader_asks_5_to_100_a_page(engaged: Engaged) -> None:
    """X takes ``max_results`` 5 to 100: one item a page is asked as 5."""
    from eduadvocate.campaign.workspace import load_config
    from eduadvocate.platforms.x.client import XPublisher

    publisher = XPublisher(load_config(str(engaged.root / "config.yaml")).accounts["x-main"])
    try:
        crowd = engaged.x.add_account("crowd")
        for n in range(4):
            engaged.x.add_post(crowd, f"@springfieldpta {n}")
        seen, cursor, sizes = [], None, []
        for _ in range(10):
            page = publisher.inbox(cursor, 1)
            sizes.append(len(page.items))
            seen += [i.remote_id for i in page.items]
            if page.cursor is None:
                break
            cursor = page.cursor
    finally:
        publisher.close()
    assert sizes == [5, 2] and len(set(seen)) == 7
    big = publisher.inbox(None, 1000)
    assert len(big.items) == 7 and big.cursor is None


def _tier_campaign(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch, x: XFake, main_tier: str
) -> Path:
    """Two X accounts: x-main on the free tier at X (``main_tier`` in the config), x-union on
    Basic with an OAuth 2.0 token; someone mentions both."""
    main = x.add_account("springfieldpta", tier="free")
    union = x.add_account("union")
    ally = x.add_account("ally")
    x.add_post(ally, "@springfieldpta @union thank you both")
    for name, value in credentials_env(main).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("X_UNION_TOKEN", union.oauth2_token)
    config = (
        "defaults: {timezone: UTC, accounts: [x-main, x-union]}\naccounts:\n"
        f"  x-main:\n    platform: x\n    tier: {main_tier}\n{X_CONFIG_KEYS}"
        f"    base_url: {x.base_url}\n"
        "  x-union: {platform: x, tier: basic, oauth2_token: '${X_UNION_TOKEN}',"
        f" base_url: '{x.base_url}'}}\n"
    )
    return make_campaign(POSTS, config=config)


def test_the_free_tier_is_one_line_naming_it_and_the_other_accounts_are_read(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    with XFake() as x:
        root = _tier_campaign(make_campaign, monkeypatch, x, "free")
        pulled = run("inbox", "pull", cwd=root)
        assert pulled.returncode == 0, pulled.stdout + pulled.stderr  # a refusal is no error
        assert pulled.stderr == ""
        assert pulled.stdout.splitlines() == [
            "refused x-main: X's free API tier cannot read mentions (403 client-not-enrolled):"
            " move the app to Basic or above in the developer portal, then set `tier: basic` in"
            " the account's config. Asked again at the next pull.",
            "x-union: 1 new (1 mention)",
        ]
        report = {
            a["account"]: a for a in _json(run("inbox", "pull", "-f", "json", cwd=root))["accounts"]
        }
        assert report["x-main"]["refused"].startswith("X's free API tier cannot read mentions")
        assert report["x-main"]["failed"] is None and report["x-main"]["new"] == 0
        assert report["x-union"] == report["x-union"] | {"refused": None, "failed": None}

        x.set_tier("springfieldpta", "basic")  # upgraded: the next pull reads it
        after = _json(run("inbox", "pull", "-f", "json", cwd=root))["accounts"]
        assert [(a["account"], a["new"], a["refused"]) for a in after] == [
            ("x-main", 1, None),
            ("x-union", 0, None),
        ]


def test_a_refusal_although_the_config_says_basic_says_where_to_look(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    with XFake() as x:
        root = _tier_campaign(make_campaign, monkeypatch, x, "basic")
        pulled = run("inbox", "pull", "--account", "x-main", cwd=root)
        assert pulled.returncode == 0 and pulled.stderr == ""
        assert pulled.stdout.splitlines() == [
            "refused x-main: X refused to read mentions (403 client-not-enrolled) although the"
            " config says `tier: basic`: check the app's access level in the developer portal."
            " Asked again at the next pull."
        ]
        narrow = run("inbox", "pull", "--account", "x-main", cwd=root, env={"COLUMNS": "60"})
        assert narrow.stdout == pulled.stdout  # one line at any width: the terminal wraps it


def test_a_rate_limit_stops_the_account_for_this_pull(engaged: Engaged) -> None:
    engaged.x.inject("GET", MENTIONS, "429", reset_in=600)
    limited = run("inbox", "pull", cwd=engaged.root)
    assert limited.returncode == 5
    (line,) = limited.stdout.splitlines()
    assert line.startswith("failed x-main: rate-limited until ")
    assert line.endswith("(the next pull resumes where this one stopped)")
    assert _json(run("inbox", "pull", "-f", "json", cwd=engaged.root))["accounts"][0]["new"] == 3


def test_no_credential_is_printed_or_stored(engaged: Engaged) -> None:
    """Reading, refused, rate-limited, with a wrong key, and an error that quotes the request."""
    x, root, account = engaged.x, engaged.root, engaged.account
    seen: list[str] = []

    def pull(env: dict[str, str] | None = None) -> None:
        for fmt in ("text", "json"):
            result = run("inbox", "pull", "--format", fmt, cwd=root, env=env)
            seen.extend([result.stdout, result.stderr])

    pull()
    x.set_tier(account, "free")
    pull()
    x.set_tier(account, "basic")
    x.inject("GET", MENTIONS, "429", times=2)
    pull()
    pull({"X_SECRET": "wrong-consumer-secret-value"})
    x.inject("GET", MENTIONS, "error", status=400, times=2)
    pull()
    seen.append(run("inbox", "-f", "json", cwd=root).stdout)
    seen.append((root / ".eduadvocate" / "ledger.sqlite3").read_bytes().decode("latin-1"))
    secrets = {
        "consumer_key": account.consumer_key,
        "consumer_secret": account.consumer_secret,
        "access_token": account.access_token,
        "access_token_secret": account.access_token_secret,
        "wrong": "wrong-consumer-secret-value",
    }
    leaks = [
        f"{name} ({form_name})"
        for name, value in secrets.items()
        for form_name, form in _forms(value).items()
        for text in seen
        if form in text
    ]
    assert leaks == []
    assert any("refused x-main" in text for text in seen)  # each situation was reached
    assert any("rate-limited" in text for text in seen)
    assert any("refused the credentials" in text for text in seen)


IDS = st.integers(min_value=1, max_value=2**62).map(str)


@st.composite
def mentions(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A post of the mentions timeline as X sends it, with the text before X escaped it."""
    text = draw(st.text(max_size=40))
    tweet: dict[str, Any] = {
        "id": draw(IDS),
        "text": html.escape(text, quote=False),
        "author_id": "7",
    }
    if draw(st.booleans()):  # asked for; without it, the time is read from the id
        tweet["created_at"] = "2026-12-06T11:46:02.000Z"
    refs = draw(st.lists(st.sampled_from(["replied_to", "quoted"]), unique=True, max_size=2))
    if refs:
        tweet["referenced_tweets"] = [{"type": kind, "id": draw(IDS)} for kind in refs]
    if "replied_to" in refs:
        tweet["in_reply_to_user_id"] = draw(st.sampled_from(["1", "2"]))
        tweet["conversation_id"] = draw(IDS)
    return tweet, text


@settings(max_examples=300, deadline=None)
@given(mentions(), st.booleans())
def test_every_mention_is_one_kind_answering_what_it_references(
    drawn: tuple[dict[str, Any], str], author_known: bool
) -> None:
    """The kind rule for any shape of post: a reply to one of ours (user "1") is a reply, else
    a quote is a quote, else a mention; what it answers is the post it references; X's escaping
    is undone exactly once; the author is linked only when X named them."""
    from eduadvocate.platforms.x.client import incoming

    tweet, text = drawn
    users = {"7": {"id": "7", "username": "ally", "name": "An Ally"}} if author_known else {}
    item = incoming(tweet, users, "1")
    refs = {r["type"]: r["id"] for r in tweet.get("referenced_tweets", [])}
    ours = "replied_to" in refs and tweet.get("in_reply_to_user_id") == "1"
    expected = "reply" if ours else "quote" if "quoted" in refs else "mention"
    assert item.kind == expected
    assert item.answers == (refs["quoted"] if expected == "quote" else refs.get("replied_to"))
    assert item.root == tweet.get("conversation_id")
    assert item.text == text
    assert item.created_at.utcoffset() == timedelta(0)
    if "created_at" in tweet:
        assert item.created_at == datetime(2026, 12, 6, 11, 46, 2, tzinfo=UTC)
    assert item.url == f"https://x.com/{'ally' if author_known else 'i'}/status/{tweet['id']}"
    assert item.author_url == ("https://x.com/ally" if author_known else None)


def test_who_reposted_a_campaign_post_is_pulled_as_reposts_for_people_suggest(
    engaged: Engaged,
) -> None:
    """X lists no reposts among mentions: each published post's retweeters are read
    (``retweeted_by``), stored handled (a repost asks no answer), and counted by ``people
    suggest``; pulling twice adds nothing."""
    x, root = engaged.x, engaged.root
    carol = x.add_account("carol", name="Carol")
    for who in (engaged.ally, carol):
        x.add_retweet(who, engaged.ours)
    pulled = _json(run("inbox", "pull", "--format", "json", cwd=root))["accounts"][0]
    assert pulled["by_kind"] == {"reply": 1, "mention": 1, "quote": 1, "repost": 2}
    items = _json(run("inbox", "--format", "json", cwd=root))["items"]
    reposts = {i["author"]["handle"]: i for i in items if i["kind"] == "repost"}
    assert set(reposts) == {"ally", "carol"}
    for item in reposts.values():
        assert item["answers"]["post"] == "levy" and item["handled_by"] == "inbox pull"
        assert item["url"] == f"https://x.com/{item['author']['handle']}"
    suggested = _json(run("people", "suggest", "--format", "json", cwd=root))["amplifiers"]
    ally = next(a for a in suggested if a["handle"] == "ally")
    assert ally["counts"]["repost"] == 1 and ally["total"] == 4
    again = _json(run("inbox", "pull", "--format", "json", cwd=root))["accounts"][0]
    assert again["new"] == 0
