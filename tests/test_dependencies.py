"""Every library imported under src/ is declared in pyproject.toml, and every declared one is used.

The import statements of every module are read from its AST at any depth (heavy libraries are
imported inside functions, and a TYPE_CHECKING import is a dependency all the same). Each
top-level name that is neither the standard library nor eduadvocate is mapped to the distribution
that installs it (``importlib.metadata.packages_distributions``); that distribution must be a
dependency, or be in an extra a user installs (``postgres``), not only in ``test``.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"
TEST_EXTRAS = frozenset({"test", "sample-media"})  # what only the tests and the tools install
# Declared but never imported, on purpose.
NOT_IMPORTED = {"tzdata": "zoneinfo reads its time zones where the system has none"}


def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them (``Mastodon.py`` → ``mastodon-py``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
    assert found is not None, requirement
    return canonical(found.group())


def third_party_imports() -> dict[str, set[str]]:
    """Top-level import names outside the standard library → the modules that import them."""
    found: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top != "eduadvocate":
                    found.setdefault(top, set()).add(path.relative_to(REPO).as_posix())
    return found


def declared() -> tuple[set[str], set[str]]:
    """(distributions a user installs: dependencies and user-facing extras, test-only ones)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    installed = {requirement_name(r) for r in project["dependencies"]}
    test_only: set[str] = set()
    for extra, requirements in project.get("optional-dependencies", {}).items():
        names = {requirement_name(r) for r in requirements}
        if extra in TEST_EXTRAS:
            test_only |= names
        else:
            installed |= names
    return installed, test_only - installed


def test_the_scan_sees_lazy_and_module_level_imports() -> None:
    """The walk is not vacuous: typer is imported at module level, tweepy inside a function."""
    imports = third_party_imports()
    assert "src/eduadvocate/cli/main.py" in imports["typer"]
    assert "src/eduadvocate/platforms/x/client.py" in imports["tweepy"]
    assert "src/eduadvocate/platforms/x/client.py" in imports["requests"]


def test_every_library_imported_under_src_is_declared() -> None:
    distributions = packages_distributions()
    installed, test_only = declared()
    problems = []
    for name, where in sorted(third_party_imports().items()):
        found = {canonical(d) for d in distributions.get(name, [])}
        modules = ", ".join(sorted(where))
        if not found:
            problems.append(f"{name} ({modules}) is not installed, so it cannot be mapped")
        elif not found & installed:
            only = " (it is in the test extra only)" if found & test_only else ""
            problems.append(
                f"{name} ({modules}) comes from {', '.join(sorted(found))}, which pyproject.toml"
                f" does not declare in [project.dependencies]{only}"
            )
    assert not problems, "\n".join(problems)


def test_every_declared_dependency_is_imported() -> None:
    """A dependency nothing imports any more (facebook-sdk after its adapter went) is dropped."""
    distributions = packages_distributions()
    used = {canonical(d) for name in third_party_imports() for d in distributions.get(name, [])}
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    unused = {requirement_name(r) for r in project["dependencies"]} - used - set(NOT_IMPORTED)
    assert not unused, f"declared in [project.dependencies], imported nowhere: {sorted(unused)}"
