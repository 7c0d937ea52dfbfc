"""Finds platform adapters: the built-ins and any registered under the entry-point group
``eduadvocate.platforms`` by another package (built-ins are registered there the same way).

Looking up a built-in name does not scan the installed packages (``importlib.metadata`` alone costs
~60 ms at start-up, the scan ~20 ms more); listing all platforms, or asking for an unknown name,
does. That holds for :func:`platform_names` too: asked whether it holds a built-in name, as
reading a config and posts files that use only those asks, it answers without the scan.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterator, Mapping, Set
from typing import TYPE_CHECKING

from eduadvocate.core.errors import ConfigError
from eduadvocate.core.suggest import did_you_mean

if TYPE_CHECKING:
    from eduadvocate.config.accounts import Setting
    from eduadvocate.platforms.base import PlatformSpec

GROUP = "eduadvocate.platforms"
BUILTINS: dict[str, str] = {
    "x": "eduadvocate.platforms.x.spec:XPlatform",
    "bluesky": "eduadvocate.platforms.bluesky.spec:BlueskyPlatform",
    "mastodon": "eduadvocate.platforms.mastodon_api.spec:MastodonPlatform",
    "facebook": "eduadvocate.platforms.facebook_page.spec:FacebookPlatform",
    "instagram": "eduadvocate.platforms.instagram.spec:InstagramPlatform",
    "outbox": "eduadvocate.platforms.outbox.spec:OutboxPlatform",
}

# The settings of the built-in platforms that give the address the adapter connects to (a
# self-hosted server, a proxy). With the secret ones they are the only account settings where
# ``${VAR}`` is read from the environment. Instagram's ``media_base_url`` is not one: Instagram
# fetches from it, so it must be a public address, written out.
ENDPOINTS: dict[str, tuple[str, ...]] = {
    "x": ("base_url",),
    "bluesky": ("service", "video_service"),
    "mastodon": ("instance",),
    "facebook": ("base_url",),
    "instagram": ("base_url",),
    "outbox": (),
}

# Names people write for a platform; only used to suggest the right one.
ALIASES = {
    "twitter": "x",
    "tweet": "x",
    "bsky": "bluesky",
    "fb": "facebook",
    "ig": "instagram",
    "insta": "instagram",
}


@functools.cache
def _entry_points() -> dict[str, str]:
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


@functools.cache
def _all_names() -> frozenset[str]:
    return frozenset(BUILTINS) | frozenset(_entry_points())


class PlatformNames(Set[str]):
    """Every platform name that can be used in the config: the built-ins and those registered
    by other packages, scanned for only when a name that is not built in is looked up, or the
    names are listed (a suggestion, the schema)."""

    def __contains__(self, name: object) -> bool:
        return name in BUILTINS or name in _all_names()

    def __iter__(self) -> Iterator[str]:
        return iter(_all_names())

    def __len__(self) -> int:
        return len(_all_names())


_NAMES = PlatformNames()


def platform_names() -> PlatformNames:
    """Every platform name that can be used in the config (:class:`PlatformNames`)."""
    return _NAMES


def env_settings(name: str) -> tuple[str, ...]:
    """The settings of platform ``name`` where ``${VAR}`` is read from the environment: its
    secrets, then the addresses it connects to (for a platform from another package, its
    settings of kind ``url``)."""
    settings = spec_class(name).settings
    secrets = [key for key, setting in settings.items() if setting.secret]
    if name in BUILTINS:  # a built-in name always means the built-in (see spec_class)
        addresses = [key for key in settings if key in ENDPOINTS[name]]
    else:
        addresses = [key for key, s in settings.items() if s.kind == "url" and not s.secret]
    return (*secrets, *addresses)


@functools.cache
def spec_class(name: str) -> type[PlatformSpec]:
    """The adapter class for a platform name (ConfigError if there is none)."""
    target = BUILTINS.get(name) or _entry_points().get(name)
    if target is None:
        alias = ALIASES.get(name.lower())
        hint = f'did you mean "{alias}"?' if alias else did_you_mean(name, platform_names())
        raise ConfigError(f'unknown platform "{name}"', hint=hint)
    module_name, _, attr = target.partition(":")
    try:
        cls: type[PlatformSpec] = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f'the platform "{name}" ({target}) cannot be loaded: {exc}') from None
    return cls


class RegistryRules:
    """The registry as reading the config's accounts needs it
    (:class:`eduadvocate.config.accounts.AccountRules`)."""

    def names(self) -> frozenset[str]:
        return frozenset(platform_names())

    def settings(self, platform: str) -> Mapping[str, Setting]:
        return spec_class(platform).settings

    def from_env(self, platform: str) -> tuple[str, ...]:
        return env_settings(platform)


ACCOUNT_RULES = RegistryRules()
