"""Render's layout (split, numbering, hashtags, each part measured) against a frozen copy of the
layout as it was before the parts carried their lengths (the oracle, below): every Part's text,
length, limit and bytes, ``split``, and the problems in their order, alike for texts made to
break the arithmetic (sentences around each limit, content warnings, emoji, CJK, combining
marks after spaces, CR LF, long URLs, hashtags present or not, numbering on or off)."""

from __future__ import annotations

import pickle
import re
import sys
from collections.abc import Callable
from dataclasses import fields as dataclass_fields
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduadvocate.campaign.workspace import open_campaign
from eduadvocate.compose.render import (
    _SENTENCE_END,
    _WORD_GAP,
    Part,
    Renderer,
    Rendering,
    _cut_word,
    _Draft,
    _hashtag_problem,
    _hashtags_in,
    _is_entity,
    _part,
    _tokens,
    _utm_params,
    hashtags,
    normalise_hashtag,
)
from eduadvocate.config.utm import UtmSettings
from eduadvocate.content.model import Content, Media, Post
from eduadvocate.core.errors import Location
from eduadvocate.core.suggest import shown
from eduadvocate.platforms.base import Facet, PlatformSpec
from eduadvocate.platforms.registry import spec_class
from tests.conftest import Make

# ---- the oracle: render.py's layout as it was (main at 2a78c7e), copied unchanged but for
# names, ``self`` made an argument, and the hashtags present found by the full search (which
# its shortcut gave: test_render.py's test_wanted_hashtags_are_found_present_as_a_full_search_
# finds_them), and _tokens frozen too (below). What it calls from render.py (_cut_word, _is_entity, hashtags,
# _hashtag_problem) is not part of the layout that changed. ----


class _MeasureBefore:
    """``_Measure`` as it was: joined lengths stored in ``lengths``."""

    def __init__(self, spec: PlatformSpec, cw: str | None) -> None:
        self.spec, self.cw, self.lengths = spec, cw, dict[str, int]()

    def __call__(self, text: str) -> int:
        length = self.lengths.get(text)
        if length is None:
            length = self.lengths[text] = self.spec.length(text, self.cw)
        return length

    def added(self, gap: str, text: str) -> int:
        probe = "a"
        joined = self.join(probe, gap, text)
        if joined is None:
            return self(probe + gap + text) - self(probe)
        return joined - self(probe)

    def join(self, left: str, gap: str, right: str) -> int | None:
        length = self.spec.joined_length(left, self(left), gap, right, self(right), self.cw)
        if length is not None:
            text = left + gap + right
            if text not in self.lengths:
                self.lengths[text] = length
        return length


def _laid_out_before(draft: _Draft, measure: _MeasureBefore) -> Rendering:
    post, spec, content, out = draft.post, draft.spec, draft.content, draft.out
    bodies, limit = draft.bodies, draft.limit
    split_mode = content.split or "auto"
    numbering = content.numbering
    if numbering is None:
        numbering = post.defaults.numbering if post.defaults.numbering is not None else True
    sentences = [
        _tokens_before(body, _SENTENCE_END)
        if measure(body) > limit and split_mode == "auto" and spec.supports_threads
        else None
        for body in bodies
    ]

    def build(reserve: int) -> list[str]:
        parts: list[str] = []
        for body, tokens in zip(bodies, sentences, strict=True):
            if tokens is None:
                parts.append(body)
            else:
                parts.extend(_split_text_before(body, limit, measure, reserve, tokens))
        return parts

    parts = build(0)
    out.split = len(parts) > len(bodies)
    if out.split and numbering:
        for _ in range(4):
            count = len(parts)
            parts = build(measure.added(" ", f"{count}/{count}"))
            if len(parts) == count:
                break
        parts = _numbered_before(parts, measure)
    parts = _add_hashtags_before(post, content, spec, parts, measure, limit, draft.problem)
    media = content.media or ()
    for index, text in enumerate(parts):
        out.parts.append(
            Part(
                text=text,
                length=measure(text),
                limit=limit,
                bytes=len(text.encode("utf-8")),
                media=media if index == 0 else (),
            )
        )
    return out


