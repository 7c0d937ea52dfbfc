"""Who amplifies the campaign: the accounts that repost, quote, reply to, mention or comment on
the campaign's accounts, counted from the inbox the ledger holds (``inbox pull`` fills it).

One pure function, :func:`amplifiers`, gives what ``people suggest`` and the report's
"amplifiers" section both show: per author (platform + handle) the items of each kind, the
campaign posts they engaged with, when they were first and last seen, and the ``people.yaml``
person they already are, if any. :func:`people_snippet` writes the ones not there yet as
``people.yaml`` entries. No network, no ledger: the caller reads the items.

Handles are compared as the platforms treat them: without a leading ``@``, case-insensitively,
and on Mastodon as ``user@server`` (a notification names an account of the instance itself by
``user`` alone, so the account's own instance is added).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eduadvocate.content.model import Person
from eduadvocate.core.words import plural
from eduadvocate.ledger.base import InboxItem

# The kinds that count, in the order they are shown: sharing first, then talking.
KINDS = ("repost", "quote", "reply", "mention", "comment")
MASTODON = "mastodon"


@dataclass(frozen=True, slots=True)
class Amplifier:
    """One account on one platform that engaged with the campaign's accounts."""

    platform: str
    handle: str  # as people.yaml would write it (Mastodon: user@server)
    name: str | None  # its display name, the latest seen
    url: str | None  # its profile
    counts: tuple[tuple[str, int], ...]  # (kind, items) for every kind of KINDS, in that order
    posts: int  # campaign deliveries it engaged with
    first_seen: datetime
    last_seen: datetime
    person: str | None  # its key in people.yaml, when it is already there

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)

    def count(self, kind: str) -> int:
        return dict(self.counts).get(kind, 0)


def normal_handle(platform: str, handle: str, server: str | None = None) -> str:
    """A handle as compared: no leading ``@``, case folded; on Mastodon ``user@server``, the
    server given for an account of the instance itself (a bare ``user``)."""
    bare = handle.strip()
    bare = bare[1:] if bare[:1] in ("@", "＠") else bare
    bare = bare.casefold()
    if platform == MASTODON and "@" not in bare and server:
        bare = f"{bare}@{server.casefold()}"
    return bare


def amplifiers(
    items: Iterable[InboxItem],
    people: Mapping[str, Person],
    *,
    since: datetime | None = None,
    platform: str | None = None,
    servers: Mapping[str, str] | None = None,
    own: Collection[tuple[str, str]] = (),
) -> list[Amplifier]:
    """The authors of ``items`` ranked by items in all (then the most recently seen first).

    ``since``: only items made then or later. ``platform``: only that platform's.
    ``servers``: each Mastodon account's instance host, for authors named without a server.
    ``own``: (platform, handle) of the campaign's own accounts, never counted (the pull already
    leaves out their posts; an account that mentions itself is not an amplifier)."""
    servers = servers or {}
    mine = {(p, normal_handle(p, h)) for p, h in own}
    known = {
        (p, normal_handle(p, h)): person.key
        for person in people.values()
        for p, h in person.handles.items()
    }
    seen: dict[tuple[str, str], _Tally] = {}
    for it in items:
        if it.kind not in KINDS:
            continue
        if platform is not None and it.platform != platform:
            continue
        if since is not None and it.created_at < since:
            continue
        server = servers.get(it.account)
        handle = normal_handle(it.platform, it.author_handle, server)
        key = (it.platform, handle)
        if not handle or key in mine:
            continue
        tally = seen.get(key)
        if tally is None:
            tally = seen[key] = _Tally(it, server)
        tally.add(it)
    found = [t.done(known.get(key)) for key, t in seen.items()]
    found.sort(key=lambda a: (-a.total, -a.last_seen.timestamp(), a.platform, a.handle))
    return found


