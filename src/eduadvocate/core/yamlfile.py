"""Safe YAML reading that remembers where every value came from.

PyYAML's constructors lose line numbers and apply YAML 1.1's surprises (``18:00`` is the integer
1080, ``no`` is ``False``, an unquoted ``#tag`` is a comment). We compose the node graph instead and
turn it into :class:`YNode` trees that keep each value's location and its source text, so the
validators can name file:line and read a plain scalar exactly as the volunteer typed it. libyaml
composes; the tag PyYAML's resolver would give a node is found only where it matters
(:class:`_AskingLater`).

Hostile or broken input is refused with a :class:`YamlFileError` naming file and line: invalid
UTF-8, a file over :data:`MAX_FILE_BYTES`, malformed YAML, duplicate keys, recursive aliases,
alias "bombs" that would expand past :data:`MAX_NODES` values, and nesting deeper than
:data:`MAX_DEPTH` (as written, or built up through aliases), which would otherwise end in a
``RecursionError``.
"""

from __future__ import annotations

import functools
import gc
import operator
import os
import re
import stat
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import yaml

from eduadvocate.core.errors import Location, unfrozen_twin

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_NODES = 200_000
# A posts file nests 6 levels (posts, post, override, media list, item); the config 4. Deeper is a
# mistake or an attack: each level costs a few Python frames here and in PyYAML's pure composer.
MAX_DEPTH = 64

_BASE_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR: str = yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG  # "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_COMMENT = re.compile(r"\s+(#\S.*)")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LIBYAML_TOO_DEEP = "exceeded maximum nesting depth"  # libyaml's own limit (1,000 levels)
_SCALAR = yaml.ScalarNode
_QUOTED = frozenset(("'", '"', "|", ">"))
_NO_ITEMS: Mapping[str, YNode] = MappingProxyType({})
_NO_KEYS: Mapping[str, yaml.Node] = MappingProxyType({})
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


# PyYAML's implicit resolvers (the first character of a plain scalar -> the tags it may have,
# each with its pattern, in the order they are tried), as imported: nothing here adds any.
_RESOLVERS: dict[str | None, list[tuple[str, re.Pattern[str]]]]
_RESOLVERS = _BASE_LOADER.yaml_implicit_resolvers
# The kinds of tag whose plain scalars _resolve_plain gives a value other than their text.
_TYPED = frozenset(("null", "bool", "int", "float"))


class _AskingLater(_BASE_LOADER):  # type: ignore[misc]
    """The C loader with its questions to PyYAML's resolver put off (the same tags).

    libyaml's composer (PyYAML's _yaml.pyx, ``CParser._compose_node``) makes three Python calls
    for each node: ``descend_resolver(parent, index)`` and ``ascend_resolver()``, which do
    nothing without path resolvers (``BaseResolver``: "if not self.yaml_path_resolvers:
    return"), and ``resolve(kind, value, implicit)`` for each node without an explicit tag.
    Here the two are C callables that do nothing alike (``operator.is_``, ``tuple``), and
    ``resolve`` is ``slice``, a C type whose three fields keep the question: the node's ``tag``
    is that slice, answered only where it matters (a plain scalar's value: :func:`_typing`; a
    key that may be ``<<``: :func:`_resolved`), never for a quoted scalar or a collection.
    Of the instructions of reading the bench's posts (cachegrind, A/B): ~5% for the two,
    ~5% for the put-off tags."""

    descend_resolver = operator.is_
    ascend_resolver = tuple
    resolve = slice


def _resolved(value: str, implicit: tuple[bool, bool]) -> str:
    """The tag ``BaseResolver.resolve`` gives a scalar without an explicit one (no path or
    wildcard resolvers: :data:`_Loader`): the first implicit resolver for its first character
    whose pattern matches, else str."""
    if implicit[0]:
        for tag, pattern in _RESOLVERS.get(value[:1], ()):  # ("" for "", as resolve does)
            if pattern.match(value):
                return tag
    return _STR


@functools.cache  # (made when first needed: compiling them all would cost start-up ~3 ms)
def _typing(first: str) -> tuple[re.Pattern[str], list[str]] | None:
    """A plain scalar's type, put off (:class:`_AskingLater`), from its first character: one
    pattern for that character's resolvers, each its own group in their order (the first
    alternative to match is the resolver ``resolve`` picks), without those after the last whose
    tag gives a value of its own: whether they match or not, the value is the text (an `at:`
    time is tried as a float and an int, not also as a timestamp). One search for the two or
    three patterns: ~40% fewer instructions than trying them one by one. None if no resolver
    is left."""
    kept = list(_RESOLVERS.get(first, []))
    while kept and kept[-1][0].rsplit(":", 1)[-1] not in _TYPED:  # (as _resolve_plain reads it)
        kept.pop()
    if not kept:
        return None
    joined = "|".join(f"((?{'x' if p.flags & re.X else ''}:{p.pattern}))" for _, p in kept)
    return re.compile(joined), [tag for tag, _ in kept]


