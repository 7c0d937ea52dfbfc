"""Start-up figures, measured side by side in one run (interleaved, so machine noise hits both).

Targets (issue 2): `eduadvocate --version` within 1.3x of `python -c "import typer"`, and
`eduadvocate --help` within 1.1x (issue 14; was 1.2x) of the --help of bench/ref_app.py (a
minimal two-command Typer app). Also lists which heavy libraries each offline command imports
(there must be none).

    python bench/startup.py [--runs N]

The median of 41 interleaved runs by default: on a shared two-core machine the median of 21
moved by +-7% between one run of the script and the next (0.97-1.11x for the same code).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PY = sys.executable
# As installed: bytecode caches allowed (some sandboxes set PYTHONDONTWRITEBYTECODE, which makes
# every run recompile every module and hides the real start-up time).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
HEAVY = (
    "tweepy",
    "facebook",
    "apscheduler",
    "atproto",
    "mastodon",
    "sqlalchemy",
    "psycopg",
    "requests",
    "httpx",
)

PROBE = """
import sys
sys.argv = ["eduadvocate", *{args!r}]
from eduadvocate.cli.main import run
try:
    run()
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
"""


def _time(cmd: list[str]) -> float:
    return _times(cmd)[0]


def _times(cmd: list[str]) -> tuple[float, float]:
    """The wall time of one run of ``cmd``, and its CPU time (user and system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, cwd=REPO, env=ENV
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def side_by_side(a: list[str], b: list[str], runs: int) -> tuple[float, float, float]:
    """The median wall times of ``a`` and ``b``, and the ratio of their median CPU times (less
    noisy on a shared machine: another process's time is not counted)."""
    ta, tb, ca, cb = [], [], [], []
    _time(a), _time(b)  # warm the bytecode and file caches
    for _ in range(runs):
        for cmd, wall, cpu in ((a, ta, ca), (b, tb, cb)):
            w, c = _times(cmd)
            wall.append(w)
            cpu.append(c)
    median = statistics.median
    return median(ta), median(tb), median(cb) / median(ca)


def heavy_imports(args: list[str]) -> list[str]:
    env = {**os.environ, "COLUMNS": "100"}
    out = subprocess.run(
        [PY, "-c", PROBE.format(args=args, heavy=HEAVY)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=False,
    )
    line = next((x for x in out.stderr.splitlines() if x.startswith("HEAVY=")), "HEAVY=?")
    return [m for m in line[6:].split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=41)
    runs = parser.parse_args().runs
    exe = str(Path(PY).with_name("eduadvocate"))
    print(f"start-up, median of {runs} interleaved runs each")
    ref, ours, cpu = side_by_side([PY, "-c", "import typer"], [exe, "--version"], runs)
    print(f'python -c "import typer":   {ref * 1000:7.1f} ms')
    print(
        f"eduadvocate --version:      {ours * 1000:7.1f} ms   ratio {ours / ref:.2f}x"
        f" (target <= 1.30x; CPU {cpu:.2f}x)"
    )
    ref, ours, cpu = side_by_side([PY, str(HERE / "ref_app.py"), "--help"], [exe, "--help"], runs)
    print(f"minimal Typer app --help:   {ref * 1000:7.1f} ms")
    print(
        f"eduadvocate --help:         {ours * 1000:7.1f} ms   ratio {ours / ref:.2f}x"
        f" (target <= 1.10x; CPU {cpu:.2f}x)"
    )
    ours = statistics.median(
        _time([exe, "check", "--config", "config.example.yaml"]) for _ in range(max(3, runs // 3))
    )
    print(f"eduadvocate check (example): {ours * 1000:6.1f} ms")
    for args in (
        ["--version"],
        ["--help"],
        ["check", "--config", "config.example.yaml"],
        ["render", "--config", "config.example.yaml"],
        ["calendar", "--config", "config.example.yaml"],
    ):
        heavy = heavy_imports(args)
        print(f"heavy imports for {' '.join(args):48} {', '.join(heavy) if heavy else 'none'}")


if __name__ == "__main__":
    main()
