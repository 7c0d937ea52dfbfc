"""Reports that read well: outbox deliveries are left out of the numbers (and said so), counts
take the singular, the engagement rate is explained where it is shown, posts are named by their
id and first words, and no internal word ("snapshots") reaches the page."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from eduadvocate.cli.reports import _print
from eduadvocate.core.counts import Counts
from eduadvocate.ledger.base import Delivery, Snapshot
from eduadvocate.metrics.html import render_html
from eduadvocate.metrics.report import as_dict, build
from tests.conftest import Make
from tests.fakes.mastodon import MastodonFake
from tests.fakes.x_api import X_CONFIG_KEYS, XFake, credentials_env
from tests.rows import published
from tests.test_cli import run

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
NOON, ONE = "2026-11-28T12:00:00Z", "2026-11-28T13:00:00Z"


def _mixed() -> tuple[list[Delivery], list[Snapshot]]:
    rows = [
        published(1, "levy", "x-main", "x", T0),
        published(2, "levy", "out", "outbox", T0),  # counted as zeros by a pull
        published(3, "sizes", "out", "outbox", T0 + timedelta(hours=5)),  # never pulled
        published(4, "sizes", "x-main", "x", T0 + timedelta(days=1)),
    ]
    hour = T0 + timedelta(days=2)
    snaps = [
        Snapshot(1, 0, hour, Counts(likes=8, reposts=2, impressions=400)),
        Snapshot(2, 0, hour, Counts()),
        Snapshot(4, 0, hour, Counts(likes=2, impressions=100)),
    ]
    return rows, snaps


def test_outbox_deliveries_do_not_dilute_averages_heatmap_or_weakest() -> None:
    rows, snaps = _mixed()
    report = build(rows, snaps, {}, T0 + timedelta(days=2))
    assert [r.delivery_id for r in report.posts] == [1, 4]
    assert report.no_engagement == 2 and report.unmeasured == 0
    assert report.total.posts == 2 and report.total.per_post == 6.0
    assert [g.key for g in report.by_platform] == ["x"]
    assert sum(c.posts for c in report.heatmap) == 2
    data = as_dict(report)
    assert data["no_engagement"] == 2
    assert data["unmeasured"] == 0 and data["snapshots"] == 3  # fields kept as they were


def test_outbox_left_out_only_within_the_report_scope() -> None:
    rows, snaps = _mixed()
    later = build(rows, snaps, {}, T0 + timedelta(days=2), since=T0 + timedelta(hours=1))
    assert later.no_engagement == 1 and [r.delivery_id for r in later.posts] == [4]


def test_text_says_what_was_left_out_in_the_singular_and_explains_the_rate(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    rows, snaps = _mixed()
    report = build(rows[:3], snaps, {}, T0 + timedelta(days=2))
    _print(report)
    out = capsys.readouterr().out
    assert "1 post:" in out and "1 posts" not in out
    assert "10 engagements" in out and "engagement rate 2.5%" in out
    assert "Engagement rate = interactions ÷ reach" in out
    assert "2 outbox deliveries not counted: the outbox has no engagement." in out


def test_page_speaks_plainly() -> None:
    rows, snaps = _mixed()
    page = render_html(build(rows, snaps, {}, T0 + timedelta(days=2)))
    assert "snapshot" not in page.lower()
    assert "counts read 3 times" in page
    assert "Engagement rate = interactions ÷ reach" in page
    assert "2 outbox deliveries not counted: the outbox has no engagement." in page


def test_outbox_only_campaign_reports_nothing_and_says_why(make_campaign: Make) -> None:
    config = "defaults: {timezone: America/Chicago, accounts: [out]}\naccounts:\n  out: {platform: outbox}\n"
    root = make_campaign(
        'posts:\n  - id: levy\n    at: now\n    text: "The levy vote is Tuesday."\n', config=config
    )
    assert run("publish", cwd=root).returncode == 0
    assert run("metrics", "pull", cwd=root).returncode == 0
    text = run("report", cwd=root)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("Nothing to report")
    assert "1 outbox delivery not counted: the outbox has no engagement." in text.stdout
    data = json.loads(run("report", "-f", "json", cwd=root).stdout)
    assert data["posts"] == [] and data["no_engagement"] == 1


def test_best_posts_are_named_by_id_and_first_words(
    make_campaign: Make, mastodon_fresh: MastodonFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTO_TOKEN", mastodon_fresh.token)
    config = (
        "defaults: {timezone: America/Chicago, accounts: [masto]}\naccounts:\n"
        f"  masto: {{platform: mastodon, instance: '{mastodon_fresh.base_url}', "
        "access_token: '${MASTO_TOKEN}'}\n"
    )
    root: Path = make_campaign(
        "posts:\n  - id: levy\n    at: now\n"
        '    text: "The levy vote is Tuesday, please come and vote yes."\n',
        config=config,
    )
    assert run("publish", cwd=root, env={"EDUADVOCATE_NOW": NOON}).returncode == 0
    pulled = run("metrics", "pull", cwd=root, env={"EDUADVOCATE_NOW": ONE})
    assert pulled.returncode == 0, pulled.stderr
    text = run("report", cwd=root, env={"EDUADVOCATE_NOW": ONE, "COLUMNS": "200"})
    assert text.returncode == 0, text.stderr
    assert "1 post:" in text.stdout
    assert 'levy: "The levy vote is Tuesday, please …"' in text.stdout


def test_a_read_error_says_the_read_failed_not_that_the_post_was_refused(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    with XFake() as x:
        account = x.add_account("coalition")
        for name, value in credentials_env(account).items():
            monkeypatch.setenv(name, value)
        config = (
            "defaults: {timezone: UTC, accounts: [x-main]}\naccounts:\n"
            f"  x-main:\n    platform: x\n{X_CONFIG_KEYS}    base_url: {x.base_url}\n"
        )
        root = make_campaign(
            "posts:\n  - id: levy\n    at: now\n    text: The levy vote is Tuesday\n", config=config
        )
        assert run("publish", cwd=root).returncode == 0
        x.inject("GET", r"^/2/tweets$", "error", status=400)
        pulled = run("metrics", "pull", cwd=root, env={"COLUMNS": "200"})
    assert pulled.returncode == 5
    assert "failed reading x-main's counts: rejected: X refused the read (400)" in pulled.stdout
    assert "refused the post" not in pulled.stdout


def test_the_per_day_chart_names_its_time_zone_and_lists_name_their_post() -> None:
    rows, snaps = _mixed()
    page = render_html(build(rows, snaps, {}, T0 + timedelta(days=2), timezone="America/Chicago"))
    chart = page[page.index('id="chart-timeline"') :]
    assert "Engagement and posts per day (America/Chicago)" in chart
    assert "day, in America/Chicago" in chart
    assert "2026-11-23: 10 engagement, 1 post; 2026-11-24: 2 engagement, 1 post<" in chart
    best = page[page.index("<h2>Best posts</h2>") :]
    assert "levy · x-main · x" in best
