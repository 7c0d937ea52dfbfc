"""Every command's JSON (cli/plain.py ``print_json``) is exactly the text of
``json.dumps(data, indent=2, ensure_ascii=False)``, though it is made with the C encoder's help
(one call per container of scalars): for any nesting of dicts, lists and tuples, any scalar
(unicode, escapes, NaN, enums), empty containers and keys of every kind; and where json.dumps
refuses (a key or value of another type, a cycle), with its error."""

from __future__ import annotations

import enum
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduadvocate.cli.plain import dumps


class Level(enum.IntEnum):
    LOW = 1


class Kind(enum.StrEnum):
    LINK = "link"


def old(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


# Strings made to break it: newlines, quotes, backslashes, control characters, the line and
# paragraph separators JSON leaves raw, brackets and separators as the output writes them.
texts = st.text(
    st.sampled_from(
        ["\n", '"', "\\", "\x00", "\x1f", "\u2028", "é", "😀", "{", "}", ",", ":", " ", "["]
    )
    | st.characters(),
    max_size=12,
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | texts
    | st.sampled_from([Level.LOW, Kind.LINK])
)
keys = texts | st.integers() | st.floats() | st.booleans() | st.none()
data = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(keys, inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data)
def test_the_text_is_json_dumps_with_an_indent_of_two(value: Any) -> None:
    assert dumps(value) == old(value)


class Odd:
    pass


def cycle() -> Any:
    loop: list[Any] = [1]
    loop.append({"back": loop})
    return {"a": loop}


@pytest.mark.parametrize(
    "value",
    [
        {"a": {(1, 2): 3}},
        {(1, 2): 3},
        {"a": [{"b": {(1,): 2}}]},
        {"a": [1, Odd()]},
        {"a": {"b": [Odd()]}},
        Odd(),
        cycle(),
    ],
    ids=["nested tuple key", "flat tuple key", "deep key", "value", "deep value", "top", "cycle"],
)
def test_what_json_dumps_refuses_is_refused_with_its_error(value: Any) -> None:
    with pytest.raises((TypeError, ValueError)) as expected:
        old(value)
    with pytest.raises(type(expected.value), match=f"^{expected.value}$".replace("(", r"\(")):
        dumps(value)
