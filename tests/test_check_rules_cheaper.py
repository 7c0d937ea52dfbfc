"""check's per-rendering and per-post rules, made cheaper, report what they reported before.

``check_rendering`` no longer labels every part ("(part 2 of 3)" only for a problem reported),
asks ``effective_content`` only of a post with overrides, looks at a content warning only where
there is one, and tells a blank text from its first character; ``_check_content`` and
``_check_shares`` skip what a post without overrides or shares cannot report. Each is held to a
frozen copy of itself as it was, over posts made to reach every branch: texts and threads blank
or not (whitespace, NUL, tabs, CR), overrides with and without text and links, content
warnings, shares, parts that fail each word rule, over the limit or split.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from eduadvocate.compose import check
from eduadvocate.compose.check import (
    check_media,
    effective_content,
    hashtags,
    is_web_address,
    text_warnings,
)
from eduadvocate.compose.render import Renderer, Rendering
from eduadvocate.config.defaults import Defaults
from eduadvocate.content.model import Content, Post
from eduadvocate.core.errors import Findings, Location, Problem
from eduadvocate.core.suggest import shown
from eduadvocate.platforms.base import PlatformSpec
from tests.test_check_rules_fast import ACCOUNTS, GAPS, PEOPLE, WORDS, old_blank


def old_check_rendering(
    rendering: Rendering, spec: PlatformSpec, root: Path, media_folder: Path | None = None
) -> list[Problem]:
    """``check.check_rendering`` as it was (every part's label made, ``effective_content``
    called, the content warning always looked at, each written text in a comprehension)."""
    post = rendering.post
    content = effective_content(post, spec.name)
    loc = content.text_loc or post.loc
    out = Findings(post.id, rendering.account.name, loc)
    add = out.add

    if content.text is None and content.thread is None:
        if (
            post.overrides
        ):  # the post has text for other platforms only (else no-text is reported once)
            add(
                "no-text",
                f"the post has no text for {spec.title}",
                hint=f"add text:, or {spec.name}: {{text: …}}",
            )
        return out
    # Checked as written: hashtags and a link fill the rendered part, so "" would go out as them.
    blank = [i for i, t in enumerate(content.thread or (content.text,), 1) if old_blank(t or "")]
    if blank:
        written = len(content.thread or ())
        add(
            "empty-text",
            f"thread part {blank[0]} of {written} is empty" if written else "text: is empty",
            hint="write some text, or remove the post (hashtags or a link alone are not a post)",
        )
        return out
    total = len(rendering.parts)
    for index, part in enumerate(rendering.parts, 1):
        which = f" (part {index} of {total})" if total > 1 else ""
        if old_blank(part.text):
            add(
                "empty-text",
                f"the text is empty on {spec.title}{which}",
                hint="write some text, or remove the post",
            )
            continue
        if part.over:
            if not spec.supports_threads:
                hint = f"shorten it, or add {spec.name}: {{text: …}} with a shorter version ({spec.title} has no threads)"
            elif content.split == "never":
                hint = "shorten it, or set split: auto to post it as a thread"
            else:
                hint = "shorten it: a URL, mention or hashtag longer than the limit cannot be split"
            add(
                "over-limit",
                f"{part.length} characters, {spec.title} allows {part.limit}{which}",
                hint=hint,
            )
        if spec.byte_limit is not None and part.bytes > spec.byte_limit:
            add(
                "over-limit",
                f"{part.bytes} bytes, {spec.title} allows {spec.byte_limit}{which}",
                hint="shorten it",
            )
        for finding in spec.findings(part.text, index - 1):
            add(finding.code, finding.message + which, hint=finding.hint, severity=finding.severity)
        rules = check._WORDS.rules(part.text)  # which of the next three can find anything here
        if rules & check._TAG_RULE:
            for tag in hashtags(part.text):
                if not check.is_readable_hashtag(tag.value):
                    add(
                        "hashtag-case",
                        f"#{tag.value} is hard for screen readers",
                        post.defaults.hashtags_loc
                        if f"#{tag.value}" not in (content.text or "")
                        else loc,
                        "write each word with a capital letter, e.g. #FundOurSchools",
                        severity="warning",
                    )
        if rules & check._LINK_RULE:
            for match in check._MALFORMED_URL.finditer(part.text):
                add(
                    "link-malformed",
                    f'"{match.group(0)}…" looks like a broken web address{which}',
                    hint="write https://",
                )
        if rules & check._CHAR_RULE:
            for code, message in text_warnings(part.text):
                add(code, message, hint=check._SAFETY_HINTS[code], severity="warning")
    for code, message in text_warnings(rendering.content_warning or ""):
        add(code, "content_warning: " + message, hint=check._SAFETY_HINTS[code], severity="warning")
    if content.card and rendering.card_url is None:
        add(
            "card-without-link",
            "card: true, but the post has no link to show",
            hint="add link: https://…",
        )
    media = content.media or ()
    out.extend(
        check_media(rendering, spec, root, media, content.loc or post.loc, media_folder or root)
    )
    return out


def old_check_shares(post: Post, problems: list[Problem]) -> None:
    """``check._check_shares`` as it was (its list made for every post)."""
    written = [
        (name, loc)
        for name, url, loc in (
            ("reply_to", post.reply_to, post.reply_to_loc),
            ("repost", post.repost, post.repost_loc),
            ("quote", post.quote, post.quote_loc),
        )
        if url is not None
    ]
    if len(written) > 1:
        problems.append(
            Problem(
                "share-conflict",
                "error",
                f"a post has at most one of reply_to:, repost: and quote:, not"
                f" {' and '.join(name + ':' for name, _ in written)}",
                written[1][1] or post.loc,
                "write a separate post for each",
                post=post.id,
            )
        )
    if post.repost is None:
        return
    for where, content in [(None, post.content), *post.overrides.items()]:
        for name in check._REPOST_FREE:
            if not getattr(content, name):  # (card: false asks for nothing)
                continue
            loc = {"text": content.text_loc, "link": content.link_loc}.get(name)
            loc = loc or (content.hashtags_loc if name == "hashtags" else None)
            problems.append(
                Problem(
                    "repost-content",
                    "error",
                    f"a repost has no {name}: it shares the post as it is"
                    + (f" (the {where} override has {name}:)" if where else ""),
                    loc or content.loc or post.repost_loc or post.loc,
                    f"remove {name}:, or write quote: instead of repost: to add your words",
                    post=post.id,
                )
            )


def old_check_content(post: Post, problems: list[Problem]) -> None:
    """``check._check_content`` as it was (the overrides looked at, and listed, for every post)."""
    content = post.content
    if content.text is not None and content.thread is not None:
        problems.append(
            Problem(
                "text-and-thread",
                "error",
                "a post has text: or thread:, not both",
                content.text_loc,
                post=post.id,
            )
        )
    overridden = any(o.text is not None or o.thread is not None for o in post.overrides.values())
    if content.text is None and content.thread is None and not overridden and not post.repost:
        problems.append(
            Problem(
                "no-text",
                "error",
                "the post has no text: or thread:",
                post.loc,
                "add text: …",
                post=post.id,
            )
        )
    for link, loc in [(content.link, content.link_loc)] + [
        (o.link, o.link_loc) for o in post.overrides.values()
    ]:
        if link and "{" not in link and not is_web_address(link):
            problems.append(
                Problem(
                    "link-malformed",
                    "error",
                    f'"{shown(link, 80)}" is not a web address',
                    loc,
                    "write it in full, starting with https://",
                    post=post.id,
                )
            )


# Texts: words that fail each rule (and long ones, for parts over the limit or split), with the
# gaps between them; and texts a reader would see nothing of.
_BLANKS = ["", " ", "\0", " \0\t", "\r\n", "\u3000", "\x1c"]
_LONG = "Class sizes would rise to 35 in grades 4 to 8. " * 8
texts = st.one_of(
    st.sampled_from(_BLANKS),
    st.lists(
        st.tuples(st.sampled_from(GAPS), st.sampled_from([*WORDS, _LONG, "{@lopez}"])),
        min_size=1,
        max_size=6,
    ).map(lambda pairs: "".join(gap + word for gap, word in pairs)),
)
LINKS = [None, "", "https://example.org/a", "example.org", "{petition}", "http:/x"]
SHARED = [None, "https://x.com/a/status/1", "https://bsky.app/profile/a.bsky.social/post/3k"]


@st.composite
def contents(draw: st.DrawFn, override: bool) -> Content:
    body = draw(st.sampled_from(["text", "thread", "none"]))
    return Content(
        text=draw(texts) if body == "text" else None,
        thread=tuple(draw(st.lists(texts, min_size=1, max_size=3))) if body == "thread" else None,
        link=draw(st.sampled_from(LINKS)),
        content_warning=draw(st.none() | texts),
        split=draw(st.sampled_from([None, "auto", "never"] if override else ["auto", "never"])),
        card=draw(st.sampled_from([None, True, False])),
        loc=Location("posts/p.yaml", 9) if override else None,
        text_loc=Location("posts/p.yaml", 2 if not override else 10),
        link_loc=Location("posts/p.yaml", 3 if not override else 11),
    )


@st.composite
def posts(draw: st.DrawFn) -> Post:
    overrides = draw(
        st.dictionaries(st.sampled_from(["x", "bluesky", "mastodon"]), contents(True), max_size=2)
    )
    shares = {name: draw(st.sampled_from(SHARED)) for name in ("reply_to", "repost", "quote")}
    return Post(
        id="p",
        loc=Location("posts/p.yaml", 1),
        file="posts/p.yaml",
        defaults=Defaults(
            hashtags=tuple(draw(st.lists(st.sampled_from(["fundourschools", "OK"]), max_size=2))),
            hashtags_loc=Location("config.yaml", 3),
        ),
        content=draw(contents(False)),
        overrides=overrides,
        **shares,
        reply_to_loc=Location("posts/p.yaml", 4),
        repost_loc=Location("posts/p.yaml", 5),
        quote_loc=Location("posts/p.yaml", 6),
    )


@settings(max_examples=600, deadline=None)
@given(post=posts())
def test_check_rendering_reports_what_it_did(post: Post) -> None:
    """Every problem of every rendering, in order, on X, Bluesky and Mastodon."""
    renderer = Renderer(PEOPLE)
    for spec in ACCOUNTS:
        rendering = renderer.render(post, spec)
        assert check.check_rendering(rendering, spec, Path(".")) == old_check_rendering(
            rendering, spec, Path(".")
        )


@settings(max_examples=600, deadline=None)
@given(post=posts())
def test_a_posts_content_and_shares_rules_report_what_they_did(post: Post) -> None:
    """``_check_content`` and ``_check_shares``: the same problems, in order."""
    new: list[Problem] = []
    old: list[Problem] = []
    check._check_content(post, new)
    check._check_shares(post, new)
    old_check_content(post, old)
    old_check_shares(post, old)
    assert new == old
