"""Generate ``_twitter_patterns.py`` from the official npm ``twitter-text`` 3.1.0 package.

twitter-text's regular expressions are JavaScript patterns in non-Unicode mode: they match
UTF-16 code units, spell astral characters as surrogate pairs, and several use the ``i`` flag,
whose case folding (ECMAScript ``Canonicalize``) differs from Python's ``re.IGNORECASE`` (for
example ``ſ`` never matches ``s`` in JavaScript).  This script reads the compiled patterns out of
the installed package (``require("twitter-text").regexen`` and twemoji-parser's emoji regex),
parses them, and writes equivalent Python ``re`` patterns over code points:

* a high-surrogate atom followed by a low-surrogate atom becomes one astral character class;
* the ``i`` flag is expanded into explicit classes using V8's own upper-casing, so the generated
  patterns need no flags;
* ``$`` becomes ``\\Z`` (Python's ``$`` also matches before a final newline), ``\\s`` becomes
  V8's whitespace set.

Run from the repository root after ``npm ci --prefix tests/js``::

    .venv/bin/python tools/gen_twitter_patterns.py

It rewrites ``src/eduadvocate/platforms/textcount/_twitter_patterns.py`` and formats it with
ruff.  Re-run it only when the pinned npm version changes.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JS_DIR = ROOT / "tests" / "js"
OUT = ROOT / "src" / "eduadvocate" / "platforms" / "textcount" / "_twitter_patterns.py"

# Which twitter-text regexen are translated, under which Python name.  The "end" patterns are
# anchored with ^ in JavaScript and applied to the text after a match; Python's ^ does not
# match at a ``pos`` offset, so their leading anchor is dropped and callers use ``.match``.
WANTED = {
    "extractUrl": "EXTRACT_URL",
    "validAsciiDomain": "VALID_ASCII_DOMAIN",
    "validTcoUrl": "VALID_TCO_URL",
    "validHashtag": "VALID_HASHTAG",
    "endHashtagMatch": "END_HASHTAG_MATCH",
    "validMentionOrList": "VALID_MENTION_OR_LIST",
    "endMentionMatch": "END_MENTION_MATCH",
    "validCashtag": "VALID_CASHTAG",
}
DROP_LEADING_CARET = {"endHashtagMatch", "endMentionMatch"}

# Sources parsed only to learn which characters a TLD can start with.
TLD_PARTS = ["validGTLD", "validCCTLD", "validPunycode"]

NODE_DUMP = r"""
const tt = require('twitter-text');
const emoji = require('twemoji-parser/dist/lib/regex').default;
const names = JSON.parse(process.argv[1]);
const out = {regexen: {}, emoji: {source: emoji.source, flags: emoji.flags},
             canon: [], space: [], spacesGroup: tt.regexen.spacesGroup.source,
             versions: {twitterText: require('twitter-text/package.json').version,
                        twemojiParser: require('twemoji-parser/package.json').version}};
