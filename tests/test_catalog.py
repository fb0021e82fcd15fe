"""One declaration per source: every fact present, every fact used where it is needed."""

from __future__ import annotations

import csv
import dataclasses
from datetime import date

import dagster as dg
import pyarrow as pa
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.core.catalog import Family, RawTable
from ddrc_platform.ingest.sample import ArcgisSample
from ddrc_platform.settings import load_settings
from ddrc_platform.transform.project import DBT_PROJECT_DIR

DAY = date(2025, 6, 2)
OPTIONAL = {"record_key", "metric_family", "runbook_note", "docs_url", "endpoint", "edit_field"}
SHAPES = {
    Family.ARCGIS: ArcgisSample,
    Family.MALIBU: list,
    Family.AIRTABLE: list,
    Family.FEEDBACK: pa.Table,
}


@pytest.mark.parametrize("table", catalog.RAW_TABLES, ids=lambda t: t.name)
def test_every_declared_source_has_every_fact(table: RawTable):
    for field in dataclasses.fields(RawTable):
        value = getattr(table, field.name)
        if field.name not in OPTIONAL and field.name != "synced_by_fivetran":
            assert value not in (None, "", ()), f"{table.name} lacks {field.name}"
    assert isinstance(table.freshness, dg.FreshnessPolicy)
    assert table.endpoint is not None or table.docs_url, f"{table.name}: where does it come from?"
    assert table.source_url.startswith("https://")
    if table.keeping is catalog.Keeping.CURRENT_STATE:
        assert table.record_key in table.columns
    if table.edit_field:
        assert table.edit_field in table.columns
    data = catalog.sample_data(table, scale=0.05, day=DAY)
    assert isinstance(data, SHAPES[table.family]), f"{table.name}: sample of the wrong shape"
    assert len(data.table if isinstance(data, ArcgisSample) else data) > 0


def test_keys_names_and_warehouse_tables_are_unique():
    for attribute in ("name", "asset_key", "path"):
        values = [getattr(t, attribute) for t in catalog.RAW_TABLES]
        assert len(values) == len(set(values)), attribute


def test_every_metric_family_of_the_metric_catalog_is_declared_by_one_table():
    with (DBT_PROJECT_DIR / "seeds" / "metric_catalog.csv").open() as handle:
        families = {row["source"] for row in csv.DictReader(handle)}
    declared = catalog.by_metric_family()
    assert families <= declared.keys(), families - declared.keys()
    assert len(declared) == sum(1 for t in catalog.RAW_TABLES if t.metric_family)


def test_endpoints_become_settings_with_their_variables_and_public_defaults(tmp_path):
    env = {t.endpoint.variable: f"https://mirror.example/{t.name}" for t in catalog.ARCGIS_TABLES}
    settings = load_settings({"DDRC_HOME": str(tmp_path), **env})
    for table in catalog.RAW_TABLES:
        if table.endpoint is None:
            continue
        configured = settings.endpoint(table.endpoint.setting).url
        if table.family is Family.ARCGIS:
            assert configured == f"https://mirror.example/{table.name}"
        else:
            assert configured == table.endpoint.default
        assert table.endpoint.public_url.endswith(table.endpoint.stand_in_path)
    # the four Malibu endpoints share one server and one variable
    malibu = {t.endpoint.variable for t in catalog.MALIBU_TABLES if t.endpoint}
    assert malibu == {"DDRC_MALIBU_BASE_URL"}
