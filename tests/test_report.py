"""The report's arithmetic over hand-made ledger rows: engagement, per post, rate, growth,
groups, the heat map in the campaign's time zone, and which posts are due for a pull."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eduadvocate.core.counts import Counts
from eduadvocate.ledger.base import Delivery, Snapshot
from eduadvocate.metrics.pull import due_for_pull, total
from eduadvocate.metrics.report import PULL_GAP, as_dict, build
from tests.rows import published

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday, 09:00 in Chicago


def delivery(i: int, account: str, platform: str, at: datetime, parts: int = 1) -> Delivery:
    return published(
        i, f"p{i}", account, platform, at, [f"https://example.org/{i}/{n}" for n in range(parts)]
    )


def test_engagement_rate_growth_and_groups() -> None:
    rows = [
        delivery(1, "x-main", "x", T0, parts=2),
        delivery(2, "masto", "mastodon", T0 + timedelta(days=1, hours=2)),
        delivery(3, "ig", "instagram", T0 + timedelta(days=1, hours=2)),
        delivery(4, "x-main", "x", T0 + timedelta(days=2)),  # published, never counted
    ]
    hour, day = T0 + timedelta(hours=1), T0 + timedelta(days=3)
    snaps = [
        Snapshot(1, 0, hour, Counts(likes=4, reposts=1, impressions=200)),
        Snapshot(1, 1, hour, Counts(likes=1)),
        Snapshot(2, 0, hour, Counts(likes=2, reposts=0, replies=1)),
        Snapshot(1, 0, day, Counts(likes=10, reposts=2, replies=1, impressions=500)),
        Snapshot(1, 1, day, Counts(likes=3)),
        Snapshot(1, 1, day + timedelta(minutes=1), Counts(likes=3)),  # a second worker's pull
        Snapshot(3, 0, day, Counts(likes=20, replies=5, saves=5, reach=300)),
    ]
    report = build(rows, snaps, {}, day, timezone="America/Chicago")
    by_id = {r.delivery_id: r for r in report.posts}
    assert set(by_id) == {1, 2, 3}
    assert report.unmeasured == 1
    assert report.snapshots == 7
    # A thread counts once, its parts added up; growth is against the pull before.
    assert by_id[1].counts == Counts(likes=13, reposts=2, replies=1, impressions=500)
    assert by_id[1].engagement == 16
    assert by_id[1].growth == 16 - 6
    assert by_id[1].rate == 16 / 500
    assert by_id[3].rate == 30 / 300
    assert by_id[2].growth is None  # one snapshot only
    assert [r.delivery_id for r in report.posts] == [3, 1, 2]  # best first
    assert report.total.posts == 3
    assert report.total.engagement == 30 + 16 + 3
    assert report.total.rate == (30 + 16) / (300 + 500)  # only where reach or impressions is known
    platforms = {g.key: g for g in report.by_platform}
    assert platforms["x"].per_post == 16
    assert platforms["instagram"].engagement == 30
    # Rows are ordered by engagement per post.
    assert [g.key for g in report.by_platform] == ["instagram", "x", "mastodon"]
    # Monday 09:00 and Tuesday 11:00 in Chicago.
    assert [(c.weekday, c.hour, c.posts) for c in report.heatmap] == [(0, 9, 1), (1, 11, 2)]
    assert [g.key for g in report.by_day] == ["2026-11-23", "2026-11-24"]
    data = as_dict(report)
    assert data["total"]["engagement"] == 49  # type: ignore[index]
    assert data["heatmap"][0] == {"weekday": "Mon", "hour": 9, "posts": 1, "engagement": 16}  # type: ignore[index]


def test_since_and_an_empty_report() -> None:
    rows = [delivery(1, "x-main", "x", T0)]
    snaps = [Snapshot(1, 0, T0 + timedelta(hours=1), Counts(likes=1))]
    later = build(rows, snaps, {}, T0 + timedelta(days=1), since=T0 + timedelta(minutes=1))
    assert later.posts == [] and later.total.posts == 0 and later.best == []
    assert as_dict(later)["posts"] == []


def test_pull_gap_counts_two_workers_as_one_pull() -> None:
    rows = [delivery(1, "x-main", "x", T0)]
    snaps = [
        Snapshot(1, 0, T0 + timedelta(hours=1), Counts(likes=5)),
        Snapshot(1, 0, T0 + timedelta(hours=1) + PULL_GAP / 2, Counts(likes=6)),
    ]
    assert build(rows, snaps, {}, T0 + timedelta(days=1)).posts[0].growth is None


def test_due_for_pull_at_each_age_once() -> None:
    ages = (timedelta(hours=1), timedelta(hours=24), timedelta(days=7))
    post = delivery(1, "x-main", "x", T0)
    assert due_for_pull([post], {}, T0 + timedelta(minutes=59), ages) == []
    assert due_for_pull([post], {}, T0 + timedelta(hours=1), ages) == [post]
    pulled = {1: T0 + timedelta(hours=1, minutes=5)}
    assert due_for_pull([post], pulled, T0 + timedelta(hours=23), ages) == []
    assert due_for_pull([post], pulled, T0 + timedelta(hours=24), ages) == [post]
    pulled = {1: T0 + timedelta(days=7, minutes=1)}
    assert due_for_pull([post], pulled, T0 + timedelta(days=60), ages) == []


def test_total_keeps_unknown_apart_from_zero() -> None:
    assert total([Counts(likes=1), Counts(likes=2, reach=None)]) == Counts(likes=3)
    assert total([Counts(likes=1, reach=0)]).reach == 0
