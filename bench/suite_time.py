"""How long the test suite takes, before and after a change, measured in one run on one machine.

Target (issue 13): `scripts/test --fast` (lint, types and every test that needs no service) in
under 60 s on 2 cores, and the full suite at least a third faster than before. Measured in one
run here (2 cores, other work on the machine): the full suite 12.0 min before (f77c864, one
process) and 5.9 min after (one worker per core); the quick loop 3.3 min before (`-m "not
slow"`) and 52 s after (`--fast`, lint and types with warm caches included).

    .venv/bin/python bench/suite_time.py [--before REV] [--after REV] [--only fast|full]

``--before`` defaults to the commit before issue 13's test work; ``--after`` to the working tree.
A commit is checked out with ``git worktree add`` into a temporary folder (removed afterwards)
and tested against its own ``src`` (PYTHONPATH) with this venv's packages and tests/js's npm
packages. Each side runs its pytest as its own scripts/test does (the same flags and markers); a
side whose scripts/test has no ``--fast`` runs its documented quick loop, ``-m "not slow"``, for
the fast subset. For a side with ``--fast``, its fast line also times lint and types as
``scripts/test --fast`` runs them. Suites alternate (before, after, before, after) so that drift
in the machine's load hits both; each line says how many tests passed, so a figure from a red run
shows as such.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
BEFORE = "f77c864"  # main before issue 13's tests work: one pytest process, no fast subset
WORKTREE = "WORKTREE"
# A pytest line of scripts/test: `[exec ].venv/bin/python -m pytest ARGS "$@"`.
PYTEST_LINE = re.compile(r'^\s*(?:exec\s+)?\.venv/bin/python -m pytest(.*?)"\$@"\s*$', re.M)
# The lint and type lines of scripts/test (`.venv/bin/ruff ...`, mypy, lint-imports).
LINT_LINE = re.compile(r"^\s*(\.venv/bin/(?:ruff|mypy|lint-imports)\b.*?)\s*$", re.M)


@dataclass
class Side:
    """One tree to time: its folder and the environment its tests run in."""

    name: str
    root: Path
    env: dict[str, str]

    def script(self) -> str:
        return (self.root / "scripts" / "test").read_text(encoding="utf-8")

    def pytest_args(self, suite: str) -> list[str]:
        """The arguments its scripts/test gives pytest for the ``suite`` ("full" or "fast")."""
        lines = [shlex.split(args) for args in PYTEST_LINE.findall(self.script())]
        fast = [args for args in lines if "-m" in args]
        full = [args for args in lines if "-m" not in args]
        if suite == "full":
            return full[0]
        return fast[0] if fast else ["-m", "not slow"]

    def lint_commands(self) -> list[list[str]]:
        """What `scripts/test --fast` runs before pytest (nothing for a side without it)."""
        script = self.script()
        if "--fast" not in script:
            return []
        return [shlex.split(line) for line in LINT_LINE.findall(script)]


@contextlib.contextmanager
def checkout(rev: str) -> Iterator[Side]:
    """The working tree as it is, or ``rev`` in a temporary git worktree."""
    if rev == WORKTREE:
        yield Side("working tree", REPO, dict(os.environ))
        return
    sha = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()
    folder = Path(tempfile.mkdtemp(prefix="eduadvocate-bench-")) / sha
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(folder), sha],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    try:
        modules = REPO / "tests" / "js" / "node_modules"
        if modules.is_dir():
            (folder / "tests" / "js" / "node_modules").symlink_to(modules)
        # Its own src first: this venv's editable install points at the working tree's.
        env = {**os.environ, "PYTHONPATH": str(folder / "src")}
        yield Side(sha, folder, env)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=REPO, check=False)
        shutil.rmtree(folder.parent, ignore_errors=True)


def run_timed(argv: list[str], side: Side, log: Path) -> tuple[float, int, str]:
    """Wall seconds, exit status and pytest's closing line (or the last line) of one command."""
    began = time.monotonic()
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {shlex.join(argv)}\n")
        out.flush()
        done = subprocess.run(
            argv, cwd=side.root, env=side.env, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    seconds = time.monotonic() - began
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    closing = next(
        (line.strip("= ") for line in reversed(lines) if re.search(r"\d+ (passed|failed)", line)),
        lines[-1] if lines else "",
    )
    return seconds, done.returncode, closing


def time_suite(side: Side, suite: str, logs: Path) -> str:
    log = logs / f"{side.name.replace(' ', '-')}-{suite}.log"
    log.unlink(missing_ok=True)
    lint_s = 0.0
    if suite == "fast":
        for command in side.lint_commands():
            argv = [str(VENV_BIN / Path(command[0]).name), *command[1:]]
            seconds, status, _ = run_timed(argv, side, log)
            lint_s += seconds
            if status:
                return f"{side.name:>14} {suite}: lint/types failed ({log})"
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    argv += side.pytest_args(suite)
    seconds, status, closing = run_timed(argv, side, log)
    lint = f" + lint/types {lint_s:.1f} s = {lint_s + seconds:.0f} s" if lint_s else ""
    flags = shlex.join(side.pytest_args(suite))
    return (
        f"{side.name:>14} {suite}: pytest {seconds:.0f} s ({seconds / 60:.1f} min){lint}"
        f" [exit {status}: {closing}] pytest {flags}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default=BEFORE, help=f"a commit (default {BEFORE})")
    parser.add_argument("--after", default=WORKTREE, help="a commit (default: the working tree)")
    parser.add_argument("--only", choices=("fast", "full"), help="time one suite only")
    parser.add_argument("--logs", type=Path, default=Path(tempfile.gettempdir()) / "suite_time")
    args = parser.parse_args()
    args.logs.mkdir(parents=True, exist_ok=True)
    suites = [args.only] if args.only else ["fast", "full"]
    print(f"{os.cpu_count()} cores; logs in {args.logs}", flush=True)
    with checkout(args.before) as before, checkout(args.after) as after:
        for suite in suites:
            for side in (before, after):
                print(time_suite(side, suite, args.logs), flush=True)


if __name__ == "__main__":
    main()
