"""Reading a posts file faster reads the same: the YNode trees (values, types, source text, comments,
key order and every location), the refusals and ``_Ctx.string``'s answers match a frozen copy of the
reader as it was before (a dataclass YNode with eager key locations, PyYAML's own resolver,
``NodeReader.string``), over YAML made to break them: plain scalars YAML 1.1 would type (numbers,
bools in every case, nulls, dates, sexagesimal, .inf/.nan), merge keys, duplicate keys, aliases,
comments, quoted and block styles, non-ASCII and lone surrogates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from eduadvocate.config.reader import NodeReader
from eduadvocate.content.load import _PROSE, _Ctx
from eduadvocate.core import yamlfile
from eduadvocate.core.errors import Location, Problem
from eduadvocate.core.yamlfile import MAX_DEPTH, MAX_NODES, YamlFileError, YNode, parse_yaml

# --- the reader as it was (frozen copy) -----------------------------------------------------

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_COMMENT = re.compile(r"\s+(#\S.*)")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(slots=True)
class OldNode:
    kind: Literal["map", "seq", "scalar"]
    loc: Location
    value: Any = None
    raw: str = ""
    quoted: bool = False
    comment: str = ""
    items: dict[str, OldNode] = field(default_factory=dict)
    key_locs: dict[str, Location] = field(default_factory=dict)
    seq: list[OldNode] = field(default_factory=list)


class OldConverter:
    def __init__(self, display: str, lines: list[str]) -> None:
        self.display, self.lines, self.count, self.depth = display, lines, 0, 0
        self.active: set[int] = set()

    def loc(self, node: yaml.Node) -> Location:
        return Location(self.display, node.start_mark.line + 1, node.start_mark.column + 1)

    def convert(self, node: yaml.Node) -> OldNode:
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlFileError(
                f"the file expands to more than {MAX_NODES:,} values (a YAML alias bomb?)",
                self.loc(node),
                "remove the repeated aliases (*name)",
                code="alias-bomb",
            )
        if id(node) in self.active:
            raise YamlFileError(
                "a YAML alias refers to itself",
                self.loc(node),
                "remove the recursive alias",
                "alias-bomb",
            )
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if self.depth >= MAX_DEPTH:
            raise yamlfile._too_deep(self.loc(node))
        self.active.add(id(node))
        self.depth += 1
        try:
            if isinstance(node, yaml.MappingNode):
                return self._map(node)
            return OldNode("seq", self.loc(node), seq=[self.convert(n) for n in node.value])
        finally:
            self.depth -= 1
            self.active.discard(id(node))

    def text(self, node: yaml.ScalarNode) -> str:
        raw: str = node.value
        if not raw.isascii() and _SURROGATE.search(raw):
            raise YamlFileError(
                "invalid YAML: a \\u escape names half of a character (a lone surrogate)",
                self.loc(node),
                "write the character itself, or its \\U escape",
            )
        return raw

    def _scalar(self, node: yaml.ScalarNode) -> OldNode:
        raw = self.text(node)
        quoted = node.style in ("'", '"', "|", ">")
        value: Any = raw
        comment = ""
        if not quoted:
            if node.tag != _STR:
                value = yamlfile._resolve_plain(node.tag, raw)
            end = node.end_mark
            if end.line < len(self.lines):
                match = _COMMENT.match(self.lines[end.line], end.column)
                comment = match.group(1) if match else ""
        return OldNode("scalar", self.loc(node), value, raw, quoted, comment)

    def _map(self, node: yaml.MappingNode) -> OldNode:
        out = OldNode("map", self.loc(node))
        merged: list[OldNode] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                target = self.convert(value_node)
                merged.extend(target.seq if target.kind == "seq" else [target])
                continue
            key_loc = self.loc(key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlFileError("a key must be a plain name", key_loc)
            key = self.text(key_node)
            if key in out.items:
                first = out.key_locs[key]
                raise YamlFileError(
                    f'the key "{key}" appears twice in one mapping (first on line {first.line})',
                    key_loc,
                    "keep one of them",
                    code="duplicate-key",
                )
            out.items[key] = self.convert(value_node)
            out.key_locs[key] = key_loc
        for source in merged:
            if source.kind != "map":
                raise YamlFileError("<< must merge a mapping", source.loc)
            for key, value in source.items.items():
                if key not in out.items:
                    out.items[key] = value
                    out.key_locs[key] = source.key_locs[key]
        return out


def old_string(problems: list[Problem], node: OldNode | None, what: str) -> str | None:
    """``_Ctx.string`` as it was: ``NodeReader.string``, then the YAML-comment warning."""
    if node is None or (node.kind == "scalar" and node.value is None and not node.quoted):
        return None
    text = node.raw if node.kind == "scalar" else None
    if text is None:
        kind = {"map": "mapping", "seq": "list", "scalar": "value"}[node.kind]
        problems.append(
            Problem("wrong-type", "error", f"{what} must be text, not a {kind}", node.loc)
        )
    if text is not None and node.comment and what in _PROSE:
        problems.append(
            Problem(
                "yaml-comment",
                "warning",
                f'{what} ends before "{node.comment[:30]}": an unquoted " #" starts a YAML comment',
                node.loc,
                "put the whole text in quotes, or use text: >- and the text on the next lines",
            )
        )
    return text


def old_parse(text: str) -> OldNode | str | None:
    """The tree as the old reader made it, or "composer" when PyYAML itself refuses the text."""
    try:
        root = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return "composer"
    return None if root is None else OldConverter("f.yaml", text.splitlines()).convert(root)


def dump(node: YNode | OldNode, out: list[object]) -> None:
    out.append(
        (node.kind, node.loc, type(node.value), node.value, node.raw, node.quoted, node.comment)
    )
    out.append([(key, loc) for key, loc in node.key_locs.items()])
    assert list(node.items) == list(node.key_locs)
    for child in [*node.items.values(), *node.seq]:
        dump(child, out)


# --- YAML made to break it ------------------------------------------------------------------

PLAIN = st.sampled_from(
    [
        "18:00", "190:20:30", "1_000", "0x1F", "0o17", "0b101", "017", "+12", "-0", "1e3",
        "-.5", ".inf", "-.INF", ".NaN", ".nan", "yes", "Yes", "YES", "no", "No", "on", "OFF",
        "y", "Y", "n", "true", "True", "TRUE", "tRue", "false", "FALSE", "null", "Null", "NULL",
        "~", "2026-12-03", "2026-12-03 18:00", "2026-12-03 18:00:00", "2001-12-14t21:59:43.10-05:00",
        "=", "<<", "text", "id", "post-1", "weekly on Monday 09:00", "x #tag", "x # note",
        "é", "学校", "a:b", "-", ".", "1.", "0.", "1:2:3.5",
    ]
)  # fmt: skip
QUOTED = st.text(alphabet="ab #:\\\"'é😀\t-", max_size=6)
KEYS = st.sampled_from(["id", "text", "at", "a", "A", "é", "1", "true", "~", "dup", "dup"])
ANCHORS = "base: &b {a: 1, dup: x, id: b}\nlist: &l [1, two]\nsc: &s 3\n"


def scalar_text(kind: str, text: str) -> str:
    if kind == "plain":
        return text
    if kind == "double":
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if kind == "single":
        return "'" + text.replace("'", "''") + "'"
    if kind == "surrogate":
        return '"a\\ud800"'
    return {"alias-b": "*b", "alias-l": "*l", "alias-s": "*s"}[kind]


SCALAR = st.one_of(
    st.tuples(st.just("plain"), PLAIN),
    st.tuples(st.sampled_from(["double", "single"]), QUOTED),
    st.tuples(st.sampled_from(["surrogate", "alias-b", "alias-l", "alias-s"]), st.just("")),
)
TREE = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.tuples(st.just("seq"), st.lists(inner, max_size=3)),
        st.tuples(
            st.just("map"),
            st.lists(st.tuples(st.one_of(KEYS, st.just("<<")), inner, st.booleans()), max_size=4),
        ),
        st.tuples(st.just("block"), st.sampled_from(["|", ">-", ">"]), QUOTED),
    ),
    max_leaves=12,
)


def emit(tree: Any, indent: int, lines: list[str], head: str) -> None:
    """Lines for ``tree`` after ``head`` (``key:`` or ``-``), in block style."""
    pad = " " * indent
    kind = tree[0]
    if kind == "block":
        lines.append(f"{head} {tree[1]}")
        lines.append(f"{pad}  {tree[2] or 'x'}")
    elif kind in ("seq", "map") and not tree[1]:
        lines.append(f"{head} {'[]' if kind == 'seq' else '{}'}")
    elif kind == "seq":
        lines.append(head)
        for item in tree[1]:
            emit(item, indent + 2, lines, f"{pad}  -")
    elif kind == "map":
        lines.append(head)
        for key, value, flag in tree[1]:
            item = value
            if key == "<<" and value[0] not in ("alias-b", "alias-l", "alias-s"):
                item = ("alias-b", "") if flag else ("seq", [("alias-b", ""), value])
            emit(item, indent + 2, lines, f"{pad}  {key}:")
    else:
        lines.append(f"{head} {scalar_text(kind, tree[1])}")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TREE, st.booleans())
def test_the_reader_reads_as_the_frozen_copy_did(tree: Any, comments: bool) -> None:
    lines: list[str] = []
    emit(tree, 0, lines, "doc:")
    if comments:  # a comment after the value on some lines: plain scalars keep it
        lines = [f"{line} #c{i}" if i % 2 else line for i, line in enumerate(lines)]
    text = ANCHORS + "\n".join(lines) + "\n"
    old: OldNode | str | YamlFileError | None
    try:
        old = old_parse(text)
    except YamlFileError as exc:
        old = exc
    try:
        new = parse_yaml(text, "f.yaml")
    except YamlFileError as exc:
        event(f"refused: {exc.code}")
        assert isinstance(old, (YamlFileError, str)), text
        if isinstance(old, YamlFileError):
            got = (exc.code, exc.message, exc.location, exc.hint)
            assert got == (old.code, old.message, old.location, old.hint), text
        return
    assert isinstance(new, YNode) and isinstance(old, OldNode), text
    event("read")
    want: list[object] = []
    got: list[object] = []
    dump(old, want)
    dump(new, got)
    assert got == want, text
    # _Ctx.string: the same answers and problems for every node, read as prose and as an id
    old_nodes: list[OldNode] = []
    new_nodes: list[YNode] = []
    walk(old, old_nodes)
    walk(new, new_nodes)
    for old_node, new_node in zip(old_nodes, new_nodes, strict=True):
        for what in ("text", "id"):
            want_problems: list[Problem] = []
            ctx = _Ctx([])
            assert ctx.string(new_node, what) == old_string(want_problems, old_node, what)
            assert ctx.problems == want_problems
    assert _Ctx([]).string(None, "text") is None


def walk(node: Any, out: list[Any]) -> None:
    out.append(node)
    for child in [*node.items.values(), *node.seq]:
        walk(child, out)


def test_a_node_made_by_hand_keeps_the_interface() -> None:
    """``YNode("map", loc)`` (the config reader's empty config) and given key locations."""
    loc = Location("c.yaml")
    empty = YNode("map", loc)
    assert (dict(empty.items), dict(empty.key_locs), list(empty.seq)) == ({}, {}, [])
    keyed = YNode("map", loc, items={"a": YNode("scalar", loc)}, key_locs={"a": loc})
    assert keyed.key_locs == {"a": loc} and keyed.items["a"].is_null
    assert NodeReader([]).string(YNode("scalar", loc, "x", "x"), "x") == "x"


def test_ctx_string_answers_as_node_reader_for_nodes_made_by_hand() -> None:
    """Every combination of kind, value, quoting and comment, including ones no file yields (a
    quoted null): ``_Ctx.string`` answers as ``NodeReader.string`` does."""
    loc = Location("f.yaml", 1, 1)
    for kind in ("scalar", "map", "seq"):
        for value in (None, "x", 0, False):
            for quoted in (False, True):
                for comment in ("", "#c"):
                    node = YNode(kind, loc, value, "raw", quoted, comment)  # type: ignore[arg-type]
                    want: list[Problem] = []
                    answer = NodeReader(want).string(node, "id")
                    ctx = _Ctx([])
                    assert ctx.string(node, "id") == answer
                    assert ctx.problems == want
