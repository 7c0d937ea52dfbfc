"""The posts file ``reply`` writes says exactly what was asked: any text (and address) written
with :func:`yaml_string` reads back through the project's safe YAML reader unchanged, line
breaks, quotes, backslashes, YAML's own line breaks (NEL, U+2028, U+2029), a BOM and emoji
included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from eduadvocate.core.yamlfile import parse_yaml
from eduadvocate.delivery.reply import yaml_string

TRICKY = st.sampled_from(['"', "\\", "\n", "\r\n", "\t", "\x85", "\u2028", "\u2029", "\ufeff",
                          "\x00", "\x7f", "#", ": ", "- ", "'", "{", "[", "&a", "*a", "😀", "é"])  # fmt: skip
TEXT = st.lists(st.one_of(TRICKY, st.text(st.characters(exclude_categories=["Cs"]))), max_size=20)


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_a_text_reads_back_as_written(pieces: list[str]) -> None:
    text = "".join(pieces)
    node = parse_yaml(f"text: {yaml_string(text)}\n", "reply.yaml")
    assert node is not None and node.items["text"].value == text
