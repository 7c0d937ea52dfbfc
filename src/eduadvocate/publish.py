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
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from eduadvocate.check import Analysis, analyse
from eduadvocate.config import Config
from eduadvocate.dispatch import (
    NATIVE_MAX_AHEAD,
    NATIVE_MIN_AHEAD,
    Dispatcher,
    Outcome,
    content_hash,
    plan_due,
)
from eduadvocate.errors import ConfigError, EduError
from eduadvocate.heartbeat import Heartbeat
from eduadvocate.ledger import open_ledger
from eduadvocate.ledger.base import Delivery, Desired, Ledger, State
from eduadvocate.platforms.base import PlatformSpec
from eduadvocate.platforms.publishing import AuthFailed, Publisher
from eduadvocate.platforms.registry import spec_class
from eduadvocate.render import Rendering
from eduadvocate.workspace import Workspace, clock

MAX_PARALLEL_ACCOUNTS = 64  # threads mostly wait on the network


@dataclass(slots=True)
class RunReport:
    outcomes: list[Outcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    drifted: list[str] = field(default_factory=list)
    locked: bool = False  # another run holds the lock: nothing was done

    @property
    def failed(self) -> bool:
        bad = {"failed", "unknown", "held", "pending"}
        return any(o.state in bad and o.error_kind != "waiting" for o in self.outcomes) or bool(
            self.skipped
        )


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
def run_lock(ledger_target: str, root: Path) -> Iterator[bool]:
    """An exclusive, non-blocking lock beside an SQLite ledger; yields False if another run has it."""
    if "://" in ledger_target or ledger_target == ":memory:":
        yield True
        return
    path = (root / (ledger_target + ".lock")).resolve()
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
) -> RunReport:
    """Publish everything due now; returns one outcome per delivery handled."""
    analysis = analyse(ws.config, ws.campaign, ws.now, accounts=accounts)
    own_ledger = ledger is None
    ledger = ledger or open_ledger(ws.config.ledger, ws.config.root)
    try:
        with run_lock(ws.config.ledger, ws.config.root) as acquired:
            if not acquired:
                return RunReport(locked=True)
            window = grace if grace is not None else ws.config.grace
            return _run(ws, analysis, ledger, accounts, dry_run, window, connect)
    finally:
        if own_ledger:
            ledger.close()


def _run(
    ws: Workspace,
    analysis: Analysis,
    ledger: Ledger,
    accounts: set[str] | None,
    dry_run: bool,
    grace: timedelta,
    connect: Callable[[str], Publisher] | None,
) -> RunReport:
    now = ws.now
    plan = plan_due(analysis, ledger, now, grace, fix=not dry_run)
    report = RunReport()
    report.outcomes.extend(plan.held)
    if dry_run:
        published = {d.key for d in ledger.deliveries() if d.state != State.PENDING}
        report.outcomes.extend(
            Outcome(d.key, d.post_id, d.account, d.platform, d.due_at, "would-publish")
            for d in plan.desired
            if d.key not in published and d.key not in plan.missed
        )
        return report
    names = sorted(accounts if accounts is not None else ws.config.accounts)
    native = {n for n in names if _spec(ws, n).native_schedule}
    if native:
        # Accounts whose platform schedules natively also get what is due in the coming weeks.
        others = set(names) - native
        first = ledger.sync(
            [d for d in plan.desired if d.account in others], now, until=now, scope=others
        )
        ahead = [d for d in plan.desired if d.account in native] + native_ahead(
            analysis, now, native
        )
        second = ledger.sync(ahead, now, until=now + NATIVE_MAX_AHEAD, scope=native)
        report.cancelled = first.cancelled + second.cancelled
        report.drifted = first.drifted + second.drifted
    else:
        sync = ledger.sync(plan.desired, now, until=now, scope=accounts)
        report.cancelled, report.drifted = sync.cancelled, sync.drifted
    report.skipped = ledger.mark_skipped(
        plan.missed, now, f"missed: it was due more than {_hours(grace)} ago"
    )
    renderings = renderings_by_delivery(analysis)
    processes = min(os.cpu_count() or 1, MAX_PROCESSES, len(names) // MIN_ACCOUNTS_PER_PROCESS)
    if connect is None and processes > 1:
        # Signing and parsing requests is CPU work the GIL serialises: spread the accounts over
        # the cores. The children are forked, so they share the analysis without pickling it,
        # and each opens its own ledger connection; claims keep them apart.
        _FORKED[:] = [(ws, analysis, renderings, worker_id())]
        for platform in {
            ws.config.accounts[n].platform for n in names
        }:  # import SDKs once, pre-fork
            client = CLIENT_MODULES.get(platform)
            if client:
                importlib.import_module(client)
        context = multiprocessing.get_context("fork")
        try:
            with ProcessPoolExecutor(processes, mp_context=context) as pool:
                for outcomes in pool.map(
                    _publish_in_child, [names[i::processes] for i in range(processes)]
                ):
                    report.outcomes.extend(outcomes)
        except BrokenProcessPool as exc:
            raise EduError(
                "a publishing process died; run publish again: it resumes exactly where it stopped"
            ) from exc
        finally:
            _FORKED.clear()
        return report
    report.outcomes.extend(
        _publish_accounts(ws, analysis, renderings, ledger, names, worker_id(), connect)
    )
    return report


MAX_PROCESSES = 4
CLIENT_MODULES = {
    "x": "eduadvocate.platforms.x_client",
    "mastodon": "eduadvocate.platforms.mastodon_client",
    "bluesky": "eduadvocate.platforms.bluesky_client",
    "facebook": "eduadvocate.platforms.facebook_client",
    "instagram": "eduadvocate.platforms.instagram_client",
}
MIN_ACCOUNTS_PER_PROCESS = 4
# What forked children inherit (set just before the pool forks them).
_FORKED: list[tuple[Workspace, Analysis, dict[tuple[str, str], Rendering], str]] = []


def _publish_in_child(names: list[str]) -> list[Outcome]:
    ((ws, analysis, renderings, worker),) = _FORKED
    ledger = open_ledger(ws.config.ledger, ws.config.root)
    try:
        return _publish_accounts(
            ws, analysis, renderings, ledger, names, f"{worker}/{os.getpid()}", None
        )
    finally:
        ledger.close()


def _publish_accounts(
    ws: Workspace,
    analysis: Analysis,
    renderings: dict[tuple[str, str], Rendering],
    ledger: Ledger,
    names: list[str],
    worker: str,
    connect: Callable[[str], Publisher] | None,
) -> list[Outcome]:
    """Accounts in parallel threads (each platform call mostly waits on the network), each
    account's deliveries in due order on one connection."""
    link = connect or connector(ws.config)

    def publish_account(name: str) -> list[Outcome]:
        spec = _spec(ws, name)
        cap = spec.daily_cap
        dispatcher = Dispatcher(
            ws.config, ledger, worker, clock=clock, connect=link, caps={name: cap} if cap else {}
        )
        try:
            until = clock() + NATIVE_MAX_AHEAD if spec.native_schedule else None
            return dispatcher.run(renderings, accounts={name}, native_until=until)
        finally:
            dispatcher.close()

    out: list[Outcome] = []
    with (
        Heartbeat(ledger, worker, ws.config.lease, clock=clock),
        ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL_ACCOUNTS, len(names)))) as pool,
    ):
        for outcomes in pool.map(publish_account, names):
            out.extend(outcomes)
    return out


