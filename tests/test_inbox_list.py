"""``eduadvocate inbox`` listing a long inbox: the text view shows the first 50 items (``--limit``
says otherwise, 0 for all) and says how many more there are, while ``--format json`` gives every
item unless asked. A limited listing reads only the first groups' first items from the ledger
(cli/inbox.py ``first``), so it must be exactly the start of the whole listing (``whole``):
a property test holds the two to one order."""

from __future__ import annotations

import json
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eduadvocate.cli.inbox import TEXT_LIMIT, Filters, first, whole
from eduadvocate.ledger import open_ledger
from eduadvocate.ledger.base import Desired, InboxItem, Ledger, State
from tests.conftest import Make
from tests.test_cli import run

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def item(n: int, account: str, delivery: int | None, minutes: int) -> InboxItem:
    return InboxItem(
        platform="bluesky",
        account=account,
        remote_id=f"at://ally/{n}",
        kind="reply" if delivery else "mention",
        author_handle="ally.test",
        author_name=None,
        author_url=None,
        text=f"item {n}",
        url=f"https://bsky.app/profile/ally.test/post/{n}",
        created_at=T0 + timedelta(minutes=minutes),
        answers_remote_id=None,
        delivery_id=delivery,
        part_index=0 if delivery else None,
    )


def deliveries(ledger: Ledger) -> list[int]:
    """Three published deliveries: two occurrences of one recurring post on account a (one
    title, "levy on a"), and a post on account b."""
    ledger.sync(
        [
            Desired("levy", "a", "bluesky", T0, "h", repeats=True),
            Desired("levy", "a", "bluesky", T0 + timedelta(days=1), "h", repeats=True),
            Desired("budget", "b", "bluesky", T0, "h"),
        ],
        T0,
    )
    ids = []
    for d in ledger.claim_due("w", T0 + timedelta(days=2), LEASE, limit=10):
        ledger.record_part(d.id, 0, f"at://us/{d.id}", None, T0)
        ledger.finish(d.id, "w", State.PUBLISHED, T0, published_hash="h")
        ids.append(d.id)
    assert len(ids) == 3
    return sorted(ids)


ITEM = st.tuples(
    st.sampled_from(["a", "b"]),  # account
    st.integers(0, 3),  # 0: about no campaign post, else the n-th delivery
    st.integers(0, 5),  # minutes after T0: ties are common
    st.booleans(),  # handled
)


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(ITEM, max_size=25),
    limit=st.integers(1, 30),
    unhandled=st.booleans(),
    account=st.sampled_from([None, "a", "b"]),
)
def test_a_limited_listing_is_the_start_of_the_whole_one(
    items: list[tuple[str, int, int, bool]], limit: int, unhandled: bool, account: str | None
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        ledger = open_ledger(str(Path(folder) / "ledger.sqlite3"), Path(folder))
        try:
            ids = [None, *deliveries(ledger)]
            stored = [item(n, acc, ids[d], m) for n, (acc, d, m, _) in enumerate(items)]
            ledger.add_inbox_page(stored, T0, account="a", source="n", cursor=None)
            handled = [r.id for r in ledger.inbox() if items[int(r.item.text.split()[1])][3]]
            ledger.mark_handled(handled, T0 + timedelta(hours=1), "sam")
            filters = Filters(account, None, unhandled, None)
            everything, _ = whole(ledger, filters)
            some, _ = first(ledger, filters, limit)
        finally:
            ledger.close()
    flat = [(g.title, r.id) for g in everything for r in g.rows]
    assert [(g.title, r.id) for g in some for r in g.rows] == flat[:limit]
    counts = {g.title: (g.items, g.waiting, g.total) for g in everything}
    assert all(counts[g.title] == (g.items, g.waiting, g.total) for g in some)


POSTS = """\
posts:
  - id: levy
    at: now
    text: "The levy vote is Tuesday."
"""


@pytest.fixture
def long_inbox(make_campaign: Make) -> Path:
    """A campaign whose ledger holds 120 mentions (none about a campaign post)."""
    root = make_campaign(POSTS, config="accounts:\n  bsky: {platform: bluesky, handle: a.test}\n")
    ledger = open_ledger(str(root / ".eduadvocate" / "ledger.sqlite3"), root)
    try:
        page = [item(n, "bsky", None, n) for n in range(120)]
        ledger.add_inbox_page(page, T0, account="bsky", source="n", cursor=None)
    finally:
        ledger.close()
    return root


def posts(listing: str) -> list[int]:
    """The items a text listing shows, by the number in their link."""
    return [int(n) for n in re.findall(r"ally\.test/post/(\d+)", listing)]


def test_the_text_listing_shows_the_first_items_and_says_how_many_more(long_inbox: Path) -> None:
    shown = run("inbox", cwd=long_inbox)
    assert shown.returncode == 0, shown.stderr
    assert posts(shown.stdout) == list(range(119, 119 - TEXT_LIMIT, -1))  # the newest first
    assert (
        f"Not about a campaign post · 120 items to answer (the first {TEXT_LIMIT} shown)"
        in shown.stdout
    )
    assert (
        shown.stdout.rstrip()
        .splitlines()[-1]
        .startswith(
            f"{120 - TEXT_LIMIT} more items not shown (120 in all): `--limit 0` shows every one"
        )
    )
    assert posts(run("inbox", "list", "--limit", "3", cwd=long_inbox).stdout) == [119, 118, 117]
    every = run("inbox", "-n", "0", cwd=long_inbox)
    assert posts(every.stdout) == list(range(119, -1, -1))
    assert "not shown" not in every.stdout and "shown)" not in every.stdout


def test_json_gives_every_item_unless_limited(long_inbox: Path) -> None:
    listed = run("inbox", "--format", "json", cwd=long_inbox)
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)["items"]) == 120
    some = json.loads(run("inbox", "-f", "json", "--limit", "7", cwd=long_inbox).stdout)["items"]
    assert [i["text"] for i in some] == [f"item {n}" for n in range(119, 112, -1)]
    wrong = run("inbox", "--limit", "-1", cwd=long_inbox)
    assert wrong.returncode == 2 and wrong.stderr.endswith(
        "Error: Invalid value for '--limit' / '-n': -1 is not in the range x>=0.\n"
    )  # Click's usage error, as every option's (tests/test_usage_errors.py)
