"""check's rules about a rendering, made cheaper, report what they reported before.

``check_rendering`` scans a part for unreadable hashtags, broken web addresses and deceptive
characters only where one of its words fails that rule (compose/check.py ``_Words``, each
distinct word, and each piece of a part between sentence ends, judged once per process): the
verdicts are those of the whole-part scans, and the
problems (code, severity, message, place, hint, order) those of scanning every part, over texts
made of words that break the words' locality (marks, joiners, look-alike letters, signs glued
to other words, the separators each rule treats differently). Bluesky's findings (plain
mentions, overlong tags), scanned for only where a sign starts no facet of its kind, are those
of every scan made (a frozen copy of the rule before).
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock

from hypothesis import example, given, settings
from hypothesis import strategies as st

from eduadvocate.compose import check, checkmedia
from eduadvocate.compose.render import Part, Renderer, Rendering, hashtags
from eduadvocate.config.defaults import Defaults
from eduadvocate.config.model import AccountConfig
from eduadvocate.content import textsafety
from eduadvocate.content.model import Content, Person, Post
from eduadvocate.core.errors import Findings, Location, Problem
from eduadvocate.platforms.base import Finding, PlatformSpec
from eduadvocate.platforms.bluesky.spec import BlueskyPlatform
from eduadvocate.platforms.mastodon_api.spec import MastodonPlatform
from eduadvocate.platforms.registry import platform_names, spec_class
from eduadvocate.platforms.textcount.unicode import (
    BSKY_TAG_MAX,
    bluesky_facets,
    long_tags,
    plain_mentions,
)
from eduadvocate.platforms.x.spec import XPlatform

WORDS = [
    "Fund",
    "school.",
    "#FundOurSchools",
    "#fundourschools",
    "#SAVEOURSCHOOLSNOW",
    "#NEA",
    "#FundОurSchools",  # a Cyrillic O
    "＃タグ",
    "＃fundourschoolsnow",
    "#",
    "#a#fundourschools",
    "x#fundourschools",
    "#fundourschools://x",
    "@lopez",
    "@lорez",
    "＠lopez",
    "@lopez.bsky.social",
    "x@é",
    "https://example.org/#fundourschools",
    "Åxn--bcher-kva.de/#fundourschools",  # a URL found differently at a text's start
    "xn--bcher-kva.de#fundourschools",
    "https://exаmple.org",
    "HTTP://EXAMPLE.ORG/é",
    "www.exаmple.org",
    "WWW.exаmple.org",
    "httpſ://exаmple.org",
    "é://a",
    "example.org/?q=#savetheartsnow",
    "http:/example.org",
    "HTTPS:/x",
    "hTtPſ:/x",
    "https//x",
    "htp://x",
    "htps://x",
    "ht:\\\\x",
    "xhttp:/x",
    "_http:/x",
    "éhttp:/x",
    "http:",
    "/x",
    "//x",
    "\u202e",
    "\u2066",
    "\u200b",
    "\u00ad",
    "a\u200db",
    "a\u200cb",
    "👩\u200d🏫",
    "\u0301",
    "é",
    "学校",
    "🎨🎶",
]
# Between words: what splits words for one rule and not for another, and nothing at all; and
# sentence ends (where ``_Words`` cuts a part into pieces: the dot stays with the word before).
GAPS = ["", " ", "  ", "\n", "\n\n", "\t", "\r\n", "\u3000", "\u00a0", "\x1c", "\x0b", "\u2028"]
GAPS += [". ", ". . ", ".\n", "\n. ", ". \n", " .", "."]
texts = st.lists(st.tuples(st.sampled_from(GAPS), st.sampled_from(WORDS)), max_size=12).map(
    lambda pairs: "".join(gap + word for gap, word in pairs)
)


def scanned(text: str) -> int:
    """The rules that find something in ``text``, each scanning the whole text (the verdict
    ``_Words`` stands for)."""
    rules = 0
    if not all(check.is_readable_hashtag(tag.value) for tag in hashtags(text)):
        rules |= check._TAG_RULE
    if check._MALFORMED_URL.search(text):
        rules |= check._LINK_RULE
    if textsafety.text_warnings(text):
        rules |= check._CHAR_RULE
    return rules


@settings(max_examples=1500)
@given(text=texts)
def test_a_parts_words_say_which_rules_find_something(text: str) -> None:
    """The verdict from the words (and the pieces between sentence ends), remembered across
    texts (as in a run) and fresh, is the whole text's: never a rule skipped that would report,
    and none scanned in vain."""
    assert check._WORDS.rules(text) == scanned(text)
    assert check._Words().rules(text) == scanned(text)


def test_the_words_are_forgotten_past_the_bounds() -> None:
    """Past ``_WORDS_MAX`` words and pieces, or ``_WORDS_CHARS_MAX`` characters in them, the
    memory is emptied, and the verdicts stay right after it."""
    for bound, limit in (("_WORDS_MAX", 3), ("_WORDS_CHARS_MAX", 40)):
        words = check._Words()
        with mock.patch.object(check, bound, limit):
            for n in range(10):
                long_word = "é" * 30 + f"-http:/{n}"
                assert words.rules(f"w{n} #fundourschools {long_word}") == (
                    check._TAG_RULE | check._LINK_RULE
                )
                assert words.rules(f"w{n} x{n}") == 0
                assert words.rules(long_word) == check._LINK_RULE
                assert words.rules(f"{long_word}. w{n}. #fundourschools") == (
                    check._TAG_RULE | check._LINK_RULE
                )
                memo = words._memo
                assert len(memo.seen) + len(memo.sentences) + len(memo.ends) <= 12


class _EveryRule:
    """``_Words`` as if every word failed every rule: each part scanned whole, as before."""

    def rules(self, text: str) -> int:
        return check._TAG_RULE | check._LINK_RULE | check._CHAR_RULE


ACCOUNTS = [
    XPlatform(AccountConfig("x", "x", {}, Location("c.yaml"))),
    BlueskyPlatform(AccountConfig("b", "bluesky", {"handle": "a.bsky.social"}, Location("c.yaml"))),
    MastodonPlatform(
        AccountConfig("m", "mastodon", {"instance": "https://m.example"}, Location("c.yaml"))
    ),
]
PEOPLE = {
    "lopez": Person(
        "lopez",
        "Maria Lopez",
        {"x": "ChairLopez", "bluesky": "lopez.bsky.social"},
        Location("people.yaml", 1),
    )
}


def _problems(post: Post, spec: PlatformSpec) -> list[Problem]:
    rendering = Renderer(PEOPLE).render(post, spec)
    return check.check_rendering(rendering, spec, Path("."))


@settings(max_examples=400, deadline=None)
@given(
    text=texts,
    thread=st.lists(texts, min_size=2, max_size=3) | st.none(),
    warning=texts | st.none(),
    tags=st.lists(st.sampled_from(["fundourschools", "FundОurSchools", "NEA", "OK"]), max_size=2),
    split=st.sampled_from(["auto", "never"]),
)
def test_check_rendering_reports_what_scanning_every_part_does(
    text: str, thread: list[str] | None, warning: str | None, tags: list[str], split: str
) -> None:
    """Every problem, in order, on X, Bluesky and Mastodon, for a text or a thread (split or
    not, with a content warning and the campaign's hashtags, mentions of a person)."""
    post = Post(
        id="p",
        loc=Location("posts/p.yaml", 1),
        file="posts/p.yaml",
        defaults=Defaults(hashtags=tuple(tags), hashtags_loc=Location("config.yaml", 3)),
        content=Content(
            text=None if thread else text + " {@lopez}",
            thread=tuple(thread) if thread else None,
            content_warning=warning,
            split=split,
            text_loc=Location("posts/p.yaml", 2),
        ),
        overrides={},
    )
    for spec in ACCOUNTS:
        fast = _problems(post, spec)
        with mock.patch.object(check, "_WORDS", _EveryRule()):
            every = _problems(post, spec)
        assert fast == every


def old_bluesky_findings(text: str) -> list[Finding]:
    """``BlueskyPlatform.findings`` as it was: every scan made, the mentions decoded from bytes."""
    facets = bluesky_facets(text)
    data = text.encode("utf-8")
    covered = {
        data[f.byte_start : f.byte_end].decode("utf-8") for f in facets if f.kind == "mention"
    }
    out = [
        Finding(
            "mention-plain",
            f"{word} is not a Bluesky handle, so it will not notify anyone",
            "write {@person} with a bluesky: handle in people.yaml, or the full handle (name.bsky.social)",
            "warning",
        )
        for word in dict.fromkeys(plain_mentions(text))
        if word not in covered
    ]
    out += [
        Finding(
            "hashtag-too-long",
            f"#{tag[:20]}… is over {BSKY_TAG_MAX} characters, so Bluesky will not make it a tag",
        )
        for tag in long_tags(text)
    ]
    return out


BLUESKY_WORDS = [
    "@lopez.bsky.social",
    "@lopez.bsky.social.",
    "@nobody",
    "@a.b",
    "@é.bsky.social",
    "(@x.y)",
    "x@y.bsky.social",
    "@@lopez.bsky.social",
    "＠lopez.bsky.social",
    "https://x.org/@lopez.bsky.social",
    "https://x.org/(@lopez.bsky.social",
    "lopez.bsky.social/@a.bc",
    "#" + "a" * 64,
    "#" + "a" * 65,
    "#" + "a" * 70 + "!!",
    "＃" + "タ" * 65,
    "#" + "a" * 63 + "é",
    "#" + "1" * 70,
    "#" + "a" * 40 + "\u00a0" + "a" * 40,
    "#" + "a" * 40 + "\x1c" + "a" * 40,
    "https://x.org/#" + "a" * 70,
    "#FundOurSchools",
    "#1",
    "#",
    "\ufe0f",
]
bluesky_texts = st.lists(
    st.tuples(st.sampled_from(GAPS), st.sampled_from(BLUESKY_WORDS + WORDS)), max_size=8
).map(lambda pairs: "".join(gap + word for gap, word in pairs))


@settings(max_examples=1500)
@given(text=bluesky_texts)
def test_bluesky_findings_are_those_of_every_scan(text: str) -> None:
    """Plain mentions and overlong tags, found only where the facets leave a sign uncovered."""
    assert ACCOUNTS[1].findings(text, 0) == old_bluesky_findings(text)


def old_blank(text: str) -> bool:
    """``check._blank`` as it was: the text copied without NUL, then stripped."""
    return not text.replace("\0", "").strip()


@settings(max_examples=1500)
@example(text="")
@example(text="\0")
@example(text=" \0\x1c\u3000")
@given(
    text=st.text(st.sampled_from([" ", "\0", "\t", "\n", "\x1c", "\x85", "\u3000", "\u200b", "a"]))
)
def test_blank_is_what_stripping_a_copy_was(text: str) -> None:
    """Blank without a copy: empty, whitespace and NUL (every kind ``strip`` drops), alike."""
    assert check._blank(text) == old_blank(text)


SHARED_POSTS = [None, "https://x.com/a/status/1", "https://bsky.app/profile/a.bsky.social/post/3k"]


def old_media_without_media(
    rendering: Rendering, spec: PlatformSpec, loc: Location
) -> list[Problem]:
    """``check_media`` as it ran through for a post without media (a frozen copy of what of it
    can speak then): the text-only rules return at once, then a needed file, the form's rules."""
    post = rendering.post
    out = Findings(post.id, rendering.account.name, loc)
    if checkmedia._text_only(post, spec) is not None:
        return out
    if spec.media.required:
        out.add(
            "media-required",
            f"{spec.title} needs at least one image or video",
            loc,
            "add media: [{path: …, alt: …}]",
        )
    for code, message, where, hint in spec.form_problems(post, []):
        out.add(code, message, where, hint)
    return out


@settings(max_examples=200, deadline=None)
@given(
    reply_to=st.sampled_from(SHARED_POSTS),
    quote=st.sampled_from(SHARED_POSTS),
    reel=st.booleans(),
)
def test_media_rules_on_a_post_without_media_report_what_they_did(
    reply_to: str | None, quote: str | None, reel: bool
) -> None:
    """``check_media`` returning at once for a post without media on a platform that needs none
    and asks nothing of its form reports what running it through did, on every platform (a
    reply, a quote, a Facebook Reel: the rules that may speak of media a post lacks)."""
    where = Location("posts/p.yaml", 2)
    post = Post(
        "p",
        Location("posts/p.yaml", 1),
        "posts/p.yaml",
        Defaults(),
        Content(text="Hi"),
        {},
        reply_to=reply_to,
        quote=quote,
        reel_loc=where if reel else None,
    )
    for platform in sorted(platform_names()):
        spec = spec_class(platform)(AccountConfig("a", platform, {}, Location("config.yaml")))
        rendering = Rendering(post, spec.account, spec.name, [Part("Hi", 2, spec.limit, 2)])
        fast = checkmedia.check_media(rendering, spec, Path("."), (), where)
        assert fast == old_media_without_media(rendering, spec, where), platform
