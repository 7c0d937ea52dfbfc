"""The official twitter-text 3.1.0 conformance cases, one test id per case.

The data lives in ``tests/data/twitter-text`` (see its README for which sections apply).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from eduadvocate.platforms.textcount.twitter import (
    CONFIG_V1,
    CONFIG_V2,
    CONFIG_V3,
    Entity,
    TwitterTextConfig,
    extract_cashtags,
    extract_hashtags,
    extract_mentions,
    extract_mentions_or_lists,
    extract_urls,
    is_valid_hashtag,
    parse_tweet,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "twitter-text"


def _load(name: str) -> dict[str, list[dict[str, Any]]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        loaded = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return loaded["tests"]  # type: ignore[no-any-return]


EXTRACT = _load("extract.yml")
VALIDATE = _load("validate.yml")
TLDS = _load("tlds.yml")


def cases(data: dict[str, list[dict[str, Any]]], prefix: str, *sections: str) -> list[Any]:
    return [
        pytest.param(case, id=f"{prefix}-{section}-{n:04d}")
        for section in sections
        for n, case in enumerate(data[section])
    ]


def _values(entities: list[Entity]) -> list[str]:
    return [e.value for e in entities]


# -- extract.yml, tlds.yml -------------------------------------------------------------------

VALUE_EXTRACTORS: dict[str, Callable[[str], list[Entity]]] = {
    "mentions": extract_mentions,
    "urls": extract_urls,
    "tco_urls_with_params": extract_urls,
    "hashtags": extract_hashtags,
    "hashtags_from_astral": extract_hashtags,
    "cashtags": extract_cashtags,
}


@pytest.mark.parametrize(
    ("section", "case"),
    [
        pytest.param(section, case, id=f"extract-{section}-{n:04d}")
        for section in VALUE_EXTRACTORS
        for n, case in enumerate(EXTRACT[section])
    ],
)
def test_extract_values(section: str, case: dict[str, Any]) -> None:
    """Each extractor returns exactly the expected values, in order."""
    assert _values(VALUE_EXTRACTORS[section](case["text"])) == case["expected"], case["description"]


@pytest.mark.parametrize("case", cases(TLDS, "tlds", "country", "generic"))
def test_tld_urls(case: dict[str, Any]) -> None:
    """Every TLD twitter-text knows is recognised in a URL."""
    assert _values(extract_urls(case["text"])) == case["expected"], case["description"]


@pytest.mark.parametrize(
    "case", cases(EXTRACT, "extract", "urls_with_indices", "urls_with_directional_markers")
)
def test_urls_with_indices(case: dict[str, Any]) -> None:
    """URLs come with code-point indices into the text."""
    got = [{"url": e.value, "indices": [e.start, e.end]} for e in extract_urls(case["text"])]
    assert got == case["expected"], case["description"]


@pytest.mark.parametrize("case", cases(EXTRACT, "extract", "mentions_with_indices"))
def test_mentions_with_indices(case: dict[str, Any]) -> None:
    """Mentions come with the index of the @ sign and the end of the name."""
    got = [
        {"screen_name": e.value, "indices": [e.start, e.end]}
        for e in extract_mentions(case["text"])
    ]
    assert got == case["expected"], case["description"]


@pytest.mark.parametrize("case", cases(EXTRACT, "extract", "mentions_or_lists_with_indices"))
def test_mentions_or_lists_with_indices(case: dict[str, Any]) -> None:
    """Lists are reported as "name/slug" and span the slug; mentions have no slug."""
    got = []
    for e in extract_mentions_or_lists(case["text"]):
        name, _, slug = e.value.partition("/")
        assert e.kind == ("list" if slug else "mention")
        got.append(
            {
                "screen_name": name,
                "list_slug": f"/{slug}" if slug else "",
                "indices": [e.start, e.end],
            }
        )
    assert got == case["expected"], case["description"]


@pytest.mark.parametrize("case", cases(EXTRACT, "extract", "hashtags_with_indices"))
def test_hashtags_with_indices(case: dict[str, Any]) -> None:
    """Hashtags come with the index of the # sign."""
    got = [
        {"hashtag": e.value, "indices": [e.start, e.end]} for e in extract_hashtags(case["text"])
    ]
    assert got == case["expected"], case["description"]


@pytest.mark.parametrize("case", cases(EXTRACT, "extract", "cashtags_with_indices"))
def test_cashtags_with_indices(case: dict[str, Any]) -> None:
    """Cashtags come with the index of the $ sign."""
    got = [
        {"cashtag": e.value, "indices": [e.start, e.end]} for e in extract_cashtags(case["text"])
    ]
    assert got == case["expected"], case["description"]


# -- validate.yml ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases(VALIDATE, "validate", "tweets"))
def test_tweets_v1_validity(case: dict[str, Any]) -> None:
    """The original 140-character rule (config v1) accepts and rejects as twitter-text does."""
    assert parse_tweet(case["text"], CONFIG_V1).valid is case["expected"], case["description"]


@pytest.mark.parametrize("case", cases(VALIDATE, "validate", "hashtags"))
def test_is_valid_hashtag(case: dict[str, Any]) -> None:
    """A "#tag" string is valid exactly when it is one whole hashtag."""
    assert is_valid_hashtag(case["text"]) is case["expected"], case["description"]


WEIGHTED: dict[str, TwitterTextConfig] = {
    "WeightedTweetsCounterTest": CONFIG_V2,
    "WeightedTweetsWithDiscountedEmojiCounterTest": CONFIG_V3,
    "UnicodeDirectionalMarkerCounterTest": CONFIG_V3,
}


@pytest.mark.parametrize(
    ("section", "case"),
    [
        pytest.param(section, case, id=f"validate-{section}-{n:04d}")
        for section in WEIGHTED
        for n, case in enumerate(VALIDATE[section])
    ],
)
def test_parse_tweet(section: str, case: dict[str, Any]) -> None:
    """parse_tweet reproduces every field of parseTweet with the section's config."""
    result = parse_tweet(case["text"], WEIGHTED[section])
    got = {
        "weightedLength": result.weighted_length,
        "valid": result.valid,
        "permillage": result.permillage,
        "displayRangeStart": result.display_range_start,
        "displayRangeEnd": result.display_range_end,
        "validRangeStart": result.valid_range_start,
        "validRangeEnd": result.valid_range_end,
    }
    assert got == case["expected"], case["description"]


def test_default_config_is_v3() -> None:
    """Without a config, parse_tweet counts like v3 (emoji discount on)."""
    assert parse_tweet("👩‍👩‍👧‍👦").weighted_length == 2
    assert parse_tweet("👩‍👩‍👧‍👦", CONFIG_V2).weighted_length == 11  # 4 x 2 + 3 ZWJ x 1
    assert CONFIG_V3.emoji_parsing_enabled
    assert not CONFIG_V2.emoji_parsing_enabled
