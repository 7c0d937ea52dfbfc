"""The offline commands import no network, scheduler or database library (start-up speed, and
they must work where those are broken). Timing figures live in bench/startup.py."""

from __future__ import annotations

import subprocess
import sys

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
PROBE = """
import sys
sys.argv = ["eduadvocate", *{args!r}]
from eduadvocate.cli import run
try:
    run()
except SystemExit:
    pass
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})), file=sys.stderr)
"""


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
        [sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.stderr.strip().splitlines()[-1:] in ([], [""])


def test_version_does_not_even_import_typer() -> None:
    code = "import sys; sys.argv=['eduadvocate','--version']\nfrom eduadvocate.cli import run\ntry:\n run()\nexcept SystemExit: pass\nprint('typer' in sys.modules, file=sys.stderr)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stderr.strip() == "False"
