"""`eduadvocate check` on a generated campaign of 10,000 posts x 3 accounts (X, Bluesky, Mastodon):
posts per second and peak memory, for the whole command in a fresh process, plus where the time
goes: what the command costs whatever the size (the same command on a one-post campaign), and
load vs. render and check in-process, in one process and over the cores as `check` spreads
it (it says how many processes that is), measured side by side in this run. In-process, the
analysis is the one `check` runs (no renderings kept or sent back between processes), and beside
it the one that keeps them (`render`, `calendar`, `check --online`) over the same cores.

Target (issue 14): the whole command at 5,000 posts/s or more. The bench prints the figure and
whether it is met; it asserts nothing (speed depends on the machine). The whole command is run
``--runs`` times (fresh processes, one after another) and judged by the median wall time, as
bench/startup.py is: on a shared machine one run can take 40% longer than the next.

    python bench/check_speed.py [--posts N] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

TARGET_POSTS_PER_S = 5_000
CONFIG = """\
defaults:
  timezone: America/Chicago
  accounts: [x-main, bsky, masto]
  hashtags: [FundOurSchools]
  vars:
    petition: https://fundspringfieldschools.org/petition
accounts:
  x-main: {platform: x}
  bsky: {platform: bluesky, handle: pta.bsky.social}
  masto: {platform: mastodon, instance: https://mastodon.example}
"""
PEOPLE = "lopez:\n  name: Chair Maria Lopez\n  x: ChairLopez\n  bluesky: lopez.bsky.social\n  mastodon: lopez@mastodon.education\n"
SENTENCES = [
    "The board votes on the budget next Thursday.",
    "Class sizes would rise to 35 in grades 4 to 8.",
    "Tell {@lopez} that art and music matter. 🎨🎶",
    "Sign the petition: {petition}",
    "More at fundspringfieldschools.org/facts and https://example.org/a/very/long/path?with=query",
    "学校の予算を守ろう。",
    "Teachers 👩🏽‍🏫 deserve better. #SpringfieldSchools",
    "Come to the hearing, bring a neighbor, wear blue! 💙",
]


def generate(root: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    (root / "posts").mkdir(parents=True)
    (root / "config.yaml").write_text(CONFIG)
    (root / "people.yaml").write_text(PEOPLE)
    per_file = 500
    for f in range(0, count, per_file):
        lines = ["posts:"]
        for i in range(f, min(count, f + per_file)):
            text = " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(1, 9)))
            lines.append(f"  - id: post-{i}")
            if i % 10 == 0:
                lines.append("    every: weekly on Monday 09:00")
            else:
                lines.append(
                    f"    at: 2027-{1 + i % 12:02d}-{1 + i % 28:02d} {8 + i % 12:02d}:{(i * 7) % 60:02d}"
                )
            lines.append(
                f"    text: {json.dumps(text, ensure_ascii=False)}"
            )  # JSON strings are YAML
        (root / "posts" / f"file-{f // per_file:03d}.yaml").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5, help="whole-command runs (median)")
    args = parser.parse_args()
    count, runs = args.posts, max(1, args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, count)
        exe = str(Path(sys.executable).with_name("eduadvocate"))
        env = {**os.environ, "EDUADVOCATE_NOW": "2026-11-28T12:00:00Z"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode caches allowed
        walls, cpus = [], []
        for _ in range(runs):
            before, start = _children_cpu(), time.perf_counter()
            proc = subprocess.run(
                [exe, "check", "--format", "json"],
                cwd=root,
                env=env,
                capture_output=True,
                check=False,
            )
            walls.append(time.perf_counter() - start)
            cpus.append(_children_cpu() - before)
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # (the largest)
        elapsed, cpu = statistics.median(walls), statistics.median(cpus)
        print(
            f"check on {count:,} posts x 3 accounts ({count * 3:,} deliveries), exit {proc.returncode},"
            f" spread over {_processes(count)} processes ({os.cpu_count()} cores here)"
        )
        print(
            f"  whole command: {elapsed:6.2f} s  = {count / elapsed:8,.0f} posts/s, {count * 3 / elapsed:8,.0f} deliveries/s"
        )
        print(f"    (the median of {runs} runs: {', '.join(f'{w:.2f}' for w in walls)} s)")
        # CPU time is what the command itself cost: on a shared machine the wall clock also
        # counts the time others' processes held the cores.
        print(f"  CPU time:      {cpu:6.2f} s  = {count / cpu:8,.0f} posts per CPU second (median)")
        print(f"  peak memory (max RSS): {peak_kib / 1024:6.1f} MiB")
        rate = count / elapsed
        verdict = "met" if rate >= TARGET_POSTS_PER_S else "not met"
        print(f"  target: {TARGET_POSTS_PER_S:,} posts/s for the whole command: {verdict}")
        # What the command costs whatever the campaign's size (start-up, config, output): the
        # same command on a one-post campaign, so the lines below add up to the whole.
        small = root / "one-post"
        generate(small, 1)
        start = time.perf_counter()
        subprocess.run(
            [exe, "check", "--format", "json"], cwd=small, env=env, capture_output=True, check=False
        )
        print(f"  the same command on a one-post campaign: {time.perf_counter() - start:5.2f} s")

        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
        os.chdir(root)
        os.environ.update(env)
        from eduadvocate.campaign.workspace import open_campaign
        from eduadvocate.compose.check import analyse, parallel_workers
        from eduadvocate.core.clock import fixed_clock

        t0 = time.perf_counter()
        ws = open_campaign(None, clock=fixed_clock(datetime.fromisoformat(env["EDUADVOCATE_NOW"])))
        t1 = time.perf_counter()
        print(f"  in-process: load {t1 - t0:5.2f} s")
        workers = parallel_workers(len(ws.campaign.posts))
        for label, asked, keep in (
            ("one process", 1, False),
            (f"{workers} processes, as check", None, False),
            (f"{workers} processes, renderings kept", None, True),
        ):
            cpu0, wall0 = _cpu(), time.perf_counter()
            result = analyse(ws.config, ws.campaign, ws.now, workers=asked, renderings=keep)
            wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
            print(
                f"  render + check, {label}: {wall:5.2f} s = {result.posts / wall:6,.0f} posts/s,"
                f" CPU {cpu:5.2f} s = {cpu / result.posts * 1e6:4,.0f} us per post"
                f" ({result.deliveries:,} deliveries, {len(result.renderings):,} renderings kept,"
                f" {len(result.problems):,} problems)"
            )


def _processes(posts: int) -> int:
    """How many processes check uses for ``posts`` posts on this machine."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from eduadvocate.compose.check import parallel_workers

    return parallel_workers(posts)


def _children_cpu() -> float:
    """CPU seconds of this process's children that have ended."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
