"""The graph reacts to change through the real daemon: one `./ddrc ui` (`dg dev`) against the
stand-ins in live mode, the sensors turned on as a user would in the UI, short intervals
through the settings, incidents to a local Slack.

One session for the whole story, in order: the daily job loads and publishes today, and the
EPA and Malibu sensors start from today's signatures (their cursors, as after a first
tick); a cycle with no change runs nothing; a changed EPA layer runs exactly EPA's loader
and what lies below it; EPA down plus a Malibu change republishes Malibu, keeps EPA's
number and posts one incident to Slack; a past raw partition fails at once with the reason.
Every wait reads the daemon's own records (runs, sensor ticks), bounded.
"""

from __future__ import annotations

import copy
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pyarrow.compute as pc
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.core.names import (
    AUTOMATION_SENSOR,
    PIPELINE_JOB,
    PUBLISH_KEY,
    SUMMARY_KEY,
    WATCH_SENSOR_PREFIX,
    pacific_date,
    partition_key,
)
from ddrc_platform.ingest import sample
from ddrc_platform.ingest.signals import signature
from ddrc_platform.ingest.sources.arcgis import LayerData
from ddrc_platform.publish.document import FILE_NAME
from ddrc_platform.settings import load_settings
from stand_ins.base import Fault
from stand_ins.slack import SlackServer
from stand_ins.sources import LAYER_PATHS, serve_sample_sources
from tests.process import wait_until

pytest_plugins = ["tests.daemon"]
pytestmark = pytest.mark.slow

SCALE = 0.05
INTERVAL = 3  # seconds between sensor ticks (DDRC_WATCH_INTERVAL, DDRC_AUTOMATION_INTERVAL)
TOKEN = "xoxb-daemon-test-token-456"
WATCHED = (catalog.EPA, catalog.MALIBU_FIRE_REBUILD_POINTS)
SENSORS = [*(WATCH_SENSOR_PREFIX + t.name for t in WATCHED), AUTOMATION_SENSOR]

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


def published(home: Path) -> dict[str, float]:
    return {
        m["METRIC_NAME"]: m["METRIC_VALUE"]
        for m in json.loads((home / "publish" / FILE_NAME).read_bytes())
    }


def epa_with_one_more_parcel_through_phase_1(today) -> LayerData:
    epa = sample.arcgis_layer("epa", scale=SCALE, day=today)
    row = pc.index(
        pc.and_(
            pc.equal(epa.table["LandUse"], "Residential"),
            pc.equal(epa.table["PublicStatus"], "Phase 1 In Progress"),
        ),
        True,
    ).as_py()
    status = epa.table["PublicStatus"].to_pylist()
    status[row] = "Phase 1 Complete"
    metadata = copy.deepcopy(epa.metadata)
    metadata["editingInfo"]["lastEditDate"] += 60_000
    column = epa.table.schema.get_field_index("PublicStatus")
    return LayerData(metadata, epa.table.set_column(column, "PublicStatus", [status]))


def test_the_graph_reacts_to_change_through_the_daemon(tmp_path, ddrc_ui):
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
            "SLACK_BOT_TOKEN": TOKEN,
            "DDRC_SLACK_CHANNEL": "#odi-la-fires-recovery-tracking",
            "DDRC_SLACK_API_URL": slack.api_url,
        }
        daemon = ddrc_ui(env)
        daemon.wait_loaded()
        instance, home = daemon.instance, daemon.home

        # 1. today's full load and publication (the daily reconcile's job)
        seeded = daemon.launch(PIPELINE_JOB, partition_key(today))
        assert instance.get_run_by_id(seeded).status == dg.DagsterRunStatus.SUCCESS
        first = published(home)
        settings = load_settings({**os.environ, **env})
        for table in WATCHED:
            cursor = f"{partition_key(today)} {signature(table, settings, datetime.now(UTC))}"
            daemon.start_sensor(WATCH_SENSOR_PREFIX + table.name, cursor)
        daemon.start_sensor(AUTOMATION_SENSOR)

        # 2. nothing changed: every sensor ticks twice, and no run starts
        assert daemon.settle(time.time(), SENSORS) == []

        # 3. the EPA layer is rebuilt with one more parcel through Phase 1: exactly EPA's path
        live.arcgis.set_layer(LAYER_PATHS["epa"], epa_with_one_more_parcel_through_phase_1(today))
        runs = daemon.settle(time.time(), SENSORS)
        assert len(runs) == 2  # the loader, then one downstream run: one dbt start
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
        records = daemon.settle(time.time(), SENSORS)
        now = published(home)
        assert (
            now["malibu_building_permits_issued"] == after_epa["malibu_building_permits_issued"] + 1
        )
        assert now["cleanup_phase1_complete"] == after_epa["cleanup_phase1_complete"]
        failed = [r for r in records if r.dagster_run.status == dg.DagsterRunStatus.FAILURE]
        assert [r.dagster_run.tags.get("ddrc/source") for r in failed] == ["epa"]
        (parent,) = wait_until(slack.parents, 180, "waiting for the incident in Slack", every=1)
        text = f"{parent.text} {parent.blocks}"
        assert "raw/epa/public_status_assessment" in text
        assert "cleanup_phase1_complete" in text
        assert failed[0].dagster_run.run_id in text  # the link to the run
        assert TOKEN not in text and all(TOKEN not in str(c) for c in slack.calls)

        # 5. a past day cannot be fetched from a live source: the run fails at once, saying so
        live.arcgis.heal()
        yesterday = partition_key(today - timedelta(days=1))
        run_id = daemon.launch("__ASSET_JOB", yesterday, [catalog.EPA.asset_key])
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
        failures = [
            e.dagster_event.step_failure_data.error.message
            for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
        ]
        assert any(f"cannot load the past day {yesterday}" in m for m in failures), failures
