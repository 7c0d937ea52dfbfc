"""Drain: `eduadvocate publish` on 1,000 due deliveries over 20 X accounts, against the X fake
answering every request 50 ms late (a `"slow"` fault on every path).

Targets (issue): wall time of the whole command (a fresh process) <= 1.25x the bound set by the
slowest account's serial work; peak memory (max RSS of the child) is reported. Every one of the
1,000 posts must be on the fake exactly once.

The bound is measured side by side: the same campaign, published with ``--account <slowest>``
only (a fresh ledger and fake), so it holds the same start-up and that account's requests one
after another, each with its own processing. The latency alone (the slowest account's request
count x 50 ms, with no start-up and no processing) is printed too; no run can reach it.

    python bench/drain.py [--posts N] [--accounts N] [--latency S]

The campaign and the recording fake are shared with bench/lag.py.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests.fakes.x_api: the fake lives with the tests

from tests.fakes.x_api import Reply, XFake  # noqa: E402  (after the path is set)

EXE = str(Path(sys.executable).with_name("eduadvocate"))
TOKEN = re.compile(r'oauth_token="([^"]*)"')


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment for the product: as installed (bytecode caches allowed), real clock."""
    env = {**os.environ, **extra}
    for name in ("PYTHONDONTWRITEBYTECODE", "EDUADVOCATE_NOW", "EDUADVOCATE_CONFIG"):
        env.pop(name, None)
    return env


@dataclass(frozen=True, slots=True)
class Arrival:
    """One request as the fake saw it: when it arrived (before any injected delay) and answered."""

    arrived: float  # time.time()
    answered: float
    method: str
    path: str
    account: str | None  # username, from the OAuth token
    text: str | None  # the post text of a POST /2/tweets
    status: int


class RecordingXFake(XFake):
    """The X fake, keeping each request's arrival time, account and post text in ``log``."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.log: list[Arrival] = []
        self._by_token: dict[str, str] = {}

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        arrived = time.time()
        reply = super().handle(method, target, headers, body)
        path = target.partition("?")[0]
        found = TOKEN.search(headers.get("authorization", ""))
        if found and not self._by_token:
            self._by_token = {a.access_token: a.username for a in self.accounts.values()}
        account = self._by_token.get(unquote(found.group(1))) if found else None
        text = None
        if method == "POST" and path == "/2/tweets":
            text = json.loads(body or b"{}").get("text")
        self.log.append(
            Arrival(arrived, time.time(), method, path, account, text, reply.status)
        )  # list.append is atomic: the server threads need no lock here
        return reply


def x_campaign(
    root: Path,
    fake: XFake,
    accounts: int,
    posts: Iterable[tuple[str, str, datetime, str]],
) -> dict[str, str]:
    """Write a campaign of ``accounts`` X accounts on ``fake`` and the given (account, post id,
    due, text) posts, one posts file per account; returns the credentials' environment."""
    env: dict[str, str] = {}
    lines = ["defaults: {timezone: UTC}", "accounts:"]
    for i in range(accounts):
        name = f"x{i:02d}"
        account = fake.add_account(name)
        lines.append(f"  {name}:\n    platform: x\n    username: {name}")
        for key in ("consumer_key", "consumer_secret", "access_token", "access_token_secret"):
            var = f"BENCH_{name.upper()}_{key.upper()}"
            env[var] = getattr(account, key)
            lines.append(f"    {key}: ${{{var}}}")
        lines.append(f"    base_url: {fake.base_url}\n    daily_cap: 100000")
    (root / "posts").mkdir(parents=True)
    (root / "config.yaml").write_text("\n".join(lines) + "\n")
    per_account: dict[str, list[str]] = {}
    for account_name, post_id, due, text in posts:
        at = due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        entry = f"  - id: {post_id}\n    at: {at}\n    text: {json.dumps(text)}"
        per_account.setdefault(account_name, []).append(entry)
    for account_name, entries in per_account.items():
        body = f"accounts: [{account_name}]\nposts:\n" + "\n".join(entries) + "\n"
        (root / "posts" / f"{account_name}.yaml").write_text(body)
    return env


def warm_up(env: dict[str, str]) -> None:
    """Import what publish imports once, so the timed run finds the bytecode caches written."""
    probe = (
        "import eduadvocate.cli.main, eduadvocate.delivery.publish, eduadvocate.platforms.x.client"
    )
    subprocess.run([sys.executable, "-c", probe], env=env, check=True)


@dataclass(frozen=True, slots=True)
class Run:
    """One timed `eduadvocate publish --format json` in a fresh process."""

    started: float  # time.time()
    wall: float
    cpu: float  # user + system seconds of the child
    peak_mib: float  # max RSS of the largest child so far: this one (the warm-up is smaller)
    returncode: int
    states: Counter[str]


