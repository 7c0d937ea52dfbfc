"""A worker's heartbeat, and how to tell that a worker is gone.

While a ``schedule`` or ``publish`` process runs, a daemon thread renews the claims it is working
on (every third of the lease) and records the worker in the ledger's ``workers`` table, which
``status`` shows. Only the deliveries in :class:`Held` are renewed: a claim that no dispatcher
is working on any more (whatever went wrong) expires one lease later and is taken over. A worker
that dies stops beating; a run on the same host sees at once that its process is gone
(:func:`gone`) and takes its claims over, reconciling their open attempts first, as after a
crash; a worker on another host loses its claims when their lease ends.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eduadvocate.core.stopping import threads_leave_signals_to_main
from eduadvocate.ledger.base import ClaimRow, Ledger


class Held:
    """The deliveries this process is working on: claimed by one of its dispatchers and not yet
    settled. ``started`` ones may have a platform call in flight; the others can be given back
    as they are."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: dict[int, bool] = {}

    def add(self, ids: list[int]) -> None:
        with self._lock:
            for delivery_id in ids:
                self._ids.setdefault(delivery_id, False)

    def start(self, delivery_id: int) -> None:
        with self._lock:
            self._ids[delivery_id] = True

    def discard(self, delivery_id: int) -> None:
        with self._lock:
            self._ids.pop(delivery_id, None)

    def ids(self) -> list[int]:
        with self._lock:
            return list(self._ids)

    def unstarted(self) -> list[int]:
        with self._lock:
            return [i for i, started in self._ids.items() if not started]

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)


class Heartbeat:
    def __init__(
        self,
        ledger: Ledger,
        worker: str,
        lease: timedelta,
        *,
        clock: Callable[[], datetime],
        held: Held,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        self.ledger = ledger
        self.held = held
        self.worker = worker
        self.lease = lease
        self.clock = clock
        self.notice = notice
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def beat(self) -> int:
        now = self.clock()
        return self.ledger.heartbeat(self.worker, now, now + self.lease, self.held.ids())

    def _run(self) -> None:
        interval = self.lease.total_seconds() / 3
        while not self._stop.wait(interval):
            try:
                self.beat()
            except Exception as exc:  # the ledger is away for a moment: say so once, keep trying
                if not self._failing and self.notice is not None:
                    self.notice(f"heartbeat failed, retrying: {exc}")
                self._failing = True
            else:
                if self._failing and self.notice is not None:
                    self.notice("heartbeat restored")
                self._failing = False

    def __enter__(self) -> Heartbeat:
        self.beat()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        with threads_leave_signals_to_main():
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with contextlib.suppress(Exception):  # a courtesy: else it shows as a silent worker
            self.ledger.leave(self.worker)


def parse_worker(worker: str) -> tuple[str, int] | None:
    """``host:pid-suffix`` (or ``host:pid-suffix/child-pid`` for a forked publisher) → (host, pid)."""
    host, sep, rest = worker.rpartition(":")
    if not sep:
        return None
    pid = rest.rpartition("/")[2] if "/" in rest else rest.partition("-")[0]
    return (host, int(pid)) if pid.isdigit() else None


def gone(worker: str, started_at: datetime | None, *, me: str) -> bool:
    """Whether a worker that holds claims has certainly stopped: it ran on this host and its
    process is not alive any more (or the pid now belongs to a process that started after the
    worker did, or to this very process under another worker name). Workers on other hosts
    cannot be seen from here: their leases tell."""
    parsed = parse_worker(worker)
    if parsed is None or worker == me or worker.startswith(me + "/"):
        return False
    host, pid = parsed
    if host != socket.gethostname():
        return False
    if pid == os.getpid():
        return True  # a restarted container reusing our pid: that worker is not us
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    began = _process_start(pid)
    return began is not None and started_at is not None and began > started_at + _SLACK


_SLACK = timedelta(seconds=2)


def _process_start(pid: int) -> datetime | None:
    """When a process started (Linux: /proc), to notice a pid that was reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    fields = stat.rpartition(")")[2].split()
    try:
        ticks = int(fields[19])  # field 22 of stat: start time in clock ticks after boot
    except (IndexError, ValueError):
        return None
    return datetime.fromtimestamp(boot + ticks / os.sysconf("SC_CLK_TCK"), UTC)


def take_over(ledger: Ledger, now: datetime, *, me: str) -> list[ClaimRow]:
    """Claims whose worker is gone become claimable at once (expired ones are already): the
    next claim reconciles their open attempts before anything is sent. Returns whose."""
    taken = []
    for row in ledger.claims():
        if row.worker == me or row.worker.startswith(me + "/"):
            continue
        if row.lease_expires <= now:
            taken.append(row)
        elif gone(row.worker, row.started_at, me=me):
            ledger.expire_claims(row.worker, now)
            taken.append(row)
    return taken
