"""The ledger: the durable record of every delivery and every attempt to publish it.

A delivery is one (post id, account, occurrence). Its state machine::

    pending ─claim─▶ claimed ─▶ published | failed | unknown | skipped | cancelled
       ▲                │
       └── release ─────┘   (retryable error: back to pending with a next-attempt time)

``claimed`` carries a lease (worker, expiry). Before each platform call an attempt is recorded
(write-ahead); after it, its outcome. An attempt with no outcome whose lease has expired is *in
doubt*: it is reconciled (looked up on the platform) before anything is retried.

This module holds the interface and the row types; ``sql.py`` implements it once for both
backends, ``sqlite.py`` and ``postgres.py`` supply their connections and dialects, and
``tests/ledger/`` is the contract suite every backend passes unchanged.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from eduadvocate.core.counts import Counts
from eduadvocate.core.errors import EduError, ErrorKind, ExitCode


class State(enum.StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    PUBLISHED = "published"
    FAILED = "failed"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


FINAL = frozenset({State.PUBLISHED, State.FAILED, State.UNKNOWN, State.SKIPPED, State.CANCELLED})

# ``error_kind`` of a one-shot post's delivery not sent because the post already went out (or
# is going out) at another time: its time was edited after publishing. Never reinstated.
ALREADY_OUT = ErrorKind.ALREADY_OUT
# ``error_kind`` of a delivery cancelled because its post left the files (or moved): such a
# cancellation is undone if the post comes back, so a file saved half-way (an editor or a
# ``git checkout`` writing it) can never lose a post for good. One cancelled by a person
# (``cancel``) stays cancelled.
REMOVED = ErrorKind.REMOVED
REMOVED_MESSAGE = "the post was removed from the files or moved to another time"


class LedgerError(EduError):
    """The ledger cannot be opened or used (a message for the user; never holds secrets)."""

    exit_code = ExitCode.CONFIG


class LeaseLost(LedgerError):
    """This worker no longer holds the delivery's lease (it expired and another took it)."""


@dataclass(frozen=True, slots=True)
class Desired:
    """A delivery the files ask for, as ``sync`` receives it."""

    post_id: str
    account: str
    platform: str
    due_at: datetime
    content_hash: str
    repeats: bool = False  # an occurrence of a recurring post (a one-shot post goes out once)

    @property
    def key(self) -> str:
        return delivery_key(self.post_id, self.account, self.due_at)


@dataclass(frozen=True, slots=True)
class PartRow:
    index: int
    remote_id: str
    url: str | None
    published_at: datetime


@dataclass(frozen=True, slots=True)
class AttemptRow:
    id: int
    delivery_id: int
    part_index: int
    worker: str
    idempotency_key: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None  # None while in flight; "ok", "error", "in_doubt", "found", "absent"
    error: str | None


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    key: str
    post_id: str
    account: str
    platform: str
    due_at: datetime
    state: State
    content_hash: str
    published_hash: str | None
    lease_owner: str | None
    lease_expires: datetime | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    error_kind: str | None
    updated_at: datetime
    parts: tuple[PartRow, ...] = ()
    scheduled_for: datetime | None = None  # handed to the platform's own scheduler
    warning: str | None = None  # it went out with something left out (a link card, say)

    def shown_state(self, now: datetime) -> str:
        """The state as people see it: a post waiting in the platform's scheduler is "scheduled"."""
        if (
            self.state == State.PUBLISHED
            and self.scheduled_for is not None
            and self.scheduled_for > now
        ):
            return "scheduled"
        return str(self.state)

    @property
    def drifted(self) -> bool:
        """Published, and the post has been edited since."""
        return self.state == State.PUBLISHED and self.published_hash not in (
            None,
            self.content_hash,
        )


@dataclass(frozen=True, slots=True)
class WorkerRow:
    """A worker (one ``schedule`` or ``publish`` process) as its heartbeats left it."""

    id: str  # host:pid
    started_at: datetime
    last_seen: datetime
    claims: int  # deliveries it holds claimed now


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One part's engagement counts at one moment (``metrics pull``)."""

    delivery_id: int
    part_index: int
    taken_at: datetime
    counts: Counts


@dataclass(frozen=True, slots=True)
class ClaimRow:
    """The claims one worker holds: how many, and when the first of their leases ends."""

    worker: str
    claims: int
    lease_expires: datetime
    started_at: datetime | None  # from the workers table (None: it never beat)


