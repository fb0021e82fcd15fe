"""A viewer's read-only session (`Warehouse.read_only()`), on both backends: it answers in
lower-case columns, names raw tables where they live, never waits for or blocks a run,
creates nothing, and says why a read failed in the error a page answers with a sentence.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import duckdb
import pytest

from ddrc_platform.settings import snowflake_settings
from ddrc_platform.warehouse.base import NotBuiltError, UnavailableError, WarehouseBusyError
from ddrc_platform.warehouse.duckdb import DuckDBWarehouse
from ddrc_platform.warehouse.snowflake import snowflake_warehouse
from tests.fakesnow_server import FakesnowServer
from tests.warehouse_rows import DAY1, TABLE, snapshot, snowflake_warehouse_from_env, write

pytest_plugins = ["tests.fakesnow_server"]

HOLD_WRITER_LOCK = (
    "import duckdb, sys, time\n"
    "connection = duckdb.connect(sys.argv[1])\n"
    "print('locked', flush=True)\n"
    "time.sleep(600)\n"
)


@pytest.fixture
def duck(tmp_path: Path) -> DuckDBWarehouse:
    warehouse = DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))
    write(warehouse, snapshot(DAY1, {"SFR": 10, "ADU": 2}), DAY1)
    return warehouse


def test_a_missing_warehouse_is_not_built_and_reading_creates_nothing(tmp_path):
    home = tmp_path / "never-run"
    with pytest.raises(NotBuiltError, match="no warehouse"):
        DuckDBWarehouse(path=str(home / "warehouse.duckdb")).read_only().__enter__()
    assert not home.exists()


def test_duckdb_answers_in_lower_case_and_a_missing_table_is_not_built(duck):
    with duck.read_only() as reader:
        assert reader.raw(TABLE) == '"MALIBU"."PALISADES_PERMITS_ISSUED"'
        rows = reader.frame(f'select "PERMITTYPE", "PALISADESPERMITS" from {reader.raw(TABLE)}')
        assert sorted(rows["permittype"]) == ["ADU", "SFR"]
        # no replacement scans: a Python variable of that name is not a table
        metric_history = rows  # noqa: F841
        with pytest.raises(NotBuiltError, match="metric_history"):
            reader.frame("select * from metric_history")
    duckdb.connect(duck.path).close()  # closed on leaving: a writer may open the file again


def test_duckdb_is_busy_at_once_while_a_run_writes_and_readable_after(duck):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITER_LOCK, duck.path], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(WarehouseBusyError, match="pipeline is writing"):
            duck.read_only().__enter__()
        assert time.monotonic() - started < duck.lock_wait_seconds / 2  # no waiting
    finally:
        holder.kill()
        holder.wait()
    with duck.read_only() as reader:
        assert len(reader.frame(f"select * from {reader.raw(TABLE)}")) == 2


def test_the_reporter_reads_analytics_and_finds_raw_tables_in_the_raw_database():
    env = {"SNOWFLAKE_ACCOUNT": "acct", "SNOWFLAKE_USER": "ddrc", "SNOWFLAKE_PASSWORD": "pw"}
    reporter = snowflake_warehouse(snowflake_settings(env, "prd"), layer="reporter")
    assert (reporter.role, reporter.warehouse, reporter.database) == (
        "REPORTER_PRD",
        "REPORTING_PRD",
        "ANALYTICS_DDRC_PRD",
    )
    with reporter.read_only() as reader:
        assert reader.raw(TABLE) == '"RAW_DDRC_PRD"."MALIBU"."PALISADES_PERMITS_ISSUED"'


def test_snowflake_answers_in_lower_case_and_a_failure_names_the_role_not_the_password(
    fakesnow_server: FakesnowServer,
):
    database = f"RAW_TEST_{uuid.uuid4().hex[:8].upper()}"  # fakesnow shares memory
    env = {**fakesnow_server.env, "DDRC_SNOWFLAKE_RAW_DATABASE": database}
    warehouse = snowflake_warehouse_from_env(env, "dev")
    write(warehouse, snapshot(DAY1, {"SFR": 10}), DAY1)
    with warehouse.read_only() as reader:
        assert reader.raw(TABLE) == f'"{database}"."MALIBU"."PALISADES_PERMITS_ISSUED"'
        rows = reader.frame(f'select "PALISADESPERMITS" from {reader.raw(TABLE)}')
        assert rows["palisadespermits"].tolist() == [10]
        with pytest.raises(UnavailableError, match=f"Snowflake as {warehouse.role} on ") as failed:
            reader.frame(f'select * from "{database}"."MALIBU"."NOT_THERE"')
    assert env["SNOWFLAKE_PASSWORD"] not in str(failed.value)
