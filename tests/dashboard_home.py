"""The home the dashboard's tests read: a sample pipeline with weeks of history, a stale
source, a held-back number and incidents, built once per test run and copied per module;
and another process holding the warehouse's writer lock, as a pipeline run does. Shared by
`test_dashboard.py` (AppTest) and `test_dashboard_browser.py` (Chromium)."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import dagster as dg
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.core.names import SUMMARY_KEY
from ddrc_platform.definitions import build_definitions
from ddrc_platform.defs.incidents.desk import metric_sources
from ddrc_platform.incidents import FailureKind, IncidentDesk, Recovery, build_desk
from ddrc_platform.publish.document import FILE_NAME
from ddrc_platform.publish.targets.local import LocalPublisher
from ddrc_platform.settings import Settings, load_settings
from tests.support import run_pipeline

DASHBOARDS = Path(__file__).resolve().parent.parent / "dashboards"
APP = DASHBOARDS / "app.py"
SCALE = "0.05"
# Snapshot days while the sample data still moves (it settles by late 2025), then a week ago.
HISTORY_DAYS = (date(2025, 2, 3), date(2025, 3, 17), date(2025, 5, 5))
HELD_METRIC, HELD_BY = "cleanup_phase1_complete", 25
HOLD_LOCK = (
    "import duckdb, sys, time\n"
    "connection = duckdb.connect(sys.argv[1])\n"
    "print('locked', flush=True)\n"
    "time.sleep(600)\n"
)


def home_settings(home: Path) -> Settings:
    return load_settings({"DDRC_HOME": str(home), "DDRC_SAMPLE_SCALE": SCALE})


def run(settings: Settings, at: datetime, keys: list[dg.AssetKey]) -> None:
    with dg.DagsterInstance.ephemeral() as instance:  # disposed here, not by a later GC
        _, result = run_pipeline(settings, instance, at, keys)
        assert result.success


def incident_desk(settings: Settings) -> IncidentDesk:
    return build_desk(
        oncall_path=settings.oncall_path,
        store_path=settings.incident_store_path,
        metric_sources=metric_sources(LocalPublisher(directory=str(settings.publish_dir))),
        graph=build_definitions(settings),
        webserver_url=settings.webserver_url,
    )


def build_home(home: Path) -> Path:
    """A DDRC_HOME as weeks of runs leave it, built in about a minute.

    Raw snapshots of three spring-2025 days and of a week ago, then one full run now
    without USACE (its server "has failed for a week": stale), the public file still
    showing an older value of one metric (a later publication held back), and incidents:
    two open, one resolved.
    """
    settings = home_settings(home)
    now = datetime.now(UTC)
    snapshots = [t.asset_key for t in catalog.RAW_TABLES if t.keeping is catalog.Keeping.SNAPSHOT]
    earlier = [datetime.combine(day, time(19, 30), UTC) for day in HISTORY_DAYS]
    for moment in [*earlier, now - timedelta(days=7)]:
        run(settings, moment, snapshots)
    everything = build_definitions(settings).resolve_asset_graph().materializable_asset_keys
    run(settings, now, [key for key in everything if key != catalog.USACE.asset_key])

    live = settings.publish_dir / FILE_NAME
    document = json.loads(live.read_text())
    for metric in document:
        if metric["METRIC_NAME"] == HELD_METRIC:
            metric["METRIC_VALUE"] -= HELD_BY
    live.write_text(json.dumps(document))

    desk = incident_desk(settings)
    desk.report(FailureKind.SOURCE_STALE, [catalog.USACE.asset_key])
    desk.report(
        FailureKind.PUBLICATION_HELD,
        [SUMMARY_KEY],
        check_name="ddrc_metrics_summary_counts_are_whole_and_non_negative",
        run_id="run-held",
        run_url=f"{settings.webserver_url}/runs/run-held",
    )
    malibu = catalog.MALIBU_FIRE_REBUILD_POINTS.asset_key
    desk.report(FailureKind.SOURCE_LOAD_FAILED, [malibu], run_id="run-malibu")
    desk.recover(malibu, by=Recovery.MATERIALIZED)
    return home


def sample_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of `build_home`'s home for one test module, built once per test run.

    Both dashboard test modules need it, and xdist runs them in two workers at once: the
    first builds it under a lock in the run's shared temporary folder, the other waits for
    it. Each module copies it, as its tests add incidents and take locks.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if "PYTEST_XDIST_WORKER" in os.environ else base
    built = shared / "dashboard-sample" / "ddrc"
    with (shared / "dashboard-sample.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (built.parent / "complete").exists():
            build_home(built)
            (built.parent / "complete").touch()
    return copy_home(built, tmp_path_factory.mktemp("dashboard") / "ddrc")


@contextmanager
def pipeline_writing(warehouse: Path) -> Iterator[None]:
    """Another process holding DuckDB's writer lock, as a loader or dbt does in a run."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(warehouse)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.kill()
        holder.wait()


def copy_home(home: Path, to: Path) -> Path:
    """A home of the test's own: the incident store and the lock are per home."""
    return Path(shutil.copytree(home, to))
