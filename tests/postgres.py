"""A real PostgreSQL for the tests, started by the tests themselves on a Unix socket.

`postgres_server` (session scope: one server per pytest process, so per xdist worker)
runs Debian's PostgreSQL binaries (`tools/install-postgres.sh` installs them) on a
temporary data directory with password authentication, and stops it by its PID;
`postgres_url` makes a fresh, empty database in it for one test and yields its URL.
PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user.

Register with `pytest_plugins = ["tests.postgres"]` in a test module.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest

from tests.process import wait_until

START_TIMEOUT = 30.0
USER = "ddrc"


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        pytest.fail("PostgreSQL is not installed: run tools/install-postgres.sh")
    return Path(found[-1]).parent


@dataclass(frozen=True)
class PostgresServer:
    """Reached through its Unix socket only: no TCP port, so no port to race for."""

    socket_dir: Path
    password: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}:{self.password}@/{database}?host={self.socket_dir}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = _bindir()
    run_as = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="ddrc-pg-"))  # not under pytest's 0700 tmp dirs
    data, password = root / "data", f"pg-{secrets.token_hex(12)}"
    (root / "pw").write_text(password)
    if run_as:
        account = pwd.getpwnam(run_as)
        for path in (root, root / "pw"):
            os.chown(path, account.pw_uid, account.pw_gid)
    subprocess.run(
        [bindir / "initdb", "-D", data, "-U", USER, "--pwfile", root / "pw", "-A", "scram-sha-256"],
        check=True,
        capture_output=True,
        user=run_as,
    )
    server = subprocess.Popen(
        [bindir / "postgres", "-D", data, "-c", "listen_addresses=", "-k", root],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        user=run_as,
    )
    running = PostgresServer(root, password)
    try:
        wait_until(
            lambda: _answers(running),
            START_TIMEOUT,
            "waiting for PostgreSQL to accept connections",
            server,
        )
        yield running
    finally:
        server.send_signal(signal.SIGINT)  # "fast" shutdown of this postmaster only
        server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def _answers(server: PostgresServer) -> bool:
    try:
        psycopg2.connect(server.url(), connect_timeout=2).close()
    except psycopg2.OperationalError:
        return False
    return True


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh database of the session's server, for one test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(postgres_server.url())
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return postgres_server.url(name)
