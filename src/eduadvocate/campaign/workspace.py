"""Opening a campaign: config plus folder plus clock, the common first step of every command.

Kept apart from the CLI so tests and other tools can open a campaign without argv. The clock is
passed in (the system's by default) and travels with the workspace to whatever the command runs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from eduadvocate.config.load import read_config
from eduadvocate.config.model import Config
from eduadvocate.content.load import iter_post_files, load_campaign, start_campaign
from eduadvocate.content.model import Campaign
from eduadvocate.core.clock import Clock, system_clock
from eduadvocate.core.errors import ConfigError, Location, UsageError
from eduadvocate.platforms.registry import ACCOUNT_RULES, platform_names


@dataclass(frozen=True)
class Workspace:
    """A campaign as opened: its config, its posts, when it was opened (``now``) and the clock
    everything done with it reads (the dispatcher, the heartbeat, the metrics pull)."""

    config: Config
    campaign: Campaign
    now: datetime
    clock: Clock


def load_config(explicit: str | None = None) -> Config:
    """The config (``--config``, ``$EDUADVOCATE_CONFIG``, ``./config.yaml`` or the embedded
    default), its accounts checked against the platforms the registry finds."""
    return read_config(explicit, ACCOUNT_RULES)


def open_campaign(
    config_path: str | None,
    folder: str | None = None,
    *,
    settle: bool = False,
    require: bool = False,
    clock: Clock | None = None,
    config: Config | None = None,
    posts: bool = True,
) -> Workspace:
    """Load the config and the campaign. ``folder`` is a campaign folder (holding ``posts/``) or a
    posts folder; without ``--config``, a ``config.yaml`` inside it is used. ``settle``: first
    wait (a moment at most) until no file of it is being written. ``require``: there must be a
    campaign here (publishing commands): a folder with neither a config nor a posts folder is
    an error with a hint, not an empty campaign on the built-in default. ``clock``: what now
    is (default: the system's). ``config``: the config already read (``check`` reads it once,
    collecting its problems), instead of reading it here. ``posts`` false: people only, no posts
    file read (``check`` has each of its processes read its own share of them)."""
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
    config = config or load_config(config_path)
    if folder is not None:
        base = Path(folder).resolve()
        if (base / "posts").is_dir():
            config = replace(
                config, posts_dir=base / "posts", people_path=base / "people.yaml", root=base
            )
        else:
            config = replace(config, posts_dir=base)
    if require and not config.posts_dir.is_dir():
        raise CampaignMissing(config)
    if settle:
        settle_files(campaign_files(config))
    platforms = platform_names()
    campaign = load_campaign(config, platforms) if posts else start_campaign(config, platforms)
    # Looked up per call, not bound at import: the test suite points it at its own clock.
    clock = clock or system_clock
    return Workspace(config=config, campaign=campaign, now=clock(), clock=clock)


def open_posts_file(
    config_path: str | None, file: str, *, clock: Clock | None = None, config: Config | None = None
) -> Workspace:
    """Open the campaign a posts file belongs to, narrowed to that file: its posts, and the
    problems found in it or in the campaign's shared files (people, config), not in other posts
    files. The campaign is the folder above the nearest ``posts/`` folder holding the file (as
    for a folder argument); outside one, the config's posts folder must hold it."""
    path = Path(file)
    if not path.exists():
        raise UsageError(f"{file} does not exist", hint="name a posts file or a campaign folder")
    resolved = path.resolve()
    above = next((p.parent for p in resolved.parents if p.name == "posts"), None)
    ws = open_campaign(
        config_path, str(above) if above is not None else None, clock=clock, config=config
    )
    config = ws.config
    # Matched on resolved paths (a symlinked folder), shown as the campaign shows its files.
    found = [
        q
        for q in (iter_post_files(config.posts_dir) if config.posts_dir.is_dir() else ())
        if q.resolve() == resolved
    ]
    if not found:
        raise UsageError(
            f"{file} is not a posts file of this campaign (posts folder:"
            f" {config.display(config.posts_dir)})",
            hint="name a .yaml file under the campaign's posts/ folder, or pass --config",
        )
    shown = config.display(found[0])
    others = set(ws.campaign.files) - {shown}
    campaign = replace(
        ws.campaign,
        posts=[p for p in ws.campaign.posts if p.loc.file == shown],
        problems=[
            p for p in ws.campaign.problems if p.location is None or p.location.file not in others
        ],
        files=[shown],
    )
    return replace(ws, campaign=campaign)


class CampaignMissing(ConfigError):
    """Run outside a campaign folder (or with a config whose posts folder does not exist)."""

    def __init__(self, config: Config) -> None:
        posts = config.display(config.posts_dir)
        if config.path is None:
            super().__init__(
                f"no campaign here: {Path.cwd()} has no config.yaml and no posts/ folder",
                hint="run this in the campaign folder, pass --config, or start one with"
                " `eduadvocate init`",
            )
        else:
            super().__init__(
                f"the posts folder {posts} does not exist",
                location=Location(config.display(config.path)),
                hint="create it, or set posts: in the config to where the posts are",
            )


SETTLE_S = 1.0  # a file written less than this long ago may still be being written
SETTLE_MAX_S = 10.0


def settle_files(paths: Iterable[Path], *, quiet_s: float = SETTLE_S) -> None:
    """Wait (briefly) until no file was written in the last ``quiet_s`` seconds, so a file an
    editor or ``git checkout`` is writing right now is read whole, not half."""
    deadline = time.monotonic() + SETTLE_MAX_S
    paths = list(paths)
    while time.monotonic() < deadline:
        newest = 0.0
        for path in paths:
            try:
                newest = max(newest, path.stat().st_mtime)
            except OSError:
                continue
        age = time.time() - newest
        if age >= quiet_s or age < 0:
            return
        time.sleep(min(quiet_s - age, 0.25) + 0.01)


def campaign_files(config: Config) -> list[Path]:
    """The files a campaign is read from: the config, people and every posts file."""
    paths = [config.people_path]
    if config.path is not None:
        paths.append(config.path)
    if config.posts_dir.is_dir():
        paths += list(iter_post_files(config.posts_dir))
    return paths
