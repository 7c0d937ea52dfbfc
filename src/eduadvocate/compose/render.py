"""Render one post for one account exactly as the platform will receive it.

Steps, all pure: pick the content (the post's, with the platform's override on top), expand
templates (``{var}``, ``{@person}``, ``{{``/``}}`` for braces), tag links with UTM parameters,
append the ``link``, split text over the limit into a thread (sentence, then word boundaries,
never inside a URL, mention or hashtag; optional ``1/3`` numbering), add campaign hashtags where
they fit, and measure every part with the platform's own rule.

Problems met on the way (unknown variable, dropped hashtag, a person's handle or a hashtag the
platform would not take, a templated link that is no web address, …) are returned with the
rendering, located at the line they come from; :mod:`eduadvocate.compose.check` adds the rules about the
result.

Templates are filled by substitution only (see :mod:`eduadvocate.config.utm`), and filling
``{var}`` is bounded: variables that refer to each other many times over cannot multiply a text
past :data:`MAX_TEMPLATE_WORK` characters.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit

from eduadvocate.config.model import AccountConfig
from eduadvocate.config.utm import UtmSettings, fill_utm_around
from eduadvocate.content.model import Content, Media, Person, Post
from eduadvocate.core.errors import Location, Problem, Severity
from eduadvocate.core.suggest import did_you_mean, shown
from eduadvocate.platforms.base import Facet, PlatformSpec
from eduadvocate.platforms.textcount import twitter
from eduadvocate.platforms.textcount.unicode import grapheme_ends

_TEMPLATE = re.compile(r"\{\{|\}\}|\{(@?)([A-Za-z_][A-Za-z0-9_.-]*)\}")
# Whitespace after a sentence's end, or line breaks: pieces end where a match ends. Written to
# start with one character class (a search can skip to it): a line break takes the line breaks
# after it, a sentence's end the whitespace after it. A look-behind for the punctuation, or two
# alternatives, made the search try at every character.
_SENTENCE_END = re.compile(r"[.!?…。！？\n](?:(?<=\n)\n*|(?<!\n)\s+)")
_WORD_GAP = re.compile(r"\s\s*")  # ("\s+": opening with a class, a search skips to one in C)
_MAX_VAR_DEPTH = 5
# Characters that filling in {variables} may produce for one text (nested ones included), beyond
# the text's own length: far above any real campaign, far below a memory problem.
MAX_TEMPLATE_WORK = 200_000
_MAX_REMEMBERED = 20_000  # measured texts a Renderer keeps (a few MB)
# The account settings a rendering depends on (the rest: credentials, addresses, quotas).
_RENDERING_SETTINGS = ("limit", "max_hashtags")
_WEB_ADDRESS = re.compile(r"https?://([^/?#]*)", re.IGNORECASE)
_SPACE = re.compile(r"\s")
_URL_SAFE = re.compile(r"[A-Za-z0-9_.~-]*")  # what quote_plus never changes
_UTM_DEFAULT = UtmSettings()  # (one object: tracking plans are remembered by their setting's)


def is_web_address(link: str) -> bool:
    """An http(s) address with a dotted host and no whitespace (checked in linear time: links
    are untrusted and may be megabytes long)."""
    match = _WEB_ADDRESS.match(link)
    if match is None or _SPACE.search(link):
        return False
    host = match.group(1)
    return "." in host[1:-1]


class _Budget:
    """What is left of :data:`MAX_TEMPLATE_WORK` while filling one text."""

    __slots__ = ("left", "over", "reported")

    def __init__(self, text: str) -> None:
        self.left = len(text) + MAX_TEMPLATE_WORK
        self.over = False
        self.reported: set[str] = set()  # each unknown name once


@dataclass(frozen=True, slots=True)
class Part:
    """One post (or one part of a thread) as the platform receives it."""

    text: str
    length: int
    limit: int
    bytes: int
    facets: tuple[Facet, ...] = ()
    media: tuple[Media, ...] = ()

    @property
    def over(self) -> bool:
        return self.length > self.limit


def _part_maker() -> Callable[[str, int, int, int, tuple[Facet, ...], tuple[Media, ...]], Part]:
    """``Part(text, length, limit, bytes, facets, media)``, the same object, made without the
    frozen dataclass's ``__init__`` (which sets each field through ``object.__setattr__``):
    each slot set by its own descriptor, half the time (the layout makes every part of every
    rendering). test_render_layout.py holds it to ``Part(...)`` field by field."""
    new = Part.__new__
    text, length, limit, size, facets, media = (getattr(Part, f.name).__set__ for f in fields(Part))

    def make(
        t: str, n: int, lim: int, b: int, fs: tuple[Facet, ...], ms: tuple[Media, ...]
    ) -> Part:
        part = new(Part)
        text(part, t)
        length(part, n)
        limit(part, lim)
        size(part, b)
        facets(part, fs)
        media(part, ms)
        return part

    return make


_part = _part_maker()


@dataclass(slots=True)
class Rendering:
    """A post rendered for one account."""

    post: Post
    account: AccountConfig
    platform: str
    parts: list[Part]
    content_warning: str | None = None
    split: bool = False  # the text was split automatically
    card_url: str | None = None  # shown as a link card (Bluesky), from ``card: true``
    link: str | None = None  # the post's ``link:``, expanded and tagged (Facebook's link field)
    problems: list[Problem] = field(default_factory=list)


# A part of a layout and its length where the layout knows it, else None (then it is measured).
# A known length is the part's measure: a piece's measure, or ``joined_length`` from two such.
_Sized = tuple[str, int | None]


def _crowded(rendering: Rendering) -> tuple[int, int, int]:
    """How much the text was squeezed (0s: nothing): parts over the limit, campaign hashtags
    left out, extra thread parts."""
    parts = rendering.parts
    over = dropped = 0
    for part in parts:  # (loops, not generators: asked of every rendering with a tagged link)
        if part.length > part.limit:  # (``part.over``)
            over += 1
    for problem in rendering.problems:
        if problem.code == "hashtag-dropped":
            dropped += 1
    return over, dropped, max(0, len(parts) - 1)


def _untagged(url: str) -> str:
    return url


@dataclass(slots=True)
class _Filled:
    """A post's texts for one account with their templates filled, before any link is tagged,
    and the problems met filling them: the tracked and the untracked drafts of a rendering
    are made from one (Bluesky, which counts a link in full, drafts ~40% of its posts twice)."""

    post: Post
    spec: PlatformSpec
    content: Content
    bodies: list[str]
    link: str | None  # ``link:`` filled (None: the post has none)
    content_warning: str | None  # filled
    problems: list[Problem]


@dataclass(slots=True)
class _Draft:
    """A rendering before its layout: the texts with templates filled and links tagged."""

    out: Rendering  # (its problems so far, link, card and content warning)
    bodies: list[str]
    limit: int
    measure: _Measure
    problem: Callable[..., None]
    tag: _Watched
    filled: _Filled  # (the untracked draft is made from it: the same texts, filled once)

    @property
    def post(self) -> Post:
        return self.filled.post

    @property
    def spec(self) -> PlatformSpec:
        return self.filled.spec

    @property
    def content(self) -> Content:
        return self.filled.content

    def tracking_overflows(self) -> bool:
        """A text is over the limit, and its tagged links count more than they would untagged:
        the tracked rendering is crowded (split, or over the limit) whatever its layout, and
        the untracked one may not be."""
        measure, limit = self.measure, self.limit
        for body in self.bodies:
            if measure(body) > limit:
                return not _measured_alike(self.tag.pairs, measure)
        return False


class _Measure:
    """``spec.length(text, cw)`` for one rule set, remembered in ``lengths``; and the length of
    two texts joined at a gap of spaces and line breaks, from theirs where the rule can tell
    (``PlatformSpec.joined_length``): a thread's parts, their numbering and the hashtags added
    to the last are made of texts measured already, and need not be measured again. A joined
    length is handed back, not remembered: the layout carries it with the text it built (a
    thread's growing parts were each stored once, most of them never asked for again, and they
    filled the memory that sentences shared by posts are kept in)."""

    __slots__ = ("cw", "joins", "lengths", "owner", "spec")

    def __init__(
        self, owner: Renderer, spec: PlatformSpec, cw: str | None, lengths: dict[str, int]
    ) -> None:
        self.owner, self.spec, self.cw, self.lengths = owner, spec, cw, lengths
        # ``spec.joined_length`` for ``cw`` without its method layers (None: it is always
        # None), which packing calls itself for every sentence.
        self.joins = spec.joiner(cw)

    def __call__(self, text: str) -> int:
        length = self.lengths.get(text)
        if length is None:
            length = self.lengths[text] = self.spec.length(text, self.cw)
            self.owner._measured += 1
        return length

    def added(self, gap: str, text: str) -> int:
        """What ``gap + text`` adds to the length of a text it is appended to (a thread part's
        " i/n"): not the length of ``gap + text`` alone, which a rule may strip (Mastodon
        strips a status's ends) or count a content warning into."""
        probe = "a"
        joined = self.join(probe, self(probe), gap, text)
        if joined is None:
            return self(probe + gap + text) - self(probe)
        return joined - self(probe)

    def join(
        self, left: str, left_length: int, gap: str, right: str, right_length: int | None = None
    ) -> int | None:
        """The length of ``left + gap + right`` where the rule gives it from theirs, else None,
        whatever was measured before: packing a thread takes another path where it is None,
        and the parts must not depend on what was rendered earlier. ``left_length`` (and
        ``right_length``, else measured) must be the measure of that text: then the answer is
        exact as ``joined_length`` is."""
        if right_length is None:
            right_length = self(right)
        joins = self.joins
        return None if joins is None else joins(left, left_length, gap, right, right_length)


class Renderer:
    """Renders posts; holds what every rendering shares (people, the config's UTM defaults)."""

    def __init__(self, people: dict[str, Person]) -> None:
        self.people = people
        # Lengths already measured, per account rule and content warning: splitting measures
        # each sentence, a thread is rebuilt to fit its numbering, and the posts of a campaign
        # share sentences, so most texts are measured more than once.
        self._lengths: dict[tuple[PlatformSpec, str | None], dict[str, int]] = {}
        # Each rule set's and content warning's ``_Measure`` over those lengths, made once (a
        # draft asked for a new one, and its joiner, every time).
        self._measures: dict[tuple[PlatformSpec, str | None], _Measure] = {}
        self._measured = 0
        # The renderings of the post rendered last, by rule set (see ``render``).
        self._post: Post | None = None
        self._by_rules: dict[tuple[object, ...], Rendering] = {}

    def _measure(self, spec: PlatformSpec, cw: str | None) -> _Measure:
        """``spec.length(text, cw)``, remembered (bounded: forgotten all at once when full)."""
        if self._measured > _MAX_REMEMBERED:
            self._lengths.clear()
            self._measures.clear()
            self._measured = 0
        key = (spec, cw)
        measure = self._measures.get(key)
        if measure is None:
            lengths = self._lengths.setdefault(key, {})
            measure = self._measures[key] = _Measure(self, spec, cw, lengths)
        return measure

    def render(self, post: Post, spec: PlatformSpec) -> Rendering:
        """``post`` as ``spec``'s account receives it.

        Accounts of one platform with the same ``limit`` and ``max_hashtags`` settings whose
        links get the same tracking parameters receive the same text: the post is rendered once
        for them, and each gets the rendering under its own name (as do the problems met on the
        way).
        """
        utm = post.defaults.utm or _UTM_DEFAULT
        params = _utm_params(utm, spec.name, post, spec.account.name)
        settings = spec.account.settings  # (as written: the same words expand the same)
        rules = (
            type(spec),
            *map(settings.get, _RENDERING_SETTINGS),
            None if params is None else tuple(params.items()),
        )
        if self._post is not post:
            self._post, self._by_rules = post, {}
        shared = self._by_rules.get(rules)
        if shared is not None:
            return _for_account(shared, spec.account)
        # Facets are found for the rendering kept only (Bluesky renders many posts twice).
        rendering = self._by_rules[rules] = with_facets(self._chosen(post, spec, params), spec)
        return rendering

    def _chosen(self, post: Post, spec: PlatformSpec, params: dict[str, str] | None) -> Rendering:
        """The rendering with tracking, or without it where tracking crowds the text out."""
        draft = self._tagged(self._filled(post, spec), params)  # (``_draft``, without its frame)
        if not draft.tag.changed:  # no link was tagged: nothing to gain
            return self._laid_out(draft)
        plain: Rendering | None = None
        if draft.tracking_overflows():
            # The tracked text is crowded whatever its layout: where the untracked one is not,
            # it wins, and the tracked one need not be laid out (Bluesky, which counts a link
            # in full, meets this in most posts whose links are tagged).
            plain = self._laid_out(self._tagged(draft.filled, None))
            plain_crowded = _crowded(plain)
            if not any(plain_crowded):
                return _untracked(post, spec, plain, "the text")
        tagged = self._laid_out(draft)
        tagged_crowded = _crowded(tagged)
        if not any(tagged_crowded):
            return tagged
        if _measured_alike(draft.tag.pairs, draft.measure):
            return tagged  # X and Mastodon count any link as 23: without utm_ nothing changes
        # A platform that counts a link in full (Bluesky) pays for every utm_ character: where
        # they push the hashtags or the text past the limit, the post goes out untracked.
        if plain is None:
            plain = self._laid_out(self._tagged(draft.filled, None))
            plain_crowded = _crowded(plain)
        if plain_crowded >= tagged_crowded:  # untracked, it would be no less crowded
            return tagged
        over, _, extra = tagged_crowded
        plain_over, _, plain_extra = plain_crowded
        text_crowded = (over, extra) > (plain_over, plain_extra)
        return _untracked(
            post, spec, plain, "the text" if text_crowded else "the campaign hashtags"
        )

    def _draft(self, post: Post, spec: PlatformSpec, params: dict[str, str] | None) -> _Draft:
        """The post's texts with their templates filled and links tagged with ``params``, the
        problems met so far, and what laying them out needs."""
        return self._tagged(self._filled(post, spec), params)

    def _filled(self, post: Post, spec: PlatformSpec) -> _Filled:
        """The post's texts for ``spec``'s account with their templates filled, links as
        written, and the problems met filling them."""
        account = spec.account
        # (``effective_content``, called only where the post has an override for the platform)
        content = (
            post.content if spec.name not in post.overrides else effective_content(post, spec.name)
        )
        problems: list[Problem] = []
        problem = _reporter(problems, post, account)

        variables = {
            "campaign": post.defaults.campaign or "",
            "post": post.id,
            **post.defaults.vars,
            **post.vars,
        }

        fill = self._fill
        if content.thread:
            bodies = list(content.thread)
            if len(bodies) > 1 and not spec.supports_threads:  # one post, parts as paragraphs
                bodies = ["\n\n".join(b.strip() for b in bodies)]
            bodies = [fill(b, variables, spec, content.text_loc, problem) for b in bodies]
        else:  # (most posts: one text, filled without a comprehension's frame)
            bodies = [fill(content.text or "", variables, spec, content.text_loc, problem)]
        link = (
            self._fill_link(content.link, content.link_loc, variables, spec, problem)
            if content.link
            else None
        )
        cw = content.content_warning
        cw = fill(cw, variables, spec, content.loc, problem) if cw else None
        return _Filled(post, spec, content, bodies, link, cw, problems)

    def _tagged(self, filled: _Filled, params: dict[str, str] | None) -> _Draft:
        """The draft of ``filled``'s texts with their links tagged with ``params`` (None: as
        written), the ``link:`` added where the text does not hold it."""
        post, spec, content = filled.post, filled.spec, filled.content
        account = spec.account
        out = Rendering(
            post=post,
            account=account,
            platform=spec.name,
            parts=[],
            content_warning=filled.content_warning,
            problems=list(filled.problems),
        )
        problem = _reporter(out.problems, post, account)

        domains = (post.defaults.utm or _UTM_DEFAULT).domains
        tag = _Watched(_untagged if params is None else _utm_tagger(params, domains))
        bodies = list(filled.bodies) if params is None else tag.texts(filled.bodies)
        if filled.link is not None:
            link = out.link = tag(filled.link)
            assert content.link is not None  # (a link was filled from it)
            if not any(link in b or content.link in b for b in bodies):
                bodies[-1] = f"{bodies[-1].rstrip()}\n\n{link}" if bodies[-1].strip() else link
        if content.card:  # the link (or the first web address in the text) shown as a card
            urls = [
                u.value for b in bodies for u in twitter.extract_urls(b, without_protocol=False)
            ]
            first = urls[0] if urls else None
            out.card_url = out.link if content.link else first
        limit = spec.limit_of(reply=post.reply_to is not None)
        measure = self._measure(spec, filled.content_warning)
        return _Draft(out, bodies, limit, measure, problem, tag, filled)

    def _laid_out(self, draft: _Draft) -> Rendering:
        """The draft's texts split into a thread where they are over the limit (numbered), the
        campaign hashtags added where they fit, each part measured."""
        filled, out = draft.filled, draft.out
        post, spec, content = filled.post, filled.spec, filled.content
        bodies, limit, measure = draft.bodies, draft.limit, draft.measure
        if len(bodies) == 1:  # (most renderings: one text; no comprehension's frame for it)
            length = measure.lengths.get(bodies[0])  # (measured already where links were tagged)
            lengths = [measure(bodies[0]) if length is None else length]
            over = lengths[0] > limit
        else:
            lengths = [measure(body) for body in bodies]
            over = any(length > limit for length in lengths)
        parts: list[_Sized]
        if over and (content.split or "auto") == "auto" and spec.supports_threads:
            numbering = content.numbering
            if numbering is None:
                numbering = post.defaults.numbering
            parts = _threaded(bodies, lengths, limit, measure, numbering is not False)
            out.split = len(parts) > len(bodies)
        else:  # (most renderings: each text whole, with its measure)
            parts, out.split = list(zip(bodies, lengths, strict=True)), False

        parts = self._add_hashtags(post, content, spec, parts, measure, limit, draft.problem)
        media = content.media or ()  # (the first part's)
        made: list[Part] = []
        for text, length in parts:
            made.append(
                _part(
                    text,
                    measure(text) if length is None else length,
                    limit,
                    len(text) if text.isascii() else len(text.encode("utf-8")),
                    (),
                    media,
                )
            )
            media = ()
        out.parts = made
        return out

    def _fill(
        self,
        text: str,
        variables: dict[str, str],
        spec: PlatformSpec,
        loc: Location | None,
        problem: Callable[..., None],
    ) -> str:
        """``text`` with its ``{var}``, ``{@person}`` and braces filled in, within the budget."""
        if "{" not in text and "}}" not in text:
            return text  # (every match of ``_TEMPLATE`` starts with "{" or is "}}")
        budget = _Budget(text)
        filled = self._expand(text, variables, spec, loc, problem, 0, budget)
        if not budget.over:
            return filled
        problem(
            "template-too-large",
            f"filling in its {{variables}} would produce more than {MAX_TEMPLATE_WORK:,}"
            " characters",
            loc,
            "variables that refer to other variables many times over multiply: simplify them",
        )
        return text

    def _fill_link(
        self,
        link: str,
        loc: Location | None,
        variables: dict[str, str],
        spec: PlatformSpec,
        problem: Callable[..., None],
    ) -> str:
        """The ``link:`` filled in, and checked like a literal one when a template made it (a
        literal link is checked once per post, in check)."""
        found: list[str] = []

        def noted(code: str, *args: Any, **kwargs: Any) -> None:
            found.append(code)
            problem(code, *args, **kwargs)

        filled = self._fill(link, variables, spec, loc, noted)
        if filled != link and not found and not is_web_address(filled):
            problem(
                "link-malformed",
                f'link: "{shown(link)}" becomes "{shown(filled, 80)}", which is not a web address',
                loc,
                "make the variable a full address starting with https://",
            )
        return filled

    def _expand(
        self,
        text: str,
        variables: dict[str, str],
        spec: PlatformSpec,
        loc: Location | None,
        problem: Callable[..., None],
        depth: int,
        budget: _Budget,
    ) -> str:
        def sub(match: re.Match[str]) -> str:
            whole = match.group(0)
            if whole == "{{":
                return "{"
            if whole == "}}":
                return "}"
            if budget.over:
                return ""
            at, name = match.group(1), match.group(2)
            if at:
                result = self._mention(name, spec, loc, problem, budget)
            else:
                result = self._variable(name, variables, loc, problem, budget)
                if result is not None and depth < _MAX_VAR_DEPTH and "{" in result:
                    result = self._expand(result, variables, spec, loc, problem, depth + 1, budget)
            result = whole if result is None else result
            budget.left -= len(result) + 1  # +1: a value that fills in nothing still costs
            if budget.left < 0:
                budget.over = True
                return ""
            return result

        return _TEMPLATE.sub(sub, text)

    def _mention(
        self,
        name: str,
        spec: PlatformSpec,
        loc: Location | None,
        problem: Callable[..., None],
        budget: _Budget,
    ) -> str | None:
        person = self.people.get(name)
        if person is None:
            if "@" + name not in budget.reported:
                budget.reported.add("@" + name)
                problem(
                    "unknown-person",
                    f"{{@{name}}} is not in people.yaml",
                    loc,
                    did_you_mean(name, self.people, list_choices=False)
                    or "add them to people.yaml",
                )
            return None
        handle = person.handles.get(spec.name)
        why = _handle_problem(spec.name, handle) if handle else None
        if handle and why:
            problem(
                "invalid-handle",
                f'{{@{name}}}: the {spec.title} handle "{shown(handle)}" {why}',
                person.handle_locs.get(spec.name, person.loc),
                f"fix {name}'s {spec.name}: in people.yaml (the post waits until then)",
            )
        return spec.mention(person)

    def _variable(
        self,
        name: str,
        variables: dict[str, str],
        loc: Location | None,
        problem: Callable[..., None],
        budget: _Budget,
    ) -> str | None:
        value = variables.get(name)
        if value is None and name not in budget.reported:
            budget.reported.add(name)
            problem(
                "unknown-variable",
                f"{{{name}}} is not a variable of this campaign",
                loc,
                did_you_mean(name, variables, list_choices=False)
                or f"add {name}: … under vars:, or write {{{{{name}}}}} for literal braces",
            )
        return value

    def _add_hashtags(
        self,
        post: Post,
        content: Content,
        spec: PlatformSpec,
        parts: list[_Sized],
        measure: _Measure,
        limit: int,
        problem: Callable[..., None],
    ) -> list[_Sized]:
        """``parts`` with the campaign's hashtags added to the last where they fit (and the
        problems with those that do not), each with its length where known."""
        wanted, tags_wanted, invalid = _wanted_hashtags(
            spec.name, post.defaults.hashtags, content.hashtags or ()
        )
        for tag, why, own in invalid:
            problem(
                "invalid-hashtag",
                f'the hashtag "{shown(tag[1:])}" {why}',
                (content.hashtags_loc if own else post.defaults.hashtags_loc) or post.loc,
                "write one word per hashtag, without spaces, links, # or @ inside",
            )
        if not wanted:
            return parts
        cap = getattr(spec, "max_hashtags", None)
        texts = [parts[0][0]] if len(parts) == 1 else [text for text, _ in parts]
        present = _hashtags_in(texts, None if isinstance(cap, int) else tags_wanted)
        room = (cap - len(present)) if isinstance(cap, int) else None
        last, last_length = parts[-1] if parts else ("", None)
        # The hashtags go after the last part's text without its trailing whitespace and a
        # blank line (the part is the hashtags alone where it has no text); the part's length
        # is that text's where nothing was stripped.
        base = last.rstrip()
        base_length = last_length if len(base) == len(last) else None
        tags, tagged_length = "", last_length
        loc = content.hashtags_loc or post.defaults.hashtags_loc or post.loc
        for tag, name in wanted:
            if name in present:
                continue
            if room is not None and room <= 0:
                problem(
                    "hashtag-dropped",
                    f"{tag} left out: {spec.title} allows {cap} hashtags",
                    loc,
                    severity="warning",
                )
                continue
            more = f"{tags} {tag}" if tags else tag
            if not base:
                length = measure(more)  # (the part is the hashtags alone)
            else:
                if base_length is None:
                    base_length = measure(base)
                # Exact as ``joined_length`` is: both lengths are measures (``_Sized``). (What
                # ``measure.join`` does, without its frame.)
                joins, more_length = measure.joins, measure.lengths.get(more)
                if more_length is None:
                    more_length = measure(more)
                joined = (
                    None if joins is None else joins(base, base_length, "\n\n", more, more_length)
                )
                length = measure(f"{base}\n\n{more}") if joined is None else joined
            if length > limit:
                problem(
                    "hashtag-dropped",
                    f"{tag} left out: it does not fit in {limit} characters on {spec.title}",
                    loc,
                    "shorten the text if the hashtag matters",
                    severity="warning",
                )
                continue
            tags, tagged_length = more, length
            present.add(name)
            if room is not None:
                room -= 1
        if tags:
            parts = [*parts[:-1], (f"{base}\n\n{tags}" if base else tags, tagged_length)]
        return parts


def _checked_hashtags(
    platform: str, campaign: tuple[str, ...], own: tuple[str, ...]
) -> tuple[tuple[str, str, str | None, bool], ...]:
    """The campaign's and the post's own hashtags (``own``), normalised, each once in order:
    the tag, its name casefolded, why it would be no hashtag on ``platform`` (None: it would),
    and whether it is the post's own."""
    mine = {normalise_hashtag(t) for t in own}
    return tuple(
        (tag, tag[1:].casefold(), _hashtag_problem(platform, tag[1:]), tag in mine)
        for tag in dict.fromkeys(normalise_hashtag(t) for t in (*campaign, *own))
    )


@functools.lru_cache(maxsize=1024)  # a campaign has a handful of hashtag lists
def _wanted_hashtags(
    platform: str, campaign: tuple[str, ...], own: tuple[str, ...]
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...], tuple[tuple[str, str, bool], ...]]:
    """``_checked_hashtags`` as the layout takes them: those that would be hashtags (the tag and
    its name casefolded), their tags alone, and the others (the tag, why not, whether the
    post's own), each in order, found once for a campaign's few lists of hashtags."""
    checked = _checked_hashtags(platform, campaign, own)
    wanted = tuple((tag, name) for tag, name, why, _ in checked if why is None)
    invalid = tuple((tag, why, mine) for tag, _, why, mine in checked if why is not None)
    return wanted, tuple(tag for tag, _ in wanted), invalid


