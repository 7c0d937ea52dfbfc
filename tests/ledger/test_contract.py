"""The ledger contract: every backend passes these unchanged. PostgreSQL runs against a real
server (tests/fakes/postgres.py starts a throwaway cluster), each test in a new database."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from eduadvocate.core.counts import Counts
from eduadvocate.ledger import open_ledger
from eduadvocate.ledger.base import (
    ANSWERED_BY,
    INBOX_KINDS,
    NO_ANSWER_KINDS,
    Desired,
    InboxItem,
    LeaseLost,
    Ledger,
    LedgerError,
    Snapshot,
    State,
)

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


BACKENDS = ["sqlite", "postgres"]


def target(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty ledger of this backend: a file path or a PostgreSQL URL."""
    if backend == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return str(tmp_path / "ledger.sqlite3")


@pytest.fixture(params=BACKENDS)
def ledger_target_(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return target(request.param, request, tmp_path)


@pytest.fixture
def ledger(ledger_target_: str, tmp_path: Path) -> Iterator[Ledger]:
    backend = open_ledger(ledger_target_, tmp_path)
    yield backend
    backend.close()


def want(
    post: str = "p1", account: str = "x-main", due: datetime = T0, content: str = "h1"
) -> Desired:
    return Desired(post, account, "x", due, content)


def test_migrations_are_recorded_and_idempotent(ledger: Ledger) -> None:
    assert ledger.schema_version() >= 1
    assert ledger.migrate() == []


def test_sync_adds_updates_cancels_and_reports_drift(ledger: Ledger) -> None:
    report = ledger.sync([want("p1"), want("p2")], T0)
    assert len(report.added) == 2
    report = ledger.sync([want("p1", content="h2")], T0)
    assert report.changed == [want("p1").key]
    assert report.cancelled == [want("p2").key]
    (p1,) = ledger.deliveries(post_id="p1")
    assert p1.content_hash == "h2"
    assert ledger.deliveries(post_id="p2")[0].state == State.CANCELLED
    # Published, then edited: reported, not re-posted.
    (claimed,) = ledger.claim_due("w1", T0, LEASE)
    ledger.finish(claimed.id, "w1", State.PUBLISHED, T0, published_hash="h2")
    report = ledger.sync([want("p1", content="h3")], T0)
    assert report.drifted == [want("p1").key]
    (p1,) = ledger.deliveries(post_id="p1")
    assert p1.state == State.PUBLISHED
    assert p1.drifted


def test_sync_scope_only_cancels_those_accounts(ledger: Ledger) -> None:
    ledger.sync([want("p1", account="a"), want("p2", account="b")], T0)
    report = ledger.sync([], T0, scope={"a"})
    assert report.cancelled == [want("p1", account="a").key]


def test_claim_only_what_is_due_once(ledger: Ledger) -> None:
    ledger.sync([want("now", due=T0), want("later", due=T0 + timedelta(hours=1))], T0)
    first = ledger.claim_due("w1", T0, LEASE)
    assert [d.post_id for d in first] == ["now"]
    assert first[0].state == State.CLAIMED
    assert first[0].lease_owner == "w1"
    assert ledger.claim_due("w2", T0, LEASE) == []


def test_expired_lease_is_taken_over_and_old_worker_is_refused(ledger: Ledger) -> None:
    ledger.sync([want()], T0)
    (d,) = ledger.claim_due("w1", T0, LEASE)
    attempt = ledger.begin_attempt(d.id, 0, "w1", "key-0", T0)
    later = T0 + LEASE + timedelta(seconds=1)
    (taken,) = ledger.claim_due("w2", later, LEASE)
    assert taken.lease_owner == "w2"
    assert taken.attempts == 2
    assert [a.id for a in ledger.open_attempts(d.id)] == [attempt]  # in doubt: reconcile first
    with pytest.raises(LeaseLost):
        ledger.begin_attempt(d.id, 1, "w1", "key-1", later)
    with pytest.raises(LeaseLost):
        ledger.finish(d.id, "w1", State.PUBLISHED, later)
    with pytest.raises(LeaseLost):
        ledger.renew(d.id, "w1", later + LEASE)
    ledger.renew(d.id, "w2", later + LEASE)


def test_parts_and_attempts_are_recorded(ledger: Ledger) -> None:
    ledger.sync([want()], T0)
    (d,) = ledger.claim_due("w1", T0, LEASE)
    a0 = ledger.begin_attempt(d.id, 0, "w1", "k0", T0)
    ledger.record_part(d.id, 0, "111", "https://x.com/a/status/111", T0)
    ledger.finish_attempt(a0, "ok", T0)
    a1 = ledger.begin_attempt(d.id, 1, "w1", "k1", T0)
    ledger.record_part(d.id, 1, "112", None, T0)
    ledger.finish_attempt(a1, "ok", T0)
    ledger.finish(d.id, "w1", State.PUBLISHED, T0, published_hash="h1")
    got = ledger.get(d.id)
    assert got is not None
    assert [(p.index, p.remote_id, p.url) for p in got.parts] == [
        (0, "111", "https://x.com/a/status/111"),
        (1, "112", None),
    ]
    assert got.state == State.PUBLISHED
    assert got.lease_owner is None
    assert [(a.part_index, a.outcome) for a in ledger.attempts(d.id)] == [(0, "ok"), (1, "ok")]
    assert ledger.open_attempts(d.id) == []
    assert ledger.count_published_since("x-main", T0 - timedelta(hours=24)) == 2


def test_release_backs_off(ledger: Ledger) -> None:
    ledger.sync([want()], T0)
    (d,) = ledger.claim_due("w1", T0, LEASE)
    ledger.release(
        d.id, "w1", T0 + timedelta(minutes=2), T0, error="503 from X", error_kind="transient"
    )
    assert ledger.claim_due("w1", T0 + timedelta(minutes=1), LEASE) == []
    (again,) = ledger.claim_due("w1", T0 + timedelta(minutes=2), LEASE)
    assert again.last_error == "503 from X"
    assert again.attempts == 2


def test_account_hold_defers_claims(ledger: Ledger) -> None:
    ledger.sync([want(account="a"), want("p2", account="b")], T0)
    ledger.defer_account("a", T0 + timedelta(minutes=15), "429 from X")
    assert ledger.account_deferred_until("a", T0) == T0 + timedelta(minutes=15)
    (b,) = ledger.claim_due("w", T0, LEASE)
    assert b.account == "b"
    ledger.finish(b.id, "w", State.PUBLISHED, T0)
    assert [d.account for d in ledger.claim_due("w", T0 + timedelta(minutes=15), LEASE)] == ["a"]


def test_retry_and_cancel_rules(ledger: Ledger) -> None:
    ledger.sync([want()], T0)
    (d,) = ledger.claim_due("w1", T0, LEASE)
    with pytest.raises(LedgerError):
        ledger.cancel(d.id, T0)  # in flight
    ledger.finish(d.id, "w1", State.FAILED, T0, error="rejected", error_kind="rejected")
    assert ledger.retry(d.id, T0).state == State.PENDING
    assert ledger.cancel(d.id, T0).state == State.CANCELLED
    assert ledger.retry(d.id, T0).state == State.PENDING  # a cancelled one can be brought back


def test_published_cannot_be_retried(ledger: Ledger) -> None:
    ledger.sync([want()], T0)
    (d,) = ledger.claim_due("w1", T0, LEASE)
    ledger.finish(d.id, "w1", State.PUBLISHED, T0)
    with pytest.raises(LedgerError):
        ledger.retry(d.id, T0)


def test_fix_now_is_stable(ledger: Ledger) -> None:
    assert ledger.fix_now("urgent", T0) == T0
    assert ledger.fix_now("urgent", T0 + timedelta(hours=1)) == T0


def _claimer(where: str, worker: str, queue: multiprocessing.Queue[list[int]]) -> None:
    ledger = open_ledger(where, Path("."))
    got: list[int] = []
    while True:
        batch = ledger.claim_due(worker, T0, LEASE, limit=7)
        if not batch:
            break
        got.extend(d.id for d in batch)
        for d in batch:  # done at once: the account is free for the next claimer
            ledger.finish(d.id, worker, State.PUBLISHED, T0)
    ledger.close()
    queue.put(got)


def test_concurrent_processes_never_claim_the_same_delivery(ledger_target_: str) -> None:
    ledger = open_ledger(ledger_target_, Path("."))
    ledger.sync([want(f"p{i}", account=f"a{i % 9}") for i in range(300)], T0)
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[list[int]] = ctx.Queue()
    procs = [ctx.Process(target=_claimer, args=(ledger_target_, f"w{i}", queue)) for i in range(4)]
    for p in procs:
        p.start()
    claimed = [i for _ in procs for i in queue.get(timeout=60)]
    for p in procs:
        p.join(timeout=60)
    assert sorted(claimed) == sorted(d.id for d in ledger.deliveries())
    assert len(claimed) == len(set(claimed)) == 300
    ledger.close()


def test_an_account_is_claimed_by_one_worker_at_a_time(ledger: Ledger) -> None:
    ledger.sync([want("p1", account="a"), want("p2", account="a"), want("p3", account="b")], T0)
    first = ledger.claim_due("w1", T0, LEASE, limit=1)
    assert [d.post_id for d in first] == ["p1"]
    # w2 may not take a's next post while w1 holds a's claim: one account posts in order.
    assert [d.post_id for d in ledger.claim_due("w2", T0, LEASE)] == ["p3"]
    # w1 itself may go on with a.
    assert [d.post_id for d in ledger.claim_due("w1", T0, LEASE)] == ["p2"]


def test_heartbeat_keeps_claims_alive_and_a_silent_worker_loses_them(ledger: Ledger) -> None:
    ledger.sync([want("p1", account="a"), want("p2", account="b")], T0)
    short = timedelta(seconds=30)
    (a,) = ledger.claim_due("w1", T0, short, limit=1, accounts={"a"})
    (b,) = ledger.claim_due("w2", T0, short, limit=1, accounts={"b"})
    later = T0 + timedelta(seconds=20)
    assert ledger.heartbeat("w1", later, later + short, [a.id]) == 1
    assert ledger.heartbeat("w2", later, later + short, [b.id]) == 1
    beyond = T0 + timedelta(seconds=45)  # w1 keeps beating, w2 went silent at +20 s
    assert ledger.heartbeat("w1", beyond, beyond + short, [a.id]) == 1
    assert ledger.claim_due("w3", beyond, short) == []  # both leases still run (+50 s, +75 s)
    gone = T0 + timedelta(seconds=51)
    ledger.heartbeat("w1", gone, gone + short, [a.id])
    taken = ledger.claim_due("w3", gone, short)
    assert [(d.post_id, d.lease_owner) for d in taken] == [("p2", "w3")]
    seen = {w.id: w for w in ledger.workers()}
    assert seen["w1"].claims == 1 and seen["w1"].last_seen == gone
    assert seen["w2"].claims == 0 and seen["w2"].last_seen == later
    assert "w3" not in seen  # it holds p2 all the same; it shows once it beats
    ledger.leave("w2")
    assert "w2" not in {w.id for w in ledger.workers()}


def test_heartbeat_renews_only_the_claims_being_worked_on(ledger: Ledger) -> None:
    """A claim no dispatcher works on any more (whatever went wrong) is not kept alive."""
    ledger.sync([want("p1", account="a"), want("p2", account="b")], T0)
    short = timedelta(seconds=30)
    first, _second = ledger.claim_due("w1", T0, short)
    later = T0 + timedelta(seconds=20)
    assert ledger.heartbeat("w1", later, later + short, [first.id]) == 1
    # Past the first lease: the forgotten claim is taken over, the live one is not.
    taken = ledger.claim_due("w2", T0 + timedelta(seconds=31), short)
    assert [d.post_id for d in taken] == ["p2"]
    assert ledger.heartbeat("w1", later, later + short, []) == 0  # nothing to renew: fine


def test_claims_and_expiring_a_gone_worker(ledger: Ledger) -> None:
    ledger.sync([want("p1", account="a"), want("p2", account="b"), want("p3", account="b")], T0)
    ledger.claim_due("w1", T0, LEASE, accounts={"a"})
    ledger.claim_due("w2", T0, LEASE, accounts={"b"})
    ledger.heartbeat("w2", T0, T0 + LEASE, [])
    rows = {r.worker: r for r in ledger.claims()}
    assert (rows["w1"].claims, rows["w2"].claims) == (1, 2)
    assert rows["w1"].lease_expires == T0 + LEASE and rows["w1"].started_at is None
    assert rows["w2"].started_at == T0
    assert ledger.claim_due("w3", T0, LEASE) == []
    assert ledger.expire_claims("w2", T0) == 2  # its process is gone: taken over at once
    assert sorted(d.post_id for d in ledger.claim_due("w3", T0, LEASE)) == ["p2", "p3"]


def test_sync_keeps_what_it_is_told_to_and_reinstates_what_comes_back(ledger: Ledger) -> None:
    ledger.sync([want("p1"), want("p2"), want("p3")], T0)
    # p2's file cannot be read: it is missing from the files, and kept as it is.
    report = ledger.sync([want("p1")], T0, keep=lambda post, account: post == "p2")
    assert report.cancelled == [want("p3").key]
    assert {d.post_id: str(d.state) for d in ledger.deliveries()} == {
        "p1": "pending",
        "p2": "pending",
        "p3": "cancelled",
    }
    # p3 comes back (the file was saved half-way before): pending again, new content.
    report = ledger.sync([want("p1"), want("p2"), want("p3", content="h9")], T0)
    assert report.reinstated == [want("p3").key]
    (p3,) = ledger.deliveries(post_id="p3")
    assert (str(p3.state), p3.content_hash, p3.last_error) == ("pending", "h9", None)
    # Cancelled by a person: it stays cancelled even though the post is in the files.
    ledger.cancel(p3.id, T0)
    report = ledger.sync([want("p1"), want("p2"), want("p3")], T0)
    assert report.reinstated == []
    assert str(ledger.get(p3.id).state) == "cancelled"  # type: ignore[union-attr]


def test_claims_leave_out_held_posts(ledger: Ledger) -> None:
    ledger.sync([want("p1"), want("p2"), want("p3")], T0)
    claimed = ledger.claim_due("w1", T0, LEASE, exclude_posts={"p2", "p3"})
    assert [d.post_id for d in claimed] == ["p1"]
    assert ledger.claim_due("w1", T0, LEASE, exclude_posts={"p2", "p3"}) == []


def test_a_post_waiting_in_the_platforms_scheduler_is_withdrawn_when_it_moves(
    ledger: Ledger,
) -> None:
    ahead = T0 + timedelta(days=3)
    ledger.sync([want("fb", due=ahead)], T0)
    (d,) = ledger.claim_due("w1", T0, LEASE, due_by=T0 + timedelta(days=29))
    ledger.record_part(d.id, 0, "page_1", None, T0)
    ledger.finish(d.id, "w1", State.PUBLISHED, T0, published_hash="h1", scheduled_for=ahead)
    # Unchanged: nothing to do.
    assert ledger.sync([want("fb", due=ahead)], T0, until=T0 + timedelta(days=29)).withdraw == []
    # Edited while waiting: withdraw it, to hand the new text over.
    edited = ledger.sync([want("fb", due=ahead, content="h2")], T0, until=T0 + timedelta(days=29))
    assert edited.withdraw == [d.id] and edited.drifted == []
    # Moved: the old one is to be withdrawn, the new one is added.
    moved = ledger.sync(
        [want("fb", due=ahead + timedelta(hours=1))], T0, until=T0 + timedelta(days=29)
    )
    assert moved.withdraw == [d.id]
    assert moved.added == [want("fb", due=ahead + timedelta(hours=1)).key]
    # Kept (its file cannot be read): left alone.
    kept = ledger.sync([], T0, until=T0 + timedelta(days=29), keep=lambda p, a: True)
    assert kept.withdraw == []
    # Withdrawn (deleted there): pending again without its remote id, or cancelled as removed.
    assert ledger.unschedule(d.id, T0, cancel=False)
    again = ledger.get(d.id)
    assert again is not None and (str(again.state), again.parts, again.scheduled_for) == (
        "pending",
        (),
        None,
    )
    assert not ledger.unschedule(d.id, T0, cancel=True)  # no longer waiting there
    # Close to going live it is left alone: deleting it there would race the platform.
    (d2,) = ledger.claim_due("w1", T0, LEASE, due_by=T0 + timedelta(days=29), limit=1)
    soon = T0 + timedelta(minutes=1)
    ledger.record_part(d2.id, 0, "page_2", None, T0)
    ledger.finish(d2.id, "w1", State.PUBLISHED, T0, published_hash="h1", scheduled_for=soon)
    assert ledger.sync([], T0, until=T0 + timedelta(days=29)).withdraw == []


def _history(ledger: Ledger) -> None:
    """A little of everything: published with parts, failed, an open attempt, a hold, a now-post."""
    ledger.sync([want("p1"), want("p2", account="b"), want("p3", account="c")], T0)
    ledger.fix_now("urgent", T0)
    ledger.defer_account("d", T0 + timedelta(hours=1), "429 from X")
    by_post = {d.post_id: d for d in ledger.claim_due("w1", T0, LEASE)}
    a = ledger.begin_attempt(by_post["p1"].id, 0, "w1", "k0", T0)
    ledger.record_part(by_post["p1"].id, 0, "111", "https://x.com/a/status/111", T0)
    ledger.finish_attempt(a, "ok", T0)
    ledger.finish(by_post["p1"].id, "w1", State.PUBLISHED, T0, published_hash="h1")
    ledger.finish(
        by_post["p2"].id, "w1", State.FAILED, T0, error="rejected: 403", error_kind="rejected"
    )
    ledger.begin_attempt(by_post["p3"].id, 0, "w1", "k3", T0)
    ledger.add_snapshots(
        [
            Snapshot(by_post["p1"].id, 0, T0 + timedelta(hours=1), Counts(likes=3, reposts=1)),
            Snapshot(by_post["p1"].id, 0, T0 + timedelta(hours=24), Counts(likes=9, reach=120)),
        ]
    )
    ledger.refuse_metrics("b", "403 from X: client-not-enrolled", T0)
    ledger.add_inbox_page(
        [heard("r1", delivery_id=by_post["p1"].id)], T0, account="x-main", source="n", cursor="c1"
    )


@pytest.mark.parametrize("source", BACKENDS)
@pytest.mark.parametrize("dest", BACKENDS)
def test_export_and_import_keep_the_whole_history(
    source: str, dest: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    src = open_ledger(target(source, request, tmp_path / "src"), tmp_path)
    _history(src)
    rows = list(src.export_rows())
    dst_target = target(dest, request, tmp_path / "dst")
    if source == dest == "postgres":  # the fixture gives one database per test: make another
        dst_target = request.getfixturevalue("postgres_server").new_database()
    dst = open_ledger(dst_target, tmp_path)
    counts = dst.import_rows(iter(rows))
    assert counts == {
        "deliveries": 3,
        "parts": 1,
        "attempts": 2,
        "now_posts": 1,
        "account_holds": 1,
        "snapshots": 2,
        "metrics_refusals": 1,
        "inbox_items": 1,
        "inbox_cursors": 1,
    }
    assert list(dst.export_rows()) == rows
    assert [(d.id, d.state, d.parts) for d in dst.deliveries()] == [
        (d.id, d.state, d.parts) for d in src.deliveries()
    ]
    assert dst.fix_now("urgent", T0 + timedelta(hours=2)) == T0
    assert dst.account_deferred_until("d", T0) == T0 + timedelta(hours=1)
    # New rows continue after the imported ids.
    dst.sync([want("p4", account="e")], T0)
    (p4,) = dst.deliveries(post_id="p4")
    assert p4.id > max(d.id for d in src.deliveries())
    with pytest.raises(LedgerError, match="empty ledger"):
        dst.import_rows(iter(rows))
    src.close()
    dst.close()


def test_sync_until_keeps_future_pending_rows(ledger: Ledger) -> None:
    later = want("later", due=T0 + timedelta(days=1))
    ledger.sync([want("now"), later], T0)
    report = ledger.sync([want("now")], T0, until=T0)
    assert report.cancelled == []
    assert ledger.deliveries(post_id="later")[0].state == State.PENDING


def test_mark_skipped_only_pending(ledger: Ledger) -> None:
    ledger.sync([want("a"), want("b")], T0)
    assert [d.post_id for d in ledger.claim_due("w", T0, LEASE, limit=1)] == ["a"]
    done = ledger.mark_skipped([want("a").key, want("b").key], T0, "missed")
    assert done == [want("b").key]
    assert ledger.deliveries(post_id="b")[0].last_error == "missed"


def test_snapshots_and_refusals(ledger: Ledger) -> None:
    ledger.sync([want("p1"), want("p2")], T0)
    p1, p2 = ledger.claim_due("w", T0, LEASE)
    hour, day = T0 + timedelta(hours=1), T0 + timedelta(hours=24)
    ledger.add_snapshots(
        [
            Snapshot(p1.id, 0, hour, Counts(likes=3, reposts=1, replies=0, impressions=150)),
            Snapshot(p1.id, 1, hour, Counts(likes=1)),
            Snapshot(p2.id, 0, day, Counts(likes=2, quotes=1, saves=4, reach=90)),
            Snapshot(p1.id, 0, day, Counts(likes=12, reposts=3, replies=2, impressions=900)),
        ]
    )
    everything = ledger.snapshots()
    assert [(s.delivery_id, s.part_index, s.taken_at) for s in everything] == [
        (p1.id, 0, hour),
        (p1.id, 1, hour),
        (p2.id, 0, day),
        (p1.id, 0, day),
    ]
    assert everything[0].counts == Counts(likes=3, reposts=1, replies=0, impressions=150)
    assert everything[2].counts.reach == 90 and everything[2].counts.impressions is None
    assert [s.delivery_id for s in ledger.snapshots(since=day)] == [p2.id, p1.id]
    assert ledger.last_snapshot_at() == {p1.id: day, p2.id: day}

    ledger.refuse_metrics("x-main", "403: client-not-enrolled", T0)
    ledger.refuse_metrics("x-main", "403 again", hour)  # the first time is kept
    ledger.refuse_metrics("ig", "missing instagram_manage_insights", T0)
    assert ledger.metrics_refusals() == {
        "x-main": ("403 again", T0),
        "ig": ("missing instagram_manage_insights", T0),
    }
    ledger.clear_metrics_refusals({"ig"})
    assert set(ledger.metrics_refusals()) == {"x-main"}
    ledger.clear_metrics_refusals()
    assert ledger.metrics_refusals() == {}


def test_part_sent_records_closes_and_finishes_in_one_go(ledger: Ledger) -> None:
    ledger.sync([want("thread")], T0)
    (d,) = ledger.claim_due("w1", T0, LEASE)
    a0 = ledger.begin_attempt(d.id, 0, "w1", "k0", T0)
    ledger.part_sent(d.id, 0, "111", "https://x.com/a/status/111", T0, a0, worker="w1")
    a1 = ledger.begin_attempt(d.id, 1, "w1", "k1", T0)
    ledger.part_sent(d.id, 1, "112", None, T0, a1, worker="w1", published_hash="h1")
    got = ledger.get(d.id)
    assert got is not None and got.state == State.PUBLISHED and got.published_hash == "h1"
    assert [(p.index, p.remote_id) for p in got.parts] == [(0, "111"), (1, "112")]
    assert [a.outcome for a in ledger.attempts(d.id)] == ["ok", "ok"]
    # A worker that lost the claim still records what it sent, and learns it lost the claim.
    ledger.sync([want("other")], T0)
    (o,) = ledger.claim_due("w1", T0, LEASE)
    a = ledger.begin_attempt(o.id, 0, "w1", "k", T0)
    later = T0 + LEASE + timedelta(seconds=1)
    ledger.claim_due("w2", later, LEASE)
    with pytest.raises(LeaseLost):
        ledger.part_sent(o.id, 0, "113", None, later, a, worker="w1", published_hash="h1")
    assert [p.remote_id for p in ledger.deliveries(post_id="other")[0].parts] == ["113"]


def test_a_named_lease_has_one_holder_until_it_expires(ledger: Ledger) -> None:
    five = timedelta(minutes=5)
    assert ledger.take_lease("metrics", "w1", T0, T0 + five)
    assert not ledger.take_lease("metrics", "w2", T0 + timedelta(minutes=1), T0 + five * 2)
    assert ledger.take_lease("metrics", "w1", T0 + timedelta(minutes=1), T0 + five)  # renewed
    assert ledger.take_lease("other", "w2", T0, T0 + five)  # names are separate
    assert ledger.take_lease("metrics", "w2", T0 + five, T0 + five * 2)  # expired: taken over
    ledger.drop_lease("metrics", "w1")  # not w1's any more: nothing happens
    assert not ledger.take_lease("metrics", "w3", T0 + five, T0 + five * 2)
    ledger.drop_lease("metrics", "w2")
    assert ledger.take_lease("metrics", "w3", T0 + five, T0 + five * 2)


def test_due_accounts_oldest_first(ledger: Ledger) -> None:
    hour = timedelta(hours=1)
    ledger.sync(
        [
            want("a1", account="a", due=T0),
            want("b1", account="b", due=T0 - hour),
            want("c1", account="c", due=T0 + hour),  # not due yet
            want("d1", account="d", due=T0 - 2 * hour),  # held by a rate limit
            want("e1", account="e", due=T0 - 3 * hour),
        ],
        T0,
    )
    ledger.defer_account("d", T0 + hour, "429")
    (e,) = ledger.claim_due("w1", T0, LEASE, accounts={"e"})
    assert ledger.due_accounts(T0) == ["b", "a"]  # e is claimed and its lease runs
    # w1 dies: once its lease has expired, e's delivery is the oldest thing to do.
    later = T0 + LEASE + timedelta(seconds=1)
    assert ledger.due_accounts(later) == ["e", "b", "a"]
    assert e.account == "e"


def test_a_one_shot_post_moved_after_it_went_out_is_not_sent_again(ledger: Ledger) -> None:
    """Editing the time of a post that went out is an edit after publishing: reported, not
    re-posted; nor does a reverted time bring back the cancelled first time (both went out)."""
    later = T0 + timedelta(minutes=30)
    ledger.sync([want("p1")], T0)
    (d,) = ledger.claim_due("w1", T0, LEASE)
    ledger.finish(d.id, "w1", State.PUBLISHED, T0, published_hash="h1")
    moved = ledger.sync([want("p1", due=later)], later)
    assert moved.added == [] and moved.drifted == [want("p1", due=later).key]
    assert {x.key: str(x.state) for x in ledger.deliveries()} == {
        d.key: "published",
        want("p1", due=later).key: "cancelled",  # recorded, so it is said once
    }
    assert ledger.sync([want("p1", due=later)], later).drifted == []
    # A recurring post's occurrences are each their own.
    recurring = Desired("r", "x-main", "x", later, "h1", repeats=True)
    ledger.sync([Desired("r", "x-main", "x", T0, "h1", repeats=True)], T0)
    assert ledger.sync([recurring], later).added == [recurring.key]


def test_a_time_edit_reverted_after_the_new_time_went_out_is_not_sent_again(
    ledger: Ledger,
) -> None:
    early, late = T0, T0 + timedelta(minutes=10)
    ledger.sync([want("p1", due=late)], T0)  # pending at the later time
    ledger.sync([want("p1", due=early)], T0)  # moved earlier: the later time is cancelled
    (d,) = ledger.claim_due("w1", T0, LEASE)
    ledger.finish(d.id, "w1", State.PUBLISHED, T0, published_hash="h1")
    back = ledger.sync([want("p1", due=late)], late)  # the edit is undone
    assert back.reinstated == [] and back.drifted == [want("p1", due=late).key]
    assert {x.key: str(x.state) for x in ledger.deliveries()} == {
        want("p1", due=early).key: "published",
        want("p1", due=late).key: "cancelled",
    }


def test_an_attempt_needs_a_lease_that_still_runs_and_extends_it(ledger: Ledger) -> None:
    """Else another worker could take the delivery over (its lease ran out) and reconcile it
    while this worker's platform call is still in flight: twice on the platform."""
    ledger.sync([want()], T0)
    short = timedelta(seconds=30)
    (d,) = ledger.claim_due("w1", T0, short)
    with pytest.raises(LeaseLost):
        ledger.begin_attempt(d.id, 0, "w1", "k", T0 + short)
    ledger.begin_attempt(d.id, 0, "w1", "k", T0 + timedelta(seconds=29), T0 + timedelta(minutes=5))
    assert ledger.claim_due("w2", T0 + timedelta(minutes=1), short) == []  # extended


def test_a_warning_is_kept_on_a_delivery(ledger: Ledger) -> None:
    ledger.sync([want()], T0)
    (d,) = ledger.claim_due("w1", T0, LEASE)
    ledger.warn(d.id, "the link card was left out: the page did not answer")
    again = ledger.get(d.id)
    assert (
        again is not None and again.warning == "the link card was left out: the page did not answer"
    )


def heard(
    remote_id: str,
    *,
    kind: str = "reply",
    at: datetime = T0,
    account: str = "x-main",
    platform: str = "bluesky",
    delivery_id: int | None = None,
) -> InboxItem:
    return InboxItem(
        platform=platform,
        account=account,
        remote_id=remote_id,
        kind=kind,
        author_handle="ally.test",
        author_name="An Ally",
        author_url="https://bsky.app/profile/ally.test",
        text=f"said {remote_id}",
        url=f"https://bsky.app/profile/ally.test/post/{remote_id}",
        created_at=at,
        answers_remote_id="at://ours" if delivery_id else None,
        delivery_id=delivery_id,
        part_index=0 if delivery_id else None,
    )


def test_inbox_items_are_stored_once_and_read_back_newest_first(ledger: Ledger) -> None:
    ledger.sync([want()], T0)
    (d,) = ledger.claim_due("w1", T0, LEASE)
    first = [heard("a", delivery_id=d.id), heard("b", kind="mention", at=T0 + timedelta(hours=1))]
    assert ledger.add_inbox_page(first, T0, account="x-main", source="n", cursor=None) == first
    again = [*first, heard("c", kind="quote", at=T0 + timedelta(hours=2))]
    assert ledger.add_inbox_page(again, T0, account="x-main", source="n", cursor=None) == again[2:]
    rows = ledger.inbox()
    assert [r.item.remote_id for r in rows] == ["c", "b", "a"]
    assert rows[2].item == first[0]  # every field comes back as stored
    assert rows[2].pulled_at == T0 and rows[2].handled_at is None
    assert len({r.id for r in rows}) == 3
    # The same remote id on another account is another item.
    other = heard("a", account="other")
    assert ledger.add_inbox_page([other], T0, account="other", source="n", cursor=None) == [other]


def test_the_inbox_cursor_moves_with_its_page_and_clears_at_the_end(ledger: Ledger) -> None:
    assert ledger.inbox_cursor("x-main", "n") is None
    ledger.add_inbox_page([heard("a")], T0, account="x-main", source="n", cursor="page2")
    assert ledger.inbox_cursor("x-main", "n") == "page2"
    assert ledger.inbox_cursor("x-main", "other-source") is None
    ledger.add_inbox_page([], T0, account="x-main", source="n", cursor=None)
    assert ledger.inbox_cursor("x-main", "n") is None


def test_inbox_filters_and_marking_handled(ledger: Ledger) -> None:
    page = [
        heard("a", at=T0),
        heard("b", at=T0 + timedelta(hours=1), platform="mastodon", account="m"),
        heard("c", at=T0 + timedelta(hours=2)),
    ]
    ledger.add_inbox_page(page, T0, account="x-main", source="n", cursor=None)
    ids = {r.item.remote_id: r.id for r in ledger.inbox()}
    assert [r.item.remote_id for r in ledger.inbox(account="m")] == ["b"]
    assert [r.item.remote_id for r in ledger.inbox(platform="bluesky")] == ["c", "a"]
    assert [r.item.remote_id for r in ledger.inbox(since=T0 + timedelta(hours=1))] == ["c", "b"]
    later = T0 + timedelta(days=1)
    assert ledger.mark_handled([ids["a"], 9999], later, "sam") == [ids["a"]]
    assert ledger.mark_handled([ids["a"]], later + timedelta(hours=1), "kim") == [ids["a"]]
    row = ledger.inbox_item(ids["a"])
    assert row is not None and (row.handled_at, row.handled_by) == (later, "sam")
    assert [r.item.remote_id for r in ledger.inbox(unhandled=True)] == ["c", "b"]
    assert ledger.inbox_item(9999) is None


def test_a_published_reply_marks_the_items_it_answers_handled(ledger: Ledger) -> None:
    """By the item's address or its id, on the reply's account only; once."""
    page = [heard("a"), heard("b"), heard("a", account="other")]
    ledger.add_inbox_page(page, T0, account="x-main", source="n", cursor=None)
    ids = {(r.item.account, r.item.remote_id): r.id for r in ledger.inbox()}
    later = T0 + timedelta(hours=1)
    url = "https://bsky.app/profile/ally.test/post/a"
    assert ledger.mark_answered("x-main", url, later, "reply r1") == [ids[("x-main", "a")]]
    assert ledger.mark_answered("x-main", url, later, "reply r2") == []  # handled already
    assert ledger.mark_answered("x-main", "b", later, "reply r3") == [ids[("x-main", "b")]]
    assert ledger.mark_answered("x-main", "https://elsewhere/1", later, "reply r4") == []
    handled = {(r.item.account, r.item.remote_id): r.handled_by for r in ledger.inbox()}
    assert handled == {
        ("x-main", "a"): "reply r1",
        ("x-main", "b"): "reply r3",
        ("other", "a"): None,
    }


def test_inbox_groups_count_and_answering_reads_the_first_of_a_group(ledger: Ledger) -> None:
    """What a limited listing reads: per delivery, how many items, how many unhandled and the
    newest's time; then a group's first items, unhandled first, newest first, ties by id."""
    ledger.sync([want()], T0)
    (d,) = ledger.claim_due("w1", T0, LEASE)
    hour = timedelta(hours=1)
    page = [
        heard("a", delivery_id=d.id, at=T0),
        heard("b", delivery_id=d.id, at=T0 + hour),
        heard("c", delivery_id=d.id, at=T0 + hour),  # a tie with b: the later id first
        heard("d", delivery_id=d.id, at=T0 + 3 * hour),
        heard("m", kind="mention", at=T0 + 2 * hour),
    ]
    ledger.add_inbox_page(page, T0, account="x-main", source="n", cursor=None)
    ids = {r.item.remote_id: r.id for r in ledger.inbox()}
    ledger.mark_handled([ids["d"]], T0 + 4 * hour, "sam")
    groups = sorted(ledger.inbox_groups(), key=lambda g: g.delivery_id or 0)
    assert [(g.delivery_id, g.items, g.waiting, g.newest) for g in groups] == [
        (None, 1, 1, T0 + 2 * hour),
        (d.id, 4, 3, T0 + 3 * hour),
    ]
    assert [g.items for g in ledger.inbox_groups(unhandled=True, account="x-main")] in (
        [1, 3],
        [3, 1],
    )
    assert ledger.inbox_groups(platform="mastodon") == []
    got = [r.item.remote_id for r in ledger.inbox_answering(d.id, 10)]
    assert got == ["c", "b", "a", "d"]  # unhandled first; the tie b/c by id, newest first
    assert [r.item.remote_id for r in ledger.inbox_answering(d.id, 2)] == ["c", "b"]
    assert [r.item.remote_id for r in ledger.inbox_answering(None, 10)] == ["m"]
    since = T0 + hour
    assert [r.item.remote_id for r in ledger.inbox_answering(d.id, 10, since=since)] == [
        "c",
        "b",
        "d",
    ]


def test_a_repost_is_stored_handled_by_the_pull(ledger: Ledger) -> None:
    """A repost asks nothing of a volunteer: stored handled, so ``--unhandled`` never lists it."""
    page = [heard("r", kind="repost"), heard("a")]
    assert ledger.add_inbox_page(page, T0, account="x-main", source="n", cursor=None) == page
    rows = {r.item.remote_id: r for r in ledger.inbox()}
    assert (rows["r"].handled_at, rows["r"].handled_by) == (T0, ANSWERED_BY)
    assert rows["r"].item == page[0]
    assert rows["a"].handled_at is None
    assert [r.item.remote_id for r in ledger.inbox(unhandled=True)] == ["a"]


def test_migration_8_keeps_the_inbox_and_takes_reposts(
    ledger_target_: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ledger at schema 7 (before reposts) upgraded: its items keep their ids and fields."""
    from eduadvocate.ledger import schema, sql

    before = tuple(m for m in schema.MIGRATIONS if m.version <= 7)
    with monkeypatch.context() as m:
        m.setattr(schema, "MIGRATIONS", before)
        m.setattr(sql, "MIGRATIONS", before)
        old = open_ledger(ledger_target_, tmp_path)
        assert old.schema_version() == 7
        old.add_inbox_page([heard("a"), heard("b")], T0, account="x-main", source="n", cursor="c")
        old.mark_handled([old.inbox()[0].id], T0, "sam")
        kept = old.inbox()
        old.close()
    upgraded = open_ledger(ledger_target_, tmp_path, migrate=True)
    try:
        assert upgraded.schema_version() == schema.MIGRATIONS[-1].version
        assert upgraded.inbox() == kept
        assert upgraded.inbox_cursor("x-main", "n") == "c"
        repost = heard("r", kind="repost", at=T0 + timedelta(hours=1))
        assert upgraded.add_inbox_page([repost], T0, account="x-main", source="n", cursor=None)
        assert upgraded.inbox()[0].item == repost
        with pytest.raises(Exception, match=r"(?i)check"):  # the kinds are still checked
            upgraded.add_inbox_page(
                [heard("z", kind="like")], T0, account="x-main", source="n", cursor=None
            )
    finally:
        upgraded.close()


@pytest.mark.parametrize("kind", INBOX_KINDS)
def test_every_inbox_kind_can_be_stored(ledger: Ledger, kind: str) -> None:
    """The schema's CHECK and INBOX_KINDS agree: a kind added to one is added to the other (by
    a migration), or this fails."""
    item = heard("k", kind=kind)
    assert ledger.add_inbox_page([item], T0, account="x-main", source="n", cursor=None) == [item]
    (row,) = ledger.inbox()
    assert row.item.kind == kind and (row.handled_at is not None) == (kind in NO_ANSWER_KINDS)
