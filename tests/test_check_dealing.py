"""A spread `check` deals its work in units (a posts file, or a run of a larger file's posts):
each process takes its own share's units from the front, then helps the others from the back
(compose/check.py ``_Dealer``), so one slowed process no longer holds the whole command up.
Whoever takes which unit, the JSON output is byte for byte that of reading the whole campaign
first; every unit is dealt once; a child that dies, even while it holds the dealer's lock, is a
one-line error and not a wait."""

from __future__ import annotations

import copy
import itertools
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduadvocate.cli import commands
from eduadvocate.compose import check
from tests.test_check_loadsplit import _FILE, TWIN_CONFIG, _check_json, _spread, _today
from tests.test_cli import run
from tests.test_fuzz_campaign import _write_campaign, good_config, people_file


def _dealer(sizes: list[int], shares: list[int]) -> check._Dealer:
    paths = [Path(f"p{i}.yaml") for i in range(len(sizes))]
    cuts = [0]
    for n in shares:
        cuts.append(cuts[-1] + n)
    return check._Dealer(paths, sizes, [paths[lo:hi] for lo, hi in itertools.pairwise(cuts)])


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_interleaving_deals_every_unit_once(data: st.DataObject) -> None:
    """Processes taking units in any order (simulated here: copies of one dealer, as the fork
    makes them, over the same counters) take every unit exactly once; each takes its own share
    from the front first; and a process reads a file another has read only where enough of it
    was left (the meeting points: at most one per share and process)."""
    sizes = data.draw(st.lists(st.integers(0, 6 * check.UNIT_BYTES), min_size=1, max_size=8))
    processes = data.draw(st.integers(1, min(4, len(sizes))))
    cut = (
        sorted(
            data.draw(
                st.sets(
                    st.integers(1, len(sizes) - 1), min_size=processes - 1, max_size=processes - 1
                )
            )
        )
        if processes > 1
        else []
    )
    counts = [hi - lo for lo, hi in zip([0, *cut], [*cut, len(sizes)], strict=True)]
    dealer = _dealer(sizes, counts)
    try:
        hands = [copy.copy(dealer) for _ in range(processes)]
        for me, hand in enumerate(hands):
            hand.start(me)
        owners = dict.fromkeys(range(len(dealer.units)), -1)
        readers: dict[int, set[int]] = {}
        taken: list[list[int]] = [[] for _ in hands]
        active = list(range(processes))
        while active:
            me = data.draw(st.sampled_from(active))
            hand = hands[me]
            unit = hand.take()
            if unit is None:
                active.remove(me)
                continue
            assert owners[unit] == -1, "a unit dealt twice"
            owners[unit] = me
            taken[me].append(unit)
            index = dealer.units[unit][0]
            if index != hand.read:
                readers.setdefault(index, set()).add(me)
                hand.read = index
        assert -1 not in owners.values(), "a unit left behind"
        first = [dealer.spans[sum(counts[:s])][0] for s in range(processes)]
        for me in range(processes):
            own = [
                u
                for u in taken[me]
                if u >= first[me] and (me + 1 == processes or u < first[me + 1])
            ]
            assert taken[me][: len(own)] == sorted(own) or not own  # its own, from the front first
        assert sum(len(r) - 1 for r in readers.values()) <= processes * (processes - 1)
    finally:
        dealer.close()


def test_a_file_is_read_again_only_where_enough_of_it_is_left() -> None:
    """Two processes meeting inside one file of nine units: the one that has not read it takes
    none of the last two units left (the other one, at it already, takes them), but it takes
    from a file with a third of its units left."""
    dealer = _dealer([9 * check.UNIT_BYTES, 9 * check.UNIT_BYTES], [1, 1])
    try:
        owner, helper = copy.copy(dealer), copy.copy(dealer)
        owner.start(0)
        helper.start(1)
        for _ in range(9):  # the helper's own file, all of it
            assert helper.take() is not None
            helper.read = 1
        for _ in range(7):
            assert owner.take() is not None
            owner.read = 0
        assert helper.take() is None  # two left of the owner's file: not worth reading it
        assert [owner.take(), owner.take(), owner.take()] == [7, 8, None]
    finally:
        dealer.close()
    dealer = _dealer([9 * check.UNIT_BYTES, 9 * check.UNIT_BYTES], [1, 1])
    try:
        owner, helper = copy.copy(dealer), copy.copy(dealer)
        owner.start(0)
        helper.start(1)
        for _ in range(9):
            assert helper.take() is not None
            helper.read = 1
        for _ in range(6):
            assert owner.take() is not None
            owner.read = 0
        assert helper.take() == 8  # three left: worth it, from the back
    finally:
        dealer.close()


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, "waited a minute"
        time.sleep(0.001)