def run_publish(root: Path, env: dict[str, str], extra: list[str] | None = None) -> Run:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    proc = subprocess.run(
        [EXE, "publish", "--format", "json", *(extra or [])],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.time() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    try:
        states = Counter(d["state"] for d in json.loads(proc.stdout)["deliveries"])
    except (ValueError, KeyError):
        states = Counter({"(no JSON output)": 1})
        print(proc.stdout[-2000:], proc.stderr[-2000:], sep="\n")
    return Run(started, wall, cpu, after.ru_maxrss / 1024, proc.returncode, states)


def timeline(log: list[Arrival], run: Run, bound: float) -> list[str]:
    """When the accounts started and finished sending, relative to the command's start."""
    spans: dict[str | None, tuple[float, float]] = {}
    for a in log:
        first, last = spans.get(a.account, (a.arrived, a.answered))
        spans[a.account] = (min(first, a.arrived), max(last, a.answered))
    starts = sorted(s - run.started for s, _ in spans.values())
    ends = sorted(e - run.started for _, e in spans.values())
    mean = sum(e - s for s, e in spans.values()) / len(spans)
    return [
        f"  timeline: first request +{starts[0]:5.2f} s, last answer +{ends[-1]:5.2f} s, exit +{run.wall:5.2f} s",
        f"  accounts start sending +{starts[0]:5.2f} .. +{starts[-1]:5.2f} s, finish +{ends[0]:5.2f} .. "
        f"+{ends[-1]:5.2f} s; mean sending span {mean:5.2f} s (serial floor {bound:5.2f} s)",
    ]


@dataclass(frozen=True, slots=True)
class Drain:
    """One timed publish on a fresh campaign and a fresh fake, and what the fake saw."""

    run: Run
    log: list[Arrival]
    submitted: Counter[str]
    fake_cpu: float
    missing: int


def drain(args: argparse.Namespace, only: str | None = None) -> Drain:
    """Publish the whole campaign (or, with ``only``, just that account's deliveries out of it:
    the same files, the same start-up, that account's serial work alone)."""
    with tempfile.TemporaryDirectory() as tmp, RecordingXFake() as fake:
        root = Path(tmp) / "campaign"
        (Path(tmp) / "home").mkdir()
        now = datetime.now(UTC)
        wanted = [
            (
                f"x{n % args.accounts:02d}",
                f"drain-{n:04d}",
                now - timedelta(minutes=30) + timedelta(seconds=n),  # due, inside the grace window
                f"Drain post {n} of {args.posts}: fund our schools, keep class sizes small.",
            )
            for n in range(args.posts)
        ]
        secrets = x_campaign(root, fake, args.accounts, wanted)
        env = child_env({"HOME": str(Path(tmp) / "home"), **secrets})
        fake.inject("*", r".", "slow", times=None, seconds=args.latency)
        warm_up(env)
        before = resource.getrusage(resource.RUSAGE_SELF)
        run = run_publish(root, env, ["--account", only] if only else [])
        after = resource.getrusage(resource.RUSAGE_SELF)
        fake_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        submitted = Counter(p.submitted for p in fake.posts())
        expected = [text for account, *_, text in wanted if only in (None, account)]
        missing = sum(1 for text in expected if text not in submitted)
        return Drain(run, list(fake.log), submitted, fake_cpu, missing)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=1_000)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument(
        "--repeat", type=int, default=3, help="pairs of runs; the median ratio is the figure"
    )
    args = parser.parse_args()
    if args.latency <= 0:
        parser.error("--latency must be positive: the bound is a number of requests times it")
    pairs = []
    for _ in range(max(1, args.repeat)):  # alternating, so background load hits both alike
        whole = drain(args)
        requests = Counter(a.account for a in whole.log)
        slowest, slowest_count = max(requests.items(), key=lambda kv: kv[1], default=("-", 0))
        alone = drain(args, only=slowest)  # the slowest account's serial work, measured
        pairs.append((whole.run.wall / alone.run.wall, whole, alone, slowest, slowest_count))
    pairs.sort(key=lambda p: p[0])
    ratio, whole, alone, slowest, slowest_count = pairs[len(pairs) // 2]
    log, run = whole.log, whole.run
    floor = slowest_count * args.latency
    twice = sum(1 for c in whole.submitted.values() if c > 1)
    routes = Counter(f"{a.method} {a.path}" for a in log).most_common()

    print(
        f"drain: {args.posts:,} due deliveries over {args.accounts} X accounts "
        f"(~{math.ceil(args.posts / args.accounts)} each), {args.latency * 1000:.0f} ms per request, "
        f"exit {run.returncode}"
    )
    print(f"  states: {', '.join(f'{k} {v}' for k, v in sorted(run.states.items()))}")
    print(f"  requests on the fake: {len(log):,} ({', '.join(f'{r} {c}' for r, c in routes)})")
    print(
        f"  bound: the slowest account ({slowest}, {slowest_count} requests) published alone, out of "
        f"the same campaign (publish --account {slowest}): {alone.run.wall:6.2f} s"
    )
    print(
        f"  wall time of publish (all accounts): {run.wall:6.2f} s   ratio {ratio:.2f}x"
        f" (target <= 1.25x; the median of {len(pairs)} pairs: "
        f"{', '.join(f'{p[0]:.2f}' for p in pairs)})"
    )
    print(
        f"  for comparison, the latency alone ({slowest_count} x {args.latency * 1000:.0f} ms = "
        f"{floor:.2f} s, no start-up, no processing): ratio {run.wall / floor:.2f}x all accounts, "
        f"{alone.run.wall / floor:.2f}x the slowest account alone"
    )
    print(f"  peak memory (max RSS of the child): {run.peak_mib:6.1f} MiB (reported; no target)")
    print(
        f"  CPU of the child: {run.cpu:5.2f} s ({run.cpu / run.wall:.0%} of the wall time; "
        f"{1000 * run.cpu / args.posts:.1f} ms per delivery, start-up included)"
    )
    print(f"  CPU of the fake (this process, sharing the cores): {whole.fake_cpu:5.2f} s")
    print(
        f"  posts on the fake: {sum(whole.submitted.values()):,}, distinct {len(whole.submitted):,}, "
        f"posted twice {twice}, missing {whole.missing} (target: {args.posts:,} each once)"
    )
    if log:
        print(*timeline(log, run, floor), sep="\n")
        print(*timeline(alone.log, alone.run, floor)[:1], "(the slowest account alone)", sep="  ")


if __name__ == "__main__":
    main()
