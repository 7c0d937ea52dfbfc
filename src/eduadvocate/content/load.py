"""From a campaign folder to :class:`~eduadvocate.content.model.Campaign`: reads ``people.yaml``
and every ``*.yaml``/``*.yml`` under the posts folder, validates them against the tables in
:mod:`eduadvocate.content.schema`, and collects every problem instead of stopping at the first.

A file that cannot be parsed is reported and skipped; the rest of the campaign still loads, so
``check`` shows all mistakes in one run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from eduadvocate.config.load import Config, did_you_mean
from eduadvocate.content.model import Campaign, Content, Defaults, Media, Person, Post, UtmSettings
from eduadvocate.content.schema import (
    FILE_FIELDS,
    ID_PATTERN,
    OVERRIDE_FIELDS,
    POST_FIELDS,
    UTM_FIELDS,
    Field,
)
from eduadvocate.content.templates import UTM_HINT, utm_template_problems
from eduadvocate.content.textsafety import shown
from eduadvocate.core.errors import Location, Problem
from eduadvocate.core.yamlfile import YamlFileError, YNode, read_yaml

# Every pattern over user input is used with fullmatch: "$" also matches before a final newline.
_ID = re.compile(ID_PATTERN)
_PROSE = frozenset({"text", "each thread part", "content_warning", "link"})
_PERSON_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")  # what {name} in a text can refer to


class _Ctx:
    """Collects problems while validating one file."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.post: str | None = None

    def error(self, code: str, message: str, loc: Location | None, hint: str = "") -> None:
        self.problems.append(Problem(code, "error", message, loc, hint, post=self.post))

    def unknown_keys(self, node: YNode, allowed: object, what: str) -> None:
        names = list(allowed)  # type: ignore[call-overload]
        for key, loc in node.key_locs.items():
            if key not in names:
                self.error(
                    "unknown-key", f'unknown key "{key}" in {what}', loc, did_you_mean(key, names)
                )

    def string(self, node: YNode | None, what: str) -> str | None:
        if node is None or node.is_null:
            return None
        text = node.text()
        if text is None:
            self.error("wrong-type", f"{what} must be text, not a {_kind(node)}", node.loc)
        elif node.comment and what in _PROSE:
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

    def boolean(self, node: YNode | None, what: str) -> bool | None:
        if node is None or node.is_null:
            return None
        if node.kind == "scalar" and isinstance(node.value, bool):
            return node.value
        self.error("wrong-type", f"{what} must be true or false", node.loc)
        return None

    def strings(
        self, node: YNode | None, what: str, *, hashtags: bool = False
    ) -> tuple[str, ...] | None:
        if node is None or node.is_null:
            return None
        items = [node] if node.kind == "scalar" else node.seq if node.kind == "seq" else None
        if items is None:
            self.error("wrong-type", f"{what} must be a list", node.loc)
            return None
        out: list[str] = []
        for item in items:
            if hashtags and item.is_null:
                self.error(
                    "wrong-type",
                    f"an empty item in {what}: an unquoted # starts a YAML comment",
                    item.loc,
                    'write hashtags without the # (FundOurSchools) or in quotes ("#FundOurSchools")',
                )
                continue
            text = self.string(item, f"each item of {what}")
            if text is not None:
                out.append(text)
        return tuple(out)

    def string_map(self, node: YNode | None, what: str) -> dict[str, str]:
        if node is None or node.is_null:
            return {}
        if node.kind != "map":
            self.error("wrong-type", f"{what} must be a mapping of names to values", node.loc)
            return {}
        out: dict[str, str] = {}
        for key, item in node.items.items():
            if what == "vars" and not VAR_NAME.fullmatch(key):
                self.error(
                    "invalid-id",
                    f'the variable name "{shown(key)}" cannot be used as {{name}} in a text',
                    node.key_locs[key],
                    "start with a letter or _, then letters, digits, _ . -",
                )
                continue
            text = self.string(item, f"{what}.{key}")
            if text is not None:
                out[key] = text
        return out


def _kind(node: YNode) -> str:
    return {"map": "mapping", "seq": "list", "scalar": "value"}[node.kind]


def defaults_from_node(node: YNode, problems: list[Problem]) -> Defaults:
    """Campaign-wide defaults from the config's ``defaults:`` or a posts file's top level."""
    ctx = _Ctx(problems)
    get = node.items.get
    tz = get("timezone")
    acc = get("accounts")
    tags = get("hashtags")
    return Defaults(
        campaign=ctx.string(get("campaign"), "campaign"),
        timezone=ctx.string(tz, "timezone"),
        timezone_loc=tz.loc if tz else None,
        accounts=ctx.strings(acc, "accounts"),
        accounts_loc=acc.loc if acc else None,
        hashtags=ctx.strings(tags, "hashtags", hashtags=True) or (),
        hashtags_loc=tags.loc if tags else None,
        vars=ctx.string_map(get("vars"), "vars"),
        utm=_utm(ctx, get("utm")),
        numbering=ctx.boolean(get("numbering"), "numbering"),
        language=ctx.string(get("language"), "language"),
    )


