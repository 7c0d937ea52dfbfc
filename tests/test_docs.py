"""Docs cannot drift: every command and every check code is in the README, and the README's first
command and the example config are what the code accepts."""

from __future__ import annotations

import re

from eduadvocate.cli.main import app
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def test_readme_opens_with_the_two_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    assert "eduadvocate check --config config.example.yaml" in blocks[0]
    assert blocks[1].strip().splitlines()[-1] == "bash scripts/test"
    assert "bash scripts/test" in (REPO / ".ci" / "run").read_text()


def test_every_command_is_documented_with_help() -> None:
    import typer.main

    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert f"`eduadvocate {name}" in README, name
        assert command.help, name


def test_every_check_code_is_documented() -> None:
    codes: set[str] = set()
    for path in (REPO / "src" / "eduadvocate").rglob("*.py"):
        text = path.read_text()
        codes |= set(re.findall(r'Problem\(\s*"([a-z0-9-]+)"', text))
        codes |= set(re.findall(r'(?:error|add|problem)\(\s*"([a-z][a-z0-9]*-[a-z0-9-]+)"', text))
        codes |= set(re.findall(r'Finding\(\s*"([a-z0-9-]+)"', text))
        codes |= set(re.findall(r'code="([a-z0-9-]+)"', text))
    missing = sorted(c for c in codes if f"`{c}`" not in README)
    assert missing == []
    assert len(codes) > 30


def test_example_config_documents_every_platform() -> None:
    text = (REPO / "config.example.yaml").read_text()
    for platform in ("outbox", "x", "bluesky", "mastodon", "facebook", "instagram"):
        assert f"platform: {platform}\n" in text
    assert "${" in text


def test_committed_schema_matches_the_code() -> None:
    """posts/*.yaml point editors at .eduadvocate/posts.schema.json: it must be current."""
    import json

    from eduadvocate.content.schema import json_schema
    from eduadvocate.platforms.registry import platform_names

    committed = json.loads((REPO / ".eduadvocate" / "posts.schema.json").read_text())
    assert committed == json_schema(sorted(platform_names())), (
        "run: eduadvocate schema > .eduadvocate/posts.schema.json"
    )


def test_deployment_examples_use_real_commands() -> None:
    import yaml

    from eduadvocate.timing.timespec import parse_every

    cron = (REPO / "examples" / "crontab").read_text()
    line = next(x for x in cron.splitlines() if x.startswith("*/"))
    parse_every(" ".join(line.split()[:5]))  # a valid cron schedule
    assert "eduadvocate publish --config config.yaml" in line
    unit = (REPO / "examples" / "eduadvocate.service").read_text()
    assert "eduadvocate schedule --config config.yaml --quiet" in unit
    worker = (REPO / "examples" / "eduadvocate@.service").read_text()
    assert "eduadvocate schedule --config config.yaml --quiet" in worker
    assert "EDUADVOCATE_LEDGER=postgresql://" in worker
    workflow = yaml.safe_load((REPO / "examples" / "github-actions.yml").read_text())
    steps = [s.get("run", "") for job in workflow["jobs"].values() for s in job["steps"]]
    assert "eduadvocate check --config config.yaml --format github" in steps
    # The text report goes to the job log and summary; tests/test_examples.py runs the steps.
    assert any("eduadvocate publish --config config.yaml" in s for s in steps)
    assert "Running it" in README


ARCHITECTURE = REPO / "docs" / "ARCHITECTURE.md"
PACKAGE = REPO / "src" / "eduadvocate"


def _heading_anchors(markdown: str) -> set[str]:
    """GitHub's anchors for a Markdown file's headings: lower case, punctuation dropped, spaces
    as hyphens."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", markdown, re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_architecture_names_every_package_and_platform_folder() -> None:
    """docs/ARCHITECTURE.md says what each part owns: a new folder (a package or a platform)
    must be added to it, as ``core/`` or ``platforms/bluesky/``."""
    from eduadvocate.platforms.registry import BUILTINS

    text = ARCHITECTURE.read_text()
    folders = {
        init.parent.relative_to(PACKAGE).as_posix()
        for init in PACKAGE.rglob("__init__.py")
        if init.parent != PACKAGE
    }
    platforms = {
        "/".join(target.partition(":")[0].split(".")[1:-1]) for target in BUILTINS.values()
    }
    assert platforms <= folders
    assert len(platforms) == len(BUILTINS)
    missing = sorted(f for f in folders | platforms if f"{f}/" not in text)
    assert missing == [], "name these folders in docs/ARCHITECTURE.md"


def test_architecture_links_point_at_files_and_headings() -> None:
    """Every relative link in docs/ARCHITECTURE.md reaches a file that exists, and a link to a
    heading (``#exit-codes``, ``../README.md#exit-codes``) reaches a heading that exists."""
    text = ARCHITECTURE.read_text()
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert len(links) > 20
    broken = []
    for link in links:
        if re.match(r"[a-z][a-z0-9+.-]*:", link):  # https:, mailto: …
            continue
        target, _, anchor = link.partition("#")
        path = (ARCHITECTURE.parent / target).resolve() if target else ARCHITECTURE
        if not path.is_file() or (anchor and anchor not in _heading_anchors(path.read_text())):
            broken.append(link)
    assert broken == []


def test_architecture_lists_every_exit_code_and_ledger_state() -> None:
    """The contracts in docs/ARCHITECTURE.md follow the code: every ExitCode (number and name)
    and every ledger state."""
    from eduadvocate.core.errors import ExitCode
    from eduadvocate.ledger.base import State

    text = ARCHITECTURE.read_text()
    for code in ExitCode:
        assert f"| {int(code)} | `{code.name}` |" in text, code
    for state in State:
        assert state.value in text, state


def test_architecture_draws_the_layers_import_linter_enforces() -> None:
    """The diagram of section 1 lists, top to bottom, the layers of pyproject.toml's ``layers``
    contract, siblings written ``a | b`` as there."""
    import tomllib

    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"
    ]
    (layers,) = [c["layers"] for c in contracts if c["id"] == "layers"]
    section = ARCHITECTURE.read_text().split("## 1. The parts", 1)[1]
    diagram = re.search(r"```\n(.*?)```", section, re.S)
    assert diagram is not None
    drawn = [
        match.group(1)
        for line in diagram.group(1).splitlines()
        if (match := re.match(r"[\s└─]*([a-z_]+(?: \| [a-z_]+)*)", line))
    ]
    assert drawn == layers