def reconcile_scheduled(ws: Workspace, ledger: Ledger, rows: list[Delivery]) -> list[Delivery]:
    """Compare posts waiting in a platform's scheduler with what the platform still has: one
    deleted there is cancelled here. Returns the rows as they are afterwards."""
    now = ws.now
    waiting = [d for d in rows if d.shown_state(now) == "scheduled" and d.parts]
    if not waiting:
        return rows
    link = connector(ws.config)
    changed: dict[int, Delivery] = {}
    for account in sorted({d.account for d in waiting}):
        publisher = link(account)
        try:
            present = publisher.scheduled_ids()
        finally:
            publisher.close()
        if present is None:
            continue
        for d in waiting:
            if d.account == account and d.parts[0].remote_id not in present:
                changed[d.id] = ledger.cancel(d.id, now)
    return [changed.get(d.id, d) for d in rows]


def cancel_delivery(ws: Workspace, ledger: Ledger, delivery: Delivery) -> Delivery:
    """Cancel a delivery; one waiting in the platform's scheduler is deleted there first."""
    if delivery.shown_state(ws.now) == "scheduled" and delivery.parts:
        publisher = connector(ws.config)(delivery.account)
        try:
            publisher.delete(delivery.parts[0].remote_id)
        finally:
            publisher.close()
    return ledger.cancel(delivery.id, ws.now)


def _spec(ws: Workspace, name: str) -> PlatformSpec:
    account = ws.config.accounts[name]
    return spec_class(account.platform)(account)


def native_ahead(analysis: Analysis, now: datetime, accounts: set[str]) -> list[Desired]:
    """Deliveries of these accounts due far enough ahead for the platform's own scheduler."""
    broken = {p.post for p in analysis.problems if p.severity == "error" and p.post}
    out = []
    for r in analysis.renderings:
        schedule = analysis.schedules.get(r.post.id)
        if r.account.name not in accounts or schedule is None or r.post.id in broken:
            continue
        for at in schedule.occurrences(now + NATIVE_MIN_AHEAD, now + NATIVE_MAX_AHEAD, now):
            out.append(Desired(r.post.id, r.account.name, r.platform, at, content_hash(r)))
    return out


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} hour{'s' if hours != 1 else ''}"


__all__ = ["RunReport", "connector", "publish_due", "run_lock", "worker_id"]
