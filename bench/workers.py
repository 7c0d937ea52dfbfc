"""Workers: throughput of 1, 2 and 4 `eduadvocate schedule --quiet` processes sharing one
PostgreSQL ledger, on the same drain (64 X accounts x 30 due posts, the X fake answering every
request 200 ms late, about what X's API takes to create a post), and the takeover time after one
of 2 workers is SIGKILLed.

The latency matters on a small machine: a worker spends about 10 ms of CPU per delivery
together with the fake and PostgreSQL, so at 50 ms per request (``--latency 0.05``) four workers
fill 2 cores and stop at about 1.9x one worker. At 200 ms they are bound by what they wait for,
as in production, which is what the scaling target is about.

A worker runs at most 8 accounts at once and one account's posts one at a time, so with 64
accounts a single worker is bound by that (8 accounts x 50 ms per post), not by the fake's
quotas (30 posts per account, under its 100 per 15 minutes). Target (issue): 4 workers >= 3x the
throughput of one. The figure is deliveries per second from the first post the fake receives to
the last answer it sends (start-up and the ledger sync excluded; the wall time from launch is
shown beside it). Shown with it: how busy the machine's cores were, and the CPU seconds of the
workers, of this process (the fake) and of PostgreSQL, and the ledger's transactions per
delivery: on a small machine the workers compete with the fake and the database for the cores.

Takeover, with `lease: 3s` (the minimum): one of 2 workers is SIGKILLed while it holds claims;
shown are the seconds from the kill until the other worker claims the first of them, publishes
the first and publishes all of them. The bound for the claim is one lease plus one sweep
(min(30 s, lease / 2)) when the survivor has a free thread: measured on 8 accounts (a worker
runs 8 at once), and again on the 64-account drain, where the survivor is busy with its own.

Every run must leave each post on the fake exactly once; each run gets a fresh database on a
throwaway PostgreSQL cluster (tests/fakes/postgres.py, started here and deleted afterwards).

    python bench/workers.py [--accounts N] [--posts-per-account N] [--latency S] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the cluster lives with the tests

from tests.fakes.postgres import PostgresServer, find_bindir, running_cluster

from drain import EXE, RecordingXFake, child_env, warm_up, x_campaign

LEASE_S = 3
SWEEP_S = min(30.0, LEASE_S / 2)  # eduadvocate.delivery.scheduler's sweep for this lease
SPARE = (8, 90)  # accounts x posts for the takeover with a survivor that has free threads
FINAL = ("published", "failed", "unknown", "skipped", "cancelled")
TIMEOUT_S = 300.0
TICK = os.sysconf("SC_CLK_TCK")
WORKER_ID = re.compile(r":(\d+)-[0-9a-f]+$")


@dataclass(frozen=True, slots=True)
class Shape:
    accounts: int
    per_account: int
    latency: float

    @property
    def posts(self) -> int:
        return self.accounts * self.per_account


@dataclass(frozen=True, slots=True)
class Cpu:
    """CPU seconds so far: the machine (busy and total, all cores), the reaped children (the
    workers, once stopped), this process (the fake) and the PostgreSQL cluster."""

    busy: float
    total: float
    children: float
    me: float
    postgres: float

    @classmethod
    def now(cls, server: PostgresServer) -> Cpu:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = ticks[3] + ticks[4]  # idle + iowait
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        me = resource.getrusage(resource.RUSAGE_SELF)
        return cls(
            (sum(ticks) - idle) / TICK,
            sum(ticks) / TICK,
            children.ru_utime + children.ru_stime,
            me.ru_utime + me.ru_stime,
            _postgres_cpu(server),
        )

    def cores_busy(self, before: Cpu) -> float:
        total = self.total - before.total
        return (self.busy - before.busy) / total * (os.cpu_count() or 1) if total else 0.0


def _postgres_cpu(server: PostgresServer) -> float:
    """The postmaster's CPU, its reaped backends' and its live children's (from /proc)."""
    assert server.data_dir is not None
    master = int((server.data_dir / "postmaster.pid").read_text().split()[0])
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rpartition(")")[2].split()
            pid, ppid = int(stat.parent.name), int(fields[1])
            if pid == master:
                total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
            elif ppid == master:
                total += int(fields[11]) + int(fields[12])
    return total / TICK