def _hashtags_in(parts: list[str], wanted: Sequence[str] | None) -> set[str]:
    """The hashtags in ``parts``, casefolded. With ``wanted``, where none of those follows a
    hash sign (# or its full-width form) the answer is empty, without a search: a hashtag's
    name follows its sign. A text without a hash sign holds no hashtag at all.

    A name follows a sign where the sign and the name are in the text casefolded: casefolding
    goes character by character, each character to one or more, and a hash sign comes only from
    itself (test_render_layout.py checks every code point), so the characters after the sign
    casefold to the name and more. So the ``reach`` characters after each sign (as many as the
    longest name has), casefolded, begin with a name where the text casefolded has it after
    that sign: they casefold to at least ``reach`` characters, the beginning of what the rest
    casefolds to (or all of it, where the text ends sooner). Casefolding those few characters
    at each sign, found by ``str.find``, costs less than casefolding the whole text: a text
    with an emoji or CJK is four bytes a character (instr.sh, instructions per post: 1,660,940
    -> 1,635,965 on the bench, -1.5%; 2,175,690 -> 2,151,665 on unique sentences, -1.1%).
    Casefolding every text, signs or not, cost ~2% of check's time."""
    # (Loops, not comprehensions or generators, each a frame: asked of every rendering.)
    signed = []
    for p in parts:
        if "#" in p or "\uff03" in p:
            signed.append(p)
    if not signed:
        return set()
    if wanted is not None:
        names = [tag[1:].casefold() for tag in wanted]
        if not _follows_a_sign(signed, names):
            return set()
    return {e.value.casefold() for p in signed for e in hashtags(p)}


