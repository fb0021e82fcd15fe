"""A change pays one dbt start: the latest state's build computes today's history too."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.core.names import HISTORY_KEY, pacific_date, partition_key
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
