"""The YAML reader keeps locations and source text, and refuses hostile or broken files by line."""

from __future__ import annotations

import contextlib
import gc
from pathlib import Path

import pytest

from eduadvocate.core import yamlfile
from eduadvocate.core.yamlfile import YamlFileError, parse_yaml, read_yaml


def test_locations_are_one_based_lines_of_each_value() -> None:
    node = parse_yaml("a: 1\nposts:\n  - id: x\n    text: hi\n", "f.yaml")
    assert node is not None
    post = node.items["posts"].seq[0]
    assert post.loc.line == 3
    assert post.items["text"].loc.line == 4
    assert post.key_locs["text"].line == 4
    assert str(post.items["text"].loc) == "f.yaml:4"


@pytest.mark.parametrize(
    ("source", "raw", "value"),
    [
        ("18:00", "18:00", "18:00"),  # YAML 1.1 would make this the integer 1080
        ("no", "no", False),
        ("2026-12-03 18:00:00", "2026-12-03 18:00:00", "2026-12-03 18:00:00"),  # not a datetime
        ("0012", "0012", "0012"),
        ("42", "42", 42),
        ("'42'", "42", "42"),
    ],
)
def test_scalars_keep_their_source_text(source: str, raw: str, value: object) -> None:
    node = parse_yaml(f"v: {source}\n", "f.yaml")
    assert node is not None
    item = node.items["v"]
    assert item.text() == raw
    assert item.value == value


def test_unquoted_hash_is_a_comment_so_the_item_is_null() -> None:
    node = parse_yaml("hashtags:\n  - #Fund\n", "f.yaml")
    assert node is not None
    assert node.items["hashtags"].seq[0].is_null


def test_unquoted_hash_in_flow_list_gets_a_hashtag_hint() -> None:
    with pytest.raises(YamlFileError) as info:
        parse_yaml("hashtags: [#Fund]\n", "f.yaml")
    assert info.value.location.line == 1
    assert "an unquoted # starts a comment" in info.value.hint


def test_broken_yaml_names_the_line() -> None:
    with pytest.raises(YamlFileError) as info:
        parse_yaml("posts:\n  - id: a\n   text: bad indent\n", "p.yaml")
    assert info.value.location.file == "p.yaml"
    assert info.value.location.line == 3
    assert info.value.message.startswith("invalid YAML: ")


def test_duplicate_keys_are_refused_with_both_lines() -> None:
    with pytest.raises(YamlFileError) as info:
        parse_yaml("id: a\ntext: one\ntext: two\n", "p.yaml")
    assert info.value.code == "duplicate-key"
    assert info.value.location.line == 3
    assert "first on line 2" in info.value.message


def test_alias_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev = "a" if i == 1 else f"l{i - 1}"
        lines.append(
            f"l{i}: &l{i} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]"
        )
    with pytest.raises(YamlFileError) as info:
        parse_yaml("\n".join(lines) + "\n", "bomb.yaml")
    assert info.value.code == "alias-bomb"


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(YamlFileError) as info:
        parse_yaml("a: &a [*a]\n", "r.yaml")
    assert info.value.code == "alias-bomb"


def test_merge_keys_work_and_explicit_keys_win() -> None:
    node = parse_yaml("base: &b {text: hi, split: never}\npost:\n  <<: *b\n  text: own\n", "m.yaml")
    assert node is not None
    post = node.items["post"]
    assert post.items["text"].raw == "own"
    assert post.items["split"].raw == "never"


def test_invalid_utf8_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"id: a\ntext: caf\xe9\n")
    with pytest.raises(YamlFileError) as info:
        read_yaml(path, "bad.yaml")
    assert info.value.code == "not-utf8"
    assert (info.value.location.line, info.value.location.column) == (2, 10)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfid: a\n")
    node = read_yaml(path, "bom.yaml")
    assert node is not None
    assert node.items["id"].raw == "a"


def test_huge_file_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yamlfile, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.yaml"
    path.write_text("x: " + "y" * 200)
    with pytest.raises(YamlFileError) as info:
        read_yaml(path, "big.yaml")
    assert info.value.code == "file-too-large"


def test_empty_file_is_none(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n")
    assert read_yaml(path, "empty.yaml") is None


@pytest.mark.parametrize("loader", ["CSafeLoader", "SafeLoader"])
@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 300 + "]" * 300 + "\n",
        "a: " + "{b: " * 300 + "}" * 300 + "\n",
        "".join("  " * i + "-\n" for i in range(300)),
        "a: " + "[" * 5000 + "]" * 5000 + "\n",  # past libyaml's own limit of 1,000
    ],
)
def test_deep_nesting_is_refused_on_both_parsers(
    monkeypatch: pytest.MonkeyPatch, loader: str, text: str
) -> None:
    import yaml

    monkeypatch.setattr(yamlfile, "_Loader", getattr(yaml, loader, yaml.SafeLoader))
    with pytest.raises(YamlFileError) as info:
        parse_yaml(text, "deep.yaml")
    assert info.value.code == "nesting-too-deep"
    assert info.value.location.file == "deep.yaml"
    assert info.value.location.line >= 1


def test_nesting_built_up_through_aliases_is_refused() -> None:
    lines = ["l0: &l0 " + "[" * 30 + "]" * 30]
    lines += [f"l{i}: &l{i} " + "[" * 30 + f"*l{i - 1}" + "]" * 30 for i in range(1, 4)]
    with pytest.raises(YamlFileError) as info:
        parse_yaml("\n".join(lines) + "\n", "alias.yaml")
    assert info.value.code == "nesting-too-deep"


def test_nesting_up_to_the_limit_is_fine() -> None:
    depth = yamlfile.MAX_DEPTH
    node = parse_yaml("[" * depth + "]" * depth + "\n", "ok.yaml")
    assert node is not None and node.kind == "seq"


@pytest.mark.parametrize("loader", ["CSafeLoader", "SafeLoader"])
def test_a_lone_surrogate_escape_is_refused(monkeypatch: pytest.MonkeyPatch, loader: str) -> None:
    """libyaml refuses "\\ud800"; PyYAML's pure-Python parser returns it, and it would break
    every UTF-8 encoding later (byte counts, facets, the ledger)."""
    import yaml

    monkeypatch.setattr(yamlfile, "_Loader", getattr(yaml, loader, yaml.SafeLoader))
    for text in ('a: "x\\ud800"\n', '"\\udc80": 1\n'):
        with pytest.raises(YamlFileError) as info:
            parse_yaml(text, "s.yaml")
        assert info.value.code == "invalid-yaml"
        assert info.value.location.line == 1


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("text", ["a: 1\nb: [x, y]\n", "a: [1\n"])
def test_reading_leaves_the_cycle_collector_as_it_found_it(enabled: bool, text: str) -> None:
    """The collector is paused while a file is read (a good one or a broken one), then set back."""
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        with contextlib.suppress(YamlFileError):
            parse_yaml(text, "f.yaml")
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