def _follows_a_sign(texts: list[str], names: list[str]) -> bool:
    """Whether one of ``names`` (casefolded) follows a hash sign in one of ``texts``, as
    ``f"#{name}" in text.casefold()`` (or its full-width sign) finds it (see ``_hashtags_in``)."""
    if not names:
        return False
    reach = max(map(len, names))  # (the longest name's length)
    for text in texts:
        for sign in ("#", "\uff03"):
            at = text.find(sign)
            while at >= 0:
                after = text[at + 1 : at + 1 + reach].casefold()
                for name in names:
                    if after.startswith(name):
                        return True
                at = text.find(sign, at + 1)
    return False


@functools.lru_cache(maxsize=4096)  # render asks before adding hashtags, check after
def hashtags(text: str) -> tuple[twitter.Entity, ...]:
    """The hashtags of ``text`` as twitter-text finds them (not those inside a URL)."""
    return tuple(twitter.extract_hashtags(text))


@functools.lru_cache(maxsize=4096)  # campaign hashtags repeat in every post
def _hashtag_problem(platform: str, tag: str) -> str | None:
    from eduadvocate.platforms.registry import spec_class

    return spec_class(platform).hashtag_problem(tag)


@functools.lru_cache(maxsize=4096)  # posts mention the same few people
def _handle_problem(platform: str, handle: str) -> str | None:
    from eduadvocate.platforms.registry import spec_class

    return spec_class(platform).handle_problem(handle)


