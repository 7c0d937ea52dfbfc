"""Workers outlive their database: two real `eduadvocate schedule` processes publish 100 posts to
the X fake over a PostgreSQL ledger while the server is restarted (``pg_ctl restart -m fast``)
and later stopped for a few seconds, longer than the lease. They wait for it, say so in a line or
two, and go on: every post reaches X exactly once, the ledger records each with X's id, and no
claim or attempt is left open.

The server is the restartable cluster of tests/fakes/postgres.py, never the session's shared one.
X answers each post after a delay, so the publishing spans both outages.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from eduadvocate.ledger import open_ledger
from tests import launch
from tests.conftest import Make
from tests.fakes.postgres import Cluster
from tests.fakes.x_api import XFake

POSTS = 100
ACCOUNTS = 4
X_DELAY_S = 0.3  # each post takes this long at X: 25 per account, so about 8 s in all
DOWN_S = 4.0  # longer than the lease (3 s): claims expire while the server is away
DRAIN_S = 60.0
STOP_S = 30.0
OUTAGE_LINES = ("is unreachable", "is back after")
# A clean stop on SIGTERM: 143 (128 + SIGTERM) since stops say how they ended, 0 before.
CLEAN_STOP = (0, 128 + signal.SIGTERM)


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    out: Path
    err: Path

    def stderr(self) -> str:
        return self.err.read_text(errors="replace")

    def tail(self) -> str:
        text = self.out.read_text(errors="replace") + self.stderr()
        return f"--- worker pid {self.proc.pid} (exit {self.proc.poll()}):\n{text[-2000:]}"


@pytest.fixture
def realtime(monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers run on the real clock."""
    monkeypatch.delenv("EDUADVOCATE_NOW")


@pytest.fixture
def x_fake() -> Iterator[XFake]:
    with XFake() as fake:
        yield fake


@pytest.fixture
def ledger_url(restartable_postgres: Cluster) -> Iterator[str]:
    url = restartable_postgres.server.new_database()
    yield url
    restartable_postgres.start()
    restartable_postgres.server.drop_database(url)


@pytest.fixture
def campaign(
    realtime: None, make_campaign: Make, x_fake: XFake, ledger_url: str
) -> tuple[Path, dict[str, str], dict[str, str]]:
    """100 posts due in the last minutes, each for one of four X accounts; the workers'
    environment (with the accounts' keys) and each post's text → its id."""
    env = {k: v for k, v in os.environ.items() if k != "EDUADVOCATE_NOW"}
    config = [f"ledger: {ledger_url}", "lease: 3s", "defaults: {timezone: UTC}", "accounts:"]
    for i in range(ACCOUNTS):
        name = f"x{i}"
        keys = x_fake.add_account(name)
        config += [f"  {name}:", "    platform: x", f"    username: {name}"]
        for key in ("consumer_key", "consumer_secret", "access_token", "access_token_secret"):
            env[f"W_{name}_{key}"] = getattr(keys, key)
            config.append(f"    {key}: ${{W_{name}_{key}}}")
        config += [f"    base_url: {x_fake.base_url}", "    daily_cap: 100000"]
    first = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    texts: dict[str, str] = {}
    files: dict[str, list[str]] = {}
    for n in range(POSTS):
        account = f"x{n % ACCOUNTS}"
        text = f"Outage post {n} of {POSTS} on {account}: fund our schools, keep classes small."
        at = (first + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        entry = f"  - id: o-{n:03d}\n    at: {at}\n    text: {json.dumps(text)}"
        files.setdefault(account, []).append(entry)
        texts[text] = f"o-{n:03d}"
    root = make_campaign(
        {
            f"{account}.yaml": f"accounts: [{account}]\nposts:\n" + "\n".join(entries) + "\n"
            for account, entries in files.items()
        },
        config="\n".join(config) + "\n",
    )
    open_ledger(ledger_url, root).close()  # the schema first, as `ledger migrate` would
    x_fake.inject("POST", r"^/2/tweets$", "slow", times=None, seconds=X_DELAY_S)
    return root, env, texts


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    running: list[Worker] = []
    yield running
    for w in running:
        if w.proc.poll() is None:
            w.proc.kill()
        w.proc.wait()


def _start(root: Path, env: dict[str, str], n: int) -> Worker:
    out, err = root / f"worker{n}.out", root / f"worker{n}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            launch.command("schedule", "--quiet"),
            cwd=root,
            env=launch.environment(env),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )
    return Worker(proc, out, err)