@dataclass(slots=True)
class SyncReport:
    added: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # pending, content updated
    drifted: list[str] = field(default_factory=list)  # published, then edited: not re-posted
    reinstated: list[str] = field(default_factory=list)  # cancelled as removed; back in the files
    # Waiting in a platform's own scheduler, and moved, removed or edited since: to be deleted
    # there (then ``unschedule``); ids of the deliveries.
    withdraw: list[int] = field(default_factory=list)


INBOX_KINDS = ("reply", "mention", "quote", "comment", "repost")
# Kinds that ask nothing of a volunteer: stored already handled (by ``ANSWERED_BY``), so the
# unhandled listing and its counts stay what someone must answer, while ``people suggest`` and
# the report still count them as engagement.
NO_ANSWER_KINDS = frozenset({"repost"})
ANSWERED_BY = "inbox pull"


@dataclass(frozen=True, slots=True)
class InboxItem:
    """Something another account said to or about one of ours, as a pull stores it.
    ``answers_remote_id`` is the post it answers (a reply's parent, a quote's subject), ours or
    not; ``delivery_id``/``part_index`` say which campaign delivery's part that is, if any."""

    platform: str
    account: str
    remote_id: str  # the item's id on its platform: unique per platform and account
    kind: str  # one of INBOX_KINDS
    author_handle: str
    author_name: str | None
    author_url: str | None
    text: str
    url: str | None
    created_at: datetime
    answers_remote_id: str | None = None
    delivery_id: int | None = None
    part_index: int | None = None


@dataclass(frozen=True, slots=True)
class InboxRow:
    """A stored inbox item: its short, stable id (the row's) and whether someone handled it."""

    id: int
    item: InboxItem
    pulled_at: datetime
    handled_at: datetime | None
    handled_by: str | None


@dataclass(frozen=True, slots=True)
class InboxGroup:
    """The stored items that answer one delivery (``delivery_id`` None: no campaign post), as
    counted by the ledger: how many, how many still unhandled, and the newest one's time."""

    delivery_id: int | None
    items: int
    waiting: int
    newest: datetime


def delivery_key(post_id: str, account: str, due_at: datetime) -> str:
    return f"{post_id}|{account}|{iso(due_at)}"


