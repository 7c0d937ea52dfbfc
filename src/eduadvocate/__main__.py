"""``python -m eduadvocate``: the same as the ``eduadvocate`` command."""

from eduadvocate.cli import run

run()
