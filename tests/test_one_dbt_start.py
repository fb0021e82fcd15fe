"""A change pays one dbt start: the latest state's build computes today's history too."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.core.names import HISTORY_KEY, PUBLISH_KEY, pacific_date, partition_key
from ddrc_platform.definitions import build_definitions
from ddrc_platform.settings import load_settings
from tests.support import BUILT_AT, BUILT_SCALE, instance_knowing, run_pipeline

pytestmark = pytest.mark.slow

LATER = BUILT_AT + dt.timedelta(hours=1)  # the same Pacific day as the built home
DAY = partition_key(pacific_date(BUILT_AT))


def test_a_malibu_change_runs_dbt_once_and_leaves_the_automation_nothing_to_do(
    home_copy: Path,
) -> None:
    settings = load_settings({"DDRC_HOME": str(home_copy), "DDRC_SAMPLE_SCALE": BUILT_SCALE})
    defs = build_definitions(settings, clock=lambda: LATER)
    instance = instance_knowing(defs)  # what the built home holds
    before = dg.evaluate_automation_conditions(defs, instance, evaluation_time=LATER)

    _, result = run_pipeline(
        settings, instance, LATER, changed=[catalog.MALIBU_FIRE_REBUILD_POINTS.asset_key]
    )
    assert result.success
    steps = {e.step_key for e in result.all_events if e.is_step_start}
    assert {s for s in steps if "dbt" in s} == {"ddrc_dbt"}  # one dbt invocation
    history = instance.fetch_materializations(HISTORY_KEY, limit=1).records[0]
    assert (history.run_id, history.partition_key) == (result.run_id, DAY)
    checked = [c for c in result.get_asset_check_evaluations() if c.asset_key == HISTORY_KEY]
    assert checked and {c.partition for c in checked} == {DAY} and all(c.passed for c in checked)

    after = dg.evaluate_automation_conditions(
        defs, instance, evaluation_time=LATER + dt.timedelta(minutes=1), cursor=before.cursor
    )
    assert after.get_requested_partitions(HISTORY_KEY) == set()
    assert after.total_requested == 0, [r.key for r in after.results if r.true_subset.size]


def test_a_failure_of_the_folded_history_alone_neither_fails_the_change_nor_its_publish(
    home_copy: Path,
) -> None:
    """A row of an earlier day that today's rules reject (here: a metric the catalog does
    not know) fails the history's test in the latest state's build: the history shows it,
    on today's partition, and the latest state still publishes."""
    import duckdb

    with duckdb.connect(str(home_copy / "warehouse.duckdb")) as warehouse:
        [(schema,)] = warehouse.execute(
            "select table_schema from information_schema.tables where table_name = ?",
            ["metric_history"],
        ).fetchall()
        warehouse.execute(
            f"insert into {schema}.metric_history by name select 'not_a_catalogued_metric' as"
            " metric_name, date '2025-01-01' as load_date, 1 as metric_value,"
            " timestamp '2025-01-01' as last_updated"
        )
    settings = load_settings({"DDRC_HOME": str(home_copy), "DDRC_SAMPLE_SCALE": BUILT_SCALE})
    instance = instance_knowing(build_definitions(settings, clock=lambda: LATER))
    _, result = run_pipeline(
        settings, instance, LATER, changed=[catalog.MALIBU_FIRE_REBUILD_POINTS.asset_key]
    )
    assert result.success, [
        (e.step_key, e.event_specific_data.error.message[:300])
        for e in result.all_events
        if e.is_step_failure
    ]
    failed = [
        c
        for c in result.get_asset_check_evaluations()
        if c.asset_key == HISTORY_KEY and not c.passed
    ]
    assert [(c.check_name, c.partition) for c in failed] == [
        ("metric_history_metrics_are_catalogued", DAY)
    ]
    assert PUBLISH_KEY in {m.asset_key for m in result.get_asset_materialization_events()}
    logged = [e.user_message for e in instance.all_logs(result.run_id)]
    assert any(f"the history's partition {DAY} failed" in m for m in logged)
