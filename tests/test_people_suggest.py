"""``eduadvocate people suggest``: who amplifies the campaign, from the inbox in the ledger.

End to end on the loopback Mastodon (a campaign status, another account replies, mentions and
boosts it, ``inbox pull``), and with items written through the ledger's own ``add_inbox_page``
for the ranking's edge cases: handles matched to people.yaml as the platforms compare them,
``--since``, ``--platform``, ``--limit``, the widths, and the yaml snippet that ``check``
accepts once pasted. A hypothesis property holds the counting and the order."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eduadvocate.content.model import Person
from eduadvocate.core.errors import Location
from eduadvocate.ledger import open_ledger
from eduadvocate.ledger.base import Desired, InboxItem
from eduadvocate.metrics.amplifiers import KINDS, amplifiers, person_key
from tests.conftest import Make
from tests.fakes.mastodon import MastodonFake
from tests.test_cli import run

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
POSTS = """\
posts:
  - id: levy
    at: now
    text: "The levy vote is Tuesday. #FundOurSchools"
"""


def _json(result: Any) -> Any:
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def said(
    remote_id: str,
    handle: str,
    kind: str = "reply",
    *,
    platform: str = "bluesky",
    account: str = "bsky",
    at: datetime = NOW - timedelta(days=1),
    name: str | None = None,
    delivery: int | None = None,
) -> InboxItem:
    return InboxItem(
        platform=platform,
        account=account,
        remote_id=remote_id,
        kind=kind,
        author_handle=handle,
        author_name=name,
        author_url=f"https://example.org/{handle}",
        text="",
        url=None,
        created_at=at,
        delivery_id=delivery,
        part_index=0 if delivery else None,
    )


def _fill(root: Path, items: list[InboxItem]) -> None:
    ledger = open_ledger(".eduadvocate/ledger.sqlite3", root)
    try:
        ledger.sync([Desired("levy", "bsky", "bluesky", NOW - timedelta(days=3), "h")], NOW)
        by_account: dict[str, list[InboxItem]] = {}
        for it in items:
            by_account.setdefault(it.account, []).append(it)
        for account, page in by_account.items():
            ledger.add_inbox_page(page, NOW, account=account, source="n", cursor=None)
    finally:
        ledger.close()


# -- end to end on the loopback Mastodon -------------------------------------------------------


@pytest.fixture
def engaged(
    make_campaign: Make, mastodon_fresh: MastodonFake, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv("MASTO_TOKEN", mastodon_fresh.token)
    config = (
        "defaults: {timezone: America/Chicago, accounts: [masto]}\n"
        "accounts:\n"
        f"  masto: {{platform: mastodon, instance: '{mastodon_fresh.base_url}',"
        " access_token: '${MASTO_TOKEN}'}\n"
    )
    root = make_campaign(POSTS, config=config)
    published = run("publish", cwd=root)
    assert published.returncode == 0, published.stdout + published.stderr
    (ours,) = mastodon_fresh.statuses()
    ally = mastodon_fresh.client(mastodon_fresh.token2)
    ally.status_post("@advocate Voting yes!", in_reply_to_id=ours.id)
    ally.status_post("Thanks to @advocate")
    ally.status_reblog(ours.id)
    ally.status_favourite(ours.id)  # a favourite is a count, not an item: not here
    pulled = run("inbox", "pull", cwd=root)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    return root


def test_the_pulled_inbox_ranks_the_ally_and_the_snippet_pastes_into_people_yaml(
    engaged: Path,
) -> None:
    root = engaged
    host = "127.0.0.1"  # the loopback instance's: a local account is named without its server
    got = _json(run("people", "suggest", "--format", "json", cwd=root))
    assert got["version"] == 1 and got["accounts"] == 1 and got["since"] is None
    (ally,) = got["amplifiers"]
    assert ally["platform"] == "mastodon" and ally["handle"] == f"ally@{host}"
    assert ally["total"] == 3 and ally["posts"] == 1 and ally["person"] is None
    assert ally["counts"] == {"repost": 1, "quote": 0, "reply": 1, "mention": 1, "comment": 0}
    assert ally["first_seen"] <= ally["last_seen"]

    text = run("people", "suggest", cwd=root, env={"COLUMNS": "60"})  # one block each
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("1 account engaged; 0 already in people.yaml.\n")
    assert f"ally@{host}" in text.stdout and "1 repost, 1 reply, 1 mention" in text.stdout
    assert "not yet" in text.stdout

    snippet = run("people", "suggest", "--format", "yaml", cwd=root)
    assert snippet.returncode == 0, snippet.stderr
    people = root / "people.yaml"
    people.write_text(people.read_text() + "\n" + snippet.stdout)
    checked = run("check", cwd=root)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    (now_known,) = _json(run("people", "suggest", "-f", "json", cwd=root))["amplifiers"]
    assert now_known["person"] is not None and now_known["person"] in people.read_text()
    again = run("people", "suggest", "--format", "yaml", cwd=root)
    assert again.stdout == "# Everyone listed is in people.yaml already.\n"


# -- through the ledger ------------------------------------------------------------------------

CONFIG = """\
defaults:
  timezone: UTC
  accounts: [bsky]
