"""What a message says back about the user's own words: the closest valid choice
(:func:`did_you_mean`) and the value itself, quoted so it cannot hide or reorder anything
(:func:`shown`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: str, choices: Iterable[str], *, list_choices: bool = True) -> str:
    """'did you mean "x"?' for the closest choice, else (``list_choices``) a short list of the
    valid ones, else ""."""
    options = sorted(choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f'did you mean "{close[0]}"?'
    if list_choices and options and len(options) <= 12:
        return "expected one of: " + ", ".join(options)
    return ""


def shown(value: str, limit: int = 40) -> str:
    """A user's value as quoted in a message: cut short if long, and escaped (``\\u202e``) if it
    holds anything invisible, so a message cannot reorder or hide what it quotes."""
    text = value if len(value) <= limit else value[:limit] + "…"
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
