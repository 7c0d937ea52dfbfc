"""A PostgreSQL ledger outlives its server: after a restart, a dropped connection or an outage it
reconnects with back-off and goes on, saying so in one line when the ledger goes away and one
when it is back; an outage longer than its limit is one line of error, without the password.

Each test has a database on the restartable cluster (tests/fakes/postgres.py), which it stops
and starts on the same port and data folder; the session's shared server is never touched.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from eduadvocate.ledger import shown
from eduadvocate.ledger.base import Desired, LedgerError, State
from eduadvocate.ledger.postgres import CLAIM_LOCK_KEY, PostgresLedger
from tests.fakes.postgres import Cluster

PASSWORD = "s3cret-pw"  # the cluster trusts loopback: the password is never checked, only hidden
LOGGER = "eduadvocate.ledger"
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


@pytest.fixture
def url(restartable_postgres: Cluster) -> Iterator[str]:
    """A new database on the restartable cluster, its URL with a password in it."""
    plain = restartable_postgres.server.new_database()
    yield plain.replace("://eduadvocate@", f"://eduadvocate:{PASSWORD}@")
    restartable_postgres.start()
    restartable_postgres.server.drop_database(plain)


@pytest.fixture
def open_ledger(url: str) -> Iterator[Callable[..., PostgresLedger]]:
    opened: list[PostgresLedger] = []

    def make(**options: Any) -> PostgresLedger:
        ledger = PostgresLedger(url, shown(url), **options)
        opened.append(ledger)
        if ledger.schema_version() == 0:
            ledger.migrate()
        return ledger

    yield make
    for ledger in opened:
        ledger.close()


@pytest.fixture
def said(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """What the ledger logged, one message per record; each record is checked to be a single
    line, without a traceback or the password."""
    caplog.set_level(logging.INFO, logger=LOGGER)

    def lines() -> list[str]:
        records = [r for r in caplog.records if r.name == LOGGER]
        for r in records:
            assert r.levelno == logging.WARNING and r.exc_info is None, r
            assert "\n" not in r.getMessage() and PASSWORD not in r.getMessage()
        return [r.getMessage() for r in records]

    return lines


def want(post: str, account: str = "x-main") -> Desired:
    return Desired(post, account, "x", T0, "h1")


def admin(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=True)


def backend_pid(ledger: PostgresLedger) -> int:
    return int(ledger._rows("SELECT pg_backend_pid() AS pid")[0]["pid"])


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run ``call`` in a thread; the list gets its result or the exception it raised."""
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(call())
        except Exception as exc:
            result.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def one_outage(lines: list[str], url: str) -> None:
    """Exactly one line when the ledger went away and one when it came back, in that order."""
    where = shown(url)
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"the ledger {where} is unreachable (")
    assert lines[0].endswith("): reconnecting")
    assert lines[1].startswith(f"the ledger {where} is back after ")


def test_after_each_restart_statements_transactions_and_claims_go_on(
    restartable_postgres: Cluster,
    url: str,
    open_ledger: Callable[..., PostgresLedger],
    said: Callable[[], list[str]],
) -> None:
    ledger = open_ledger()
    ledger.sync([want("p1"), want("p2")], T0)
    (first,) = ledger.claim_due("w1", T0, LEASE, limit=1)

    restartable_postgres.restart()
    ledger.renew(first.id, "w1", T0 + LEASE)  # one statement: run again on the new connection
    one_outage(said(), url)

    restartable_postgres.restart()
    ledger.sync([want("p1"), want("p2"), want("p3")], T0)  # a transaction: begun once back
    restartable_postgres.restart("immediate")  # as after a crash
    (second,) = ledger.claim_due("w1", T0, LEASE, limit=1)  # the claim's transaction too

    assert [d.post_id for d in ledger.deliveries(state=State.CLAIMED)] == ["p1", "p2"]
    assert second.post_id == "p2"
    lines = said()
    assert len(lines) == 6
    assert [line.endswith(": reconnecting") for line in lines] == [True, False] * 3


def test_a_dropped_connection_is_reopened(
    url: str, open_ledger: Callable[..., PostgresLedger], said: Callable[[], list[str]]
) -> None:
    ledger = open_ledger()
    pid = backend_pid(ledger)
    with admin(url) as other:
        other.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert ledger.deliveries() == []
    assert backend_pid(ledger) != pid
    one_outage(said(), url)


