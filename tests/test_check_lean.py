"""``analyse(..., renderings=False)``, what ``check`` asks for, finds what the full analysis
finds: the same problems in the same order (duplicate-text among them, found from the texts alone
when no rendering is kept), posts, deliveries and schedules, in one process and over several;
only the renderings are left out, and no process packs one to send it back."""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from eduadvocate.campaign.workspace import Workspace, open_campaign
from eduadvocate.compose import check
from eduadvocate.compose.check import Analysis, analyse
from eduadvocate.compose.render import Rendering
from eduadvocate.core.errors import ConfigError, Problem
from tests.conftest import Make
from tests.test_cli import run
from tests.test_fuzz_campaign import ACCOUNTS, NOW, _write_campaign, people_file, posts_file

# Two accounts on X, on Bluesky and on the outbox (which is never warned about), one elsewhere.
TWINS = {
    "x1": {"platform": "x"},
    "x2": {"platform": "x"},
    "b1": {"platform": "bluesky", "handle": "pta.bsky.social"},
    "b2": {"platform": "bluesky", "handle": "ally.bsky.social"},
    "masto": {"platform": "mastodon", "instance": "https://mastodon.example"},
    "out1": {"platform": "outbox"},
    "out2": {"platform": "outbox"},
}
CONFIG = yaml.safe_dump({"defaults": {"timezone": "UTC"}, "accounts": TWINS}, sort_keys=False)
# Seven posts, so that two processes split them 4 + 3: "c" and "d" say the same to x2 and x1
# from either side of the split.
POSTS = """\
posts:
  - {id: a, at: 2027-01-04 09:00, accounts: [x1, x2, b1, b2, masto], text: Same words}
  - {id: b, at: 2027-01-05 09:00, accounts: [x1], text: Same words}
  - {id: c, at: 2027-01-06 09:00, accounts: [x2], text: Other words}
  - id: e
    at: 2027-01-07 09:00
    accounts: [b1, b2]
    repost: https://bsky.app/profile/ally.bsky.social/post/3kabc
  - {id: d, at: 2027-01-08 09:00, accounts: [x1, masto], text: Other words}
  - {id: f, at: 2027-01-09 09:00, accounts: [x1, x2], text: Mine, x: {text: Ours}}
  - {id: g, at: 2027-01-10 09:00, accounts: [out1, out2], text: Same words}
"""
DUPLICATES = [
    ("a", "the same text goes to 2 bluesky accounts (b1, b2)"),
    ("a", "the same text goes to 2 x accounts (x1, x2)"),
    ("c", "the same text goes to 2 x accounts (x1, x2)"),
    ("f", "the same text goes to 2 x accounts (x1, x2)"),
]


def _old_duplicate_texts(renderings: list[Rendering]) -> list[Problem]:
    """The duplicate-text rule as it was when it read every rendering: the oracle."""
    groups: dict[tuple[str, tuple[str, ...]], list[Rendering]] = defaultdict(list)
    for r in renderings:
        if r.post.repost is None:
            groups[(r.platform, tuple(p.text for p in r.parts))].append(r)
    out = []
    for (platform, _), group in groups.items():
        names = sorted({r.account.name for r in group})
        if len(names) < 2 or platform == "outbox":
            continue
        post = group[0].post
        out.append(
            Problem(
                "duplicate-text",
                "warning",
                f"the same text goes to {len(names)} {platform} accounts ({', '.join(names)})",
                post.content.text_loc or post.loc,
                f"give each account its own wording: {platform} treats identical posts from"
                " several accounts as spam",
                post=post.id,
            )
        )
    return out


def _assert_lean_is_full(ws: Workspace, workers: int) -> Analysis:
    """The lean analysis over ``workers`` processes against the full one in one process (and
    the full one over ``workers``), duplicate-text against the old rule; the full one back."""
    full = analyse(ws.config, ws.campaign, NOW, workers=1)
    for lean in (
        analyse(ws.config, ws.campaign, NOW, workers=workers, renderings=False),
        analyse(ws.config, ws.campaign, NOW, workers=1, renderings=False),
    ):
        assert lean.problems == full.problems
        assert lean.posts == full.posts
        assert lean.schedules == full.schedules
        assert lean.deliveries == full.deliveries == len(full.renderings)
        assert lean.renderings == []
    spread = analyse(ws.config, ws.campaign, NOW, workers=workers)
    assert spread.problems == full.problems and spread.deliveries == full.deliveries
    duplicates = [p for p in full.problems if p.code == "duplicate-text"]
    old = check._finish(_old_duplicate_texts(full.renderings), ws.config.severity)
    assert duplicates == old
    return full


def _event(full: Analysis, workers: int) -> None:
    """What an example covered (``--hypothesis-show-statistics``)."""
    duplicates = sum(p.code == "duplicate-text" for p in full.problems)
    event(f"duplicate-text: {min(duplicates, 3)}, processes: {min(workers, full.posts)}")


@pytest.mark.parametrize("workers", [2, 3])
def test_lean_analysis_finds_what_the_full_one_finds_over_processes(
    make_campaign: Make, workers: int
) -> None:
    """Duplicates across accounts and across posts (on either side of a process split), a repost
    to twin accounts and twin outboxes (no warning): the same problems, lean or full."""
    make_campaign(POSTS, config=CONFIG)
    full = _assert_lean_is_full(open_campaign(None), workers)
    assert [(p.post, p.message) for p in full.problems if p.code == "duplicate-text"] == DUPLICATES
    assert full.deliveries == 5 + 1 + 1 + 2 + 2 + 2 + 2