def effective_content(post: Post, platform: str) -> Content:
    """The post's content with the platform's override applied: a field given there wins, and an
    override's ``text`` replaces the post's ``thread`` (and vice versa)."""
    base = post.content
    over = post.overrides.get(platform)
    if over is None:
        return base
    text, thread, text_loc = base.text, base.thread, base.text_loc
    if over.text is not None or over.thread is not None:
        text, thread, text_loc = over.text, over.thread, over.text_loc
    return Content(
        text=text,
        thread=thread,
        media=over.media if over.media is not None else base.media,
        link=over.link if over.link is not None else base.link,
        hashtags=over.hashtags if over.hashtags is not None else base.hashtags,
        split=over.split or base.split,
        numbering=over.numbering if over.numbering is not None else base.numbering,
        content_warning=over.content_warning
        if over.content_warning is not None
        else base.content_warning,
        card=over.card if over.card is not None else base.card,
        loc=over.loc,
        text_loc=text_loc,
        link_loc=over.link_loc or base.link_loc,
        hashtags_loc=over.hashtags_loc or base.hashtags_loc,
    )


def normalise_hashtag(tag: str) -> str:
    """``FundOurSchools`` and ``#FundOurSchools`` both become ``#FundOurSchools``."""
    tag = tag.strip()
    return tag if tag.startswith(("#", "＃")) else "#" + tag


