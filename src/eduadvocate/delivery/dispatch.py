"""Publish every due delivery exactly once: plan → sync → claim → reconcile → publish part by
part → record.

Exactly-once rests on three habits: the ledger records each attempt before the platform call and
its result after; every part's remote id is recorded as soon as it is known, so a resumed thread
continues after the last part that went out; and an attempt left open by a crash is reconciled
(looked up on the platform, or repeated under the same idempotency key where the platform has
one) before anything is sent again. What cannot be decided becomes ``unknown``: reported, never
re-sent blindly.

One delivery's failure never aborts the batch, and nothing raised inside a delivery leaves it
claimed: :func:`publish_due` returns one outcome per delivery and the CLI derives the exit
status from them.

The dispatcher takes its clock, and a :data:`Probe` that the crash-safety tests use to kill the
process at named points; in production the probe does nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import re
import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from eduadvocate.compose.render import Rendering
from eduadvocate.config.env import env_names
from eduadvocate.config.model import Config
from eduadvocate.content.media import MediaUnreadable, inspect
from eduadvocate.core.clock import Clock, Timed
from eduadvocate.core.errors import ErrorKind
from eduadvocate.delivery.heartbeat import Held
from eduadvocate.delivery.planning import NATIVE_MIN_AHEAD, Outcome
from eduadvocate.ledger.base import (
    REMOVED,
    REMOVED_MESSAGE,
    Delivery,
    LeaseLost,
    Ledger,
    LedgerError,
    PartRow,
    State,
)
from eduadvocate.platforms.publishing import (
    Attachment,
    AuthFailed,
    InDoubt,
    OutgoingPart,
    Published,
    Publisher,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
)
from eduadvocate.platforms.registry import spec_class

MAX_TRANSIENT_ATTEMPTS = 6
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
LOOKUP_SLACK = timedelta(minutes=2)
CAP_RECHECK = timedelta(hours=1)
RECOUNT = timedelta(minutes=1)  # how long a daily-cap count read from the ledger is trusted
BATCH = 50

# Called at each named point of a delivery: "between-parts" (before a thread's next part),
# "before-call" (the attempt is recorded, the platform not yet called) and "after-response"
# (the platform answered, nothing recorded yet). The crash-safety tests kill the process there.
Probe = Callable[[str], None]


def no_probe(point: str) -> None:
    """The probe outside the crash-safety tests: nothing happens at any point."""


def idempotency_key(key: str, index: int) -> str:
    """Deterministic per delivery and part: a repeat after a crash carries the same key."""
    return hashlib.sha256(f"{key}#{index}".encode()).hexdigest()[:40]


class Dispatcher:
    """Claims due deliveries and publishes them through the accounts' publishers.

    Whatever is raised while a delivery is handled, it ends in a recorded state: published,
    failed with the reason, in doubt (left for reconciliation, or ``unknown`` when that cannot
    decide), or released back to pending. Only when the ledger itself cannot be written is a
    claim left as it is: it is no longer renewed, so it expires and the next run takes it over.
    """

    def __init__(
        self,
        config: Config,
        ledger: Ledger,
        worker: str,
        *,
        clock: Clock,
        connect: Callable[[str], Publisher],
        lease: timedelta | None = None,
        rng: random.Random | None = None,
        caps: dict[str, int] | None = None,
        held: Held | None = None,
        stopping: threading.Event | None = None,
        probe: Probe = no_probe,
    ) -> None:
        self.config = config
        self.ledger = ledger
        self.worker = worker
        self.clock = clock
        self.connect = connect
        self.lease = lease or config.lease  # kept alive by the worker's heartbeat
        self.rng = rng or random.Random()
        self.caps = caps or {}
        self.held = held if held is not None else Held()  # what the heartbeat renews
        self.stopping = stopping or threading.Event()  # set on SIGTERM/SIGINT
        self.probe = probe
        self._publishers: dict[str, Publisher] = {}
        self._counted: dict[str, tuple[int, datetime]] = {}  # daily caps: (parts sent, read at)
        self._holds: dict[str, datetime] = {}  # accounts told to wait, until when
        self._hold_reasons: dict[str, tuple[str, str]] = {}
        self._refused: dict[str, str] = {}  # accounts whose credentials failed in this run
        self._secrets = secret_values(config)

    def publisher(self, account: str) -> Publisher:
        if account not in self._publishers:
            publisher = self.connect(account)
            if isinstance(publisher, Timed):  # it compares ages with times this clock wrote
                publisher.clock = self.clock
            self._publishers[account] = publisher
        return self._publishers[account]

    def close(self) -> None:
        for publisher in self._publishers.values():
            with contextlib.suppress(Exception):  # closing is a courtesy
                publisher.close()
        self._publishers.clear()

    def run(
        self,
        renderings: dict[tuple[str, str], Rendering],
        *,
        accounts: set[str] | None = None,
        native_until: datetime | None = None,
        hold_posts: Collection[str] = (),
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> list[Outcome]:
        """Claim everything due and publish it; one outcome per claimed delivery.
        ``native_until``: also claim deliveries due until then, for the platform's scheduler.
        ``hold_posts``: never claim these posts' deliveries (their file cannot be read).
        ``on_outcome``: called with each outcome as soon as it is recorded (a line per delivery
        while the run goes on)."""
        outcomes: list[Outcome] = []
        self._refused.clear()  # credentials are tried again once per run
        while not self.stopping.is_set():
            batch = self.ledger.claim_due(
                self.worker,
                self.clock(),
                self.lease,
                limit=BATCH,
                accounts=accounts,
                due_by=native_until,
                exclude_posts=hold_posts,
            )
            if not batch:
                break
            self.held.add([d.id for d in batch])
            try:
                for delivery in batch:
                    if self.stopping.is_set():
                        break
                    outcomes.append(self._one(delivery, renderings))
                    if on_outcome is not None:
                        on_outcome(outcomes[-1])
            finally:
                released = self.release_unstarted(batch, "the worker stopped")
                outcomes.extend(released)
                if on_outcome is not None:
                    for out in released:
                        on_outcome(out)
        return outcomes

    def _one(self, delivery: Delivery, renderings: dict[tuple[str, str], Rendering]) -> Outcome:
        held = self._holds.get(delivery.account)
        if held is not None and held > self.clock():
            # The account's limit was reached earlier in this batch: wait, never hammer.
            return self._wait(delivery, held, *self._hold_reasons[delivery.account])
        return self.deliver(delivery, renderings.get((delivery.post_id, delivery.account)))

    @classmethod
    def for_account(
        cls,
        config: Config,
        ledger: Ledger,
        worker: str,
        account: str,
        *,
        clock: Clock,
        connect: Callable[[str], Publisher],
        held: Held,
        stopping: threading.Event,
        probe: Probe,
    ) -> Dispatcher:
        """The dispatcher for one account's deliveries, as ``publish`` and ``schedule`` both
        build it: with the daily cap the account's platform sets."""
        settings = config.accounts[account]
        cap = spec_class(settings.platform)(settings).daily_cap
        return cls(
            config,
            ledger,
            worker,
            clock=clock,
            connect=connect,
            caps={account: cap} if cap else {},
            held=held,
            stopping=stopping,
            probe=probe,
        )

    def release_unstarted(self, batch: list[Delivery], why: str) -> list[Outcome]:
        """Give back what was claimed but not started (best effort: a claim that cannot be
        given back expires); an outcome for each given back."""
        mine = set(self.held.unstarted())
        released = []
        for delivery in batch:
            if delivery.id not in mine:
                continue
            self.held.discard(delivery.id)
            with contextlib.suppress(LedgerError):
                self._give_back(delivery, why)
                out = Outcome.of(delivery, State.PENDING)
                out.error, out.error_kind = why, ErrorKind.STOPPED
                released.append(out)
        return released

    def _hold(self, account: str, until: datetime, reason: str, kind: str) -> None:
        """Nothing more to this account before ``until``: in the ledger (for every worker) and
        here (for the rest of what this run has claimed)."""
        self.ledger.defer_account(account, until, reason)
        self._holds[account] = until
        self._hold_reasons[account] = (reason, kind)

    def _wait(self, delivery: Delivery, until: datetime, reason: str, kind: str) -> Outcome:
        now = self.clock()
        self.held.discard(delivery.id)
        self.ledger.release(delivery.id, self.worker, until, now, error=reason, error_kind=kind)
        out = Outcome.of(delivery, State.PENDING)
        out.error, out.error_kind, out.next_attempt = reason, kind, until
        return out

    def deliver(self, delivery: Delivery, rendering: Rendering | None) -> Outcome:
        """Publish one claimed delivery (resuming after the parts already recorded); whatever
        is raised, the delivery ends in a recorded state."""
        out = Outcome.of(delivery, State.CLAIMED)
        self.held.start(delivery.id)
        try:
            return self._deliver(delivery, rendering, out)
        except LeaseLost as exc:
            return self._lost(delivery, out, exc)
        except LedgerError as exc:
            # Nothing can be recorded. The claim is not renewed any more: it expires, and the
            # next run takes it over and reconciles any attempt left open.
            out.state, out.error = State.CLAIMED, f"the ledger failed: {exc}"
            out.error_kind = ErrorKind.LEDGER
            return out
        except Exception as exc:
            return self._unexpected(delivery, out, exc)
        except BaseException:
            self._abandon(delivery)
            raise
        finally:
            self.held.discard(delivery.id)

    def _deliver(self, delivery: Delivery, rendering: Rendering | None, out: Outcome) -> Outcome:
        now = self.clock()
        if rendering is None:  # the post left files that all loaded (else it is not claimed)
            self.ledger.finish(
                delivery.id,
                self.worker,
                State.CANCELLED,
                now,
                error=REMOVED_MESSAGE,
                error_kind=REMOVED,
            )
            return self._done(out, delivery.id)
        refused = self._refused.get(delivery.account)
        if refused is not None:  # one try per account and run: the others fail the same way
            self._give_up(delivery, refused, ErrorKind.AUTH)
            return self._done(out, delivery.id)
        try:
            publisher = self.publisher(delivery.account)
            parts = self._outgoing(delivery, rendering)
            done = {p.index: p for p in delivery.parts}
            # A first claim has no attempts yet; later ones may have left some open.
            if delivery.attempts > 1 and not self._reconcile(delivery, parts, publisher, done, out):
                return self._done(out, delivery.id)
            if delivery.due_at > now and not done:
                self._hand_over(delivery, parts, publisher)
                return self._done(out, delivery.id)
            finished = False  # the last part's write marks the delivery published too
            for planned in parts:
                if planned.index in done:
                    continue
                previous = done.get(planned.index - 1)
                first = done.get(0)
                part = _with_thread(
                    planned,
                    previous.remote_id if previous else None,
                    first.remote_id if first else None,
                )
                if part.index > 0:
                    self.probe("between-parts")
                    if self.stopping.is_set():  # the part in flight is recorded: stop here
                        self._give_back(delivery, "the worker stopped mid-thread")
                        return self._done(out, delivery.id)
                    self.ledger.renew(delivery.id, self.worker, self.clock() + self.lease)
                last = planned is parts[-1]
                published, finished = self._send(
                    delivery, part, publisher, finish=delivery.content_hash if last else None
                )
                done[part.index] = _part_row(part.index, published, self.clock())
                if published.warning:
                    out.warning = self.redact(published.warning)
            if not finished:
                self.ledger.finish(
                    delivery.id,
                    self.worker,
                    State.PUBLISHED,
                    self.clock(),
                    published_hash=delivery.content_hash,
                )
            self._answered(delivery, rendering)
            out.state = State.PUBLISHED  # what the ledger now says, without reading it back
            out.parts = [(p.remote_id, p.url) for _, p in sorted(done.items())]
            return out
        except PublishError as exc:
            self._failed(delivery, exc, out)
        return self._done(out, delivery.id)

    def _answered(self, delivery: Delivery, rendering: Rendering) -> None:
        """A published reply: the account's inbox items it answers are handled. Right after the
        delivery is recorded rather than in the same statement: ``part_sent`` is the hot path's
        one guarded write, shared by both backends, while this flag only tidies the inbox. A
        crash between the two leaves the item unhandled (``reply ITEM`` marks its own item once
        it sees the delivery published), and a ledger that fails here fails nothing sent."""
        target = rendering.post.reply_to
        if target:
            with contextlib.suppress(LedgerError):
                self.ledger.mark_answered(
                    delivery.account, target, self.clock(), f"reply {delivery.post_id}"
                )

    def _lost(self, delivery: Delivery, out: Outcome, exc: LeaseLost) -> Outcome:
        """A guarded write touched nothing: another worker took the claim, or a write whose
        answer was lost (the database restarted) had already gone through. Read what is so."""
        try:
            return self._done(out, delivery.id)
        except LedgerError:
            out.state, out.error = State.CLAIMED, f"lost the claim: {exc}"
            return out
        finally:
            if out.state == State.CLAIMED:
                out.error = out.error or f"lost the claim to another worker: {exc}"

    def _unexpected(self, delivery: Delivery, out: Outcome, exc: Exception) -> Outcome:
        """Something no one planned for (a bug, a library's surprise) outside any platform
        call: the delivery fails with the reason, and the run goes on."""
        message = (
            f"unexpected error: {self.redact(describe(exc))} (a bug: please report it; after a"
            " fix, `eduadvocate retry` sends it)"
        )
        try:
            self._give_up(delivery, message, ErrorKind.INTERNAL)
            return self._done(out, delivery.id)
        except LeaseLost as lost:
            return self._lost(delivery, out, lost)
        except LedgerError:
            out.state, out.error, out.error_kind = State.CLAIMED, message, ErrorKind.INTERNAL
            return out

    def _abandon(self, delivery: Delivery) -> None:
        """Interrupted from outside (the process is going down): give the delivery back unless
        a platform call of it may be in flight (then it is reconciled by the next run)."""
        with contextlib.suppress(Exception):
            if not self.ledger.open_attempts(delivery.id):
                self._give_back(delivery, "the worker stopped")

    def _give_back(self, delivery: Delivery, why: str) -> None:
        """Release a delivery this worker stopped before finishing: due again at once."""
        now = self.clock()
        self.ledger.release(
            delivery.id, self.worker, now, now, error=why, error_kind=ErrorKind.STOPPED
        )

    def redact(self, text: str) -> str:
        """A message with every secret the config references masked, and URL queries cut."""
        return redact(text, self._secrets)

    # -- steps ---------------------------------------------------------------------------------
    def _outgoing(self, delivery: Delivery, rendering: Rendering) -> list[OutgoingPart]:
        count = len(rendering.parts)
        return [
            OutgoingPart(
                delivery_key=delivery.key,
                index=i,
                count=count,
                text=part.text,
                idempotency_key=idempotency_key(delivery.key, i),
                media=tuple(
                    Attachment(
                        path,
                        m.alt,
                        _mime(path),
                        m.path,
                        tuple((c.language, self._media_path(c.path), c.path) for c in m.captions),
                        m.no_captions,
                        thumbnail,
                        _mime(thumbnail) if thumbnail is not None else None,
                    )
                    for m in part.media
                    for path in (self._media_path(m.path),)
                    for thumbnail in (self._media_path(m.thumbnail) if m.thumbnail else None,)
                ),
                facets=part.facets,
                content_warning=rendering.content_warning,
                language=rendering.post.language,
                card_url=rendering.card_url if i == 0 else None,
                link=rendering.link if i == 0 else None,
                answers=rendering.post.reply_to,
                repost=rendering.post.repost if i == 0 else None,
                quote=rendering.post.quote if i == 0 else None,
                reel=rendering.post.reel_loc is not None,
            )
            for i, part in enumerate(rendering.parts)
        ]

    def _media_path(self, relative: str) -> Path:
        """A media file, which must stay inside the media folder (``check`` refuses others, so
        a post with one is held; this is the second lock on the door)."""
        folder = self.config.media_folder.resolve()
        path = (self.config.root / relative).resolve()
        if not path.is_relative_to(folder):
            raise Rejected(f"the media file {relative} is outside the campaign folder: not sent")
        return path

    def _reconcile(
        self,
        delivery: Delivery,
        parts: list[OutgoingPart],
        publisher: Publisher,
        done: dict[int, PartRow],
        out: Outcome,
    ) -> bool:
        """Settle attempts a crashed run left open. False when the delivery cannot go on."""
        open_attempts = self.ledger.open_attempts(delivery.id)
        # Parts the previous holder recorded after this claim was read count too.
        latest = self.ledger.get(delivery.id)
        if latest is not None:
            done.update({p.index: p for p in latest.parts})
        for attempt in open_attempts:
            now = self.clock()
            if attempt.part_index in done:
                self.ledger.finish_attempt(attempt.id, "found", now)
                continue
            part = next((p for p in parts if p.index == attempt.part_index), None)
            if part is None:
                self.ledger.finish_attempt(attempt.id, "absent", now, "the post changed")
                continue
            try:
                found = self._lookup(publisher, part, attempt.started_at - LOOKUP_SLACK)
            except InDoubt as exc:
                self.ledger.finish_attempt(attempt.id, "in_doubt", now, str(exc))
                self.ledger.finish(
                    delivery.id,
                    self.worker,
                    State.UNKNOWN,
                    now,
                    error=f"cannot tell whether part {part.index + 1} went out: {exc}",
                    error_kind=ErrorKind.IN_DOUBT,
                )
                return False
            if found is None:
                self.ledger.finish_attempt(attempt.id, "absent", now)
            else:
                self.ledger.record_part(delivery.id, part.index, found.remote_id, found.url, now)
                self.ledger.finish_attempt(attempt.id, "found", now)
                done[part.index] = _part_row(part.index, found, now)
        return True

    def _send(
        self,
        delivery: Delivery,
        part: OutgoingPart,
        publisher: Publisher,
        *,
        finish: str | None = None,
    ) -> tuple[Published, bool]:
        """Send one part. With ``finish`` (the content hash; for the last part) a clean success
        also marks the delivery published; the flag says whether that happened."""
        cap = self.caps.get(delivery.account)
        if cap is not None:
            now = self.clock()
            used = self._used(delivery.account, now)
            if used >= cap:
                raise RateLimited(
                    f"{used} posts in the last 24 hours: the account's quota is {cap}",
                    now + CAP_RECHECK,
                )
        now = self.clock()
        attempt = self.ledger.begin_attempt(
            delivery.id, part.index, self.worker, part.idempotency_key, now, now + self.lease
        )
        started = self.clock()
        self.probe("before-call")
        try:
            with self._surprises("while posting"):
                published = _checked(publisher.publish(part))
            self.probe("after-response")
        except InDoubt as exc:
            # The platform may have acted: look before anything else.
            found = self._settle_in_doubt(delivery, part, publisher, started, attempt, str(exc))
            if found is None:  # certainly not there: safe to send again, after a pause
                raise Transient(
                    f"{exc}; it is not on the platform, so it will be sent again"
                ) from exc
            return found, False
        except Rejected as exc:
            if exc.duplicate:
                found = self._lookup(publisher, part, started - timedelta(days=1))
                if found is not None:  # an earlier in-doubt attempt did go out
                    self.ledger.record_part(
                        delivery.id, part.index, found.remote_id, found.url, self.clock()
                    )
                    self.ledger.finish_attempt(attempt, "found", self.clock(), str(exc))
                    return found, False
            self.ledger.finish_attempt(attempt, "error", self.clock(), str(exc))
            raise
        except PublishError as exc:
            self.ledger.finish_attempt(attempt, "error", self.clock(), str(exc))
            raise
        self.ledger.part_sent(
            delivery.id,
            part.index,
            published.remote_id,
            published.url,
            self.clock(),
            attempt,
            worker=self.worker,
            published_hash=finish,
        )
        if published.warning:
            self.ledger.warn(delivery.id, self.redact(published.warning))
        if delivery.account in self._counted:
            used, at = self._counted[delivery.account]
            self._counted[delivery.account] = (used + 1, at)
        if published.hold_until is not None:
            self._hold(
                delivery.account,
                published.hold_until,
                "the platform's rate limit is used up until then",
                ErrorKind.RATE_LIMITED,
            )
        return published, finish is not None

    def _used(self, account: str, now: datetime) -> int:
        """Parts sent to the account in the last 24 hours: read from the ledger, then counted
        here as they go (this worker holds the account's claims), read again after a while."""
        cached = self._counted.get(account)
        if cached is None or now - cached[1] > RECOUNT or now < cached[1]:
            cached = (self.ledger.count_published_since(account, now - timedelta(hours=24)), now)
            self._counted[account] = cached
        return cached[0]

    def _settle_in_doubt(
        self,
        delivery: Delivery,
        part: OutgoingPart,
        publisher: Publisher,
        started: datetime,
        attempt: int,
        error: str,
    ) -> Published | None:
        try:
            found = self._lookup(publisher, part, started - LOOKUP_SLACK)
        except InDoubt:
            self.ledger.finish_attempt(attempt, "in_doubt", self.clock(), error)
            raise  # cannot tell: the delivery becomes unknown, never re-sent blindly
        if found is None:
            self.ledger.finish_attempt(attempt, "absent", self.clock(), error)
            return None
        self.ledger.record_part(delivery.id, part.index, found.remote_id, found.url, self.clock())
        self.ledger.finish_attempt(attempt, "found", self.clock(), error)
        return found

    @contextlib.contextmanager
    def _surprises(self, doing: str) -> Iterator[None]:
        """Around a platform call: anything but our own errors (an answer without the id we
        expect, a library's own exception) means the platform may have acted. In doubt."""
        try:
            yield
        except PublishError:
            raise
        except Exception as exc:
            raise InDoubt(f"unexpected answer {doing}: {self.redact(describe(exc))}") from exc

    def _lookup(
        self, publisher: Publisher, part: OutgoingPart, since: datetime
    ) -> Published | None:
        """Whether a part went out. Network trouble or a rate limit: ask again later (the
        attempt stays open and the delivery is retried, reconciling first). Any other failure
        to look: in doubt (``unknown``), never a guess."""
        try:
            with self._surprises("looking it up"):
                found = publisher.lookup(part, since)
                return _checked(found) if found is not None else None
        except (InDoubt, Transient, RateLimited):
            raise
        except PublishError as exc:
            raise InDoubt(f"cannot look it up on the platform: {self.redact(str(exc))}") from exc

    def _failed(self, delivery: Delivery, exc: PublishError, out: Outcome) -> None:
        now = self.clock()
        message = self.redact(str(exc))
        if isinstance(exc, AuthFailed):
            self._refused[delivery.account] = message
        if isinstance(exc, RateLimited):
            until = exc.retry_at or now + timedelta(minutes=15)
            self._hold(delivery.account, until, message, exc.kind)
            self.ledger.release(
                delivery.id, self.worker, until, now, error=message, error_kind=exc.kind
            )
            out.next_attempt = until
        elif isinstance(exc, InDoubt):
            self.ledger.finish(
                delivery.id, self.worker, State.UNKNOWN, now, error=message, error_kind=exc.kind
            )
        elif exc.retryable and delivery.attempts < MAX_TRANSIENT_ATTEMPTS:
            delay = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (delivery.attempts - 1))
            until = now + delay * (
                0.5 + self.rng.random()
            )  # jitter: spread retries of many workers
            self.ledger.release(
                delivery.id, self.worker, until, now, error=message, error_kind=exc.kind
            )
            out.next_attempt = until
        else:
            self._give_up(delivery, message, exc.kind)

    def _give_up(self, delivery: Delivery, message: str, kind: str) -> None:
        """Failed, unless a call of it may have reached the platform and was never settled:
        then failed would say it did not go out, and ``unknown`` says what is so."""
        now = self.clock()
        if self.ledger.open_attempts(delivery.id):
            self.ledger.finish(
                delivery.id,
                self.worker,
                State.UNKNOWN,
                now,
                error=f"cannot tell whether it went out, after: {message}",
                error_kind=ErrorKind.IN_DOUBT,
            )
        else:
            self.ledger.finish(
                delivery.id, self.worker, State.FAILED, now, error=message, error_kind=kind
            )

    def _hand_over(
        self, delivery: Delivery, parts: list[OutgoingPart], publisher: Publisher
    ) -> None:
        """A delivery claimed ahead of time goes to the platform's own scheduler; one it cannot
        take there (media it does not schedule, a thread, too soon) waits in the ledger and is
        published when due."""
        now = self.clock()
        soon = delivery.due_at < now + NATIVE_MIN_AHEAD
        if len(parts) != 1 or not publisher.can_schedule(parts[0]) or soon:
            self.ledger.release(
                delivery.id,
                self.worker,
                delivery.due_at,
                now,
                error="published when due",
                error_kind=ErrorKind.WAITING,
            )
            return
        part = parts[0]
        attempt = self.ledger.begin_attempt(
            delivery.id, 0, self.worker, part.idempotency_key, now, now + self.lease
        )
        try:
            with self._surprises("while handing it to the platform's scheduler"):
                scheduled = _checked(publisher.schedule(part, delivery.due_at))
        except PublishError as exc:
            self.ledger.finish_attempt(attempt, "error", self.clock(), str(exc))
            raise
        self.ledger.record_part(delivery.id, 0, scheduled.remote_id, scheduled.url, self.clock())
        self.ledger.finish_attempt(attempt, "ok", self.clock())
        self.ledger.finish(
            delivery.id,
            self.worker,
            State.PUBLISHED,
            self.clock(),
            published_hash=delivery.content_hash,
            scheduled_for=delivery.due_at,
        )

    def _done(self, out: Outcome, delivery_id: int) -> Outcome:
        row = self.ledger.get(delivery_id)
        if row is not None:
            out.parts = [(p.remote_id, p.url) for p in row.parts]
            out.error = row.last_error if row.state != State.PUBLISHED else None
            out.error_kind = row.error_kind if row.state != State.PUBLISHED else None
            out.next_attempt = row.next_attempt_at
            out.state = row.shown_state(self.clock())
        return out


