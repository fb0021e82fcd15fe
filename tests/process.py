"""Servers the tests start themselves: start, wait until they answer, stop by their own PID.

A server binds port 0 and the port it got is read from its own log: picking a free port
first and binding it later is a race between test workers. The two servers that cannot
bind port 0 (Dagster's webserver, Streamlit) take `probed_port()` and start again on
another when their log says they lost it. `wait_until` is the one bounded
wait of the suite: it polls a predicate, never sleeps a fixed time to prove nothing happens.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

STOP_TIMEOUT = 30.0


def probed_port() -> int:
    """A local port free a moment ago, for a server that cannot bind port 0 (see above)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(
    predicate: Callable[[], Any],
    timeout: float,
    what: str,
    process: subprocess.Popen | None = None,
    every: float = 0.2,
) -> Any:
    """The predicate's first truthy answer within `timeout` seconds, or an AssertionError
    naming what was awaited (and the process, if it died meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the server exited ({process.returncode}) while {what}")
        try:
            if result := predicate():
                return result
        except (OSError, requests.RequestException):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s {what}")
        time.sleep(every)


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path
    stop_signal: int = signal.SIGTERM

    def stop(self) -> None:
        """Its own PID only: the stop signal, a bounded wait, then kill."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT)
            raise AssertionError(
                f"{self.process.args[0]} ignored signal {self.stop_signal}"
            ) from None


def start_server(
    argv: Sequence[str | Path],
    *,
    log: Path,
    port_line: str,
    ready: Callable[[int], bool] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stop_signal: int = signal.SIGTERM,
    timeout: float = 120.0,
    **popen: Any,
) -> Server:
    """Start `argv` (told to bind port 0), read its port from `port_line` (a regex whose
    group `port` is the number it logs), then wait until `ready(port)` if given."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:  # a file, not a pipe: a full pipe would block the server
        process = subprocess.Popen(
            [str(a) for a in argv],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            **popen,
        )
    server = Server(process, 0, log, stop_signal)
    pattern = re.compile(port_line)
    try:
        found = wait_until(
            lambda: pattern.search(log.read_text(errors="replace")),
            timeout,
            f"waiting for {Path(str(argv[0])).name} to log its port",
            process,
        )
        server.port = int(found.group("port"))
        if ready is not None:
            wait_until(lambda: ready(server.port), timeout, "waiting for it to answer", process)
    except AssertionError as problem:
        server.stop()
        raise AssertionError(f"{problem}\n{log.read_text(errors='replace')[-2000:]}") from None
    return server