def test_threads_wait_through_an_outage_and_reconnect_once(
    restartable_postgres: Cluster,
    url: str,
    open_ledger: Callable[..., PostgresLedger],
    said: Callable[[], list[str]],
) -> None:
    ledger = open_ledger()
    ledger.sync([want("p1"), want("p2")], T0)
    restartable_postgres.stop()
    began = time.monotonic()
    calls: list[Callable[[], Any]] = [
        ledger.deliveries,
        lambda: ledger.claim_due("w1", T0, LEASE),
        lambda: ledger.sync([want("p1"), want("p2")], T0),
        lambda: ledger.take_lease("metrics", "w1", T0, T0 + LEASE),
    ] * 2
    running = [in_thread(call) for call in calls]
    time.sleep(2.5)
    assert all(thread.is_alive() for thread, _ in running)  # waiting, not failing
    restartable_postgres.start()
    for thread, _ in running:
        thread.join(30)
    waited = time.monotonic() - began
    results = [result for _, result in running]
    assert not [r for r in results if not r or isinstance(r[0], Exception)], results
    assert 2.5 <= waited < 15
    assert sorted(len(r[0]) for r in results[1::4]) == [0, 2]  # one thread claimed both
    lines = said()
    one_outage(lines, url)
    back = re.search(r" after (\d+) s$", lines[1])
    assert back and 2 <= int(back[1]) < 15, lines  # the back-off may wait a few seconds more


def test_claims_held_through_an_outage_longer_than_the_lease_are_renewed_first(
    restartable_postgres: Cluster,
    open_ledger: Callable[..., PostgresLedger],
) -> None:
    """The worker's missed beats are made up as soon as its ledger is back, before anything
    else it does: a worker that reconnected sooner cannot take over the claims it works on,
    even one claimed after its last beat."""
    lease = timedelta(seconds=1)
    mine, theirs = open_ledger(), open_ledger()
    now = datetime.now(UTC)
    mine.sync([want("p1"), want("p2")], now)
    (first,) = mine.claim_due("a", now, lease, limit=1)
    mine.heartbeat("a", now, now + lease, [first.id])
    (second,) = mine.claim_due("a", datetime.now(UTC), lease, limit=1)
    restartable_postgres.stop()
    time.sleep(1.5)
    restartable_postgres.start()
    assert mine.get(first.id) is not None  # its first call after the outage
    assert theirs.claim_due("b", datetime.now(UTC), lease) == []
    for delivery in (first, second):
        row = mine.get(delivery.id)
        assert row is not None and row.lease_owner == "a"
        assert row.lease_expires is not None and row.lease_expires > datetime.now(UTC)


def test_an_outage_beyond_the_limit_is_one_line_without_the_password(
    restartable_postgres: Cluster,
    url: str,
    open_ledger: Callable[..., PostgresLedger],
    said: Callable[[], list[str]],
) -> None:
    ledger = open_ledger(outage_limit=1.0)
    restartable_postgres.stop()
    began = time.monotonic()
    with pytest.raises(LedgerError) as raised:
        ledger.deliveries()
    assert 1.0 <= time.monotonic() - began < 5
    message = str(raised.value)
    assert message.startswith(f"the ledger {shown(url)} has been unreachable for 1 s")
    assert "\n" not in message and PASSWORD not in message and "***" in message
    # Past the limit, a call tries once and fails at once: threads do not wait out the limit
    # one after another.
    began = time.monotonic()
    with pytest.raises(LedgerError, match="unreachable"):
        ledger.claim_due("w1", T0, LEASE)
    assert time.monotonic() - began < 1.0
    restartable_postgres.start()
    assert ledger.deliveries() == []
    one_outage(said(), url)


def test_a_stopping_process_stops_waiting_at_once(
    restartable_postgres: Cluster,
    open_ledger: Callable[..., PostgresLedger],
    said: Callable[[], list[str]],
) -> None:
    ledger = open_ledger()
    restartable_postgres.stop()
    thread, result = in_thread(ledger.deliveries)
    wait_until(lambda: len(said()) == 1)  # "... is unreachable (...): reconnecting"
    assert thread.is_alive()
    began = time.monotonic()
    ledger.stop_waiting()  # what a worker does on SIGTERM
    thread.join(5)
    assert time.monotonic() - began < 1
    assert isinstance(result[0], LedgerError) and "unreachable" in str(result[0])
    with pytest.raises(LedgerError, match="unreachable"):
        ledger.deliveries()  # one try, no wait
    assert time.monotonic() - began < 2


