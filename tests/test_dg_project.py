"""The project is a `dg` project: `dg list defs` and `dg launch --partition` work on it as
Dagster's documentation describes (what `./ddrc ui` starts, `dg dev`, loads the same)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.core.names import PIPELINE_JOB, RECONCILE_SCHEDULE, pacific_date, partition_key

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
DG = Path(sys.executable).parent / "dg"


def _dg(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DG), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def test_dg_lists_the_graph_and_launches_one_partition(tmp_path, dagster_home):
    env = {
        **os.environ,
        "DDRC_HOME": str(tmp_path / "ddrc"),
        "DAGSTER_HOME": str(dagster_home),
        "DDRC_SAMPLE_SCALE": "0.05",
    }
    listed = _dg("list", "defs", "--json", env=env)
    assert listed.returncode == 0, listed.stderr[-2000:]
    defs = json.loads(listed.stdout)
    keys = {a["asset_key"] for a in defs["assets"]}
    assert {t.asset_key.to_user_string() for t in catalog.RAW_TABLES} <= keys
    assert {"summary/ddrc_metrics_summary", "publish/ddrc_metrics_json"} <= keys
    assert PIPELINE_JOB in {j["name"] for j in defs["jobs"]}
    assert RECONCILE_SCHEDULE in {s["name"] for s in defs["schedules"]}

    today = partition_key(pacific_date(datetime.now(UTC)))
    epa = catalog.EPA.asset_key.to_user_string()
    launched = _dg("launch", "--assets", f'key:"{epa}"', "--partition", today, env=env)
    assert launched.returncode == 0, launched.stderr[-2000:]
    with duckdb.connect(str(tmp_path / "ddrc" / "warehouse.duckdb"), read_only=True) as db:
        days = db.execute(
            f'select distinct "{catalog.LOAD_DATE}"::varchar from {catalog.EPA.path}'
        ).fetchall()
    assert days == [(today,)]
