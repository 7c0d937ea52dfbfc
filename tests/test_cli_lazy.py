"""A run builds only the command it runs (cli/lazy.py), and that command is the one Typer's eager
build makes: the same parameters, the same help, the same list of commands in every group."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer

from eduadvocate.cli import lazy
from eduadvocate.cli.main import app
from tests.test_cli import run
from tests.test_help_examples import COMMANDS


def _comparable(value: Any, depth: int = 0) -> Any:
    """A value as plain data: a function by its name (each build wraps callbacks anew), an
    object by its class and attributes."""
    assert depth < 12, "a cycle"
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_comparable(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): _comparable(v, depth + 1) for k, v in value.items()}
    if (callable(value) and not hasattr(value, "__dict__")) or hasattr(value, "__code__"):
        return getattr(value, "__qualname__", repr(value))
    if hasattr(value, "__dict__"):
        return [type(value).__qualname__, _comparable(vars(value), depth + 1)]
    return repr(value)


def _described(command: Any) -> dict[str, Any]:
    """What a command is, beyond its callback's identity: its attributes and each parameter's."""
    fields = {
        k: v
        for k, v in vars(command).items()
        if k not in ("callback", "commands", "params", "_result_callback")
    }
    return {
        "class": type(command).__qualname__,
        "fields": _comparable(fields),
        "params": [_comparable(p) for p in command.params],
        "commands": list(getattr(command, "commands", {})),
    }


def _find(root: Any, path: tuple[str, ...]) -> Any:
    command = root
    for name in path:
        command = command.commands[name]
    return command


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "eduadvocate")
def test_each_command_built_lazily_is_the_one_typer_builds(path: tuple[str, ...]) -> None:
    eager = _find(typer.main.get_command(app), path)
    built = _find(lazy.command(app), path)
    assert _described(built) == _described(eager)


def _eager_help(path: tuple[str, ...], width: int) -> str:
    """``--help`` as Typer's own ``app()`` prints it (every command built first)."""
    from typer.testing import CliRunner

    result = CliRunner().invoke(
        app, [*path, "--help"], env={"COLUMNS": str(width)}, prog_name="eduadvocate"
    )
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "eduadvocate")
def test_each_help_is_the_one_typer_prints(path: tuple[str, ...]) -> None:
    """The root's list is made from summaries; every other help from the command itself."""
    for width in (60, 80, 120):
        ours = run(*path, "--help", env={"COLUMNS": str(width)})
        assert ours.returncode == 0, ours.stderr
        assert ours.stdout == _eager_help(path, width), f"width {width}"


def _run_lazily(*args: str) -> lazy.LazyCommands:
    root = lazy.command(app)
    commands = root.commands
    assert isinstance(commands, lazy.LazyCommands)
    with pytest.raises(SystemExit) as stopped:
        root.main(args=list(args), prog_name="eduadvocate", standalone_mode=True)
    assert stopped.value.code in (0, None)
    return commands


def test_a_run_builds_only_the_command_it_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert list(_run_lazily("--help")._built) == []
    assert list(_run_lazily("check", "--help")._built) == ["check"]
    assert list(_run_lazily("ledger", "export", "--help")._built) == ["ledger"]
    assert list(_run_lazily("--version")._built) == []


def test_a_mistyped_command_is_still_named_with_a_suggestion() -> None:
    result = run("chek")
    assert result.returncode == 2
    assert "No such command 'chek'. Did you mean 'check'" in result.stderr


ROW = re.compile(r"^│ (\S+)\s+\S")


@pytest.mark.parametrize(
    "path", [p for p in COMMANDS if hasattr(_find(typer.main.get_command(app), p), "commands")]
)
def test_every_command_takes_one_line_in_its_group_list_at_80_columns(
    path: tuple[str, ...],
) -> None:
    """A short summary per command (``short_help``; the command's own ``--help`` has the rest):
    the root's list fits a laptop's terminal and is read at a glance."""
    out = run(*path, "--help", env={"COLUMNS": "80"}).stdout
    panel = out[out.index("─ Commands ─") :].splitlines()[1:]
    rows = [line for line in panel if line.startswith("│")]
    group = _find(typer.main.get_command(app), path)
    visible = [n for n, c in group.commands.items() if not c.hidden]
    assert [ROW.match(r).group(1) if ROW.match(r) else r for r in rows] == visible
