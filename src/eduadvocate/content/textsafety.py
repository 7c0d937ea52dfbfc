"""Characters that make a post read differently from what it is: bidirectional controls that
reorder the text around them, invisible characters, and handles, hashtags or web addresses that
mix look-alike scripts (a Latin word with a Cyrillic letter: ``#FundОurSchools``).

All of these have honest uses, so they are warnings. Scripts are read from the ``regex`` module's
Unicode tables (Script_Extensions), which the project already depends on and which follow current
Unicode. We looked at confusable-homoglyphs, the maintained confusables package: it parses a
900 KB JSON table on import, ships no type information and freezes its Unicode data at release;
a mixed-script check needs only the script of each letter, which ``regex`` answers.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from urllib.parse import urlsplit

import regex

from eduadvocate.core.suggest import shown

# Embeddings, overrides and isolates (the "Trojan Source" characters): never needed in a post.
_BIDI_CHARS = "\u202a-\u202e\u2066-\u2069"
# Marks that only set direction: fine in Arabic or Hebrew prose, never inside a handle or a tag.
_DIRECTION_MARKS = "\u200e\u200f\u061c"
# Invisible characters with no use in a post: zero-width space, word joiner and invisible
# operators, a byte-order mark inside text, soft hyphen, Mongolian vowel separator, Hangul
# fillers (a favourite for blank-looking names), combining grapheme joiner.
_INVISIBLE_CHARS = "\u200b\u2060-\u2064\ufeff\u00ad\u180e\u115f\u1160\u3164\uffa0\u034f"
_BIDI = re.compile(f"[{_BIDI_CHARS}]")
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
# Zero-width (non-)joiners are part of emoji and of Indic and Persian words, never of a word in
# these scripts.
_JOINERS = "\u200c\u200d"
_STRAY_JOINER = regex.compile(
    r"(?<=[\p{Latin}\p{Greek}\p{Cyrillic}0-9])[\u200c\u200d](?=[\p{Latin}\p{Greek}\p{Cyrillic}0-9])"
)
# Handles, hashtags and web addresses in a text (the same ones the platforms link).
_HANDLE_OR_TAG = regex.compile(r"(?<![\w@＠#＃])[@＠#＃][^\s]+")
_ADDRESS = regex.compile(r"(?i)(?<![\w@.])(?:https?://|www\.)[^\s]+")
_WORD_MAX = 280  # longer than any handle or tag: only its start is judged

# Scripts a letter is looked up in; a letter in none of them counts as one "other" script.
_SCRIPTS = (
    *("Latin", "Greek", "Cyrillic", "Armenian", "Georgian", "Cherokee", "Coptic"),
    *("Hebrew", "Arabic", "Syriac", "Thaana", "Nko", "Tifinagh", "Ethiopic"),
    *("Devanagari", "Bengali", "Gurmukhi", "Gujarati", "Oriya", "Tamil", "Telugu"),
    *("Kannada", "Malayalam", "Sinhala", "Thai", "Lao", "Tibetan", "Myanmar", "Khmer"),
    *("Mongolian", "Hangul", "Hiragana", "Katakana", "Bopomofo", "Han", "Yi"),
    *("Canadian_Aboriginal", "Ogham", "Runic", "Javanese", "Balinese", "Vai", "Adlam"),
)
_SCRIPT_RES = tuple((name, regex.compile(rf"\p{{scx={name}}}")) for name in _SCRIPTS)
_LETTER = regex.compile(r"\p{L}")
# UTS #39 "highly restrictive": Latin may mix with the scripts written together with it in
# Japanese, Chinese and Korean; "moderately restrictive": with any one other script but the two
# whose letters look most like Latin ones.
_CJK_MIXES = (
    frozenset({"Latin", "Han", "Hiragana", "Katakana"}),
    frozenset({"Latin", "Han", "Bopomofo"}),
    frozenset({"Latin", "Han", "Hangul"}),
)
_LOOK_ALIKE = frozenset({"Greek", "Cyrillic"})


@functools.lru_cache(maxsize=4096)
def _scripts(ch: str) -> frozenset[str] | None:
    """The scripts a letter is written in (several for some); None for anything but a letter."""
    if not _LETTER.match(ch):
        return None
    found = frozenset(name for name, rx in _SCRIPT_RES if rx.match(ch))
    return found or frozenset({"other"})


def mixed_scripts(word: str) -> list[str]:
    """The scripts a handle, hashtag or domain label mixes in a way that can deceive (UTS #39
    mixed-script detection over its letters); empty when it is fine."""
    sets = [s for ch in word if (s := _scripts(ch)) is not None]
    if not sets or frozenset.intersection(*sets):
        return []
    if any(all(s & mix for s in sets) for mix in _CJK_MIXES):
        return []
    others = frozenset().union(*sets) - {"Latin"} - _LOOK_ALIKE
    if any(all(s & {"Latin", other} for s in sets) for other in others):
        return []
    return sorted({min(s) for s in sets})


def _code_points(chars: list[str]) -> str:
    return ", ".join(
        f"U+{ord(c):04X} {unicodedata.name(c, '').title()}".strip() for c in dict.fromkeys(chars)
    )


@functools.lru_cache(maxsize=1024)  # every account of a platform gets the same text
def text_warnings(text: str) -> tuple[tuple[str, str], ...]:
    """(code, message) for each kind of deceptive character in a text as published."""
    return _warnings(text)


def word_warns(word: str) -> bool:
    """Whether ``text_warnings(word)`` finds anything, without remembering ``word``.

    Every rule here is local to the words of a text split at its spaces (U+0020) and line
    breaks (U+000A), so a text has a warning only if one of its words has one on its own: a
    bidirectional control or an invisible character is one character; a stray joiner needs a
    letter or digit on each side, which neither is; and a handle, tag or address holds neither
    (``[^\\s]``), and its look-behind sees one before a word as it sees the start of a text
    (neither is a word character, a sign nor a dot). ``check`` judges each distinct word of a campaign once
    with it, and reads a part's warnings (their order and wording) from ``text_warnings`` only
    where a word of the part has one. tests/test_check_rules_fast.py holds the two together."""
    return bool(_warnings(word))


def _warnings(text: str) -> tuple[tuple[str, str], ...]:
    if text.isascii():  # every character and script looked for here is beyond ASCII
        return ()
    out: list[tuple[str, str]] = []
    suspect = _SUSPECT.findall(text)
    if suspect:
        _characters(text, suspect, out)
    for word in dict.fromkeys(identifiers(text) if _beyond_ascii_identifier(text) else ()):
        problem = identifier_warning(word)
        if problem:
            out.append(("mixed-script", problem))
    return tuple(out)


# Every character the three character rules look for: one scan finds them all, in order.
_SUSPECT = re.compile(f"[{_BIDI_CHARS}{_INVISIBLE_CHARS}{_JOINERS}]")


# Where a handle, tag or address starts: its sign, "://" (a scheme ends 5 characters or less before
# it, however its letters are cased: "httpſ" too) or "www." (no letter beyond ASCII folds to w),
# each found with ``re`` in C (one pattern each: alternatives made the scan 3 times slower), and
# the run of characters from there to the next ASCII space: no identifier goes on past one.
_IDENTIFIER_STARTS = (
    (re.compile(r"[@＠#＃]"), 0),
    (re.compile("://"), 5),
    (re.compile(r"[wW][wW][wW]\."), 0),
)
_TO_ASCII_SPACE = re.compile(r"[^ \t\n\r\f\v]*")


def _beyond_ascii_identifier(text: str) -> bool:
    """Whether a handle, tag or address in ``text`` may hold a character beyond ASCII (False:
    each one ``identifiers`` finds is ASCII, which ``identifier_warning`` passes). Scans in C,
    where ``identifiers`` makes two with ``regex``'s slower ones."""
    for pattern, back in _IDENTIFIER_STARTS:
        end = 0
        for start in pattern.finditer(text):
            at = start.start()
            if at < end:
                continue  # in a run already looked at
            run = _TO_ASCII_SPACE.match(text, at)
            end = run.end() if run else at + 1
            if not text[max(0, at - back) : end].isascii():
                return True
    return False


