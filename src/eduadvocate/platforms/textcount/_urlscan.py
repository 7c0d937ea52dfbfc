"""twitter-text's URL scans (``extractUrl``, ``validAsciiDomain``) in time linear in the text.

The generated patterns in ``_twitter_patterns.py`` are exact but backtrack: their domain part,
``(?:label\\.)*label\\.tld``, first takes every dotted label it can, then gives them back one at a
time looking for a TLD, and a scan that fails starts again one character later.  On a run of
labels without a TLD after them (``a.a.a.…``) every start re-reads the rest of the run, which is
quadratic: 10 KB took minutes.  This module finds the same matches, leftmost and greedy, as
follows:

* every TLD is found once, by one scan for a dot followed by a TLD (the generated TLD pattern,
  lookahead included);
* a dot ends a *segment*, the text since the previous dot; whether a segment is a valid label is
  decided once, from the last character in it that no label may contain;
* the labels from a start form a chain (every segment valid and followed by a dot), and the
  greedy pattern settles on the *last* TLD its chain reaches; that TLD is remembered for every
  segment of the chain, so no chain is walked twice;
* the few rules that depend on where a domain starts (its first label may be the tail of a
  segment) are checked at the start, and starts that cannot succeed are skipped a segment at a
  time;
* the port, path and query after a domain are matched by the generated pattern's own tail, once
  per URL found; every part of it is optional, so nothing backtracks into the domain, and the
  scan resumes where the URL ends, as ``finditer`` does.

The pieces (character classes, the TLD alternation, the tail) are cut out of the generated
patterns, and their structure is checked when first used, so a regenerated
``_twitter_patterns.py`` cannot silently disagree with this scan; ``tests/platforms/
test_url_scan.py`` compares the two match for match.  Everything here works on UTF-16 code
units, like the rest of the URL extraction.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from eduadvocate.platforms.textcount import _twitter_patterns as _p

__all__ = ["UrlMatch", "ascii_domains", "url_matches"]


class UrlMatch(NamedTuple):
    """One ``extractUrl`` match: its groups 2 (before), 3 (url), 4 (protocol), 5 (domain) and
    7 (path, "" when absent), with the URL's start and end."""

    before: str
    url: str
    protocol: str | None
    domain: str
    path: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Pieces:
    """The patterns the scan uses, compiled from pieces of the generated ones."""

    dot_tld: re.Pattern[str]  # "." and the TLD after it (lookahead included)
    tail: re.Pattern[str]  # port, path, query: groups 1, 2, 3
    query: re.Pattern[str]  # the tail's last group: "?" and the query
    preceding: re.Pattern[str]  # a character that may precede a URL
    candidate: re.Pattern[str]  # one that may precede a URL, before a domain character
    protocol: re.Pattern[str]
    url_last_bad: re.Pattern[str]  # up to the last character no URL label may hold
    ascii_start: re.Pattern[str]  # a validAsciiDomain label character
    ascii_last_bad: re.Pattern[str]  # up to the last character no such label may hold


def _skip_class(src: str, i: int) -> int:
    """Index just past the character class opening at ``src[i]``."""
    i += 1
    if src[i] == "^":
        i += 1
    if src[i] == "]":
        i += 1
    while src[i] != "]":
        i += 2 if src[i] == "\\" else 1
    return i + 1


def _group_end(src: str, i: int) -> int:
    """Index just past the group opening at ``src[i]`` (escapes and classes skipped)."""
    depth = 0
    while i < len(src):
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i = _skip_class(src, i)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced group")


def _class_at(src: str, i: int) -> str:
    if src[i] != "[":
        raise ValueError(f"expected a character class at {i}")
    return src[i : _skip_class(src, i)]


def _negated(cls: str) -> str:
    """The class matching exactly what ``cls`` does not (under the patterns' ``(?ai)``)."""
    return "[" + cls[2:] if cls.startswith("[^") else "[^" + cls[1:]


def _structure_error(name: str) -> ValueError:
    return ValueError(
        f"_twitter_patterns.{name} no longer has the structure _urlscan.py relies on; "
        "update the scan together with the patterns"
    )


