"""Change → public file through the real daemon, with the deployment's default intervals.

`./ddrc ui` (webserver, daemon, code server) against the stand-ins in live mode, every
watch sensor and the automation on, nobody launching a run: the home bootstraps, then the
EPA layer is edited `edits` times, each at a random moment of the watch interval, and the
seconds until the public file shows the edit are measured, with the runs each edit took and
where each run's seconds went (queue, process start and definitions load, steps).
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from ddrc_platform.core.names import AUTOMATION_SENSOR, WATCH_SENSOR, pacific_date
from ddrc_platform.ingest import sample
from ddrc_platform.publish.document import FILE_NAME
from ddrc_platform.settings import WatchSettings, load_settings
from stand_ins.sources import LAYER_PATHS, one_more_through_phase_1, serve_sample_sources
from tests.daemon import Daemon, start_ui
from tests.process import Server, wait_until

STEP_START = dg.DagsterEventType.STEP_START
METRIC = "cleanup_phase1_complete"  # what one more parcel through Phase 1 moves
PHASES = (
    ("queued", dg.DagsterEventType.RUN_ENQUEUED, dg.DagsterEventType.RUN_STARTING),
    ("process start", dg.DagsterEventType.RUN_STARTING, dg.DagsterEventType.RUN_START),
    ("to first step", dg.DagsterEventType.RUN_START, dg.DagsterEventType.STEP_START),
    ("steps", dg.DagsterEventType.STEP_START, dg.DagsterEventType.RUN_SUCCESS),
)


def public_value(home: Path) -> float | None:
    path = home / "publish" / FILE_NAME
    if not path.exists():
        return None
    rows = json.loads(path.read_bytes())
    return next(float(m["METRIC_VALUE"]) for m in rows if m["METRIC_NAME"] == METRIC)


def phases(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Seconds between the first event of each phase's start and end types in the run."""
    first: dict[dg.DagsterEventType, float] = {}
    for entry in instance.all_logs(run_id):
        kind = entry.dagster_event.event_type if entry.dagster_event else None
        if kind is not None and kind not in first:
            first[kind] = entry.timestamp
    return {
        name: first[end] - first[start]
        for name, start, end in PHASES
        if start in first and end in first
    }


def idle(instance: dg.DagsterInstance) -> bool:
    return all(r.dagster_run.is_finished for r in instance.get_run_records(limit=20))


def one_edit(daemon: Daemon, live, epa, before: float) -> tuple[float, list[dict]]:
    """Edit EPA at a random moment of the watch interval; seconds until public, its runs."""
    instance = daemon.instance
    time.sleep(random.uniform(0, WatchSettings.watch_seconds))
    edited = time.time()
    live.arcgis.set_layer(LAYER_PATHS["epa"], epa)
    wait_until(
        lambda: public_value(daemon.home) == before + 1, 900, "waiting for the edit", every=0.5
    )
    seconds = time.time() - edited
    wait_until(lambda: idle(instance), 900, "waiting for the runs to end", every=1)
    return seconds, runs_since(instance, edited)


def runs_since(instance: dg.DagsterInstance, moment: float) -> list[dict]:
    """Every run created after `moment`, oldest first: what asked for it, where its seconds
    went, and how many dbt invocations it made."""
    return [
        {
            "trigger": r.dagster_run.tags.get("ddrc/trigger", "automation"),
            "status": r.dagster_run.status.value,
            "created_after_edit": r.create_timestamp.timestamp() - moment,
            "dbt_steps": sum(
                1
                for e in instance.all_logs(r.dagster_run.run_id, of_type=STEP_START)
                if (e.dagster_event.step_key or "").startswith("ddrc_dbt")
            ),
            **phases(instance, r.dagster_run.run_id),
        }
        for r in reversed(instance.get_run_records())
        if r.create_timestamp.timestamp() > moment
    ]


def latency(edits: int, scale: float) -> dict:
    today = pacific_date(datetime.now(UTC))
    started: list[Server] = []
    with tempfile.TemporaryDirectory() as tmp, serve_sample_sources(day=today, scale=scale) as live:
        env = {**live.env, "DDRC_HOME": f"{tmp}/ddrc", "DDRC_SAMPLE_SCALE": str(scale)}
        try:
            daemon = start_ui(env, Path(tmp) / "ddrc", Path(tmp), started)
            daemon.wait_loaded()
            settings = load_settings(env)
            daemon.start_sensor(WATCH_SENSOR)
            daemon.start_sensor(AUTOMATION_SENSOR)
            begun = time.time()
            wait_until(lambda: public_value(daemon.home), 1800, "waiting for the bootstrap")
            wait_until(lambda: idle(daemon.instance), 900, "waiting for the bootstrap runs")
            bootstrap = time.time() - begun
            bootstrap_runs = len(runs_since(daemon.instance, begun))
            epa = sample.arcgis_layer("epa", scale=scale, day=today)
            delays, runs = [], []
            for _ in range(edits):
                epa = one_more_through_phase_1(epa)
                seconds, its_runs = one_edit(daemon, live, epa, public_value(daemon.home))
                delays.append(seconds)
                runs.append(its_runs)
        finally:
            for server in started:
                server.stop()
    return {
        "watch_seconds": settings.watch.watch_seconds,
        "automation_seconds": settings.watch.automation_seconds,
        "bootstrap_seconds": bootstrap,
        "bootstrap_runs": bootstrap_runs,
        "change_to_public_seconds": delays,
        "median_seconds": statistics.median(delays),
        "runs": runs,
    }
