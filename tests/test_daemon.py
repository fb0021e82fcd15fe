"""The deployment runs itself through the real daemon: one `./ddrc ui` (`dg dev`) started
from a plain shell, against the stand-ins in live mode, the sensors turned on as a user
would in the UI, short intervals through the settings, incidents to a local Slack. Nobody
launches a run.

One session for the whole story, in order: the UI starts without a warning; the empty home
bootstraps (every source's sensor loads it, the automation builds and publishes) and
publishes the numbers an independent computation gives; a cycle with no change runs
nothing; a changed EPA layer runs exactly EPA's loader and one downstream run; EPA down plus
a Malibu change republishes Malibu, keeps EPA's number and posts one incident to Slack;
EPA back, its sensor reloads it and the incident resolves in Slack by itself. Every wait
reads the daemon's own records (runs, sensor ticks, Slack's messages), bounded.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from ddrc_platform.core.names import (
    AUTOMATION_SENSOR,
    PUBLISH_KEY,
    SUMMARY_KEY,
    WATCH_SENSOR,
    pacific_date,
    partition_key,
)
from ddrc_platform.ingest import sample
from ddrc_platform.integrations.dagster import freshness_states
from ddrc_platform.publish.document import FILE_NAME
from stand_ins.base import Fault
from stand_ins.slack import SlackServer
from stand_ins.sources import LAYER_PATHS, one_more_through_phase_1, serve_sample_sources
from tests.daemon import plain_shell_path
from tests.process import wait_until
from tests.reference_metrics import expected_metrics

pytest_plugins = ["tests.daemon"]
pytestmark = pytest.mark.slow

SCALE = 0.05
INTERVAL = 3  # seconds between sensor ticks (DDRC_WATCH_INTERVAL, DDRC_AUTOMATION_INTERVAL)
TOKEN = "xoxb-daemon-test-token-456"
PUBLISH = PUBLISH_KEY.to_user_string()
# what a user could not act on, in the log of a start from a plain shell
NOISE = re.compile(r"warning|superseded|does not match|DEBUG|Traceback|ERROR", re.IGNORECASE)

EPA_PATH = {
    dg.AssetKey(["raw", "epa", "public_status_assessment"]),
    dg.AssetKey(["staging", "stg_epa__public_status_assessment"]),
    dg.AssetKey(["intermediate", "int_epa__metrics_by_load_date"]),
    dg.AssetKey(["intermediate", "int_pipeline__metrics_by_load_date"]),
    dg.AssetKey(["marts", "metric_history"]),
    SUMMARY_KEY,
    PUBLISH_KEY,
}


def materialized(instance: dg.DagsterInstance, records: list) -> list[tuple]:
    """(asset key, partition) of every materialization of these runs."""
    return [
        (event.dagster_event.asset_key, event.dagster_event.partition)
        for record in records
        for event in instance.all_logs(
            record.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        )
    ]


def published(home: Path) -> dict[str, Decimal]:
    return {
        m["METRIC_NAME"]: Decimal(str(m["METRIC_VALUE"]))
        for m in json.loads((home / "publish" / FILE_NAME).read_bytes())
    }


def oracle(today) -> dict[str, Decimal]:
    """The numbers of the stand-ins' data, computed independently of the pipeline."""
    at = datetime.now(UTC)
    expected = expected_metrics(
        epa=sample.arcgis_layer("epa", scale=SCALE, day=today),
        usace=sample.arcgis_layer("usace", scale=SCALE, day=today),
        pasadena=sample.arcgis_layer("pasadena", scale=SCALE, day=today),
        malibu=sample.malibu_endpoints(scale=SCALE, day=today),
        airtable=sample.airtable_records(scale=SCALE, day=today),
        usace_loaded_at=at,
        malibu_loaded_at=at,
    )
    return {name: row["metric_value"] for name, row in expected.items()}


def by_sensor(records: list) -> bool:
    """Every run was requested by a sensor (a watch sensor or the automation): none by hand."""
    return all("dagster/sensor_name" in r.dagster_run.tags for r in records)