@cache
def _pieces() -> _Pieces:
    src = _p.EXTRACT_URL
    head = "(?ai)(((?:"
    if not src.startswith(head):
        raise _structure_error("EXTRACT_URL")
    before = _class_at(src, len(head))
    i = len(head) + len(before) + 1
    markers = _class_at(src, i)
    i += len(markers) + len("|^))((https?://)?((?:(?:(?:")
    x = _class_at(src, i)
    domain = (
        f"(?ai)(((?:{before}|{markers}|^))((https?://)?((?:(?:(?:{x}(?:[\\-_]|{x})*)?{x}\\.)*"
        f"(?:(?:{x}(?:-|{x})*)?{x}\\.)"
    )
    if not src.startswith(domain):
        raise _structure_error("EXTRACT_URL")
    tld_end = _group_end(src, len(domain))
    tld = src[len(domain) : tld_end]
    # "))" closes validDomain and the domain group; the pattern ends by closing the url and
    # whole-match groups.
    if not src.startswith("))(?::(", tld_end) or not src.endswith("))"):
        raise _structure_error("EXTRACT_URL")
    tail = src[tld_end + 2 : -2]
    # The tail ends with the query, an optional group: "(\\?[chars]*[ending])?".
    query = re.search(r"\((\\\?\[[^\]]*(?:\\\][^\]]*)*\]\*\[[^\]]*\])\)\?$", tail)
    if query is None:
        raise _structure_error("EXTRACT_URL")

    ascii_src = _p.VALID_ASCII_DOMAIN
    ascii_head = "(?ai)(?:(?:"
    ascii_label = _class_at(ascii_src, len(ascii_head))
    if ascii_src != f"{ascii_head}{ascii_label}+)\\.)+{tld}":
        raise _structure_error("VALID_ASCII_DOMAIN")

    preceding = f"(?:{before}|{markers})"
    return _Pieces(
        dot_tld=re.compile("(?ai)\\." + tld),
        tail=re.compile("(?ai)" + tail),
        query=re.compile("(?ai)" + query.group(1)),
        preceding=re.compile("(?ai)" + preceding),
        candidate=re.compile(f"(?ai){preceding}(?={x})"),
        protocol=re.compile("(?ai)https?://"),
        url_last_bad=re.compile(f"(?ai)(?s:.*)(?![\\-_]){_negated(x)}"),
        ascii_start=re.compile("(?ai)" + ascii_label),
        ascii_last_bad=re.compile(f"(?ai)(?s:.*){_negated(ascii_label)}"),
    )


_DOT = re.compile(r"\.")


class _Chains:
    """The dotted labels of one text and the domains they end in (see the module docstring).

    ``strict`` selects extractUrl's labels (no ``-``/``_`` at either end, and no ``_`` in the
    label before the TLD) over validAsciiDomain's (any run of its label characters).
    """

    def __init__(self, text: str, tlds: dict[int, int], last_bad: re.Pattern[str], *, strict: bool):
        self.text = text
        self.tlds = tlds  # position just after a dot -> end of the TLD that starts there
        self.dots = [m.start() for m in _DOT.finditer(text)]
        self.last_bad = last_bad
        self.strict = strict
        self._segments: dict[int, tuple[int, int, bool]] = {}
        self._last_tld: dict[int, int] = {}

    def _segment(self, i: int) -> tuple[int, int, bool]:
        """For the segment ending at dot ``i``: its last non-label character (or the position
        before it), its last ``_``, and whether its last character may end a label."""
        seg = self._segments.get(i)
        if seg is None:
            end = self.dots[i]
            begin = self.dots[i - 1] + 1 if i else 0
            bad = self.last_bad.match(self.text, begin, end)
            last_bad = bad.end() - 1 if bad else begin - 1
            last_underscore = self.text.rfind("_", begin, end) if self.strict else -1
            ends_well = end > begin and not (self.strict and self.text[end - 1] in "-_")
            seg = self._segments[i] = (last_bad, last_underscore, ends_well)
        return seg

    def _label(self, i: int, start: int, *, last: bool) -> bool:
        """Whether text[start:dot i] is a label (``last``: the one just before the TLD)."""
        last_bad, last_underscore, ends_well = self._segment(i)
        if start > self.dots[i] - 1 or start <= last_bad or not ends_well:
            return False
        if self.strict:
            return self.text[start] not in "-_" and not (last and start <= last_underscore)
        return True

    def _whole(self, i: int, *, last: bool) -> bool:
        return self._label(i, self.dots[i - 1] + 1 if i else 0, last=last)

    def _last_tld_from(self, i: int) -> int:
        """The last dot (index) of the chain that starts with the whole segment ``i`` whose TLD
        can end a domain, or -1.  Remembered for every segment walked."""
        known = self._last_tld
        if i in known:
            return known[i]
        walked = []
        found = -1
        j = i
        while j < len(self.dots) and self._whole(j, last=False):
            if j in known:
                found = known[j]
                break
            walked.append(j)
            j += 1
        for j in reversed(walked):
            if found < 0 and self.dots[j] + 1 in self.tlds and self._whole(j, last=True):
                found = j
            known[j] = found
        if not walked:
            known[i] = -1
        return known[i]

    def domain_end(self, start: int) -> tuple[int, int]:
        """(end of the domain that starts at ``start``, -1) when there is one; otherwise
        (-1, the first later start in this text that might have one)."""
        dots = self.dots
        i = bisect_left(dots, start)
        if i == len(dots):
            return -1, len(self.text) + 1  # no dot after it: no domain here or later
        dot = dots[i]
        last_bad, last_underscore, ends_well = self._segment(i)
        later = self._last_tld_from(i + 1) if i + 1 < len(dots) else -1
        if self._label(i, start, last=False):
            if later >= 0:
                return self.tlds[dots[later] + 1], -1
            if dot + 1 in self.tlds and self._label(i, start, last=True):
                return self.tlds[dot + 1], -1
        # Every start up to these positions in the same segment fails the same way.
        if not ends_well or (later < 0 and dot + 1 not in self.tlds):
            return -1, dot + 1
        if later >= 0:
            return -1, max(start + 1, last_bad + 1)
        return -1, max(start + 1, last_bad + 1, last_underscore + 1)


