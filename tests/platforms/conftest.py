"""Fixtures for the platform text-rule tests: the npm twitter-text oracle."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

JS_DIR = Path(__file__).resolve().parents[1] / "js"
TWITTER_TEXT = JS_DIR / "node_modules" / "twitter-text"


class TwitterTextOracle:
    """One long-lived ``node tests/js/twitter_count.js`` process answering a text per line."""

    def __init__(self) -> None:
        node = shutil.which("node") or "/usr/bin/node"
        self._proc = subprocess.Popen(
            [node, str(JS_DIR / "twitter_count.js")],
            cwd=JS_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def ask(self, text: str, config: str | dict[str, Any] = "v3") -> dict[str, Any]:
        """parseTweet and every extractor's entities (code-point indices) for ``text``.

        ``config`` is "v1", "v2", "v3" or a twitter-text options object.
        """
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        # ensure_ascii keeps the line free of raw U+2028 and the like; JSON escapes round-trip.
        line = json.dumps({"text": text, "config": config}, ensure_ascii=True) + "\n"
        self._proc.stdin.write(line.encode("ascii"))
        self._proc.stdin.flush()
        answer = self._proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"twitter_count.js exited with {self._proc.wait()}")
        result: dict[str, Any] = json.loads(answer)
        return result

    def close(self) -> None:
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=10)
        self._proc.stdout.close()


@pytest.fixture(scope="session")
def twitter_oracle() -> Iterator[TwitterTextOracle]:
    """The npm twitter-text 3.1.0 reference, skipped only when it is not installed."""
    if not TWITTER_TEXT.is_dir():
        pytest.skip(
            "npm twitter-text is not installed in tests/js/node_modules "
            "(run `npm ci --prefix tests/js`)"
        )
    oracle = TwitterTextOracle()
    yield oracle
    oracle.close()