def _published(url: str) -> int:
    """How many deliveries the ledger says are published (0 while the server is away)."""
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            row = conn.execute("SELECT count(*) FROM deliveries WHERE state = 'published'")
            return int(row.fetchone()[0])  # type: ignore[index]
    except psycopg.OperationalError:
        return 0


def _wait_for(
    condition: Callable[[], bool], timeout: float, workers: list[Worker], what: str
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            tails = "\n".join(w.tail() for w in workers)
            pytest.fail(f"timed out waiting until {what}\n{tails}", pytrace=False)
        time.sleep(0.1)


def test_workers_outlive_a_restart_and_an_outage_and_publish_each_post_once(
    restartable_postgres: Cluster,
    campaign: tuple[Path, dict[str, str], dict[str, str]],
    x_fake: XFake,
    ledger_url: str,
    workers: list[Worker],
) -> None:
    root, env, texts = campaign
    workers += [_start(root, env, n) for n in range(2)]

    _wait_for(lambda: _published(ledger_url) >= 20, DRAIN_S, workers, "20 are published")
    restartable_postgres.restart("fast")
    _wait_for(lambda: _published(ledger_url) >= 50, DRAIN_S, workers, "50 are published")
    restartable_postgres.stop("fast")
    time.sleep(DOWN_S)
    restartable_postgres.start()
    assert _published(ledger_url) < POSTS  # the outage came in the middle of the work
    _wait_for(lambda: _published(ledger_url) == POSTS, DRAIN_S, workers, "all are published")

    for w in workers:
        w.proc.send_signal(signal.SIGTERM)
    statuses = [w.proc.wait(STOP_S) for w in workers]
    described = "\n".join(w.tail() for w in workers)
    assert all(status in CLEAN_STOP for status in statuses), described

    # On X: every post exactly once.
    stored = Counter(p.submitted for p in x_fake.posts())
    assert sorted(t for t, c in stored.items() if c > 1) == [], described
    assert set(stored) == set(texts)
    # In the ledger: published with X's ids; no claim, no attempt left open.
    remote = {texts[p.submitted]: p.id for p in x_fake.posts()}
    with psycopg.connect(ledger_url) as conn:
        rows = conn.execute(
            "SELECT d.post_id, d.state, p.part_index, p.remote_id FROM deliveries d"
            " LEFT JOIN parts p ON p.delivery_id = d.id ORDER BY d.post_id"
        ).fetchall()
        left_open = conn.execute("SELECT * FROM attempts WHERE outcome IS NULL").fetchall()
    assert Counter(state for _, state, _, _ in rows) == {"published": POSTS}, described
    assert {post: rid for post, _, _, rid in rows} == remote
    assert [index for _, _, index, _ in rows] == [0] * POSTS
    assert left_open == [], described
    # Each worker said what happened in a few lines, never with a traceback.
    for w in workers:
        err = w.stderr()
        assert "Traceback" not in err, w.tail()
        assert "LedgerError" not in err + w.out.read_text(), w.tail()  # no job failed meanwhile
        said = [line for line in err.splitlines() if any(s in line for s in OUTAGE_LINES)]
        assert 1 <= len(said) <= 6, w.tail()


def test_a_worker_stopped_while_the_database_is_away_stops_at_once(
    campaign: tuple[Path, dict[str, str], dict[str, str]],
    restartable_postgres: Cluster,
    ledger_url: str,
    workers: list[Worker],
    x_fake: XFake,
) -> None:
    """SIGTERM during an outage does not wait out the 2-minute limit: the stop ends the wait.
    What it held expires and is taken over by the next worker, which publishes it once."""
    root, env, texts = campaign
    worker = _start(root, env, 0)
    workers.append(worker)
    _wait_for(lambda: _published(ledger_url) >= 5, DRAIN_S, workers, "it publishes")
    restartable_postgres.stop("immediate")
    _wait_for(lambda: OUTAGE_LINES[0] in worker.stderr(), DRAIN_S, workers, "it waits for it")
    began = time.monotonic()
    worker.proc.send_signal(signal.SIGTERM)
    status = worker.proc.wait(STOP_S)
    assert time.monotonic() - began < 10, worker.tail()
    assert status in CLEAN_STOP or status == 3, worker.tail()  # 3: the ledger is unreachable
    assert "Traceback" not in worker.stderr()
    restartable_postgres.start()
    again = _start(root, env, 1)
    workers.append(again)
    _wait_for(lambda: _published(ledger_url) == POSTS, DRAIN_S, workers, "all published")
    again.proc.send_signal(signal.SIGTERM)
    again.proc.wait(STOP_S)
    sent = Counter(p.submitted for p in x_fake.posts())
    assert max(sent.values()) == 1 and set(sent) == set(texts)