accounts:
  bsky: {platform: bluesky, handle: pta.bsky.social}
  masto: {platform: mastodon, instance: https://mastodon.education}
  x-main: {platform: x, username: DistrictPTA}
"""
PEOPLE = """\
lopez:
  name: Chair Maria Lopez
  bluesky: lopez.bsky.social
  mastodon: lopez@mastodon.education
an-ally:
  name: Someone Else
  x: SomeoneElse
"""


@pytest.fixture
def campaign(make_campaign: Make) -> Path:
    return make_campaign(POSTS, config=CONFIG, people=PEOPLE)


def test_handles_match_people_yaml_as_the_platforms_compare_them(campaign: Path) -> None:
    _fill(
        campaign,
        [
            said("1", "@Lopez.BSKY.social", "repost", delivery=1),
            said("2", "lopez.bsky.social", "quote", delivery=1),
            # Mastodon names an account of the instance itself without the server.
            said("3", "lopez", "mention", platform="mastodon", account="masto"),
            said("4", "@lopez@Mastodon.Education", "reply", platform="mastodon", account="masto"),
            said("5", "lopez@other.example", "reply", platform="mastodon", account="masto"),
            said("6", "pta.bsky.social", "mention"),  # the campaign's own account: never counted
            said("7", "@districtpta", "mention", platform="x", account="x-main"),  # nor this
        ],
    )
    got = _json(run("people", "suggest", "-f", "json", cwd=campaign))["amplifiers"]
    assert [(a["platform"], a["handle"], a["total"], a["person"]) for a in got] == [
        ("bluesky", "lopez.bsky.social", 2, "lopez"),
        ("mastodon", "lopez@Mastodon.Education", 2, "lopez"),
        ("mastodon", "lopez@other.example", 1, None),
    ]
    assert got[0]["posts"] == 1 and got[1]["posts"] == 0


def test_ranked_by_total_then_last_seen_with_since_platform_and_limit(campaign: Path) -> None:
    day = timedelta(days=1)
    _fill(
        campaign,
        [
            said("a1", "old.bsky.social", at=NOW - 20 * day),
            said("a2", "old.bsky.social", at=NOW - 19 * day),
            said("b1", "new.bsky.social", at=NOW - 2 * day),
            said("c1", "newer.bsky.social", "repost", at=NOW - day),
            said("m1", "someone@mastodon.social", platform="mastodon", account="masto"),
        ],
    )

    def order(*args: str) -> list[str]:
        got = _json(run("people", "suggest", "-f", "json", *args, cwd=campaign))
        return [a["handle"] for a in got["amplifiers"]]

    assert order() == [
        "old.bsky.social",
        "newer.bsky.social",
        "someone@mastodon.social",
        "new.bsky.social",
    ]
    assert order("--since", "7d") == [
        "newer.bsky.social",
        "someone@mastodon.social",
        "new.bsky.social",
    ]
    assert order("--platform", "mastodon") == ["someone@mastodon.social"]
    assert order("--limit", "2") == ["old.bsky.social", "newer.bsky.social"]
    limited = run("people", "suggest", "-n", "2", cwd=campaign, env={"COLUMNS": "120"})
    assert "2 more: --limit 0 shows all." in limited.stdout
    wrong = run("people", "suggest", "--platform", "blusky", cwd=campaign)
    assert wrong.returncode == 2
    assert (
        wrong.stderr == 'eduadvocate: error: unknown platform "blusky". did you mean "bluesky"?\n'
    )


def test_an_empty_inbox_says_how_to_fill_it(campaign: Path) -> None:
    shown = run("people", "suggest", cwd=campaign)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count("\n") == 1 and "`eduadvocate inbox pull`" in shown.stdout
    assert _json(run("people", "suggest", "-f", "json", cwd=campaign))["amplifiers"] == []
    none_there = run("people", "suggest", "--platform", "mastodon", cwd=campaign)
    assert none_there.stdout == (
        "No mastodon items in the inbox: `eduadvocate inbox pull` fetches them.\n"
    )
    yaml = run("people", "suggest", "-f", "yaml", cwd=campaign)
    assert yaml.returncode == 0 and yaml.stdout.startswith("# The inbox is empty")
    _fill(campaign, [said("a", "old.bsky.social", at=NOW - timedelta(days=30))])
    quiet = run("people", "suggest", "--since", "7d", cwd=campaign)
    assert quiet.returncode == 0 and quiet.stdout.startswith("No account engaged since ")
    assert quiet.stdout.count("\n") == 1


def test_the_snippet_makes_valid_unique_keys_and_check_accepts_it(campaign: Path) -> None:
    """Names that clash with each other and with people.yaml's keys, names with no ASCII
    letters, a name with a line break and quotes, and a handle the platform would refuse."""
    _fill(
        campaign,
        [
            said("1", "ally.bsky.social", name="An Ally"),
            said("2", "ally2.bsky.social", name="An  Ally!"),
            said("3", "lopez2.bsky.social", name="Lopez"),
            said("4", "kanji.bsky.social", name="学校"),
            said("5", "odd.bsky.social", name='Line\nbreak "quoted" \u202eName'),
            said("6", "not a handle", name="Broken Handle"),
            said("7", "ally", platform="mastodon", account="masto", name="An Ally"),
        ],
    )
    snippet = run("people", "suggest", "--format", "yaml", cwd=campaign)
    assert snippet.returncode == 0, snippet.stderr
    keys = re.findall(r"^([^\s#][^:]*):$", snippet.stdout, re.MULTILINE)
    assert sorted(keys) == [
        "an-ally-2",  # an-ally is people.yaml's already
        "an-ally-3",
        "an-ally-4",
        "broken-handle",
        "line-break-quoted-name",
        "lopez-2",
        "person",  # nothing of 学校 is left in ASCII
    ]
    assert '  mastodon: "ally@mastodon.education"' in snippet.stdout
    assert "  # bluesky: not a handle (" in snippet.stdout
    people = campaign / "people.yaml"
    people.write_text(people.read_text() + "\n" + snippet.stdout)
    checked = run("check", cwd=campaign)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    known = _json(run("people", "suggest", "-f", "json", "-n", "0", cwd=campaign))["amplifiers"]
    assert [a["handle"] for a in known if a["person"] is None] == ["not a handle"]


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_the_table_fits_the_width(campaign: Path, columns: int) -> None:
    kinds = ["repost", "quote", "reply", "mention", "comment"]
    _fill(
        campaign,
        [
            said(f"{n}", f"amplifier-number-{n % 3}.bsky.social", kinds[n % 5], delivery=1)
            for n in range(12)
        ]
        + [said("l", "lopez.bsky.social", name="Chair Maria Lopez")],
    )
    shown = run("people", "suggest", cwd=campaign, env={"COLUMNS": str(columns)})
    assert shown.returncode == 0, shown.stderr
    assert "lopez" in shown.stdout and "not yet" in shown.stdout
    for line in shown.stdout.splitlines():
        assert len(line) <= columns or len(line.split()) == 1, line
    assert "…" not in shown.stdout


# -- the counting, as a property ----------------------------------------------------------------

T0 = datetime(2026, 11, 1, tzinfo=UTC)
items = st.lists(
    st.builds(
        lambda n, who, kind, platform, hours, delivery: said(
            str(n),
            who,
            kind,
            platform=platform,
            account=platform,
            at=T0 + timedelta(hours=hours),
            delivery=delivery,
        ),
        st.integers(0, 10**6),
        st.sampled_from(["a.test", "@A.test", "b.test", "c", "C@x.test", "d@x.test"]),
        st.sampled_from([*KINDS, "like"]),
        st.sampled_from(["bluesky", "mastodon"]),
        st.integers(0, 24 * 30),
        st.sampled_from([None, 1, 2]),
    ),
    max_size=40,
)
PEOPLE_MAP = {
    "a": Person("a", "A", {"bluesky": "a.test"}, Location("people.yaml", 1)),
    "c": Person("c", "C", {"mastodon": "c@x.test"}, Location("people.yaml", 4)),
}


@given(items, st.integers(0, 24 * 30))
def test_totals_are_the_kinds_since_never_adds_and_the_order_holds(
    heard: list[InboxItem], since_hours: int
) -> None:
    servers = {"mastodon": "x.test"}
    found = amplifiers(heard, PEOPLE_MAP, servers=servers)
    counted = [it for it in heard if it.kind in KINDS]
    assert sum(a.total for a in found) == len(counted)
    for a in found:
        assert a.total == sum(n for _, n in a.counts) and [k for k, _ in a.counts] == list(KINDS)
        assert a.first_seen <= a.last_seen and a.posts <= 2
    ranks = [(-a.total, -a.last_seen.timestamp()) for a in found]
    assert ranks == sorted(ranks)
    assert len({(a.platform, a.handle.casefold()) for a in found}) == len(found)
    # "@A.test" is a.test, and the local "c" on x.test is c@x.test: people.yaml's.
    assert all(a.person == ("a" if a.platform == "bluesky" else "c") for a in found if a.person)
    assert {a.person for a in found} <= {None, "a", "c"}

    since = T0 + timedelta(hours=since_hours)
    later = {
        (a.platform, a.handle.casefold()): a
        for a in amplifiers(heard, PEOPLE_MAP, since=since, servers=servers)
    }
    before = {(a.platform, a.handle.casefold()): a for a in found}
    assert set(later) <= set(before)
    for key, a in later.items():
        assert a.total <= before[key].total and a.first_seen >= since
        assert all(n <= before[key].count(kind) for kind, n in a.counts)


@given(st.text(max_size=30), st.lists(st.text(max_size=12), max_size=8))
def test_a_person_key_is_valid_and_never_one_already_taken(name: str, taken: list[str]) -> None:
    key = person_key(name, taken)
    assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", key)
    assert key.casefold() not in {t.casefold() for t in taken}


# -- the report's amplifiers: the same figures ---------------------------------------------------


def test_the_report_shows_the_same_amplifiers_in_every_format(campaign: Path) -> None:
    _fill(
        campaign,
        [
            said("1", "ally.bsky.social", "repost", delivery=1, name="An Ally"),
            said("2", "ally.bsky.social", "quote", delivery=1, name="An Ally"),
            said("3", "lopez.bsky.social", "mention"),
            said("4", "=cmd.bsky.social", "reply", name="=HYPERLINK(1)"),
        ],
    )
    suggested = _json(run("people", "suggest", "-f", "json", cwd=campaign))["amplifiers"]
    reported = _json(run("report", "-f", "json", cwd=campaign))["amplifiers"]
    assert reported == suggested and [a["total"] for a in reported] == [2, 1, 1]

    text = run("report", cwd=campaign, env={"COLUMNS": "120"})
    assert text.returncode == 0, text.stderr
    section = text.stdout[text.stdout.index("Amplifiers\n") :]
    assert "ally.bsky.social" in section and "lopez" in section and "1 repost" in section

    table = run("report", "-f", "csv", "--table", "amplifiers", cwd=campaign)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == (
        "platform,handle,name,url,total,repost,quote,reply,mention,comment,posts,"
        "first_seen,last_seen,person"
    )
    assert lines[1].startswith("bluesky,ally.bsky.social,An Ally,https://example.org/ally")
    assert ",2,1,1,0,0,0,1," in lines[1]
    assert "'=cmd.bsky.social,'=HYPERLINK(1)," in table.stdout  # never a formula
    # --campaign: only what they did about that campaign's posts (mentions are about none).
    mine = _json(run("report", "-f", "json", "--campaign", "(no campaign)", cwd=campaign))
    assert [a["handle"] for a in mine["amplifiers"]] == ["ally.bsky.social"]
    other = _json(run("report", "-f", "json", "--campaign", "Other", cwd=campaign))
    assert other["amplifiers"] == []
    posts = run("report", "-f", "csv", cwd=campaign)
    assert posts.stdout.startswith("delivery,post,")  # the posts table, as before

    wrong = run("report", "--table", "amplifiers", cwd=campaign)
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1
    assert "--table amplifiers goes with --format csv" in wrong.stderr


def test_the_report_says_in_one_line_when_no_one_amplified(campaign: Path) -> None:
    shown = run("report", cwd=campaign)
    assert shown.returncode == 0, shown.stderr
    tail = shown.stdout[shown.stdout.index("Amplifiers\n") :].splitlines()
    assert tail == [
        "Amplifiers",
        "None yet: `eduadvocate inbox pull` fetches who reposts, quotes, replies to and mentions"
        " the campaign's accounts.",
    ]
    assert _json(run("report", "-f", "json", cwd=campaign))["amplifiers"] == []
