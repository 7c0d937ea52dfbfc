"""The inbox pull's walk over pages (eduadvocate.metrics.inbox), against a Publisher that serves
a list of items in pages as a platform does (newest first, an opaque cursor): items stored once,
matched to the campaign's published parts, and a pull cut off half-way resumed from its cursor."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eduadvocate.ledger import open_ledger
from eduadvocate.ledger.base import Desired, Ledger, State
from eduadvocate.metrics.inbox import AccountInbox, pull_inbox
from eduadvocate.platforms.publishing import (
    InboxPage,
    InboxUnsupported,
    Incoming,
    OutgoingPart,
    Published,
    Publisher,
    RateLimited,
    Transient,
)

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OURS = "at://did:plc:us/app.bsky.feed.post/ours"


class Listing(Publisher):
    """A platform's inbox: ``items`` newest first, served ``limit`` at a time; the cursor is
    the index of the next item. ``fail_at``: the call number that fails (a dropped connection)."""

    inbox_source = "notifications"

    def __init__(self, items: list[Incoming], fail_at: int | None = None) -> None:
        self.items = items
        self.fail_at = fail_at
        self.calls: list[str | None] = []

    def inbox(self, cursor: str | None, limit: int) -> InboxPage:
        self.calls.append(cursor)
        if self.fail_at is not None and len(self.calls) == self.fail_at:
            raise Transient("the connection broke")
        start = int(cursor or 0)
        end = start + limit
        return InboxPage(self.items[start:end], str(end) if end < len(self.items) else None)

    def publish(self, part: OutgoingPart) -> Published:
        raise NotImplementedError

    def lookup(self, part: OutgoingPart, since: datetime) -> Published | None:
        raise NotImplementedError


def said(n: int, kind: str = "reply", answers: str | None = None) -> Incoming:
    return Incoming(
        remote_id=f"at://did:plc:ally/app.bsky.feed.post/{n}",
        kind=kind,
        author_handle="ally.test",
        author_name="Ally",
        author_url="https://bsky.app/profile/ally.test",
        text=f"item {n}",
        url=f"https://bsky.app/profile/ally.test/post/{n}",
        created_at=T0 + timedelta(minutes=n),
        answers=answers,
    )


def newest_first(ns: Sequence[int]) -> list[Incoming]:
    return [said(n) for n in sorted(ns, reverse=True)]


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    backend = open_ledger(str(tmp_path / "ledger.sqlite3"), tmp_path)
    yield backend
    backend.close()


def pull(ledger: Ledger, publisher: Publisher) -> list[AccountInbox]:
    return pull_inbox(ledger, lambda name: publisher, {"bsky": ("bluesky", True)}, T0, page_size=3)


def test_a_first_pull_reads_every_page_and_a_second_adds_nothing(ledger: Ledger) -> None:
    listing = Listing(newest_first(range(1, 8)))
    (first,) = pull(ledger, listing)
    assert len(first.new) == 7 and first.failed is None
    assert listing.calls == [None, "3", "6"]
    listing.calls.clear()
    (second,) = pull(ledger, listing)
    assert second.new == [] and listing.calls == [None]  # the first page is known: stop
    assert len(ledger.inbox()) == 7


def test_a_later_pull_stops_at_the_first_page_it_already_has(ledger: Ledger) -> None:
    listing = Listing(newest_first(range(1, 8)))
    pull(ledger, listing)
    listing.items = newest_first(range(1, 13))  # five new ones on top
    listing.calls.clear()
    (later,) = pull(ledger, listing)
    assert sorted(i.text for i in later.new) == [f"item {n}" for n in (10, 11, 12, 8, 9)]
    assert listing.calls == [None, "3"]
    assert ledger.inbox_cursor("bsky", "notifications") is None


def test_a_pull_cut_off_resumes_from_its_cursor(ledger: Ledger) -> None:
    listing = Listing(newest_first(range(1, 11)), fail_at=3)
    (cut,) = pull(ledger, listing)
    assert cut.failed == "transient: the connection broke"
    assert len(cut.new) == 6  # two pages stored before the third call failed
    assert ledger.inbox_cursor("bsky", "notifications") == "6"
    listing.fail_at = None
    listing.calls.clear()
    (resumed,) = pull(ledger, listing)
    assert listing.calls == ["6", "9", None]  # the older pages first, then the newest again
    assert sorted(int(i.text.split()[1]) for i in resumed.new) == [1, 2, 3, 4]
    assert len(ledger.inbox()) == 10
    assert ledger.inbox_cursor("bsky", "notifications") is None


def test_items_are_tied_to_the_campaign_part_they_answer(ledger: Ledger) -> None:
    ledger.sync([Desired("levy", "bsky", "bluesky", T0, "h")], T0)
    (d,) = ledger.claim_due("w", T0, timedelta(minutes=5))
    ledger.record_part(d.id, 0, OURS, "https://bsky.app/profile/us/post/ours", T0)
    ledger.finish(d.id, "w", State.PUBLISHED, T0, published_hash="h")
    reply_in_thread = replace(said(3), root=OURS)  # a reply to a reply, in our post's thread
    items = [said(1, answers=OURS), said(2, "mention"), reply_in_thread]
    pull(ledger, Listing(items))
    got = {r.item.text: (r.item.delivery_id, r.item.part_index) for r in ledger.inbox()}
    assert got == {"item 1": (d.id, 0), "item 2": (None, None), "item 3": (d.id, 0)}


def test_an_account_whose_platform_has_no_inbox_yet_is_not_asked(ledger: Ledger) -> None:
    def connect(name: str) -> Publisher:
        raise AssertionError("not connected")

    (x,) = pull_inbox(ledger, connect, {"x-main": ("x", False)}, T0)
    assert x.unsupported and x.failed is None and x.new == []


class Threads(Listing):
    """A platform with no notifications list whose posts' replies are read one post at a
    time (as Facebook's comments are); ``threads`` maps a post to its replies, in pages."""

    reads_replies = True

    def __init__(self, threads: dict[str, list[Incoming]]) -> None:
        super().__init__([])
        self.threads = threads
        self.asked: list[tuple[str, str | None]] = []

    def inbox(self, cursor: str | None, limit: int) -> InboxPage:
        raise InboxUnsupported("no notifications here")

    def replies(self, target: str, cursor: str | None, limit: int) -> InboxPage:
        self.asked.append((target, cursor))
        start = int(cursor or 0)
        end = start + limit
        items = self.threads.get(target, [])
        return InboxPage(items[start:end], str(end) if end < len(items) else None)


def published(ledger: Ledger, post: str, *remote_ids: str) -> int:
    ledger.sync([Desired(post, "bsky", "bluesky", T0, "h")], T0)
    (d,) = ledger.claim_due("w", T0, timedelta(minutes=5))
    for index, remote in enumerate(remote_ids):
        ledger.record_part(d.id, index, remote, None, T0)
    ledger.finish(d.id, "w", State.PUBLISHED, T0, published_hash="h")
    return d.id


def test_replies_under_each_published_post_are_read_to_the_end_every_pull(ledger: Ledger) -> None:
    first = published(ledger, "levy", "p1", "p1-2")
    second = published(ledger, "budget", "p2")
    own_part = replace(said(9), remote_id="p1-2")  # our own thread's second part: not an item
    on_part_two = replace(said(5), answers="p1-2")
    threads = {"p1": [said(1, answers="p1"), own_part, on_part_two, said(4, answers="p1")]}
    threads["p2"] = [said(2, answers="p2")]
    platform = Threads(threads)
    (got,) = pull(ledger, platform)
    assert not got.unsupported and got.failed is None
    assert platform.asked == [("p2", None), ("p1", None), ("p1", "3")]  # newest post first
    tied = {r.item.text: (r.item.delivery_id, r.item.part_index) for r in ledger.inbox()}
    assert tied == {
        "item 1": (first, 0),
        "item 5": (first, 1),
        "item 4": (first, 0),
        "item 2": (second, 0),
    }
    threads["p1"].append(said(6, answers="p1"))  # a new comment at the end of a long list
    (again,) = pull(ledger, platform)
    assert [i.text for i in again.new] == ["item 6"]


def test_a_pull_stopped_among_the_posts_goes_on_from_that_post_next_time(ledger: Ledger) -> None:
    """One request a post: a campaign with more posts than a rate-limit window allows must not
    start every pull again from the newest post, or the older posts' replies are never read.
    The post the pull stopped at comes first next time, then the rest, the newest first."""
    for n in range(1, 6):
        published(ledger, f"post-{n}", f"p{n}")
    threads = {f"p{n}": [replace(said(n, answers=f"p{n}"), remote_id=f"r{n}")] for n in range(1, 6)}
    platform = Threads(threads)
    real = platform.replies

    def limited(target: str, cursor: str | None, limit: int) -> InboxPage:
        if len(platform.asked) == 2:
            platform.asked.append((target, cursor))
            raise RateLimited("the window is used up")
        return real(target, cursor, limit)

    platform.replies = limited  # type: ignore[method-assign]
    (first,) = pull(ledger, platform)
    assert first.failed is not None and first.failed.startswith("rate-limited")
    assert [t for t, _ in platform.asked] == ["p5", "p4", "p3"]
    platform.replies = real  # type: ignore[method-assign]
    platform.asked.clear()
    (second,) = pull(ledger, platform)
    assert second.failed is None
    assert [t for t, _ in platform.asked] == ["p3", "p2", "p1", "p5", "p4"]
    assert sorted(r.item.remote_id for r in ledger.inbox()) == [f"r{n}" for n in range(1, 6)]
    platform.asked.clear()
    pull(ledger, platform)  # a whole round went through: the newest first again
    assert [t for t, _ in platform.asked] == ["p5", "p4", "p3", "p2", "p1"]


class Died(Exception):
    """The process was killed: nothing after this call happens (the ledger keeps what it had
    committed)."""


class Flaky(Publisher):
    """Notifications (newest first, the cursor the id of the last one served, as Bluesky's and
    Mastodon's are) and the replies under each post (oldest first, new ones at the end, the
    cursor an index, as comment lists are); call number ``fail_at`` fails: a dropped
    connection, or the process dying there."""

    inbox_source = "notifications"
    reads_replies = True

    def __init__(self) -> None:
        self.notes: list[int] = []
        self.threads: dict[str, list[str]] = {"p1": ["p1-2"], "p2": []}  # p1-2: our own part
        self.calls = 0
        self.fail_at: int | None = None
        self.dies = False

    def _call(self) -> None:
        self.calls += 1
        if self.calls == self.fail_at:
            raise Died() if self.dies else Transient("the connection broke")

    def inbox(self, cursor: str | None, limit: int) -> InboxPage:
        self._call()
        older = [n for n in self.notes if cursor is None or n < int(cursor)]
        page = older[:limit]
        items = [replace(said(n, "mention"), remote_id=f"n{n}") for n in page]
        return InboxPage(items, str(page[-1]) if len(older) > limit else None)

    def replies(self, target: str, cursor: str | None, limit: int) -> InboxPage:
        self._call()
        start = int(cursor or 0)
        ids = self.threads[target][start : start + limit]
        items = [replace(said(1, answers=target), remote_id=i) for i in ids]
        end = start + limit
        return InboxPage(items, str(end) if end < len(self.threads[target]) else None)

    def publish(self, part: OutgoingPart) -> Published:
        raise NotImplementedError

    def lookup(self, part: OutgoingPart, since: datetime) -> Published | None:
        raise NotImplementedError


ATTEMPT = st.tuples(
    st.integers(1, 25),  # the call that fails
    st.booleans(),  # dies (else a Transient error)
    st.integers(0, 4),  # new notifications before this pull
    st.integers(0, 3),  # new replies under p1 before it
    st.integers(0, 2),  # and under p2
)


@settings(max_examples=60, deadline=None)
@given(
    notes=st.integers(0, 20),
    under=st.tuples(st.integers(0, 10), st.integers(0, 10)),
    attempts=st.lists(ATTEMPT, max_size=4),
)
def test_pulls_cut_off_at_any_call_end_with_every_item_exactly_once(
    notes: int, under: tuple[int, int], attempts: list[tuple[int, bool, int, int, int]]
) -> None:
    """Whatever call fails, and however (an error the pull reports, or the process killed), and
    whatever arrives between pulls, pulling again until a pull goes through leaves the ledger
    with every notification and every reply of others exactly once; one more pull adds none."""
    platform = Flaky()
    made = iter(range(1, 1000))

    def arrive(new_notes: int, new_p1: int, new_p2: int) -> None:
        platform.notes[:0] = sorted((next(made) for _ in range(new_notes)), reverse=True)
        for target, count in (("p1", new_p1), ("p2", new_p2)):
            platform.threads[target] += [f"{target}-r{next(made)}" for _ in range(count)]

    arrive(notes, *under)
    with tempfile.TemporaryDirectory() as folder:
        ledger = open_ledger(str(Path(folder) / "ledger.sqlite3"), Path(folder))
        try:
            published(ledger, "levy", "p1", "p1-2")
            published(ledger, "budget", "p2")
            for fail_at, dies, *new in attempts:
                arrive(*new)
                platform.calls, platform.fail_at, platform.dies = 0, fail_at, dies
                with contextlib.suppress(Died):  # a killed pull leaves what it committed
                    pull(ledger, platform)
            platform.fail_at = None
            (last,) = pull(ledger, platform)
            assert last.failed is None
            stored = [r.item.remote_id for r in ledger.inbox()]
            others = [i for t in platform.threads.values() for i in t if i != "p1-2"]
            assert sorted(stored) == sorted([f"n{n}" for n in platform.notes] + others)
            (again,) = pull(ledger, platform)
            assert again.new == []
        finally:
            ledger.close()
