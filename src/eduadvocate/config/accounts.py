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
from eduadvocate.config.reader import CONFIG_CODE, NodeReader
from eduadvocate.core.errors import ConfigError, Location, Problem
from eduadvocate.core.yamlfile import YNode

# Account names become file names (Bluesky's session file, the outbox's folder) and ledger keys.
ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ACCOUNT_NAME_RULE = (
    'letters, digits, ".", "_" and "-", starting with a letter or digit, at most 64 characters'
)
ENV_HINT = 'write the value itself, or see "The config" in the README'
ACCOUNTS_HINT = 'see "The config" in the README and config.example.yaml'


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


def read_accounts(
    node: YNode | None, rules: AccountRules, problems: list[Problem]
) -> tuple[dict[str, AccountConfig], tuple[str, ...]]:
    """``accounts:``, by name, and the names of the accounts that are written wrong: each mistake
    is a Problem in ``problems`` and the account is left out (its name is still returned, so a
    post naming it is not also told there is no such account)."""
    accounts: dict[str, AccountConfig] = {}
    broken: list[str] = []
    if node is None or node.is_null:
        return accounts, ()
    reader = NodeReader(problems)
    if node.kind != "map":
        reader.error(
            CONFIG_CODE, "accounts must map names to account settings", node.loc, ACCOUNTS_HINT
        )
        return accounts, ()
    for name, item in node.items.items():
        before = len(problems)
        _check_account_name(reader, name, node.key_locs[name])
        account = _account(reader, name, item, rules)
        if account is not None and len(problems) == before:
            accounts[name] = account
        else:
            broken.append(name)
    return accounts, tuple(broken)


def _check_account_name(reader: NodeReader, name: str, loc: Location) -> None:
    if ACCOUNT_NAME.fullmatch(name) is None:
        shown = json.dumps(name, ensure_ascii=False)  # a tab or newline stays on one line
        reader.error(
            CONFIG_CODE,
            f"the account name {shown} may only use {ACCOUNT_NAME_RULE}",
            loc,
            "rename the account here and in the posts that name it",
        )


def _account(
    reader: NodeReader, name: str, node: YNode, rules: AccountRules
) -> AccountConfig | None:
    if node.kind != "map":
        reader.error(
            CONFIG_CODE,
            f'account "{name}" must be a mapping with a platform',
            node.loc,
            ACCOUNTS_HINT,
        )
        return None
    platform_node = node.items.get("platform")
    platform = platform_node.text() if platform_node else None
    if not platform:
        reader.error(
            CONFIG_CODE,
            f'account "{name}" has no platform',
            node.loc,
            "expected one of: " + ", ".join(sorted(rules.names())),
        )
        return None
    try:
        declared = rules.settings(platform)
    except ConfigError as exc:
        assert platform_node is not None
        reader.error(CONFIG_CODE, f'account "{name}": {exc.message}', platform_node.loc, exc.hint)
        return None
    allowed = ["platform", "limit", "daily_cap", *declared]  # limit, daily_cap: every platform
    reader.unknown_keys(node, allowed, f'account "{name}" ({platform})')
    from_env = rules.from_env(platform)
    settings: dict[str, str | int | bool] = {}
    for key, item in node.items.items():
        if key == "platform" or key not in allowed:
            continue
        if item.kind != "scalar" or item.is_null:
            reader.error(
                CONFIG_CODE,
                f'account "{name}": {key} must be a single value',
                item.loc,
                "write one value: text, a number, or true or false",
            )
            continue
        if key not in from_env and (ref := first_env_name(item.raw)):
            only = (
                f"only ledger and, on {platform} accounts, {', '.join(from_env)} may use ${{VAR}}"
                if from_env
                else f"only ledger may use ${{VAR}} ({platform} accounts have no secrets)"
            )
            reader.error(
                CONFIG_CODE,
                f'account "{name}": ${{{ref}}} in {key} is not read from the environment: {only}',
                item.loc,
                ENV_HINT,
            )
            continue
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
                stacklevel=3,  # the line in load.read_config_report
            )
        settings[key] = value
    for key, setting in declared.items():
        if setting.required and key not in settings and key not in node.items:
            reader.error(
                CONFIG_CODE,
                f'account "{name}" ({platform}) needs {key}: {setting.description}',
                node.loc,
                f"add {key}: ${{VAR}} to it and set VAR in the environment"
                if setting.secret
                else f"add {key}: to it",
            )
    return AccountConfig(name=name, platform=platform, settings=settings, loc=node.loc)


def _readable_by_others(path: str) -> bool:
    try:
        return bool(os.stat(path).st_mode & (stat.S_IRGRP | stat.S_IROTH))
    except OSError:
        return False
