"""The SQLite ledger's commits per delivery (issue 14: publish at most 1 ms of CPU per delivery):
a part's two writes, beginning its attempt and recording it sent, commit once each, and each is
whole: a failure inside leaves nothing of it. The CPU itself is measured by bench/publish_cpu.py."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from eduadvocate.ledger.base import Desired, LeaseLost, State
from eduadvocate.ledger.sqlite import SQLiteLedger

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class Commits:
    """Counts the commits a connection makes: each COMMIT, and each write statement run outside
    an explicit transaction (it commits on its own)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.count = 0
        self._open = False
        db.set_trace_callback(self._saw)

    def _saw(self, sql: str) -> None:
        head = sql.lstrip().split(None, 1)[0].upper()
        if head == "BEGIN":
            self._open = True
        elif head in ("COMMIT", "END"):
            self._open = False
            self.count += 1
        elif head == "ROLLBACK":
            self._open = False
        elif head in WRITES and not self._open:
            self.count += 1


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[SQLiteLedger]:
    backend = SQLiteLedger(tmp_path / "ledger.sqlite3")
    backend.migrate()
    yield backend
    backend.close()


def claimed(ledger: SQLiteLedger, post: str = "p1") -> int:
    ledger.sync([Desired(post, "acct", "outbox", T0, "h1")], T0)
    (d,) = ledger.claim_due("w1", T0, LEASE, exclude_posts=())
    return d.id


@pytest.mark.parametrize("parts", [1, 3])
def test_each_part_commits_twice_after_the_claim(ledger: SQLiteLedger, parts: int) -> None:
    """Before: the attempt took two commits and the part sent three (five per part)."""
    delivery = claimed(ledger)
    commits = Commits(ledger._db)
    for index in range(parts):
        attempt = ledger.begin_attempt(delivery, index, "w1", f"k{index}", T0, T0 + LEASE)
        last = index == parts - 1
        ledger.part_sent(
            delivery,
            index,
            f"r{index}",
            None,
            T0,
            attempt,
            worker="w1",
            published_hash="h1" if last else None,
        )
    assert commits.count == 2 * parts
    got = ledger.get(delivery)
    assert got is not None and got.state == State.PUBLISHED
    assert [p.remote_id for p in got.parts] == [f"r{i}" for i in range(parts)]
    assert [a.outcome for a in ledger.attempts(delivery)] == ["ok"] * parts


# A failure at each of part_sent's three writes: the part, its attempt closed, the delivery
# published (a trigger stands in for a full disk or an I/O error there).
FAILURES = {
    "recording the part": "BEFORE INSERT ON parts",
    "closing the attempt": "BEFORE UPDATE OF outcome ON attempts",
    "publishing the delivery": "BEFORE UPDATE OF state ON deliveries WHEN NEW.state = 'published'",
}


@pytest.mark.parametrize("when", FAILURES.values(), ids=FAILURES.keys())
def test_a_part_sent_that_fails_half_way_leaves_the_attempt_open_and_no_part(
    ledger: SQLiteLedger, when: str
) -> None:
    """Recorded together or not at all: what is left is the state of a crash just after the
    platform answered (an open attempt, no part), which the next run reconciles by looking."""
    delivery = claimed(ledger)
    attempt = ledger.begin_attempt(delivery, 0, "w1", "k0", T0, T0 + LEASE)
    ledger._db.execute(
        f"CREATE TRIGGER refuse {when} BEGIN SELECT RAISE(ABORT, 'the disk is full'); END"
    )
    with pytest.raises(sqlite3.IntegrityError, match="the disk is full"):
        ledger.part_sent(delivery, 0, "r0", None, T0, attempt, worker="w1", published_hash="h1")
    got = ledger.get(delivery)
    assert got is not None and got.state == State.CLAIMED and got.parts == ()
    assert [(a.outcome, a.finished_at) for a in ledger.attempts(delivery)] == [(None, None)]
    ledger._db.execute("DROP TRIGGER refuse")  # the connection is usable again: nothing is open
    ledger.part_sent(delivery, 0, "r0", None, T0, attempt, worker="w1", published_hash="h1")
    again = ledger.get(delivery)
    assert again is not None and again.state == State.PUBLISHED


def test_a_lost_lease_keeps_the_part_and_its_closed_attempt(ledger: SQLiteLedger) -> None:
    """Only the finish is refused: the worker that took the delivery over must see the part."""
    delivery = claimed(ledger)
    attempt = ledger.begin_attempt(delivery, 0, "w1", "k0", T0, T0 + LEASE)
    later = T0 + 2 * LEASE
    assert [d.id for d in ledger.claim_due("w2", later, LEASE)] == [delivery]
    with pytest.raises(LeaseLost):
        ledger.part_sent(delivery, 0, "r0", None, later, attempt, worker="w1", published_hash="h1")
    got = ledger.get(delivery)
    assert got is not None and [p.remote_id for p in got.parts] == ["r0"]
    assert got.state == State.CLAIMED  # w2's, which reconciles and finds the part
    assert [a.outcome for a in ledger.attempts(delivery)] == ["ok"]


def test_a_begin_attempt_refused_for_a_lost_lease_writes_nothing(ledger: SQLiteLedger) -> None:
    delivery = claimed(ledger)
    with pytest.raises(LeaseLost):
        ledger.begin_attempt(delivery, 0, "w1", "k0", T0 + LEASE, T0 + 2 * LEASE)
    assert ledger.attempts(delivery) == []
    assert ledger._rows("SELECT count(*) AS n FROM attempts")[0]["n"] == 0
