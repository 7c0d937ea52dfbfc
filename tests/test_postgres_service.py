"""The throwaway PostgreSQL server of tests/fakes/postgres.py: real, isolated per test, on
loopback, and not run as root."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from tests.fakes.postgres import PostgresServer

PUBLIC_TABLES = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"


def test_each_new_database_is_separate_and_empty(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    other = postgres_server.new_database()
    try:
        assert other != postgres_url
        with psycopg.connect(postgres_url) as conn:
            assert conn.execute(PUBLIC_TABLES).fetchone() == (0,)
            conn.execute("CREATE TABLE mine (id int)")
        with psycopg.connect(other) as conn:
            assert conn.execute(PUBLIC_TABLES).fetchone() == (0,)
    finally:
        postgres_server.drop_database(other)


def test_a_committed_row_reads_back_in_a_new_connection(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TABLE posts (id int PRIMARY KEY, body text NOT NULL)")
        conn.execute("INSERT INTO posts VALUES (%s, %s)", (1, "Fund our schools ✏️"))
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT id, body FROM posts").fetchall() == [(1, "Fund our schools ✏️")]


def test_drop_database_removes_it(postgres_server: PostgresServer) -> None:
    url = postgres_server.new_database("gone")
    postgres_server.drop_database(url)
    with pytest.raises(psycopg.OperationalError, match="does not exist"):
        psycopg.connect(url).close()


def test_the_started_server_is_on_loopback_not_root_and_not_durable(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    if postgres_server.data_dir is None:
        pytest.skip("EDUADVOCATE_TEST_POSTGRES names a server this plugin did not start")
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute(
            "SELECT pg_backend_pid(), current_setting('data_directory'),"
            " current_setting('listen_addresses'), current_setting('fsync')"
        ).fetchone()
        assert row is not None
        backend, data_dir, listen, fsync = row
        # While the connection is open: its backend process ends with it (read after the
        # block, /proc/<backend> was sometimes gone already).
        backend_uid = os.stat(f"/proc/{backend}").st_uid
    postmaster = int((postgres_server.data_dir / "postmaster.pid").read_text().split()[0])
    owner = Path(data_dir).stat().st_uid
    assert Path(data_dir) == postgres_server.data_dir
    assert owner != 0
    assert os.stat(f"/proc/{postmaster}").st_uid == owner
    assert backend_uid == owner
    assert listen == "127.0.0.1"
    assert postgres_server.admin_url.startswith("postgresql://eduadvocate@127.0.0.1:")
    assert fsync == "off"
