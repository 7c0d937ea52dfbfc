"""Render's per-rendering path with fewer frames and objects gives exactly what it gave: each
part that changed held to a frozen copy of it as it was (main at aa4ec44), over inputs made to
break it (overrides, threads, content warnings empty or templated, unknown variables and
people, links tagged or not, parts at and over their limits, lengths remembered and forgotten).
The layout itself (packing, numbering, hashtags) is held to its oracle in test_render_layout.py."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduadvocate.campaign.workspace import Workspace, open_campaign
from eduadvocate.compose import render
from eduadvocate.compose.render import (
    Part,
    Renderer,
    Rendering,
    _crowded,
    _Filled,
    _measured_alike,
    _reporter,
    _utm_params,
    _utm_tagger,
    add_utm,
    effective_content,
    with_facets,
)
from eduadvocate.config.defaults import Defaults
from eduadvocate.config.utm import UtmSettings
from eduadvocate.content.model import Content, Post
from eduadvocate.core.errors import Location, Problem
from eduadvocate.platforms.base import PlatformSpec
from eduadvocate.platforms.registry import spec_class
from tests.conftest import Make

# ---- frozen copies of what changed (main at aa4ec44), ``self`` made an argument ----


def _filled_before(self: Renderer, post: Post, spec: PlatformSpec) -> _Filled:
    account = spec.account
    content = effective_content(post, spec.name)
    problems: list[Problem] = []
    problem = _reporter(problems, post, account)

    variables = {
        "campaign": post.defaults.campaign or "",
        "post": post.id,
        **post.defaults.vars,
        **post.vars,
    }

    def expand(text: str, loc: Location | None) -> str:
        return self._fill(text, variables, spec, loc, problem)

    bodies = list(content.thread) if content.thread else [content.text or ""]
    if len(bodies) > 1 and not spec.supports_threads:  # one post, the parts as paragraphs
        bodies = ["\n\n".join(b.strip() for b in bodies)]
    bodies = [expand(b, content.text_loc) for b in bodies]
    link = (
        self._fill_link(content.link, content.link_loc, variables, spec, problem)
        if content.link
        else None
    )
    cw = expand(content.content_warning, content.loc) if content.content_warning else None
    return _Filled(post, spec, content, bodies, link, cw, problems)


def _crowded_before(rendering: Rendering) -> tuple[int, int, int]:
    over = sum(p.over for p in rendering.parts)
    dropped = sum(p.code == "hashtag-dropped" for p in rendering.problems)
    return over, dropped, max(0, len(rendering.parts) - 1)


def _measured_alike_before(pairs: list[tuple[str, str]], measure: render._Measure) -> bool:
    return all(measure(written) == measure(tagged) for written, tagged in pairs)


def _tracking_overflows_before(draft: render._Draft) -> bool:
    measure, limit = draft.measure, draft.limit
    return any(measure(body) > limit for body in draft.bodies) and not _measured_alike_before(
        draft.tag.pairs, measure
    )


def _with_facets_before(rendering: Rendering, spec: PlatformSpec) -> Rendering:
    parts = rendering.parts
    rendering.parts = [
        render._part(p.text, p.length, p.limit, p.bytes, f, p.media)
        if (f := spec.facets(p.text))
        else p
        for p in parts
    ]
    return rendering


# ---- posts made to break them ----

_CONFIG = """\
defaults:
  timezone: America/Chicago
  accounts: [x-a, bsky-a, bsky-short, masto-a, fb, ig]
  hashtags: [FundOurSchools]
  vars:
    petition: https://fundspringfieldschools.org/petition
    nested: "see {petition} {@lopez}"
