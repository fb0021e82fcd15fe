"""The graph reacts to change, through the real daemon: `dagster dev` against the stand-ins
(live mode), the change sensors and the automation sensor turned on as a user would in
the UI, short intervals through the settings.

One `dagster dev` for the whole story, in order: the daily job has loaded and published
today, and the EPA and Malibu sensors have seen today's signatures (their cursors, as
after a first tick: set through GraphQL so the test need not wait for every source's
first load); a cycle with no change runs nothing; a changed EPA layer runs exactly EPA's
loader and what lies below it; EPA down plus a Malibu change republishes Malibu and keeps
EPA's number; a past raw partition fails at once with the reason.
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
import requests

from ddrc_platform.core import catalog
from ddrc_platform.core.names import (
    AUTOMATION_SENSOR,
    PUBLISH_KEY,
    SUMMARY_KEY,
    WATCH_SENSOR_PREFIX,
    pacific_date,
    partition_key,
)
from ddrc_platform.ingest import sample
from ddrc_platform.ingest.signals import signature
from ddrc_platform.publish.document import FILE_NAME
from ddrc_platform.settings import load_settings
from stand_ins.base import Fault
from stand_ins.sources import LAYER_PATHS, serve_sample_sources
from tests.test_daemon_e2e import dagster_dev, wait_until  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow

SCALE = 0.05
INTERVAL = 3  # seconds between sensor ticks (DDRC_WATCH_INTERVAL, DDRC_AUTOMATION_INTERVAL)
QUIET = 20  # seconds without a run that count as "settled": several ticks of every sensor

REPOSITORIES = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  name location { name } sensors { name } } } } }"""
START_SENSOR = """mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) {
  __typename ... on PythonError { message } } }"""
SET_CURSOR = """mutation($s: SensorSelector!, $c: String) { setSensorCursor(sensorSelector: $s,
  cursor: $c) { __typename ... on PythonError { message } } }"""
LAUNCH = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""

EPA_PATH = {
    dg.AssetKey(["raw", "epa", "public_status_assessment"]),
    dg.AssetKey(["staging", "stg_epa__public_status_assessment"]),
    dg.AssetKey(["intermediate", "int_epa__metrics_by_load_date"]),
    dg.AssetKey(["intermediate", "int_pipeline__metrics_by_load_date"]),
    dg.AssetKey(["marts", "metric_history"]),
    SUMMARY_KEY,
    PUBLISH_KEY,
}


def graphql(port: int, query: str, **variables) -> dict:
    answer = requests.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": query, "variables": variables},
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()["data"]


def materialized_since(instance: dg.DagsterInstance, mark: float) -> list[tuple]:
    """(asset key, partition) of every materialization in runs created after `mark`."""
    found = []
    for run in instance.get_runs():
        record = instance.get_run_record_by_id(run.run_id)
        if record.create_timestamp.timestamp() <= mark:
            continue
        for event in instance.all_logs(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ):
            found.append((event.dagster_event.asset_key, event.dagster_event.partition))
    return found


def settle(instance: dg.DagsterInstance, mark: float, expect_runs: bool, timeout: float) -> None:
    """Wait until no run is queued or running and none started for QUIET seconds."""

    def quiet() -> bool:
        records = [r for r in instance.get_run_records() if r.create_timestamp.timestamp() > mark]
        if expect_runs and not records:
            return False
        if any(not r.dagster_run.is_finished for r in records):
            return False
        last = max([mark, *((r.end_time or r.create_timestamp.timestamp()) for r in records)])
        return time.time() - last > QUIET

    wait_until(quiet, timeout, "waiting for the runs to settle")


def published(home: Path) -> dict[str, float]:
    return {
        m["METRIC_NAME"]: m["METRIC_VALUE"]
        for m in json.loads((home / "publish" / FILE_NAME).read_bytes())
    }