def give_back_unstarted(ledger: Ledger, worker: str, held: Held, clock: Clock) -> None:
    """On a second signal: every delivery this worker claimed but has not started goes back
    at once (the part in flight is left for the next run to reconcile)."""
    for delivery_id in held.unstarted():
        now = clock()
        ledger.release(
            delivery_id, worker, now, now, error="the worker stopped", error_kind=ErrorKind.STOPPED
        )


def secret_values(config: Config) -> frozenset[str]:
    """The values of every ``${VAR}`` (or ``${VAR:-default}``) the accounts' settings name:
    never to be shown."""
    values: set[str] = set()
    for account in config.accounts.values():
        for raw in account.settings.values():
            for name in env_names(str(raw)):
                value = os.environ.get(name, "")
                if len(value) >= MIN_SECRET:
                    values.add(value)
    return frozenset(values)


MIN_SECRET = 6  # shorter values (a port, "true") would mask ordinary words
_URL_QUERY = re.compile(r"(https?://[^\s?#]+)\?[^\s]*")


def redact(text: str, secrets: Collection[str]) -> str:
    """``text`` with URL query strings cut (Graph carries tokens there) and secrets masked."""
    text = _URL_QUERY.sub(r"\1?…", text)
    for value in sorted(secrets, key=len, reverse=True):
        text = text.replace(value, "***")
    return text


def describe(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _checked(published: Published) -> Published:
    """An answer must name the post: one without an id (a client library that turned a
    malformed answer into empty fields) means the platform may have acted, unseen."""
    rid = published.remote_id
    if not isinstance(rid, str) or not rid.strip() or rid.strip() in ("None", "null"):
        raise ValueError(f"the platform's answer has no id (got {rid!r})")
    return published


def _with_thread(part: OutgoingPart, previous: str | None, root: str | None) -> OutgoingPart:
    return replace(part, reply_to=previous, root=root)


def _part_row(index: int, published: Published, now: datetime) -> PartRow:
    return PartRow(index, published.remote_id, published.url, now)


def _mime(path: Path) -> str | None:
    try:
        info = inspect(path)
    except MediaUnreadable:
        return None
    return info.mime if info else None
