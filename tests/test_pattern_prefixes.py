"""Patterns rewritten to open with one character class (so that ``re`` skips to a candidate in
C instead of trying the whole pattern at each character: CPython's ``_get_charset_prefix``)
find what the patterns they replaced found, at the same places."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eduadvocate.compose import render
from eduadvocate.platforms.textcount import unicode

CHARS = "@#\uff03.. \t\r\n\x0b\x0c\x1c\x85\xa0\u2028\u3000a1é👩\u200d"


@pytest.mark.parametrize(
    ("new", "old"),
    [
        (unicode._FACET_SIGN, re.compile("[@#\uff03]|\\.(?=[^ \t\r\n])")),
        (render._WORD_GAP, re.compile(r"\s+")),
    ],
    ids=["bluesky facet signs", "word gaps"],
)
@settings(max_examples=2000)
@given(text=st.text(alphabet=CHARS, max_size=24))
def test_a_pattern_opening_with_a_class_finds_what_the_old_one_found(
    new: re.Pattern[str], old: re.Pattern[str], text: str
) -> None:
    assert [m.span() for m in new.finditer(text)] == [m.span() for m in old.finditer(text)]
    for start in range(len(text) + 1):
        found, was = new.search(text, start), old.search(text, start)
        assert (found and found.span()) == (was and was.span())