def _utm(ctx: _Ctx, node: YNode | None) -> UtmSettings | None:
    if node is None or node.is_null:
        return None
    if node.kind == "scalar" and isinstance(node.value, bool):
        return UtmSettings(enabled=node.value)
    if node.kind != "map":
        ctx.error("wrong-type", "utm must be true, false or a mapping", node.loc)
        return None
    ctx.unknown_keys(node, UTM_FIELDS, "utm")
    base = UtmSettings()
    values: dict[str, object] = {}
    for key in ("source", "medium", "campaign", "content"):
        item = node.items.get(key)
        text = ctx.string(item, f"utm.{key}")
        if text is not None:
            values[key] = text
            for why in utm_template_problems(text):
                ctx.error("utm-template", f"utm.{key}: {why}", item.loc if item else None, UTM_HINT)
    enabled = ctx.boolean(node.items.get("enabled"), "utm.enabled")
    domains = ctx.strings(node.items.get("domains"), "utm.domains")
    return UtmSettings(
        enabled=base.enabled if enabled is None else enabled,
        source=str(values.get("source", base.source)),
        medium=str(values.get("medium", base.medium)),
        campaign=str(values.get("campaign", base.campaign)),
        content=str(values.get("content", base.content)),
        domains=tuple(d.lower() for d in domains or ()),
    )


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
        ctx.unknown_keys(item, ("path", "alt"), "media")
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
        out.append(
            Media(path=path, alt=alt, loc=item.loc, alt_loc=alt_node.loc if alt_node else None)
        )
    return tuple(out)


def _content(ctx: _Ctx, node: YNode, fields: dict[str, Field]) -> Content:
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
        media=_media(ctx, get("media")),
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


def _post(
    ctx: _Ctx, node: YNode, display: str, defaults: Defaults, platforms: frozenset[str]
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
    for key, loc in node.key_locs.items():
        if key in POST_FIELDS:
            continue
        value = node.items[key]
        if key in platforms:
            if value.kind != "map":
                ctx.error(
                    "wrong-type", f"{key} must be a mapping of what changes on {key}", value.loc
                )
                continue
            ctx.unknown_keys(value, OVERRIDE_FIELDS, f"the {key} override")
            overrides[key] = _content(ctx, value, OVERRIDE_FIELDS)
        else:
            ctx.error(
                "unknown-key",
                f'unknown key "{key}" in a post',
                loc,
                did_you_mean(key, [*POST_FIELDS, *platforms]),
            )
    get = node.items.get
    content = _content(ctx, node, POST_FIELDS)
    at, every = get("at"), get("every")
    start, until, accounts = get("from"), get("until"), get("accounts")
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
    )
    ctx.post = None
    return post


def load_file(
    path: Path, display: str, base: Defaults, platforms: frozenset[str], problems: list[Problem]
) -> list[Post]:
    """Load the posts of one file; problems are appended, never raised."""
    try:
        node = read_yaml(path, display)
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
    path: Path, display: str, platforms: frozenset[str], problems: list[Problem]
) -> dict[str, Person]:
    """``people.yaml``: ``key: {name: …, x: handle, bluesky: handle, …}``. A missing file is fine."""
    if not path.exists():
        return {}
    try:
        node = read_yaml(path, display)
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
        handles = {p: h for p, h in ctx.string_map(item, key).items() if p in platforms}
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


def load_campaign(config: Config, platforms: frozenset[str]) -> Campaign:
    """Load people and every posts file; duplicate ids across the folder are reported here."""
    campaign = Campaign(root=config.root)
    problems = campaign.problems
    campaign.people = load_people(
        config.people_path, config.display(config.people_path), platforms, problems
    )
    if not config.posts_dir.is_dir():
        problems.append(
            Problem(
                "no-posts-folder",
                "error",
                f"there is no posts folder at {config.display(config.posts_dir)}",
                hint="create it, or set posts: in the config to where your posts are",
            )
        )
        return campaign
    seen: dict[str, Post] = {}
    for path in iter_post_files(config.posts_dir):
        display = config.display(path)
        campaign.files.append(display)
        for post in load_file(path, display, config.defaults, platforms, problems):
            first = seen.get(post.id)
            if first is not None:
                problems.append(
                    Problem(
                        "duplicate-id",
                        "error",
                        f'the id "{post.id}" is already used at {first.loc}',
                        post.loc,
                        "every post needs its own id, and an id must never change once published",
                        post=post.id,
                    )
                )
                continue
            seen[post.id] = post
            campaign.posts.append(post)
    return campaign
