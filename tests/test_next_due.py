"""``next_due`` (the summary's "next post due at …") answers as the staged plans do, and plans
nothing when every post is in the past (issue 14: a campaign catching up planned itself four
more times after publishing, hashing every post each time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from eduadvocate.campaign.workspace import Workspace, open_campaign
from eduadvocate.compose.check import Analysis, analyse
from eduadvocate.core.clock import fixed_clock
from eduadvocate.delivery import planning
from eduadvocate.delivery.planning import NEXT_DUE_HORIZONS, next_due, plan
from tests.conftest import Make

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CONFIG = """\
defaults: {timezone: UTC, accounts: [outbox]}
accounts:
  outbox: {platform: outbox}
  other: {platform: outbox, folder: other}
"""
POSTS = {
    "past": "  - id: past\n    at: 2026-11-28 11:00\n    text: Past\n",
    "now": "  - id: rally\n    at: now\n    text: Now\n",
    "tomorrow": "  - id: tomorrow\n    at: 2026-11-29 09:00\n    text: Tomorrow\n",
    "in a month": "  - id: month\n    at: 2026-12-20 09:00\n    text: Later\n",
    "beyond a year": "  - id: far\n    at: 2028-01-01 09:00\n    text: Far\n",
    "weekly": "  - id: weekly\n    every: week on monday at 09:00\n    text: Weekly\n",
    "other account, tomorrow": (
        "  - id: elsewhere\n    at: 2026-11-29 10:00\n    accounts: [other]\n    text: There\n"
    ),
    "tomorrow, with an error": (
        "  - id: broken\n    at: 2026-11-29 08:00\n    accounts: [nobody]\n    text: Broken\n"
    ),
}
CASES = [
    ["past"],
    ["past", "now"],
    ["past", "tomorrow"],
    ["past", "in a month"],
    ["beyond a year"],
    ["weekly"],
    ["past", "other account, tomorrow"],
    ["past", "tomorrow, with an error"],
    ["now", "tomorrow, with an error", "in a month"],
]


def staged(
    ws: Workspace, analysis: Analysis, now: datetime, accounts: set[str] | None
) -> datetime | None:
    """The answer of the staged plans alone (what next_due did before its shortcut)."""
    for horizon in NEXT_DUE_HORIZONS:
        later = [
            d.due_at
            for d in plan(
                ws,
                analysis,
                now,
                grace=timedelta(0),
                horizon=horizon,
                accounts=accounts,
                native=False,
            ).desired
            if d.due_at > now
        ]
        if later:
            return min(later)
    return None


@pytest.mark.parametrize("kinds", CASES, ids=["+".join(c) for c in CASES])
@pytest.mark.parametrize("accounts", [None, {"outbox"}], ids=["all", "outbox"])
def test_next_due_is_what_the_plans_say(
    make_campaign: Make, kinds: list[str], accounts: set[str] | None
) -> None:
    make_campaign("posts:\n" + "".join(POSTS[k] for k in kinds), config=CONFIG)
    ws = open_campaign(None, clock=fixed_clock(NOW))
    analysis = analyse(ws.config, ws.campaign, NOW)
    assert next_due(ws, analysis, NOW, accounts=accounts) == staged(ws, analysis, NOW, accounts)


def test_a_campaign_all_in_the_past_is_not_planned_again(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_campaign("posts:\n" + POSTS["past"] + POSTS["now"], config=CONFIG)
    ws = open_campaign(None, clock=fixed_clock(NOW))
    analysis = analyse(ws.config, ws.campaign, NOW)
    plans: list[datetime] = []

    def counted(*args: Any, **kwargs: Any) -> planning.Plan:
        plans.append(args[2])
        return plan(*args, **kwargs)

    monkeypatch.setattr(planning, "plan", counted)
    assert next_due(ws, analysis, NOW) is None
    assert plans == []
