"""_hashtags_in's search for the campaign's hashtags against a frozen copy of it as it was (main
at 84a61e0: each text that holds a sign casefolded whole), over texts made to break the search
of the few characters after each sign: names of several lengths, signs at a text's end,
characters that casefold to more than one (ß, ẞ, ﬁ, İ) or to another (K, the Kelvin sign)."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from eduadvocate.compose.render import _follows_a_sign, _hashtags_in, hashtags


def _hashtags_in_frozen(parts: list[str], wanted: Sequence[str] | None) -> set[str]:
    signed = []
    for p in parts:
        if "#" in p or "\uff03" in p:
            signed.append(p)
    if not signed:
        return set()
    if wanted is not None:
        names = [tag[1:].casefold() for tag in wanted]
        for text in signed:
            folded = text.casefold()
            for name in names:
                if f"#{name}" in folded or f"\uff03{name}" in folded:
                    break
            else:
                continue
            break
        else:
            return set()
    return {e.value.casefold() for p in signed for e in hashtags(p)}


_FOLDING = ["s", "S", "ss", "ß", "ẞ", "fi", "ﬁ", "F", "i", "İ", "K", "\u212a", "k", "é", "学", "🎨"]
_name = st.lists(st.sampled_from(_FOLDING), min_size=1, max_size=5).map("".join)
_word = st.tuples(st.sampled_from(["#", "＃", "", "x#", "##", "#＃"]), _name).map("".join)
_text = st.lists(
    st.tuples(_word, st.sampled_from([" ", "\n", "", "#", "＃"])).map("".join), max_size=6
).map("".join)
_tags = st.lists(_name.map("#".__add__), max_size=3)


@settings(max_examples=600, deadline=None)
@given(st.lists(_text, max_size=3), _tags, st.booleans())
def test_the_hashtags_present_are_those_the_whole_casefolded_search_found(
    parts: list[str], wanted: list[str], capped: bool
) -> None:
    names = None if capped else wanted
    assert _hashtags_in(parts, names) == _hashtags_in_frozen(parts, names)


@settings(max_examples=600, deadline=None)
@given(st.lists(_text, min_size=1, max_size=3), _tags)
def test_a_name_follows_a_sign_where_the_text_casefolded_has_it(
    texts: list[str], wanted: list[str]
) -> None:
    names = [tag[1:].casefold() for tag in wanted]
    folded = [t.casefold() for t in texts]
    expected = any(f"#{n}" in f or f"\uff03{n}" in f for f in folded for n in names)
    assert _follows_a_sign(texts, names) is expected


def test_names_of_several_lengths_and_a_sign_at_the_end() -> None:
    # (each would be missed by a reach cut one short, or set by the shortest name)
    assert _follows_a_sign(["vote #FundOurSchools"], ["x", "fundourschools"])
    assert _follows_a_sign(["vote #STRASSE"], ["abcdefghij", "straße".casefold()])
    assert _follows_a_sign(["a ＃ẞ"], ["ss"])
    assert not _follows_a_sign(["ends with #"], ["fund"])
    assert not _follows_a_sign(["#Fund"], ["fundour"])
    assert not _follows_a_sign(["#Fund"], [])
