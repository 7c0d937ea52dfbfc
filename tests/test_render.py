"""Render: templates, mentions per platform, UTM links, hashtags where they fit, thread splitting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduadvocate.campaign.workspace import open_campaign
from eduadvocate.compose.check import analyse
from eduadvocate.compose.render import (
    Renderer,
    Rendering,
    _crowded,
    _hashtags_in,
    _utm_params,
    add_utm,
    hashtags,
    split_text,
    with_facets,
)
from eduadvocate.config.utm import UtmSettings
from eduadvocate.content.model import Post
from eduadvocate.platforms.base import PlatformSpec
from eduadvocate.platforms.registry import spec_class
from eduadvocate.platforms.textcount.unicode import mastodon_length
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


_PIECES = [
    "Fund our schools.",
    "Tell {@lopez} today!",
    "Sign: https://example.org/petition?ref=a",
    "example.org/facts",
    "#FundOurSchools",
    "#fundourschools",
    "学校の予算を守ろう。",
    "Teachers 👩🏽‍🏫 deserve better.",
    "🇺🇸🇫",
    "a" * 90,
    "\n\n",
]
_posts = st.lists(
    st.tuples(
        st.lists(st.sampled_from(_PIECES), min_size=1, max_size=25).map(" ".join),
        st.sampled_from([None, "", "CW: budget", "学校"]),
        st.sampled_from([None, "never"]),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_posts)
def test_remembered_lengths_change_no_rendering(make_campaign: Make, drawn: list) -> None:
    """A Renderer remembers the lengths it measured, per account and content warning, across
    posts: rendering many posts with one gives what a fresh Renderer gives for each."""
    make_campaign(
        """
        hashtags: [FundOurSchools, SchoolBudget]
        posts:
          - id: base
            at: 2026-12-03 18:00
            text: base
        """
    )
    ws = open_campaign(None)
    base = ws.campaign.posts[0]
    posts = [
        replace(
            base,
            id=f"p{i}",
            content=replace(base.content, text=text, content_warning=cw, split=split),
        )
        for i, (text, cw, split) in enumerate(drawn)
    ]
    specs = [spec_class(a.platform)(a) for a in ws.config.accounts.values()]
    shared = Renderer(ws.campaign.people)
    for post in posts:
        for spec in specs:
            assert shared.render(post, spec) == Renderer(ws.campaign.people).render(post, spec)


def _add_utm_as_before(url: str, params: dict[str, str], domains: tuple[str, ...] = ()) -> str:
    """add_utm as it was written before the link's parse was remembered (the reference)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return url
    host = parts.hostname.lower()
    if domains and not any(host == d or host.endswith("." + d) for d in domains):
        return url
    query = parse_qsl(parts.query, keep_blank_values=True)
    have = {k for k, _ in query}
    extra = [(k, v) for k, v in params.items() if k not in have]
    if not extra:
        return url
    return urlunsplit(parts._replace(query=urlencode([*query, *extra])))


_url_bits = st.sampled_from(
    [
        "https://",
        "http://",
        "mailto:",
        "example.org",
        "www.example.org",
        "other.net",
        "/a",
        "?",
        "&",
        "=",
        "#",
        "utm_source",
        "ref",
        "a b",
        "%20",
        "+",
        "é",
        ";",
        "[",
        "]",
        ":8080",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_url_bits, max_size=12).map("".join),
    st.dictionaries(st.sampled_from(["utm_source", "utm_medium", "ref"]), st.text(max_size=5)),
    st.sampled_from([(), ("example.org",)]),
)
def test_add_utm_encodes_as_urlencode_does(
    url: str, params: dict[str, str], domains: tuple[str, ...]
) -> None:
    """The link's own query is encoded once and the parameters appended: the same text as
    encoding the whole query again for every rendering."""
    assert add_utm(url, params, domains) == _add_utm_as_before(url, params, domains)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from([*"a .!?\n\t\r", "…", "。", "\u3000", "\u2028", "\x85", "  "]), max_size=30
    ).map("".join)
)
def test_sentence_pieces_end_where_a_lookbehind_would_end_them(text: str) -> None:
    """Splitting at sentence ends matches the punctuation itself; the pieces are those of the
    lookbehind form, which is slower (it is tried at every character)."""
    import re

    from eduadvocate.compose.render import _SENTENCE_END

    def _pieces(text: str, pattern: re.Pattern[str]) -> list[str]:
        """The text split after each match, the separator kept with the piece before it."""
        ends = [m.end() for m in pattern.finditer(text)]
        return [text[a:b] for a, b in zip([0, *ends], [*ends, len(text)], strict=True) if a < b]

    lookbehind = re.compile(r"(?<=[.!?…。！？])\s+|\n+")
    assert _pieces(text, _SENTENCE_END) == _pieces(text, lookbehind)