def _threaded(
    bodies: list[str], lengths: list[int], limit: int, measure: _Measure, numbering: bool
) -> list[_Sized]:
    """The parts of ``bodies`` (each measuring its ``lengths``) where one is over ``limit``:
    each over it split into a thread, numbered where it was split and ``numbering``."""
    # Each body over the limit as sentences, found once: a thread is built again for its
    # numbering, with the same sentences.
    sentences = [
        _tokens(body, _SENTENCE_END) if length > limit else None
        for body, length in zip(bodies, lengths, strict=True)
    ]

    # Each part with its length where the layout knows it (its measure: see ``_Sized``).
    def build(reserve: int, fit: _Fit) -> list[_Sized]:
        parts: list[_Sized] = []
        for body, length, tokens in zip(bodies, lengths, sentences, strict=True):
            if tokens is None:
                parts.append((body, length))
            else:
                parts.extend(_split(body, limit, measure, reserve, tokens, fit))
        return parts

    fit = _Fit()
    parts = build(0, fit)
    if len(parts) > len(bodies) and numbering:
        packed_reserve = 0
        for _ in range(4):  # the suffix's width depends on the count: repeat until stable
            count = len(parts)
            reserve = measure.added(" ", f"{count}/{count}")
            if reserve >= packed_reserve and fit.same_within(limit - reserve):
                break  # packed again with room for the numbering, the parts would be these
            fit = _Fit()
            parts, packed_reserve = build(reserve, fit), reserve
            if len(parts) == count:
                break
        parts = _numbered(parts, measure)
    return parts


