"""Issue 14: tracking parameters never crowd campaign hashtags out of a Bluesky post (which counts
a URL in full, unlike X and Mastodon), and a Bluesky image carries its aspect ratio (read back
from the reference PDS) so apps show it uncropped."""

from __future__ import annotations

import shutil

import pytest

from eduadvocate.campaign.workspace import open_campaign
from eduadvocate.compose.check import analyse
from eduadvocate.content.media import inspect
from eduadvocate.delivery.publish import publish_due
from tests.adapters.test_bluesky_adapter import POST, _config
from tests.conftest import REPO, Make
from tests.fakes.bluesky import Account, BlueskyPDS

# 180 characters: with the link, the tagged text still fits Bluesky's 300; the hashtag then not.
TEXT = "Budget hearing on Thursday. " + "Tell the board what cuts mean for your family. " * 3
TEXT = TEXT + "x" * (180 - len(TEXT))


def _posts(extra: str = "") -> str:
    return f"""
        campaign: Budget Hearing
        hashtags: [FundOurSchools]
        {extra}
        posts:
          - id: hear
            at: 2026-12-03 18:00
            accounts: [x-main, bsky, masto]
            split: never
            text: "{TEXT}"
            link: https://fundspringfieldschools.org/testify
        """


def test_utm_is_left_off_a_bluesky_link_where_it_would_crowd_out_the_hashtags(
    make_campaign: Make,
) -> None:
    make_campaign(_posts())
    ws = open_campaign(None)
    result = analyse(ws.config, ws.campaign, ws.now)
    texts = {r.account.name: r.parts[0].text for r in result.renderings}
    link = "https://fundspringfieldschools.org/testify"
    assert texts["bsky"] == f"{TEXT}\n\n{link}\n\n#FundOurSchools"
    assert not [p for p in result.problems if p.code == "hashtag-dropped"]
    (left_off,) = [p for p in result.problems if p.code == "utm-dropped"]
    assert (left_off.post, left_off.account, left_off.severity) == ("hear", "bsky", "warning")
    assert "Bluesky" in left_off.message
    # X and Mastodon count any link as 23 characters: tracking costs nothing there.
    for name, source in (("x-main", "x"), ("masto", "mastodon")):
        assert f"{link}?utm_source={source}&utm_medium=social" in texts[name]
        assert texts[name].endswith("#FundOurSchools")


def test_utm_stays_on_a_bluesky_link_where_there_is_room(make_campaign: Make) -> None:
    make_campaign(_posts().replace(TEXT, "Budget hearing on Thursday."))
    ws = open_campaign(None)
    result = analyse(ws.config, ws.campaign, ws.now)
    (bsky,) = [r for r in result.renderings if r.account.name == "bsky"]
    assert "?utm_source=bluesky&utm_medium=social" in bsky.parts[0].text
    assert bsky.parts[0].text.endswith("#FundOurSchools")
    assert not [p for p in result.problems if p.code == "utm-dropped"]


def test_bluesky_image_record_carries_its_aspect_ratio(
    pds: BlueskyPDS, bsky_account: Account, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BSKY_PW", bsky_account.app_password)
    root = make_campaign(
        "utm: false\nposts:\n  - id: chart\n    at: now\n    text: The chart\n"
        "    media: [{path: m.png, alt: A bar chart}]\n",
        config=_config(pds, bsky_account),
    )
    shutil.copy(REPO / "media" / "budget-chart.png", root / "m.png")
    info = inspect(root / "m.png")
    assert info is not None and info.width and info.height
    (outcome,) = publish_due(open_campaign(None)).outcomes
    assert outcome.state == "published", outcome.error
    (record,) = pds.records(bsky_account.did, POST)
    (image,) = record["value"]["embed"]["images"]
    ratio = image["aspectRatio"]
    assert (ratio["width"], ratio["height"]) == (info.width, info.height)
