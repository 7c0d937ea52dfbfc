"""``eduadvocate metrics pull``: engagement counts of published posts, kept as timestamped
snapshots in the ledger, for ``report``.

- Each account's published parts are asked for in batches of what its platform takes at once
  (X 100, Facebook 50, Bluesky 25; Instagram and Mastodon one by one), accounts in parallel.
- A platform that refuses (the account's tier, a missing permission) is recorded once in the
  ledger and reported; that account is not asked again until ``metrics pull --retry-refused``.
  A rate limit or a network error stops that account for this pull only: the next pull tries
  again. Nothing is retried in a loop.
- ``schedule`` pulls by itself as posts reach the configured ages (default 1 hour, 24 hours and
  7 days after publishing): a post is pulled when it passed an age mark after its last snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from eduadvocate.core.counts import COUNT_FIELDS, Counts
from eduadvocate.core.stopping import threads_leave_signals_to_main
from eduadvocate.ledger.base import Delivery, Ledger, Snapshot, State
from eduadvocate.platforms.publishing import MetricsRefused, Publisher, PublishError, RateLimited

MAX_PARALLEL_ACCOUNTS = 8


@dataclass(slots=True)
class PullReport:
    snapshots: int = 0  # parts counted
    posts: int = 0  # deliveries they belong to
    accounts: list[str] = field(default_factory=list)  # accounts asked
    refused: dict[str, str] = field(default_factory=dict)  # refused in this pull: reason
    skipped_refused: dict[str, str] = field(default_factory=dict)  # refused before: not asked
    failed: dict[str, str] = field(default_factory=dict)  # rate limit or network: next time
    missing: int = 0  # parts the platform no longer has (deleted there)


def due_for_pull(
    rows: Iterable[Delivery],
    last: dict[int, datetime],
    now: datetime,
    ages: Sequence[timedelta],
) -> list[Delivery]:
    """Published deliveries that passed an age mark (after publishing) since their last pull."""
    out = []
    for d in rows:
        published = d.parts[0].published_at if d.parts else None
        if published is None:
            continue
        marks = [published + age for age in ages if published + age <= now]
        if marks and (d.id not in last or last[d.id] < max(marks)):
            out.append(d)
    return out


def pull(
    ledger: Ledger,
    connect: Callable[[str], Publisher],
    now: datetime,
    *,
    since: datetime | None = None,
    accounts: set[str] | None = None,
    ages: Sequence[timedelta] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> PullReport:
    """Take a snapshot of every published delivery (published since ``since``, of ``accounts``),
    or with ``ages`` only of those that reached an age mark since their last snapshot."""
    rows = [
        d
        for d in ledger.deliveries(state=State.PUBLISHED)
        if d.parts
        and d.shown_state(now) == State.PUBLISHED
        and (accounts is None or d.account in accounts)
        and (since is None or d.parts[0].published_at >= since)
    ]
    if ages is not None:
        rows = due_for_pull(rows, ledger.last_snapshot_at(), now, ages)
    report = PullReport()
    refusals = ledger.metrics_refusals()
    by_account: dict[str, list[Delivery]] = {}
    for d in rows:
        if d.account in refusals:
            report.skipped_refused[d.account] = refusals[d.account][0]
        else:
            by_account.setdefault(d.account, []).append(d)
    report.accounts = sorted(by_account)
    taken = clock or (lambda: now)

    def one(account: str) -> tuple[str, list[Snapshot], int, PublishError | None]:
        deliveries = by_account[account]
        snaps: list[Snapshot] = []
        asked = 0
        try:
            publisher = connect(account)
        except PublishError as exc:
            return account, snaps, 0, exc
        try:
            parts = [(d.id, p.index, p.remote_id) for d in deliveries for p in d.parts]
            size = max(1, publisher.metrics_batch)
            for start in range(0, len(parts), size):
                batch = parts[start : start + size]
                counts = publisher.metrics([remote for *_, remote in batch])
                asked += len(batch)
                at = taken()
                snaps += [
                    Snapshot(did, index, at, counts[remote])
                    for did, index, remote in batch
                    if remote in counts
                ]
        except PublishError as exc:
            return account, snaps, asked, exc
        finally:
            publisher.close()
        return account, snaps, asked, None

    with ThreadPoolExecutor(max(1, min(MAX_PARALLEL_ACCOUNTS, len(by_account)))) as pool:
        with threads_leave_signals_to_main():  # Ctrl-C reaches the main thread
            futures = [pool.submit(one, account) for account in report.accounts]
        results = [f.result() for f in futures]
    for account, snaps, asked, error in results:
        ledger.add_snapshots(snaps)
        report.snapshots += len(snaps)
        report.posts += len({s.delivery_id for s in snaps})
        report.missing += asked - len(snaps) if error is None else 0
        if isinstance(error, MetricsRefused):
            ledger.refuse_metrics(account, str(error), now)
            report.refused[account] = str(error)
        elif isinstance(error, RateLimited):
            when = f" until {error.retry_at:%Y-%m-%d %H:%M} UTC" if error.retry_at else ""
            report.failed[account] = f"rate-limited{when}: {error}"
        elif error is not None:
            report.failed[account] = f"{error.kind}: {_as_read(error)}"
    return report


def _as_read(error: PublishError) -> str:
    """The adapters map a platform's answers for sending and reading alike, worded for sending
    ("X refused the post (400)"); here nothing was being posted, only its counts read."""
    return str(error).replace("refused the post", "refused the read")


def total(counts: Iterable[Counts]) -> Counts:
    """The parts of one delivery added up (a thread's engagement is its parts')."""
    sums: dict[str, int | None] = {}
    for c in counts:
        for name in COUNT_FIELDS:
            value = getattr(c, name)
            if value is not None:
                sums[name] = (sums.get(name) or 0) + value
            else:
                sums.setdefault(name, None)
    return Counts(**sums)
