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
from dataclasses import dataclass
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
from eduadvocate.config.reader import CONFIG_CODE, NodeReader
from eduadvocate.core.errors import ConfigError, Location, Problem
from eduadvocate.core.words import plural
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
SEVERITY_HINT = "like check: {severity: {alt-missing: warning, hashtag-case: off}}"
DURATION_HINT = "a number with d, h, m or s: 90s, 2m, 3h, 7d, 1h30m"
METRICS_HINT = "pull_after: [] turns the pulls off"


def find_config(explicit: str | None) -> Path | None:
    """The config file to use: --config, $EDUADVOCATE_CONFIG, ./config.yaml, or None."""
    if explicit:
        path = Path(explicit)
        if path.is_dir() and (path / DEFAULT_CONFIG).is_file():
            return path / DEFAULT_CONFIG  # --config my-campaign: the config.yaml in it
        if path.is_dir():
            raise ConfigError(
                f"{explicit} is a folder with no {DEFAULT_CONFIG} in it",
                hint="name the config file itself (--config path/to/config.yaml)",
            )
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


@dataclass(frozen=True)
class ConfigReport:
    """The config as far as it could be read, and every mistake found in it. ``config`` is None
    when the file is not a YAML mapping at all; otherwise each wrong setting is left at its
    default (a wrong account left out, its name in ``broken_accounts``), so the posts can still
    be checked against the rest."""

    config: Config | None
    problems: list[Problem]
    broken_accounts: tuple[str, ...] = ()

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


class ConfigInvalid(ConfigError):
    """The config has mistakes: carries every one (sorted by line), so ``check`` shows them all;
    the message is the first, and how many more."""

    def __init__(self, report: ConfigReport) -> None:
        self.report = report
        first = report.errors[0]
        more = len(report.errors) - 1
        hint = first.hint
        if more:
            also = (
                f"{plural(more, 'more problem')} in the config: `eduadvocate check` lists them all"
            )
            hint = f"{hint} (and {also})" if hint else f"and {also}"
        super().__init__(first.message, location=first.location, hint=hint)


def read_config(explicit: str | None, platforms: AccountRules) -> Config:
    """Read the config (or the embedded default); each account is checked against what
    ``platforms`` says its platform takes. Any mistake is a :class:`ConfigInvalid` carrying all
    of them."""
    report = read_config_report(explicit, platforms)
    if report.errors or report.config is None:
        raise ConfigInvalid(report)
    return report.config


def read_config_report(explicit: str | None, platforms: AccountRules) -> ConfigReport:
    """Read the config (or the embedded default), collecting every mistake instead of stopping
    at the first. A config file that cannot be found is still a ConfigError: there is nothing
    to report on."""
    path = find_config(explicit)
    if path is None:
        root = Path.cwd()
        outbox = AccountConfig(
            "outbox", "outbox", {"folder": "outbox"}, Location("(default config)")
        )
        default = Config(
            path=None,
            root=root,
            posts_dir=root / "posts",
            people_path=root / "people.yaml",
            ledger=str(root / ".eduadvocate" / "ledger.sqlite3"),
            accounts={"outbox": outbox},
            defaults=Defaults(accounts=("outbox",)),
        )
        return ConfigReport(default, [])
    display = os.path.relpath(path)
    problems: list[Problem] = []
    reader = NodeReader(problems)
    try:
        node = read_yaml(path, display)
    except YamlFileError as exc:
        reader.error(exc.code, exc.message, exc.location, exc.hint)
        return ConfigReport(None, problems)
    if node is None:
        node = YNode("map", Location(display))
    if node.kind != "map":
        reader.error(
            "wrong-type",
            "the config must be a mapping of settings",
            node.loc,
            "write one setting per line, like posts: posts (see config.example.yaml)",
        )
        return ConfigReport(None, problems)
    reader.unknown_keys(node, _TOP_KEYS, "config")
    settings = {k: v for k, v in node.items.items() if k in _TOP_KEYS}
    for key, item in list(settings.items()):
        # accounts: checked setting by setting. A setting that names a variable is left at its
        # default, so nothing goes on to use the unread value.
        if key not in ("ledger", "accounts") and not _no_env(reader, item, key):
            del settings[key]
    get = settings.get
    root = path.resolve().parent
    accounts, broken = read_accounts(get("accounts"), platforms, problems)
    defaults = config_defaults(get("defaults"), (*accounts, *broken), problems)
    media = _string(reader, get("media_root"), "media_root", "")
    config = Config(
        path=path,
        root=root,
        posts_dir=root / _string(reader, get("posts"), "posts", "posts"),
        people_path=root / _string(reader, get("people"), "people", "people.yaml"),
        ledger=_string(reader, get("ledger"), "ledger", ".eduadvocate/ledger.sqlite3"),
        accounts=accounts,
        defaults=defaults,
        severity=_severity(reader, get("check")),
        grace=_duration(reader, get("grace"), "grace", DEFAULT_GRACE, '"3h" or "90m"'),
        lease=_lease(reader, get("lease")),
        metrics_ages=_metrics(reader, get("metrics")),
        media_root=(root / media).resolve() if media else None,
    )
    problems.sort(key=problem_order)
    return ConfigReport(config, problems, broken)


