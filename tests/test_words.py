"""Counting in words (core/words.py): "1 post", "2 posts", "1 delivery", never "1 deliveries" or
"post(s)". The scan closes the class: a message that counts by hand is refused, named by file
and line, so the next one goes through ``plural`` too."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from eduadvocate.core.words import plural, plural_of
from tests.conftest import REPO

NOUNS = ["post", "delivery", "outbox delivery", "more error", "file", "claim", "day", "reply"]


@given(st.integers(min_value=0, max_value=10**7), st.sampled_from(NOUNS), st.booleans())
def test_plural_is_singular_for_exactly_one(n: int, noun: str, thousands: bool) -> None:
    said = plural(n, noun, thousands=thousands)
    number, _, words = said.partition(" ")
    assert int(number.replace(",", "")) == n
    assert ("," in number) == (thousands and n >= 1000)
    assert words == (noun if n == 1 else plural_of(noun))
    assert "(s)" not in said


def test_irregular_nouns() -> None:
    assert plural(1, "delivery") == "1 delivery"
    assert plural(3, "delivery") == "3 deliveries"
    assert plural(2, "outbox delivery") == "2 outbox deliveries"
    assert plural(0, "post") == "0 posts"
    assert plural(2, "person", "people") == "2 people"


# `{n} post{'s' if n != 1 else ''}`, `{'' if n == 1 else 's'}`, `claim(s)`, `deliver(ies)`.
HAND_MADE = re.compile(
    r"""['"](?:s|ies)['"] if [^}]*!= ?1"""
    r"""|['"]['"] if [^}]*== ?1 else ['"](?:s|ies)['"]"""
    r"""|[a-z]{3,}\((?:s|es|ies)\)(?!\s*for\b)"""
)


def test_no_message_counts_by_hand() -> None:
    found = []
    for path in sorted((REPO / "src" / "eduadvocate").rglob("*.py")):
        if path.name == "words.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "http(s)" in line:
                continue
            if HAND_MADE.search(line):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not found, "count with core.words.plural instead:\n" + "\n".join(found)
