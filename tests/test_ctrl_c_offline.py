"""Ctrl-C during an offline command (check, render): one line, "eduadvocate: interrupted", and
exit 130, whether the command had forked helpers or not; nothing else on stderr (Typer turns
the KeyboardInterrupt into status 130 and said nothing at all). ``publish``'s own line is
tests/test_guarantees.py's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests import launch
from tests.conftest import REPO
from tests.crash_support import wait_for


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (proc(5): stat's 14th and 15th)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def big_campaign(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bench/check_speed.py's campaign, 20,000 posts: seconds of work for either command."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import check_speed
    finally:
        sys.path.remove(str(REPO / "bench"))
    root = tmp_path_factory.mktemp("big") / "campaign"
    check_speed.generate(root, 20_000)
    return root


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("command", ["check", "render"])
def test_ctrl_c_says_interrupted_once(big_campaign: Path, command: str) -> None:
    proc = subprocess.Popen(
        launch.command(command, "--format", "json"),
        cwd=big_campaign,
        env=launch.environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Past start-up (~0.15 s of CPU) and into the posts: then Ctrl-C.
        wait_for(lambda: proc.poll() is not None or _cpu_seconds(proc.pid) > 0.6, timeout=60)
        assert proc.poll() is None, "the command ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert (proc.returncode, err) == (130, "eduadvocate: interrupted\n")