def _nothing_left() -> bool:
    ends = check._SHARES[0][1].ends()
    return all(lo >= hi for lo, hi in zip(ends[0::2], ends[1::2], strict=True))


def _only_left(dealer: check._Dealer) -> bool:
    """No unit is left but of the file ``dealer``'s process is at (all, if at none)."""
    first, end = dealer.spans[dealer.read] if dealer.read >= 0 else (0, 0)
    ends = dealer.ends()
    return all(
        lo >= hi or (first <= lo and hi <= end)
        for lo, hi in zip(ends[0::2], ends[1::2], strict=True)
    )


def _campaign(root: Path, files: int = 6) -> Path:
    bodies = [
        "posts:\n"
        + "".join(
            f"  - {{id: p{i}-{n}, at: 2027-01-04 09:00, accounts: [x1, x2], text: Post {i} {n}}}\n"
            for n in range(12)
        )
        + f"  - {{id: p{max(i - 1, 0)}-3, at: 2027-01-04 09:00, accounts: [x1], text: Again}}\n"
        for i in range(files)
    ]
    return _write_campaign(root, TWIN_CONFIG, "{}\n", bodies)


def _before(root: Path) -> tuple[int, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(commands, "analyse_folder", _today)
        return _check_json(root)


@pytest.mark.parametrize("late", ["child", "parent"])
def test_a_process_that_starts_late_has_its_share_taken_by_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, late: str
) -> None:
    """A child that starts only once every unit is taken (all done here), or a parent that does
    (all done by the child, from the back of the parent's share): the same output."""
    root = _campaign(tmp_path)
    before = _before(root)
    monkeypatch.setattr(check, "UNIT_BYTES", 300)  # (several units a file)
    done_here: list[int] = []
    dealt = check._dealt

    def counted(*args: Any) -> Iterator[check._Done]:
        for done in dealt(*args):
            done_here.append(done[0])
            yield done

    start = check._Dealer.start

    def late_start(dealer: check._Dealer, share: int) -> None:
        if (share == 0) == (late == "parent"):
            _wait_until(_nothing_left)
        start(dealer, share)

    monkeypatch.setattr(check, "_dealt", counted)
    monkeypatch.setattr(check._Dealer, "start", late_start)
    with _spread(2) as shares:
        after = _check_json(root)
    assert shares == [2]
    assert after == before
    units = len(check._units([(root / "posts" / f"p{i}.yaml").stat().st_size for i in range(6)]))
    assert units > 6
    assert sorted(done_here) == (list(range(units)) if late == "child" else [])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    config=st.one_of(st.just(TWIN_CONFIG), good_config),
    people_text=people_file,
    files=st.lists(_FILE, min_size=1, max_size=5),
    processes=st.integers(2, 4),
    unit=st.integers(40, 400),
    parent_units=st.integers(0, 6),
)
@pytest.mark.timeout(600)
def test_small_units_and_any_dealing_give_what_reading_the_whole_campaign_gives(
    config: str, people_text: str, files: list[str], processes: int, unit: int, parent_units: int
) -> None:
    """Files cut in runs of posts (down to runs with no post), the parent pausing after a few
    units until only units of the file it is at are left (the children take the rest of its
    share from the back, meeting it inside a file, or leave it that file's last units): byte for
    byte the output of reading the whole campaign."""
    with tempfile.TemporaryDirectory() as tmp:
        root = _write_campaign(Path(tmp), config, people_text, files)
        before = _before(root)
        take = check._Dealer.take
        pid = os.getpid()

        def pausing(dealer: check._Dealer) -> int | None:
            if os.getpid() == pid and len(taken) == parent_units:
                _wait_until(lambda: _only_left(dealer))
            got = take(dealer)
            taken.append(got)
            return got

        taken: list[int | None] = []
        with pytest.MonkeyPatch.context() as patch, _spread(processes):
            patch.setattr(check, "UNIT_BYTES", unit)
            patch.setattr(check._Dealer, "take", pausing)
            after = _check_json(root)
    assert after == before