@contextlib.contextmanager
def _db(url: str) -> Iterator[Any]:
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        yield conn


def _pid(worker_id: str) -> int:
    found = WORKER_ID.search(worker_id)
    return int(found.group(1)) if found else -1


@dataclass
class Run:
    """Workers launched together on a fresh campaign, fake and database."""

    root: Path
    url: str
    fake: RecordingXFake
    texts: list[str]
    procs: list[subprocess.Popen[bytes]]
    launched: float  # time.time()
    before: Cpu  # at the launch

    @classmethod
    def start(
        cls, workers: int, server: PostgresServer, tmp: Path, shape: Shape, lease: int | None
    ) -> Run:
        root = tmp / f"run-{time.monotonic_ns()}"
        root.mkdir()
        fake = RecordingXFake()
        fake.start()
        now = datetime.now(UTC)
        wanted = [
            (
                f"x{n % shape.accounts:02d}",
                f"w-{n:05d}",
                # all due, spread over a half hour that ended 10 minutes ago (inside the grace)
                now - timedelta(minutes=40) + timedelta(seconds=n * 1800 // shape.posts),
                f"Worker post {n}: our schools need the levy, come to the board meeting.",
            )
            for n in range(shape.posts)
        ]
        campaign = root / "campaign"
        secrets = x_campaign(campaign, fake, shape.accounts, wanted)
        url = server.new_database("bench")
        with (campaign / "config.yaml").open("a") as config:
            config.write(f"ledger: {url}\n" + (f"lease: {lease}s\n" if lease else ""))
        env = child_env({"HOME": str(tmp / "home"), **secrets})
        # The schema first: workers that all start on an empty database can see it half-migrated.
        subprocess.run(
            [EXE, "ledger", "migrate"], cwd=campaign, env=env, check=True, capture_output=True
        )
        fake.inject("*", r".", "slow", times=None, seconds=shape.latency)
        before = Cpu.now(server)
        launched = time.time()
        procs = []
        for n in range(workers):
            with (root / f"worker{n}.log").open("wb") as log:
                procs.append(
                    subprocess.Popen(
                        [EXE, "schedule", "--quiet"],
                        cwd=campaign,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        return cls(root, url, fake, [t for *_, t in wanted], procs, launched, before)

    def states(self) -> Counter[str]:
        with _db(self.url) as conn:
            rows = conn.execute("SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state")
            return Counter({r["state"]: r["n"] for r in rows})

    def wait_drained(self) -> float:
        """Seconds from launch until every delivery is final."""
        deadline = time.time() + TIMEOUT_S
        while True:
            states = self.states()
            if sum(states.values()) == len(self.texts) and all(s in FINAL for s in states):
                return time.time() - self.launched
            if time.time() > deadline or all(p.poll() is not None for p in self.procs):
                raise SystemExit(f"the drain did not finish: {states}\n{self.logs()}")
            time.sleep(0.1)

    def stop(self) -> list[int | None]:
        """SIGTERM every live worker; their exit statuses (None: it had to be killed)."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        statuses: list[int | None] = []
        for proc in self.procs:
            try:
                statuses.append(proc.wait(60))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                statuses.append(None)
        return statuses

    def close(self, server: PostgresServer) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.fake.stop()
        server.drop_database(self.url)

    def logs(self) -> str:
        return "\n".join(
            f"--- worker {n}: {(self.root / f'worker{n}.log').read_text(errors='replace')[-800:]}"
            for n in range(len(self.procs))
        )

    def exactly_once(self) -> str:
        submitted = Counter(p.submitted for p in self.fake.posts())
        twice = sum(1 for c in submitted.values() if c > 1)
        missing = sum(1 for text in self.texts if text not in submitted)
        return (
            f"posts on the fake {sum(submitted.values()):,}, distinct {len(submitted):,}, "
            f"posted twice {twice}, missing {missing}"
        )

    def sending(self) -> tuple[float, float]:
        """When the fake received the first POST /2/tweets and sent the last answer."""
        posts = [a for a in self.fake.log if a.text is not None]
        return min(a.arrived for a in posts), max(a.answered for a in posts)

    def shares(self) -> list[int]:
        """Posts each worker sent (its attempts that went out), in launch order."""
        with _db(self.url) as conn:
            rows = conn.execute(
                "SELECT worker, COUNT(*) AS n FROM attempts WHERE outcome IN ('ok', 'found')"
                " GROUP BY worker"
            ).fetchall()
        by_pid = {_pid(r["worker"]): int(r["n"]) for r in rows}
        return [by_pid.get(p.pid, 0) for p in self.procs]

    def transactions(self) -> int:
        """Transactions committed in this run's database (the workers' and this process's)."""
        with _db(self.url) as conn:
            row = conn.execute(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
            ).fetchone()
        return int(row["xact_commit"])


def throughput(
    workers: int, server: PostgresServer, tmp: Path, shape: Shape
) -> tuple[float, list[str]]:
    """Deliveries per second while sending, and the lines to print."""
    run = Run.start(workers, server, tmp, shape, None)  # the default lease, as deployed
    before = run.before
    try:
        wall = run.wait_drained()
        drained = Cpu.now(server)
        statuses = run.stop()
        after = Cpu.now(server)  # the workers are reaped: their CPU is in `children` now
        first, last = run.sending()
        sending = last - first
        per_s = shape.posts / sending
        posts = shape.posts
        workers_cpu = after.children - before.children
        fake_cpu, postgres_cpu = after.me - before.me, after.postgres - before.postgres
        ours = (workers_cpu + fake_cpu + postgres_cpu) / (time.time() - run.launched)
        too_many = sum(1 for a in run.fake.log if a.status == 429)
        lines = [
            f"  {workers} worker{'s' if workers > 1 else ' '}: {per_s:6.1f} deliveries/s; "
            f"sending {sending:5.2f} s, wall from launch {wall:5.2f} s (first post +"
            f"{first - run.launched:4.2f} s)",
            f"      CPU per delivery: workers {1000 * workers_cpu / posts:4.1f} ms, fake "
            f"{1000 * fake_cpu / posts:4.1f} ms, PostgreSQL {1000 * postgres_cpu / posts:4.1f} ms "
            f"(together {ours:4.2f} of {os.cpu_count()} cores; the machine was "
            f"{drained.cores_busy(before):4.2f} busy); ledger transactions "
            f"{run.transactions() / posts:4.1f} per delivery",
            f"      shares {'/'.join(str(s) for s in run.shares())}; 429s {too_many}; exit "
            f"{', '.join(str(s) for s in statuses)}; {run.exactly_once()}",
        ]
        return per_s, lines
    finally:
        run.close(server)


def takeover(server: PostgresServer, tmp: Path, shape: Shape) -> list[str]:
    """SIGKILL the one of 2 workers holding the most claims once a quarter is published; how
    long until the other worker claims and publishes what it held."""
    run = Run.start(2, server, tmp, shape, LEASE_S)
    try:
        deadline = time.time() + TIMEOUT_S
        victim_id = None
        while victim_id is None:
            states = run.states()
            if time.time() > deadline or states["published"] == shape.posts:
                raise SystemExit(f"no worker held claims to kill: {states}\n{run.logs()}")
            time.sleep(0.05)
            if states["published"] < shape.posts // 4:
                continue
            with _db(run.url) as conn:
                owner = conn.execute(
                    "SELECT lease_owner, COUNT(*) AS n FROM deliveries WHERE state = 'claimed'"
                    " GROUP BY lease_owner ORDER BY n DESC LIMIT 1"
                ).fetchone()
            victim_id = owner["lease_owner"] if owner else None
        victim = next(p for p in run.procs if p.pid == _pid(victim_id))
        victim.send_signal(signal.SIGKILL)
        killed = time.time()
        victim.wait()
        with _db(run.url) as conn:
            held = [
                r["id"]
                for r in conn.execute(
                    "SELECT id FROM deliveries WHERE state = 'claimed' AND lease_owner = %s",
                    (victim_id,),
                )
            ]
            left_open = [
                r["id"]
                for r in conn.execute(
                    "SELECT id FROM attempts WHERE worker = %s AND outcome IS NULL", (victim_id,)
                )
            ]
        published = run.states()["published"]
        claimed_s: float | None = None
        first_s: float | None = None
        while True:
            with _db(run.url) as conn:
                rows = conn.execute(
                    "SELECT state, lease_owner FROM deliveries WHERE id = ANY(%s)", (held,)
                ).fetchall()
            elapsed = time.time() - killed
            if claimed_s is None and any(r["lease_owner"] not in (victim_id, None) for r in rows):
                claimed_s = elapsed
            done = sum(1 for r in rows if r["state"] == "published")
            if first_s is None and done:
                first_s = elapsed
            if done == len(held):
                break
            if time.time() > deadline:
                raise SystemExit(f"the dead worker's claims were not taken over\n{run.logs()}")
            time.sleep(0.02)
        run.wait_drained()
        statuses = run.stop()
        with _db(run.url) as conn:
            outcomes = Counter(
                str(r["outcome"])
                for r in conn.execute(
                    "SELECT outcome FROM attempts WHERE id = ANY(%s)", (left_open,)
                )
            )
        once = run.exactly_once()
    finally:
        run.close(server)
    settled = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) or "none open"
    return [
        f"  takeover, {shape.accounts} accounts x {shape.per_account}: worker SIGKILLed after "
        f"{published:,} published, holding {len(held)} claims and {len(left_open)} open attempts",
        f"      first claimed by the other {_after(claimed_s)}, first published {_after(first_s)}, "
        f"all {len(held)} published {_after(elapsed)} (bound for the claim with a free thread: lease "
        f"{LEASE_S} s + sweep {SWEEP_S:.1f} s = {LEASE_S + SWEEP_S:.1f} s)",
        f"      its open attempts settled as: {settled}; exit {', '.join(str(s) for s in statuses)}; "
        f"{once}",
    ]


def _after(seconds: float | None) -> str:
    return f"+{seconds:5.2f} s" if seconds is not None else "(not seen)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=64)
    parser.add_argument("--posts-per-account", type=int, default=30)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per request")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to compare")
    args = parser.parse_args()
    if args.posts_per_account > 100:
        parser.error("the X fake allows 100 posts per account per 15 minutes")
    shape = Shape(args.accounts, args.posts_per_account, args.latency)
    counts = [int(n) for n in args.workers.split(",")]
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL server binaries: run `bash scripts/install-postgres`")
    with tempfile.TemporaryDirectory() as tmp_name, running_cluster(bindir) as server:
        tmp = Path(tmp_name)
        (tmp / "home").mkdir()
        warm_up(child_env({"HOME": str(tmp / "home")}))
        print(
            f"workers: {shape.posts:,} due deliveries over {shape.accounts} X accounts "
            f"({shape.per_account} each), {shape.latency * 1000:.0f} ms per request, PostgreSQL "
            f"ledger (default lease; {LEASE_S} s for the takeover), {os.cpu_count()} cores"
        )
        rates: dict[int, float] = {}
        for n in counts:
            rates[n], lines = throughput(n, server, tmp, shape)
            print(*lines, sep="\n")
        if 1 in rates:
            ratios = ", ".join(f"{n}: {rates[n] / rates[1]:4.2f}x" for n in counts if n != 1)
            print(f"  vs one worker: {ratios} (target: 4 workers >= 3x when not quota-bound)")
        print(*takeover(server, tmp, Shape(*SPARE, shape.latency)), sep="\n")
        print(*takeover(server, tmp, shape), sep="\n")


if __name__ == "__main__":
    main()
