"""Texts built to make a text scan slow: the shapes behind the quadratic URL extraction issue
(dotted labels with no TLD after them, re-read from every label) and the other counters' worst
cases.  Shared by the tests and ``bench/adversarial_text.py``.
"""

from __future__ import annotations

from collections.abc import Callable

SIZE = 65_536  # "64 KB": characters (code points), what a volunteer can paste into a post


def repeat(unit: str, size: int) -> str:
    """``unit`` repeated and cut to ``size`` characters."""
    return (unit * (size // len(unit) + 1))[:size]


def _framed(head: str, unit: str, tail: str) -> Callable[[int], str]:
    return lambda size: head + repeat(unit, max(size - len(head) - len(tail), 0)) + tail


# name -> builder of a text of (about) the given size; the name says what it is made of.
SHAPES: dict[str, Callable[[int], str]] = {
    "a.": lambda size: repeat("a.", size),
    "a.a.a": lambda size: repeat("a.", size - 1) + "a",
    "ab.": lambda size: repeat("ab.", size),
    "www.": lambda size: repeat("www.", size),
    "a-b.": lambda size: repeat("a-b.", size),
    "a_b. then .com": _framed("", "a_b.", "com"),
    "é_ then .com": _framed("", "é_", ".com"),
    "中.": lambda size: repeat("中.", size),
    "ü.a.": lambda size: repeat("ü.a.", size),
    "http://a.a.a": _framed("http://", "a.", "a"),
    "http://": lambda size: repeat("http://", size),
    "xn--a.a.a": _framed("xn--", "a.", "a"),
    "xn--(60 a).": lambda size: repeat("xn--" + "a" * 60 + ".", size),
    "@a.a.a": _framed("@", "a.", "a"),
    "@": lambda size: repeat("@", size),
    "#": lambda size: repeat("#", size),
    "#a!!!b": _framed(" #a", "!", "b"),
    "$ABC ": lambda size: repeat("$ABC ", size),
    "a.co/(": _framed("https://a.co/", "(", ""),
    "a.co?!": _framed("a.co?", "!", ""),
    "family emoji": lambda size: repeat("👩\u200d👩\u200d👧\u200d👦", size),
    "ZWJ": lambda size: repeat("\u200d", size),
    "flag halves": lambda size: repeat("🇺", size),
}

# An ordinary campaign text of the same size, for ratios.
ORDINARY = (
    "Tell @SchoolBoard that art and music matter 🎨 Sign the petition: "
    "https://fundourschools.org/petition?id=42 #FundOurSchools $5 buys a book. "
)


def ordinary(size: int = SIZE) -> str:
    return repeat(ORDINARY, size)