def test_a_lean_analysis_packs_no_rendering(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing per rendering crosses between processes when the caller wants none (the full
    analysis packs each one a child rendered, which this would refuse)."""
    make_campaign(POSTS, config=CONFIG)
    ws = open_campaign(None)

    def refused(r: Rendering) -> Any:
        raise AssertionError("a rendering was packed")

    monkeypatch.setattr(check, "_packed", refused)  # (children are forked: they inherit it)
    lean = analyse(ws.config, ws.campaign, NOW, workers=2, renderings=False)
    assert lean.deliveries == 15 and len(lean.problems) == len(DUPLICATES)
    with pytest.raises(AssertionError, match="packed"):
        analyse(ws.config, ws.campaign, NOW, workers=2)


def test_check_counts_deliveries_without_renderings_over_processes(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`check` spreads even this small campaign over processes once the floor per process is
    lowered, keeps no rendering, and still reports every delivery and duplicate."""
    make_campaign(POSTS, config=CONFIG)
    monkeypatch.setattr(check, "MIN_POSTS_PER_PROCESS", 1)
    monkeypatch.setattr(check, "_packed", lambda r: pytest.fail("check packed a rendering"))
    spread: list[int] = []
    in_processes = check._in_processes

    def counted(*args: Any) -> Any:
        spread.append(args[2])
        return in_processes(*args)

    monkeypatch.setattr(check, "_in_processes", counted)
    result = run("check", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["summary"] == {
        "errors": 0,
        "warnings": len(DUPLICATES),
        "posts": 7,
        "deliveries": 15,
        "files": 1,
    }
    assert [(p["post"], p["message"]) for p in data["problems"]] == DUPLICATES
    assert spread == ([check.parallel_workers(7)] if check.parallel_workers(7) > 1 else [])


# Small campaigns where texts repeat across posts and accounts: a few words, a text X splits
# into a thread, overrides, reposts, campaign hashtags, and accounts on platforms with twins.
_WORDS = st.sampled_from(
    ["Same words", "Other words", "Fund our schools! " * 30, "#FundOurSchools"]
)
_TWIN_POST = st.fixed_dictionaries(
    {"at": st.sampled_from(["2027-01-04 09:00", "2026-01-01 09:00", "now"])},
    optional={
        "text": _WORDS,
        "accounts": st.lists(st.sampled_from(list(TWINS)), min_size=1, max_size=4, unique=True),
        "x": st.fixed_dictionaries({"text": _WORDS}),
        "bluesky": st.fixed_dictionaries({}, optional={"text": _WORDS, "hashtags": st.just([])}),
        "hashtags": st.lists(st.sampled_from(["Vote", "FundOurSchools"]), max_size=2),
        "repost": st.just("https://x.com/ally/status/12"),
    },
)


def _twin_campaign(tmp: Path, posts: list[dict[str, Any]], tags: list[str]) -> Workspace:
    numbered = [{"id": f"p{i}", **post} for i, post in enumerate(posts)]
    defaults = {"timezone": "UTC", "accounts": list(TWINS), "hashtags": tags}
    config = yaml.safe_dump({"defaults": defaults, "accounts": TWINS}, sort_keys=False)
    root = _write_campaign(tmp, config, "{}\n", [yaml.safe_dump({"posts": numbered})])
    return open_campaign(str(root / "config.yaml"))


@pytest.mark.timeout(300)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    posts=st.lists(_TWIN_POST, min_size=1, max_size=8),
    tags=st.lists(st.sampled_from(["Vote", "FundOurSchools"]), max_size=1),
    workers=st.integers(2, 3),
)
def test_lean_is_full_on_campaigns_of_repeated_texts(
    posts: list[dict[str, Any]], tags: list[str], workers: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _event(_assert_lean_is_full(_twin_campaign(Path(tmp), posts, tags), workers), workers)


# The fuzz campaigns' hostile posts, sent by default to every account of the fuzz config and to
# a twin on X, Bluesky, Mastodon and the outbox: nearly every text is a duplicate somewhere.
_FUZZ_TWINS = {
    **ACCOUNTS,
    "x-twin": ACCOUNTS["x-main"],
    "bsky-twin": {"platform": "bluesky", "handle": "ally.bsky.social"},
    "masto-twin": ACCOUNTS["masto"],
    "outbox-twin": ACCOUNTS["outbox"],
}


@pytest.mark.timeout(300)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(people_text=people_file, files=st.lists(posts_file, min_size=1, max_size=3))
def test_lean_is_full_on_fuzz_campaigns_with_twin_accounts(
    people_text: str, files: list[str]
) -> None:
    config = yaml.safe_dump(
        {"defaults": {"accounts": list(_FUZZ_TWINS)}, "accounts": _FUZZ_TWINS}, sort_keys=False
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = _write_campaign(Path(tmp), config, people_text, files)
        try:
            ws = open_campaign(str(root / "config.yaml"))
        except ConfigError:
            return
        _event(_assert_lean_is_full(ws, 2), 2)