# Tags put off only where the answers can be given as resolve gives them: without path
# resolvers (which descend/ascend would track) or wildcard ones, and with patterns that can be
# joined (no groups of their own, no flags but verbose).
_ASK_LATER = (
    not _BASE_LOADER.yaml_path_resolvers
    and None not in _RESOLVERS
    and all(
        p.groups == 0 and not p.flags & ~(re.X | re.U) for rs in _RESOLVERS.values() for _, p in rs
    )
)
# The loader (tests swap in PyYAML's pure-Python one, whose tags are answered as it composes).
_Loader: type[Any] = _AskingLater if _ASK_LATER else _BASE_LOADER
# The first characters of plain keys that a resolver may take for "<<".
_MERGE_FIRST = frozenset(
    first for first, rs in _RESOLVERS.items() for tag, _ in rs if tag == _MERGE
)


class YamlFileError(Exception):
    """A file could not be read as YAML; ``location`` and ``hint`` say where and what to do."""

    def __init__(
        self, message: str, location: Location, hint: str = "", code: str = "invalid-yaml"
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.location = location
        self.hint = hint


class YNode:
    """A YAML value with its location. ``kind`` tells which of the fields is meaningful.

    ``value``: scalars: str, int, float, bool or None (YAML's own typing); ``raw``: scalars: the
    text as written (without quotes); ``comment``: plain scalars: a "#…" comment right after the
    value on its line; ``items`` and ``key_locs``: maps (in the file's order); ``seq``: sequences.
    """

    # A plain class rather than a dataclass: reading 10,000 posts makes ~70,000 of these. A
    # scalar shares the empty, read-only ``items``/``seq`` (not three fresh containers each);
    # a map's key locations are made when first asked for (problems name them), from the key
    # nodes. Together ~6-20% less CPU to read the bench campaign (A/B, min and second-best of
    # four loads per process).
    __slots__ = (
        "_key_locs",
        "_keys",
        "comment",
        "items",
        "kind",
        "loc",
        "quoted",
        "raw",
        "seq",
        "value",
    )

    def __init__(
        self,
        kind: Literal["map", "seq", "scalar"],
        loc: Location,
        value: Any = None,
        raw: str = "",
        quoted: bool = False,
        comment: str = "",
        items: Mapping[str, YNode] = _NO_ITEMS,
        key_locs: Mapping[str, Location] | None = None,
        seq: Sequence[YNode] = (),
    ) -> None:
        self.kind = kind
        self.loc = loc
        self.value = value
        self.raw = raw
        self.quoted = quoted
        self.comment = comment
        self.items = items
        self.seq = seq
        self._keys: Mapping[str, yaml.Node] = _NO_KEYS  # maps read from a file: each key's node
        self._key_locs = key_locs

    def __repr__(self) -> str:
        return f"YNode({self.kind!r}, {self.loc!r}, value={self.value!r}, items={dict(self.items)!r}, seq={list(self.seq)!r})"

    @property
    def key_locs(self) -> Mapping[str, Location]:
        """Where each key of a map is written (a merged key: where its source map has it)."""
        locs = self._key_locs
        if locs is None:
            file = self.loc.file
            locs = self._key_locs = {key: _at(file, node) for key, node in self._keys.items()}
        return locs

    @property
    def is_null(self) -> bool:
        return self.kind == "scalar" and self.value is None and not self.quoted

    def text(self) -> str | None:
        """The scalar as a string, as written: ``18:00`` stays ``"18:00"``. None for null/non-scalars."""
        if self.kind != "scalar" or self.is_null:
            return None
        return self.raw


def _at(file: str, node: yaml.Node) -> Location:
    mark = node.start_mark
    return _location(file, mark.line + 1, mark.column + 1)


_UnfrozenLocation = unfrozen_twin(Location)


def _location(file: str, line: int, column: int) -> Location:
    """``Location(file, line, column)`` made without its frozen ``__init__`` (errors.py
    ``unfrozen_twin``): one for each node, ~4% of the instructions of reading the bench's
    posts."""
    loc: Any = _UnfrozenLocation()
    loc.file = file
    loc.line = line
    loc.column = column
    loc.__class__ = Location
    return loc  # type: ignore[no-any-return]


def read_yaml(path: Path, display: str, within: Path | None = None) -> YNode | None:
    """Read one YAML file (one document). Returns None for an empty file. ``within``: the
    folder the file must stay in (a symbolic link that leads out of it is refused unread)."""
    text = decode_utf8(_read_file(path, display, within), display)
    return parse_yaml(text, display)


# Opened without waiting (a pipe would wait for a writer) and not inherited by child processes.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def _read_file(path: Path, display: str, within: Path | None) -> bytes:
    """The bytes of a campaign file, which is untrusted (a pull request may add any file): a
    regular file only (a device such as /dev/zero never ends, a pipe waits for a writer), at
    most :data:`MAX_FILE_BYTES` read (a file that grows as it is read included), and, with
    ``within``, one that does not lead out of that folder through a symbolic link."""
    if within is not None and not _stays_in(path, within):
        raise YamlFileError(
            "the file is a symbolic link that leads outside the campaign folder: not read",
            Location(display),
            "copy the file into the campaign instead of linking to it",
            code="file-outside-campaign",
        )
    try:
        with open(os.open(path, _OPEN_FLAGS), "rb") as fh:
            status = os.fstat(fh.fileno())
            mode, size, data = status.st_mode, status.st_size, b""
            if stat.S_ISREG(mode) and size <= MAX_FILE_BYTES:
                data = fh.read(MAX_FILE_BYTES + 1)  # (+1: a file grown since is still refused)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise YamlFileError(
            f"cannot read the file: {reason}",
            Location(display),
            "check that it exists and is readable",
            code="unreadable-file",
        ) from None
    if not stat.S_ISREG(mode):
        raise YamlFileError(
            "this is not a regular file (a device, a pipe or a socket): not read",
            Location(display),
            "posts, people and config files must be plain files",
            code="not-a-file",
        )
    size = max(size, len(data))
    if size > MAX_FILE_BYTES:
        raise YamlFileError(
            f"the file is {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit for a posts file",
            Location(display),
            "split it into several files",
            code="file-too-large",
        )
    return data


