"""History is partitioned and backfillable: after a rule change, a range backfill of
`marts/metric_history` recomputes exactly the days it names, in one dbt run, and never
publishes. In-process (`materialize`), on a copy of the dbt project whose Malibu rule is
edited as the city asked in 2025 (PendingBSReview counted as "in review")."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil

import dagster as dg
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.core.names import HISTORY_KEY, PUBLISH_KEY, pacific_date, partition_key
from ddrc_platform.definitions import build_definitions
from ddrc_platform.ingest import sample
from ddrc_platform.publish.document import FILE_NAME
from ddrc_platform.settings import load_settings
from ddrc_platform.transform import project
from ddrc_platform.warehouse.duckdb import DuckDBWarehouse
from tests.support import BUILT_AT, BUILT_SCALE, FAST_HTTP

pytestmark = pytest.mark.slow

SCALE = 0.05
DAYS = [dt.date(2025, 6, d) for d in (1, 2, 3, 4)]
NOW = dt.datetime(2025, 6, 4, 19, 30, tzinfo=dt.UTC)  # DAYS[-1], Pacific
METRIC = "malibu_rebuild_applications_in_review"
RULE = "models/intermediate/int_malibu__metrics_by_load_date.sql"


def in_review(day: dt.date, stages: set[str]) -> int:
    rows = sample.malibu_endpoints(scale=SCALE, day=day)["FireRebuildPoints"]
    return sum(r["type"] in stages for r in rows)


def history(settings) -> dict[dt.date, float]:
    rows = DuckDBWarehouse(path=str(settings.warehouse_path)).query(
        f"select load_date, metric_value from marts.metric_history where metric_name = '{METRIC}'"
    )
    return {r["load_date"]: float(r["metric_value"]) for r in rows.to_pylist()}


def range_tags(first: dt.date, last: dt.date) -> dict[str, str]:
    """One run for a range of partitions, as the UI launches a backfill."""
    return {
        "dagster/asset_partition_range_start": partition_key(first),
        "dagster/asset_partition_range_end": partition_key(last),
    }


def test_a_range_backfill_after_a_rule_change_recomputes_exactly_those_days(
    home_copy, tmp_path, monkeypatch
):
    """On a copy of the session's built home (June 2 loaded, built and published): the other
    days' snapshots, then their history under the old rule in one range run."""
    assert DAYS[1] == pacific_date(BUILT_AT)  # the built home's day
    dbt_copy = tmp_path / "ddrc_dbt"
    shutil.copytree(project.DBT_PROJECT_DIR, dbt_copy, ignore=shutil.ignore_patterns("logs"))
    monkeypatch.setattr(project, "DBT_PROJECT_DIR", dbt_copy)
    project.prepare_manifest(project.dbt_project("local"))  # as `./ddrc run` does first
    settings = load_settings({"DDRC_HOME": str(home_copy), "DDRC_SAMPLE_SCALE": BUILT_SCALE})
    settings = dataclasses.replace(settings, http=FAST_HTTP)
    assert float(BUILT_SCALE) == SCALE
    instance = dg.DagsterInstance.ephemeral()
    defs = build_definitions(settings, clock=lambda: NOW)
    job = defs.resolve_job_def("ddrc_pipeline")
    snapshots = [t.asset_key for t in catalog.RAW_TABLES if t.keeping is catalog.Keeping.SNAPSHOT]
    for day in (DAYS[0], DAYS[2], DAYS[3]):  # the other days' snapshots (sample mode: any day)
        assert job.execute_in_process(
            instance=instance, partition_key=partition_key(day), asset_selection=snapshots
        ).success
    assert dg.materialize(
        [defs.resolve_assets_def(HISTORY_KEY)],
        instance=instance,
        tags=range_tags(DAYS[0], DAYS[-1]),
    ).success
    published = (settings.publish_dir / FILE_NAME).read_bytes()
    dbt_log = settings.dbt_target_path / "dbt.log"
    parsed_in_this_home = len(dbt_log.read_bytes())
    old_rule = {"InPlanning", "InBPC"}
    assert history(settings) == {d: in_review(d, old_rule) for d in DAYS}

    # the rule change: one reviewed edit of the family's model
    rule = dbt_copy / RULE
    text = rule.read_text()
    assert "('InPlanning', 'InBPC')" in text
    rule.write_text(
        text.replace("('InPlanning', 'InBPC')", "('InPlanning', 'InBPC', 'PendingBSReview')")
    )
    project.prepare_manifest(project.dbt_project("local"))  # a deploy: the manifest re-parsed
    defs = build_definitions(settings, clock=lambda: NOW)
    latest = defs.resolve_assets_def(
        dg.AssetKey(["intermediate", "int_malibu__metrics_by_load_date"])
    )
    # what the automation does on the deploy (the model's code version changed): the view
    assert dg.materialize(
        [latest],
        selection=[dg.AssetKey(["intermediate", "int_malibu__metrics_by_load_date"])],
        instance=instance,
    ).success

    # the backfill of the first three days, as the UI launches it: one run for the range
    backfill = dg.materialize(
        [defs.resolve_assets_def(HISTORY_KEY)],
        instance=instance,
        tags=range_tags(DAYS[0], DAYS[2]),
    )
    assert backfill.success
    keys = {e.asset_key for e in backfill.get_asset_materialization_events()}
    assert keys == {HISTORY_KEY} and PUBLISH_KEY not in keys
    new_rule = old_rule | {"PendingBSReview"}
    assert history(settings) == {
        **{d: in_review(d, new_rule) for d in DAYS[:3]},
        DAYS[3]: in_review(DAYS[3], old_rule),  # outside the range: untouched
    }
    assert in_review(DAYS[0], new_rule) != in_review(DAYS[0], old_rule)  # the rule matters
    assert (settings.publish_dir / FILE_NAME).read_bytes() == published  # never publishes
    # a rule change, the latest state and a backfill of other dates: dbt parsed partially
    since = dbt_log.read_bytes()[parsed_in_this_home:].decode()
    assert "metric_history" in since and "Unable to do partial parsing" not in since