def test_the_graph_reacts_to_change_through_the_daemon(tmp_path, dagster_home, dagster_dev):  # noqa: F811
    today = pacific_date(datetime.now(UTC))
    home = tmp_path / "ddrc"
    # DuckDB allows one writer process: locally, one run at a time (as `./ddrc ui` does)
    (dagster_home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\nrun_queue:\n  max_concurrent_runs: 1\n"
    )
    with serve_sample_sources(day=today, scale=SCALE) as live:
        env = {
            **live.env,
            "DDRC_HOME": str(home),
            "DDRC_SAMPLE_SCALE": str(SCALE),
            "DDRC_HTTP_TRIES": "2",
            "DDRC_HTTP_BACKOFF": "0.05",
            "DDRC_WATCH_INTERVAL": str(INTERVAL),
            "DDRC_AUTOMATION_INTERVAL": str(INTERVAL),
        }
        port, process, log = dagster_dev(env)
        nodes = wait_until(
            lambda: graphql(port, REPOSITORIES)["repositoriesOrError"].get("nodes"),
            240,
            "waiting for the code location to load",
            process,
        )
        (repo,) = nodes
        selector = {
            "repositoryLocationName": repo["location"]["name"],
            "repositoryName": repo["name"],
        }
        instance = dg.DagsterInstance.from_config(str(dagster_home))

        def launch(assets: list[dg.AssetKey] | None, partition: str) -> str:
            job = (
                {"jobName": "ddrc_pipeline"}
                if assets is None
                else {
                    "jobName": "__ASSET_JOB",
                    "assetSelection": [{"path": k.path} for k in assets],
                }
            )
            launched = graphql(
                port,
                LAUNCH,
                p={
                    "selector": {**selector, **job},
                    "executionMetadata": {
                        "tags": [{"key": "dagster/partition", "value": partition}]
                    },
                },
            )["launchRun"]
            assert launched["__typename"] == "LaunchRunSuccess", launched
            run_id = launched["run"]["runId"]
            wait_until(lambda: instance.get_run_by_id(run_id).is_finished, 900, "waiting for a run")
            return run_id

        # 1. today's full load and publication (the daily reconcile's job)
        seeded = launch(None, partition_key(today))
        assert instance.get_run_by_id(seeded).status == dg.DagsterRunStatus.SUCCESS
        first = published(home)
        settings = load_settings({**os.environ, **env})
        for table in (catalog.EPA, catalog.MALIBU_FIRE_REBUILD_POINTS):
            name = WATCH_SENSOR_PREFIX + table.name
            cursor = f"{partition_key(today)} {signature(table, settings, datetime.now(UTC))}"
            done = graphql(port, SET_CURSOR, s={**selector, "sensorName": name}, c=cursor)
            assert done["setSensorCursor"]["__typename"] != "PythonError", done
        for name in (
            WATCH_SENSOR_PREFIX + catalog.EPA.name,
            WATCH_SENSOR_PREFIX + catalog.MALIBU_FIRE_REBUILD_POINTS.name,
            AUTOMATION_SENSOR,
        ):
            started = graphql(port, START_SENSOR, s={**selector, "sensorName": name})
            assert started["startSensor"]["__typename"] == "Sensor", started

        # 2. nothing changed: several ticks of every sensor, no run
        mark = time.time()
        time.sleep(QUIET)
        assert materialized_since(instance, mark) == []

        # 3. the EPA layer is rebuilt with one more parcel through Phase 1: exactly EPA's path
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
        live.arcgis.set_layer(
            LAYER_PATHS["epa"],
            sample.ArcgisSample(metadata, epa.table.set_column(column, "PublicStatus", [status])),
        )
        mark = time.time()
        settle(instance, mark, expect_runs=True, timeout=600)
        done = materialized_since(instance, mark)
        assert {key for key, _ in done} == EPA_PATH
        assert len(done) == len(EPA_PATH)  # each once
        partitioned = {k: p for k, p in done if p is not None}
        assert set(partitioned.values()) == {partition_key(today)}  # today's partition only
        after_epa = published(home)
        assert after_epa["cleanup_phase1_complete"] == first["cleanup_phase1_complete"] + 1
        assert {k: v for k, v in after_epa.items() if k != "cleanup_phase1_complete"} == {
            k: v for k, v in first.items() if k != "cleanup_phase1_complete"
        }

        # 4. EPA unreachable, and Malibu's city approves one application: Malibu moves, EPA stays
        live.arcgis.fail_always(LAYER_PATHS["epa"], Fault.status(503, "Service Unavailable"))
        endpoints = sample.malibu_endpoints(scale=SCALE, day=today)
        points = endpoints["FireRebuildPoints"]
        changed = next(p for p in points if p["type"] == "InPlanning")
        changed["type"] = "PermitIssued"
        live.malibu.set_endpoints(endpoints)
        mark = time.time()
        settle(instance, mark, expect_runs=True, timeout=600)
        now = published(home)
        assert (
            now["malibu_building_permits_issued"] == after_epa["malibu_building_permits_issued"] + 1
        )
        assert now["cleanup_phase1_complete"] == after_epa["cleanup_phase1_complete"]
        failed = [
            r
            for r in instance.get_run_records()
            if r.create_timestamp.timestamp() > mark
            and r.dagster_run.status == dg.DagsterRunStatus.FAILURE
        ]
        assert [r.dagster_run.tags.get("ddrc/source") for r in failed] == ["epa"]

        # 5. a past day cannot be fetched from a live source: the run fails at once, saying so
        live.arcgis.heal()
        yesterday = partition_key(today - timedelta(days=1))
        run_id = launch([catalog.EPA.asset_key], yesterday)
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
        failures = [
            e.dagster_event.step_failure_data.error.message
            for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
        ]
        assert any(f"cannot load the past day {yesterday}" in m for m in failures), failures
    assert "dagster dev exited" not in log.read_text()
