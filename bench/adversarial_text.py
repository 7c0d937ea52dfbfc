"""Counting speed on adversarial texts: 64 KB of each shape that once made a text scan
super-linear (``tests/platforms/adversarial_texts.py``: ``a.a.a.…``, runs of ``@``/``#``, long
``http://`` chains, unicode and punycode-looking domains, cashtags, emoji and ZWJ runs, flag
halves), side by side with 64 KB of an ordinary campaign text in the same run.

For each text, in a fresh process:

* counting: every counter ``check`` runs on a post's text, on the whole text (X's weighted length,
  URLs, hashtags and entities; graphemes, Bluesky's facets, mentions and tags; Mastodon's length),
  caches cleared, best of 3;
* analyse: ``check``'s core in-process on a campaign holding the text as one unsplit post
  (``split: never``), best of 3;
* command: the whole ``eduadvocate check`` command, start-up included.

Target: every adversarial text under 1 s (counting and analyse).  ``--split`` adds the command
with the default ``split: auto``, where render.py also cuts the text into a thread.

    python bench/adversarial_text.py [--size N] [--timeout S] [--split] [--shape NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from tests.platforms.adversarial_texts import SHAPES, SIZE, ordinary  # noqa: E402

TARGET_S = 1.0
CONFIG = """\
defaults:
  timezone: America/Chicago
  accounts: [x-main, bsky, masto]
accounts:
  x-main: {platform: x}
  bsky: {platform: bluesky, handle: pta.bsky.social}
  masto: {platform: mastodon, instance: https://mastodon.example}
"""
ENV = {
    "EDUADVOCATE_NOW": "2026-11-28T12:00:00Z",
    "PYTHONPATH": str(REPO / "src"),  # the command runs the code this script measures
}


def text_of(shape: str, size: int) -> str:
    return ordinary(size) if shape == "ordinary" else SHAPES[shape](size)


def write_campaign(root: Path, text: str, split: str) -> None:
    (root / "posts").mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    post = f"  - id: a\n    at: 2026-12-03 18:00\n    split: {split}\n    text: "
    (root / "posts" / "posts.yaml").write_text(
        "posts:\n" + post + json.dumps(text, ensure_ascii=False) + "\n", encoding="utf-8"
    )  # a JSON string is a YAML string


def best_of(runs: int, setup: Callable[[], object], work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        setup()
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def worker(shape: str, size: int, root: Path) -> dict[str, float | str]:
    """The in-process figures for one text (run in a child process: fresh caches, a timeout)."""
    from eduadvocate.campaign.workspace import open_campaign
    from eduadvocate.compose import render
    from eduadvocate.compose.check import analyse
    from eduadvocate.core.clock import fixed_clock
    from eduadvocate.platforms.textcount import twitter, unicode

    text = text_of(shape, size)
    counters: dict[str, Callable[[str], object]] = {
        "weighted_length": twitter.weighted_length,
        "extract_urls": lambda t: twitter.extract_urls(t, without_protocol=False),
        "extract_hashtags": twitter.extract_hashtags,
        "extract_entities": twitter.extract_entities,
        "graphemes": unicode.graphemes,
        "bluesky_facets": unicode.bluesky_facets,
        "plain_mentions": unicode.plain_mentions,
        "long_tags": unicode.long_tags,
        "mastodon_length": unicode.mastodon_length,
    }

    def clear() -> None:
        for cached in (
            twitter._urls_in_run,
            unicode.graphemes,
            unicode.mastodon_countable,
            unicode.bluesky_facets,
            unicode._clusters,
            render.hashtags,
            render._word_ends,
        ):
            cached.cache_clear()

    twitter.parse_tweet("warm up https://example.org #tag 😀")  # compile the patterns
    unicode.bluesky_facets("warm up https://example.org #tag @a.bsky.social")
    each = {
        name: best_of(3, clear, lambda count=count: count(text)) for name, count in counters.items()
    }
    write_campaign(root, text, "never")
    os.environ.update(ENV)
    os.chdir(root)
    ws = open_campaign(None, clock=fixed_clock(datetime.fromisoformat(ENV["EDUADVOCATE_NOW"])))
    analysed = best_of(3, clear, lambda: analyse(ws.config, ws.campaign, ws.now))
    slowest = max(each, key=each.__getitem__)
    return {"counting": sum(each.values()), "analyse": analysed, "slowest": slowest}


def command(text: str, split: str, timeout: float) -> float | None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_campaign(root, text, split)
        started = time.perf_counter()
        try:
            subprocess.run(
                [sys.executable, "-m", "eduadvocate", "check", "--format", "json"],
                cwd=root,
                env={**os.environ, **ENV, "HOME": tmp},
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return None
        return time.perf_counter() - started


def in_process(shape: str, size: int, timeout: float) -> dict[str, float | str] | None:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            proc = subprocess.run(
                [sys.executable, __file__, "--worker", shape, "--size", str(size), "--root", tmp],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=True,
            )
        except subprocess.TimeoutExpired:
            return None
    figures: dict[str, float | str] = json.loads(proc.stdout)
    return figures


def seconds(value: float | str | None, timeout: float) -> str:
    if value is None:
        return f"> {timeout:.0f} s".rjust(9)
    return f"{float(value):7.3f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=SIZE, help=f"characters (default {SIZE:,})")
    parser.add_argument("--timeout", type=float, default=60.0, help="per measurement (s)")
    parser.add_argument("--split", action="store_true", help="also time check with split: auto")
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES), help="only these")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.size, Path(args.root))))
        return 0

    shapes = ["ordinary", *(args.shape or SHAPES)]
    print(f"{args.size:,} characters per text; target: each adversarial text under {TARGET_S} s")
    header = f"{'text':18} {'counting':>9} {'analyse':>9} {'vs ordinary':>11} {'command':>9}"
    print(header + (f" {'split: auto':>11}" if args.split else "") + "  slowest counter")
    base: float | None = None
    worst: tuple[float, str] = (0.0, "")
    over = []
    for shape in shapes:
        text = text_of(shape, args.size)
        figures = in_process(shape, args.size, args.timeout)
        analysed = float(figures["analyse"]) if figures else None
        if shape == "ordinary":
            base = analysed
        ratio = f"{analysed / base:10.1f}x" if analysed and base else " " * 11
        whole = command(text, "never", args.timeout)
        line = (
            f"{shape:18} {seconds(figures and figures['counting'], args.timeout)} "
            f"{seconds(analysed, args.timeout)} {ratio} {seconds(whole, args.timeout)}"
        )
        if args.split:
            line += f"   {seconds(command(text, 'auto', args.timeout), args.timeout)}"
        print(line + f"  {figures['slowest'] if figures else ''}", flush=True)
        if shape != "ordinary":
            took = max(float(figures["counting"]), float(figures["analyse"])) if figures else None
            if took is None or took >= TARGET_S:
                over.append(shape)
            elif took > worst[0]:
                worst = (took, shape)
    if over:
        print(f"over the {TARGET_S} s target: {', '.join(over)}")
        return 1
    print(f"all under the {TARGET_S} s target; slowest: {worst[1]} ({worst[0]:.3f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
