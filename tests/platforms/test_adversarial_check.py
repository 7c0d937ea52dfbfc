"""``eduadvocate check`` finishes on a 64 KB post text of any adversarial shape.

Campaign files come from volunteers' pull requests and CI runs ``check`` on them, so a text
that makes a scan super-linear is a denial of service (64 KB of ``a.`` took minutes).  The
speed target (under 1 s of counting work per text) is measured and printed by
``bench/adversarial_text.py``; these tests only catch a return of super-linear behaviour, with
a bound generous enough for a loaded CI machine: 10 s for the whole command, start-up included.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from tests import launch
from tests.conftest import Make
from tests.platforms.adversarial_texts import SHAPES, SIZE, ordinary

pytestmark = pytest.mark.slow  # one `check` process per shape

WALL_BOUND_S = 10.0


def _check(
    text: str, make_campaign: Make, *, split: str
) -> tuple[subprocess.CompletedProcess[str], float]:
    make_campaign(
        f"posts:\n  - id: a\n    at: 2026-12-03 18:00\n    split: {split}\n    text: "
        + json.dumps(text, ensure_ascii=False)
        + "\n"
    )
    started = time.perf_counter()
    try:
        result = subprocess.run(
            launch.command("check", "--format", "json"),
            env=launch.environment(),
            capture_output=True,
            text=True,
            timeout=WALL_BOUND_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"`eduadvocate check` did not finish within {WALL_BOUND_S:.0f} s on 64 KB of text "
            f"(split: {split}): a text scan is super-linear again "
            "(python bench/adversarial_text.py shows which)"
        )
    return result, time.perf_counter() - started


@pytest.mark.parametrize("shape", [*SHAPES, "ordinary"])
def test_check_measures_64kb_text_in_time(shape: str, make_campaign: Make) -> None:
    """64 KB of each shape, unsplit: every platform measures the whole text (and its entities,
    facets and hashtags) and ``check`` reports it over X's limit, within the bound."""
    text = ordinary(SIZE) if shape == "ordinary" else SHAPES[shape](SIZE)
    result, elapsed = _check(text, make_campaign, split="never")
    assert result.returncode == 4, result.stderr
    problems = json.loads(result.stdout)["problems"]
    assert any(p["code"] == "over-limit" and p["account"] == "x-main" for p in problems)
    assert elapsed < WALL_BOUND_S


@pytest.mark.parametrize(
    "shape",
    [
        "a.",
        "flag halves",
    ],
)
def test_check_splits_64kb_word_in_time(shape: str, make_campaign: Make) -> None:
    """One 64 KB word (the issue's text is ``a.a.a.…``) split into a thread, the default."""
    result, elapsed = _check(SHAPES[shape](SIZE), make_campaign, split="auto")
    assert result.returncode in (0, 4), result.stderr
    assert elapsed < WALL_BOUND_S
