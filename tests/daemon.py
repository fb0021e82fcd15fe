"""`./ddrc ui` (`dg dev`: webserver, daemon, code server) for the tests that need the real
daemon, and what they ask it: GraphQL, sensor ticks, runs. A plugin module
(`pytest_plugins = ["tests.daemon"]`).

Waits read what the daemon recorded (runs, sensor ticks) with a bounded `wait_until`;
none sleeps a fixed time to prove that nothing more runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import requests

from tests.process import Server, probed_port, wait_until

ROOT = Path(__file__).resolve().parent.parent
REPOSITORIES = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  name location { name } } } } }"""
START_SENSOR = """mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) {
  __typename ... on PythonError { message } } }"""
SET_CURSOR = """mutation($s: SensorSelector!, $c: String) { setSensorCursor(sensorSelector: $s,
  cursor: $c) { __typename ... on PythonError { message } } }"""
TICKS = """query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { __typename
  ... on Sensor { sensorState { ticks(limit: 20) { timestamp status } } } } }"""
LAUNCH = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
# the webserver cannot bind port 0 (it takes 0 for "default"): a port it loses to a race
# shows as this line, and the next start takes another
PORT_TAKEN = "address already in use"


def plain_shell_path() -> str:
    """PATH as a user's shell has it: no virtual environment's bin (uv run's has one)."""
    venv = str((ROOT / ".venv").resolve())
    return os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if venv not in p)


@dataclass
class Daemon:
    """One running `./ddrc ui` and its Dagster instance."""

    server: Server
    home: Path  # DDRC_HOME
    selector: dict[str, str] | None = None

    @property
    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.home / "dagster"))

    def graphql(self, query: str, **variables: object) -> dict:
        answer = requests.post(
            f"http://127.0.0.1:{self.server.port}/graphql",
            json={"query": query, "variables": variables},
            timeout=30,
        )
        answer.raise_for_status()
        return answer.json()["data"]

    def wait_loaded(self, timeout: float = 300) -> None:
        nodes = wait_until(
            lambda: self.graphql(REPOSITORIES)["repositoriesOrError"].get("nodes"),
            timeout,
            "waiting for the code location to load",
            self.server.process,
        )
        (repo,) = nodes
        self.selector = {
            "repositoryLocationName": repo["location"]["name"],
            "repositoryName": repo["name"],
        }

    def sensor(self, name: str) -> dict[str, str]:
        assert self.selector is not None, "wait_loaded() first"
        return {**self.selector, "sensorName": name}

    def start_sensor(self, name: str, cursor: str | None = None) -> None:
        if cursor is not None:
            done = self.graphql(SET_CURSOR, s=self.sensor(name), c=cursor)
            assert done["setSensorCursor"]["__typename"] != "PythonError", done
        started = self.graphql(START_SENSOR, s=self.sensor(name))
        assert started["startSensor"]["__typename"] == "Sensor", started

    def ticks_after(self, name: str, moment: float) -> int:
        state = self.graphql(TICKS, s=self.sensor(name))["sensorOrError"]["sensorState"]
        return sum(1 for t in state["ticks"] if t["timestamp"] > moment)

    def launch(self, job: str, partition: str, assets: list[dg.AssetKey] | None = None) -> str:
        """Launch over GraphQL as the UI does; the finished run's id."""
        target = (
            {"jobName": job}
            if assets is None
            else {"jobName": job, "assetSelection": [{"path": k.path} for k in assets]}
        )
        launched = self.graphql(
            LAUNCH,
            p={
                "selector": {**(self.selector or {}), **target},
                "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]},
            },
        )["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        self.wait_run(run_id)
        return run_id

    def wait_run(self, run_id: str, timeout: float = 900) -> dg.DagsterRun:
        instance = self.instance
        return wait_until(
            lambda: (run := instance.get_run_by_id(run_id)) and run.is_finished and run,
            timeout,
            f"waiting for run {run_id}",
            self.server.process,
            every=1,
        )

    def settle(self, mark: float, sensors: list[str], timeout: float = 900) -> list:
        """The run records since `mark`, once none is queued or running and every named
        sensor has ticked twice since the last one ended (so none of them wants more)."""
        instance = self.instance

        def settled() -> list | None:
            records = [
                r for r in instance.get_run_records() if r.create_timestamp.timestamp() > mark
            ]
            if any(not r.dagster_run.is_finished for r in records):
                return None
            last = max([mark, *(r.end_time or mark for r in records)])
            if all(self.ticks_after(name, last) >= 2 for name in sensors):
                return records or [None]
            return None

        found = wait_until(settled, timeout, "waiting for the runs to settle", every=1)
        return [r for r in found if r is not None]


def start_ui(env: dict[str, str], home: Path, logs: Path, started: list[Server]) -> Daemon:
    """`./ddrc ui` on a free port with DDRC_HOME (and so DAGSTER_HOME) at `home`; every
    server it started is appended to `started`, for the caller to stop by its own PID."""
    for attempt in range(3):
        log = logs / f"ddrc-ui-{attempt}.log"
        port = probed_port()
        process = subprocess.Popen(
            [str(ROOT / "ddrc"), "ui"],
            env={
                **os.environ,
                **env,
                "DDRC_HOME": str(home),
                "DAGSTER_HOME": str(home / "dagster"),
                "PORT": str(port),
            },
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            # SIGINT at its default: dagster maps SIGTERM onto SIGINT's handler
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        server = Server(process, port, log)
        started.append(server)
        state = wait_until(lambda s=server: _state(s), 300, "waiting for the webserver", process)
        if state == "up":
            return Daemon(server, home)
        server.stop()
    raise AssertionError("no free port for the webserver after three tries")


@pytest.fixture
def ddrc_ui(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Daemon]]:
    """Yields `start(env) -> Daemon` (`start_ui` under tmp_path); stopped at teardown."""
    started: list[Server] = []

    def start(env: dict[str, str]) -> Daemon:
        return start_ui(env, Path(env.get("DDRC_HOME", tmp_path / "ddrc")), tmp_path, started)

    yield start
    for server in started:
        server.stop()


def _state(server: Server) -> str | None:
    """ "up" once the webserver answers, "taken" when it lost its port, else None."""
    if PORT_TAKEN in server.log.read_text(errors="replace").lower():
        return "taken"
    url = f"http://127.0.0.1:{server.port}/graphql"
    return "up" if requests.post(url, json={"query": "{ version }"}, timeout=5).ok else None