def _characters(text: str, suspect: list[str], out: list[tuple[str, str]]) -> None:
    """The bidirectional controls and invisible characters of ``text``, as warnings, from its
    ``suspect`` characters in order (the two kinds sorted out of one scan's finds)."""
    bidi = [c for c in suspect if _BIDI.match(c)]
    if bidi:
        out.append(
            (
                "bidi-control",
                f"the text has a bidirectional control character ({_code_points(bidi)}) that can"
                " make it display differently from what it says",
            )
        )
    invisible = [c for c in suspect if _INVISIBLE.match(c)]
    if any(c in _JOINERS for c in suspect):  # (the joiners' scan, with ``regex``, costs more)
        invisible += _STRAY_JOINER.findall(text)
    if invisible:
        out.append(
            (
                "invisible-character",
                f"the text has an invisible character ({_code_points(invisible)})",
            )
        )


def identifiers(text: str) -> list[str]:
    """The handles, hashtags and web addresses in a text, without trailing punctuation."""
    found = [m.group(0)[:_WORD_MAX] for m in _HANDLE_OR_TAG.finditer(text)]
    found += [m.group(0)[:_WORD_MAX] for m in _ADDRESS.finditer(text)]
    return [_without_trailing_punctuation(word) for word in found]


def _without_trailing_punctuation(word: str) -> str:
    end = len(word)
    while end > 1 and unicodedata.category(word[end - 1])[0] in "PS":
        end -= 1
    return word[:end]


def identifier_warning(word: str) -> str | None:
    """Why a handle, hashtag or web address may deceive (mixed scripts, direction marks or
    invisible characters inside it), or None."""
    if word.isascii():
        return None
    hidden = [c for c in word if c in _DIRECTION_MARKS] + _INVISIBLE.findall(word)
    if hidden:
        return f'"{shown(word, 80)}" has an invisible character in it ({_code_points(hidden)})'
    for part in _parts(word):
        scripts = mixed_scripts(part)
        if scripts:
            return (
                f'"{shown(word, 80)}" mixes letters of {" and ".join(scripts)}: it may be a look-alike of'
                " another name"
            )
    return None


def _parts(word: str) -> list[str]:
    """A web address's host labels (decoded from punycode), a handle's user and server labels,
    or the hashtag itself: each is judged on its own, as a browser judges domain labels."""
    body = word.lstrip("@＠#＃")
    if "://" in word or word.lower().startswith("www."):
        try:
            host = urlsplit(word if "://" in word else "http://" + word).hostname or ""
        except ValueError:
            host = ""
        return [_label(label) for label in host.split(".")]
    if "@" in body:
        user, _, server = body.partition("@")
        return [user, *(_label(label) for label in server.split("."))]
    return [body]


def _label(label: str) -> str:
    if label.startswith("xn--"):
        try:
            return label.encode("ascii").decode("idna")
        except UnicodeError:
            return label
    return label