def _add_hashtags_before(
    post: Post,
    content: Content,
    spec: PlatformSpec,
    parts: list[str],
    measure: _MeasureBefore,
    limit: int,
    problem: Callable[..., None],
) -> list[str]:
    own = {normalise_hashtag(t) for t in content.hashtags or ()}
    wanted = []
    for tag in dict.fromkeys(
        normalise_hashtag(t) for t in (*post.defaults.hashtags, *(content.hashtags or ()))
    ):
        why = _hashtag_problem(spec.name, tag[1:])
        if why is None:
            wanted.append(tag)
            continue
        problem(
            "invalid-hashtag",
            f'the hashtag "{shown(tag[1:])}" {why}',
            (content.hashtags_loc if tag in own else post.defaults.hashtags_loc) or post.loc,
            "write one word per hashtag, without spaces, links, # or @ inside",
        )
    if not wanted:
        return parts
    cap = getattr(spec, "max_hashtags", None)
    present = {e.value.casefold() for p in parts for e in hashtags(p)}
    room = (cap - len(present)) if isinstance(cap, int) else None
    last = parts[-1] if parts else ""
    added: list[str] = []
    loc = content.hashtags_loc or post.defaults.hashtags_loc or post.loc
    for tag in dict.fromkeys(wanted):
        if tag[1:].casefold() in present:
            continue
        if room is not None and room <= 0:
            problem(
                "hashtag-dropped",
                f"{tag} left out: {spec.title} allows {cap} hashtags",
                loc,
                severity="warning",
            )
            continue
        candidate = _with_tags_before(last, [*added, tag])
        if _tagged_length_before(measure, last, candidate) > limit:
            problem(
                "hashtag-dropped",
                f"{tag} left out: it does not fit in {limit} characters on {spec.title}",
                loc,
                "shorten the text if the hashtag matters",
                severity="warning",
            )
            continue
        added.append(tag)
        present.add(tag[1:].casefold())
        if room is not None:
            room -= 1
    if added:
        parts = [*parts[:-1], _with_tags_before(last, added)]
    return parts


def _numbered_before(parts: list[str], measure: _MeasureBefore) -> list[str]:
    out = []
    for i, part in enumerate(parts, 1):
        measure.join(part, " ", f"{i}/{len(parts)}")
        out.append(f"{part} {i}/{len(parts)}")
    return out


def _with_tags_before(text: str, tags: list[str]) -> str:
    if not tags:
        return text
    joined = " ".join(tags)
    return f"{text.rstrip()}\n\n{joined}" if text.strip() else joined


def _tagged_length_before(measure: _MeasureBefore, text: str, tagged: str) -> int:
    base = text.rstrip()
    if base and len(tagged) > len(base) + 2:
        known = measure.join(base, "\n\n", tagged[len(base) + 2 :])
        if known is not None:
            return known
    return measure(tagged)


def _split_text_before(
    text: str,
    limit: int,
    measure: _MeasureBefore,
    reserve: int,
    sentences: list[tuple[str, str]],
) -> list[str]:
    budget = limit - reserve
    out: list[str] = []
    for part in _pack_before(sentences, budget, measure, by_words=True):
        if measure(part) <= budget or _is_entity(part):
            out.append(part)
        else:
            out.extend(
                _pack_before(
                    _tokens_before(part, _WORD_GAP), budget, measure, by_words=False, exact=True
                )
            )
    return out or [text]


def _tokens_before(text: str, separator: re.Pattern[str]) -> list[tuple[str, str]]:
    """render.py's ``_tokens`` and ``_pieces`` as they were (main at 77410fd)."""
    pieces, pos = [], 0
    for match in separator.finditer(text):
        pieces.append(text[pos : match.end()])
        pos = match.end()
    if pos < len(text):
        pieces.append(text[pos:])
    out: list[tuple[str, str]] = []
    for piece in pieces:
        body = piece.rstrip()
        if body.strip():
            out.append((body.lstrip(), piece[len(body) :]))
        elif out:
            body, gap = out[-1]
            out[-1] = (body, gap + piece)
    return out


def _pack_before(
    tokens: list[tuple[str, str]],
    budget: int,
    measure: _MeasureBefore,
    *,
    by_words: bool,
    exact: bool = False,
) -> list[str]:
    parts: list[str] = []
    current, length, gap = "", 0, ""
    join = measure.join
    for body, after in tokens:
        size = measure(body)
        joined = join(current, gap, body) if current else None
        if joined is None:
            joined = length + len(gap) + size
            if exact and current:
                joined = measure(current + gap + body)
        if current and joined <= budget:
            current, length = current + gap + body, joined
        elif size <= budget:
            if current:
                parts.append(current)
            current, length = body, size
        else:
            if current:
                parts.append(current)
            current, length = "", 0
            if by_words:
                pieces = _pack_before(
                    _tokens_before(body, _WORD_GAP), budget, measure, by_words=False, exact=exact
                )
            else:
                pieces = _cut_word(body, budget, measure)
            parts.extend(pieces[:-1])
            current = pieces[-1] if pieces else ""
            length = measure(current)
        gap = after
    if current:
        parts.append(current)
    return parts


# ---- texts made to break the layout's arithmetic ----

