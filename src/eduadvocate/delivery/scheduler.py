"""``eduadvocate schedule``: the long-running loop, on APScheduler 3.x (imported only here).

- The files are analysed once and again only when they change (polled every second, read once
  nothing has been written for a second, so a file being saved is not read half-way); each
  (re)load syncs the ledger for the coming ``HORIZON`` and schedules one job per due instant and
  account, with an explicit ``misfire_grace_time`` (the config's grace window), ``coalesce`` and
  ``max_instances=1``.
- A job publishes what is due for its account through the same dispatcher as ``publish``;
  accounts run in parallel, one account's deliveries one at a time (in due order).
- A sweep every ``SWEEP_S`` (or half the lease, if shorter) catches retries whose back-off has
  passed, holds that expired, and claims a dead worker left behind; it runs each account as its
  own job, so the pool works through them in parallel.
- A heartbeat renews this worker's claims (see :mod:`eduadvocate.delivery.heartbeat`).
- Every ``METRICS_S`` it pulls the engagement counts of posts that reached an age in the
  config's ``metrics.pull_after`` (default 1 h, 24 h, 7 days) since their last snapshot.
- Accounts whose platform schedules posts itself (``native_schedule: true`` on a Facebook Page)
  get what is due in the coming weeks handed to that scheduler at the first sweep, as
  ``publish`` does; what it cannot take is published when due.
- Platform errors never stop the loop; SIGTERM or Ctrl-C lets the part in flight finish and be
  recorded, releases what was claimed but not started, and exits 130 or 143 (core/stopping.py).

APScheduler's job store is in memory and private to this process: several workers coordinate
only through the ledger's claims.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from eduadvocate.campaign.workspace import SETTLE_S, campaign_files, open_campaign
from eduadvocate.compose.check import Analysis, analyse
from eduadvocate.compose.render import Rendering
from eduadvocate.core.clock import Clock
from eduadvocate.core.errors import Location, Problem
from eduadvocate.core.stopping import Stop, threads_leave_signals_to_main
from eduadvocate.core.words import plural
from eduadvocate.delivery.dispatch import (
    Dispatcher,
    Probe,
    describe,
    give_back_unstarted,
    no_probe,
)
from eduadvocate.delivery.heartbeat import Heartbeat, Held, take_over
from eduadvocate.delivery.planning import (
    NATIVE_MAX_AHEAD,
    Outcome,
    Recorded,
    cannot_read,
    next_due,
    plan,
    record,
)
from eduadvocate.delivery.publish import WAKE_S, connector, worker_id
from eduadvocate.ledger import ledger_target, open_ledger, shown
from eduadvocate.ledger.base import Ledger, State

HORIZON = timedelta(days=2)
WATCH_S = 1.0  # how often the files are looked at (a stat of each)
SWEEP_S = 30.0
METRICS_S = 600.0  # how often to look for posts due for engagement counts
METRICS_LEASE = timedelta(minutes=30)  # a pull that takes longer may be repeated by another
MAX_PARALLEL_ACCOUNTS = 8


@dataclass
class FileChange:
    """What an edit of one file changed, by post id and loaded content (not by text: moving a
    post down a file, or reformatting it, changes nothing)."""

    file: str
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass
class LoadReport:
    posts: int
    jobs: int
    errors: int
    unreadable: list[Problem] = field(default_factory=list)
    recorded: Recorded = field(default_factory=Recorded)
    files: int = 0  # posts files read
    accounts: int = 0
    ledger: str = ""  # as it may be shown (a URL's password masked)
    next_due: datetime | None = None
    changes: list[FileChange] = field(default_factory=list)  # set by a reload
    first: bool = False  # the load at start (nothing to compare with)


def _changed(a: dict[str, tuple[int, int]], b: dict[str, tuple[int, int]]) -> set[str]:
    return {path for path in a.keys() & b.keys() if a[path] != b[path]}


def _content(value: object) -> object:
    """A post as loaded, without where it was written (locations and its file), to compare."""
    if isinstance(value, Location):
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple(
            (f.name, _content(getattr(value, f.name)))
            for f in dataclasses.fields(value)
            if f.name != "file"
        )
    if isinstance(value, list | tuple):
        return tuple(_content(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _content(v)) for k, v in value.items()))
    return value


def compare(
    before: dict[str, tuple[str, object]], after: dict[str, tuple[str, object]]
) -> dict[str, FileChange]:
    """Posts added, changed and removed (id → (file, content)), by the file they are in (a
    removed one: the file it was in)."""
    out: dict[str, FileChange] = {}

    def of(file: str) -> FileChange:
        return out.setdefault(file, FileChange(file))

    for post, (file, content) in after.items():
        if post not in before:
            of(file).added.append(post)
        elif before[post][1] != content:
            of(file).changed.append(post)
    for post, (file, _) in before.items():
        if post not in after:
            of(file).removed.append(post)
    return out


class Scheduler:
    """Keeps the campaign in memory, the ledger in sync, and APScheduler's jobs up to date."""

    def __init__(
        self,
        config_path: str | None,
        *,
        report: Callable[[Outcome], None],
        notice: Callable[[str], None],
        warn: Callable[[str], None] | None = None,
        loaded: Callable[[LoadReport], None] | None = None,
        stop: Stop | None = None,
        clock: Clock | None = None,
        probe: Probe = no_probe,
    ) -> None:
        """``clock``: what now is (default: the system's); ``probe``: see
        :data:`~eduadvocate.delivery.dispatch.Probe`."""
        self.config_path = config_path
        self.report = report
        self.notice = notice  # what it is doing (quiet mode drops these)
        self.warn = warn or notice  # what someone must know or fix: always shown
        self.loaded = loaded  # what a (re)load found, when it was started or files changed
        self._known: dict[str, tuple[str, object]] = {}  # post id → (file, content)
        self.first_load = True
        self.stop = stop or Stop()
        self.stopping = self.stop.event
        self._lock = threading.RLock()  # guards analysis, renderings and dispatchers
        self._account_locks: dict[str, threading.Lock] = {}
        self._rerun: set[str] = set()  # accounts whose job fired while another was running
        self._dispatchers: dict[str, Dispatcher] = {}
        self._snapshot: dict[str, tuple[int, int]] = {}
        self._previous: dict[str, tuple[int, int]] = {}  # the files before the last reload
        self._said: set[str] = set()  # metrics notices already given
        self._held_said: set[str] = set()  # held deliveries already reported
        self.native: set[str] = set()  # accounts whose platform schedules natively
        self._queued: set[str] = set()  # accounts a sweep put on the pool, not started yet
        self.hold_posts: set[str] = set()  # not to be claimed: their file cannot be read
        self.held = Held()  # what this worker is working on: the heartbeat renews these
        self.worker = worker_id()
        self.ws = open_campaign(config_path, settle=True, require=True, clock=clock)
        self.clock = self.ws.clock
        self.probe = probe
        self.ledger: Ledger = open_ledger(self.ws.config.ledger, self.ws.config.root)
        self.analysis: Analysis = Analysis()
        self.renderings: dict[tuple[str, str], Rendering] = {}
        # APScheduler's own log lines ("job skipped: already running", a job's traceback) would
        # reach stderr through logging's last-resort handler; a failed job is reported by
        # ``_job_failed`` in one line instead.
        logging.getLogger("apscheduler").setLevel(logging.CRITICAL)
        self.apscheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(MAX_PARALLEL_ACCOUNTS)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone="UTC",
        )
        self.apscheduler.add_listener(self._job_failed, EVENT_JOB_ERROR)

    # -- loading -------------------------------------------------------------------------------
    def load(self) -> LoadReport:
        """(Re)read the files, sync the ledger for the horizon, and reschedule the jobs. Posts
        of a file that cannot be read keep what the ledger holds of them (see planning)."""
        with self._lock:
            self.ws = open_campaign(self.config_path, settle=True, require=True, clock=self.clock)
            now = self.clock()
            self._snapshot = self._files()
            self.analysis = analyse(self.ws.config, self.ws.campaign, now)
            the_plan = plan(
                self.ws,
                self.analysis,
                now,
                grace=self.ws.config.grace,
                horizon=HORIZON,
                ledger=self.ledger,
            )
            take_over(self.ledger, now, me=self.worker)
            recorded = record(
                the_plan, self.ledger, grace=self.ws.config.grace, connect=connector(self.ws.config)
            )
            self.renderings = the_plan.renderings()
            self.native = the_plan.native
            self.hold_posts = recorded.hold_posts
            for problem in the_plan.unreadable:
                self.warn(cannot_read(problem))
            for warning in recorded.warnings:
                self.warn(warning)
            for held in [*the_plan.held, *recorded.held]:
                self._report_held(held)
            self._dispatchers.clear()  # new config: new connections
            jobs = self._reschedule(now)
            # Posts of a file that cannot be read are not in the files now, but not removed:
            # they are compared with what that file held when it last loaded.
            broken = {p.location.file for p in the_plan.unreadable if p.location}
            known = {p.id: (p.file, _content(p)) for p in self.ws.campaign.posts}
            for post, (file, content) in self._known.items():
                if file in broken and post not in known:
                    known[post] = (file, content)
            first = self.first_load
            changes = {} if first else compare(self._known, known)
            self._known, self.first_load = known, False
            return LoadReport(
                posts=len(self.ws.campaign.posts),
                jobs=jobs,
                errors=self.analysis.errors,
                unreadable=the_plan.unreadable,
                recorded=recorded,
                files=len(self.ws.campaign.files),
                accounts=len(self.ws.config.accounts),
                ledger=shown(ledger_target(self.ws.config.ledger)),
                next_due=next_due(self.ws, self.analysis, now),
                changes=sorted(changes.values(), key=lambda c: c.file),
                first=first,
            )

    def _tell(self, report: LoadReport) -> None:
        if self.loaded is not None:
            self.loaded(report)
        else:
            self.notice(f"loaded {report.posts} posts: {report.jobs} jobs")

    def _report_held(self, held: Outcome) -> None:
        """A held delivery is reported once per reason (a changed reason is news)."""
        said = f"{held.key}|{held.error}"
        if said not in self._held_said:
            self._held_said.add(said)
            self.report(held)

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
        out = {}
        for path in campaign_files(self.ws.config):
            try:
                stat = Path(path).stat()
            except OSError:
                continue
            out[str(path)] = (stat.st_mtime_ns, stat.st_size)
        return out

    def watch(self) -> None:
        """Reload when a config, people or posts file changed (or one was added or removed),
        once the change has settled: nothing written in the last ``SETTLE_S`` (an editor or a
        ``git checkout`` writing a file is not read half-way)."""
        if self.stopping.is_set():
            return
        files = self._files()
        if files == self._snapshot:
            return
        newest = max((mtime for mtime, _ in files.values()), default=0) / 1e9
        if time.time() - newest < SETTLE_S:
            return  # still being written: look again next time
        self._previous = self._snapshot
        try:
            report = self.load()
        except Exception as exc:  # a broken config must not stop the loop: keep the last plan
            self.warn(f"not reloaded, the last good plan stays: {describe(exc)}")
            self._snapshot = files
            return
        # Every file that changed is named, even when no post in it did (a config edit).
        named = {c.file for c in report.changes}
        for path in sorted(set(files) ^ set(self._previous) | _changed(files, self._previous)):
            shown_path = self.ws.config.display(Path(path))
            if shown_path not in named:
                report.changes.append(FileChange(shown_path))
        report.changes.sort(key=lambda c: c.file)
        self._tell(report)

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
                    until = self.clock() + NATIVE_MAX_AHEAD if name in self.native else None
                    self._dispatcher(name).run(
                        self.renderings,
                        accounts={name},
                        native_until=until,
                        hold_posts=self.hold_posts,
                        on_outcome=self.report,  # a line each, as it is done
                    )
                except Exception as exc:  # keep running through anything (the ledger away...)
                    self.warn(f"{name}: {describe(exc)}")
                finally:
                    lock.release()
                if name not in self._rerun:
                    break

    def pull_metrics(self) -> None:
        """Counts of the posts that reached an age mark (``metrics.pull_after``) since their last
        snapshot. A refusal or failure is said once per account and reason."""
        from eduadvocate.metrics.pull import pull

        now = self.clock()
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
                    clock=self.clock,
                )
            finally:
                self.ledger.drop_lease("metrics", self.worker)
        except Exception as exc:  # counts are a bonus: never let them stop publishing
            self.notice(f"metrics: {type(exc).__name__}: {exc}")
            return
        if report.snapshots:
            self.notice(f"metrics: counted {plural(report.posts, 'post')}")
        for account, reason in {**report.refused, **report.failed}.items():
            said = f"{account}: {reason}"
            if said not in self._said:
                self._said.add(said)
                self.notice(f"metrics: {said}")

    def sweep(self) -> None:
        """Run each account that has something to claim as its own job on the pool, the one
        waiting longest first (a dead worker's deliveries are the oldest); accounts that
        schedule natively are looked at every time (their window is weeks long)."""
        now = self.clock()
        for row in take_over(self.ledger, now, me=self.worker):
            if row.lease_expires > now:  # its process is gone: said once, taken at once
                self.notice(
                    f"taking over {plural(row.claims, 'claim')} of {row.worker}: it has stopped"
                )
        due = [a for a in self.ledger.due_accounts(now) if a in self.ws.config.accounts]
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
                dispatcher = Dispatcher.for_account(
                    self.ws.config,
                    self.ledger,
                    self.worker,
                    account,
                    clock=self.clock,
                    connect=connector(self.ws.config),
                    held=self.held,
                    stopping=self.stopping,
                    probe=self.probe,
                )
                self._dispatchers[account] = dispatcher
            return dispatcher

    # -- the loop --------------------------------------------------------------------------------
    def run(self) -> int:
        """Load, start the jobs and block until SIGTERM/SIGINT; then finish cleanly. Returns
        the exit status: 143 after SIGTERM, 130 after SIGINT."""
        self._tell(self.load())
        self.apscheduler.add_job(self.watch, "interval", seconds=WATCH_S, id="watch")
        sweep_s = min(SWEEP_S, max(1.0, self.ws.config.lease.total_seconds() / 2))
        self.apscheduler.add_job(
            self.sweep, "interval", seconds=sweep_s, id="sweep", next_run_time=self.clock()
        )
        self.apscheduler.add_job(self.load, "interval", hours=1, id="replan")
        if self.ws.config.metrics_ages:
            self.apscheduler.add_job(
                self.pull_metrics,
                "interval",
                seconds=METRICS_S,
                id="metrics",
                next_run_time=self.clock(),
            )
        self.stop.on_abandon(self._give_back)
        self.stop.on_stop(self.ledger.stop_waiting)  # a stop during an outage does not wait it out
        heartbeat = Heartbeat(
            self.ledger,
            self.worker,
            self.ws.config.lease,
            clock=self.clock,
            held=self.held,
            notice=self.notice,
        )
        with self.stop.installed(), heartbeat:
            with threads_leave_signals_to_main():  # its thread, and the ones that starts
                self.apscheduler.start()
            try:
                # In short steps: a second line, for a thread some library started that does not
                # block the stop signals (those the kernel may hand a signal to).
                while not self.stopping.wait(WAKE_S):
                    pass
            finally:
                self.apscheduler.shutdown(wait=True)  # the part in flight finishes and is recorded
                for dispatcher in self._dispatchers.values():
                    dispatcher.close()
        left = self._pending_count()
        self.ledger.close()
        self.notice(
            "stopped"
            + (
                f": {left} post{'s wait' if left != 1 else ' waits'} in the ledger for the next run"
                if left
                else ""
            )
        )
        return self.stop.exit_code()

    def _pending_count(self) -> int:
        try:
            return len(self.ledger.deliveries(state=State.PENDING))
        except Exception:  # the ledger is away: the count is only a courtesy
            return 0

    def _give_back(self) -> None:
        """A second signal: what was claimed but not started goes back now."""
        give_back_unstarted(self.ledger, self.worker, self.held, self.clock)

    def _job_failed(self, event: JobExecutionEvent) -> None:
        """A job raised (the ledger unreachable, say): one line, and the loop goes on."""
        if event.exception is not None:
            self.warn(f"{event.job_id.partition(':')[0]}: {describe(event.exception)}")
