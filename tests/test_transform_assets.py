"""What the dbt assets decide, tested as plain functions (no dbt, no Dagster run)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg

from ddrc_platform.core.names import HISTORY_MODEL, HISTORY_PARENT
from ddrc_platform.transform.assets import (
    attached_nodes,
    blocking_check_keys,
    counted_relation,
    failed_node,
    failed_only_within,
    folded_history_day,
    fqn_selector,
    load_dates,
    model_relation,
    on_partition,
    warehouse_was_locked,
)
from ddrc_platform.transform.manifests import DBT_PROJECT_DIR
from ddrc_platform.transform.project import dbt_project

MANIFEST = {
    "nodes": {
        "model.ddrc.summary": {
            "resource_type": "model",
            "name": "summary",
            "relation_name": '"warehouse"."marts"."summary"',
        },
        "seed.ddrc.codes": {
            "resource_type": "seed",
            "name": "codes",
            "relation_name": '"warehouse"."seeds"."codes"',
        },
        "test.ddrc.not_null_summary": {
            "resource_type": "test",
            "name": "not_null_summary",
            "relation_name": None,
        },
    }
}


def test_rows_are_counted_for_built_models_and_seeds_only():
    assert counted_relation(MANIFEST, "model.ddrc.summary") == '"warehouse"."marts"."summary"'
    assert counted_relation(MANIFEST, "seed.ddrc.codes") == '"warehouse"."seeds"."codes"'
    assert counted_relation(MANIFEST, "test.ddrc.not_null_summary") is None
    assert counted_relation(MANIFEST, "model.other.unknown") is None
    assert counted_relation(MANIFEST, None) is None  # an event without a dbt node


def test_a_locked_duckdb_file_is_told_apart_from_other_dbt_failures():
    locked = 'IO Error: Could not set lock on file "/x/warehouse.duckdb": Conflicting lock'
    assert warehouse_was_locked(locked)
    assert not warehouse_was_locked("Database Error in model summary: division by zero")


def test_load_dates_are_a_half_open_range_in_the_environment_metric_history_reads():
    assert load_dates(dt.date(2025, 6, 1), dt.date(2025, 6, 4)) == {
        "DDRC_HISTORY_MIN_DATE": "2025-06-01",
        "DDRC_HISTORY_MAX_DATE": "2025-06-04",
    }
    model = (DBT_PROJECT_DIR / "models/marts/metric_history.sql").read_text()
    assert all(f'env_var("{name}"' in model for name in load_dates(dt.date.min, dt.date.max))


def test_a_model_relation_is_named_as_the_manifest_names_it():
    assert model_relation(MANIFEST, "summary") == '"warehouse"."marts"."summary"'


def test_only_blocking_checks_on_the_asset_hold_publication_back():
    summary, other = dg.AssetKey("summary"), dg.AssetKey("other")

    @dg.multi_asset(
        specs=[dg.AssetSpec(summary), dg.AssetSpec(other)],
        check_specs=[
            dg.AssetCheckSpec("unique", asset=summary, blocking=True),
            dg.AssetCheckSpec("recent", asset=summary),  # warn severity: not blocking
            dg.AssetCheckSpec("unique", asset=other, blocking=True),
        ],
    )
    def models(): ...

    assert blocking_check_keys(models, summary) == [dg.AssetCheckKey(summary, "unique")]


def test_a_latest_state_build_of_the_historys_parent_builds_its_day_too():
    evening_in_california = dt.datetime(2025, 6, 5, 3, 0, tzinfo=dt.UTC)
    day = folded_history_day(True, False, None, evening_in_california)
    assert day == dt.date(2025, 6, 4)  # today in California, not in UTC
    assert folded_history_day(True, False, "2025-06-01", evening_in_california) == dt.date(
        2025, 6, 1
    )  # the run's partition (the reconcile, ./ddrc run)
    assert folded_history_day(False, False, None, evening_in_california) is None
    assert folded_history_day(True, True, None, evening_in_california) is None  # its own op


def test_the_historys_parent_is_its_only_model_parent():
    manifest = json.loads(Path(dbt_project("local").manifest_path).read_text())
    (history,) = [n for n in manifest["nodes"].values() if n["name"] == HISTORY_MODEL]
    models = [p for p in history["depends_on"]["nodes"] if p.startswith("model.")]
    assert [manifest["nodes"][p]["name"] for p in models] == [HISTORY_PARENT.path[-1]]
    nodes = attached_nodes(manifest, HISTORY_MODEL)
    assert history["unique_id"] in nodes and len(nodes) > 1
    tests = nodes - {history["unique_id"]}
    assert all(manifest["nodes"][n]["resource_type"] == "test" for n in tests)


def test_a_build_failed_only_on_the_folded_nodes_is_told_apart():
    nodes = frozenset({"model.h", "test.h_unique"})
    assert failed_only_within({"test.h_unique"}, nodes)
    assert not failed_only_within({"test.h_unique", "model.x2"}, nodes)
    assert not failed_only_within(set(), nodes)  # nothing failed: not "only these"


def test_the_failed_nodes_are_read_from_dbts_result_events():
    def event(name: str, unique_id: str, status: str) -> dict:
        return {
            "info": {"name": name},
            "data": {"node_info": {"unique_id": unique_id, "node_status": status}},
        }

    assert failed_node(event("LogTestResult", "test.h_unique", "fail")) == "test.h_unique"
    assert failed_node(event("LogModelResult", "model.h", "error")) == "model.h"
    assert failed_node(event("LogModelResult", "model.x", "success")) is None
    assert failed_node(event("LogTestResult", "test.x", "warn")) is None  # a warning holds nothing
    assert failed_node(event("LogSkipBecauseError", "model.y", "skipped")) is None
    assert failed_node(event("NodeExecuting", "model.h", "executing")) is None
    assert failed_node({"info": {"name": "MainReportVersion"}, "data": {}}) is None


def test_folded_events_take_the_partition_and_others_pass_unchanged():
    key = dg.AssetKey(["marts", "h"])
    materialized = on_partition(dg.AssetMaterialization(key, metadata={"n": 1}), "2025-06-02")
    assert (materialized.partition, materialized.metadata["n"].value) == ("2025-06-02", 1)
    checked = on_partition(
        dg.AssetCheckEvaluation(asset_key=key, check_name="c", passed=False), "2025-06-02"
    )
    assert (checked.partition, checked.passed, checked.check_name) == ("2025-06-02", False, "c")
    output = dg.Output(None, output_name="x")
    assert on_partition(output, "2025-06-02") is output


def test_a_node_is_selected_by_its_fqn():
    manifest = {"nodes": {"model.p.m": {"fqn": ["p", "marts", "m"]}}}
    assert fqn_selector(manifest, "model.p.m") == "fqn:p.marts.m"
