"""Finding and reading the config file: where the posts are, the accounts to publish to,
campaign-wide defaults, the ledger and the timing of delivery and metrics.

Lookup order: ``--config PATH``, then ``$EDUADVOCATE_CONFIG``, then ``config.yaml`` in the current
folder; with none of them, the embedded default (one ``outbox`` account, SQLite ledger beside the
posts) so a new user can try everything without an account.

``${VAR}`` is allowed only in ``ledger:`` and in each account's secret and address settings
(:mod:`eduadvocate.config.accounts`); anywhere else it is a ConfigError, so a display setting
cannot pull a secret into public text, a link or a file name.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

from eduadvocate.config.accounts import ENV_HINT, AccountRules, read_accounts
from eduadvocate.config.defaults import Defaults, config_defaults
from eduadvocate.config.env import first_env_name
from eduadvocate.config.model import (
    DEFAULT_GRACE,
    DEFAULT_LEASE,
    DEFAULT_METRICS_AGES,
    MIN_LEASE,
    AccountConfig,
    Config,
)
from eduadvocate.config.reader import reject_unknown
from eduadvocate.core.errors import ConfigError, Location
from eduadvocate.core.yamlfile import YamlFileError, YNode, read_yaml

ENV_CONFIG = "EDUADVOCATE_CONFIG"
DEFAULT_CONFIG = "config.yaml"
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
SEVERITY_CHOICES = ("error", "warning", "off")


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


def read_config(explicit: str | None, platforms: AccountRules) -> Config:
    """Read the config (or the embedded default); each account is checked against what
    ``platforms`` says its platform takes. The first mistake is a ConfigError."""
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
    reject_unknown(node, _TOP_KEYS, "config")
    for key, item in node.items.items():
        if key not in ("ledger", "accounts"):  # accounts: checked setting by setting
            _no_env(item, key)
    root = path.resolve().parent
    accounts = read_accounts(node.items.get("accounts"), platforms)
    defaults = config_defaults(node.items.get("defaults"), tuple(accounts))
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
    reject_unknown(node, ("pull_after",), "metrics")
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


def _no_env(node: YNode, where: str) -> None:
    """A ConfigError for the first ``${VAR}`` in ``node``: outside ``ledger`` and the accounts'
    secret and address settings, nothing is read from the environment (a value there would end
    up in public text, links or file names)."""
    if node.kind == "scalar":
        name = first_env_name(node.raw)
        if name is not None:
            raise ConfigError(
                f"${{{name}}} in {where} is not read from the environment: only ledger and"
                " the accounts' secret and address settings may use ${VAR}",
                location=node.loc,
                hint=ENV_HINT,
            )
    for key, item in node.items.items():
        _no_env(item, f"{where}.{key}")
    for item in node.seq:
        _no_env(item, where)


def _severity(node: YNode | None) -> dict[str, str]:
    if node is None or node.is_null:
        return {}
    if node.kind != "map":
        raise ConfigError("check must be a mapping", location=node.loc)
    reject_unknown(node, ("severity",), "check")
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
