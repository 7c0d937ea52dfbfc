"""A throwaway PostgreSQL server on loopback, for tests that need a real database.

``postgres_server`` runs ``initdb`` into a fresh temporary folder once per session and starts
``postgres`` on it, on a free 127.0.0.1 port and a unix socket in the same folder, with
durability switched off for speed; it never uses a server that happens to be running already.
The binaries are found under ``/usr/lib/postgresql/<highest version>/bin`` (Debian's layout) or
on PATH, and ``scripts/install-postgres`` installs them. PostgreSQL refuses to run as root, so as
root the server runs as the ``postgres`` user (or ``nobody``). ``postgres_url`` is a new empty
database for one test. To use a server of your own instead, set ``EDUADVOCATE_TEST_POSTGRES``
to its admin URL (``postgresql://...``). ``restartable_postgres`` is a second cluster, always
started here, that a test may stop and start again on the same port and data folder (an
operator's ``pg_ctl restart``, an outage) without disturbing the session's server. Load it as a
pytest plugin (``pytest_plugins`` in tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ENV_URL = "EDUADVOCATE_TEST_POSTGRES"
# Read when the plugin loads: tests/conftest.py clears every EDUADVOCATE_* variable in each test.
_EXTERNAL_URL = os.environ.get(ENV_URL)
SUPERUSER = "eduadvocate"
_STARTUP_SECONDS = 30.0
_STOP_SECONDS = 10.0
_STARTS = 3  # the free port can be taken between choosing it and the server binding it
# Tests may lose data on a crash; they only need it to be quick.
_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}


@dataclass(frozen=True)
class PostgresServer:
    """A server tests may create databases on; ``data_dir`` is None if this plugin did not start it."""

    admin_url: str
    data_dir: Path | None = None

    def url(self, database: str) -> str:
        """The admin URL with another database name."""
        parts = urllib.parse.urlsplit(self.admin_url)
        return parts._replace(path="/" + urllib.parse.quote(database)).geturl()

    def new_database(self, prefix: str = "t") -> str:
        """Create an empty database with a unique name and return its URL."""
        from psycopg import connect, sql

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        create = sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name))
        with connect(self.admin_url, autocommit=True) as conn:
            conn.execute(create)
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by ``new_database``, even with sessions still open; errors are ignored."""
        from psycopg import Error, connect, sql

        name = urllib.parse.unquote(urllib.parse.urlsplit(url).path.lstrip("/"))
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        with contextlib.suppress(Error), connect(self.admin_url, autocommit=True) as conn:
            conn.execute(drop)


def find_bindir() -> Path | None:
    """The folder with ``initdb``, ``pg_ctl`` and ``postgres``: Debian's newest, else PATH's."""
    tools = ("initdb", "pg_ctl", "postgres")
    debian = [
        p
        for p in Path("/usr/lib/postgresql").glob("*/bin")
        if all((p / t).is_file() for t in tools)
    ]
    if debian:
        return max(debian, key=lambda p: [int(n) for n in p.parent.name.split(".") if n.isdigit()])
    initdb = shutil.which("initdb")
    if initdb:
        bindir = Path(initdb).resolve().parent
        if all((bindir / t).is_file() for t in tools):
            return bindir
    return None


def _server_user() -> pwd.struct_passwd | None:
    """Who runs the server: ourselves, unless we are root (which PostgreSQL refuses)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return pwd.getpwnam("nobody")


def _as(user: pwd.struct_passwd | None, argv: list[str]) -> list[str]:
    if user is None:
        return argv
    # setpriv execs in place, so the process we start is the postmaster itself.
    ids = [f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups"]
    return ["setpriv", *ids, "--", *argv]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _accepts(proc: subprocess.Popen[bytes], url: str) -> bool:
    """Poll until the server takes a connection; False if it exits or the time is up."""
    from psycopg import OperationalError, connect

    deadline = time.monotonic() + _STARTUP_SECONDS
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with connect(url, connect_timeout=2):
                return True
        except OperationalError:
            time.sleep(0.05)
    return False


def _stop(
    bindir: Path,
    user: pwd.struct_passwd | None,
    data: Path,
    proc: subprocess.Popen[bytes],
    mode: str = "immediate",
) -> None:
    stop = [str(bindir / "pg_ctl"), "stop", "-D", str(data), "-m", mode, "-s", "-t", "10"]
    with contextlib.suppress(subprocess.TimeoutExpired):
        subprocess.run(
            _as(user, stop),
            check=False,
            cwd=data.parent,
            env=_env(),
            capture_output=True,
            timeout=_STOP_SECONDS,
        )
    try:
        proc.wait(_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _env() -> dict[str, str]:
    # No PGDATA, PGPORT and the like from the developer's shell; English messages in the log.
    return {**{k: v for k, v in os.environ.items() if not k.startswith("PG")}, "LC_ALL": "C"}


def _start(
    bindir: Path, user: pwd.struct_passwd | None, data: Path, log: Path, port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the postmaster on ``port`` (default: a free one) and wait until it takes
    connections."""
    settings = [arg for k, v in _SETTINGS.items() for arg in ("-c", f"{k}={v}")]
    for _ in range(_STARTS if port is None else 1):
        port = port or _free_port()
        server = [
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(data.parent),
        ]
        with log.open("ab") as out:
            proc = subprocess.Popen(
                _as(user, server + settings),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=data.parent,
                env=_env(),
            )
        admin_url = f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres"
        if _accepts(proc, admin_url):
            return proc, admin_url
        exited = proc.poll() is not None
        _stop(bindir, user, data, proc)
        if not exited:  # hung rather than lost the port: another try would wait as long again
            break
    tail = log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"PostgreSQL in {bindir} did not start; its log ends:\n{tail}")


