"""Several workers on one PostgreSQL ledger: four real `eduadvocate schedule --quiet` processes
drain 2,000 due deliveries over X accounts (the X fake) and Mastodon accounts (the loopback
mock). Every post reaches its platform exactly once, the ledger agrees, and the work is shared;
a worker SIGKILLed mid-run, while the platform holds back the answer to a post it stored, is
taken over by the others, which reconcile its open attempts instead of sending them again.

The shape is set by the fakes and the scheduler. The Mastodon mock stores about 35 statuses a
second on a 2-core machine, so it gets 200 of the 2,000; the X fake allows 100 posts per account
per 15 minutes (as X does). A worker runs 8 accounts at once and keeps an account while it has
due posts, so the 40 accounts outnumber what three workers can hold: the fourth always gets some.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from eduadvocate.ledger import open_ledger
from eduadvocate.ledger.base import iso
from tests import launch
from tests.fakes.mastodon import MastodonFake
from tests.fakes.x_api import Reply, XFake

WORKERS = 4
POSTS = 2_000
X_ACCOUNTS = 36  # 50 posts each
MASTODON_ACCOUNTS = 4
MASTODON_POSTS = 200
DRAIN_S = 75.0
STOP_S = 30.0
FINAL = ("published", "failed", "unknown", "skipped", "cancelled")


class HoldingXFake(XFake):
    """The X fake, able to hold back the answer to one post it has stored (``hold_next``): the
    moment a crash leaves a worker's attempt open with the post already on the platform."""

    def __init__(self) -> None:
        super().__init__()
        self.held_text: str | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self._armed = False
        self._arm_lock = threading.Lock()

    def hold_next(self) -> None:
        with self._arm_lock:
            self._armed = True

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        reply = super().handle(method, target, headers, body)
        if method == "POST" and target == "/2/tweets" and reply.status == 201:
            with self._arm_lock:
                hold, self._armed = self._armed, False
            if hold:
                self.held_text = json.loads(body)["text"]
                self.holding.set()
                self.release.wait(STOP_S)
        return reply


@dataclass(frozen=True)
class Campaign:
    root: Path
    env: dict[str, str]
    texts: dict[str, tuple[str, str]]  # post text -> (post id, account)
    mastodon_tokens: dict[str, str]  # account -> its access token


@dataclass
class Worker:
    """One `eduadvocate schedule --quiet` process; its output goes to files (read on failure)."""

    proc: subprocess.Popen[bytes]
    out: Path
    err: Path

    def tail(self) -> str:
        text = self.out.read_text(errors="replace") + self.err.read_text(errors="replace")
        return f"--- worker pid {self.proc.pid} (exit {self.proc.poll()}):\n{text[-1500:]}"


@dataclass
class Workers:
    """The running workers; ``describe()`` is every worker's output, for failure messages."""

    root: Path
    env: dict[str, str]
    running: list[Worker] = field(default_factory=list)

    def start(self, count: int) -> None:
        for n in range(count):
            out, err = self.root / f"worker{n}.out", self.root / f"worker{n}.err"
            with out.open("wb") as stdout, err.open("wb") as stderr:
                proc = subprocess.Popen(
                    launch.command("schedule", "--quiet"),
                    cwd=self.root,
                    env=launch.environment(self.env),
                    stdin=subprocess.DEVNULL,
                    stdout=stdout,
                    stderr=stderr,
                )
            self.running.append(Worker(proc, out, err))

    def by_pid(self, pid: int) -> Worker:
        return next(w for w in self.running if w.proc.pid == pid)

    def describe(self) -> str:
        return "\n".join(w.tail() for w in self.running)

    def stop(self, workers: list[Worker]) -> dict[int, int | None]:
        """SIGTERM, then wait for each; pid -> exit status (None: it had to be killed)."""
        for w in workers:
            if w.proc.poll() is None:
                w.proc.send_signal(signal.SIGTERM)
        statuses: dict[int, int | None] = {}
        for w in workers:
            try:
                statuses[w.proc.pid] = w.proc.wait(STOP_S)
            except subprocess.TimeoutExpired:
                statuses[w.proc.pid] = None
        return statuses

    def kill_all(self) -> None:
        for w in self.running:
            if w.proc.poll() is None:
                w.proc.kill()
            w.proc.wait()


def _pid(worker_id: str) -> int:
    """The process id inside a worker id (``host:pid-suffix``)."""
    found = re.search(r":(\d+)-[0-9a-f]+$", worker_id)
    assert found, worker_id
    return int(found.group(1))


