"""The config file: where the posts are, the accounts to publish to, campaign-wide defaults.

Lookup order: ``--config PATH``, then ``$EDUADVOCATE_CONFIG``, then ``config.yaml`` in the current
folder; with none of them, the embedded default (one ``outbox`` account, SQLite ledger beside the
posts) so a new user can try everything without an account.

Secrets are written as ``${VAR}`` (or ``${VAR:-default}``) and stay unresolved until an adapter
asks for them with :meth:`AccountConfig.secret`, so ``check``, ``render`` and ``calendar`` work
with none set, and no resolved secret is ever stored on these objects (or shown by ``repr``).
``${VAR}`` is allowed only in ``ledger:`` and in each account's secret and address settings
(:func:`eduadvocate.platforms.registry.env_settings`); anywhere else it is a ConfigError, so a
display setting cannot pull a secret into public text, a link or a file name.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import stat
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from eduadvocate.content.model import Defaults, UtmSettings
from eduadvocate.core.errors import ConfigError, Location, Problem
from eduadvocate.core.yamlfile import YamlFileError, YNode, read_yaml

if TYPE_CHECKING:
    from eduadvocate.platforms.base import PlatformSpec

ENV_CONFIG = "EDUADVOCATE_CONFIG"
DEFAULT_CONFIG = "config.yaml"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# Account names become file names (Bluesky's session file, the outbox's folder) and ledger keys.
ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ACCOUNT_NAME_RULE = (
    'letters, digits, ".", "_" and "-", starting with a letter or digit, at most 64 characters'
)
_TOP_KEYS = (
    "posts",
    "people",
    "ledger",
    "grace",
    "lease",
    "metrics",
    "accounts",
    "defaults",
    "check",
    "media_root",
)
_DURATION = re.compile(
    r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+)\s*s(?:ec)?)?\s*$",
    re.IGNORECASE,
)
DEFAULT_GRACE = timedelta(hours=3)
# How long a claim outlives its worker's last heartbeat (heartbeats come every third of it): a
# worker that dies has its deliveries taken over by another after about this long.
DEFAULT_LEASE = timedelta(seconds=60)
MIN_LEASE = timedelta(seconds=3)
DEFAULT_METRICS_AGES = (timedelta(hours=1), timedelta(hours=24), timedelta(days=7))
_DEFAULT_KEYS = (
    "campaign",
    "timezone",
    "accounts",
    "hashtags",
    "vars",
    "utm",
    "numbering",
    "language",
)
SEVERITY_CHOICES = ("error", "warning", "off")
ENV_HINT = 'write the value itself, or see "The config" in the README'


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
        return _expand(str(value), self, key, required=False)

    def get_int(self, key: str, default: int) -> int:
        value = self.settings.get(key)
        if value is None:
            return default
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = _expand(str(value), self, key, required=False)
        try:
            return int(text)
        except ValueError:
            raise ConfigError(
                f'account "{self.name}": {key} must be a whole number, not "{text}"',
                location=self.loc,
            ) from None

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
        return _expand(str(value), self, key, required=True)


def env_names(text: str) -> list[str]:
    """The environment variables a setting names (``${VAR}`` and ``${VAR:-default}``)."""
    return [m.group(1) for m in _VAR.finditer(text)]


def expand_env(text: str, missing: Callable[[str], str]) -> str:
    """``${VAR}`` and ``${VAR:-default}`` references filled from the environment; an unset
    (or empty) one without a default is ``missing(name)`` (which may raise instead)."""

    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = os.environ.get(name)
        if value:
            return value
        return default if default is not None else missing(name)

    return _VAR.sub(sub, text)


def _expand(text: str, account: AccountConfig, key: str, *, required: bool) -> str:
    def missing(name: str) -> str:
        if required:
            raise ConfigError(
                f'account "{account.name}" needs ${{{name}}} for {key}, and it is not set',
                location=account.loc,
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


def did_you_mean(word: str, choices: Iterable[str], *, list_choices: bool = True) -> str:
    """'did you mean "x"?' for the closest choice, else (``list_choices``) a short list of the
    valid ones, else ""."""
    options = sorted(choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f'did you mean "{close[0]}"?'
    if list_choices and options and len(options) <= 12:
        return "expected one of: " + ", ".join(options)
    return ""


def find_config(explicit: str | None) -> Path | None:
    """The config file to use: --config, $EDUADVOCATE_CONFIG, ./config.yaml, or None."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(
                f"config file {explicit} not found",
                hint="check the path, or run `eduadvocate init`",
            )
        return path
    env = os.environ.get(ENV_CONFIG)
    if env:
        path = Path(env)
        if not path.is_file():
            raise ConfigError(
                f"{ENV_CONFIG}={env}, but there is no such file", hint="fix or unset it"
            )
        return path
    path = Path(DEFAULT_CONFIG)
    return path if path.is_file() else None


