"""Lag: `eduadvocate schedule` with 500 posts falling due over one minute on 10 X accounts (the X
fake, no injected latency unless --latency): the delay from each post's due time to the moment
the fake receives its POST /2/tweets.

Target (issue): p99 <= 1 s. Every post must arrive exactly once; the scheduler is stopped with
SIGTERM at the end and must exit 0. The delay is also split at the attempt the ledger records
before the call (due -> attempt started -> request arrived), to show where it goes.

    python bench/lag.py [--posts N] [--accounts N] [--spread S] [--lead S] [--latency S]
"""

from __future__ import annotations

import argparse
import math
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from drain import EXE, RecordingXFake, child_env, warm_up, x_campaign
from eduadvocate.ledger import open_ledger

TAIL_S = 40.0  # after the last due time: longer than the scheduler's 30 s sweep


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def summary(values: list[float]) -> str:
    if not values:
        return "no data"
    return (
        f"p50 {percentile(values, 50) * 1000:7.1f} ms, p90 {percentile(values, 90) * 1000:7.1f} ms, "
        f"p99 {percentile(values, 99) * 1000:7.1f} ms, max {max(values) * 1000:7.1f} ms"
    )


@dataclass
class Schedule:
    """A running `eduadvocate schedule`, its stdout read in a thread (for the "scheduling" line)."""

    proc: subprocess.Popen[str]
    started: float
    err_path: Path
    ready: threading.Event = field(default_factory=threading.Event)
    ready_at: float = float("nan")  # time.time() of the "scheduling N posts" notice
    lines: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, root: Path, env: dict[str, str]) -> Schedule:
        """Start it in ``root``; stderr goes to ``root/schedule.err`` (read after it stops)."""
        started = time.time()
        with (root / "schedule.err").open("w") as err:
            proc = subprocess.Popen(
                [EXE, "schedule"], cwd=root, env=env, stdout=subprocess.PIPE, stderr=err, text=True
            )
        run = cls(proc, started, root / "schedule.err")
        threading.Thread(target=run._read, daemon=True).start()
        return run

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if not self.ready.is_set() and "scheduling" in line:
                self.ready_at = time.time()
                self.ready.set()

    def stop(self) -> tuple[int, float, str]:
        """SIGTERM; returns the exit status, the seconds it took to exit, and stderr."""
        sent = time.time()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode, time.time() - sent, self.err_path.read_text()

    def wait_for(self, done: Callable[[], bool], deadline: float) -> None:
        while time.time() < deadline and self.proc.poll() is None and not done():
            time.sleep(0.2)


def campaign(
    args: argparse.Namespace, root: Path, fake: RecordingXFake
) -> tuple[dict[str, datetime], dict[str, str], dict[str, str]]:
    """Posts due at whole seconds (what a posts file says) from ``lead`` to ``lead + spread`` from
    now; returns post id -> due, text -> post id, and the credentials' environment."""
    first = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=args.lead)
    due: dict[str, datetime] = {}
    post_of: dict[str, str] = {}
    wanted = []
    for n in range(args.posts):
        post_id = f"lag-{n:04d}"
        due[post_id] = first + timedelta(seconds=int(n * args.spread / args.posts))
        text = f"Lag post {n} of {args.posts}: the school board votes soon, be there."
        post_of[text] = post_id
        wanted.append((f"x{n % args.accounts:02d}", post_id, due[post_id], text))
    return due, post_of, x_campaign(root, fake, args.accounts, wanted)


def split_at_attempt(
    root: Path, due: dict[str, datetime], arrived: dict[str, float]
) -> tuple[list[float], list[float], Counter[str]]:
    """From the ledger: due -> first attempt recorded, attempt -> arrival, and the states."""
    to_attempt, to_call = [], []
    states: Counter[str] = Counter()
    ledger = open_ledger(".eduadvocate/ledger.sqlite3", root)
    try:
        for d in ledger.deliveries():
            states[str(d.state)] += 1
            attempts = ledger.attempts(d.id)
            if attempts and d.post_id in due:
                begun = attempts[0].started_at.timestamp()
                to_attempt.append(begun - due[d.post_id].timestamp())
                if d.post_id in arrived:
                    to_call.append(arrived[d.post_id] - begun)
    finally:
        ledger.close()
    return to_attempt, to_call, states


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds the due times span")
    parser.add_argument("--lead", type=float, default=10.0, help="seconds to the first due time")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, RecordingXFake() as fake:
        root = Path(tmp) / "campaign"
        (Path(tmp) / "home").mkdir()
        due, post_of, secrets = campaign(args, root, fake)
        env = child_env({"HOME": str(Path(tmp) / "home"), **secrets})
        if args.latency > 0:
            fake.inject("*", r".", "slow", times=None, seconds=args.latency)
        warm_up(env)

        run = Schedule.start(root, env)
        run.ready.wait(timeout=args.lead + 30)
        first_due = min(due.values()).timestamp()
        run.wait_for(
            lambda: sum(1 for a in fake.log if a.text is not None) >= args.posts,
            max(due.values()).timestamp() + TAIL_S,
        )
        status, stop_s, err = run.stop()

        arrivals = [a for a in fake.log if a.text is not None]
        arrived: dict[str, float] = {}  # post id -> first arrival
        for a in sorted(arrivals, key=lambda a: a.arrived):
            arrived.setdefault(post_of.get(a.text or "", "?"), a.arrived)
        delays = [arrived[p] - due[p].timestamp() for p in due if p in arrived]
        stored = Counter(p.submitted for p in fake.posts())
        twice = sum(1 for c in stored.values() if c > 1)
        missing = sum(1 for text in post_of if text not in stored)
        to_attempt, to_call, states = split_at_attempt(root, due, arrived)

        print(
            f"lag: {args.posts} posts due over {args.spread:.0f} s (from +{args.lead:.0f} s) on "
            f"{args.accounts} X accounts, {args.latency * 1000:.0f} ms injected latency"
        )
        print(
            f"  scheduler loaded after {run.ready_at - run.started:5.2f} s ({first_due - run.ready_at:5.2f} s before the first due time); "
            f"ledger: {', '.join(f'{k} {v}' for k, v in sorted(states.items()))}"
        )
        print(
            f"  posts on the fake: {sum(stored.values())}, distinct {len(stored)}, posted twice {twice}, "
            f"missing {missing}; POSTs received {len(arrivals)} ({len(arrivals) - len(arrived)} repeats)"
        )
        print(f"  due -> platform call:        {summary(delays)}")
        p99 = percentile(delays, 99) if delays else float("inf")
        print(f"  p99 {p99:6.3f} s (target <= 1 s)")
        print(f"    due -> attempt recorded:   {summary(to_attempt)}")
        print(f"    attempt -> request arrived: {summary(to_call)}")
        print(f"  five latest: {', '.join(f'{x:.3f} s' for x in sorted(delays)[-5:])}")
        print(
            f"  SIGTERM -> exit {status} in {stop_s:4.2f} s"
            + (f"; stderr: {err.strip()[-300:]}" if err.strip() else "")
        )
        if delays and min(delays) < 0:
            print(f"  warning: {sum(d < 0 for d in delays)} posts went out before they were due")


if __name__ == "__main__":
    main()
