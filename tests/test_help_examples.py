"""Every command's ``--help`` shows an example, and the examples are real: each parses against
the command it names, and the offline ones run on a copy of the repository's example campaign."""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from eduadvocate.cli.main import app
from tests.conftest import REPO
from tests.test_cli import run

EXAMPLE = re.compile(r"\bExamples?:\s+`?eduadvocate ")
COMMAND = re.compile(r"`(eduadvocate [^`]+)`")


def _commands() -> Iterator[tuple[str, ...]]:
    """The path of every command and group under the root, the root first."""
    root = typer.main.get_command(app)

    def walk(command: object, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        yield path
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, (*path, name))

    yield from walk(root, ())


COMMANDS = list(_commands())


def _help(path: tuple[str, ...], width: int = 400) -> str:
    result = run(*path, "--help", env={"COLUMNS": str(width)})
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "eduadvocate")
def test_every_help_shows_an_example(path: tuple[str, ...]) -> None:
    assert EXAMPLE.search(_help(path)), f"eduadvocate {' '.join(path)} --help has no Example:"


def _command(path: tuple[str, ...]) -> object:
    command: object = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    return command


@pytest.mark.parametrize("path", COMMANDS[1:], ids=" ".join)
def test_every_summary_is_one_line_in_its_group_list(path: tuple[str, ...]) -> None:
    """The list of a group's commands shows each one's first paragraph as written: a line break
    in it breaks the list mid-sentence at any width (``people suggest`` did)."""
    command = _command(path)
    summary = (getattr(command, "help", None) or "").strip().split("\n\n")[0]
    assert "\n" not in summary, f"eduadvocate {' '.join(path)}: {summary!r}"


@pytest.mark.parametrize("path", COMMANDS[1:], ids=" ".join)
def test_every_help_paragraph_is_one_line_so_it_wraps_to_the_terminal(
    path: tuple[str, ...],
) -> None:
    """Typer keeps a docstring's single line breaks after its first paragraph: each paragraph
    must reach it on one line (``_unwrapped``), else at 80 columns it breaks mid-sentence
    ("named once and" / "skipped)", as every inbox command's help did). Examples and lists are
    paragraphs of their own."""
    command = _command(path)
    paragraphs = (getattr(command, "help", None) or "").split("\n\n")
    wrapped = [p for p in paragraphs if "\n" in p]
    assert not wrapped, f"eduadvocate {' '.join(path)}: {wrapped[0]!r}"


def _examples() -> list[str]:
    found: dict[str, None] = {}
    for path in COMMANDS:
        for command in COMMAND.findall(_help(path)):
            found.setdefault(command.split(" > ")[0].rstrip("."), None)  # no shell redirection
    return list(found)


def test_every_example_parses_against_the_command_it_names() -> None:
    """Each example's command, options and values are accepted as written (Click parses them as
    it would on a command line: an unknown option or a bad value raises)."""
    examples = _examples()
    assert len(examples) >= len(COMMANDS)
    for example in examples:
        words = shlex.split(example)[1:]
        command = typer.main.get_command(app)
        name = "eduadvocate"
        while words and words[0] in getattr(command, "commands", {}):
            name = words.pop(0)
            command = command.commands[name]  # type: ignore[attr-defined]
        assert not hasattr(command, "commands"), f"{example}: names a group, not a command"
        with command.make_context(name, list(words)):
            pass


OFFLINE = ("check", "render", "calendar", "schema", "init")


def test_the_offline_examples_run_on_the_example_campaign(tmp_path: Path) -> None:
    for name in ("people.yaml", "posts", "media"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name)
        else:
            shutil.copy(source, tmp_path / name)
    shutil.copy(REPO / "config.example.yaml", tmp_path / "config.yaml")
    shutil.copy(REPO / "config.example.yaml", tmp_path / "config.example.yaml")
    ran = []
    for example in _examples():
        words = shlex.split(example)[1:]
        if words[0] not in OFFLINE:
            continue
        result = run(*words, cwd=tmp_path)
        assert result.returncode == 0, (example, result.stdout + result.stderr)
        ran.append(words[0])
    assert set(ran) == set(OFFLINE)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "eduadvocate")
def test_every_usage_error_names_itself_once(path: tuple[str, ...]) -> None:
    """Every command and group: an unknown option is a usage error of two lines and one named
    error on stderr, exit 2; a group named alone prints its help on stdout (as --help does) and
    nothing on stderr, exit 2 (it printed the usage twice and an empty "Error: ")."""
    result = run(*path, "--no-such-option", env={"COLUMNS": "80"})
    assert result.returncode == 2
    assert result.stdout == ""
    usage, hint, blank, error = result.stderr.splitlines()
    assert usage.startswith(f"Usage: {' '.join(('eduadvocate', *path))} ")
    assert (hint, blank) == (f"Try '{' '.join(('eduadvocate', *path))} --help' for help.", "")
    assert error.startswith("Error: No such option: --no-such-option")
    command = _command(path)
    if getattr(command, "commands", None) and not getattr(command, "invoke_without_command", 0):
        alone = run(*path, env={"COLUMNS": "80"})
        assert (alone.returncode, alone.stderr) == (2, "")
        assert alone.stdout == _help(path, 80)
