"""Campaign-wide defaults for posts (campaign name, time zone, accounts, hashtags, vars, link
tagging, numbering, language): the config's ``defaults:`` and a posts file's top level take the
same keys and are read by the same code (:func:`defaults_from_node`); a file's values override
the config's (:meth:`Defaults.merged`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from eduadvocate.config.reader import NodeReader
from eduadvocate.config.utm import UTM_HINT, UTM_KEYS, UtmSettings, utm_template_problems
from eduadvocate.core.errors import Location, Problem
from eduadvocate.core.yamlfile import YNode

DEFAULTS_HINT = 'see "defaults:" in config.example.yaml and "The posts format" in the README'
DEFAULT_KEYS = (
    "campaign",
    "timezone",
    "accounts",
    "hashtags",
    "vars",
    "utm",
    "numbering",
    "language",
)


@dataclass(frozen=True, slots=True)
class Defaults:
    """Campaign-wide defaults, from the config's ``defaults:`` and overridden by a posts file's top level."""

    campaign: str | None = None
    timezone: str | None = None
    timezone_loc: Location | None = None
    accounts: tuple[str, ...] | None = None
    accounts_loc: Location | None = None
    hashtags: tuple[str, ...] = ()
    hashtags_loc: Location | None = None
    vars: dict[str, str] = field(default_factory=dict)
    utm: UtmSettings | None = None
    numbering: bool | None = None
    language: str | None = None

    def merged(self, over: Defaults) -> Defaults:
        """``over``'s values where it has them, else ours; hashtags add up, vars are merged."""
        return Defaults(
            campaign=over.campaign or self.campaign,
            timezone=over.timezone or self.timezone,
            timezone_loc=over.timezone_loc if over.timezone else self.timezone_loc,
            accounts=over.accounts if over.accounts is not None else self.accounts,
            accounts_loc=over.accounts_loc if over.accounts is not None else self.accounts_loc,
            hashtags=_unique(self.hashtags + over.hashtags),
            hashtags_loc=over.hashtags_loc or self.hashtags_loc,
            vars={**self.vars, **over.vars},
            utm=over.utm or self.utm,
            numbering=over.numbering if over.numbering is not None else self.numbering,
            language=over.language or self.language,
        )


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return tuple(seen)


def defaults_from_node(node: YNode, problems: list[Problem]) -> Defaults:
    """Campaign-wide defaults from the config's ``defaults:`` or a posts file's top level."""
    reader = NodeReader(problems)
    get = node.items.get
    tz = get("timezone")
    acc = get("accounts")
    tags = get("hashtags")
    return Defaults(
        campaign=reader.string(get("campaign"), "campaign"),
        timezone=reader.string(tz, "timezone"),
        timezone_loc=tz.loc if tz else None,
        accounts=reader.strings(acc, "accounts"),
        accounts_loc=acc.loc if acc else None,
        hashtags=reader.strings(tags, "hashtags", hashtags=True) or (),
        hashtags_loc=tags.loc if tags else None,
        vars=reader.string_map(get("vars"), "vars"),
        utm=_utm(reader, get("utm")),
        numbering=reader.boolean(get("numbering"), "numbering"),
        language=reader.string(get("language"), "language"),
    )


def _utm(reader: NodeReader, node: YNode | None) -> UtmSettings | None:
    if node is None or node.is_null:
        return None
    if node.kind == "scalar" and isinstance(node.value, bool):
        return UtmSettings(enabled=node.value)
    if node.kind != "map":
        reader.error("wrong-type", "utm must be true, false or a mapping", node.loc)
        return None
    reader.unknown_keys(node, UTM_KEYS, "utm")
    base = UtmSettings()
    values: dict[str, object] = {}
    for key in ("source", "medium", "campaign", "content"):
        item = node.items.get(key)
        text = reader.string(item, f"utm.{key}")
        if text is not None:
            values[key] = text
            for why in utm_template_problems(text):
                reader.error(
                    "utm-template", f"utm.{key}: {why}", item.loc if item else None, UTM_HINT
                )
    enabled = reader.boolean(node.items.get("enabled"), "utm.enabled")
    domains = reader.strings(node.items.get("domains"), "utm.domains")
    return UtmSettings(
        enabled=base.enabled if enabled is None else enabled,
        source=str(values.get("source", base.source)),
        medium=str(values.get("medium", base.medium)),
        campaign=str(values.get("campaign", base.campaign)),
        content=str(values.get("content", base.content)),
        domains=tuple(d.lower() for d in domains or ()),
    )


def config_defaults(
    node: YNode | None, accounts: tuple[str, ...], problems: list[Problem]
) -> Defaults:
    """The config's ``defaults:``, each mistake a Problem in ``problems``. Without it, the one
    account (if there is exactly one) is every post's default."""
    if node is None or node.is_null:
        return Defaults(accounts=accounts[:1] if len(accounts) == 1 else None)
    if node.kind != "map":
        NodeReader(problems).error(
            "wrong-type", "defaults must be a mapping", node.loc, "write defaults: {timezone: …}"
        )
        return Defaults()
    NodeReader(problems).unknown_keys(node, DEFAULT_KEYS, "defaults")
    start = len(problems)
    defaults = defaults_from_node(node, problems)
    # The readers shared with posts files leave some hints out; in the config, say where to look.
    problems[start:] = [p if p.hint else replace(p, hint=DEFAULTS_HINT) for p in problems[start:]]
    return defaults
