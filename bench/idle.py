"""Idle: `eduadvocate schedule` holding 10,000 future deliveries (3,334 posts x 3 outbox accounts,
due from 1 h to 47 h ahead, inside the scheduler's 2-day horizon), nothing due meanwhile.

Targets (issue): resident memory once start-up has settled <= 80 MiB; CPU while idle ~0 (read
from /proc/<pid>/stat, utime + stime, over --idle seconds: by default one period of the
scheduler's 30 s retry sweep plus 2 s, so a sweep is always inside the window). Also shown: start-up time, peak RSS,
threads and their wake-ups (context switches), and that SIGTERM stops it with exit 0.

    python bench/idle.py [--posts N] [--idle S]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from drain import child_env, warm_up
from eduadvocate.delivery.scheduler import HORIZON, SWEEP_S
from eduadvocate.ledger import open_ledger
from lag import Schedule

ACCOUNTS = ("out-a", "out-b", "out-c")
CONFIG = f"defaults: {{timezone: UTC, accounts: [{', '.join(ACCOUNTS)}]}}\naccounts:\n" + "".join(
    f"  {a}: {{platform: outbox, folder: outbox}}\n" for a in ACCOUNTS
)
TICK = os.sysconf("SC_CLK_TCK")


def generate(root: Path, count: int, now: datetime) -> None:
    """``count`` posts at whole seconds spread from now + 1 h to now + 47 h, 500 per file."""
    (root / "posts").mkdir(parents=True)
    (root / "config.yaml").write_text(CONFIG)
    start, span = now.replace(microsecond=0) + timedelta(hours=1), timedelta(hours=46)
    assert start + span < now + HORIZON, "every delivery must be inside the scheduler's horizon"
    for f in range(0, count, 500):
        lines = ["posts:"]
        for i in range(f, min(count, f + 500)):
            at = (start + span * i / count).strftime("%Y-%m-%dT%H:%M:%SZ")
            text = json.dumps(f"Idle post {i}: the budget hearing is coming, tell the board.")
            lines.append(f"  - id: idle-{i:05d}\n    at: {at}\n    text: {text}")
        (root / "posts" / f"file-{f // 500:02d}.yaml").write_text("\n".join(lines) + "\n")


def status(pid: int, task: Path | None = None) -> dict[str, str]:
    """/proc/<pid>/status (or a thread's ``task/<tid>/status``) as a dict: VmRSS, Threads, ..."""
    path = (task or Path(f"/proc/{pid}")) / "status"
    return {
        k: v.strip() for k, _, v in (line.partition(":") for line in path.read_text().splitlines())
    }


def rss_mib(pid: int, key: str = "VmRSS") -> float:
    return int(status(pid)[key].split()[0]) / 1024


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (all threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # fields 14 and 15 of proc(5)


def wakeups(pid: int) -> int:
    """Context switches summed over the process's threads (each is a wake-up or a preemption)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            s = status(pid, task)
        except OSError:  # the thread ended meanwhile
            continue
        total += int(s["voluntary_ctxt_switches"]) + int(s["nonvoluntary_ctxt_switches"])
    return total


def settle(pid: int, limit: float) -> tuple[float, float]:
    """Wait until RSS holds within 1% for 3 s (or ``limit`` seconds); returns (RSS, seconds)."""
    start = time.monotonic()
    samples: list[float] = []
    while time.monotonic() - start < limit:
        samples.append(rss_mib(pid))
        recent = samples[-7:]
        if len(recent) == 7 and max(recent) - min(recent) <= 0.01 * max(recent):
            break
        time.sleep(0.5)
    return samples[-1], time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=3_334)
    parser.add_argument(
        "--idle",
        type=float,
        default=SWEEP_S + 2,
        help="seconds of idle to measure (default: one retry sweep period and a little)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "campaign"
        (Path(tmp) / "home").mkdir()
        generate(root, args.posts, datetime.now(UTC))
        env = child_env({"HOME": str(Path(tmp) / "home")})
        warm_up(env)

        run = Schedule.start(root, env)
        if not run.ready.wait(timeout=120):
            print("the scheduler did not report ready within 120 s")
        pid = run.proc.pid
        rss, settled_s = settle(pid, 30.0)
        cpu0, wake0, t0 = cpu_seconds(pid), wakeups(pid), time.monotonic()
        time.sleep(args.idle)
        cpu1, wake1, t1 = cpu_seconds(pid), wakeups(pid), time.monotonic()
        rss_after, peak, threads = rss_mib(pid), rss_mib(pid, "VmHWM"), status(pid)["Threads"]
        startup_cpu = cpu0
        code, stop_s, err = run.stop()

        ledger = open_ledger(".eduadvocate/ledger.sqlite3", root)
        try:
            states = Counter(str(d.state) for d in ledger.deliveries())
        finally:
            ledger.close()
        published = (
            len(list((root / "outbox").rglob("*.json"))) if (root / "outbox").exists() else 0
        )
        idle_cpu, elapsed = cpu1 - cpu0, t1 - t0

        print(
            f"idle: schedule with {args.posts:,} posts x {len(ACCOUNTS)} outbox accounts "
            f"({args.posts * len(ACCOUNTS):,} deliveries due in 1-47 h)"
        )
        print(
            f"  start-up: ready after {run.ready_at - run.started:5.2f} s, {startup_cpu:5.2f} s CPU; "
            f"{''.join(run.lines[:1]).strip()}"
        )
        print(
            f"  RSS after start-up settled ({settled_s:4.1f} s): {rss:6.1f} MiB (target <= 80 MiB); "
            f"peak (VmHWM) {peak:6.1f} MiB"
        )
        print(
            f"  idle {elapsed:4.1f} s: CPU {idle_cpu:5.2f} s = {100 * idle_cpu / elapsed:5.2f}% of a core "
            f"(target ~0); {threads} threads, {(wake1 - wake0) / elapsed:6.1f} wake-ups/s; "
            f"RSS then {rss_after:6.1f} MiB"
        )
        print(
            f"  ledger: {', '.join(f'{k} {v:,}' for k, v in sorted(states.items()))}; "
            f"published meanwhile {published}"
        )
        print(
            f"  SIGTERM -> exit {code} in {stop_s:4.2f} s"
            + (f"; stderr: {err.strip()[-300:]}" if err.strip() else "")
        )


if __name__ == "__main__":
    main()
