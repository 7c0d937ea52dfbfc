"""Shell completion of the campaign's own names: accounts from the config, post ids from the posts
files (``--account``, ``--post``). The states of ``status --state`` complete from their choices.

A completion runs on every Tab press, so it reads only the config (and, for post ids, the posts
files), never the ledger or a platform; and it must never print: a config or posts file that
cannot be read offers nothing rather than an error in the middle of the user's command line.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

if TYPE_CHECKING:
    from eduadvocate.config.model import Config

T = TypeVar("T")


def accounts(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """The config's account names (with each one's platform, which zsh and fish show)."""
    config = _quietly(lambda: _config(ctx))
    if config is None:
        return []
    return [
        (name, account.platform)
        for name, account in config.accounts.items()
        if name.startswith(incomplete)
    ]


def posts(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """The ids of the campaign's posts (with the first words of each text)."""

    def load() -> list[tuple[str, str]]:
        from eduadvocate.campaign.workspace import open_campaign

        ws = open_campaign(_param(ctx, "config"), _param(ctx, "folder"))
        return [
            (post.id, _first_words(post.content.text or ""))
            for post in ws.campaign.posts
            if post.id.startswith(incomplete)
        ]

    return _quietly(load) or []


def _config(ctx: typer.Context) -> Config:
    """The config the command would read: ``--config``, or the folder argument's
    ``config.yaml``, or the usual lookup."""
    from eduadvocate.campaign.workspace import load_config
    from eduadvocate.config.load import ENV_CONFIG

    explicit = _param(ctx, "config")
    folder = _param(ctx, "folder")
    if explicit is None and folder and not os.environ.get(ENV_CONFIG):
        inside = Path(folder) / "config.yaml"
        if inside.is_file():
            explicit = str(inside)
    return load_config(explicit)


def _param(ctx: typer.Context, name: str) -> str | None:
    """A value given earlier on the command line being completed (None if not given)."""
    value = ctx.params.get(name)
    return value if isinstance(value, str) else None


def _quietly(read: Callable[[], T]) -> T | None:
    """``read()``, or None if it fails in any way, with no warning shown."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. a readable literal secret: check says it
        try:
            return read()
        # Anything: a completion that fails offers nothing, and must not print in the shell.
        except Exception:
            return None


def _first_words(text: str, limit: int = 40) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
