"""Render: templates, mentions per platform, UTM links, hashtags where they fit, thread splitting."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from eduadvocate.campaign.workspace import open_campaign
from eduadvocate.compose.check import analyse
from eduadvocate.compose.render import add_utm, split_text
from tests.conftest import Make


def _renderings(make: Make, posts: str, **kw: str) -> dict[str, list[str]]:
    make(posts, **kw)
    ws = open_campaign(None)
    result = analyse(ws.config, ws.campaign, ws.now)
    return {r.account.name: [p.text for p in r.parts] for r in result.renderings}


def test_mention_uses_each_platforms_handle(make_campaign: Make) -> None:
    out = _renderings(
        make_campaign,
        """
        posts:
          - id: a
            at: 2026-12-03 18:00
            accounts: [x-main, bsky, masto, fb]
            text: Tell {@lopez} to fund our schools.
        """,
    )
    assert out["x-main"] == ["Tell @ChairLopez to fund our schools."]
    assert out["bsky"] == ["Tell @lopez.bsky.social to fund our schools."]
    assert out["masto"] == ["Tell @lopez@mastodon.education to fund our schools."]
    assert out["fb"] == ["Tell Chair Maria Lopez to fund our schools."]  # no handle there: the name


def test_variables_braces_and_nested_variables(make_campaign: Make) -> None:
    out = _renderings(
        make_campaign,
        """
        vars:
          petition: https://example.org/p
          ask: "Sign: {petition}"
        utm: false
        posts:
          - id: a
            at: 2026-12-03 18:00
            accounts: [outbox]
            text: "{ask} {{literal}}"
        """,
    )
    assert out["outbox"] == ["Sign: https://example.org/p {literal}"]


def test_links_get_utm_per_platform_and_existing_params_are_kept(make_campaign: Make) -> None:
    out = _renderings(
        make_campaign,
        """
        campaign: Budget Hearing
        posts:
          - id: hear
            at: 2026-12-03 18:00
            accounts: [x-main, bsky]
            text: Testify https://example.org/t?ref=a#top
        """,
    )
    assert out["x-main"] == [
        "Testify https://example.org/t?ref=a&utm_source=x&utm_medium=social"
        "&utm_campaign=budget-hearing&utm_content=hear#top"
    ]
    assert "utm_source=bluesky" in out["bsky"][0]


def test_add_utm_respects_domains_and_existing_values() -> None:
    params = {"utm_source": "x", "utm_medium": "social"}
    assert add_utm("https://other.org/a", params, ("example.org",)) == "https://other.org/a"
    assert add_utm("https://www.example.org/a", params, ("example.org",)).endswith(
        "utm_source=x&utm_medium=social"
    )
    assert (
        add_utm("https://example.org/?utm_source=mail", params)
        == "https://example.org/?utm_source=mail&utm_medium=social"
    )
    assert add_utm("mailto:a@b.org", params) == "mailto:a@b.org"


def test_link_field_is_appended_once(make_campaign: Make) -> None:
    out = _renderings(
        make_campaign,
        """
        utm: false
        posts:
          - id: a
            at: 2026-12-03 18:00
            accounts: [outbox]
            text: Sign the petition.
            link: https://example.org/p
        """,
    )
    assert out["outbox"] == ["Sign the petition.\n\nhttps://example.org/p"]


def test_campaign_hashtags_appended_unless_present_and_dropped_when_they_do_not_fit(
    make_campaign: Make,
) -> None:
    text = "a" * 270
    make_campaign(
        f"""
        hashtags: [FundOurSchools, "#Edu"]
        posts:
          - id: short
            at: 2026-12-03 18:00
            accounts: [x-main]
            text: "Already has #fundourschools here"
          - id: long
            at: 2026-12-03 18:00
            accounts: [x-main]
            split: never
            text: {text}
        """
    )
    ws = open_campaign(None)
    result = analyse(ws.config, ws.campaign, ws.now)
    texts = {r.post.id: r.parts[0].text for r in result.renderings}
    assert texts["short"] == "Already has #fundourschools here\n\n#Edu"
    assert texts["long"] == text + "\n\n#Edu"  # 270 + 2 + 4 = 276 fits; the long tag does not
    dropped = [p for p in result.problems if p.code == "hashtag-dropped"]
    assert [(p.post, p.severity) for p in dropped] == [("long", "warning")]
    assert "#FundOurSchools left out" in dropped[0].message


def test_long_text_splits_into_numbered_thread_at_sentences(make_campaign: Make) -> None:
    sentence = "Our schools need funding now and the board must listen to parents. "
    make_campaign(
        f"""
        posts:
          - id: long
            at: 2026-12-03 18:00
            accounts: [x-main]
            text: "{sentence * 6}"
        """
    )
    ws = open_campaign(None)
    (r,) = analyse(ws.config, ws.campaign, ws.now).renderings
    assert len(r.parts) == 2
    assert [p.text[-4:] for p in r.parts] == [" 1/2", " 2/2"]
    assert all(p.length <= 280 for p in r.parts)
    assert r.parts[0].text.startswith("Our schools")
    assert r.parts[1].text.startswith("Our schools")  # cut between sentences, not inside one


def test_override_replaces_text_for_one_platform(make_campaign: Make) -> None:
    out = _renderings(
        make_campaign,
        """
        posts:
          - id: a
            at: 2026-12-03 18:00
            accounts: [x-main, bsky]
            text: General text
            bluesky: {text: Bluesky text}
        """,
    )
    assert out == {"x-main": ["General text"], "bsky": ["Bluesky text"]}


def _x_len(text: str) -> int:
    from eduadvocate.platforms.textcount.twitter import weighted_length

    return weighted_length(text)


words = st.lists(
    st.sampled_from(
        [
            "school",
            "budget",
            "#FundOurSchools",
            "@ChairLopez",
            "https://example.org/a/long/path",
            "é",
            "学校",
            "👩🏽‍🏫",
            "vote.",
        ]
    ),
    min_size=1,
    max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(words)
def test_split_parts_fit_and_keep_every_word_whole(tokens: list[str]) -> None:
    text = " ".join(tokens)
    parts = split_text(text, 60, _x_len)
    assert all(_x_len(p) <= 60 for p in parts)
    assert " ".join(parts).split() == text.split()  # nothing lost, nothing cut, order kept


def test_a_64kb_word_is_cut_in_linear_time_between_graphemes() -> None:
    """A word longer than the limit is cut from a bounded window at the front of the rest: 64 KB
    of "a." took minutes when every cut re-measured all of the rest."""
    import time

    from eduadvocate.platforms.textcount.unicode import graphemes

    for word, limit, measure in [
        ("a." * 32_768, 280, _x_len),
        ("👩🏽\u200d🏫" * 4_000 + "👨\u200d👩\u200d👧\u200d👦" * 1_000, 300, graphemes),
    ]:
        started = time.monotonic()
        parts = split_text(word, limit, measure)
        assert time.monotonic() - started < 10
        assert "".join(parts) == word
        assert all(measure(p) <= limit for p in parts)
        assert all(measure(p) >= limit - 2 for p in parts[:-1])  # parts are filled, not short