def load_config(explicit: str | None = None, platforms: frozenset[str] | None = None) -> Config:
    """Load the config (or the embedded default). ``platforms`` are the known platform names."""
    from eduadvocate.platforms.registry import env_settings, platform_names, spec_class

    known = platforms if platforms is not None else platform_names()
    path = find_config(explicit)
    if path is None:
        root = Path.cwd()
        outbox = AccountConfig(
            "outbox", "outbox", {"folder": "outbox"}, Location("(default config)")
        )
        return Config(
            path=None,
            root=root,
            posts_dir=root / "posts",
            people_path=root / "people.yaml",
            ledger=str(root / ".eduadvocate" / "ledger.sqlite3"),
            accounts={"outbox": outbox},
            defaults=Defaults(accounts=("outbox",)),
        )
    display = os.path.relpath(path)
    try:
        node = read_yaml(path, display)
    except YamlFileError as exc:
        raise ConfigError(exc.message, location=exc.location, hint=exc.hint) from None
    if node is None:
        node = YNode("map", Location(display))
    if node.kind != "map":
        raise ConfigError("the config must be a mapping of settings", location=node.loc)
    _reject_unknown(node, _TOP_KEYS, "config")
    for key, item in node.items.items():
        if key not in ("ledger", "accounts"):  # accounts: checked setting by setting
            _no_env(item, key)
    root = path.resolve().parent
    accounts: dict[str, AccountConfig] = {}
    acc_node = node.items.get("accounts")
    if acc_node is not None and not acc_node.is_null:
        if acc_node.kind != "map":
            raise ConfigError("accounts must map names to account settings", location=acc_node.loc)
        for name, item in acc_node.items.items():
            _check_account_name(name, acc_node.key_locs[name])
            accounts[name] = _account(name, item, known, spec_class, env_settings)
    defaults = _defaults(node.items.get("defaults"), accounts)
    severity = _severity(node.items.get("check"))
    return Config(
        path=path,
        root=root,
        posts_dir=root / _string(node, "posts", "posts"),
        people_path=root / _string(node, "people", "people.yaml"),
        ledger=_string(node, "ledger", ".eduadvocate/ledger.sqlite3"),
        accounts=accounts,
        defaults=defaults,
        severity=severity,
        grace=_duration(node.items.get("grace"), "grace", DEFAULT_GRACE, '"3h" or "90m"'),
        lease=_lease(node.items.get("lease")),
        metrics_ages=_metrics(node.items.get("metrics")),
        media_root=(root / media).resolve() if (media := _string(node, "media_root", "")) else None,
    )


def _duration(node: YNode | None, key: str, default: timedelta, examples: str) -> timedelta:
    """A duration setting: days, hours, minutes and seconds, as in "3h", "90m", "7d" or "60s"."""
    if node is None or node.is_null:
        return default
    text = node.text() or ""
    duration = parse_duration(text)
    if duration is None:
        raise ConfigError(
            f'{key} must be a duration like {examples}, not "{text}"', location=node.loc
        )
    return duration


def parse_duration(text: str) -> timedelta | None:
    """ "7d", "24h", "1h30m", "90s" → a timedelta; None if the text is not a duration."""
    match = _DURATION.match(text)
    if not text.strip() or match is None or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _metrics(node: YNode | None) -> tuple[timedelta, ...]:
    """``metrics: {pull_after: [1h, 24h, 7d]}``, or ``metrics: {pull_after: []}`` for never."""
    if node is None or node.is_null:
        return DEFAULT_METRICS_AGES
    if node.kind != "map":
        raise ConfigError(
            "metrics must be a mapping, like {pull_after: [1h, 24h, 7d]}", location=node.loc
        )
    _reject_unknown(node, ("pull_after",), "metrics")
    ages = node.items.get("pull_after")
    if ages is None or ages.is_null:
        return DEFAULT_METRICS_AGES
    if ages.kind != "seq":
        raise ConfigError(
            "metrics.pull_after must be a list of durations, like [1h, 24h, 7d]", location=ages.loc
        )
    return tuple(
        sorted(
            _duration(a, "each of metrics.pull_after", timedelta(0), '"1h" or "7d"')
            for a in ages.seq
        )
    )


def _lease(node: YNode | None) -> timedelta:
    lease = _duration(node, "lease", DEFAULT_LEASE, '"60s" or "2m"')
    if node is not None and lease < MIN_LEASE:
        raise ConfigError(
            f"lease must be at least {MIN_LEASE.seconds}s, not {node.text()}", location=node.loc
        )
    return lease


def _string(node: YNode, key: str, default: str) -> str:
    item = node.items.get(key)
    if item is None or item.is_null:
        return default
    text = item.text()
    if text is None:
        raise ConfigError(f"{key} must be a single value", location=item.loc)
    return text


def _reject_unknown(node: YNode, allowed: tuple[str, ...] | list[str], what: str) -> None:
    for key, loc in node.key_locs.items():
        if key not in allowed:
            raise ConfigError(
                f'unknown key "{key}" in {what}', location=loc, hint=did_you_mean(key, allowed)
            )


