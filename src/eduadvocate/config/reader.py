"""Reading settings out of YAML nodes: :class:`NodeReader` collects every mistake as a Problem and
goes on (posts files, the config and the defaults they share), so ``check`` shows them all in one
run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from eduadvocate.core.errors import Location, Problem
from eduadvocate.core.suggest import did_you_mean, shown
from eduadvocate.core.yamlfile import YNode

# The code of a config mistake that no more specific code names (README "check problem codes").
CONFIG_CODE = "config-invalid"
VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")  # what {name} in a text can refer to


class NodeReader:
    """Typed values from YAML nodes; a value of the wrong type is a Problem and reads as None.
    ``post`` is the post being read (named on each problem), None outside a post."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.post: str | None = None

    def error(self, code: str, message: str, loc: Location | None, hint: str = "") -> None:
        self.problems.append(Problem(code, "error", message, loc, hint, post=self.post))

    def unknown_keys(self, node: YNode, allowed: Iterable[str], what: str) -> None:
        names = list(allowed)
        for key, loc in node.key_locs.items():
            if key not in names:
                self.error(
                    "unknown-key", f'unknown key "{key}" in {what}', loc, did_you_mean(key, names)
                )

    def string(self, node: YNode | None, what: str) -> str | None:
        if node is None or node.is_null:
            return None
        text = node.text()
        if text is None:
            self.error("wrong-type", f"{what} must be text, not a {kind(node)}", node.loc)
        return text

    def boolean(self, node: YNode | None, what: str) -> bool | None:
        if node is None or node.is_null:
            return None
        if node.kind == "scalar" and isinstance(node.value, bool):
            return node.value
        self.error("wrong-type", f"{what} must be true or false", node.loc)
        return None

    def strings(
        self, node: YNode | None, what: str, *, hashtags: bool = False
    ) -> tuple[str, ...] | None:
        if node is None or node.is_null:
            return None
        items = [node] if node.kind == "scalar" else node.seq if node.kind == "seq" else None
        if items is None:
            self.error("wrong-type", f"{what} must be a list", node.loc)
            return None
        out: list[str] = []
        for item in items:
            if hashtags and item.is_null:
                self.error(
                    "wrong-type",
                    f"an empty item in {what}: an unquoted # starts a YAML comment",
                    item.loc,
                    'write hashtags without the # (FundOurSchools) or in quotes ("#FundOurSchools")',
                )
                continue
            text = self.string(item, f"each item of {what}")
            if text is not None:
                out.append(text)
        return tuple(out)

    def string_map(self, node: YNode | None, what: str) -> dict[str, str]:
        if node is None or node.is_null:
            return {}
        if node.kind != "map":
            self.error("wrong-type", f"{what} must be a mapping of names to values", node.loc)
            return {}
        out: dict[str, str] = {}
        for key, item in node.items.items():
            if what == "vars" and not VAR_NAME.fullmatch(key):
                self.error(
                    "invalid-id",
                    f'the variable name "{shown(key)}" cannot be used as {{name}} in a text',
                    node.key_locs[key],
                    "start with a letter or _, then letters, digits, _ . -",
                )
                continue
            text = self.string(item, f"{what}.{key}")
            if text is not None:
                out[key] = text
        return out


def kind(node: YNode) -> str:
    """What a node is, in a message's words."""
    return {"map": "mapping", "seq": "list", "scalar": "value"}[node.kind]