def _plain(content: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", content))


def _mastodon_account(fake: MastodonFake, username: str) -> str:
    """A new account on the mock; its access token."""
    request = urllib.request.Request(
        f"{fake.upstream_url}/api/v1/_mock/dev_user",
        data=json.dumps({"username": username}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as answer:
        token: str = json.load(answer)["access_token"]
    return token


@pytest.fixture
def x_fake() -> Iterator[HoldingXFake]:
    fake = HoldingXFake()
    with fake:
        yield fake
        fake.release.set()


@pytest.fixture
def campaign(
    tmp_path: Path, postgres_url: str, x_fake: HoldingXFake, mastodon_fresh: MastodonFake
) -> Campaign:
    """2,000 posts due in the last hour (inside the grace window), one posts file per account,
    on the real clock; the workers' environment holds every account's secrets."""
    root = tmp_path / "campaign"
    (root / "posts").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "EDUADVOCATE_NOW"}
    lines = [f"ledger: {postgres_url}", "lease: 3s", "defaults: {timezone: UTC}", "accounts:"]
    for i in range(X_ACCOUNTS):
        name = f"x{i:02d}"
        keys = x_fake.add_account(name)
        lines += [f"  {name}:", "    platform: x", f"    username: {name}"]
        for key in ("consumer_key", "consumer_secret", "access_token", "access_token_secret"):
            env[f"W_{name}_{key}"] = getattr(keys, key)
            lines.append(f"    {key}: ${{W_{name}_{key}}}")
        lines += [f"    base_url: {x_fake.base_url}", "    daily_cap: 100000"]
    tokens: dict[str, str] = {}
    for i in range(MASTODON_ACCOUNTS):
        name = f"m{i}"
        tokens[name] = env[f"W_{name}_token"] = _mastodon_account(mastodon_fresh, f"advocate{i}")
        lines += [
            f"  {name}:",
            "    platform: mastodon",
            f"    instance: {mastodon_fresh.base_url}",
        ]
        lines += [f"    access_token: ${{W_{name}_token}}"]
    (root / "config.yaml").write_text("\n".join(lines) + "\n")
    # The schema first, as `eduadvocate ledger migrate` would: workers that all start on an
    # empty database can see it half-migrated (reported; not what these tests are about).
    open_ledger(postgres_url, root).close()

    first = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    texts: dict[str, tuple[str, str]] = {}
    entries: dict[str, list[str]] = {}
    for n in range(POSTS):
        name = f"m{n % MASTODON_ACCOUNTS}" if n < MASTODON_POSTS else f"x{n % X_ACCOUNTS:02d}"
        post_id = f"w-{n:04d}"
        text = f"Worker post {n} of {POSTS} on {name}: fund our schools, keep classes small."
        at = (first + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        entry = f"  - id: {post_id}\n    at: {at}\n    text: {json.dumps(text)}"
        entries.setdefault(name, []).append(entry)
        texts[text] = (post_id, name)
    for name, posts in entries.items():
        body = f"accounts: [{name}]\nposts:\n" + "\n".join(posts) + "\n"
        (root / "posts" / f"{name}.yaml").write_text(body)
    return Campaign(root, env, texts, tokens)


@pytest.fixture
def workers(campaign: Campaign) -> Iterator[Workers]:
    running = Workers(campaign.root, campaign.env)
    try:
        yield running
    finally:
        running.kill_all()


@contextlib.contextmanager
def _db(url: str) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        yield conn


def _states(url: str) -> Counter[str]:
    with _db(url) as conn:
        rows = conn.execute("SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state")
        return Counter({r["state"]: r["n"] for r in rows})


def _wait_for(condition: Callable[[], bool], timeout: float, workers: Workers, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}\n{workers.describe()}", pytrace=False)
        time.sleep(0.2)


def _drained(url: str) -> bool:
    states = _states(url)
    return sum(states.values()) == POSTS and all(s in FINAL for s in states)


def _on_platforms(
    campaign: Campaign, x_fake: XFake, mastodon: MastodonFake
) -> list[tuple[str, str]]:
    """Every post on the platforms as (text, remote id)."""
    stored = [(p.submitted, p.id) for p in x_fake.posts()]
    for token in campaign.mastodon_tokens.values():
        stored += [(_plain(s.content), str(s.id)) for s in mastodon.statuses(token)]
    return stored


def _published_once(
    campaign: Campaign, x_fake: XFake, mastodon: MastodonFake, url: str, workers: Workers
) -> None:
    """Each text on its platform exactly once, and the ledger's parts name what was stored."""
    stored = _on_platforms(campaign, x_fake, mastodon)
    counts = Counter(text for text, _ in stored)
    twice = sorted(t for t, c in counts.items() if c > 1)
    missing = sorted(set(campaign.texts) - set(counts))
    assert (twice, missing) == ([], []), f"{len(twice)} twice, {len(missing)} missing"
    assert len(stored) == POSTS
    remote = {campaign.texts[text]: rid for text, rid in stored}
    with _db(url) as conn:
        rows = conn.execute(
            "SELECT d.post_id, d.account, d.state, p.part_index, p.remote_id FROM deliveries d"
            " LEFT JOIN parts p ON p.delivery_id = d.id"
        ).fetchall()
    assert Counter(r["state"] for r in rows) == {"published": POSTS}, workers.describe()
    recorded = {(r["post_id"], r["account"]): r["remote_id"] for r in rows}
    assert [r["part_index"] for r in rows] == [0] * POSTS
    assert recorded == remote


def _successes(url: str) -> dict[tuple[int, int], list[dict[str, Any]]]:
    """(delivery, part) -> its attempts that ended with the post on the platform."""
    with _db(url) as conn:
        rows = conn.execute(
            "SELECT * FROM attempts WHERE outcome IN ('ok', 'found') ORDER BY id"
        ).fetchall()
    out: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault((r["delivery_id"], r["part_index"]), []).append(r)
    return out


def test_four_workers_share_the_drain_and_publish_each_post_once(
    campaign: Campaign,
    x_fake: HoldingXFake,
    mastodon_fresh: MastodonFake,
    postgres_url: str,
    workers: Workers,
) -> None:
    workers.start(WORKERS)
    _wait_for(lambda: _drained(postgres_url), DRAIN_S, workers, "every delivery is final")
    statuses = workers.stop(workers.running)
    assert list(statuses.values()) == [143] * WORKERS, workers.describe()

    _published_once(campaign, x_fake, mastodon_fresh, postgres_url, workers)
    successes = _successes(postgres_url)
    assert len(successes) == POSTS
    assert all(len(a) == 1 for a in successes.values())  # one success per part: none re-sent
    by_pid = Counter(_pid(a[0]["worker"]) for a in successes.values())
    assert set(by_pid) == {w.proc.pid for w in workers.running}, by_pid  # everyone took a share


def test_a_killed_worker_is_taken_over_and_its_open_attempts_reconciled(
    campaign: Campaign,
    x_fake: HoldingXFake,
    mastodon_fresh: MastodonFake,
    postgres_url: str,
    workers: Workers,
) -> None:
    workers.start(WORKERS)
    _wait_for(
        lambda: _states(postgres_url)["published"] >= 400, DRAIN_S, workers, "400 are published"
    )
    x_fake.hold_next()  # the next post X stores gets no answer until the test releases it
    _wait_for(x_fake.holding.is_set, 20, workers, "a post is held")
    held_post, _ = campaign.texts[x_fake.held_text or ""]
    with _db(postgres_url) as conn:
        open_attempt = conn.execute(
            "SELECT a.* FROM attempts a JOIN deliveries d ON d.id = a.delivery_id"
            " WHERE d.post_id = %s AND a.outcome IS NULL",
            (held_post,),
        ).fetchone()
    assert open_attempt is not None, workers.describe()
    victim_id: str = open_attempt["worker"]
    victim = workers.by_pid(_pid(victim_id))
    victim.proc.kill()
    assert victim.proc.wait(STOP_S) == -signal.SIGKILL
    killed_at = iso(datetime.now(UTC))
    x_fake.release.set()  # the answer goes to a dead process
    with _db(postgres_url) as conn:
        claimed = {
            r["id"]
            for r in conn.execute(
                "SELECT id FROM deliveries WHERE state = 'claimed' AND lease_owner = %s",
                (victim_id,),
            )
        }
        left_open = {
            r["id"]: r
            for r in conn.execute(
                "SELECT * FROM attempts WHERE worker = %s AND outcome IS NULL", (victim_id,)
            )
        }
    assert open_attempt["delivery_id"] in claimed and open_attempt["id"] in left_open

    survivors = [w for w in workers.running if w is not victim]
    _wait_for(lambda: _drained(postgres_url), DRAIN_S, workers, "every delivery is final")
    statuses = workers.stop(survivors)
    assert list(statuses.values()) == [143] * (WORKERS - 1), workers.describe()

    _published_once(campaign, x_fake, mastodon_fresh, postgres_url, workers)
    with _db(postgres_url) as conn:
        taken = conn.execute(
            "SELECT id, state, lease_owner, updated_at FROM deliveries WHERE id = ANY(%s)",
            (sorted(claimed),),
        ).fetchall()
        reconciled = {
            r["id"]: r
            for r in conn.execute("SELECT * FROM attempts WHERE id = ANY(%s)", (sorted(left_open),))
        }
    # Everything the dead worker held was finished after it died, so by another worker.
    assert all(r["state"] == "published" and r["updated_at"] > killed_at for r in taken)
    assert len(taken) == len(claimed)
    # Its open attempts were settled by looking (found, or certainly absent), never left open.
    assert {r["outcome"] for r in reconciled.values()} <= {"found", "absent"}, reconciled
    assert reconciled[open_attempt["id"]]["outcome"] == "found"
    successes = _successes(postgres_url)
    assert all(len(a) == 1 for a in successes.values())  # one success per part: none re-sent
    for attempt in reconciled.values():
        (success,) = successes[(attempt["delivery_id"], attempt["part_index"])]
        if attempt["outcome"] == "absent":  # sent again only once known not to be there
            assert _pid(success["worker"]) != victim.proc.pid and success["id"] > attempt["id"]
    # The held post: stored once by X before the kill, and that post is what the ledger records.
    with _db(postgres_url) as conn:
        (part,) = conn.execute(
            "SELECT remote_id FROM parts WHERE delivery_id = %s", (open_attempt["delivery_id"],)
        ).fetchall()
    assert [p.id for p in x_fake.posts() if p.submitted == x_fake.held_text] == [part["remote_id"]]
