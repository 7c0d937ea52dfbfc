"""The suite's guards (tests/conftest.py): a test sees nothing of the shell that started pytest (no
EDUADVOCATE_* variable, HOME, credentials or proxy of the developer's), and neither the test nor a
Python process it starts connects to anything but loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import NETGUARD, REPO, Make

# Every value the shell sets in test_a_developers_shell_does_not_reach_the_tests carries this.
SHELL_MARK = "the-developers-shell"
OUTBOX = """\
defaults: {timezone: America/Chicago, accounts: [outbox]}
accounts:
  outbox: {platform: outbox}
"""
# TEST-NET-1 (RFC 5737): documentation only, routed nowhere. Each test below checks that the
# guard is in place before it connects, so nothing is sent even when the guard is missing.
PUBLIC = ("192.0.2.1", 443)


def test_nothing_from_the_shell_reaches_a_test(make_campaign: Make) -> None:
    """Run as it is, and by the next test with a hostile shell: a publish from a test writes the
    ledger into its own campaign folder, with no variable of the shell's in its environment."""
    root = make_campaign("posts:\n  - id: p\n    at: now\n    text: Hello\n", config=OUTBOX)
    result = subprocess.run(
        [sys.executable, "-m", "eduadvocate", "publish", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert [d["state"] for d in json.loads(result.stdout)["deliveries"]] == ["published"]
    assert (root / ".eduadvocate" / "ledger.sqlite3").is_file()
    leaked = sorted(name for name, value in os.environ.items() if SHELL_MARK in value)
    assert leaked == []


def test_a_developers_shell_does_not_reach_the_tests(tmp_path: Path) -> None:
    """With EDUADVOCATE_LEDGER (and every other variable the code reads) set in the shell pytest
    starts from, a test neither sees them nor writes into, or cancels rows of, the real ledger."""
    shell = tmp_path / SHELL_MARK
    (shell / ".eduadvocate").mkdir(parents=True)
    ledger = shell / ".eduadvocate" / "ledger.sqlite3"
    ledger.write_bytes(b"")  # an empty file is an empty SQLite database: any write shows
    config = shell / "config.yaml"
    config.write_text("accounts: {mine: {platform: outbox, folder: sent}}\n", encoding="utf-8")
    hostile = {
        "EDUADVOCATE_LEDGER": str(ledger),
        "EDUADVOCATE_CONFIG": str(config),
        "EDUADVOCATE_CRASH_AT": "after-response",  # would kill the publish midway
        "EDUADVOCATE_TRACEBACK": SHELL_MARK,
        "EDUADVOCATE_DB_PASSWORD": SHELL_MARK,
        "EDUADVOCATE_ALLOW_PRIVATE_ADDRESSES": SHELL_MARK,
        "EDUADVOCATE_TEST_POSTGRES": f"postgresql://{SHELL_MARK}.invalid/postgres",
        "EDUADVOCATE_PDS_CACHE": str(shell / "pds"),
        "HOME": str(shell),
        "XDG_CACHE_HOME": str(shell / ".cache"),
        "XDG_CONFIG_HOME": str(shell / ".config"),
        "X_CONSUMER_KEY": SHELL_MARK,
        "BLUESKY_APP_PASSWORD": SHELL_MARK,
        "MASTODON_ACCESS_TOKEN": SHELL_MARK,
        "FACEBOOK_PAGE_TOKEN": SHELL_MARK,
        "HTTPS_PROXY": f"http://{SHELL_MARK}.invalid:3128",
        "http_proxy": f"http://{SHELL_MARK}.invalid:3128",
        "PGHOST": f"{SHELL_MARK}.invalid",
        "PGPASSWORD": SHELL_MARK,
    }
    # The outer pytest's own variables (xdist's worker id, the current test) are not a shell's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")} | hostile
    inner = f"{Path(__file__).relative_to(REPO)}::test_nothing_from_the_shell_reaches_a_test"
    basetemp = str(tmp_path / "inner")
    before = ledger.stat()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            basetemp,
            inner,
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=False,
    )
    after = ledger.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert sorted(p.name for p in ledger.parent.iterdir()) == ["ledger.sqlite3"]
    assert not (shell / "sent").exists()
    assert result.returncode == 0, result.stdout + result.stderr


def _guarded() -> bool:
    return getattr(socket.socket.connect, "__module__", None) == "pytest_socket"


@pytest.mark.filterwarnings("ignore:A test tried to use socket")  # pytest-socket warns, then raises
def test_a_test_cannot_connect_beyond_loopback() -> None:
    from pytest_socket import SocketConnectBlockedError

    assert _guarded(), "pytest-socket's --allow-hosts is not in force (pyproject.toml addopts)"
    with socket.socket() as sock, pytest.raises(SocketConnectBlockedError, match=r"192\.0\.2\.1"):
        sock.connect(PUBLIC)


def test_a_test_still_connects_to_loopback() -> None:
    assert _guarded()
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        for host in ("127.0.0.1", "localhost"):
            with socket.create_connection((host, port), timeout=5):
                pass


def test_a_python_process_a_test_starts_cannot_connect_beyond_loopback() -> None:
    """tests/netguard/sitecustomize.py, which tests/conftest.py puts on PYTHONPATH."""
    probe = textwrap.dedent(
        f"""
        import socket, sys, sitecustomize
        assert sitecustomize.__file__ == {str(NETGUARD / "sitecustomize.py")!r}, sitecustomize.__file__
        with socket.create_server(("127.0.0.1", 0)) as server:
            socket.create_connection(server.getsockname(), timeout=5).close()
        try:
            socket.socket().connect({PUBLIC!r})
        except RuntimeError as exc:
            print(exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "tests/netguard" in result.stdout and "192.0.2.1" in result.stdout
