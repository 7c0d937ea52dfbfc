"""Reading posts with fewer steps reads the same posts and problems.

* A post read from its node (``_post``: each field read only where it is written, ``_Ctx.string``
  reading a scalar itself, Post and Content made without their frozen ``__init__``) is the Post
  a frozen copy of the reader as it was makes, with the same problems in the same order, over
  posts made to break it: every field present or not, null, of the wrong type, quoted or with a
  comment after it; overrides, media, captions, ids that are not ids, unknown keys.
* ``new_post``, ``new_content`` and yamlfile's ``_location`` make the object the dataclass makes,
  field by field, and it stays frozen.
* A node's tag, asked after composing (yamlfile's ``_AskingLater`` and ``_tag``), is the one
  PyYAML's resolver gives as libyaml composes: keys and values with explicit and non-specific
  (``!``) tags, on plain and quoted scalars and on collections, ``<<`` written every way.
"""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from eduadvocate.config.defaults import Defaults
from eduadvocate.config.reader import NodeReader
from eduadvocate.content import load
from eduadvocate.content.model import Content, Media, Post, new_content, new_post
from eduadvocate.content.schema import OVERRIDE_FIELDS, POST_FIELDS, Field
from eduadvocate.core import yamlfile
from eduadvocate.core.errors import Location, Problem
from eduadvocate.core.suggest import did_you_mean, shown
from eduadvocate.core.yamlfile import YamlFileError, YNode, parse_yaml
from tests.test_yamlfile_fast import OldNode, dump, old_parse

PLATFORMS = frozenset({"x", "bluesky", "mastodon", "facebook"})

# --- the post reader as it was (frozen copy) ------------------------------------------------


class OldCtx(NodeReader):
    def string(self, node: YNode | None, what: str) -> str | None:
        text = super().string(node, what)
        if text is not None and node is not None and node.comment and what in load._PROSE:
            self.problems.append(
                Problem(
                    "yaml-comment",
                    "warning",
                    f'{what} ends before "{node.comment[:30]}": an unquoted " #" starts a YAML comment',
                    node.loc,
                    "put the whole text in quotes, or use text: >- and the text on the next lines",
                    post=self.post,
                )
            )
        return text


def old_content(ctx: OldCtx, node: YNode, fields: dict[str, Field]) -> Content:
    get = node.items.get
    thread = None
    thread_node = get("thread")
    if thread_node is not None and not thread_node.is_null:
        if thread_node.kind != "seq" or not thread_node.seq:
            ctx.error("wrong-type", "thread must be a list of parts", thread_node.loc)
        else:
            thread = tuple(ctx.string(p, "each thread part") or "" for p in thread_node.seq)
    split_node = get("split")
    split = ctx.string(split_node, "split")
    if split is not None and split not in fields["split"].choices:
        ctx.error(
            "wrong-type",
            f'split must be auto or never, not "{split}"',
            split_node.loc if split_node else None,
        )
        split = None
    text_node, link_node, tags_node = get("text"), get("link"), get("hashtags")
    text_source = text_node or thread_node
    return Content(
        text=ctx.string(text_node, "text"),
        thread=thread,
        media=load._media(ctx, get("media")),  # type: ignore[arg-type]
        link=ctx.string(link_node, "link"),
        hashtags=ctx.strings(tags_node, "hashtags", hashtags=True),
        split=split,
        numbering=ctx.boolean(get("numbering"), "numbering"),
        content_warning=ctx.string(get("content_warning"), "content_warning"),
        card=ctx.boolean(get("card"), "card"),
        loc=node.loc,
        text_loc=text_source.loc if text_source else None,
        link_loc=link_node.loc if link_node else None,
        hashtags_loc=tags_node.loc if tags_node else None,
    )


