"""The project's one exception tree, the exit statuses, and the located problems that checks report.

Every situation a user can cause has a named exception here whose message says what is wrong and
what to do; the CLI turns them into one line on stderr and an exit status (``cli/main.py``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Literal

from eduadvocate.core.words import plural

Severity = Literal["error", "warning"]


class ExitCode(enum.IntEnum):
    """Documented, stable exit statuses (README "Exit codes")."""

    OK = 0
    UNEXPECTED = 1
    USAGE = 2
    CONFIG = 3
    INVALID_POSTS = 4
    DELIVERIES_FAILED = 5
    INTERRUPTED = 130  # SIGINT (Ctrl-C): 128 + 2
    TERMINATED = 143  # SIGTERM: 128 + 15


class ErrorKind(enum.StrEnum):
    """Why a delivery is not (yet) published, as the ledger's ``error_kind`` and the status JSON
    show it: a platform's answer (the first six), or the run's own reason."""

    ERROR = "error"  # an adapter error of no more specific kind
    RATE_LIMITED = "rate-limited"
    AUTH = "auth"
    REJECTED = "rejected"
    TRANSIENT = "transient"
    IN_DOUBT = "in-doubt"
    REFUSED = "refused"  # the platform gives this account no engagement counts
    WAITING = "waiting"  # not for the platform's own scheduler: published when due instead
    STOPPED = "stopped"  # the worker stopped: given back unstarted
    LEDGER = "ledger"  # the ledger failed while recording
    INTERNAL = "internal"  # a bug in eduadvocate while publishing
    INVALID = "invalid"  # held: the post has errors (check)
    UNREADABLE = "unreadable"  # held: its posts file cannot be read
    REMOVED = "removed"  # cancelled: the post left the files (undone if it comes back)
    ALREADY_OUT = "already-out"  # cancelled: a one-shot post that went out at another time
    CANCELLED = "cancelled"  # cancelled by a person (``cancel``)


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """Where a value came from: a path as the user would type it (relative to the campaign) and a
    1-based line and column."""

    file: str
    line: int = 0
    column: int = 0

    def __reduce__(self) -> tuple[type[Location], tuple[object, ...]]:
        return type(self), _LOCATION_FIELDS(self)

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file


def unfrozen_twin(cls: type) -> type:
    """A plain class with the slots of the frozen slotted dataclass ``cls``: an instance filled
    slot by slot, then given ``cls`` as its ``__class__``, is the ``cls`` its ``__init__`` would
    make. That ``__init__`` sets each field through ``object.__setattr__`` (around the frozen
    ``__setattr__``), ~4x the cost of a plain slot store: the loader makes each post's Post,
    Content and every node's Location this way (content/model.py ``new_post``, core/yamlfile.py
    ``_location``), ~15% fewer of the instructions of reading the bench's posts (cachegrind,
    A/B). Python's data model allows ``__class__`` assignment between classes with the same
    ``__slots__`` (reference, "Notes on using __slots__")."""
    return type(f"_Unfrozen{cls.__name__}", (), {"__slots__": cls.__slots__})  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of ``check`` (or of loading): what, where, how bad, and what to do."""

    code: str
    severity: Severity
    message: str
    location: Location | None = None
    hint: str = ""
    post: str | None = None
    account: str | None = None

    def __reduce__(self) -> tuple[type[Problem], tuple[object, ...]]:
        return type(self), _PROBLEM_FIELDS(self)

    def one_line(self, *, severity: bool = True) -> str:
        """The problem as a single line for stderr: ``file:line: severity: message (post, account). hint``
        (without ``severity:`` if asked)."""
        where = f"{self.location}: " if self.location else ""
        who = ", ".join(
            part
            for part in (
                f'post "{self.post}"' if self.post else "",
                f'account "{self.account}"' if self.account else "",
            )
            if part
        )
        text = f"{where}{self.severity}: {self.message}" if severity else where + self.message
        if who:
            text += f" ({who})"
        if self.hint:
            text += f". {self.hint}"
        return text


# Locations and problems are pickled as their fields and rebuilt by ``__init__``: check's worker
# processes send theirs back, and the slotted dataclass's own pickling (``fields()`` read for
# every object, both ways) took twice as long on the bench to send and to read back.
_LOCATION_FIELDS = attrgetter(*(f.name for f in fields(Location)))
_PROBLEM_FIELDS = attrgetter(*(f.name for f in fields(Problem)))


class Findings(list[Problem]):
    """The problems of one post on one account as a rule finds them, each at ``loc`` unless it
    is given a place of its own."""

    __slots__ = ("account", "loc", "post")  # (one per rendering checked: no __dict__ each)

    def __init__(self, post: str, account: str | None, loc: Location | None) -> None:
        self.post, self.account, self.loc = post, account, loc  # (list.__new__ made it empty)

    def add(
        self,
        code: str,
        message: str,
        where: Location | None = None,
        hint: str = "",
        severity: Severity = "error",
    ) -> None:
        self.append(
            Problem(
                code,
                severity,
                message,
                where or self.loc,
                hint,
                post=self.post,
                account=self.account,
            )
        )


class EduError(Exception):
    """Base of every error eduadvocate raises on purpose; ``str()`` is the one-line message."""

    exit_code: ExitCode = ExitCode.UNEXPECTED

    def __init__(self, message: str, *, location: Location | None = None, hint: str = "") -> None:
        self.message = message
        self.location = location
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = f"{self.location}: " if self.location else ""
        hint = f". {self.hint}" if self.hint else ""
        return f"{where}{self.message}{hint}"


class ConfigError(EduError):
    """The config file (or an environment variable it names) is missing or wrong."""

    exit_code = ExitCode.CONFIG


class UsageError(EduError):
    """The command line asks for something that does not exist (an unknown post id or account)."""

    exit_code = ExitCode.USAGE


class PostsInvalid(EduError):
    """The posts could not be used: carries every problem found, so all are shown in one run."""

    exit_code = ExitCode.INVALID_POSTS

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        # The command prints "eduadvocate: error: " before this, so the problem's own severity
        # (always "error" here) is left out, as for config errors: "posts/a.yaml:3: invalid YAML".
        first = errors[0].one_line(severity=False) if errors else "the posts are invalid"
        others = len(errors) - 1
        more = f" (and {plural(others, 'more error')}: run `eduadvocate check`)" if others else ""
        super().__init__(first + more)