def _stays_in(path: Path, folder: Path) -> bool:
    """Whether ``path`` resolves (symbolic links followed) inside ``folder`` (resolved too)."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # (a loop of links: reading it reports that)
        return True


def decode_utf8(data: bytes, display: str) -> str:
    """Decode strictly as UTF-8 (a BOM is allowed), naming the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlFileError(
            f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            Location(display, line, column),
            "save it as UTF-8 in your editor",
            code="not-utf8",
        ) from None


def parse_yaml(text: str, display: str) -> YNode | None:
    """Parse YAML text into a :class:`YNode` tree (None for an empty document)."""
    with paused_gc():
        return _parse(text, display)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Python's cycle collector paused meanwhile: reading a file makes thousands of objects at
    once, none in a cycle, and the collector walked them all again and again as they piled up
    (a third of the time of reading 10,000 posts)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse(text: str, display: str) -> YNode | None:
    try:
        if not issubclass(_Loader, getattr(yaml, "CSafeLoader", ())):
            _refuse_deep_events(text, display)  # PyYAML's pure-Python composer recurses per level
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(display, mark.line + 1, mark.column + 1) if mark else Location(display)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        if _LIBYAML_TOO_DEEP in problem:
            raise _too_deep(loc) from None
        lines = text.splitlines()
        line = min(loc.line, len(lines))
        while line > 1 and not lines[line - 1].strip():  # an error at the end: name the last line
            line -= 1
        if line != loc.line:
            loc = Location(display, line, 1)
        source = lines[line - 1] if 0 < line <= len(lines) else ""
        hint = 'check the indentation there, and put text containing ": " or " #" in quotes'
        if "#" in source:
            hint = 'an unquoted # starts a comment: write hashtags without it (FundOurSchools) or in quotes ("#FundOurSchools")'
        raise YamlFileError(f"invalid YAML: {problem}", loc, hint) from None
    except yaml.YAMLError as exc:
        raise YamlFileError(f"invalid YAML: {exc}", Location(display)) from None
    if root is None:
        return None
    return _Converter(display, text.splitlines()).convert(root)


def _too_deep(loc: Location) -> YamlFileError:
    return YamlFileError(
        f"values are nested more than {MAX_DEPTH} levels deep",
        loc,
        "a posts file needs a handful of levels: remove the extra brackets or indentation",
        code="nesting-too-deep",
    )


