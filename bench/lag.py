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
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from drain import EXE, RecordingXFake, child_env, warm_up, x_campaign

from eduadvocate.ledger import open_ledger

TAIL_S = 40.0  # after the last due time: longer than the scheduler's 30 s sweep


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def summary(values: list[float]) -> str:
    if not values:
        return "no data"
    return (
        f"p50 {percentile(values, 50) * 1000:7.1f} ms, p90 {percentile(values, 90) * 1000:7.1f} ms, "
        f"p99 {percentile(values, 99) * 1000:7.1f} ms, max {max(values) * 1000:7.1f} ms"
    )


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
        home = Path(tmp) / "home"
        home.mkdir()
        # Whole seconds (what a posts file says), from `lead` to `lead + spread` from now.
        first = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=args.lead)
        due: dict[str, datetime] = {}
        wanted = []
        for n in range(args.posts):
            at = first + timedelta(seconds=int(n * args.spread / args.posts))
            text = f"Lag post {n} of {args.posts}: the school board votes soon, be there."
            due[text] = at
            wanted.append((f"x{n % args.accounts:02d}", f"lag-{n:04d}", at, text))
        env = child_env({"HOME": str(home), **x_campaign(root, fake, args.accounts, wanted)})
        if args.latency > 0:
            fake.inject("*", r".", "slow", times=None, seconds=args.latency)
        warm_up(env)

        started = time.time()
        proc = subprocess.Popen(
            [EXE, "schedule"],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        ready = threading.Event()
        ready_at: list[float] = []
        lines: list[str] = []

        def read_stdout() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if not ready.is_set() and "scheduling" in line:
                    ready_at.append(time.time())
                    ready.set()

        reader = threading.Thread(target=read_stdout, daemon=True)
        reader.start()
        ready.wait(timeout=args.lead + 30)
        last_due = max(due.values()).timestamp()
        deadline = last_due + TAIL_S
        while time.time() < deadline and proc.poll() is None:
            if sum(1 for a in fake.log if a.text is not None) >= args.posts:
                break
            time.sleep(0.2)
        stop_sent = time.time()
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        stopped = time.time()
        reader.join(timeout=5)

        arrivals = [a for a in fake.log if a.text is not None]
        seen = Counter(a.text for a in arrivals)
        delays = [a.arrived - due[a.text].timestamp() for a in arrivals if a.text in due]
        stored = Counter(p.submitted for p in fake.posts())
        twice = sum(1 for c in stored.values() if c > 1)
        missing = sum(1 for text in due if text not in stored)

        ledger = open_ledger(".eduadvocate/ledger.sqlite3", root)
        try:
            by_post = {text.split()[2]: at for text, at in due.items()}  # "Lag post N ..."
            first_arrival = {}
            for a in sorted(arrivals, key=lambda a: a.arrived):
                first_arrival.setdefault(a.text.split()[2], a.arrived)
            to_attempt, to_call = [], []
            states: Counter[str] = Counter()
            for d in ledger.deliveries():
                states[str(d.state)] += 1
                attempts = ledger.attempts(d.id)
                n = d.post_id.removeprefix("lag-").lstrip("0") or "0"
                if attempts and n in by_post:
                    begun = attempts[0].started_at.timestamp()
                    to_attempt.append(begun - by_post[n].timestamp())
                    if n in first_arrival:
                        to_call.append(first_arrival[n] - begun)
        finally:
            ledger.close()

        ready_s = (ready_at[0] - started) if ready_at else float("nan")
        print(
            f"lag: {args.posts} posts due over {args.spread:.0f} s (from +{args.lead:.0f} s) on "
            f"{args.accounts} X accounts, {args.latency * 1000:.0f} ms injected latency"
        )
        print(
            f"  scheduler loaded after {ready_s:5.2f} s; ledger: {', '.join(f'{k} {v}' for k, v in sorted(states.items()))}"
        )
        print(
            f"  posts on the fake: {sum(stored.values())}, distinct {len(stored)}, posted twice {twice}, "
            f"missing {missing}; POSTs received {len(arrivals)} ({sum(c - 1 for c in seen.values())} repeats)"
        )
        print(f"  due -> platform call:  {summary(delays)}")
        p99 = percentile(delays, 99) if delays else float("inf")
        print(f"  p99 {p99:6.3f} s (target <= 1 s)")
        print(f"    due -> attempt recorded:     {summary(to_attempt)}")
        print(f"    attempt recorded -> arrival: {summary(to_call)}")
        late = sorted(delays)[-5:]
        print(f"  five latest: {', '.join(f'{x:.3f} s' for x in late)}")
        print(
            f"  SIGTERM -> exit {proc.returncode} in {stopped - stop_sent:4.2f} s"
            + (f"; stderr: {err.strip()[-300:]}" if err.strip() else "")
        )
        if statistics.fmean(delays or [0]) < 0:
            print("  warning: negative delays: posts went out before they were due")


if __name__ == "__main__":
    main()
