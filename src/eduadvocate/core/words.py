"""Counting things in words: ``1 post``, ``2 posts``, ``1 delivery``, ``3 deliveries``.

Every message that counts something goes through :func:`plural`, so none reads "1 deliveries"
or "post(s)" (tests/test_words.py refuses hand-made plurals in the source).
"""

from __future__ import annotations

# Nouns that do not just take an s, as the messages use them.
_IRREGULAR = {"delivery": "deliveries", "reply": "replies", "entry": "entries"}


def plural(n: float, noun: str, many: str | None = None, *, thousands: bool = False) -> str:
    """``n`` and the noun, singular for exactly one: ``plural(2, "post")`` is ``2 posts``.
    ``many``: the plural where it is not the noun with an s (known ones are looked up: a noun
    ending in "delivery" becomes "deliveries"). ``thousands``: ``1,200`` rather than ``1200``.
    A fraction is written short: ``1.5 hours``."""
    number = f"{n:,}" if thousands else f"{n:g}" if isinstance(n, float) else str(n)
    return f"{number} {noun if n == 1 else many or plural_of(noun)}"


def plural_of(noun: str) -> str:
    """The noun's plural (the last word's): ``outbox delivery`` → ``outbox deliveries``."""
    head, _, last = noun.rpartition(" ")
    many = _IRREGULAR.get(last, last + "s")
    return f"{head} {many}" if head else many
