"""Publish every due delivery exactly once: plan → sync → claim → reconcile → publish part by
part → record.

Exactly-once rests on three habits: the ledger records each attempt before the platform call and
its result after; every part's remote id is recorded as soon as it is known, so a resumed thread
continues after the last part that went out; and an attempt left open by a crash is reconciled
(looked up on the platform, or repeated under the same idempotency key where the platform has
one) before anything is sent again. What cannot be decided becomes ``unknown``: reported, never
re-sent blindly.

One delivery's failure never aborts the batch: :func:`publish_due` returns one outcome per
delivery and the CLI derives the exit status from them.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from eduadvocate.check import Analysis
from eduadvocate.config import Config
from eduadvocate.ledger.base import (
    Delivery,
    Desired,
    LeaseLost,
    Ledger,
    PartRow,
    State,
    delivery_key,
)
from eduadvocate.media import MediaUnreadable, inspect
from eduadvocate.platforms.publishing import (
    Attachment,
    InDoubt,
    OutgoingPart,
    Published,
    Publisher,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
)
from eduadvocate.render import Rendering

MAX_TRANSIENT_ATTEMPTS = 6
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
LOOKUP_SLACK = timedelta(minutes=2)
CAP_RECHECK = timedelta(hours=1)
RECOUNT = timedelta(minutes=1)  # how long a daily-cap count read from the ledger is trusted
NATIVE_MIN_AHEAD = timedelta(minutes=15)  # Facebook takes 10 minutes to 30 days ahead; keep margins
NATIVE_MAX_AHEAD = timedelta(days=29)
CRASH_ENV = "EDUADVOCATE_CRASH_AT"
BATCH = 50


@dataclass(slots=True)
class Outcome:
    """What happened to one delivery in this run."""

    key: str
    post: str
    account: str
    platform: str
    at: datetime
    state: str  # a ledger state, or "held" (not attempted: the post has errors) / "would-publish" (dry run)
    parts: list[tuple[str, str | None]] = field(default_factory=list)
    error: str | None = None
    error_kind: str | None = None
    next_attempt: datetime | None = None

    @classmethod
    def of(cls, delivery: Delivery, state: str) -> Outcome:
        return cls(
            delivery.key,
            delivery.post_id,
            delivery.account,
            delivery.platform,
            delivery.due_at,
            state,
            [(p.remote_id, p.url) for p in delivery.parts],
        )


def content_hash(rendering: Rendering) -> str:
    """A fingerprint of exactly what would be sent, to notice edits after publishing."""
    payload = {
        "cw": rendering.content_warning,
        "parts": [[p.text, [[m.path, m.alt] for m in p.media]] for p in rendering.parts],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


def idempotency_key(key: str, index: int) -> str:
    """Deterministic per delivery and part: a repeat after a crash carries the same key."""
    return hashlib.sha256(f"{key}#{index}".encode()).hexdigest()[:40]


@dataclass(slots=True)
class Plan:
    desired: list[Desired]
    missed: list[str]  # keys due before the grace window
    held: list[Outcome]  # deliveries of posts with errors, not attempted


def plan_due(
    analysis: Analysis, ledger: Ledger, now: datetime, grace: timedelta, *, fix: bool = True
) -> Plan:
    """The deliveries due by ``now``: one-shot and ``now`` posts, and each recurring post's
    occurrences inside the grace window. ``fix`` records the instant of ``at: now`` posts the
    first time they are seen (a dry run does not)."""
    broken = {p.post for p in analysis.problems if p.severity == "error" and p.post}
    desired: list[Desired] = []
    missed: list[str] = []
    held: list[Outcome] = []
    fixed_now: dict[str, datetime] = {}
    for r in analysis.renderings:
        schedule = analysis.schedules.get(r.post.id)
        if schedule is None:
            continue
        if schedule.when == "now":
            if r.post.id not in broken and r.post.id not in fixed_now:
                fixed_now[r.post.id] = ledger.fix_now(r.post.id, now) if fix else now
            instants = [fixed_now.get(r.post.id, now)]
        elif schedule.when == "once":
            instants = [schedule.at] if schedule.at is not None and schedule.at <= now else []
        else:
            instants = list(schedule.occurrences(now - grace, now + timedelta(microseconds=1), now))
        for at in instants:
            if r.post.id in broken:
                held.append(
                    Outcome(
                        delivery_key(r.post.id, r.account.name, at),
                        r.post.id,
                        r.account.name,
                        r.platform,
                        at,
                        "held",
                        error="the post has errors: run `eduadvocate check`",
                        error_kind="invalid",
                    )
                )
                continue
            d = Desired(r.post.id, r.account.name, r.platform, at, content_hash(r))
            desired.append(d)
            if at < now - grace:
                missed.append(d.key)
    return Plan(desired, missed, held)


class Dispatcher:
    """Claims due deliveries and publishes them through the accounts' publishers."""

    def __init__(
        self,
        config: Config,
        ledger: Ledger,
        worker: str,
        *,
        clock: Callable[[], datetime],
        connect: Callable[[str], Publisher],
        lease: timedelta | None = None,
        rng: random.Random | None = None,
        caps: dict[str, int] | None = None,
    ) -> None:
        self.config = config
        self.ledger = ledger
        self.worker = worker
        self.clock = clock
        self.connect = connect
        self.lease = lease or config.lease  # kept alive by the worker's heartbeat
        self.rng = rng or random.Random()
        self.caps = caps or {}
        self.stopping = threading.Event()  # set by the scheduler on SIGTERM
        self._publishers: dict[str, Publisher] = {}
        self._counted: dict[str, tuple[int, datetime]] = {}  # daily caps: (parts sent, read at)
        self._holds: dict[str, datetime] = {}  # accounts told to wait, until when
        self._hold_reasons: dict[str, tuple[str, str]] = {}

    def publisher(self, account: str) -> Publisher:
        if account not in self._publishers:
            self._publishers[account] = self.connect(account)
        return self._publishers[account]

    def close(self) -> None:
        for publisher in self._publishers.values():
            publisher.close()
        self._publishers.clear()

    def run(
        self,
        renderings: dict[tuple[str, str], Rendering],
        *,
        accounts: set[str] | None = None,
        native_until: datetime | None = None,
    ) -> list[Outcome]:
        """Claim everything due and publish it; one outcome per claimed delivery.
        ``native_until``: also claim deliveries due until then, for the platform's scheduler."""
        outcomes: list[Outcome] = []
        while not self.stopping.is_set():
            batch = self.ledger.claim_due(
                self.worker,
                self.clock(),
                self.lease,
                limit=BATCH,
                accounts=accounts,
                due_by=native_until,
            )
            if not batch:
                break
            for delivery in batch:
                if self.stopping.is_set():  # give back what we claimed but did not start
                    self.ledger.release(
                        delivery.id,
                        self.worker,
                        self.clock(),
                        self.clock(),
                        error="the worker stopped",
                        error_kind="stopped",
                    )
                    continue
                held = self._holds.get(delivery.account)
                if held is not None and held > self.clock():
                    # The account's limit was reached earlier in this batch: wait, never hammer.
                    outcomes.append(
                        self._wait(delivery, held, *self._hold_reasons[delivery.account])
                    )
                    continue
                outcomes.append(
                    self.deliver(delivery, renderings.get((delivery.post_id, delivery.account)))
                )
        return outcomes

    def _hold(self, account: str, until: datetime, reason: str, kind: str) -> None:
        """Nothing more to this account before ``until``: in the ledger (for every worker) and
        here (for the rest of what this run has claimed)."""
        self.ledger.defer_account(account, until, reason)
        self._holds[account] = until
        self._hold_reasons[account] = (reason, kind)

    def _wait(self, delivery: Delivery, until: datetime, reason: str, kind: str) -> Outcome:
        now = self.clock()
        self.ledger.release(delivery.id, self.worker, until, now, error=reason, error_kind=kind)
        out = Outcome.of(delivery, "pending")
        out.error, out.error_kind, out.next_attempt = reason, kind, until
        return out

    def deliver(self, delivery: Delivery, rendering: Rendering | None) -> Outcome:
        """Publish one claimed delivery (resuming after the parts already recorded)."""
        out = Outcome.of(delivery, "claimed")
        now = self.clock()
        if rendering is None:
            self.ledger.finish(
                delivery.id,
                self.worker,
                State.CANCELLED,
                now,
                error="the post is no longer in the files",
            )
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
                    crash_point("between-parts")
                    if self.stopping.is_set():  # the part in flight is recorded: stop here
                        now = self.clock()
                        self.ledger.release(
                            delivery.id,
                            self.worker,
                            now,
                            now,
                            error="the worker stopped mid-thread",
                            error_kind="stopped",
                        )
                        return self._done(out, delivery.id)
                    self.ledger.renew(delivery.id, self.worker, self.clock() + self.lease)
                last = planned is parts[-1]
                published, finished = self._send(
                    delivery, part, publisher, finish=delivery.content_hash if last else None
                )
                done[part.index] = _part_row(part.index, published, self.clock())
            if not finished:
                self.ledger.finish(
                    delivery.id,
                    self.worker,
                    State.PUBLISHED,
                    self.clock(),
                    published_hash=delivery.content_hash,
                )
            out.state = "published"  # what the ledger now says, without reading it back
            out.parts = [(p.remote_id, p.url) for _, p in sorted(done.items())]
            return out
        except LeaseLost as exc:
            out.state, out.error = "claimed", f"lost the claim to another worker: {exc}"
            return out
        except PublishError as exc:
            self._failed(delivery, exc, out)
        return self._done(out, delivery.id)

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
                        self.config.root / m.path, m.alt, _mime(self.config.root / m.path), m.path
                    )
                    for m in part.media
                ),
                facets=part.facets,
                content_warning=rendering.content_warning,
                language=rendering.post.language,
                card_url=rendering.card_url if i == 0 else None,
                link=rendering.link if i == 0 else None,
            )
            for i, part in enumerate(rendering.parts)
        ]

    def _reconcile(
        self,
        delivery: Delivery,
        parts: list[OutgoingPart],
        publisher: Publisher,
        done: dict[int, PartRow],
        out: Outcome,
    ) -> bool:
        """Settle attempts a crashed run left open. False when the delivery cannot go on."""
        for attempt in self.ledger.open_attempts(delivery.id):
            now = self.clock()
            if attempt.part_index in done:
                self.ledger.finish_attempt(attempt.id, "found", now)
                continue
            part = next((p for p in parts if p.index == attempt.part_index), None)
            if part is None:
                self.ledger.finish_attempt(attempt.id, "absent", now, "the post changed")
                continue
            try:
                found = publisher.lookup(part, attempt.started_at - LOOKUP_SLACK)
            except InDoubt as exc:
                self.ledger.finish_attempt(attempt.id, "in_doubt", now, str(exc))
                self.ledger.finish(
                    delivery.id,
                    self.worker,
                    State.UNKNOWN,
                    now,
                    error=f"cannot tell whether part {part.index + 1} went out: {exc}",
                    error_kind="in-doubt",
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
        attempt = self.ledger.begin_attempt(
            delivery.id, part.index, self.worker, part.idempotency_key, self.clock()
        )
        started = self.clock()
        crash_point("before-call")
        try:
            published = publisher.publish(part)
            crash_point("after-response")
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
                found = publisher.lookup(part, started - timedelta(days=1))
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
        if delivery.account in self._counted:
            used, at = self._counted[delivery.account]
            self._counted[delivery.account] = (used + 1, at)
        if published.hold_until is not None:
            self._hold(
                delivery.account,
                published.hold_until,
                "the platform's rate limit is used up until then",
                "rate-limited",
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
            found = publisher.lookup(part, started - LOOKUP_SLACK)
        except InDoubt:
            self.ledger.finish_attempt(attempt, "in_doubt", self.clock(), error)
            raise  # cannot tell: the delivery becomes unknown, never re-sent blindly
        if found is None:
            self.ledger.finish_attempt(attempt, "absent", self.clock(), error)
            return None
        self.ledger.record_part(delivery.id, part.index, found.remote_id, found.url, self.clock())
        self.ledger.finish_attempt(attempt, "found", self.clock(), error)
        return found

    def _failed(self, delivery: Delivery, exc: PublishError, out: Outcome) -> None:
        now = self.clock()
        message = str(exc)
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
            self.ledger.finish(
                delivery.id, self.worker, State.FAILED, now, error=message, error_kind=exc.kind
            )

    def _hand_over(
        self, delivery: Delivery, parts: list[OutgoingPart], publisher: Publisher
    ) -> None:
        """A delivery claimed ahead of time goes to the platform's own scheduler; one it cannot
        take there (media, a thread, too soon) waits in the ledger and is published when due."""
        now = self.clock()
        if len(parts) != 1 or parts[0].media or delivery.due_at < now + NATIVE_MIN_AHEAD:
            self.ledger.release(
                delivery.id,
                self.worker,
                delivery.due_at,
                now,
                error="published when due",
                error_kind="waiting",
            )
            return
        part = parts[0]
        attempt = self.ledger.begin_attempt(delivery.id, 0, self.worker, part.idempotency_key, now)
        try:
            scheduled = publisher.schedule(part, delivery.due_at)
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


def crash_point(name: str) -> None:
    """The crash-safety tests' seam: with ``EDUADVOCATE_CRASH_AT=name`` the process kills itself
    (SIGKILL: no cleanup, no flush) the first time it reaches that point. Costs one lookup."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


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