def iso(moment: datetime) -> str:
    """A UTC instant as fixed-width ISO text, so text order is time order in every backend."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)  # the "Z" suffix parses to UTC on Python 3.11+


class Ledger(ABC):
    """What dispatch, status and the CLI need from a ledger backend."""

    @abstractmethod
    def migrate(self) -> list[int]:
        """Apply pending migrations; returns the versions applied."""

    @abstractmethod
    def schema_version(self) -> int: ...

    @abstractmethod
    def close(self) -> None: ...

    # -- desired state ---------------------------------------------------------------------------
    @abstractmethod
    def fix_now(self, post_id: str, now: datetime) -> datetime:
        """The instant of an ``at: now`` post: fixed the first time any run sees it."""

    @abstractmethod
    def sync(
        self,
        desired: list[Desired],
        now: datetime,
        *,
        until: datetime | None = None,
        scope: set[str] | None = None,
        keep: Callable[[str, str], bool] | None = None,
    ) -> SyncReport:
        """Make the ledger's pending deliveries match the files.

        - Add new ones; update the content of unpublished ones.
        - Cancel pending ones no longer wanted: those due by ``until``, of the ``scope``
          accounts if given, and not protected by ``keep(post_id, account)`` (a post whose file
          cannot be read is left as it is).
        - Reinstate ones cancelled as removed whose post is back.
        - Report published ones whose post changed (never re-posted). A one-shot post (not
          ``repeats``) that went out, or is going out, at one time is not sent again at
          another: its new time is reported as drift.
        - List posts waiting in a platform's scheduler that were moved, removed or edited in
          ``withdraw`` (not changed here).
        """

    @abstractmethod
    def mark_skipped(self, keys: list[str], now: datetime, reason: str) -> list[str]:
        """Pending deliveries missed beyond the grace window become skipped, never sent late.
        Returns the keys that were pending and are now skipped."""

    # -- work --------------------------------------------------------------------------------------
    @abstractmethod
    def claim_due(
        self,
        worker: str,
        now: datetime,
        lease: timedelta,
        *,
        limit: int = 100,
        accounts: set[str] | None = None,
        due_by: datetime | None = None,
        exclude_posts: Collection[str] = (),
    ) -> list[Delivery]:
        """Claim pending deliveries due by ``due_by`` (default ``now``; later for platforms that
        schedule natively) whose next attempt time has come, and expired claims of other
        workers, oldest first; never those of ``exclude_posts`` (held: their file cannot be
        read, or the post has errors)."""

    @abstractmethod
    def due_accounts(self, now: datetime) -> list[str]:
        """Accounts with something to claim now (due, or a claim whose lease expired), the one
        whose oldest such delivery is oldest first."""

    @abstractmethod
    def renew(self, delivery_id: int, worker: str, until: datetime) -> None:
        """Extend this worker's lease; LeaseLost if it no longer holds it."""

    @abstractmethod
    def begin_attempt(
        self,
        delivery_id: int,
        part_index: int,
        worker: str,
        idempotency_key: str,
        now: datetime,
        lease_until: datetime | None = None,
    ) -> int:
        """Record, before calling the platform, that this part is being sent (write-ahead).
        LeaseLost unless this worker's lease still runs at ``now``; ``lease_until`` extends it
        for the call."""

    def stop_waiting(self) -> None:  # noqa: B027 - optional: only a networked ledger waits
        """Give up any wait for the ledger to come back (the process is stopping)."""

    @abstractmethod
    def finish_attempt(
        self, attempt_id: int, outcome: str, now: datetime, error: str | None = None
    ) -> None: ...

    @abstractmethod
    def record_part(
        self, delivery_id: int, index: int, remote_id: str, url: str | None, now: datetime
    ) -> None:
        """A part went out: keep its remote id and URL at once, so a resumed thread continues."""

    def part_sent(
        self,
        delivery_id: int,
        index: int,
        remote_id: str,
        url: str | None,
        now: datetime,
        attempt_id: int,
        *,
        worker: str,
        published_hash: str | None = None,
    ) -> None:
        """A part went out: record it and close its attempt, and with ``published_hash`` (the
        last part) mark the delivery published, in one turn at the ledger."""
        self.record_part(delivery_id, index, remote_id, url, now)
        self.finish_attempt(attempt_id, "ok", now)
        if published_hash is not None:
            self.finish(delivery_id, worker, State.PUBLISHED, now, published_hash=published_hash)

    @abstractmethod
    def finish(
        self,
        delivery_id: int,
        worker: str,
        state: State,
        now: datetime,
        *,
        error: str | None = None,
        error_kind: str | None = None,
        published_hash: str | None = None,
        scheduled_for: datetime | None = None,
    ) -> None:
        """Move a claimed delivery to a final state (``scheduled_for``: handed to the platform's
        own scheduler, to go live then)."""

    @abstractmethod
    def release(
        self,
        delivery_id: int,
        worker: str,
        next_attempt_at: datetime,
        now: datetime,
        *,
        error: str,
        error_kind: str,
    ) -> None:
        """Give a claimed delivery back (a retryable error): pending again, not before ``next_attempt_at``."""

    @abstractmethod
    def warn(self, delivery_id: int, warning: str) -> None:
        """Keep a warning on a delivery (it went out, without its link card, say)."""

    @abstractmethod
    def unschedule(self, delivery_id: int, now: datetime, *, cancel: bool) -> bool:
        """A post waiting in the platform's scheduler was deleted there: forget its remote id
        and make it pending again (to be handed over anew: it moved or changed) or, with
        ``cancel``, cancelled as removed. False if it was no longer waiting (it went live)."""

    @abstractmethod
    def open_attempts(self, delivery_id: int) -> list[AttemptRow]:
        """Attempts of this delivery with no outcome yet (in doubt once their claim was lost)."""

    # -- reading and user actions -------------------------------------------------------------------
    @abstractmethod
    def get(self, delivery_id: int) -> Delivery | None: ...

    @abstractmethod
    def deliveries(
        self, *, post_id: str | None = None, state: State | None = None, account: str | None = None
    ) -> list[Delivery]: ...

    @abstractmethod
    def attempts(self, delivery_id: int) -> list[AttemptRow]: ...

    @abstractmethod
    def retry(self, delivery_id: int, now: datetime) -> Delivery:
        """Put a failed/unknown/skipped delivery back to pending (the user says so)."""

    @abstractmethod
    def cancel(
        self, delivery_id: int, now: datetime, reason: str = "cancelled by the user"
    ) -> Delivery:
        """Cancel a delivery that has not been published (or is waiting in the platform's
        scheduler: the caller deletes it there first). It stays cancelled."""

    # -- quotas learned from the platforms ----------------------------------------------------------
    @abstractmethod
    def defer_account(self, account: str, until: datetime, reason: str) -> None:
        """Nothing goes to this account before ``until`` (a rate limit said so)."""

    @abstractmethod
    def account_deferred_until(self, account: str, now: datetime) -> datetime | None: ...

    @abstractmethod
    def count_published_since(self, account: str, since: datetime) -> int:
        """How many parts went to the account since ``since`` (for per-tier daily caps)."""

    # -- workers ---------------------------------------------------------------------------------
    @abstractmethod
    def heartbeat(
        self, worker: str, now: datetime, lease_until: datetime, held: Collection[int]
    ) -> int:
        """This worker is alive: the claims it holds among ``held`` (the deliveries it is
        actually working on) now last until ``lease_until``. Returns how many were renewed.
        A claim outside ``held`` is not renewed: it expires and another run takes it over."""

    @abstractmethod
    def claims(self) -> list[ClaimRow]:
        """Who holds claims now: one row per worker."""

    @abstractmethod
    def expire_claims(self, worker: str, now: datetime) -> int:
        """The worker is gone (its process died): its claims may be taken over at once."""

    @abstractmethod
    def leave(self, worker: str) -> None:
        """The worker stopped cleanly (its claims were released already)."""

    @abstractmethod
    def workers(self) -> list[WorkerRow]: ...

    @abstractmethod
    def take_lease(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Hold the named lease until ``until`` if it is free (or expired, or already ours);
        False if another holder has it."""

    @abstractmethod
    def drop_lease(self, name: str, holder: str) -> None: ...

    # -- engagement ------------------------------------------------------------------------------
    @abstractmethod
    def add_snapshots(self, snapshots: list[Snapshot]) -> None: ...

    @abstractmethod
    def snapshots(self, *, since: datetime | None = None) -> list[Snapshot]:
        """Snapshots taken since ``since`` (all if None), oldest first."""

    @abstractmethod
    def last_snapshot_at(self) -> dict[int, datetime]:
        """For each delivery with snapshots: when the latest was taken."""

    @abstractmethod
    def refuse_metrics(self, account: str, reason: str, now: datetime) -> None:
        """The platform refused this account's counts: not asked again until cleared."""

    @abstractmethod
    def metrics_refusals(self) -> dict[str, tuple[str, datetime]]: ...

    @abstractmethod
    def clear_metrics_refusals(self, accounts: set[str] | None = None) -> None: ...

    # -- the inbox ---------------------------------------------------------------------------------
    @abstractmethod
    def add_inbox_page(
        self,
        items: list[InboxItem],
        now: datetime,
        *,
        account: str,
        source: str,
        cursor: str | None,
    ) -> list[InboxItem]:
        """Store one page of a pull, skipping items already stored (pulling twice adds
        nothing; an item of ``NO_ANSWER_KINDS`` is stored handled), and in the same transaction set where the account's pull of ``source`` resumes
        (``cursor``; None: the walk is complete). Returns the items that were new."""

    @abstractmethod
    def inbox_cursor(self, account: str, source: str) -> str | None:
        """Where an interrupted pull of ``source`` for ``account`` resumes (None: start anew)."""

    @abstractmethod
    def inbox(
        self,
        *,
        account: str | None = None,
        platform: str | None = None,
        unhandled: bool = False,
        since: datetime | None = None,
    ) -> list[InboxRow]:
        """Stored items, newest first."""

    @abstractmethod
    def inbox_groups(
        self,
        *,
        account: str | None = None,
        platform: str | None = None,
        unhandled: bool = False,
        since: datetime | None = None,
    ) -> list[InboxGroup]:
        """The items ``inbox`` would give, counted per delivery they answer (in no order): a
        listing can order its groups and read only the first items without loading them all."""

    @abstractmethod
    def inbox_answering(
        self,
        delivery_id: int | None,
        limit: int,
        *,
        account: str | None = None,
        platform: str | None = None,
        unhandled: bool = False,
        since: datetime | None = None,
    ) -> list[InboxRow]:
        """At most ``limit`` of the items answering ``delivery_id`` (None: those answering no
        campaign post), unhandled first, then newest first (the id breaks ties)."""

    @abstractmethod
    def inbox_item(self, item_id: int) -> InboxRow | None: ...

    @abstractmethod
    def mark_handled(self, item_ids: Collection[int], now: datetime, by: str) -> list[int]:
        """Mark items handled (one already handled keeps its first time and person). Returns
        the ids that exist."""

    @abstractmethod
    def mark_answered(self, account: str, target: str, now: datetime, by: str) -> list[int]:
        """Mark handled the account's items that a published reply answers: those whose
        ``url`` or ``remote_id`` is ``target`` (a post's ``reply_to:``). Returns the ids newly
        marked."""

    # -- moving a campaign between ledgers -----------------------------------------------------------
    @abstractmethod
    def export_rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every row of the campaign's history, table by table, parents first."""

    @abstractmethod
    def import_rows(self, rows: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, int]:
        """Load an export into this (empty) ledger, keeping ids; counts per table."""
