"""`eduadvocate report` on 100,000 engagement snapshots over 10,000 published deliveries (2,000
posts x 5 accounts, 10 pulls each): wall time and peak memory of the whole command in a fresh
process, for the terminal, JSON and HTML outputs, and where the time goes in-process.

    python bench/report.py [--posts N] [--pulls N]

There is no target in the issue beyond printing the figures.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ACCOUNTS = ("x-main", "bsky", "masto", "fb", "ig")
PLATFORMS = {
    "x-main": "x",
    "bsky": "bluesky",
    "masto": "mastodon",
    "fb": "facebook",
    "ig": "instagram",
}
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TAGS = ["#FundOurSchools", "#ClassSizes", "#TeachersRock", "#Levy2026", "#SchoolMeals", "#K12"]
EXE = str(Path(sys.executable).with_name("eduadvocate"))


def generate(root: Path, posts: int, pulls: int, seed: int = 11) -> int:
    """The campaign files (every account an outbox, so nothing needs credentials) and a ledger
    holding each delivery published with ``pulls`` snapshots; returns the snapshot count."""
    from eduadvocate.core.counts import Counts
    from eduadvocate.ledger import open_ledger
    from eduadvocate.ledger.base import Desired, Snapshot, State

    rng = random.Random(seed)
    (root / "posts").mkdir(parents=True)
    accounts = "\n".join(f"  {a}: {{platform: outbox, folder: out/{a}}}" for a in ACCOUNTS)
    (root / "config.yaml").write_text(
        "defaults: {timezone: America/Chicago, campaign: Fund Our Schools, accounts: ["
        + ", ".join(ACCOUNTS)
        + "]}\naccounts:\n"
        + accounts
        + "\n"
    )
    due = {}
    lines = ["posts:"]
    for i in range(posts):
        at = NOW - timedelta(days=60) + timedelta(minutes=43 * i)
        due[f"post-{i}"] = at
        tags = " ".join(rng.sample(TAGS, rng.randint(1, 3)))
        lines.append(
            f'  - id: post-{i}\n    at: {at:%Y-%m-%dT%H:%M:%SZ}\n    text: "Post {i}: fund our schools. {tags}"'
        )
    (root / "posts" / "all.yaml").write_text("\n".join(lines) + "\n")
    ledger = open_ledger(".eduadvocate/ledger.sqlite3", root)
    wanted = [Desired(p, a, PLATFORMS[a], at, "h") for p, at in due.items() for a in ACCOUNTS]
    ledger.sync(wanted, NOW - timedelta(days=61))
    count = 0
    batch: list[Snapshot] = []
    while claimed := ledger.claim_due("bench", NOW, timedelta(hours=1), limit=500):
        for d in claimed:
            ledger.record_part(d.id, 0, f"r{d.id}", f"https://example.org/{d.id}", d.due_at)
            ledger.finish(d.id, "bench", State.PUBLISHED, d.due_at, published_hash="h")
            likes = 0
            for n in range(pulls):
                likes += rng.randint(0, 9)
                batch.append(
                    Snapshot(
                        d.id,
                        0,
                        d.due_at + timedelta(hours=1 + 12 * n),
                        Counts(
                            likes=likes,
                            reposts=likes // 4,
                            replies=likes // 6,
                            reach=likes * 30 if d.platform == "instagram" else None,
                        ),
                    )
                )
            count += pulls
        ledger.add_snapshots(batch)
        batch.clear()
    ledger.close()
    return count


def timed(root: Path, args: list[str]) -> tuple[float, float]:
    started = time.perf_counter()
    env = dict(os.environ)  # report runs on the real clock: --since reaches back to all the data
    proc = subprocess.run(
        [EXE, "report", "--since", "365d", *args],
        cwd=root,
        env=env,
        capture_output=True,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        print(proc.stderr.decode()[-2000:])
    return wall, after.ru_maxrss / 1024


def breakdown(root: Path) -> list[tuple[str, float]]:
    os.chdir(root)
    from eduadvocate.campaign.workspace import open_campaign
    from eduadvocate.compose.check import analyse
    from eduadvocate.core.clock import fixed_clock
    from eduadvocate.delivery.publish import renderings_by_delivery
    from eduadvocate.ledger import open_ledger
    from eduadvocate.metrics.html import render_html
    from eduadvocate.metrics.report import as_dict, build

    steps = []
    t = time.perf_counter()
    ws = open_campaign(None, clock=fixed_clock(NOW))
    steps.append(("load the files", time.perf_counter() - t))
    t = time.perf_counter()
    renderings = renderings_by_delivery(analyse(ws.config, ws.campaign, ws.now))
    steps.append(("render the posts (campaign, hashtags, text)", time.perf_counter() - t))
    t = time.perf_counter()
    ledger = open_ledger(ws.config.ledger, ws.config.root)
    deliveries, snapshots = ledger.deliveries(), ledger.snapshots()
    steps.append(("read the ledger", time.perf_counter() - t))
    t = time.perf_counter()
    data = build(deliveries, snapshots, renderings, ws.now, timezone="America/Chicago")
    steps.append(("build the report", time.perf_counter() - t))
    t = time.perf_counter()
    as_dict(data)
    steps.append(("JSON form", time.perf_counter() - t))
    t = time.perf_counter()
    render_html(data)
    steps.append(("HTML page", time.perf_counter() - t))
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=2_000)
    parser.add_argument("--pulls", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "campaign"
        started = time.perf_counter()
        snapshots = generate(root, args.posts, args.pulls)
        print(
            f"report: {args.posts * len(ACCOUNTS):,} published deliveries ({args.posts:,} posts x "
            f"{len(ACCOUNTS)} accounts), {snapshots:,} snapshots (generated in "
            f"{time.perf_counter() - started:.1f} s)"
        )
        html = str(Path(tmp) / "report.html")
        for label, extra in (
            ("terminal", []),
            ("--format json", ["--format", "json"]),
            ("--format csv", ["--format", "csv"]),
            ("--html", ["--html", html, "--format", "json"]),
        ):
            wall, peak = timed(root, extra)
            print(f"  {label:14s} wall {wall:5.2f} s, peak memory (max RSS so far) {peak:6.1f} MiB")
        print(f"  HTML page: {os.path.getsize(html) / 1e6:.1f} MB")
        print("  in-process:")
        for step, seconds in breakdown(root):
            print(f"    {step:45s} {seconds:5.2f} s")


if __name__ == "__main__":
    main()
