"""The config's ``accounts:``: each account's name, platform and settings, checked against what
its platform declares (:class:`Setting`).

What a platform declares reaches this module as an argument (:class:`AccountRules`, given by the
platform registry), never by import, so the platforms can depend on the config and not the other
way round.
"""

from __future__ import annotations

import json
import os
import re
import stat
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from eduadvocate.config.env import first_env_name
from eduadvocate.config.model import AccountConfig, ConfigWarning
from eduadvocate.config.reader import reject_unknown
from eduadvocate.core.errors import ConfigError, Location
from eduadvocate.core.yamlfile import YNode

# Account names become file names (Bluesky's session file, the outbox's folder) and ledger keys.
ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ACCOUNT_NAME_RULE = (
    'letters, digits, ".", "_" and "-", starting with a letter or digit, at most 64 characters'
)
ENV_HINT = 'write the value itself, or see "The config" in the README'


@dataclass(frozen=True, slots=True)
class Setting:
    """One key an account of this platform takes in the config."""

    description: str
    required: bool = False
    secret: bool = False  # must be a ${VAR} reference, never written into the file
    kind: Literal["string", "int", "bool", "url"] = "string"


class AccountRules(Protocol):
    """What reading the accounts needs to know about the platforms (the registry's
    :class:`~eduadvocate.platforms.registry.RegistryRules` answers)."""

    def names(self) -> frozenset[str]:
        """Every platform name an account may use."""

    def settings(self, platform: str) -> Mapping[str, Setting]:
        """The settings an account of ``platform`` takes; a ConfigError if there is no such
        platform (its message names the platform, its hint the likely one)."""

    def from_env(self, platform: str) -> tuple[str, ...]:
        """The settings of ``platform`` where ``${VAR}`` is read from the environment."""


def read_accounts(node: YNode | None, rules: AccountRules) -> dict[str, AccountConfig]:
    """``accounts:``, by name; the first mistake is a ConfigError."""
    accounts: dict[str, AccountConfig] = {}
    if node is None or node.is_null:
        return accounts
    if node.kind != "map":
        raise ConfigError("accounts must map names to account settings", location=node.loc)
    for name, item in node.items.items():
        _check_account_name(name, node.key_locs[name])
        accounts[name] = _account(name, item, rules)
    return accounts


def _check_account_name(name: str, loc: Location) -> None:
    if ACCOUNT_NAME.fullmatch(name) is None:
        shown = json.dumps(name, ensure_ascii=False)  # a tab or newline stays on one line
        raise ConfigError(
            f"the account name {shown} may only use {ACCOUNT_NAME_RULE}",
            location=loc,
            hint="rename the account here and in the posts that name it",
        )


def _account(name: str, node: YNode, rules: AccountRules) -> AccountConfig:
    if node.kind != "map":
        raise ConfigError(f'account "{name}" must be a mapping with a platform', location=node.loc)
    platform_node = node.items.get("platform")
    platform = platform_node.text() if platform_node else None
    if not platform:
        raise ConfigError(
            f'account "{name}" has no platform',
            location=node.loc,
            hint="expected one of: " + ", ".join(sorted(rules.names())),
        )
    try:
        declared = rules.settings(platform)
    except ConfigError as exc:
        assert platform_node is not None
        raise ConfigError(
            f'account "{name}": {exc.message}', location=platform_node.loc, hint=exc.hint
        ) from None
    allowed = ["platform", "limit", "daily_cap", *declared]  # limit, daily_cap: every platform
    reject_unknown(node, allowed, f'account "{name}" ({platform})')
    from_env = rules.from_env(platform)
    settings: dict[str, str | int | bool] = {}
    for key, item in node.items.items():
        if key == "platform":
            continue
        if item.kind != "scalar" or item.is_null:
            raise ConfigError(f'account "{name}": {key} must be a single value', location=item.loc)
        if key not in from_env and (ref := first_env_name(item.raw)):
            only = (
                f"only ledger and, on {platform} accounts, {', '.join(from_env)} may use ${{VAR}}"
                if from_env
                else f"only ledger may use ${{VAR}} ({platform} accounts have no secrets)"
            )
            raise ConfigError(
                f'account "{name}": ${{{ref}}} in {key} is not read from the environment: {only}',
                location=item.loc,
                hint=ENV_HINT,
            )
        setting = declared.get(key)
        value = item.value if isinstance(item.value, (int, bool)) and not item.quoted else item.raw
        if (
            setting is not None
            and setting.secret
            and "${" not in str(value)
            and _readable_by_others(node.loc.file)
        ):
            warnings.warn(
                f'{item.loc}: account "{name}": {key} is written in the config file, which other users can read.'
                f" Write {key}: ${{VAR}} and set VAR in the environment, or chmod 600 the file",
                ConfigWarning,
                stacklevel=3,  # the line in load.read_config
            )
        settings[key] = value
    for key, setting in declared.items():
        if setting.required and key not in settings:
            raise ConfigError(
                f'account "{name}" ({platform}) needs {key}: {setting.description}',
                location=node.loc,
            )
    return AccountConfig(name=name, platform=platform, settings=settings, loc=node.loc)


def _readable_by_others(path: str) -> bool:
    try:
        return bool(os.stat(path).st_mode & (stat.S_IRGRP | stat.S_IROTH))
    except OSError:
        return False
