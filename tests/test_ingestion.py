"""The ingestion group materialized in-process into a temporary DDRC_HOME, sample and live."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.core.names import SCHEMA_CONTRACT_CHECK
from ddrc_platform.defs.ingest.raw import build_raw_assets
from ddrc_platform.ingest import sample
from ddrc_platform.ingest.sources.arcgis import LayerData
from ddrc_platform.warehouse.duckdb import DuckDBWarehouse
from stand_ins.sources import LAYER_PATHS, serve_sample_sources

pytestmark = pytest.mark.slow

NOW = dt.datetime(2025, 6, 2, 19, 30, tzinfo=dt.UTC)  # 12:30 Pacific, June 2
DAY = dt.date(2025, 6, 2)
SCALE = 0.05
VOLATILE = {catalog.LOADED_AT, catalog.FIVETRAN_SYNCED}


def materialize(settings, clock=lambda: NOW, raise_on_error=True) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        build_raw_assets(settings, "duckdb", clock=clock),
        resources={"warehouse": DuckDBWarehouse(path=str(settings.warehouse_path))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=raise_on_error,
    )


def table_rows(settings, table: catalog.RawTable) -> list[dict]:
    wh = DuckDBWarehouse(path=str(settings.warehouse_path))
    data = wh.query(f'select * from "{table.schema}"."{table.table}"')
    keep = [c for c in data.column_names if c not in VOLATILE]
    rows = data.select(keep).to_pylist()
    for row in rows:  # the same shape, whatever number formatting the wire used
        if row.get(catalog.GEOMETRY):
            row[catalog.GEOMETRY] = json.loads(row[catalog.GEOMETRY])
    return sorted(rows, key=lambda r: [str(v) for v in r.values()])


def test_sample_mode_loads_every_raw_table(make_settings):
    settings = make_settings(DDRC_SAMPLE_SCALE=str(SCALE))
    result = materialize(settings)
    assert result.success
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialized == {t.asset_key for t in catalog.RAW_TABLES}

    epa = sample.arcgis_layer("epa", scale=SCALE, day=DAY)
    mats = {
        e.asset_key: e.step_materialization_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    epa_meta = mats[catalog.EPA.asset_key]
    assert epa_meta["dagster/row_count"].value == epa.table.num_rows
    assert epa_meta["load_date"].value == "2025-06-02"
    assert epa_meta["source_last_edit"].value == pytest.approx(
        epa.metadata["editingInfo"]["lastEditDate"] / 1000
    )
    assert {c.name for c in epa_meta["dagster/column_schema"].value.columns} >= set(
        catalog.EPA.all_columns
    )
    rows = table_rows(settings, catalog.EPA)
    assert {r["_LOAD_DATE"] for r in rows} == {DAY}
    assert all(r["GEOMETRY"]["type"] == "Polygon" for r in rows if r["GEOMETRY"])
    checks = result.get_asset_check_evaluations()
    assert {c.check_name for c in checks} == {SCHEMA_CONTRACT_CHECK}
    assert all(c.passed for c in checks)


def test_live_mode_against_local_servers_loads_what_sample_mode_loads(make_settings, tmp_path):
    sample_settings = make_settings(DDRC_SAMPLE_SCALE=str(SCALE))
    assert materialize(sample_settings).success
    with serve_sample_sources(day=DAY, scale=SCALE) as live:
        live_settings = make_settings(
            DDRC_HOME=str(tmp_path / "live"), DDRC_SAMPLE_SCALE=str(SCALE), **live.env
        )
        assert materialize(live_settings).success
        assert live.arcgis.requests_to(LAYER_PATHS["usace"] + "/query")
        assert live.airtable.requests
    for table in catalog.RAW_TABLES:
        assert table_rows(live_settings, table) == table_rows(sample_settings, table), table.path


def test_reruns_and_days_accumulate_history_without_duplicates(make_settings):
    settings = make_settings(DDRC_SAMPLE_SCALE=str(SCALE))
    materialize(settings)
    materialize(settings)  # same day again
    materialize(settings, clock=lambda: NOW + dt.timedelta(days=1))
    wh = DuckDBWarehouse(path=str(settings.warehouse_path))
    counts = wh.query(
        'select "_LOAD_DATE" as d, count(*) as n from "USACE"."PARCEL_DEBRIS_REMOVAL" '
        "group by 1 order by 1"
    ).to_pylist()
    expected = [
        sample.arcgis_layer("usace", scale=SCALE, day=d).table.num_rows
        for d in (DAY, DAY + dt.timedelta(days=1))
    ]
    assert [c["d"] for c in counts] == [DAY, DAY + dt.timedelta(days=1)]
    assert [c["n"] for c in counts] == expected


def test_schema_drift_missing_column_fails_with_names_new_column_warns(make_settings, tmp_path):
    usace = sample.arcgis_layer("usace", scale=SCALE, day=DAY)
    with serve_sample_sources(day=DAY, scale=SCALE) as live:
        path = LAYER_PATHS["usace"]
        settings = make_settings(DDRC_SAMPLE_SCALE=str(SCALE), **live.env)
        assert materialize(settings).success
        before = table_rows(settings, catalog.USACE)

        # the agency drops roe_status and adds a field
        drifted_fields = [f for f in usace.metadata["fields"] if f["name"] != "roe_status"]
        drifted_fields.append({"name": "new_field", "type": "esriFieldTypeString", "alias": "n"})
        table = usace.table.drop_columns(["roe_status"])
        table = table.add_column(0, "new_field", [["x"] * table.num_rows])
        live.arcgis.set_layer(path, LayerData({**usace.metadata, "fields": drifted_fields}, table))
        result = materialize(settings, raise_on_error=False)
        assert not result.success
        failure = next(e for e in result.all_events if e.is_step_failure)
        message = failure.step_failure_data.error.to_string()
        assert "ROE_STATUS" in message and "USACE.PARCEL_DEBRIS_REMOVAL" in message
        check = next(
            c
            for c in result.get_asset_check_evaluations()
            if c.asset_key == catalog.USACE.asset_key
        )
        assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
        assert table_rows(settings, catalog.USACE) == before  # the last good data stays

        # a new column alone: kept, and a warning
        usace_new = usace.table.add_column(0, "new_field", [["x"] * usace.table.num_rows])
        new_fields = [*usace.metadata["fields"], drifted_fields[-1]]
        live.arcgis.set_layer(path, LayerData({**usace.metadata, "fields": new_fields}, usace_new))
        result = materialize(settings, raise_on_error=False)
        evaluation = next(
            c
            for c in result.get_asset_check_evaluations()
            if c.asset_key == catalog.USACE.asset_key
        )
        assert evaluation.passed is False and evaluation.severity == dg.AssetCheckSeverity.WARN
        assert "NEW_FIELD" in evaluation.description
        assert {r["NEW_FIELD"] for r in table_rows(settings, catalog.USACE)} == {"x"}