def _reporter(problems: list[Problem], post: Post, account: AccountConfig) -> Callable[..., None]:
    """What a rendering reports its problems with: each appended to ``problems``, as the
    post's on the account."""

    def problem(
        code: str,
        message: str,
        loc: Location | None,
        hint: str = "",
        severity: Severity = "error",
    ) -> None:
        problems.append(
            Problem(code, severity, message, loc, hint, post=post.id, account=account.name)
        )

    return problem


def _numbered(parts: list[_Sized], measure: _Measure) -> list[_Sized]:
    """Each part with " i/n" after it, its length found from the part's where the rule can."""
    out: list[_Sized] = []
    count = len(parts)
    joins, lengths = measure.joins, measure.lengths  # (``measure.join``, without its frames)
    for i, (part, length) in enumerate(parts, 1):
        suffix = f"{i}/{count}"
        known = measure(part) if length is None else length
        suffix_length = lengths.get(suffix)
        if suffix_length is None:
            suffix_length = measure(suffix)
        joined = None if joins is None else joins(part, known, " ", suffix, suffix_length)
        out.append((f"{part} {suffix}", joined))
    return out


class _Watched:
    """A link tagger that remembers what it changed: each link and body, as written and tagged."""

    def __init__(self, tag: Callable[[str], str]) -> None:
        self.tag = tag
        self.changed = False
        self.pairs: list[tuple[str, str]] = []

    def __call__(self, url: str) -> str:
        tagged = self.tag(url)
        if tagged != url:
            self.changed = True
            self.pairs.append((url, tagged))
        return tagged

    def texts(self, bodies: list[str]) -> list[str]:
        """``bodies`` with their links tagged."""
        if len(bodies) == 1:  # (most posts: no comprehension's frame for one text)
            body = bodies[0]
            tagged = [tag_links(body, self)]
            if tagged[0] != body:
                self.pairs.append((body, tagged[0]))
            return tagged
        tagged = [tag_links(b, self) for b in bodies]
        self.pairs.extend((a, b) for a, b in zip(bodies, tagged, strict=True) if a != b)
        return tagged


def _measured_alike(pairs: list[tuple[str, str]], measure: Callable[[str], int]) -> bool:
    """Every link and every text measures the same tagged as written: a rule that counts a link
    whatever its length (X, Mastodon) then splits, numbers and fits hashtags to the same
    lengths either way, so rendering again without the tracking could only tie."""
    for written, tagged in pairs:  # noqa: SIM110 - a loop, not a generator's frame per pair
        if measure(written) != measure(tagged):
            return False
    return True


def _untracked(post: Post, spec: PlatformSpec, plain: Rendering, lost: str) -> Rendering:
    """``plain``, the rendering without tracking, with the warning that says why."""
    content = effective_content(post, spec.name)
    plain.problems.append(
        Problem(
            "utm-dropped",
            "warning",
            f"the tracking parameters (utm_…) were left off its links on {spec.title}:"
            f" with them, {lost} would not fit in {spec.limit} characters",
            content.link_loc or content.text_loc or post.loc,
            "shorten the text to keep the tracking",
            post=post.id,
            account=spec.account.name,
        )
    )
    return plain


def _utm_params(utm: UtmSettings, platform: str, post: Post, account: str) -> _Params | None:
    """The tracking parameters for the post's links on one account; None: tracking is off."""
    if not utm.enabled:
        return None
    plan = _utm_plan(utm, platform, post.defaults.campaign, account)
    post_id = post.id
    params = _Params()
    for key, texts in plan.params:
        params[key] = post_id.join(texts)
    params.tail = _quote_plus(post_id).join(plan.tail)
    return params


class _Params(dict[str, str]):
    """Tracking parameters, and ``tail``: what ``add_utm`` appends to a link that has none of
    them, encoded (``_utm_tail``)."""

    __slots__ = ("tail",)
    tail: str


@dataclass(frozen=True, slots=True)
class _Plan:
    """The tracking parameters of one utm setting, platform, campaign and account, filled but
    for ``{post}``: each parameter as the texts around its places (``fill_utm_around``), and
    the encoded tail the same way (``quote_plus`` encodes character by character, so encoding
    texts joined is joining them encoded). Filling the four templates for every rendering,
    and encoding them for every link, cost ~5% of check's time on the bench campaign."""

    params: tuple[tuple[str, tuple[str, ...]], ...]
    tail: tuple[str, ...]


# The plans made, by utm setting (by identity: its hash and equality are Python code, called
# for every rendering; the plan holds the setting, so its id is not reused while it is here).
_plans: dict[tuple[int, str, str | None, str], tuple[UtmSettings, _Plan]] = {}


def _utm_plan(utm: UtmSettings, platform: str, campaign: str | None, account: str) -> _Plan:
    """The plan for ``utm`` on one account of ``platform``, made once."""
    key = (id(utm), platform, campaign, account)
    known = _plans.get(key)
    if known is not None and known[0] is utm:
        return known[1]
    fields = {"platform": platform, "campaign": _slug(campaign or "campaign"), "account": account}
    params = tuple(
        (key, fill_utm_around(template, fields, "post"))
        for key, template in (
            ("utm_source", utm.source),
            ("utm_medium", utm.medium),
            ("utm_campaign", utm.campaign),
            ("utm_content", utm.content),
        )
        if template
    )
    tail = [""]
    for index, (name, texts) in enumerate(params):
        tail[-1] += f"{'&' if index else ''}{_quote_plus(name)}={_quote_plus(texts[0])}"
        tail.extend(_quote_plus(text) for text in texts[1:])
    if len(_plans) >= 1024:  # a campaign has a few accounts and a utm: setting per file
        _plans.clear()
    plan = _Plan(params, tuple(tail))
    _plans[key] = utm, plan
    return plan


