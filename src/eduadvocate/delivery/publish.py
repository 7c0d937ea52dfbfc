"""One publishing pass (``eduadvocate publish``, and each tick of ``schedule``): check the files,
plan what is due, sync it into the ledger, skip what was missed beyond the grace window, and
publish the rest through the accounts' adapters.

A run holds an exclusive lock beside an SQLite ledger, so overlapping cron runs never work at
once (the ledger's claims would keep them from double-posting anyway; the lock keeps them from
racing to report).
"""

from __future__ import annotations

import fcntl
import importlib
import multiprocessing
import os
import secrets
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from eduadvocate.campaign.workspace import Workspace
from eduadvocate.compose.check import Analysis, analyse
from eduadvocate.compose.render import Rendering
from eduadvocate.config.model import Config
from eduadvocate.core.errors import ConfigError, EduError, ErrorKind, ExitCode, Problem
from eduadvocate.core.stopping import Stop, threads_leave_signals_to_main
from eduadvocate.delivery.dispatch import Dispatcher, Probe, give_back_unstarted, no_probe
from eduadvocate.delivery.heartbeat import Heartbeat, Held, take_over
from eduadvocate.delivery.planning import NATIVE_MAX_AHEAD, Outcome, Plan, next_due, plan, record
from eduadvocate.ledger import ledger_target, open_ledger
from eduadvocate.ledger.base import ClaimRow, Delivery, Ledger, State
from eduadvocate.platforms.base import PlatformSpec
from eduadvocate.platforms.publishing import AuthFailed, Publisher, PublishError
from eduadvocate.platforms.registry import spec_class

MAX_PARALLEL_ACCOUNTS = 64  # threads mostly wait on the network


@dataclass(slots=True)
class RunReport:
    outcomes: list[Outcome] = field(default_factory=list)
    held: list[Outcome] = field(default_factory=list)  # due, not attempted (errors, unreadable)
    unreadable: list[Problem] = field(default_factory=list)  # files that could not be loaded
    skipped: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    reinstated: list[str] = field(default_factory=list)
    drifted: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    taken_over: list[ClaimRow] = field(default_factory=list)  # claims of workers that are gone
    elsewhere: list[Delivery] = field(default_factory=list)  # still claimed after the run
    locked: bool = False  # another run holds the lock: nothing was done
    interrupted: int | None = None  # the signal that stopped the run
    released: int = 0  # claimed, not started, given back because the run stopped
    next_due: datetime | None = None  # the next post after the run (asked for by a Watch)

    @property
    def failed(self) -> bool:
        """A delivery failed, is in doubt, could not be recorded, or was skipped."""
        return bool(self.skipped) or any(
            o.state in (State.FAILED, State.UNKNOWN)
            or (o.state == State.CLAIMED and o.error_kind == ErrorKind.LEDGER)
            for o in self.outcomes
        )

    @property
    def exit_code(self) -> int:
        """The one exit-code contract (README "Exit codes")."""
        if self.interrupted:
            return 128 + self.interrupted
        if self.unreadable:
            return ExitCode.CONFIG
        if any(h.error_kind == ErrorKind.INVALID for h in self.held):
            return ExitCode.INVALID_POSTS
        if self.failed:
            return ExitCode.DELIVERIES_FAILED
        return ExitCode.OK


@dataclass(frozen=True, slots=True)
class Watch:
    """Someone following a run as it goes (the CLI's line per delivery and progress bar).
    ``delivered`` gets each outcome as soon as it is recorded (from publishing threads; from
    forked processes, each process's share when it is done); ``started``, if given, how many
    deliveries are due before the first is claimed. A watched run also finds ``next_due``."""

    delivered: Callable[[Outcome], None]
    started: Callable[[int], None] | None = None


def worker_id() -> str:
    """A name for this run of a worker: host and pid, for people, and a random suffix, because a
    restarted worker can get the same pid (a container's pid 1) and must not pass for the one
    that died, or its heartbeat would keep the dead run's claims alive."""
    return f"{socket.gethostname()}:{os.getpid()}-{secrets.token_hex(3)}"


def connector(config: Config) -> Callable[[str], Publisher]:
    """account name → a connected publisher. Missing settings or secrets surface as AuthFailed,
    so one unconfigured account fails its own deliveries and not the whole run."""

    def connect(name: str) -> Publisher:
        account = config.accounts[name]
        try:
            return spec_class(account.platform)(account).connect(config.root)
        except ConfigError as exc:
            raise AuthFailed(exc.one_line()) from None

    return connect