def old_post(ctx: OldCtx, node: YNode, display: str, defaults: Defaults) -> Post | None:
    if node.kind != "map":
        ctx.error("wrong-type", "each post must be a mapping with an id", node.loc)
        return None
    id_node = node.items.get("id")
    post_id = ctx.string(id_node, "id")
    ctx.post = post_id
    if post_id is None:
        ctx.error(
            "missing-id",
            "a post has no id",
            node.loc,
            "add id: a-short-unique-name (it must never change)",
        )
        return None
    if not load._ID.fullmatch(post_id):
        assert id_node is not None
        ctx.error(
            "invalid-id",
            f'the id "{shown(post_id)}" may only hold letters, digits, ".", "_" and "-"',
            id_node.loc,
            "e.g. id: hearing-reminder-1",
        )
    overrides: dict[str, Content] = {}
    reel_loc: Location | None = None
    for key, value in node.items.items():
        if key in POST_FIELDS:
            continue
        if key in PLATFORMS:
            if value.kind != "map":
                ctx.error(
                    "wrong-type", f"{key} must be a mapping of what changes on {key}", value.loc
                )
                continue
            allowed = list(OVERRIDE_FIELDS)
            if key == "facebook" and "as" in value.items:
                allowed.append("as")
                form = ctx.string(value.items["as"], "as")
                if form == "reel":
                    reel_loc = value.key_locs["as"]
                else:
                    ctx.error(
                        "facebook-as",
                        f'as: takes "reel" only, not "{shown(form or "")}"',
                        value.key_locs["as"],
                        "write facebook: {as: reel}, or remove as: for a Page video",
                    )
            ctx.unknown_keys(value, allowed, f"the {key} override")
            overrides[key] = old_content(ctx, value, OVERRIDE_FIELDS)
        else:
            ctx.error(
                "unknown-key",
                f'unknown key "{key}" in a post',
                node.key_locs[key],
                did_you_mean(key, [*POST_FIELDS, *PLATFORMS]),
            )
    get = node.items.get
    content = old_content(ctx, node, POST_FIELDS)
    at, every = get("at"), get("every")
    start, until, accounts = get("from"), get("until"), get("accounts")
    reply_to, repost, quote = get("reply_to"), get("repost"), get("quote")
    post = Post(
        id=post_id,
        loc=node.loc,
        file=display,
        defaults=defaults,
        content=content,
        overrides=overrides,
        at=ctx.string(at, "at"),
        at_loc=at.loc if at else None,
        every=ctx.string(every, "every"),
        every_loc=every.loc if every else None,
        start=ctx.string(start, "from"),
        start_loc=start.loc if start else None,
        until=ctx.string(until, "until"),
        until_loc=until.loc if until else None,
        accounts=ctx.strings(accounts, "accounts"),
        accounts_loc=accounts.loc if accounts else None,
        vars=ctx.string_map(get("vars"), "vars"),
        language=ctx.string(get("language"), "language") or defaults.language,
        reply_to=ctx.string(reply_to, "reply_to"),
        reply_to_loc=reply_to.loc if reply_to else None,
        repost=ctx.string(repost, "repost"),
        repost_loc=repost.loc if repost else None,
        quote=ctx.string(quote, "quote"),
        quote_loc=quote.loc if quote else None,
        reel_loc=reel_loc,
    )
    ctx.post = None
    return post


# --- posts made to break it -------------------------------------------------------------------

SCALARS = [
    "hello", "post-1", "2027-02-02 09:07", "weekly on Monday 09:00", "auto", "never", "reel",
    "yes", "true", "12", "~", "", "x #tag", "a b # c", "bad id!", "en", '"quoted #x"', "'q'",
    '""', "|\n      block text #not a comment", "é 学校",
]  # fmt: skip
COLLECTIONS = [
    "[a, b]", "[]", "[x, ~]", '["#tag", b]', "[[a]]", "{a: b}", "{}", "{1a: x, ok_name: y}",
    "{path: a.png, alt: hi}", "[a.png, {path: b.mp4, captions: none, alt: ~}]", "[{alt: x}, 3]",
    "{path: v.mp4, captions: {en: a.vtt, e s: b.vtt}, thumbnail: t.png}",
    "[{path: v.mp4, captions: [a.vtt], thumbnail: [t]}]", "{path: v.mp4, captions: x.vtt}",
]  # fmt: skip
OVERRIDES = [
    "{text: hi, hashtags: [a, b], link: l}", "{as: reel}", "{as: story, text: t}", "{as: ~}",
    "{thread: [a, ~, b], split: sometimes, numbering: yes, card: maybe}",
    "{media: [{path: a.png, alt: x}], content_warning: cw, unknown: 1}", "{thread: []}",
]  # fmt: skip
KEYS = [*POST_FIELDS, *sorted(PLATFORMS), "unknown", "txt", "id"]
VALUES = st.sampled_from([*SCALARS, *COLLECTIONS, *OVERRIDES])
POST = st.one_of(
    st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=7),
    st.dictionaries(  # a usual post: an id and a few fields
        st.sampled_from(["text", "at", "every", "language", "link", "hashtags", "media"]),
        VALUES,
        max_size=3,
    ).map(lambda fields: {"id": "post-1", **fields}),
    st.sampled_from(["scalar", "[a]"]),
)


def post_lines(post: dict[str, str] | str) -> list[str]:
    if isinstance(post, str):
        return [f"  - {post}"]
    if not post:
        return ["  - {}"]
    lines = []
    for i, (key, value) in enumerate(post.items()):
        lines.append(("  - " if i == 0 else "    ") + f"{key}: {value}")
    return lines


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(POST, min_size=1, max_size=4), st.sampled_from([None, "es"]))
def test_posts_read_as_the_frozen_copy_read_them(
    posts: list[dict[str, str] | str], language: str | None
) -> None:
    text = "posts:\n" + "\n".join(line for post in posts for line in post_lines(post)) + "\n"
    root = parse_yaml(text, "posts/p.yaml")
    assert root is not None, text
    defaults = Defaults(language=language)
    for node in root.items["posts"].seq:
        want: list[Problem] = []
        got: list[Problem] = []
        old = old_post(OldCtx(want), node, "posts/p.yaml", defaults)
        new = load._post(load._Ctx(got), node, "posts/p.yaml", defaults, PLATFORMS)
        assert got == want, text
        assert new == old, text
        event(f"problems: {min(len(got), 3)}")
        if new is not None:
            assert type(new) is Post and type(new.content) is Content
            assert repr(new) == repr(old)
            with pytest.raises(dataclasses.FrozenInstanceError):
                new.id = "other"  # type: ignore[misc]


