"""How links are tagged for analytics (the ``utm:`` setting of the config's defaults and of a
posts file), and its templates: ``{platform}``, ``{campaign}``, ``{post}`` and ``{account}`` in
the values, ``{{``/``}}`` for literal braces, and nothing else.

Filled by plain substitution, never ``str.format``: a volunteer's file must not reach format specs
(``{platform:>30000000}`` allocates gigabytes), conversions or attribute access
(``{post.__class__}`` would print object internals into a public post). The loader reports what
is refused with its file:line (:func:`utm_template_problems`); :func:`fill_utm` leaves anything
it does not know as written and never raises.

Tagging is on unless turned off; :mod:`eduadvocate.compose.render` still leaves it off a post on
a platform that counts links in full (Bluesky) where it would crowd out the hashtags or the text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

UTM_KEYS = ("enabled", "source", "medium", "campaign", "content", "domains")  # of ``utm:``
UTM_FIELDS = ("platform", "campaign", "post", "account")  # what a template fills in
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_SHOWN = 40  # characters of a refused field quoted back in a message


@dataclass(frozen=True, slots=True)
class UtmSettings:
    """How links are tagged for analytics. ``{platform}``, ``{campaign}``, ``{post}`` and
    ``{account}`` are replaced in each value."""

    enabled: bool = True
    source: str = "{platform}"
    medium: str = "social"
    campaign: str = "{campaign}"
    content: str = "{post}"
    # Empty: every http(s) link is tagged; else only links to these hosts (and their subdomains).
    domains: tuple[str, ...] = ()


def utm_template_problems(template: str) -> list[str]:
    """Why each refused ``{…}`` in the template cannot be filled (empty: the template is fine)."""
    out: list[str] = []
    for match in _TOKEN.finditer(template):
        whole, name = match.group(0), match.group(1)
        if whole in ("{{", "}}") or name in UTM_FIELDS:
            continue
        if name is None:
            out.append(f'an unmatched brace "{whole}": write {{{{ or }}}} for a literal one')
        else:
            out.append(_refused(name))
    return out


def _refused(name: str) -> str:
    shown = "{" + (name if len(name) <= _SHOWN else name[:_SHOWN] + "…") + "}"
    if ":" in name:
        return f"{shown} has a format spec, which UTM values do not take"
    if "!" in name:
        return f"{shown} has a conversion (!…), which UTM values do not take"
    if "." in name:
        return f"{shown} uses attribute access (.…), which UTM values do not take"
    if "[" in name:
        return f"{shown} uses index access ([…]), which UTM values do not take"
    return f"{shown} is not a UTM field"


UTM_HINT = "use {platform}, {campaign}, {post} or {account}, and {{ or }} for a literal brace"


def fill_utm(template: str, values: dict[str, str]) -> str:
    """The template with its known fields filled in; anything refused stays as written."""
    return "".join(
        text if field is None else values.get(field, text) for text, field in _pieces(template)
    )


def fill_utm_around(template: str, values: dict[str, str], field: str) -> tuple[str, ...]:
    """The template filled as :func:`fill_utm` fills it, but for ``field``: the texts between
    its places, so that ``value.join(texts) == fill_utm(template, {**values, field: value})``
    for every value (a value goes in as written, never filled again). Render fills the fields
    one post shares with the next once, and only the post's own for each post."""
    out: list[str] = []
    current: list[str] = []
    for text, name in _pieces(template):
        if name == field:
            out.append("".join(current))
            current = []
        else:
            current.append(text if name is None else values.get(name, text))
    out.append("".join(current))
    return tuple(out)


@functools.lru_cache(maxsize=256)  # a campaign has a few templates, filled for every rendering
def _pieces(template: str) -> tuple[tuple[str, str | None], ...]:
    """The template as (text, field) pieces: text as written (braces doubled made single), or
    a field's name with the text it stays as when it has no value."""
    out: list[tuple[str, str | None]] = []
    pos = 0
    for match in _TOKEN.finditer(template):
        out.append((template[pos : match.start()], None))
        whole, name = match.group(0), match.group(1)
        if whole in ("{{", "}}"):
            out.append((whole[0], None))
        else:
            out.append((whole, name))
        pos = match.end()
    out.append((template[pos:], None))
    return tuple(out)
