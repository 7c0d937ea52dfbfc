"""The import graph stays layered and free of cycles (issue 13).

``lint-imports`` checks the contracts in pyproject.toml between packages. These tests read the
same graph (grimp's, which import-linter builds on) module by module: no two modules may import
each other through any chain, and no import may go up a layer of those contracts, named with its
file and line when one does.

Imports under ``TYPE_CHECKING`` are in the graph. A cycle through one is still a cycle: the two
modules cannot be understood, typed or moved apart; and one edge of any cycle goes up a layer,
which a type-only import may not do either. Imports inside functions are in it too.
"""

from __future__ import annotations

import importlib.util
import itertools
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grimp
import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("eduadvocate", cache_dir=None)  # no cache written into the clone


def _contracts(kind: str) -> list[dict[str, Any]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    return [c for c in contracts if c["type"] == kind]


def _where(graph: grimp.ImportGraph, importer: str, imported: str) -> str:
    """``path:line`` of each import of ``imported`` in ``importer``."""
    spec = importlib.util.find_spec(importer)
    origin = spec.origin if spec and spec.origin else importer
    path = origin.removeprefix(f"{REPO}/")
    lines = [
        d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)
    ]
    return ", ".join(f"{path}:{n}" for n in sorted(lines)) or path


def _strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """The groups of modules that reach each other (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    work: list[tuple[str, Iterator[str]]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        pending: str | None = root
        while pending is not None or work:
            if pending is not None:  # entering a module
                index[pending] = low[pending] = len(index)
                stack.append(pending)
                on_stack.add(pending)
                imported = sorted(graph.find_modules_directly_imported_by(pending))
                work.append((pending, iter(imported)))
                pending = None
            module, children = work[-1]
            child = next(children, None)
            if child is None:  # leaving it
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[module])
                if low[module] == index[module]:
                    group = []
                    while (member := stack.pop()) != module:
                        on_stack.discard(member)
                        group.append(member)
                    on_stack.discard(module)
                    if group:
                        groups.append(sorted([module, *group]))
            elif child not in index:
                pending = child
            elif child in on_stack:
                low[module] = min(low[module], index[child])
    return groups


def _shortest_cycle(graph: grimp.ImportGraph, group: list[str]) -> list[str]:
    """One shortest cycle through the first module of a strongly connected group."""
    start, members = group[0], set(group)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for module in frontier:
            for child in sorted(graph.find_modules_directly_imported_by(module) & members):
                if child == start:
                    path = [module]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if child not in came_from:
                    came_from[child] = module
                    following.append(child)
        frontier = following
    return group  # not reached: every member of a group is on a cycle through the others


def test_no_module_imports_itself_back_through_any_chain(graph: grimp.ImportGraph) -> None:
    """A cycle, however long, is named hop by hop with the file and line of each import."""
    cycles = []
    for group in _strongly_connected(graph):
        cycle = _shortest_cycle(graph, group)
        hops = [f"  {a} -> {b} ({_where(graph, a, b)})" for a, b in itertools.pairwise(cycle)]
        cycles.append(f"{len(group)} modules import each other, e.g.:\n" + "\n".join(hops))
    assert not cycles, "import cycles (move what both need to the lower one):\n" + "\n".join(cycles)


@dataclass(frozen=True)
class _Layers:
    """A layers contract: each module under ``container`` has a layer (0 is the top) and, in a
    layer of independent siblings, the sibling it belongs to."""

    container: str
    layers: list[list[str]]
    independent: list[bool]
    ignored: frozenset[tuple[str, str]]

    def place(self, module: str) -> tuple[int, str] | None:
        if not module.startswith(f"{self.container}."):
            return None
        child = module.removeprefix(f"{self.container}.").split(".")[0]
        for level, siblings in enumerate(self.layers):
            if child in siblings:
                return level, child
        return None

    def why_not(self, importer: str, imported: str) -> str | None:
        """Why ``importer`` may not import ``imported`` (None: it may)."""
        here, there = self.place(importer), self.place(imported)
        if here is None or there is None or here[1] == there[1]:
            return None
        if (importer, imported) in self.ignored:
            return None
        if there[0] < here[0]:
            return f"{there[1]} is above {here[1]}"
        if there[0] == here[0] and self.independent[here[0]]:
            return f"{here[1]} and {there[1]} are independent siblings"
        return None


def _layer_contracts() -> list[_Layers]:
    out = []
    for contract in _contracts("layers"):
        layers, independent = [], []
        for layer in contract["layers"]:
            separator = "|" if "|" in layer else ":"
            layers.append([name.strip() for name in layer.split(separator)])
            independent.append(separator == "|")
        ignored = set()
        for line in contract.get("ignore_imports", []):
            importer, imported = line.split("->")
            ignored.add((importer.strip(), imported.strip()))
        for container in contract["containers"]:
            out.append(_Layers(container, layers, independent, frozenset(ignored)))
    return out


def test_every_package_has_a_layer(graph: grimp.ImportGraph) -> None:
    """A new folder must be placed in the layers (lint-imports' exhaustive option says the
    same); without a place, the next test would not see its imports."""
    unplaced = []
    for contract in _layer_contracts():
        for module in graph.find_children(contract.container):
            if contract.place(module) is None and not module.endswith(".__main__"):
                unplaced.append(module)
    assert not unplaced, f"not in any layer of pyproject.toml's contracts: {sorted(unplaced)}"


def test_no_import_goes_up_a_layer(graph: grimp.ImportGraph) -> None:
    """Every import, at module level, in a function or under TYPE_CHECKING, points down the
    layers of pyproject.toml (or stays in its own package)."""
    contracts = _layer_contracts()
    assert contracts, "pyproject.toml has no layers contract"
    wrong = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            for contract in contracts:
                why = contract.why_not(importer, imported)
                if why is not None:
                    where = _where(graph, importer, imported)
                    wrong.append(f"  {where}: {importer} imports {imported}, but {why}")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_a_cycle_is_found_and_named() -> None:
    """The cycle search finds a cycle of three among other imports, shortest way round."""
    made = grimp.ImportGraph()
    for importer, imported in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.d", "p.a")]:
        made.add_import(importer=importer, imported=imported, line_number=1, line_contents="")
    made.add_import(importer="p.b", imported="p.a", line_number=2, line_contents="")
    groups = _strongly_connected(made)
    assert groups == [["p.a", "p.b", "p.c"]]
    assert _shortest_cycle(made, groups[0]) == ["p.a", "p.b", "p.a"]


def test_the_layer_rules_see_the_imports_issue_13_removed() -> None:
    """Read against pyproject.toml, the imports issue 13 removed would each fail."""
    top = next(c for c in _layer_contracts() if c.container == "eduadvocate")
    assert top.why_not("eduadvocate.config.load", "eduadvocate.platforms.registry")
    assert top.why_not("eduadvocate.config.load", "eduadvocate.content.load")
    assert top.why_not("eduadvocate.compose.render", "eduadvocate.campaign.workspace")
    assert top.why_not("eduadvocate.content.load", "eduadvocate.config.model") is None
    inner = next(c for c in _layer_contracts() if c.container == "eduadvocate.platforms")
    assert inner.why_not("eduadvocate.platforms.publishing", "eduadvocate.platforms.base")
    assert inner.why_not("eduadvocate.platforms.x.spec", "eduadvocate.platforms.bluesky.spec")