_WORDS = [
    "word",
    "schools",
    "学校の予算",
    "👩🏽‍🏫",
    "🇺🇸",
    "\u0301accent",  # a combining mark after a space joins it (GB9)
    "a\u0600",  # a Prepend character before a space joins it (GB9b)
    "https://example.org/" + "long/" * 12,
    "https://例え.jp/学校",
    "#FundOurSchools",
    "#fundourschools",
    "#SchoolBudget",
    "＃schoolbudget",  # (the full-width sign)
    "@ChairLopez",
    "{@lopez}",
    "x" * 40,
    "é",
    "\x00nul",  # Mastodon strips a NUL at a text's ends: a sum of pieces guesses short
]
_ENDS = [".", "!", "?", "。", "…", ""]
_GAPS = [" ", "  ", "\n", "\r\n", "\n\n", "\r\n\r\n", " \t", "\u3000"]
# Sentence lengths around each limit: X 280, Bluesky 300, Mastodon 500 and the short ones.
_AROUND = [60, 70, 90, 280, 300, 500]


@st.composite
def _sentence(draw: st.DrawFn) -> str:
    target = draw(
        st.one_of(
            st.integers(1, 40),
            st.sampled_from(_AROUND).flatmap(lambda n: st.integers(n - 12, n + 6)),
        )
    )
    words: list[str] = []
    size = 0
    while size < target:
        word = draw(st.sampled_from(_WORDS))
        words.append(word)
        size += len(word) + 1
    text = " ".join(words)
    if size > target + 1 and draw(st.booleans()):
        text = text[: max(1, target)]  # cut inside a word, an emoji or a URL
    return text + draw(st.sampled_from(_ENDS))


@st.composite
def _body(draw: st.DrawFn) -> str:
    sentences = draw(st.lists(_sentence(), min_size=1, max_size=7))
    out = sentences[0]
    for sentence in sentences[1:]:
        out += draw(st.sampled_from(_GAPS)) + sentence
    return out + draw(st.sampled_from(["", "", " ", "\n", "\r\n"]))


_LAYOUT_CONFIG = """\
defaults:
  timezone: America/Chicago
  accounts: [x-a, x-short, bsky-a, bsky-short, masto-a, masto-short, ig]
  hashtags: [FundOurSchools, SchoolBudget]
accounts:
  x-a: {platform: x}
  x-short: {platform: x, limit: 60}
  bsky-a: {platform: bluesky, handle: pta.bsky.social}
  bsky-short: {platform: bluesky, handle: pta.bsky.social, limit: 90}
  masto-a: {platform: mastodon, instance: https://mastodon.example}
  masto-short: {platform: mastodon, instance: https://mastodon.example, limit: 70}
  ig: {platform: instagram, ig_user_id: "2", media_base_url: https://example.org/m/,
       max_hashtags: 1}
"""

_posts = st.lists(
    st.fixed_dictionaries(
        {
            "text": _body(),
            "thread": st.one_of(st.none(), st.lists(_body(), min_size=2, max_size=3)),
            "content_warning": st.sampled_from([None, "CW: budget", "学校 " * 30, "a\u0600"]),
            "split": st.sampled_from([None, "never"]),
            "numbering": st.sampled_from([None, True, False]),
            "hashtags": st.sampled_from([None, ("fundourschools",), ("Extra", "two words")]),
            "link": st.sampled_from([None, "https://example.org/l", "https://e.org/" + "x" * 60]),
        }
    ),
    min_size=1,
    max_size=3,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_posts)
def test_the_layout_gives_what_the_layout_before_it_gave(make_campaign: Make, drawn: list) -> None:
    """Every part (text, length, limit, bytes), the split and the problems in their order are
    those of the frozen layout, on every account, with lengths remembered across posts."""
    _assert_laid_out_as_before(make_campaign, drawn)


@pytest.mark.parametrize("n", [20, 23])
def test_a_part_guessed_short_is_packed_again_for_its_numbering(
    make_campaign: Make, n: int
) -> None:
    """A sentence that begins with a NUL (Mastodon strips it at a text's ends) measures one
    less than it adds to a part: the part's sum is a guess, and its measure (67 here) fits the
    70 of masto-short but not with " 1/2": the thread is packed again with room for it."""
    body = "a" * n + ". \x00" + "b" * (63 - n) + ". " + "c" * 60 + "."
    _assert_laid_out_as_before(make_campaign, [{"text": body, "thread": None}])


