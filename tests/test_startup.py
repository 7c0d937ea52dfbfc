"""The offline commands import no network, scheduler or database library (start-up speed, and
they must work where those are broken). Timing figures live in bench/startup.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

HEAVY = (
    "tweepy",
    "facebook",
    "apscheduler",
    "atproto",
    "mastodon",
    "sqlalchemy",
    "psycopg",
    "requests",
    "httpx",
    "pydantic",
)
# Runs the command, then prints the modules loaded that ``{loaded}`` (an expression of ``m``,
# a module's name) picks.
PROBE = """
import sys
sys.argv = ["eduadvocate", *{args!r}]
from eduadvocate.cli import run
try:
    run()
except SystemExit:
    pass
print(",".join(sorted(m for m in sys.modules if {loaded})), file=sys.stderr)
"""
HEAVY_LOADED = f"m.split('.')[0] in {HEAVY!r}"


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["--help"],
        ["check", "--config", "config.example.yaml"],
        ["render", "--config", "config.example.yaml"],
        ["calendar", "--config", "config.example.yaml"],
        ["schema"],
    ],
    ids=" ".join,
)
def test_offline_commands_import_no_heavy_library(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args, loaded=HEAVY_LOADED)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.stderr.strip().splitlines()[-1:] in ([], [""])


@pytest.mark.parametrize(
    "args",
    [
        ["inbox"],
        ["inbox", "--format", "json"],
        ["inbox", "done", "1"],
        ["inbox", "open", "1"],
        ["people", "suggest"],
        ["people", "suggest", "--format", "yaml"],
    ],
)
def test_the_inbox_reads_the_ledger_without_any_network_library(
    args: list[str], tmp_path: Path
) -> None:
    """Only `inbox pull` talks to the platforms; listing, marking and `people suggest` read the
    ledger alone."""
    (tmp_path / "posts").mkdir()
    (tmp_path / "config.yaml").write_text("accounts:\n  out: {platform: outbox}\n")
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args, loaded=HEAVY_LOADED)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert result.stderr.splitlines()[-1] == "", result.stderr  # the probe's line: no module


def test_version_does_not_even_import_typer() -> None:
    code = "import sys; sys.argv=['eduadvocate','--version']\nfrom eduadvocate.cli import run\ntry:\n run()\nexcept SystemExit: pass\nprint('typer' in sys.modules, file=sys.stderr)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stderr.strip() == "False"


def test_help_imports_nothing_of_eduadvocate_beyond_the_command_line() -> None:
    """`--help` needs Typer and the options, not the core: `core.errors` and `cli.runtime`
    (dataclasses, enums) are imported where a command runs or fails (issue 14: --help within
    1.1x of a bare Typer app's)."""
    code = (
        "import sys; sys.argv=['eduadvocate','--help']\nfrom eduadvocate.cli import run\n"
        "try:\n run()\nexcept SystemExit: pass\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('eduadvocate'))), file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False
    )
    loaded = result.stderr.strip().splitlines()[-1].split(",")
    beyond = [
        m
        for m in loaded
        if m not in ("eduadvocate", "eduadvocate.cli") and not m.startswith("eduadvocate.cli.")
    ]
    assert beyond == []
    assert "eduadvocate.cli.runtime" not in loaded


RICH_OR_SCAN_LOADED = "m.split('.')[0] == 'rich' or m == 'importlib.metadata'"


@pytest.mark.parametrize(
    "command", [["check", "json"], ["check", "github"], ["render", "json"], ["calendar", "json"]]
)
def test_output_for_machines_imports_neither_rich_nor_the_package_scan(command: list[str]) -> None:
    """Rich (~30 ms of start-up) draws the text output's tables; JSON and GitHub annotations
    are printed without it (cli/plain.py). A campaign that names built-in platforms only is
    read without scanning the installed packages for others (platforms/registry.py: ~20 ms)."""
    args = [command[0], "--config", "config.example.yaml", "--format", command[1]]
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args, loaded=RICH_OR_SCAN_LOADED)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.stderr.strip().splitlines()[-1:] in ([], [""]), result.stderr