for (const n of names) out.regexen[n] = {source: tt.regexen[n].source, flags: tt.regexen[n].flags};
for (let u = 0; u < 0x10000; u++) {
  const s = String.fromCharCode(u);
  const up = s.toUpperCase();
  let c = u;
  if (up.length === 1) { const cu = up.charCodeAt(0); if (!(u >= 128 && cu < 128)) c = cu; }
  if (c !== u) out.canon.push([u, c]);
  if (/\s/.test(s)) out.space.push(u);
}
process.stdout.write(JSON.stringify(out));
"""

MAX_BMP = 0xFFFF
HIGH = (0xD800, 0xDBFF)
LOW = (0xDC00, 0xDFFF)


@dataclass
class CharSet:
    chars: set[int]
    negated: bool = False


@dataclass
class Anchor:
    kind: str  # "^" or "$"


@dataclass
class Seq:
    items: list[Node] = field(default_factory=list)


@dataclass
class Alt:
    branches: list[Seq]


@dataclass
class Group:
    kind: str  # "cap", "nc", "la", "nla"
    body: Alt


@dataclass
class Quant:
    item: Node
    lo: int
    hi: int | None
    lazy: bool


Node = CharSet | Anchor | Seq | Alt | Group | Quant


class Rewriter:
    """Rebuilds a tree bottom-up; subclasses change character sets or whole sequences."""

    def alt(self, alt: Alt) -> Alt:
        return Alt([self.seq(b) for b in alt.branches])

    def seq(self, seq: Seq) -> Seq:
        return Seq(self.items([self.node(i) for i in seq.items]))

    def node(self, node: Node) -> Node:
        if isinstance(node, Alt):
            return self.alt(node)
        if isinstance(node, Seq):
            return self.seq(node)
        if isinstance(node, Group):
            return Group(node.kind, self.alt(node.body))
        if isinstance(node, Quant):
            return Quant(self.node(node.item), node.lo, node.hi, node.lazy)
        if isinstance(node, CharSet):
            return self.charset(node)
        return node

    def items(self, items: list[Node]) -> list[Node]:
        return items

    def charset(self, cs: CharSet) -> CharSet:
        return cs


class Parser:
    """Recursive-descent parser for the JavaScript (non-Unicode mode) regex subset in use."""

    def __init__(self, source: str, space: set[int]) -> None:
        self.s = source
        self.i = 0
        self.space = space

    def parse(self) -> Alt:
        alt = self.alt()
        if self.i != len(self.s):
            raise ValueError(f"trailing input at {self.i}: {self.s[self.i : self.i + 20]!r}")
        return alt

    def alt(self) -> Alt:
        branches = [self.seq()]
        while self.i < len(self.s) and self.s[self.i] == "|":
            self.i += 1
            branches.append(self.seq())
        return Alt(branches)

    def seq(self) -> Seq:
        seq = Seq()
        while self.i < len(self.s) and self.s[self.i] not in "|)":
            atom = self.atom()
            seq.items.append(self.quantified(atom))
        return seq

    def quantified(self, atom: Node) -> Node:
        s = self.s
        if self.i >= len(s):
            return atom
        c = s[self.i]
        lo: int
        hi: int | None
        if c == "*":
            lo, hi = 0, None
            self.i += 1
        elif c == "+":
            lo, hi = 1, None
            self.i += 1
        elif c == "?":
            lo, hi = 0, 1
            self.i += 1
        elif c == "{":
            end = s.find("}", self.i)
            body = s[self.i + 1 : end] if end > 0 else ""
            parts = body.split(",")
            if not body or len(parts) > 2 or not all(p.isdigit() for p in parts if p != ""):
                return atom  # a literal "{" in non-Unicode mode; handled by atom()
            lo = int(parts[0])
            hi = lo if len(parts) == 1 else (int(parts[1]) if parts[1] else None)
            self.i = end + 1
        else:
            return atom
        lazy = self.i < len(s) and s[self.i] == "?"
        if lazy:
            self.i += 1
        if isinstance(atom, Anchor) or (isinstance(atom, Group) and atom.kind in ("la", "nla")):
            raise ValueError("quantified assertion")
        return Quant(atom, lo, hi, lazy)

    def atom(self) -> Node:
        s = self.s
        c = s[self.i]
        if c == "(":
            kind = "cap"
            if s.startswith("(?:", self.i):
                kind, self.i = "nc", self.i + 3
            elif s.startswith("(?=", self.i):
                kind, self.i = "la", self.i + 3
            elif s.startswith("(?!", self.i):
                kind, self.i = "nla", self.i + 3
            else:
                self.i += 1
            body = self.alt()
            if self.s[self.i] != ")":
                raise ValueError("unbalanced group")
            self.i += 1
            return Group(kind, body)
        if c == "[":
            return self.char_class()
        if c in "^$":
            self.i += 1
            return Anchor(c)
        if c == ".":
            self.i += 1
            return CharSet({0x0A, 0x0D, 0x2028, 0x2029}, negated=True)
        if c == "\\":
            return self.escape(in_class=False)
        self.i += 1
        return CharSet(set(self.units(c)))

    @staticmethod
    def units(c: str) -> list[int]:
        cp = ord(c)
        if cp <= MAX_BMP:
            return [cp]
        raise ValueError("astral literal in pattern source")

    def escape(self, *, in_class: bool) -> CharSet:
        s = self.s
        self.i += 1
        c = s[self.i]
        self.i += 1
        if c == "u" and all(ch in "0123456789abcdefABCDEF" for ch in s[self.i : self.i + 4]):
            cp = int(s[self.i : self.i + 4], 16)
            self.i += 4
            return CharSet({cp})
        if c == "x" and all(ch in "0123456789abcdefABCDEF" for ch in s[self.i : self.i + 2]):
            cp = int(s[self.i : self.i + 2], 16)
            self.i += 2
            return CharSet({cp})
        simple = {"t": 9, "n": 10, "v": 11, "f": 12, "r": 13, "0": 0}
        if c in simple:
            return CharSet({simple[c]})
        digits = set(range(0x30, 0x3A))
        word = digits | set(range(0x41, 0x5B)) | set(range(0x61, 0x7B)) | {0x5F}
        classes = {"d": digits, "w": word, "s": self.space}
        if c in classes:
            return CharSet(set(classes[c]))
        if c in "DWS":
            return CharSet(set(classes[c.lower()]), negated=True)
        if c == "b" and in_class:
            return CharSet({8})
        if c.isalnum():
            raise ValueError(f"unsupported escape \\{c}")
        return CharSet({ord(c)})

    def char_class(self) -> CharSet:
        s = self.s
        self.i += 1
        negated = s[self.i] == "^"
        if negated:
            self.i += 1
        chars: set[int] = set()
        while s[self.i] != "]":
            first = self.class_atom()
            if s[self.i] == "-" and s[self.i + 1] != "]":
                self.i += 1
                last = self.class_atom()
                if first.negated or last.negated or len(first.chars) != 1 or len(last.chars) != 1:
                    raise ValueError("class escape used as a range bound")
                lo, hi = min(first.chars), min(last.chars)
                chars.update(range(lo, hi + 1))
            elif first.negated:
                chars.update(set(range(MAX_BMP + 1)) - first.chars)
            else:
                chars.update(first.chars)
        self.i += 1
        return CharSet(chars, negated)

    def class_atom(self) -> CharSet:
        c = self.s[self.i]
        if c == "\\":
            return self.escape(in_class=True)
        self.i += 1
        return CharSet(set(self.units(c)))


def all_in(chars: set[int], lo: int, hi: int) -> bool:
    return bool(chars) and all(lo <= c <= hi for c in chars)


class SurrogateMerger(Rewriter):
    """Turns ``high-set low-set`` pairs inside every sequence into astral character sets."""

    def items(self, items: list[Node]) -> list[Node]:
        out: list[Node] = []
        k = 0
        while k < len(items):
            a = items[k]
            b = items[k + 1] if k + 1 < len(items) else None
            if (
                isinstance(a, CharSet)
                and isinstance(b, CharSet)
                and not a.negated
                and not b.negated
                and all_in(a.chars, *HIGH)
                and all_in(b.chars, *LOW)
            ):
                astral = {
                    0x10000 + ((h - 0xD800) << 10) + (lo - 0xDC00)
                    for h in a.chars
                    for lo in b.chars
                }
                out.append(CharSet(astral))
                k += 2
                continue
            if (
                isinstance(a, CharSet)
                and not a.negated
                and any(0xD800 <= c <= 0xDFFF for c in a.chars)
            ):
                raise ValueError("unpaired surrogate atom; translation would not be exact")
            out.append(a)
            k += 1
        return out


class CaseFolder(Rewriter):
    """Expands the ``i`` flag for non-ASCII characters; ASCII letters are left to ``(?ai)``.

    Canonical groups never mix ASCII and non-ASCII characters (ECMAScript refuses to fold a
    non-ASCII character onto an ASCII one), so Python's ASCII-only ``IGNORECASE`` covers the
    ASCII groups exactly, and every non-ASCII set gains its whole group here.  ASCII letters are
    stored lower-cased so that equal sets compare equal.
    """

    def __init__(self, canon: dict[int, int], groups: dict[int, set[int]]) -> None:
        self.canon = canon
        self.groups = groups

    def charset(self, cs: CharSet) -> CharSet:
        closed: set[int] = set()
        for c in cs.chars:
            if c < 0x80:
                closed.add(ord(chr(c).lower()))
            elif c <= MAX_BMP:
                group = self.groups[self.canon.get(c, c)]
                if any(g < 0x80 for g in group):
                    raise ValueError("canonical group mixes ASCII and non-ASCII")
                closed |= group
            else:
                closed.add(c)
        return CharSet(closed, cs.negated)


def literal_branches(alt: Alt) -> list[tuple[frozenset[int], ...]] | None:
    """The branches of ``alt`` as strings of character sets, if every branch is such a string."""
    out = []
    for branch in alt.branches:
        sets = [i for i in branch.items if isinstance(i, CharSet) and not i.negated]
        if not sets or len(sets) != len(branch.items):
            return None
        out.append(tuple(frozenset(i.chars) for i in sets))
    return out


class Trie:
    """A prefix tree that remembers the order in which its options first appeared."""

    def __init__(self) -> None:
        self.options: list[frozenset[int] | None] = []  # None marks "a word ends here"
        self.children: dict[frozenset[int], Trie] = {}

    def add(self, word: tuple[frozenset[int], ...]) -> None:
        node = self
        for key in word:
            if key not in node.children:
                node.children[key] = Trie()
                node.options.append(key)
            node = node.children[key]
        if None not in node.options:
            node.options.append(None)

    def order(self, prefix: tuple[frozenset[int], ...] = ()) -> list[tuple[frozenset[int], ...]]:
        out = []
        for opt in self.options:
            if opt is None:
                out.append(prefix)
            else:
                out.extend(self.children[opt].order((*prefix, opt)))
        return out

    def emit(self) -> str:
        alts = [
            "" if opt is None else emit_set(CharSet(set(opt))) + self.children[opt].emit()
            for opt in self.options
        ]
        if len(alts) == 1:
            return alts[0]
        if alts[-1] == "":
            return "(?:" + "|".join(alts[:-1]) + ")?"
        return "(?:" + "|".join(alts) + ")"


def trie_alternation(alt: Alt) -> str | None:
    """Emit a long alternation of literal words (the TLD lists) as an equivalent prefix tree.

    A backtracking engine tries the words of ``a|b|...`` in list order; the tree tries them in
    its own order.  The two agree whenever, for every word that is a prefix of another, the tree
    keeps their list order, which is checked here (the reverse-sorted TLD lists always pass).
    """
    words = literal_branches(alt)
    if words is None or len(words) < 20:
        return None
    trie = Trie()
    for w in words:
        trie.add(w)
    first_index: dict[tuple[frozenset[int], ...], int] = {}
    for k, w in enumerate(words):
        first_index.setdefault(w, k)
    tree_rank = {w: k for k, w in enumerate(trie.order())}
    for a, a_index in first_index.items():
        for b, b_index in first_index.items():
            is_prefix = len(a) < len(b) and b[: len(a)] == a
            if is_prefix and (a_index < b_index) != (tree_rank[a] < tree_rank[b]):
                raise ValueError("prefix tree would change the alternation order")
    return "(?:" + trie.emit() + ")"


def ranges(chars: set[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for c in sorted(chars):
        if out and out[-1][1] == c - 1:
            out[-1] = (out[-1][0], c)
        else:
            out.append((c, c))
    return out


def esc(cp: int, *, in_class: bool = False) -> str:
    """One character of pattern source, kept short because ``re`` parses patterns in Python."""
    ch = chr(cp)
    special = "\\]^-[&~|\"'" if in_class else ".^$*+?{}[]\\|()\"'"
    if ch in special:
        return "\\" + ch
    if 0x21 <= cp <= 0x7E:
        return ch
    if cp > 0x7E and unicodedata.category(ch)[0] in "LNPS" and ch.isprintable():
        return ch
    if cp <= 0xFF:
        return f"\\x{cp:02x}"
    if cp <= MAX_BMP:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def emit_set(cs: CharSet) -> str:
    if not cs.negated and len(cs.chars) == 1:
        return esc(next(iter(cs.chars)))
    body = "".join(
        esc(lo, in_class=True)
        if lo == hi
        else esc(lo, in_class=True) + ("" if hi == lo + 1 else "-") + esc(hi, in_class=True)
        for lo, hi in ranges(cs.chars)
    )
    return "[" + ("^" if cs.negated else "") + body + "]"


def emit(node: Node) -> str:
    if isinstance(node, Alt):
        as_trie = trie_alternation(node)
        if as_trie is not None:
            return as_trie
        return "|".join(emit(b) for b in node.branches)
    if isinstance(node, Seq):
        return "".join(emit(i) for i in node.items)
    if isinstance(node, Group):
        prefix = {"cap": "(", "nc": "(?:", "la": "(?=", "nla": "(?!"}[node.kind]
        return prefix + emit(node.body) + ")"
    if isinstance(node, Quant):
        inner = emit(node.item)
        atomic = isinstance(node.item, (CharSet, Group))
        if not atomic:
            inner = "(?:" + inner + ")"
        if (node.lo, node.hi) == (0, None):
            q = "*"
        elif (node.lo, node.hi) == (1, None):
            q = "+"
        elif (node.lo, node.hi) == (0, 1):
            q = "?"
        elif node.hi is None:
            q = f"{{{node.lo},}}"
        elif node.lo == node.hi:
            q = f"{{{node.lo}}}"
        else:
            q = f"{{{node.lo},{node.hi}}}"
        return inner + q + ("?" if node.lazy else "")
    if isinstance(node, Anchor):
        return "^" if node.kind == "^" else r"\Z"
    if isinstance(node, CharSet):
        return emit_set(node)
    raise TypeError(node)


def first_chars(node: Node) -> tuple[set[int], bool]:
    """Characters a match can start with, and whether the node can match empty."""
    if isinstance(node, CharSet):
        if node.negated:
            raise ValueError("negated set at a match start")
        return set(node.chars), False
    if isinstance(node, Anchor):
        return set(), True
    if isinstance(node, Group):
        if node.kind in ("la", "nla"):
            return set(), True
        return first_chars(node.body)
    if isinstance(node, Quant):
        chars, nullable = first_chars(node.item)
        return chars, nullable or node.lo == 0
    if isinstance(node, Alt):
        acc: set[int] = set()
        any_null = False
        for b in node.branches:
            chars, nullable = first_chars(b)
            acc |= chars
            any_null = any_null or nullable
        return acc, any_null
    if isinstance(node, Seq):
        acc = set()
        for item in node.items:
            chars, nullable = first_chars(item)
            acc |= chars
            if not nullable:
                return acc, False
        return acc, True
    raise TypeError(node)


def first_set(node: Node) -> CharSet:
    """The first character set met in a depth-first walk."""
    if isinstance(node, CharSet):
        return node
    children: list[Node]
    if isinstance(node, Alt):
        children = list(node.branches)
    elif isinstance(node, Seq):
        children = node.items
    elif isinstance(node, Group):
        children = [node.body]
    elif isinstance(node, Quant):
        children = [node.item]
    else:
        children = []
    for child in children:
        try:
            return first_set(child)
        except LookupError:
            continue
    raise LookupError("no character set")


def emoji_start(tree: Alt) -> str:
    """A pattern matching at every position where an emoji match can begin.

    Digits, ``#`` and ``*`` start only keycaps (``1\\ufe0f?\\u20e3``); checking the keycap tail
    in a lookahead keeps ordinary digits from waking the emoji pattern.  The pattern starts with
    a single class so that ``re`` can scan for it quickly.  It may match where no emoji starts
    (the emoji pattern then simply fails there), never the other way round.
    """
    non_ascii: set[int] = set()
    ascii_starts: set[int] = set()
    for branch in tree.branches:
        chars, nullable = first_chars(branch)
        if nullable:
            raise ValueError("emoji branch can match empty")
        if all(c >= 0x80 for c in chars):
            non_ascii |= chars
            continue
        items = branch.items
        if not (
            len(items) == 3
            and isinstance(items[0], CharSet)
            and all(c < 0x80 for c in items[0].chars)
            and isinstance(items[1], Quant)
            and items[1].item == CharSet({0xFE0F})
            and (items[1].lo, items[1].hi) == (0, 1)
            and items[2] == CharSet({0x20E3})
        ):
            raise ValueError("an emoji branch starting with ASCII is not a keycap")
        ascii_starts |= items[0].chars
    # One leading class lets re skip quickly to candidates; the tail rejects an ASCII start
    # that is not followed by a keycap.
    ascii_class = emit_set(CharSet(ascii_starts))
    # Astral starts are widened to one range: re tests a character against each astral range
    # of a class in turn, so a class with a hundred of them is slow even on ASCII text.
    bmp = {c for c in non_ascii | ascii_starts if c <= MAX_BMP}
    astral = [c for c in non_ascii if c > MAX_BMP]
    widened = set(range(min(astral), max(astral) + 1)) if astral else set()
    return emit_set(CharSet(bmp | widened)) + f"(?:(?<!{ascii_class})|(?=\\ufe0f?\\u20e3))"


def translate(
    source: str, flags: str, space: set[int], canon: dict[int, int], groups: dict[int, set[int]]
) -> tuple[str, Alt]:
    tree = SurrogateMerger().alt(Parser(source, space).parse())
    if "i" in flags:
        tree = CaseFolder(canon, groups).alt(tree)
    # (?ai): ASCII-only case folding, which is what the JavaScript i flag does for ASCII.
    return ("(?ai)" if "i" in flags else "") + emit(tree), tree


def literal(name: str, value: str) -> str:
    """A Python assignment of raw-string chunks, split between escapes to fit the line length."""
    tokens = re.findall(r"\\U[0-9a-f]{8}|\\u[0-9a-f]{4}|\\x[0-9a-f]{2}|\\.|.", value, re.S)
    chunks: list[str] = []
    widths: list[int] = []
    for tok in tokens:
        # ruff measures display width: wide (CJK) characters count twice
        w = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in tok)
        if chunks and widths[-1] + w <= 86:
            chunks[-1] += tok
            widths[-1] += w
        else:
            chunks.append(tok)
            widths.append(w)
    if "".join(chunks) != value or any('"' in c.replace('\\"', "") for c in chunks):
        raise ValueError(f"cannot emit {name} as raw strings")
    if len(chunks) == 1:
        return f'{name} = r"{chunks[0]}"\n'
    body = "\n".join(f'    r"{c}"' for c in chunks)
    return f"{name} = (\n{body}\n)\n"


def main() -> int:
    proc = subprocess.run(
        ["node", "-e", NODE_DUMP, json.dumps([*WANTED, *TLD_PARTS])],
        cwd=JS_DIR,
        check=True,
        capture_output=True,
        text=True,
    )
    data = json.loads(proc.stdout)
    canon: dict[int, int] = dict(data["canon"])
    groups: dict[int, set[int]] = {}
    for u in range(MAX_BMP + 1):
        groups.setdefault(canon.get(u, u), set()).add(u)
    space = set(data["space"])

    parts = [
        '"""Regular expressions translated from npm twitter-text '
        f"{data['versions']['twitterText']} and twemoji-parser "
        f"{data['versions']['twemojiParser']}.\n\n"
        "Generated by ``tools/gen_twitter_patterns.py``; do not edit by hand.  The patterns are\n"
        "Python ``re`` sources over code points, compiled without flags (the JavaScript ``i`` flag\n"
        'is already expanded into explicit classes).\n"""\n\n',
    ]
    trees: dict[str, Alt] = {}
    for js_name, py_name in WANTED.items():
        spec = data["regexen"][js_name]
        source = spec["source"]
        if js_name in DROP_LEADING_CARET:
            if not source.startswith("^"):
                raise ValueError(js_name)
            source = source[1:]
        pattern, trees[js_name] = translate(source, spec["flags"], space, canon, groups)
        parts.append(f"# twitter-text regexen.{js_name} (flags {spec['flags']!r})\n")
        parts.append(literal(py_name, pattern) + "\n")

    label = first_set(trees["validAsciiDomain"])
    parts.append(
        "# validAsciiDomain's label characters plus the dot: a domain made only of these is its\n"
        "# own single ASCII domain, so the big pattern above need not run on it.\n"
    )
    dotted = CharSet(label.chars | {ord(".")})
    parts.append(literal("ASCII_DOMAIN_CHARS", "(?ai)" + emit_set(dotted) + "+") + "\n")

    emoji_pattern, emoji_tree = translate(
        data["emoji"]["source"], data["emoji"]["flags"], space, canon, groups
    )
    parts.append("# twemoji-parser's emoji regex (what parseTweet counts as one emoji)\n")
    parts.append(literal("EMOJI", emoji_pattern) + "\n")
    parts.append(
        "# Matches wherever an emoji can start (a superset); a cheap pre-filter, so that\n"
        "# the emoji pattern itself only runs at these positions.\n"
    )
    parts.append(literal("EMOJI_START", emoji_start(emoji_tree)) + "\n")

    # extractUrl folds case, so the TLD starts do too; both cases are spelled out because
    # this class is used without the (?ai) flag.
    tld_starts: set[int] = set()
    for js_name in TLD_PARTS:
        _, tree = translate(data["regexen"][js_name]["source"], "i", space, canon, groups)
        chars, nullable = first_chars(tree)
        if nullable:
            raise ValueError(f"{js_name} can match empty")
        tld_starts |= chars | {ord(chr(c).upper()) for c in chars if c < 0x80}
    parts.append("# Every character a TLD can start with (in any case).\n")
    parts.append(literal("TLD_START", emit_set(CharSet(tld_starts))) + "\n")

    spaces_group = Parser("[" + data["spacesGroup"] + "]", space).parse()
    parts.append("# twitter-text's spacesGroup: no URL can contain one of these characters.\n")
    parts.append(literal("SPACES", emit(spaces_group)))

    OUT.write_text("".join(parts), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "ruff", "format", "-q", str(OUT)], check=False)
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
