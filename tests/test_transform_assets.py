"""What the dbt assets decide, tested as plain functions (no dbt, no Dagster run)."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from ddrc_platform.transform.assets import (
    blocking_check_keys,
    counted_relation,
    load_dates,
    model_relation,
    warehouse_was_locked,
)
from ddrc_platform.transform.project import DBT_PROJECT_DIR

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