# --- the makers -------------------------------------------------------------------------------


def distinct_values(cls: type) -> dict[str, Any]:
    """A value of each field's type, each field's its own (a field set from another shows)."""
    out: dict[str, Any] = {}
    for i, f in enumerate(dataclasses.fields(cls)):
        kind = str(f.type)
        if "Location" in kind:
            out[f.name] = Location(f"posts/{f.name}.yaml", i, i + 1)
        elif "Defaults" in kind:
            out[f.name] = Defaults(language=f.name)
        elif "Content" in kind and "dict" not in kind:
            out[f.name] = Content(text=f.name)
        elif "dict" in kind:
            out[f.name] = {f.name: Content(text=f.name)} if "Content" in kind else {f.name: "v"}
        elif "Media" in kind:
            out[f.name] = (Media(f.name, None, Location("m.yaml", i)),)
        elif "tuple" in kind:
            out[f.name] = (f.name,)
        elif "bool" in kind:
            out[f.name] = bool(i % 2)
        else:
            out[f.name] = f.name
    return out


@pytest.mark.parametrize(
    ("cls", "make"),
    [(Post, new_post), (Content, new_content)],
    ids=["Post", "Content"],
)
def test_the_makers_make_what_the_dataclass_makes(cls: type, make: Any) -> None:
    values = distinct_values(cls)
    made, want = make(**values), cls(**values)
    assert type(made) is cls
    assert made == want and repr(made) == repr(want)
    for f in dataclasses.fields(cls):
        assert getattr(made, f.name) is values[f.name], f.name
    assert pickle.loads(pickle.dumps(made)) == want
    if cls is Content:
        assert hash(made) == hash(want)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.loc = None
    assert dataclasses.replace(made) == want


@given(st.text(max_size=5), st.integers(0, 10**6), st.integers(0, 10**6))
def test_a_node_location_is_the_location_the_dataclass_makes(
    file: str, line: int, column: int
) -> None:
    made, want = yamlfile._location(file, line, column), Location(file, line, column)
    assert type(made) is Location
    assert (made.file, made.line, made.column) == (file, line, column)
    assert made == want and hash(made) == hash(want) and str(made) == str(want)
    assert not made < want and not want < made
    assert pickle.loads(pickle.dumps(made)) == want
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.line = 1  # type: ignore[misc]


# --- tags asked after composing ---------------------------------------------------------------

TAGS = ["", "", "! ", "!!str ", "!!int ", "!!bool ", "!!null ", "!!float ", "!!merge ", "!x "]
PLAIN = ["<<", "12", "1_0", "0x1F", "1.5", ".inf", "yes", "Off", "~", "null", "2026-12-03", "=",
         "text", "id", "18:00", "a"]  # fmt: skip
WRITTEN = st.one_of(
    st.sampled_from(PLAIN),
    st.sampled_from(PLAIN).map(lambda s: f'"{s}"'),
    st.sampled_from(PLAIN).map(lambda s: f"'{s}'"),
)
COLLECTION = st.sampled_from(["{a: 1, b: x}", "[1, {a: 2}]", "*m", "[*m, {c: 3}]", "{}", "[]"])


@settings(max_examples=800, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(TAGS),
            WRITTEN,
            st.sampled_from(TAGS),
            st.one_of(WRITTEN, COLLECTION),
        ),
        min_size=1,
        max_size=5,
        unique_by=lambda entry: entry[1].strip("'\""),  # (a key written twice: refused)
    )
)
def test_tags_asked_after_composing_are_the_resolvers_answers(
    entries: list[tuple[str, str, str, str]],
) -> None:
    lines = ["m: &m {a: 1, z: 2}", "doc:"]
    lines += [f"  ? {kt}{key}\n  : {vt}{value}" for kt, key, vt, value in entries]
    lines += [
        "flow: {" + ", ".join(f"{kt}{key}: {vt}{value}" for kt, key, vt, value in entries) + "}"
    ]
    text = "\n".join(lines) + "\n"
    old: OldNode | str | YamlFileError | None
    try:
        old = old_parse(text)
    except YamlFileError as exc:
        old = exc
    try:
        new = parse_yaml(text, "f.yaml")
    except YamlFileError as exc:
        event(f"refused: {exc.code}")
        assert isinstance(old, YamlFileError | str), text
        if isinstance(old, YamlFileError):
            got = (exc.code, exc.message, exc.location, exc.hint)
            assert got == (old.code, old.message, old.location, old.hint), text
        return
    event("read")
    assert isinstance(new, YNode) and isinstance(old, OldNode), text
    want: list[object] = []
    got_tree: list[object] = []
    dump(old, want)
    dump(new, got_tree)
    assert got_tree == want, text
