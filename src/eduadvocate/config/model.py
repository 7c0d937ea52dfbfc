"""The loaded config: :class:`Config` (paths, the ledger, timing of delivery and metrics, check
severities) and its :class:`AccountConfig` entries.

Secrets are written as ``${VAR}`` (or ``${VAR:-default}``) and stay unresolved until an adapter
asks for them with :meth:`AccountConfig.secret`, so ``check``, ``render`` and ``calendar`` work
with none set, and no resolved secret is ever stored on these objects (or shown by ``repr``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from eduadvocate.config.defaults import Defaults
from eduadvocate.config.env import expand_env
from eduadvocate.core.errors import ConfigError, Location
from eduadvocate.core.suggest import did_you_mean

DEFAULT_GRACE = timedelta(hours=3)
# How long a claim outlives its worker's last heartbeat (heartbeats come every third of it): a
# worker that dies has its deliveries taken over by another after about this long.
DEFAULT_LEASE = timedelta(seconds=60)
MIN_LEASE = timedelta(seconds=3)
DEFAULT_METRICS_AGES = (timedelta(hours=1), timedelta(hours=24), timedelta(days=7))


class ConfigWarning(UserWarning):
    """Something works but is risky (a readable literal secret); the CLI prints it on stderr."""


@dataclass(frozen=True)
class AccountConfig:
    """One account from the config. ``settings`` hold the raw values, ``${VAR}`` unexpanded."""

    name: str
    platform: str
    settings: dict[str, str | int | bool]
    loc: Location

    def get(self, key: str, default: str | None = None) -> str | None:
        """A non-secret setting with ``${VAR}`` references expanded (None if unset)."""
        value = self.settings.get(key)
        if value is None:
            return default
        return self._expand(str(value), key, required=False)

    def get_int(self, key: str, default: int) -> int:
        value = self.settings.get(key)
        if value is None:
            return default
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = self._expand(str(value), key, required=False)
        try:
            return int(text)
        except ValueError:
            raise ConfigError(
                f'account "{self.name}": {key} must be a whole number, not "{text}"',
                location=self.loc,
            ) from None

    def get_positive_int(self, key: str, default: int) -> int:
        """``get_int``, at least 1 (a timeout of 0 seconds could never be met)."""
        value = self.get_int(key, default)
        if value < 1:
            raise ConfigError(
                f'account "{self.name}": {key} must be at least 1, not {value}', location=self.loc
            )
        return value

    def get_bool(self, key: str) -> bool:
        value = self.settings.get(key)
        if isinstance(value, bool):
            return value
        return (
            str(value).strip().lower() in ("true", "yes", "on", "1") if value is not None else False
        )

    def secret(self, key: str) -> str:
        """A setting needed to publish: expanded from the environment, or a ConfigError naming the
        variable to set (never its value)."""
        value = self.settings.get(key)
        if value is None:
            raise ConfigError(
                f'account "{self.name}" has no {key}',
                location=self.loc,
                hint=f"add {key}: ${{VAR}} to it",
            )
        return self._expand(str(value), key, required=True)

    def _expand(self, text: str, key: str, *, required: bool) -> str:
        def missing(name: str) -> str:
            if required:
                raise ConfigError(
                    f'account "{self.name}" needs ${{{name}}} for {key}, and it is not set',
                    location=self.loc,
                    hint=f"export {name}=… (or put it in your CI secrets) before publishing",
                )
            return ""

        return expand_env(text, missing)


@dataclass(frozen=True)
class Config:
    """The loaded config. Paths are absolute."""

    path: Path | None  # None: the embedded default
    root: Path  # the campaign folder: the config's folder; media paths are relative to it
    posts_dir: Path
    people_path: Path
    ledger: str
    accounts: dict[str, AccountConfig]
    defaults: Defaults
    severity: dict[str, str] = field(default_factory=dict)
    grace: timedelta = DEFAULT_GRACE  # how late a missed post may still go out
    lease: timedelta = DEFAULT_LEASE  # how long a claim lasts without a heartbeat
    # When `schedule` pulls engagement counts, after publishing (empty: never by itself).
    metrics_ages: tuple[timedelta, ...] = DEFAULT_METRICS_AGES
    media_root: Path | None = None  # where media may live (default: the campaign folder)

    @property
    def media_folder(self) -> Path:
        """The folder media files must stay inside (``media_root``, else the campaign)."""
        return self.media_root or self.root

    def display(self, path: Path) -> str:
        """A path as the user would type it: relative to the current folder when possible."""
        try:
            return os.path.relpath(path)
        except ValueError:
            return str(path)

    def account(self, name: str) -> AccountConfig:
        try:
            return self.accounts[name]
        except KeyError:
            raise ConfigError(
                f'no account named "{name}"', hint=did_you_mean(name, self.accounts)
            ) from None