def _check_account_name(name: str, loc: Location) -> None:
    if ACCOUNT_NAME.fullmatch(name) is None:
        shown = json.dumps(name, ensure_ascii=False)  # a tab or newline stays on one line
        raise ConfigError(
            f"the account name {shown} may only use {ACCOUNT_NAME_RULE}",
            location=loc,
            hint="rename the account here and in the posts that name it",
        )


def _no_env(node: YNode, where: str) -> None:
    """A ConfigError for the first ``${VAR}`` in ``node``: outside ``ledger`` and the accounts'
    secret and address settings, nothing is read from the environment (a value there would end
    up in public text, links or file names)."""
    if node.kind == "scalar":
        ref = _VAR.search(node.raw)
        if ref is not None:
            raise ConfigError(
                f"${{{ref.group(1)}}} in {where} is not read from the environment: only ledger and"
                " the accounts' secret and address settings may use ${VAR}",
                location=node.loc,
                hint=ENV_HINT,
            )
    for key, item in node.items.items():
        _no_env(item, f"{where}.{key}")
    for item in node.seq:
        _no_env(item, where)


def _account(
    name: str,
    node: YNode,
    known: frozenset[str],
    spec_class: Callable[[str], type[PlatformSpec]],
    env_settings: Callable[[str], tuple[str, ...]],
) -> AccountConfig:
    if node.kind != "map":
        raise ConfigError(f'account "{name}" must be a mapping with a platform', location=node.loc)
    platform_node = node.items.get("platform")
    platform = platform_node.text() if platform_node else None
    if not platform:
        raise ConfigError(
            f'account "{name}" has no platform',
            location=node.loc,
            hint="expected one of: " + ", ".join(sorted(known)),
        )
    try:
        spec = spec_class(platform)
    except ConfigError as exc:
        assert platform_node is not None
        raise ConfigError(
            f'account "{name}": {exc.message}', location=platform_node.loc, hint=exc.hint
        ) from None
    allowed = ["platform", "limit", "daily_cap", *spec.settings]  # limit, daily_cap: every platform
    _reject_unknown(node, allowed, f'account "{name}" ({platform})')
    from_env = env_settings(platform)
    settings: dict[str, str | int | bool] = {}
    for key, item in node.items.items():
        if key == "platform":
            continue
        if item.kind != "scalar" or item.is_null:
            raise ConfigError(f'account "{name}": {key} must be a single value', location=item.loc)
        if key not in from_env and (ref := _VAR.search(item.raw)):
            only = (
                f"only ledger and, on {platform} accounts, {', '.join(from_env)} may use ${{VAR}}"
                if from_env
                else f"only ledger may use ${{VAR}} ({platform} accounts have no secrets)"
            )
            raise ConfigError(
                f'account "{name}": ${{{ref.group(1)}}} in {key} is not read from the environment: {only}',
                location=item.loc,
                hint=ENV_HINT,
            )
        setting = spec.settings.get(key)
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
                stacklevel=2,
            )
        settings[key] = value
    for key, setting in spec.settings.items():
        if setting.required and key not in settings:
            raise ConfigError(
                f'account "{name}" ({platform}) needs {key}: {setting.description}',
                location=node.loc,
            )
    return AccountConfig(name=name, platform=platform, settings=settings, loc=node.loc)


class ConfigWarning(UserWarning):
    """Something works but is risky (a readable literal secret); the CLI prints it on stderr."""


def _readable_by_others(path: str) -> bool:
    try:
        return bool(os.stat(path).st_mode & (stat.S_IRGRP | stat.S_IROTH))
    except OSError:
        return False


def _defaults(node: YNode | None, accounts: dict[str, AccountConfig]) -> Defaults:
    from eduadvocate.content.load import defaults_from_node

    if node is None or node.is_null:
        names = tuple(accounts)
        return Defaults(accounts=names[:1] if len(names) == 1 else None)
    if node.kind != "map":
        raise ConfigError("defaults must be a mapping", location=node.loc)
    _reject_unknown(node, _DEFAULT_KEYS, "defaults")
    problems: list[Problem] = []
    defaults = defaults_from_node(node, problems)
    if problems:
        first = problems[0]
        raise ConfigError(first.message, location=first.location, hint=first.hint)
    return defaults


def _severity(node: YNode | None) -> dict[str, str]:
    if node is None or node.is_null:
        return {}
    if node.kind != "map":
        raise ConfigError("check must be a mapping", location=node.loc)
    _reject_unknown(node, ("severity",), "check")
    sev = node.items.get("severity")
    out: dict[str, str] = {}
    if sev is None or sev.is_null:
        return out
    if sev.kind != "map":
        raise ConfigError(
            "check.severity must map problem codes to error, warning or off", location=sev.loc
        )
    for code, item in sev.items.items():
        value = item.text()
        if value not in SEVERITY_CHOICES:
            raise ConfigError(
                f"check.severity.{code} must be error, warning or off", location=item.loc
            )
        out[code] = value
    return out


__all__ = ["AccountConfig", "Config", "UtmSettings", "did_you_mean", "find_config", "load_config"]