def test_the_deployment_runs_itself_through_the_daemon(tmp_path, ddrc_ui):
    today = pacific_date(datetime.now(UTC))
    with (
        serve_sample_sources(day=today, scale=SCALE) as live,
        SlackServer(token=TOKEN) as slack,
    ):
        env = {
            **live.env,
            "DDRC_HOME": str(tmp_path / "ddrc"),
            "DDRC_SAMPLE_SCALE": str(SCALE),
            "DDRC_HTTP_TRIES": "2",
            "DDRC_HTTP_BACKOFF": "0.05",
            "DDRC_WATCH_INTERVAL": str(INTERVAL),
            "DDRC_AUTOMATION_INTERVAL": str(INTERVAL),
            "DDRC_INCIDENT_INTERVAL": "5",  # what a responder waits for, shortened
            "FRESHNESS_DAEMON_INTERVAL_SECONDS": "5",  # Dagster's, 30 s by default
            "SLACK_BOT_TOKEN": TOKEN,
            "DDRC_SLACK_CHANNEL": "#odi-la-fires-recovery-tracking",
            "DDRC_SLACK_API_URL": slack.api_url,
            # a user's shell: no virtual environment active, no .venv/bin on PATH
            "VIRTUAL_ENV": "",
            "PATH": plain_shell_path(),
        }
        daemon = ddrc_ui(env)
        daemon.wait_loaded()
        instance, home = daemon.instance, daemon.home

        # 0. the UI starts saying nothing a user cannot act on
        log = daemon.server.log.read_text(errors="replace")
        assert "Serving dagster-webserver" in log
        assert [line for line in log.splitlines() if NOISE.search(line)] == []

        # 1. an empty home, every sensor on: it loads, builds and publishes by itself
        sensors = [WATCH_SENSOR, AUTOMATION_SENSOR]
        mark = time.time()
        for name in sensors:
            daemon.start_sensor(name)
        runs = daemon.settle(mark, sensors)
        assert runs and by_sensor(runs)
        assert [r.dagster_run.run_id for r in runs if r.dagster_run.is_failure] == []
        first = published(home)
        assert first == oracle(today)
        # Dagster's freshness daemon judges the public file (the incidents read its verdict)
        wait_until(
            lambda: freshness_states(instance, [PUBLISH_KEY]).get(PUBLISH) == "PASS",
            180,
            "waiting for the freshness daemon's verdict on the public file",
            every=2,
        )

        # 2. nothing changed: every sensor ticks twice, and no run starts
        assert daemon.settle(time.time(), sensors) == []

        # 3. the EPA layer is rebuilt with one more parcel through Phase 1: exactly EPA's path
        epa = one_more_through_phase_1(sample.arcgis_layer("epa", scale=SCALE, day=today))
        live.arcgis.set_layer(LAYER_PATHS["epa"], epa)
        runs = daemon.settle(time.time(), sensors)
        assert len(runs) == 2 and by_sensor(runs)  # the loader, one downstream run: one dbt start
        done = materialized(instance, runs)
        assert {key for key, _ in done} == EPA_PATH
        assert len(done) == len(EPA_PATH)  # each once
        assert {p for _, p in done if p is not None} == {partition_key(today)}  # today only
        after_epa = published(home)
        assert after_epa["cleanup_phase1_complete"] == first["cleanup_phase1_complete"] + 1
        assert {k: v for k, v in after_epa.items() if k != "cleanup_phase1_complete"} == {
            k: v for k, v in first.items() if k != "cleanup_phase1_complete"
        }

        # 4. EPA unreachable, and Malibu's city approves one application: Malibu moves, EPA
        # keeps its last good number, and the EPA incident reaches Slack once
        live.arcgis.fail_always(LAYER_PATHS["epa"], Fault.status(503, "Service Unavailable"))
        endpoints = sample.malibu_endpoints(scale=SCALE, day=today)
        changed = next(p for p in endpoints["FireRebuildPoints"] if p["type"] == "InPlanning")
        changed["type"] = "PermitIssued"
        live.malibu.set_endpoints(endpoints)
        records = daemon.settle(time.time(), sensors)
        now = published(home)
        assert (
            now["malibu_building_permits_issued"] == after_epa["malibu_building_permits_issued"] + 1
        )
        assert now["cleanup_phase1_complete"] == after_epa["cleanup_phase1_complete"]
        failed = [r for r in records if r.dagster_run.status == dg.DagsterRunStatus.FAILURE]
        steps = {
            entry.dagster_event.step_key
            for run in failed
            for entry in instance.all_logs(
                run.dagster_run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE
            )
        }
        assert steps == {"raw__epa__public_status_assessment"}  # Malibu loaded, EPA did not
        (parent,) = wait_until(slack.parents, 180, "waiting for the incident in Slack", every=1)
        text = f"{parent.text} {parent.blocks}"
        assert "raw/epa/public_status_assessment" in text
        assert "cleanup_phase1_complete" in text
        assert failed[0].dagster_run.run_id in text  # the link to the run
        assert TOKEN not in text and all(TOKEN not in str(c) for c in slack.calls)

        # 5. EPA answers again: its sensor reloads it, and the incident resolves by itself
        live.arcgis.heal()
        records = daemon.settle(time.time(), sensors)
        assert any(
            "epa" in r.dagster_run.tags.get("ddrc/sources", "").split()
            for r in records
            if r.dagster_run.is_success
        )
        assert not [r for r in records if r.dagster_run.is_failure]
        resolved = wait_until(
            lambda: [r for r in slack.replies(parent.ts) if r.text.startswith("✅ Resolved")],
            180,
            "waiting for the incident to resolve in Slack",
            every=1,
        )
        assert len(resolved) == 1 and len(slack.parents()) == 1
        assert published(home) == now  # the reload changed nothing the public sees