def _cut_word_before(word: str, budget: int, measure: Callable[[str], int]) -> list[str]:
    """_cut_word as it was before the word's grapheme ends were found once (the reference):
    \\X run again on every window."""
    from eduadvocate.compose.render import _is_entity, _window
    from eduadvocate.platforms.textcount.unicode import grapheme_ends

    if _is_entity(word):
        return [word]
    pieces, rest, size = [], word, _window(budget)
    while rest:
        if len(rest) <= size and measure(rest) <= budget:
            pieces.append(rest)
            break
        window = rest[:size]
        bounds = grapheme_ends(window)
        if len(window) != len(rest) and len(bounds) > 1:
            bounds.pop()
        lo, hi = 0, len(bounds) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if measure(window[: bounds[mid]]) <= budget:
                lo = mid
            else:
                hi = mid - 1
        pieces.append(window[: bounds[lo]])
        rest = rest[bounds[lo] :]
    return pieces


# Characters that join graphemes (flag halves, ZWJ, skin tones, combining marks, conjuncts,
# Hangul jamo) and URL-ish ASCII, so that windows end inside clusters and measures jump.
_WORD_POOL = [*"a.:/", "🇺", "🇸", "👩", "🏽", "\u200d", "🏫", "\u0301", "क", "्", "\u1100", "\u1161"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(_WORD_POOL), min_size=1, max_size=200).map("".join),
    st.integers(min_value=1, max_value=12),
    st.sampled_from(["graphemes", "x"]),
)
def test_cutting_a_word_with_its_ends_found_once_cuts_as_before(
    word: str, budget: int, rule: str
) -> None:
    from eduadvocate.compose.render import _cut_word
    from eduadvocate.platforms.textcount.unicode import graphemes

    measure = graphemes if rule == "graphemes" else _x_len
    assert _cut_word(word, budget, measure) == _cut_word_before(word, budget, measure)


_SHARED_CONFIG = """\
defaults:
  timezone: America/Chicago
  accounts: [x-a, x-b, x-short, bsky-a, bsky-b, masto-a, masto-b]
  hashtags: [FundOurSchools, SchoolBudget]
  utm: {{content: "{content}"}}
accounts:
  x-a: {{platform: x}}
  x-b: {{platform: x, username: other}}
  x-short: {{platform: x, limit: 120}}
  bsky-a: {{platform: bluesky, handle: pta.bsky.social}}
  bsky-b: {{platform: bluesky, handle: union.bsky.social}}
  masto-a: {{platform: mastodon, instance: https://mastodon.example}}
  masto-b: {{platform: mastodon, instance: https://other.example}}
"""


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_posts, st.sampled_from(["{post}", "{post}-{account}"]))
def test_accounts_of_the_same_rules_share_a_rendering_that_is_their_own(
    make_campaign: Make, drawn: list, content: str
) -> None:
    """Accounts of one platform with the same limit and tracking get one rendering, under each
    account's name: what a fresh Renderer gives each account alone (a limit of its own, or
    {account} in the tracking, renders apart)."""
    make_campaign(
        """
        posts:
          - id: base
            at: 2026-12-03 18:00
            text: "Sign https://example.org/p today {@lopez}"
        """,
        config=_SHARED_CONFIG.format(content=content),
    )
    ws = open_campaign(None)
    base = ws.campaign.posts[0]
    posts = [base] + [
        replace(
            base,
            id=f"p{i}",
            content=replace(base.content, text=text, content_warning=cw, split=split),
        )
        for i, (text, cw, split) in enumerate(drawn)
    ]
    specs = [spec_class(a.platform)(a) for a in ws.config.accounts.values()]
    shared = Renderer(ws.campaign.people)
    for post in posts:
        for spec in specs:
            alone = Renderer(ws.campaign.people).render(post, spec)
            together = shared.render(post, spec)
            assert together == alone
            assert together.account is spec.account