@contextmanager
def run_lock(target: str, root: Path) -> Iterator[bool]:
    """An exclusive, non-blocking lock beside an SQLite ledger (the one actually used, wherever
    it was chosen); yields False if another run has it."""
    if "://" in target or target == ":memory:":
        yield True
        return
    path = (root / (target + ".lock")).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def renderings_by_delivery(analysis: Analysis) -> dict[tuple[str, str], Rendering]:
    return {(r.post.id, r.account.name): r for r in analysis.renderings}


def publish_due(
    ws: Workspace,
    *,
    accounts: set[str] | None = None,
    dry_run: bool = False,
    grace: timedelta | None = None,
    connect: Callable[[str], Publisher] | None = None,
    ledger: Ledger | None = None,
    stop: Stop | None = None,
    probe: Probe = no_probe,
    watch: Watch | None = None,
    posts: set[str] | None = None,
) -> RunReport:
    """Publish everything due now (by the workspace's clock); returns one outcome per delivery
    handled. ``stop``: set (by a signal) to finish the part in flight, give back the rest and
    return. ``probe``: see :data:`~eduadvocate.delivery.dispatch.Probe`. ``watch``: told of
    each delivery as it is done. ``posts``: send only these posts' deliveries (``reply``); the
    whole campaign is still planned and recorded, so nothing else looks removed."""
    analysis = analyse(ws.config, ws.campaign, ws.now, accounts=accounts)
    own_ledger = ledger is None
    ledger = ledger or open_ledger(ws.config.ledger, ws.config.root)
    try:
        with run_lock(ledger_target(ws.config.ledger), ws.config.root) as acquired:
            if not acquired:
                return RunReport(locked=True)
            window = grace if grace is not None else ws.config.grace
            stop = stop or Stop()
            stop.on_stop(ledger.stop_waiting)
            report = _run(
                ws, analysis, ledger, accounts, dry_run, window, connect, stop, probe, watch, posts
            )
    finally:
        if own_ledger:
            ledger.close()
    if watch is not None:
        report.next_due = next_due(ws, analysis, ws.now, accounts=accounts)
    return report


