"""The ledger contract: every backend passes these unchanged (the PostgreSQL backend will join the
``ledger`` fixture's parameters)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from eduadvocate.ledger.base import Desired, LeaseLost, Ledger, LedgerError, State
from eduadvocate.ledger.sqlite import SQLiteLedger

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


@pytest.fixture(params=["sqlite"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    backend = SQLiteLedger(tmp_path / "ledger.sqlite3")
    backend.migrate()
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


def _claimer(path: str, worker: str, queue: multiprocessing.Queue[list[int]]) -> None:
    ledger = SQLiteLedger(path)
    got: list[int] = []
    while True:
        batch = ledger.claim_due(worker, T0, LEASE, limit=7)
        if not batch:
            break
        got.extend(d.id for d in batch)
    queue.put(got)


def test_concurrent_processes_never_claim_the_same_delivery(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite3")
    ledger = SQLiteLedger(path)
    ledger.migrate()
    ledger.sync([want(f"p{i}") for i in range(300)], T0)
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[list[int]] = ctx.Queue()
    procs = [ctx.Process(target=_claimer, args=(path, f"w{i}", queue)) for i in range(4)]
    for p in procs:
        p.start()
    claimed = [i for _ in procs for i in queue.get(timeout=60)]
    for p in procs:
        p.join(timeout=60)
    assert sorted(claimed) == sorted(d.id for d in ledger.deliveries())
    assert len(claimed) == len(set(claimed)) == 300


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
