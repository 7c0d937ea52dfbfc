"""The command line. :func:`run` is the console entry point: it answers ``--version`` before
importing Typer (cron wrappers and CI call it to probe the install), and hands everything else to
:mod:`eduadvocate.cli.main`. Commands parse options, call one function of the part below, and
print what it returns.

May import: every part (it is the top layer); nothing imports it. Heavy libraries (SDKs,
database drivers) only inside the command that needs them: start-up stays fast.
"""

from __future__ import annotations

import sys
from typing import NoReturn


def run() -> NoReturn:
    if sys.argv[1:] == ["--version"]:
        from eduadvocate import __version__

        print(f"eduadvocate {__version__}")
        sys.exit(0)
    from eduadvocate.cli.main import run as main

    main()