_LINKS = [
    "https://example.org/petition",
    "https://example.org/p?ref=a#top",
    "(https://example.org/p).",
    "https://example.org/p,",
    "xhttps://example.org/p",
    "https://例え.jp/学校",
    "https://t.co/abcdefghij",
    "http://a.b",
    "example.org/facts",
    "https://example.org/" + "long/" * 30,
]
_LINKED_CONFIG = """\
defaults:
  timezone: America/Chicago
  accounts: [x-a, x-short, bsky-a, bsky-short, masto-a, masto-short]
  hashtags: [FundOurSchools, SchoolBudget]
accounts:
  x-a: {platform: x}
  x-short: {platform: x, limit: 60}
  bsky-a: {platform: bluesky, handle: pta.bsky.social}
  bsky-short: {platform: bluesky, handle: pta.bsky.social, limit: 90}
  masto-a: {platform: mastodon, instance: https://mastodon.example}
  masto-short: {platform: mastodon, instance: https://mastodon.example, limit: 70}
"""


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(_PIECES + _LINKS), min_size=1, max_size=20).map(" ".join),
            st.sampled_from([None, "CW: budget"]),
            st.sampled_from([None, "https://example.org/l", "https://example.org/" + "x" * 60]),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_untracked_rendering_is_skipped_only_where_it_could_not_win(
    make_campaign: Make, drawn: list
) -> None:
    """Where every tagged link and text measures as written (X and Mastodon count a link as 23),
    the untracked rendering is not made: render gives what it gave when it always rendered the
    post again without utm_ and kept the less crowded, on texts whose links fall anywhere."""
    make_campaign(
        """
        posts:
          - id: base
            at: 2026-12-03 18:00
            text: base
        """,
        config=_LINKED_CONFIG,
    )
    ws = open_campaign(None)
    base = ws.campaign.posts[0]
    posts = [
        replace(
            base,
            id=f"p{i}",
            content=replace(base.content, text=text, content_warning=cw, link=link),
        )
        for i, (text, cw, link) in enumerate(drawn)
    ]
    for post in posts:
        for account in ws.config.accounts.values():
            spec = spec_class(account.platform)(account)
            renderer = Renderer(ws.campaign.people)
            assert renderer.render(post, spec) == _render_as_before(renderer, post, spec)


def _render_as_before(renderer: Renderer, post: Post, spec: PlatformSpec) -> Rendering:
    """Render tagged; if a link changed and the text was crowded, again untracked, keeping the
    untracked one only if it is less crowded (the rule before the shortcuts: links that measure
    alike either way, and a tracked text over the limit where the untracked one fits)."""
    utm = post.defaults.utm or UtmSettings()
    params = _utm_params(utm, spec.name, post, spec.account.name)
    draft = renderer._draft(post, spec, params)
    tagged, tag = renderer._laid_out(draft), draft.tag
    if not tag.changed or not any(_crowded(tagged)):
        return with_facets(tagged, spec)
    plain = renderer._laid_out(renderer._draft(post, spec, None))
    if _crowded(plain) >= _crowded(tagged):
        return with_facets(tagged, spec)
    expected = with_facets(renderer._chosen(post, spec, params), spec)  # (as render makes it)
    assert [p.text for p in expected.parts] == [p.text for p in plain.parts]
    return expected


_TAG_WORDS = ["FundOurSchools", "fundourschools", "Straße", "STRASSE", "İstanbul", "ΟΔΟΣ", "ﬀ"]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(
                st.sampled_from(_TAG_WORDS).map(lambda w: "#" + w),
                st.sampled_from([*_TAG_WORDS, "#", "＃", "https://e.org/#a", " ", "\n", "é"]),
                st.text(max_size=4),
            ),
            max_size=8,
        ).map("".join),
        min_size=1,
        max_size=3,
    ),
    st.lists(st.sampled_from(_TAG_WORDS).map(lambda w: "#" + w), min_size=1, max_size=3),
)
def test_wanted_hashtags_are_found_present_as_a_full_search_finds_them(
    parts: list[str], wanted: list[str]
) -> None:
    """Render looks for the campaign's hashtags in a text only where their casefolded words
    appear in it: each is found present exactly when the hashtags twitter-text finds hold it."""
    every = {e.value.casefold() for p in parts for e in hashtags(p)}
    quick = _hashtags_in(parts, wanted)
    for tag in wanted:
        assert (tag[1:].casefold() in quick) == (tag[1:].casefold() in every)
    assert _hashtags_in(parts, None) == every


