"""`eduadvocate inbox` at 50,000 items over 20 accounts: a first `inbox pull` (every page), a
second (nothing new: it should read one page of notifications per account, then each published
post's replies), `inbox --format json` (every item), `inbox` and `inbox --unhandled` as text
(the first 50 items, the text view's default), and `inbox open 1` for the start-up alone, each
in a fresh process, measured side by side in this run, with each process's peak memory.

The platform is in-process: a Publisher serving each account's notifications 100 a page, newest
first, with a cursor (as Bluesky's listNotifications does), and each published post's replies in
one page (as getPostThread does); so the pull figures are the pull's own cost (walk, ledger
writes) without the network's. A tenth of the items answer one of the campaign's 200 published
posts, and those are its thread's replies too (seen twice, stored once).

Target (issue 15): `inbox --unhandled` listing under 1 s. The bench prints the figures and
whether that is met; it asserts nothing (speed depends on the machine).

    python bench/inbox_pull.py [--items N] [--accounts N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src")]

TARGET_LIST_S = 1.0
PAGE = 100
POSTS_PER_ACCOUNT = 10
NOW = "2026-11-28T12:00:00Z"
ENV = {"EDUADVOCATE_NOW": NOW, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "120"}


def write_campaign(root: Path, accounts: int) -> None:
    names = [f"bsky-{a:02d}" for a in range(accounts)]
    lines = ["defaults:", "  timezone: America/Chicago", f"  accounts: [{', '.join(names)}]"]
    lines.append("accounts:")
    lines += [f"  {n}: {{platform: bluesky, handle: {n}.bsky.social}}" for n in names]
    (root / "config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    posts = ["posts:"]
    for p in range(POSTS_PER_ACCOUNT):
        posts += [f"  - id: post-{p}", "    at: 2026-11-20 09:00", f'    text: "Post {p}"']
    (root / "posts").mkdir()
    (root / "posts" / "posts.yaml").write_text("\n".join(posts) + "\n", encoding="utf-8")


def pull_worker(root: Path, items: int, accounts: int) -> dict[str, float | int]:
    """Publish the campaign in the ledger, then pull twice: the figures as JSON."""
    from eduadvocate.campaign.workspace import load_config
    from eduadvocate.ledger import open_ledger
    from eduadvocate.ledger.base import Desired, State
    from eduadvocate.metrics.inbox import pull_inbox
    from eduadvocate.platforms.publishing import (
        InboxPage,
        Incoming,
        OutgoingPart,
        Published,
        Publisher,
    )

    t0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    config = load_config(str(root / "config.yaml"))
    ledger = open_ledger(config.ledger, config.root)
    names = sorted(config.accounts)
    per_account = items // len(names)
    ledger.sync(
        [
            Desired(f"post-{p}", n, "bluesky", t0, "h")
            for n in names
            for p in range(POSTS_PER_ACCOUNT)
        ],
        t0,
    )
    for d in ledger.claim_due("bench", t0, timedelta(minutes=5), limit=10_000):
        ledger.record_part(d.id, 0, f"at://{d.account}/post/{d.post_id}", None, t0)
        ledger.finish(d.id, "bench", State.PUBLISHED, t0, published_hash="h")

    class Platform(Publisher):
        inbox_source = "notifications"
        reads_replies = True

        def __init__(self, account: str) -> None:
            self.threads: dict[str, list[Incoming]] = {}
            self.notes = []
            for n in range(per_account, 0, -1):  # newest first
                target = (
                    f"at://{account}/post/post-{n % POSTS_PER_ACCOUNT}" if n % 10 == 0 else None
                )
                got = Incoming(
                    remote_id=f"at://ally/{account}/{n}",
                    kind="reply" if target else "mention",
                    author_handle=f"ally{n % 997}.bsky.social",
                    author_name=f"Ally {n % 997}",
                    author_url=f"https://bsky.app/profile/ally{n % 997}.bsky.social",
                    text=f"Item {n}: the levy vote is Tuesday, see you at the board meeting!",
                    url=f"https://bsky.app/profile/ally{n % 997}.bsky.social/post/{n}",
                    created_at=t0 + timedelta(seconds=n),
                    answers=target,
                    root=target,
                )
                self.notes.append(got)
                if target:
                    self.threads.setdefault(target, []).append(replace(got))
            self.pages = 0
            self.thread_reads = 0

        def inbox(self, cursor: str | None, limit: int) -> InboxPage:
            self.pages += 1
            start = int(cursor or 0)
            end = start + limit
            return InboxPage(self.notes[start:end], str(end) if end < len(self.notes) else None)

        def replies(self, target: str, cursor: str | None, limit: int) -> InboxPage:
            self.thread_reads += 1
            return InboxPage(self.threads.get(target, []), None)

        def publish(self, part: OutgoingPart) -> Published:
            raise NotImplementedError

        def lookup(self, part: OutgoingPart, since: datetime) -> Published | None:
            raise NotImplementedError

    platforms = {n: Platform(n) for n in names}
    which = dict.fromkeys(names, ("bluesky", True))
    now = datetime.fromisoformat(NOW)
    figures: dict[str, float | int] = {}
    for label in ("first", "second"):
        for p in platforms.values():
            p.pages = p.thread_reads = 0
        started = time.perf_counter()
        report = pull_inbox(ledger, platforms.__getitem__, which, now, page_size=PAGE)
        figures[f"{label}_s"] = time.perf_counter() - started
        figures[f"{label}_new"] = sum(len(r.new) for r in report)
        figures[f"{label}_pages"] = sum(p.pages for p in platforms.values())
        figures[f"{label}_threads"] = sum(p.thread_reads for p in platforms.values())
    ledger.close()
    return figures


def timed(args: list[str], root: Path) -> tuple[float, float, bytes]:
    """Wall seconds and peak memory (max RSS, MiB) of ``args`` in a fresh process, and what it
    printed."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        env = {**os.environ, **ENV}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode caches allowed
        proc = subprocess.Popen(args, cwd=root, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # reaped here, for this child's own rusage
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {err.read()[-2000:]!r}")
        return elapsed, usage.ru_maxrss / 1024, out.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(pull_worker(Path(args.worker), args.items, args.accounts)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_campaign(root, args.accounts)
        me = [
            sys.executable,
            __file__,
            "--items",
            str(args.items),
            "--accounts",
            str(args.accounts),
        ]
        pull_s, pull_mib, out = timed([*me, "--worker", str(root)], root)
        got = json.loads(out)
        command = [sys.executable, "-m", "eduadvocate", "inbox"]
        runs = [
            ("inbox open 1 (start-up)", [*command, "open", "1"]),
            ("inbox --format json", [*command, "--format", "json"]),
            ("inbox (text, first 50)", command),
            ("inbox --unhandled (text)", [*command, "--unhandled"]),
        ]
        print(
            f"inbox over {got['first_new']:,} items, {args.accounts} accounts,"
            f" {args.accounts * POSTS_PER_ACCOUNT} published posts, {PAGE} items a page"
        )
        for label in ("first", "second"):
            print(
                f"  {label} pull (in-process): {got[f'{label}_s']:7.2f} s,"
                f" {got[f'{label}_new']:6,} new, {got[f'{label}_pages']:4,} pages of notifications,"
                f" {got[f'{label}_threads']:4,} threads read"
            )
        print(f"  both pulls, their process: {pull_s:7.2f} s, peak memory {pull_mib:6.1f} MiB")
        listed = {}
        for label, argv in runs:
            seconds, mib, out = timed(argv, root)
            listed[label] = seconds
            print(
                f"  {label:26} {seconds:7.2f} s, {len(out) / 1e3:8,.0f} kB out,"
                f" peak memory {mib:6.1f} MiB"
            )
        verdict = "met" if listed["inbox --unhandled (text)"] < TARGET_LIST_S else "not met"
        print(f"  target: `inbox --unhandled` under {TARGET_LIST_S:.0f} s: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