class _Tally:
    def __init__(self, first: InboxItem, server: str | None) -> None:
        self.platform = first.platform
        self.server = server
        self.latest = first
        self.first = first.created_at
        self.kinds = dict.fromkeys(KINDS, 0)
        self.posts: set[int] = set()

    def add(self, it: InboxItem) -> None:
        self.kinds[it.kind] += 1
        if it.delivery_id is not None:
            self.posts.add(it.delivery_id)
        self.first = min(self.first, it.created_at)
        if it.created_at > self.latest.created_at:  # a tie keeps the one read first
            self.latest = it

    def done(self, person: str | None) -> Amplifier:
        last = self.latest
        handle = last.author_handle.strip()
        handle = handle[1:] if handle[:1] in ("@", "＠") else handle
        if self.platform == MASTODON and "@" not in handle and self.server:
            handle = f"{handle}@{self.server}"
        return Amplifier(
            platform=self.platform,
            handle=handle,
            name=last.author_name,
            url=last.author_url,
            counts=tuple(self.kinds.items()),
            posts=len(self.posts),
            first_seen=self.first,
            last_seen=last.created_at,
            person=person,
        )


def amplifier_dict(a: Amplifier) -> dict[str, Any]:
    """One amplifier as ``people suggest --format json`` and ``report --format json`` give it:
    a contract, fields are only ever added."""
    return {
        "platform": a.platform,
        "handle": a.handle,
        "name": a.name,
        "url": a.url,
        "total": a.total,
        "counts": dict(a.counts),
        "posts": a.posts,
        "first_seen": _iso(a.first_seen),
        "last_seen": _iso(a.last_seen),
        "person": a.person,
    }


# The columns of ``report --format csv --table amplifiers``: one row per amplifier.
CSV_COLUMNS = (
    "platform",
    "handle",
    "name",
    "url",
    "total",
    *KINDS,
    "posts",
    "first_seen",
    "last_seen",
    "person",
)


def csv_row(a: Amplifier) -> dict[str, Any]:
    """One amplifier as a row of ``CSV_COLUMNS``."""
    row = amplifier_dict(a)
    counts = row.pop("counts")
    for name in ("handle", "name", "url"):
        # Strangers write these: a spreadsheet would run a cell starting like a formula.
        value = row[name]
        if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            row[name] = "'" + value
    return {**row, **counts}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- people.yaml --------------------------------------------------------------------------------

_KEY_CHARS = re.compile(r"[^a-z0-9]+")


def person_key(name: str, taken: Collection[str]) -> str:
    """A people.yaml key for ``name``: lower case ASCII words joined by ``-`` (``An Ally`` →
    ``an-ally``), ``person`` when nothing is left, and ``-2``, ``-3``… after one already taken
    (compared case-insensitively, as people read them)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = _KEY_CHARS.sub("-", ascii_name.lower()).strip("-")[:40].strip("-") or "person"
    folded = {t.casefold() for t in taken}
    key, n = base, 1
    while key.casefold() in folded:
        n += 1
        key = f"{base}-{n}"
    return key


def people_snippet(
    found: Iterable[Amplifier],
    taken: Collection[str],
    handle_problem: Callable[[str, str], str | None],
) -> str:
    """``people.yaml`` entries for the amplifiers not in it yet, ready to paste under the people
    already there: a key made from the name (unique, not one of ``taken``), the name, and the
    handle on its platform. A handle the platform's rule would refuse (``handle_problem``) is
    written as a comment, so the pasted file still loads."""
    used = set(taken)
    lines: list[str] = []
    for a in found:
        if a.person is not None:
            continue
        name = _printable(a.name or "") or a.handle
        # Without a display name, the handle's first word names the key (``ally`` for
        # ally.bsky.social or ally@mastodon.social), not the whole address.
        key = person_key(name if a.name else re.split(r"[.@]", a.handle.lstrip("@"))[0], used)
        used.add(key)
        kinds = ", ".join(plural(n, kind) for kind, n in a.counts if n)
        lines.append(f"# {a.platform}: {kinds}; last seen {a.last_seen:%Y-%m-%d}")
        lines.append(f"{key}:")
        lines.append(f"  name: {_quoted(name)}")
        problem = handle_problem(a.platform, a.handle)
        if problem is None:
            lines.append(f"  {a.platform}: {_quoted(a.handle)}")
        else:
            lines.append(f"  # {a.platform}: {_printable(a.handle)} ({problem})")
        lines.append("")
    return "\n".join(lines)


def _printable(text: str) -> str:
    """Text on one line, without control or invisible format characters."""
    kept = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return " ".join(kept.split())


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is a subset of it)."""
    return json.dumps(text, ensure_ascii=False)