def _refuse_deep_events(text: str, display: str) -> None:
    """Count nesting in PyYAML's event stream (a loop, no recursion) before composing."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                where = (mark.line + 1, mark.column + 1) if mark else (0, 0)
                raise _too_deep(Location(display, *where))
        elif isinstance(event, _CLOSE):
            depth -= 1


class _Converter:
    def __init__(self, display: str, lines: list[str]) -> None:
        self.display = display
        self.lines = lines
        self.count = 0
        self.depth = 0  # of the value being converted, aliases expanded
        self.active: set[int] = set()

    def loc(self, node: yaml.Node) -> Location:
        return _at(self.display, node)

    def convert(self, node: yaml.Node) -> YNode:
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlFileError(
                f"the file expands to more than {MAX_NODES:,} values (a YAML alias bomb?)",
                self.loc(node),
                "remove the repeated aliases (*name)",
                code="alias-bomb",
            )
        if isinstance(node, yaml.ScalarNode):  # never in ``active``, which holds only collections
            return self._scalar(node)
        if id(node) in self.active:
            raise YamlFileError(
                "a YAML alias refers to itself",
                self.loc(node),
                "remove the recursive alias",
                "alias-bomb",
            )
        if self.depth >= MAX_DEPTH:
            raise _too_deep(self.loc(node))
        self.active.add(id(node))
        self.depth += 1
        try:
            if isinstance(node, yaml.MappingNode):
                return self._map(node)
            assert isinstance(node, yaml.SequenceNode)
            return YNode("seq", self.loc(node), seq=[self.convert(n) for n in node.value])
        finally:
            self.depth -= 1
            self.active.discard(id(node))

    def text(self, node: yaml.ScalarNode) -> str:
        """A scalar's text; PyYAML's pure-Python parser lets "\\ud800" through as a lone
        surrogate, which no UTF-8 encoder takes later (libyaml refuses it, as we do)."""
        raw: str = node.value
        if not raw.isascii() and _SURROGATE.search(raw):
            raise YamlFileError(
                "invalid YAML: a \\u escape names half of a character (a lone surrogate)",
                self.loc(node),
                "write the character itself, or its \\U escape",
            )
        return raw

    def _scalar(self, node: yaml.ScalarNode) -> YNode:
        # (self.text and self.loc inline, and in _map for keys: most of a file's values are
        # scalars; ~1.3% of the instructions of reading the bench's posts)
        raw: str = node.value
        if not raw.isascii():
            self.text(node)  # refuses a lone surrogate
        start = node.start_mark
        loc = _location(self.display, start.line + 1, start.column + 1)
        if node.style in _QUOTED:
            return YNode("scalar", loc, raw, raw, True)
        tag: str | slice = node.tag
        value: Any = raw
        if isinstance(tag, slice):  # put off (_AskingLater): found as resolve would
            typing = _typing(raw[:1]) if tag.step[0] else None
            if typing is not None and (match := typing[0].match(raw)) is not None:
                value = _resolve_plain(typing[1][(match.lastindex or 0) - 1], raw)
        elif tag != _STR:
            value = _resolve_plain(tag, raw)
        comment = ""
        end = node.end_mark
        if end.line < len(self.lines):
            line = self.lines[end.line]
            if "#" in line:  # most lines have none: skip the pattern
                match = _COMMENT.match(line, end.column)
                comment = match.group(1) if match else ""
        return YNode("scalar", loc, value, raw, False, comment)

    def _map(self, node: yaml.MappingNode) -> YNode:
        items: dict[str, YNode] = {}
        keys: dict[str, yaml.Node] = {}
        merged: list[YNode] = []
        for key_node, value_node in node.value:
            tag: str | slice = key_node.tag
            if isinstance(tag, slice):  # put off: only a plain scalar whose first character
                # a resolver takes for "<<" is asked (each key was: ~1.6% of reading the posts)
                merge = tag.start is _SCALAR and tag.stop[:1] in _MERGE_FIRST
                merge = merge and _resolved(tag.stop, tag.step) == _MERGE
            else:
                merge = tag == _MERGE
            if merge:
                target = self.convert(value_node)
                merged.extend(target.seq if target.kind == "seq" else [target])
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlFileError("a key must be a plain name", self.loc(key_node))
            key: str = key_node.value
            if not key.isascii():
                self.text(key_node)  # refuses a lone surrogate
            if key in items:
                first = keys[key].start_mark.line + 1
                raise YamlFileError(
                    f'the key "{key}" appears twice in one mapping (first on line {first})',
                    self.loc(key_node),
                    "keep one of them",
                    code="duplicate-key",
                )
            items[key] = self.convert(value_node)
            keys[key] = key_node
        for source in merged:  # explicit keys win over merged ones, as YAML's << says
            if source.kind != "map":
                raise YamlFileError("<< must merge a mapping", source.loc)
            for key, value in source.items.items():
                if key not in items:
                    items[key] = value
                    keys[key] = source._keys[key]
        out = YNode("map", self.loc(node), items=items)
        out._keys = keys
        return out


def _resolve_plain(tag: str, raw: str) -> Any:
    kind = tag.rsplit(":", 1)[-1]
    if kind == "null":
        return None
    if kind == "bool":
        return raw.lower() in ("true", "yes", "on", "y")
    if kind == "int":
        try:
            return int(raw.replace("_", ""), 0)
        except ValueError:
            return raw  # sexagesimal "18:00" and friends: keep the text
    if kind == "float":
        try:
            return float(raw.replace("_", ""))
        except ValueError:
            return raw
    return raw  # timestamps and anything else stay text; the time module reads them
