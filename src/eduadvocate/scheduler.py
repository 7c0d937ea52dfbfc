"""``eduadvocate schedule``: the long-running loop, on APScheduler 3.x (imported only here).

- The files are analysed once and again only when they change (polled every few seconds); each
  (re)load syncs the ledger for the coming ``HORIZON`` and schedules one job per due instant and
  account, with an explicit ``misfire_grace_time`` (the config's grace window), ``coalesce`` and
  ``max_instances=1``.
- A job publishes what is due for its account through the same dispatcher as ``publish``;
  accounts run in parallel, one account's deliveries one at a time (in due order).
- A sweep every ``SWEEP_S`` (or half the lease, if shorter) catches retries whose back-off has
  passed, holds that expired, and claims a dead worker left behind; it runs each account as its
  own job, so the pool works through them in parallel.
- A heartbeat renews this worker's claims (see :mod:`eduadvocate.heartbeat`).
- Every ``METRICS_S`` it pulls the engagement counts of posts that reached an age in the
  config's ``metrics.pull_after`` (default 1 h, 24 h, 7 days) since their last snapshot.
- Accounts whose platform schedules posts itself (``native_schedule: true`` on a Facebook Page)
  get what is due in the coming weeks handed to that scheduler at the first sweep, as
  ``publish`` does; what it cannot take is published when due.
- Platform errors never stop the loop; SIGTERM or Ctrl-C lets the part in flight finish and be
  recorded, releases what was claimed but not started, and exits 0.

APScheduler's job store is in memory and private to this process: several workers coordinate
only through the ledger's claims.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from eduadvocate.check import Analysis, analyse
from eduadvocate.dispatch import NATIVE_MAX_AHEAD, Dispatcher, Outcome, plan_due
from eduadvocate.heartbeat import Heartbeat
from eduadvocate.ledger import open_ledger
from eduadvocate.ledger.base import Desired, Ledger, State
from eduadvocate.platforms.registry import spec_class
from eduadvocate.publish import connector, native_ahead, renderings_by_delivery, worker_id
from eduadvocate.render import Rendering
from eduadvocate.workspace import clock, open_campaign

HORIZON = timedelta(days=2)
WATCH_S = 3.0
SWEEP_S = 30.0
METRICS_S = 600.0  # how often to look for posts due for engagement counts
METRICS_LEASE = timedelta(minutes=30)  # a pull that takes longer may be repeated by another
MAX_PARALLEL_ACCOUNTS = 8


@dataclass
class LoadReport:
    posts: int
    jobs: int
    errors: int
    skipped: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    drifted: list[str] = field(default_factory=list)


class Scheduler:
    """Keeps the campaign in memory, the ledger in sync, and APScheduler's jobs up to date."""

    def __init__(
        self,
        config_path: str | None,
        *,
        report: Callable[[Outcome], None],
        notice: Callable[[str], None],
    ) -> None:
        self.config_path = config_path
        self.report = report
        self.notice = notice
        self.stopping = threading.Event()
        self._lock = threading.RLock()  # guards analysis, renderings and dispatchers
        self._account_locks: dict[str, threading.Lock] = {}
        self._rerun: set[str] = set()  # accounts whose job fired while another was running
        self._dispatchers: dict[str, Dispatcher] = {}
        self._snapshot: dict[str, tuple[int, int]] = {}
        self._said: set[str] = set()  # metrics notices already given
        self.native: set[str] = set()  # accounts whose platform schedules natively
        self._queued: set[str] = set()  # accounts a sweep put on the pool, not started yet
        self.worker = worker_id()
        self.ws = open_campaign(config_path)
        self.ledger: Ledger = open_ledger(self.ws.config.ledger, self.ws.config.root)
        self.analysis: Analysis = Analysis()
        self.renderings: dict[tuple[str, str], Rendering] = {}
        # APScheduler's own log lines ("job skipped: already running") would reach stderr
        # through logging's last-resort handler; what matters is reported by us.
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        self.apscheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(MAX_PARALLEL_ACCOUNTS)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone="UTC",
        )

    # -- loading -------------------------------------------------------------------------------
    def load(self) -> LoadReport:
        """(Re)read the files, sync the ledger for the horizon, and reschedule the jobs."""
        with self._lock:
            self.ws = open_campaign(self.config_path)
            now = clock()
            self.analysis = analyse(self.ws.config, self.ws.campaign, now)
            self.renderings = renderings_by_delivery(self.analysis)
            self._snapshot = self._files()
            grace = self.ws.config.grace
            plan = plan_due(self.analysis, self.ledger, now, grace)
            ahead = [*plan.desired, *self._upcoming(now)]
            self.native = {
                name
                for name, acc in self.ws.config.accounts.items()
                if spec_class(acc.platform)(acc).native_schedule
            }
            others = set(self.ws.config.accounts) - self.native
            sync = self.ledger.sync(
                [d for d in ahead if d.account in others], now, until=now + HORIZON, scope=others
            )
            if self.native:
                # Their platform schedules posts itself: the coming weeks are handed over early.
                native = [d for d in plan.desired if d.account in self.native]
                native += native_ahead(self.analysis, now, self.native)
                more = self.ledger.sync(
                    native, now, until=now + NATIVE_MAX_AHEAD, scope=self.native
                )
                sync.cancelled += more.cancelled
                sync.drifted += more.drifted
            skipped = self.ledger.mark_skipped(
                plan.missed, now, "missed: due before the grace window"
            )
            for held in plan.held:
                self.report(held)
            self._dispatchers.clear()  # new config: new connections
            jobs = self._reschedule(now)
            return LoadReport(
                posts=len(self.ws.campaign.posts),
                jobs=jobs,
                errors=self.analysis.errors,
                skipped=skipped,
                cancelled=sync.cancelled,
                drifted=sync.drifted,
            )

    def _upcoming(self, now: datetime) -> list[Desired]:
        from eduadvocate.dispatch import content_hash

        broken = {p.post for p in self.analysis.problems if p.severity == "error" and p.post}
        out = []
        for r in self.analysis.renderings:
            schedule = self.analysis.schedules.get(r.post.id)
            if schedule is None or r.post.id in broken or schedule.when == "now":
                continue
            for at in schedule.occurrences(now, now + HORIZON, now):
                if at > now:
                    out.append(Desired(r.post.id, r.account.name, r.platform, at, content_hash(r)))
        return out

    def _reschedule(self, now: datetime) -> int:
        for job in self.apscheduler.get_jobs():
            if job.id.startswith("at:"):
                job.remove()
        instants: dict[tuple[datetime, str], None] = {}
        for d in self.ledger.deliveries(state=State.PENDING):
            if d.due_at <= now + HORIZON:
                instants[(max(d.due_at, d.next_attempt_at or d.due_at), d.account)] = None
        grace_s = int(self.ws.config.grace.total_seconds())
        for at, account in instants:
            self.apscheduler.add_job(
                self.fire,
                "date",
                run_date=max(at, now),
                args=[account],
                id=f"at:{at.isoformat()}:{account}",
                replace_existing=True,
                misfire_grace_time=grace_s,
            )
        return len(instants)

    def _files(self) -> dict[str, tuple[int, int]]:
        config = self.ws.config
        paths = [config.people_path]
        if config.path is not None:
            paths.append(config.path)
        if config.posts_dir.is_dir():
            paths += sorted(config.posts_dir.rglob("*.y*ml"))
        out = {}
        for path in paths:
            try:
                stat = Path(path).stat()
            except OSError:
                continue
            out[str(path)] = (stat.st_mtime_ns, stat.st_size)
        return out

    def watch(self) -> None:
        """Reload when a config, people or posts file changed (or one was added or removed)."""
        if self.stopping.is_set() or self._files() == self._snapshot:
            return
        try:
            report = self.load()
        except Exception as exc:  # a broken edit must not stop the loop: keep the last good plan
            self.notice(f"not reloaded: {exc}")
            self._snapshot = self._files()
            return
        self.notice(f"files changed: reloaded {report.posts} posts, {report.jobs} upcoming jobs")

    # -- publishing ----------------------------------------------------------------------------
    def fire(self, account: str | None = None) -> None:
        """Publish what is due now for one account (None: every account)."""
        accounts = [account] if account else list(self.ws.config.accounts)
        for name in accounts:
            lock = self._account_locks.setdefault(name, threading.Lock())
            while not self.stopping.is_set():
                if not lock.acquire(blocking=False):
                    self._rerun.add(name)  # the running job looks again before it lets go
                    break
                try:
                    self._rerun.discard(name)
                    until = clock() + NATIVE_MAX_AHEAD if name in self.native else None
                    for outcome in self._dispatcher(name).run(
                        self.renderings, accounts={name}, native_until=until
                    ):
                        self.report(outcome)
                except Exception as exc:  # keep running through anything a platform throws at us
                    self.notice(f"{name}: {type(exc).__name__}: {exc}")
                finally:
                    lock.release()
                if name not in self._rerun:
                    break

    def pull_metrics(self) -> None:
        """Counts of the posts that reached an age mark (``metrics.pull_after``) since their last
        snapshot. A refusal or failure is said once per account and reason."""
        from eduadvocate.metrics import pull

        now = clock()
        try:
            # One worker at a time: the others would ask the platforms for the same counts.
            if not self.ledger.take_lease("metrics", self.worker, now, now + METRICS_LEASE):
                return
            try:
                report = pull(
                    self.ledger,
                    connector(self.ws.config),
                    now,
                    ages=self.ws.config.metrics_ages,
                    clock=clock,
                )
            finally:
                self.ledger.drop_lease("metrics", self.worker)
        except Exception as exc:  # counts are a bonus: never let them stop publishing
            self.notice(f"metrics: {type(exc).__name__}: {exc}")
            return
        if report.snapshots:
            self.notice(f"metrics: counted {report.posts} post{'s' if report.posts != 1 else ''}")
        for account, reason in {**report.refused, **report.failed}.items():
            said = f"{account}: {reason}"
            if said not in self._said:
                self._said.add(said)
                self.notice(f"metrics: {said}")

    def sweep(self) -> None:
        """Run each account that has something to claim as its own job on the pool, the one
        waiting longest first (a dead worker's deliveries are the oldest); accounts that
        schedule natively are looked at every time (their window is weeks long)."""
        due = [a for a in self.ledger.due_accounts(clock()) if a in self.ws.config.accounts]
        for name in [*due, *sorted(self.native - set(due))]:
            if self.stopping.is_set():
                return
            lock = self._account_locks.get(name)
            if lock is not None and lock.locked():
                self._rerun.add(name)  # running already: it looks again before it lets go
                continue
            with self._lock:
                if name in self._queued:  # waiting for a thread already
                    continue
                self._queued.add(name)
            self.apscheduler.add_job(
                self._fire_queued, args=[name], id=f"sweep:{name}", replace_existing=True
            )

    def _fire_queued(self, name: str) -> None:
        with self._lock:
            self._queued.discard(name)
        self.fire(name)

    def _dispatcher(self, account: str) -> Dispatcher:
        with self._lock:
            dispatcher = self._dispatchers.get(account)
            if dispatcher is None:
                acc = self.ws.config.accounts[account]
                caps = {account: cap} if (cap := spec_class(acc.platform)(acc).daily_cap) else {}
                dispatcher = Dispatcher(
                    self.ws.config,
                    self.ledger,
                    self.worker,
                    clock=clock,
                    connect=connector(self.ws.config),
                    caps=caps,
                )
                dispatcher.stopping = self.stopping
                self._dispatchers[account] = dispatcher
            return dispatcher

    # -- the loop --------------------------------------------------------------------------------
    def run(self) -> None:
        """Load, start the jobs and block until SIGTERM/SIGINT; then finish cleanly."""
        report = self.load()
        self.notice(
            f"scheduling {report.posts} posts: {report.jobs} jobs in the next {HORIZON.days} days"
            + (f" ({report.errors} errors: those posts are held)" if report.errors else "")
        )
        self.apscheduler.add_job(self.watch, "interval", seconds=WATCH_S, id="watch")
        sweep_s = min(SWEEP_S, max(1.0, self.ws.config.lease.total_seconds() / 2))
        self.apscheduler.add_job(
            self.sweep, "interval", seconds=sweep_s, id="sweep", next_run_time=clock()
        )
        self.apscheduler.add_job(self.load, "interval", hours=1, id="replan")
        if self.ws.config.metrics_ages:
            self.apscheduler.add_job(
                self.pull_metrics,
                "interval",
                seconds=METRICS_S,
                id="metrics",
                next_run_time=clock(),
            )
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        heartbeat = Heartbeat(
            self.ledger, self.worker, self.ws.config.lease, clock=clock, notice=self.notice
        )
        heartbeat.__enter__()
        self.apscheduler.start()
        try:
            self.stopping.wait()
        finally:
            self.apscheduler.shutdown(wait=True)  # the part in flight finishes and is recorded
            heartbeat.__exit__()
            for dispatcher in self._dispatchers.values():
                dispatcher.close()
            self.ledger.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.notice("stopped")

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.notice("stopping: finishing the post in flight")
        self.stopping.set()