def problem_order(problem: Problem) -> tuple[bool, Location]:
    """Sorting problems by file, then line and column (those with no place first)."""
    return (problem.location is not None, problem.location or Location(""))


def _duration(
    reader: NodeReader, node: YNode | None, key: str, default: timedelta, examples: str
) -> timedelta:
    """A duration setting: days, hours, minutes and seconds, as in "3h", "90m", "7d" or "60s"."""
    if node is None or node.is_null:
        return default
    text = node.text() or ""
    duration = parse_duration(text)
    if duration is None:
        reader.error(
            CONFIG_CODE,
            f'{key} must be a duration like {examples}, not "{text}"',
            node.loc,
            DURATION_HINT,
        )
        return default
    return duration


def parse_duration(text: str) -> timedelta | None:
    """ "7d", "24h", "1h30m", "90s" → a timedelta; None if the text is not a duration."""
    match = _DURATION.match(text)
    if not text.strip() or match is None or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _metrics(reader: NodeReader, node: YNode | None) -> tuple[timedelta, ...]:
    """``metrics: {pull_after: [1h, 24h, 7d]}``, or ``metrics: {pull_after: []}`` for never."""
    if node is None or node.is_null:
        return DEFAULT_METRICS_AGES
    if node.kind != "map":
        reader.error(
            CONFIG_CODE,
            "metrics must be a mapping, like {pull_after: [1h, 24h, 7d]}",
            node.loc,
            METRICS_HINT,
        )
        return DEFAULT_METRICS_AGES
    reader.unknown_keys(node, ("pull_after",), "metrics")
    ages = node.items.get("pull_after")
    if ages is None or ages.is_null:
        return DEFAULT_METRICS_AGES
    if ages.kind != "seq":
        reader.error(
            CONFIG_CODE,
            "metrics.pull_after must be a list of durations, like [1h, 24h, 7d]",
            ages.loc,
            METRICS_HINT,
        )
        return DEFAULT_METRICS_AGES
    found: list[timedelta] = []
    for age in ages.seq:
        wrong = len(reader.problems)
        value = _duration(reader, age, "each of metrics.pull_after", timedelta(0), '"1h" or "7d"')
        if len(reader.problems) == wrong:
            found.append(value)
    return tuple(sorted(found))


def _lease(reader: NodeReader, node: YNode | None) -> timedelta:
    lease = _duration(reader, node, "lease", DEFAULT_LEASE, '"60s" or "2m"')
    if node is not None and lease < MIN_LEASE:
        reader.error(
            CONFIG_CODE,
            f"lease must be at least {MIN_LEASE.seconds}s, not {node.text()}",
            node.loc,
            "the default, 60s, suits most setups",
        )
        return DEFAULT_LEASE
    return lease


def _string(reader: NodeReader, item: YNode | None, key: str, default: str) -> str:
    if item is None or item.is_null:
        return default
    text = item.text()
    if text is None:
        reader.error(
            CONFIG_CODE,
            f"{key} must be a single value",
            item.loc,
            f"write {key}: {default}, or leave it out",
        )
        return default
    return text


def _no_env(reader: NodeReader, node: YNode, where: str) -> bool:
    """Whether ``node`` is free of ``${VAR}``; each one is a Problem: outside ``ledger`` and the
    accounts' secret and address settings, nothing is read from the environment (a value there
    would end up in public text, links or file names)."""
    clean = True
    if node.kind == "scalar":
        name = first_env_name(node.raw)
        if name is not None:
            reader.error(
                CONFIG_CODE,
                f"${{{name}}} in {where} is not read from the environment: only ledger and"
                " the accounts' secret and address settings may use ${VAR}",
                node.loc,
                ENV_HINT,
            )
            clean = False
    for key, item in node.items.items():
        clean = _no_env(reader, item, f"{where}.{key}") and clean
    for item in node.seq:
        clean = _no_env(reader, item, where) and clean
    return clean


def _severity(reader: NodeReader, node: YNode | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if node is None or node.is_null:
        return out
    if node.kind != "map":
        reader.error(CONFIG_CODE, "check must be a mapping", node.loc, SEVERITY_HINT)
        return out
    reader.unknown_keys(node, ("severity",), "check")
    sev = node.items.get("severity")
    if sev is None or sev.is_null:
        return out
    if sev.kind != "map":
        reader.error(
            CONFIG_CODE,
            "check.severity must map problem codes to error, warning or off",
            sev.loc,
            SEVERITY_HINT,
        )
        return out
    for code, item in sev.items.items():
        value = item.text()
        if value not in SEVERITY_CHOICES:
            reader.error(
                CONFIG_CODE,
                f"check.severity.{code} must be error, warning or off",
                item.loc,
                SEVERITY_HINT,
            )
            continue
        out[code] = value
    return out