def _run(
    ws: Workspace,
    analysis: Analysis,
    ledger: Ledger,
    accounts: set[str] | None,
    dry_run: bool,
    grace: timedelta,
    connect: Callable[[str], Publisher] | None,
    stop: Stop,
    probe: Probe,
    watch: Watch | None,
    posts: set[str] | None = None,
) -> RunReport:
    now = ws.now
    me = worker_id()
    report = RunReport()
    the_plan = plan(
        ws, analysis, now, grace=grace, accounts=accounts, ledger=None if dry_run else ledger
    )
    report.held.extend(o for o in the_plan.held if posts is None or o.post in posts)
    report.unreadable = the_plan.unreadable
    if dry_run:
        done = [d for d in ledger.deliveries() if d.state != State.PENDING]
        published = {d.key for d in done}
        # Without the ledger the plan puts an `at: now` post at this run's now: one that went
        # out (at the instant fixed then) is not due again.
        sent_now = {(d.post_id, d.account) for d in done if _is_now(analysis, d.post_id)}
        missed = set(the_plan.missed)
        report.outcomes.extend(
            Outcome(d.key, d.post_id, d.account, d.platform, d.due_at, "would-publish")
            for d in the_plan.desired
            if d.due_at <= now
            and (posts is None or d.post_id in posts)
            and d.key not in published
            and d.key not in missed
            and (d.post_id, d.account) not in sent_now
        )
        return report
    report.taken_over = take_over(ledger, now, me=me)
    link = connect or connector(ws.config)
    recorded = record(the_plan, ledger, grace=grace, connect=link)
    report.held.extend(o for o in recorded.held if posts is None or o.post in posts)
    hold = recorded.hold_posts
    if posts is not None:  # the others are never claimed in this run
        hold = hold | {p.id for p in ws.campaign.posts if p.id not in posts}
    report.skipped = recorded.skipped
    report.cancelled = recorded.cancelled
    report.reinstated = recorded.reinstated
    report.drifted = recorded.drifted
    report.withdrawn = recorded.withdrawn
    report.warnings = recorded.warnings
    names = sorted(accounts if accounts is not None else ws.config.accounts)
    if watch is not None and watch.started is not None:
        watch.started(_claimable(ledger, the_plan, set(names), hold))
    on_outcome = watch.delivered if watch is not None else None
    job = _Job(ws, the_plan, the_plan.renderings(), hold, me, stop, probe, on_outcome)
    processes = min(os.cpu_count() or 1, MAX_PROCESSES, len(names) // MIN_ACCOUNTS_PER_PROCESS)
    if connect is None and processes > 1:
        report.outcomes.extend(_in_processes(job, names, processes))
    else:
        report.outcomes.extend(_publish_accounts(job, ledger, names, me, connect))
    if stop.requested:
        report.interrupted = stop.signum
        report.released = sum(1 for o in report.outcomes if o.error_kind == ErrorKind.STOPPED)
    # Whatever is still claimed (by other workers, for this or other accounts): "Nothing is
    # due" would hide it.
    report.elsewhere = ledger.deliveries(state=State.CLAIMED)
    return report


def _claimable(ledger: Ledger, the_plan: Plan, names: set[str], hold: set[str]) -> int:
    """How many deliveries the run is about to claim (for a progress bar: a guess, since other
    workers may claim some first)."""
    now = the_plan.now
    return sum(
        1
        for d in ledger.deliveries(state=State.PENDING)
        if d.account in names
        and d.post_id not in hold
        and (d.next_attempt_at or d.due_at) <= now
        and d.due_at <= (now + NATIVE_MAX_AHEAD if d.account in the_plan.native else now)
    )


def _is_now(analysis: Analysis, post_id: str) -> bool:
    schedule = analysis.schedules.get(post_id)
    return schedule is not None and schedule.when == "now"


@dataclass(frozen=True)
class _Job:
    """What every publishing thread and process of one run shares."""

    ws: Workspace
    plan: Plan
    renderings: dict[tuple[str, str], Rendering]
    hold_posts: set[str]
    worker: str
    stop: Stop
    probe: Probe
    on_outcome: Callable[[Outcome], None] | None = None


def _in_processes(job: _Job, names: list[str], processes: int) -> list[Outcome]:
    """Signing and parsing requests is CPU work the GIL serialises: spread the accounts over the
    cores. The children are forked, so they share the plan without pickling it, and each opens
    its own ledger connection; claims keep them apart."""
    _FORKED[:] = [replace(job, on_outcome=None)]  # a child's outcomes are told here, below
    for platform in {job.ws.config.accounts[n].platform for n in names}:  # import SDKs once
        client = CLIENT_MODULES.get(platform)
        if client:
            importlib.import_module(client)
    context = multiprocessing.get_context("fork")
    out: list[Outcome] = []
    try:
        with ProcessPoolExecutor(
            processes, mp_context=context, initializer=job.stop.install_in_child
        ) as pool:
            shares = [names[i::processes] for i in range(processes)]
            with threads_leave_signals_to_main():  # the children unblock them (install_in_child)
                futures = [pool.submit(_publish_in_child, share) for share in shares]
            for outcomes in gathered(futures, each=_tell_each(job.on_outcome)):
                out.extend(outcomes)
    except BrokenProcessPool as exc:
        raise EduError(
            "a publishing process died; run publish again: it resumes exactly where it stopped"
        ) from exc
    finally:
        _FORKED.clear()
    return out


MAX_PROCESSES = 4
CLIENT_MODULES = {
    "x": "eduadvocate.platforms.x.client",
    "mastodon": "eduadvocate.platforms.mastodon_api.client",
    "bluesky": "eduadvocate.platforms.bluesky.client",
    "facebook": "eduadvocate.platforms.facebook_page.client",
    "instagram": "eduadvocate.platforms.instagram.client",
}
MIN_ACCOUNTS_PER_PROCESS = 4
# What forked children inherit (set just before the pool forks them).
_FORKED: list[_Job] = []


def _publish_in_child(names: list[str]) -> list[Outcome]:
    (job,) = _FORKED
    ledger = open_ledger(job.ws.config.ledger, job.ws.config.root)
    job.stop.on_stop(ledger.stop_waiting)
    try:
        return _publish_accounts(job, ledger, names, f"{job.worker}/{os.getpid()}", None)
    finally:
        ledger.close()


def _publish_accounts(
    job: _Job,
    ledger: Ledger,
    names: list[str],
    worker: str,
    connect: Callable[[str], Publisher] | None,
) -> list[Outcome]:
    """Accounts in parallel threads (each platform call mostly waits on the network), each
    account's deliveries in due order on one connection."""
    ws = job.ws
    clock = ws.clock
    link = connect or connector(ws.config)
    held = Held()

    job.stop.on_abandon(lambda: give_back_unstarted(ledger, worker, held, clock))

    def publish_account(name: str) -> list[Outcome]:
        spec = _spec(ws, name)
        dispatcher = Dispatcher.for_account(
            ws.config,
            ledger,
            worker,
            name,
            clock=clock,
            connect=link,
            held=held,
            stopping=job.stop.event,
            probe=job.probe,
        )
        try:
            until = clock() + NATIVE_MAX_AHEAD if spec.native_schedule else None
            return dispatcher.run(
                job.renderings,
                accounts={name},
                native_until=until,
                hold_posts=job.hold_posts,
                on_outcome=job.on_outcome,
            )
        finally:
            dispatcher.close()

    out: list[Outcome] = []
    with (
        Heartbeat(ledger, worker, ws.config.lease, clock=clock, held=held),
        ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL_ACCOUNTS, len(names)))) as pool,
    ):
        with threads_leave_signals_to_main():
            futures = [pool.submit(publish_account, name) for name in names]
        for outcomes in gathered(futures):
            out.extend(outcomes)
    return out


