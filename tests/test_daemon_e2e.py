"""Through the real daemon path: `dagster dev` running, the pipeline launched over GraphQL
with the EPA layer unreachable, and the incident arriving at a local Slack server."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from dagster import DagsterRunStatus
from dagster_graphql import DagsterGraphQLClient

from ddrc_platform.core.names import pacific_date, partition_key
from stand_ins.base import Fault
from stand_ins.slack import SlackServer
from stand_ins.sources import LAYER_PATHS, serve_sample_sources

pytestmark = pytest.mark.slow

TOKEN = "xoxb-daemon-test-token-456"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"dagster dev exited ({process.returncode}) while {what}")
        try:
            if result := predicate():
                return result
        except requests.RequestException:
            pass
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f} s {what}")


@pytest.fixture
def dagster_dev(tmp_path: Path, dagster_home: Path):
    """Yields `start(env) -> (port, process, log)`; every `dagster dev` started is stopped
    by its own PID at teardown."""

    def start(env: dict[str, str]) -> tuple[int, subprocess.Popen, Path]:
        port = free_port()
        log = tmp_path / "dagster-dev.log"
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "dagster"),
                "dev",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-m",
                "ddrc_platform.definitions",
            ],
            env={**os.environ, **env, "DAGSTER_HOME": str(dagster_home)},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            # dagster maps SIGTERM to SIGINT's handler: make sure SIGINT is not inherited
            # as ignored (as in a background job), or the SIGTERM below would do nothing
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            cwd=Path(__file__).resolve().parent.parent,
        )
        started.append(process)
        return port, process, log

    started: list[subprocess.Popen] = []
    yield start
    for process in started:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError("dagster dev ignored SIGTERM") from None


def test_failed_source_reaches_slack_through_the_daemon(tmp_path, dagster_dev):
    now = dt.datetime.now(dt.UTC)
    today = pacific_date(now)  # what the pipeline under `dagster dev` will load
    with (
        serve_sample_sources(day=today, scale=0.05) as live,
        SlackServer(token=TOKEN) as slack,
    ):
        live.arcgis.fail_always(LAYER_PATHS["epa"], Fault.status(503, "Service Unavailable"))
        env = {
            **live.env,
            "DDRC_HOME": str(tmp_path / "ddrc"),
            "DDRC_SAMPLE_SCALE": "0.05",
            "DDRC_HTTP_TRIES": "2",
            "DDRC_HTTP_BACKOFF": "0.05",
            "SLACK_BOT_TOKEN": TOKEN,
            "DDRC_SLACK_CHANNEL": "#odi-la-fires-recovery-tracking",
            "DDRC_SLACK_API_URL": slack.api_url,
        }
        port, process, log = dagster_dev(env)
        graphql = f"http://127.0.0.1:{port}/graphql"
        wait_until(
            lambda: requests.post(graphql, json={"query": "{ version }"}, timeout=5).ok,
            180,
            "waiting for the webserver",
            process,
        )
        client = DagsterGraphQLClient("127.0.0.1", port_number=port)
        run_id = wait_until(
            lambda: client.submit_job_execution(
                "ddrc_pipeline", tags={"dagster/partition": partition_key(pacific_date(now))}
            ),
            120,
            "waiting for the code location to load",
            process,
        )
        status = wait_until(
            lambda: (
                (s := client.get_run_status(run_id))
                in (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE)
                and s
            ),
            300,
            "waiting for the run to finish",
            process,
        )
        assert status == DagsterRunStatus.FAILURE
        parent = wait_until(
            lambda: slack.parents(), 150, "waiting for the incident in Slack", process
        )[0]
    text = f"{parent.text} {parent.blocks}"
    assert parent.channel
    assert "raw/epa/public_status_assessment" in text
    assert "cleanup_phase1_complete" in text
    assert run_id in text  # the link to the run
    assert TOKEN not in text and all(TOKEN not in str(c) for c in slack.calls)
    assert "dagster dev exited" not in log.read_text()
