"""Our twitter-text port against the official npm twitter-text 3.1.0, text by text.

One node process (the ``twitter_oracle`` fixture) answers for the conformance texts, a seeded
random corpus of campaign-like texts, and hypothesis-generated texts.  Everything must agree
exactly: parseTweet's fields with configs v1-v3, and every extractor's entities and indices.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduadvocate.platforms.textcount.twitter import (
    CONFIG_V1,
    CONFIG_V2,
    CONFIG_V3,
    Entity,
    TwitterTextConfig,
    extract_cashtags,
    extract_entities,
    extract_hashtags,
    extract_mentions_or_lists,
    extract_urls,
    parse_tweet,
    weighted_length,
)

pytestmark = pytest.mark.node

DATA = Path(__file__).resolve().parents[1] / "data" / "twitter-text"
CONFIGS = {"v1": CONFIG_V1, "v2": CONFIG_V2, "v3": CONFIG_V3}

# Building blocks for campaign-like texts, chosen for the rules' edge cases.
PIECES = [
    # URLs with and without protocol, t.co, IDN, punycode, ports, parentheses, trailing punct
    "https://example.org/path?x=1&y=2",
    "http://t.co/abc123",
    "https://t.co/UqIyJAJTfo?amp=1",
    "https://t.co/" + "a" * 41,
    "example.org",
    "www.school-district.k12.ca.us/board/agenda",
    "bit.ly/3xYzAb",
    "EXAMPLE.COM",
    "foo.co.jp",
    "t.co",
    "xn--bcher-kva.de",
    "http://bücher.de/",
    "https://例え.jp/パス",
    "a.b.c.d.com:8080/x_(y)",
    "http://www.example.com/path.",
    "example.com/a(b)c",
    "user@example.org",
    "https://twitter.com/#!/user",
    "ftp://example.org",
    "http://localhost:3000",
    "example.comeback",
    "foo.ſe",
    "http://foobar.پاکستان/",
    "twitter.comこれは",
    "中国example.com",
    "a.co-中a.co/x",
    "a.co-😀a.co/x",
    "-example.com",
    "_example.com",
    "http://" + "x" * 64 + ".com",
    "www.example.com?q=1",
    "example.org:8080",
    "http://example.com/" + "p" * 300,
    # mentions, lists, hashtags, cashtags
    "@SchoolBoard",
    "@user/list-1",
    "＠fullwidth",
    "RT @teacher:",
    "email@x.com",
    "#EdEquity",
    "#日本語",
    "#123",
    "#تعليم",
    "＃tag",
    "#a#b",
    "#tag\ufe0f",
    "$AAPL",
    "$tsla.b",
    "$ 5",
    # emoji: ZWJ sequences, flags, keycaps, modifiers, text/emoji presentation, tags
    "😀",
    "👩‍🏫",
    "👨‍👩‍👧‍👦",
    "🇺🇸",
    "🇺🇸🇫🇷",
    "🏳️‍🌈",
    "1️⃣",
    "#️⃣",
    "👍🏽",
    "❤️",
    "❤︎",
    "©",
    "©️",
    "\ufe0f",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
    "🧑‍🎓",
    "🫠",
    # scripts, combining marks and normalisation
    "学校の先生",
    "교육",
    "تعليم",
    "חינוך",
    "शिक्षा",
    "การศึกษา",
    "e\u0301",
    "a\u0308",
    "\u0915\u094d\u0937",
    "\u1100\u1161",
    "\u212b",
    "\u0958",
    "Ａｂｃ",
    # whitespace, directional marks, invalid characters
    "\n",
    "\r\n",
    "\t",
    "\u3000",
    "\u00a0",
    "\u200b",
    "\u2066",
    "\u202a",
    "\ufeff",
    "\uffff",
    # words and punctuation
    "Join",
    "us",
    "school",
    "board",
    "meeting",
    "tonight",
    "funding",
    "teachers",
    ".",
    ",",
    "!",
    "?",
    "(",
    ")",
    ":",
    "-",
    "/",
    "_",
    "…",
    "2024",
]
SEPARATORS = [" ", " ", " ", "", "\n"]


def _random_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 40)):
        parts.append(rng.choice(PIECES))
        parts.append(rng.choice(SEPARATORS))
    if rng.random() < 0.2:
        parts *= rng.randint(2, 4)  # long texts: over the limit, with ranges to report
    return "".join(parts)


def _conformance_texts() -> list[str]:
    texts: list[str] = []
    for name in ("extract.yml", "validate.yml"):
        with (DATA / name).open(encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        texts.extend(c["text"] for cases in data["tests"].values() for c in cases)
    return texts


RNG = random.Random(20240901)
CORPUS = _conformance_texts() + [_random_text(RNG) for _ in range(600)]


def _js_entity(e: dict[str, Any]) -> tuple[str, str, int, int]:
    start, end = e["indices"]
    if "url" in e:
        return ("url", e["url"], start, end)
    if "hashtag" in e:
        return ("hashtag", e["hashtag"], start, end)
    if "cashtag" in e:
        return ("cashtag", e["cashtag"], start, end)
    kind = "list" if e["listSlug"] else "mention"
    return (kind, e["screenName"] + e["listSlug"], start, end)


def _ours(entities: list[Entity]) -> list[tuple[str, str, int, int]]:
    return [(e.kind, e.value, e.start, e.end) for e in entities]


def _parse_fields(text: str, config: str) -> dict[str, Any]:
    r = parse_tweet(text, CONFIGS[config])
    return {
        "weightedLength": r.weighted_length,
        "valid": r.valid,
        "permillage": r.permillage,
        "validRangeStart": r.valid_range_start,
        "validRangeEnd": r.valid_range_end,
        "displayRangeStart": r.display_range_start,
        "displayRangeEnd": r.display_range_end,
    }


def _differences(oracle: Any, text: str, config: str = "v3") -> list[str]:
    """Every way our answers for ``text`` differ from npm's (empty when they agree)."""
    js = oracle.ask(text, config)
    ours: dict[str, Any] = {
        "parse": _parse_fields(text, config),
        "urls": _ours(extract_urls(text)),
        "urlsWithProtocol": _ours(extract_urls(text, without_protocol=False)),
        "mentionsOrLists": _ours(extract_mentions_or_lists(text)),
        "hashtags": _ours(extract_hashtags(text)),
        "cashtags": _ours(extract_cashtags(text)),
        "entities": _ours(extract_entities(text)),
    }
    theirs: dict[str, Any] = {k: [_js_entity(e) for e in v] for k, v in js.items() if k != "parse"}
    theirs["parse"] = js["parse"]
    diffs = [
        f"{key}: ours={ours[key]!r} npm={theirs[key]!r}" for key in ours if ours[key] != theirs[key]
    ]
    if weighted_length(text, CONFIGS[config]) != js["parse"]["weightedLength"]:
        diffs.append("weighted_length disagrees with parseTweet")
    return [f"{text!r} [{config}] {d}" for d in diffs]