T = TypeVar("T")
WAKE_S = 0.25  # how often a waiting main thread wakes to run signal handlers


def gathered(futures: list[Future[T]], each: Callable[[T], None] | None = None) -> list[T]:
    """Results in order, waited for in short steps (``each`` gets each result as it comes).
    The publishing threads block the stop signals (:func:`threads_leave_signals_to_main`), so
    the kernel hands them to this thread; the steps are a second line, for a thread some
    library started that does not."""
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=WAKE_S)
        if each is not None:
            for future in done:
                if future.exception() is None:
                    each(future.result())
    return [f.result() for f in futures]


def _tell_each(
    on_outcome: Callable[[Outcome], None] | None,
) -> Callable[[list[Outcome]], None] | None:
    if on_outcome is None:
        return None
    told = on_outcome

    def each(outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            told(outcome)

    return each


def reconcile_scheduled(
    ws: Workspace, ledger: Ledger, rows: list[Delivery]
) -> tuple[list[Delivery], list[str]]:
    """Compare posts waiting in a platform's scheduler with what the platform still has: one
    deleted there is cancelled here. Returns the rows as they are afterwards, and a warning
    per account that could not be asked (offline, an expired token): its rows are shown as the
    ledger last knew them."""
    now = ws.now
    waiting = [d for d in rows if d.shown_state(now) == "scheduled" and d.parts]
    if not waiting:
        return rows, []
    link = connector(ws.config)
    changed: dict[int, Delivery] = {}
    warnings: list[str] = []
    for account in sorted({d.account for d in waiting}):
        if account not in ws.config.accounts:
            continue
        try:
            publisher = link(account)
            try:
                present = publisher.scheduled_ids()
            finally:
                publisher.close()
        except PublishError as exc:
            warnings.append(
                f"{account}: could not refresh the posts waiting in the platform's scheduler"
                f" ({exc}); showing what the ledger last knew"
            )
            continue
        if present is None:
            continue
        for d in waiting:
            if d.account == account and d.parts[0].remote_id not in present:
                changed[d.id] = ledger.cancel(
                    d.id, now, "deleted in the platform's scheduler by someone"
                )
    return [changed.get(d.id, d) for d in rows], warnings


def cancel_delivery(ws: Workspace, ledger: Ledger, delivery: Delivery) -> tuple[Delivery, str]:
    """Cancel a delivery; one waiting in the platform's scheduler is deleted there first.
    Returns the delivery and a note for the user ("" when there is nothing to add)."""
    note = ""
    if delivery.shown_state(ws.now) == "scheduled" and delivery.parts:
        publisher = connector(ws.config)(delivery.account)
        try:
            if not publisher.delete(delivery.parts[0].remote_id):
                note = "it had already been deleted in the platform's scheduler"
            else:
                note = "deleted from the platform's scheduler"
        finally:
            publisher.close()
    return ledger.cancel(delivery.id, ws.now), note


def _spec(ws: Workspace, name: str) -> PlatformSpec:
    account = ws.config.accounts[name]
    return spec_class(account.platform)(account)


__all__ = ["RunReport", "connector", "publish_due", "run_lock", "worker_id"]