def _utm_tagger(params: dict[str, str], domains: tuple[str, ...]) -> Callable[[str], str]:
    """``add_utm`` with ``params``, each tail of parameters encoded once (by the names a link
    has already: most have none, and ``_utm_params`` encoded that one), not once per link. A
    link whose own query names none of the parameters (``?id=3``) gets them all: that tail too
    (encoding the parameters again for each post with such a link cost ~1.3% of check's
    instructions on the bench)."""
    full = params.tail if isinstance(params, _Params) else None
    tails: dict[frozenset[str], str] = {} if full is None else {frozenset(): full}

    def tag(url: str) -> str:
        link = _taggable(url, domains)
        if link is None:
            return url
        have = link[3]
        tail = tails.get(have)
        if tail is None:
            if full is not None and params.keys().isdisjoint(have):
                tail = full
            else:
                tail = _utm_tail(params, have)
            tails[have] = tail
        return _with_tail(url, link, tail)

    return tag


def with_facets(rendering: Rendering, spec: PlatformSpec) -> Rendering:
    """``rendering`` with each part's facets, as ``spec`` finds them."""
    if type(spec).facets is PlatformSpec.facets:
        return rendering  # (a rule that finds none in any text: X, Mastodon, …)
    parts = rendering.parts
    rendering.parts = [
        _part(p.text, p.length, p.limit, p.bytes, f, p.media) if (f := spec.facets(p.text)) else p
        for p in parts
    ]  # (``replace(p, facets=f)``, made as the layout makes parts: see ``_part``)
    return rendering


def _for_account(rendering: Rendering, account: AccountConfig) -> Rendering:
    """A rendering for another account of the same rules: the same parts, under its name."""
    return replace(
        rendering,
        account=account,
        parts=list(rendering.parts),
        problems=[replace(p, account=account.name) for p in rendering.problems],
    )


def add_utm(url: str, params: dict[str, str], domains: tuple[str, ...] = ()) -> str:
    """Add UTM parameters to an http(s) URL, keeping any it already has (and its fragment)."""
    link = _taggable(url, domains)
    if link is None:
        return url
    return _with_tail(url, link, _utm_tail(params, link[3]))


def _utm_tail(params: dict[str, str], have: frozenset[str]) -> str:
    """The parameters a link without those named in ``have`` gets, encoded as ``urlencode``
    joins them ("&"), so that the link's own pairs are encoded once per link."""
    return "&".join(
        f"{_quote_plus(k)}={_quote_plus(v)}" for k, v in params.items() if k not in have
    )


def _with_tail(url: str, link: tuple[str, str, str, frozenset[str]], tail: str) -> str:
    """``url`` (parsed as ``link`` by ``_taggable``) with the encoded parameters ``tail``."""
    if not tail:
        return url
    head, query, fragment, _ = link
    return f"{head}?{query}&{tail}{fragment}" if query else f"{head}?{tail}{fragment}"


def _quote_plus(value: str) -> str:
    """``quote_plus`` as ``urlencode`` calls it; UTM values are mostly characters it keeps."""
    return value if _URL_SAFE.fullmatch(value) else quote_plus(value)