def query_pattern() -> re.Pattern[str]:
    """A URL's query as the generated pattern's tail ends it (``?``, query characters, one that
    may end a query), to match the whole of what follows a URL."""
    return _pieces().query


def protocol_pattern() -> re.Pattern[str]:
    """The protocol a URL match may start with (``http://``, ``https://``, any case)."""
    return _pieces().protocol


def url_matches(text: str) -> list[UrlMatch]:
    """What ``re.finditer(EXTRACT_URL, text)`` finds, in one linear pass."""
    pieces = _pieces()
    tlds = {m.start() + 1: m.end() for m in pieces.dot_tld.finditer(text)}
    if not tlds:
        return []  # every domain ends in a TLD after a dot
    chains = _Chains(text, tlds, pieces.url_last_bad, strict=True)
    found: list[UrlMatch] = []
    next_protocol = -1

    def url_at(start: int, before: str) -> tuple[UrlMatch | None, int]:
        protocol = pieces.protocol.match(text, start)
        if protocol:
            end, _ = chains.domain_end(protocol.end())
            # Without the protocol the pattern would need "http:" to be a label: it is not.
            if end < 0:
                return None, start + 1
            domain_start = protocol.end()
        else:
            end, later = chains.domain_end(start)
            if end < 0:
                return None, later
            domain_start = start
        tail = pieces.tail.match(text, end)
        assert tail is not None  # every part of the tail is optional
        match = UrlMatch(
            before,
            text[start : tail.end()],
            protocol.group() if protocol else None,
            text[domain_start:end],
            tail.group(2) or "",
            start,
            tail.end(),
        )
        return match, -1

    pos = 0
    if text:
        # At the start "^" is the last alternative for the preceding character.
        match = None
        if pieces.preceding.match(text):
            match, _ = url_at(1, text[0])
        if match is None:
            match, _ = url_at(0, "")
        if match is not None:
            found.append(match)
        pos = match.end if match is not None else 1
    while (candidate := pieces.candidate.search(text, pos)) is not None:
        at = candidate.start()
        match, later = url_at(at + 1, text[at])
        if match is not None:
            found.append(match)
            pos = match.end
            continue
        # Skip the starts that cannot succeed, but never past a protocol.
        if next_protocol <= at + 1:
            after = pieces.protocol.search(text, at + 2)
            next_protocol = after.start() if after else len(text) + 1
        pos = max(at + 1, min(later, next_protocol) - 1)
    return found


def ascii_domains(domain: str) -> list[tuple[int, str]]:
    """What ``re.finditer(VALID_ASCII_DOMAIN, domain)`` finds: (start, text) of each match."""
    pieces = _pieces()
    tlds = {m.start() + 1: m.end() for m in pieces.dot_tld.finditer(domain)}
    if not tlds:
        return []
    chains = _Chains(domain, tlds, pieces.ascii_last_bad, strict=False)
    found: list[tuple[int, str]] = []
    pos = 0
    while (label := pieces.ascii_start.search(domain, pos)) is not None:
        start = label.start()
        end, later = chains.domain_end(start)
        if end >= 0:
            found.append((start, domain[start:end]))
            pos = end
        else:
            pos = later
    return found