def _kill_self(*args: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize("when", ["after a unit", "holding the lock"])
def test_a_child_killed_mid_run_is_a_one_line_error_not_a_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """Killed after its first unit (which it took and never sent), or while it holds the
    dealer's lock (which the kernel lifts): the parent (starting once the child is dead) takes
    what is left, then reports the child's share by name."""
    root = _campaign(tmp_path, files=4)
    monkeypatch.setattr(check, "UNIT_BYTES", 300)
    pid = os.getpid()
    if when == "after a unit":
        dealt = check._dealt

        def dying(*args: Any) -> Iterator[check._Done]:
            for done in dealt(*args):
                if os.getpid() != pid:
                    _kill_self()
                yield done

        monkeypatch.setattr(check, "_dealt", dying)
    else:
        take = check._Dealer.take

        def dying_locked(dealer: check._Dealer) -> int | None:
            if os.getpid() != pid:
                dealer._lockf(dealer.fd, dealer._lock)
                _kill_self()
            return take(dealer)

        monkeypatch.setattr(check._Dealer, "take", dying_locked)
    start = check._Dealer.start

    def after_the_child(dealer: check._Dealer, share: int) -> None:
        if os.getpid() == pid:  # (so that the child takes a unit first)
            _wait_until(lambda: not multiprocessing.active_children())
        start(dealer, share)

    monkeypatch.setattr(check._Dealer, "start", after_the_child)
    with _spread(2) as shares:
        result = run("check", cwd=root)
    assert shares == [2]
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "the process checking posts/p2.yaml to posts/p3.yaml died (killed by signal 9)" in (
        result.stderr
    )
    assert not multiprocessing.active_children()


def test_a_child_sends_each_unit_as_it_is_done() -> None:
    """Units (an iterator) go one message each, then ``done``; a whole result goes at once."""
    for work, sent in [
        (lambda: iter([1, 2]), [("part", 1), ("part", 2), ("done", None)]),
        (lambda: [1, 2], [("done", [1, 2])]),
    ]:
        reader, writer = multiprocessing.Pipe(duplex=False)
        with signal_kept():
            check._child(work, writer)
        got = []
        while reader.poll():
            got.append(reader.recv())
            if got[-1][0] == "done":
                break
        reader.close()
        assert got == sent


@contextmanager
def signal_kept() -> Iterator[None]:
    """(``_child`` ignores Ctrl-C, as a child should; not this test's process.)"""
    before = signal.getsignal(signal.SIGINT)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def _children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(n) for n in path.read_text().split()] if path.exists() else []


@pytest.mark.skipif(
    not Path("/proc/self/task").exists() or len(os.sched_getaffinity(0)) < 2,
    reason="needs Linux's /proc and two cores (a campaign is spread over the cores)",
)
def test_ctrl_c_mid_run_ends_the_children(tmp_path: Path) -> None:
    """A campaign large enough to spread, interrupted once its child is at work: the command
    exits 130, and no child is left behind."""
    posts = "".join(
        f"  - {{id: p{n}, at: 2027-01-04 09:00, accounts: [x1], text: Post number {n} for schools}}\n"
        for n in range(4_000)
    )
    root = _write_campaign(tmp_path, TWIN_CONFIG, "{}\n", ["posts:\n" + posts] * 2)
    (root / "posts" / "p1.yaml").write_text("posts:\n" + posts.replace("id: p", "id: q"))
    with subprocess.Popen(
        [sys.executable, "-m", "eduadvocate", "check", "--format", "json"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            _wait_until(lambda: bool(_children_of(proc.pid)) or proc.poll() is not None)
            children = _children_of(proc.pid)
            assert children, "the check ended before it forked"
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=120)
        finally:
            proc.kill()
    assert proc.returncode == 130 and "Traceback" not in stderr
    for child in children:
        assert (
            not Path(f"/proc/{child}").exists()
            or "Z" in (Path(f"/proc/{child}/stat").read_text().split()[2])
        )
