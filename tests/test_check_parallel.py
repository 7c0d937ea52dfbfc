"""``analyse`` spread over processes gives what one process gives: the same problems in the same
order, the same renderings (parts, facets, media, problems, under each account's own config)
and the same schedules, on generated campaigns (the fuzz strategies: hostile values, overrides,
people, media, UTM, accounts of every platform)."""

from __future__ import annotations

import gc
import os
import signal
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduadvocate.campaign.workspace import Workspace, open_campaign
from eduadvocate.compose import check
from eduadvocate.compose.check import Analysis, analyse
from eduadvocate.core.errors import ConfigError, EduError
from tests.conftest import Make
from tests.test_fuzz_campaign import (
    NOW,
    _write_campaign,
    good_config,
    people_file,
    posts_file,
)


def _both(config: str, people_text: str, files: list[str], workers: int) -> tuple[Analysis, ...]:
    with tempfile.TemporaryDirectory() as tmp:
        root = _write_campaign(Path(tmp), config, people_text, files)
        try:
            ws = open_campaign(str(root / "config.yaml"))
        except ConfigError:
            return ()
        serial = analyse(ws.config, ws.campaign, NOW, workers=1)
        parallel = analyse(ws.config, ws.campaign, NOW, workers=workers)
        return serial, parallel


def _assert_same(serial: Analysis, parallel: Analysis) -> None:
    assert parallel.problems == serial.problems
    assert parallel.renderings == serial.renderings
    for a, b in zip(parallel.renderings, serial.renderings, strict=True):
        assert a.post is b.post and a.account is b.account  # this process's own objects
    assert parallel.schedules == serial.schedules
    assert parallel.posts == serial.posts


@pytest.mark.timeout(300)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    config=good_config,
    people_text=people_file,
    files=st.lists(posts_file, min_size=1, max_size=3),
    workers=st.integers(2, 4),
)
def test_processes_give_what_one_process_gives(
    config: str, people_text: str, files: list[str], workers: int
) -> None:
    found = _both(config, people_text, files, workers)
    if found:
        _assert_same(*found)


def test_a_campaign_of_many_posts_is_split_in_order() -> None:
    """Hundreds of posts (more than processes, in several files): runs are joined in order."""
    posts = "\n".join(
        f"  - id: p{i}\n    at: 2027-01-{1 + i % 28:02d} 09:{i % 60:02d}\n"
        f'    text: "Post {i}: tell {{@lopez}} #FundOurSchools https://example.org/{i} {"word " * (i % 90)}"'
        for i in range(300)
    )
    files = [f"posts:\n{posts}\n", "posts:\n  - id: late\n    at: 2020-01-01 09:00\n    text: hi\n"]
    people = "lopez:\n  name: Maria Lopez\n  x: ChairLopez\n  bluesky: lopez.bsky.social\n"
    config = (
        "defaults:\n  timezone: UTC\n  accounts: [x-main, bsky, masto, fb]\n"
        "  hashtags: [fundourschools]\n  utm: true\naccounts:\n  x-main: {platform: x}\n"
        "  bsky: {platform: bluesky, handle: pta.bsky.social}\n"
        "  masto: {platform: mastodon, instance: https://mastodon.example}\n"
        "  fb: {platform: facebook, page_id: '1'}\n"
    )
    serial, parallel = _both(config, people, files, 3)
    assert len(serial.renderings) == 301 * 4 and serial.problems
    _assert_same(serial, parallel)


def test_parallel_workers_need_enough_posts_and_no_other_thread() -> None:
    assert check.parallel_workers(check.MIN_POSTS_PER_PROCESS - 1) == 1
    assert check.parallel_workers(10**6) <= check.MAX_PROCESSES


@pytest.mark.parametrize("enabled", [True, False])
def test_analyse_leaves_the_cycle_collector_as_it_found_it(enabled: bool) -> None:
    """The collector is paused while posts are analysed (even when one fails), then set back."""
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        seen: list[bool] = []

        def fail() -> None:
            with check.collecting_later():
                seen.append(gc.isenabled())
                raise ZeroDivisionError

        with pytest.raises(ZeroDivisionError):
            fail()
        assert seen == [False]
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def _small_campaign(make_campaign: Make) -> Workspace:
    posts = "".join(
        f"  - id: p{i}\n    at: 2027-01-05 09:00\n    text: Post {i}\n" for i in range(12)
    )
    make_campaign(f"posts:\n{posts}")
    return open_campaign(None)


def test_a_child_that_dies_is_an_error_not_a_wait(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child killed (out of memory, say) ends the analysis with an error naming the posts it
    had; nothing waits for it forever."""
    ws = _small_campaign(make_campaign)
    monkeypatch.setattr(check, "_run_in_child", lambda run: os.kill(os.getpid(), signal.SIGKILL))
    with pytest.raises(EduError) as caught:
        analyse(ws.config, ws.campaign, NOW, workers=2)
    assert caught.value.message == "the process checking posts 7 to 12 died (killed by signal 9)"
    assert caught.value.hint.startswith("run check again")


def test_an_error_in_a_child_is_raised_as_one_process_raises_it(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _small_campaign(make_campaign)

    def fail(run: tuple[int, int]) -> None:
        raise ValueError(f"posts {run}")

    monkeypatch.setattr(check, "_run_in_child", fail)
    with pytest.raises(ValueError, match=r"posts \(4, 8\)"):
        analyse(ws.config, ws.campaign, NOW, workers=3)
