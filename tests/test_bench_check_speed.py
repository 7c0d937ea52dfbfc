"""bench/check_speed.py still runs and prints its figures (on a small campaign: the figures
themselves are the bench's to print, never asserted here)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.slow
@pytest.mark.timeout(300)  # (six fresh processes and an in-process run: ~10 s when quiet)
def test_check_speed_prints_median_of_its_runs() -> None:
    out = subprocess.run(
        [sys.executable, str(REPO / "bench" / "check_speed.py"), "--posts", "30", "--runs", "3"],
        capture_output=True,
        text=True,
        check=True,
        timeout=280,
    ).stdout
    assert re.search(r"check on 30 posts x 3 accounts \(90 deliveries\), exit 0,", out), out
    runs = re.search(r"the median of 3 runs: ([\d.]+), ([\d.]+), ([\d.]+) s", out)
    whole = re.search(r"whole command: +([\d.]+) s", out)
    assert runs and whole, out
    assert float(whole.group(1)) == pytest.approx(sorted(map(float, runs.groups()))[1], abs=0.006)
    assert "target: 5,000 posts/s for the whole command:" in out
    assert "render + check, one process:" in out
