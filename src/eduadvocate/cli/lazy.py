"""The ``eduadvocate`` command as Click runs it, each command built only when it is needed.

Typer turns every command of an app into a Click command on each run: it reads each function's
signature and builds each parameter (some 100 across the ~25 commands), although a run uses one
command, and ``--help`` only each command's name and help. That was a quarter of ``--help``'s
time beyond a two-command Typer app's (bench/startup.py), and as much on every command's start.

:func:`command` builds the root group alone and hands it a :class:`LazyCommands` mapping: a
command is built (by Typer's own functions, so it is the command Typer would build) when Click
looks it up by name, and the root's help lists them from each one's name and help alone. The
eager build (``typer.main.get_command(app)``) is what the tests walk; tests/test_cli_lazy.py
checks that both give the same commands and the same help.

Written by hand because Typer has no lazy loading of commands (Click documents the pattern for
groups it builds itself: "Lazily Loading Subcommands", a ``get_command`` override, which this
follows).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Iterator, MutableMapping
from typing import Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandInfo, TyperInfo


class LazyCommands(MutableMapping[str, Any]):
    """A group's commands by name, in the order Typer lists them (commands, then groups), each
    built on first lookup."""

    def __init__(self, app: typer.Typer) -> None:
        self._app = app
        self._infos: dict[str, CommandInfo | TyperInfo] = {}
        for info in app.registered_commands:
            assert info.callback is not None
            self._infos[info.name or typer.main.get_command_name(info.callback.__name__)] = info
        for group in app.registered_groups:
            assert group.name, "every group of the app has a name"  # (unnamed ones merge)
            self._infos[group.name] = group
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            info = self._infos[name]  # (KeyError: no such command, which Click expects)
            app = self._app
            if isinstance(info, CommandInfo):
                self._built[name] = typer.main.get_command_from_info(
                    info,
                    pretty_exceptions_short=app.pretty_exceptions_short,
                    rich_markup_mode=app.rich_markup_mode,
                )
            else:
                self._built[name] = typer.main.get_group_from_info(
                    info,
                    pretty_exceptions_short=app.pretty_exceptions_short,
                    rich_markup_mode=app.rich_markup_mode,
                    suggest_commands=app.suggest_commands,
                )
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command
        self._infos.setdefault(name, CommandInfo(name=name))

    def __delitem__(self, name: str) -> None:
        del self._infos[name]
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._infos)

    def __len__(self) -> int:
        return len(self._infos)

    def summaries(self) -> dict[str, Any]:
        """Each command as a help listing shows it (name, help, short help, panel, hidden,
        deprecated: what Typer's and Click's listings read), without its parameters; one built
        already is itself."""
        out: dict[str, Any] = {}
        fields: CommandInfo | TyperInfo
        for name, info in self._infos.items():
            if name in self._built:
                out[name] = self._built[name]
                continue
            if isinstance(info, CommandInfo):
                assert info.callback is not None
                fields = info  # (the help as get_command_from_info makes it)
                help_text = (
                    inspect.getdoc(info.callback)
                    if info.help is None
                    else inspect.cleandoc(info.help)
                )
            else:
                fields = typer.main.solve_typer_info_defaults(info)  # (no parameters read)
                help_text = fields.help
            out[name] = TyperCommand(
                name=name,
                help=help_text,
                short_help=fields.short_help,
                hidden=bool(fields.hidden),
                deprecated=bool(fields.deprecated),
                rich_help_panel=fields.rich_help_panel,
            )
        return out


class LazyGroup(TyperGroup):
    """The root group: its help lists the commands from their summaries, and only names are
    listed (Typer's ``list_commands`` reads every command, which would build them all)."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        commands = self.commands
        if not isinstance(commands, LazyCommands):  # (the eager build: nothing to spare)
            return super().format_help(ctx, formatter)
        self.commands = commands.summaries()
        try:
            return super().format_help(ctx, formatter)
        finally:
            self.commands = commands


def command(app: typer.Typer) -> TyperGroup:
    """``app``'s root group as ``typer.main.get_command`` builds it (its callback's options,
    completion's), with its commands in a :class:`LazyCommands`. ``app`` must be made with
    ``cls=LazyGroup``."""
    root_only = copy.copy(app)
    root_only.registered_commands = []
    root_only.registered_groups = []
    group = typer.main.get_command(root_only)
    assert isinstance(group, LazyGroup)
    group.commands = LazyCommands(app)
    return group
