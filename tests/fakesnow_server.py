"""A fakesnow server in its own process, for tests that talk to "Snowflake" over HTTP.

A real subprocess rather than `fakesnow.server()` in a thread: dbt connects to it from
another process exactly as it connects to Snowflake, and stopping it cannot leave a
thread behind in the test process. Register it in a test module:

    pytest_plugins = ["tests.fakesnow_server"]

fakesnow keeps every database in memory, shared by all sessions (its `-d` directory is
not used in server mode), and creates a database when a session names it: tests isolate
themselves by using their own database names.
"""

from __future__ import annotations

import os
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.process import start_server

FAKESNOW = Path(sys.executable).parent / "fakesnow"
HOST = "127.0.0.1"
# fakesnow's `describe table` sees only the session's current database, and dbt's schema
# drift tests describe sources (raw) and marts (analytics): one database for all three
# layers keeps those tests meaningful (ddrc_dbt/README.md, "fakesnow").
DATABASE = "TRANSFORM_DDRC_DEV"


@dataclass(frozen=True)
class FakesnowServer:
    host: str
    port: int
    log: Path
    env: dict[str, str] = field(repr=False)  # SNOWFLAKE_* and DDRC_SNOWFLAKE_* variables


def _answers(port: int) -> bool:
    """Any HTTP answer counts: an unauthenticated session request gets a 401."""
    request = urllib.request.Request(f"http://{HOST}:{port}/session", method="POST")
    try:
        urllib.request.urlopen(request, timeout=1)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


@contextmanager
def run_fakesnow(directory: Path, timeout: float = 60.0) -> Iterator[FakesnowServer]:
    """Start `fakesnow -s` on port 0 (uvicorn logs the port it got), stop it by its PID."""
    directory.mkdir(parents=True, exist_ok=True)
    server = start_server(
        [FAKESNOW, "-s", "--host", HOST, "-p", "0", "-d", directory / "data"],
        log=directory / "fakesnow.log",
        port_line=r"running on http://127\.0\.0\.1:(?P<port>\d+)",
        ready=_answers,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stop_signal=signal.SIGINT,  # fakesnow's CLI shuts down on SIGINT
        timeout=timeout,
    )
    env = {
        "SNOWFLAKE_ACCOUNT": "fakesnow",
        "SNOWFLAKE_USER": "ddrc_test",
        "SNOWFLAKE_PASSWORD": "fakesnow-accepts-any-password",
        "SNOWFLAKE_HOST": HOST,
        "SNOWFLAKE_PORT": str(server.port),
        "SNOWFLAKE_PROTOCOL": "http",
        "DDRC_SNOWFLAKE_RAW_DATABASE": DATABASE,
        "DDRC_SNOWFLAKE_TRANSFORM_DATABASE": DATABASE,
        "DDRC_SNOWFLAKE_ANALYTICS_DATABASE": DATABASE,
    }
    try:
        yield FakesnowServer(HOST, server.port, server.log, env)
    finally:
        server.stop()


@pytest.fixture(scope="module")  # fakesnow's memory is shared: one server per module
def fakesnow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakesnowServer]:
    with run_fakesnow(tmp_path_factory.mktemp("fakesnow")) as server:
        yield server
