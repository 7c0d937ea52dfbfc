"""A worker's heartbeat: while a ``schedule`` or ``publish`` process runs, a daemon thread renews
every claim it holds (every third of the lease) and records it in the ledger's ``workers`` table,
which ``status`` shows. A worker that dies stops beating; its claims expire one lease later and
the next worker to claim them reconciles their open attempts first, as after a crash.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from eduadvocate.ledger.base import Ledger


class Heartbeat:
    def __init__(
        self,
        ledger: Ledger,
        worker: str,
        lease: timedelta,
        *,
        clock: Callable[[], datetime],
        notice: Callable[[str], None] | None = None,
    ) -> None:
        self.ledger = ledger
        self.worker = worker
        self.lease = lease
        self.clock = clock
        self.notice = notice
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def beat(self) -> int:
        now = self.clock()
        return self.ledger.heartbeat(self.worker, now, now + self.lease)

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
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with contextlib.suppress(Exception):  # a courtesy: else it shows as a silent worker
            self.ledger.leave(self.worker)