def test_a_transaction_cut_off_in_the_middle_fails_in_one_line_and_is_undone(
    url: str, open_ledger: Callable[..., PostgresLedger], said: Callable[[], list[str]]
) -> None:
    ledger = open_ledger()
    pid = backend_pid(ledger)

    def cut_off() -> None:
        with ledger._tx() as db:
            db.execute("INSERT INTO now_posts (post_id, fixed_at) VALUES ('p1', 'x')")
            with admin(url) as other:
                other.execute("SELECT pg_terminate_backend(%s)", (pid,))
            db.execute("SELECT 1")

    with pytest.raises(LedgerError) as raised:
        cut_off()
    message = str(raised.value)
    assert message.startswith(f"the ledger {shown(url)} went away during a transaction (")
    assert "\n" not in message and PASSWORD not in message
    assert ledger._rows("SELECT * FROM now_posts") == []  # rolled back; the ledger goes on
    one_outage(said(), url)


def test_a_claim_cut_off_in_the_middle_is_run_again(
    url: str, open_ledger: Callable[..., PostgresLedger], said: Callable[[], list[str]]
) -> None:
    ledger = open_ledger()
    ledger.sync([want("p1"), want("p2")], T0)
    pid = backend_pid(ledger)
    with admin(url) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (CLAIM_LOCK_KEY,))  # the claim waits here
        thread, result = in_thread(lambda: ledger.claim_due("w1", T0, LEASE))
        wait_until(
            lambda: (
                other.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'",
                    (pid,),
                ).fetchone()
                is not None
            )
        )
        other.execute("SELECT pg_terminate_backend(%s)", (pid,))
        other.execute("SELECT pg_advisory_unlock(%s)", (CLAIM_LOCK_KEY,))
    thread.join(30)
    assert [d.post_id for d in result[0]] == ["p1", "p2"], result
    one_outage(said(), url)


def test_a_claim_whose_commit_went_through_unanswered_keeps_its_rows(
    url: str, open_ledger: Callable[..., PostgresLedger], said: Callable[[], list[str]]
) -> None:
    """The connection breaks while the claim's COMMIT is on its way, and the commit is done:
    running the claim again would find nothing (those rows are claimed already) and leave them
    claimed by this worker with nobody working on them. The server is asked instead."""
    ledger = open_ledger()
    ledger.sync([want("p1")], T0)
    pid = backend_pid(ledger)
    with admin(url) as other:
        # No standby will ever confirm: a commit waits after it is done locally.
        other.execute("ALTER SYSTEM SET synchronous_standby_names = 'nobody'")
        other.execute("SELECT pg_reload_conf()")
        try:
            ledger._write("SET synchronous_commit = on", ())
            wait_until(
                lambda: (
                    ledger._rows("SHOW synchronous_standby_names")[0]
                    == {"synchronous_standby_names": "nobody"}
                )
            )
            thread, result = in_thread(lambda: ledger.claim_due("w1", T0, LEASE))
            wait_until(
                lambda: (
                    other.execute(
                        "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND wait_event = 'SyncRep'",
                        (pid,),
                    ).fetchone()
                    is not None
                )
            )
            other.execute("SELECT pg_terminate_backend(%s)", (pid,))
            thread.join(30)
        finally:
            other.execute("ALTER SYSTEM RESET synchronous_standby_names")
            other.execute("SELECT pg_reload_conf()")
    assert [d.post_id for d in result[0]] == ["p1"], result
    (row,) = ledger.deliveries()
    assert (row.state, row.lease_owner, row.attempts) == (State.CLAIMED, "w1", 1)
    one_outage(said(), url)


def test_statement_errors_are_not_taken_for_an_outage(
    open_ledger: Callable[..., PostgresLedger], said: Callable[[], list[str]]
) -> None:
    ledger = open_ledger()
    with pytest.raises(psycopg.errors.UndefinedTable):
        ledger._rows("SELECT * FROM nowhere")
    ledger._write("SET statement_timeout = '50ms'", ())
    with pytest.raises(LedgerError, match="statement timeout"):  # an OperationalError, once
        ledger._rows("SELECT pg_sleep(1)")
    assert ledger.deliveries() == []
    assert said() == []


def test_a_wrong_address_still_fails_at_once(said: Callable[[], list[str]]) -> None:
    began = time.monotonic()
    with pytest.raises(LedgerError, match=r"^cannot open the ledger postgresql://edu:\*\*\*@"):
        PostgresLedger(
            f"postgresql://edu:{PASSWORD}@127.0.0.1:1/nope", "postgresql://edu:***@127.0.0.1:1/nope"
        )
    assert time.monotonic() - began < 2
    assert said() == []