@pytest.mark.parametrize("config", ["v3", "v2", "v1"])
def test_corpus_agrees_with_npm(twitter_oracle: Any, config: str) -> None:
    """Conformance texts and 600 seeded campaign-like texts: every field and entity agrees."""
    diffs = [d for text in CORPUS for d in _differences(twitter_oracle, text, config)]
    assert diffs == [], "\n".join(diffs[:20])


def test_crlf_counts_like_npm(twitter_oracle: Any) -> None:
    """CRLF line breaks weigh what npm says (two characters), URLs next to them included."""
    texts = [
        "line one\r\nline two",
        "\r\n",
        "see example.org\r\nthen more",
        "https://example.org/a\r\n#tag\r\n@user",
        "😀\r\n😀",
        "\r\n" * 150,
    ]
    diffs = [d for text in texts for d in _differences(twitter_oracle, text)]
    assert diffs == [], "\n".join(diffs)
    assert weighted_length("a\r\nb") == 4


# Overlapping ranges (the first wins), a range over the low surrogates (astral characters
# weigh as their low surrogate), a scale that makes lengths fractional in JavaScript.
CUSTOM_CONFIGS = [
    TwitterTextConfig(
        version=9,
        max_weighted_tweet_length=50,
        scale=3,
        default_weight=5,
        transformed_url_length=4,
        ranges=((0, 127, 2), (0xDC00, 0xDE00, 1), (100, 60000, 7)),
        emoji_parsing_enabled=False,
    ),
    TwitterTextConfig(
        version=8,
        max_weighted_tweet_length=100,
        scale=10,
        default_weight=30,
        transformed_url_length=11,
        ranges=((0x20, 0x7E, 10), (0x4E00, 0x9FFF, 15)),
        emoji_parsing_enabled=True,
    ),
]


@pytest.mark.parametrize("config", CUSTOM_CONFIGS, ids=["surrogate-ranges", "emoji-on"])
def test_custom_configs_agree_with_npm(twitter_oracle: Any, config: TwitterTextConfig) -> None:
    """Any config counts as in npm; fractional JavaScript lengths are floored."""
    options = {
        "version": config.version,
        "maxWeightedTweetLength": config.max_weighted_tweet_length,
        "scale": config.scale,
        "defaultWeight": config.default_weight,
        "transformedURLLength": config.transformed_url_length,
        "ranges": [{"start": a, "end": b, "weight": w} for a, b, w in config.ranges],
        "emojiParsingEnabled": config.emoji_parsing_enabled,
    }
    diffs = []
    for text in CORPUS[::3]:
        js = twitter_oracle.ask(text, options)["parse"]
        js["weightedLength"] = math.floor(js["weightedLength"])
        r = parse_tweet(text, config)
        ours = {
            "weightedLength": r.weighted_length,
            "valid": r.valid,
            "permillage": r.permillage,
            "validRangeStart": r.valid_range_start,
            "validRangeEnd": r.valid_range_end,
            "displayRangeStart": r.display_range_start,
            "displayRangeEnd": r.display_range_end,
        }
        if ours != js or weighted_length(text, config) != js["weightedLength"]:
            diffs.append(f"{text!r}: ours={ours} npm={js}")
    assert diffs == [], "\n".join(diffs[:20])


piece_texts = st.lists(
    st.one_of(st.sampled_from(PIECES), st.sampled_from(SEPARATORS), st.text(max_size=3)),
    max_size=30,
).map("".join)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(text=piece_texts)
def test_generated_texts_agree_with_npm(twitter_oracle: Any, text: str) -> None:
    """Hypothesis-built mixes of URLs, emoji, scripts and arbitrary characters agree too."""
    assert _differences(twitter_oracle, text) == []
