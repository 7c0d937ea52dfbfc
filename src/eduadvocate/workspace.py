"""Opening a campaign: config plus folder plus clock, the common first step of every command.

Kept apart from the CLI so tests and other tools can open a campaign without argv.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from eduadvocate.config import Config, load_config
from eduadvocate.content.load import load_campaign
from eduadvocate.content.model import Campaign
from eduadvocate.errors import UsageError
from eduadvocate.platforms.registry import platform_names

ENV_NOW = "EDUADVOCATE_NOW"


@dataclass(frozen=True)
class Workspace:
    config: Config
    campaign: Campaign
    now: datetime


def clock() -> datetime:
    """Now, in UTC; ``$EDUADVOCATE_NOW`` (an ISO instant) previews the campaign as of another time."""
    value = os.environ.get(ENV_NOW)
    if not value:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{ENV_NOW}={value} is not an ISO instant", hint="e.g. 2026-12-01T09:00:00Z"
        ) from None
    if moment.tzinfo is None:
        raise UsageError(f"{ENV_NOW}={value} has no UTC offset", hint="e.g. 2026-12-01T09:00:00Z")
    return moment.astimezone(UTC)


def open_campaign(config_path: str | None, folder: str | None = None) -> Workspace:
    """Load the config and the campaign. ``folder`` is a campaign folder (holding ``posts/``) or a
    posts folder; without ``--config``, a ``config.yaml`` inside it is used."""
    if folder is not None:
        base = Path(folder)
        if not base.is_dir():
            raise UsageError(
                f"{folder} is not a folder",
                hint="name the campaign folder (the one holding posts/)",
            )
        if (
            config_path is None
            and not os.environ.get("EDUADVOCATE_CONFIG")
            and (base / "config.yaml").is_file()
        ):
            config_path = str(base / "config.yaml")
    platforms = platform_names()
    config = load_config(config_path, platforms)
    if folder is not None:
        base = Path(folder).resolve()
        if (base / "posts").is_dir():
            config = replace(
                config, posts_dir=base / "posts", people_path=base / "people.yaml", root=base
            )
        else:
            config = replace(config, posts_dir=base)
    campaign = load_campaign(config, platforms)
    return Workspace(config=config, campaign=campaign, now=clock())
