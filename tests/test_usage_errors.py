"""Command-line usage errors (Typer's, from the Click it vendors) print Click's usage, the help
hint and one ``Error:`` line on stderr, exit 2, and never a traceback. cli/main.py reaches them
through Typer's public ``TyperException`` only; these pin the exact bytes."""

from __future__ import annotations

import pytest

from tests.test_cli import run


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (
            ["--bogus"],
            "Usage: eduadvocate [OPTIONS] COMMAND [ARGS]...\n"
            "Try 'eduadvocate --help' for help.\n\n"
            "Error: No such option: --bogus\n",
        ),
        (
            ["nosuchcommand"],
            "Usage: eduadvocate [OPTIONS] COMMAND [ARGS]...\n"
            "Try 'eduadvocate --help' for help.\n\n"
            "Error: No such command 'nosuchcommand'.\n",
        ),
        (
            ["status", "--state", "nope"],
            "Usage: eduadvocate status [OPTIONS]\n"
            "Try 'eduadvocate status --help' for help.\n\n"
            "Error: Invalid value for '--state' / '-s': 'nope' is not one of 'pending', 'claimed',"
            " 'published', 'failed', 'unknown', 'skipped', 'cancelled'.\n",
        ),
        (
            ["ledger", "import"],
            "Usage: eduadvocate ledger import [OPTIONS] {file}\n"
            "Try 'eduadvocate ledger import --help' for help.\n\n"
            "Error: Missing argument 'file'.\n",
        ),
    ],
    ids=["unknown option", "unknown command", "bad choice", "missing argument"],
)
def test_a_usage_error_prints_usage_hint_and_error_then_exits_2(
    args: list[str], stderr: str
) -> None:
    result = run(*args)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", stderr)
