"""Stopping a run on SIGINT (Ctrl-C) or SIGTERM, the same way for ``publish`` and ``schedule``.

The first signal asks the run to stop: the part in flight finishes and is recorded, what was
claimed but not started is given back, and the command exits 130 (SIGINT) or 143 (SIGTERM) after
one line saying what was left. A second signal abandons at once: what was not started is given
back (best effort, for a moment), the part in flight is left for the next run to reconcile (its
worker is gone, so the next run on this host takes it over at once), and the process exits.

Forked publishing processes ignore Ctrl-C themselves (the terminal sends it to all of them):
the parent tells them with SIGUSR1 (stop) and SIGUSR2 (abandon).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

ABANDON_WAIT_S = 3.0  # how long a second signal waits for claims to be given back
HEARD = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2})


@contextlib.contextmanager
def threads_leave_signals_to_main() -> Iterator[None]:
    """Threads started inside this block (and the threads they start) block the signals a run
    handles, so the kernel hands SIGINT and SIGTERM to the main thread only. Otherwise a signal
    that arrives while the job is stopped (Ctrl-Z, then ``kill %1``) goes, on SIGCONT, to
    whichever thread runs first; a publishing thread cannot run the Python handler, and the main
    thread, asleep in a wait, would act on it only when it next wakes: too late for a fast
    platform. The main thread blocks them only while it starts threads (a signal then waits, it
    is not lost). A process forked inside the block inherits the mask: :meth:`Stop.install_in_child`
    unblocks them."""
    if threading.current_thread() is not threading.main_thread():
        yield  # a thread of ours already blocks them, and its children inherit that
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, HEARD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class Stop:
    """A run's stop request: ``event`` is set by the first signal; ``signum`` says which."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signum: int | None = None
        self._abandon: list[Callable[[], None]] = []
        self._stopping: list[Callable[[], None]] = []

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def exit_code(self) -> int:
        return 128 + (self.signum or signal.SIGINT)

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Run at the first signal (quick and thread-safe: it runs in the signal handler), e.g.
        to stop waiting for a ledger that is away."""
        self._stopping.append(callback)

    def on_abandon(self, callback: Callable[[], None]) -> None:
        """Run (briefly, best effort) before the process exits on a second signal."""
        self._abandon.append(callback)

    def request(self, signum: int) -> None:
        if self.signum is None:
            self.signum = signum
            self.event.set()
            for callback in self._stopping:
                with contextlib.suppress(Exception):
                    callback()
            _tell_children(signal.SIGUSR1)
            return
        self.abandon()

    def abandon(self) -> None:
        _tell_children(signal.SIGUSR2)
        worker = threading.Thread(target=self._run_abandon, daemon=True)
        worker.start()
        worker.join(ABANDON_WAIT_S)
        os._exit(self.exit_code())

    def _run_abandon(self) -> None:
        for callback in self._abandon:
            with contextlib.suppress(Exception):
                callback()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.request(signum)

    @contextlib.contextmanager
    def installed(self) -> Iterator[Stop]:
        """SIGINT and SIGTERM handled by this object while the block runs (main thread only)."""
        previous = {
            sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def install_in_child(self) -> None:
        """In a forked publishing process: Ctrl-C is the parent's to decide; SIGUSR1 and
        SIGTERM stop, SIGUSR2 abandons."""
        self.signum = None
        self.event.clear()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HEARD)  # whatever the forking thread blocked
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGUSR1, self._child_stop)
        signal.signal(signal.SIGTERM, self._child_stop)
        signal.signal(signal.SIGUSR2, lambda s, f: self.abandon())

    def _child_stop(self, signum: int, frame: FrameType | None) -> None:
        if not self.event.is_set():
            self.event.set()
            for callback in self._stopping:
                with contextlib.suppress(Exception):
                    callback()


def _tell_children(signum: int) -> None:
    for child in multiprocessing.active_children():
        if child.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signum)