accounts:
  x-a: {platform: x}
  bsky-a: {platform: bluesky, handle: pta.bsky.social}
  bsky-short: {platform: bluesky, handle: pta.bsky.social, limit: 90}
  masto-a: {platform: mastodon, instance: https://mastodon.example}
  fb: {platform: facebook, page_id: "1"}
  ig: {platform: instagram, ig_user_id: "2", media_base_url: https://example.org/m/}
"""
_PEOPLE = """\
lopez:
  name: Chair Maria Lopez
  x: ChairLopez
  bluesky: lopez.bsky.social
  mastodon: bad handle
"""
_BITS = [
    "Fund our schools.",
    "{petition}",
    "{nested}",
    "{@lopez}",
    "{@nobody}",
    "{nope}",
    "{{braces}}",
    "#FundOurSchools",
    "#fundourschools",
    "https://example.org/a/very/long/path?with=query",
    "https://e.org/" + "x" * 200,
    "学校の予算を守ろう。",
    "👩🏽‍🏫",
    "x" * 90,
    "",
]
_text = st.lists(st.sampled_from(_BITS), max_size=8).map(" ".join)
_content = st.fixed_dictionaries(
    {
        "text": st.one_of(st.none(), _text),
        "thread": st.one_of(st.none(), st.lists(_text, min_size=1, max_size=3).map(tuple)),
        "content_warning": st.sampled_from([None, "", "CW {nope}", "about {petition}"]),
        "link": st.sampled_from([None, "https://example.org/l", "{petition}", "{nope}"]),
        "hashtags": st.sampled_from([None, ("Extra",), ("two words",)]),
    }
)
_posts = st.lists(
    st.tuples(
        _content,
        st.dictionaries(st.sampled_from(["bluesky", "x", "mastodon"]), _content, max_size=2),
        st.sampled_from([{}, {"petition": "https://other.example/p"}]),
    ),
    min_size=1,
    max_size=4,
)


def _campaign(make_campaign: Make, drawn: list) -> tuple[list[Post], list[PlatformSpec], Workspace]:
    make_campaign(
        """
        posts:
          - id: base
            at: 2026-12-03 18:00
            text: base
        """,
        config=_CONFIG,
        people=_PEOPLE,
    )
    ws = open_campaign(None)
    base = ws.campaign.posts[0]
    posts = [
        replace(
            base,
            id=f"p{i}",
            content=replace(base.content, **content),
            overrides={name: Content(**over) for name, over in overrides.items()},
            vars=variables,
        )
        for i, (content, overrides, variables) in enumerate(drawn)
    ]
    specs = [spec_class(a.platform)(a) for a in ws.config.accounts.values()]
    return posts, specs, ws


_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(_posts)
def test_a_post_is_filled_as_before(make_campaign: Make, drawn: list) -> None:
    """The texts filled (the override's content where the platform has one, a thread, a
    content warning empty or templated, the link) and the problems met, in their order."""
    posts, specs, ws = _campaign(make_campaign, drawn)
    renderer = Renderer(ws.campaign.people)
    for post in posts:
        for spec in specs:
            new, old = renderer._filled(post, spec), _filled_before(renderer, post, spec)
            assert (new.content, new.bodies, new.link, new.content_warning) == (
                old.content,
                old.bodies,
                old.link,
                old.content_warning,
            )
            assert new.problems == old.problems


@_SETTINGS
@given(_posts)
def test_the_choice_of_tracking_is_reckoned_as_before(make_campaign: Make, drawn: list) -> None:
    """Whether the tracking overflows, whether links and texts measure alike, how crowded each
    layout is and the facets of the rendering kept, on every account, tracked and not."""
    posts, specs, ws = _campaign(make_campaign, drawn)
    renderer = Renderer(ws.campaign.people)
    for post in posts:
        for spec in specs:
            utm = post.defaults.utm or UtmSettings()
            for params in (_utm_params(utm, spec.name, post, spec.account.name), None):
                draft = renderer._draft(post, spec, params)
                assert draft.tracking_overflows() == _tracking_overflows_before(draft)
                assert _measured_alike(draft.tag.pairs, draft.measure) == (
                    _measured_alike_before(draft.tag.pairs, draft.measure)
                )
                laid_out = renderer._laid_out(draft)
                assert _crowded(laid_out) == _crowded_before(laid_out)
                new = with_facets(replace(laid_out, parts=list(laid_out.parts)), spec)
                old = _with_facets_before(replace(laid_out, parts=list(laid_out.parts)), spec)
                assert new == old


@given(
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 400)), min_size=1, max_size=5),
    st.lists(st.sampled_from(["hashtag-dropped", "unknown-variable", "hashtag"]), max_size=5),
)
def test_crowding_is_counted_as_before(sizes: list[tuple[int, int]], codes: list[str]) -> None:
    parts = [Part("t", length, limit, 1) for length, limit in sizes]
    problems = [Problem(code, "warning", "m", None) for code in codes]
    rendering = Rendering(None, None, "x", parts, problems=problems)  # type: ignore[arg-type]
    assert _crowded(rendering) == _crowded_before(rendering)


@pytest.mark.parametrize("remembered", [0, 3, 50])
def test_a_measure_reads_and_forgets_the_lengths_the_renderer_keeps(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch, remembered: int
) -> None:
    """The measure a draft is given (made once per rule set and content warning) reads the
    lengths the renderer keeps, also after the renderer forgot them all (bounded memory), and
    renders what a renderer that never forgot renders."""
    monkeypatch.setattr(render, "_MAX_REMEMBERED", remembered)
    sentence = "Our school board meets on Thursday to vote on cuts to art and music classes."
    drawn = [
        ({"text": " ".join([sentence] * n), "content_warning": cw}, {}, {})
        for n in (1, 5, 9)
        for cw in (None, "CW")
    ]
    posts, specs, ws = _campaign(make_campaign, drawn)
    renderer = Renderer(ws.campaign.people)
    for post in posts * 2:
        for spec in specs:
            rendering = renderer.render(post, spec)
            assert rendering == Renderer(ws.campaign.people).render(post, spec)
            cw = rendering.content_warning
            measure = renderer._measure(spec, cw)
            assert measure.lengths is renderer._lengths[(spec, cw)]
            assert measure is renderer._measure(spec, cw) or renderer._measured == 0


# ---- links tagged with a post's parameters: the tail for a link whose query names none of them
# is the one encoded for the post, and a link that names some gets the others, as add_utm. ----

_QUERY_NAMES = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "id", "é"]
_link = st.tuples(
    st.sampled_from(["https://e.org/a", "https://e.org/?", "http://sub.e.org/p#top", "mailto:a@b"]),
    st.lists(st.tuples(st.sampled_from(_QUERY_NAMES), st.sampled_from(["1", "", "a b"]))),
).map(
    lambda drawn: (
        drawn[0]
        + ("?" if drawn[1] and "?" not in drawn[0] else "")
        + "&".join(f"{k}={v}" for k, v in drawn[1])
    )
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_link, min_size=1, max_size=6),
    st.sampled_from(
        [
            UtmSettings(),
            UtmSettings(medium="", campaign="Fund Our Schools!"),
            UtmSettings(source="", medium="", campaign="", content="{post}"),
            UtmSettings(content="{post} é"),
        ]
    ),
    st.sampled_from(["p1", "post é&=", "a+b"]),
)
def test_links_are_tagged_with_a_posts_parameters_as_add_utm_does(
    links: list[str], utm: UtmSettings, post_id: str
) -> None:
    post = Post(
        id=post_id,
        loc=Location("posts/a.yaml", 1),
        file="posts/a.yaml",
        defaults=Defaults(campaign="Spring"),
        content=Content(text="t"),
        overrides={},
    )
    params = _utm_params(utm, "bluesky", post, "bsky")
    assert params is not None
    tag = _utm_tagger(params, ())
    for link in links * 2:  # (the second time, each tail as remembered)
        assert tag(link) == add_utm(link, dict(params))