@functools.lru_cache(maxsize=4096)  # campaigns repeat a handful of links in every post
def _taggable(url: str, domains: tuple[str, ...]) -> tuple[str, str, str, frozenset[str]] | None:
    """The link as ``urlunsplit`` writes it without its query and fragment (which it appends
    last, after "?" and "#"), its query as ``urlencode`` writes it, "#" and its fragment, and
    the names in its query; None for a link that is not tagged (not http(s), no host, or
    outside ``domains``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if domains and not any(host == d or host.endswith("." + d) for d in domains):
        return None
    query = parse_qsl(parts.query, keep_blank_values=True)
    head = urlunsplit(parts._replace(query="", fragment=""))
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return head, urlencode(query), fragment, frozenset(k for k, _ in query)


def tag_links(text: str, tag: Callable[[str], str]) -> str:
    """Apply ``tag`` to every http(s) URL in the text (protocol-less domains are left alone),
    as twitter-text finds them (in the runs around each "://" only: ``twitter._protocol_urls``)."""
    spans = twitter.url_spans(text, without_protocol=False)
    if not spans:
        return text
    out, pos = [], 0
    for start, end, _ in spans:
        out.append(text[pos:start])
        out.append(tag(text[start:end]))
        pos = end
    out.append(text[pos:])
    return "".join(out)


@functools.lru_cache(maxsize=256)  # a campaign has one name, slugged for every rendering
def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "campaign"


def split_text(
    text: str,
    limit: int,
    measure: Callable[[str], int],
    reserve: int = 0,
    sentences: list[tuple[str, str]] | None = None,
) -> list[str]:
    """Split text into parts that each measure at most ``limit - reserve``: at sentence ends first,
    then at spaces; a URL, mention or hashtag is never cut (a single word longer than the limit is
    cut between graphemes only when it is none of those).

    Packing adds up the lengths of sentences and words measured one by one (every rule here is
    additive across whitespace), so it measures each piece once instead of every growing prefix;
    each finished part's length is then its measure (from ``_Measure.join`` where the rule adds
    up, else measured whole), and the rare part that the sum misjudged is split again piece by
    piece. ``sentences``: the text's ``_tokens`` at sentence ends, where the
    caller has them.
    """
    return [part for part, _ in _split(text, limit, measure, reserve, sentences)]


class _Fit:
    """What packing a thread at one budget let in: the largest length it found within the
    budget (a part as it grew, or a piece that began one), and whether each was a measure, not
    a sum that guessed one. Packing the same pieces at a smaller budget no smaller than that
    makes the same parts: each piece let in is let in again, each turned away (over the
    larger budget) is turned away again, and a piece too long on its own is too long again. So
    a thread that leaves room for its numbering " i/n" is not packed again (``_laid_out``)."""

    __slots__ = ("largest", "measured")

    def __init__(self) -> None:
        self.largest = 0
        self.measured = True

    def same_within(self, budget: int) -> bool:
        """Packing at ``budget`` (no larger than the one packed at) makes the same parts."""
        return self.measured and self.largest <= budget


def _split(
    text: str,
    limit: int,
    measure: Callable[[str], int],
    reserve: int = 0,
    sentences: list[tuple[str, str]] | None = None,
    fit: _Fit | None = None,
) -> list[_Sized]:
    """``split_text``, each part with its length where known (and what it let in: ``fit``)."""
    budget = limit - reserve
    fit = _Fit() if fit is None else fit
    out: list[_Sized] = []
    if sentences is None:
        sentences = _tokens(text, _SENTENCE_END)
    for part, known in _pack(sentences, budget, measure, by_words=True, fit=fit):
        length = measure(part) if known is None else known
        if length <= budget:
            out.append((part, length))
            continue
        fit.measured = False  # (over the budget: kept whole, or split again, by its measure)
        if _is_entity(part):
            out.append((part, length))
        else:
            out.extend(_pack(_tokens(part, _WORD_GAP), budget, measure, by_words=False, exact=True))
    return out or [(text, None)]


def _tokens(text: str, separator: re.Pattern[str]) -> list[tuple[str, str]]:
    """(body, whitespace after it) pairs, splitting after each separator match (the text up to
    and with each match is a piece; whitespace-only pieces join the gap before them)."""
    out: list[tuple[str, str]] = []
    start = 0
    for end in [match.end() for match in separator.finditer(text)] + [len(text)]:
        if end == start:
            continue  # (an empty piece: none, where the text ends at a match)
        piece = text[start:end]
        start = end
        body = piece.rstrip()
        if body:  # (as ``body.strip()``: a body that is not empty ends in no space)
            out.append((body.lstrip(), piece[len(body) :]))
        elif out:
            body, gap = out[-1]
            out[-1] = (body, gap + piece)
    return out


def _pack(
    tokens: list[tuple[str, str]],
    budget: int,
    measure: Callable[[str], int],
    *,
    by_words: bool,
    exact: bool = False,
    fit: _Fit | None = None,
) -> list[_Sized]:
    """Greedy packing of tokens into parts of at most ``budget``; a token too long on its own is
    split into words (``by_words``), and a word too long on its own is cut between graphemes.
    Each part comes with its length where that is its measure: a sum is, where the rule gives
    it (``_Measure.join``) or the grown part was measured whole (``exact``); else None. What
    was let in goes to ``fit``."""
    fit = _Fit() if fit is None else fit
    parts: list[_Sized] = []
    # ``length`` is the part's measure where ``known``, else the sum that guessed it.
    current, length, known, gap = "", 0, True, ""
    # (``_Measure.join`` without its call: both lengths here are measures. And a length the
    # measure remembers is read from it without calling it: a frame for every sentence.)
    join: Callable[[str, int, str, str, int], int | None] | None = None
    lengths: dict[str, int] = {}
    if isinstance(measure, _Measure):
        join, lengths = measure.joins, measure.lengths
    for body, after in tokens:
        size = lengths.get(body)
        if size is None:
            size = measure(body)
        joined = None
        if join is not None and current:
            joined = join(current, length if known else measure(current), gap, body, size)
        grown_known = joined is not None
        if joined is None:
            joined = length + len(gap) + size
            if exact and current:
                joined = measure(current + gap + body)
                grown_known = True
        if current and joined <= budget:
            current, length, known = current + gap + body, joined, grown_known
            if joined > fit.largest:  # noqa: PLR1730 - ``max``, without its call per piece
                fit.largest = joined
            if not grown_known:
                fit.measured = False
        elif size <= budget:
            if current:
                parts.append((current, length if known else None))
            current, length, known = body, size, True
            if size > fit.largest:  # noqa: PLR1730 - (as above)
                fit.largest = size
        else:
            if current:
                parts.append((current, length if known else None))
            if by_words:
                pieces = _pack(
                    _tokens(body, _WORD_GAP), budget, measure, by_words=False, exact=exact, fit=fit
                )
            else:
                pieces = [(piece, None) for piece in _cut_word(body, budget, measure)]
                fit.measured = False  # (cut to fit this budget)
            parts.extend(pieces[:-1])
            current = pieces[-1][0] if pieces else ""
            length, known = measure(current), True
        gap = after
    if current:
        parts.append((current, length if known else None))
    return parts


def _window(budget: int) -> int:
    """Code points enough to fill a part of ``budget``: every rule counts a grapheme as at least
    1, and a grapheme takes at most ~8 code points (family emoji: 7) outside pathological text."""
    return 8 * max(budget, 0) + 64


def _cut_word(word: str, budget: int, measure: Callable[[str], int]) -> list[str]:
    """A word too long for one part, cut between graphemes. Each part is cut from a bounded
    window at the front of the rest (measuring the whole rest for every part was quadratic in
    the word: 64 KB took minutes)."""
    if _is_entity(word):
        return [
            word
        ]  # never cut a URL, mention or hashtag: it stays over the limit and check says so
    # The word's grapheme ends are found once (a thread is cut again to fit its numbering, and
    # for every account); each window takes those inside it. A boundary depends on the text
    # before it and the one character after it, and each window starts on a boundary, so these
    # are the window's own ends, but for its last: the window's end, where \X would stop.
    ends = _word_ends(word)
    pieces = []
    pos, size = 0, _window(budget)
    while pos < len(word):
        end = min(pos + size, len(word))
        window = word[pos:end]
        if end == len(word) and measure(window) <= budget:
            pieces.append(window)
            break
        bounds = [e - pos for e in ends[bisect_right(ends, pos) : bisect_left(ends, end)]]
        bounds.append(end - pos)
        head = _cut(window, bounds, budget, measure, whole=end == len(word))
        pieces.append(head)
        pos += len(head)
    return pieces


@functools.lru_cache(maxsize=8)
def _word_ends(word: str) -> tuple[int, ...]:
    return tuple(grapheme_ends(word))  # regex's \X is quadratic on a run of flag halves


def _is_entity(word: str) -> bool:
    entities = twitter.extract_entities(word)
    return any(e.end - e.start == len(word) for e in entities)


def _cut(
    word: str, bounds: list[int], budget: int, measure: Callable[[str], int], *, whole: bool
) -> str:
    """The longest run of whole graphemes from the start of ``word`` that fits (at least one
    grapheme, so splitting always ends); ``bounds`` are the graphemes' ends. ``whole``: ``word``
    is all there is; else it is a window whose last grapheme may go on past it, so that one is
    not taken."""
    if not whole and len(bounds) > 1:
        bounds.pop()
    lo, hi = 0, len(bounds) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(word[: bounds[mid]]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return word[: bounds[lo]]