def test_a_mastodon_thread_with_a_content_warning_fills_its_parts(make_campaign: Make) -> None:
    """Each part counts the warning once (Mastodon adds it to every status of the thread): the
    sentences packed into a part are measured together with it once, not once per sentence,
    so the thread is no longer than it must be."""
    sentence = "Our school board meets on Thursday to vote on cuts to art and music classes."
    text = " ".join([sentence] * 12)
    cw = "Budget cuts: " + "a long warning about what this thread discusses " * 2
    out = _renderings(
        make_campaign,
        f"""
        posts:
          - id: a
            at: 2026-12-03 18:00
            accounts: [masto]
            content_warning: "{cw}"
            text: "{text}"
        """,
    )
    parts = out["masto"]
    assert all(mastodon_length(p, cw) <= 500 for p in parts), parts
    # Whole sentences: each part but the last has no room for one more beside the warning.
    for number, part in enumerate(parts[:-1], 1):
        body = part.rsplit(" ", 1)[0]  # without its " i/n"
        assert mastodon_length(f"{body} {sentence} {number}/{len(parts)}", cw) > 500, part


def test_a_mastodon_threads_numbering_keeps_each_part_within_the_limit(
    make_campaign: Make,
) -> None:
    """Room is kept for " 1/2" as it adds to a part: its space counts (Mastodon strips the
    ends of a whole status, not of what is added to one)."""
    first = ("word " * 100)[:496] + "."  # 497 characters: one sentence
    out = _renderings(
        make_campaign,
        f"""
        posts:
          - id: a
            at: 2026-12-03 18:00
            accounts: [masto]
            text: "{first} Vote on Thursday."
        """,
    )
    parts = out["masto"]
    assert len(parts) >= 2
    assert all(mastodon_length(p) <= 500 for p in parts), [mastodon_length(p) for p in parts]


_sentences = st.lists(
    st.tuples(
        # Lengths near each platform's limit (280, 300, 500), where a part fills up exactly.
        st.one_of(st.integers(1, 120), st.integers(265, 300), st.integers(480, 500)),
        st.sampled_from(["", " 学校", " 👩🏽‍🏫", " https://example.org/p"]),
    ).map(lambda drawn: ("word " * 110)[: drawn[0]].strip() + drawn[1] + "."),
    min_size=2,
    max_size=8,
).map(" ".join)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(_sentences, st.sampled_from([None, "CW: budget", "学校 " * 30, "a\u0600"])),
        min_size=1,
        max_size=4,
    )
)
def test_every_part_of_a_thread_fits_as_it_is_measured(make_campaign: Make, drawn: list) -> None:
    """Whatever the sentences' lengths and the content warning: each part of a split post,
    numbered and with its hashtags, is within the limit as the platform measures it, and the
    length shown for it is that measure (the numbering's room once fell one short on
    Mastodon, and a warning was counted once per sentence)."""
    make_campaign(
        """
        hashtags: [FundOurSchools]
        posts:
          - id: base
            at: 2026-12-03 18:00
            accounts: [x-main, bsky, masto]
            text: base
        """
    )
    ws = open_campaign(None)
    base = ws.campaign.posts[0]
    specs = [spec_class(a.platform)(a) for a in ws.config.accounts.values()]
    specs = [s for s in specs if s.account.name in ("x-main", "bsky", "masto")]
    renderer = Renderer(ws.campaign.people)
    for i, (text, cw) in enumerate(drawn):
        post = replace(
            base, id=f"p{i}", content=replace(base.content, text=text, content_warning=cw)
        )
        for spec in specs:
            rendering = renderer.render(post, spec)
            for part in rendering.parts:
                assert part.length == spec.length(part.text, cw), (spec.name, part.text)
                assert part.length <= part.limit, (spec.name, part.text, cw)