class Cluster:
    """A running cluster that may be stopped and started again on the same port and data folder,
    as an operator's ``pg_ctl restart`` would; ``server`` makes its databases."""

    def __init__(self, bindir: Path, user: pwd.struct_passwd | None, data: Path, log: Path) -> None:
        self._bindir, self._user, self._data, self._log = bindir, user, data, log
        proc, admin_url = _start(bindir, user, data, log)
        self._proc: subprocess.Popen[bytes] | None = proc
        self.server = PostgresServer(admin_url, data)
        port = urllib.parse.urlsplit(admin_url).port
        assert port is not None
        self.port = port

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, mode: str = "fast") -> None:
        """Shut the server down: ``fast`` ends every session, as ``pg_ctl stop -m fast`` does;
        ``immediate`` is as abrupt as a crash."""
        if self._proc is not None:
            _stop(self._bindir, self._user, self._data, self._proc, mode)
            self._proc = None

    def start(self) -> None:
        """Start it again (if stopped) on the same port; returns once it takes connections."""
        if self._proc is None:
            self._proc, _ = _start(self._bindir, self._user, self._data, self._log, self.port)

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()


@contextlib.contextmanager
def cluster_in_tempdir(bindir: Path) -> Iterator[Cluster]:
    """A new cluster in a temporary folder, running until the block ends, then deleted."""
    user = _server_user()
    # Not tmp_path_factory: its folders are 0700 to us, so the postgres user could not enter
    # them, and its paths can outgrow the ~107 bytes a unix socket path may have.
    base = Path(tempfile.mkdtemp(prefix="eduadvocate-pg-"))
    try:
        if user is not None:
            os.chown(base, user.pw_uid, user.pw_gid)
        data, log = base / "data", base / "server.log"
        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust"]
        initdb += ["-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]
        done = subprocess.run(
            _as(user, initdb), check=False, cwd=base, env=_env(), capture_output=True
        )
        if done.returncode:
            output = (done.stdout + done.stderr).decode(errors="replace")
            raise RuntimeError(f"initdb failed (exit {done.returncode}):\n{output}")
        cluster = Cluster(bindir, user, data, log)
        try:
            yield cluster
        finally:
            cluster.stop("immediate")
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def running_cluster(bindir: Path) -> Iterator[PostgresServer]:
    """A new cluster in a temporary folder, running until the block ends, then deleted."""
    with cluster_in_tempdir(bindir) as cluster:
        yield cluster.server


def _bindir() -> Path:
    bindir = find_bindir()
    if bindir is None:
        pytest.fail(
            "no PostgreSQL server binaries (initdb, pg_ctl, postgres) under "
            "/usr/lib/postgresql/*/bin or on PATH: run `bash scripts/install-postgres`",
            pytrace=False,
        )
    return bindir


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server per test session (or the one ``EDUADVOCATE_TEST_POSTGRES`` names)."""
    if _EXTERNAL_URL:
        yield PostgresServer(_EXTERNAL_URL)
        return
    with running_cluster(_bindir()) as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A new, empty database for one test, dropped afterwards."""
    url = postgres_server.new_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """A second server, of this session's own even with ``EDUADVOCATE_TEST_POSTGRES``, for tests
    that stop and restart it (use it through ``restartable_postgres``)."""
    with cluster_in_tempdir(_bindir()) as cluster:
        yield cluster


@pytest.fixture
def restartable_postgres(postgres_cluster: Cluster) -> Iterator[Cluster]:
    """The cluster a test may stop, start and restart; running again after the test."""
    postgres_cluster.start()
    yield postgres_cluster
    postgres_cluster.start()
