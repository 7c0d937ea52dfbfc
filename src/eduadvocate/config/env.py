"""``${VAR}`` and ``${VAR:-default}``: how the config names a value kept in the environment.

Only ``ledger:`` and each account's secret and address settings are read this way (see
:mod:`eduadvocate.config.load` and :mod:`eduadvocate.config.accounts`); the ledger option and
``EDUADVOCATE_LEDGER`` use the same form, and delivery messages mask every value named so.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def env_names(text: str) -> list[str]:
    """The environment variables a setting names (``${VAR}`` and ``${VAR:-default}``)."""
    return [m.group(1) for m in _VAR.finditer(text)]


def first_env_name(text: str) -> str | None:
    """The first variable ``text`` names, None if it names none."""
    match = _VAR.search(text)
    return match.group(1) if match else None


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