def _assert_laid_out_as_before(make_campaign: Make, drawn: list) -> None:
    make_campaign(
        """
        posts:
          - id: base
            at: 2026-12-03 18:00
            text: base
        """,
        config=_LAYOUT_CONFIG,
    )
    ws = open_campaign(None)
    base = ws.campaign.posts[0]
    specs = [spec_class(a.platform)(a) for a in ws.config.accounts.values()]
    renderer = Renderer(ws.campaign.people)  # shared: lengths remembered across posts
    for i, fields in enumerate(drawn):
        thread = fields.pop("thread")
        text = fields.pop("text")
        content = replace(
            base.content,
            text=None if thread else text,
            thread=tuple(thread) if thread else None,
            **fields,
        )
        post = replace(base, id=f"p{i}", content=content)
        for spec in specs:
            utm = post.defaults.utm or UtmSettings()
            for params in (_utm_params(utm, spec.name, post, spec.account.name), None):
                laid_out = renderer._laid_out(renderer._draft(post, spec, params))
                draft = renderer._draft(post, spec, params)
                before = _laid_out_before(draft, _MeasureBefore(spec, draft.measure.cw))
                assert laid_out == before, (spec.account.name, [p.text for p in before.parts])


# ---- the campaign hashtags present: _hashtags_in against its search as it was (main at
# 77410fd), over texts made of signs, names and characters that casefold to more than one. ----

_HASH_SIGN_BEFORE = re.compile("[#\uff03]")


def _hashtags_in_before(parts: list[str], wanted: list[str] | None) -> set[str]:
    if not any("#" in p or "\uff03" in p for p in parts):
        return set()
    if wanted is not None:
        names = [tag[1:].casefold() for tag in wanted]
        if not any(
            p[sign.end() : sign.end() + len(name)].casefold().startswith(name)
            for p in parts
            for sign in _HASH_SIGN_BEFORE.finditer(p)
            for name in names
        ):
            return set()
    return {e.value.casefold() for p in parts for e in hashtags(p)}


# ß, ẞ and ﬁ casefold to two characters, İ to i and a combining dot, K (Kelvin) to k.
_FOLDING = ["s", "S", "ss", "ß", "ẞ", "fi", "ﬁ", "F", "i", "İ", "K", "k", "é"]
_folded_name = st.lists(st.sampled_from(_FOLDING), min_size=1, max_size=4).map("".join)
_signed_word = st.tuples(st.sampled_from(["#", "＃", "", "x#"]), _folded_name).map("".join)
_signed_text = st.lists(
    st.tuples(_signed_word, st.sampled_from([" ", "\n", ""])).map("".join), max_size=5
).map("".join)


def test_a_hash_sign_casefolds_only_from_itself_and_every_character_to_one_or_more() -> None:
    """What _hashtags_in's search on casefolded texts rests on, for every code point."""
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        folded = char.casefold()
        assert folded, hex(code)
        if "#" in folded or "\uff03" in folded:
            assert folded == char, hex(code)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(_signed_text, max_size=3),
    st.lists(_folded_name.map("#".__add__), min_size=1, max_size=2),
    st.booleans(),
)
def test_the_hashtags_present_are_those_the_search_before_found(
    parts: list[str], wanted: list[str], capped: bool
) -> None:
    names = None if capped else wanted
    assert _hashtags_in(parts, names) == _hashtags_in_before(parts, names)


# ---- the layout's own pieces against theirs as they were. ----

# Every kind of space the separators and str.strip know, sentence ends and words.
_TOKEN_SPACES = [" ", "  ", "\n", "\n\n", "\r\n", "\t", "\u3000", "\xa0", "\x1c", "\x85", "\u2028"]
_TOKEN_WORDS = [
    ".",
    "!",
    "?",
    "…",
    "。",
    "！",
    "a",
    "word",
    "é",
    "👩🏽\u200d🏫",
    "#tag",
    "https://e.org/x",
]
_TOKEN_TEXT = st.lists(st.sampled_from(_TOKEN_SPACES + _TOKEN_WORDS), max_size=30).map("".join)


@settings(max_examples=500, deadline=None)
@given(_TOKEN_TEXT)
def test_tokens_are_those_before(text: str) -> None:
    for separator in (_SENTENCE_END, _WORD_GAP):
        assert _tokens(text, separator) == _tokens_before(text, separator)


@given(
    st.text(max_size=20),
    st.integers(-5, 600),
    st.integers(0, 600),
    st.integers(0, 2000),
    st.sampled_from([(), (Facet("link", 0, 4, "https://e.org"),)]),
    st.sampled_from([(), (Media("a.png", None, Location("posts/a.yaml", 3, 5)),)]),
)
def test_a_part_made_by_the_layout_is_the_part_the_dataclass_makes(
    text: str,
    length: int,
    limit: int,
    size: int,
    facets: tuple[Facet, ...],
    media: tuple[Media, ...],
) -> None:
    made, part = (
        _part(text, length, limit, size, facets, media),
        Part(text, length, limit, size, facets, media),
    )
    assert type(made) is Part
    assert made == part and hash(made) == hash(part) and repr(made) == repr(part)
    assert [getattr(made, f.name) for f in dataclass_fields(Part)] == [
        getattr(part, f.name) for f in dataclass_fields(Part)
    ]
    assert pickle.loads(pickle.dumps(made)) == part
