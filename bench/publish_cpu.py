"""Publish CPU: `eduadvocate publish` of 1,000 due deliveries to one outbox account (the SQLite
ledger, the default), in a fresh process, and the CPU it spends per delivery beyond start-up,
loading, rendering and the file writes.

Target (issue 14): at most 1 ms of CPU per delivery beyond the file writes.

CPU is user + system time of the child (``getrusage(RUSAGE_CHILDREN)`` deltas). Three runs on
the same campaign, side by side (interleaved, so machine noise hits each alike), each on a fresh
copy of the campaign folder:

- ``publish``: the figure, with a fresh ledger (everything due, nothing recorded yet);
- ``publish --dry-run``: the baseline. The same process start-up, config, posts files, check,
  rendering and plan, and a line printed per delivery; it opens the ledger but records and
  sends nothing. What publish spends beyond it is counted against the target: the ledger
  (recording 1,000 deliveries, claiming, attempts, results), the dispatch loop, the outbox's
  own work beyond the writes, and printing each outcome (a line as it goes, the summary);
- the file writes alone: a tiny script writing the same files the outbox writes (two per
  delivery, each to a temporary file, fsync, rename), minus the same script writing none (its
  own start-up).

    per delivery = (publish - dry run - file writes) / deliveries, in each round; the median

The system time of the writes (fsync above all) varies most on a busy machine, and the ledger's
WAL writes make publish's fsyncs dearer than the tiny script's: read the rounds, and the user
time beyond the baseline (printed apart), which varies least.

    python bench/publish_cpu.py [--posts N] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

PY = sys.executable
EXE = str(Path(PY).with_name("eduadvocate"))
TARGET_MS = 1.0

# What the outbox writes per delivery, without eduadvocate: two files, each to a temporary file
# in the folder, fsync'd and renamed over the name (platforms/outbox/writer.py `_write_atomic`).
WRITES = """
import json, os, sys, tempfile
folder, count = sys.argv[1], int(sys.argv[2])
os.makedirs(folder, exist_ok=True)
for n in range(count):
    for suffix, text in ((".json", json.dumps({"n": n, "text": "x" * 120}, indent=2)), (".md", "# x\\n" * 4)):
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=suffix)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, os.path.join(folder, f"{n:05d}{suffix}"))
"""


def child_env(home: Path) -> dict[str, str]:
    """The product as installed (bytecode caches allowed), on the real clock."""
    env = {**os.environ, "HOME": str(home), "COLUMNS": "160"}
    for name in ("PYTHONDONTWRITEBYTECODE", "EDUADVOCATE_NOW", "EDUADVOCATE_CONFIG"):
        env.pop(name, None)
    return env


def campaign(root: Path, posts: int) -> None:
    """One outbox account and ``posts`` posts, all due inside the grace window."""
    (root / "posts").mkdir(parents=True)
    (root / "config.yaml").write_text(
        "defaults: {timezone: UTC, accounts: [outbox]}\n"
        "accounts:\n  outbox: {platform: outbox, folder: out}\n"
    )
    now = datetime.now(UTC)
    entries = []
    for n in range(posts):
        due = (now - timedelta(minutes=30) + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = f"Post {n} of {posts}, fund our schools, keep class sizes small."
        entries.append(f"  - id: p-{n:05d}\n    at: {due}\n    text: {text}")
    (root / "posts" / "posts.yaml").write_text("posts:\n" + "\n".join(entries) + "\n")


@dataclass(frozen=True)
class Cpu:
    """User and system CPU seconds of one child process."""

    user: float
    sys: float

    @property
    def total(self) -> float:
        return self.user + self.sys

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(self.user - other.user, self.sys - other.sys)


def cpu_of(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[Cpu, int, str]:
    """The CPU of one child process, its exit code and stderr's tail."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = Cpu(after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime)
    return cpu, proc.returncode, proc.stderr[-500:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5, help="rounds; medians are the figures")
    args = parser.parse_args()
    n = args.posts
    publish: list[Cpu] = []
    dry: list[Cpu] = []
    writes: list[Cpu] = []
    with tempfile.TemporaryDirectory() as tmp:
        base, home = Path(tmp) / "template", Path(tmp) / "home"
        home.mkdir()
        campaign(base, n)
        env = child_env(home)
        # Warm the bytecode and file caches, so no round pays for compiling.
        subprocess.run([EXE, "check"], cwd=base, env=env, capture_output=True, check=False)
        for r in range(max(1, args.repeat)):
            root = Path(tmp) / f"run{r}"
            shutil.copytree(base, root)
            cpu, code, err = cpu_of([EXE, "publish", "--dry-run"], root, env)
            if code != 0:
                sys.exit(f"publish --dry-run exited {code}: {err}")
            dry.append(cpu)
            cpu, code, err = cpu_of([EXE, "publish"], root, env)
            written = len(list((root / "out" / "outbox").glob("*.json")))
            if code != 0 or written != n:
                sys.exit(f"publish exited {code} with {written} of {n} deliveries written: {err}")
            publish.append(cpu)
            none, _, _ = cpu_of([PY, "-c", WRITES, str(root / "w0"), "0"], root, env)
            some, _, _ = cpu_of([PY, "-c", WRITES, str(root / "w"), str(n)], root, env)
            writes.append(some - none)
            shutil.rmtree(root)
    beyond = [p - d - w for p, d, w in zip(publish, dry, writes, strict=True)]
    rounds = [1000 * b.total / n for b in beyond]
    per = statistics.median(rounds)
    print(f"publish CPU: {n:,} due deliveries to one outbox account, SQLite ledger")
    print(
        f"  {len(publish)} interleaved rounds, user + system CPU of the child (median, each round)"
    )
    print(f"  publish:                      {_median(publish)}  {_each(publish)}")
    print(f"  publish --dry-run (baseline): {_median(dry)}  {_each(dry)}")
    print(f"  the file writes alone:        {_median(writes)}  {_each(writes)}")
    print(
        f"  per delivery beyond start-up, loading, rendering and the file writes: {per:.2f} ms"
        f" (target <= {TARGET_MS:.2f} ms; the median of the rounds' "
        + ", ".join(f"{r:.2f}" for r in rounds)
        + ")"
    )
    user = statistics.median(1000 * b.user / n for b in beyond)
    system = statistics.median(1000 * b.sys / n for b in beyond)
    print(f"    of which user {user:.2f} ms, system {system:.2f} ms (medians)")


def _median(values: list[Cpu]) -> str:
    user = statistics.median(v.user for v in values)
    system = statistics.median(v.sys for v in values)
    return (
        f"{(user + system) * 1000:6.0f} ms (user {user * 1000:4.0f}, system {system * 1000:4.0f})"
    )


def _each(values: list[Cpu]) -> str:
    return "(" + ", ".join(f"{v.total * 1000:.0f}" for v in values) + ")"


if __name__ == "__main__":
    main()
