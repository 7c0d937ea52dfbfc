"""From a campaign folder to :class:`~eduadvocate.content.model.Campaign`: reads ``people.yaml``
and every ``*.yaml``/``*.yml`` under the posts folder, validates them against the tables in
:mod:`eduadvocate.content.schema`, and collects every problem instead of stopping at the first.

A file that cannot be parsed is reported and skipped; the rest of the campaign still loads, so
``check`` shows all mistakes in one run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Set
from pathlib import Path

from eduadvocate.config.defaults import Defaults, defaults_from_node
from eduadvocate.config.model import Config
from eduadvocate.config.reader import NodeReader
from eduadvocate.content.model import (
    Campaign,
    Captions,
    Content,
    Media,
    Person,
    Post,
    new_content,
    new_post,
)
from eduadvocate.content.schema import (
    FILE_FIELDS,
    ID_PATTERN,
    LANGUAGE_PATTERN,
    OVERRIDE_FIELDS,
    POST_FIELDS,
    Field,
)
from eduadvocate.core.errors import Location, Problem
from eduadvocate.core.suggest import did_you_mean, shown
from eduadvocate.core.yamlfile import YamlFileError, YNode, paused_gc, read_yaml

# Every pattern over user input is used with fullmatch: "$" also matches before a final newline.
_ID = re.compile(ID_PATTERN)
_PROSE = frozenset({"text", "each thread part", "content_warning", "link"})
_PERSON_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_LANGUAGE = re.compile(LANGUAGE_PATTERN.strip("^$"))


class _Ctx(NodeReader):
    """Collects problems while validating one file; prose cut short by a YAML comment is one."""

    def string(self, node: YNode | None, what: str) -> str | None:
        if node is None or node.kind != "scalar":
            return super().string(node, what)  # (None, or the wrong type)
        if node.value is None and not node.quoted:  # (node.is_null)
            return None
        # A scalar's text is its source (YNode.text) read here, not through NodeReader.string's
        # calls, for ~3 fields of every post: ~3.5% of the instructions of reading the bench's
        # posts (test_yamlfile_fast.py holds it to NodeReader.string)
        if node.comment and what in _PROSE:
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
        return node.raw


def _media(ctx: _Ctx, node: YNode | None) -> tuple[Media, ...] | None:
    if node is None or node.is_null:
        return None
    items = node.seq if node.kind == "seq" else [node]
    out: list[Media] = []
    for item in items:
        if item.kind == "scalar":
            path = ctx.string(item, "media")
            if path is not None:
                out.append(Media(path=path, alt=None, loc=item.loc))
            continue
        if item.kind != "map":
            ctx.error("wrong-type", "each media item must be {path, alt}", item.loc)
            continue
        ctx.unknown_keys(item, ("path", "alt", "captions", "thumbnail"), "media")
        path = ctx.string(item.items.get("path"), "media path")
        if path is None:
            ctx.error(
                "wrong-type", "a media item needs a path", item.loc, "add path: media/photo.jpg"
            )
            continue
        alt_node = item.items.get("alt")
        alt = (
            alt_node.raw
            if alt_node is not None and alt_node.kind == "scalar" and not alt_node.is_null
            else None
        )
        captions, no_captions = _captions(ctx, item.items.get("captions"))
        thumbnail_node = item.items.get("thumbnail")
        out.append(
            Media(
                path=path,
                alt=alt,
                loc=item.loc,
                alt_loc=alt_node.loc if alt_node else None,
                captions=captions,
                no_captions=no_captions,
                thumbnail=ctx.string(thumbnail_node, "thumbnail"),
                thumbnail_loc=thumbnail_node.loc if thumbnail_node else None,
            )
        )
    return tuple(out)


def _captions(ctx: _Ctx, node: YNode | None) -> tuple[tuple[Captions, ...], bool]:
    """``captions: file.vtt``, ``captions: {en: en.vtt, es: es.srt}`` or ``captions: none``."""
    if node is None or node.is_null:
        return (), False
    hint = "write captions: media/talk.vtt, captions: {en: media/en.vtt, es: media/es.srt} or captions: none"
    if node.kind == "scalar":
        path = ctx.string(node, "captions")
        if path is None:
            return (), False
        if path.strip().lower() == "none":
            return (), True
        return (Captions(path=path, language=None, loc=node.loc),), False
    if node.kind != "map" or not node.items:
        ctx.error(
            "wrong-type", "captions must be a file or a map of language to file", node.loc, hint
        )
        return (), False
    out = []
    for language, value in node.items.items():
        if not _LANGUAGE.fullmatch(language):
            ctx.error(
                "wrong-type",
                f'captions: "{shown(language, 40)}" is not a language code',
                value.loc,
                "use a language code such as en, es or pt-BR",
            )
            continue
        path = ctx.string(value, f"captions {language}")
        if path is not None:
            out.append(Captions(path=path, language=language, loc=value.loc))
    return tuple(out), False


def _content(ctx: _Ctx, node: YNode, fields: dict[str, Field]) -> Content:
    # Each field is read only where it is written (a post writes a few of ~20; a reader's call
    # for each absent one was ~7% of the instructions of reading the bench's posts), in this
    # order, which is the order of their problems.
    get = node.items.get
    string = ctx.string
    thread = None
    thread_node = get("thread")
    if thread_node is not None and not thread_node.is_null:
        if thread_node.kind != "seq" or not thread_node.seq:
            ctx.error("wrong-type", "thread must be a list of parts", thread_node.loc)
        else:
            thread = tuple(string(p, "each thread part") or "" for p in thread_node.seq)
    split_node = get("split")
    split = None
    if split_node is not None:
        split = string(split_node, "split")
        if split is not None and split not in fields["split"].choices:
            ctx.error("wrong-type", f'split must be auto or never, not "{split}"', split_node.loc)
            split = None
    text_node, link_node, tags_node = get("text"), get("link"), get("hashtags")
    media_node, numbering_node = get("media"), get("numbering")
    warning_node, card_node = get("content_warning"), get("card")
    text_source = text_node or thread_node
    return new_content(
        text=None if text_node is None else string(text_node, "text"),
        thread=thread,
        media=None if media_node is None else _media(ctx, media_node),
        link=None if link_node is None else string(link_node, "link"),
        hashtags=None if tags_node is None else ctx.strings(tags_node, "hashtags", hashtags=True),
        split=split,
        numbering=None if numbering_node is None else ctx.boolean(numbering_node, "numbering"),
        content_warning=None if warning_node is None else string(warning_node, "content_warning"),
        card=None if card_node is None else ctx.boolean(card_node, "card"),
        loc=node.loc,
        text_loc=text_source.loc if text_source else None,
        link_loc=link_node.loc if link_node else None,
        hashtags_loc=tags_node.loc if tags_node else None,
    )


def _post(
    ctx: _Ctx, node: YNode, display: str, defaults: Defaults, platforms: Set[str]
) -> Post | None:
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
    if not _ID.fullmatch(post_id):
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
        if key in platforms:
            if value.kind != "map":
                ctx.error(
                    "wrong-type", f"{key} must be a mapping of what changes on {key}", value.loc
                )
                continue
            allowed = list(OVERRIDE_FIELDS)
            if key == "facebook" and "as" in value.items:
                # ``facebook: {as: reel}``: the video goes out as a Facebook Reel.
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
            overrides[key] = _content(ctx, value, OVERRIDE_FIELDS)
        else:
            ctx.error(
                "unknown-key",
                f'unknown key "{key}" in a post',
                node.key_locs[key],
                did_you_mean(key, [*POST_FIELDS, *platforms]),
            )
    get = node.items.get
    string = ctx.string
    content = _content(ctx, node, POST_FIELDS)
    # (as in _content: each field read only where it is written, in the order of its problems)
    at, every = get("at"), get("every")
    start, until, accounts = get("from"), get("until"), get("accounts")
    vars_node, language = get("vars"), get("language")
    reply_to, repost, quote = get("reply_to"), get("repost"), get("quote")
    post = new_post(
        id=post_id,
        loc=node.loc,
        file=display,
        defaults=defaults,
        content=content,
        overrides=overrides,
        at=None if at is None else string(at, "at"),
        at_loc=at.loc if at else None,
        every=None if every is None else string(every, "every"),
        every_loc=every.loc if every else None,
        start=None if start is None else string(start, "from"),
        start_loc=start.loc if start else None,
        until=None if until is None else string(until, "until"),
        until_loc=until.loc if until else None,
        accounts=None if accounts is None else ctx.strings(accounts, "accounts"),
        accounts_loc=accounts.loc if accounts else None,
        vars={} if vars_node is None else ctx.string_map(vars_node, "vars"),
        language=(None if language is None else string(language, "language")) or defaults.language,
        reply_to=None if reply_to is None else string(reply_to, "reply_to"),
        reply_to_loc=reply_to.loc if reply_to else None,
        repost=None if repost is None else string(repost, "repost"),
        repost_loc=repost.loc if repost else None,
        quote=None if quote is None else string(quote, "quote"),
        quote_loc=quote.loc if quote else None,
        reel_loc=reel_loc,
    )
    ctx.post = None
    return post


def load_file(
    path: Path,
    display: str,
    base: Defaults,
    platforms: Set[str],
    problems: list[Problem],
    within: Path | None = None,
) -> list[Post]:
    """Load the posts of one file; problems are appended, never raised. ``within``: the posts
    folder, which the file must not lead out of through a symbolic link (``read_yaml``)."""
    with paused_gc():  # the YNode tree and the posts it becomes: no cycles to look for
        return _load_file(path, display, base, platforms, problems, within)


def _load_file(
    path: Path,
    display: str,
    base: Defaults,
    platforms: Set[str],
    problems: list[Problem],
    within: Path | None,
) -> list[Post]:
    try:
        node = read_yaml(path, display, within)
    except YamlFileError as exc:
        problems.append(Problem(exc.code, "error", exc.message, exc.location, exc.hint))
        return []
    if node is None:  # also what an editor or `git checkout` leaves for a moment while writing
        problems.append(
            Problem(
                "empty-file",
                "error",
                "this posts file is empty",
                Location(display),
                "add posts: with one entry per post, or delete the file",
            )
        )
        return []
    ctx = _Ctx(problems)
    if node.kind == "seq":
        post_nodes, defaults = node.seq, base
    elif node.kind == "map":
        ctx.unknown_keys(node, FILE_FIELDS, "a posts file")
        defaults = base.merged(defaults_from_node(node, problems))
        posts_node = node.items.get("posts")
        if posts_node is None or posts_node.is_null:
            ctx.error(
                "wrong-type",
                "this file has no posts: list",
                node.loc,
                "add posts: with one entry per post",
            )
            return []
        if posts_node.kind != "seq":
            ctx.error(
                "wrong-type",
                "posts must be a list (each entry starts with - id: …)",
                posts_node.loc,
            )
            return []
        post_nodes = posts_node.seq
    else:
        ctx.error(
            "wrong-type", "a posts file must be a mapping with posts:, or a list of posts", node.loc
        )
        return []
    posts = []
    for post_node in post_nodes:
        post = _post(ctx, post_node, display, defaults, platforms)
        if post is not None:
            posts.append(post)
    return posts


def load_people(
    path: Path, display: str, platforms: Set[str], problems: list[Problem]
) -> dict[str, Person]:
    """``people.yaml``: ``key: {name: …, x: handle, bluesky: handle, …}``. A missing file is fine."""
    if not path.exists():
        return {}
    try:
        # (not out of the folder the config names it in, through a symbolic link)
        node = read_yaml(path, display, path.absolute().parent)
    except YamlFileError as exc:
        problems.append(Problem(exc.code, "error", exc.message, exc.location, exc.hint))
        return {}
    if node is None:
        return {}
    ctx = _Ctx(problems)
    if node.kind != "map":
        ctx.error("wrong-type", "people.yaml must map short names to people", node.loc)
        return {}
    people: dict[str, Person] = {}
    for key, item in node.items.items():
        if not _PERSON_KEY.fullmatch(key):
            ctx.error(
                "invalid-id",
                f'"{shown(key)}" cannot be used as {{@{shown(key)}}}',
                node.key_locs[key],
                "use letters, digits, _ . -",
            )
        if item.kind != "map":
            ctx.error("wrong-type", f"{key} must be a mapping with name and handles", item.loc)
            continue
        if any(k != "name" and k not in platforms for k in item.key_locs):  # (as below)
            ctx.unknown_keys(item, ["name", *sorted(platforms)], f"person {key}")
        name = ctx.string(item.items.get("name"), f"{key}.name")
        if not name:
            ctx.error(
                "wrong-type",
                f"person {key} has no name",
                item.loc,
                "add name: as it should read where there is no handle",
            )
            name = key
        # (``name`` is the person's name, not a handle: asking the platforms about it would
        # scan the installed packages for nothing, ~20 ms of every check; see registry.py)
        handles = {
            p: h for p, h in ctx.string_map(item, key).items() if p != "name" and p in platforms
        }
        locs = {p: item.items[p].loc for p in handles}
        people[key] = Person(key=key, name=name, handles=handles, loc=item.loc, handle_locs=locs)
    return people


def iter_post_files(posts_dir: Path) -> Iterator[Path]:
    """Every ``*.yaml``/``*.yml`` below the folder, in a stable order, skipping hidden folders."""
    files = [*posts_dir.rglob("*.yaml"), *posts_dir.rglob("*.yml")]
    for path in sorted(files):
        rel = path.relative_to(posts_dir)
        if any(part.startswith(".") for part in rel.parts):
            continue
        yield path


def load_campaign(config: Config, platforms: Set[str]) -> Campaign:
    """Load people and every posts file; duplicate ids across the folder are reported here."""
    campaign = start_campaign(config, platforms)
    if config.posts_dir.is_dir():
        load_posts(campaign, config, iter_post_files(config.posts_dir), platforms, {})
    return campaign


def start_campaign(config: Config, platforms: Set[str]) -> Campaign:
    """A campaign with its people read and no posts file yet (``load_posts`` reads those):
    ``check`` reads people once, then spreads the posts files over processes."""
    campaign = Campaign(root=config.root)
    campaign.people = load_people(
        config.people_path, config.display(config.people_path), platforms, campaign.problems
    )
    if not config.posts_dir.is_dir():
        campaign.problems.append(
            Problem(
                "no-posts-folder",
                "error",
                f"there is no posts folder at {config.display(config.posts_dir)}",
                hint="create it, or set posts: in the config to where your posts are",
            )
        )
    return campaign


def load_posts(
    campaign: Campaign,
    config: Config,
    paths: Iterable[Path],
    platforms: Set[str],
    seen: dict[str, Location],
) -> None:
    """Add the posts files at ``paths`` (in order) to ``campaign``: its files, problems and the
    posts whose id is not in ``seen`` (the ids met so far, with where; updated)."""
    for path in paths:
        display = config.display(path)
        campaign.files.append(display)
        posts = load_file(
            path, display, config.defaults, platforms, campaign.problems, config.posts_dir
        )
        firsts = first_uses([(p.id, p.loc) for p in posts], seen, campaign.problems)
        campaign.posts.extend(post for post, first in zip(posts, firsts, strict=True) if first)


def first_uses(
    posts: list[tuple[str, Location]], seen: dict[str, Location], problems: list[Problem]
) -> list[bool]:
    """Which of ``posts`` (id and where, in order) use their id first: a later one is a
    ``duplicate-id`` error at its place, naming the first (``seen``: the ids met before, with
    where; updated), and is left out of the campaign."""
    out = []
    for post_id, loc in posts:
        first = seen.get(post_id)
        if first is not None:
            problems.append(
                Problem(
                    "duplicate-id",
                    "error",
                    f'the id "{post_id}" is already used at {first}',
                    loc,
                    "every post needs its own id, and an id must never change once published",
                    post=post_id,
                )
            )
            out.append(False)
            continue
        seen[post_id] = loc
        out.append(True)
    return out
