"""`check` of a campaign worth spreading over processes has each of them read its own share of
the posts files (compose/check.py ``analyse_folder``): its JSON output is byte for byte what
reading the whole campaign first and analysing it gives, whatever the files hold (duplicate ids
within a file, across files and across shares, a file that cannot be parsed, an empty file,
people's mistakes, texts said alike to twin accounts); a child that dies is a one-line error."""

from __future__ import annotations

import multiprocessing
import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduadvocate.campaign.workspace import open_campaign
from eduadvocate.cli import commands
from eduadvocate.compose import check
from eduadvocate.compose.check import Analysis, analyse
from eduadvocate.config.model import Config
from eduadvocate.content.load import load_campaign
from eduadvocate.content.model import Campaign
from eduadvocate.core.errors import ExitCode
from eduadvocate.platforms.registry import platform_names
from tests.test_check_lean import TWINS
from tests.test_cli import run
from tests.test_fuzz_campaign import NOW, _write_campaign, good_config, people_file, posts_file

TWIN_CONFIG = yaml.safe_dump(
    {"defaults": {"timezone": "UTC", "accounts": list(TWINS)}, "accounts": TWINS},
    sort_keys=False,
)
# Few ids, so that they repeat within a file, across files and across shares.
_POST = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b", "c", "d", "e"])},
    optional={
        "at": st.sampled_from(["2027-01-04 09:00", "2026-01-01 09:00", "now", "someday"]),
        "text": st.sampled_from(["Same words", "Other words", "Fund our schools! " * 30, ""]),
        "accounts": st.lists(st.sampled_from([*TWINS, "nobody"]), min_size=1, max_size=3),
        "x": st.fixed_dictionaries({"text": st.sampled_from(["Same words", "Ours"])}),
    },
)
_FILE = st.one_of(
    st.builds(lambda ps: yaml.safe_dump({"posts": ps}, sort_keys=False), st.lists(_POST)),
    posts_file,
    st.just(""),  # empty
    st.just("posts:\n  - id: [unclosed\n"),  # cannot be parsed
    st.just("posts: []\n"),  # no posts
)


def _today(config: Config, campaign: Campaign, now: datetime) -> tuple[Analysis, list[str]]:
    """What check did before: read the whole campaign, then analyse it."""
    whole = load_campaign(config, platform_names())
    return analyse(config, whole, now, workers=1, renderings=False), whole.files


@contextmanager
def _spread(processes: int) -> Iterator[list[int]]:
    """Even a tiny campaign spread over ``processes`` (at most one per file); yields the number
    of shares each check read its posts files in."""
    shares: list[int] = []
    in_shares = check._in_shares

    def counted(*args: Any) -> Any:
        shares.append(len(args[-1]))
        return in_shares(*args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(check, "parallel_workers", lambda posts: processes)
        patch.setattr(check, "_in_shares", counted)
        yield shares


def _check_json(root: Path) -> tuple[int, str]:
    result = run("check", "--format", "json", cwd=root)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout + result.stderr


@pytest.mark.timeout(600)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    config=st.one_of(st.just(TWIN_CONFIG), good_config),
    people_text=people_file,
    files=st.lists(_FILE, min_size=1, max_size=5),
    processes=st.integers(2, 4),
)
def test_shares_give_what_reading_the_whole_campaign_gives(
    config: str, people_text: str, files: list[str], processes: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = _write_campaign(Path(tmp), config, people_text, files)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(commands, "analyse_folder", _today)
            before = _check_json(root)
        with _spread(processes) as shares:
            after = _check_json(root)
    assert after == before
    if before[0] != 3 and len(files) > 1:  # (a config that cannot be read: no campaign)
        assert shares == [min(processes, len(files))]


def test_a_duplicate_id_in_a_later_share_is_reported_once_and_not_checked(
    tmp_path: Path,
) -> None:
    """The later post of an id is left out whole: only its duplicate-id is reported, not the
    mistakes it has itself, and it is not counted."""
    files = [
        "posts:\n  - {id: a, at: 2027-01-04 09:00, accounts: [x1], text: First}\n",
        "posts:\n  - {id: b, at: 2027-01-04 09:00, accounts: [x1], text: Second}\n",
        "posts:\n  - {id: a, at: someday, accounts: [nobody], text: Again}\n"
        "  - {id: c, at: 2027-01-04 09:00, accounts: [x1], text: Third}\n",
    ]
    root = _write_campaign(tmp_path, TWIN_CONFIG, "{}\n", files)
    with _spread(2) as shares:
        status, out = _check_json(root)
    assert shares == [2]
    assert status == ExitCode.INVALID_POSTS
    data = yaml.safe_load(out)
    assert data["summary"]["posts"] == 3 and data["summary"]["files"] == 3
    assert [(p["code"], p["file"], p["line"], p["message"]) for p in data["problems"]] == [
        ("duplicate-id", "posts/p2.yaml", 2, 'the id "a" is already used at posts/p0.yaml:2')
    ]


def test_shares_are_consecutive_balanced_by_bytes_and_never_empty() -> None:
    paths = [Path(f"p{i}.yaml") for i in range(6)]
    assert check._shares(paths, [100, 100, 100, 100, 100, 100], 2) == [paths[:3], paths[3:]]
    assert check._shares(paths, [500, 10, 10, 10, 10, 10], 2) == [paths[:1], paths[1:]]
    assert check._shares(paths, [10, 10, 10, 10, 10, 500], 3) == [
        paths[:4],
        paths[4:5],
        paths[5:],
    ]
    assert check._shares(paths, [0] * 6, 6) == [[p] for p in paths]


@given(
    sizes=st.lists(st.integers(0, 10_000), min_size=1, max_size=30),
    count=st.integers(1, 8),
)
def test_any_split_keeps_every_file_once_in_order(sizes: list[int], count: int) -> None:
    paths = [Path(f"p{i}.yaml") for i in range(len(sizes))]
    count = min(count, len(paths))
    shares = check._shares(paths, sizes, count)
    assert len(shares) == count and all(shares)
    assert [p for share in shares for p in share] == paths


def test_a_child_that_dies_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [
        f"posts:\n  - {{id: p{i}, at: 2027-01-04 09:00, accounts: [x1], text: Post {i}}}\n"
        for i in range(4)
    ]
    root = _write_campaign(tmp_path, TWIN_CONFIG, "{}\n", files)
    monkeypatch.setattr(
        check, "_share_in_child", lambda index: os.kill(os.getpid(), signal.SIGKILL)
    )
    with _spread(2) as shares:
        result = run("check", cwd=root)
    assert shares == [2]
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "the process checking posts/p2.yaml to posts/p3.yaml died (killed by signal 9)" in (
        result.stderr
    )
    assert not multiprocessing.active_children()


def test_an_error_in_a_child_is_raised_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = ["posts:\n  - {id: a, text: A}\n", "posts:\n  - {id: b, text: B}\n"]
    root = _write_campaign(tmp_path, TWIN_CONFIG, "{}\n", files)

    def fail(index: int) -> None:
        raise ValueError(f"share {index}")

    monkeypatch.setattr(check, "_share_in_child", fail)
    ws = open_campaign(str(root / "config.yaml"), posts=False)
    with _spread(2) as shares, pytest.raises(ValueError, match="share 1"):
        check.analyse_folder(ws.config, ws.campaign, NOW)
    assert shares == [2]
    assert not multiprocessing.active_children()
